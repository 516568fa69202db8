"""The ``numpy`` engine: :class:`~blocks_rx.similarity.CoMoments` in this process."""

from __future__ import annotations

from . import EngineRun


def correlate(source) -> EngineRun:
    """Stream the source's blocks through :class:`~blocks_rx.similarity.CoMoments`.

    >>> import numpy as np
    >>> from blocks_rx.engines import BlockSource
    >>> from blocks_rx.scores import load_scores
    >>> from blocks_rx.similarity import MEASURES
    >>> S = np.random.default_rng(0).normal(size=(50, 3))
    >>> run = correlate(BlockSource(load_scores(S), MEASURES["pearson"], None, 16))
    >>> bool(np.allclose(run.matrix, np.corrcoef(S, rowvar=False)))
    True
    """
    from ..similarity import CoMoments

    moments = CoMoments(source.n_columns)
    for block in source.blocks():
        moments.add(block)
    matrix, constant = moments.correlation(source.out_dtype)
    return EngineRun(matrix, constant, source.scores.dtype.name, {})
