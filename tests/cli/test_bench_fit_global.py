"""bench/bench_fit_global.py: argument checks, the message when the peer (darts) is missing,
and the fastrnn side on a small synthetic collection (steps counted, held-out accuracy)."""

from __future__ import annotations

import numpy as np
import pytest

from cli_helpers import load_bench


@pytest.fixture(scope="module")
def bench():
    return load_bench("bench_fit_global")


def test_defaults_match_the_global_forecaster(bench):
    args = bench.parse_args([])
    assert (args.collection, args.steps, args.batch_size, args.threads) == (
        ["tourism"], 2000, 256, 2)
    assert (args.peer_norm, args.peer_head, args.no_peer) == ("rin", "dense", False)
    args = bench.parse_args(["--collection", "tourism", "aus_retail", "--steps", "10",
                             "--peer-norm", "series", "--no-peer"])
    assert args.collection == ["tourism", "aus_retail"] and args.steps == 10
    assert args.peer_norm == "series" and args.no_peer


@pytest.mark.parametrize("argv, needle", [
    (["--collection", "nope"], "invalid choice"),
    (["--steps", "0"], "--steps: expected an integer >= 1, got 0"),
    (["--batch-size", "-3"], "--batch-size: expected an integer >= 1, got -3"),
    (["--peer-head", "mlp"], "invalid choice"),
])
def test_bad_arguments_are_refused(bench, capsys, argv, needle):
    with pytest.raises(SystemExit) as exc:
        bench.parse_args(argv)
    assert exc.value.code == 2
    assert needle in capsys.readouterr().err


def test_missing_peer_stops_with_a_message_before_loading_data(bench, monkeypatch):
    monkeypatch.setattr(bench, "find_spec",
                        lambda name: None if name == "darts" else object())
    monkeypatch.setattr(bench, "load", lambda name: pytest.fail("loaded data"))
    with pytest.raises(SystemExit) as exc:
        bench.main(["--collection", "tourism"])
    msg = str(exc.value.code)
    assert "peer is not installed" in msg and "missing: darts" in msg
    assert "darts[torch]" in msg and "--no-peer" in msg


def test_missing_peer_lists_every_missing_module(bench, monkeypatch):
    monkeypatch.setattr(bench, "find_spec", lambda name: None)
    assert bench.missing_peer_modules() == list(bench.PEER_MODULES)


def _collection(n=12, length=40, m=4, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(length)
    series = [(f"s{i}", (10 + i) * (1 + 0.2 * np.sin(2 * np.pi * t / m))
               + rng.normal(0, 0.1, length), m) for i in range(n)]
    series.append(("short", np.full(7, 5.0), m))   # 3 training values <= h: not trained on
    return series


def test_fastrnn_side_counts_its_steps_and_scores_the_held_out_part(bench, capsys):
    h = 4
    series = _collection()
    args = bench.parse_args(["--no-peer", "--steps", "12", "--batch-size", "32"])
    out = bench.run_comparison(series, h, args, peer=False, log=lambda s: None)
    assert set(out) == {"fastrnn"}
    r = out["fastrnn"]
    # 12 series of 40 - h = 36 training values, L = max(h, 2 m) = 8: 36 - 8 - 4 + 1 = 25
    # windows each (fewer than the 64 kept); the short series gives none
    assert r["input_length"] == 8 and r["windows"] == 12 * 25
    batches = -(-r["windows"] // 32)
    assert r["steps"] == r["epochs"] * batches and r["epochs"] == max(1, round(12 / batches))
    assert r["mean"].shape == (len(series), h) and np.isfinite(r["mean"]).all()
    assert r["params"] == (1 + 32 + 1) * 4 * 32 + 33 * h
    assert r["seconds"] > 0 and np.isfinite(r["mase"]) and np.isfinite(r["smape"])
    # the scores are of the held-out values: a forecast equal to them scores 0
    exact = np.array([y[-h:] for _, y, _ in series])
    assert bench.accuracy(series, h, exact)["mase"] == pytest.approx(0.0, abs=1e-12)
    assert bench.accuracy(series, h, exact + 1.0)["mase"] > 0
    bench.print_table("synthetic", len(series), h, out)
    text = capsys.readouterr().out
    assert "| fastrnn | " in text and "ratio" not in text
