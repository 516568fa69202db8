"""Findings against structure planted here, independently of blocks_rx.datasets: recall and
precision over 8 data seeds.

Each data set is a two-level hierarchy (two top groups of four mid groups, sizes drawn per
seed) of latent factors plus noise, with optionally a *failed* group (a factor shared by a
few classes from mid groups under both tops, so hclust scatters them) and a *split* pair
(a factor shared by one mid group under each top, weaker than the top level). Recall: the
planted failed group and split pair are found (Jaccard >= 0.9). Precision: no failed or
split group on unstructured scores, on the hierarchy alone, or from a collapsed fit.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import blocks_rx
from blocks_rx import groups as bg

SEEDS = range(8)


def planted(seed: int, *, failed: bool = True, split: bool = True, n_samples: int = 2000):
    """(scores, class names, truth): truth holds the failed set and the split pair's sides."""
    rng = np.random.default_rng(1000 + seed)
    sizes = rng.integers(8, 15, size=8)                       # mid groups 0-3 | 4-7
    mid = np.repeat(np.arange(8), sizes)
    top = mid // 4
    m = mid.size
    scores = (1.3 * rng.normal(size=(n_samples, 2))[:, top]
              + 1.0 * rng.normal(size=(n_samples, 8))[:, mid]
              + rng.normal(size=(n_samples, m)))
    truth = {"failed": set(), "split": ()}
    names = [f"T{top[j]}M{mid[j]}_{j}" for j in range(m)]
    if failed:
        sources = rng.choice(4, size=2, replace=False).tolist() + \
            (4 + rng.choice(4, size=2, replace=False)).tolist()
        members = np.concatenate([rng.choice(np.flatnonzero(mid == g), size=3, replace=False)
                                  for g in sources])
        scores[:, members] += 1.1 * rng.normal(size=(n_samples, 1))
        truth["failed"] = {names[j] for j in members}
    if split:
        pair = (int(rng.integers(0, 4)), int(rng.integers(4, 8)))
        if failed:  # keep the split pair clear of the failed group's sources
            pair = tuple(next(g for g in range(lo, lo + 4) if g not in sources)
                         for lo in (0, 4))
        chosen = np.isin(mid, pair)
        scores[:, chosen] += 0.9 * rng.normal(size=(n_samples, 1))
        truth["split"] = tuple({names[j] for j in np.flatnonzero(mid == g)} for g in pair)
    return scores.astype(np.float32), names, truth


def findings(scores, names, seed=0):
    sim = blocks_rx.compute_similarity(blocks_rx.load_scores(scores, classes=names), warn=False)
    ordering = blocks_rx.order_classes(sim, hclust_backend="python")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bg.CollapsedWarning)
        return bg.find_groups(sim, ordering, seed=seed), ordering


def jaccard(a, b) -> float:
    a, b = set(a), set(b)
    return len(a & b) / len(a | b)


@pytest.mark.parametrize("seed", SEEDS)
def test_the_planted_failed_group_is_found_with_its_evidence(seed):
    scores, names, truth = planted(seed)
    found, ordering = findings(scores, names)
    assert found.failed, "no failed group reported"
    best = max(found.failed, key=lambda p: jaccard(p.classes, truth["failed"]))
    assert jaccard(best.classes, truth["failed"]) >= 0.9, (best.classes, truth["failed"])
    assert best.evidence.p_adjusted <= 0.01 and best.evidence.effect >= 0.05
    assert best.n_runs > 1 and 2 * best.largest_run <= best.size
    others = [p for p in found.failed if p is not best]
    assert others == [], [p.classes for p in others]


@pytest.mark.parametrize("seed", SEEDS)
def test_the_planted_split_pair_is_found_exactly(seed):
    scores, names, truth = planted(seed)
    found, _ = findings(scores, names)
    assert len(found.split) == 1, [(s.first.classes, s.second.classes) for s in found.split]
    pair = found.split[0]
    sides = truth["split"]
    score = max(min(jaccard(pair.first.classes, sides[0]), jaccard(pair.second.classes, sides[1])),
                min(jaccard(pair.first.classes, sides[1]), jaccard(pair.second.classes, sides[0])))
    assert score >= 0.9, (pair.first.classes, pair.second.classes, sides)
    assert pair.p_adjusted <= 0.01 and pair.excess >= 0.1


