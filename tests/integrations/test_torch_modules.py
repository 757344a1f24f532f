"""fastrnn.torch: LSTM, GRU and RNN as torch.nn modules on fastrnn's kernels, against
torch.nn's modules of the same names (outputs, gradients, state dicts, initialisation, a few
optimiser steps) and torch.autograd.gradcheck in float64."""

from __future__ import annotations

import types

import pytest

torch = pytest.importorskip("torch")

from torch import nn
from torch.func import functional_call

import fastrnn.torch as ft
from fastrnn import backends

# (fastrnn module, torch.nn module, extra constructor arguments)
MODULES = [
    pytest.param(ft.LSTM, nn.LSTM, {}, id="LSTM"),
    pytest.param(ft.GRU, nn.GRU, {}, id="GRU"),
    pytest.param(ft.RNN, nn.RNN, {}, id="RNN-tanh"),
    pytest.param(ft.RNN, nn.RNN, {"nonlinearity": "relu"}, id="RNN-relu"),
]
TOL = {torch.float32: 2e-5, torch.float64: 1e-12}


def pair(ours, theirs, kw, dtype=torch.float32, **args):
    """The two modules with the same weights (torch.nn's initialisation, copied over)."""
    ref = theirs(**args, **kw, dtype=dtype)
    mod = ours(**args, **kw, dtype=dtype)
    mod.load_state_dict(ref.state_dict())
    return mod, ref


def states(mod, x_shape, batch_first, dtype, seed=1):
    g = torch.Generator().manual_seed(seed)
    B = (x_shape[0] if batch_first else x_shape[1]) if len(x_shape) == 3 else None
    shape = (mod.num_layers, B, mod.hidden_size) if B is not None else (mod.num_layers,
                                                                        mod.hidden_size)
    h = torch.randn(shape, generator=g, dtype=dtype)
    c = torch.randn(shape, generator=g, dtype=dtype)
    return (h, c) if isinstance(mod, (ft.LSTM, nn.LSTM)) else h


def flat(outputs):
    out, hid = outputs
    return [out, *hid] if isinstance(hid, tuple) else [out, hid]


def close(a, b, dtype):
    a, b = a.detach(), b.detach()
    scale = max(float(b.abs().max()), 1.0)
    assert float((a - b).abs().max()) / scale < TOL[dtype]


