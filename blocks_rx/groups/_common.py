"""Checks and statistics the group modules share."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from ..ordering import Ordering

if TYPE_CHECKING:
    from .fuzzy import Groups

def _same_classes(names, ordering: Ordering, groups: Groups | None = None) -> None:
    """Raise ValueError unless the ordering (and groups) are of the classes ``names``."""
    for what, other in (("ordering", ordering.classes),
                        ("groups", groups.classes if groups is not None else names)):
        if tuple(other) != tuple(names):
            extra = [c for c in other if c not in set(names)][:5]
            missing = [c for c in names if c not in set(other)][:5]
            detail = (f" (only in the {what}: {extra}; only in the similarity: {missing})"
                      if extra or missing else " (same classes, different order)")
            raise ValueError(f"the {what} and the similarity matrix are for different "
                             f"classes{detail}")


def _off_diagonal_mean(matrix, rows_per_stripe: int = 1024) -> float:
    """Mean of the off-diagonal entries of a square matrix (a stripe of rows at a time)."""
    n = matrix.shape[0]
    total = sum(float(np.asarray(matrix[start:start + rows_per_stripe]).sum(dtype=np.float64))
                for start in range(0, n, rows_per_stripe))
    return (total - float(np.trace(matrix))) / (n * (n - 1))


def normal_sf(z: float) -> float:
    """The one-sided p-value of ``z`` under the standard normal, ``P(Z > z)``: what
    ``scipy.stats.norm.sf`` gives, from ``math.erfc`` (importing scipy.stats takes 0.7 s).

    >>> round(normal_sf(1.959963984540054), 6), normal_sf(float("inf"))
    (0.025, 0.0)
    """
    return 0.5 * math.erfc(z / math.sqrt(2.0))
