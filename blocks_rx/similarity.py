"""Class similarity from prediction scores (the paper's Eq. 1), plus confusion matrices.

``M[j1, j2]`` is the correlation, over samples, between the score columns of classes ``j1``
and ``j2``. Three variants, each exactly defined:

``pearson``
    Pearson correlation of the scores: ``np.corrcoef(S, rowvar=False)``.
``spearman``
    Pearson correlation of each class column's ranks over the samples (average ranks for
    ties): ``scipy.stats.spearmanr(S).statistic``. Coarser structure than ``pearson``.
``sample-rank``
    Pearson correlation of the ranks of the classes *within each sample* (values 1..m).
    This is the variant the paper's Fig. 1c shows ("the distribution of the ranks over
    the range [1, m]").

The computation streams over blocks of samples, merging per-block means and co-moments
(Chan, Golub & LeVeque), so memory is O(m^2 + block * m) and memory-mapped inputs are never
loaded whole. float32 input is multiplied in float32 GEMMs on block-centred data and
accumulated in float64.
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass, field

import numpy as np

from .errors import OptionError
from .progress import progress
from .registry import Entry, Registry
from .scores import TRANSFORMS, Scores, load_scores

#: Mean off-diagonal correlation above which raw logits look dominated by per-sample offsets.
OFFSET_WARNING_LEVEL = 0.9

#: Target size of one block of rows, in bytes.
_BLOCK_BYTES = 64 * 2**20


class OffsetDominatedWarning(UserWarning):
    """Raw-logit correlations look dominated by per-sample offsets."""


class ConstantClassWarning(UserWarning):
    """Some classes never scored differently, so they have no correlation."""


@dataclass(frozen=True, eq=False)
class Similarity:
    """A class-similarity matrix and how it was made.

    Attributes
    ----------
    matrix : ndarray (m, m)
        Symmetric, diagonal 1, values in [-1, 1]; rows/columns of constant classes are 0
        off the diagonal (see ``constant_classes``).
    classes : tuple of str
    measure : str
        One of :data:`MEASURES`.
    kind, transform : str
        The score kind and the per-sample transform applied before correlating.
    clip_negative : bool
        Whether negative correlations were set to 0.
    n_samples : int
    constant_classes : tuple of str
        Classes whose scores never varied.
    dtype : str
        Precision the co-moments were multiplied in.
    source : str
    seconds : float
        Wall time of the computation.
    """

    matrix: np.ndarray = field(repr=False)
    classes: tuple[str, ...]
    measure: str = "pearson"
    kind: str = "logits"
    transform: str = "none"
    clip_negative: bool = False
    n_samples: int = 0
    constant_classes: tuple[str, ...] = ()
    dtype: str = "float32"
    source: str = "<array>"
    seconds: float = 0.0

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    @property
    def method(self) -> str:
        """Deprecated name of :attr:`measure`."""
        warnings.warn("Similarity.method is now Similarity.measure", DeprecationWarning,
                      stacklevel=2)
        return self.measure

    def off_diagonal(self) -> np.ndarray:
        """The m(m-1)/2 values above the diagonal, row by row, as float64.

        Copied row by row: index arrays for all pairs would take twice the memory of the
        values (two int64 per pair).
        """
        m = self.n_classes
        out = np.empty(m * (m - 1) // 2)
        start = 0
        for i in range(m - 1):
            out[start : start + m - 1 - i] = self.matrix[i, i + 1 :]
            start += m - 1 - i
        return out

    def to_frame(self):
        """The matrix as a pandas DataFrame, rows and columns named by class.

        >>> import numpy as np
        >>> scores = load_scores(np.random.default_rng(0).normal(size=(50, 3)), classes=list("abc"))
        >>> compute(scores).to_frame().loc["a", "a"]
        np.float32(1.0)
        """
        import pandas as pd

        index = pd.Index(self.classes, name="class")
        return pd.DataFrame(self.matrix, index=index, columns=pd.Index(self.classes))

    def _repr_html_(self) -> str:
        from .summaries import first_names, html_summary, matrix_thumbnail, off_diagonal_range

        rows = [("measure", f"{self.measure} on {self.kind}"
                 + (f" ({self.transform})" if self.transform != "none" else "")),
                ("classes", f"{self.n_classes:,}: {first_names(self.classes)}"),
                ("samples", f"{self.n_samples:,}"),
                ("off-diagonal min / mean / max", off_diagonal_range(self.matrix))]
        if self.constant_classes:
            rows.append(("constant classes", first_names(self.constant_classes)))
        return html_summary("Similarity (input order)", rows, matrix_thumbnail(self.matrix),
                            alt="the matrix in input order")

    def provenance(self) -> dict:
        """What was computed, as plain JSON-ready values."""
        return {
            "measure": self.measure, "kind": self.kind, "transform": self.transform,
            "clip_negative": self.clip_negative, "n_samples": self.n_samples,
            "n_classes": self.n_classes, "dtype": self.dtype,
            "constant_classes": list(self.constant_classes), "source": self.source,
        }


@dataclass(frozen=True)
class Measure(Entry):
    """A similarity measure: ``function(scores, convert, block_size)`` yields the blocks of
    rows whose Pearson correlation is the measure.

    ``streams`` says whether memory stays O(m^2 + block * m); a measure that does not
    (spearman ranks each column over all samples) holds ``holds_scores`` copies of the
    n x m scores (in the compute precision) plus ``holds_float64`` float64 copies.
    """

    streams: bool = True
    holds_scores: float = 0.0
    holds_float64: float = 0.0

    def scores_bytes(self, n: int, m: int, itemsize: int) -> int:
        """Memory this measure holds in proportion to the score matrix (n x m)."""
        return int(n * m * (self.holds_scores * itemsize + self.holds_float64 * 8))


def _row_blocks(scores: Scores, convert, block_size: int, rank_rows: bool = False):
    if rank_rows:
        from scipy.stats import rankdata
    for _, block in scores.iter_chunks(block_size):
        if convert is not None:
            block = convert(block)
        if rank_rows:
            block = rankdata(block, axis=1).astype(block.dtype, copy=False)
        yield block


def _sample_rank_blocks(scores: Scores, convert, block_size: int):
    return _row_blocks(scores, convert, block_size, rank_rows=True)


def _column_rank_blocks(scores: Scores, convert, block_size: int):
    """Spearman needs each column's ranks over *all* samples: rank first, then stream.

    This holds the n x m scores and their float64 ranks at once (see ``MEASURES``).
    """
    from scipy.stats import rankdata

    values = np.empty((scores.n_samples, scores.n_classes), dtype=scores.dtype)
    for start, block in scores.iter_chunks(block_size):
        values[start : start + block.shape[0]] = block if convert is None else convert(block)
    # float32 holds ranks (multiples of 0.5) exactly up to 2**23.
    rank_dtype = scores.dtype if scores.n_samples < 2**23 else np.float64
    ranks = rankdata(values, axis=0).astype(rank_dtype, copy=False)
    del values
    for start in range(0, scores.n_samples, block_size):
        yield ranks[start : start + block_size]


#: Similarity measures by name.
MEASURES: Registry[Measure] = Registry("similarity measure")
MEASURES.register(Measure("pearson", _row_blocks,
                          "Pearson correlation of the score columns (the paper's Eq. 1)."))
MEASURES.register(Measure("spearman", _column_rank_blocks,
                          "Pearson correlation of each class's ranks over the samples "
                          "(scipy.stats.spearmanr).", streams=False, holds_scores=2.0,
                          holds_float64=1.0))
MEASURES.register(Measure("sample-rank", _sample_rank_blocks,
                          "Pearson correlation of the classes' ranks within each sample "
                          "(1..m); the variant of the paper's Fig. 1c."))

#: Deprecated: {name: description} of :data:`MEASURES`.
METHODS = {name: entry.description for name, entry in MEASURES.items()}


def default_block_size(n_samples: int, n_classes: int, itemsize: int) -> int:
    """Rows per streamed block: near 64 MB, and equal blocks (a small last one is slow).

    >>> default_block_size(100_000, 2_622, 4)
    6250
    """
    target = max(256, _BLOCK_BYTES // (n_classes * itemsize))
    n_blocks = -(-n_samples // target)
    return -(-n_samples // n_blocks)


def compute(
    scores,
    *,
    measure: str = "pearson",
    transform: str = "none",
    clip_negative: bool = False,
    block_size: int | None = None,
    out_dtype=np.float32,
    warn: bool = True,
    method: str | None = None,
) -> Similarity:
    """Class-similarity matrix of a score matrix.

    Parameters
    ----------
    scores : Scores, ndarray, DataFrame or path
        Anything :func:`blocks_rx.load_scores` accepts.
    measure : {"pearson", "spearman", "sample-rank"}
        One of :data:`MEASURES` (see the module docstring); ``pearson`` is the paper's.
    transform : str
        One of :data:`~blocks_rx.scores.TRANSFORMS`, a per-sample conversion before
        correlating. ``center`` subtracts each sample's mean logit, removing the per-sample
        offset that raw logits may carry; ``standardize`` also divides by each sample's
        spread.
    clip_negative : bool
        Set negative correlations to 0 (the authors' notebook does, "to sharpen the
        blocks"). Off by default.
    block_size : int, optional
        Samples per streamed block; default keeps a block near 64 MB.
    out_dtype : dtype
        Precision of the returned matrix; float32 is what is stored and ordered.
    warn : bool
        Emit warnings (offset-dominated logits, constant classes).
    method : str, optional
        Deprecated name of ``measure``.

    Returns
    -------
    Similarity

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> S = rng.normal(size=(500, 4))
    >>> S[:, 1] += S[:, 0]
    >>> sim = compute(S, out_dtype=np.float64)
    >>> bool(np.allclose(sim.matrix, np.corrcoef(S, rowvar=False)))
    True
    """
    if method is not None:
        warnings.warn("compute_similarity(method=...) is now compute_similarity(measure=...)",
                      DeprecationWarning, stacklevel=2)
        measure = method
    entry, convert = MEASURES[measure], TRANSFORMS[transform].function
    started = time.perf_counter()
    if not isinstance(scores, Scores):
        scores = load_scores(scores)
    if block_size is None:
        block_size = default_block_size(scores.n_samples, scores.n_classes, scores.dtype.itemsize)
    elif isinstance(block_size, bool) or not isinstance(block_size, (int, np.integer)) \
            or block_size < 1:
        raise OptionError(f"block_size must be a whole number of samples >= 1, got {block_size!r}")
    moments = CoMoments(scores.n_classes)
    blocks = progress(entry.function(scores, convert, block_size), total=scores.n_samples,
                      desc=f"{measure} similarity", unit="sample", size=len)
    for block in blocks:
        moments.add(block)
    matrix, constant = moments.correlation()

    if clip_negative:
        np.maximum(matrix, 0.0, out=matrix)
    constant_names = tuple(scores.classes[j] for j in np.flatnonzero(constant))
    result = Similarity(
        matrix=matrix.astype(out_dtype, copy=False), classes=scores.classes, measure=measure,
        kind=scores.kind, transform=transform, clip_negative=clip_negative,
        n_samples=scores.n_samples, constant_classes=constant_names, dtype=scores.dtype.name,
        source=scores.source, seconds=time.perf_counter() - started,
    )
    if warn:
        _warn_about(result)
    return result


class CoMoments:
    """Column means and centred co-moment matrix, accumulated over blocks of rows.

    Each block is centred near its own mean before its (float32 or float64) GEMM, so large
    common offsets (all logits near +50, say) cost no precision; the blocks' Gram matrices
    are summed in float64 about their own shifts, and the shifts are reconciled exactly at
    the end with one small rank-2k update (the parallel-moments identity of Chan, Golub &
    LeVeque), so the result does not depend on how the rows were split.

    Examples
    --------
    >>> x = np.arange(12.0).reshape(6, 2) ** 2
    >>> acc = CoMoments(2)
    >>> acc.add(x[:4]); acc.add(x[4:])
    >>> mean, comoment = acc.result()
    >>> bool(np.allclose(comoment / 5, np.cov(x, rowvar=False)))
    True
    """

    #: Rows used to estimate a block's centre; the exact mean is corrected for in float64.
    SHIFT_ROWS = 256

    def __init__(self, n_columns: int):
        self.count = 0
        #: Power of two the values are multiplied by (set from the first block; see
        #: :func:`_scale_exponent`); :meth:`result` undoes it, :meth:`correlation` needs not.
        self.exponent: int | None = None
        self._gram_sum = np.zeros((n_columns, n_columns))
        self._shifts, self._sums, self._rows = [], [], []
        self._buffers = {}  # reused between blocks: fresh large arrays cost page faults

    def _buffer(self, name, shape, dtype):
        buffer = self._buffers.get(name)
        if buffer is None or buffer.dtype != dtype or buffer.shape[0] < shape[0]:
            buffer = self._buffers[name] = np.empty(shape, dtype=dtype)
        return buffer[: shape[0]]

    def add(self, block: np.ndarray) -> None:
        rows, m = block.shape
        if rows == 0:
            return
        # Shift by an estimate of the block mean, rounded to the block's precision: the
        # subtraction is then nearly exact and the float64 sums of the shifted block carry
        # the rest, so the float32 GEMM never sees a large common offset.
        if self.exponent is None:
            self.exponent = _scale_exponent(block)
        if self.exponent:  # values whose products would over- or underflow: rescale exactly
            block = np.ldexp(block, self.exponent).astype(block.dtype, copy=False)
        shift = block[: self.SHIFT_ROWS].mean(axis=0, dtype=np.float64).astype(block.dtype)
        centred = np.subtract(block, shift, out=self._buffer("centred", block.shape, block.dtype))
        self._sums.append(centred.sum(axis=0, dtype=np.float64))
        gram = np.matmul(centred.T, centred, out=self._buffer("gram", (m, m), block.dtype))
        self._gram_sum += gram  # cast to float64 piecewise, no full-size temporary
        self._shifts.append(shift.astype(np.float64))
        self._rows.append(rows)
        self.count += rows

    def result(self) -> tuple[np.ndarray, np.ndarray]:
        """Return (column means, centred co-moment matrix); the accumulator is spent.

        With block shifts c_b, shifted sums s_b and n_b rows, and any reference K:
        sum (x-K)(x-K)' = sum_b [G_b + s_b d_b' + d_b s_b' + n_b d_b d_b'], d_b = c_b - K,
        and the co-moment about the mean mu is that minus n (mu-K)(mu-K)'.
        """
        mean, comoment = self._scaled_result()
        if self.exponent:
            mean, comoment = np.ldexp(mean, -self.exponent), np.ldexp(comoment, -2 * self.exponent)
        return mean, comoment

    def _scaled_result(self) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`result` in the units of the rescaled values."""
        if self.count == 0:
            raise ValueError("no rows were added")
        self._buffers.clear()
        shifts, sums = np.array(self._shifts), np.array(self._sums)
        rows = np.array(self._rows, dtype=np.float64)[:, None]
        reference = shifts[0]
        d = shifts - reference
        mean = reference + (sums + rows * d).sum(axis=0) / self.count
        offset = mean - reference
        # All corrections at once: stack them as a rank-(2B + 1) product.
        left = np.vstack([sums + 0.5 * rows * d, d, -self.count * offset[None, :]])
        right = np.vstack([d, sums + 0.5 * rows * d, offset[None, :]])
        comoment = self._gram_sum
        comoment += left.T @ right
        self._gram_sum = None
        return mean, comoment

    def correlation(self) -> tuple[np.ndarray, np.ndarray]:
        """Return (correlation matrix, mask of zero-variance columns); the accumulator is spent.

        The matrix is exactly symmetric, has a unit diagonal, is clipped to [-1, 1], and
        holds 0 where a zero-variance column meets any other column.
        """
        if self.count < 2:
            raise ValueError("correlation needs at least 2 samples")
        _, corr = self._scaled_result()  # correlation does not depend on the scale
        variance = np.diag(corr).copy()
        constant = variance <= 0.0
        scale = np.zeros_like(variance)
        scale[~constant] = 1.0 / np.sqrt(variance[~constant])
        corr *= scale[:, None]
        corr *= scale[None, :]
        _mirror_upper(corr)
        np.clip(corr, -1.0, 1.0, out=corr)
        np.fill_diagonal(corr, 1.0)
        return corr, constant


