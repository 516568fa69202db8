"""The failed-groups residual's pair sums, compiled with numba: :func:`cross_run_sums`.

A scattered group's residual (:meth:`blocks_rx.groups.TreeBaseline.residual`) is a mean
over every pair of members in different runs of the order, and its null model scores 20 to
200 random placements the same way: up to 2e7 pairs a group. Done with numpy, each
placement built pair-index arrays, gathered the similarities at random and answered a
range-maximum query per pair (90 s of the 114 s groups step at 20,000 classes). Here one
compiled loop walks the pairs row by row, keeping the lowest common ancestor as a running
maximum of the merge steps between neighbouring members, with no temporaries.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def cross_run_sums(matrix, order, gap_step, node_mean, positions, run):
    """(sum of similarities, sum of the tree's predictions, pairs) over the pairs of
    ``positions`` (ascending positions in ``order``) whose ``run`` labels differ.

    ``gap_step[g]`` is the merge step joining the clusters either side of the gap between
    positions ``g`` and ``g + 1``; the lowest common ancestor of positions ``p < q`` is the
    latest step among the gaps ``p .. q - 1``, and ``node_mean[step]`` its prediction.
    """
    size = positions.size
    # The latest merge between each member and the next: the lca of neighbours.
    between = np.zeros(max(size - 1, 0), dtype=np.int64)
    for k in range(size - 1):
        latest = 0
        for g in range(positions[k], positions[k + 1]):
            if gap_step[g] > latest:
                latest = gap_step[g]
        between[k] = latest
    similar, expected, pairs = 0.0, 0.0, 0
    for i in range(size):
        row = order[positions[i]]
        lca = 0
        for j in range(i + 1, size):
            if between[j - 1] > lca:  # the lca of i and j is the latest merge between them
                lca = between[j - 1]
            if run[j] != run[i]:
                similar += matrix[row, order[positions[j]]]
                expected += node_mean[lca]
                pairs += 1
    return similar, expected, pairs
