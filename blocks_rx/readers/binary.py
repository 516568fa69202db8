"""Binary score files: ``.npy``, ``.npz``, torch ``.pt`` and ``.parquet``.

Every array header is read before its data, so a file that is truncated, holds Python
objects, or declares more data than fits in memory is refused before anything large is read.
Messages name the file first, then the array (``.npz`` member or ``.pt`` key) at fault.
"""

from __future__ import annotations

import pickle
import re
import tokenize
import warnings
import zipfile
import zlib
from pathlib import Path

import numpy as np
from numpy.lib import format as npy_format

from ..errors import ScoresError
from ..preflight import available_memory, format_bytes
from ._raw import Raw

#: Keys tried, in order, when an ``.npz`` or ``.pt`` dict holds several arrays.
SCORE_KEYS = ("scores", "logits", "probabilities", "probs", "outputs")
#: Arrays stored beside the scores, never taken as the scores themselves.
SIDE_KEYS = ("classes", "labels", "targets")
#: Keys holding the true labels, in order of preference.
LABEL_KEYS = ("labels", "targets")
#: Sparse tensors are densified up to this many bytes (and never beyond available memory).
SPARSE_DENSE_LIMIT = 10**9

_NPY_MAGIC = b"\x93NUMPY"
_ZIP_MAGIC = b"PK\x03\x04"
_PICKLE_MAGIC = b"\x80"
#: What a damaged ``.npz`` member raises while it is decompressed or parsed.
_MEMBER_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, ValueError, OSError,
                  NotImplementedError, RuntimeError)
#: What ``torch.load`` raises for a damaged file (besides UnpicklingError for Python objects).
_TORCH_ERRORS = (RuntimeError, EOFError, ValueError, OSError, TypeError, KeyError,
                 IndexError)


# --------------------------------------------------------------------------- .npy


def read_npy(path: Path, *, key=None, mmap: bool = True) -> Raw:
    """Read a ``.npy`` file (memory-mapped unless ``mmap=False``), checking its header first."""
    _refuse_empty(path, ".npy array")
    with open(path, "rb") as handle:
        shape, dtype, data_start = _read_npy_header(handle, str(path), "a .npy file")
    nbytes = _declared_bytes(shape, dtype)
    on_disk = path.stat().st_size - data_start
    if on_disk < nbytes:
        raise ScoresError(f"{path}: truncated: its header declares {_describe(shape, dtype)} "
                          f"({nbytes:,} bytes) but the file holds only {on_disk:,} bytes of "
                          "data")
    if not mmap:
        _refuse_larger_than_memory(nbytes, str(path), shape, dtype)
    values = np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)
    return Raw(values, None, None, str(path))


def _read_npy_header(handle, where: str, what: str):
    """``(shape, dtype, offset of the data)`` from the npy header at the start of ``handle``;
    refuses anything that is not an npy array of plain values."""
    try:
        version = npy_format.read_magic(handle)
    except ValueError:
        raise ScoresError(f"{where}: cannot read scores: not {what} (it does not start with "
                          f"the .npy signature {_NPY_MAGIC!r})") from None
    read_header = (npy_format.read_array_header_1_0 if version == (1, 0)
                   else npy_format.read_array_header_2_0)
    try:
        shape, _, dtype = read_header(handle)
    except (ValueError, SyntaxError, tokenize.TokenError) as exc:  # numpy parses it as Python
        raise ScoresError(f"{where}: damaged .npy header ({exc})") from None
    if any(size < 0 for size in shape):
        raise ScoresError(f"{where}: damaged .npy header: negative size in shape {shape}")
    if dtype.hasobject:
        raise ScoresError(f"{where}: holds Python objects (dtype {dtype}), which blocks-rx "
                          "does not load: unpickling them could run code from the file. Save "
                          "plain arrays: numbers for scores and labels, text for class names")
    return shape, dtype, handle.tell()


def _declared_bytes(shape, dtype) -> int:
    return int(np.prod(shape, dtype=object)) * dtype.itemsize


