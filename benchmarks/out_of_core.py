"""Similarity of scores on disk, memory-mapped: memory beyond the page cache, and time.

Writes float32 logits (benchmarks/similarity.py's ``synthetic_logits``, in blocks of about
256 MB) as an ``.npy`` in a temporary folder, deleted afterwards, then runs in fresh processes
(benchmarks/_bench.py) ``blocks_rx.compute_similarity(blocks_rx.load_scores(path))`` and, as
the time anchor, a bare float32 ``S.T @ S`` on the same memory map. Before each contender the
file's pages are dropped from the page cache (``posix_fadvise(DONTNEED)``; ``--warm`` keeps
them), so that the contender reads the disk; the share of the file that was still cached is
printed.

Memory: the file's pages a process maps are resident (VmRSS, VmHWM) but belong to the page
cache, which the kernel reclaims under pressure; the memory a contender really holds beyond it
is its anonymous memory (RssAnon in /proc/self/status), whose peak a thread samples every
50 ms. Reported: peak RssAnon absolute and above the baseline after imports (the goal's
figure), and VmHWM.

Goal (issue 13): 1,000,000 x 2,622 (10.5 GB) from disk in under 2 GB beyond the page cache.

    python benchmarks/out_of_core.py --quick     # 50,000 x 2,622
    python benchmarks/out_of_core.py             # 200,000 x 2,622 (2.1 GB)
    python benchmarks/out_of_core.py --large     # 1,000,000 x 2,622 (10.5 GB on disk; minutes)
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from _bench import best_of, cached_fraction, evict, gb, goal, run_child, shape
from similarity import synthetic_logits

CHILD = r"""
import numpy as np
path, which = sys.argv[1], sys.argv[2]
import blocks_rx
m = np.load(path, mmap_mode="r").shape[1]
warm = np.random.default_rng(0).standard_normal((2000, m), dtype=np.float32)
if which == "blocks_rx":
    blocks_rx.compute_similarity(warm, warn=False)  # not the file: it stays cold
    scores = blocks_rx.load_scores(path)
    run = lambda: blocks_rx.compute_similarity(scores, warn=False).matrix
else:
    warm.T @ warm
    S = np.load(path, mmap_mode="r")
    run = lambda: S.T @ S
del warm
_, figures = measure(run)
emit(**figures)
"""


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=None,
                        help="default 200,000 (--quick 50,000, --large 1,000,000)")
    parser.add_argument("--classes", type=int, default=2_622)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--large", action="store_true", help="1,000,000 x 2,622 (10.5 GB)")
    parser.add_argument("--warm", action="store_true",
                        help="leave the file in the page cache between contenders")
    parser.add_argument("--no-anchor", action="store_true", help="skip the bare GEMM")
    parser.add_argument("--dir", default=None, help="where to write the file (default: TMPDIR)")
    args = parser.parse_args(argv)
    n = args.samples or (1_000_000 if args.large else 50_000 if args.quick else 200_000)
    m = args.classes
    size, at_size = shape(n, m), (n, m) == (1_000_000, 2_622)
    need = n * m * 4
    free = shutil.disk_usage(args.dir or tempfile.gettempdir()).free
    if free < need + 4 * 2**30:
        print(f"{size}: needs {gb(need)} on disk and 4 GiB spare; {gb(free)} free: skipped")
        goal("out_of_core_1m_memory", "similarity from disk, memory beyond the page cache, "
             "1,000,000 x 2,622", None, 2.0, unit="GB", cmp="<", size=size, at_size=at_size,
             note="not enough disk")
        return
    with tempfile.TemporaryDirectory(prefix="bench-out-of-core-", dir=args.dir) as folder:
        path = Path(folder) / "logits.npy"
        started = time.perf_counter()
        synthetic_logits(path, n, m)
        seconds = time.perf_counter() - started
        print(f"{size} float32 logits ({gb(path.stat().st_size)}), written in {seconds:.1f} s "
              f"({path.stat().st_size / seconds / 2**20:,.0f} MB/s)", flush=True)

        def contender(which):
            def run():
                if not args.warm:
                    evict(path)
                cached = cached_fraction(path)
                found = run_child(CHILD, path, which)
                found["cached_before"] = cached
                return found
            return run

        contenders = {"blocks_rx similarity": contender("blocks_rx")}
        if not args.no_anchor:
            contenders["bare float32 S.T @ S"] = contender("gemm")
        best = best_of(contenders, 1)
    print(f"\n  {size} ({'warm' if args.warm else 'cold: file dropped from the page cache'}):")
    for label, found in best.items():
        cached = found["cached_before"]
        print(f"  {label:<22s} {found['seconds']:7.1f} s ({n * m * 4 / found['seconds'] / 2**20:,.0f}"
              f" MB/s); peak anonymous {gb(found['anon_peak'])} (rise {gb(found['anon_rise'])}), "
              f"VmHWM {gb(found['hwm'])}, peak file-backed resident {gb(found['file_peak'])}"
              + (f"; {cached:.0%} of the file cached before" if cached is not None else ""))
    ours = best["blocks_rx similarity"]
    anchor = best.get("bare float32 S.T @ S")
    goal("out_of_core_1m_memory", "similarity from disk, memory beyond the page cache, "
         "1,000,000 x 2,622", ours["anon_rise"] / 1e9, 2.0, unit="GB", cmp="<", size=size,
         at_size=at_size, seconds=ours["seconds"],
         anchor_seconds=anchor["seconds"] if anchor else None,
         hwm_gb=ours["hwm"] / 1e9, anon_peak_gb=ours["anon_peak"] / 1e9,
         note="rise of peak RssAnon (50 ms samples) over the baseline after imports; "
              f"{'warm' if args.warm else 'cold'} page cache"
              + (f"; time {ours['seconds']:.1f} s vs bare GEMM {anchor['seconds']:.1f} s"
                 if anchor else ""))


if __name__ == "__main__":
    main()
