"""Split groups: dense blocks between subtrees in different top-level clusters, with evidence.

The rules and the null model are in the package docstring, :mod:`blocks_rx.groups`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import OptionError
from ..ordering import Ordering, matrix_and_names
from ._common import _same_classes, normal_sf
from .failed import _block_mean

@dataclass(frozen=True, eq=False)
class Block:
    """A contiguous stretch of the order: classes ``order[start:end]``."""

    classes: tuple[str, ...]
    start: int
    end: int
    top_cluster: int

    @property
    def size(self) -> int:
        return self.end - self.start


@dataclass(frozen=True, eq=False)
class SplitGroup:
    """Two subtrees in different top-level clusters that are far more alike than chance.

    Attributes
    ----------
    first, second : Block
        ``first`` comes earlier in the order; each is a whole subtree of the tree.
    mean : float
        Mean similarity between the two blocks.
    background : float
        Mean similarity between the two top-level clusters they lie in.
    null_mean, null_sd : float
        The mean similarity between ``n_draws`` pairs of random stretches of the same sizes
        placed at random in the same two top-level clusters.
    z : float
        ``(mean - null_mean) / null_sd``.
    p : float
        One-sided p-value of ``z`` (normal approximation).
    p_adjusted : float
        ``p`` times the number of block pairs searched (Bonferroni), at most 1.
    n_candidates : int
        Block pairs searched across the two top-level clusters.
    n_draws : int
    """

    first: Block
    second: Block
    mean: float
    background: float
    null_mean: float
    null_sd: float
    z: float
    p: float
    p_adjusted: float
    n_candidates: int
    n_draws: int

    @property
    def excess(self) -> float:
        """``mean - null_mean``: how much denser than chance."""
        return self.mean - self.null_mean

    @property
    def weight(self) -> float:
        """``(mean - background) * sqrt(first.size * second.size)``: what the search maximises."""
        return (self.mean - self.background) * math.sqrt(self.first.size * self.second.size)


def split_groups(
    similarity,
    ordering: Ordering,
    *,
    n_top: int = 2,
    n_blocks: int | None = None,
    min_block: int = 3,
    alpha: float = 0.01,
    min_excess: float = 0.1,
    n_draws: int = 200,
    max_splits: int = 10,
    seed: int = 0,
) -> list[SplitGroup]:
    """Dense off-diagonal blocks across top-level clusters: the paper's red boxes.

    Candidates are the subtrees of the ordering's tree inside each top-level cluster (of at
    least ``min_block`` classes, down to the clusters of a finer cut into ``n_blocks``).
    For every two top-level clusters, the pair of subtrees (one in each) with the largest
    ``(mean - background) * sqrt(size1 * size2)`` is the candidate split group: exactly the
    classes of the dense block, since a larger subtree dilutes the mean and a smaller one
    holds fewer classes. It is tested against ``n_draws`` pairs of random stretches of the
    same sizes in the same two clusters; its one-sided p-value (normal approximation),
    multiplied by the number of pairs searched (Bonferroni), must be at most ``alpha``, and
    its mean must exceed the random pairs' by ``min_excess``. Subtrees overlapping a split
    group found are then left out and the search repeats, up to ``max_splits`` times.

    Parameters
    ----------
    similarity : Similarity or ndarray
    ordering : Ordering
        With a tree (hclust); must order the same classes.
    n_top : int
        Top-level clusters (``ordering.cut_labels(n_top)``).
    n_blocks : int, optional
        The finest cut whose clusters are candidates; default ``4 * sqrt(m)``, at most m.

    Returns
    -------
    list of SplitGroup
        Most significant first.

    Examples
    --------
    >>> import numpy as np, blocks_rx
    >>> rng = np.random.default_rng(0)
    >>> sub = np.repeat(np.arange(8), 5)     # subgroups 0-3 in one half, 4-7 in the other
    >>> S = (1.5 * rng.normal(size=(2000, 2))[:, sub // 4] + rng.normal(size=(2000, 8))[:, sub]
    ...      + rng.normal(size=(2000, 40)))
    >>> pair = (sub == 1) | (sub == 6)         # a subgroup in each half shares a factor
    >>> S[:, pair] += 0.8 * rng.normal(size=(2000, 1))
    >>> sim = blocks_rx.compute_similarity(S)
    >>> found = split_groups(sim, blocks_rx.order_classes(sim))
    >>> len(found), sorted(int(b.classes[0][6:]) // 5 for b in (found[0].first, found[0].second))
    (1, [1, 6])
    """
    matrix, names = matrix_and_names(similarity, None)
    _same_classes(names, ordering)
    if ordering.merge is None:
        raise ValueError(f"split groups need a tree to cut; a {ordering.method!r} ordering has "
                         "none (use hclust)")
    grid = _BlockGrid(matrix, ordering, _fine_cut_size(len(names), n_top, n_blocks))
    top = ordering.cut_labels(n_top)[np.asarray(ordering.order)]
    tops = [(int(s), int(e)) for s, e in _stretches(top)]
    rng = np.random.default_rng(seed)
    found = []
    for i, first_top in enumerate(tops):
        for second_top in tops[i + 1:]:
            labels = (top[first_top[0]], top[second_top[0]])
            found += _splits_between(grid, first_top, second_top, names, top_labels=labels,
                                     min_block=min_block, alpha=alpha, min_excess=min_excess,
                                     n_draws=n_draws, max_splits=max_splits, rng=rng)
    return sorted(found, key=lambda s: (s.p, -s.z, s.first.start, s.second.start))


def _fine_cut_size(m: int, n_top: int, n_blocks: int | None) -> int:
    """The finest cut whose clusters are candidates (default ``4 sqrt(m)``), checked."""
    if not 2 <= n_top <= m:
        raise OptionError(f"n_top must be between 2 and {m} classes, got {n_top}")
    if n_blocks is None:
        return min(m, max(2 * n_top, int(round(4 * math.sqrt(m)))))
    if not n_top <= n_blocks <= m:
        raise OptionError(f"n_blocks must be between n_top ({n_top}) and the {m} classes, "
                          f"got {n_blocks}")
    return int(n_blocks)


def _stretches(labels: np.ndarray):
    """``(start, end)`` of each maximal stretch of equal labels."""
    starts = np.flatnonzero(np.r_[True, labels[1:] != labels[:-1]])
    return zip(starts, np.r_[starts[1:], labels.size])


class _BlockGrid:
    """Sums of the similarity over the blocks of a fine cut (contiguous in the order), and
    the subtrees above that cut as spans of blocks; block sums come from one striped pass."""

    def __init__(self, matrix, ordering: Ordering, n_blocks: int, rows_per_stripe: int = 1024):
        order = np.asarray(ordering.order)
        fine = ordering.cut_labels(n_blocks)[order]
        self.starts = np.array([s for s, _ in _stretches(fine)])
        self.ends = np.r_[self.starts[1:], order.size]
        self.matrix, self.order = matrix, order
        k = self.starts.size
        sums = np.zeros((k, k))
        for row in range(0, order.size, rows_per_stripe):
            stripe = np.asarray(matrix[np.ix_(order[row:row + rows_per_stripe], order)],
                                dtype=np.float64)
            by_column = np.add.reduceat(stripe, self.starts, axis=1)
            block_of_row = np.searchsorted(self.starts, np.arange(row, row + len(stripe)),
                                           side="right") - 1
            np.add.at(sums, block_of_row, by_column)
        self.prefix = np.zeros((k + 1, k + 1))
        self.prefix[1:, 1:] = sums.cumsum(axis=0).cumsum(axis=1)
        self.nodes = self._subtrees(ordering, n_blocks)

    def _subtrees(self, ordering: Ordering, n_blocks: int) -> np.ndarray:
        """``(first block, end block)`` of every subtree at or above the fine cut: the fine
        blocks, and the clusters the last ``n_blocks - 1`` merges make (every cluster of a
        cut into fewer groups is one of the two), found in one pass over the merges."""
        m = self.order.size
        spans = {(b, b + 1) for b in range(self.starts.size)}
        for step, ((start, _), (_, end)) in enumerate(ordering.merge_spans(), start=1):
            if step > m - n_blocks:
                spans.add((int(np.searchsorted(self.starts, start)),
                           int(np.searchsorted(self.starts, end))))
        return np.array(sorted(spans))

    def mean(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """Mean similarity between block spans ``rows[i]`` and ``cols[i]`` (pairs of
        ``(first block, end block)``)."""
        p = self.prefix
        total = (p[rows[:, 1], cols[:, 1]] - p[rows[:, 0], cols[:, 1]]
                 - p[rows[:, 1], cols[:, 0]] + p[rows[:, 0], cols[:, 0]])
        size = self.size(rows) * self.size(cols)
        return total / size

    def size(self, spans: np.ndarray) -> np.ndarray:
        return self.ends[spans[:, 1] - 1] - self.starts[spans[:, 0]]

    def positions(self, span) -> tuple[int, int]:
        return int(self.starts[span[0]]), int(self.ends[span[1] - 1])

    def stretch_mean(self, a: tuple[int, int], b: tuple[int, int]) -> float:
        """Mean similarity between the classes at positions ``a`` and ``b`` (half-open)."""
        return _block_mean(self.matrix, self.order[a[0]:a[1]], self.order[b[0]:b[1]], 1024)


def _splits_between(grid: _BlockGrid, first_top, second_top, names, *, top_labels, min_block,
                    alpha, min_excess, n_draws, max_splits, rng) -> list:
    """The split groups between two top-level clusters (half-open spans of positions)."""
    rows = _subtrees_inside(grid, first_top, min_block)
    cols = _subtrees_inside(grid, second_top, min_block)
    if rows.size == 0 or cols.size == 0:
        return []
    background = grid.stretch_mean(first_top, second_top)
    pairs_r, pairs_c = np.repeat(rows, len(cols), axis=0), np.tile(cols, (len(rows), 1))
    means = grid.mean(pairs_r, pairs_c)
    sizes = grid.size(pairs_r) * grid.size(pairs_c)
    weight = (means - background) * np.sqrt(sizes)
    n_candidates = weight.size
    found = []
    while len(found) < max_splits and np.isfinite(weight).any() and weight.max() > 0:
        best = int(np.argmax(weight))
        a, b = grid.positions(pairs_r[best]), grid.positions(pairs_c[best])
        null = _random_stretch_means(grid, a[1] - a[0], b[1] - b[0], first_top, second_top,
                                     n_draws, rng)
        mean = float(means[best])
        null_mean, null_sd = float(null.mean()), float(null.std(ddof=1))
        z = (mean - null_mean) / null_sd if null_sd > 0 else math.inf
        p = normal_sf(z)
        if min(1.0, p * n_candidates) > alpha or mean - null_mean < min_excess:
            break
        first = Block(tuple(names[j] for j in grid.order[a[0]:a[1]]), a[0], a[1],
                      int(top_labels[0]))
        second = Block(tuple(names[j] for j in grid.order[b[0]:b[1]]), b[0], b[1],
                       int(top_labels[1]))
        found.append(SplitGroup(first=first, second=second, mean=mean, background=background,
                                null_mean=null_mean, null_sd=null_sd, z=float(z), p=p,
                                p_adjusted=min(1.0, p * n_candidates),
                                n_candidates=n_candidates, n_draws=null.size))
        # Leave out every subtree overlapping the two found.
        overlaps = _overlapping(grid, pairs_r, a) | _overlapping(grid, pairs_c, b)
        weight = np.where(overlaps, -np.inf, weight)
    return found


def _subtrees_inside(grid: _BlockGrid, top: tuple[int, int], min_block: int) -> np.ndarray:
    """The candidate subtrees (block spans) inside one top-level cluster's positions."""
    starts = grid.starts[grid.nodes[:, 0]]
    ends = grid.ends[grid.nodes[:, 1] - 1]
    keep = (starts >= top[0]) & (ends <= top[1]) & (ends - starts >= min_block)
    return grid.nodes[keep]


def _overlapping(grid: _BlockGrid, spans: np.ndarray, stretch: tuple[int, int]) -> np.ndarray:
    starts = grid.starts[spans[:, 0]]
    ends = grid.ends[spans[:, 1] - 1]
    return (starts < stretch[1]) & (ends > stretch[0])


def _random_stretch_means(grid: _BlockGrid, first_size, second_size, first_top, second_top,
                          n_draws, rng) -> np.ndarray:
    """Mean similarity between random stretches of these sizes inside the two clusters."""
    draws = max(20, min(n_draws, int(2e7 // max(first_size * second_size, 1))))
    out = np.empty(draws)
    for d in range(draws):
        a = int(rng.integers(first_top[0], first_top[1] - first_size + 1))
        b = int(rng.integers(second_top[0], second_top[1] - second_size + 1))
        out[d] = grid.stretch_mean((a, a + first_size), (b, b + second_size))
    return out
