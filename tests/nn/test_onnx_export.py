"""model.export_onnx: onnxruntime's predictions equal fastrnn's (float32, every cell and its
options, stacked layers, Dense heads, any batch size and sequence length), float64 graphs agree
with onnx's reference evaluator, and what cannot be exported is refused by name."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from conftest import rel_err

from fastrnn import layers
from fastrnn.layers import Input
from fastrnn.nn import activations as _activations
from fastrnn.nn import onnx_export
from fastrnn.nn.seeding import set_random_seed
from fastrnn.nn.sequential import Sequential

onnx = pytest.importorskip("onnx")

# float32 through different summation orders: relative error (rel_err) a few ulps times T
TOL32 = 2e-5


def ort_session(path_or_proto):
    ort = pytest.importorskip("onnxruntime")
    src = path_or_proto if isinstance(path_or_proto, str) else path_or_proto.SerializeToString()
    return ort.InferenceSession(src, providers=["CPUExecutionProvider"])


def model_of(*stack, features=3, timesteps=None, dtype="float32", seed=0):
    """A built model whose weights (biases too) are random, not the initialisers' zeros."""
    set_random_seed(seed)
    m = Sequential([Input((timesteps, features), dtype=dtype), *stack])
    rng = np.random.default_rng(seed + 1)
    m.set_weights([w + rng.uniform(-0.4, 0.4, w.shape).astype(w.dtype) for w in m.get_weights()])
    return m


def inputs(B, T, features=3, dtype=np.float32, seed=2):
    return np.random.default_rng(seed).standard_normal((B, T, features)).astype(dtype)


def assert_same(model, session, x, tol=TOL32):
    got = session.run(None, {"input": x})[0]
    want = model.predict(x, verbose=0)
    assert got.shape == want.shape
    assert got.dtype == want.dtype
    assert rel_err(got, want) < tol, rel_err(got, want)


RECURRENT = [
    pytest.param(lambda rs: layers.SimpleRNN(6, return_sequences=rs), id="SimpleRNN"),
    pytest.param(lambda rs: layers.SimpleRNN(6, activation="relu", return_sequences=rs),
                 id="SimpleRNN-relu"),
    pytest.param(lambda rs: layers.SimpleRNN(6, activation="sigmoid", return_sequences=rs),
                 id="SimpleRNN-sigmoid"),
    pytest.param(lambda rs: layers.SimpleRNN(6, activation="linear", return_sequences=rs),
                 id="SimpleRNN-linear"),
    pytest.param(lambda rs: layers.LSTM(6, return_sequences=rs), id="LSTM"),
    pytest.param(lambda rs: layers.LSTM(6, activation="relu", return_sequences=rs),
                 id="LSTM-relu"),
    pytest.param(lambda rs: layers.LSTM(6, activation="linear", return_sequences=rs),
                 id="LSTM-linear"),
    pytest.param(lambda rs: layers.LSTM(6, use_bias=False, return_sequences=rs),
                 id="LSTM-no-bias"),
    pytest.param(lambda rs: layers.GRU(6, return_sequences=rs), id="GRU-reset_after"),
    pytest.param(lambda rs: layers.GRU(6, reset_after=False, return_sequences=rs),
                 id="GRU-reset_before"),
    pytest.param(lambda rs: layers.GRU(6, activation="sigmoid", return_sequences=rs),
                 id="GRU-sigmoid"),
    pytest.param(lambda rs: layers.GRU(6, reset_after=False, use_bias=False,
                                       return_sequences=rs), id="GRU-reset_before-no-bias"),
    pytest.param(lambda rs: layers.SimpleRNN(6, go_backwards=True, return_sequences=rs),
                 id="SimpleRNN-go_backwards"),
    pytest.param(lambda rs: layers.LSTM(6, go_backwards=True, return_sequences=rs),
                 id="LSTM-go_backwards"),
    pytest.param(lambda rs: layers.GRU(6, go_backwards=True, return_sequences=rs),
                 id="GRU-go_backwards"),
]
# (B, T): one sample, one step, batch and time larger than the width, a long sequence
SHAPES = [(1, 1), (1, 9), (5, 1), (7, 4), (3, 40)]


