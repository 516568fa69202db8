"""Similarity speed and memory against anchors measured in the same run.

Times ``blocks_rx.compute_similarity`` (streamed from a memory-mapped .npy) against a bare
float32 ``S.T @ S`` (the GEMM floor), ``np.corrcoef`` and ``pandas.DataFrame.corr`` on the
same synthetic logits. Each contender runs in a fresh process (benchmarks/_bench.py), warmed
up on a small slice first; contenders alternate and the fastest of ``--repeats`` runs is kept
(contenders slower than 10 s run once). Memory: the rise of peak anonymous memory (RssAnon,
sampled every 50 ms) over the process's baseline after imports and warm-up — what the
contender allocates beyond the memory-mapped input, whose pages sit in the page cache — and
the rise of VmHWM, which also counts the input's pages the process touched.

``pandas.DataFrame.corr`` is a single-threaded O(n m^2) loop (about 40 minutes at 100,000 x
2,622 on this machine), so it runs on the first ``--pandas-classes`` columns, beside
blocks-rx on the same columns; its time at every class is extrapolated by (m / k)^2 and says
so.

Goals: (foundation issue) at 100,000 x 2,622 time <= 1.3x the bare GEMM and <= 0.6x
np.corrcoef, memory beyond the input < 300 MB; (issue 13) at 30,000 x 20,000 time <= 1.3x the
bare GEMM (``--large``; np.corrcoef and pandas are left out at that size).

    python benchmarks/similarity.py                    # 100,000 x 2,622
    python benchmarks/similarity.py --quick            # 20,000 x 2,622
    python benchmarks/similarity.py --large            # and 30,000 x 20,000 (minutes)
    python benchmarks/similarity.py --large --no-standard   # 30,000 x 20,000 only
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from _bench import best_of, gb, goal, mb, run_child, shape

CHILD = r"""
import numpy as np
path, which, columns, save = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
import blocks_rx
S = np.load(path, mmap_mode="r")
if columns:
    S = np.ascontiguousarray(S[:, :columns])  # the pandas comparison: k columns, in memory

if which == "blocks_rx":
    source = blocks_rx.load_scores(path) if not columns else S
    blocks_rx.compute_similarity(np.asarray(S[:2000]), warn=False)
    run = lambda: blocks_rx.compute_similarity(source, warn=False).matrix
elif which == "gemm":
    S[:2000].T @ S[:2000]
    run = lambda: S.T @ S
elif which == "corrcoef":
    np.corrcoef(S[:2000, :50], rowvar=False)
    run = lambda: np.corrcoef(S, rowvar=False)
elif which == "pandas":
    import pandas as pd
    pd.DataFrame(S[:500, :20]).corr()
    run = lambda: pd.DataFrame(S, copy=False).corr().to_numpy()
matrix, figures = measure(run)
if save != "-":
    np.save(save, np.asarray(matrix, dtype=np.float64))
