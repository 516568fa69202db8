"""Scores the engines read lazily: dask arrays and the files read as dask arrays.

:func:`open_scores` is :func:`blocks_rx.load_scores` for every input an engine can read: a
dask array, a zarr array, an HDF5 dataset, a folder or glob of ``.npy`` shards (and, for
the dask engine, any ``.npy`` or ``.parquet`` file, so that its workers read it). Lazy scores
are validated from their shape, dtype and names only; their values are checked for
non-finite numbers block by block as they are read, so opening them reads no data.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..errors import ScoresError
from ..readers.dask_arrays import is_lazy_source, read_dask
from ..scores import SCORE_KINDS, Scores, load_scores
from .._warn import warn_caller

#: Suffixes the dask engine reads on its workers rather than in this process.
DASK_READS = (".npy", ".parquet")


def open_scores(source, *, engine: str = "numpy", classes=None, kind: str = "logits",
                labels=None, key: str | None = None) -> Scores:
    """Load ``source`` as :class:`~blocks_rx.scores.Scores`, lazily where it must be.

    For an engine that checks the values itself (``checks_finite``: torch), scores held in
    memory are not checked for NaN and infinity here, but as the engine reads them.

    >>> import numpy as np
    >>> open_scores(np.ones((3, 2))).n_classes
    2
    """
    if isinstance(source, Scores):
        return source
    by_workers = engine == "dask" and isinstance(source, (str, os.PathLike)) \
        and Path(source).suffix.lower() in DASK_READS
    if not (is_lazy_source(source) or by_workers):
        from . import ENGINES

        return load_scores(source, classes=classes, kind=kind, labels=labels, key=key,
                           check_finite=not ENGINES[engine].checks_finite)
    return lazy_scores(source, classes=classes, kind=kind, labels=labels, key=key)


def lazy_scores(source, *, classes=None, kind: str = "logits", labels=None,
                key: str | None = None) -> Scores:
    """Scores over a dask array (or a file read as one), validated without reading values.

    >>> import dask.array as da
    >>> s = lazy_scores(da.ones((6, 3), chunks=(2, 3)), classes=["a", "b", "c"])
    >>> s.n_samples, s.classes, s.finite_checked
    (6, ('a', 'b', 'c'), False)
    """
    from ..scores import _class_names, _read_labels

    if kind not in SCORE_KINDS:
        raise ScoresError(f"unknown score kind {kind!r}; choose one of {', '.join(SCORE_KINDS)}")
    values, stored_names, _, name = read_dask(source, key=key)
    values = _validated(values, name)
    names = _class_names(classes, stored_names, values.shape, name)
    label_array = None if labels is None else _read_labels(labels, names, values.shape[0],
                                                            "labels")
    return Scores(values=values, classes=tuple(names), kind=kind, source=name,
                  labels=label_array, finite_checked=False)


def _validated(values, name: str):
    """Shape and dtype checks of :func:`blocks_rx.load_scores`, on a lazy array."""
    if values.ndim != 2:
        raise ScoresError(f"{name}: expected a 2-D matrix (samples x classes), got shape "
                          f"{values.shape}")
    n, m = values.shape
    if m < 2 or n < 2:
        raise ScoresError(f"{name}: need at least 2 classes (columns) and 2 samples (rows), "
                          f"got shape {values.shape}")
    kind = values.dtype.kind
    if kind in "iub":
        warn_caller(f"{name}: scores are {values.dtype} integers; converting to float64")
        return values.astype(np.float64)
    if kind != "f":
        raise ScoresError(f"{name}: scores must be real numbers, got dtype {values.dtype}")
    if values.dtype not in (np.float32, np.float64):
        return values.astype(np.float32 if values.dtype == np.float16 else np.float64)
    if m > n:
        warn_caller(f"{name}: {m} classes (columns) but only {n} samples (rows). Is the "
                    "matrix transposed?")
    return values
