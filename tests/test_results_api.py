"""The result objects' API: flat cuts against scipy, DataFrames, and HTML summaries."""

from __future__ import annotations

import html

import numpy as np
import pandas as pd
import pytest
from scipy.cluster.hierarchy import fcluster, is_monotonic

import blocks_rx
from blocks_rx import datasets
from blocks_rx.groups import find_groups
from blocks_rx.ordering import LINKAGES, hclust, order_classes
from blocks_rx.results import read_table


def same_partition(a, b) -> bool:
    """Whether two labellings make the same groups, whatever the group numbers."""
    a, b = np.asarray(a), np.asarray(b)
    pairs = set(zip(a.tolist(), b.tolist()))
    return len(pairs) == len(set(a.tolist())) == len(set(b.tolist()))


def numbered_by_first_appearance(labels) -> bool:
    """R's cutree numbering: 1, 2, ... in the order groups first appear in input order."""
    labels = np.asarray(labels)
    values, first = np.unique(labels, return_index=True)
    return (labels[0] == 1 and values.tolist() == list(range(1, len(values) + 1))
            and bool(np.all(np.diff(first) > 0)))


@pytest.fixture(scope="module")
def random30():
    rng = np.random.default_rng(11)
    M = np.corrcoef(rng.normal(size=(30, 80)))
    names = [f"class {j}" for j in range(30)]
    return M, names


@pytest.mark.parametrize("linkage", ["complete", "average"])
def test_cut_k_matches_scipy_maxclust(random30, linkage):
    M, names = random30
    ordering = hclust(M, classes=names, linkage=linkage)
    Z = ordering.scipy_linkage()
    for k in (1, 2, 3, 5, 8, 13, 29, 30):
        groups = ordering.cut(k=k)
        expected = fcluster(Z, k, criterion="maxclust")
        assert groups.nunique() == k
        assert same_partition(groups.to_numpy(), expected), k
        assert numbered_by_first_appearance(groups.to_numpy())
        np.testing.assert_array_equal(ordering.cut_labels(k), groups.to_numpy())


@pytest.mark.parametrize("linkage", ["complete", "average"])
def test_cut_h_matches_scipy_distance(random30, linkage):
    M, names = random30
    ordering = hclust(M, classes=names, linkage=linkage)
    Z = ordering.scipy_linkage()
    heights = np.unique(ordering.height)
    assert len(heights) == len(ordering.height)  # no ties: cuts between merges are exact
    between = list((heights[:-1] + heights[1:]) / 2)[::3]
    for h in [heights[0] / 2] + between + [heights[-1] + 0.1]:
        groups = ordering.cut(h=h)
        expected = fcluster(Z, h, criterion="distance")
        assert groups.nunique() == len(np.unique(expected)) == 30 - np.sum(heights <= h)
        assert same_partition(groups.to_numpy(), expected), h
        assert numbered_by_first_appearance(groups.to_numpy())


def test_cut_is_a_series_of_groups_indexed_by_class(random30):
    M, names = random30
    ordering = hclust(M, classes=names)
    groups = ordering.cut(4)
    assert isinstance(groups, pd.Series)
    assert groups.name == "group"
    assert list(groups.index) == names == list(ordering.classes)
    assert groups.iloc[0] == 1
    assert groups.dtype.kind == "i"


def test_cut_numbering_on_a_planted_tree():
    # Blocks {0, 3}, {1, 4}, {2}: R numbers them by first member in input order.
    M = np.full((5, 5), 0.0)
    for a, b in ((0, 3), (1, 4)):
        M[a, b] = M[b, a] = 0.9
    np.fill_diagonal(M, 1.0)
    ordering = hclust(M, classes=list("abcde"))
    assert ordering.cut(3).tolist() == [1, 2, 3, 1, 2]
    assert ordering.cut(h=0.5).tolist() == [1, 2, 3, 1, 2]


@pytest.mark.parametrize("arguments", [{}, {"k": 2, "h": 0.5}])
def test_cut_needs_exactly_one_of_k_and_h(random30, arguments):
    M, names = random30
    with pytest.raises(ValueError, match="exactly one"):
        hclust(M, classes=names).cut(**arguments)


def test_cut_k_out_of_range_is_refused(random30):
    M, names = random30
    ordering = hclust(M, classes=names)
    for k in (0, 31):
        with pytest.raises(ValueError, match="k must be"):
            ordering.cut(k)


@pytest.mark.parametrize("arguments", [{"k": 2}, {"h": 0.5}])
def test_an_ordering_without_a_tree_cannot_be_cut(random30, arguments):
    M, names = random30
    ordering = order_classes(M, "identity", classes=names)
    with pytest.raises(ValueError, match="no tree"):
        ordering.cut(**arguments)
    with pytest.raises(ValueError, match="no tree"):
        ordering.cut_labels(2)


