"""Real, public-domain series shipped inside the package (small CSV files, no download).

``sunspots`` (the default series of ``fastrnn forecast``)
    Yearly mean sunspot numbers, 1700-2008 (309 values), from the National Geophysical Data
    Center (NOAA, solar data services, file ``sunspots_yearly.dat``). Public domain (a work of
    the US government). Copied from the copy that ships inside statsmodels
    (``statsmodels.datasets.sunspots``, whose ``COPYRIGHT`` reads "This data is public
    domain."); columns renamed to ``year,sunspots``. The classical test bed of
    autoregressive models (Yule 1927; AR(9) by AIC) with its ~11-year cycle.

``nile``
    Annual flow of the Nile at Aswan, 1871-1970 (100 values, 10^8 m^3), from Cobb (1978),
    "The Problem of the Nile: Conditional Solution to a Changepoint Problem", Biometrika
    65(2); public domain, copied from ``statsmodels.datasets.nile`` ("This is public
    domain."); columns ``year,flow``.

Each loader returns a :class:`Dataset` (``index``, ``values``, ``name``, ``description``);
``as_frame=True`` returns a ``pandas.Series`` indexed by year instead (pandas needed).
``path(name)`` gives the CSV file itself (what ``fastrnn forecast`` reads by default).

``read_series_csv(path, column=None, time_column=None)`` reads one series from any CSV file
(see :mod:`fastrnn.data.csvfile`); it raises ValueError with a one-line message naming the file,
line and column of whatever it cannot read.
"""

from __future__ import annotations

import csv
import os
from typing import NamedTuple

import numpy as np

from fastrnn.data.csvfile import SeriesCSV, parse_time, read_series_csv
from fastrnn.data.hygiene import SeriesReport, clean_series
from fastrnn.data.longcsv import read_long_csv
from fastrnn.data.timeaxis import Frequency, TimeLabels, parse_times

__all__ = ["Dataset", "load_sunspots", "load_nile", "path", "NAMES", "SeriesCSV",
           "read_series_csv", "parse_time", "parse_times", "Frequency", "TimeLabels",
           "SeriesReport", "clean_series", "read_long_csv"]

_HERE = os.path.dirname(os.path.abspath(__file__))

NAMES = {
    "sunspots": ("sunspots.csv", "yearly sunspot numbers 1700-2008, NGDC/NOAA, public domain"),
    "nile": ("nile.csv", "annual Nile flow at Aswan 1871-1970, Cobb (1978), public domain"),
}


class Dataset(NamedTuple):
    """A shipped series: ``index`` (years, int64), ``values`` (float64), its column ``name``
    and a one-line ``description`` of origin and licence."""

    index: np.ndarray
    values: np.ndarray
    name: str
    description: str

    def to_series(self):
        """The series as a ``pandas.Series`` indexed by year (needs pandas)."""
        import pandas as pd

        return pd.Series(self.values, index=pd.Index(self.index, name="year"), name=self.name)


def path(name: str = "sunspots") -> str:
    """The path of a shipped CSV file (``name`` in ``NAMES``)."""
    if name not in NAMES:
        raise ValueError(f"name must be one of {', '.join(repr(n) for n in NAMES)}; got {name!r}")
    return os.path.join(_HERE, NAMES[name][0])


def _load(name: str, as_frame: bool):
    with open(path(name), newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    ds = Dataset(np.array([int(r[0]) for r in body], dtype=np.int64),
                 np.array([float(r[1]) for r in body], dtype=np.float64), header[1],
                 NAMES[name][1])
    return ds.to_series() if as_frame else ds


def load_sunspots(as_frame: bool = False):
    """Yearly sunspot numbers 1700-2008 (309 values; NGDC, public domain): a
    :class:`Dataset`, or a ``pandas.Series`` indexed by year with ``as_frame=True``."""
    return _load("sunspots", as_frame)


def load_nile(as_frame: bool = False):
    """Annual Nile flow at Aswan 1871-1970 (100 values; Cobb 1978, public domain): a
    :class:`Dataset`, or a ``pandas.Series`` indexed by year with ``as_frame=True``."""
    return _load("nile", as_frame)