@pytest.mark.parametrize("make", RECURRENT)
@pytest.mark.parametrize("return_sequences", [False, True], ids=["last", "sequences"])
def test_each_cell_matches_onnxruntime_on_every_shape(make, return_sequences):
    m = model_of(make(return_sequences))
    session = ort_session(onnx_export.build_model(m))
    for B, T in SHAPES:  # one graph: batch and time are symbolic
        assert_same(m, session, inputs(B, T))


def test_stacked_layers_dropout_and_a_dense_head(tmp_path):
    m = model_of(layers.LSTM(8, return_sequences=True, dropout=0.2, recurrent_dropout=0.1),
                 layers.Dropout(0.3),
                 layers.GRU(5, return_sequences=True, reset_after=False),
                 layers.Dense(4, activation="tanh"),           # on the (still time-major) sequence
                 layers.SimpleRNN(7, go_backwards=True),
                 layers.Dense(3, activation="relu"), layers.Dropout(0.1),
                 layers.Dense(2, activation="softmax"), features=4)
    path = m.export_onnx(str(tmp_path / "stack.onnx"))
    assert path == str(tmp_path / "stack.onnx")
    session = ort_session(path)
    for B, T in [(1, 1), (6, 11), (2, 30)]:
        assert_same(m, session, inputs(B, T, features=4))
    ops = [n.op_type for n in onnx.load(path).graph.node]
    # one transpose in, none out (the last recurrent layer returns (B, H)), none between layers
    assert ops.count("Transpose") == 1 and ops.count("Dropout") == 0
    assert [o for o in ops if o in ("LSTM", "GRU", "RNN")] == ["LSTM", "GRU", "RNN"]


@pytest.mark.parametrize("activation", _activations.NAMES)
def test_every_dense_activation_on_sequences(activation):
    m = model_of(layers.GRU(5, return_sequences=True), layers.Dense(4, activation=activation))
    session = ort_session(onnx_export.build_model(m))
    assert_same(m, session, inputs(3, 6))
    assert_same(m, session, inputs(1, 2))


def test_a_model_without_recurrent_layers_on_two_dimensional_input():
    set_random_seed(1)
    m = Sequential([Input((5,)), layers.Dense(4, activation="elu"), layers.Dropout(0.5),
                    layers.Dense(2, use_bias=False)])
    session = ort_session(onnx_export.build_model(m))
    for B in (1, 17):
        x = np.random.default_rng(B).standard_normal((B, 5)).astype(np.float32)
        assert_same(m, session, x)
    only_dropout = Sequential([Input((5,)), layers.Dropout(0.5)])
    assert_same(only_dropout, ort_session(onnx_export.build_model(only_dropout)), x)


def test_batch_and_time_are_symbolic_unless_the_model_fixes_them():
    open_length = model_of(layers.LSTM(4, return_sequences=True), layers.Dense(1))
    fixed_length = model_of(layers.LSTM(4, return_sequences=True), layers.Dense(1), timesteps=10)
    dims = {}
    for key, m in (("open", open_length), ("fixed", fixed_length)):
        proto = onnx_export.build_model(m)
        dims[key] = [[d.dim_param or d.dim_value for d in t.type.tensor_type.shape.dim]
                     for t in (proto.graph.input[0], proto.graph.output[0])]
        session = ort_session(proto)
        for B, T in ([(1, 3), (4, 10), (2, 25)] if key == "open" else [(1, 10), (6, 10)]):
            assert_same(m, session, inputs(B, T))
    assert dims["open"] == [["batch", "time", 3], ["batch", "time", 1]]
    assert dims["fixed"] == [["batch", 10, 3], ["batch", 10, 1]]


def test_a_trained_model_exports_its_trained_weights(tmp_path):
    m = model_of(layers.GRU(6), layers.Dense(1))
    m.compile(optimizer="adam", loss="mse")
    x = inputs(32, 5)
    y = np.random.default_rng(0).standard_normal((32, 1)).astype(np.float32)
    before = m.predict(x, verbose=0)
    m.fit(x, y, epochs=2, batch_size=8, verbose=0)
    assert not np.allclose(m.predict(x, verbose=0), before)
    assert_same(m, ort_session(m.export_onnx(str(tmp_path / "m.onnx"))), x)


