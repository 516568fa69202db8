"""The leading eigenpairs of a similarity matrix, for the spectral embedding of its rows.

Dense LAPACK ``eigh`` for small matrices; above, a restarted randomized block Krylov solver
on the matrix as it is (float32), O(m k) memory beyond it (:func:`_leading_eigh`).
"""

from __future__ import annotations

import math

import numpy as np
from .._warn import warn_caller

#: Up to this many classes the spectrum is a dense eigendecomposition (LAPACK: exact, and
#: fast at this size); above, the leading eigenpairs come from :func:`_leading_eigh`.
_DENSE_MAX = 200
#: Block Krylov settings (:func:`_leading_eigh`): columns per block beyond the ``k`` wanted,
#: blocks per restart, residual tolerance relative to each eigenvalue, cap on restarts.
#: Restarts measured: 4 or 5 on benchmarks/groups.py's planted matrices (2,622 to 20,000
#: classes), 1 to 4 on the tests' (repeated eigenvalues, rank-deficient, pure noise).
_OVERSAMPLE = 16
_KRYLOV_BLOCKS = 6
_RTOL = 1e-5
_MAX_RESTARTS = 60


def _spectrum(matrix, n_samples: int, k: int):
    """The leading ``k`` eigenpairs of M (descending) and the noise edge.

    Up to :data:`_DENSE_MAX` classes, or while a Krylov basis (``7 (k + 16)`` columns) would
    span more than half the space (below 672 classes for ``k = 32``), a dense
    eigendecomposition (LAPACK's, of a float64 copy: small here). Above,
    :func:`_leading_eigh` on M as it is (float32 from a Similarity): no m x m copy, O(m k)
    memory beyond M, and each pass one m x m by m x k product; its eigenvalues agree with
    the dense ones to about 1e-7 relative (see there for what it guarantees). Either way
    each eigenvector has unit length and its largest entry positive.
    """
    M = np.asarray(matrix)
    if M.dtype not in (np.float32, np.float64):
        M = M.astype(np.float64)
    n = M.shape[0]
    k = min(n, k)
    if _use_dense(n, k):
        from scipy.linalg import eigh

        # Only the leading eigenpairs (LAPACK's MRRR subset).
        values, vectors = eigh(np.asarray(M, dtype=np.float64), subset_by_index=[n - k, n - 1])
        values, vectors = values[::-1].copy(), vectors[:, ::-1]
    else:
        values, vectors = _leading_eigh(M, k)
    # An eigenvector's sign is arbitrary: fix it (largest entry positive) for stable output.
    signs = np.sign(vectors[np.argmax(np.abs(vectors), axis=0), np.arange(k)])
    vectors = vectors * np.where(signs == 0, 1.0, signs)
    edge = (1.0 + math.sqrt(n / n_samples)) ** 2 if n_samples >= 2 else 1.0
    return values, vectors, edge


def _use_dense(n: int, k: int) -> bool:
    """Whether the top ``k`` eigenpairs of ``n`` classes come from a dense eigendecomposition."""
    return n <= _DENSE_MAX or 2 * (_KRYLOV_BLOCKS + 1) * (k + _OVERSAMPLE) > n


