"""Class names that look like markup, formulas or control codes: data, kept exactly, or refused.

Names that are only text (math signs, formula starts, any script) must give a result whose
files hold them exactly: ``order.csv`` cells protected against spreadsheet formulas, and read
back unchanged. Names holding a control character are refused at load, naming the column.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from blocks_rx import load_scores, read_result
from blocks_rx.errors import ScoresError, SideFileError
from blocks_rx.results import read_table

from bad_inputs.corpus import Case
from bad_inputs.make_corpus import good_scores, maker

GOOD = "{made}/good.npy"
NAMES = "{files}/names"


def _raw_class_cells(out) -> list[str]:
    """The ``class`` cells of ``order.csv`` exactly as written (no unprotecting)."""
    import pandas as pd

    return list(pd.read_csv(out / "order.csv", keep_default_na=False, dtype=str)["class"])


def _keeps_names(expected, protected=()):
    """A check that the result holds ``expected`` exactly, and that ``order.csv`` writes the
    names in ``protected`` with a leading quote."""

    def check(out):
        stored = read_result(out)
        assert sorted(stored.similarity.classes) == sorted(expected)
        assert stored.groups is None or stored.groups.classes == stored.similarity.classes
        assert list(read_table(out / "order.csv")["class"]) == stored.ordering.ordered_classes
        cells = _raw_class_cells(out)
        quoted = sorted(cell for cell in cells if cell.startswith("'"))
        assert quoted == sorted("'" + name for name in protected)
        assert not any(c.startswith(("=", "+", "-", "@")) for c in cells), cells

    return check


@maker("names-nul.txt")
def _nul_in_classes_file(path):
    path.write_bytes(b"a\nb\nc\nd\ne\nf\x00g\n")


@maker("names-cr.npz")
def _carriage_return_in_npz_classes(path):
    np.savez(path, scores=good_scores(), classes=np.array(["a", "b", "c\rd", "e", "f", "g"]))


@maker("names-del.csv")
def _delete_in_csv_header(path):
    rows = "\n".join(",".join(f"{v:.3f}" for v in row) for row in good_scores(n=12).astype(float))
    path.write_text("a,b,c,d\x7f,e,f\n" + rows + "\n", encoding="utf-8")


def _export_with_a_control_character(files, made):
    from blocks_rx import analyze
    from blocks_rx.export import export_csv

    analysis = analyze(load_scores(good_scores()), groups=None, hclust_backend="python")
    classes = ("a", "b\x00c") + analysis.similarity.classes[2:]
    export_csv((dataclasses.replace(analysis.similarity, classes=classes),
                dataclasses.replace(analysis.ordering, classes=classes)), made / "export-nul")


def _analyze(scores: str, *options: str) -> tuple[str, ...]:
    return ("analyze", scores, *options, "--out", "{out}")


def _load_with_a_nul(files, made):
    return load_scores(good_scores(), classes=["a", "b", "c", "d\x00e", "f", "g"])


def _load_with_a_c1_control(files, made):
    import pandas as pd

    columns = ["a", "b", "c", "d", "e", "next\x85line"]
    return load_scores(pd.DataFrame(good_scores(), columns=columns))


MATH = [r"$\undefinedcmd$", "$x^2$", r"\frac", "$5 and $6", "plain", "a_b^c"]
FORMULAS = ['=HYPERLINK("http://x","y")', "-1", "+1", "@SUM(A1)", "'quoted'"]
FILE_FORMULAS = ["=1+1", "-x", "+y", "@z", "'q"]

CASES = [
    Case("names/mathtext-in-csv-header", _analyze(f"{NAMES}/mathtext-header.csv"),
         check=_keeps_names(MATH)),
    Case("names/formulas-in-csv-header", _analyze(f"{NAMES}/formula-header.csv"),
         check=_keeps_names(FORMULAS + ["plain"], protected=FORMULAS)),
    Case("names/formulas-in-classes-file",
         _analyze(GOOD, "--classes", f"{NAMES}/formula-classes.txt"),
         check=_keeps_names(FILE_FORMULAS + ["plain"], protected=FILE_FORMULAS)),
    Case("names/any-script-in-csv-header", _analyze(f"{NAMES}/unicode-header.csv"),
         check=_keeps_names(["café", "日本", "😀", "שלום", "a,b", 'a"b'])),
    Case("names/newline-in-csv-header", _analyze(f"{NAMES}/newline-in-header.csv"),
         error=ScoresError, mentions=("newline-in-header.csv", "column 1", r"'b\nc'",
                                      "control character")),
    Case("names/delete-in-csv-header", _analyze("{made}/names-del.csv"),
         error=ScoresError, mentions=("names-del.csv", "column 3", r"'d\x7f'")),
    Case("names/tab-in-classes-file", _analyze(GOOD, "--classes", f"{NAMES}/tab-in-name.txt"),
         error=SideFileError, mentions=(f"{NAMES}/tab-in-name.txt", "column 1", r"'b\tc'")),
    Case("names/nul-in-classes-file", _analyze(GOOD, "--classes", "{made}/names-nul.txt"),
         error=SideFileError, mentions=("{made}/names-nul.txt", "column 5", r"'f\x00g'")),
    Case("names/carriage-return-in-npz-classes", _analyze("{made}/names-cr.npz"),
         error=ScoresError, mentions=("names-cr.npz", "column 2", r"'c\rd'")),
    Case("names/nul-via-api", call=_load_with_a_nul,
         error=ScoresError, mentions=("column 3", r"'d\x00e'", "control character")),
    Case("names/c1-control-in-dataframe-column", call=_load_with_a_c1_control,
         error=ScoresError, mentions=("column 5", r"'next\x85line'")),
    Case("names/export-refuses-a-control-character", call=_export_with_a_control_character,
         error=ScoresError, mentions=("R export", "column 1", r"'b\x00c'")),
]