def test_a_float64_model_exported_as_float32_for_onnxruntime():
    m = model_of(layers.LSTM(5, return_sequences=True), layers.GRU(4), layers.Dense(2),
                 dtype="float64")
    session = ort_session(onnx_export.build_model(m, dtype="float32"))
    x = inputs(4, 7, dtype=np.float64)
    got = session.run(None, {"input": x.astype(np.float32)})[0]
    assert got.dtype == np.float32
    assert rel_err(got, m.predict(x, verbose=0)) < 1e-5


@pytest.mark.parametrize("make", [
    pytest.param(lambda: layers.SimpleRNN(5, return_sequences=True), id="SimpleRNN"),
    pytest.param(lambda: layers.LSTM(5, return_sequences=True), id="LSTM"),
    pytest.param(lambda: layers.GRU(5, return_sequences=True), id="GRU-reset_after"),
    pytest.param(lambda: layers.GRU(5, reset_after=False, return_sequences=True),
                 id="GRU-reset_before"),
])
def test_float64_graphs_match_the_onnx_reference_evaluator(make):
    # onnxruntime runs its recurrent nodes in float32 only; onnx's own reference evaluator runs
    # float64 (with the default activations, the only ones it implements), so the weight and
    # gate layout is checked here to float64 round-off.
    from onnx.reference import ReferenceEvaluator

    m = model_of(make(), layers.Dense(2, activation="sigmoid"), dtype="float64")
    proto = onnx_export.build_model(m)
    x = inputs(3, 6, dtype=np.float64)
    got = ReferenceEvaluator(proto).run(None, {"input": x})[0]
    assert got.dtype == np.float64
    assert rel_err(got, m.predict(x, verbose=0)) < 1e-12


# -- what is refused -----------------------------------------------------------------------

class Doubled(layers.Dense):
    def forward(self, x, training=False):
        return 2 * super().forward(x, training)


class Custom(layers.Layer):
    def forward(self, x, training=False):
        return x

    def compute_output_shape(self, input_shape):
        return input_shape


@pytest.mark.parametrize("layer, match", [
    (lambda: Doubled(2, name="doubled"), r"layer 'doubled' \(Doubled\).*subclass of Dense"),
    (lambda: Custom(name="custom"), (r"layer 'custom' \(Custom\).*no ONNX conversion.*"
                                     r"supported: SimpleRNN, LSTM, GRU, Dense, Dropout")),
    (lambda: layers.Dense(2, name="odd", activation=_activations.Activation(
        "softmax", np.abs, None)), r"layer 'odd' \(Dense\).*activation 'softmax'"),
])
def test_unsupported_layers_are_named(layer, match):
    m = model_of(layers.LSTM(3), layer())
    with pytest.raises(ValueError, match=match):
        onnx_export.build_model(m)


def test_argument_errors():
    m = model_of(layers.LSTM(3))
    with pytest.raises(ValueError, match="opset must be an int >= 13, got 12"):
        onnx_export.build_model(m, opset=12)
    with pytest.raises(TypeError, match="opset must be an int >= 13, got '17'"):
        onnx_export.build_model(m, opset="17")
    with pytest.raises(TypeError, match="dtype must be 'float32' or 'float64', got 'int32'"):
        onnx_export.build_model(m, dtype="int32")
    with pytest.raises(ValueError, match="is not built yet"):
        Sequential([layers.LSTM(3)]).export_onnx("never-written.onnx")


def test_an_older_opset_and_the_ir_version_it_needs():
    m = model_of(layers.GRU(4), layers.Dense(1, activation="softmax"))
    default = onnx_export.build_model(m)
    assert default.opset_import[0].version == 17 and default.ir_version == 8
    proto = onnx_export.build_model(m, opset=13)
    assert proto.opset_import[0].version == 13 and proto.ir_version == 7
    assert_same(m, ort_session(proto), inputs(2, 5))


def test_without_the_onnx_package_the_error_says_what_to_install(monkeypatch):
    m = model_of(layers.LSTM(3))
    monkeypatch.setitem(sys.modules, "onnx", None)  # makes `import onnx` raise ImportError
    with pytest.raises(ImportError, match=r"pip install 'fastrnn\[onnx\]'"):
        m.export_onnx("never-written.onnx")
