"""Orderings of the classes: R-identical hierarchical clustering, flat cuts.

The paper orders the similarity matrix with R's ``hclust`` (complete linkage). The Python
backend here is a compiled port of R's own routine (``blocks_rx._rhclust``), so without R
the ``merge``, ``height`` and ``order`` are R's exactly, ties included. The ordered matrix
is the one that was clustered: distances are derived from the matrix exactly as stored
(float32 values widened to float64, as R reads them).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from .similarity import Similarity

#: Distance transforms of a similarity matrix M, with the R expression each one mirrors.
DISTANCES = {
    "1-r": "as.dist(1 - M)",
    "1-|r|": "as.dist(1 - abs(M))",
    "sqrt(2(1-r))": "as.dist(sqrt(2 * (1 - M)))",
    "euclidean": "dist(M)",
}

#: Linkage methods of R's hclust, by R's names.
LINKAGES = ("complete", "average", "single", "ward.D", "ward.D2", "mcquitty", "median", "centroid")

#: Ordering methods available by name.
METHODS = {
    "hclust": "Hierarchical clustering (R's hclust); leaves in R's dendrogram order.",
    "identity": "The input order of the classes.",
}

#: R's hclust refuses more objects than this.
R_MAX_OBJECTS = 65536


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
    backend : str
    seconds : float
    """

    order: np.ndarray
    classes: tuple[str, ...]
    method: str = "hclust"
    linkage: str | None = "complete"
    distance: str | None = "1-r"
    merge: np.ndarray | None = field(default=None, repr=False)
    height: np.ndarray | None = field(default=None, repr=False)
    backend: str = "python"
    seconds: float = 0.0

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    @property
    def ordered_classes(self) -> list[str]:
        return [self.classes[j] for j in self.order]

    def cut(self, k: int) -> np.ndarray:
        """Flat clustering into ``k`` groups, numbered as R's ``cutree(tree, k)``.

        Groups are the clusters left after undoing the last ``k - 1`` merges, numbered
        1, 2, ... in order of their first class in the input order.

        >>> import numpy as np
        >>> M = np.array([[1, .9, 0, 0], [.9, 1, 0, 0], [0, 0, 1, .8], [0, 0, .8, 1]])
        >>> hclust(M, classes=list("abcd")).cut(2)
        array([1, 1, 2, 2])
        """
        if self.merge is None:
            raise ValueError(f"a {self.method!r} ordering has no tree to cut")
        m = self.n_classes
        if not 1 <= k <= m:
            raise ValueError(f"k must be between 1 and {m}, got {k}")
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

    def provenance(self) -> dict:
        return {"method": self.method, "linkage": self.linkage, "distance": self.distance,
                "backend": self.backend, "seconds": round(self.seconds, 4)}


def condensed_distance(matrix, distance: str = "1-r") -> np.ndarray:
    """Distances between classes as R's ``dist`` vector (= scipy's condensed form).

    Values come from the lower triangle, as R's ``as.dist()`` takes them, computed in
    float64 from the matrix as given.

    >>> condensed_distance(np.array([[1.0, 0.25], [0.25, 1.0]]))
    array([0.75])
    """
    if distance not in DISTANCES:
        raise ValueError(f"unknown distance {distance!r}; choose one of {', '.join(DISTANCES)}")
    M = np.asarray(matrix, dtype=np.float64)
    if M.ndim != 2 or M.shape[0] != M.shape[1]:
        raise ValueError(f"expected a square similarity matrix, got shape {M.shape}")
    if not np.isfinite(M).all():
        raise ValueError("the similarity matrix holds non-finite values")
    if distance == "euclidean":
        from ._rhclust import euclidean_rows

        return euclidean_rows(np.ascontiguousarray(M))
    # R's lower triangle, column by column == the transpose's upper triangle, row by row.
    r = M.T[np.triu_indices(M.shape[0], k=1)]
    if distance == "1-r":
        return 1 - r
    if distance == "1-|r|":
        return 1 - np.abs(r)
    return np.sqrt(2 * (1 - r))


def hclust(
    similarity,
    *,
    linkage: str = "complete",
    distance: str = "1-r",
    classes=None,
) -> Ordering:
    """Hierarchical clustering of the classes with R's ``hclust``, computed in Python.

    Parameters
    ----------
    similarity : Similarity or ndarray (m, m)
    linkage : str
        One of :data:`LINKAGES` (R's names). The paper uses ``complete``.
    distance : str
        One of :data:`DISTANCES`; ``1-r`` is the paper's and corrplot's convention.
    classes : sequence of str, optional
        Names, when ``similarity`` is a bare matrix.

    Returns
    -------
    Ordering
        With R's ``merge``, ``height`` and ``order`` (0-based here), identical to
        ``hclust(as.dist(1 - M), "complete")`` in R.

    Examples
    --------
    >>> import numpy as np
    >>> M = np.array([[1, .1, .8], [.1, 1, .2], [.8, .2, 1]])
    >>> hclust(M).order
    array([1, 0, 2])
    """
    from ._rhclust import R_METHODS, hcass2, hclust_fortran

    if linkage not in LINKAGES:
        raise ValueError(f"unknown linkage {linkage!r}; choose one of {', '.join(LINKAGES)}")
    matrix, names = _matrix_and_names(similarity, classes)
    m = matrix.shape[0]
    if m < 2:
        raise ValueError("ordering needs at least 2 classes")
    started = time.perf_counter()
    diss = condensed_distance(matrix, distance)
    ia, ib, crit = hclust_fortran(diss, m, R_METHODS.index(linkage) + 1, np.ones(m))
    merge, order = hcass2(m, ia, ib)
    return Ordering(
        order=order - 1, classes=names, method="hclust", linkage=linkage, distance=distance,
        merge=merge, height=crit[: m - 1].copy(), backend="python",
        seconds=time.perf_counter() - started,
    )


def identity(similarity, *, classes=None, **_ignored) -> Ordering:
    """The classes in their input order (useful as a baseline)."""
    matrix, names = _matrix_and_names(similarity, classes)
    return Ordering(order=np.arange(matrix.shape[0]), classes=names, method="identity",
                    linkage=None, distance=None)


def order_classes(similarity, method: str = "hclust", **options) -> Ordering:
    """Order the classes of a similarity matrix by a method named in :data:`METHODS`.

    >>> import numpy as np
    >>> order_classes(np.eye(3), "identity").order
    array([0, 1, 2])
    """
    if method not in METHODS:
        raise ValueError(f"unknown ordering method {method!r}; choose one of {', '.join(METHODS)}")
    return {"hclust": hclust, "identity": identity}[method](similarity, **options)


def _matrix_and_names(similarity, classes):
    if isinstance(similarity, Similarity):
        return similarity.matrix, similarity.classes
    matrix = np.asarray(similarity)
    names = tuple(str(c) for c in classes) if classes is not None else tuple(
        f"class_{j}" for j in range(matrix.shape[0]))
    if len(names) != matrix.shape[0]:
        raise ValueError(f"{len(names)} class names for a {matrix.shape[0]}-class matrix")
    return matrix, names
