"""hclust ordering: R's hclust (rpy2) vs the Python twin vs scipy vs fastcluster, time and memory.

Each contender runs in a fresh process on the same float32 similarity matrix (complete
linkage on 1 - r) and reports its wall time and the rise of the process's peak resident
memory over the run (VmHWM, reset just before; it covers Python, numba and embedded R alike).
The twin and R must agree on the order; scipy's and fastcluster's (``fastcluster.linkage``,
the C++ library seaborn's clustermap uses when it is installed; leaves by scipy's
``leaves_list``) are the same tree drawn differently. fastcluster is in the ``bench`` extra;
without it that column says so.

    python benchmarks/order.py                     # 2,622 / 5,000 / 10,000 classes
    python benchmarks/order.py --classes 1000 2000 --repeats 1
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

CONTENDER = r"""
import json, sys, time
import numpy as np
import blocks_rx
from blocks_rx.ordering import condensed_distance, hclust

m, which = int(sys.argv[1]), sys.argv[2]
rng = np.random.default_rng(0)
groups = rng.integers(0, 30, size=m)
S = (rng.standard_normal((3000, 30), dtype=np.float32)[:, groups]
     + rng.standard_normal((3000, m), dtype=np.float32))
M = blocks_rx.compute_similarity(S, warn=False).matrix
del S

def run():
    if which == "scipy":
        from scipy.cluster.hierarchy import leaves_list, linkage
        return leaves_list(linkage(condensed_distance(M), method="complete"))
    if which == "fastcluster":
        import fastcluster
        from scipy.cluster.hierarchy import leaves_list
        return leaves_list(fastcluster.linkage(condensed_distance(M), method="complete"))
    return hclust(M, backend=which).order

small = M[:20, :20]
if which == "scipy":
    from scipy.cluster.hierarchy import linkage
    linkage(condensed_distance(small), method="complete")
elif which == "fastcluster":
    import fastcluster
    fastcluster.linkage(condensed_distance(small), method="complete")
else:
    hclust(small, backend=which)  # compile / start R before timing

def rss(field):
    for line in open("/proc/self/status"):
        if line.startswith(field):
            return int(line.split()[1]) * 1024
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # reset the peak (VmHWM) to the current size
before = rss("VmRSS:")
started = time.perf_counter()
order = run()
seconds = time.perf_counter() - started
print(json.dumps({"seconds": seconds, "peak_mb": (rss("VmHWM:") - before) / 2**20,
                  "order": [int(i) for i in order]}))
"""


CONTENDERS = (("r", "R hclust (rpy2)"), ("python", "blocks_rx twin"), ("scipy", "scipy linkage"),
              ("fastcluster", "fastcluster linkage"))


def measure(m: int, which: str) -> dict | None:
    done = subprocess.run([sys.executable, "-c", CONTENDER, str(m), which], capture_output=True,
                          text=True, timeout=3600)
    if which == "fastcluster" and "No module named 'fastcluster'" in done.stderr:
        return None
    if done.returncode != 0:
        raise RuntimeError(f"{which} at {m} classes failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--classes", type=int, nargs="+", default=[2622, 5000, 10000])
    parser.add_argument("--repeats", type=int, default=2,
                        help="runs of each contender, alternating; the fastest is kept (with "
                             "the largest peak memory seen)")
    args = parser.parse_args(argv)
    print(f"{'classes':>8s}  {'contender':<22s} {'time':>9s} {'peak memory':>12s}  vs R")
    for m in args.classes:
        results = {}
        for _ in range(args.repeats):  # alternate the contenders
            for which, _ in CONTENDERS:
                found = measure(m, which)
                previous = results.get(which)
                if found is not None and previous is not None:
                    peak = max(found["peak_mb"], previous["peak_mb"])
                    found = min(found, previous, key=lambda r: r["seconds"])
                    found = {**found, "peak_mb": peak}
                results[which] = found
        for which, label in CONTENDERS:
            res = results[which]
            if res is None:
                print(f"{m:>8,d}  {label:<22s} not installed (pip install 'blocks-rx[bench]')")
                continue
            ratio = res["seconds"] / results["r"]["seconds"]
            print(f"{m:>8,d}  {label:<22s} {res['seconds']:8.2f}s {res['peak_mb']:10.0f} MB  {ratio:5.2f}x",
                  flush=True)
        same = results["r"]["order"] == results["python"]["order"]
        print(f"{'':>8s}  twin order identical to R's: {same}")


if __name__ == "__main__":
    main()
