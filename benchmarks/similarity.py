"""Similarity speed and memory against anchors measured in the same run.

Times ``blocks_rx`` similarity (streamed from a memory-mapped .npy) against
``np.corrcoef`` and a bare float32 ``S.T @ S`` on the same synthetic logits, and the peak
memory each allocates beyond the memory-mapped input (tracemalloc, which sees numpy's
allocations but not the file's pages in the page cache).

Goals (issue: foundation): time <= 1.3x the bare GEMM and <= 0.6x np.corrcoef; peak memory
beyond the input < 300 MB.

    python benchmarks/similarity.py                    # 100,000 x 2,622
    python benchmarks/similarity.py --samples 20000    # quicker
"""

from __future__ import annotations

import argparse
import gc
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

import blocks_rx


def synthetic_logits(path: Path, n: int, m: int, seed: int = 0, block: int = 10000) -> None:
    """Logits with planted groups and a per-sample offset, written as float32 .npy."""
    rng = np.random.default_rng(seed)
    groups = rng.integers(0, 40, size=m)
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(n, m))
    for start in range(0, n, block):
        rows = min(block, n - start)
        latent = rng.standard_normal((rows, 40), dtype=np.float32)
        values = rng.standard_normal((rows, m), dtype=np.float32)
        values += latent[:, groups]
        values += rng.normal(10.0, 3.0, size=(rows, 1)).astype(np.float32)
        out[start : start + rows] = values
    out.flush()
    del out


def measure(label, function):
    gc.collect()
    tracemalloc.start()
    started = time.perf_counter()
    result = function()
    seconds = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"  {label:<34s} {seconds:8.2f} s   peak {peak / 2**20:8.1f} MB", flush=True)
    return result, seconds, peak


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=100_000)
    parser.add_argument("--classes", type=int, default=2_622)
    args = parser.parse_args(argv)
    n, m = args.samples, args.classes

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "logits.npy"
        started = time.perf_counter()
        synthetic_logits(path, n, m)
        print(f"{n:,} x {m:,} float32 logits ({path.stat().st_size / 2**30:.2f} GiB), "
              f"written in {time.perf_counter() - started:.1f} s")
        S = np.load(path, mmap_mode="r")
        np.asarray(S).sum(dtype=np.float64)  # warm the page cache once for every contender
        # Warm up each contender on a small slice: lazy imports and BLAS start-up are not
        # what is being compared.
        blocks_rx.compute_similarity(np.asarray(S[:3000]), warn=False)
        np.corrcoef(S[:3000], rowvar=False)
        S[:3000].T @ S[:3000]

        ours, t_ours, p_ours = measure(
            "blocks_rx similarity (pearson)",
            lambda: blocks_rx.compute_similarity(blocks_rx.load_scores(path), warn=False).matrix)
        _, t_gemm, p_gemm = measure("bare float32 S.T @ S", lambda: S.T @ S)
        reference, t_corr, p_corr = measure("np.corrcoef (float64)",
                                            lambda: np.corrcoef(S, rowvar=False))

    error = float(np.abs(ours.astype(np.float64) - reference).max())
    print(f"max |blocks_rx - np.corrcoef| = {error:.2e}")
    print(f"time vs bare GEMM:    {t_ours / t_gemm:5.2f}x  (goal <= 1.30x)")
    print(f"time vs np.corrcoef:  {t_ours / t_corr:5.2f}x  (goal <= 0.60x)")
    print(f"peak memory beyond the memory-mapped input: {p_ours / 2**20:.0f} MB (goal < 300 MB); "
          f"bare GEMM {p_gemm / 2**20:.0f} MB, np.corrcoef {p_corr / 2**20:.0f} MB")


if __name__ == "__main__":
    main()
