"""Tabular data from a CSV file: numeric feature columns plus one label column."""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass

import numpy as np

from ..utils.lookup import did_you_mean
from ._common import check_path, check_seed, check_test_split, require_file, split_arrays

__all__ = ["load_csv", "read_csv_features"]


def _check_args(delimiter, dtype, label, header, label_optional=False):
    if not isinstance(delimiter, str) or len(delimiter) != 1:
        raise ValueError(
            f"Received an invalid value for `delimiter` of load_csv(), expected a single character "
            f"such as ',' or ';' or '\\t'. Received: delimiter={delimiter!r}"
        )
    try:
        np_dtype = np.dtype(dtype)
    except TypeError as e:
        raise ValueError(
            f"Received an invalid value for `dtype` of load_csv(), expected a floating dtype such as "
            f"'float32' or 'float64'. Received: dtype={dtype!r}"
        ) from e
    if np_dtype.kind != "f":
        raise ValueError(
            f"Received an invalid value for `dtype` of load_csv(), expected a floating dtype such as "
            f"'float32' or 'float64'. Received: dtype={dtype!r}"
        )
    if label is None and label_optional:
        return np_dtype
    if isinstance(label, bool) or not isinstance(label, (str, int)):
        raise TypeError(
            f"`label` of load_csv() must be a column name (str) or a column index (int); received "
            f"{label!r} of type {type(label).__name__}."
        )
    if not header and isinstance(label, str):
        raise ValueError(
            f"load_csv(header=False) cannot find the label column by name ({label!r}): the file has no "
            f"header row. Pass the label column's index instead, e.g. label=0 or label=-1."
        )
    return np_dtype


def _label_index(label, names: list[str], path: str, header: bool) -> int:
    if isinstance(label, str):
        if label in names:
            return names.index(label)
        stripped = [n.strip() for n in names]
        if label.strip() in stripped:
            return stripped.index(label.strip())
        raise ValueError(
            f"Label column {label!r} not found in {path}.{did_you_mean(label, names, cutoff=0.5)} Available "
            f"columns: {', '.join(repr(n) for n in names)}. Pass `label=` with one of them (or its "
            f"index)."
        )
    n = len(names)
    if not -n <= label < n:
        where = "the header" if header else "the first row"
        raise ValueError(
            f"Label column index {label} is out of range for {path}: {where} has {n} columns "
            f"(valid indices {-n}..{n - 1})."
        )
    return label % n


def _is_blank(row: list[str]) -> bool:
    return not row or (len(row) == 1 and not row[0].strip())


def _labels_to_array(raw: list[str]):
    """int64 ids for integer labels, float32 for other numbers, sorted class names for text."""
    try:
        values = [float(v) for v in raw]
    except ValueError:
        classes = sorted(set(raw))
        index = {c: i for i, c in enumerate(classes)}
        return np.array([index[v] for v in raw], dtype=np.int64), classes
    if all(math.isfinite(v) and v == int(v) for v in values):
        return np.array([int(v) for v in values], dtype=np.int64), None
    return np.array(values, dtype=np.float32), None



def _all_numbers(row: list[str]) -> bool:
    try:
        [float(v) for v in row]
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class _Layout:
    """Where the columns of a CSV file are: names, the label's index, the feature indices."""

    path: str
    delimiter: str
    names: list[str]
    label_at: int | None
    reference: str  # what a row's field count is compared with, for errors

    @property
    def feature_cols(self) -> list[int]:
        return [i for i in range(len(self.names)) if i != self.label_at]


def _layout(path: str, first: list[str], first_line: int, label, delimiter: str, header) -> _Layout:
    """The columns of a file from its first non-blank row (a header or the first data row)."""
    if header:
        names = [c.strip() for c in first]
    elif isinstance(label, str):
        raise ValueError(
            f"{path} has no header row, so the label column {label!r} cannot be found by name: "
            f"pass its index instead (e.g. 0 or -1)."
        )
    else:
        names = [f"column {i}" for i in range(len(first))]
    label_at = None if label is None else _label_index(label, names, path, header)
    if label_at is not None and len(names) < 2:
        raise ValueError(
            f"{path} has a single column ({names[0]!r}): expected feature columns and a label "
            f"column. Check `delimiter` (received {delimiter!r})."
        )
    reference = "the header" if header else f"line {first_line}"
    return _Layout(path, delimiter, names, label_at, reference)


def _feature_value(layout: _Layout, text: str, line: int, column: int) -> float:
    try:
        return float(text)
    except ValueError:
        what = "an empty value" if not text.strip() else f"the non-numeric value {text!r}"
        raise ValueError(
            f"{layout.path}, line {line}, column {layout.names[column]!r}: found {what}; feature "
            f"columns must hold numbers."
        ) from None


