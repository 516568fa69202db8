"""Comparing two class structures: :func:`compare` and its result, :class:`Comparison`.

Two models, two checkpoints, two layers, or one model on two sample sets (clean vs shifted
data) give two similarity matrices over (mostly) the same classes. :func:`compare` matches
the classes by name, puts both matrices in one order and measures how far the structure
moved, globally and class by class. Classes present on one side only are named
(``only_in_a``, ``only_in_b``), never matched by guess.

The measures (:data:`MEASURES`), each on the classes common to A and B:

``cophenetic``
    Pearson correlation between the cophenetic distances of tree A and tree B (the height
    at which each pair of classes first joins; ``scipy.cluster.hierarchy.cophenet``).
    1 for trees of the same shape and proportional heights.
``bakers_gamma``
    Baker's gamma (Baker, 1974, J. Am. Stat. Assoc. 69:440-445): for every pair of classes,
    the largest number of clusters k at which a cut of the tree still holds the pair in
    one cluster; gamma is the Spearman correlation of these values between tree A and
    tree B (the definition of R's ``dendextend::cor_bakers_gamma``). It reads only the
    order of the merges, not their heights.
``ari``
    Adjusted Rand index (Hubert & Arabie, 1985) of the two trees each cut into k groups
    (R's ``cutree``), for each k in ``cuts``: 1 for the same partition, about 0 for
    partitions as alike as chance makes them.
``row_change``
    Per class: root mean square of its row of B - A, its own entry left out: how much its
    similarities to the other classes changed (the ink of its row in the difference panel
    of :func:`blocks_rx.plot.comparison`). The ``moved`` table is ranked by it.
``row_correlation``
    Per class: Pearson correlation between its similarity row in A and in B, its own
    entry left out. Low when the class's pattern of neighbours changed, but also for a
    class with no neighbours on either side (its row is noise), which is why it does not
    rank the table.
``neighbours_kept``
    Per class: Jaccard index of its ``neighbours`` most similar classes in A and in B
    (shared / in either).

The trees: each side's stored tree (an hclust ordering's ``merge``) when all of its
classes are common; otherwise (classes missing on the other side, or an ordering without a
tree) hclust, complete linkage on ``1 - r`` of the common sub-matrix, in the Python twin of
R's routine. ``Comparison.provenance["trees"]`` says which, and why.

>>> import numpy as np, blocks_rx
>>> rng = np.random.default_rng(0)
>>> S = rng.normal(size=(400, 2))[:, [0, 0, 0, 1, 1, 1]] + rng.normal(size=(400, 6))
>>> a = blocks_rx.analyze(S, groups=None, hclust_backend="python")
>>> same = compare(a, a)
>>> round(same.cophenetic, 9), round(same.bakers_gamma, 9), same.ari
(1.0, 1.0, {2: 1.0, 4: 1.0})
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from .errors import BlocksInputError, OptionError, ResultError
from .ordering import Ordering, hclust
from .similarity import Similarity

#: The numbers a comparison reports, with their one-line definitions (module docstring).
MEASURES = {
    "cophenetic": "Pearson correlation of the two trees' cophenetic distances",
    "bakers_gamma": "Baker's gamma (1974): Spearman correlation, over pairs of classes, of "
                    "the largest k at which a k-cut of each tree keeps the pair together",
    "ari": "adjusted Rand index of the two trees cut into k groups each",
    "row_change": "per class: root mean square of its row of B - A, own entry left out",
    "row_correlation": "per class: Pearson correlation of its similarity rows in A and B, "
                       "own entry left out",
    "neighbours_kept": "per class: Jaccard index of its nearest classes in A and in B",
}

#: How the common order is chosen (``compare(order=...)``, ``blocks-rx compare --order``).
ORDER_RULES = {
    "a": "A's order, restricted to the common classes",
    "b": "B's order, restricted to the common classes",
    "consensus": "hclust, complete linkage on 1-r of the mean of A and B",
}

#: Fewer common classes than this leave no structure to compare.
MIN_COMMON = 3

#: What ``blocks-rx compare --out`` writes (and all that a folder it replaces may hold).
COMPARISON_FILES = ("comparison.png", "moved.csv", "comparison.json", "explorer.html")
FORMAT = "blocks-rx comparison 1"

#: Neighbour names shown per class in the ``moved`` table.
SHOWN_NEIGHBOURS = 3


@dataclass(frozen=True, eq=False)
class Comparison:
    """Two class structures on their common classes: what :func:`compare` returns.

    Attributes
    ----------
    classes : tuple of str
        The common classes, in A's class order.
    matrix_a, matrix_b : ndarray (m, m)
        The two similarity matrices on ``classes`` (input order, float64).
    order : ndarray of int (m,)
        The common order (indices into ``classes``), by ``order_by``.
    order_by : {"a", "b", "consensus"}
    cophenetic, bakers_gamma : float
    ari : dict of int to float
        Adjusted Rand index by number of groups k.
    moved : pandas.DataFrame
        One row per class, ranked (index ``rank``, 1 first) from the most moved
        neighbourhood: ``class``, ``row_change``, ``row_correlation`` (NaN where the row is
        constant on one side), ``neighbours_kept``, ``neighbours_a`` and ``neighbours_b``
        (its nearest classes on each side). Ranked by ``row_change``, largest first
        (module docstring).
    provenance : dict
        Sources, the similarities' facts, the trees used and why, the order rule.
    only_in_a, only_in_b : tuple of str
        Classes of one side that the other lacks (left out of everything above).
    """

    classes: tuple[str, ...]
    matrix_a: np.ndarray = field(repr=False)
    matrix_b: np.ndarray = field(repr=False)
    order: np.ndarray = field(repr=False)
    order_by: str
    cophenetic: float
    ari: dict
    bakers_gamma: float
    moved: object = field(repr=False)
    provenance: dict = field(repr=False)
    only_in_a: tuple[str, ...] = ()
    only_in_b: tuple[str, ...] = ()

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    @property
    def ordering(self) -> Ordering:
        """The common order as an :class:`~blocks_rx.ordering.Ordering` (no tree), to draw by."""
        method = "consensus" if self.order_by == "consensus" else f"{self.order_by.upper()}'s"
        return Ordering(order=self.order, classes=self.classes, method=method, linkage=None,
                        distance=None, hclust_backend=None)

    def to_frame(self):
        """The ranked table of classes by how much their neighbourhood moved (``moved``)."""
        return self.moved.copy()

    def numbers(self) -> str:
        """The global measures on one line."""
        ari = ", ".join(f"k={k} {value:.3f}" for k, value in self.ari.items()) or "no cut"
        return (f"cophenetic r {self.cophenetic:.3f}, Baker's gamma {self.bakers_gamma:.3f}, "
                f"ARI {ari}")

    def summary(self, top: int = 10) -> str:
        """A text summary: sources, missing classes, trees, numbers, the ``top`` moved classes."""
        sources, trees = self.provenance["sources"], self.provenance["trees"]
        lines = [f"{self.n_classes} classes common to A and B",
                 f"  A: {sources['a']}", f"  B: {sources['b']}",
                 f"  only in A: {_listed(self.only_in_a)}",
                 f"  only in B: {_listed(self.only_in_b)}",
                 f"  tree A: {trees['a']}", f"  tree B: {trees['b']}",
                 f"  order: {self.provenance['order']}",
                 f"cophenetic correlation: {self.cophenetic:.4f}",
                 f"Baker's gamma:          {self.bakers_gamma:.4f}"]
        lines += [f"adjusted Rand index, k={k}: {value:.4f}" for k, value in self.ari.items()]
        lines.append(f"classes whose neighbourhoods moved most (of {self.n_classes}):")
        shown = self.moved.head(top)
        width = max([5] + [len(name) for name in shown["class"]])
        lines.append(f"  {'rank':>4}  {'class':<{width}}  change  row r  kept  "
                     "nearest in A -> in B")
        lines += [f"  {rank:>4}  {row['class']:<{width}}  {row['row_change']:6.3f}  "
                  f"{row['row_correlation']:5.2f}  {row['neighbours_kept']:4.2f}  "
                  f"{row['neighbours_a']} -> {row['neighbours_b']}"
                  for rank, row in shown.iterrows()]
        return "\n".join(lines)

    def report(self) -> dict:
        """The comparison as JSON-ready values (``comparison.json``): everything but the
        matrices and the table (NaN as None)."""
        return {"format": FORMAT, "n_classes": self.n_classes,
                "only_in_a": list(self.only_in_a), "only_in_b": list(self.only_in_b),
                "cophenetic": _json_number(self.cophenetic),
                "bakers_gamma": _json_number(self.bakers_gamma),
                "ari": {str(k): _json_number(v) for k, v in self.ari.items()},
                "order_by": self.order_by, "order": [self.classes[j] for j in self.order],
                "measures": dict(MEASURES), "provenance": self.provenance}

    def plot(self, **kwargs):
        """Draw A, B and B - A in the common order: :func:`blocks_rx.plot.comparison`."""
        from .plot import comparison

        return comparison(self, **kwargs)

    def __repr__(self) -> str:
        return (f"<Comparison of {self.n_classes} common classes ({self.ordering.method} "
                f"order): "
                f"{self.numbers()}; only in A: {_listed(self.only_in_a)}; only in B: "
                f"{_listed(self.only_in_b)}>")

    def _repr_html_(self) -> str:
        from .summaries import html_summary

        sources = self.provenance["sources"]
        rows = [("A", sources["a"]), ("B", sources["b"]), ("common classes", self.n_classes),
                ("only in A", _listed(self.only_in_a)), ("only in B", _listed(self.only_in_b)),
                ("order", self.provenance["order"]),
                ("cophenetic r", f"{self.cophenetic:.3f}"),
                ("Baker's gamma", f"{self.bakers_gamma:.3f}")]
        rows += [(f"ARI, k={k}", f"{value:.3f}") for k, value in self.ari.items()]
        rows += [(f"moved #{rank}", f"{row['class']} (change {row['row_change']:.3f}, "
                                    f"row r {row['row_correlation']:.2f})")
                 for rank, row in self.moved.head(5).iterrows()]
        return html_summary("Comparison of class structures", rows)


def compare(a, b, *, order: str = "a", cuts=(2, 4, 8, 16), neighbours: int = 10,
            names=None) -> Comparison:
    """Compare the class structures of ``a`` and ``b`` on their common classes.

    Parameters
    ----------
    a, b : Analysis, StoredResult, Similarity, or path to a result folder
        A folder is read with :func:`blocks_rx.results.read`. A Similarity has no tree of
        its own, so one is built (see the module docstring).
    order : {"a", "b", "consensus"}
        The common order of the matrices (:data:`ORDER_RULES`).
    cuts : sequence of int
        Numbers of groups at which the trees are cut for the adjusted Rand index; those
        outside 2..m-1 are skipped (``provenance["cuts_skipped"]``).
    neighbours : int
        How many nearest classes ``neighbours_kept`` compares.
    names : (str, str), optional
        What to call A and B in titles and summaries. Default: where each came from (a
        folder, a file), and, when that is the same for both (two arrays), also how each
        was computed where they differ ("pearson (standardize), hclust complete").

    Returns
    -------
    Comparison

    Raises
    ------
    BlocksInputError
        Fewer than 3 classes in common, or a bad option; ResultError for a bad folder.

    Examples
    --------
    >>> import numpy as np, blocks_rx
    >>> rng = np.random.default_rng(0)
    >>> S = rng.normal(size=(400, 2))[:, [0, 0, 0, 1, 1, 1]] + rng.normal(size=(400, 6))
    >>> a = blocks_rx.compute_similarity(S)
    >>> b = blocks_rx.compute_similarity(S[:, :5])
    >>> found = compare(a, b, order="consensus")
    >>> found.only_in_a, found.only_in_b, found.ari
    (('class_5',), (), {2: 1.0, 4: 1.0})
    """
    _check_options(order, neighbours)
    side_a, side_b = _named(_side(a), _side(b), names)
    classes, index_a, index_b, only_in_a, only_in_b = _common(side_a, side_b)
    matrix_a = _submatrix(side_a.similarity.matrix, index_a)
    matrix_b = _submatrix(side_b.similarity.matrix, index_b)
    tree_a = _tree(side_a, index_a, classes, matrix_a, missing=len(only_in_a))
    tree_b = _tree(side_b, index_b, classes, matrix_b, missing=len(only_in_b))
    kept_cuts, skipped = _checked_cuts(cuts, len(classes))
    chosen, rule = _common_order(order, (side_a, side_b), (index_a, index_b), (tree_a, tree_b),
                                 (matrix_a + matrix_b) / 2, classes)
    provenance = {
        "sources": {"a": side_a.label, "b": side_b.label},
        "similarities": {"a": _facts(side_a.similarity), "b": _facts(side_b.similarity)},
        "trees": {"a": tree_a.description, "b": tree_b.description},
        "order": rule, "cuts_skipped": skipped, "neighbours": int(neighbours),
    }
    return Comparison(
        classes=classes, matrix_a=matrix_a, matrix_b=matrix_b, order=chosen, order_by=order,
        cophenetic=_pearson(tree_a.cophenetic(), tree_b.cophenetic()),
        ari={k: adjusted_rand_index(tree_a.cut(k), tree_b.cut(k)) for k in kept_cuts},
        bakers_gamma=bakers_gamma(tree_a.steps(), tree_b.steps(), len(classes)),
        moved=moved_classes(matrix_a, matrix_b, classes, neighbours),
        provenance=provenance, only_in_a=only_in_a, only_in_b=only_in_b)


# --------------------------------------------------------------------------- the measures


def adjusted_rand_index(labels_a, labels_b) -> float:
    """Adjusted Rand index of two flat clusterings of the same items (Hubert & Arabie, 1985).

    From the contingency table ``n_ij`` (items in group i of A and group j of B), with
    ``a_i``, ``b_j`` its margins and ``C(x) = x (x - 1) / 2`` the pairs among x items:
    ``(sum C(n_ij) - E) / ((sum C(a_i) + sum C(b_j)) / 2 - E)``, where
    ``E = sum C(a_i) sum C(b_j) / C(n)``. Two partitions that are both trivial (one group,
    or all singletons) give 1. The group numbers themselves do not matter.

    >>> round(adjusted_rand_index([0, 0, 1, 1], [0, 0, 1, 2]), 4)  # (1 - 1/3) / (3/2 - 1/3)
    0.5714
    >>> adjusted_rand_index([1, 1, 2, 2], [5, 5, 3, 3])
    1.0
    """
    labels_a, labels_b = np.asarray(labels_a), np.asarray(labels_b)
    if labels_a.ndim != 1 or labels_a.shape != labels_b.shape:
        raise ValueError(f"two equally long label vectors expected, got shapes "
                         f"{labels_a.shape} and {labels_b.shape}")
    n = len(labels_a)
    _, rows = np.unique(labels_a, return_inverse=True)
    _, columns = np.unique(labels_b, return_inverse=True)
    table = np.zeros((rows.max(initial=-1) + 1, columns.max(initial=-1) + 1), dtype=np.int64)
    np.add.at(table, (rows, columns), 1)
    together = _pairs(table)
    in_a, in_b = _pairs(table.sum(axis=1)), _pairs(table.sum(axis=0))
    expected = in_a * in_b / _pairs(np.array([n])) if n > 1 else 0.0
    best = (in_a + in_b) / 2
    if best == expected:  # only when both partitions are trivial, hence equal
        return 1.0
    return float((together - expected) / (best - expected))


def _pairs(counts) -> int:
    """Pairs among each count of items, summed (exact integers)."""
    counts = np.asarray(counts, dtype=np.int64)
    return int(np.sum(counts * (counts - 1) // 2))


def bakers_gamma(steps_a, steps_b, m: int) -> float:
    """Baker's gamma from two trees' merge steps: Spearman correlation, over pairs of classes,
    of the largest k at which a k-cut keeps the pair together (see the module docstring).

    ``steps_*`` are condensed (pairwise) vectors of the 1-based merge step at which each
    pair joins; the pair then stays together for every k <= ``m - step``.

    >>> bakers_gamma(np.array([1, 2, 2]), np.array([1, 2, 2]), 3)
    1.0
    """
    from scipy.stats import spearmanr

    largest_a = m - np.asarray(steps_a, dtype=np.float64)
    largest_b = m - np.asarray(steps_b, dtype=np.float64)
    return float(spearmanr(largest_a, largest_b).statistic)


def moved_classes(matrix_a, matrix_b, classes, neighbours: int = 10):
    """The classes ranked by how much their neighbourhood moved from A to B.

    See :attr:`Comparison.moved` for the columns and the ranking; ``neighbours`` is clipped
    to half the other classes, (m - 1) // 2 (at least 1): a neighbourhood of all other
    classes is always "kept".

    >>> M = np.array([[1, .9, 0], [.9, 1, 0], [0, 0, 1]])
    >>> moved_classes(M, M, ["a", "b", "c"], neighbours=1)["neighbours_kept"].tolist()
    [1.0, 1.0, 1.0]
    """
    import pandas as pd

    m = len(classes)
    # At most half the other classes: with all of them, every neighbourhood is "kept".
    k = max(1, min(neighbours, (m - 1) // 2))
    nearest_a = _nearest(matrix_a, k)
    nearest_b = _nearest(matrix_b, k)
    kept = [len(set(x) & set(y)) / len(set(x) | set(y)) for x, y in zip(nearest_a, nearest_b)]
    correlation, change = _row_changes(matrix_a, matrix_b)
    frame = pd.DataFrame({
        "class": list(classes),
        "row_change": change,
        "row_correlation": correlation,
        "neighbours_kept": kept,
        "neighbours_a": [_names(classes, row[:SHOWN_NEIGHBOURS]) for row in nearest_a],
        "neighbours_b": [_names(classes, row[:SHOWN_NEIGHBOURS]) for row in nearest_b],
    })
    ranked = frame.sort_values("row_change", ascending=False, kind="stable")
    ranked.index = pd.RangeIndex(1, m + 1, name="rank")
    return ranked


def _row_changes(matrix_a, matrix_b) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the diagonal left out: the Pearson correlation of A's row with B's (NaN
    where a row is constant) and the root mean square of B's row minus A's."""
    m = len(matrix_a)
    off_diagonal = ~np.eye(m, dtype=bool)
    a = np.asarray(matrix_a, dtype=np.float64)[off_diagonal].reshape(m, m - 1)
    b = np.asarray(matrix_b, dtype=np.float64)[off_diagonal].reshape(m, m - 1)
    change = np.sqrt(np.mean((b - a) ** 2, axis=1))
    a = a - a.mean(axis=1, keepdims=True)
    b = b - b.mean(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        correlation = (a * b).sum(axis=1) / np.sqrt((a * a).sum(axis=1) * (b * b).sum(axis=1))
    return correlation, change


def _nearest(matrix, k: int) -> np.ndarray:
    """Each row's ``k`` most similar other classes, most similar first (ties by index)."""
    others = np.array(matrix, dtype=np.float64)
    np.fill_diagonal(others, -np.inf)
    return np.argsort(-others, axis=1, kind="stable")[:, :k]


def _names(classes, indices) -> str:
    return ", ".join(classes[j] for j in indices)


def _pearson(x, y) -> float:
    with np.errstate(invalid="ignore", divide="ignore"):
        return float(np.corrcoef(x, y)[0, 1])


# --------------------------------------------------------------------------- the inputs


@dataclass(frozen=True)
class _Side:
    """One side of a comparison: where it came from, its similarity, its ordering (if any)."""

    label: str
    similarity: Similarity
    ordering: Ordering | None


def _side(value) -> _Side:
    """The similarity and ordering of an Analysis, StoredResult, Similarity or folder."""
    from .pipeline import Analysis
    from .results import StoredResult, read

    if isinstance(value, (str, os.PathLike)):
        stored = read(value)
        return _Side(str(value), stored.similarity, stored.ordering)
    if isinstance(value, StoredResult):
        return _Side(str(value.folder), value.similarity, value.ordering)
    if isinstance(value, Analysis):
        return _Side(value.similarity.source, value.similarity, value.ordering)
    if isinstance(value, Similarity):
        return _Side(value.source, value, None)
    raise TypeError(f"compare takes an Analysis, a StoredResult, a Similarity or the path of "
                    f"a result folder, not {type(value).__name__}")


def _named(side_a: _Side, side_b: _Side, names) -> tuple[_Side, _Side]:
    """The sides with the labels of ``names``, or labels that tell them apart."""
    if names is not None:
        if isinstance(names, str) or len(names) != 2 or not all(
                isinstance(n, str) and n.strip() for n in names):
            raise OptionError(f"names must be two non-empty strings (A's and B's), got "
                              f"{names!r}")
        return replace(side_a, label=names[0]), replace(side_b, label=names[1])
    if side_a.label != side_b.label:
        return side_a, side_b
    how_a, how_b = _how(side_a), _how(side_b)
    if how_a == how_b:
        return side_a, side_b
    return (replace(side_a, label=f"{side_a.label}, {how_a}"),
            replace(side_b, label=f"{side_b.label}, {how_b}"))


def _how(side: _Side) -> str:
    """How a side was computed, in a few words: "pearson (center), hclust complete"."""
    sim, ordering = side.similarity, side.ordering
    text = sim.measure + (f" ({sim.transform})" if sim.transform != "none" else "")
    if ordering is not None:
        text += f", {ordering.method}" + (f" {ordering.linkage}" if ordering.linkage else "")
    return text


def _common(side_a: _Side, side_b: _Side):
    """(common classes in A's order, their indices in A and in B, only in A, only in B)."""
    classes_a, classes_b = side_a.similarity.classes, side_b.similarity.classes
    where_b = {name: j for j, name in enumerate(classes_b)}
    index_a = np.array([j for j, name in enumerate(classes_a) if name in where_b], dtype=np.int64)
    classes = tuple(classes_a[j] for j in index_a)
    index_b = np.array([where_b[name] for name in classes], dtype=np.int64)
    common = set(classes)
    only_in_a = tuple(name for name in classes_a if name not in common)
    only_in_b = tuple(name for name in classes_b if name not in common)
    if len(classes) < MIN_COMMON:
        raise BlocksInputError(
            f"A ({side_a.label}) and B ({side_b.label}) have {len(classes)} classes in common "
            f"({_listed(classes)}); a comparison needs at least {MIN_COMMON}. Classes are "
            f"matched by name: A has {_listed(classes_a, 4)}; B has {_listed(classes_b, 4)}")
    return classes, index_a, index_b, only_in_a, only_in_b


def _submatrix(matrix, index) -> np.ndarray:
    return np.asarray(matrix[np.ix_(index, index)], dtype=np.float64)


def _check_options(order: str, neighbours) -> None:
    if order not in ORDER_RULES:
        raise OptionError(f"order must be one of {', '.join(ORDER_RULES)}, not {order!r}")
    if isinstance(neighbours, bool) or not isinstance(neighbours, (int, np.integer)) \
            or neighbours < 1:
        raise OptionError(f"neighbours must be a positive whole number, not {neighbours!r}")


def _checked_cuts(cuts, m: int) -> tuple[list[int], list[int]]:
    """(cuts to use, cuts skipped because a tree of m leaves has no such nontrivial cut)."""
    cuts = list(cuts)
    if not all(isinstance(k, (int, np.integer)) and not isinstance(k, bool) for k in cuts):
        raise OptionError(f"cuts must be whole numbers of groups, not {cuts!r}")
    kept = sorted({int(k) for k in cuts if 2 <= k < m})
    return kept, sorted({int(k) for k in cuts} - set(kept))


def _facts(similarity: Similarity) -> dict:
    return {"measure": similarity.measure, "kind": similarity.kind,
            "transform": similarity.transform, "n_samples": similarity.n_samples,
            "n_classes": similarity.n_classes}


# --------------------------------------------------------------------------- the trees


@dataclass(frozen=True)
class _Tree:
    """A tree over the common classes: ``ordering`` (whose classes may be a reordering of
    them), ``at[i]``: where common class i sits in ``ordering.classes``."""

    ordering: Ordering
    at: np.ndarray
    description: str

    def _pairs_in_common_order(self, linkage: np.ndarray) -> np.ndarray:
        from scipy.cluster.hierarchy import cophenet
        from scipy.spatial.distance import squareform

        square = squareform(cophenet(linkage))[np.ix_(self.at, self.at)]
        return squareform(square, checks=False)

    def cophenetic(self) -> np.ndarray:
        """Cophenetic distances of the common classes' pairs (condensed)."""
        return self._pairs_in_common_order(self.ordering.scipy_linkage())

    def steps(self) -> np.ndarray:
        """The merge step (1-based) at which each pair of common classes joins (condensed)."""
        linkage = self.ordering.scipy_linkage()
        linkage[:, 2] = np.arange(1, len(linkage) + 1)  # heights -> merge steps
        return self._pairs_in_common_order(linkage)

    def cut(self, k: int) -> np.ndarray:
        """The common classes' groups when the tree is cut into ``k`` (R's cutree)."""
        return self.ordering.cut_labels(k)[self.at]


def _tree(side: _Side, index, classes, matrix, missing: int) -> _Tree:
    """The side's stored tree when it has one over exactly the common classes, else hclust
    (complete, 1-r) built on the common sub-matrix, with the reason in its description."""
    stored = side.ordering
    if stored is not None and stored.merge is not None and not missing:
        return _Tree(stored, np.asarray(index), f"stored {stored.method} tree "
                                                f"({stored.linkage} linkage on {stored.distance})")
    if missing:
        why = f"the other side lacks {missing} of its classes"
    elif stored is not None:
        why = f"its {stored.method} ordering has no tree"
    else:
        why = "a similarity without an ordering"
    built = hclust(matrix, classes=classes, hclust_backend="python")
    return _Tree(built, np.arange(len(classes)),
                 f"built: hclust, complete linkage on 1-r of the {len(classes)} common classes "
                 f"(Python twin of R's hclust), because {why}")


def _common_order(rule: str, sides, indices, trees, mean_matrix, classes):
    """(the common order, how it was made) by ``rule`` (:data:`ORDER_RULES`)."""
    if rule == "consensus":
        consensus = hclust(mean_matrix, classes=classes, hclust_backend="python")
        return np.asarray(consensus.order), ORDER_RULES["consensus"]
    which = "ab".index(rule)
    side, index, tree = sides[which], indices[which], trees[which]
    # A side's own ordering (any method) keeps its picture; without one, its built tree's.
    source, at = (side.ordering, index) if side.ordering is not None else (tree.ordering, tree.at)
    name = rule.upper()
    return (np.argsort(source.positions[at], kind="stable"),
            f"{name}'s {source.method} order, restricted to the common classes")


# --------------------------------------------------------------------------- writing


def check_target(folder) -> Path:
    """Refuse an output folder that holds anything but an earlier comparison's files (it
    is replaced whole); returns it as a Path (:func:`blocks_rx.results.check_target`)."""
    from .results import check_target as check_folder

    return check_folder(folder, belongs=COMPARISON_FILES.__contains__,
                        what="a blocks-rx comparison")


def write_comparison(comparison: Comparison, folder, *, dpi: int = 150) -> dict[str, Path]:
    """Write ``comparison.png``, ``moved.csv``, ``comparison.json`` and ``explorer.html`` (A,
    B and B - A to switch between, up to 5,000 classes) into ``folder``, replacing it whole (a new folder, an empty one, or an earlier comparison's; see
    :func:`check_target`). Returns the paths written, by file name."""
    from ._folders import StagedFolder
    from .explorer import FULL_RESOLUTION_UP_TO, explore
    from .names import protect_cell

    with StagedFolder(check_target(folder)) as staged:
        comparison.plot().savefig(staged.path / "comparison.png", dpi=dpi)
        table = comparison.to_frame().reset_index()
        for column in ("class", "neighbours_a", "neighbours_b"):  # no spreadsheet formulas
            table[column] = [protect_cell(cell) for cell in table[column]]
        table.to_csv(staged.path / "moved.csv", index=False, lineterminator="\n")
        (staged.path / "comparison.json").write_text(
            json.dumps(comparison.report(), indent=2) + "\n", encoding="utf-8")
        if comparison.n_classes <= FULL_RESOLUTION_UP_TO:  # A, B and B - A to explore
            explore(comparison).save(staged.path / "explorer.html")
        staged.commit()
    return {name: staged.target / name for name in COMPARISON_FILES
            if (staged.target / name).exists()}


def _json_number(value: float):
    return None if value is None or math.isnan(value) else float(value)


def _listed(names, count: int = 10) -> str:
    """``a, b, c`` (then how many more), or ``none``."""
    names = list(names)
    if not names:
        return "none"
    more = f" and {len(names) - count} more" if len(names) > count else ""
    return ", ".join(names[:count]) + more
