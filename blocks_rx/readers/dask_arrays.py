"""Score files as dask arrays, read lazily chunk by chunk by whoever computes them.

=====================================  ============================================
input                                  read with
=====================================  ============================================
a ``dask.array.Array``                 as it is
``x.zarr`` (array or group)            ``dask.array.from_zarr`` (``key``: the array in a group)
``x.h5`` / ``x.hdf5``                  h5py, the dataset named by ``key``
folder or glob of ``.npy`` shards      one memory map per shard, stacked by rows in natural
                                       name order (``part-2`` before ``part-10``)
``.parquet`` file or folder            ``dask.dataframe.read_parquet``: one column per class
=====================================  ============================================

Class names are taken from a ``classes`` array stored beside the scores (zarr group, HDF5
file) or a ``classes`` attribute, and from the column names of a parquet table. Chunks are
made whole rows (all classes) of about 64 MB, aligned to the stored chunks.
"""

from __future__ import annotations

import glob
import re
from pathlib import Path

import numpy as np

from ..errors import ScoresError
from ._raw import Raw

#: Suffixes read only lazily (``load_scores`` does not read them).
LAZY_SUFFIXES = (".zarr", ".h5", ".hdf5", ".he5")
#: Bytes of one chunk of whole rows.
CHUNK_BYTES = 64 * 2**20


def is_dask_array(value) -> bool:
    """Whether ``value`` is a dask array (without importing dask)."""
    return type(value).__module__.startswith("dask.") and hasattr(value, "chunks")


def is_lazy_source(source) -> bool:
    """Whether ``source`` is only read lazily: a dask array, a zarr or HDF5 path, a glob,
    or a folder of ``.npy`` or ``.parquet`` shards (or a zarr store).

    >>> is_lazy_source("scores.npy"), is_lazy_source("scores.zarr"), is_lazy_source("p/*.npy")
    (False, True, True)
    """
    if is_dask_array(source):
        return True
    if not isinstance(source, (str, Path)):
        return False
    text = str(source)
    if Path(text).suffix.lower() in LAZY_SUFFIXES or glob.has_magic(text):
        return True
    return Path(text).is_dir()


def read_dask(source, *, key: str | None = None) -> Raw:
    """A :class:`Raw` whose values are a dask array of whole-row chunks (see the table
    above); single ``.npy`` and ``.parquet`` files are read lazily too."""
    if is_dask_array(source):
        return Raw(whole_rows(source), None, None, "<dask array>")
    text = str(source)
    if glob.has_magic(text):
        return _shards(sorted(glob.glob(text), key=_natural), text, key)
    path = Path(text)
    if not path.exists():
        raise ScoresError(f"{path}: no such file or folder")
    suffix = path.suffix.lower()
    if suffix == ".zarr" or (path / ".zarray").exists() or (path / ".zgroup").exists():
        return _zarr(path, key)
    if suffix in (".h5", ".hdf5", ".he5"):
        return _hdf5(path, key)
    if suffix == ".npy":
        return _shards([str(path)], text, key)
    if suffix == ".parquet" or (path.is_dir() and any(path.glob("*.parquet"))):
        return _parquet(path, key)
    if path.is_dir():
        return _shards(sorted(map(str, path.glob("*.npy")), key=_natural), text, key)
    raise ScoresError(f"{path}: not a lazily read input (zarr, HDF5, .npy shards, parquet)")


