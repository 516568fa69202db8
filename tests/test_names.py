"""Class names are data, never markup: refused control characters, literal drawing, CSV cells
protected against formulas and read back exactly, and every name intact in R."""

from __future__ import annotations

import dataclasses
import io
import json
import subprocess
import unicodedata
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, strategies as st
from matplotlib.text import Text

import blocks_rx
from blocks_rx import cli, names, plot, r, read_result
from blocks_rx.errors import ScoresError, SideFileError
from blocks_rx.export import export_csv, export_rds, to_r
from blocks_rx.ordering import confusion_ordering
from blocks_rx.results import read_table

from conftest import RSCRIPT, R_SCRIPTS, planted_scores, requires_r

#: Names that are only text, however they look: formulas, math, quotes, CSV syntax, scripts.
HOSTILE = ['=HYPERLINK("x")', "-1", "+1", "@SUM(A1)", "'quoted'", 'a"b', "back\\slash", "$x^2$",
           r"$\undefinedcmd$", "café", "日本", "a,b", "a b", "NA", "#hash", "😀", "שלום"]
#: Names a spreadsheet would run as formulas, or that start with the protecting quote.
PROTECTED = {'=HYPERLINK("x")', "-1", "+1", "@SUM(A1)", "'quoted'"}

#: Whether a font draws every script depends on the machine; the drawing must succeed anyway.
pytestmark = pytest.mark.filterwarnings("ignore:Glyph")
needs_rpy2 = pytest.mark.skipif(not r.available(), reason="R with rpy2 is not available")
#: Text that may be a class name: any Unicode but control characters and lone surrogates.
name_text = st.text(st.characters(exclude_categories=("Cc", "Cs")))


@pytest.fixture(scope="module")
def analysis():
    S, _ = planted_scores(n_samples=500, groups=(5, 6, 6), seed=4)
    return blocks_rx.analyze(blocks_rx.load_scores(S, classes=HOSTILE), hclust_backend="python")


@pytest.fixture(scope="module")
def result_dir(tmp_path_factory):
    """``blocks-rx analyze`` on a CSV whose header holds the hostile names."""
    folder = tmp_path_factory.mktemp("names")
    S, _ = planted_scores(n_samples=500, groups=(5, 6, 6), seed=4)
    pd.DataFrame(S.astype(np.float64), columns=HOSTILE).to_csv(folder / "scores.csv", index=False)
    assert cli.run(["analyze", str(folder / "scores.csv"), "--out", str(folder / "out"),
                    "--hclust-backend", "python"]) == 0
    return folder / "out"


# --------------------------------------------------------------------------- names are text


def random_scores(m: int) -> np.ndarray:
    return np.random.default_rng(0).normal(size=(20, m))


@pytest.mark.parametrize("control", ["\x00", "\t", "\n", "\r", "\x1b", "\x1f", "\x7f", "\x85"])
def test_a_control_character_is_refused_at_load_naming_the_column(control):
    bad = f"a{control}b"
    with pytest.raises(ScoresError) as caught:
        blocks_rx.load_scores(random_scores(3), classes=["x", "y", bad])
    assert f"column 2: class name {bad!r} holds a control character" in str(caught.value)


def test_a_control_character_in_a_class_name_file_is_the_file_s_fault(tmp_path):
    (tmp_path / "classes.txt").write_text("x\ny\x00z\nw\n", encoding="utf-8")
    with pytest.raises(SideFileError, match=r"classes.txt: column 1: class name 'y\\x00z'"):
        blocks_rx.load_scores(random_scores(3), classes=tmp_path / "classes.txt")


def test_a_lone_surrogate_is_refused():
    with pytest.raises(ScoresError, match=r"column 0: class name '\\udc80' holds a lone surrogate"):
        blocks_rx.load_scores(random_scores(2), classes=["\udc80", "x"])


def test_every_other_name_is_allowed(analysis):
    assert analysis.similarity.classes == tuple(HOSTILE)


def test_control_characters_are_exactly_unicode_category_cc():
    refused = [chr(c) for c in range(0x110000)
               if unicodedata.category(chr(c)) != "Cs" and names.problem(chr(c))]
    assert refused == [chr(c) for c in [*range(0x20), *range(0x7f, 0xa0)]]


# --------------------------------------------------------------------------- drawn literally


@given(name_text)
def test_literal_text_is_drawn_as_given_never_as_math(text):
    artist = Text(0, 0, names.literal(text))
    assert artist._preprocess_math(artist.get_text()) == (text, False)