#: Centred values within [2^-SAFE, 2^SAFE] multiply without over- or underflow in float32.
#: (Values far from that, but spread far less than their size, keep working as before.)
_SAFE_EXPONENT = 40


def _scale_exponent(block: np.ndarray) -> int:
    """The power of two that brings a block's spread near 1, or 0 when it is safe.

    Scores near 1e-40 (subnormal in float32) would square to 0 and look constant; scores
    near 1e30 would square to inf. Pearson does not depend on scale, so such a block is
    multiplied by an exact power of two before any product is formed.

    >>> _scale_exponent(np.array([[1e-40, -2e-40], [0.0, 1e-40]], dtype=np.float32))
    132
    >>> _scale_exponent(np.array([[3.0, -1.0], [5.0, 2.0]]))
    0
    """
    block = np.asarray(block, dtype=np.float64)
    peak = float(np.max(np.abs(block - block.mean(axis=0)), initial=0.0))
    if peak == 0.0 or 2.0 ** -_SAFE_EXPONENT <= peak <= 2.0 ** _SAFE_EXPONENT:
        return 0
    return -math.frexp(peak)[1]


def _mirror_upper(matrix: np.ndarray, stripe: int = 512) -> None:
    """Copy the upper triangle onto the lower one, in place, a stripe of rows at a time.

    Exact symmetry matters: R's ``as.dist()`` reads the lower triangle. Stripes keep the
    temporary memory at ``stripe * m`` values instead of a full m x m copy.
    """
    m = matrix.shape[0]
    for start in range(0, m, stripe):
        end = min(start + stripe, m)
        block = matrix[start:end, :end].copy()  # rows of the stripe, left of its end
        rows, cols = np.tril_indices(end - start, k=-1, m=end - start)
        block[rows, cols + start] = matrix[cols + start, rows + start]
        block[:, :start] = matrix[:start, start:end].T
        matrix[start:end, :end] = block