def _describe(shape, dtype) -> str:
    return f"shape {tuple(shape)} {dtype}"


def _refuse_empty(path: Path, expected: str) -> None:
    if path.stat().st_size == 0:
        raise ScoresError(f"{path}: empty file (0 bytes); expected a {expected}")


def _refuse_larger_than_memory(nbytes: int, where: str, shape, dtype) -> None:
    available = available_memory()
    if available is not None and nbytes > available:
        raise ScoresError(f"{where}: declares {_describe(shape, dtype)}, "
                          f"{format_bytes(nbytes)} in memory, more than the "
                          f"{format_bytes(available)} of memory available; refused before "
                          "reading it")


# --------------------------------------------------------------------------- .npz


def read_npz(path: Path, *, key=None, mmap: bool = True) -> Raw:
    """Read the scores, and the ``classes`` and ``labels`` stored beside them, from an ``.npz``.

    Each array's npy header is read before its data: a member holding Python objects, one
    whose header disagrees with the zip directory, or one larger than the memory available
    is refused before it is decompressed.
    """
    _refuse_empty(path, ".npz archive")
    with _open_zip(path) as archive:
        members = {info.filename[:-4]: info for info in archive.infolist()
                   if info.filename.endswith(".npy")}
        if not members:
            raise ScoresError(f"{path}: empty archive: it holds no arrays")
        chosen = pick_key(list(members), key, path)
        values = _read_member(archive, members[chosen], path)
        names = labels = None
        if "classes" in members and chosen != "classes":
            names = _names_from_array(_read_member(archive, members["classes"], path),
                                      f"{path}, array 'classes'")
        label_key = next((k for k in LABEL_KEYS if k in members and k != chosen), None)
        if label_key is not None:
            labels = _read_member(archive, members[label_key], path)
    return Raw(values, names, labels, str(path))


def _open_zip(path: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except (NotImplementedError, RuntimeError) as exc:  # an unknown zip version, encryption
        raise ScoresError(f"{path}: an .npz archive blocks-rx cannot open ({exc})") from None
    except zipfile.BadZipFile as exc:
        with open(path, "rb") as handle:
            head = handle.read(8)
        if head.startswith(_ZIP_MAGIC):
            raise ScoresError(f"{path}: truncated or damaged .npz archive ({exc})") from None
        if head.startswith(_NPY_MAGIC):
            raise ScoresError(f"{path}: this is a .npy file, not an .npz archive; "
                              "rename it to .npy") from None
        raise ScoresError(f"{path}: not an .npz archive (a zip of .npy arrays): it starts "
                          f"with {head!r}") from None


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path) -> np.ndarray:
    """One array of the archive, after its header has been checked against the zip
    directory and the memory available."""
    where = f"{path}, array {info.filename[:-4]!r}"
    try:
        with archive.open(info) as stream:
            shape, dtype, data_start = _read_npy_header(stream, where, ".npy data")
        nbytes = _declared_bytes(shape, dtype)
        if data_start + nbytes != info.file_size:
            raise ScoresError(
                f"{where}: its header declares {_describe(shape, dtype)} "
                f"({format_bytes(data_start + nbytes)} with the header) but the zip directory "
                f"says it unpacks to {format_bytes(info.file_size)}; the two disagree, so the "
                "archive is damaged or crafted")
        _refuse_larger_than_memory(nbytes, where, shape, dtype)
        with archive.open(info) as stream:
            return npy_format.read_array(stream, allow_pickle=False)
    except ScoresError:
        raise
    except _MEMBER_ERRORS as exc:
        raise ScoresError(f"{where}: damaged ({exc})") from None


def _names_from_array(array: np.ndarray, where: str) -> list[str]:
    if array.ndim != 1:
        raise ScoresError(f"{where}: expected one class name per score column (1-D), got "
                          f"shape {array.shape}")
    return [item.decode("utf-8", "replace") if isinstance(item, bytes) else str(item)
            for item in array.tolist()]


# --------------------------------------------------------------------------- .pt


