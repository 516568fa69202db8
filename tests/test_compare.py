"""Comparing two class structures (blocks_rx.compare), against oracles and planted moves."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy.cluster.hierarchy import cophenet
from scipy.stats import spearmanr

import blocks_rx
from blocks_rx import cli
from blocks_rx.comparison import adjusted_rand_index
from blocks_rx.errors import BlocksInputError, OptionError

N_SAMPLES, N_CLASSES, N_BLOCKS, BLOCK_SIZE = 2000, 60, 5, 8
NAMES = [f"c{j:02d}" for j in range(N_CLASSES)]


@pytest.fixture(scope="module")
def planted():
    """Latent factors, noise, and 5 planted blocks of 8 classes among 60 (the rest noise)."""
    rng = np.random.default_rng(7)
    members = rng.permutation(N_CLASSES)[:N_BLOCKS * BLOCK_SIZE].reshape(N_BLOCKS, BLOCK_SIZE)
    block = np.full(N_CLASSES, -1)
    for b, classes in enumerate(members):
        block[classes] = b
    return {"latent": rng.normal(size=(N_SAMPLES, N_BLOCKS)),
            "noise": rng.normal(size=(N_SAMPLES, N_CLASSES)), "block": block,
            "members": members}


def scores_for(planted, block):
    """Each class in a block scores its block's latent factor plus its own noise."""
    scores = planted["noise"].copy()
    inside = block >= 0
    scores[:, inside] += 1.2 * planted["latent"][:, block[inside]]
    return scores


def analysis(scores, names=NAMES):
    return blocks_rx.analyze(blocks_rx.load_scores(scores, classes=names), groups=None,
                             hclust_backend="python")


@pytest.fixture(scope="module")
def reference(planted):
    return analysis(scores_for(planted, planted["block"]))


# --------------------------------------------------------------------------- the measures


def test_adjusted_rand_index_of_a_hand_checked_case():
    # Contingency [[2, 0, 0], [0, 1, 1]]: pairs together in both 1; in A 2, in B 1; of 6.
    # Expected 2 * 1 / 6 = 1/3, best (2 + 1) / 2: ARI = (1 - 1/3) / (3/2 - 1/3) = 4/7.
    assert adjusted_rand_index([0, 0, 1, 1], [0, 0, 1, 2]) == pytest.approx(4 / 7, abs=1e-15)
    assert adjusted_rand_index([0, 0, 1, 2], [0, 0, 1, 1]) == pytest.approx(4 / 7, abs=1e-15)
    assert adjusted_rand_index(["x", "x", "y", "y"], [7, 7, 3, 3]) == 1.0
    # Both trivial: all singletons, or one group.
    assert adjusted_rand_index([0, 1, 2], [5, 6, 7]) == 1.0
    assert adjusted_rand_index([1, 1, 1], [2, 2, 2]) == 1.0
    with pytest.raises(ValueError, match="equally long"):
        adjusted_rand_index([0, 1], [0, 1, 2])


def test_adjusted_rand_index_matches_scikit_learn():
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(3)
    for _ in range(200):
        n = int(rng.integers(2, 80))
        a = rng.integers(0, rng.integers(1, 10), size=n)
        b = rng.integers(0, rng.integers(1, 10), size=n)
        assert adjusted_rand_index(a, b) == pytest.approx(metrics.adjusted_rand_score(a, b),
                                                          abs=1e-12)


def test_a_model_compared_with_itself_is_unchanged(reference, tmp_path):
    found = blocks_rx.compare(reference, reference)
    assert found.cophenetic == pytest.approx(1.0, abs=1e-12)
    assert found.bakers_gamma == pytest.approx(1.0, abs=1e-12)
    assert found.ari == {2: 1.0, 4: 1.0, 8: 1.0, 16: 1.0}
    moved = found.moved
    np.testing.assert_allclose(moved["row_correlation"], 1.0, atol=1e-12)
    np.testing.assert_array_equal(moved["row_change"], 0.0)
    np.testing.assert_array_equal(moved["neighbours_kept"], 1.0)
    assert (moved["neighbours_a"] == moved["neighbours_b"]).all()
    assert found.only_in_a == found.only_in_b == ()
    assert found.provenance["trees"]["a"].startswith("stored hclust tree")
    # A written folder read back compares the same way with the analysis it came from.
    folder = tmp_path / "a"
    blocks_rx.write_result(reference, folder)
    again = blocks_rx.compare(str(folder), reference)
    assert again.ari == found.ari and again.cophenetic == pytest.approx(1.0, abs=1e-12)
    assert again.provenance["sources"]["a"] == str(folder)


