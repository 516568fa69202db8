"""R's ``hclust``, in R through rpy2 or in its exact compiled twin.

The paper orders the similarity matrix with R's ``hclust`` (complete linkage). The Python
side is a compiled port of R's own routine (:mod:`blocks_rx.ordering._rhclust`), so without
R the ``merge``, ``height`` and ``order`` are R's exactly, ties included; with R
(``hclust_backend="r"``) the same numbers come from ``stats::hclust``. The ordered matrix is
the one that was clustered: distances are derived from the matrix exactly as stored.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np

from ..registry import Entry, Registry
from .distances import condensed_distance
from .result import Ordering, matrix_and_names
from .._warn import warn_caller

#: R's hclust refuses more objects than this.
R_MAX_OBJECTS = 65536
#: ``auto`` uses R up to this many classes and the twin (the same result) above: R's hclust
#: holds several copies of the distances. At 20,000 classes (benchmarks/analyze.py
#: --large) the ordering step took 38 s and raised the process to 9.8 GB through R, against
#: 16 s and 3.7 GB in the twin.
AUTO_R_UP_TO = 5000


@dataclass(frozen=True)
class Linkage(Entry):
    """An agglomeration method of R's hclust, by R's name; ``r_code`` is R's ``iOpt``."""

    r_code: int = 0


#: Linkage methods of R's hclust, by R's names (their order is that of R's METHODS vector).
LINKAGES: Registry[Linkage] = Registry("linkage")
for _code, (_name, _text) in enumerate([
    ("ward.D", "Ward's criterion on unsquared distances (R's original 'ward')"),
    ("single", "nearest neighbour: the closest pair of members"),
    ("complete", "furthest neighbour: the farthest pair of members; the paper's choice"),
    ("average", "UPGMA: the mean distance between members"),
    ("mcquitty", "WPGMA: the mean of the two merged clusters' distances"),
    ("median", "WPGMC: Gower's median (distances may decrease)"),
    ("centroid", "UPGMC: distance between centroids (distances may decrease)"),
    ("ward.D2", "Ward's criterion on squared distances (Murtagh & Legendre 2014)"),
], start=1):
    LINKAGES.register(Linkage(_name, None, _text, r_code=_code))


@dataclass(frozen=True)
class HclustBackend(Entry):
    """Where hclust runs."""


HCLUST_BACKENDS: Registry[HclustBackend] = Registry("hclust backend")
HCLUST_BACKENDS.register(HclustBackend(
    "auto", None, "R when it can be used, up to 5,000 classes; else the twin (the same result)"))
HCLUST_BACKENDS.register(HclustBackend("r", None, "stats::hclust in R, through rpy2"))
HCLUST_BACKENDS.register(HclustBackend("python", None, "the compiled port of R's routine "
                                       "(identical merge, height and order)"))


def hclust(
    similarity,
    *,
    linkage: str = "complete",
    distance: str = "1-r",
    hclust_backend: str = "python",
    classes=None,
    backend: str | None = None,
) -> Ordering:
    """Hierarchical clustering of the classes, identical to R's ``hclust``.

    Parameters
    ----------
    similarity : Similarity or ndarray (m, m)
    linkage : str
        One of :data:`LINKAGES` (R's names). The paper uses ``complete``.
    distance : str
        One of :data:`~blocks_rx.ordering.DISTANCES`; ``1-r`` is the paper's convention.
    hclust_backend : {"python", "r", "auto"}
        ``python``: the compiled port of R's routine; ``r``: ``stats::hclust`` through rpy2;
        ``auto``: R when it can be used, else Python. Both give the same merge, height and
        order. R refuses more than 65,536 classes; ``auto`` then uses Python and says so.
    classes : sequence of str, optional
        Names, when ``similarity`` is a bare matrix.
    backend : str, optional
        Deprecated name of ``hclust_backend``.

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
    if backend is not None:
        warn_caller("hclust(backend=...) is now hclust(hclust_backend=...)", DeprecationWarning)
        hclust_backend = backend
    code = LINKAGES[linkage].r_code
    matrix, names = matrix_and_names(similarity, classes)
    m = matrix.shape[0]
    if m < 2:
        raise ValueError(f"hclust needs at least 2 classes, got {m}")
    hclust_backend, note = resolve_backend(hclust_backend, m)
    started = time.perf_counter()
    diss = condensed_distance(matrix, distance)
    versions = {}
    if hclust_backend == "r":
        from ..r import seriation as r_seriation
        from ..r.session import session

        merge, height, order = r_seriation.hclust(diss, m, linkage)
        versions = session().versions
    else:
        from ._rhclust import hcass2, hclust_fortran

        ia, ib, crit = hclust_fortran(diss, m, code, np.ones(m))
        merge, order = hcass2(m, ia, ib)
        height = crit[: m - 1].copy()
    return Ordering(
        order=order - 1, classes=names, method="hclust", linkage=linkage, distance=distance,
        merge=merge, height=height, hclust_backend=hclust_backend,
        seconds=time.perf_counter() - started, note=note, versions=versions,
    )


def resolve_backend(hclust_backend: str, m: int) -> tuple[str, str | None]:
    """The backend that will run for ``m`` classes, and why, when ``auto`` chose it."""
    HCLUST_BACKENDS[hclust_backend]
    if hclust_backend == "python":
        return "python", None
    if hclust_backend == "auto" and m > AUTO_R_UP_TO:
        return "python", (f"{m:,} classes, more than {AUTO_R_UP_TO:,}: the Python twin gives "
                          "R's result with a third of R's memory")
    if m > R_MAX_OBJECTS:
        reason = (f"R's hclust refuses more than {R_MAX_OBJECTS:,} objects ({m:,} classes); "
                  "the Python twin gives R's result without that limit")
        if hclust_backend == "r":
            raise ValueError(reason)
        warn_caller(reason)
        return "python", reason
    from ..r.session import RUnavailable, session

    try:
        session()
    except RUnavailable as exc:
        if hclust_backend == "r":
            raise
        reason = str(exc).split(". ")[0]
        warn_caller(f"R is not available ({reason}); hclust runs in its Python twin, which "
                    "gives R's result")
        return "python", f"R not used: {reason}"
    return "r", None


def confusion_ordering(confusion, *, classes=None, linkage: str = "complete") -> Ordering:
    """Order classes by clustering their confusion pattern (the authors' notebook baseline).

    Rows of the symmetrised confusion matrix without its diagonal (who is confused with whom,
    either way) are correlated, and the result is ordered with R-identical hclust on ``1-r``.
    Classes never confused with any other have no pattern and sit at correlation 0.

    >>> C = np.array([[5, 2, 0], [3, 4, 0], [0, 1, 6]])
    >>> confusion_ordering(C, classes="abc").method
    'confusion-hclust'
    """
    from ..similarity import compute

    C = np.asarray(confusion, dtype=np.float64)
    pattern = C + C.T
    np.fill_diagonal(pattern, 0.0)
    names = tuple(classes) if classes is not None else tuple(f"class_{j}" for j in range(len(C)))
    sim = compute(pattern, out_dtype=np.float64, warn=False)
    return replace(hclust(sim.matrix, linkage=linkage, classes=names), method="confusion-hclust")