def whole_rows(array, rows: int | None = None):
    """``array`` rechunked into chunks of whole rows, about :data:`CHUNK_BYTES` each and a
    multiple of the stored row chunks (so no stored chunk is read twice)."""
    if array.ndim != 2 or any(np.isnan(size) for size in array.shape):
        return array
    m, itemsize = array.shape[1], array.dtype.itemsize
    stored = max(array.chunks[0]) if array.chunks[0] else 1
    target = rows or max(1, CHUNK_BYTES // max(m * itemsize, 1))
    rows = max(1, round(target / stored)) * stored
    if array.numblocks[1] == 1 and all(size == rows for size in array.chunks[0][:-1]):
        return array
    return array.rechunk({0: rows, 1: -1})


def _natural(name: str):
    """Sort key reading runs of digits as numbers: part-2 before part-10."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def _zarr(path: Path, key: str | None) -> Raw:
    import dask.array as da
    import zarr

    from .binary import pick_key

    try:
        node = zarr.open(str(path), mode="r")
    except (ValueError, KeyError, OSError) as exc:
        raise ScoresError(f"{path}: cannot open as zarr ({exc})") from None
    names = None
    if isinstance(node, zarr.hierarchy.Group):
        arrays = list(node.array_keys())
        if not arrays:
            raise ScoresError(f"{path}: zarr group without arrays")
        chosen = pick_key(arrays, key, path)
        if "classes" in arrays and chosen != "classes":
            names = [_text(c) for c in node["classes"][:]]
        node = node[chosen]
        source = da.from_zarr(str(path), component=chosen)
    else:
        source = da.from_zarr(str(path))
    names = names or _attr_names(node.attrs)
    return Raw(whole_rows(source), names, None, str(path))


def _hdf5(path: Path, key: str | None) -> Raw:
    import dask.array as da
    import h5py

    from .binary import pick_key

    try:
        handle = h5py.File(path, "r")
    except OSError as exc:
        raise ScoresError(f"{path}: cannot open as HDF5 ({exc})") from None
    datasets = [name for name, item in handle.items() if isinstance(item, h5py.Dataset)]
    if not datasets:
        raise ScoresError(f"{path}: no datasets at the top of this HDF5 file")
    chosen = pick_key(datasets, key, path)
    dataset = handle[chosen]
    names = None
    if "classes" in datasets and chosen != "classes":
        names = [_text(c) for c in handle["classes"][:]]
    names = names or _attr_names(dataset.attrs)
    if dataset.ndim != 2:
        raise ScoresError(f"{path}, dataset {chosen!r}: expected a 2-D matrix (samples x "
                          f"classes), got shape {dataset.shape}")
    stored = dataset.chunks[0] if dataset.chunks else 1
    array = da.from_array(dataset, chunks=(stored, dataset.shape[1]), lock=True)
    return Raw(whole_rows(array), names, None, f"{path}:{chosen}")


def _shards(paths: list[str], name: str, key) -> Raw:
    """``.npy`` files stacked by rows, each read by memory map in chunks of whole rows."""
    import dask
    import dask.array as da

    if key is not None:
        raise ScoresError(f"{name}: --key names an array inside a file; .npy shards hold one")
    if not paths:
        raise ScoresError(f"{name}: no .npy files found")
    parts, shape = [], None
    for path in paths:
        header = np.load(path, mmap_mode="r", allow_pickle=False)
        if header.ndim != 2 or (shape is not None and header.shape[1:] != shape[1:]) \
                or (shape is not None and header.dtype != shape[0]):
            raise ScoresError(f"{path}: shape {header.shape} {header.dtype} does not stack "
                              f"with the first shard ({paths[0]}: {shape})")
        shape = shape or (header.dtype, header.shape[1])
        rows = max(1, CHUNK_BYTES // max(header.shape[1] * header.dtype.itemsize, 1))
        for start in range(0, header.shape[0], rows):
            stop = min(start + rows, header.shape[0])
            block = dask.delayed(_read_rows, pure=True)(path, start, stop)
            parts.append(da.from_delayed(block, (stop - start, header.shape[1]), header.dtype))
        del header
    return Raw(da.concatenate(parts, axis=0), None, None, name)


def _read_rows(path: str, start: int, stop: int) -> np.ndarray:
    """Rows [start, stop) of an ``.npy`` file (on whichever worker runs it)."""
    return np.array(np.load(path, mmap_mode="r", allow_pickle=False)[start:stop])


def _parquet(path: Path, key) -> Raw:
    """A parquet table (file or folder) whose numeric columns are the classes; a leading
    text or id column is set aside."""
    import dask.dataframe as dd

    if key is not None:
        raise ScoresError(f"{path}: lazily read parquet takes one column per class; --key "
                          "(a list column) is read by the numpy engine")
    frame = dd.read_parquet(str(path))
    columns = [str(c) for c in frame.columns]
    numeric = [c for c, kind in zip(columns, frame.dtypes) if kind.kind in "biuf"]
    from .frames import ID_NAMES

    aside = [c for c in columns if c not in numeric]
    if columns and columns[0].lower() in ID_NAMES and columns[0] in numeric:
        numeric.remove(columns[0])
        aside.insert(0, columns[0])
    if aside[1:] or (aside and aside[0] != columns[0]):
        raise ScoresError(f"{path}: columns {', '.join(map(repr, aside))} are not numbers; "
                          "only a first column of sample ids may be")
    values = frame[numeric].to_dask_array(lengths=True)
    return Raw(whole_rows(values), numeric, None, str(path))


def _attr_names(attrs):
    names = attrs.get("classes") if hasattr(attrs, "get") else None
    return None if names is None else [_text(c) for c in names]


def _text(item) -> str:
    return item.decode("utf-8", "replace") if isinstance(item, bytes) else str(item)
