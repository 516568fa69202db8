"""R's ``hclust``, ``seriation::seriate()`` and ``seriation::criterion()`` on condensed distances.

Distances travel to R as one double vector and become a ``dist`` object there (attributes
``Size``, ``Diag``, ``Upper``), never as an m x m matrix. Results come back as plain arrays.
"""

from __future__ import annotations

import warnings

import numpy as np

from .session import require_seriation, session

#: Known run times of slow seriation methods: (exponent, reference classes, seconds measured
#: there on 2 cores); exponent None means exponential (branch and bound). Names match by prefix.
COSTS = {
    "OLO": (3, 2622, 8.2),
    "Spectral": (3, 2622, 24.9),
    "ARSA": (3, 200, 1.4),
    "QAP_": (3, 200, 0.3),
    "SPIN_": (3, 200, 0.7),
    "R2E": (3, 200, 0.11),
    "SA": (3, 200, 45.0),  # did not finish in 45 s at 200 classes
    "BBURCG": (None, 25, 30.0),
    "BBWRCG": (None, 25, 30.0),
}

#: Warn before running a method whose estimated time exceeds this many seconds.
WARN_SECONDS = 30.0


class SlowMethodWarning(UserWarning):
    """A seriation method is expected to take long on this many classes."""


def estimated_seconds(method: str, n: int) -> float | None:
    """Rough run time of ``method`` on ``n`` objects from :data:`COSTS`, or None if unknown.

    >>> round(estimated_seconds("OLO_complete", 5244))
    66
    """
    for prefix, (exponent, reference, seconds) in COSTS.items():
        if method.startswith(prefix) and not (prefix == "SA" and method != "SA"):
            if exponent is None:
                return float("inf") if n > reference else seconds
            return seconds * (n / reference) ** exponent
    return None


def hclust(distances: np.ndarray, n: int, linkage: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """R's ``stats::hclust`` on a condensed distance vector: (merge, height, 1-based order)."""
    result = session().call("blocks_hclust", np.asarray(distances, dtype=np.float64), n, linkage)
    return (np.asarray(result["merge"], dtype=np.int64), np.asarray(result["height"], dtype=np.float64),
            np.asarray(result["order"], dtype=np.int64))


def seriation_methods(kind: str = "dist") -> list[str]:
    """Names of the seriation methods R's seriation package registers for ``kind``."""
    return [str(m) for m in require_seriation().call("blocks_seriation_methods", kind)]


def criterion_methods(kind: str = "dist") -> list[str]:
    """Names of the criteria ``seriation::criterion()`` computes for ``kind``."""
    return [str(m) for m in require_seriation().call("blocks_criterion_methods", kind)]


def seriate(distances: np.ndarray, n: int, method: str, *, control: dict | None = None,
            seed: int = 0) -> dict:
    """Run ``seriation::seriate(d, method, control)`` after ``set.seed(seed)``.

    Returns a dict with the 1-based ``order`` and, for tree-based methods (HC, GW, OLO),
    the ``merge`` and ``height`` of the tree.
    """
    r = require_seriation()
    known = seriation_methods("dist")
    if method not in known:
        raise ValueError(f"unknown seriation method {method!r}; R's seriation offers: {', '.join(known)}")
    estimate = estimated_seconds(method, n)
    if estimate is not None and estimate > WARN_SECONDS:
        shown = "an exponential time (it may never finish)" if estimate == float("inf") \
            else f"about {estimate:,.0f} s"
        warnings.warn(f"seriation method {method} on {n:,} classes takes {shown} on 2 cores; "
                      "hclust (seconds) or GW/Spectral are faster alternatives",
                      SlowMethodWarning, stacklevel=3)
    import rpy2.robjects as robjects

    control_list = robjects.ListVector({k: _r_value(v) for k, v in (control or {}).items()})
    result = r.call("blocks_seriate", np.asarray(distances, dtype=np.float64), n, method,
                    control_list, int(seed))
    out = {"order": np.asarray(result["order"], dtype=np.int64)}
    if "merge" in result:
        out["merge"] = np.asarray(result["merge"], dtype=np.int64)
        out["height"] = np.asarray(result["height"], dtype=np.float64)
    return out


def criterion(distances: np.ndarray, n: int, order_1based, methods=None) -> dict[str, float]:
    """``seriation::criterion()`` of an order on a ``dist``: {criterion name: value}."""
    r = require_seriation()
    methods = list(methods) if methods is not None else criterion_methods("dist")
    values = r.call("blocks_criterion", np.asarray(distances, dtype=np.float64), n,
                    np.asarray(order_1based, dtype=np.int64), methods)
    return {str(name): float(np.asarray(value).ravel()[0]) for name, value in values.items()}


def _r_value(value):
    import rpy2.robjects as robjects

    if isinstance(value, bool):
        return robjects.BoolVector([value])
    if isinstance(value, int):
        return robjects.IntVector([value])
    if isinstance(value, float):
        return robjects.FloatVector([value])
    if isinstance(value, str):
        return robjects.StrVector([value])
    if isinstance(value, (list, tuple)):
        if all(isinstance(v, str) for v in value):
            return robjects.StrVector(value)
        return robjects.FloatVector([float(v) for v in value])
    raise TypeError(f"control parameter of type {type(value).__name__} cannot be passed to R")
