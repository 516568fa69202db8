"""Exact column ranks of a large score matrix, a block of classes at a time.

Spearman correlation is the Pearson correlation of each class column's ranks over the
samples (average ranks for ties). :func:`column_ranks` computes those ranks exactly, like
``scipy.stats.rankdata(values, axis=0)``, without ever holding more than the ranks of one
block of classes per worker in scratch memory, and reading the input (a row-major ``.npy``
memory map, say) once, a block of columns at a time in small strided pieces.

How one block of ``b`` columns is ranked:

* float32 values (and float16, small integers: anything float32 holds exactly) are mapped
  to integers with the same order (``-0.0`` first made ``+0.0``) and packed with each
  row's index into one int64 key per value; ``ndarray.sort`` on those keys (numpy's SIMD
  quicksort) orders each column and carries the row indices along, several times faster
  than ``np.argsort``. Other dtypes (float64) use ``np.argsort``, about 2.5x slower.
* Ties are runs of equal values in the sorted order; every member of a run gets the run's
  average rank. The integer ranks ``1..n`` are scattered back first, then the few positions
  that belong to runs are overwritten.
* Two threads rank two blocks at once (numpy releases the GIL in the sort and the large
  copies).

:func:`scratch_array` gives the n x m output either in memory, when it fits
:func:`memory_budget`, or as a temporary memory-mapped file that is removed again.
"""

from __future__ import annotations

import mmap
import os
import sys
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import numpy as np

#: float32 holds every average rank (a multiple of 0.5 up to n) exactly up to this many rows.
FLOAT32_EXACT_ROWS = 2**23

#: Bytes of packed sort keys per block of columns (the block is ``n x b`` int64 keys).
_KEY_BYTES = 96 * 2**20

#: Rows read and converted at once: small enough that the transposed copy stays in cache.
_PIECE_ROWS = 512

#: Worker threads; each holds one block of keys and ranks.
WORKERS = 2

#: Largest rank matrix (bytes) kept in memory; None: a quarter of the available memory.
#: Larger ones go to a temporary memory-mapped file (see :func:`scratch_array`).
MEMORY_BUDGET: int | None = None

_HIGH, _LOW = (1, 0) if sys.byteorder == "little" else (0, 1)


def rank_dtype(n_samples: int, dtype=None) -> np.dtype:
    """The rank precision: float32 up to 2**23 samples (exact there), else float64.

    >>> rank_dtype(100_000), rank_dtype(2**23 + 1)
    (dtype('float32'), dtype('float64'))
    """
    if dtype is None:
        return np.dtype(np.float32 if n_samples <= FLOAT32_EXACT_ROWS else np.float64)
    dtype = np.dtype(dtype)
    if dtype.kind != "f" or (dtype.itemsize < 8 and n_samples > FLOAT32_EXACT_ROWS):
        raise ValueError(f"{dtype} cannot hold the average ranks of {n_samples:,} samples "
                         f"exactly; use float64 above {FLOAT32_EXACT_ROWS:,} samples")
    return dtype


def column_ranks(values, *, block_classes: int | None = None, out=None, dtype=None,
                 check=None, workers: int | None = None) -> np.ndarray:
    """Average ranks (1..n) of each column of ``values`` over its rows.

    Equal to ``scipy.stats.rankdata(values, axis=0)`` (``method="average"``,
    ``nan_policy="propagate"``: a column holding a NaN is all NaN), computed a block of
    columns at a time.

    Parameters
    ----------
    values : array (n, m)
        Any 2-D numeric array; a row-major memory map is read once, in strided pieces of
        ``block_classes`` columns. May be ``out`` itself (ranked in place).
    block_classes : int, optional
        Columns ranked together; by default one block's int64 sort keys take about 96 MB,
        and each worker's scratch (keys, ranks, tie flags) about 160 MB.
    out : ndarray or np.memmap (n, m), optional
        Where the ranks go; allocated when not given.
    dtype : float dtype, optional
        Precision of the ranks when ``out`` is not given. Default float32, which holds
        every average rank (a multiple of 0.5) exactly up to 2**23 samples; above that it
        is float64, and asking for float32 there is an error.
    check : callable, optional
        ``check(piece, first_row, first_column)`` is called on every piece of the input as
        it is read (a float array), e.g. to reject non-finite values.
    workers : int, optional
        Threads ranking blocks at once (default :data:`WORKERS`).

    Returns
    -------
    ndarray (n, m)
        ``out``.

    Examples
    --------
    >>> column_ranks(np.array([[3.0, 1.0], [1.0, 1.0], [3.0, 2.0], [2.0, np.nan]]))
    array([[3.5, nan],
           [1. , nan],
           [3.5, nan],
           [2. , nan]], dtype=float32)
    """
    if not isinstance(values, np.ndarray):
        values = np.asarray(values)
    if values.ndim != 2:
        raise ValueError(f"values must be a 2-D array, got shape {values.shape}")
    n, m = values.shape
    if out is None:
        out = _fresh_array((n, m), rank_dtype(n, dtype))
    elif out.shape != (n, m):
        raise ValueError(f"out has shape {out.shape}, expected {(n, m)}")
    else:
        rank_dtype(n, out.dtype)
    if n == 0 or m == 0:
        return out
    bounds = _column_blocks(n, m, block_classes)
    workers = max(1, min(WORKERS if workers is None else int(workers), len(bounds)))
    ranker = _BlockRanker(values, out, check)
    if workers == 1:
        for c0, c1 in bounds:
            ranker.rank(c0, c1)
        return out
    pool = ThreadPoolExecutor(workers, thread_name_prefix="blocks_rx-ranks")
    try:
        for future in [pool.submit(ranker.rank, c0, c1) for c0, c1 in bounds]:
            future.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return out


