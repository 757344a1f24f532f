"""select() on a real dask.distributed LocalCluster through joblib's "dask" backend: the same
ranking and forecasts as a sequential run, and the work really runs on the cluster."""

from __future__ import annotations

import numpy as np
import pytest

distributed = pytest.importorskip("dask.distributed")
joblib = pytest.importorskip("joblib")

from fastrnn import forecasting  # noqa: E402
from fastrnn.data import load_sunspots  # noqa: E402

SUN = load_sunspots().values


def _strip(records):
    return [{k: v for k, v in r.items() if k != "fit_s"} for r in records]


@pytest.mark.parametrize("processes", [False, True], ids=["threads", "processes"])
def test_select_on_a_local_dask_cluster(processes):
    cands = forecasting.grid(cells=("elman", "gru"), units=(4,), lags=(4, 6), epochs=3)
    ref = forecasting.select(SUN, cands, seed=0)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=processes,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        with distributed.get_task_stream(client) as ts:
            with joblib.parallel_backend("dask"):
                sel = forecasting.select(SUN, cands, seed=0)
        tasks = ts.data
        assert len(client.scheduler_info()["workers"]) == 2
    assert len(tasks) > 0                         # the candidates ran on the cluster
    assert _strip(sel.records) == _strip(ref.records)
    assert sel.best.name == ref.best.name
    np.testing.assert_array_equal(sel.forecast(5), ref.forecast(5))
