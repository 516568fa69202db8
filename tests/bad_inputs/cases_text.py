"""Text score tables (.csv, .tsv, .txt), parquet tables and DataFrames: bad and odd ones.

Bad tables must be refused naming the file and the line, column or class; valid but unusual
ones (quoted names, line breaks in a quoted field, a byte-order mark, other delimiters, an
index column) must give the result their content implies. That result is checked against
Python's csv module and numpy, never against blocks-rx's own reader.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd

from blocks_rx import read_result
from blocks_rx.errors import ScoresError
from blocks_rx.scores import load_scores

from bad_inputs.corpus import FILES, Case
from bad_inputs.make_corpus import good_scores, maker

TEXT = "{files}/text"
CLASSES = ("cat", "dog", "owl", "emu")


def _analyze(name: str) -> tuple[str, ...]:
    return ("analyze", f"{TEXT}/{name}", "--out", "{out}")


def _oracle(name: str, delimiter: str = ",", ids: bool = False):
    """(class names, values) of a file in ``files/text`` as Python's csv module reads it."""
    with open(FILES / "text" / name, newline="", encoding="utf-8-sig") as handle:
        header, *rows = list(csv.reader(handle, delimiter=delimiter))
    skip = 1 if ids else 0
    return tuple(header[skip:]), np.array([row[skip:] for row in rows], dtype=np.float64)


def _gives(name: str, delimiter: str = ",", ids: bool = False):
    """A check that a command-line result holds the classes and correlations of the file."""

    def check(out: Path) -> None:
        classes, values = _oracle(name, delimiter, ids)
        stored = read_result(out).similarity
        assert stored.classes == classes
        assert stored.n_samples == len(values)
        np.testing.assert_allclose(stored.matrix, np.corrcoef(values, rowvar=False), atol=1e-6)

    return check


def _loads(classes, values):
    """A check that a :class:`~blocks_rx.scores.Scores` holds these classes and values."""

    def check(scores) -> None:
        assert scores.classes == tuple(classes)
        np.testing.assert_array_equal(np.asarray(scores.values), np.asarray(values))

    return check


def _valid(name: str, delimiter: str = ",", ids: bool = False, **extra) -> Case:
    return Case(f"csv/{Path(name).stem}-valid", _analyze(name),
                check=_gives(name, delimiter, ids), **extra)


def _refused(case_id: str, name: str, *mentions: str) -> Case:
    return Case(case_id, _analyze(name), error=ScoresError,
                mentions=(f"{TEXT}/{name}",) + mentions)


# --------------------------------------------------------------------------- parquet


def _nullable_frame(with_na: bool) -> pd.DataFrame:
    values = good_scores(n=20, m=3).astype(np.float64).round(3)
    frame = pd.DataFrame({
        "ant": pd.array(np.arange(20) % 3, dtype="Int64"),
        "bee": pd.array(values[:, 0], dtype="Float64"),
        "cat": values[:, 1],
        "dog": values[:, 2],
    })
    if with_na:
        frame.loc[3, "bee"] = pd.NA
    return frame


@maker("nullable-na.parquet")
def _nullable_na_parquet(path: Path) -> None:
    _nullable_frame(with_na=True).to_parquet(path)


@maker("nullable.parquet")
def _nullable_parquet(path: Path) -> None:
    _nullable_frame(with_na=False).to_parquet(path)


@maker("reset-index.parquet")
def _reset_index_parquet(path: Path) -> None:
    frame = pd.DataFrame(good_scores(n=12, m=4), columns=list(CLASSES),
                         index=pd.RangeIndex(100, 112))
    frame.reset_index().to_parquet(path)  # the index becomes a column named 'index'


def _nullable_values() -> np.ndarray:
    return _nullable_frame(with_na=False).astype(np.float64).to_numpy()


# --------------------------------------------------------------------------- DataFrames


def _frame(columns=CLASSES, n: int = 12) -> pd.DataFrame:
    return pd.DataFrame(good_scores(n=n, m=len(columns)).astype(np.float64), columns=list(columns))


def _with_first(name: str, values) -> pd.DataFrame:
    frame = _frame()
    frame.insert(0, name, values)
    return frame


