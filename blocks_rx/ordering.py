"""Orderings of the classes: R's hclust (in R or its exact Python twin), R's seriation
methods, a taxonomy's order; flat cuts and seriation criteria.

The paper orders the similarity matrix with R's ``hclust`` (complete linkage). The Python
backend is a compiled port of R's own routine (``blocks_rx._rhclust``), so without R the
``merge``, ``height`` and ``order`` are R's exactly, ties included; with R (``backend="r"``)
the same numbers come from ``stats::hclust`` through rpy2. The ordered matrix is the one
that was clustered: distances are derived from the matrix exactly as stored (float32 values
widened to float64, as R reads them).

Methods by name: :data:`METHODS` (built in) plus every ``seriation::seriate()`` method for
``dist`` objects (``OLO``, ``GW``, ``Spectral``, ``TSP``, ``VAT``, ...), which run in R.
"""

from __future__ import annotations

import time
import warnings
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

#: Ordering methods built in; any other name is looked up among R's seriation methods.
METHODS = {
    "hclust": "Hierarchical clustering (R's hclust); leaves in R's dendrogram order.",
    "taxonomy": "Grouped by a class -> path taxonomy, groups in the taxonomy's own order.",
    "identity": "The input order of the classes.",
}

BACKENDS = ("auto", "r", "python")

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
    note: str | None = None
    versions: dict = field(default_factory=dict)

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
        out = {"method": self.method, "linkage": self.linkage, "distance": self.distance,
               "backend": self.backend, "seconds": round(self.seconds, 4)}
        if self.note:
            out["note"] = self.note
        if self.versions:
            out["versions"] = dict(self.versions)
        return out


