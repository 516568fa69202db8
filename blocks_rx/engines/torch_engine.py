"""The ``torch`` engine: float32 GEMMs on the CPU or a CUDA device.

Each block of rows is copied into a host staging buffer (pinned on CUDA) by several threads
and sent to the device; everything else happens there. The block is rescaled by an exact
power of two when its spread would over- or underflow (decided on the first block, as
:class:`~blocks_rx.similarity.CoMoments` decides), centred near its own mean (its first rows'
mean, rounded to its precision), and its float64 column sums and float32 Gram matrix are
formed and summed in float64. At the end the shifts are reconciled with the same float64
identity as the numpy engine's (Chan, Golub & LeVeque), the correlation is formed on the
device, and only the m x m matrix comes back. On CUDA two staging buffers alternate, so
copying block k + 1 on the host overlaps the transfer and GEMMs of block k, and the host
makes no other pass over the scores: NaN and infinity are counted on the device, and a block
that has one is read again on the host only to name its row, column and class.

Whether TF32 matmuls were allowed (``torch.backends.cuda.matmul.allow_tf32``: about 1e-3
instead of 1e-6) is recorded in the result's ``engine_detail``; this engine never changes
that setting.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ..errors import OptionError, ScoresError
from ..similarity import CoMoments, exponent_for_spread, gram_column_edges
from . import EngineRun

#: The upper triangle of each block's Gram matrix is formed in column panels at least this
#: wide (2,622 classes: 5 panels, 60% of the full product's multiply-adds; torch has no
#: SYRK). On 2 CPUs, 40,000 x 2,622: 2.7-3.2 s against 4.6-5.4 s for the full product.
PANEL_COLUMNS = 512
#: Threads copying a block into the staging buffer: one thread's copy (about 10 GB/s) would
#: take longer than the transfer to a GPU and its GEMMs.
COPY_THREADS = max(1, min(8, os.cpu_count() or 1))
#: Blocks smaller than this are copied by one thread.
PARALLEL_COPY_FROM_BYTES = 4 * 2**20


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
    on_device = source.rows_as_read  # else the host checks each block as it is read
    with ThreadPoolExecutor(COPY_THREADS, thread_name_prefix="blocks-rx: staging") as pool:
        moments = DeviceCoMoments(source.n_columns, torch, where, pool)
        for block in source.blocks(check_finite=not on_device):
            moments.add(block)
    if on_device:
        rows = moments.first_non_finite_rows()
        if rows is not None:
            source.scores.check_finite(*rows)
            raise ScoresError(f"{source.scores.source}: a non-finite value in rows {rows[0]} "
                              f"to {rows[1] - 1}")  # not reached: check_finite names it
    matrix, constant = moments.correlation(source.out_dtype)
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
    """:class:`~blocks_rx.similarity.CoMoments` whose blocks are rescaled, centred,
    counted for non-finite values and multiplied on a torch device, in float32, their
    products summed there in float64; the correlation is formed there too.

    >>> import torch
    >>> from concurrent.futures import ThreadPoolExecutor
    >>> x = np.random.default_rng(1).normal(size=(40, 6)).astype(np.float32)
    >>> with ThreadPoolExecutor(2) as pool:
    ...     moments = DeviceCoMoments(6, torch, torch.device("cpu"), pool, panel_columns=2)
    ...     moments.add(x[:25]); moments.add(x[25:])
    >>> matrix, constant = moments.correlation()
    >>> bool(np.allclose(matrix, np.corrcoef(x, rowvar=False), atol=1e-6))
    True
    >>> with ThreadPoolExecutor(2) as pool:  # result(): the means and co-moments, as CoMoments
    ...     again = DeviceCoMoments(6, torch, torch.device("cpu"), pool)
    ...     again.add(x)
    >>> bool(np.allclose(again.result()[1] / 39, np.cov(x, rowvar=False), atol=1e-5))
    True
    """

    def __init__(self, n_columns: int, torch, device, pool,
                 panel_columns: int = PANEL_COLUMNS):
        super().__init__(n_columns)
        self._torch, self._device = torch, device
        self._edges = gram_column_edges(n_columns, panel_columns)
        self._gram_sum = torch.zeros((n_columns, n_columns), dtype=torch.float64, device=device)
        self._staging = _Staging(torch, device, pool)
        self._non_finite = []  # one flag per block, on the device

    def add(self, block: np.ndarray) -> None:
        rows = block.shape[0]
        if rows == 0:
            return
        torch = self._torch
        x = self._staging.upload(block)
        self._non_finite.append(torch.isfinite(x).logical_not_().any())
        if self.exponent is None:  # from the first block; one wait for the device
            self.exponent = _scale_exponent(torch, x)
        if self.exponent:  # an exact power of two, applied in float64
            x = x.double().mul_(2.0 ** self.exponent).to(x.dtype)
        shift = x[: self.SHIFT_ROWS].mean(dim=0, dtype=torch.float64).to(x.dtype)
        x.sub_(shift)
        self._sums.append(x.sum(dim=0, dtype=torch.float64))
        self._shifts.append(shift)
        self._rows.append(rows)
        self.count += rows
        x32 = x if x.dtype == torch.float32 else x.to(torch.float32)
        for a, b in zip(self._edges[:-1], self._edges[1:]):  # the upper block triangle
            self._gram_sum[a:b, a:].add_(x32[:, a:b].T @ x32[:, a:])

    def first_non_finite_rows(self) -> tuple[int, int] | None:
        """(first row, end row) of the first block holding NaN or infinity, or None."""
        if not self._non_finite:
            return None
        flags = self._torch.stack(self._non_finite).cpu().numpy()
        if not flags.any():
            return None
        k = int(np.argmax(flags))
        start = int(sum(self._rows[:k]))
        return start, start + self._rows[k]

    def correlation(self, dtype=np.float64) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`CoMoments.correlation`, formed on the device in float64; the matrix comes
        back to the host as ``dtype``."""
        if self.count < 2:
            raise ValueError("correlation needs at least 2 samples")
        torch = self._torch
        _, left, right = self._corrections(self._host_sums())
        comoment, self._gram_sum = self._gram_sum, None
        comoment.addmm_(torch.from_numpy(np.ascontiguousarray(left.T)).to(self._device),
                        torch.from_numpy(right).to(self._device))
        variance = comoment.diagonal().clone()
        constant = variance <= 0.0
        scale = torch.where(constant, torch.zeros_like(variance), variance.rsqrt())
        corr = comoment.mul_(scale[:, None]).mul_(scale[None, :]).triu_()
        corr.add_(corr.triu(1).T)  # exactly symmetric: the upper triangle, mirrored
        corr.clamp_(-1.0, 1.0).fill_diagonal_(1.0)
        matrix = corr.to(_torch_dtype(torch, dtype)).cpu().numpy()
        return matrix, constant.cpu().numpy()

    def _collected(self):
        gram = self._gram_sum
        self._gram_sum = None
        return (gram.triu() + gram.triu(1).T).cpu().numpy(), self._host_sums()

    def _host_sums(self) -> np.ndarray:
        """The blocks' float64 column sums, on the host; their shifts too (``_shifts``)."""
        torch = self._torch
        self._shifts = list(torch.stack(self._shifts).double().cpu().numpy())
        sums, self._sums = torch.stack(self._sums).cpu().numpy(), []
        return sums