def read_torch(path: Path, *, key=None, mmap: bool = True) -> Raw:
    """Read a tensor, or a dict of tensors (with ``classes`` and ``labels``), saved by
    ``torch.save``; only tensors and plain containers are loaded (``weights_only=True``)."""
    torch = _import_torch()
    _refuse_empty(path, "torch file saved by torch.save")
    with open(path, "rb") as handle:
        head = handle.read(8)
    if not head.startswith((_ZIP_MAGIC, _PICKLE_MAGIC)):
        raise ScoresError(f"{path}: not a torch file saved by torch.save: it starts with "
                          f"{head!r}")
    obj = _torch_load(torch, path)
    if not isinstance(obj, dict):
        return Raw(tensor_to_numpy(obj, str(path)), None, None, str(path))
    chosen = _pick_tensor_key(torch, obj, key, path)
    names = _torch_names(torch, obj["classes"], path) if "classes" in obj else None
    label_key = next((k for k in LABEL_KEYS if k in obj), None)
    labels = None if label_key is None else _torch_labels(obj[label_key], path, label_key)
    return Raw(tensor_to_numpy(obj[chosen], f"{path}, key {chosen!r}"), names, labels,
               str(path))


def _import_torch():
    try:
        import torch
    except ImportError as exc:
        raise ImportError("reading .pt files needs torch: pip install 'blocks-rx[torch]'") from exc
    return torch


def _torch_load(torch, path: Path):
    """``torch.load`` with ``weights_only=True``; its errors said without torch's advice to
    load the file unsafely."""
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Detected pickle protocol")
            return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        found = re.search(r"GLOBAL ([\w.]+)", str(exc))
        which = f" ({found.group(1)})" if found else ""
        raise ScoresError(f"{path}: holds Python objects other than tensors{which}, which "
                          "blocks-rx does not load: unpickling them could run code from the "
                          "file. Save the scores as a tensor or a dict of tensors") from None
    except _TORCH_ERRORS as exc:
        reason = str(exc).split(". ")[0] or type(exc).__name__
        raise ScoresError(f"{path}: truncated or damaged torch file ({reason})") from None


def _pick_tensor_key(torch, obj: dict, key, path: Path):
    tensors = [k for k, value in obj.items() if torch.is_tensor(value)]
    if not tensors:
        shown = ", ".join(map(str, obj)) or "none"
        raise ScoresError(f"{path}: holds a dict without any tensor (keys: {shown}); save the "
                          "scores as a tensor, e.g. torch.save({'scores': scores}, path)")
    if key is not None:
        return pick_key(list(obj), key, path)
    # A score key that holds no tensor is picked, and then named in the error.
    return pick_key([k for k in obj if k in tensors or k in SCORE_KEYS], None, path)


def tensor_to_numpy(value, where: str) -> np.ndarray:
    """A tensor's values as an ndarray: on the CPU, densified when sparse and small, and in
    a floating dtype numpy has (bfloat16 and float8 become float32)."""
    import torch

    if not torch.is_tensor(value):
        raise ScoresError(f"{where}: expected a tensor, found {type(value).__name__}")
    tensor = value.detach().cpu()
    if tensor.layout != torch.strided:
        tensor = _densified(tensor, where)
    if tensor.is_quantized:
        tensor = tensor.dequantize()
    if tensor.is_floating_point() and tensor.dtype not in (torch.float16, torch.float32,
                                                           torch.float64):
        tensor = tensor.float()
    try:
        return tensor.numpy()
    except (TypeError, RuntimeError) as exc:
        raise ScoresError(f"{where}: cannot read this {tensor.dtype} tensor as numbers "
                          f"({exc})") from None


def _densified(tensor, where: str):
    dense_bytes = tensor.numel() * tensor.element_size()
    available = available_memory()
    limit = SPARSE_DENSE_LIMIT if available is None else min(SPARSE_DENSE_LIMIT, available)
    if dense_bytes > limit:
        raise ScoresError(f"{where}: {tensor.layout} tensor of shape {tuple(tensor.shape)} "
                          f"would take {format_bytes(dense_bytes)} dense; blocks-rx densifies "
                          f"sparse scores only up to {format_bytes(limit)}. Save the scores "
                          "dense (tensor.to_dense())")
    return tensor.to_dense()


