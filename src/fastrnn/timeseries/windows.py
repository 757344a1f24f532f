"""Windowing of series for supervised learning.

Glossary of shapes: T time steps, F features (columns) of a 2-D series (T, F); a 1-D series
is one feature. W windows, ``lags`` input steps per window, ``horizon`` target steps, Fx input
features, Fy target columns.

Window i (i = 0 .. W-1) starts at time ``i*stride``: its inputs are the rows
``i*stride .. i*stride + lags - 1`` and its targets the next ``horizon`` rows
``i*stride + lags .. i*stride + lags + horizon - 1``. W = (T - lags - horizon)//stride + 1.
"""

from __future__ import annotations

import operator
from typing import NamedTuple, Sequence

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from fastrnn import _params

try:
    from fastrnn.timeseries import _kernels
except ImportError:  # pragma: no cover - pure-Python install
    _kernels = None

__all__ = ["Windows", "PanelWindows", "make_windows", "make_panel_windows", "lag_matrix",
           "n_windows"]


class Windows(NamedTuple):
    """``X`` (W, lags, Fx) and ``y`` (W, horizon) or (W, horizon, Fy)."""

    X: np.ndarray
    y: np.ndarray


class PanelWindows(NamedTuple):
    """Windows of many series stacked: ``X`` (W, lags, Fx), ``y`` (W, horizon[, Fy]),
    ``ids`` (W,) int64 index of the source series, ``t`` (W,) int64 time (within its series)
    of the window's first target step."""

    X: np.ndarray
    y: np.ndarray
    ids: np.ndarray
    t: np.ndarray


def _pos_int(v, name: str, minimum: int = 1) -> int:
    return _params.check(v, name, _params.Int(minimum))


def n_windows(length: int, lags: int, horizon: int = 1, stride: int = 1) -> int:
    """Number of windows a series of ``length`` steps gives (0 when it is too short)."""
    span = lags + horizon
    return 0 if length < span else (length - span) // stride + 1


def _columns(spec, F: int, name: str):
    """Normalise a column spec (int, sequence of ints, or None) to (list, was_scalar)."""
    if spec is None:
        return None, False
    if isinstance(spec, (int, np.integer)) and not isinstance(spec, bool):
        cols, scalar = [int(spec)], True
    else:
        try:
            cols = [operator.index(c) for c in spec]
        except TypeError:
            raise TypeError(f"{name}: expected an int or a sequence of ints, got {spec!r}") from None
        scalar = False
        if not cols:
            return [], False
    for c in cols:
        if not -F <= c < F:
            raise ValueError(f"{name}: column {c} is out of range for a series with {F} "
                             f"column(s)")
    cols = [c % F for c in cols]
    if len(set(cols)) != len(cols):
        raise ValueError(f"{name}: expected distinct columns, got {spec!r}")
    return cols, scalar


def _take_cols(a: np.ndarray, cols: list[int]) -> np.ndarray:
    """a[:, cols] as a view when the columns form an arithmetic progression."""
    if len(cols) == 1:
        return a[:, cols[0]: cols[0] + 1]
    step = cols[1] - cols[0]
    if step > 0 and all(cols[i + 1] - cols[i] == step for i in range(len(cols) - 1)):
        return a[:, cols[0]: cols[-1] + 1: step]
    return a[:, cols]


def _as_series(series, name: str, dtype) -> np.ndarray:
    if hasattr(series, "to_numpy"):
        series = series.to_numpy()
    a = np.asarray(series)
    if dtype is not None:
        a = a.astype(dtype, copy=False)
    if a.dtype == object or not (np.issubdtype(a.dtype, np.number) or a.dtype == np.bool_):
        raise TypeError(f"{name}: expected a numeric array, got dtype {a.dtype}")
    if a.ndim == 1:
        a = a[:, None]
    elif a.ndim != 2:
        raise ValueError(f"{name}: expected a 1-D (time,) or 2-D (time, features) array, got "
                         f"shape {a.shape}")
    return a


def _resolve(F: int, target, exog, include_target: bool, squeeze_1d: bool):
    tcols, tscalar = _columns(target, F, "target")
    ecols, _ = _columns(exog, F, "exog")
    if tcols is None:
        tcols = list(range(F)) if ecols is None else [c for c in range(F) if c not in ecols]
        tscalar = squeeze_1d or F == 1
    if not tcols:
        raise ValueError(f"target: no target column left (target={target!r}, exog={exog!r})")
    if ecols is None:
        xcols = list(range(F)) if include_target else [c for c in range(F) if c not in tcols]
    else:
        overlap = set(tcols) & set(ecols)
        if overlap and include_target:
            raise ValueError(f"exog: columns {sorted(overlap)} are also target columns; they "
                             f"are already inputs (include_target=True)")
        xcols = (tcols if include_target else []) + ecols
    if not xcols:
        raise ValueError("exog: no input column left (include_target=False and no exog)")
    return tcols, tscalar, xcols


