"""Tables (pandas DataFrames from CSV, parquet or the caller) into values and class names."""

from __future__ import annotations

import numpy as np

from ..errors import ScoresError
from ._raw import Raw


def from_frame(frame, name: str) -> Raw:
    """Values and class names of a table whose columns are classes.

    A leading text column names the samples and is set aside; any other column that is not
    numeric is an error naming the column and the first bad row.
    """
    frame = frame.copy(deep=False)
    first = frame.columns[0] if len(frame.columns) else None
    if first is not None and not is_numeric(frame[first]):
        import pandas as pd

        # A leading text column names the samples; one holding numbers is a score
        # column with a bad value, reported below rather than silently dropped.
        if not pd.to_numeric(frame[first], errors="coerce").notna().any():
            frame = frame.set_index(first)
    for column in frame.columns:
        series = frame[column]
        if not is_numeric(series):
            import pandas as pd

            coerced = pd.to_numeric(series, errors="coerce")
            bad = np.flatnonzero(coerced.isna().to_numpy() & series.notna().to_numpy())
            row = int(bad[0]) if bad.size else 0
            raise ScoresError(f"{name}: column {column!r} is not numeric: row {row} holds "
                              f"{series.iloc[row]!r}")
    values = frame.to_numpy()
    if values.dtype == object:
        values = values.astype(np.float64)
    return Raw(values, [str(c) for c in frame.columns], None, name)


def is_numeric(series) -> bool:
    return series.dtype.kind in "biuf"
