"""The ``torch`` engine: float32 GEMMs on the CPU or a CUDA device.

Each block of rows is centred near its own mean (the shift is taken on the host, as
:class:`~blocks_rx.similarity.CoMoments` takes it), its float64 column sums and float32 Gram
matrix are formed on the device and summed there in float64; the shifts are reconciled on
the host in float64 (Chan, Golub & LeVeque), exactly as the numpy engine does. On CUDA, blocks
go through two pinned staging buffers, so reading block k + 1 on the host overlaps the copy
and GEMM of block k on the device. Whether TF32 matmuls were allowed
(``torch.backends.cuda.matmul.allow_tf32``: about 1e-3 instead of 1e-6) is recorded in the
result's ``engine_detail``; this engine never changes that setting.
"""

from __future__ import annotations

import numpy as np

from ..errors import OptionError
from ..similarity import CoMoments, gram_column_edges
from . import EngineRun


def correlate(source, device: str = "auto") -> EngineRun:
    """Correlation of the source's blocks with torch on ``device`` ("cpu", "cuda", "auto").

    >>> from blocks_rx.engines import BlockSource
    >>> from blocks_rx.scores import load_scores
    >>> from blocks_rx.similarity import MEASURES
    >>> S = np.random.default_rng(0).normal(size=(50, 3)) + 50
    >>> run = correlate(BlockSource(load_scores(S), MEASURES["pearson"], None, 16), "cpu")
    >>> bool(np.allclose(run.matrix, np.corrcoef(S, rowvar=False), atol=1e-5)), run.dtype
    (True, 'float32')
    """
    import torch

    where = resolve_device(torch, device)
    moments = DeviceCoMoments(source.n_columns, torch, where)
    for block in source.blocks():
        moments.add(block)
    matrix, constant = moments.correlation()
    return EngineRun(matrix, constant, "float32", detail(torch, where))


def resolve_device(torch, device: str):
    """The torch device for "cpu", "cuda" or "auto"; OptionError when CUDA is asked for and
    torch sees none."""
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise OptionError(f"engine 'torch': device='cuda', but this torch ({torch.__version__}) "
                          "sees no CUDA device (torch.cuda.is_available() is False); use "
                          "device='cpu' (--device cpu)")
    return torch.device(device)


def detail(torch, device) -> dict:
    """Plain facts for the provenance: device, torch version, TF32 and matmul precision."""
    facts = {"device": str(device), "torch": torch.__version__,
             "allow_tf32": bool(torch.backends.cuda.matmul.allow_tf32),
             "float32_matmul_precision": torch.get_float32_matmul_precision()}
    if device.type == "cuda":
        facts["gpu"] = torch.cuda.get_device_name(device)
    return facts


class DeviceCoMoments(CoMoments):
    """:class:`~blocks_rx.similarity.CoMoments` whose Gram matrices are formed on a torch
    device in float32 and summed there in float64."""

    def __init__(self, n_columns: int, torch, device):
        super().__init__(n_columns)
        self._torch, self._device = torch, device
        self._gram_sum = torch.zeros((n_columns, n_columns), dtype=torch.float64, device=device)
        self._staging = _Staging(torch, device) if device.type == "cuda" else None

    def _accumulate(self, block: np.ndarray, shift: np.ndarray):
        torch = self._torch
        if self._staging is None:  # CPU: centre into a reused buffer, as numpy does
            centred = np.subtract(block, shift,
                                  out=self._buffer("centred", block.shape, block.dtype))
            x = torch.from_numpy(centred)
        else:
            x = self._staging.upload(block)
            x.sub_(torch.from_numpy(shift).to(self._device))
        sums = x.sum(dim=0, dtype=torch.float64)
        x32 = x if x.dtype == torch.float32 else x.to(torch.float32)
        # The upper block triangle only (torch has no SYRK): about half the flops.
        edges = gram_column_edges(x32.shape[1])
        for a, b in zip(edges[:-1], edges[1:]):
            self._gram_sum[a:b, a:].add_(x32[:, a:b].T @ x32[:, a:])
        return sums

    def _collected(self):
        torch = self._torch
        upper = self._gram_sum
        gram = (torch.triu(upper) + torch.triu(upper, 1).T).cpu().numpy()
        sums = torch.stack(self._sums).cpu().numpy()
        self._gram_sum, self._sums = None, []
        return gram, sums


class _Staging:
    """Two pinned host buffers: a block is copied into one while the other's transfer runs."""

    def __init__(self, torch, device):
        self.torch, self.device = torch, device
        self.buffers, self.events, self.turn = [None, None], [None, None], 0

    def upload(self, block: np.ndarray):
        """``block`` as a new tensor on the device (the copy runs asynchronously)."""
        torch, i = self.torch, self.turn
        self.turn = 1 - i
        if self.events[i] is not None:
            self.events[i].synchronize()  # its previous transfer is done: safe to overwrite
        buffer = self.buffers[i]
        if buffer is None or buffer.dtype != _torch_dtype(torch, block.dtype) \
                or buffer.shape[0] < block.shape[0] or buffer.shape[1] != block.shape[1]:
            buffer = self.buffers[i] = torch.empty(block.shape, pin_memory=True,
                                                   dtype=_torch_dtype(torch, block.dtype))
        staged = buffer[: block.shape[0]]
        np.copyto(staged.numpy(), block)
        on_device = staged.to(self.device, non_blocking=True)
        self.events[i] = torch.cuda.Event()
        self.events[i].record()
        return on_device


def _torch_dtype(torch, dtype):
    return torch.float64 if np.dtype(dtype) == np.float64 else torch.float32