def _leading_eigh(M, k: int, *, seed: int = 0, rtol: float = _RTOL,
                  max_restarts: int = _MAX_RESTARTS):
    """The ``k`` largest eigenpairs of a symmetric matrix: restarted randomized block Krylov.

    Returns ``(values, vectors)``: descending float64 eigenvalues and orthonormal (m, k)
    float64 eigenvectors (signs as they come). ``M`` is used as it is, float32 or float64,
    only through products ``M @ X`` with X of ``b = k + 16`` columns (GEMMs in M's own
    precision); the basis and the small dense algebra are float64, O(m k) memory.

    Algorithm (Halko, Martinsson & Tropp 2011, Sec. 4.5; Musco & Musco 2015; thick restarts
    as in Stathopoulos & Saad's block methods): start from ``b`` Gaussian columns (fixed
    ``seed``: reproducible); build the block Krylov basis ``[Q, M Q, ..., M^6 Q]``,
    orthonormalized block by block (:func:`_orthonormal_extension`); Rayleigh-Ritz on it
    (eigenpairs of ``K^T M K``, whose products are already at hand); restart from the top
    ``b`` Ritz vectors and their images. A Krylov space holds every polynomial filter of its
    degree, so the eigenvalues of a dense bulk (noise) converge in a few restarts, where
    plain subspace (power) iteration needs ``log(tol) / log(lambda_b / lambda_k)`` passes.

    Convergence: stop when every one of the ``k`` Ritz pairs has
    ``||M v - theta v|| <= max(rtol |theta|, eps ||M||)``, ``eps`` the machine epsilon of
    M's dtype and ``||M||`` estimated by the Ritz values at both ends: below that the
    residual is the rounding of the product itself (it levels off at 0.1-0.2 ``eps ||M||``
    on float32 matrices of 2,622 to 20,000 classes). What it guarantees, for a symmetric
    M: each Ritz value is within its residual norm of an eigenvalue of M (and at most the
    eigenvalue of its rank, by Cauchy interlacing), so within ``rtol |theta|`` (1e-5
    relative) or ``eps ||M||`` (the rounding of M's own entries), whichever is larger. The
    error of a Ritz value is also quadratic in the residual, ``||r||^2 / gap``, so with
    any gap to the rest of the spectrum it is far smaller: about 1e-7 relative, measured
    against ``numpy.linalg.eigh``. The angle between a Ritz vector and its eigenvector is
    at most ``||r|| / gap`` (Davis-Kahan): vectors are unique, up to sign, only where
    eigenvalues are separated; within a (near-)repeated eigenvalue any orthonormal basis
    of its eigenspace is returned. Stops early, with a RuntimeWarning, if the residuals
    stop falling for three restarts or after ``max_restarts`` (neither seen on
    correlation matrices).
    """
    m = M.shape[0]
    b = min(k + _OVERSAMPLE, m)
    eps = float(np.finfo(M.dtype).eps)
    width = (_KRYLOV_BLOCKS + 1) * b
    Q = _orthonormal_extension(np.random.default_rng(seed).standard_normal((m, b)), None)
    W = _product(M, Q)
    best, stalled = np.inf, 0
    for _ in range(max_restarts):
        basis, images = np.empty((m, width)), np.empty((m, width))
        used = Q.shape[1]
        basis[:, :used], images[:, :used] = Q, W
        last = slice(0, used)
        for _ in range(_KRYLOV_BLOCKS):
            block = _orthonormal_extension(images[:, last].copy(), basis[:, :used])
            if block.shape[1] == 0:  # the space is invariant: nothing new to add
                break
            grown = used + block.shape[1]
            basis[:, used:grown], images[:, used:grown] = block, _product(M, block)
            last, used = slice(used, grown), grown
        basis, images = basis[:, :used], images[:, :used]
        projected = basis.T @ images
        theta, S = np.linalg.eigh((projected + projected.T) / 2)
        norm = max(-theta[0], theta[-1])  # ||M||, from both ends of the Krylov spectrum
        theta, S = theta[::-1][:b], S[:, ::-1][:, :b]
        Q, W = basis @ S, images @ S
        del basis, images
        residuals = np.linalg.norm(W[:, :k] - Q[:, :k] * theta[:k], axis=0)
        bound = np.maximum(rtol * np.abs(theta[:k]), eps * norm)
        worst = float(np.max(residuals / np.where(bound > 0, bound, np.inf)))
        if np.all(residuals <= bound):
            break
        stalled = stalled + 1 if worst > 0.9 * best else 0
        best = min(best, worst)
        if stalled >= 3:
            break
    else:
        stalled = -1
    if not np.all(residuals <= bound):
        warn_caller(f"the leading {k} eigenpairs of the similarity matrix did not converge "
            f"({'residuals stopped falling' if stalled >= 0 else f'{max_restarts} restarts'}); "
            f"the largest residual is {worst:.3g} times the tolerance", RuntimeWarning)
    return theta[:k].copy(), np.ascontiguousarray(Q[:, :k])


def _product(M, X):
    """``M @ X`` in M's precision (one GEMM; X is cast, M is not), as float64."""
    return (M @ X.astype(M.dtype, copy=False)).astype(np.float64, copy=False)


def _orthonormal_extension(Y, K):
    """An orthonormal basis of the part of the columns of ``Y`` outside ``span(K)``.

    ``K`` is None or has orthonormal columns; ``Y`` is overwritten. Classical Gram-Schmidt
    against ``K`` twice ("twice is enough"), then SVQB twice (the eigendecomposition of
    the small Gram matrix): GEMMs and a b x b eigh only, where LAPACK's QR of a tall block
    is many times slower. Directions numerically inside ``span(K)``, or dependent on the
    others, are dropped: the block may come back narrower, or empty.
    """
    scale = np.linalg.norm(Y, axis=0)
    for _ in range(2 if K is not None else 0):
        Y -= K @ (K.T @ Y)
    norms = np.linalg.norm(Y, axis=0)
    keep = norms > 1e-10 * scale
    Y = Y[:, keep] / norms[keep]
    for again in (True, False):
        if Y.shape[1] == 0:
            break
        s, U = np.linalg.eigh(Y.T @ Y)
        keep = s > 1e-10 * s[-1]
        Y = Y @ (U[:, keep] / np.sqrt(s[keep]))
        if again and K is not None:
            Y -= K @ (K.T @ Y)
    return Y


def _signal_count(eigenvalues, edge: float, max_components: int) -> int:
    """The number of signal eigenvalues (above ``edge``), clipped to [2, max_components]."""
    return int(min(max(np.count_nonzero(eigenvalues > edge), 2), max_components,
                   eigenvalues.size))
