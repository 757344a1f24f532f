"""select's workers and arguments (issue 17, defects 3 and 16): never more workers than cores
or models, workers that end with the process that started them, and no argument accepted
silently that means nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import fastrnn
from fastrnn import forecasting
from fastrnn.forecasting import AR, Naive, RNNForecaster, SeasonalNaive
from fastrnn.forecasting.workers import usable_cores, worker_count

joblib = pytest.importorskip("joblib")

X = np.sin(np.arange(120) / 3.0) + np.random.default_rng(0).standard_normal(120) * 0.1


def sleepy(k, seconds=0.0):
    """A naive forecaster whose fit sleeps and whose record names the process it ran in (a
    local class: joblib's workers get it by value)."""
    class Sleepy(Naive):
        def __init__(self, k=k):
            self.k = k

        @property
        def name(self):
            return f"sleepy {self.k}"

        def get_params(self):
            return {"k": self.k}

        def describe(self):
            return {"cell": str(os.getpid()), "units": "", "lags": "", "layers": ""}

        def _fit(self, x):
            time.sleep(seconds)

    return Sleepy(k)


def test_worker_count_is_capped_at_cores_and_tasks():
    cores = usable_cores()
    if hasattr(os, "sched_getaffinity"):
        assert cores == len(os.sched_getaffinity(0))
    assert worker_count(100000, 5) == min(cores, 5)
    assert worker_count(100000, 10 ** 6) == cores
    assert worker_count(-1, 10 ** 6) == cores                 # -1 keeps meaning all cores
    assert worker_count(-1, 1) == 1
    assert worker_count(-2, 10 ** 6) == max(cores - 1, 1)
    assert worker_count(-10 ** 6, 10) == 1
    assert worker_count(1, 10) == 1 and worker_count(None, 10) is None
    with pytest.raises(ValueError, match="n_jobs must be a nonzero int"):
        worker_count(0, 10)
    with pytest.raises(TypeError, match="n_jobs must be an int"):
        worker_count(2.5, 10)


def test_a_backend_elsewhere_is_capped_at_tasks_only():
    class RemoteBackend(joblib.parallel.ThreadingBackend):   # stands for Dask, Ray, ...
        pass

    joblib.register_parallel_backend("fastrnn-test-remote", RemoteBackend)
    with joblib.parallel_backend("fastrnn-test-remote"):
        assert worker_count(100000, 7) == 7
    with joblib.parallel_backend("threading"):
        assert worker_count(100000, 10 ** 6) == usable_cores()


def test_select_asks_joblib_for_capped_workers(monkeypatch):
    asked = []

    class Recorder:
        def __init__(self, n_jobs=None, **kw):
            asked.append(n_jobs)

        def __call__(self, calls):
            return (c[0](*c[1], **c[2]) for c in calls)

    monkeypatch.setattr(joblib, "Parallel", Recorder)
    tasks = [sleepy(k) for k in range(3)]
    forecasting.select(X, tasks, baselines=False, n_jobs=100000, test=10)
    assert asked == [min(usable_cores(), 3)]


def test_select_runs_on_at_most_the_cores(tmp_path):
    tasks = [sleepy(k, 0.3) for k in range(6)]
    sel = forecasting.select(X, tasks, baselines=False, n_jobs=100000, test=10)
    pids = {r["cell"] for r in sel.records}
    assert 1 <= len(pids) <= min(usable_cores(), 6)
    assert str(os.getpid()) not in pids or usable_cores() == 1


PARENT = textwrap.dedent("""
    import os, sys, time
    import numpy as np
    from fastrnn.forecasting import Naive, select

    piddir = sys.argv[1]

    class Stuck(Naive):
        def __init__(self, k=0):
            self.k = k

        @property
        def name(self):
            return f"stuck {self.k}"

        def get_params(self):
            return {"k": self.k}

        def _fit(self, x):
            open(os.path.join(piddir, str(os.getpid())), "w").close()
            time.sleep(300)

    x = np.random.default_rng(0).standard_normal(60)
    select(x, [Stuck(0), Stuck(1)], baselines=False, n_jobs=2, test=5)
""")


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"    # a zombie has ended
    except FileNotFoundError:
        return False
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True


@pytest.mark.skipif(os.name != "posix", reason="a killed parent's children: POSIX")
def test_workers_end_when_their_parent_is_killed(tmp_path):
    src = os.path.dirname(os.path.dirname(fastrnn.__file__))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([src, os.environ.get("PYTHONPATH", "")]),
               OMP_NUM_THREADS="1")
    script = tmp_path / "parent.py"
    script.write_text(PARENT)
    piddir = tmp_path / "pids"
    piddir.mkdir()
    parent = subprocess.Popen([sys.executable, str(script), str(piddir)], env=env)
    pids = []
    try:
        deadline = time.monotonic() + 120
        while len(pids) < 2 and time.monotonic() < deadline and parent.poll() is None:
            time.sleep(0.2)
            pids = [int(p) for p in os.listdir(piddir)]
        assert len(pids) == 2, "the workers did not start"
        assert all(alive(p) for p in pids)
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(timeout=30)
        deadline = time.monotonic() + 10
        while any(alive(p) for p in pids) and time.monotonic() < deadline:
            time.sleep(0.1)
        survivors = [p for p in pids if alive(p)]
        assert not survivors, f"workers {survivors} outlived their killed parent"
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
        for p in pids:          # only the workers this test started, by their id
            if alive(p):
                os.kill(p, signal.SIGKILL)


@pytest.mark.parametrize("kw,match", [
    ({"test": -5}, r"test must be a fraction in \(0, 1\) or a count >= 1, got -5"),
    ({"test": 0}, "test must be"),
    ({"test": 1.5}, "test must be"),
    ({"test": True}, "test must be"),
    ({"diff": 100}, r"diff must be an int in \[0, 2\] or None, got 100"),
    ({"diff": 3, "max_diff": 2}, "diff must be"),
    ({"alpha": 5}, r"alpha must be a number in \(0, 1\], got 5"),
    ({"alpha": float("nan")}, "alpha must be"),
    ({"alpha": 0}, "alpha must be"),
    ({"season": 0}, "season must be a positive int"),
    ({"refit_every": 0}, "refit_every must be a positive int or None, got 0"),
    ({"refit_every": -2}, "refit_every must be"),
    ({"n_jobs": 0}, "n_jobs must be a nonzero int"),
    ({"n_jobs": "2"}, "n_jobs must be an int"),
])
def test_select_refuses_meaningless_arguments(kw, match):
    with pytest.raises(ValueError, match=match):
        forecasting.select(X, [], **kw)


def test_choose_diff_refuses_a_level_outside_0_1():
    for alpha in (5, -0.1, float("nan")):
        with pytest.raises(ValueError, match="alpha must be"):
            forecasting.choose_diff(X, alpha=alpha)
    assert forecasting.choose_diff(X, alpha=1.0)[0] == 0


FORECASTERS = [Naive(), SeasonalNaive(4), AR(max_lag=3),
               RNNForecaster(units=2, lags=4, epochs=1)]


@pytest.mark.parametrize("f", FORECASTERS, ids=lambda f: type(f).__name__)
@pytest.mark.parametrize("steps", [0, -3, 2.5, True, "3"])
def test_forecast_steps_must_be_a_positive_int(f, steps):
    f.fit(X)
    with pytest.raises(ValueError, match="steps must be a positive int"):
        f.forecast(X, steps)
    assert f.forecast(X, np.int64(3)).shape == (3,)