def drawn_texts(shown) -> list[str]:
    """Every string the figure draws, as drawn; fails if any would be drawn as math."""
    fig = shown.figure_
    fig.savefig(io.BytesIO(), format="png", dpi=40)  # raises if any text fails to draw
    shown = []
    for artist in fig.findobj(Text):
        text, math = artist._preprocess_math(artist.get_text())
        assert not math, f"drawn as math: {artist.get_text()!r}"
        shown.append(text)
    return shown


def _layer_structure(analysis):
    """The parts of a blocks_rx.torch.LayerStructure that layer_heatmaps draws."""
    return SimpleNamespace(ordering=analysis.ordering, output=analysis.similarity,
                           layers={"$block_1$": analysis.similarity}, measure="spearman",
                           agreement={"$block_1$": 0.5}, assignment="$labels$",
                           description="$agreement$ of each layer")


FIGURES = {
    "heatmap": lambda a: plot.heatmap(a.similarity, a.ordering, title="$title$ =x", dendrogram=True,
                                      marks=([0, 1], HOSTILE[:2]),
                                      bands=[[(0, 8, "$band$"), (8, 17, "=band")]]),
    "boxes and spans": lambda a: plot.heatmap(
        a.similarity, a.ordering, spans=[(0, 8, "$span$"), (8, 17, r"\span")],
        boxes=[(0, 8, "$A$: box", a.ordering.ordered_classes[:8])]),
    "groups": lambda a: plot.groups_heatmap(
        a.similarity, a.ordering, a.findings.fuzzy, failed=a.findings.failed,
        split=a.findings.split, coherent=a.findings.coherent, title="$groups$"),
    "memberships": lambda a: plot.memberships(a.findings.fuzzy, a.ordering),
    "frequency": lambda a: plot.frequency(np.arange(17, 0, -1) ** 2, HOSTILE, exclude=HOSTILE[8:9],
                                          n_labels=8),
    "distributions": lambda a: plot.distributions([dict(
        label="$label$", class_name=HOSTILE[7], values=np.arange(5.0), similarities=np.arange(5.0),
        values_stats=a.example_stats, similarity_stats=a.similarity_stats)]),
    "samples": lambda a: plot.class_samples(a.ordering, {n: f"text of {n}" for n in HOSTILE},
                                            count=17, title="$samples$"),
    "confusion": lambda a: plot.confusion_comparison(
        np.eye(17) * 9 + 1, confusion_ordering(np.eye(17) * 9 + 1, classes=HOSTILE), a.ordering,
        title="$confusion$"),
    "side by side": lambda a: plot.side_by_side(a.similarity, np.eye(17) * 9 + 1, a.ordering,
                                                title="$side$"),
    "layers": lambda a: plot.layer_heatmaps(_layer_structure(a), title="$layers$"),
}


#: The names a figure shows when it does not show them all: the frequency chart names the
#: excluded class and the most frequent ones, the distributions one class.
SHOWN = {"frequency": HOSTILE[:2] + HOSTILE[8:9], "distributions": HOSTILE[7:8]}


@pytest.mark.parametrize("figure", FIGURES)
def test_every_figure_draws_every_name_literally(figure, analysis):
    shown = "\n".join(drawn_texts(FIGURES[figure](analysis)))
    for name in SHOWN.get(figure, HOSTILE):
        assert name in shown, name
    assert "\\$" not in shown  # no escape left visible


# --------------------------------------------------------------------------- CSV cells


@given(name_text)
def test_protecting_a_cell_is_undone_exactly(name):
    cell = names.protect_cell(name)
    assert names.unprotect_cell(cell) == name
    assert not cell.startswith(names.FORMULA_STARTS)
    assert cell == name or cell == "'" + name


def test_order_and_groups_csv_protect_names_and_read_back_exactly(result_dir):
    for file in ("order.csv", "groups.csv"):
        raw = pd.read_csv(result_dir / file, keep_default_na=False, dtype=str)["class"]
        protected = {cell[1:] for cell in raw if cell.startswith("'")}
        assert protected == PROTECTED, file
        assert sorted(read_table(result_dir / file)["class"]) == sorted(HOSTILE), file
    stored = read_result(result_dir)
    assert stored.groups.classes == tuple(HOSTILE)
    assert list(read_table(result_dir / "order.csv")["class"]) == stored.ordering.ordered_classes


def test_numeric_cells_are_written_as_they_are(result_dir):
    order = pd.read_csv(result_dir / "order.csv")
    assert order["position"].tolist() == list(range(1, 18))
    np.testing.assert_array_equal(order["index"], read_result(result_dir).ordering.order)