def condensed_distance(matrix, distance: str = "1-r") -> np.ndarray:
    """Distances between classes as R's ``dist`` vector (= scipy's condensed form).

    Values come from the lower triangle, as R's ``as.dist()`` takes them, computed in
    float64 from the matrix as given.

    >>> condensed_distance(np.array([[1.0, 0.25], [0.25, 1.0]]))
    array([0.75])
    """
    if distance not in DISTANCES:
        raise ValueError(f"unknown distance {distance!r}; choose one of {', '.join(DISTANCES)}")
    M = np.asarray(matrix)
    if M.ndim != 2 or M.shape[0] != M.shape[1]:
        raise ValueError(f"expected a square similarity matrix, got shape {M.shape}")
    if not np.isfinite(M).all():
        raise ValueError("the similarity matrix holds non-finite values")
    if distance == "euclidean":
        from ._rhclust import euclidean_rows

        return euclidean_rows(np.ascontiguousarray(M, dtype=np.float64))
    # R's lower triangle, column by column: column j below the diagonal, for each j.
    m = M.shape[0]
    out = np.empty(m * (m - 1) // 2)
    start = 0
    for j in range(m - 1):
        out[start : start + m - 1 - j] = M[j + 1 :, j]
        start += m - 1 - j
    if distance == "1-|r|":
        np.abs(out, out=out)
    np.subtract(1.0, out, out=out)
    if distance == "sqrt(2(1-r))":
        out *= 2.0
        np.sqrt(out, out=out)
    return out


def hclust(
    similarity,
    *,
    linkage: str = "complete",
    distance: str = "1-r",
    backend: str = "python",
    classes=None,
) -> Ordering:
    """Hierarchical clustering of the classes, identical to R's ``hclust``.

    Parameters
    ----------
    similarity : Similarity or ndarray (m, m)
    linkage : str
        One of :data:`LINKAGES` (R's names). The paper uses ``complete``.
    distance : str
        One of :data:`DISTANCES`; ``1-r`` is the paper's and corrplot's convention.
    backend : {"python", "r", "auto"}
        ``python``: the compiled port of R's routine; ``r``: ``stats::hclust`` through rpy2;
        ``auto``: R when it can be used, else Python. Both give the same merge, height and
        order. R refuses more than 65,536 classes; ``auto`` then uses Python and says so.
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
    if linkage not in LINKAGES:
        raise ValueError(f"unknown linkage {linkage!r}; choose one of {', '.join(LINKAGES)}")
    matrix, names = _matrix_and_names(similarity, classes)
    m = matrix.shape[0]
    if m < 2:
        raise ValueError("ordering needs at least 2 classes")
    backend, note = _resolve_backend(backend, m)
    started = time.perf_counter()
    diss = condensed_distance(matrix, distance)
    versions = {}
    if backend == "r":
        from .r import seriation as r_seriation
        from .r.session import session

        merge, height, order = r_seriation.hclust(diss, m, linkage)
        versions = session().versions
    else:
        from ._rhclust import R_METHODS, hcass2, hclust_fortran

        ia, ib, crit = hclust_fortran(diss, m, R_METHODS.index(linkage) + 1, np.ones(m))
        merge, order = hcass2(m, ia, ib)
        height = crit[: m - 1].copy()
    return Ordering(
        order=order - 1, classes=names, method="hclust", linkage=linkage, distance=distance,
        merge=merge, height=height, backend=backend, seconds=time.perf_counter() - started,
        note=note, versions=versions,
    )


def _resolve_backend(backend: str, m: int) -> tuple[str, str | None]:
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    if backend == "python":
        return "python", None
    if m > R_MAX_OBJECTS:
        reason = (f"R's hclust refuses more than {R_MAX_OBJECTS:,} objects ({m:,} classes); "
                  "the Python twin gives R's result without that limit")
        if backend == "r":
            raise ValueError(reason)
        warnings.warn(reason, stacklevel=3)
        return "python", reason
    from .r.session import RUnavailable, session

    try:
        session()
    except RUnavailable as exc:
        if backend == "r":
            raise
        return "python", f"R not used: {str(exc).split('. ')[0]}"
    return "r", None


def seriate(
    similarity,
    method: str,
    *,
    distance: str = "1-r",
    control: dict | None = None,
    seed: int = 0,
    classes=None,
) -> Ordering:
    """Order the classes with any ``seriation::seriate()`` method for ``dist`` objects (in R).

    Parameters
    ----------
    similarity : Similarity or ndarray (m, m)
    method : str
        A name from ``blocks_rx.r.seriation.seriation_methods("dist")``: ``OLO``, ``GW``,
        ``Spectral``, ``TSP``, ``VAT``, ``ARSA``, ``QAP_2SUM``, ... Slow ones (OLO is
        O(m^3)) warn with an estimate before running on many classes.
    distance : str
        One of :data:`DISTANCES`.
    control : dict, optional
        The method's control parameters, passed to R as they are.
    seed : int
        ``set.seed(seed)`` runs first, so stochastic methods are reproducible.

    Examples
    --------
    >>> import numpy as np
    >>> from blocks_rx import r
    >>> M = np.array([[1, .1, .8], [.1, 1, .2], [.8, .2, 1]])
    >>> sorted(seriate(M, "OLO").order.tolist()) if r.available() else [0, 1, 2]
    [0, 1, 2]
    """
    from .r import seriation as r_seriation
    from .r.session import session

    matrix, names = _matrix_and_names(similarity, classes)
    started = time.perf_counter()
    result = r_seriation.seriate(condensed_distance(matrix, distance), len(names), method,
                                 control=control, seed=seed)
    return Ordering(
        order=result["order"] - 1, classes=names, method=method,
        linkage=None, distance=distance, merge=result.get("merge"), height=result.get("height"),
        backend="r", seconds=time.perf_counter() - started,
        note=None if not control else f"control={control}", versions=session().versions,
    )


def taxonomy_order(similarity, taxonomy, *, classes=None, separator: str = "/") -> Ordering:
    """Group the classes by a taxonomy: a class -> path mapping (``"indoor/shopping"``).

    Groups appear in the order their first class appears in the taxonomy (its own order),
    at every level; classes within a leaf group keep the taxonomy's order. Classes missing
    from the taxonomy are an error naming them.

    >>> import numpy as np
    >>> tax = {"b": "animal/bird", "x": "thing", "a": "animal/dog", "c": "animal/bird"}
    >>> taxonomy_order(np.eye(4), tax, classes=["a", "b", "c", "x"]).ordered_classes
    ['b', 'c', 'a', 'x']
    """
    matrix, names = _matrix_and_names(similarity, classes)
    paths = read_taxonomy(taxonomy)
    missing = [c for c in names if c not in paths]
    if missing:
        raise ValueError(f"{len(missing)} class(es) missing from the taxonomy: "
                         + ", ".join(repr(c) for c in missing[:10]))
    rank: dict[tuple, int] = {}
    for cls, path in paths.items():  # first appearance of every prefix, in taxonomy order
        parts = tuple(p for p in path.split(separator) if p)
        for depth in range(1, len(parts) + 1):
            rank.setdefault(parts[:depth], len(rank))
    position = {cls: i for i, cls in enumerate(paths)}

    def key(j):
        parts = tuple(p for p in paths[names[j]].split(separator) if p)
        return [rank[parts[:d]] for d in range(1, len(parts) + 1)], position[names[j]]

    order = np.array(sorted(range(len(names)), key=key), dtype=np.int64)
    return Ordering(order=order, classes=names, method="taxonomy", linkage=None, distance=None)


def read_taxonomy(taxonomy) -> dict[str, str]:
    """A class -> path dict from a mapping, or a CSV/TSV file with columns ``class, path``."""
    if isinstance(taxonomy, dict):
        return {str(k): str(v) for k, v in taxonomy.items()}
    import pandas as pd

    path = str(taxonomy)
    try:
        table = pd.read_csv(path, sep="\t" if path.endswith(".tsv") else ",", dtype=str)
    except FileNotFoundError:
        raise ValueError(f"{path}: no such taxonomy file") from None
    if table.shape[1] < 2:
        raise ValueError(f"{path}: a taxonomy file needs two columns, class and path")
    duplicated = table.iloc[:, 0][table.iloc[:, 0].duplicated()].tolist()
    if duplicated:
        raise ValueError(f"{path}: classes listed twice: {', '.join(map(repr, duplicated[:5]))}")
    return dict(zip(table.iloc[:, 0].astype(str), table.iloc[:, 1].fillna("").astype(str)))


def taxonomy_levels(ordering: Ordering, taxonomy, *, separator: str = "/", depth: int | None = None):
    """Runs of equal taxonomy terms along the order, per level: the bands of Fig. 2b.

    Returns a list (top level first) of lists of ``(start, end, term)``, ``end`` exclusive.

    >>> import numpy as np
    >>> tax = {"a": "x/p", "b": "x/q", "c": "y/r"}
    >>> taxonomy_levels(identity(np.eye(3), classes="abc"), tax)
    [[(0, 2, 'x'), (2, 3, 'y')], [(0, 1, 'p'), (1, 2, 'q'), (2, 3, 'r')]]
    """
    paths = read_taxonomy(taxonomy)
    parts = [[p for p in paths.get(c, "").split(separator) if p] for c in ordering.ordered_classes]
    deepest = max(len(p) for p in parts)
    levels = []
    for level in range(min(depth or deepest, deepest)):
        terms = [p[level] if len(p) > level else "" for p in parts]
        runs, start = [], 0
        for position in range(1, len(terms) + 1):
            if position == len(terms) or terms[position] != terms[start]:
                runs.append((start, position, terms[start]))
                start = position
        levels.append(runs)
    return levels


def spans(ordering: Ordering, groups, *, names=None, taxonomy=None, min_size: int = 2,
          separator: str = "/"):
    """Contiguous runs of one group along the order, labelled: the spans of Fig. 4b.

    Parameters
    ----------
    ordering : Ordering
    groups : array (m,)
        A group per class, in input order (e.g. ``ordering.cut(6)``).
    names : dict, optional
        Label per group. Otherwise, with a ``taxonomy``, the deepest taxonomy term shared by
        more than half of the span's classes (else the most frequent top-level term), and
        without one, ``group N``.
    min_size : int
        Runs shorter than this are left out.

    Returns
    -------
    list of (start, end, label)

    >>> import numpy as np
    >>> o = identity(np.eye(4), classes="abcd")
    >>> spans(o, [1, 1, 2, 2], names={1: "first", 2: "second"})
    [(0, 2, 'first'), (2, 4, 'second')]
    """
    groups = np.asarray(groups)[ordering.order]
    paths = read_taxonomy(taxonomy) if taxonomy is not None else None
    out, start = [], 0
    for position in range(1, len(groups) + 1):
        if position < len(groups) and groups[position] == groups[start]:
            continue
        if position - start >= min_size:
            group = groups[start]
            if names is not None:
                label = str(names.get(group, names.get(int(group), f"group {group}")))
            elif paths is not None:
                label = _shared_term(ordering.ordered_classes[start:position], paths, separator)
            else:
                label = f"group {group}"
            out.append((start, position, label))
        start = position
    return out


def _shared_term(members, paths, separator):
    from collections import Counter

    parts = [[p for p in paths.get(c, "").split(separator) if p] for c in members]
    for level in range(max(len(p) for p in parts) - 1, -1, -1):
        counts = Counter(p[level] for p in parts if len(p) > level)
        if counts:
            term, count = counts.most_common(1)[0]
            if count > len(members) / 2:
                return term
    counts = Counter(p[0] for p in parts if p)
    return counts.most_common(1)[0][0] if counts else ""


def confusion_ordering(confusion, *, classes=None, linkage: str = "complete") -> Ordering:
    """Order classes by clustering their confusion pattern (the authors' notebook baseline).

    Rows of the symmetrised confusion matrix without its diagonal (who is confused with whom,
    either way) are correlated, and the result is ordered with R-identical hclust on ``1-r``.
    Classes never confused with any other have no pattern and sit at correlation 0.
    """
    from .similarity import compute

    C = np.asarray(confusion, dtype=np.float64)
    pattern = C + C.T
    np.fill_diagonal(pattern, 0.0)
    names = tuple(classes) if classes is not None else tuple(f"class_{j}" for j in range(len(C)))
    sim = compute(pattern, out_dtype=np.float64, warn=False)
    ordering = hclust(sim.matrix, linkage=linkage, classes=names)
    from dataclasses import replace

    return replace(ordering, method="confusion-hclust")


def identity(similarity, *, classes=None) -> Ordering:
    """The classes in their input order (useful as a baseline)."""
    matrix, names = _matrix_and_names(similarity, classes)
    return Ordering(order=np.arange(matrix.shape[0]), classes=names, method="identity",
                    linkage=None, distance=None)


def order_classes(similarity, method: str = "hclust", **options) -> Ordering:
    """Order the classes by name: ``hclust``, ``taxonomy``, ``identity`` or a seriation method.

    Options go to :func:`hclust`, :func:`taxonomy_order` (``taxonomy=``) or :func:`seriate`.

    >>> import numpy as np
    >>> order_classes(np.eye(3), "identity").order
    array([0, 1, 2])
    """
    if method == "hclust":
        return hclust(similarity, **options)
    if method == "taxonomy":
        if options.get("taxonomy") is None:
            raise ValueError("the taxonomy order needs a taxonomy (a class -> path table)")
        return taxonomy_order(similarity, options["taxonomy"], classes=options.get("classes"))
    if method == "identity":
        return identity(similarity, classes=options.get("classes"))
    from .r.session import RUnavailable

    try:
        return seriate(similarity, method, **{k: v for k, v in options.items()
                                              if k in ("distance", "control", "seed", "classes")})
    except RUnavailable as exc:
        raise RUnavailable(f"ordering method {method!r} is not built in ({', '.join(METHODS)}); "
                           f"R's seriation methods need R: {exc}") from None


def criteria(similarity, ordering: Ordering, *, methods=None, distance: str | None = None) -> dict:
    """``seriation::criterion()`` values of an ordering, to compare orderings by number.

    Parameters
    ----------
    similarity : Similarity or ndarray
    ordering : Ordering
    methods : list of str, optional
        Criterion names (``AR_events``, ``Gradient_raw``, ``Path_length``, ``Moore_stress``,
        ...); default all that seriation offers for ``dist``.
    distance : str, optional
        Distance to measure on; default the ordering's own, else ``1-r``.
    """
    from .r import seriation as r_seriation

    matrix, names = _matrix_and_names(similarity, None)
    distance = distance or ordering.distance or "1-r"
    return r_seriation.criterion(condensed_distance(matrix, distance), len(names),
                                 ordering.order + 1, methods)


def _matrix_and_names(similarity, classes):
    """(matrix, class names) of a Similarity, or of a bare square matrix and optional names."""
    if isinstance(similarity, Similarity):
        return similarity.matrix, tuple(similarity.classes)
    matrix = np.asarray(similarity)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise ValueError(f"expected a square similarity matrix, got shape {matrix.shape}")
    names = tuple(str(c) for c in classes) if classes is not None else tuple(
        f"class_{j}" for j in range(matrix.shape[0]))
    if len(names) != matrix.shape[0]:
        raise ValueError(f"{len(names)} class names for a {matrix.shape[0]}-class matrix")
    return matrix, names
