"""How close is the preflight's memory estimate to what each step of analyze really uses?

Run:  python benchmarks/preflight.py [N_SAMPLES M_CLASSES ...] [--no-groups] [--limit GB]

For each shape (default: 20,000 x 2,000 and 3,000 x 6,000) a fresh process runs
``blocks_rx.analyze`` on random float32 scores, then writes the result folder, while a
thread samples the process's resident memory every 2 ms. Each step's peak above the memory
the process held when the job started (the input already in memory) is printed beside the
preflight's estimate for that step, with their ratio (estimate / measured; above 1 means the
estimate is on the safe side). Steps:
similarity, ordering, groups, summary and writing, as in ``blocks_rx.preflight.plan``.

``--limit GB`` stops a run whose resident memory passes that many GB (default 18), so a
wrong estimate cannot take the machine down.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

CHILD = textwrap.dedent("""
    import json, os, sys, tempfile, threading, time
    import numpy as np

    n, m, groups, limit = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
    groups = None if groups == "none" else groups
    PAGE = os.sysconf("SC_PAGE_SIZE")

    def rss():
        with open("/proc/self/statm") as handle:
            return int(handle.read().split()[1]) * PAGE

    state = {"peak": 0}

    def sample():
        while True:
            now = rss()
            state["peak"] = max(state["peak"], now)
            if now > limit:
                print(json.dumps({"aborted": f"resident memory passed {limit / 1e9:.0f} GB"}),
                      flush=True)
                os._exit(3)
            time.sleep(0.002)

    import blocks_rx
    from blocks_rx import pipeline, results

    measured, seconds = {}, {}

    def wrap(module, name, step):
        function = getattr(module, name)

        def inner(*args, **kwargs):
            state["peak"] = rss()
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                time.sleep(0.02)
                measured[step] = max(measured.get(step, 0), state["peak"] - state["job"])
                seconds[step] = seconds.get(step, 0) + time.perf_counter() - started
        setattr(module, name, inner)

    for module, name, step in [(pipeline, "compute", "similarity"),
                               (pipeline, "order_classes", "ordering"),
                               (pipeline, "_groups", "groups"), (pipeline, "_summary", "summary"),
                               (results, "write_into", "writing")]:
        wrap(module, name, step)
    threading.Thread(target=sample, daemon=True).start()
    S = np.random.default_rng(0).normal(size=(n, m)).astype(np.float32)
    S += np.random.default_rng(1).normal(size=(n, 8)).astype(np.float32) @ \\
        np.random.default_rng(2).normal(size=(8, m)).astype(np.float32)
    import warnings
    warnings.simplefilter("ignore")
    state["job"] = rss()  # the input is resident already, as the preflight assumes
    analysis = blocks_rx.analyze(S, groups=groups)
    folder = tempfile.mkdtemp() + "/result"
    results.write(analysis, folder)
    estimate = {s.name: s.bytes for s in analysis.plan.steps}
    print(json.dumps({"measured": measured, "estimate": estimate, "seconds": seconds,
                      "backend": analysis.ordering.hclust_backend}), flush=True)
""")


def run(n: int, m: int, groups: str, limit: float) -> dict:
    done = subprocess.run([sys.executable, "-c", CHILD, str(n), str(m), groups, str(limit)],
                          capture_output=True, text=True)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise RuntimeError(done.stderr[-2000:])
    return json.loads(lines[-1])


def main(argv: list[str]) -> None:
    groups = "none" if "--no-groups" in argv else "fuzzy-cmeans"
    limit = 18e9
    if "--limit" in argv:
        limit = float(argv[argv.index("--limit") + 1]) * 1e9
        argv = argv[: argv.index("--limit")] + argv[argv.index("--limit") + 2:]
    numbers = [int(a) for a in argv if a.isdigit()]
    shapes = list(zip(numbers[::2], numbers[1::2])) or [(20_000, 2_000), (3_000, 6_000)]
    print(f"{'shape':>16} {'step':<11} {'measured':>10} {'estimate':>10} {'ratio':>6} {'time':>8}")
    for n, m in shapes:
        found = run(n, m, groups, limit)
        if "aborted" in found:
            print(f"{n:>7,} x {m:<6,} aborted: {found['aborted']}")
            continue
        for step, estimate in found["estimate"].items():
            measured = found["measured"].get(step)
            if measured is None:
                continue
            ratio = f"{estimate / measured:5.2f}" if measured > 0 else "   -"
            print(f"{n:>7,} x {m:<6,} {step:<11} {measured / 1e6:>8,.0f}MB {estimate / 1e6:>8,.0f}MB "
                  f"{ratio:>6} {found['seconds'].get(step, 0):>7.1f}s")
        print(f"{'':>16} (hclust ran in {found['backend']})")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    main(sys.argv[1:])
