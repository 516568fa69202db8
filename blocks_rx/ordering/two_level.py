"""A two-level ordering for more classes than one hclust can hold, labelled approximate.

Exact hclust needs the m(m-1)/2 condensed distances at once: 40 GB in float64 for 100,000
classes. ``two_level`` orders such a matrix (in memory or memory-mapped from disk, read a
stripe of rows at a time) in two steps:

1. **Coarse groups.** Exact hclust on a seeded random sample of ``landmarks`` classes, cut into
   ``ceil(m / group_size)`` groups; every other class joins the group whose landmarks it is
   most similar to on average. Groups follow their landmarks' order in that tree.
2. **Within each group,** exact hclust (R-identical) orders its classes; a group still larger
   than three times ``group_size`` is split again the same way.

The order is not the one hclust on the whole matrix gives, so the result says so in its
``method`` ("two-level"), its ``note`` and its provenance, and has no single tree (no cuts
or dendrogram across groups). ``tests/test_two_level.py`` measures how far it is from the
exact order on planted and unstructured matrices (path length, planted groups kept whole).

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> F = np.repeat(np.eye(4), 30, axis=0) + 0.3 * rng.normal(size=(120, 4))
>>> F /= np.linalg.norm(F, axis=1, keepdims=True)
>>> ordering = two_level(F @ F.T, group_size=40, landmarks=60)
>>> ordering.method, sorted(ordering.order.tolist()) == list(range(120))
('two-level', True)
"""

from __future__ import annotations

import math

import numpy as np

from .hierarchical import hclust
from .result import Ordering, matrix_and_names

#: Rows read from the matrix at once (a stripe of a memory-mapped matrix).
_STRIPE = 1024
#: Recursion guard: a group larger than this many times ``group_size`` is split again.
_SPLIT_AGAIN = 3


def two_level(similarity, *, classes=None, group_size: int = 4000, landmarks: int = 2000,
              linkage: str = "complete", distance: str = "1-r", seed: int = 0) -> Ordering:
    """Order ``similarity`` by coarse groups, then exact hclust within each (approximate).

    ``similarity`` is a Similarity or a square matrix, which may be an ``np.memmap``: it is
    read a stripe of rows at a time, and the largest array made is one group's condensed
    distances (``group_size**2 / 2`` float64) or the landmarks' columns of one stripe.
    """
    matrix, names = matrix_and_names(similarity, classes)
    if group_size < 2 or landmarks < 2:
        raise ValueError("group_size and landmarks must be at least 2")
    rng = np.random.default_rng(seed)
    order, groups = _order(matrix, np.arange(matrix.shape[0]), group_size, landmarks, linkage,
                           distance, rng)
    note = (f"approximate: {groups} coarse groups from hclust of up to {landmarks} landmark "
            f"classes (seed {seed}), then exact {linkage} hclust within each group of at most "
            f"about {group_size} classes" if groups > 1 else
            "exact: every class fits one group, so this is hclust on the whole matrix")
    return Ordering(order=order, classes=names, method="two-level", linkage=linkage,
                    distance=distance, merge=None, height=None, hclust_backend="python",
                    note=note)


def _order(matrix, members, group_size, landmarks, linkage, distance, rng):
    """(order of ``members`` as global indices, number of groups made at the top)."""
    if len(members) <= group_size:
        return _exact(matrix, members, linkage, distance), 1
    chosen = np.sort(rng.choice(members, size=min(landmarks, len(members)), replace=False))
    tree = hclust(_submatrix(matrix, chosen), linkage=linkage, distance=distance,
                  hclust_backend="python")
    n_groups = min(math.ceil(len(members) / group_size), len(chosen))
    landmark_group = tree.cut_labels(n_groups) - 1
    assigned = _assign(matrix, members, chosen, landmark_group, n_groups)
    # Groups in the order their landmarks first appear in the landmarks' tree.
    ranked = list(dict.fromkeys(landmark_group[tree.order].tolist()))
    parts = []
    for group in ranked:
        inside = members[assigned == group]
        if len(inside) > _SPLIT_AGAIN * group_size:
            parts.append(_order(matrix, inside, group_size, landmarks, linkage, distance, rng)[0])
        elif len(inside):
            parts.append(_exact(matrix, inside, linkage, distance))
    return np.concatenate(parts), n_groups


def _assign(matrix, members, chosen, landmark_group, n_groups):
    """Each member's group: the one whose landmarks it is most similar to on average."""
    # Column k of ``mean`` averages the similarities to group k's landmarks.
    mean = np.zeros((len(chosen), n_groups))
    mean[np.arange(len(chosen)), landmark_group] = 1.0
    mean /= np.maximum(mean.sum(axis=0), 1.0)
    assigned = np.empty(len(members), dtype=np.int64)
    for start in range(0, len(members), _STRIPE):
        rows = members[start:start + _STRIPE]
        block = np.asarray(matrix[rows][:, chosen], dtype=np.float64)
        assigned[start:start + len(rows)] = np.argmax(block @ mean, axis=1)
    # A landmark stays in its own group.
    position = {j: i for i, j in enumerate(members.tolist())}
    assigned[[position[j] for j in chosen.tolist()]] = landmark_group
    return assigned


def _exact(matrix, members, linkage, distance):
    """Exact hclust of the members' submatrix; their global indices in its order."""
    if len(members) < 3:
        return members
    ordering = hclust(_submatrix(matrix, members), linkage=linkage, distance=distance,
                      hclust_backend="python")
    return members[ordering.order]


def _submatrix(matrix, index):
    """``matrix[np.ix_(index, index)]`` in float64, read a stripe of rows at a time."""
    out = np.empty((len(index), len(index)))
    for start in range(0, len(index), _STRIPE):
        out[start:start + _STRIPE] = matrix[index[start:start + _STRIPE]][:, index]
    return out