def make_windows(series, lags, horizon=1, stride=1, *, target=None, exog=None,
                 include_target=True, copy=False, dtype=None) -> Windows:
    """Cut a series into (inputs, targets) windows for supervised learning.

    Parameters
    ----------
    series : array_like, shape (T,) or (T, F)
    lags : int >= 1
        Input steps per window.
    horizon : int >= 1
        Target steps per window (the steps right after the inputs).
    stride : int >= 1
        Distance between the starts of consecutive windows.
    target : int or sequence of int, optional
        Target column(s). Default: every column not named in ``exog`` (the series itself for
        1-D input).
    exog : int or sequence of int, optional
        Exogenous input columns. Default None: the inputs are every column of the series (in
        order); with ``exog`` given the inputs are ``target`` columns then ``exog`` columns.
    include_target : bool
        Whether the past of the target columns is an input (autoregressive). Default True.
    copy : bool
        False (default): ``X`` and ``y`` are read-only views of ``series`` whenever the chosen
        columns can be viewed (all columns, a single column, or evenly spaced columns), else
        of one compact copy of the chosen columns. True: C-contiguous, writeable copies.
    dtype : numpy dtype, optional
        Cast the series first (a copy when the dtype changes).

    Returns
    -------
    Windows(X, y): ``X`` (W, lags, Fx); ``y`` (W, horizon) for one target column chosen by an
    int (or a 1-D / one-column series), else (W, horizon, Fy).
    ``X[i] = series[i*stride : i*stride + lags, inputs]``,
    ``y[i] = series[i*stride + lags : i*stride + lags + horizon, target]``.

    Raises
    ------
    ValueError: bad rank, series shorter than ``lags + horizon``, bad column indices.
    TypeError: non-numeric series, non-integer lags/horizon/stride.
    """
    lags = _pos_int(lags, "lags")
    horizon = _pos_int(horizon, "horizon")
    stride = _pos_int(stride, "stride")
    a = _as_series(series, "series", dtype)
    squeeze_1d = np.ndim(series) == 1
    T, F = a.shape
    W = n_windows(T, lags, horizon, stride)
    if W == 0:
        raise ValueError(f"series: expected at least lags + horizon = {lags + horizon} time "
                         f"steps, got {T}")
    tcols, tscalar, xcols = _resolve(F, target, exog, include_target, squeeze_1d)
    xin = a if xcols == list(range(F)) else _take_cols(a, xcols)
    X = sliding_window_view(xin, lags, axis=0)[: (W - 1) * stride + 1: stride]
    X = X.transpose(0, 2, 1)  # (W, lags, Fx)
    ysrc = _take_cols(a[lags:], tcols)
    y = sliding_window_view(ysrc, horizon, axis=0)[: (W - 1) * stride + 1: stride]
    y = y.transpose(0, 2, 1)  # (W, horizon, Fy)
    if tscalar:
        y = y[:, :, 0]
    if copy:
        X = np.array(X, order="C", copy=True)
        y = np.array(y, order="C", copy=True)
    return Windows(X, y)


