"""One series from a CSV file: the value column, and the time column when there is one.

``read_series_csv`` guesses what a spreadsheet export usually means (a header or none; comma,
semicolon or tab; a leading date/year column) and refuses anything it cannot read with a
ValueError whose one-line message names the file, the line and the column, so that a command
line can print it as it is.
"""

from __future__ import annotations

import csv
import math
from typing import NamedTuple

import numpy as np

__all__ = ["SeriesCSV", "read_series_csv", "parse_time"]

# Header names that mark the first column as time labels rather than values.
_TIME_NAMES = {"date", "time", "year", "month", "day", "week", "quarter", "period",
               "timestamp", "datetime", "ds", "index", "t"}
_MISSING = {"", "na", "nan", "n/a", "null", "none", "-", "?"}


class SeriesCSV(NamedTuple):
    """What ``read_series_csv`` read: ``values`` (float64), ``labels`` (the time column's cells
    as text, or None), ``column`` (the value column's name) and ``time_column`` (or None)."""

    values: np.ndarray
    labels: list | None
    column: str
    time_column: str | None


def _is_number(s):
    try:
        float(s)
        return True
    except ValueError:
        return False


def _read_text(path):
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            return f.read()
    except FileNotFoundError:
        raise ValueError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ValueError(f"{path}: is a directory, not a CSV file") from None
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not a text (UTF-8) CSV file") from None
    except OSError as exc:
        raise ValueError(f"{path}: cannot read: {exc.strerror or exc}") from None


def _rows(path, text):
    """(line number, fields) of the non-blank lines."""
    try:
        delim = csv.Sniffer().sniff(text[:4096], delimiters=",;\t").delimiter
    except csv.Error:
        delim = ","
    try:
        rows = [(i, r) for i, r in enumerate(csv.reader(text.splitlines(), delimiter=delim), 1)
                if r and any(c.strip() for c in r)]
    except csv.Error as exc:
        raise ValueError(f"{path}: not a readable CSV file ({exc})") from None
    if not rows:
        raise ValueError(f"{path}: the file is empty")
    return rows


def _find(path, header, name, what):
    """Index of column `name`: exact, then case-insensitive, then a 1-based position."""
    if name in header:
        return header.index(name)
    lower = [h.lower() for h in header]
    if name.lower() in lower:
        return lower.index(name.lower())
    if name.isdigit() and 1 <= int(name) <= len(header):
        return int(name) - 1
    raise ValueError(f"{path}: no {what} {name!r}; columns: {', '.join(header)}")


def _columns(path, header, body, column, time_column):
    """(value column index, time column index or None)."""
    tcol = None
    if time_column is not None:
        tcol = _find(path, header, time_column, "time column")
    elif len(header) > 1 and (header[0].lower() in _TIME_NAMES or
                              (body and len(body[0][1]) > 0 and not _is_number(body[0][1][0]))):
        tcol = 0
    if column is not None:
        return _find(path, header, column, "column"), tcol
    others = [j for j in range(len(header)) if j != tcol]
    if not others:
        raise ValueError(f"{path}: no value column (only the time column {header[tcol]!r})")
    return others[0], tcol


def _value(path, line, name, cell):
    cell = cell.strip()
    if cell.lower() in _MISSING:
        raise ValueError(f"{path}, line {line}, column {name!r}: missing value "
                         f"({cell!r}); fill or drop missing values first")
    try:
        v = float(cell)
    except ValueError:
        raise ValueError(f"{path}, line {line}, column {name!r}: {cell!r} is not a number") from None
    if not math.isfinite(v):
        raise ValueError(f"{path}, line {line}, column {name!r}: {cell!r} is not a finite "
                         f"number (NaN or inf); fill or drop missing values first")
    return v


def read_series_csv(path, column=None, time_column=None) -> SeriesCSV:
    """One column of a CSV file as a :class:`SeriesCSV`.

    ``column`` and ``time_column`` are header names (any case) or 1-based positions; by default
    the time column is the first one when it is named like a date/year/time or holds
    non-numbers, and the value column the first other one. A file whose first line is all
    numbers has no header: its columns are called "column 1", "column 2", ... Missing or
    non-finite values are refused, not skipped. Raises ValueError for anything wrong."""
    rows = _rows(path, _read_text(path))
    first = [c.strip() for c in rows[0][1]]
    if all(_is_number(c) for c in first):
        header, body = [f"column {j + 1}" for j in range(len(first))], rows
    else:
        header, body = first, rows[1:]
    vcol, tcol = _columns(path, header, body, column, time_column)
    name = header[vcol]
    if not body:
        raise ValueError(f"{path}: column {name!r} has no values (only a header line)")
    values, labels = [], []
    need = max(vcol, tcol if tcol is not None else 0) + 1
    for line, r in body:
        if len(r) < need:
            raise ValueError(f"{path}, line {line}: {len(r)} field(s), expected at least {need} "
                             f"(column {name!r} is field {vcol + 1})")
        values.append(_value(path, line, name, r[vcol]))
        if tcol is not None:
            labels.append(r[tcol].strip())
    return SeriesCSV(np.array(values, np.float64), labels if tcol is not None else None, name,
                     header[tcol] if tcol is not None else None)


def parse_time(labels):
    """The time labels as a NumPy array (int64 for whole numbers, else datetime64), or None when
    there are none or they are neither."""
    if labels is None:
        return None
    try:
        if all(lbl.lstrip("-").isdigit() for lbl in labels):
            return np.array([int(lbl) for lbl in labels], np.int64)
    except ValueError:
        pass
    try:
        return np.array([np.datetime64(lbl) for lbl in labels])
    except (ValueError, TypeError):
        return None
