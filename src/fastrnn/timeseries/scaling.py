"""Scalers, fitted on the training part only, with their inverses.

Shapes: a scaler takes any array whose last axis is the feature axis, (..., F), or a 1-D
series (T,) (one feature); statistics are per feature over every other axis.
"""

from __future__ import annotations

import numpy as np

__all__ = ["StandardScaler", "MinMaxScaler"]


def _float_array(x, name: str) -> np.ndarray:
    if hasattr(x, "to_numpy"):
        x = x.to_numpy()
    a = np.asarray(x)
    if a.dtype == object or not (np.issubdtype(a.dtype, np.number) or a.dtype == np.bool_):
        raise TypeError(f"{name}: expected a numeric array, got dtype {a.dtype}")
    if not np.issubdtype(a.dtype, np.floating):
        a = a.astype(np.float64)
    return a


class _Scaler:
    _fitted_attr = ""

    def _check_fit_input(self, x):
        a = _float_array(x, "x")
        if a.size == 0:
            raise ValueError(f"x: expected a non-empty array, got shape {a.shape}")
        if not np.all(np.isfinite(a)):
            raise ValueError("x: expected finite values to fit the scaler, got NaN or inf")
        self.n_features_ = 1 if a.ndim <= 1 else a.shape[-1]
        self.ndim_ = a.ndim
        return a.reshape(-1, self.n_features_)

    def _check(self, x):
        if not hasattr(self, self._fitted_attr):
            raise RuntimeError(f"{type(self).__name__}: call fit() (on the training part) "
                               f"before transform()")
        a = _float_array(x, "x")
        F = 1 if a.ndim <= 1 else a.shape[-1]
        if F != self.n_features_ or (a.ndim <= 1) != (self.ndim_ <= 1):
            raise ValueError(f"x: expected {self.n_features_} feature(s) in the last axis (as "
                             f"at fit), got shape {a.shape}")
        return a

    def fit_transform(self, x):
        return self.fit(x).transform(x)


class StandardScaler(_Scaler):
    """z = (x - mean) / std per feature; std uses ``ddof`` (0 default); a constant feature
    gets std 1. Attributes after ``fit``: ``mean_`` (F,), ``scale_`` (F,)."""

    _fitted_attr = "mean_"

    def __init__(self, ddof: int = 0):
        self.ddof = ddof

    def fit(self, x):
        a = self._check_fit_input(x)
        self.mean_ = a.mean(axis=0)
        std = a.std(axis=0, ddof=self.ddof) if a.shape[0] > self.ddof else np.zeros_like(
            self.mean_)
        self.scale_ = np.where(std > 0, std, 1.0)
        return self

    def transform(self, x):
        a = self._check(x)
        return ((a - self._b(self.mean_, a)) / self._b(self.scale_, a)).astype(a.dtype,
                                                                             copy=False)

    def inverse_transform(self, z):
        a = self._check(z)
        return (a * self._b(self.scale_, a) + self._b(self.mean_, a)).astype(a.dtype,
                                                                            copy=False)

    @staticmethod
    def _b(v, a):
        return v[0] if a.ndim <= 1 else v


class MinMaxScaler(_Scaler):
    """x -> lo + (x - min) * (hi - lo) / (max - min) per feature, ``feature_range=(lo, hi)``;
    a constant feature maps to lo. Attributes after ``fit``: ``data_min_``, ``data_max_``,
    ``scale_``, ``min_`` (all (F,)); transform(x) = x * scale_ + min_."""

    _fitted_attr = "scale_"

    def __init__(self, feature_range=(0.0, 1.0)):
        lo, hi = feature_range
        if not lo < hi:
            raise ValueError(f"feature_range: expected (lo, hi) with lo < hi, got "
                             f"{feature_range!r}")
        self.feature_range = (float(lo), float(hi))

    def fit(self, x):
        a = self._check_fit_input(x)
        lo, hi = self.feature_range
        self.data_min_ = a.min(axis=0)
        self.data_max_ = a.max(axis=0)
        rng = self.data_max_ - self.data_min_
        rng = np.where(rng > 0, rng, 1.0)
        self.scale_ = (hi - lo) / rng
        self.min_ = lo - self.data_min_ * self.scale_
        return self

    def transform(self, x):
        a = self._check(x)
        s, m = (self.scale_[0], self.min_[0]) if a.ndim <= 1 else (self.scale_, self.min_)
        return (a * s + m).astype(a.dtype, copy=False)

    def inverse_transform(self, z):
        a = self._check(z)
        s, m = (self.scale_[0], self.min_[0]) if a.ndim <= 1 else (self.scale_, self.min_)
        return ((a - m) / s).astype(a.dtype, copy=False)