def test_a_non_monotone_tree_refuses_a_height():
    assert "centroid" in LINKAGES
    # Three equidistant classes: centroid linkage merges two at 1, then the third at 0.75.
    ordering = hclust(np.eye(3), classes=list("abc"), linkage="centroid")
    assert not is_monotonic(ordering.scipy_linkage())
    with pytest.raises(ValueError, match="not increasing"):
        ordering.cut(h=0.9)
    assert ordering.cut(k=2).nunique() == 2  # k still defines a cut


# --------------------------------------------------------------------------- to_frame


@pytest.fixture(scope="module")
def planted_analysis():
    rng = np.random.default_rng(12)
    names = ["<b>x&y</b>"] + [f"c{j}" for j in range(1, 9)]
    member = np.repeat([0, 1, 2], 3)
    scores = 2.0 * rng.normal(size=(500, 3))[:, member] + rng.normal(size=(500, 9))
    labels = np.argmax(scores + rng.normal(size=scores.shape), axis=1)
    loaded = blocks_rx.load_scores(scores, classes=names, labels=labels)
    return blocks_rx.analyze(loaded, hclust_backend="python", cuts=[2, 3])


def test_similarity_to_frame_is_the_matrix_with_class_names(planted_analysis):
    sim = planted_analysis.similarity
    frame = sim.to_frame()
    np.testing.assert_array_equal(frame.to_numpy(), np.asarray(sim.matrix))
    assert list(frame.index) == list(frame.columns) == list(sim.classes)
    name = sim.classes[3]
    assert frame.loc[name, sim.classes[5]] == sim.matrix[3, 5]


def test_ordering_to_frame(random30):
    M, names = random30
    ordering = hclust(M, classes=names)
    frame = ordering.to_frame(cuts=[2, 3])
    assert frame["position"].tolist() == list(range(1, 31))
    assert frame["class"].tolist() == ordering.ordered_classes
    assert frame["index"].tolist() == [names.index(c) for c in ordering.ordered_classes]
    for k in (2, 3):
        expected = ordering.cut(k).reindex(ordering.ordered_classes).to_numpy()
        np.testing.assert_array_equal(frame[f"cluster_k{k}"].to_numpy(), expected)
    assert list(ordering.to_frame().columns) == ["position", "index", "class"]


def test_groups_to_frame(planted_analysis):
    groups = planted_analysis.findings.fuzzy
    frame = groups.to_frame()
    assert list(frame.index) == list(groups.classes)
    columns = [f"membership_G{k + 1}" for k in range(groups.n_groups)]
    assert list(frame.columns) == ["group"] + columns
    np.testing.assert_array_equal(frame[columns].to_numpy(), groups.memberships)
    assert frame["group"].tolist() == [f"G{k + 1}" for k in groups.crisp]
    # The crisp group is the largest membership.
    assert frame["group"].tolist() == [f"G{k + 1}" for k in groups.memberships.argmax(axis=1)]


@pytest.fixture(scope="module")
def overlaps():
    data = datasets.planted_overlaps()
    scores = blocks_rx.load_scores(data["scores"], classes=data["classes"])
    sim = blocks_rx.compute_similarity(scores, warn=False)
    ordering = hclust(sim)
    return sim, ordering, find_groups(sim, ordering)


def test_group_findings_to_frame_lists_failed_and_split_groups(overlaps):
    _, _, found = overlaps
    assert found.failed and found.split
    frame = found.to_frame()
    assert list(frame.index) == list(found.fuzzy.classes)
    for column in ("failed_groups", "failed_z", "split_groups", "split_z"):
        assert column in frame.columns
    for placement in found.failed:
        label = f"G{placement.group + 1}"
        inside = {c for c in frame.index if label in frame.loc[c, "failed_groups"].split(";")}
        assert inside == set(placement.classes)
    for number, pair in enumerate(found.split, start=1):
        inside = {c for c in frame.index if f"S{number}" in frame.loc[c, "split_groups"].split(";")}
        assert inside == set(pair.first.classes) | set(pair.second.classes)
        z = {frame.loc[c, "split_z"] for c in inside}
        assert z == {f"{pair.z:.2f}"}
    listed = set().union(*(set(p.classes) for p in found.failed))
    for c in set(frame.index) - listed:
        assert frame.loc[c, "failed_groups"] == "" and frame.loc[c, "failed_z"] == ""


def test_analysis_to_frame_is_order_csv(planted_analysis, tmp_path):
    written = blocks_rx.write_result(planted_analysis, tmp_path / "result")
    stored = read_table(written["order.csv"])
    frame = planted_analysis.to_frame()
    assert list(frame.columns) == ["position", "index", "class", "cluster_k2", "cluster_k3"]
    pd.testing.assert_frame_equal(frame.reset_index(drop=True), stored, check_dtype=False)
    assert "<b>x&y</b>" in stored["class"].tolist()
    ordering = planted_analysis.ordering
    for k in (2, 3):
        expected = ordering.cut(k).reindex(ordering.ordered_classes).to_numpy()
        np.testing.assert_array_equal(frame[f"cluster_k{k}"].to_numpy(), expected)


