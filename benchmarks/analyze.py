"""`blocks-rx analyze` end to end against seaborn's clustermap end to end, time and memory.

On synthetic float32 logits written as a memory-mapped ``.npy`` (benchmarks/similarity.py's
``synthetic_logits``), three contenders, each in a fresh process (benchmarks/_bench.py):

blocks-rx
    the command line, ``blocks-rx analyze SCORES --out TMP --quiet`` (defaults: Pearson,
    hclust, groups, every file: similarity.npz, order.csv, heatmap.png, distributions.png,
    groups.csv, groups.png, report.json), run in the child as the ``blocks-rx`` program
    itself runs it: ``blocks_rx.cli.console`` (main, then the program's way out), with only
    ``blocks_rx.cli`` imported before the baseline, as the program does.
blocks-rx, no groups/page
    the same with ``--no-groups --no-explorer``: printed as the like-for-like figure (a
    similarity, its clustering and pictures, which is what clustermap does), beside the
    goal's figure and never in its place.
seaborn clustermap
    what one writes without blocks-rx: ``C = np.corrcoef(S, rowvar=False)`` on the mapped
    scores, ``sns.clustermap(C, method="complete")`` (seaborn's defaults otherwise: euclidean
    distances between the rows of C, computed with fastcluster when it is installed, as the
    ``bench`` extra does) and ``savefig(..., dpi=150)``.

The clustermap child imports its libraries (seaborn and matplotlib) before the baseline;
blocks-rx imports what it needs as it goes, as the program does. Reported: the timed call
("work", after those imports), the whole process ("process", interpreter start to exit:
what a user waits for, and what the goal uses), the peak resident memory (VmHWM) absolute
and above the baseline, that rise minus the input's file size (the mapped input's pages, all
touched, count in VmHWM: what remains is the memory beyond the mapped input, the goal's
figure), and the rise of peak anonymous memory (RssAnon, sampled every 50 ms; file pages
never count there) as a cross-check. blocks-rx writes its pictures in forked copies of
itself: the memory goals take the peak of the process with them (``tree_peak`` of
benchmarks/_bench.py, their proportional set sizes summed) where it is above VmHWM. Sampling
the workers' memory takes CPU from them (benchmarks/_bench.py), so it is done in one more
run of each blocks-rx contender, after the timed ones, which sample only the process's own
memory. Contenders alternate; the fastest of ``--repeats`` runs is kept, with the largest
peak seen.

``--large`` adds 30,000 x 20,000 ``analyze`` end to end, groups included (one run, no anchor)
and prints its per-step timings from report.json (``timings_s``). A child whose resident
memory passes ``--limit`` GiB (default 20) is stopped.

Goals (issue 13): at 100,000 x 2,622, at least 6x faster than clustermap, with peak memory
under 1 GB beyond the mapped input; at 30,000 x 20,000, under 200 s and under 6 GB peak.

    python benchmarks/analyze.py                       # 100,000 x 2,622
    python benchmarks/analyze.py --quick               # 20,000 x 2,622, one run each
    python benchmarks/analyze.py --large --no-standard # 30,000 x 20,000 only (minutes)
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from _bench import best_of, gb, goal, run_child, shape
from similarity import write_input

BLOCKS_RX = r"""
path, out = sys.argv[1], sys.argv[2]
extra = sys.argv[3:]
import blocks_rx.cli  # what the blocks-rx program imports before it starts; the rest it
                      # imports as it goes, in the timed call, as for a user
sys.argv = ["blocks-rx", "analyze", path, "--out", out, "--quiet", *extra]

def program():
    try:
        blocks_rx.cli.console()  # the blocks-rx program: main, then its way out
    except SystemExit as leaving:
        return leaving.code

rc, figures = measure(program)
if rc != 0:
    raise SystemExit(f"blocks-rx analyze exited {rc}")
with open(os.path.join(out, "report.json")) as handle:
    report = json.load(handle)
emit(**figures, timings=report["timings_s"], files=sorted(os.listdir(out)))
"""

CLUSTERMAP = r"""
path, out = sys.argv[1], sys.argv[2]
import numpy as np
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import seaborn as sns
try:
    import fastcluster
    linkage_by = "fastcluster " + fastcluster.__version__
except ImportError:
    linkage_by = "scipy"

def run():
    S = np.load(path, mmap_mode="r")
    C = np.corrcoef(S, rowvar=False)
    grid = sns.clustermap(C, method="complete")
    grid.savefig(os.path.join(out, "clustermap.png"), dpi=150)
    plt.close("all")

