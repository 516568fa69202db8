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
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .errors import OptionError
from .registry import Entry, Registry
from .scores import TRANSFORMS, Scores
from ._warn import warn_caller

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
    engine : str
        The engine that computed the co-moments (one of
        :data:`blocks_rx.engines.ENGINES`).
    engine_detail : dict
        What the engine ran on (device, whether TF32 matmuls were allowed, the dask
        scheduler), as plain values.
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
    engine: str = "numpy"
    engine_detail: dict = field(default_factory=dict)

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    @property
    def method(self) -> str:
        """Deprecated name of :attr:`measure`."""
        warn_caller("Similarity.method is now Similarity.measure", DeprecationWarning)
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
        >>> from blocks_rx import load_scores
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
            "engine": self.engine, "engine_detail": dict(self.engine_detail),
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
    #: For a measure computed block by block of rows (each row on its own): ``per_block(block,
    #: convert)`` maps one raw block to the block to correlate, so that an engine can run it
    #: where the block lies (a dask worker). None for a measure that needs all rows at once.
    per_block: Callable | None = field(default=None, repr=False)
    #: Whether, with no transform, the blocks to correlate are the rows as read, unchanged
    #: (an engine may then check their values for non-finite numbers where it computes).
    rows_as_read: bool = False

    def facts(self) -> dict:
        facts = super().facts()
        facts.pop("per_block", None)
        facts.pop("rows_as_read", None)
        facts["rowwise"] = self.per_block is not None
        return facts

    def scores_bytes(self, n: int, m: int, itemsize: int) -> int:
        """Memory this measure holds in proportion to the score matrix (n x m)."""
        return int(n * m * (self.holds_scores * itemsize + self.holds_float64 * 8))


def _row_blocks(scores: Scores, convert, block_size: int, rank_rows: bool = False):
    prepare = _ranked_rows if rank_rows else _converted
    for _, block in scores.iter_chunks(block_size):
        yield prepare(block, convert)


def _converted(block: np.ndarray, convert) -> np.ndarray:
    """One block of rows, transformed (``pearson``'s ``per_block``)."""
    return block if convert is None else convert(block)


def _ranked_rows(block: np.ndarray, convert) -> np.ndarray:
    """One block of rows, transformed, then ranked within each row (``sample-rank``)."""
    from scipy.stats import rankdata

    block = _converted(block, convert)
    return rankdata(block, axis=1).astype(block.dtype, copy=False)


def _sample_rank_blocks(scores: Scores, convert, block_size: int):
    return _row_blocks(scores, convert, block_size, rank_rows=True)


def _column_rank_blocks(scores: Scores, convert, block_size: int):
    """Spearman needs each column's ranks over *all* samples: rank first, then stream.

    The scores are read once, by blocks of rows (checked, transformed), into one n x m
    matrix in the compute precision (float64 above 2**23 samples, where float32 ranks would
    round): in memory when it fits :func:`blocks_rx.ranks.memory_budget`, else in a
    temporary memory-mapped file that is removed again. :func:`blocks_rx.ranks.column_ranks`
    replaces it in place by its exact average ranks, a block of classes at a time, and the
    ranks are streamed by blocks of rows (see ``MEASURES`` for the memory).
    """
    from .ranks import column_ranks, rank_dtype, scratch_array

    n, m = scores.n_samples, scores.n_classes
    with scratch_array((n, m), np.promote_types(scores.dtype, rank_dtype(n))) as ranks:
        for start, block in scores.iter_chunks(block_size):
            ranks[start : start + block.shape[0]] = block if convert is None else convert(block)
        column_ranks(ranks, out=ranks)
        for start in range(0, n, block_size):
            yield ranks[start : start + block_size]


#: Similarity measures by name.
MEASURES: Registry[Measure] = Registry("similarity measure")
MEASURES.register(Measure("pearson", _row_blocks,
                          "Pearson correlation of the score columns (the paper's Eq. 1).",
                          per_block=_converted, rows_as_read=True))
MEASURES.register(Measure("spearman", _column_rank_blocks,
                          "Pearson correlation of each class's ranks over the samples "
                          "(scipy.stats.spearmanr).", streams=False, holds_scores=1.0))
