"""R's ``stats::hclust`` agglomeration, ported line for line and compiled with numba.

R's result is defined by its Fortran routines ``HCLUST`` (F. Murtagh's nearest-neighbour
list algorithm, with R's fixes) and ``HCASS2`` (relabelling merges and the leaf order).
Ties are broken by the strict comparisons and scan order of that code, so a port that keeps
them gives R's ``merge``, ``height`` and ``order`` exactly, also on tie-heavy matrices where
other implementations pick a different, equally valid tree. Lance-Williams updates use R's
own expressions so heights agree to the last bit.

Indices below are 0-based; comments give R's 1-based names.
"""

from __future__ import annotations

import numpy as np
from numba import njit

#: R's method codes (``iOpt``), in the order of ``hclust``'s METHODS vector.
R_METHODS = ("ward.D", "single", "complete", "average", "mcquitty", "median", "centroid", "ward.D2")

_INF = 1.0e300  # R's "DATA INF/1.D+300/"


@njit(cache=True, inline="always")
def _offset(n, i, j):
    """Position of pair (i, j), i < j, in R's (and scipy's) condensed vector."""
    return j + i * n - (i + 1) * (i + 2) // 2


@njit(cache=True)
def hclust_fortran(diss, n, iopt, membr):
    """Port of R's ``HCLUST``: returns (ia, ib, crit), R's 1-based cluster representatives.

    ``diss`` (condensed, float64) and ``membr`` are overwritten, as in R.
    """
    ia = np.zeros(n, dtype=np.int64)
    ib = np.zeros(n, dtype=np.int64)
    crit = np.zeros(n, dtype=np.float64)
    nn = np.zeros(n, dtype=np.int64)
    disnn = np.zeros(n, dtype=np.float64)
    flag = np.ones(n, dtype=np.bool_)
    im = 0
    jj = 0
    jm = 0
    if iopt == 8:  # ward.D2 works on squared distances
        for i in range(diss.shape[0]):
            diss[i] = diss[i] * diss[i]

    # Nearest neighbour of each i to its right.
    for i in range(n - 1):
        dmin = _INF
        for j in range(i + 1, n):
            ind = _offset(n, i, j)
            if dmin > diss[ind]:
                dmin = diss[ind]
                jm = j
        nn[i] = jm
        disnn[i] = dmin

    is_ward = iopt == 1 or iopt == 8
    ncl = n
    while ncl > 1:
        # Least dissimilarity over the NN list; strict "<" keeps the first minimum.
        dmin = _INF
        for i in range(n - 1):
            if flag[i] and disnn[i] < dmin:
                dmin = disnn[i]
                im = i
                jm = nn[i]
        ncl -= 1
        i2 = min(im, jm)
        j2 = max(im, jm)
        ia[n - ncl - 1] = i2 + 1
        ib[n - ncl - 1] = j2 + 1
        if iopt == 8:
            dmin = np.sqrt(dmin)
        crit[n - ncl - 1] = dmin
        flag[j2] = False

        # Lance-Williams update of the merged cluster's dissimilarities.
        dmin = _INF
        for k in range(n):
            if flag[k] and k != i2:
                ind1 = _offset(n, i2, k) if i2 < k else _offset(n, k, i2)
                ind2 = _offset(n, j2, k) if j2 < k else _offset(n, k, j2)
                d12 = diss[_offset(n, i2, j2)]
                if is_ward:
                    diss[ind1] = (membr[i2] + membr[k]) * diss[ind1] + \
                        (membr[j2] + membr[k]) * diss[ind2] - membr[k] * d12
                    diss[ind1] = diss[ind1] / (membr[i2] + membr[j2] + membr[k])
                elif iopt == 2:
                    diss[ind1] = min(diss[ind1], diss[ind2])
                elif iopt == 3:
                    diss[ind1] = max(diss[ind1], diss[ind2])
                elif iopt == 4:
                    diss[ind1] = (membr[i2] * diss[ind1] + membr[j2] * diss[ind2]) / \
                        (membr[i2] + membr[j2])
                elif iopt == 5:
                    diss[ind1] = (diss[ind1] + diss[ind2]) / 2
                elif iopt == 6:
                    diss[ind1] = ((diss[ind1] + diss[ind2]) - d12 / 2) / 2
                elif iopt == 7:
                    diss[ind1] = (membr[i2] * diss[ind1] + membr[j2] * diss[ind2] -
                                  membr[i2] * membr[j2] * d12 / (membr[i2] + membr[j2])) / \
                        (membr[i2] + membr[j2])
                if i2 < k:
                    if diss[ind1] < dmin:
                        dmin = diss[ind1]
                        jj = k
                elif diss[ind1] < disnn[k]:
                    # R's fix for non-monotone methods: i2 may become k's nearest neighbour.
                    disnn[k] = diss[ind1]
                    nn[k] = i2
        membr[i2] = membr[i2] + membr[j2]
        disnn[i2] = dmin
        nn[i2] = jj

        # Redetermine NNs that pointed at either merged cluster.
        for i in range(n - 1):
            if flag[i] and (nn[i] == i2 or nn[i] == j2):
                dmin = _INF
                for j in range(i + 1, n):
                    if flag[j]:
                        ind = _offset(n, i, j)
                        if diss[ind] < dmin:
                            dmin = diss[ind]
                            jj = j
                nn[i] = jj
                disnn[i] = dmin
    return ia, ib, crit


