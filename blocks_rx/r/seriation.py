"""R's ``hclust``, ``seriation::seriate()`` and ``seriation::criterion()`` on condensed distances.

Distances travel to R as one double vector and become a ``dist`` object there (attributes
``Size``, ``Diag``, ``Upper``), never as an m x m matrix. Results come back as plain arrays.
"""

from __future__ import annotations

import numpy as np

from .session import require_seriation, session


def hclust(distances: np.ndarray, n: int, linkage: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """R's ``stats::hclust`` on a condensed distance vector: (merge, height, 1-based order)."""
    r = session()
    distances = np.asarray(distances, dtype=np.float64)
    result = r.call("blocks_hclust", distances, n, linkage)
    out = (np.asarray(result["merge"], dtype=np.int64),
           np.asarray(result["height"], dtype=np.float64),
           np.asarray(result["order"], dtype=np.int64))
    del result
    r.free(distances.nbytes)
    return out


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
    the ``merge``, ``height`` and ``linkage`` (R's name: complete, average, ward.D2...) of
    the tree.
    """
    r = require_seriation()
    known = seriation_methods("dist")
    if method not in known:
        raise ValueError(f"unknown seriation method {method!r}; R's seriation offers: {', '.join(known)}")
    import rpy2.robjects as robjects

    control_list = robjects.ListVector({k: _r_value(v) for k, v in (control or {}).items()})
    distances = np.asarray(distances, dtype=np.float64)
    result = r.call("blocks_seriate", distances, n, method, control_list, int(seed))
    out = {"order": np.asarray(result["order"], dtype=np.int64)}
    if "merge" in result:
        out["merge"] = np.asarray(result["merge"], dtype=np.int64)
        out["height"] = np.asarray(result["height"], dtype=np.float64)
        out["linkage"] = str(result["linkage"][0])
    del result
    r.free(distances.nbytes)
    return out


def criterion(distances: np.ndarray, n: int, order_1based, methods=None) -> dict[str, float]:
    """``seriation::criterion()`` of an order on a ``dist``: {criterion name: value}."""
    r = require_seriation()
    methods = list(methods) if methods is not None else criterion_methods("dist")
    distances = np.asarray(distances, dtype=np.float64)
    values = r.call("blocks_criterion", distances, n, np.asarray(order_1based, dtype=np.int64),
                    methods)
    out = {str(name): float(np.asarray(value).ravel()[0]) for name, value in values.items()}
    del values
    r.free(distances.nbytes)
    return out


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