MEASURES.register(Measure("sample-rank", _sample_rank_blocks,
                          "Pearson correlation of the classes' ranks within each sample "
                          "(1..m); the variant of the paper's Fig. 1c.", per_block=_ranked_rows))

#: Deprecated: {name: description} of :data:`MEASURES`.
METHODS = {name: entry.description for name, entry in MEASURES.items()}


def default_block_size(n_samples: int, n_classes: int, itemsize: int) -> int:
    """Rows per streamed block: near 64 MB but at least half the number of classes, and
    equal blocks (a small last one is slow).

    A block's Gram product streams its m x m output through memory whatever its number of
    rows, so few rows leave the product waiting on memory: at 20,000 classes a float32
    product of 2,500 rows ran at 300 GFLOPS, one of 10,000 rows at 640 (the similarity of
    30,000 x 20,000 took 62 s in 834-row blocks, 1.58x the bare GEMM). A block of m / 2 rows
    holds m^2 / 2 values: a quarter of the bytes of the co-moments' float64 sums.

    >>> default_block_size(100_000, 2_622, 4), default_block_size(30_000, 20_000, 4)
    (6250, 10000)
    """
    target = max(256, _BLOCK_BYTES // (n_classes * itemsize), n_classes // 2)
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
    engine: str = "numpy",
    observers=(),
    **engine_options,
) -> Similarity:
    """Class-similarity matrix of a score matrix.

    Parameters
    ----------
    scores : Scores, ndarray, DataFrame, dask array or path
        Anything :func:`blocks_rx.load_scores` accepts, or what the lazy readers of
        :mod:`blocks_rx.engines.inputs` open (a dask array, a zarr array, an HDF5 file with
        its dataset as ``key``, a folder or glob of ``.npy`` shards).
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
    engine : {"numpy", "torch", "dask"}
        What computes the co-moments (:data:`blocks_rx.engines.ENGINES`); all give the same
        matrix to 1e-5. Its options are passed by keyword: ``device`` ("cpu", "cuda",
        "auto") for torch, ``scheduler`` (a ``tcp://host:port`` address, default a local
        cluster) for dask.
    observers : sequence, optional
        Objects whose ``observe(first_row, block)`` sees every raw block of rows as it is
        read (see :mod:`blocks_rx.engines.observers`), so that what else is gathered from
        the scores comes from the same pass over the input.

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
        warn_caller("compute_similarity(method=...) is now compute_similarity(measure=...)", DeprecationWarning)
        measure = method
    started = time.perf_counter()
    scores, run = _run_engine(scores, measure, transform, engine, engine_options, block_size,
                              observers, out_dtype)
    matrix, constant = run.matrix, run.constant
    if clip_negative:
        np.maximum(matrix, 0.0, out=matrix)
    constant_names = tuple(scores.classes[j] for j in np.flatnonzero(constant))
    result = Similarity(
        matrix=matrix.astype(out_dtype, copy=False), classes=scores.classes, measure=measure,
        kind=scores.kind, transform=transform, clip_negative=clip_negative,
        n_samples=scores.n_samples, constant_classes=constant_names, dtype=run.dtype,
        source=scores.source, seconds=time.perf_counter() - started, engine=engine,
        engine_detail=run.detail,
    )
    if warn:
        _warn_about(result)
    return result


def _run_engine(scores, measure, transform, engine, engine_options, block_size, observers,
                out_dtype=np.float64):
    """(the scores as Scores, the engine's run): the engine checked and fed one BlockSource."""
    from .engines import ENGINES, BlockSource

    runner = ENGINES[engine]
    options = runner.bind(engine_options, kind="engine")
    runner.require()
    if not isinstance(scores, Scores):
        from .engines.inputs import open_scores

        scores = open_scores(scores, engine=engine)
    block_size = _checked_block_size(block_size, scores)
    source = BlockSource(scores, MEASURES[measure], TRANSFORMS[transform].function, block_size,
                         tuple(observers), np.dtype(out_dtype))
    return scores, runner.function(source, **options)


def _checked_block_size(block_size, scores: Scores) -> int:
    """``block_size``, or the default for these scores; OptionError for a bad one."""
    if block_size is None:
        return default_block_size(scores.n_samples, scores.n_classes, scores.dtype.itemsize)
    if isinstance(block_size, bool) or not isinstance(block_size, (int, np.integer)) \
            or block_size < 1:
        raise OptionError(f"block_size must be a whole number of samples >= 1, got {block_size!r}")
    return int(block_size)


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

    def __init__(self, n_columns: int, exponent: int | None = None):
        self.count = 0
        #: Power of two the values are multiplied by (set from the first block unless given;
        #: see :func:`_scale_exponent`); :meth:`result` undoes it, :meth:`correlation` needs
        #: not. Accumulators whose results are merged (one per dask chunk) share one.
        self.exponent: int | None = exponent
        self.n_columns = n_columns
        self._edges = gram_column_edges(n_columns)
        if len(self._edges) == 2:
            self._gram_sum = np.zeros((n_columns, n_columns))
        else:  # float64 sums of the upper block triangle only: (1/2 + 1/(2B)) m^2 values
            self._gram_sum = [np.zeros((b - a, n_columns - a))
                              for a, b in zip(self._edges[:-1], self._edges[1:])]
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
        self._sums.append(self._accumulate(block, shift))
        self._shifts.append(shift.astype(np.float64))
        self._rows.append(rows)
        self.count += rows

    def _accumulate(self, block: np.ndarray, shift: np.ndarray):
        """Add the Gram matrix of ``block - shift``; return its float64 column sums.

        The one step an engine replaces (:mod:`blocks_rx.engines.torch_engine` runs it on
        a device); the shifts and the merge stay here, in float64.
        """
        m = block.shape[1]
        centred = self._buffer("centred", block.shape, block.dtype)
        sums = _centre(block, shift, centred)
        if isinstance(self._gram_sum, np.ndarray):
            gram = np.matmul(centred.T, centred, out=self._buffer("gram", (m, m), block.dtype))
            self._gram_sum += gram  # cast to float64 piecewise, no full-size temporary
            return sums
        spans = list(zip(self._edges[:-1], self._edges[1:]))
        widest = max(b - a for a, b in spans)
        flat = self._buffer("gram", (widest * widest,), block.dtype)
        for i, ((a, b), total) in enumerate(zip(spans, self._gram_sum)):
            for c, d in spans[i:]:  # square tiles: faster than one (b - a) x (m - a) product
                part = flat[: (b - a) * (d - c)].reshape(b - a, d - c)
                total[:, c - a:d - a] += np.matmul(centred[:, a:b].T, centred[:, c:d], out=part)
        return sums

    def _collected(self) -> tuple[np.ndarray, np.ndarray]:
        """(float64 Gram sum, float64 column sums of each block) from where they were summed;
        only its upper triangle is read."""
        if isinstance(self._gram_sum, np.ndarray):
            return self._gram_sum, np.array(self._sums)
        m = self.n_columns
        full = np.empty((m, m))
        for (a, b), total in zip(zip(self._edges[:-1], self._edges[1:]), self._gram_sum):
            full[a:b, a:] = total
        self._gram_sum = None
        return full, np.array(self._sums)

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
        gram_sum, sums = self._collected()
        mean, left, right = self._corrections(sums)
        comoment = gram_sum
        for start in range(0, comoment.shape[0], _STRIPE_ROWS):  # no m x m temporary
            comoment[start:start + _STRIPE_ROWS] += left.T[start:start + _STRIPE_ROWS] @ right
        _mirror_upper(comoment)
        self._gram_sum = None
        return mean, comoment

    def _corrections(self, sums) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(mean, left, right): the co-moment is the Gram sum plus ``left.T @ right``."""
        if self.count == 0:
            raise ValueError("no rows were added")
        self._buffers.clear()
        shifts = np.array(self._shifts)
        rows = np.array(self._rows, dtype=np.float64)[:, None]
        reference = shifts[0]
        d = shifts - reference
        mean = reference + (sums + rows * d).sum(axis=0) / self.count
        offset = mean - reference
        # All corrections at once: stack them as a rank-(2B + 1) product.
        left = np.vstack([sums + 0.5 * rows * d, d, -self.count * offset[None, :]])
        right = np.vstack([d, sums + 0.5 * rows * d, offset[None, :]])
        return mean, left, right

    def correlation(self, dtype=np.float64) -> tuple[np.ndarray, np.ndarray]:
        """Return (correlation matrix, mask of zero-variance columns); the accumulator is spent.

        The matrix is exactly symmetric, has a unit diagonal, is clipped to [-1, 1], and
        holds 0 where a zero-variance column meets any other column. It is computed in
        float64 and returned as ``dtype``; from the blocked sums (10,000 columns and more)
        it is written block by block, each block's float64 sums released once written.
        """
        if self.count < 2:
            raise ValueError("correlation needs at least 2 samples")
        if not isinstance(self._gram_sum, list):
            _, comoment = self._scaled_result()  # correlation does not depend on the scale
            corr, constant = correlation_of(comoment)
            return corr.astype(dtype, copy=False), constant
        return self._blocked_correlation(np.dtype(dtype))

    def _blocked_correlation(self, dtype) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`correlation` from the upper block triangle of float64 sums."""
        _, left, right = self._corrections(np.array(self._sums))
        blocks, self._gram_sum = self._gram_sum, None
        spans = list(zip(self._edges[:-1], self._edges[1:]))
        variance = np.empty(self.n_columns)
        for (a, b), block in zip(spans, blocks):
            for start in range(0, b - a, _STRIPE_ROWS):
                stop = min(b - a, start + _STRIPE_ROWS)
                block[start:stop] += left.T[a + start:a + stop] @ right[:, a:]
            variance[a:b] = np.diagonal(block[:, : b - a])
        constant = variance <= 0.0
        scale = np.zeros_like(variance)
        scale[~constant] = 1.0 / np.sqrt(variance[~constant])
        corr = np.empty((self.n_columns, self.n_columns), dtype=dtype)
        for i, (a, b) in enumerate(spans):
            block, blocks[i] = blocks[i], None  # its float64 sums go as its values are written
            block *= scale[a:b, None]
            block *= scale[None, a:]
            corr[a:b, a:] = block
            del block
        _mirror_upper(corr)
        np.clip(corr, -1.0, 1.0, out=corr)
        np.fill_diagonal(corr, 1.0)
        return corr, constant

    def scaled_result(self) -> tuple[int, np.ndarray, np.ndarray]:
        """(rows, column means, co-moment matrix) in the units of :attr:`exponent`, for
        merging with other accumulators that share the exponent; the accumulator is spent."""
        mean, comoment = self._scaled_result()
        return self.count, mean, comoment


def _centre(block: np.ndarray, shift: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Write ``block - shift`` into ``out``; return its float64 column sums.

    From :data:`CENTRE_IN_HALVES_FROM` values on, the two halves of the rows are done at
    once, one in a short-lived thread (numpy releases the GIL): these passes run between
    the block's products, on one CPU otherwise. The sums are always those of the first
    half plus those of the second, however many CPUs there are.

    >>> x = np.arange(12.0).reshape(4, 3)
    >>> _centre(x, np.ones(3), np.empty_like(x)).tolist()
    [14.0, 18.0, 22.0]
    """
    def centre(rows: slice) -> np.ndarray:
        np.subtract(block[rows], shift, out=out[rows])
        return out[rows].sum(axis=0, dtype=np.float64)

    if block.size < CENTRE_IN_HALVES_FROM:
        return centre(slice(None))
    half = block.shape[0] // 2
    found = {}

    def second_half() -> None:
        try:
            found["sums"] = centre(slice(half, None))
        except BaseException as exc:  # raised here, in the caller's thread
            found["error"] = exc

    helper = threading.Thread(target=second_half, name="blocks-rx: centring")
    helper.start()
    first = centre(slice(0, half))
    helper.join()
    if "error" in found:
        raise found["error"]
    return first + found["sums"]


#: Blocks of at least this many values are centred in two halves at once (:func:`_centre`):
#: at 4,000 x 2,622 float32 values, 7-8.5 ms instead of 13 ms, of a 150 ms product.
CENTRE_IN_HALVES_FROM = 1 << 22


def correlation_of(comoment: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Correlation matrix (in place of ``comoment``) and the mask of zero-variance columns.

    The matrix is exactly symmetric, has a unit diagonal, is clipped to [-1, 1], and holds
    0 where a zero-variance column meets any other column; the upper triangle is read.

    >>> corr, constant = correlation_of(np.array([[4.0, 2.0], [2.0, 1.0]]))
    >>> corr.tolist(), constant.tolist()
    ([[1.0, 1.0], [1.0, 1.0]], [False, False])
    """
    corr = comoment
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
    block = np.asarray(block)
    if block.size == 0:
        return 0
    # The largest |value - column mean| is at a column's maximum or minimum: read those
    # exactly in the block's dtype, with no full-size float64 temporaries.
    mean = block.mean(axis=0, dtype=np.float64)
    return exponent_for_spread(
        float(np.max(np.maximum(block.max(axis=0) - mean, mean - block.min(axis=0)))))


def exponent_for_spread(peak: float) -> int:
    """:func:`_scale_exponent` for a block whose largest distance from a column mean is
    ``peak``: 0 when products of such values neither over- nor underflow in float32.

    >>> exponent_for_spread(3.0), exponent_for_spread(1e-40), exponent_for_spread(float("nan"))
    (0, 132, 0)
    """
    if peak == 0.0 or 2.0 ** -_SAFE_EXPONENT <= peak <= 2.0 ** _SAFE_EXPONENT:
        return 0
    return -math.frexp(peak)[1]


#: The Gram product is split into column blocks of at least this many columns, at most
#: this many blocks: the square tiles on and above the diagonal (the upper block triangle)
#: cost (1/2 + 1/(2 B)) of the full product's multiply-adds, and their float64 sums hold
#: that share of m^2 values. Smaller pieces run slower per multiply-add than one product:
#: on 2 cores, at 2,622 classes the full product took 0.154 s a block of rows, 5 column
#: blocks 0.17 s; at 20,000 classes 4 blocks of square tiles ran at 416 GFLOPS, 8 at 363.
_MIN_BLOCK_COLUMNS, _MAX_BLOCKS = 5000, 8


def gram_column_edges(m: int, min_columns: int | None = None) -> list[int]:
    """Edges of the column blocks of the upper-triangle Gram product, each at least
    ``min_columns`` wide (default 5,000: one block, the full product, below 10,000 columns),
    at most 8.

    >>> gram_column_edges(20_000), gram_column_edges(2_622), gram_column_edges(2_622, 512)
    ([0, 5000, 10000, 15000, 20000], [0, 2622], [0, 524, 1049, 1573, 2098, 2622])
    """
    blocks = max(1, min(_MAX_BLOCKS, m // (min_columns or _MIN_BLOCK_COLUMNS)))
    return [round(i * m / blocks) for i in range(blocks + 1)]


def _mirror_upper(matrix: np.ndarray, tile: int = 256) -> None:
    """Copy the upper triangle onto the lower one, in place, a square tile at a time.

    Exact symmetry matters: R's ``as.dist()`` reads the lower triangle. A tile is turned
    while it is in cache (4x faster than rows of stripes at 8,000 classes), and the
    temporary memory is one tile's index arrays.

    >>> M = np.array([[1.0, 2.0, 3.0], [0.0, 1.0, 4.0], [0.0, 0.0, 1.0]])
    >>> _mirror_upper(M, tile=2); M.tolist()
    [[1.0, 2.0, 3.0], [2.0, 1.0, 4.0], [3.0, 4.0, 1.0]]
    """
    m = matrix.shape[0]
    for i0 in range(0, m, tile):
        i1 = min(i0 + tile, m)
        square = matrix[i0:i1, i0:i1]
        lower = np.tril_indices(i1 - i0, k=-1)
        square[lower] = square.T[lower]
        for j0 in range(i1, m, tile):
            matrix[j0:j0 + tile, i0:i1] = matrix[i0:i1, j0:j0 + tile].T


def _warn_about(sim: Similarity) -> None:
    if sim.constant_classes:
        names = ", ".join(repr(c) for c in sim.constant_classes[:10])
        more = f" and {len(sim.constant_classes) - 10} more" if len(sim.constant_classes) > 10 else ""
        warn_caller(f"{len(sim.constant_classes)} class(es) scored the same on every sample and have no "
            f"correlation: {names}{more}. Their rows are set to 0; drop them or use more samples.", ConstantClassWarning)
    if sim.kind == "logits" and sim.transform == "none" and sim.measure == "pearson":
        mean_r = off_diagonal_mean(sim.matrix)
        if mean_r > OFFSET_WARNING_LEVEL:
            warn_caller(f"mean off-diagonal correlation is {mean_r:.3f}: raw logits look dominated by "
                "per-sample offsets (softmax ignores them). Centre each sample's logits with "
                "transform='center' (CLI: --center), or 'standardize' when their spread varies too, to see the class structure.", OffsetDominatedWarning)


# --------------------------------------------------------------------------- statistics


def typical_class(similarity: Similarity) -> int:
    """Index of the class whose mean similarity to the others is the median one.

    The class whose score distribution the Fig. 1 check shows: neither an outlier nor a hub.

    >>> sim = compute(np.random.default_rng(0).normal(size=(300, 5)), out_dtype=np.float64)
    >>> 0 <= typical_class(sim) < 5
    True
    """
    matrix, m = similarity.matrix, similarity.n_classes
    row_sums = np.empty(m)
    for start in range(0, m, _STRIPE_ROWS):  # a float64 stripe at a time, not all of M
        row_sums[start : start + _STRIPE_ROWS] = matrix[start : start + _STRIPE_ROWS].astype(
            np.float64).sum(axis=1)
    mean_r = (row_sums - 1.0) / max(m - 1, 1)
    return int(np.argsort(mean_r, kind="stable")[len(mean_r) // 2])


#: Rows of M converted to float64 at once by the streamed statistics.
_STRIPE_ROWS = 256
#: Values above the diagonal handed out at once by :func:`_upper_stripes` (32 MB of float64).
_STRIPE_VALUES = 2**22
#: The quantiles :func:`describe` reports, by key.
_QUANTILES = {"q01": 0.01, "q25": 0.25, "median": 0.5, "q75": 0.75, "q99": 0.99}

#: How :func:`describe_off_diagonal` computes (written into the report).
SUMMARY_METHOD = {
    "moments": "exact: mean, then central moments, as float64 sums streamed over stripes of "
               "rows of M (no copy of the m(m-1)/2 values)",
    "quantiles": "exact order statistics (numpy's linear interpolation between them), "
                 "selected by radix on the values' bit patterns: 16-bit digit histograms, "
                 "one streamed pass over M per digit",
}


def describe(values) -> dict:
    """Distribution statistics of a set of values (the paper's Fig. 1 check).

    A near-normal spread of off-diagonal similarities lets both small and large groups
    emerge; strong skew means only a few tight clusters will show.

    >>> stats = describe([1.0, 2.0, 3.0, 4.0])
    >>> stats["mean"], stats["skewness"]
    (2.5, 0.0)
    """
    x = np.asarray(values, dtype=np.float64).ravel()
    q = np.quantile(x, [0.01, 0.25, 0.5, 0.75, 0.99])
    mean = float(x.mean())
    d2 = (x - mean) ** 2  # central moments as scipy.stats.skew and kurtosis take them
    return {
        "count": int(x.size),
        "mean": mean,
        "std": float(x.std()),
        "min": float(x.min()),
        "max": float(x.max()),
        "q01": float(q[0]), "q25": float(q[1]), "median": float(q[2]),
        "q75": float(q[3]), "q99": float(q[4]),
    } | _shape(float(d2.mean()), float((d2 * (x - mean)).mean()), float((d2 * d2).mean()),
               mean)


def _finite_or_none(value):
    value = float(value)
    return round(value, 12) if math.isfinite(value) else None


def off_diagonal_mean(matrix) -> float:
    """Mean of the values above the diagonal, summed in float64 one stripe at a time.

    >>> off_diagonal_mean(np.array([[1.0, 0.5, 0.1], [0.5, 1.0, 0.3], [0.1, 0.3, 1.0]]))
    0.3
    """
    count, total = 0, 0.0
    for values in _upper_stripes(matrix):
        count, total = count + values.size, total + float(values.sum(dtype=np.float64))
    return round(total / count, 15) if count else math.nan


def describe_off_diagonal(matrix) -> dict:
    """:func:`describe` of the values above the diagonal of a symmetric matrix, without a copy
    of them: exact moments and quantiles in two passes over stripes of rows (three more for
    float64; :data:`SUMMARY_METHOD`).

    >>> M = np.corrcoef(np.random.default_rng(0).normal(size=(40, 30)), rowvar=False)
    >>> got, want = describe_off_diagonal(M), describe(M[np.triu_indices(30, 1)])
    >>> all(np.isclose(got[k], want[k], rtol=1e-12, atol=1e-15) for k in want)
    True
    """
    m = matrix.shape[0]
    count = m * (m - 1) // 2
    if count == 0:
        return {"count": 0, **{k: None for k in ("mean", "std", "min", "max", *_QUANTILES,
                                                  "skewness", "kurtosis")}}
    q = np.array(list(_QUANTILES.values()))
    virtual = (count - 1) * q  # numpy's virtual index for method="linear"
    below = np.floor(virtual).astype(np.int64)
    above = np.minimum(below + 1, count - 1)
    select = _RadixSelect(matrix.dtype, sorted(set(below) | set(above)))
    total, low, high = 0.0, math.inf, -math.inf
    for values in _upper_stripes(matrix):  # pass 1: sum, range, first digit of the ranks
        total += float(values.sum(dtype=np.float64))
        low, high = min(low, float(values.min())), max(high, float(values.max()))
        select.count(values)
    select.advance()
    mean, central = total / count, np.zeros(3)
    for values in _upper_stripes(matrix):  # pass 2: central moments, second digit
        d = values.astype(np.float64) - mean
        d2 = d * d
        central += (d2.sum(), d2 @ d, d2 @ d2)
        select.count(values)
    select.advance()
    while not select.done:  # float64: two more digits
        for values in _upper_stripes(matrix):
            select.count(values)
        select.advance()
    stats = {"count": count, "mean": mean, "std": math.sqrt(central[0] / count),
             "min": low, "max": high}
    stats.update(_interpolated(select.found, below, above, virtual - below))
    return stats | _shape(*(central / count), mean)


def _interpolated(found: dict, below, above, weights) -> dict:
    """The quantiles of :data:`_QUANTILES` from their neighbouring order statistics, with
    numpy's linear interpolation (``numpy.lib._function_base_impl._lerp``)."""
    out = {}
    for key, lo, hi, t in zip(_QUANTILES, below, above, weights):
        a, b = found[lo], found[hi]
        out[key] = float(b - (b - a) * (1 - t) if t >= 0.5 else a + (b - a) * t)
    return out


def _shape(m2: float, m3: float, m4: float, mean: float) -> dict:
    """Skewness and excess kurtosis as ``scipy.stats`` gives them (biased; None when the
    values are all equal, where scipy warns of precision loss)."""
    if m2 <= (np.finfo(np.float64).eps * mean) ** 2:
        return {"skewness": None, "kurtosis": None}
    return {"skewness": _finite_or_none(m3 / m2**1.5),
            "kurtosis": _finite_or_none(m4 / m2**2 - 3.0)}


class _RadixSelect:
    """Exact order statistics of values seen in passes, by radix selection on their bits.

    Each value's bits, mapped to an unsigned key in the values' order (:func:`_sortable`),
    are read 16 bits at a time from the top: a pass counts, for each wanted rank's digits
    found so far, how many values share each next digit; :meth:`advance` then fixes one more
    digit of every rank. float32 needs 2 passes, float64 4. Memory: 65,536 counts a rank.
    """

    def __init__(self, dtype, ranks):
        self.dtype = np.dtype(dtype)
        self.width = np.dtype(f"u{self.dtype.itemsize}")
        self.levels, self.level = self.dtype.itemsize // 2, 0
        self.known = {int(k): (0, int(k)) for k in ranks}  # rank -> (prefix, rank within it)
        self._start_level()

    def _start_level(self):
        self.prefixes = np.array(sorted({p for p, _ in self.known.values()}), dtype=self.width)
        self.counts = np.zeros(self.prefixes.size * 65536, dtype=np.int64)

    @property
    def done(self) -> bool:
        return self.level == self.levels

    def count(self, values: np.ndarray) -> None:
        """Count one stripe's values (in the dtype given at the start) at this level."""
        keys = _sortable(np.asarray(values, dtype=self.dtype), self.width)
        shift = self.width.type(8 * self.dtype.itemsize - 16 * (self.level + 1))
        digits = ((keys >> shift) & self.width.type(0xFFFF)).astype(np.int64)
        if self.level:  # only the values whose leading digits are some rank's prefix
            top = keys >> (shift + self.width.type(16))
            if self.level == 1:  # 16-bit prefixes: a lookup table
                table = np.full(65536, -1, dtype=np.int64)
                table[self.prefixes.astype(np.int64)] = np.arange(self.prefixes.size)
                slot = table[top]
                chosen = slot >= 0
            else:
                slot = np.minimum(np.searchsorted(self.prefixes, top), self.prefixes.size - 1)
                chosen = self.prefixes[slot] == top
            digits = slot[chosen] * 65536 + digits[chosen]
        self.counts += np.bincount(digits, minlength=self.counts.size)

    def advance(self) -> None:
        """Fix the next digit of every rank from this level's counts."""
        counts = self.counts.reshape(self.prefixes.size, 65536)
        for k, (prefix, rank) in self.known.items():
            row = int(np.searchsorted(self.prefixes, self.width.type(prefix)))
            cumulative = np.cumsum(counts[row])
            digit = int(np.searchsorted(cumulative, rank, side="right"))
            below = int(cumulative[digit - 1]) if digit else 0
            self.known[k] = ((prefix << 16) | digit, rank - below)
        self.level += 1
        if not self.done:
            self._start_level()

    @property
    def found(self) -> dict:
        """``{rank: value}`` once :attr:`done`."""
        return {k: _unsortable(p, self.width, self.dtype) for k, (p, _) in self.known.items()}


def _sortable(values: np.ndarray, width: np.dtype) -> np.ndarray:
    """Unsigned keys whose order is the order of the (finite) float ``values``."""
    signed = np.ascontiguousarray(values).view(f"i{width.itemsize}")
    flip = signed >> (width.itemsize * 8 - 1)  # all ones for negative values, else 0
    flip |= np.iinfo(signed.dtype).min  # and always the sign bit
    flip ^= signed
    return flip.view(width)


def _unsortable(key: int, width: np.dtype, dtype) -> float:
    """The float whose :func:`_sortable` key is ``key`` (-0.0 read as 0.0)."""
    sign = 1 << (width.itemsize * 8 - 1)
    raw = key & (sign - 1) if key & sign else ~key & ((sign << 1) - 1)
    return float(np.array([raw], dtype=width).view(dtype)[0]) + 0.0


def _upper_stripes(matrix):
    """The values above the diagonal, row by row, in 1-D stripes (of the matrix's dtype) of
    at most about :data:`_STRIPE_VALUES` values."""
    m = matrix.shape[0]
    row = 0
    while row < m - 1:
        end, size = row, 0
        while end < m - 1 and (size == 0 or size + m - 1 - end <= _STRIPE_VALUES):
            size, end = size + m - 1 - end, end + 1
        out = np.empty(size, dtype=matrix.dtype)
        at = 0
        for i in range(row, end):
            out[at : at + m - 1 - i] = matrix[i, i + 1 :]
            at += m - 1 - i
        yield out
        row = end


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
    from .engines.observers import row_argmax

    return np.concatenate([row_argmax(block) for _, block in scores.iter_chunks(block_size)])