def _torch_names(torch, value, path: Path) -> list[str]:
    where = f"{path}, key 'classes'"
    if torch.is_tensor(value):
        if value.dim() != 1:
            raise ScoresError(f"{where}: expected one class name per score column (1-D), got "
                              f"shape {tuple(value.shape)}")
        return [str(item) for item in value.tolist()]
    if isinstance(value, (list, tuple)):
        return [str(item.item() if torch.is_tensor(item) else item) for item in value]
    raise ScoresError(f"{where}: expected a list of class names or a tensor, found "
                      f"{type(value).__name__}")


def _torch_labels(value, path: Path, label_key: str):
    if isinstance(value, (list, tuple)):
        return np.asarray(value)
    return tensor_to_numpy(value, f"{path}, key {label_key!r}")


# --------------------------------------------------------------------------- .parquet


def read_parquet(path: Path, *, key=None, mmap: bool = True) -> Raw:
    """Read a parquet table whose columns are the classes, or whose one list column holds
    each sample's scores (``key`` names it where there are several; see
    :mod:`blocks_rx.readers.lists`)."""
    import pandas as pd

    from .frames import from_frame

    try:
        import pyarrow
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise ImportError("reading .parquet needs pyarrow: pip install 'blocks-rx[parquet]'") from exc
    from .lists import arrow_list_columns

    try:
        schema = _parquet_schema(pyarrow, pq, path)
        if schema is not None and arrow_list_columns(schema):
            return _read_list_column(pq, path, schema, key)
        return from_frame(pd.read_parquet(path), str(path))
    except pyarrow.lib.ArrowException as exc:  # e.g. text columns that are not UTF-8
        raise ScoresError(f"{path}: damaged parquet data ({exc})") from None


def _parquet_schema(pyarrow, pq, path: Path):
    """The file's schema, or None where it cannot be read (the table reader then reports
    the damage as before)."""
    try:
        return pq.read_schema(path)
    except (pyarrow.lib.ArrowException, OSError, ValueError):
        return None


def _read_list_column(pq, path: Path, schema, key) -> Raw:
    """The scores of the chosen list column, reading only that column when its name is
    unique (ids and labels beside it are not read)."""
    from .lists import arrow_list_columns, from_arrow_table

    list_columns = [schema.names[j] for j in arrow_list_columns(schema)]
    wanted = key if key is not None else (list_columns[0] if len(list_columns) == 1 else None)
    if wanted is not None and schema.names.count(wanted) == 1:
        table = pq.read_table(path, columns=[wanted])
        table = table.replace_schema_metadata(schema.metadata)
    else:
        table = pq.read_table(path)
    return from_arrow_table(table, str(path), key)


# --------------------------------------------------------------------------- keys


def pick_key(available, key, path) -> str:
    """The name of the array that holds the scores among ``available``."""
    listed = ", ".join(map(str, available))
    if key is not None:
        if key not in available:
            raise ScoresError(f"{path}: no array named {key!r}; it holds {listed}")
        return key
    for candidate in SCORE_KEYS:
        if candidate in available:
            return candidate
    arrays = [k for k in available if k not in SIDE_KEYS]
    if len(arrays) == 1:
        return arrays[0]
    if not arrays:
        raise ScoresError(f"{path}: holds only {listed}, and no scores; name the scores array "
                          "'scores', or say which array holds them with --key NAME (key= in "
                          "Python)")
    if all(re.fullmatch(r"arr_\d+", str(k)) for k in arrays):
        raise ScoresError(f"{path}: holds {len(arrays)} unnamed arrays ({listed}), as "
                          "np.savez(path, a, b) writes them; say which one holds the scores "
                          f"with --key {arrays[0]} (key= in Python), or save them by name: "
                          "np.savez(path, scores=...)")
    raise ScoresError(f"{path}: holds {listed}; say which one holds the scores with "
                      "--key NAME (key= in Python)")
