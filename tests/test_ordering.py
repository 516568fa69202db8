"""Orderings against R's hclust run as a separate Rscript process, and flat cuts."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.cluster.hierarchy import cophenet, fcluster
from scipy.spatial.distance import squareform

from blocks_rx.errors import OptionError
from blocks_rx.ordering import (
    DISTANCES, LINKAGES, condensed_distance, hclust, order_classes, taxonomy_order,
)

from blocks_rx.r import available as r_available

from conftest import requires_r, run_reference_orders


def random_matrices(count=56, seed=7):
    """Correlation matrices of many sizes, about half of them with exact ties."""
    rng = np.random.default_rng(seed)
    sizes = [2, 3, 2, 3] + list(rng.integers(4, 60, size=count - 4))
    out = []
    for i, m in enumerate(sizes):
        x = rng.normal(size=(max(3 * m, 10), m))
        M = np.corrcoef(x, rowvar=False)
        if i % 2 == 1:
            M = np.round(M, 1)  # many exactly tied distances
            np.fill_diagonal(M, 1.0)
        if i % 7 == 3:
            M[:] = np.round(M * 2) / 2  # massive ties, including whole tied blocks
            np.fill_diagonal(M, 1.0)
        out.append(M.astype(np.float32).astype(np.float64))  # as stored, then widened
    return out


@requires_r
def test_python_twin_is_identical_to_r_for_every_linkage_and_distance(tmp_path):
    matrices = random_matrices()
    assert len(matrices) >= 50
    ties = sum(len(np.unique(condensed_distance(M))) < len(condensed_distance(M)) for M in matrices)
    assert ties >= 25  # the test means something only with ties
    cases = [(M, d, link) for M in matrices for d in DISTANCES for link in LINKAGES]
    references = run_reference_orders(cases, tmp_path)
    backends = ["python", "r"] if r_available() else ["python"]
    mismatches = []
    for (M, d, link), ref in zip(cases, references):
        r_merge = ref[["merge1", "merge2"]].to_numpy()[:-1].astype(np.int64)
        r_height = ref["height"].to_numpy()[:-1].astype(np.float64)
        for backend in backends:
            ours = hclust(M, linkage=link, distance=d, hclust_backend=backend)
            assert ours.hclust_backend == backend
            same = (np.array_equal(ours.order + 1, ref["order"].to_numpy())
                    and np.array_equal(ours.merge, r_merge)
                    and np.allclose(ours.height, r_height, rtol=0, atol=1e-12))
            if not same:
                mismatches.append((len(M), d, link, backend))
    assert not mismatches, f"{len(mismatches)} of {len(cases)} differ from R, e.g. {mismatches[:5]}"
    assert backends == ["python", "r"], "rpy2 could not start R: the R backend went untested"


def test_heights_and_tree_match_scipy_without_ties():
    rng = np.random.default_rng(3)
    M = np.corrcoef(rng.normal(size=(80, 25)), rowvar=False)
    for ours_name, scipy_name in [("complete", "complete"), ("average", "average"),
                                  ("single", "single"), ("ward.D2", "ward")]:
        ours = hclust(M, linkage=ours_name)
        d = condensed_distance(M)
        from scipy.cluster.hierarchy import linkage

        z = linkage(d, method=scipy_name)
        np.testing.assert_allclose(np.sort(ours.height), z[:, 2], rtol=1e-12)
        # Same tree: identical cophenetic distances.
        np.testing.assert_allclose(cophenet(ours.scipy_linkage()), cophenet(z), rtol=1e-12)


def test_order_is_a_permutation_and_recovers_planted_blocks():
    blocks = np.repeat(np.arange(4), 5)
    M = np.where(blocks[:, None] == blocks[None, :], 0.8, 0.1)
    np.fill_diagonal(M, 1.0)
    perm = np.random.default_rng(0).permutation(20)
    M = M[np.ix_(perm, perm)]
    ordering = hclust(M)
    assert sorted(ordering.order) == list(range(20))
    # Each planted block is contiguous in the order.
    ordered_blocks = blocks[perm][ordering.order]
    assert (np.diff(ordered_blocks) != 0).sum() == 3


def test_cut_numbers_groups_like_cutree_and_agrees_with_scipy_fcluster():
    rng = np.random.default_rng(5)
    M = np.corrcoef(rng.normal(size=(60, 30)), rowvar=False)
    ordering = hclust(M)
    for k in (1, 2, 5, 30):
        groups = ordering.cut_labels(k)
        assert groups.max() == k
        # cutree numbers groups by first appearance in the input order
        firsts = [np.flatnonzero(groups == g)[0] for g in range(1, k + 1)]
        assert firsts == sorted(firsts)
        scipy_groups = fcluster(ordering.scipy_linkage(), k, criterion="maxclust")
        # same partition up to relabelling
        pairs = set(zip(groups, scipy_groups))
        assert len(pairs) == k


def test_cuts_read_from_the_order_equal_replaying_the_merges():
    """cut_labels splits the order at the gaps the last merges joined; an order that does
    not keep the tree's clusters together is cut by replaying the merges instead."""
    from dataclasses import replace

    rng = np.random.default_rng(6)
    scores = rng.normal(size=(80, 50))
    scores[:, :25] += rng.normal(size=(80, 1))
    M = np.corrcoef(scores, rowvar=False)
    for linkage in ("complete", "single", "average", "centroid"):
        ordering = hclust(M, linkage=linkage, hclust_backend="python")
        shuffled = replace(ordering, order=rng.permutation(50))
        assert ordering._gap_steps is not None and shuffled._gap_steps is None
        for k in range(1, 51):
            expected = _cutree_by_sets(ordering.merge, 50, k)
            np.testing.assert_array_equal(ordering.cut_labels(k), expected)
            np.testing.assert_array_equal(shuffled.cut_labels(k), expected)


