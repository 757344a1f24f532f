"""The distributional losses (GaussianNLL, QuantileLoss) and sample weights, on the Python path
and in the compiled trainer (csrc/train/losses.cpp).

Gradients are checked by float64 central differences: the Python ones through
``value_and_grad``, the compiled ones through the trainer itself (its loss from an epoch with a
zero learning rate, its gradient from one plain SGD step of learning rate 1 over one batch:
params_before - params_after). Fused fits must leave the weights and report the losses of the
Python path (the conftest tolerances), with and without sample weights (zero weights too).
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import TOL, rel_err

import fastrnn
from fastrnn import layers, losses

core = pytest.importorskip("fastrnn.backends._core")
if not hasattr(core, "Trainer"):
    pytest.skip("this build of fastrnn.backends._core has no Trainer", allow_module_level=True)

LOSSES = {
    "gaussian": lambda: losses.GaussianNLL(),
    "quantile": lambda: losses.QuantileLoss((0.05, 0.3, 0.5, 0.9)),
}
DTYPES = [np.float64, np.float32]


def _fd(f, p, h=1e-6):
    g = np.zeros_like(p)
    for i in range(p.size):
        e = np.zeros_like(p)
        e.flat[i] = h
        g.flat[i] = (f(p + e) - f(p - e)) / (2 * h)
    return g


def _pred(name, rng, shape_lead, k):
    P = LOSSES[name]().outputs_per_target
    return rng.normal(size=shape_lead + (P * k,)) * 2.0


# -- Python: values, gradients, shapes, stability ---------------------------------------------
@pytest.mark.parametrize("name", sorted(LOSSES))
@pytest.mark.parametrize("lead", [(7,), (5, 3)])
@pytest.mark.parametrize("weighted", [False, True])
def test_python_gradient_matches_finite_differences(name, lead, weighted):
    rng = np.random.default_rng(1)
    loss, k = LOSSES[name](), 2
    p = _pred(name, rng, lead, k)
    y = rng.normal(size=lead + (k,))
    w = rng.random(lead) if weighted else None
    if weighted:
        w[0] = 0.0
    value, grad = loss.value_and_grad(y, p, sample_weight=w)
    assert value == pytest.approx(loss(y, p, w), rel=1e-14)
    num = _fd(lambda q: loss(y, q, w), p)
    assert rel_err(grad, num) < 1e-6


def test_gaussian_nll_closed_form_and_stability():
    loss = losses.GaussianNLL(eps=1e-6)
    mu, raw, y = 0.3, 0.7, 1.1
    sigma = np.log1p(np.exp(raw)) + 1e-6
    want = 0.5 * np.log(2 * np.pi) + np.log(sigma) + (y - mu) ** 2 / (2 * sigma ** 2)
    assert loss([[y]], [[mu, raw]]) == pytest.approx(want, rel=1e-14)
    m, s = loss.mean_and_sigma(np.array([[mu, raw]]))
    assert m[0, 0] == mu and s[0, 0] == pytest.approx(sigma, rel=1e-15)
    # huge raw scales: softplus neither overflows nor loses its limits
    for dt in DTYPES:
        p = np.array([[0.0, 1e4], [0.0, -1e4], [1.0, 80.0]], dt)
        y = np.array([[0.5], [1e-7], [1.0]], dt)
        v, g = loss.value_and_grad(y, p)
        assert np.isfinite(v) and np.all(np.isfinite(g))
        # sigma = raw for a huge raw: d/draw = (1 - z^2) / sigma / 3 entries
        assert g[0, 1] == pytest.approx((1 - (0.5 / 1e4) ** 2) / 1e4 / 3, rel=1e-4)
        assert g[1, 1] == 0.0   # sigmoid(-1e4) underflows to 0: sigma stays at eps


def test_quantile_loss_closed_form():
    loss = losses.QuantileLoss((0.1, 0.5, 0.9))
    raw = np.array([[-1.0, 0.2, 0.4]])       # q1 = -1, then softplus increments
    q = loss.quantiles_of(raw)[0, 0]
    sp = np.log1p(np.exp([0.2, 0.4]))
    assert q == pytest.approx([-1.0, -1.0 + sp[0], -1.0 + sp[0] + sp[1]], rel=1e-15)
    y = 0.0
    want = np.mean([max(t * (y - qq), (t - 1) * (y - qq)) for t, qq in zip((0.1, 0.5, 0.9), q)])
    assert loss([[y]], raw) == pytest.approx(want, rel=1e-14)


@pytest.mark.parametrize("dt", DTYPES)
def test_quantiles_never_cross_on_adversarial_outputs(dt):
    rng = np.random.default_rng(5)
    loss = losses.QuantileLoss((0.01, 0.1, 0.5, 0.9, 0.99))
    big = float(np.finfo(dt).max) / 1e3
    p = np.concatenate([rng.normal(size=(200, 5)) * 1e3,
                        rng.choice([-big, big, 0.0, -1e-30, 1e30, -1e30], size=(200, 5)),
                        np.full((1, 5), -np.finfo(dt).max / 10),
                        rng.normal(size=(200, 5)) * 1e-8]).astype(dt)
    with np.errstate(over="ignore"):
        q = loss.quantiles_of(p)[:, 0, :]
    finite = np.all(np.isfinite(q), axis=1)
    assert finite.sum() > 400
    assert np.all(np.diff(q[finite], axis=1) >= 0)
    # and through a network with wild weights
    m = fastrnn.Sequential([layers.Input((4, 1), dtype=np.dtype(dt).name), layers.GRU(3),
                            layers.Dense(5)])
    m.build((None, 4, 1))
    m.set_weights([w * 50 for w in m.get_weights()])
    out = m.predict(rng.normal(size=(300, 4, 1)) * 100, verbose=0)
    qs = loss.quantiles_of(out)[:, 0, :]
    assert np.all(np.diff(qs, axis=1) >= 0)


def test_losses_by_name_config_and_errors():
    assert isinstance(losses.get("gaussian_nll"), losses.GaussianNLL)
    assert isinstance(losses.get("quantile_loss"), losses.QuantileLoss)
    ql = losses.get(losses.serialize(losses.QuantileLoss((0.2, 0.8))))
    assert ql.quantiles == (0.2, 0.8)
    assert losses.get(losses.serialize(losses.GaussianNLL(eps=1e-3))).eps == 1e-3
    with pytest.raises(ValueError, match="increasing strictly"):
        losses.QuantileLoss((0.5, 0.1))
    with pytest.raises(ValueError, match="increasing strictly"):
        losses.QuantileLoss((0.0, 0.5))
    with pytest.raises(ValueError, match="eps"):
        losses.GaussianNLL(eps=0)
    with pytest.raises(ValueError, match="2 values per target"):
        losses.GaussianNLL()(np.zeros((4, 2)), np.zeros((4, 3)))
    # a 1-D target of one value per sample is read as (batch, 1)
    assert losses.GaussianNLL()(np.zeros(4), np.zeros((4, 2))) == pytest.approx(
        losses.GaussianNLL()(np.zeros((4, 1)), np.zeros((4, 2))))
    m = fastrnn.Sequential([layers.Input((3, 1)), layers.GRU(2), layers.Dense(3)])
    m.compile(loss=losses.GaussianNLL())
    with pytest.raises(ValueError, match="must match the model's output"):
        m.fit(np.zeros((8, 3, 1)), np.zeros((8, 1)), verbose=0)


# -- the compiled trainer: gradients by finite differences -------------------------------------
def _dense_trainer(loss, steps, k, I=3):
    P = loss.outputs_per_target
    units = P * k
    spec = {"kind": "dense", "steps": steps, "units": units, "w": 0, "b": I * units}
    spec["in"] = I
    n_params = I * units + units
    tr = core.Trainer("float64", [spec], [(0, I * units, 0.0, 0.0), (I * units, units, 0.0, 0.0)],
                      n_params, loss.name, False, 64, loss.fused_options())
    return tr, n_params


@pytest.mark.parametrize("name", sorted(LOSSES))
@pytest.mark.parametrize("steps", [1, 3])
@pytest.mark.parametrize("weighted", [False, True])
def test_compiled_gradient_matches_finite_differences(name, steps, weighted):
    rng = np.random.default_rng(2)
    loss, k, n, I = LOSSES[name](), 2, 9, 3
    tr, n_params = _dense_trainer(loss, steps, k, I)
    x = rng.normal(size=(n, steps, I))
    y = rng.normal(size=(n, steps, k))
    w = rng.random((n, steps)) if weighted else None
    if weighted:
        w[1] = 0.0
    p0 = rng.normal(size=n_params)

    def run(params, lr):
        p = params.copy()
        res = tr.epoch(p, [], x, y, None, None, {"kind": "sgd", "learning_rate": lr}, 0, n,
                       None, w)
        return res["loss_sum"] / res["samples"], p

    num = _fd(lambda q: run(q, 0.0)[0], p0)
    value, p1 = run(p0, 1.0)
    assert rel_err(p0 - p1, num) < 1e-6
    # the compiled loss is the Python loss of the same outputs
    W, b = p0[:I * loss.outputs_per_target * k], p0[I * loss.outputs_per_target * k:]
    out = x @ W.reshape(I, -1) + b
    want = loss(y if steps > 1 else y[:, 0], out if steps > 1 else out[:, 0],
                None if w is None else (w if steps > 1 else w[:, 0]))
    assert value == pytest.approx(want, rel=1e-13)


def test_compiled_trainer_checks_the_head():
    spec = {"kind": "dense", "steps": 1, "units": 3, "w": 0, "b": 6}
    spec["in"] = 2
    with pytest.raises(ValueError, match="multiple of the 2 values"):
        core.Trainer("float64", [spec], [], 9, "gaussian_nll", False, 4, {"eps": 1e-6})
    spec["units"], spec["b"] = 4, 8
    with pytest.raises(ValueError, match="quantiles must increase"):
        core.Trainer("float64", [spec], [], 12, "quantile_loss", False, 4,
                     {"quantiles": [0.5, 0.5]})
    with pytest.raises(ValueError, match="eps"):
        core.Trainer("float64", [spec], [], 12, "gaussian_nll", False, 4, {"eps": -1.0})
    tr = core.Trainer("float64", [spec], [], 12, "gaussian_nll", False, 4, {"eps": 1e-6})
    p = np.zeros(12)
    with pytest.raises(ValueError, match="y must have 2 numbers per sample"):
        tr.epoch(p, [], np.zeros((4, 2)), np.zeros((4, 4)), None, None,
                 {"kind": "sgd"}, 0, 4, None)
    with pytest.raises(ValueError, match="sample_weight must have 1 weights per sample"):
        tr.epoch(p, [], np.zeros((4, 2)), np.zeros((4, 2)), None, None,
                 {"kind": "sgd"}, 0, 4, None, np.ones((4, 2)))
    with pytest.raises(TypeError, match="sample_weight must have dtype float64"):
        tr.epoch(p, [], np.zeros((4, 2)), np.zeros((4, 2)), None, None,
                 {"kind": "sgd"}, 0, 4, None, np.ones(4, np.float32))


# -- fused fits agree with the Python path -----------------------------------------------------
def _fit_both(loss_fn, dtype, out_units, y, x, fit_kw, seq=False):
    results, w0 = {}, None
    for fused in (True, False):
        m = fastrnn.Sequential([layers.Input(x.shape[1:], dtype=np.dtype(dtype).name),
                                layers.LSTM(4, return_sequences=seq), layers.Dense(out_units)])
        m.build((None,) + x.shape[1:])
        if w0 is None:
            w0 = m.get_weights()
        else:
            m.set_weights(w0)
        m.compile(optimizer="adam", loss=loss_fn(), metrics=["mae"] if out_units == 1 else None)
        h = m.fit(x, y, epochs=3, batch_size=16, verbose=0, fused=fused, rng=7, **fit_kw)
        assert m.fused_fit_info["fused"] is fused, m.fused_fit_info
        results[fused] = (h.history, m.get_weights())
    return results


def _assert_same(results, dtype):
    (hf, wf), (hp, wp) = results[True], results[False]
    assert hf.keys() == hp.keys()
    for key in hf:
        assert rel_err(hf[key], hp[key]) < TOL[dtype], key
    for a, b in zip(wf, wp):
        assert rel_err(a, b) < TOL[dtype]


@pytest.mark.parametrize("name", sorted(LOSSES))
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("weighted", [False, True])
def test_fused_fit_matches_python_for_the_heads(name, dtype, weighted):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(70, 5, 2))
    y = rng.normal(size=(70, 3))
    w = None
    if weighted:
        w = rng.random(70) * 2
        w[:20] = 0.0
    P = LOSSES[name]().outputs_per_target
    res = _fit_both(LOSSES[name], dtype, 3 * P, y, x, {"sample_weight": w})
    _assert_same(res, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", ["flat", "column", "per_step"])
def test_fused_sample_weight_matches_python(dtype, shape):
    rng = np.random.default_rng(4)
    seq = shape == "per_step"
    x = rng.normal(size=(70, 5, 2))
    y = rng.normal(size=(70, 5, 1) if seq else (70, 1))
    w = rng.random((70, 5) if seq else 70) * 3
    w[5:15] = 0.0
    if shape == "column":
        w = w[:, None]
    res = _fit_both(lambda: "mse", dtype, 1, y, x, {"sample_weight": w}, seq=seq)
    _assert_same(res, dtype)


def test_fused_class_weight_matches_python():
    rng = np.random.default_rng(6)
    x = rng.normal(size=(70, 5, 2))
    labels = rng.integers(0, 3, 70)
    res = {}
    w0 = None
    for fused in (True, False):
        m = fastrnn.Sequential([layers.Input((5, 2), dtype="float64"), layers.GRU(4),
                                layers.Dense(3, activation="softmax")])
        m.build((None, 5, 2))
        if w0 is None:
            w0 = m.get_weights()
        else:
            m.set_weights(w0)
        m.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        h = m.fit(x, labels, epochs=2, batch_size=16, verbose=0, fused=fused, rng=1,
                  class_weight={0: 0.0, 1: 2.0})
        assert m.fused_fit_info["fused"] is fused
        res[fused] = (h.history, m.get_weights())
    _assert_same(res, np.float64)


def test_zero_weights_train_nothing_on_the_fused_path():
    rng = np.random.default_rng(8)
    m = fastrnn.Sequential([layers.Input((4, 1), dtype="float64"), layers.GRU(3),
                            layers.Dense(1)])
    m.build((None, 4, 1))
    w0 = m.get_weights()
    m.compile(optimizer="sgd", loss="mse")
    h = m.fit(rng.normal(size=(40, 4, 1)), rng.normal(size=(40, 1)), epochs=2, verbose=0,
              sample_weight=np.zeros(40), fused=True)
    assert h.history["loss"] == [0.0, 0.0]
    for a, b in zip(m.get_weights(), w0):
        np.testing.assert_array_equal(a, b)