def test_measures_match_scipy_and_cutree_computed_directly(planted, reference):
    other = analysis(scores_for(planted, planted["block"]) + 0.8 * np.random.default_rng(
        11).normal(size=(N_SAMPLES, N_CLASSES)))
    found = blocks_rx.compare(reference, other)
    tree_a, tree_b = reference.ordering, other.ordering
    expected = np.corrcoef(cophenet(tree_a.scipy_linkage()), cophenet(tree_b.scipy_linkage()))
    assert found.cophenetic == pytest.approx(expected[0, 1], abs=1e-12)
    assert found.cophenetic < 0.999  # the noise changed the trees
    for k, value in found.ari.items():
        assert value == pytest.approx(adjusted_rand_index(tree_a.cut_labels(k),
                                                          tree_b.cut_labels(k)), abs=1e-12)
    assert found.bakers_gamma == pytest.approx(_bakers_gamma_by_cuts(tree_a, tree_b), abs=1e-12)


def _bakers_gamma_by_cuts(tree_a, tree_b) -> float:
    """Baker's gamma the slow way: for each pair, the largest k whose cutree keeps it together."""
    m = tree_a.n_classes

    def largest_k(tree):
        together = np.zeros((m, m))
        for k in range(1, m + 1):
            labels = tree.cut_labels(k)
            together[labels[:, None] == labels[None, :]] = k
        return together[np.triu_indices(m, k=1)]

    return spearmanr(largest_k(tree_a), largest_k(tree_b)).statistic


def test_classes_are_matched_by_name_not_position(planted, reference):
    shuffled = np.random.default_rng(5).permutation(N_CLASSES)
    scores = scores_for(planted, planted["block"])
    same_in_another_order = analysis(scores[:, shuffled], [NAMES[j] for j in shuffled])
    found = blocks_rx.compare(reference, same_in_another_order)
    assert found.classes == tuple(NAMES)
    assert found.cophenetic == pytest.approx(1.0, abs=1e-9)
    assert found.bakers_gamma == pytest.approx(1.0, abs=1e-9)
    assert set(found.ari.values()) == {1.0}
    np.testing.assert_allclose(found.matrix_a, found.matrix_b, atol=1e-6)


# --------------------------------------------------------------------------- planted moves


def test_a_block_dissolved_into_the_others_ranks_its_classes_first(planted, reference):
    """Block 2's classes each move to share another block's latent factor (two per block)."""
    moved, block = planted["members"][2], planted["block"].copy()
    block[moved] = np.repeat([0, 1, 3, 4], 2)
    found = blocks_rx.compare(reference, analysis(scores_for(planted, block)))
    top = found.moved["class"].head(BLOCK_SIZE)
    assert set(top) == {NAMES[j] for j in moved}
    assert found.moved.index[0] == 1 and found.moved.index.name == "rank"
    assert found.cophenetic < 0.95 and min(found.ari.values()) < 1.0


def test_a_block_moved_into_another_ranks_both_blocks_first(planted, reference):
    """Block 2 takes block 4's latent factor: the two blocks merge. Which of them moved is
    symmetric in the data, so both blocks' 16 classes must lead the ranking."""
    block = planted["block"].copy()
    block[planted["members"][2]] = 4
    found = blocks_rx.compare(reference, analysis(scores_for(planted, block)))
    both = {NAMES[j] for j in np.concatenate([planted["members"][2], planted["members"][4]])}
    assert set(found.moved["class"].head(2 * BLOCK_SIZE)) == both
    # The classes not in those blocks kept their nearest neighbours (the noise is a copy).
    rest = found.moved[~found.moved["class"].isin(both)]
    assert rest["row_change"].max() < 0.1 < found.moved["row_change"].iloc[2 * BLOCK_SIZE - 1]