def test_csv_export_protects_its_name_cells(result_dir, tmp_path):
    export_csv(read_result(result_dir), tmp_path / "x")
    table = pd.read_csv(tmp_path / "x" / "similarity.csv", keep_default_na=False, dtype=str)
    assert [names.unprotect_cell(c) for c in table["class"]] == HOSTILE
    assert {c[1:] for c in table["class"] if c.startswith("'")} == PROTECTED
    assert json.loads((tmp_path / "x" / "blocks.json").read_text())["classes"] == HOSTILE


def test_export_refuses_a_name_it_cannot_keep(analysis, tmp_path):
    classes = ("a\x00b",) + analysis.similarity.classes[1:]
    pair = (dataclasses.replace(analysis.similarity, classes=classes),
            dataclasses.replace(analysis.ordering, classes=classes))
    with pytest.raises(ScoresError, match=r"R export: column 0: class name 'a\\x00b'"):
        export_csv(pair, tmp_path / "x")
    assert not (tmp_path / "x").exists()


# --------------------------------------------------------------------------- R sees the names

NAMES_IN_R = r"""
source(file.path("{scripts}", "read_blocks.R"))
x <- read_blocks("{path}")
jsonlite::write_json(list(classes = x$classes, rows = rownames(x$similarity),
                          columns = colnames(x$similarity), labels = x$hclust$labels,
                          groups = names(x$groups), memberships = rownames(x$memberships),
                          ordered = x$classes[x$order]), "{out}")
"""


def names_in_r(path, tmp_path) -> dict:
    """The names R sees in an export, read by ``read_blocks.R`` in a separate Rscript."""
    script, out = tmp_path / "names.R", tmp_path / "names.json"
    script.write_text(NAMES_IN_R.format(scripts=R_SCRIPTS, path=path, out=out), encoding="utf-8")
    done = subprocess.run([RSCRIPT, str(script)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(out.read_text(encoding="utf-8"))


def assert_r_keeps_every_name(seen, result, classes=HOSTILE):
    assert seen.pop("ordered") == result.ordering.ordered_classes
    for what, names_seen in seen.items():
        assert names_seen == list(classes), what


@requires_r
def test_csv_export_names_reach_r_intact(result_dir, tmp_path):
    target = tmp_path / "x"
    assert cli.main(["export", str(result_dir), "--format", "csv", "--out", str(target)]) == 0
    assert_r_keeps_every_name(names_in_r(target, tmp_path), read_result(result_dir))


@requires_r
@needs_rpy2
def test_rds_export_names_reach_r_intact(result_dir, tmp_path):
    export_rds(read_result(result_dir), tmp_path / "x.rds")
    assert_r_keeps_every_name(names_in_r(tmp_path / "x.rds", tmp_path), read_result(result_dir))


@requires_r
def test_white_space_around_names_reaches_r_intact(tmp_path):
    """R strips white space around CSV header fields; read_blocks.R takes names from JSON."""
    classes = [" lead", "trail ", " both ", "", "=x ", " -1"]
    S, _ = planted_scores(n_samples=300, groups=(3, 3), seed=5)
    analysis = blocks_rx.analyze(blocks_rx.load_scores(S, classes=classes),
                                 hclust_backend="python")
    export_csv(analysis, tmp_path / "x")
    assert_r_keeps_every_name(names_in_r(tmp_path / "x", tmp_path), analysis, classes)


@needs_rpy2
def test_names_reach_the_live_r_session_intact(result_dir):
    import rpy2.robjects as robjects

    to_r(read_result(result_dir), "blocks_names")
    assert list(robjects.r("blocks_names$classes")) == HOSTILE
    assert list(robjects.r("rownames(blocks_names$similarity)")) == HOSTILE


@requires_r
def test_read_blocks_refuses_a_csv_that_disagrees_with_its_json(result_dir, tmp_path):
    export_csv(read_result(result_dir), tmp_path / "x")
    meta = json.loads((tmp_path / "x" / "blocks.json").read_text())
    meta["classes"][0] = "other"
    (tmp_path / "x" / "blocks.json").write_text(json.dumps(meta))
    script = tmp_path / "read.R"
    script.write_text(f'source(file.path("{R_SCRIPTS}", "read_blocks.R"))\n'
                      f'read_blocks("{tmp_path / "x"}")\n')
    done = subprocess.run([RSCRIPT, str(script)], capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and "name different classes" in done.stderr
