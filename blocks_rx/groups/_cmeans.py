"""Fuzzy c-means as scikit-fuzzy 0.5.0 computes it, compiled with numba: :func:`cmeans`.

:func:`cmeans` takes and returns what ``skfuzzy.cluster.cmeans(data, c, m, error, maxiter,
init=init)`` does (scikit-fuzzy 0.5.0, Euclidean metric, explicit ``init``), and runs the
same steps (``skfuzzy.cluster._cmeans._cmeans0``) from the same start, ``max(init, eps)``:

1. memberships ``u`` (c x n) normalised over the groups, floored at machine epsilon;
   weights ``um = u ** m``;
2. centres ``um @ x / um.sum(axis=1)``;
3. distances ``d`` from every point to every centre, floored at epsilon; the objective
   ``jm = sum(um * d ** 2)``;
4. new memberships ``d ** (-2 / (m - 1))`` normalised over the groups, the way
   scikit-fuzzy's ``normalize_power_columns`` computes them: ``d`` over its largest value
   for the point, floored at epsilon, over its smallest (so the powers stay finite for a
   fuzzifier near 1, and a point on a centre gets membership 1 there), then the power;
5. stop after ``maxiter`` steps, or once the Frobenius norm of the change in ``u`` over
   the step is below ``error``.

It returns ``(centres, u, u0, d, jm, p, fpc)``: ``jm`` the objective after each of the ``p``
steps, ``fpc = sum(u ** 2) / n``.

Why a twin: :func:`~blocks_rx.groups.fuzzy_groups` fits candidate numbers of groups (2 to
32; all of them for a partition index) from three starts each. On the correlations of benchmarks/analyze.py's 100,000 x
2,622 logits that is 93 fits and 13,457 steps, and scikit-fuzzy makes every step a dozen
numpy passes over c x n arrays (temporaries, transposes, ``cdist``, ``pow``, BLAS products
that wake a second thread for a few microseconds of work): 18.8 s of fuzzy_groups' 19.6 s.
Here a step is two products and four passes over preallocated arrays, compiled and
vectorised across the points, single-threaded: the same 13,457 steps take about 2.5 s.
``python benchmarks/groups.py --compare-skfuzzy --logits 100000`` times fuzzy_groups both
ways and checks that the results agree.

What differs is rounding only (tests/test_groups.py compares centres, memberships,
distances, objectives, step counts and ``fpc`` with scikit-fuzzy's, to 1e-9):

- step 4 works on squared distances (floored at ``eps ** 2``, over the largest, floored,
  over the smallest, to the power ``-1 / (m - 1)``): step 4 squared, without square roots;
- a division by a value per point or per group is a product with its reciprocal, and for
  the default fuzzifier, 2, ``x ** 2`` is ``x * x`` and ``x ** -1`` is ``1 / x``;
- the centres' weighted sums over the points are added in another order than BLAS's, and
  the objective, the stopping norm and ``fpc`` in another order than numpy's.

Distances are sums of squared differences feature by feature, as ``cdist`` computes them,
not ``|x|^2 + |c|^2 - 2 x.c``, which loses the small distances to cancellation.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_EPS = float(np.finfo(np.float64).eps)


def cmeans(data, c: int, m: float, error: float, maxiter: int, init):
    """Fuzzy c-means from the memberships ``init``: ``skfuzzy.cluster.cmeans``'s result.

    Parameters
    ----------
    data : ndarray (S, N)
        N points of S features (scikit-fuzzy's layout).
    c : int
        Number of groups.
    m : float
        Fuzzifier, > 1.
    error, maxiter
        Stop once the change in memberships over a step has Frobenius norm below
        ``error``, or after ``maxiter`` steps.
    init : ndarray (c, N)
        Starting memberships.

    Returns
    -------
    centres (c, S), u (c, N), u0 (c, N), d (c, N), jm (p,), p, fpc
        As scikit-fuzzy's: final centres, memberships, the starting memberships, distances
        from the centres, the objective after each step, the number of steps and the fuzzy
        partition coefficient.

    >>> import numpy as np
    >>> points = np.array([[0.0, 0.1, 5.0, 5.1], [0.0, 0.0, 1.0, 1.0]])
    >>> init = np.array([[0.9, 0.8, 0.3, 0.1], [0.1, 0.2, 0.7, 0.9]])
    >>> centres, u, *_, p, fpc = cmeans(points, 2, 2.0, 1e-6, 100, init)
    >>> np.round(centres, 2).tolist(), u.argmax(axis=0).tolist(), round(fpc, 3)
    ([[0.05, 0.0], [5.05, 1.0]], [0, 0, 1, 1], 1.0)
    """
    if not m > 1:
        raise ValueError(f"the fuzzifier m must be > 1, got {m}")
    if maxiter < 1:  # scikit-fuzzy fails there too (it reads the step's memberships)
        raise ValueError(f"maxiter must be at least 1, got {maxiter}")
    data = np.asarray(data, dtype=np.float64)
    dims, n = data.shape
    u0 = np.asarray(init, dtype=np.float64)
    if u0.shape != (c, n):
        raise ValueError(f"init must have shape (c, N) = ({c}, {n}), got {u0.shape}")
    start = np.ascontiguousarray(np.fmax(u0, _EPS))  # the compiled steps' own copy
    centres, u, squared, jm, p = _iterate(_padded_features(data), dims, start, float(m),
                                          float(error), int(maxiter))
    fpc = float(np.sum(u * u) / n)
    distances = np.sqrt(np.fmax(squared[:c], _EPS * _EPS))
    return centres[:c, :dims].copy(), u, u0, distances, jm[:p], p, fpc


def _padded_features(data):
    """The features (S x N) and below them a row of ones, then rows of zeros to a multiple of
    4 rows: the centres' weighted sums and their total weights come from one product, and
    as every centre holds the same 1 and 0s there, those rows add 0 to distances."""
    dims, n = data.shape
    padded = np.zeros((_round_up(dims + 1, 4), n))
    padded[:dims] = data
    padded[dims] = 1.0
    return padded


@njit(cache=True)
def _round_up(value, multiple):
    """The least multiple of ``multiple`` not below ``value``."""
    return -(-value // multiple) * multiple


@njit(cache=True, error_model="numpy")
def _iterate(features, dims, u, m, error, maxiter):
    """Run the steps from memberships ``u`` (c x n, floored at epsilon); ``features`` from
    :func:`_padded_features`.

    Returns (centres, u, squared distances, objectives, steps); centres and distances have
    a row of padding below the ``c`` groups when ``c`` is odd.
    """
    c, n = u.shape
    # The compiled products take 4 groups at a time for the centres, 2 for distances: pad
    # with groups of weight 0.
    weights = np.zeros((_round_up(c, 4), n))
    sums = np.empty((weights.shape[0], features.shape[0]))
    centres = np.zeros((_round_up(c, 2), features.shape[0]))
    centres[:, dims] = 1.0  # the ones row of ``features``: no contribution to distances
    squared = np.empty((centres.shape[0], n))
    new_u = np.empty((c, n))
    per_point = np.empty((4, n))  # scratch, one value per point
    column_sums = np.zeros(n)
    for k in range(c):  # in numpy's order: over the groups, one by one
        for i in range(n):
            column_sums[i] += u[k, i]
    objectives = np.zeros(maxiter)
    distance_rows = _round_up(dims, 4)
    p = 0
    while p < maxiter:
        _weights(u, m, column_sums, weights)
        _weighted_sums(weights, features, sums)
        for k in range(c):
            scale = 1.0 / sums[k, dims]
            for feature in range(dims):
                centres[k, feature] = sums[k, feature] * scale
        _squared_distances(features[:distance_rows], centres, squared)
        objectives[p], change = _memberships(squared, weights, u, m, new_u, column_sums,
                                             per_point)
        u, new_u = new_u, u  # this step's output is the next one's input
        p += 1
        if np.sqrt(change) < error:
            break
    return centres, u, squared, objectives, p


@njit(cache=True, error_model="numpy")
def _weights(u, m, column_sums, weights):
    """Step 1: ``max(u / column sums, eps) ** m`` into the first rows of ``weights``;
    ``column_sums`` becomes their reciprocals."""
    c = u.shape[0]
    for i in range(u.shape[1]):
        column_sums[i] = 1.0 / column_sums[i]
    for k in range(c):
        if m == 2.0:  # the default fuzzifier: a product, not pow (the test outside the loop
            for i in range(u.shape[1]):  # lets the loop vectorise)
                share = max(u[k, i] * column_sums[i], _EPS)
                weights[k, i] = share * share
        else:
            for i in range(u.shape[1]):
                weights[k, i] = max(u[k, i] * column_sums[i], _EPS) ** m


@njit(cache=True, error_model="numpy", fastmath={"reassoc", "contract"})
def _weighted_sums(weights, features, sums):
    """``sums = weights @ features.T``, 4 groups x 4 features at a time (both multiples of
    4): each point's 8 values are loaded once for 16 products. Reassociation lets the sums
    over the points vectorise."""
    n = weights.shape[1]
    for k in range(0, weights.shape[0], 4):
        for f in range(0, features.shape[0], 4):
            s00 = s01 = s02 = s03 = s10 = s11 = s12 = s13 = 0.0
            s20 = s21 = s22 = s23 = s30 = s31 = s32 = s33 = 0.0
            for i in range(n):
                w0, w1, w2, w3 = weights[k, i], weights[k + 1, i], weights[k + 2, i], \
                    weights[k + 3, i]
                x0, x1, x2, x3 = features[f, i], features[f + 1, i], features[f + 2, i], \
                    features[f + 3, i]
                s00 += w0 * x0
                s01 += w0 * x1
                s02 += w0 * x2
                s03 += w0 * x3
                s10 += w1 * x0
                s11 += w1 * x1
                s12 += w1 * x2
                s13 += w1 * x3
                s20 += w2 * x0
                s21 += w2 * x1
                s22 += w2 * x2
                s23 += w2 * x3
                s30 += w3 * x0
                s31 += w3 * x1
                s32 += w3 * x2
                s33 += w3 * x3
            sums[k, f:f + 4] = (s00, s01, s02, s03)
            sums[k + 1, f:f + 4] = (s10, s11, s12, s13)
            sums[k + 2, f:f + 4] = (s20, s21, s22, s23)
            sums[k + 3, f:f + 4] = (s30, s31, s32, s33)


@njit(cache=True, error_model="numpy")
def _squared_distances(features, centres, squared):
    """Step 3's squared distances, ``sum((x - centre) ** 2)`` over the features in order
    (as ``cdist`` adds them), 2 centres x 4 features at a time: each point's features are
    loaded once for 8 differences."""
    n = squared.shape[1]
    for k in range(0, squared.shape[0], 2):
        squared[k, :] = 0.0
        squared[k + 1, :] = 0.0
        for f in range(0, features.shape[0], 4):
            a0, a1, a2, a3 = centres[k, f], centres[k, f + 1], centres[k, f + 2], \
                centres[k, f + 3]
            b0, b1, b2, b3 = centres[k + 1, f], centres[k + 1, f + 1], centres[k + 1, f + 2], \
                centres[k + 1, f + 3]
            for i in range(n):
                x0, x1, x2, x3 = features[f, i], features[f + 1, i], features[f + 2, i], \
                    features[f + 3, i]
                squared[k, i] = ((((squared[k, i] + (x0 - a0) ** 2) + (x1 - a1) ** 2)
                                  + (x2 - a2) ** 2) + (x3 - a3) ** 2)
                squared[k + 1, i] = ((((squared[k + 1, i] + (x0 - b0) ** 2) + (x1 - b1) ** 2)
                                      + (x2 - b2) ** 2) + (x3 - b3) ** 2)


@njit(cache=True, error_model="numpy")
def _memberships(squared, weights, u, m, new_u, column_sums, per_point):
    """Steps 3 and 4 on squared distances: new memberships into ``new_u`` and their column
    sums into ``column_sums`` (for the next step 1); returns the objective and the squared
    norm of ``new_u - u``. ``per_point`` (4 x n) is scratch.

    Every loop runs over the points, so it vectorises without reordering any sum over the
    groups.
    """
    c, n = u.shape
    floor = _EPS * _EPS
    largest, scale, total, accumulated = per_point[0], per_point[1], per_point[2], per_point[3]
    largest[:] = 0.0
    scale[:] = np.inf  # the nearest first
    accumulated[:] = 0.0  # the objective, point by point
    for k in range(c):
        for i in range(n):
            q = max(squared[k, i], floor)
            largest[i] = max(largest[i], q)
            scale[i] = min(scale[i], q)
            accumulated[i] += weights[k, i] * q
    objective = np.sum(accumulated)
    # normalize_power_columns: over the largest (floored), over the smallest, the power.
    for i in range(n):
        largest[i] = 1.0 / largest[i]
        scale[i] = 1.0 / max(scale[i] * largest[i], floor)  # the smallest ratio, inverted
    exponent = -1.0 / (m - 1.0)  # on squared distances: d ** (-2 / (m - 1))
    total[:] = 0.0
    for k in range(c):
        if m == 2.0:  # the default fuzzifier: a division, not pow (as in _weights)
            for i in range(n):
                powered = 1.0 / (max(max(squared[k, i], floor) * largest[i], floor) * scale[i])
                new_u[k, i] = powered
                total[i] += powered
        else:
            for i in range(n):
                powered = (max(max(squared[k, i], floor) * largest[i], floor)
                           * scale[i]) ** exponent
                new_u[k, i] = powered
                total[i] += powered
    for i in range(n):
        total[i] = 1.0 / total[i]
    accumulated[:] = 0.0  # now the squared change, point by point
    column_sums[:] = 0.0
    for k in range(c):
        for i in range(n):
            value = new_u[k, i] * total[i]
            new_u[k, i] = value
            step = value - u[k, i]
            accumulated[i] += step * step
            column_sums[i] += value
    return objective, np.sum(accumulated)