def _warn_about(sim: Similarity) -> None:
    if sim.constant_classes:
        names = ", ".join(repr(c) for c in sim.constant_classes[:10])
        more = f" and {len(sim.constant_classes) - 10} more" if len(sim.constant_classes) > 10 else ""
        warnings.warn(
            f"{len(sim.constant_classes)} class(es) scored the same on every sample and have no "
            f"correlation: {names}{more}. Their rows are set to 0; drop them or use more samples.",
            ConstantClassWarning, stacklevel=3)
    if sim.kind == "logits" and sim.transform == "none" and sim.measure == "pearson":
        mean_r = float(np.mean(sim.off_diagonal()))
        if mean_r > OFFSET_WARNING_LEVEL:
            warnings.warn(
                f"mean off-diagonal correlation is {mean_r:.3f}: raw logits look dominated by "
                "per-sample offsets (softmax ignores them). Centre each sample's logits with "
                "transform='center' (CLI: --center), or 'standardize' when their spread varies too, to see the class structure.",
                OffsetDominatedWarning, stacklevel=3)


# --------------------------------------------------------------------------- statistics


def typical_class(similarity: Similarity) -> int:
    """Index of the class whose mean similarity to the others is the median one.

    The class whose score distribution the Fig. 1 check shows: neither an outlier nor a hub.

    >>> sim = compute(np.random.default_rng(0).normal(size=(300, 5)), out_dtype=np.float64)
    >>> 0 <= typical_class(sim) < 5
    True
    """
    matrix = similarity.matrix.astype(np.float64)
    mean_r = (matrix.sum(axis=1) - 1.0) / max(similarity.n_classes - 1, 1)
    return int(np.argsort(mean_r, kind="stable")[len(mean_r) // 2])


def describe(values) -> dict:
    """Distribution statistics of a set of values (the paper's Fig. 1 check).

    A near-normal spread of off-diagonal similarities lets both small and large groups
    emerge; strong skew means only a few tight clusters will show.

    >>> stats = describe([1.0, 2.0, 3.0, 4.0])
    >>> stats["mean"], stats["skewness"]
    (2.5, 0.0)
    """
    from scipy import stats

    x = np.asarray(values, dtype=np.float64).ravel()
    q = np.quantile(x, [0.01, 0.25, 0.5, 0.75, 0.99])
    return {
        "count": int(x.size),
        "mean": float(x.mean()),
        "std": float(x.std()),
        "min": float(x.min()),
        "max": float(x.max()),
        "q01": float(q[0]), "q25": float(q[1]), "median": float(q[2]),
        "q75": float(q[3]), "q99": float(q[4]),
        "skewness": _finite_or_none(stats.skew(x)),
        "kurtosis": _finite_or_none(stats.kurtosis(x)),
    }


def _finite_or_none(value):
    value = float(value)
    return round(value, 12) if math.isfinite(value) else None


# --------------------------------------------------------------------------- label matrices


def confusion_matrix(labels, predicted, n_classes: int) -> np.ndarray:
    """Counts ``C[true, predicted]`` for single-label data.

    >>> confusion_matrix([0, 1, 1], [0, 0, 1], 2)
    array([[1, 0],
           [1, 1]])
    """
    labels = np.asarray(labels, dtype=np.int64)
    predicted = np.asarray(predicted, dtype=np.int64)
    flat = np.bincount(labels * n_classes + predicted, minlength=n_classes * n_classes)
    return flat.reshape(n_classes, n_classes)


def cooccurrence_matrix(multi_hot) -> np.ndarray:
    """Label co-occurrence counts ``K[j1, j2]`` of a 0/1 multi-label matrix (n, m).

    >>> cooccurrence_matrix([[1, 1, 0], [1, 0, 0]])
    array([[2, 1, 0],
           [1, 1, 0],
           [0, 0, 0]])
    """
    y = np.asarray(multi_hot, dtype=np.int64)
    return y.T @ y


def star_classes(cooccurrence, *, share: float = 0.5, min_count: int = 3) -> np.ndarray:
    """Classes that co-occur with very many others: the *star patterns* of the paper's Fig. 4a.

    Rule: class ``j`` is a star when it co-occurs at least ``min_count`` times with at least
    ``share`` of all other classes. Generic labels ("music", "speech") pass; ordinary labels,
    which co-occur with their own taxonomy group, do not.

    >>> K = np.diag([9, 6, 6, 6, 6, 6, 6])
    >>> K[0, 1:] = K[1:, 0] = 5      # class 0 comes with every other label
    >>> K[3, 4] = K[4, 3] = 4        # 3 and 4 also with each other: 2 of 6 partners
    >>> star_classes(K)
    array([0])
    """
    K = np.asarray(cooccurrence)
    partners = (K >= min_count).sum(axis=1) - (np.diag(K) >= min_count)
    return np.flatnonzero(partners >= share * (K.shape[0] - 1))


def predictions(scores: Scores, block_size: int = 65536) -> np.ndarray:
    """Top-1 predicted class of every sample, streamed over the scores."""
    return np.concatenate([block.argmax(axis=1) for _, block in scores.iter_chunks(block_size)])
