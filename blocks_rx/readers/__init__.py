"""Files and objects in: each reader turns one input format into arrays and names.

A reader returns a :class:`Raw` (values, stored class names, stored labels, and the name to
show in messages); :mod:`blocks_rx.scores` validates it. Readers never execute code from a
file (``allow_pickle=False``, ``weights_only=True``) and raise
:class:`~blocks_rx.errors.ScoresError` naming the file for anything they cannot read.

============  ==================================================================
suffix        reader
============  ==================================================================
.npy          :func:`binary.read_npy` (memory-mapped)
.npz          :func:`binary.read_npz` (named arrays; sizes checked before reading)
.pt .pth      :func:`binary.read_torch` (tensors only)
.parquet      :func:`binary.read_parquet` (a list column of scores: :mod:`lists`)
.csv .tsv     :func:`text.read_table` (RFC 4180; header = class names)
.txt          :func:`text.read_table`
============  ==================================================================

Side files (``--classes``, ``--labels``) are read by :func:`text.read_class_names` and
:func:`text.read_label_file`.

>>> import numpy as np
>>> raw = read_source(np.ones((2, 3)))
>>> raw.values.shape, raw.name
((2, 3), '<array>')
"""

from __future__ import annotations

import os
import pickle
import sys
import zipfile
import zlib
from pathlib import Path

from ..errors import ScoresError
from ._raw import Raw
from .text import read_class_names, read_label_file

__all__ = ["READERS", "Raw", "read_class_names", "read_label_file", "read_source"]


def _readers():
    from . import binary, text

    return {".npy": binary.read_npy, ".npz": binary.read_npz, ".pt": binary.read_torch,
            ".pth": binary.read_torch, ".parquet": binary.read_parquet,
            ".csv": text.read_table, ".tsv": text.read_table, ".txt": text.read_table}


#: Errors a reader may raise for a bad file; :func:`read_source` turns them into ScoresError.
_READ_ERRORS = (ValueError, OSError, KeyError, EOFError, OverflowError, TypeError,
                zipfile.BadZipFile, pickle.UnpicklingError, zlib.error)

#: Suffixes :func:`read_source` reads.
READERS = (".npy", ".npz", ".csv", ".tsv", ".txt", ".parquet", ".pt", ".pth")


def read_source(source, *, key: str | None = None, mmap: bool = True) -> Raw:
    """Read scores from a path, an ndarray, a DataFrame or a tensor into a :class:`Raw`."""
    pd = sys.modules.get("pandas")  # a DataFrame implies pandas is already imported
    if pd is not None and isinstance(source, pd.DataFrame):
        from .frames import from_frame

        return from_frame(source, "<DataFrame>", key=key)
    import numpy as np

    if isinstance(source, np.ndarray):
        return Raw(source, None, None, "<array>")
    if not isinstance(source, (str, os.PathLike)):
        if hasattr(source, "detach") and hasattr(source, "numpy"):  # a torch tensor
            from .binary import tensor_to_numpy

            return Raw(tensor_to_numpy(source, "<tensor>"), None, None, "<tensor>")
        raise ScoresError(f"cannot read scores from a {type(source).__name__}; "
                          "pass a file path, a numpy array or a pandas DataFrame")
    path = Path(source)
    if not path.exists():
        raise ScoresError(f"{path}: no such file")
    if path.is_dir():
        raise ScoresError(f"{path}: is a folder; give the score file")
    reader = _readers().get(path.suffix.lower())
    if reader is None:
        raise ScoresError(f"{path}: unsupported file type {path.suffix.lower()!r}; use one of "
                          f"{', '.join(READERS)}")
    try:
        return reader(path, key=key, mmap=mmap)
    except ScoresError:
        raise
    except _READ_ERRORS as exc:  # what a reader did not foresee still names the file
        raise ScoresError(f"{path}: cannot read scores ({type(exc).__name__}: {exc})") from exc
