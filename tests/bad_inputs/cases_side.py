"""Files given beside the scores: ``--labels``, ``--classes`` and ``--taxonomy``.

The scores are ``good.npy`` (60 samples, classes ``class_0`` ... ``class_5``). A bad side file
is a :class:`~blocks_rx.errors.SideFileError` naming the file and the line, row, column or
class at fault; valid ones are checked against what the file says, read here by hand.
"""

from __future__ import annotations

import numpy as np

from blocks_rx import read_result
from blocks_rx.errors import ScoresError, SideFileError
from blocks_rx.scores import load_scores

from bad_inputs.corpus import FILES, Case

GOOD = "{made}/good.npy"
SIDE = "{files}/side"
CLASSES = [f"class_{j}" for j in range(6)]


def _with(flag: str, name: str, *more: str) -> tuple[str, ...]:
    return ("analyze", GOOD, "--out", "{out}", flag, f"{SIDE}/{name}", *more)


def _refused(case_id: str, flag: str, name: str, *mentions: str, more=(),
             error: type = SideFileError) -> Case:
    return Case(case_id, _with(flag, name, *more), error=error,
                mentions=(f"{SIDE}/{name}",) + mentions)


def _taxonomy(case_id: str, name: str, *mentions: str) -> Case:
    return _refused(case_id, "--taxonomy", name, *mentions, more=("--ordering", "taxonomy"))


def _lines(name: str) -> list[str]:
    return (FILES / "side" / name).read_text(encoding="utf-8").splitlines()


def _labels_from(name: str):
    """An API call loading good.npy with the label file ``name``."""
    return lambda files, made: load_scores(made / "good.npy", labels=files / "side" / name)


def _label_indices(lines: list[str]):
    def check(scores) -> None:
        assert scores.labels.tolist() == [CLASSES.index(line) for line in lines]

    return check


def _multi_hot_in_class_order(scores) -> None:
    header, *rows = [line.split(",") for line in _lines("labels-multi-header.csv")]
    expected = np.array([[int(row[header.index(c)]) for c in CLASSES] for row in rows])
    np.testing.assert_array_equal(scores.labels, expected)


def _classes_are(names):
    def check(out) -> None:
        assert read_result(out).similarity.classes == tuple(names)

    return check


def _taxonomy_order(out) -> None:
    paths = dict(line.split(",") for line in _lines("taxonomy.csv")[1:])
    order = read_result(out).ordering.ordered_classes
    groups = [paths[c] for c in order]
    # each taxonomy group is one contiguous run, in the order the taxonomy first lists it
    runs = [g for i, g in enumerate(groups) if i == 0 or groups[i - 1] != g]
    assert runs == list(dict.fromkeys(paths.values())), order


CASES = [
    # ---- --labels
    _refused("side/labels-unknown-first-line", "--labels", "labels-unknown.txt",
             "row 0 names class 'xyz'", "not among the score columns"),
    _refused("side/labels-empty", "--labels", "labels-empty.csv", "empty"),
    _refused("side/labels-latin1", "--labels", "labels-latin1.txt", "line 7 is not UTF-8",
             "save the file as UTF-8"),
    _refused("side/labels-blank-line", "--labels", "labels-blank-line.txt", "line 10 is blank"),
    _refused("side/labels-multi-label-not-0-1", "--labels", "labels-multi-not01.csv",
             "line 8 (row 7), column 3 (class 'class_3') holds '2'", "only 0 and 1"),
    _refused("side/labels-npy-not-numpy", "--labels", "labels-not-numpy.npy", "not a .npy file"),
    _refused("side/labels-missing-file", "--labels", "no-such-labels.txt", "no such label file"),
    Case("side/labels-header-word-valid", call=_labels_from("labels-header.csv"),
         check=_label_indices(_lines("labels-header.csv")[1:])),
    Case("side/labels-first-line-is-a-label-valid",
         call=_labels_from("labels-first-is-a-class.txt"),
         check=_label_indices(_lines("labels-first-is-a-class.txt"))),
    Case("side/labels-multi-label-header-valid", call=_labels_from("labels-multi-header.csv"),
         check=_multi_hot_in_class_order),

    # ---- --classes
    _refused("side/classes-blank-line", "--classes", "classes-blank-line.txt",
             "line 3 is blank"),
    _refused("side/classes-duplicate", "--classes", "classes-duplicate.txt",
             "'bee' on lines 2 and 5"),
    _refused("side/classes-wrong-count", "--classes", "classes-wrong-count.txt",
             "5 class-name file", "6 score columns", error=ScoresError),
    _refused("side/classes-latin1", "--classes", "classes-latin1.txt", "line 4 is not UTF-8",
             "save the file as UTF-8"),
    _refused("side/classes-one-line-txt", "--classes", "classes-one-line.txt", "line 1",
             "one class name per line"),
    _refused("side/classes-csv-without-name-column", "--classes", "classes-two-columns.csv",
             "line 1 has 2 columns", "'class' or 'name'"),
    _refused("side/classes-empty", "--classes", "classes-empty.txt", "is empty"),
    Case("side/classes-csv-name-column-valid", _with("--classes", "classes-header.csv"),
         check=_classes_are([line.split(",")[1] for line in _lines("classes-header.csv")[1:]])),

    # ---- --taxonomy
    _taxonomy("side/taxonomy-missing-file", "no-such-taxonomy.csv", "no such taxonomy file"),
    _taxonomy("side/taxonomy-no-header", "taxonomy-no-header.csv",
              "line 1 must name the columns 'class' and 'path'"),
    _taxonomy("side/taxonomy-empty", "taxonomy-empty.csv", "empty"),
    _taxonomy("side/taxonomy-class-twice", "taxonomy-twice.csv", "class 'class_2'",
              "'animal/mammal' on line 4", "'fish' on line 8"),
    _taxonomy("side/taxonomy-latin1", "taxonomy-latin1.csv", "line 6 is not UTF-8"),
    _taxonomy("side/taxonomy-ragged", "taxonomy-ragged.csv", "line 5 has 1 field(s)"),
    _taxonomy("side/taxonomy-missing-classes", "taxonomy-partial.csv",
              "2 class(es) missing from the taxonomy", "'class_4', 'class_5'"),
    Case("side/taxonomy-valid", _with("--taxonomy", "taxonomy.csv", "--ordering", "taxonomy"),
         check=_taxonomy_order),
]
