"""Tables (pandas DataFrames from CSV, parquet or the caller) into values and class names."""

from __future__ import annotations


import numpy as np

from ..errors import ScoresError
from ._raw import Raw
from .._warn import warn_caller

#: Names of a first column that holds sample ids when its values are unique integers.
ID_NAMES = ("id", "index", "sample", "sample_id", "row")


def from_frame(frame, name: str, key: str | None = None) -> Raw:
    """Values and class names of a table whose columns are classes.

    A table with a column of lists (each cell one sample's m scores, as Hugging Face stores
    ``logits``) is read from that column alone, chosen by ``key`` where there are several;
    see :mod:`blocks_rx.readers.lists`. Otherwise:

    Column names must be unique. The first column is set aside as sample ids, not a class,
    when another column follows and

    * it has no name (``""``, or pandas's ``Unnamed: 0`` for the index ``to_csv`` writes), or
    * it is named ``id``, ``index``, ``sample``, ``sample_id`` or ``row`` (any case) and
      holds unique integers (both with a warning naming it), or
    * it holds text and no number (sample names).

    Every other column must be numeric: text that is not a number is an error naming the
    column and the first bad row, and so is a missing value (``NA``) in a pandas nullable
    column (``Int64``, ``Float64``, ``boolean``). Text columns of numbers are converted.
    """
    from .lists import frame_list_columns, from_frame_lists

    list_columns = frame_list_columns(frame)
    if list_columns:
        return from_frame_lists(frame, name, list_columns, key)
    _check_unique_names(frame, name)
    labels = [str(column) for column in frame.columns]
    columns = [frame.iloc[:, j] for j in range(frame.shape[1])]
    if len(columns) > 1 and _is_sample_ids(columns[0], labels[0], name):
        labels, columns = labels[1:], columns[1:]
    arrays = [_numeric(series, label, name) for series, label in zip(columns, labels)]
    values = np.column_stack(arrays) if arrays else np.empty((len(frame), 0))
    return Raw(values, labels, None, name)


def is_numeric(series) -> bool:
    """Whether a column holds numbers (numpy or pandas nullable booleans, integers, floats)."""
    return series.dtype.kind in "biuf"


def _check_unique_names(frame, name: str) -> None:
    first_position: dict[str, int] = {}
    for position, label in enumerate(str(c) for c in frame.columns):
        if label in first_position:
            raise ScoresError(f"{name}: column name {label!r} appears twice, in columns "
                              f"{first_position[label]} and {position}; class names must be "
                              "unique")
        first_position[label] = position


def _is_sample_ids(series, label: str, name: str) -> bool:
    """Whether the first column holds sample ids rather than a class (warns for the first two
    rules of :func:`from_frame`)."""
    import pandas as pd

    if label == "" or label == "Unnamed: 0":
        warn_caller(f"{name}: the first column has no name (as DataFrame.to_csv writes the "
                    "index); it is taken as sample ids, not as a class")
        return True
    numbers = series if is_numeric(series) else pd.to_numeric(series, errors="coerce")
    if (label.strip().lower() in ID_NAMES and numbers.dtype.kind in "iu"
            and numbers.notna().all() and numbers.is_unique):
        warn_caller(f"{name}: the first column, {label!r}, holds unique integers; it is taken "
                    "as sample ids, not as a class")
        return True
    return not is_numeric(series) and series.notna().any() and numbers.isna().all()


def _numeric(series, label: str, name: str) -> np.ndarray:
    """The values of one class column as a numpy array; anything else is a ScoresError."""
    import pandas as pd

    if is_numeric(series):
        if not isinstance(series.dtype, pd.api.extensions.ExtensionDtype):
            return series.to_numpy()
        missing = np.flatnonzero(series.isna().to_numpy())
        if missing.size:
            raise ScoresError(f"{name}: column {label!r} ({series.dtype}) has a missing value "
                              f"(<NA>) at row {missing[0]}; fill or drop it")
        return series.to_numpy(dtype=series.dtype.numpy_dtype)
    if not (pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series)):
        raise ScoresError(f"{name}: column {label!r} holds {series.dtype} values, not scores")
    coerced = pd.to_numeric(series, errors="coerce")
    bad = np.flatnonzero(coerced.isna().to_numpy() & series.notna().to_numpy())
    if bad.size:
        raise ScoresError(f"{name}: column {label!r} is not numeric: row {bad[0]} holds "
                          f"{series.iloc[bad[0]]!r}")
    return coerced.to_numpy()