def make_panel_windows(series_list: Sequence, lags, horizon=1, stride=1, *, target=None,
                       exog=None, include_target=True, dtype=None, backend=None
                       ) -> PanelWindows:
    """Windows of many series of different lengths, stacked into one set with series ids.

    Parameters
    ----------
    series_list : sequence of array_like, each (T_s,) or (T_s, F) (same F for all)
        Series shorter than ``lags + horizon`` contribute no window.
    lags, horizon, stride, target, exog, include_target
        As in :func:`make_windows`, applied to every series.
    dtype : numpy dtype, optional
        Output dtype; default the inputs' common floating type (float32 stays float32,
        integers become float64).
    backend : {None, "compiled", "numpy"}
        None uses the Cython kernel when built (one memcpy per window), else NumPy gathers.

    Returns
    -------
    PanelWindows(X (W, lags, Fx), y (W, horizon[, Fy]), ids (W,), t (W,)): windows of series
    0 first, then series 1, ...; always fresh C-contiguous arrays.
    """
    lags = _pos_int(lags, "lags")
    horizon = _pos_int(horizon, "horizon")
    stride = _pos_int(stride, "stride")
    if backend not in (None, "compiled", "numpy"):
        raise ValueError(f"backend: expected None, 'compiled' or 'numpy', got {backend!r}")
    if backend == "compiled" and _kernels is None:
        raise ValueError("backend: 'compiled' requested but fastrnn.timeseries._kernels is not "
                         "built (pure-Python install)")
    if isinstance(series_list, np.ndarray) or not isinstance(series_list, (list, tuple)):
        series_list = list(series_list)
    if not series_list:
        raise ValueError("series_list: expected at least one series, got none")
    arrs = [_as_series(s, f"series_list[{i}]", None) for i, s in enumerate(series_list)]
    F = arrs[0].shape[1]
    for i, s in enumerate(arrs):
        if s.shape[1] != F:
            raise ValueError(f"series_list[{i}]: expected {F} column(s) like series_list[0], "
                             f"got {s.shape[1]}")
    if dtype is None:
        dtype = np.result_type(*[s.dtype for s in arrs], np.float32)
        if not np.issubdtype(dtype, np.floating):
            dtype = np.float64
        if any(np.issubdtype(s.dtype, np.integer) for s in arrs):
            dtype = np.float64
    dtype = np.dtype(dtype)
    squeeze_1d = all(np.ndim(s) == 1 for s in series_list)
    tcols, tscalar, xcols = _resolve(F, target, exog, include_target, squeeze_1d)

    lengths = np.array([s.shape[0] for s in arrs], dtype=np.int64)
    offsets = np.zeros(len(arrs) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    span = lags + horizon
    counts = np.where(lengths >= span, (lengths - span) // stride + 1, 0).astype(np.int64)
    W = int(counts.sum())

    allv = np.concatenate(arrs, axis=0).astype(dtype, copy=False)
    xin = np.ascontiguousarray(allv if xcols == list(range(F)) else allv[:, xcols])
    yin = xin if tcols == xcols else np.ascontiguousarray(allv[:, tcols])
    Fx, Fy = xin.shape[1], yin.shape[1]

    use_compiled = (_kernels is not None and backend != "numpy"
                    and dtype in (np.dtype(np.float32), np.dtype(np.float64)))
    if use_compiled:
        X = np.empty((W, lags, Fx), dtype=dtype)
        y = np.empty((W, horizon, Fy), dtype=dtype)
        ids = np.empty(W, dtype=np.int64)
        _kernels.panel_windows(xin, yin, offsets, counts, lags, horizon, stride, X, y, ids)
        starts = np.arange(W, dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
        t = starts * stride + lags
    else:
        ids = np.repeat(np.arange(len(arrs), dtype=np.int64), counts)
        first = np.repeat(offsets[:-1], counts)
        starts = np.arange(W, dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
        rows = first + starts * stride
        X = xin[rows[:, None] + np.arange(lags)]
        y = yin[rows[:, None] + lags + np.arange(horizon)]
        t = starts * stride + lags
    if tscalar:
        y = y[:, :, 0]
        if use_compiled:
            y = np.ascontiguousarray(y)
    return PanelWindows(X, y, ids, t)


def lag_matrix(x, maxlag, *, copy=False, backend=None) -> np.ndarray:
    """The lag matrix of a 1-D series: ``L[t, j] = x[t + maxlag - j]``.

    x: (T,); returns (T - maxlag, maxlag + 1) with columns x_t, x_{t-1}, ..., x_{t-maxlag}
    (statsmodels' ``lagmat(x, maxlag, trim="both", original="in")`` with the lags in the same
    order). ``copy=False``: a read-only view; ``copy=True``: a C-contiguous copy (filled by
    the Cython kernel when built, unless ``backend="numpy"``).
    """
    maxlag = _pos_int(maxlag, "maxlag", minimum=0)
    if hasattr(x, "to_numpy"):
        x = x.to_numpy()
    a = np.asarray(x)
    if a.ndim != 1:
        raise ValueError(f"x: expected a 1-D series, got shape {a.shape}")
    if a.shape[0] <= maxlag:
        raise ValueError(f"x: expected more than maxlag = {maxlag} values, got {a.shape[0]}")
    view = sliding_window_view(a, maxlag + 1)[:, ::-1]
    if not copy:
        return view
    if (_kernels is not None and backend != "numpy"
            and a.dtype in (np.dtype(np.float32), np.dtype(np.float64))):
        out = np.empty(view.shape, dtype=a.dtype)
        _kernels.lag_matrix(np.ascontiguousarray(a), maxlag, out)
        return out
    return np.ascontiguousarray(view)
