"""Score matrices stored as one column of lists: each row's cell holds the m scores of a sample.

This is how Hugging Face datasets and many evaluation scripts store model outputs: a
parquet (or Arrow) table with a column ``logits`` of ``list<float>`` (or ``large_list``,
``fixed_size_list``), beside an id or a ``label`` column. The matrix (n x m) is built from
the column's flat values in one step (``pyarrow.compute.list_flatten``, then a reshape),
never a Python loop per row for Arrow data; a pandas column of Python lists or ndarrays is
accepted too.

Which column: the one named by ``key`` (``--key``); else the only list column; else the
first of :data:`LIST_COLUMN_NAMES` among the list columns. The other columns (ids, labels)
are not scores and are ignored. Class names: ``--classes``, else the table's schema metadata
(a JSON list under :data:`CLASSES_METADATA_KEY`, or a Hugging Face ``ClassLabel`` feature
with m names), else the default names of unnamed inputs.

Every problem is a :class:`~blocks_rx.errors.ScoresError` naming the source, the column and
the first bad row: a missing (null) cell, a missing value inside a list, lists of unequal
length (both lengths named), values that are not numbers.
"""

from __future__ import annotations

import json
import math

import numpy as np

from ..errors import ScoresError
from ._raw import Raw

#: Names a list column of scores is picked by when a table holds several list columns.
LIST_COLUMN_NAMES = ("logits", "scores", "probs", "probabilities")
#: Schema metadata key holding the class names as a JSON list.
CLASSES_METADATA_KEY = b"classes"
#: Schema metadata key under which Hugging Face ``datasets`` stores its features.
HF_METADATA_KEY = b"huggingface"


# --------------------------------------------------------------------------- choosing


def choose_column(names: list[str], list_columns: list[int], key, where: str) -> int:
    """Position of the list column holding the scores (see the module docstring)."""
    if key is not None:
        if key not in names:
            raise ScoresError(f"{where}: no column named {key!r}; it holds "
                              f"{', '.join(map(repr, names))}")
        chosen = names.index(key)
        if chosen not in list_columns:
            raise ScoresError(f"{where}: column {key!r} holds one number per row, not a list "
                              "of scores; --key (key= in Python) names a list column")
    elif len(list_columns) == 1:
        chosen = list_columns[0]
    else:
        listed = [names[j] for j in list_columns]
        preferred = [name for name in LIST_COLUMN_NAMES if name in listed]
        if not preferred:
            raise ScoresError(f"{where}: {len(listed)} columns hold lists "
                              f"({', '.join(map(repr, listed))}); say which one holds the "
                              f"scores with --key {listed[0]} (key= in Python)")
        chosen = names.index(preferred[0])
    if names.count(names[chosen]) > 1:
        raise ScoresError(f"{where}: column name {names[chosen]!r} appears "
                          f"{names.count(names[chosen])} times; the score column must be "
                          "named once")
    return chosen


# --------------------------------------------------------------------------- Arrow


def is_arrow_list(data_type) -> bool:
    """Whether an Arrow type is a list type (list, large_list, fixed_size_list, list_view)."""
    import pyarrow as pa

    checks = ("is_list", "is_large_list", "is_fixed_size_list", "is_list_view",
              "is_large_list_view")
    return any(getattr(pa.types, check, lambda _: False)(data_type) for check in checks)


def arrow_list_columns(schema) -> list[int]:
    """Positions of the list-typed columns of an Arrow schema."""
    return [j for j, field in enumerate(schema) if is_arrow_list(field.type)]


def from_arrow_table(table, where: str, key=None) -> Raw:
    """The scores of a table's list column, with class names from its schema metadata."""
    names = [str(name) for name in table.column_names]
    chosen = choose_column(names, arrow_list_columns(table.schema), key, where)
    values = arrow_matrix(table.column(chosen), names[chosen], where)
    return Raw(values, metadata_classes(table.schema, values.shape[1], where), None, where)


def arrow_matrix(column, label: str, where: str) -> np.ndarray:
    """An (n, m) array from an Arrow list column whose n cells each hold m numbers."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(column, pa.Array):
        column = pa.chunked_array([column])
    n = len(column)
    _check_number_type(column, label, where)
    if column.null_count:
        row = pc.index(column.is_null(), True).as_py()
        raise ScoresError(f"{where}: column {label!r} has a missing (null) cell at row {row}; "
                          "every row must hold a list of scores")
    if pa.types.is_fixed_size_list(column.type):
        m = column.type.list_size
    else:
        m = _equal_length(pc.list_value_length(column).to_numpy(), label, where)
    flat = pc.list_flatten(column)
    if flat.null_count:
        position = pc.index(flat.is_null(), True).as_py()
        raise ScoresError(f"{where}: column {label!r}, row {position // m}: value "
                          f"{position % m} of the list is missing (null)")
    return flat.to_numpy().reshape(n, m)


def _check_number_type(column, label: str, where: str) -> None:
    """Refuse lists whose values are not numbers (text, nested lists, dates, decimals...),
    naming the first row that holds such a list."""
    import pyarrow as pa
    import pyarrow.compute as pc

    value_type = column.type.value_type
    if pa.types.is_integer(value_type) or pa.types.is_floating(value_type) \
            or pa.types.is_boolean(value_type):
        return
    row = max(pc.index(column.is_valid(), True).as_py(), 0)
    shown = f": row {row} holds {column[row].as_py()!r:.60}" if len(column) else ""
    raise ScoresError(f"{where}: column {label!r} holds lists of {value_type}, not numbers"
                      f"{shown}; each cell must be a list of scores")


def _equal_length(lengths: np.ndarray, label: str, where: str) -> int:
    """The common length of every row's list; a row that differs is an error naming it."""
    if lengths.size == 0:
        return 0
    m = int(lengths[0])
    differ = np.flatnonzero(lengths != m)
    if differ.size:
        row = int(differ[0])
        raise ScoresError(f"{where}: column {label!r}: row {row} holds a list of "
                          f"{int(lengths[row])} values but row 0 holds {m}; every row must "
                          "hold one score per class (the lists are ragged)")
    return m


