"""Block observers: what one pass over the scores gathers besides the co-moments.

An observer's ``observe(first_row, block)`` sees each raw block of rows (as read, before
any transform) exactly once, in the pass that computes the similarity
(:class:`~blocks_rx.engines.BlockSource`). For engines that read chunks elsewhere (dask
workers), ``part(start, stop)`` makes an empty observer of those rows only, and
``merge(part)`` takes its findings back.

:class:`RowSample`
    A fixed set of rows (a seeded uniform sample), for the distribution check of Fig. 1:
    the class to show is known only once the matrix is.
:class:`Predictions`
    The top-1 class of every row, for the confusion matrix.

>>> import numpy as np
>>> top = Predictions(4)
>>> top.observe(0, np.array([[0.0, 1.0], [2.0, 1.0]])); top.observe(2, np.eye(2))
>>> top.values.tolist(), top.complete
([1, 0, 0, 1], True)
"""

from __future__ import annotations

import numpy as np


class RowSample:
    """The raw score rows at the given (sorted, unique) row indices.

    Examples
    --------
    >>> sample = RowSample(np.array([1, 3]), n_columns=2, dtype=np.float64)
    >>> sample.observe(0, np.arange(8.0).reshape(4, 2))
    >>> sample.values.tolist(), sample.complete
    ([[2.0, 3.0], [6.0, 7.0]], True)
    """

    def __init__(self, rows, n_columns: int, dtype):
        self.rows = np.asarray(rows, dtype=np.int64)
        self.values = np.zeros((self.rows.size, n_columns), dtype=dtype)
        self.seen = 0

    @classmethod
    def uniform(cls, n_samples: int, n_columns: int, dtype, *, budget_bytes: int, seed: int):
        """All rows when they fit in ``budget_bytes``, else a seeded uniform sample of them.

        >>> RowSample.uniform(10, 3, np.float32, budget_bytes=10**6, seed=0).rows.size
        10
        """
        dtype = np.dtype(dtype)
        keep = max(1, int(budget_bytes // (n_columns * dtype.itemsize)))
        if keep >= n_samples:
            return cls(np.arange(n_samples), n_columns, dtype)
        rows = np.random.default_rng(seed).choice(n_samples, size=keep, replace=False)
        return cls(np.sort(rows), n_columns, dtype)

    def observe(self, start: int, block) -> None:
        lo, hi = np.searchsorted(self.rows, [start, start + block.shape[0]])
        self.values[lo:hi] = block[self.rows[lo:hi] - start]
        self.seen += int(hi - lo)

    def part(self, start: int, stop: int) -> RowSample:
        """An empty sample of the rows in [start, stop) (for a worker)."""
        lo, hi = np.searchsorted(self.rows, [start, stop])
        return RowSample(self.rows[lo:hi], self.values.shape[1], self.values.dtype)

    def merge(self, part: RowSample) -> None:
        if part.rows.size:
            lo = int(np.searchsorted(self.rows, part.rows[0]))
            self.values[lo : lo + part.rows.size] = part.values
            self.seen += part.seen

    @property
    def complete(self) -> bool:
        return self.seen == self.rows.size


class Predictions:
    """The top-1 class (``argmax`` of the raw scores) of each of ``n`` rows from ``first``."""

    def __init__(self, n: int, first: int = 0):
        self.first = first
        self.values = np.full(n, -1, dtype=np.int64)
        self.seen = 0

    def observe(self, start: int, block) -> None:
        at = start - self.first
        self.values[at : at + block.shape[0]] = row_argmax(block)
        self.seen += block.shape[0]

    def part(self, start: int, stop: int) -> Predictions:
        """An empty record of rows [start, stop) (for a worker)."""
        return Predictions(stop - start, first=start)

    def merge(self, part: Predictions) -> None:
        at = part.first - self.first
        self.values[at : at + part.values.size] = part.values
        self.seen += part.seen

    @property
    def complete(self) -> bool:
        return self.seen == self.values.size


#: Rows per piece when :func:`row_argmax` takes a read-only block through a small copy.
ARGMAX_PIECE_ROWS = 256


def row_argmax(block: np.ndarray) -> np.ndarray:
    """``block.argmax(axis=1)``, without numpy's copy of a block it cannot write.

    numpy's ``argmax`` first copies an array that is not writeable (a memory-mapped input)
    whole: at 6,250 x 2,622 float32 values, 65 MB of fresh memory and 18 ms a block. Here
    such a block goes through a buffer of :data:`ARGMAX_PIECE_ROWS` rows that stays in the
    CPU's cache: 8 ms. Ties go to the first column, as with numpy.

    >>> x = np.array([[0.0, 2.0, 1.0], [3.0, 3.0, 0.0]])
    >>> x.setflags(write=False)
    >>> row_argmax(x).tolist()
    [1, 0]
    """
    if block.flags.writeable or block.shape[0] <= ARGMAX_PIECE_ROWS:
        return block.argmax(axis=1)
    found = np.empty(block.shape[0], dtype=np.intp)
    piece = np.empty((ARGMAX_PIECE_ROWS, block.shape[1]), dtype=block.dtype)
    for start in range(0, block.shape[0], ARGMAX_PIECE_ROWS):
        rows = block[start : start + ARGMAX_PIECE_ROWS]
        np.copyto(piece[: len(rows)], rows)
        found[start : start + len(rows)] = piece[: len(rows)].argmax(axis=1)
    return found
