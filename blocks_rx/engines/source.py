"""The one pass over the input that every engine reads: :class:`BlockSource`.

A source yields the blocks of rows a measure correlates and, while the raw blocks are read,
hands each one to the observers (:mod:`blocks_rx.engines.observers`), so that whatever else
is gathered from the scores (a row sample, the predictions) needs no second read.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np

from ..progress import progress
from ..scores import Scores


class _Tap:
    """Feeds observers the raw blocks of the first complete, in-order read of the rows."""

    def __init__(self, observers, n_samples: int):
        self.observers, self.n_samples, self.next_row = tuple(observers), n_samples, 0

    def feed(self, start: int, block) -> None:
        if start != self.next_row:  # a later read (a measure that reads twice): seen already
            return
        for observer in self.observers:
            observer.observe(start, block)
        self.next_row += block.shape[0]

    @property
    def complete(self) -> bool:
        return self.next_row >= self.n_samples


@dataclass(frozen=True, eq=False)
class _TappedScores(Scores):
    """Scores whose blocks pass the tap as they are read."""

    tap: _Tap | None = field(default=None, repr=False)

    def iter_chunks(self, chunk_size: int):
        for start, block in super().iter_chunks(chunk_size):
            if self.tap is not None:
                self.tap.feed(start, block)
            yield start, block


@dataclass
class BlockSource:
    """The scores, how they become the blocks to correlate, and who else watches them.

    Parameters
    ----------
    scores : Scores
        Values may be an ndarray, a memory map or a dask array.
    measure : Measure
        An entry of :data:`~blocks_rx.similarity.MEASURES`.
    convert : callable or None
        The per-sample transform.
    block_size : int
        Rows per block.
    observers : tuple
        Objects with ``observe(first_row, raw_block)``.
    out_dtype : dtype
        The precision the caller keeps the matrix in (an engine may write it straight in).

    Examples
    --------
    >>> import numpy as np
    >>> from blocks_rx.scores import load_scores
    >>> from blocks_rx.similarity import MEASURES
    >>> source = BlockSource(load_scores(np.ones((5, 2))), MEASURES["pearson"], None, 2)
    >>> [len(b) for b in source.blocks()], source.observed
    ([2, 2, 1], True)
    """

    scores: Scores
    measure: object
    convert: object
    block_size: int
    observers: tuple = ()
    out_dtype: object = np.dtype(np.float64)

    def __post_init__(self):
        self._tap = _Tap(self.observers, self.scores.n_samples)

    @property
    def n_columns(self) -> int:
        return self.scores.n_classes

    @property
    def observed(self) -> bool:
        """Whether every row has been handed to the observers."""
        return self._tap.complete

    @property
    def rows_as_read(self) -> bool:
        """Whether the blocks to correlate are the rows as read, unchanged (Pearson with no
        transform): an engine may then check their values itself, where it computes
        (:meth:`blocks` with ``check_finite=False``)."""
        return self.convert is None and self.measure.rows_as_read

    def blocks(self, check_finite: bool = True):
        """The blocks to correlate, in order (observers fed on the way), with a progress bar.

        ``check_finite=False``: the rows are not checked for NaN or infinity as they are
        read; the engine that asks for that checks them (see :attr:`rows_as_read`) and
        calls ``scores.check_finite`` on a block where it finds one, for the message.
        """
        values = {f.name: getattr(self.scores, f.name) for f in fields(Scores)}
        if not check_finite:
            values["finite_checked"] = True
        tapped = _TappedScores(**values, tap=self._tap)
        return progress(self.measure.function(tapped, self.convert, self.block_size),
                        total=self.scores.n_samples, desc=f"{self.measure.name} similarity",
                        unit="sample", size=len)

    def dask_array(self):
        """The scores as a dask array when they are one and the measure works block by block
        of rows (so chunks can be reduced where they lie); else None."""
        values = self.scores.values
        if self.measure.per_block is None or not _is_dask_array(values):
            return None
        return values

    def mark_observed(self) -> None:
        """Mark the rows as observed by someone else (an engine that fed the observers)."""
        self._tap.next_row = self.scores.n_samples


def _is_dask_array(values) -> bool:
    return type(values).__module__.startswith("dask.")