# --------------------------------------------------------------------------- class names


def metadata_classes(schema, m: int, where: str) -> list[str] | None:
    """Class names stored in a schema's metadata, or None when it names none.

    A JSON list under ``classes`` is taken as it is (a wrong count is then an error of
    :func:`blocks_rx.load_scores`); a Hugging Face ``ClassLabel`` feature is taken only when
    it has exactly ``m`` names, as the labels' classes are the score columns.
    """
    metadata = schema.metadata or {}
    if CLASSES_METADATA_KEY in metadata:
        try:
            names = json.loads(metadata[CLASSES_METADATA_KEY])
        except (ValueError, UnicodeDecodeError):
            names = None
        if not isinstance(names, list):
            raise ScoresError(f"{where}: the schema metadata 'classes' is not a JSON list of "
                              "class names")
        return [str(name) for name in names]
    return _huggingface_classes(metadata.get(HF_METADATA_KEY), m)


def _huggingface_classes(raw, m: int) -> list[str] | None:
    """The names of the one ``ClassLabel`` feature with ``m`` names, if there is one."""
    try:
        features = json.loads(raw)["info"]["features"]
    except (TypeError, ValueError, KeyError, UnicodeDecodeError):
        return None
    if not isinstance(features, dict):
        return None
    found = [feature["names"] for feature in features.values()
             if isinstance(feature, dict) and feature.get("_type") == "ClassLabel"
             and isinstance(feature.get("names"), list) and len(feature["names"]) == m]
    return [str(name) for name in found[0]] if len(found) == 1 else None


# --------------------------------------------------------------------------- pandas


def frame_list_columns(frame) -> list[int]:
    """Positions of a DataFrame's columns whose cells are lists (or ndarrays, tuples)."""
    import pandas as pd

    found = []
    for j in range(frame.shape[1]):
        series = frame.iloc[:, j]
        if isinstance(series.dtype, pd.ArrowDtype):
            if is_arrow_list(series.dtype.pyarrow_dtype):
                found.append(j)
        elif series.dtype == object:
            if isinstance(_first_filled(series.to_numpy()), (list, tuple, np.ndarray)):
                found.append(j)
    return found


def _first_filled(cells):
    """The first cell that is not missing, or None; stops at the first found."""
    for cell in cells:
        if not _missing(cell):
            return cell
    return None


def _missing(cell) -> bool:
    """Whether a cell is missing: None, NaN, or pandas's NA / NaT."""
    return (cell is None or (isinstance(cell, float) and math.isnan(cell))
            or type(cell).__name__ in ("NAType", "NaTType"))


def from_frame_lists(frame, where: str, columns: list[int], key=None) -> Raw:
    """The scores of a DataFrame's list column (see :func:`choose_column`)."""
    import pandas as pd

    names = [str(name) for name in frame.columns]
    chosen = choose_column(names, columns, key, where)
    series = frame.iloc[:, chosen]
    if isinstance(series.dtype, pd.ArrowDtype):
        import pyarrow as pa

        return Raw(arrow_matrix(pa.array(series.array), names[chosen], where), None, None,
                   where)
    return Raw(object_matrix(series.to_numpy(dtype=object), names[chosen], where), None,
               None, where)


def object_matrix(cells: np.ndarray, label: str, where: str) -> np.ndarray:
    """An (n, m) array from n Python lists, tuples or 1-D arrays of m numbers each."""
    lengths = np.array([_cell_length(cell, row, label, where)
                        for row, cell in enumerate(cells)], dtype=np.int64)
    m = _equal_length(lengths, label, where)
    if not len(cells):
        return np.empty((0, 0))
    try:
        values = np.array([np.asarray(cell) for cell in cells])
    except (ValueError, TypeError):
        values = np.empty((0, 0), dtype=object)
    if values.dtype.kind not in "biuf" or values.shape != (len(cells), m):
        _raise_first_bad_cell(cells, label, where)
    return values


def _cell_length(cell, row: int, label: str, where: str) -> int:
    """The length of one cell's list; a missing cell or one that is no list is an error."""
    if _missing(cell):
        raise ScoresError(f"{where}: column {label!r} has a missing cell at row {row}; "
                          "every row must hold a list of scores")
    if isinstance(cell, np.ndarray) and cell.ndim != 1:
        raise ScoresError(f"{where}: column {label!r}, row {row} holds an array of shape "
                          f"{cell.shape}; each cell must be a flat list of scores")
    if not isinstance(cell, (list, tuple, np.ndarray)):
        raise ScoresError(f"{where}: column {label!r}, row {row} holds a "
                          f"{type(cell).__name__} ({cell!r:.40}), not a list of scores")
    return len(cell)


def _raise_first_bad_cell(cells, label: str, where: str) -> None:
    """Name the first row holding a value that is not a number (None, text, a list...)."""
    for row, cell in enumerate(cells):
        for position, value in enumerate(cell):
            if not isinstance(value, (int, float, np.integer, np.floating, np.bool_)):
                what = "is missing (None)" if value is None else \
                    f"holds a {type(value).__name__} ({value!r:.40}), not a number"
                raise ScoresError(f"{where}: column {label!r}, row {row}: value {position} "
                                  f"of the list {what}")
    raise ScoresError(f"{where}: column {label!r} holds lists that are not numbers")
