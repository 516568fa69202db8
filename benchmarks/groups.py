"""Fuzzy groups on a 2,622-class similarity matrix (VGGFace's size), against anchors.

Plants a VGGFace-like structure in synthetic logits: two top-level groups ("genders") of
12 subgroups each, a failed group of 60 classes scattered over all subgroups ("glasses"),
and a split group (a subgroup of each top-level group sharing a factor). Times
``fuzzy_groups`` (all candidate numbers of groups, with their curves) next to the steps it
builds on, measured in the same run, and checks that the planted groups come back.

Goal (issue: groups): ``fuzzy_groups`` under 30 s on a 2-core machine.

    python benchmarks/groups.py
    python benchmarks/groups.py --figures /tmp/groups     # also draw the two figures
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

import blocks_rx
from blocks_rx import groups as bg


def planted_logits(n: int, m: int, seed: int = 0):
    """(scores, failed class indices, the split pair's two class index sets)."""
    rng = np.random.default_rng(seed)
    top = rng.integers(0, 2, size=m)
    sub = top * 12 + rng.integers(0, 12, size=m)
    failed = rng.choice(m, size=60, replace=False)
    scores = (1.2 * rng.standard_normal((n, 2), dtype=np.float32)[:, top]
              + rng.standard_normal((n, 24), dtype=np.float32)[:, sub]
              + rng.standard_normal((n, m), dtype=np.float32))
    scores[:, failed] += rng.standard_normal((n, 1), dtype=np.float32)
    pair = (np.flatnonzero(sub == 3), np.flatnonzero(sub == 12 + 5))
    scores[:, np.concatenate(pair)] += 0.8 * rng.standard_normal((n, 1), dtype=np.float32)
    return scores, failed, pair


def timed(label, function):
    started = time.perf_counter()
    result = function()
    seconds = time.perf_counter() - started
    print(f"  {label:<44s} {seconds:7.2f} s", flush=True)
    return result, seconds


def jaccard(a, b) -> float:
    a, b = set(a), set(b)
    return len(a & b) / len(a | b)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--classes", type=int, default=2_622)
    parser.add_argument("--samples", type=int, default=4_000)
    parser.add_argument("--figures", type=Path, help="write groups_heatmap and memberships here")
    args = parser.parse_args(argv)
    m, n = args.classes, args.samples

    scores, failed_truth, pair = planted_logits(n, m)
    print(f"{n:,} x {m:,} planted logits; 2 top-level groups x 12 subgroups, a failed group of "
          f"{failed_truth.size}, a split pair of {pair[0].size} + {pair[1].size} classes")
    # Warm up: lazy imports, numba compilation of the hclust port, scikit-fuzzy's import.
    small = blocks_rx.compute_similarity(scores[:500, :60], warn=False)
    bg.fuzzy_groups(small, n_groups=3)
    blocks_rx.order_classes(small)

    sim, t_sim = timed("similarity (anchor)", lambda: blocks_rx.compute_similarity(scores,
                                                                                  warn=False))
    ordering, t_order = timed("hclust, complete (anchor)", lambda: blocks_rx.order_classes(sim))
    _, t_eigh = timed("full np.linalg.eigh of M (anchor)",
                      lambda: np.linalg.eigh(sim.matrix.astype(np.float64)))
    groups, t_fuzzy = timed("fuzzy_groups (c chosen, all curves)", lambda: bg.fuzzy_groups(sim))
    failed, _ = timed("failed_groups", lambda: bg.failed_groups(groups, ordering, sim))
    split, _ = timed("split_groups", lambda: bg.split_groups(sim, ordering))

    names = sim.classes
    print(f"fuzzy_groups: {t_fuzzy:.2f} s (goal < 30 s); {t_fuzzy / t_order:.1f}x hclust, "
          f"{t_fuzzy / t_eigh:.1f}x a full eigendecomposition, {t_fuzzy / t_sim:.1f}x the "
          "similarity")
    print(f"  {groups.n_groups} groups over candidates {groups.candidates[0]}.."
          f"{groups.candidates[-1]}, embedding {groups.embedding} d={groups.n_components} "
          f"({groups.component_rule}); {groups.n_init} starts each")
    if failed:
        best = failed[0]
        print(f"  failed group #1: G{best.group}, {best.size} classes in {best.n_runs} runs, "
              f"dispersion {best.dispersion:.3f}, excess {best.excess:.3f}; Jaccard with the "
              f"planted 60: {jaccard(best.classes, [names[j] for j in failed_truth]):.3f}")
    else:
        print("  failed group: none found")
    if split:
        sides = [{names[j] for j in side} for side in pair]
        first, second = split[0].first.classes, split[0].second.classes
        match = max(min(jaccard(first, sides[0]), jaccard(second, sides[1])),
                    min(jaccard(first, sides[1]), jaccard(second, sides[0])))
        print(f"  split groups: {len(split)}; #1 z={split[0].z:.1f}, mean {split[0].mean:.3f} "
              f"vs {split[0].background:.3f}; Jaccard of its blocks with the planted pair: "
              f"{match:.3f}")
    else:
        print("  split groups: none found")

    if args.figures:
        from blocks_rx.plot import groups_heatmap, memberships

        args.figures.mkdir(parents=True, exist_ok=True)
        coherent = bg.coherent_groups(groups, ordering, sim)
        groups_heatmap(sim, ordering, groups, failed=failed, split=split,
                       coherent=coherent).savefig(args.figures / "groups_heatmap.png", dpi=90)
        memberships(groups, ordering, failed=failed).savefig(args.figures / "memberships.png",
                                                             dpi=90)
        print(f"figures in {args.figures}")


if __name__ == "__main__":
    main()
