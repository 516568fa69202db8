"""Spearman similarity: blocks-rx against ``scipy.stats.spearmanr``, same input, same run.

Random float32 logits (planted groups, a per-sample offset; float32 rounding leaves a few
ties in every column) are written once to a temporary ``.npy`` and memory-mapped. Each
contender runs in a fresh Python process, alternating, and the best time of each is kept:

* ``blocks_rx.compute_similarity(mm, measure="spearman")``
* ``scipy.stats.spearmanr(mm)`` (about a minute at full size; ``--scipy-runs``)

Memory is the process's peak resident set (``VmHWM``) minus what it held before the call;
it includes the pages of the mapped input that were read (the whole file, for both). The
peak of the process's own memory (``RssAnon + RssShmem``, sampled every 20 ms) leaves
them out.

Goal (issue 13): at 100,000 x 2,622, at least 5x faster than ``scipy.stats.spearmanr``.

    python benchmarks/spearman.py            # 100,000 x 2,622 (several minutes)
    python benchmarks/spearman.py --quick    # 20,000 x 1,000
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np


def write_logits(path: Path, n: int, m: int, seed: int = 0, rows: int = 10_000) -> None:
    """Float32 logits with 40 planted groups and a per-sample offset, as a row-major .npy."""
    rng = np.random.default_rng(seed)
    groups = rng.integers(0, 40, size=m)
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(n, m))
    for start in range(0, n, rows):
        count = min(rows, n - start)
        values = rng.standard_normal((count, m), dtype=np.float32)
        values += rng.standard_normal((count, 40), dtype=np.float32)[:, groups]
        values += rng.normal(10.0, 3.0, size=(count, 1)).astype(np.float32)
        out[start : start + count] = values
    out.flush()
    del out


def _status(field: str) -> int:
    """A ``/proc/self/status`` memory field, in bytes."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return 0


def _own_memory() -> int:
    """Resident memory that is not a file's pages: anonymous and shared-anonymous."""
    return _status("RssAnon") + _status("RssShmem")


class _AnonymousPeak:
    """Samples :func:`_own_memory` in a thread; ``peak`` is the largest value seen."""

    def __init__(self, every: float = 0.02):
        self.every, self.peak, self._stop = every, _own_memory(), threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.wait(self.every):
            self.peak = max(self.peak, _own_memory())

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _own_memory())


def run_contender(name: str, path: str, result_path: str) -> dict:
    """Run one contender on the mapped input (in this fresh process); save its matrix."""
    import scipy.stats

    import blocks_rx

    small = np.random.default_rng(1).normal(size=(500, 20)).astype(np.float32)
    if name == "blocks-rx":  # warm-up: imports and thread pools, not what is compared
        blocks_rx.compute_similarity(small, measure="spearman", warn=False)

        def contender(values):
            return blocks_rx.compute_similarity(values, measure="spearman", warn=False).matrix
    else:
        scipy.stats.spearmanr(small)

        def contender(values):
            return scipy.stats.spearmanr(values).statistic
    mapped = np.load(path, mmap_mode="r")
    before, anonymous_before = _status("VmRSS"), _own_memory()
    with _AnonymousPeak() as anonymous:
        started = time.perf_counter()
        matrix = contender(mapped)
        seconds = time.perf_counter() - started
    np.save(result_path, np.asarray(matrix, dtype=np.float64))
    return {"seconds": seconds, "peak": _status("VmHWM") - before,
            "anonymous_peak": anonymous.peak - anonymous_before}


def measure(name: str, path: Path, result_path: Path) -> dict:
    """One contender in a fresh process."""
    done = subprocess.run([sys.executable, __file__, "--contender", name, str(path),
                           str(result_path)], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=100_000)
    parser.add_argument("--classes", type=int, default=2_622)
    parser.add_argument("--quick", action="store_true", help="20,000 x 1,000")
    parser.add_argument("--repeats", type=int, default=3, help="blocks-rx runs (best kept)")
    parser.add_argument("--scipy-runs", type=int, default=1, help="spearmanr runs (best kept)")
    parser.add_argument("--contender", nargs=3, metavar=("NAME", "NPY", "RESULT"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.contender:
        print(json.dumps(run_contender(*args.contender)))
        return
    n, m = (20_000, 1_000) if args.quick else (args.samples, args.classes)
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        path = folder / "logits.npy"
        started = time.perf_counter()
        write_logits(path, n, m)
        print(f"{n:,} x {m:,} float32 logits ({path.stat().st_size / 2**30:.2f} GiB), written "
              f"in {time.perf_counter() - started:.1f} s; memory-mapped", flush=True)
        np.load(path, mmap_mode="r").sum(dtype=np.float64)  # page cache warm for everyone
        order = ["blocks-rx"]
        for i in range(max(args.repeats, args.scipy_runs)):
            order += (["scipy"] if i < args.scipy_runs else []) + \
                     (["blocks-rx"] if i + 1 < args.repeats else [])
        runs = {"blocks-rx": [], "scipy": []}
        for name in order:
            run = measure(name, path, folder / f"{name}.npy")
            runs[name].append(run)
            print(f"  {name:<10} {run['seconds']:7.2f} s   peak RSS +{run['peak'] / 2**30:5.2f} GiB"
                  f"   own +{run['anonymous_peak'] / 2**30:5.2f} GiB", flush=True)
        difference = np.max(np.abs(np.load(folder / "blocks-rx.npy")
                                   - np.load(folder / "scipy.npy")))
    best = {name: min(r["seconds"] for r in rs) for name, rs in runs.items()}
    peak = {name: max(r["peak"] for r in rs) for name, rs in runs.items()}
    anonymous = {name: max(r["anonymous_peak"] for r in rs) for name, rs in runs.items()}
    ratio = best["scipy"] / best["blocks-rx"]
    print(f"\nbest of {len(runs['blocks-rx'])} / {len(runs['scipy'])} runs, {n:,} x {m:,}:")
    for name in runs:
        print(f"  {name:<10} {best[name]:7.2f} s   peak RSS +{peak[name] / 2**30:5.2f} GiB "
              f"(own +{anonymous[name] / 2**30:.2f} GiB)")
    goal = (f"goal 5x: {'met' if ratio >= 5 else 'NOT met'}" if (n, m) == (100_000, 2_622)
            else "the 5x goal is for 100,000 x 2,622")
    print(f"  blocks-rx is {ratio:.1f}x faster than scipy.stats.spearmanr ({goal}); "
          f"max |difference| {difference:.1e}")
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _bench import goal as print_goal

    print_goal("spearman_speed", "Spearman 100,000 x 2,622 vs scipy.stats.spearmanr", ratio, 5.0,
               unit="x faster", cmp=">=", size=f"{n} x {m}", at_size=(n, m) == (100_000, 2_622),
               note=f"{best['blocks-rx']:.2f} s vs {best['scipy']:.2f} s")


if __name__ == "__main__":
    main()