emit(**figures)
"""

CHEAP = 10.0


def synthetic_logits(path: Path, n: int, m: int, seed: int = 0, block: int = 10000) -> None:
    """Logits with planted groups and a per-sample offset, written as float32 .npy."""
    rng = np.random.default_rng(seed)
    groups = rng.integers(0, 40, size=m)
    block = max(1, min(block, (256 * 2**20) // (4 * m)))  # at most ~256 MB per block
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


def write_input(folder: str, n: int, m: int) -> Path:
    path = Path(folder) / f"logits_{n}x{m}.npy"
    started = time.perf_counter()
    synthetic_logits(path, n, m)
    print(f"{shape(n, m)} float32 logits ({gb(path.stat().st_size)}), written in "
          f"{time.perf_counter() - started:.1f} s", flush=True)
    return path


def contender(path, which, columns=0, save="-"):
    return lambda: run_child(CHILD, path, which, columns, save)


def standard(folder: str, n: int, m: int, repeats: int, pandas_classes: int, at_size: bool):
    path = write_input(folder, n, m)
    saved = {w: str(Path(folder) / f"{w}.npy") for w in ("blocks_rx", "corrcoef")}
    best = best_of({"blocks_rx similarity": contender(path, "blocks_rx", save=saved["blocks_rx"]),
                    "bare float32 S.T @ S": contender(path, "gemm"),
                    "np.corrcoef (float64)": contender(path, "corrcoef", save=saved["corrcoef"])},
                   repeats, CHEAP)
    k = min(pandas_classes, m)
    print(f"  on the first {k:,} classes (pandas.DataFrame.corr's O(n m^2) loop):", flush=True)
    narrow = best_of({f"blocks_rx, {k} classes": contender(path, "blocks_rx", k),
                      f"pandas corr, {k} classes": contender(path, "pandas", k)}, repeats, CHEAP)
    error = float(np.abs(np.load(saved["blocks_rx"]) - np.load(saved["corrcoef"])).max())
    ours = best["blocks_rx similarity"]
    rows = [("blocks_rx similarity", ours), ("bare float32 S.T @ S", best["bare float32 S.T @ S"]),
            ("np.corrcoef (float64)", best["np.corrcoef (float64)"])]
    print(f"\n  {shape(n, m)}: {'contender':<26s} {'time':>9s} {'vs blocks-rx':>13s} "
          f"{'anon. rise':>11s} {'peak RSS rise':>14s}")
    for label, found in rows:
        print(f"  {'':{len(shape(n, m))}s}  {label:<26s} {found['seconds']:8.2f}s "
              f"{found['seconds'] / ours['seconds']:12.2f}x {mb(found['anon_rise']):>11s} "
              f"{mb(found['hwm_rise']):>14s}")
    ours_k, pandas_k = narrow[f"blocks_rx, {k} classes"], narrow[f"pandas corr, {k} classes"]
    extrapolated = pandas_k["seconds"] * (m / k) ** 2
    print(f"  pandas.DataFrame.corr on {k:,} classes: {pandas_k['seconds']:.2f} s "
          f"({mb(pandas_k['anon_rise'])} anonymous), "
          f"{pandas_k['seconds'] / ours_k['seconds']:.0f}x blocks-rx on the same columns "
          f"({ours_k['seconds']:.2f} s); extrapolated to {m:,} classes: {extrapolated:,.0f} s, "
          f"{extrapolated / ours['seconds']:,.0f}x blocks-rx (not measured)")
    print(f"  max |blocks_rx - np.corrcoef| = {error:.2e}")
    size = shape(n, m)
    gemm, corr = best["bare float32 S.T @ S"], best["np.corrcoef (float64)"]
    goal("similarity_100k_vs_gemm", "similarity time / bare float32 GEMM, 100,000 x 2,622 "
         "(foundation)", ours["seconds"] / gemm["seconds"], 1.3, unit="x", size=size,
         at_size=at_size, seconds=ours["seconds"], anchor_seconds=gemm["seconds"])
    goal("similarity_100k_vs_corrcoef", "similarity time / np.corrcoef, 100,000 x 2,622 "
         "(foundation)", ours["seconds"] / corr["seconds"], 0.6, unit="x", size=size,
         at_size=at_size, seconds=ours["seconds"], anchor_seconds=corr["seconds"])
    goal("similarity_100k_memory", "similarity memory beyond the mapped input, 100,000 x 2,622 "
         "(foundation)", ours["anon_rise"] / 1e6, 300, unit="MB", cmp="<", size=size,
         at_size=at_size, note="rise of peak RssAnon over the baseline after imports")


def large(folder: str, n: int, m: int) -> None:
    path = write_input(folder, n, m)
    best = best_of({"blocks_rx similarity": contender(path, "blocks_rx"),
                    "bare float32 S.T @ S": contender(path, "gemm")}, 1)
    ours, gemm = best["blocks_rx similarity"], best["bare float32 S.T @ S"]
    ratio = ours["seconds"] / gemm["seconds"]
    print(f"  {shape(n, m)}: blocks-rx {ours['seconds']:.1f} s ({mb(ours['anon_rise'])} "
          f"anonymous), bare GEMM {gemm['seconds']:.1f} s ({mb(gemm['anon_rise'])}): "
          f"{ratio:.2f}x")
    goal("similarity_30k_20k_vs_gemm", "similarity time / bare float32 GEMM, 30,000 x 20,000",
         ratio, 1.3, unit="x", size=shape(n, m), at_size=(n, m) == (30_000, 20_000),
         seconds=ours["seconds"], anchor_seconds=gemm["seconds"])


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=None, help="default 100,000 (--quick "
                                                                   "20,000)")
    parser.add_argument("--classes", type=int, default=2_622)
    parser.add_argument("--quick", action="store_true", help="20,000 samples, one run each")
    parser.add_argument("--repeats", type=int, default=None, help="default 2 (--quick 1)")
    parser.add_argument("--pandas-classes", type=int, default=200)
    parser.add_argument("--large", action="store_true",
                        help="also 30,000 x 20,000, blocks-rx vs the bare GEMM (minutes)")
    parser.add_argument("--no-standard", action="store_true",
                        help="skip the 100,000 x 2,622 comparison (with --large)")
    args = parser.parse_args(argv)
    n = args.samples or (20_000 if args.quick else 100_000)
    repeats = args.repeats or (1 if args.quick else 2)
    with tempfile.TemporaryDirectory(prefix="bench-similarity-") as folder:
        if not args.no_standard:
            standard(folder, n, args.classes, repeats, args.pandas_classes,
                     at_size=(n, args.classes) == (100_000, 2_622))
    if args.large:
        with tempfile.TemporaryDirectory(prefix="bench-similarity-") as folder:
            large(folder, 30_000, 20_000)


if __name__ == "__main__":
    main()