def _parse_row(layout: _Layout, row: list[str], line: int) -> tuple[list[float], str | None]:
    """``(feature values, raw label or None)`` of one data row; errors name the line and column."""
    n_cols = len(layout.names)
    if len(row) != n_cols:
        raise ValueError(
            f"{layout.path}, line {line}: expected {n_cols} fields (as in {layout.reference}), found "
            f"{len(row)}. Check the delimiter (received {layout.delimiter!r}) and quoting."
        )
    values = [_feature_value(layout, row[i], line, i) for i in layout.feature_cols]
    if layout.label_at is None:
        return values, None
    target = row[layout.label_at].strip()
    if not target:
        raise ValueError(
            f"{layout.path}, line {line}, column {layout.names[layout.label_at]!r}: the label is empty."
        )
    return values, target


def _parse_reader(path: str, reader, label, delimiter: str, header):
    """``(layout, features, raw labels)`` of the rows of a ``csv.reader``."""
    first = next((row for row in reader if not _is_blank(row)), None)
    if first is None:
        raise ValueError(f"{path} is empty: expected a header row and data rows.")
    first_line = reader.line_num
    if header == "auto":
        header = not _all_numbers(first)
    layout = _layout(path, first, first_line, label, delimiter, header)
    parsed = [] if header else [_parse_row(layout, first, first_line)]
    parsed.extend(_parse_row(layout, row, reader.line_num) for row in reader if not _is_blank(row))
    return layout, [values for values, _ in parsed], [target for _, target in parsed]


def _read_rows(path: str, label, delimiter: str, header, np_dtype):
    """``(features, raw labels)`` of a CSV file; ``label=None``: every column is a feature and
    the labels are None. ``header="auto"``: the first row is a header unless it is all numbers."""
    with open(path, encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f, delimiter=delimiter)
        try:
            layout, features, raw_labels = _parse_reader(path, reader, label, delimiter, header)
        except csv.Error as e:
            raise ValueError(f"{path}, line {reader.line_num}: malformed CSV ({e}).") from e
        except UnicodeDecodeError as e:
            raise ValueError(
                f"{path}, line {reader.line_num + 1}: the file is not valid UTF-8 text ({e.reason})."
            ) from e
    if not features:
        raise ValueError(f"{path} has a header but no data rows.")
    return np.array(features, dtype=np_dtype), (raw_labels if layout.label_at is not None else None)


def load_csv(path, label="label", delimiter=",", header=True, test_split=0.2, seed=0,
             dtype="float32", return_classes=False):
    """Load a CSV file of numeric features and one label column, split into train and test.

    Returns ``(x_train, y_train), (x_test, y_test)`` (plus ``class_names`` when
    ``return_classes=True``): ``x`` is ``(n, features)`` of ``dtype``; ``y`` is int64 for
    integer or text labels (text labels become ids in the order of their sorted names), float32
    for other numbers (regression). Rows are shuffled deterministically with ``seed``; integer
    labels are split stratified. ``class_names`` is the sorted list of text labels, or None
    when the labels are numbers.

    >>> with open("pets.csv", "w") as f:
    ...     _ = f.write("weight,height,label\\n4,25,cat\\n30,60,dog\\n5,23,cat\\n25,55,dog\\n")
    >>> (x_train, y_train), (x_test, y_test), names = dn.datasets.load_csv(
    ...     "pets.csv", test_split=0.5, return_classes=True)
    >>> x_train.shape, y_train.dtype, names
    ((2, 2), dtype('int64'), ['cat', 'dog'])
    """
    path = check_path("load_csv", path)
    np_dtype = _check_args(delimiter, dtype, label, header)
    test_split = check_test_split("load_csv", test_split)
    seed = check_seed("load_csv", seed)
    require_file("load_csv", path)

    x, raw_labels = _read_rows(path, label, delimiter, header, np_dtype)
    y, classes = _labels_to_array(raw_labels)
    train, test = split_arrays(x, y, test_split, seed)
    if return_classes:
        return train, test, classes
    return train, test


def read_csv_features(path, label=None, delimiter=",", header="auto", dtype="float32") -> np.ndarray:
    """The feature rows of a CSV file as an ``(n, features)`` array, e.g. inputs to predict on.

    Every column is a feature except ``label`` (a column name or index to leave out, if the
    file has one). ``header="auto"`` treats the first row as a header unless it is all numbers.
    Errors name the file and line, as :func:`load_csv`'s do.

    >>> with open("new.csv", "w") as f:
    ...     _ = f.write("weight,height\\n4,25\\n30,60\\n")
    >>> dn.datasets.read_csv_features("new.csv")
    array([[ 4., 25.],
           [30., 60.]], dtype=float32)
    """
    path = check_path("read_csv_features", path)
    np_dtype = _check_args(delimiter, dtype, label, True, label_optional=True)  # header is checked per file
    if header not in (True, False, "auto"):
        raise ValueError(f"`header` of read_csv_features() must be True, False or 'auto'; received {header!r}.")
    require_file("read_csv_features", path)
    return _read_rows(path, label, delimiter, header, np_dtype)[0]
