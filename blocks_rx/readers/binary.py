"""Binary score files: ``.npy``, ``.npz``, torch ``.pt`` and ``.parquet``."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import ScoresError
from ._raw import Raw

#: Keys tried, in order, when an ``.npz`` or ``.pt`` dict holds several arrays.
SCORE_KEYS = ("scores", "logits", "probabilities", "probs", "outputs")
#: Arrays stored beside the scores, never taken as the scores themselves.
SIDE_KEYS = ("classes", "labels", "targets")


def read_npy(path: Path, *, key=None, mmap: bool = True) -> Raw:
    values = np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)
    return Raw(values, None, None, str(path))


def read_npz(path: Path, *, key=None, mmap: bool = True) -> Raw:
    with np.load(path, allow_pickle=False) as archive:
        chosen = pick_key(list(archive.files), key, path)
        values = archive[chosen]
        names = list(archive["classes"].astype(str)) if "classes" in archive.files else None
        labels = None
        for label_key in ("labels", "targets"):
            if label_key in archive.files:
                labels = archive[label_key]
    return Raw(values, names, labels, str(path))


def read_torch(path: Path, *, key=None, mmap: bool = True) -> Raw:
    try:
        import torch
    except ImportError as exc:
        raise ImportError("reading .pt files needs torch: pip install 'blocks-rx[torch]'") from exc
    obj = torch.load(path, map_location="cpu", weights_only=True)
    names = labels = None
    if isinstance(obj, dict):
        chosen = pick_key(list(obj), key, path)
        names = obj.get("classes")
        labels = obj.get("labels", obj.get("targets"))
        if labels is not None and hasattr(labels, "numpy"):
            labels = labels.numpy()
        obj = obj[chosen]
    if not hasattr(obj, "numpy"):
        raise ScoresError(f"{path}: expected a tensor or a dict of tensors, found {type(obj).__name__}")
    tensor = obj.detach().cpu()
    if tensor.dtype == torch.bfloat16:  # numpy has no bfloat16
        tensor = tensor.float()
    return Raw(tensor.numpy(), names, labels, str(path))


def read_parquet(path: Path, *, key=None, mmap: bool = True) -> Raw:
    import pandas as pd

    from .frames import from_frame

    try:
        frame = pd.read_parquet(path)
    except ImportError as exc:
        raise ImportError("reading .parquet needs pyarrow: pip install 'blocks-rx[parquet]'") from exc
    return from_frame(frame, str(path))


def pick_key(available, key, path) -> str:
    """The name of the array that holds the scores among ``available``."""
    if key is not None:
        if key not in available:
            raise ScoresError(f"{path}: no array named {key!r}; it holds {', '.join(available)}")
        return key
    for candidate in SCORE_KEYS:
        if candidate in available:
            return candidate
    arrays = [k for k in available if k not in SIDE_KEYS]
    if len(arrays) == 1:
        return arrays[0]
    raise ScoresError(f"{path}: holds {', '.join(available)}; say which one holds the scores "
                      "with key= (--key)")