# --------------------------------------------------------------------------- _repr_html_


RAW = "<b>x&y</b>"
ESCAPED = html.escape(RAW)


def _check_html(text):
    assert isinstance(text, str) and text.strip().startswith("<")
    assert RAW not in text


def test_similarity_html(planted_analysis):
    sim = planted_analysis.similarity
    text = sim._repr_html_()
    _check_html(text)
    assert ESCAPED in text
    assert f"{sim.n_classes}" in text and sim.measure in text
    assert f"{sim.n_samples:,}" in text
    assert "data:image/png;base64," in text


def test_ordering_html(planted_analysis):
    ordering = planted_analysis.ordering
    text = ordering._repr_html_()
    _check_html(text)
    assert ESCAPED in text
    assert "hclust" in text and "complete" in text and "1-r" in text
    # Heights as the tree has them.
    assert f"{ordering.height.min():.3g}" in text and f"{ordering.height.max():.3g}" in text


def test_ordering_html_escapes_names_in_any_order():
    names = ["a", "b", RAW, "d"]
    ordering = order_classes(np.eye(4), "identity", classes=names)
    text = ordering._repr_html_()
    _check_html(text)
    assert ESCAPED in text and "identity" in text


def test_groups_html(planted_analysis):
    groups = planted_analysis.findings.fuzzy
    text = groups._repr_html_()
    _check_html(text)
    assert "fuzzy c-means" in text
    sizes = np.bincount(groups.crisp, minlength=groups.n_groups)
    assert f"{groups.n_groups} (sizes {', '.join(map(str, sizes))})" in text


def test_group_findings_html(overlaps):
    _, _, found = overlaps
    text = found._repr_html_()
    _check_html(text)
    assert "failed" in text and "split" in text
    assert f"{found.fuzzy.n_groups} (" in text
    for placement in found.failed:
        assert f"G{placement.group + 1} (z " in text
    assert "S1 (z " in text


def test_group_findings_html_with_an_escaped_name(planted_analysis):
    text = planted_analysis.findings._repr_html_()
    _check_html(text)
    assert "failed" in text


def test_analysis_html(planted_analysis):
    analysis = planted_analysis
    text = analysis._repr_html_()
    _check_html(text)
    assert ESCAPED in text
    assert f"{analysis.scores.n_samples:,} samples x {analysis.scores.n_classes:,} classes" in text
    assert "pearson" in text and "hclust" in text
    assert f"{analysis.accuracy:.3f}" in text
    assert "failed" in text and "split" in text
    assert "data:image/png;base64," in text
    picture = text.split("data:image/png;base64,", 1)[1].split('"', 1)[0]
    import base64

    assert base64.b64decode(picture).startswith(b"\x89PNG\r\n\x1a\n")


def test_a_large_matrix_is_stored_uncompressed_and_read_back_memory_mapped(tmp_path, monkeypatch):
    import zipfile

    from blocks_rx import results

    monkeypatch.setattr(results, "STORE_ABOVE_BYTES", 10_000)  # as if the matrix were large
    scores = np.random.default_rng(3).normal(size=(400, 80)).astype(np.float32)
    analysis = blocks_rx.analyze(scores, groups=None, hclust_backend="python")
    folder = tmp_path / "result"
    blocks_rx.write_result(analysis, folder)
    with zipfile.ZipFile(folder / "similarity.npz") as archive:
        kinds = {i.filename: i.compress_type for i in archive.infolist()}
    assert kinds["matrix.npy"] == zipfile.ZIP_STORED and kinds["order.npy"] == zipfile.ZIP_DEFLATED
    stored = blocks_rx.read_result(folder)
    assert isinstance(stored.similarity.matrix, np.memmap)
    np.testing.assert_array_equal(stored.similarity.matrix, analysis.similarity.matrix)
    with np.load(folder / "similarity.npz") as npz:  # still an ordinary .npz for numpy
        np.testing.assert_array_equal(npz["matrix"], analysis.similarity.matrix)


def test_a_result_read_back_shows_itself_in_jupyter(tmp_path):
    digits = datasets.digits_classifier()
    found = blocks_rx.analyze(digits["scores"], classes=digits["classes"])
    blocks_rx.write_result(found, tmp_path / "result")
    stored = blocks_rx.read_result(tmp_path / "result")
    shown = stored._repr_html_()
    assert str(tmp_path / "result") in shown and stored.run_id in shown
    assert "hclust, complete linkage on 1-r" in shown and "10 classes over 899 samples" in shown
    assert "digit " in shown and 'src="data:image/png;base64,' in shown