def test_classes_only_on_one_side_are_named_not_guessed(planted, reference):
    scores = scores_for(planted, planted["block"])
    kept = [j for j in range(N_CLASSES) if NAMES[j] not in ("c03", "c17")]
    extra = np.random.default_rng(2).normal(size=(N_SAMPLES, 1))
    other = analysis(np.hstack([scores[:, kept], extra]), [NAMES[j] for j in kept] + ["new"])
    found = blocks_rx.compare(reference, other, order="b")
    assert found.only_in_a == ("c03", "c17") and found.only_in_b == ("new",)
    assert found.n_classes == N_CLASSES - 2 and "c03" not in found.classes
    assert "only in A: c03, c17" in repr(found) and "only in B: new" in repr(found)
    assert "only in A: c03, c17" in found.summary()
    trees = found.provenance["trees"]
    assert trees["a"].startswith("built") and "lacks 2 of its classes" in trees["a"]
    assert trees["b"].startswith("built") and "lacks 1 of its classes" in trees["b"]
    # Order "b": B's own order with its extra class left out.
    expected = [name for name in other.ordering.ordered_classes if name != "new"]
    assert [found.classes[j] for j in found.order] == expected


def test_too_few_common_classes_and_bad_options_are_refused(reference):
    few = blocks_rx.compute_similarity(np.random.default_rng(0).normal(size=(50, 4)))
    with pytest.raises(BlocksInputError, match="0 classes in common.*at least 3"):
        blocks_rx.compare(reference, few)
    with pytest.raises(OptionError, match="order must be one of a, b, consensus"):
        blocks_rx.compare(reference, reference, order="c")
    with pytest.raises(OptionError, match="neighbours"):
        blocks_rx.compare(reference, reference, neighbours=0)
    with pytest.raises(TypeError, match="not ndarray"):
        blocks_rx.compare(reference, np.eye(3))


def test_consensus_order_is_hclust_of_the_mean(planted, reference):
    block = planted["block"].copy()
    block[planted["members"][2]] = 4
    other = analysis(scores_for(planted, block))
    found = blocks_rx.compare(reference, other, order="consensus", cuts=(100, 3, 1, 3))
    mean = (np.asarray(reference.similarity.matrix, dtype=np.float64)
            + np.asarray(other.similarity.matrix, dtype=np.float64)) / 2
    np.testing.assert_array_equal(found.order, blocks_rx.hclust(mean).order)
    assert list(found.ari) == [3] and found.provenance["cuts_skipped"] == [1, 100]
    assert "mean of A and B" in found.provenance["order"]


# --------------------------------------------------------------------------- figure, CLI


def test_figure_draws_a_b_and_the_difference_on_stated_scales(planted, reference):
    block = planted["block"].copy()
    block[planted["members"][2]] = 4
    found = blocks_rx.compare(reference, analysis(scores_for(planted, block)))
    shown = found.plot()
    assert len(shown.axes_) == 3
    assert [ax.get_title().split(":")[0] for ax in shown.axes_] == ["A", "B", "B − A"]
    limits = [image.get_clim() for image in shown.images_]
    assert limits[0] == limits[1] and limits[0][0] == -limits[0][1]
    assert limits[2][0] == -limits[2][1]
    off = ~np.eye(N_CLASSES, dtype=bool)
    largest = max(np.abs(found.matrix_a[off]).max(), np.abs(found.matrix_b[off]).max())
    assert limits[0][1] == pytest.approx(largest)
    order = found.order
    np.testing.assert_allclose(shown.images_[2].get_array(),
                               (found.matrix_b - found.matrix_a)[np.ix_(order, order)])
    labels = [t.get_text() for t in shown.axes_[0].get_yticklabels()]
    assert labels == [found.classes[j] for j in order]  # all 60 classes labelled