def _cutree_by_sets(merge, m, k):
    """R's cutree(k) the slow way: join the first m - k merges' member sets, then number
    the clusters by their first class."""
    clusters, at_step = [{i} for i in range(m)], {}
    for step, pair in enumerate(merge[: m - k], start=1):
        parts = [clusters[-x - 1] if x < 0 else at_step[x] for x in pair]
        joined = parts[0] | parts[1]
        for i in joined:
            clusters[i] = joined
        at_step[step] = joined
    numbers = {}
    return np.array([numbers.setdefault(id(clusters[i]), len(numbers) + 1) for i in range(m)])


def test_condensed_distance_reads_the_lower_triangle_like_as_dist():
    M = np.array([[1.0, 0.2, 0.3], [0.5, 1.0, 0.4], [0.6, 0.7, 1.0]])  # not symmetric
    np.testing.assert_allclose(condensed_distance(M, "1-r"), 1 - np.array([0.5, 0.6, 0.7]))
    sym = (M + M.T) / 2
    np.testing.assert_allclose(squareform(condensed_distance(sym, "euclidean")),
                               np.sqrt(((sym[:, None, :] - sym[None, :, :]) ** 2).sum(-1)))
    np.testing.assert_allclose(condensed_distance(sym, "sqrt(2(1-r))"),
                               np.sqrt(2 * (1 - squareform(sym, checks=False))))


def test_lower_triangle_read_in_tiles_is_as_dist_of_any_size():
    """The tiled read (512-column stripes, 64-row tiles) against column-by-column slicing,
    on sizes that do not divide into tiles, of a matrix that is not symmetric."""
    rng = np.random.default_rng(8)
    for m in (2, 63, 65, 600):
        M = rng.normal(size=(m, m)).astype(np.float32)
        want = np.concatenate([M[j + 1:, j] for j in range(m - 1)]).astype(np.float64)
        np.testing.assert_array_equal(condensed_distance(M, "1-r"), 1.0 - want)


def test_bad_arguments_are_named():
    M = np.eye(3)
    with pytest.raises(ValueError, match="unknown linkage 'ward'"):
        hclust(M, linkage="ward")
    with pytest.raises(ValueError, match="unknown distance"):
        hclust(M, distance="cosine")
    with pytest.raises(ValueError, match="non-finite"):
        hclust(np.full((3, 3), np.nan))
    with pytest.raises(OptionError, match="k must be between 1 and 3"):
        hclust(M).cut_labels(4)


def test_taxonomy_order_groups_by_path_in_the_taxonomy_order(tmp_path):
    classes = ["kitchen", "beach", "bedroom", "forest", "street"]
    table = tmp_path / "taxonomy.csv"
    table.write_text("class,path\nbedroom,indoor/home\nkitchen,indoor/home\nstreet,outdoor/man-made\n"
                     "beach,outdoor/natural\nforest,outdoor/natural\n")
    ordering = order_classes(np.eye(5), "taxonomy", taxonomy=str(table), classes=classes)
    assert ordering.ordered_classes == ["bedroom", "kitchen", "street", "beach", "forest"]
    with pytest.raises(ValueError, match="missing from the taxonomy: 'owl'"):
        taxonomy_order(np.eye(2), {"cat": "a"}, classes=["cat", "owl"])


def test_auto_falls_back_to_python_above_r_limit(monkeypatch):
    from blocks_rx.ordering import hierarchical

    monkeypatch.setattr(hierarchical, "R_MAX_OBJECTS", 5)
    M = np.corrcoef(np.random.default_rng(2).normal(size=(30, 8)), rowvar=False)
    with pytest.warns(UserWarning, match="refuses more than 5 objects"):
        result = hclust(M, hclust_backend="auto")
    assert result.hclust_backend == "python" and "refuses" in result.note
    with pytest.raises(ValueError, match="refuses more than 5"):
        hclust(M, hclust_backend="r")
