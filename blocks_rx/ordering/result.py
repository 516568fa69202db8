"""The result of ordering the classes: a permutation and, for hierarchical methods, its tree."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from ..errors import OptionError, SimilarityError
from .._warn import warn_caller


@dataclass(frozen=True, eq=False)
class Ordering:
    """A permutation of the classes and, for hierarchical methods, the tree behind it.

    Attributes
    ----------
    order : ndarray of int (m,)
        0-based class indices, first to last.
    classes : tuple of str
    method : str
    linkage, distance : str or None
    merge : ndarray of int (m-1, 2) or None
        R's ``merge`` matrix: ``-j`` is class j (1-based), ``k`` the cluster of step k.
    height : ndarray (m-1,) or None
    hclust_backend : str or None
        Where the tree was computed: ``"r"`` (R through rpy2) or ``"python"`` (the exact
        compiled twin of R's routine); None for orderings without hclust.
    seconds : float
    note : str or None
        Why a choice was made for the user (e.g. R not used), or the control parameters.
    versions : dict
        R, rpy2 and seriation versions when R computed the order.
    """

    order: np.ndarray
    classes: tuple[str, ...]
    method: str = "hclust"
    linkage: str | None = "complete"
    distance: str | None = "1-r"
    merge: np.ndarray | None = field(default=None, repr=False)
    height: np.ndarray | None = field(default=None, repr=False)
    hclust_backend: str | None = "python"
    seconds: float = 0.0
    note: str | None = None
    versions: dict = field(default_factory=dict)

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    @property
    def ordered_classes(self) -> list[str]:
        return [self.classes[j] for j in self.order]

    @property
    def positions(self) -> np.ndarray:
        """Where each class sits in the order: the inverse permutation of :attr:`order`.

        >>> import numpy as np
        >>> Ordering(order=np.array([2, 0, 1]), classes=("a", "b", "c")).positions
        array([1, 2, 0])
        """
        positions = np.empty(len(self.order), dtype=np.int64)
        positions[np.asarray(self.order)] = np.arange(len(self.order))
        return positions

    def merge_spans(self) -> list[tuple[tuple[int, int], tuple[int, int]]]:
        """For each merge of the tree, in merge order, the two clusters it joins as half-open
        spans of positions in the order, the earlier one first (they are adjacent: clusters
        of the tree are contiguous in its order).

        >>> import numpy as np
        >>> M = np.array([[1, .9, 0, 0], [.9, 1, 0, 0], [0, 0, 1, .8], [0, 0, .8, 1]])
        >>> from blocks_rx.ordering import hclust
        >>> hclust(M, classes=list("abcd")).merge_spans()
        [((0, 1), (1, 2)), ((2, 3), (3, 4)), ((0, 2), (2, 4))]
        """
        if self.merge is None:
            raise ValueError(f"a {self.method!r} ordering has no tree")
        position = self.positions
        spans, joined = {}, []
        for step, pair in enumerate(np.asarray(self.merge), start=1):
            children = sorted((int(position[-r - 1]), int(position[-r - 1]) + 1) if r < 0
                              else spans[r] for r in map(int, pair))
            spans[step] = (children[0][0], children[1][1])
            joined.append(tuple(children))
        return joined

    def cut(self, k: int | None = None, h: float | None = None):
        """Flat groups, as R's ``cutree(tree, k = k, h = h)``: a pandas Series of group
        numbers indexed by class (input order), named ``"group"``.

        ``k`` gives the number of groups; ``h`` a height in the tree's distance units (for
        ``1-r``, ``h=0.5`` keeps the merges made at distance 0.5 or less). Groups are numbered
        1, 2, ... in order of their first class in the input order, as R numbers them.

        >>> import numpy as np
        >>> M = np.array([[1, .9, 0, 0], [.9, 1, 0, 0], [0, 0, 1, .8], [0, 0, .8, 1]])
        >>> from blocks_rx.ordering import hclust
        >>> hclust(M, classes=list("abcd")).cut(2).to_dict()
        {'a': 1, 'b': 1, 'c': 2, 'd': 2}
        >>> hclust(M, classes=list("abcd")).cut(h=0.15).tolist()
        [1, 1, 2, 3]
        """
        import pandas as pd

        if (k is None) == (h is None):
            raise ValueError("give exactly one of k (number of groups) or h (a height)")
        if h is not None:
            k = self._groups_at_height(float(h))
        index = pd.Index(self.classes, name="class")
        return pd.Series(self.cut_labels(k), index=index, name="group")

    def _groups_at_height(self, h: float) -> int:
        """How many groups cutting the tree at height ``h`` leaves (R's rule)."""
        if self.merge is None:
            raise ValueError(f"a {self.method!r} ordering has no tree to cut")
        height = np.asarray(self.height, dtype=np.float64)
        if np.any(np.diff(height) < 0):
            raise ValueError("the tree's heights are not increasing (e.g. centroid linkage), "
                             "so a height does not define a cut; give k instead")
        return self.n_classes - int(np.count_nonzero(height <= h))

    def cut_labels(self, k: int) -> np.ndarray:
        """:meth:`cut` into ``k`` groups as a bare int64 array, in input order.

        Groups are the clusters left after undoing the last ``k - 1`` merges.

        >>> import numpy as np
        >>> from blocks_rx.ordering import hclust
        >>> hclust(np.array([[1, .9, 0], [.9, 1, 0], [0, 0, 1]])).cut_labels(2)
        array([1, 1, 2])
        """
        if self.merge is None:
            raise OptionError(f"a {self.method!r} ordering has no tree to cut")
        m = self.n_classes
        if not 1 <= k <= m:
            raise OptionError(f"k must be between 1 and {m}, got {k}")
        steps = self._gap_steps
        if steps is None:  # an order that does not keep the tree's clusters together
            return self._cut_by_merging(k)
        # Undoing the last k - 1 merges splits the order at the gaps they joined.
        cluster = np.r_[0, np.cumsum(steps > m - k)][self.positions]
        first = np.full(k, m, dtype=np.int64)
        np.minimum.at(first, cluster, np.arange(m))  # each cluster's first class
        number = np.empty(k, dtype=np.int64)
        number[np.argsort(first)] = np.arange(1, k + 1)  # numbered as R numbers them
        return number[cluster]

    @cached_property
    def _gap_steps(self) -> np.ndarray | None:
        """The merge step that joins the clusters either side of each gap between
        neighbours in the order (each gap is where exactly one merge meets), or None when
        the order does not keep every cluster of the tree contiguous."""
        steps = np.zeros(max(self.n_classes - 1, 0), dtype=np.int64)
        try:
            spans = self.merge_spans()
        except KeyError:  # a merge matrix naming a later step: no tree order to read
            return None
        for step, ((_, end), (start, _)) in enumerate(spans, start=1):
            if end != start:
                return None
            steps[end - 1] = step
        return steps

    def _cut_by_merging(self, k: int) -> np.ndarray:
        """:meth:`cut_labels` by replaying the first ``m - k`` merges (union-find)."""
        m = self.n_classes
        parent = np.arange(m)

        def root(i):
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        step_member = np.empty(m - 1, dtype=np.int64)  # one class inside each merged cluster
        for step in range(m - k):
            a, b = (int(x) for x in self.merge[step])
            ra = root(-a - 1 if a < 0 else step_member[a - 1])
            rb = root(-b - 1 if b < 0 else step_member[b - 1])
            parent[rb] = ra
            step_member[step] = ra
        roots = np.array([root(i) for i in range(m)])
        _, first = np.unique(roots, return_index=True)
        number = {roots[i]: g + 1 for g, i in enumerate(sorted(first))}
        return np.array([number[r] for r in roots], dtype=np.int64)

    def to_frame(self, cuts=()):
        """The order as a DataFrame, first class first: ``position`` (1-based), ``index``
        (the class's 0-based input index), ``class``, and ``cluster_k<k>`` for each ``k`` in
        ``cuts`` (as :meth:`cut` numbers the groups). The same columns as ``order.csv``.

        >>> import numpy as np
        >>> from blocks_rx.ordering import hclust
        >>> M = np.array([[1, 0, .9], [0, 1, 0], [.9, 0, 1]])
        >>> hclust(M, classes=list("abc")).to_frame(cuts=[2]).values.tolist()
        [[1, 1, 'b', 2], [2, 0, 'a', 1], [3, 2, 'c', 1]]
        """
        import pandas as pd

        return pd.DataFrame(self.columns(cuts))

    def columns(self, cuts=()) -> dict:
        """:meth:`to_frame`'s columns, by name, without pandas.

        >>> import numpy as np
        >>> from blocks_rx.ordering import hclust
        >>> M = np.array([[1, 0, .9], [0, 1, 0], [.9, 0, 1]])
        >>> hclust(M, classes=list("abc")).columns()["class"]
        ['b', 'a', 'c']
        """
        order = np.asarray(self.order)
        columns = {"position": np.arange(1, len(order) + 1), "index": order,
                   "class": [self.classes[j] for j in order]}
        for k in cuts:
            columns[f"cluster_k{k}"] = self.cut_labels(k)[order]
        return columns

    def _repr_html_(self) -> str:
        from ..summaries import first_names, html_summary

        rows = [("method", self.method + (f", {self.linkage} linkage on {self.distance}"
                                          if self.linkage else "")),
                ("classes in order", first_names(self.ordered_classes))]
        if self.hclust_backend:
            rows.append(("hclust computed by", "R" if self.hclust_backend == "r" else
                         "Python (R's routine, exact)"))
        if self.merge is not None:
            rows.append(("tree heights", f"{float(np.min(self.height)):.3g} to "
                                         f"{float(np.max(self.height)):.3g}"))
        if self.note:
            rows.append(("note", self.note))
        return html_summary("Ordering", rows)

    def scipy_linkage(self) -> np.ndarray:
        """The tree as a scipy linkage matrix (``scipy.cluster.hierarchy`` conventions)."""
        if self.merge is None:
            raise ValueError(f"a {self.method!r} ordering has no tree")
        m = self.n_classes
        z = np.zeros((m - 1, 4))
        size = np.zeros(m - 1)
        for step, (a, b) in enumerate(self.merge):
            ids, n = [], 0
            for x in (a, b):
                if x < 0:
                    ids.append(-x - 1)
                    n += 1
                else:
                    ids.append(m + x - 1)
                    n += size[x - 1]
            size[step] = n
            z[step] = (min(ids), max(ids), self.height[step], n)
        return z

    @property
    def backend(self) -> str | None:
        """Deprecated name of :attr:`hclust_backend`."""
        warn_caller("Ordering.backend is now Ordering.hclust_backend", DeprecationWarning)
        return self.hclust_backend

    def provenance(self) -> dict:
        """What was computed, as plain JSON-ready values."""
        out = {"method": self.method, "linkage": self.linkage, "distance": self.distance,
               "hclust_backend": self.hclust_backend, "seconds": round(self.seconds, 4)}
        if self.note:
            out["note"] = self.note
        if self.versions:
            out["versions"] = dict(self.versions)
        return out


def matrix_and_names(similarity, classes=None):
    """(matrix, class names) of a Similarity, or of a bare square matrix and optional names."""
    from ..similarity import Similarity

    if isinstance(similarity, Similarity):
        return similarity.matrix, tuple(similarity.classes)
    matrix = np.asarray(similarity)
    check_similarity_matrix(matrix)
    names = tuple(str(c) for c in classes) if classes is not None else tuple(
        f"class_{j}" for j in range(matrix.shape[0]))
    if len(names) != matrix.shape[0]:
        raise SimilarityError(f"{len(names)} class names for a {matrix.shape[0]}-class matrix")
    twice = [name for name, count in Counter(names).items() if count > 1]
    if twice:
        raise SimilarityError(f"duplicate class names: {', '.join(map(repr, twice[:5]))}")
    return matrix, names


#: How far a given similarity matrix may stray from symmetry and from [-1, 1] (rounding).
MATRIX_TOLERANCE = 1e-5


def check_similarity_matrix(matrix: np.ndarray, stripe: int = 1024) -> None:
    """Raise :class:`SimilarityError` unless ``matrix`` is a square, real, finite, symmetric
    matrix with values in [-1, 1], naming the first cell that is not.

    >>> check_similarity_matrix(np.array([[1.0, 0.5], [0.2, 1.0]]))
    Traceback (most recent call last):
    ...
    blocks_rx.errors.SimilarityError: the similarity matrix is not symmetric: [0, 1] is 0.5 but [1, 0] is 0.2
    """
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise SimilarityError(f"expected a square similarity matrix, got shape {matrix.shape}")
    if matrix.dtype.kind not in "biuf":
        raise SimilarityError(f"a similarity matrix holds real numbers, not {matrix.dtype}")
    for start in range(0, matrix.shape[0], stripe):
        rows = np.asarray(matrix[start : start + stripe], dtype=np.float64)
        for bad, what in ((~np.isfinite(rows), "a non-finite value"),
                          (np.abs(rows) > 1 + MATRIX_TOLERANCE, "a value outside [-1, 1]")):
            if bad.any():
                i, j = (int(k[0]) for k in np.nonzero(bad))
                raise SimilarityError(f"the similarity matrix holds {what}: [{start + i}, {j}] "
                                      f"is {rows[i, j]}")
        mirror = np.asarray(matrix[:, start : start + stripe], dtype=np.float64).T
        bad = np.abs(rows - mirror) > MATRIX_TOLERANCE
        if bad.any():
            i, j = (int(k[0]) for k in np.nonzero(bad))
            raise SimilarityError(f"the similarity matrix is not symmetric: [{start + i}, {j}] "
                                  f"is {rows[i, j]:g} but [{j}, {start + i}] is {mirror[i, j]:g}")


def identity(similarity, *, classes=None) -> Ordering:
    """The classes in their input order (useful as a baseline).

    >>> identity(np.eye(3), classes="abc").ordered_classes
    ['a', 'b', 'c']
    """
    matrix, names = matrix_and_names(similarity, classes)
    return Ordering(order=np.arange(matrix.shape[0]), classes=names, method="identity",
                    linkage=None, distance=None, hclust_backend=None)