def test_rounding_alone_draws_a_white_difference(planted, reference):
    """B is A computed again in float64: they differ by float32 rounding only (below 1e-5),
    which the difference panel must not draw in full colour."""
    import matplotlib.colors as mcolors

    from blocks_rx.plot._comparison import DIFFERENCE_CMAP, DIFFERENCE_FLOOR

    again = blocks_rx.load_scores(scores_for(planted, planted["block"]), classes=NAMES)
    b = blocks_rx.compute_similarity(again, out_dtype=np.float64)
    found = blocks_rx.compare(reference, b)
    largest = np.abs(found.matrix_b - found.matrix_a).max()
    assert 0 < largest < DIFFERENCE_FLOOR
    shown = found.plot()
    assert shown.images_[2].get_clim() == (-DIFFERENCE_FLOOR, DIFFERENCE_FLOOR)
    assert "every |B − A| is below it" in shown.scales_[2].rule
    colours = shown.images_[2].to_rgba(shown.images_[2].get_array())[..., :3]
    white = np.array(mcolors.to_rgb(plt_cmap(DIFFERENCE_CMAP)(0.5)))
    assert np.abs(colours - white).max() < 0.05  # the centre colour, nothing saturated


def plt_cmap(name):
    import matplotlib

    return matplotlib.colormaps[name]


def test_cli_compares_two_result_folders(planted, reference, tmp_path, capsys):
    block = planted["block"].copy()
    block[planted["members"][2]] = 4
    folder_a, folder_b, out = tmp_path / "a", tmp_path / "b", tmp_path / "cmp"
    blocks_rx.write_result(reference, folder_a)
    blocks_rx.write_result(analysis(scores_for(planted, block)), folder_b)
    for _ in range(2):  # the second run replaces the first's output
        assert cli.main(["compare", str(folder_a), str(folder_b), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "cophenetic correlation" in printed and "Baker's gamma" in printed
    assert "adjusted Rand index, k=16" in printed and "only in A: none" in printed
    moved_names = {NAMES[j] for j in np.concatenate([planted["members"][2],
                                                     planted["members"][4]])}
    top_printed = [line.split()[1] for line in printed.splitlines()[-11:-1]]  # then "wrote"
    assert set(top_printed) <= moved_names
    assert sorted(p.name for p in out.iterdir()) == sorted(blocks_rx.comparison.COMPARISON_FILES)
    table = pd.read_csv(out / "moved.csv")
    assert len(table) == N_CLASSES and list(table["rank"]) == list(range(1, N_CLASSES + 1))
    report = json.loads((out / "comparison.json").read_text())
    assert report["only_in_a"] == [] and set(report["ari"]) == {"2", "4", "8", "16"}
    assert report["provenance"]["sources"] == {"a": str(folder_a), "b": str(folder_b)}


def test_cli_errors_are_one_line(reference, tmp_path, capsys):
    folder = tmp_path / "a"
    blocks_rx.write_result(reference, folder)
    assert cli.main(["compare", str(folder), str(tmp_path / "missing")]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "missing: no such result folder" in error
    # An output folder holding anything but a comparison is refused before any reading.
    assert cli.main(["compare", str(folder), str(folder), "--out", str(folder)]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "not part of a blocks-rx comparison" in error
    assert (folder / "report.json").is_file()



def test_two_arrays_are_told_apart_by_how_they_were_computed(planted):
    """Two analyses of in-memory arrays share the source '<array>': the titles say how each
    was computed where they differ, or what the caller names them."""
    scores = blocks_rx.load_scores(scores_for(planted, planted["block"]), classes=NAMES)
    raw = blocks_rx.analyze(scores, groups=None, hclust_backend="python")
    centred = blocks_rx.analyze(scores, transform="center", linkage="average", groups=None,
                                hclust_backend="python")
    found = blocks_rx.compare(raw, centred)
    assert found.provenance["sources"] == {
        "a": "<array>, pearson, hclust complete",
        "b": "<array>, pearson (center), hclust average"}
    titles = [ax.get_title() for ax in found.plot().axes_]
    assert titles[0].startswith("A: <array>, pearson") and "(center)" in titles[1]
    named = blocks_rx.compare(raw, centred, names=("raw", "centred"))
    assert named.provenance["sources"] == {"a": "raw", "b": "centred"}
    assert "  A: raw\n  B: centred\n" in named.summary()
    with pytest.raises(OptionError, match="names must be two non-empty strings"):
        blocks_rx.compare(raw, centred, names="raw")
