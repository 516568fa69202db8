"""Score matrices in: loading, validation, class names, and score-kind conversions.

A score matrix ``S`` holds one row per sample and one column per class (n x m): the raw
outputs of a classifier (``logits``), their softmax (``probabilities``) or independent
sigmoids (``multilabel``). Everything downstream reads scores through :class:`Scores`, which
may wrap a memory-mapped ``.npy`` so that large inputs are streamed, never loaded whole.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np

from .errors import ScoresError, SideFileError
from .readers import read_class_names, read_label_file, read_source
from .registry import Entry, Registry
from ._warn import warn_caller

SCORE_KINDS = ("logits", "probabilities", "multilabel")



@dataclass(frozen=True, eq=False)
class Scores:
    """A validated score matrix with its class names.

    Parameters
    ----------
    values : ndarray, shape (n_samples, n_classes)
        Floating-point scores; may be a read-only memory map.
    classes : tuple of str
        One unique name per column.
    kind : {"logits", "probabilities", "multilabel"}
        What the scores are; decides which conversions make sense.
    source : str
        Where the scores came from (a path, or a description of the object).
    labels : ndarray or None
        True labels: class indices (n,) for single-label data, or a 0/1 matrix (n, m)
        for multi-label data.

    Examples
    --------
    >>> import numpy as np
    >>> s = load_scores(np.eye(3, dtype=np.float32) + 0.1, classes=["cat", "dog", "owl"])
    >>> s.n_samples, s.n_classes, s.classes[1]
    (3, 3, 'dog')
    """

    values: np.ndarray
    classes: tuple[str, ...]
    kind: str = "logits"
    source: str = "<array>"
    labels: np.ndarray | None = field(default=None, repr=False)
    #: Set by :func:`load_scores` once in-memory values were checked whole, so streaming
    #: them does not check every block again.
    finite_checked: bool = field(default=False, repr=False)

    @property
    def n_samples(self) -> int:
        return int(self.values.shape[0])

    @property
    def n_classes(self) -> int:
        return int(self.values.shape[1])

    @property
    def dtype(self) -> np.dtype:
        """The floating dtype computations run in (float32 or float64)."""
        return _compute_dtype(self.values.dtype)

    def iter_chunks(self, chunk_size: int) -> Iterator[tuple[int, np.ndarray]]:
        """Yield ``(first_row, block)`` over the samples, as checked float blocks.

        Each block is read from the (possibly memory-mapped) input, converted to
        :attr:`dtype` and checked for non-finite values, so a bad value is reported by
        row, column and class however large the input is.
        """
        for start in range(0, self.n_samples, chunk_size):
            block = np.asarray(self.values[start : start + chunk_size], dtype=self.dtype)
            if not self.finite_checked:
                _check_finite(block, start, self.classes, self.source)
            yield start, block
            release_pages(self.values, start + chunk_size)

    def check_finite(self, start: int = 0, stop: int | None = None) -> None:
        """Raise :class:`ScoresError` naming the row, column and class of the first
        non-finite value among rows ``start`` to ``stop``; return if there is none.

        >>> s = load_scores(np.array([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]]))
        >>> s.values[2, 1] = np.inf
        >>> s.check_finite(1)
        Traceback (most recent call last):
        ...
        blocks_rx.errors.ScoresError: <array>: 1 non-finite value(s) in this block of rows; the first is inf at row 2, column 1 (class 'class_1'). Scores must be finite numbers.
        """
        block = np.asarray(self.values[start:stop], dtype=self.dtype)
        _check_finite(block, start, self.classes, self.source)


def release_pages(values, end_row: int) -> None:
    """Drop a memory-mapped input's pages before row ``end_row`` from this process's
    resident memory (``madvise(MADV_DONTNEED)``); anything else is left alone.

    A one-pass read of a file larger than RAM would otherwise keep every page it touched
    resident (and counted in the process's RSS) until the mapping closes. The pages stay in
    the page cache, and the mapping is read-only and shared, so a later read of those rows
    faults them back in from the cache or the file, unchanged.
    """
    handle = getattr(values, "_mmap", None)
    if handle is None or not hasattr(handle, "madvise") or not values.flags.c_contiguous:
        return
    import mmap

    data_start = values.offset % mmap.ALLOCATIONGRANULARITY  # numpy maps from that boundary
    end = data_start + min(end_row, values.shape[0]) * values.strides[0]
    end -= end % mmap.PAGESIZE
    if end > 0:
        handle.madvise(mmap.MADV_DONTNEED, 0, end)


def _compute_dtype(dtype: np.dtype) -> np.dtype:
    return np.dtype(np.float64) if dtype == np.float64 else np.dtype(np.float32)


def _check_finite(block: np.ndarray, first_row: int, classes, source: str) -> None:
    finite = np.isfinite(block)
    if finite.all():
        return
    rows, cols = np.nonzero(~finite)
    row, col = int(rows[0]), int(cols[0])
    raise ScoresError(
        f"{source}: {rows.size} non-finite value(s) in this block of rows; the first is "
        f"{float(block[row, col])} at row {first_row + row}, column {col} (class {classes[col]!r}). "
        "Scores must be finite numbers."
    )


# --------------------------------------------------------------------------- conversions


def softmax(block: np.ndarray) -> np.ndarray:
    """Row-wise softmax: logits -> probabilities (shift-invariant, overflow-safe).

    >>> softmax(np.array([[0.0, np.log(3.0)]])).round(3)
    array([[0.25, 0.75]])
    """
    z = block - block.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=1, keepdims=True)
    return z


def sigmoid(block: np.ndarray) -> np.ndarray:
    """Element-wise logistic function: multi-label logits -> independent probabilities.

    >>> sigmoid(np.array([[0.0, 2.0]])).round(3)
    array([[0.5  , 0.881]])
    """
    # tanh form avoids overflow warnings for large |x|.
    return 0.5 * (1.0 + np.tanh(0.5 * block))


def center_rows(block: np.ndarray) -> np.ndarray:
    """Subtract each sample's mean score.

    Logits are defined only up to a per-sample constant (softmax ignores it), and such
    offsets can dominate correlations between raw logit columns; centring removes them.

    >>> center_rows(np.array([[50.0, 52.0], [10.0, 10.0]]))
    array([[-1.,  1.],
           [ 0.,  0.]])
    """
    mean = block.mean(axis=1, dtype=np.float64, keepdims=True)
    return (block - mean).astype(block.dtype, copy=False)


def standardize_rows(block: np.ndarray) -> np.ndarray:
    """Centre each sample's scores and divide by their spread (a per-sample z-score).

    Some classifiers' logits carry a per-sample offset *and* scale (a text classifier's
    log-probabilities grow with text length); standardizing removes both, keeping only
    how each sample ranks the classes relative to one another. Constant rows become 0.

    >>> standardize_rows(np.array([[1.0, 3.0], [5.0, 5.0]]))
    array([[-1.,  1.],
           [ 0.,  0.]])
    """
    mean = block.mean(axis=1, dtype=np.float64, keepdims=True)
    spread = block.std(axis=1, dtype=np.float64, keepdims=True)
    spread[spread == 0] = 1.0
    return ((block - mean) / spread).astype(block.dtype, copy=False)


def log_scores(block: np.ndarray) -> np.ndarray:
    """Natural log of probabilities (tiny values floored), i.e. logits up to a row constant."""
    tiny = np.finfo(block.dtype).tiny
    return np.log(np.maximum(block, tiny))


@dataclass(frozen=True)
class Transform(Entry):
    """A per-sample transform applied to each block of rows before correlating (``function``
    maps an (rows, m) block to one of the same shape; None leaves the scores as they are)."""


#: Per-sample transforms applied to each block of rows before similarity is computed.
TRANSFORMS: Registry[Transform] = Registry("transform")
for _name, _function, _text in [
    ("none", None, "the scores as given (the paper's default)"),
    ("center", center_rows, "subtract each sample's mean score (removes per-sample logit "
                            "offsets)"),
    ("standardize", standardize_rows, "per-sample z-score: removes each sample's offset and "
                                      "spread"),
    ("softmax", softmax, "logits -> probabilities (row-wise softmax)"),
    ("sigmoid", sigmoid, "multi-label logits -> independent probabilities"),
    ("log", log_scores, "natural log of probabilities (tiny values floored)"),
]:
    TRANSFORMS.register(Transform(_name, _function, _text))


# --------------------------------------------------------------------------- loading


def load_scores(
    source,
    *,
    classes=None,
    kind: str = "logits",
    labels=None,
    key: str | None = None,
    mmap: bool = True,
    check_finite: bool = True,
) -> Scores:
    """Load and validate a score matrix (n samples x m classes).

    Parameters
    ----------
    source : path, ndarray, pandas.DataFrame or Scores
        ``.npy`` (memory-mapped), ``.npz`` (named arrays), ``.csv``/``.tsv`` (header =
        class names; a leading text column is taken as sample ids), ``.parquet``,
        torch ``.pt``; or an array / DataFrame whose columns are the class names.
    classes : sequence of str, path, or None
        Class names, or a text file with one name per line. Defaults to the names stored
        with the scores (CSV header, ``classes`` array in an ``.npz``), else ``class_0``...
    kind : {"logits", "probabilities", "multilabel"}
        What the scores are.
    labels : array, path or None
        True labels for a confusion matrix: class indices or class names (n,), or a 0/1
        matrix (n, m) for multi-label data.
    key : str, optional
        Which array of an ``.npz`` / ``.pt`` dict holds the scores.
    mmap : bool
        Memory-map ``.npy`` files instead of reading them.
    check_finite : bool
        Check in-memory values for NaN and infinity now, all at once (the default). False
        leaves them to be checked a block of rows at a time as they are read
        (:meth:`Scores.iter_chunks`), as a memory-mapped file always is; the torch engine
        then checks them where it computes (:mod:`blocks_rx.engines.torch_engine`).

    Returns
    -------
    Scores

    Raises
    ------
    ScoresError
        For input that cannot be analysed; the message names file, row, column or class.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"cat": [0.1, 2.0, 0.3], "dog": [1.5, 0.2, 0.1]})
    >>> load_scores(df).classes
    ('cat', 'dog')
    """
    if kind not in SCORE_KINDS:
        raise ScoresError(f"unknown score kind {kind!r}; choose one of {', '.join(SCORE_KINDS)}")
    if isinstance(source, Scores):
        values, stored_names, stored_labels, name = (
            source.values, list(source.classes), source.labels, source.source)
    else:
        values, stored_names, stored_labels, name = read_source(source, key=key, mmap=mmap)

    values = _validate_values(values, name)
    names = _class_names(classes, stored_names, values.shape, name)
    values = _unmasked(values, names, name)
    checked_now = check_finite and not isinstance(values, np.memmap)
    if checked_now:
        # In-memory values at once (unless deferred); memory maps block by block when read.
        _check_finite(values, 0, names, name)
    label_name = "labels"
    if labels is None:
        labels, label_name = stored_labels, f"{name}, stored labels"
    label_array = (None if labels is None
                   else _read_labels(labels, names, values.shape[0], label_name))
    if kind == "probabilities":
        lo, hi = _value_range(values)
        if lo < 0.0 or hi > 1.0:
            warn_caller(f"{name}: scores declared as probabilities range over [{lo:.3g}, {hi:.3g}]; "
                "pass kind='logits' if these are raw outputs.")
    return Scores(values=values, classes=tuple(names), kind=kind, source=name, labels=label_array,
                  finite_checked=checked_now)


#: Rows of a memory-mapped input read at once while its range is checked: about 64 MB.
_RANGE_BLOCK_BYTES = 64 * 2**20


def _value_range(values) -> tuple[float, float]:
    """Smallest and largest score, read in blocks of rows so that a memory map is never
    loaded whole."""
    rows = max(1, _RANGE_BLOCK_BYTES // (values.shape[1] * values.itemsize))
    lo, hi = np.inf, -np.inf
    for start in range(0, values.shape[0], rows):
        block = values[start : start + rows]
        lo, hi = min(lo, float(block.min())), max(hi, float(block.max()))
    return lo, hi


def _unmasked(values, classes, name):
    """The plain values of a masked array that has no masked cell; a masked cell is an
    error naming its row, column and class."""
    if not np.ma.isMaskedArray(values):
        return values
    rows, cols = np.nonzero(np.ma.getmaskarray(values))
    if rows.size:
        row, col = int(rows[0]), int(cols[0])
        raise ScoresError(
            f"{name}: {rows.size} masked value(s); the first is at row {row}, column {col} "
            f"(class {classes[col]!r}). Fill or drop masked cells before loading.")
    return np.ma.getdata(values)


#: Words for the dtype kinds that are not scores.
_NOT_NUMBERS = {"U": "text", "S": "bytes", "O": "Python objects", "M": "dates",
                "m": "time spans", "c": "complex numbers", "V": "records"}


def _validate_values(values, name):
    values = np.asanyarray(values)
    if values.ndim != 2:
        raise ScoresError(f"{name}: expected a 2-D matrix (samples x classes), got shape {values.shape}")
    n, m = values.shape
    if m < 2:
        raise ScoresError(f"{name}: need at least 2 classes (columns), got {m}")
    if n < 2:
        raise ScoresError(f"{name}: need at least 2 samples (rows), got {n}")
    kind = values.dtype.kind
    if kind in "iub":
        warn_caller(f"{name}: scores are {values.dtype} integers; converting to float64. If these are "
            "predicted or true labels rather than scores, pass them as labels instead.")
        values = values.astype(np.float64)
    elif values.dtype == np.float16:
        warn_caller(f"{name}: float16 scores keep about 3 significant digits; they are "
                    "computed in float32, but ties and rounding may blur fine structure.")
        values = values.astype(np.float32)
    elif kind != "f":
        raise ScoresError(f"{name}: scores must be real numbers, got dtype {values.dtype} "
                          f"({_NOT_NUMBERS.get(kind, 'not numbers')})")
    elif values.dtype not in (np.float32, np.float64):
        values = values.astype(np.float64)  # longdouble
    if m > n:
        warn_caller(f"{name}: {m} classes (columns) but only {n} samples (rows). Is the matrix "
            "transposed? Correlations over fewer samples than classes are rank-deficient.")
    return values


def _class_names(classes, stored, shape, name):
    n, m = shape
    if classes is None:
        names = stored if stored is not None else [f"class_{j}" for j in range(m)]
        origin = "stored class names"
    elif isinstance(classes, (str, os.PathLike)):
        names = read_class_names(classes)
        origin = f"class-name file {classes}"
    else:
        names = [str(c) for c in classes]
        origin = "class names"
    names = [str(c) for c in names]
    if len(names) != m:
        hint = " (the matrix may be transposed)" if len(names) == n else ""
        raise ScoresError(f"{name}: {len(names)} {origin} for {m} score columns{hint}")
    from .names import check_names

    from_file = isinstance(classes, (str, os.PathLike))
    check_names(names, f"{name}: {origin}", SideFileError if from_file else ScoresError)
    duplicates = [c for c, count in Counter(names).items() if count > 1]
    if duplicates:
        shown = ", ".join(repr(d) for d in duplicates[:5])
        raise ScoresError(f"{name}: duplicate class names: {shown}"
                          + (f" and {len(duplicates) - 5} more" if len(duplicates) > 5 else ""))
    return names


def _read_labels(labels, classes, n, label_name):
    error = ScoresError
    if isinstance(labels, (str, os.PathLike)):
        error = SideFileError
        label_name = str(labels)
        labels = read_label_file(Path(labels), classes)
    try:
        labels = np.asarray(labels)
    except (ValueError, TypeError, OverflowError) as exc:  # ragged or odd sequences
        raise error(f"{label_name}: cannot read them as one label per row ({exc})") from None
    m = len(classes)
    if labels.ndim == 2:
        if labels.shape != (n, m):
            raise error(f"{label_name}: multi-label matrix has shape {labels.shape}, "
                              f"expected ({n}, {m}) to match the scores")
        if not np.isin(labels, (0, 1)).all():
            row, col = (int(i[0]) for i in np.nonzero(~np.isin(labels, (0, 1))))
            raise error(f"{label_name}: a multi-label matrix must hold only 0 and 1; row "
                              f"{row}, column {col} (class {classes[col]!r}) holds {labels[row, col]}")
        return labels.astype(np.uint8)
    if labels.ndim != 1 or labels.shape[0] != n:
        raise error(f"{label_name}: {labels.shape[0] if labels.ndim else 0} labels for "
                          f"{n} score rows")
    if labels.dtype.kind in "USO":
        index = {c: j for j, c in enumerate(classes)}
        out = np.empty(n, dtype=np.int64)
        for row, value in enumerate(labels):
            if str(value) not in index:
                raise error(f"{label_name}: row {row} names class {str(value)!r}, "
                                  "which is not among the score columns")
            out[row] = index[str(value)]
        return out
    if labels.dtype.kind not in "iuf":
        raise error(f"{label_name}: must be class indices or class names, got dtype "
                    f"{labels.dtype}" + (" (for multi-label data give an n x m 0/1 matrix)"
                                         if labels.dtype.kind == "b" else ""))
    if labels.dtype.kind == "f":
        bad = np.flatnonzero(~np.isfinite(labels) | (labels != np.round(labels)))
        if bad.size:
            raise error(f"{label_name}: row {bad[0]} holds {float(labels[bad[0]])!r}; "
                              "labels must be whole class indices")
    # Checked before the cast to int64, which would wrap indices as large as 1e30.
    bad = np.flatnonzero((labels < 0) | (labels >= m))
    if bad.size:
        raise error(f"{label_name}: row {bad[0]} holds class index {labels[bad[0]]}, "
                          f"outside 0..{m - 1}")
    return labels.astype(np.int64)
