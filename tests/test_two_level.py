"""The two-level ordering: how far it is from exact hclust, measured, and that it says it is
approximate. The yardsticks are independent of the code: the planted groups (are they kept
whole, as exact hclust keeps them?) and the path length of the order (the sum of 1 - r over
neighbours, which hclust's leaf order keeps short), computed with numpy."""

from __future__ import annotations

import numpy as np
import pytest

import blocks_rx
from blocks_rx.ordering import hclust, order_classes

TOP, SUB, PER_SUB = 6, 30, 100  # 6 top groups of 5 subgroups of 100 classes: 3,000 classes


def path_length(matrix, order) -> float:
    return float(np.sum(1.0 - matrix[order[:-1], order[1:]]))


def kept_whole(ordering, labels) -> int:
    """How many groups of ``labels`` occupy one unbroken run of the order."""
    position = ordering.positions
    return sum(int(np.ptp(position[labels == k]) + 1 == np.sum(labels == k))
               for k in np.unique(labels))


@pytest.fixture(scope="module")
def planted():
    rng = np.random.default_rng(1)
    top = np.repeat(np.arange(TOP), SUB // TOP * PER_SUB)
    sub = np.repeat(np.arange(SUB), PER_SUB)
    features = np.hstack([np.eye(TOP)[top], 0.8 * np.eye(SUB)[sub],
                          0.25 * rng.normal(size=(len(sub), 20))])
    features /= np.linalg.norm(features, axis=1, keepdims=True)
    matrix = features @ features.T
    np.fill_diagonal(matrix, 1.0)
    return matrix, top, sub


def test_on_planted_groups_it_is_as_good_as_exact_hclust(planted):
    matrix, top, sub = planted
    exact = hclust(matrix, hclust_backend="python")
    two = order_classes(matrix, "two-level", group_size=500, landmarks=400, seed=0)
    assert sorted(two.order.tolist()) == list(range(len(top)))
    assert kept_whole(two, top) == kept_whole(exact, top) == TOP
    assert kept_whole(two, sub) >= kept_whole(exact, sub) - 1
    ratio = path_length(matrix, two.order) / path_length(matrix, exact.order)
    assert ratio <= 1.05, ratio  # measured 1.001


def test_on_unstructured_scores_its_path_is_close_to_exact():
    rng = np.random.default_rng(2)
    matrix = np.corrcoef(rng.normal(size=(200, 2000)), rowvar=False)
    exact = hclust(matrix, hclust_backend="python")
    two = order_classes(matrix, "two-level", group_size=300, landmarks=300)
    ratio = path_length(matrix, two.order) / path_length(matrix, exact.order)
    assert ratio <= 1.10, ratio  # measured 1.02 at 3,000 classes


def test_it_says_it_is_approximate_and_has_no_tree(planted):
    matrix, _, _ = planted
    two = order_classes(matrix, "two-level", group_size=500, landmarks=400)
    assert two.method == "two-level" and two.merge is None
    assert two.note.startswith("approximate:") and "landmark" in two.note
    assert two.provenance()["note"] == two.note
    with pytest.raises(ValueError, match="no tree"):
        two.cut(k=3)


def test_a_memory_mapped_matrix_gives_the_same_order(planted, tmp_path):
    matrix, _, _ = planted
    path = tmp_path / "similarity.npy"
    np.save(path, matrix.astype(np.float32))
    mapped = np.load(path, mmap_mode="r")
    in_memory = order_classes(np.asarray(mapped), "two-level", group_size=500, landmarks=400)
    from_disk = order_classes(mapped, "two-level", group_size=500, landmarks=400)
    np.testing.assert_array_equal(from_disk.order, in_memory.order)


def test_when_everything_fits_one_group_it_is_exact_hclust(planted):
    matrix, _, _ = planted
    small = matrix[:300, :300]
    two = order_classes(small, "two-level", group_size=500)
    np.testing.assert_array_equal(two.order, hclust(small, hclust_backend="python").order)
    assert two.note.startswith("exact:")


def test_the_same_seed_gives_the_same_order_and_the_cli_takes_it(planted, tmp_path):
    matrix, _, _ = planted
    first = order_classes(matrix, "two-level", group_size=500, landmarks=300, seed=5)
    again = order_classes(matrix, "two-level", group_size=500, landmarks=300, seed=5)
    np.testing.assert_array_equal(first.order, again.order)
    scores = np.random.default_rng(0).normal(size=(300, 60)).astype(np.float32)
    np.save(tmp_path / "scores.npy", scores)
    from blocks_rx.cli import main

    out = tmp_path / "out"
    assert main(["analyze", str(tmp_path / "scores.npy"), "--out", str(out), "--quiet",
                 "--ordering", "two-level", "--group-size", "20", "--landmarks", "30",
                 "--no-groups"]) == 0
    stored = blocks_rx.read_result(out)
    assert stored.ordering.method == "two-level"
    assert sorted(stored.ordering.order.tolist()) == list(range(60))