_, figures = measure(run)
emit(**figures, linkage_by=linkage_by)
"""


#: analyze without the groups and the explorer page: what clustermap also does (a similarity,
#: its clustering, pictures), printed beside the goal's figure, never in place of it.
LIKE_FOR_LIKE = "blocks-rx, no groups/page"


def blocks_rx(path: Path, folder: str, *extra: str, tree: bool = False):
    """A run of ``blocks-rx analyze``: timed (``tree`` False: its forked workers' memory is
    not sampled, which would take CPU from it), or for the memory of the process with its
    workers (``tree``)."""
    def run():
        out = tempfile.mkdtemp(prefix="analyze-", dir=folder)
        return run_child(BLOCKS_RX, path, Path(out) / "result", *extra,
                         env={"BENCH_TREE": "1" if tree else "0"})
    return run


def clustermap(path: Path, folder: str):
    def run():  # forks nothing: its own VmHWM is its whole memory
        return run_child(CLUSTERMAP, path, tempfile.mkdtemp(prefix="clustermap-", dir=folder),
                         env={"BENCH_TREE": "0"})
    return run


def with_tree_memory(timed: dict, run) -> dict:
    """The fastest timed run's figures, with the memory of a run that sampled the process's
    forked workers too (``tree_*``; VmHWM and the anonymous peak, the larger of both)."""
    found = run()
    print(f"    memory run (workers' Pss sampled): {found['seconds']:.2f} s, peak "
          f"{gb(found['tree_peak'])} with its workers", flush=True)
    keys = ("hwm", "hwm_rise", "anon_peak", "anon_rise", "file_peak", "tree_peak", "tree_rise")
    return {**timed, **{k: max(timed[k], found[k]) for k in keys}}


def memory_line(found: dict, mapped: int) -> str:
    return (f"peak {gb(found['tree_peak'])} with any forked children (rise "
            f"{gb(found['tree_rise'])}; minus the mapped input "
            f"{gb(found['tree_rise'] - mapped)}); its own peak RSS {gb(found['hwm'])}, "
            f"anonymous rise {gb(found['anon_rise'])}")


def timings_line(timings: dict) -> str:
    return ", ".join(f"{step} {seconds:.1f} s" for step, seconds in timings.items())


def standard(folder: str, n: int, m: int, repeats: int, at_size: bool) -> None:
    path = write_input(folder, n, m)
    mapped = path.stat().st_size
    best = best_of({"blocks-rx analyze": blocks_rx(path, folder),
                    "seaborn clustermap": clustermap(path, folder),
                    LIKE_FOR_LIKE: blocks_rx(path, folder, "--no-groups", "--no-explorer")},
                   repeats, cheap=1e9, key="process_seconds")
    best["blocks-rx analyze"] = with_tree_memory(best["blocks-rx analyze"],
                                                 blocks_rx(path, folder, tree=True))
    best[LIKE_FOR_LIKE] = with_tree_memory(
        best[LIKE_FOR_LIKE], blocks_rx(path, folder, "--no-groups", "--no-explorer", tree=True))
    ours, theirs = best["blocks-rx analyze"], best["seaborn clustermap"]
    print(f"\n  {shape(n, m)}, end to end (process: interpreter start to exit; work: after "
          f"the imports)")
    for label, found in best.items():
        print(f"  {label:<20s} process {found['process_seconds']:6.1f} s, work "
              f"{found['seconds']:6.1f} s; {memory_line(found, mapped)}")
    print(f"  clustermap's linkage by {theirs.get('linkage_by')}")
    print(f"  blocks-rx steps (report.json timings_s): {timings_line(ours['timings'])}")
    speed = theirs["process_seconds"] / ours["process_seconds"]
    print(f"  clustermap time / blocks-rx time: {speed:.2f}x end to end, "
          f"{theirs['seconds'] / ours['seconds']:.2f}x on the work alone")
    alike = best[LIKE_FOR_LIKE]
    print(f"  like for like (the similarity, its order and two pictures, as clustermap draws one):"
          f" {theirs['process_seconds'] / alike['process_seconds']:.2f}x end to end; steps: "
          f"{timings_line(alike['timings'])}")
    size = shape(n, m)
    goal("analyze_100k_speed", "analyze end to end vs seaborn clustermap, 100,000 x 2,622 "
         "(clustermap time / analyze time)", speed, 6, unit="x", cmp=">=", size=size,
         at_size=at_size, seconds=ours["process_seconds"],
         anchor_seconds=theirs["process_seconds"],
         note="whole processes; work alone "
              f"{theirs['seconds'] / ours['seconds']:.2f}x")
    beyond = (ours["tree_rise"] - mapped) / 1e9
    goal("analyze_100k_memory", "analyze peak memory beyond the mapped input, 100,000 x 2,622",
         beyond, 1.0, unit="GB", cmp="<", size=size, at_size=at_size,
         peak_rss_gb=ours["hwm"] / 1e9, anon_rise_gb=ours["anon_rise"] / 1e9,
         anchor_beyond_gb=(theirs["tree_rise"] - mapped) / 1e9,
         note="peak rise over the baseline after imports (VmHWM, or the Pss of the process "
              f"and its forked workers if larger), minus the input's file size ({gb(mapped)}); "
              f"clustermap {gb(theirs['tree_rise'] - mapped)}")


def large(folder: str, n: int, m: int) -> None:
    path = write_input(folder, n, m)
    mapped = path.stat().st_size
    found = best_of({"blocks-rx analyze": blocks_rx(path, folder)}, 1)["blocks-rx analyze"]
    found = with_tree_memory(found, blocks_rx(path, folder, tree=True))
    print(f"\n  {shape(n, m)}, groups included: process {found['process_seconds']:.1f} s, work "
          f"{found['seconds']:.1f} s; {memory_line(found, mapped)}")
    print(f"  steps (report.json timings_s): {timings_line(found['timings'])}")
    size, at_size = shape(n, m), (n, m) == (30_000, 20_000)
    goal("analyze_30k_20k_time", "analyze end to end with groups, 30,000 x 20,000",
         found["process_seconds"], 200, unit="s", cmp="<", size=size, at_size=at_size,
         timings=found["timings"], note="whole process")
    goal("analyze_30k_20k_memory", "analyze peak memory, 30,000 x 20,000",
         found["tree_peak"] / 1e9, 6.0, unit="GB", cmp="<", size=size, at_size=at_size,
         hwm_gb=found["hwm"] / 1e9, tree_rise_gb=found["tree_rise"] / 1e9,
         beyond_input_gb=(found["tree_rise"] - mapped) / 1e9,
         anon_rise_gb=found["anon_rise"] / 1e9,
         note=f"absolute peak with the forked drawing workers (VmHWM, or the summed Pss if "
              f"larger), the mapped input ({gb(mapped)}) included; rise over the baseline "
              f"minus the input {gb(found['tree_rise'] - mapped)}")


#: Runs of each contender, alternated, the fastest kept: on a shared 2-core machine one
#: analyze took 7.7 to 9.6 s and one clustermap 47 to 54 s within the same hour, so that two
#: runs each gave 5.4x to 6.5x; four give each contender four chances at a quiet minute.
REPEATS = 4


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=None,
                        help="default 100,000 (--quick 20,000)")
    parser.add_argument("--classes", type=int, default=2_622)
    parser.add_argument("--quick", action="store_true", help="20,000 samples, one run each")
    parser.add_argument("--repeats", type=int, default=None,
                        help=f"default {REPEATS} (--quick 1)")
    parser.add_argument("--large", action="store_true",
                        help="also 30,000 x 20,000 analyze with groups (minutes, ~GBs)")
    parser.add_argument("--no-standard", action="store_true",
                        help="skip the comparison with clustermap (with --large)")
    parser.add_argument("--limit", type=float, default=20.0,
                        help="GiB of resident memory at which a child is stopped")
    args = parser.parse_args(argv)
    os.environ["BENCH_LIMIT_GB"] = str(args.limit)
    n = args.samples or (20_000 if args.quick else 100_000)
    repeats = args.repeats or (1 if args.quick else REPEATS)
    if not args.no_standard:
        with tempfile.TemporaryDirectory(prefix="bench-analyze-") as folder:
            standard(folder, n, args.classes, repeats,
                     at_size=(n, args.classes) == (100_000, 2_622))
    if args.large:
        with tempfile.TemporaryDirectory(prefix="bench-analyze-") as folder:
            try:
                large(folder, 30_000, 20_000)
            except RuntimeError as exc:
                print(f"  30,000 x 20,000 failed: {exc}")
                goal("analyze_30k_20k_time", "analyze end to end with groups, 30,000 x 20,000",
                     None, 200, unit="s", cmp="<", size=shape(30_000, 20_000),
                     note=str(exc).splitlines()[0][:200])
                goal("analyze_30k_20k_memory", "analyze peak memory, 30,000 x 20,000", None,
                     6.0, unit="GB", cmp="<", size=shape(30_000, 20_000),
                     note=str(exc).splitlines()[0][:200])


if __name__ == "__main__":
    main()