@pytest.mark.parametrize("ours, theirs, kw", MODULES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("num_layers, batch_first, bias, with_state", [
    (1, True, True, False), (2, False, True, True), (2, True, False, True), (3, True, True, True)])
def test_same_outputs_and_gradients_as_torch_nn(ours, theirs, kw, dtype, num_layers,
                                                batch_first, bias, with_state):
    mod, ref = pair(ours, theirs, kw, dtype, input_size=3, hidden_size=5, num_layers=num_layers,
                    batch_first=batch_first, bias=bias)
    x = torch.randn(4, 6, 3, dtype=dtype)
    hx = states(mod, x.shape, batch_first, dtype) if with_state else None
    got, want = flat(mod(x, hx)), flat(ref(x, hx))
    for a, b in zip(got, want):
        assert a.shape == b.shape and a.dtype == b.dtype
        close(a, b, dtype)
    weights = torch.randn_like(got[0])
    for outs, m in ((got, mod), (want, ref)):
        ((outs[0] * weights).sum() + outs[1].square().sum()).backward()
    for (name, p), q in zip(mod.named_parameters(), ref.parameters()):
        close(p.grad, q.grad, dtype)


@pytest.mark.parametrize("ours, theirs, kw", MODULES)
def test_unbatched_input(ours, theirs, kw):
    mod, ref = pair(ours, theirs, kw, input_size=2, hidden_size=4, num_layers=2)
    x = torch.randn(7, 2)
    hx = states(mod, x.shape, False, torch.float32)
    for a, b in zip(flat(mod(x, hx)), flat(ref(x, hx))):
        assert a.shape == b.shape
        close(a, b, torch.float32)


@pytest.mark.parametrize("ours, theirs, kw", MODULES)
@pytest.mark.parametrize("num_layers", [1, 2])
def test_gradcheck_float64(ours, theirs, kw, num_layers):
    mod = ours(2, 3, num_layers=num_layers, batch_first=True, dtype=torch.float64, **kw)
    names = [n for n, _ in mod.named_parameters()]
    x = torch.randn(2, 4, 2, dtype=torch.float64, requires_grad=True)
    hx = states(mod, x.shape, True, torch.float64)
    hx = tuple(h.requires_grad_() for h in hx) if isinstance(hx, tuple) else hx.requires_grad_()
    hs = list(hx) if isinstance(hx, tuple) else [hx]
    params = [p.detach().clone().requires_grad_() for p in mod.parameters()]

    def f(x, *rest):
        h = rest[:len(hs)]
        h = tuple(h) if len(hs) == 2 else h[0]
        return tuple(flat(functional_call(mod, dict(zip(names, rest[len(hs):])), (x, h))))

    assert torch.autograd.gradcheck(f, (x, *hs, *params), eps=1e-6, atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("ours, theirs, kw", MODULES)
def test_initialisation_is_torch_nn_s_under_the_same_seed(ours, theirs, kw):
    torch.manual_seed(3)
    mod = ours(3, 6, num_layers=2, **kw)
    torch.manual_seed(3)
    ref = theirs(3, 6, num_layers=2, **kw)
    assert list(mod.state_dict()) == list(ref.state_dict())
    for a, b in zip(mod.state_dict().values(), ref.state_dict().values()):
        assert torch.equal(a, b)


@pytest.mark.parametrize("ours, theirs, kw", MODULES)
def test_state_dict_round_trip_into_torch_nn(ours, theirs, kw):
    mod = ours(3, 4, num_layers=2, batch_first=True, **kw)
    ref = theirs(3, 4, num_layers=2, batch_first=True, **kw)
    ref.load_state_dict(mod.state_dict())
    x = torch.randn(5, 8, 3)
    close(mod(x)[0], ref(x)[0], torch.float32)


@pytest.mark.parametrize("ours, theirs, kw", MODULES)
def test_a_training_loop_follows_torch_nn_s(ours, theirs, kw):
    """Adam on an MSE loss through a Linear head: the same weights after 5 steps (float64:
    Adam divides by the gradients' size, so float32 rounding in a near-zero gradient can move a
    weight by up to the learning rate)."""
    f64 = torch.float64
    nets = []
    for cls in (ours, theirs):
        torch.manual_seed(0)
        nets.append(nn.ModuleDict({"rnn": cls(2, 8, num_layers=2, batch_first=True, dtype=f64,
                                              **kw),
                                   "head": nn.Linear(8, 1, dtype=f64)}))
    x, y = torch.randn(16, 10, 2, dtype=f64), torch.randn(16, 1, dtype=f64)
    for net in nets:
        opt = torch.optim.Adam(net.parameters(), lr=1e-2)
        for _ in range(5):
            opt.zero_grad()
            out, _ = net["rnn"](x)
            nn.functional.mse_loss(net["head"](out[:, -1]), y).backward()
            opt.step()
    for p, q in zip(nets[0].parameters(), nets[1].parameters()):
        assert float((p - q).detach().abs().max()) < 1e-10


def test_dropout_between_layers_in_training_mode_only():
    mod = ft.GRU(3, 4, num_layers=2, dropout=0.5, batch_first=True)
    ref = nn.GRU(3, 4, num_layers=2, dropout=0.5, batch_first=True)
    ref.load_state_dict(mod.state_dict())
    x = torch.randn(8, 5, 3)
    mod.eval(), ref.eval()
    close(mod(x)[0], ref(x)[0], torch.float32)
    mod.train()
    a, b = mod(x)[0], mod(x)[0]
    assert not torch.equal(a, b)  # fresh masks per call
    with pytest.warns(UserWarning, match="dropout"):
        ft.LSTM(3, 4, num_layers=1, dropout=0.2)


def test_contiguous_batch_first_tensors_are_not_copied_and_the_cache_is_freed():
    mod = ft.LSTM(3, 5, batch_first=True)
    x = torch.randn(4, 6, 3, requires_grad=True)
    out, _ = mod(x)
    node = out.grad_fn
    # the cpp kernels' cache: x, W, U, h0, c0, h_seq, c_seq, gates
    saved = [node.saved_tensors[s.index] for s in node.skeleton if s is not None]
    assert saved[0].data_ptr() == x.data_ptr()
    assert saved[3].data_ptr() == out.data_ptr()
    out.sum().backward()
    assert x.grad.is_contiguous() and x.grad.shape == x.shape
    with pytest.raises(RuntimeError, match="freed"):
        node.saved_tensors  # noqa: B018 - autograd released the cache after backward


def test_changing_a_saved_tensor_in_place_is_refused():
    mod = ft.RNN(2, 3, batch_first=True)
    x = torch.randn(2, 4, 2, requires_grad=True)
    out, _ = mod(x * 1.0)
    out.add_(1.0)  # the kernels' backward reads the output it saved
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()


def test_errors_name_what_is_wrong():
    with pytest.raises(NotImplementedError, match="bidirectional"):
        ft.LSTM(2, 3, bidirectional=True)
    with pytest.raises(NotImplementedError, match="proj_size"):
        ft.LSTM(2, 3, proj_size=2)
    with pytest.raises(ValueError, match="nonlinearity must be one of"):
        ft.RNN(2, 3, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="hidden_size must be a positive int"):
        ft.GRU(2, 0)
    mod = ft.LSTM(2, 3)
    with pytest.raises(RuntimeError, match="input_size. Expected 2, got 4"):
        mod(torch.randn(5, 1, 4))
    with pytest.raises(TypeError, match="float32 and float64"):
        mod(torch.randn(5, 1, 2).half())
    with pytest.raises(TypeError, match="parameters are torch.float32"):
        mod(torch.randn(5, 1, 2, dtype=torch.float64))
    with pytest.raises(RuntimeError, match=r"Expected hidden size \(1, 1, 3\) for c_0"):
        mod(torch.randn(5, 1, 2), (torch.zeros(1, 1, 3), torch.zeros(1, 2, 3)))
    with pytest.raises(TypeError, match="PackedSequence"):
        packed = nn.utils.rnn.pack_padded_sequence(torch.randn(5, 2, 2), [5, 3])
        mod(packed)
    with pytest.raises(ValueError, match="NaN or inf"):
        mod(torch.full((5, 1, 2), float("nan")))


def test_cuda_tensors_without_the_cuda_backend_raise_clearly():
    if "cuda" in backends.available():
        pytest.skip("the CUDA backend runs here (see test_cuda_tensors_match_the_cpu)")
    fake = types.SimpleNamespace(device=torch.device("cuda", 0))
    with pytest.raises(RuntimeError, match="CUDA backend cannot run"):
        ft.GRU(2, 3)._backend_for(fake)


@pytest.mark.skipif(not torch.cuda.is_available() or "cuda" not in backends.available(),
                    reason="needs a GPU, a CUDA build of torch and fastrnn's CUDA backend")
@pytest.mark.parametrize("ours, theirs, kw", MODULES)
def test_cuda_tensors_match_the_cpu(ours, theirs, kw):
    mod = ours(3, 8, num_layers=2, batch_first=True, **kw)
    x = torch.randn(4, 6, 3, requires_grad=True)
    cpu = flat(mod(x))
    sum(o.sum() for o in cpu).backward()
    gpu_mod = ours(3, 8, num_layers=2, batch_first=True, **kw).cuda()
    gpu_mod.load_state_dict(mod.state_dict())
    xg = x.detach().cuda().requires_grad_()
    gpu = flat(gpu_mod(xg))
    sum(o.sum() for o in gpu).backward()
    for a, b in zip(gpu, cpu):
        assert a.is_cuda
        close(a.cpu(), b, torch.float32)
    close(xg.grad.cpu(), x.grad, torch.float32)
    for p, q in zip(gpu_mod.parameters(), mod.parameters()):
        close(p.grad.cpu(), q.grad, torch.float32)
