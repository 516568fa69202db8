"""The explorer page: file size and load time in headless Chromium at 97, 2,622 and 5,000 classes.

For each size it builds ``explorer.html`` with :func:`blocks_rx.explore` (timed), opens it from
the file in Debian's ``chromium`` through Playwright, and times navigation start to
"interactive": the page's script has inflated the matrix, drawn it in the stored order, and
answers the controls (``document.body.dataset.blocksRx == "ready"``). Then it switches the
ordering and reports the redraw's time (every cell, tracks and overlays, as the page measures
it). Best of ``--repeats`` loads, each in a fresh tab.

97 classes: the langid demo (real). 2,622 and 5,000: planted scores (40 latent groups, 4,000
and 6,000 samples) analysed with groups, so the page holds the memberships track too, and the
explorer's three extra hclust orderings.

Goals (issue: interactive explorer): under 5 MB for 97 classes; under 40 MB and under 3 s
to interactive for 2,622.

    python benchmarks/explorer.py                 # 97, 2,622 and 5,000 classes
    python benchmarks/explorer.py --classes 97    # only the demo
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _bench import goal, machine  # noqa: E402

import blocks_rx  # noqa: E402


def demo_result():
    from blocks_rx.datasets import load_langid_demo
    from blocks_rx.scores import load_scores

    data = load_langid_demo()
    return blocks_rx.analyze(load_scores(data["scores"], classes=data["classes"],
                                         labels=data["labels"]), transform="standardize")


def planted_result(m: int, seed: int = 0):
    n = max(4000, m + 1000)  # more samples than classes: a full-rank correlation matrix
    rng = np.random.default_rng(seed)
    groups = rng.integers(0, 40, size=m)
    scores = (1.5 * rng.normal(size=(n, 40)).astype(np.float32)[:, groups]
              + rng.normal(size=(n, m)).astype(np.float32))
    return blocks_rx.analyze(scores, hclust_backend="python")


def load_times(path: Path, repeats: int) -> tuple[float, float]:
    """Best seconds to interactive, and best seconds to redraw for another ordering."""
    from playwright.sync_api import sync_playwright

    best_load = best_switch = float("inf")
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=shutil.which("chromium"),
                                         args=["--no-sandbox"])
        for _ in range(repeats):
            page = browser.new_page(viewport={"width": 1700, "height": 900})
            page.goto(path.as_uri(), timeout=120000)
            page.wait_for_function("document.body.dataset.blocksRx === 'ready'", timeout=120000)
            best_load = min(best_load, page.evaluate("() => performance.now()") / 1000)
            page.evaluate("""() => { const select = Bokeh.documents[0].get_model_by_name('ordering');
                                     select.value = select.options[select.options.length - 1]; }""")
            page.wait_for_function("blocksRx.state.ordering === blocksRx.data.orderings.length - 1")
            best_switch = min(best_switch, page.evaluate("blocksRx.state.lastDrawSeconds"))
            page.close()
        browser.close()
    return best_load, best_switch


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--classes", nargs="+", type=int, default=[97, 2622, 5000])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    if shutil.which("chromium") is None:
        print("no chromium on PATH: make setup installs Debian's chromium")
        return 1
    print(f"machine: {machine()}")
    folder = Path(tempfile.mkdtemp(prefix="blocks-rx-explorer-bench-"))
    rows = []
    for m in args.classes:
        result = demo_result() if m == 97 else planted_result(m)
        started = time.perf_counter()
        page = blocks_rx.explore(result)
        build = time.perf_counter() - started
        path = page.save(folder / f"explorer-{m}.html")
        size = path.stat().st_size
        load, switch = load_times(path, args.repeats)
        rows.append((m, size, build, load, switch))
        print(f"{m:>6,} classes: {size / 1e6:6.1f} MB, built in {build:5.1f} s, interactive "
              f"in {load:5.2f} s, ordering switch {switch:5.2f} s", flush=True)
        if m == 97:
            goal("explorer_97_size", "explorer page size, 97 classes (langid demo)", size / 1e6,
                 5, unit="MB", cmp="<", size="97 classes")
        if m == 2622:
            goal("explorer_2622_size", "explorer page size, 2,622 classes", size / 1e6, 40,
                 unit="MB", cmp="<", size="2,622 classes")
            goal("explorer_2622_load", "explorer time to interactive in headless Chromium, "
                 "2,622 classes", load, 3, unit="s", cmp="<", size="2,622 classes")
    shutil.rmtree(folder)
    return 0


if __name__ == "__main__":
    sys.exit(main())
