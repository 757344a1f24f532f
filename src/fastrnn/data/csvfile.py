"""One series from a CSV file: the value column, and the time column when there is one.

``read_series_csv`` guesses what a spreadsheet export usually means (a header or none; comma,
semicolon or tab; a leading date/year column) and refuses anything it cannot read with a
ValueError whose one-line message names the file, the line and the column, so that a command
line can print it as it is.

What it reads is bounded: the file is read line by line (never whole), a line may hold at most
``MAX_LINE`` characters (a binary file or ``/dev/zero`` fails on its first "line"), and
``max_rows`` / ``max_bytes`` cap the rest, so that a huge or endless input fails fast with one
line instead of exhausting memory. Only the values (8 bytes each) and the time labels are kept.
"""

from __future__ import annotations

import csv
import itertools
import math
from array import array
from typing import NamedTuple

import numpy as np

__all__ = ["SeriesCSV", "read_series_csv", "parse_time", "MAX_LINE"]

MAX_LINE = 1 << 20   # characters in one line
_SNIFF = 4096        # characters the delimiter is guessed from

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


def _open(path):
    try:
        return open(path, newline="", encoding="utf-8-sig")
    except FileNotFoundError:
        raise ValueError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ValueError(f"{path}: is a directory, not a CSV file") from None
    except OSError as exc:
        raise ValueError(f"{path}: cannot read: {exc.strerror or exc}") from None


def _lines(path, f, max_bytes):
    """The lines of the open file f, each checked for length and NUL bytes as it is read; at
    most `max_bytes` characters in all (None: no limit)."""
    total = 0
    for number in itertools.count(1):
        line = f.readline(MAX_LINE + 1)
        if not line:
            return
        if "\0" in line:
            raise ValueError(f"{path}: not a text CSV file (line {number} holds NUL bytes)")
        if len(line) > MAX_LINE:
            raise ValueError(f"{path}, line {number}: longer than {MAX_LINE:,} characters; not "
                             "a CSV file of one series")
        total += len(line)
        if max_bytes is not None and total > max_bytes:
            raise ValueError(f"{path}: larger than the {max_bytes:,} characters read at most")
        yield line


def _rows(path, f, max_bytes):
    """(line number, fields) of the non-blank lines, read as they are needed."""
    lines = _lines(path, f, max_bytes)
    head = []
    for line in lines:
        head.append(line)
        if sum(len(h) for h in head) >= _SNIFF:
            break
    try:
        delim = csv.Sniffer().sniff("".join(head)[:_SNIFF], delimiters=",;\t").delimiter
    except csv.Error:
        delim = ","
    reader = csv.reader(itertools.chain(head, lines), delimiter=delim)
    for r in reader:
        if r and any(c.strip() for c in r):
            yield reader.line_num, r


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


def read_series_csv(path, column=None, time_column=None, *, max_rows=None,
                    max_bytes=None) -> SeriesCSV:
    """One column of a CSV file as a :class:`SeriesCSV`.

    ``column`` and ``time_column`` are header names (any case) or 1-based positions; by default
    the time column is the first one when it is named like a date/year/time or holds
    non-numbers, and the value column the first other one. A file whose first line is all
    numbers has no header: its columns are called "column 1", "column 2", ... Missing or
    non-finite values are refused, not skipped. ``max_rows`` (values) and ``max_bytes``
    (characters) bound what is read (None: no bound; a line is at most ``MAX_LINE``
    characters in any case). Raises ValueError for anything wrong."""
    with _open(path) as f:
        try:
            return _read(path, _rows(path, f, max_bytes), column, time_column, max_rows)
        except UnicodeDecodeError:
            raise ValueError(f"{path}: not a text (UTF-8) CSV file") from None
        except csv.Error as exc:
            raise ValueError(f"{path}: not a readable CSV file ({exc})") from None
        except OSError as exc:
            raise ValueError(f"{path}: cannot read: {exc.strerror or exc}") from None


def _read(path, rows, column, time_column, max_rows):
    first_row = next(rows, None)
    if first_row is None:
        raise ValueError(f"{path}: the file is empty")
    first = [c.strip() for c in first_row[1]]
    body = list(itertools.islice(rows, 1))   # what the time column is guessed from
    if all(_is_number(c) for c in first):
        header, body = [f"column {j + 1}" for j in range(len(first))], [first_row] + body
    else:
        header = first
    vcol, tcol = _columns(path, header, body, column, time_column)
    name = header[vcol]
    if not body:
        raise ValueError(f"{path}: column {name!r} has no values (only a header line)")
    values, labels = array("d"), []
    need = max(vcol, tcol if tcol is not None else 0) + 1
    for line, r in itertools.chain(body, rows):
        if max_rows is not None and len(values) >= max_rows:
            raise ValueError(f"{path}: more than {max_rows:,} values in column {name!r}, the "
                             "most read")
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