@pytest.mark.parametrize("seed", SEEDS)
def test_unstructured_scores_give_no_findings(seed):
    rng = np.random.default_rng(2000 + seed)
    scores = rng.normal(size=(2000, 80)).astype(np.float32)
    found, _ = findings(scores, [f"c{j}" for j in range(80)])
    assert found.failed == [] and found.split == []


@pytest.mark.parametrize("seed", SEEDS)
def test_a_hierarchy_alone_gives_no_failed_and_no_split_group(seed):
    scores, names, _ = planted(seed, failed=False, split=False)
    found, _ = findings(scores, names)
    assert found.failed == [], [p.classes for p in found.failed]
    assert found.split == [], [(s.first.classes, s.second.classes) for s in found.split]


@pytest.mark.parametrize("seed", SEEDS)
def test_a_collapsed_fit_reports_no_groups(seed):
    rng = np.random.default_rng(3000 + seed)
    scores = rng.normal(size=(3000, 60)).astype(np.float32)
    sim = blocks_rx.compute_similarity(scores, warn=False)
    ordering = blocks_rx.order_classes(sim, hclust_backend="python")
    with pytest.warns(bg.CollapsedWarning, match="found no groups"):
        found = bg.find_groups(sim, ordering, n_groups=6, embedding="none", seed=seed)
    assert found.fuzzy.collapsed
    assert found.failed == [] and found.coherent == []


def test_the_trees_prediction_is_the_mean_between_the_subtrees_a_pair_first_joins():
    """TreeBaseline against a brute force walk over the merges (union of leaf sets)."""
    rng = np.random.default_rng(5)
    scores, names, _ = planted(3)
    sim = blocks_rx.compute_similarity(scores[:, :40], warn=False)
    M = sim.matrix.astype(np.float64)
    for linkage in ("complete", "average", "centroid"):  # centroid has inversions
        ordering = blocks_rx.order_classes(sim, linkage=linkage, hclust_backend="python")
        clusters = {}
        joined = {}
        for step, (a, b) in enumerate(ordering.merge, start=1):
            left = {-a - 1} if a < 0 else clusters[a]
            right = {-b - 1} if b < 0 else clusters[b]
            mean = M[np.ix_(sorted(left), sorted(right))].mean()
            for i in left:
                for j in right:
                    joined[frozenset((i, j))] = mean
            clusters[step] = left | right
        base = bg.TreeBaseline(sim.matrix, ordering)
        p, q = rng.integers(0, 40, size=(2, 300))
        keep = p != q
        p, q = p[keep], q[keep]
        order = np.asarray(ordering.order)
        expected = [joined[frozenset((order[i], order[j]))] for i, j in zip(p, q)]
        np.testing.assert_allclose(base.expected(p, q), expected, rtol=1e-6)
        # The compiled residual: the mean over pairs of members in different runs.
        for _ in range(20):
            positions = np.sort(rng.choice(40, size=int(rng.integers(3, 25)), replace=False))
            lengths = np.diff(np.r_[0, np.flatnonzero(np.diff(positions) > 1) + 1,
                                    positions.size])
            if lengths.size < 2:
                continue
            run = np.repeat(np.arange(lengths.size), lengths)
            pairs = [(order[positions[i]], order[positions[j]])
                     for i in range(positions.size) for j in range(i + 1, positions.size)
                     if run[i] != run[j]]
            across, tree = base.residual(positions, lengths)
            assert across == pytest.approx(np.mean([M[i, j] for i, j in pairs]), rel=1e-6)
            assert tree == pytest.approx(np.mean([joined[frozenset(pair)] for pair in pairs]),
                                         rel=1e-6)
