"""Mean pooling of a class x class matrix in a given order, a band of tiles at a time.

The drawn heatmap (:func:`blocks_rx.plot._heatmap.ordered_image`) and the explorer's
overview and served view (:func:`blocks_rx.explorer.content.pool_ordered`) both show the
matrix reduced to the mean over square tiles of ordered classes; both use :func:`pool_tiles`.
Memory stays near one band of :data:`BAND_CELLS` cells in the matrix's own dtype, whatever
the number of classes: never an ordered copy, nor a float64 copy, of the whole matrix.
"""

from __future__ import annotations

import numpy as np

#: Cells of the matrix one band (and one read of whole rows) holds: 4 MB of float32. Larger
#: bands were slower (at 20,000 classes: 0.6 s with 2**20 cells, 1.3 s with 2**24).
BAND_CELLS = 1 << 20


def pool_tiles(matrix, rows, columns=None, tile: int = 1) -> np.ndarray:
    """The mean of the finite cells of each ``tile x tile`` block of
    ``matrix[rows][:, columns]`` (``columns`` default ``rows``; the last tiles smaller), NaN
    for a tile with no finite cell, as float64.

    >>> M = np.arange(16.0).reshape(4, 4)
    >>> M[0, 0] = np.nan
    >>> pool_tiles(M, np.arange(4), tile=2).tolist()
    [[3.3333333333333335, 4.5], [10.5, 12.5]]
    >>> pool_tiles(M, [3, 1], [0, 2, 3], tile=2).tolist()
    [[9.0, 11.0]]
    """
    if tile < 1:
        raise ValueError(f"tile must be at least 1, not {tile}")
    rows = np.asarray(rows, dtype=np.intp)
    columns = rows if columns is None else np.asarray(columns, dtype=np.intp)
    width = np.shape(matrix)[1]
    pooled = np.empty((-(-len(rows) // tile), -(-len(columns) // tile)))
    if pooled.size == 0:
        return pooled
    # Few columns (a window of the served view): pick them out as the band is read. Many:
    # sum the band's rows over tiles first, and pick the columns from those sums, which are
    # `tile` times fewer cells than the band.
    narrow = len(columns) * 4 < width
    band_tiles = max(1, BAND_CELLS // (tile * (len(columns) if narrow else width)))
    band_rows = band_tiles * tile
    for start in range(0, len(rows), band_rows):
        band = ordered_rows(matrix, rows[start:start + band_rows], columns if narrow else None)
        first = start // tile
        pooled[first:first + -(-len(band) // tile)] = _tile_means(
            band, tile, None if narrow else columns)
    return pooled


def ordered_rows(matrix, rows, columns=None, dtype=None) -> np.ndarray:
    """``matrix[rows][:, columns]`` (``columns`` default all), the rows read in increasing
    index order (one forward sweep over a memory-mapped matrix, whatever order ``rows``
    asks for), :data:`BAND_CELLS` cells of whole rows at a time.

    >>> ordered_rows(np.arange(9.0).reshape(3, 3), [2, 0], [1, 2]).tolist()
    [[7.0, 8.0], [1.0, 2.0]]
    """
    rows = np.asarray(rows, dtype=np.intp)
    width = np.shape(matrix)[1]
    picked = None if columns is None else np.asarray(columns, dtype=np.intp)
    out = np.empty((len(rows), width if picked is None else len(picked)),
                   dtype=matrix.dtype if dtype is None else dtype)
    reading = np.argsort(rows, kind="stable")
    chunk = max(1, BAND_CELLS // max(width, 1))
    for start in range(0, len(rows), chunk):
        where = reading[start:start + chunk]
        block = np.asarray(matrix[rows[where]])
        out[where] = block if picked is None else block.take(picked, axis=1)
    return out


def _tile_means(band, tile: int, columns) -> np.ndarray:
    """Means of the finite cells of each tile of a band whose rows are in order; its
    columns are then ``columns`` of the band (None: in order already)."""
    sums = _tile_sums(band, tile, columns)
    if np.isfinite(sums).all():  # every cell finite (the usual case): counts are tile sizes
        counts = np.outer(_run_lengths(len(band), tile),
                          _run_lengths(band.shape[1] if columns is None else len(columns), tile))
    else:  # a NaN or infinite cell: sum and count the finite cells only
        finite = np.isfinite(band)
        sums = _tile_sums(np.where(finite, band, 0), tile, columns)
        counts = _tile_sums(finite, tile, columns)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / counts, np.nan)


def _tile_sums(band, tile: int, columns) -> np.ndarray:
    """float64 sums over tiles: the rows' runs of ``tile`` first, then the columns'."""
    row_sums = _run_sums(band, tile, axis=0)
    if columns is not None:
        row_sums = row_sums.take(columns, axis=1)
    return _run_sums(row_sums, tile, axis=1)


def _run_sums(values, tile: int, axis: int) -> np.ndarray:
    """float64 sums of consecutive runs of ``tile`` along ``axis`` (0 or 1), the last run
    shorter. A reshape and sum: np.add.reduceat over rows is several times slower."""
    if axis == 1:
        return _run_sums(values.T, tile, axis=0).T
    length, width = values.shape
    full = length - length % tile
    parts = []
    if full:
        parts.append(values[:full].reshape(full // tile, tile, width).sum(axis=1,
                                                                          dtype=np.float64))
    if full < length:
        parts.append(values[full:].sum(axis=0, dtype=np.float64, keepdims=True))
    return np.concatenate(parts, axis=0) if len(parts) > 1 else parts[0]


def _run_lengths(length: int, tile: int) -> np.ndarray:
    """How many of ``length`` items each run of ``tile`` holds (the last may hold fewer)."""
    return np.diff(np.append(np.arange(0, length, tile), length))
