"""Many series from one CSV file in the long format: one row per (series, time).

``read_long_csv(path, id_columns, time_column, value_column)`` returns the columns as a
mapping (ids and times as text, values as float64 with NaN for a missing cell) that
``fastrnn.forecasting.panel.read_panel`` reads without pandas. Anything it cannot read is a
ValueError whose one-line message names the file, the line and the column, as
``read_series_csv``'s (the same delimiters and missing-value spellings; a header line is
required).
"""

from __future__ import annotations

import csv
import math

import numpy as np

__all__ = ["read_long_csv"]

_MISSING = {"", "na", "nan", "n/a", "null", "none", "-", "?"}


def _rows(path):
    """(line number, fields) of the non-blank lines of a CSV file (delimiter guessed from its
    start: comma, semicolon or tab), read as they are needed."""
    try:
        f = open(path, newline="", encoding="utf-8-sig")  # noqa: SIM115 - the with below
    except FileNotFoundError:
        raise ValueError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ValueError(f"{path}: is a directory, not a CSV file") from None
    except OSError as exc:
        raise ValueError(f"{path}: cannot read: {exc.strerror or exc}") from None
    with f:
        try:
            head = f.read(4096)
            try:
                delim = csv.Sniffer().sniff(head, delimiters=",;\t").delimiter
            except csv.Error:              # uneven rows: the header line's commonest
                first = head.splitlines()[0] if head else ""
                delim = max(",;\t", key=first.count)
            f.seek(0)
            reader = csv.reader(f, delimiter=delim)
            for r in reader:
                if r and any(c.strip() for c in r):
                    yield reader.line_num, r
        except UnicodeDecodeError:
            raise ValueError(f"{path}: not a text (UTF-8) CSV file") from None
        except csv.Error as exc:
            raise ValueError(f"{path}: not a readable CSV file ({exc})") from None


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


def _number(path, line, name, cell):
    cell = cell.strip()
    if cell.lower() in _MISSING:
        return math.nan
    try:
        v = float(cell)
    except ValueError:
        raise ValueError(f"{path}, line {line}, column {name!r}: {cell!r} is not a number") from None
    if math.isinf(v):
        raise ValueError(f"{path}, line {line}, column {name!r}: {cell!r} is not a finite number")
    return v


def read_long_csv(path, id_columns=("unique_id",), time_column="ds", value_column="y",
                  covariates=()):
    """{column: values} of a long-format CSV file with a header line.

    id_columns    a name or a list of names (any case; or 1-based positions), or () for a
                  file holding one series
    time_column   the time labels, kept as text (``fastrnn.data.parse_times`` reads them)
    value_column  numbers; missing cells ("", NA, NaN, null, ...) become NaN, for
                  ``read_panel(fill=...)`` to report or fill
    covariates    more number columns, read like the values
    Returns a dict of lists of str (ids, times) and float64 arrays (values, covariates),
    keyed by the header's own spelling."""
    rows = _rows(path)
    first = next(rows, None)
    if first is None:
        raise ValueError(f"{path}: the file is empty")
    header = [c.strip() for c in first[1]]
    ids = (id_columns,) if isinstance(id_columns, str) else tuple(id_columns)
    text_cols = [_find(path, header, str(c), "id column") for c in ids]
    text_cols.append(_find(path, header, str(time_column), "time column"))
    num_cols = [_find(path, header, str(c), "column") for c in (value_column, *covariates)]
    need = max(text_cols + num_cols) + 1
    out = {header[j]: [] for j in text_cols + num_cols}
    for line, r in rows:
        if len(r) < need:
            raise ValueError(f"{path}, line {line}: {len(r)} field(s), expected at least "
                             f"{need}")
        for j in text_cols:
            cell = r[j].strip()
            if cell.lower() in _MISSING:
                raise ValueError(f"{path}, line {line}, column {header[j]!r}: missing "
                                 f"({cell!r}); every row needs an id and a time")
            out[header[j]].append(cell)
        for j in num_cols:
            out[header[j]].append(_number(path, line, header[j], r[j]))
    if not out[header[num_cols[0]]]:
        raise ValueError(f"{path}: no rows after the header line")
    for j in num_cols:
        out[header[j]] = np.array(out[header[j]], np.float64)
    return out