def _column_blocks(n: int, m: int, block_classes: int | None) -> list[tuple[int, int]]:
    """Equal blocks of columns, each near ``block_classes`` wide.

    >>> _column_blocks(100_000, 2_622, None)[:2]
    [(0, 125), (125, 250)]
    """
    if block_classes is None:
        block_classes = max(8, _KEY_BYTES // (8 * n))
    block_classes = max(1, min(int(block_classes), m))
    count = -(-m // block_classes)
    width = -(-m // count)
    return [(c0, min(m, c0 + width)) for c0 in range(0, m, width)]


class _BlockRanker:
    """Ranks blocks of columns of ``values`` into ``out``; each thread keeps its own
    scratch buffers (a fresh large array would cost page faults on every block)."""

    def __init__(self, values, out, check):
        self.values, self.out, self.check = values, out, check
        self.n = values.shape[0]
        # Packed keys need values that float32 holds exactly (and row numbers below 2**31).
        self.packed = np.can_cast(values.dtype, np.float32) and self.n < 2**31
        self.float = np.dtype(values.dtype).kind == "f"
        self.integer_ranks = np.arange(1, self.n + 1, dtype=out.dtype)
        self._local = threading.local()

    def _buffer(self, name, shape, dtype):
        buffers = self._local.__dict__.setdefault("buffers", {})
        buffer = buffers.get(name)
        size = int(np.prod(shape))
        if buffer is None or buffer.dtype != dtype or buffer.size < size:
            buffer = buffers[name] = _fresh_array((size,), dtype)
        return buffer[:size].reshape(shape)

    def rank(self, c0: int, c1: int) -> None:
        """Rank columns ``c0:c1`` and write them to ``out[:, c0:c1]``."""
        b, n = c1 - c0, self.n
        nan = np.zeros(b, dtype=bool)
        if self.packed:
            index, sorted_values = self._sort_packed(c0, c1, nan)
        else:
            index, sorted_values = self._sort_general(c0, c1, nan)
        ties = self._buffer("ties", (b, max(n - 1, 0)), np.bool_)
        np.equal(sorted_values[:, 1:], sorted_values[:, :-1], out=ties)
        ranks = self._buffer("ranks", (b, n), self.out.dtype)
        rows = self._buffer("rows", (n,), np.intp)
        for c in range(b):
            np.copyto(rows, index[c], casting="unsafe")
            _rank_column(ranks[c], rows, ties[c], self.integer_ranks)
        ranks[nan] = np.nan
        for r0 in range(0, n, 4 * _PIECE_ROWS):
            self.out[r0 : r0 + 4 * _PIECE_ROWS, c0:c1] = ranks[:, r0 : r0 + 4 * _PIECE_ROWS].T

    def _pieces(self, c0, c1, nan, dtype):
        """Yield ``(first_row, piece)``: the input's rows in small pieces, as ``dtype``."""
        for r0 in range(0, self.n, _PIECE_ROWS):
            piece = np.array(self.values[r0 : r0 + _PIECE_ROWS, c0:c1], dtype=dtype)
            if self.check is not None:
                self.check(piece, r0, c0)
            if self.float and np.isnan(piece.min()):  # min() is NaN iff a NaN is there
                nan |= np.isnan(piece).any(axis=0)
            yield r0, piece

    def _sort_packed(self, c0, c1, nan):
        """Sort float32 columns as int64 keys ``(order code << 32) | row``.

        Returns (row index, order code) of the sorted values, both (b, n) views of the keys.
        """
        b, n = c1 - c0, self.n
        keys = self._buffer("keys", (b, n), np.int64)
        halves = keys.view(np.int32).reshape(b, n, 2)
        rows = np.arange(n, dtype=np.int32)
        for r0, piece in self._pieces(c0, c1, nan, np.float32):
            piece += np.float32(0.0)  # -0.0 becomes +0.0: they tie
            code = piece.view(np.int32)
            flip = code >> 31  # negative floats: flip all but the sign bit to order them
            flip &= 0x7FFFFFFF
            code ^= flip
            r1 = r0 + piece.shape[0]
            halves[:, r0:r1, _HIGH] = code.T
            halves[:, r0:r1, _LOW] = rows[r0:r1]
        keys.sort(axis=1)
        return halves[:, :, _LOW], halves[:, :, _HIGH]

    def _sort_general(self, c0, c1, nan):
        """Sort any numeric columns with ``np.argsort``; returns (row index, sorted values)."""
        b, n = c1 - c0, self.n
        dtype = np.result_type(self.values.dtype, np.float32) if self.float else self.values.dtype
        columns = self._buffer("columns", (b, n), dtype)
        for r0, piece in self._pieces(c0, c1, nan, dtype):
            columns[:, r0 : r0 + piece.shape[0]] = piece.T
        index = self._buffer("index", (b, n), np.intp)
        index[...] = np.argsort(columns, axis=1)
        sorted_values = self._buffer("sorted", (b, n), dtype)
        sorted_values[...] = np.take_along_axis(columns, index, axis=1)
        return index, sorted_values


def _rank_column(out, rows, ties, integer_ranks) -> None:
    """Write one column's average ranks to ``out``.

    ``rows`` holds the rows in sorted order and ``ties[p]`` says whether sorted positions
    ``p`` and ``p + 1`` hold equal values. A run of ties ``s..e`` gets ``(s + e) / 2 + 1``.

    >>> out = np.zeros(4)
    >>> _rank_column(out, np.array([1, 3, 0, 2]), np.array([False, True, False]),
    ...              np.arange(1.0, 5.0))
    >>> out
    array([2.5, 1. , 4. , 2.5])
    """
    out[rows] = integer_ranks
    tied = np.flatnonzero(ties)
    if tied.size == 0:
        return
    # Tied pairs p, p + 1 chain into runs where p steps by one.
    new_run = np.empty(tied.size, dtype=bool)
    new_run[0] = True
    np.not_equal(tied[1:], tied[:-1] + 1, out=new_run[1:])
    starts = np.flatnonzero(new_run)
    ends = np.append(starts[1:], tied.size) - 1
    average = (tied[starts] + tied[ends] + 1) * 0.5 + 1.0
    value = np.repeat(average, np.diff(np.append(starts, tied.size))).astype(out.dtype)
    out[rows[tied]] = value
    out[rows[tied + 1]] = value


def _fresh_array(shape, dtype) -> np.ndarray:
    """An uninitialised array on fresh anonymous memory in small pages.

    numpy asks for transparent huge pages for large arrays; where the kernel must first
    compact memory to find them (measured on a 2-core VM: 1-4 s per GB on first touch,
    against 0.55 s in 4 KB pages), the rank matrix, written once and read twice, is
    cheaper in small pages. Freed when the last view of it goes.
    """
    dtype = np.dtype(dtype)
    nbytes = int(np.prod(shape)) * dtype.itemsize
    if nbytes < 2**20:
        return np.empty(shape, dtype=dtype)
    # Private, so that it counts (and is freed) as this process's own memory.
    private = ({"flags": mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS}
               if hasattr(mmap, "MAP_PRIVATE") else {})
    return np.frombuffer(mmap.mmap(-1, nbytes, **private), dtype=dtype).reshape(shape)


def memory_budget() -> int:
    """Bytes a rank matrix may take in memory: :data:`MEMORY_BUDGET`, or a quarter of the
    memory available now."""
    if MEMORY_BUDGET is not None:
        return int(MEMORY_BUDGET)
    return _available_memory() // 4


def _available_memory() -> int:
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return 2**30


@contextmanager
def scratch_array(shape, dtype, *, budget: int | None = None):
    """An uninitialised array, in memory when it fits ``budget`` (default
    :func:`memory_budget`), else a memory map on a temporary file in
    ``tempfile.gettempdir()``.

    The file is removed as soon as it is mapped where the system allows it (POSIX: the
    mapping lives on, the disk space goes when the last view does), and otherwise when
    the block ends, also on error.

    >>> with scratch_array((2, 3), np.float32, budget=0) as a:
    ...     isinstance(a, np.memmap), a.shape
    (True, (2, 3))
    """
    dtype = np.dtype(dtype)
    nbytes = int(np.prod(shape)) * dtype.itemsize
    if nbytes <= (memory_budget() if budget is None else budget):
        yield _fresh_array(shape, dtype)
        return
    handle, path = tempfile.mkstemp(prefix="blocks_rx-ranks-", suffix=".tmp")
    try:
        os.close(handle)
        array = np.memmap(path, dtype=dtype, mode="w+", shape=tuple(shape))
        try:
            os.remove(path)
        except OSError:  # Windows: not while mapped; removed below
            pass
        yield array
    finally:
        array = None
        try:
            os.remove(path)
        except OSError:
            pass
