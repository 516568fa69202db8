"""Orderings by R's ``seriation`` package (every method it offers for ``dist`` objects), and
its criteria, which measure how good any order is.

Each method is one entry of the ordering registry (:data:`SERIATION_METHODS` lists what
seriation 1.4 offers, with blocks-rx's own facts: whether it gives a tree, whether it is
stochastic, and how its time grows, measured here on 2 cores where known). A method that a
newer seriation adds is looked up in R when named. Distances travel to R as one vector, and
``set.seed(seed)`` runs first, so stochastic methods are reproducible.
"""

from __future__ import annotations

import time

from ..registry import Cost
from .distances import condensed_distance
from .result import Ordering, matrix_and_names
from .._warn import warn_caller

#: Warn before running a method whose estimated time exceeds this many seconds.
WARN_SECONDS = 30.0


class SlowMethodWarning(UserWarning):
    """An ordering method is expected to take long (or forever) on this many classes."""


_HC = "leaf order of hierarchical clustering"
#: seriation's methods for dist objects: name -> (description, gives a tree, stochastic, cost).
#: Costs are (exponent, classes, seconds) measured on this project's 2-core machines.
SERIATION_METHODS = {
    "ARSA": ("anti-Robinson simulated annealing (Brusco et al. 2008)", False, True,
             Cost("polynomial", 3, 200, 1.4)),
    "BBURCG": ("branch and bound, unweighted row/column gradient (Brusco & Stahl 2005)",
               False, False, Cost("exponential", reference_m=25, reference_seconds=30.0)),
    "BBWRCG": ("branch and bound, weighted row/column gradient (Brusco & Stahl 2005)",
               False, False, Cost("exponential", reference_m=25, reference_seconds=30.0)),
    "GW": (f"{_HC}, reordered by Gruvaeus & Wainer's heuristic", True, False, Cost()),
    "GW_average": ("GW on average linkage", True, False, Cost()),
    "GW_complete": ("GW on complete linkage", True, False, Cost()),
    "GW_single": ("GW on single linkage", True, False, Cost()),
    "GW_ward": ("GW on Ward's linkage", True, False, Cost()),
    "HC": (f"{_HC} (R's hclust through seriation)", True, False, Cost()),
    "HC_average": (f"{_HC}, average linkage", True, False, Cost()),
    "HC_complete": (f"{_HC}, complete linkage", True, False, Cost()),
    "HC_single": (f"{_HC}, single linkage", True, False, Cost()),
    "HC_ward": (f"{_HC}, Ward's linkage", True, False, Cost()),
    "Identity": ("the input order (seriation's)", False, False, Cost("constant")),
    "MDS": ("first component of multidimensional scaling", False, False, Cost()),
    "MDS_angle": ("angle in the first two MDS components (Friendly 2002)", False, False, Cost()),
    "MDS_metric": ("first component of metric MDS (cmdscale)", False, False, Cost()),
    "MDS_nonmetric": ("first component of non-metric MDS (isoMDS)", False, False, Cost()),
    "OLO": (f"{_HC}, optimal leaf ordering (Bar-Joseph et al. 2001)", True, False,
            Cost("polynomial", 3, 2622, 8.2)),
    "OLO_average": ("OLO on average linkage", True, False, Cost("polynomial", 3, 2622, 8.2)),
    "OLO_complete": ("OLO on complete linkage", True, False, Cost("polynomial", 3, 2622, 8.2)),
    "OLO_single": ("OLO on single linkage", True, False, Cost("polynomial", 3, 2622, 8.2)),
    "OLO_ward": ("OLO on Ward's linkage", True, False, Cost("polynomial", 3, 2622, 8.2)),
    "QAP_2SUM": ("quadratic assignment by simulated annealing, 2-sum criterion", False, True,
                 Cost("polynomial", 3, 200, 0.3)),
    "QAP_BAR": ("quadratic assignment, banded anti-Robinson form", False, True,
                Cost("polynomial", 3, 200, 0.3)),
    "QAP_Inertia": ("quadratic assignment, inertia criterion", False, True,
                    Cost("polynomial", 3, 200, 0.3)),
    "QAP_LS": ("quadratic assignment, linear seriation criterion", False, True,
               Cost("polynomial", 3, 200, 0.3)),
    "R2E": ("rank-two ellipse seriation", False, False, Cost("polynomial", 3, 200, 0.11)),
    "Random": ("a random permutation", False, True, Cost("constant")),
    "SA": ("simulated annealing of a seriation criterion (did not finish in 45 s at 200 "
           "classes)", False, True, Cost("polynomial", 3, 200, 45.0)),
    "Spectral": ("Fiedler vector of the Laplacian (Ding & He 2004)", False, False,
                 Cost("polynomial", 3, 2622, 24.9)),
    "Spectral_norm": ("Fiedler vector of the normalized Laplacian", False, False,
                      Cost("polynomial", 3, 2622, 24.9)),
    "SPIN_NH": ("sorting points into neighbourhoods, neighbourhood algorithm (Tsafrir 2005)",
                False, True, Cost("polynomial", 3, 200, 0.7)),
    "SPIN_STS": ("sorting points into neighbourhoods, side-to-side algorithm", False, True,
                 Cost("polynomial", 3, 200, 0.7)),
    "TSP": ("shortest Hamiltonian path by a TSP solver", False, True, Cost()),
    "VAT": ("visual assessment of cluster tendency: Prim's minimum spanning tree order "
            "(Bezdek & Hathaway 2002)", False, False, Cost()),
}


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
        ``OLO``, ``GW``, ``Spectral``, ``TSP``, ``VAT``, ``ARSA``, ``QAP_2SUM``, ...
        (``blocks-rx methods`` lists them). Slow ones (OLO is O(m^3)) warn with an
        estimate before running on many classes.
    distance : str
        One of :data:`~blocks_rx.ordering.DISTANCES`.
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
    from ..r import seriation as r_seriation
    from ..r.session import session

    matrix, names = matrix_and_names(similarity, classes)
    warn_if_slow(method, len(names))
    started = time.perf_counter()
    result = r_seriation.seriate(condensed_distance(matrix, distance), len(names), method,
                                 control=control, seed=seed)
    return Ordering(
        order=result["order"] - 1, classes=names, method=method,
        linkage=result.get("linkage"), distance=distance, merge=result.get("merge"),
        height=result.get("height"),
        hclust_backend="r" if "merge" in result else None,
        seconds=time.perf_counter() - started,
        note=None if not control else f"control={control}", versions=session().versions,
    )