CASES = [
    # ---- refused: empty, header, quoting, encoding, shape
    _refused("csv/empty", "empty.csv", "is empty"),
    _refused("csv/header-only", "header-only.csv", "a header (line 1) but no rows"),
    _refused("csv/headerless", "headerless.csv", "line 1 holds numbers", "must hold the class "
             "names", "add a header line"),
    _refused("tsv/headerless", "headerless.tsv", "line 1 holds numbers", "add a header line"),
    _refused("csv/duplicate-header", "duplicate-header.csv", "line 1", "'dog' appears twice",
             "columns 1 and 3"),
    _refused("csv/empty-header-cell", "empty-header-cell.csv", "line 1, column 2 has no class "
             "name"),
    _refused("csv/latin1", "latin1.csv", "line 5 is not UTF-8", "save the file as UTF-8"),
    _refused("csv/one-column", "one-column.csv", "need at least 2 classes (columns), got 1"),
    _refused("csv/ragged-row", "ragged-row.csv", "line 4 has 5 field(s), but line 1 has 4"),
    _refused("csv/bad-quote", "bad-quote.csv", "line 3", "quote"),
    _refused("csv/unterminated-quote", "unterminated-quote.csv", "line 3", "quote"),
    _refused("csv/space-separated-txt", "space-separated.txt", "line 1",
             "separated by spaces"),
    _refused("tsv/commas-not-tabs", "commas.tsv", "line 1 holds no tab", "','"),
    _refused("csv/not-numeric-cell", "not-numeric.csv", "column 'dog' is not numeric",
             "row 2 holds 'oops'"),
    _refused("csv/missing-na-cell", "missing-na.csv", "nan at row 1, column 2 (class 'owl')"),

    # ---- valid: RFC 4180 quoting, BOM, delimiters, index columns
    _valid("quoted-header.csv"),
    _valid("embedded-newline.csv", ids=True),
    _valid("bom.csv"),
    _valid("semicolon.csv", ";"),
    _valid("pipe.txt", "|"),
    _valid("dot-names.csv"),
    _valid("pandas-integer-header.csv"),
    Case("tsv/names-with-commas-valid", _analyze("names-with-commas.tsv"),
         check=_gives("names-with-commas.tsv", "\t")),
    _valid("to-csv-index.csv", ids=True, warns="the first column has no name"),
    _valid("id-column.csv", ids=True, warns="the first column, 'Sample_ID', holds unique "
                                            "integers"),

    # ---- parquet: pandas nullable columns, an index written as a column
    Case("parquet/nullable-na", ("analyze", "{made}/nullable-na.parquet", "--out", "{out}"),
         error=ScoresError, mentions=("{made}/nullable-na.parquet", "column 'bee' (Float64)",
                                      "missing value", "row 3")),
    Case("parquet/nullable-valid", call=lambda files, made: load_scores(made / "nullable.parquet"),
         check=_loads(["ant", "bee", "cat", "dog"], _nullable_values())),
    Case("parquet/reset-index-valid",
         call=lambda files, made: load_scores(made / "reset-index.parquet"),
         check=_loads(CLASSES, good_scores(n=12, m=4)), warns="'index', holds unique integers"),

    # ---- DataFrames from Python
    Case("api/dataframe-duplicate-columns",
         call=lambda files, made: load_scores(_frame(["cat", "dog", "owl", "dog"])),
         error=ScoresError, mentions=("<DataFrame>", "'dog' appears twice", "columns 1 and 3")),
    Case("api/dataframe-int64-na",
         call=lambda files, made: load_scores(
             _with_first("ant", pd.array([1, 2, None] + [4] * 9, dtype="Int64"))),
         error=ScoresError, mentions=("<DataFrame>", "column 'ant' (Int64)", "row 2")),
    Case("api/dataframe-float64-na",
         call=lambda files, made: load_scores(
             _with_first("ant", pd.array([0.5] * 7 + [None] + [0.25] * 4, dtype="Float64"))),
         error=ScoresError, mentions=("<DataFrame>", "column 'ant' (Float64)", "row 7")),
    Case("api/dataframe-nullable-valid",
         call=lambda files, made: load_scores(_nullable_frame(with_na=False)),
         check=_loads(["ant", "bee", "cat", "dog"], _nullable_values())),
    Case("api/dataframe-unnamed-index-valid",
         call=lambda files, made: load_scores(_with_first("Unnamed: 0", range(12))),
         check=_loads(CLASSES, _frame().to_numpy()), warns="the first column has no name"),
    Case("api/dataframe-dates-column",
         call=lambda files, made: load_scores(
             _frame().assign(when=pd.Timestamp("2024-01-01"))),
         error=ScoresError, mentions=("<DataFrame>", "column 'when'", "not scores")),
]