def _scale_exponent(torch, x) -> int:
    """:func:`blocks_rx.similarity._scale_exponent` of a block on the device."""
    mean = x.mean(dim=0, dtype=torch.float64)
    peak = torch.maximum(x.amax(dim=0).double() - mean, mean - x.amin(dim=0).double())
    return exponent_for_spread(float(peak.max()))


class _Staging:
    """Two host buffers (pinned on CUDA) that blocks are copied into, by several threads.

    On CUDA a block is then sent to the device asynchronously, and a buffer is written
    again only once its last transfer is done; on the CPU the buffer itself is the block
    the engine works on.
    """

    def __init__(self, torch, device, pool: ThreadPoolExecutor):
        self.torch, self.device, self.pool = torch, device, pool
        self.cuda = device.type == "cuda"
        self.buffers, self.events, self.turn = [None, None], [None, None], 0

    def upload(self, block: np.ndarray):
        """A copy of ``block`` on the device (on CUDA the transfer runs asynchronously)."""
        torch, i = self.torch, self.turn
        self.turn = 1 - i
        if self.events[i] is not None:
            self.events[i].synchronize()  # its previous transfer is done: safe to overwrite
        dtype = _torch_dtype(torch, block.dtype)
        buffer = self.buffers[i]
        if buffer is None or buffer.dtype != dtype or buffer.shape[0] < block.shape[0] \
                or buffer.shape[1] != block.shape[1]:
            buffer = self.buffers[i] = torch.empty(block.shape, dtype=dtype,
                                                   pin_memory=self.cuda)
        staged = buffer[: block.shape[0]]
        copy_rows(staged.numpy(), block, self.pool)
        if not self.cuda:
            return staged
        on_device = staged.to(self.device, non_blocking=True)
        self.events[i] = torch.cuda.Event()
        self.events[i].record()
        return on_device


def copy_rows(target: np.ndarray, block: np.ndarray, pool: ThreadPoolExecutor,
              parts: int = COPY_THREADS) -> None:
    """``target[...] = block``, in ``parts`` shares of the rows copied by the threads of
    ``pool`` when the block is large (numpy copies without holding the GIL).

    >>> from concurrent.futures import ThreadPoolExecutor
    >>> block, target = np.arange(2.0**20).reshape(-1, 64), np.empty((2**14, 64))
    >>> with ThreadPoolExecutor(3) as pool:
    ...     copy_rows(target, block, pool, parts=3)
    >>> bool((target == block).all())
    True
    """
    rows = block.shape[0]
    parts = min(parts, rows) if block.nbytes >= PARALLEL_COPY_FROM_BYTES else 1
    if parts <= 1:
        np.copyto(target, block)
        return
    edges = np.linspace(0, rows, parts + 1).astype(int)
    copies = [pool.submit(np.copyto, target[a:b], block[a:b])
              for a, b in zip(edges[:-1], edges[1:])]
    for copy in copies:
        copy.result()


def _torch_dtype(torch, dtype):
    return torch.float64 if np.dtype(dtype) == np.float64 else torch.float32