def estimated_seconds(method: str, m: int) -> float | None:
    """Rough run time of an ordering ``method`` on ``m`` classes, or None if unknown.

    >>> round(estimated_seconds("OLO_complete", 5244))
    66
    """
    from .registry import ORDERINGS

    try:
        return ORDERINGS[method].cost.seconds(m)
    except KeyError:
        return None


def slow_warning(method: str, m: int) -> str | None:
    """The warning text for ``method`` on ``m`` classes, or None when it is quick enough."""
    estimate = estimated_seconds(method, m)
    if estimate is None or estimate <= WARN_SECONDS:
        return None
    from .registry import ORDERINGS

    shown = ("an exponential time (it may never finish)" if estimate == float("inf")
             else f"about {estimate:,.0f} s")
    advice = ("; hclust or GW are much faster alternatives"
              if ORDERINGS[method].family == "seriation" else "")
    return f"ordering method {method} on {m:,} classes takes {shown} on 2 cores{advice}"


def warn_if_slow(method: str, m: int) -> None:
    """Warn, before the work starts, when ``method`` is expected to be slow on ``m`` classes."""
    text = slow_warning(method, m)
    if text:
        warn_caller(text, SlowMethodWarning)


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
    from ..r import seriation as r_seriation

    matrix, names = matrix_and_names(similarity, None)
    distance = distance or ordering.distance or "1-r"
    return r_seriation.criterion(condensed_distance(matrix, distance), len(names),
                                 ordering.order + 1, methods)
