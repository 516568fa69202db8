"""Where fuzzy groups lie in an ordering; failed groups with their evidence; coherent groups.

The rules and the null model are in the package docstring, :mod:`blocks_rx.groups`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

from ..errors import OptionError
from ..ordering import Ordering, matrix_and_names
from ._common import _off_diagonal_mean, _same_classes, normal_sf
from .fuzzy import Groups, fuzzy_groups  # noqa: F401 (fuzzy_groups: the doctests use it)

@dataclass(frozen=True, eq=False)
class GroupPlacement:
    """Where a fuzzy group lies in an ordering, how alike its members are, and the evidence.

    Attributes
    ----------
    group : int
        Index into the :class:`Groups`.
    classes : tuple of str
        Members (the overlapping set), in the ordering's order.
    positions : ndarray of int
        Their positions in the order, ascending.
    span : (int, int)
        Half-open ``(start, end)`` from the first to past the last member, as a slice.
    n_runs : int
        Maximal stretches of consecutive positions the members occupy.
    largest_run : int
        Members in the longest of those stretches.
    dispersion : float
        ``(n_runs - 1) / (size - 1)``: 0 in one block, 1 when no two members are adjacent.
    n_top_clusters : int or None
        Top-level clusters of the ordering's tree that hold members (None: no tree).
    within : float
        Mean similarity over pairs of distinct members.
    background : float
        Mean off-diagonal similarity of the whole matrix.
    excess : float
        ``within - background``.
    score : float
        ``dispersion * excess``.
    evidence : FailedEvidence or None
        The test against the null model (failed groups only; see :func:`failed_groups`).
    """

    group: int
    classes: tuple[str, ...]
    positions: np.ndarray = field(repr=False)
    span: tuple[int, int]
    n_runs: int
    largest_run: int
    dispersion: float
    n_top_clusters: int | None
    within: float
    background: float
    excess: float
    score: float
    evidence: "FailedEvidence | None" = None

    @property
    def size(self) -> int:
        return len(self.classes)


@dataclass(frozen=True)
class FailedEvidence:
    """Why a scattered group counts as failed: its members are more alike across the
    stretches the order puts them in than the tree says they should be, beyond chance.

    Attributes
    ----------
    across : float
        Mean similarity over pairs of members in different stretches (runs) of the order.
    expected : float
        What the tree predicts for those pairs: for each pair, the mean similarity between
        the two subtrees its lowest common ancestor joins, averaged.
    residual : float
        ``across - expected``.
    null_mean, null_sd : float
        The residual of ``n_draws`` random groups with the same run lengths placed at random
        in the order.
    z : float
        ``(residual - null_mean) / null_sd``.
    p : float
        One-sided p-value of ``z`` (normal approximation of the null distribution).
    p_adjusted : float
        ``p`` after Holm's correction over the groups tested.
    n_draws : int
    """

    across: float
    expected: float
    residual: float
    null_mean: float
    null_sd: float
    z: float
    p: float
    p_adjusted: float
    n_draws: int

    @property
    def effect(self) -> float:
        """``residual - null_mean``: how much more alike than the tree and chance allow."""
        return self.residual - self.null_mean


def place_groups(groups: Groups, ordering: Ordering, similarity, *,
                 n_top: int = 2) -> list[GroupPlacement]:
    """Every group's placement in the ordering (see :class:`GroupPlacement`), by group index.

    >>> import numpy as np, blocks_rx
    >>> M = np.kron(np.eye(2), np.full((3, 3), 0.8)) + 0.2 * np.eye(6)
    >>> groups = fuzzy_groups(M)
    >>> [(p.classes, p.n_runs) for p in place_groups(groups, blocks_rx.hclust(M), M)]
    [(('class_2', 'class_0', 'class_1'), 1), (('class_5', 'class_3', 'class_4'), 1)]
    """
    matrix, names = matrix_and_names(similarity, None)
    _same_classes(names, ordering, groups)
    n = len(names)
    position = ordering.positions
    top = ordering.cut_labels(n_top) if ordering.merge is not None and n >= n_top else None
    background = _off_diagonal_mean(matrix)
    placements = []
    for k in range(groups.n_groups):
        members = groups.members(k)
        if members.size == 0:
            continue
        pos = np.sort(position[members])
        lengths = _run_lengths(pos)
        size = members.size
        dispersion = (lengths.size - 1) / (size - 1) if size > 1 else 0.0
        within = _mean_between(matrix, members, members) if size > 1 else float("nan")
        excess = within - background
        ordered = np.asarray(ordering.order)[pos]
        placements.append(GroupPlacement(
            group=k, classes=tuple(names[j] for j in ordered), positions=pos,
            span=(int(pos[0]), int(pos[-1]) + 1), n_runs=int(lengths.size),
            largest_run=int(lengths.max()), dispersion=float(dispersion),
            n_top_clusters=None if top is None else int(np.unique(top[members]).size),
            within=float(within), background=float(background), excess=float(excess),
            score=float(dispersion * excess) if size > 1 else 0.0,
        ))
    return placements


def failed_groups(groups: Groups, ordering: Ordering, similarity, *, min_size: int = 3,
                  alpha: float = 0.01, min_effect: float = 0.05, n_draws: int = 200,
                  seed: int = 0, n_top: int = 2) -> list[GroupPlacement]:
    """Fuzzy groups that the ordering scatters although their members are alike, with evidence.

    A group (its overlapping set, at least ``min_size`` members) is a candidate when the
    order scatters it: more than one run, and no run holding more than half of its members
    (one block plus a stray member is a coherent group with an outlier, not a failed one).

    A candidate is reported only when its members are alike *across* their runs beyond what
    the tree explains and beyond chance. The tree's explanation of a pair of classes is the
    mean similarity between the two subtrees their lowest common ancestor joins; the
    group's *residual* is the mean, over pairs of members in different runs, of their
    similarity minus that explanation. The null model: ``n_draws`` random groups with the
    same run lengths placed at random in the order, scored the same way. The group's
    ``z = (residual - null mean) / null sd`` gives a one-sided p-value (normal
    approximation: the residual is a mean over many pairs), corrected with Holm's method
    over the candidates. The group is reported when the corrected p-value is at most
    ``alpha``, its residual exceeds the null mean by ``min_effect`` or more, and its members
    are alike at all: their mean similarity across runs exceeds the mean off-diagonal
    similarity of the whole matrix by ``min_effect`` or more.

    Returns
    -------
    list of GroupPlacement
        With ``evidence`` set, most significant first.

    Examples
    --------
    >>> import numpy as np, blocks_rx
    >>> rng = np.random.default_rng(0)
    >>> sub = np.repeat(np.arange(4), 4)      # subgroups 0, 1 | 2, 3 under two top groups
    >>> S = (1.2 * rng.normal(size=(2000, 2))[:, sub // 2] + rng.normal(size=(2000, 4))[:, sub]
    ...      + rng.normal(size=(2000, 16)))
    >>> S[:, [0, 1, 8, 9]] += 1.2 * rng.normal(size=(2000, 1))   # alike across the top level
    >>> sim = blocks_rx.compute_similarity(S)
    >>> groups = fuzzy_groups(sim, n_groups=5, n_components=5)
    >>> failed = failed_groups(groups, blocks_rx.order_classes(sim), sim)
    >>> len(failed), sorted(failed[0].classes), failed[0].n_runs, failed[0].n_top_clusters
    (1, ['class_0', 'class_1', 'class_8', 'class_9'], 2, 2)
    """
    if min_size < 2:
        raise OptionError(f"min_size must be >= 2, got {min_size}")
    if ordering.merge is None:
        raise ValueError(f"failed groups need a tree for their null model; a "
                         f"{ordering.method!r} ordering has none (use hclust)")
    matrix, _ = matrix_and_names(similarity, None)
    candidates = [p for p in place_groups(groups, ordering, similarity, n_top=n_top)
                  if p.size >= min_size and p.n_runs > 1 and 2 * p.largest_run <= p.size]
    if not candidates:
        return []
    baseline = TreeBaseline(matrix, ordering)
    rng = np.random.default_rng(seed)
    tested = [(p, _scattered_evidence(baseline, p, n_draws, rng)) for p in candidates]
    adjusted = _holm([e["p"] for _, e in tested])
    found = [replace(p, evidence=FailedEvidence(**e, p_adjusted=float(q)))
             for (p, e), q in zip(tested, adjusted)]
    found = [p for p in found
             if p.evidence.p_adjusted <= alpha and p.evidence.effect >= min_effect
             and p.evidence.across - p.background >= min_effect]
    return sorted(found, key=lambda p: (p.evidence.p, -p.evidence.z, p.group))


class TreeBaseline:
    """What an ordering's tree says about the similarity of any two classes.

    For two positions ``p < q`` of the order, their lowest common ancestor is the merge
    with the latest step among the gaps between positions ``p .. q`` (each gap between
    neighbours is where exactly one merge joins its two subtrees; ancestors merge later).
    The tree's prediction for the pair is that merge's *node mean*: the mean similarity
    between its two subtrees. One pass over the matrix computes every node mean; a sparse
    table answers the latest-step queries.

    >>> import numpy as np, blocks_rx
    >>> M = np.array([[1, .8, .1, .2], [.8, 1, .3, .2], [.1, .3, 1, .6], [.2, .2, .6, 1]])
    >>> base = TreeBaseline(M, blocks_rx.hclust(M))
    >>> base.expected(np.array([0, 0]), np.array([1, 3])).round(3).tolist()
    [0.8, 0.2]
    """

    def __init__(self, matrix, ordering: Ordering, rows_per_block: int = 1024):
        order = np.asarray(ordering.order)
        m = order.size
        self.matrix, self.order = matrix, order
        self.gap_step = np.zeros(max(m - 1, 1), dtype=np.int64)
        self.node_mean = np.zeros(m, dtype=np.float64)  # by merge step, 1-based
        for step, ((la, ha), (lb, hb)) in enumerate(ordering.merge_spans(), start=1):
            self.gap_step[ha - 1] = step
            self.node_mean[step] = _block_mean(matrix, order[la:ha], order[lb:hb],
                                               rows_per_block)
        self._table = _sparse_max_table(self.gap_step)
        # What the compiled residual reads: a plain array (a memory-mapped matrix's view)
        # and int64 positions, so one compiled version serves every call.
        self._dense = np.asarray(matrix)
        self._order = np.ascontiguousarray(order, dtype=np.int64)

    def expected(self, p: np.ndarray, q: np.ndarray) -> np.ndarray:
        """The tree's similarity for each pair of positions ``(p[i], q[i])``, ``p != q``."""
        lo, hi = np.minimum(p, q), np.maximum(p, q)
        return self.node_mean[_range_max(self._table, lo, hi)]

    def residual(self, positions: np.ndarray, lengths: np.ndarray) -> tuple[float, float]:
        """``(across, expected)``: mean similarity and mean tree prediction over pairs of
        ``positions`` (ascending) in different runs (runs given by their ``lengths``, in
        order), summed in float64 by a compiled loop (:mod:`blocks_rx.groups._residual`)."""
        from ._residual import cross_run_sums

        run = np.repeat(np.arange(lengths.size), lengths)
        similar, expected, pairs = cross_run_sums(
            self._dense, self._order, self.gap_step, self.node_mean,
            np.ascontiguousarray(positions, dtype=np.int64), run)
        return similar / pairs, expected / pairs


def _block_mean(matrix, rows, cols, rows_per_block: int) -> float:
    """Mean of ``matrix[rows][:, cols]``, a stripe of rows at a time."""
    total = 0.0
    for start in range(0, rows.size, rows_per_block):
        stripe = np.asarray(matrix[np.ix_(rows[start:start + rows_per_block], cols)])
        total += float(stripe.sum(dtype=np.float64))
    return total / (rows.size * cols.size)


def _sparse_max_table(values: np.ndarray) -> list[np.ndarray]:
    """Sparse table for range-maximum queries over ``values`` (argmax not needed: values)."""
    table = [values]
    width = 1
    while 2 * width <= values.size:
        previous = table[-1]
        table.append(np.maximum(previous[:-width], previous[width:]))
        width *= 2
    return table


def _range_max(table, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """``max(values[lo:hi])`` for each pair of bounds (``lo < hi``), from the sparse table."""
    length = hi - lo
    level = np.floor(np.log2(length)).astype(np.int64)
    out = np.empty(lo.size, dtype=table[0].dtype)
    for k in np.unique(level):
        chosen = level == k
        row = table[k]
        out[chosen] = np.maximum(row[lo[chosen]], row[hi[chosen] - (1 << int(k))])
    return out


def _scattered_evidence(baseline: TreeBaseline, placement: GroupPlacement, n_draws: int,
                        rng) -> dict:
    """The residual of a scattered group against random groups with its run lengths."""
    lengths = _run_lengths(placement.positions)
    across, expected = baseline.residual(placement.positions, lengths)
    observed = across - expected
    draws = max(20, min(n_draws, int(2e7 // max(placement.size, 1) ** 2)))
    m = baseline.order.size
    null = np.array([np.subtract(*baseline.residual(positions, shuffled))
                     for positions, shuffled in _random_runs(lengths, m, draws, rng)])
    mean, sd = float(null.mean()), float(null.std(ddof=1))
    z = (observed - mean) / sd if sd > 0 else (math.inf if observed > mean else 0.0)
    return {"across": across, "expected": expected, "residual": float(observed),
            "null_mean": mean, "null_sd": sd, "z": float(z), "p": normal_sf(z),
            "n_draws": draws}


def _run_lengths(positions: np.ndarray) -> np.ndarray:
    """Lengths of the maximal stretches of consecutive values in sorted ``positions``."""
    breaks = np.flatnonzero(np.diff(positions) > 1)
    return np.diff(np.r_[0, breaks + 1, positions.size])


def _random_runs(lengths: np.ndarray, m: int, draws: int, rng):
    """``draws`` placements of runs with these lengths, in random order, at random
    non-overlapping places among ``m`` positions: yields (sorted positions, run lengths)."""
    slack = m - int(lengths.sum())
    r = lengths.size
    for _ in range(draws):
        shuffled = rng.permutation(lengths)
        # A random composition: the gap before each run, from r sorted distinct slots.
        gaps = np.sort(rng.choice(slack + r, size=r, replace=False)) - np.arange(r)
        # Run k starts at gaps[k] plus the runs before it: member t sits at gaps[k] + t.
        yield np.arange(int(lengths.sum())) + np.repeat(gaps, shuffled), shuffled


def _holm(p_values) -> np.ndarray:
    """Holm's step-down adjusted p-values, in the given order.

    >>> _holm([0.01, 0.04, 0.03]).round(3).tolist()
    [0.03, 0.06, 0.06]
    """
    p = np.asarray(p_values, dtype=np.float64)
    if p.size == 0:
        return p
    rank = np.argsort(p)
    adjusted = np.maximum.accumulate((p.size - np.arange(p.size)) * p[rank])
    out = np.empty_like(p)
    out[rank] = np.minimum(adjusted, 1.0)
    return out


def _mean_between(matrix, rows, cols) -> float:
    """Mean of ``matrix[rows][:, cols]`` without the diagonal when rows and cols are equal."""
    block = np.asarray(matrix[np.ix_(rows, cols)], dtype=np.float64)
    if rows is cols or (len(rows) == len(cols) and np.array_equal(rows, cols)):
        n = len(rows)
        return float((block.sum() - np.trace(block)) / (n * (n - 1)))
    return float(block.mean())


def coherent_groups(groups: Groups, ordering: Ordering, similarity, *, min_size: int = 2,
                    min_excess: float = 0.0) -> list[GroupPlacement]:
    """Fuzzy groups that the ordering keeps in one block (the paper's green spans).

    Listed when the overlapping set (at least ``min_size`` classes) forms a single run in
    the order and its members are more alike than the background (``excess > min_excess``);
    in order of position. The complement, among alike groups, of :func:`failed_groups`.

    >>> import numpy as np, blocks_rx
    >>> rng = np.random.default_rng(0)
    >>> S = 2 * rng.normal(size=(400, 2))[:, np.repeat([0, 1], 4)] + rng.normal(size=(400, 8))
    >>> sim = blocks_rx.compute_similarity(S)
    >>> spans = coherent_groups(fuzzy_groups(sim), blocks_rx.order_classes(sim), sim)
    >>> [p.span for p in spans]
    [(0, 4), (4, 8)]
    """
    found = [p for p in place_groups(groups, ordering, similarity)
             if p.size >= min_size and p.n_runs == 1 and p.excess > min_excess]
    return sorted(found, key=lambda p: p.span)