@njit(cache=True)
def hcass2(n, ia, ib):
    """Port of R's ``HCASS2``: R's ``merge`` (n-1, 2) and 1-based leaf ``order``.

    Singletons become ``-index``, clusters their merge step; a singleton comes before a
    cluster and the smaller cluster first. The order lists leaves left to right, which
    HCASS2 builds by repeatedly replacing a cluster with its two parts; a depth-first walk
    gives the same sequence in O(n).
    """
    iia = ia.copy()
    iib = ib.copy()
    # Clusters are coded by their smallest member; recode later references as -step.
    last_use = np.zeros(n + 1, dtype=np.int64)  # representative -> latest step that made it
    for i in range(n - 1):
        a = ia[i]
        b = ib[i]
        if last_use[a] > 0:
            iia[i] = -last_use[a]
        if last_use[b] > 0:
            iib[i] = -last_use[b]
        last_use[min(a, b)] = i + 1
    merge = np.zeros((n - 1, 2), dtype=np.int64)
    for i in range(n - 1):
        a = -iia[i]
        b = -iib[i]
        if a > 0 and b < 0:
            a, b = b, a
        if a > 0 and b > 0 and a > b:
            a, b = b, a
        merge[i, 0] = a
        merge[i, 1] = b

    order = np.zeros(n, dtype=np.int64)
    stack = np.zeros(n, dtype=np.int64)
    top = 0
    stack[0] = n - 1  # the last merge, 1-based
    pos = 0
    while top >= 0:
        node = stack[top]
        top -= 1
        if node < 0:
            order[pos] = -node
            pos += 1
        else:
            # Push the right part first so the left part is emitted first.
            top += 1
            stack[top] = merge[node - 1, 1]
            top += 1
            stack[top] = merge[node - 1, 0]
    return merge, order


@njit(cache=True)
def euclidean_rows(x):
    """R's ``dist(x)`` (Euclidean) as a condensed vector: sequential sums, as R's C code."""
    n = x.shape[0]
    out = np.empty(n * (n - 1) // 2, dtype=np.float64)
    for i in range(n - 1):
        for j in range(i + 1, n):
            total = 0.0
            for c in range(x.shape[1]):
                dev = x[j, c] - x[i, c]
                total += dev * dev
            out[_offset(n, i, j)] = np.sqrt(total)
    return out
