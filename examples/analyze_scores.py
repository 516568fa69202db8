"""Analyse a score matrix from Python: similarity, R-identical hclust order, heatmap.

Run:  python examples/analyze_scores.py [OUT_DIR]

Uses synthetic logits with a planted two-level hierarchy (4 groups of 2 subgroups), so the
blocks you should see are known in advance.
"""

import sys
from pathlib import Path

import numpy as np

import blocks_rx
from blocks_rx import plot


def planted_logits(n_samples=4000, seed=0):
    rng = np.random.default_rng(seed)
    top = np.repeat(np.arange(4), 10)           # 4 coarse groups of 10 classes
    sub = np.repeat(np.arange(8), 5)            # each split into 2 fine groups of 5
    scores = (1.0 * rng.normal(size=(n_samples, 4))[:, top]
              + 1.0 * rng.normal(size=(n_samples, 8))[:, sub]
              + rng.normal(size=(n_samples, 40)))
    names = [f"group{t}/sub{s}/class{j}" for j, (t, s) in enumerate(zip(top, sub))]
    order = rng.permutation(40)                 # hide the structure
    return scores[:, order].astype(np.float32), [names[j] for j in order]


def main(out_dir="example-output"):
    out = Path(out_dir)
    out.mkdir(exist_ok=True)
    S, names = planted_logits()
    scores = blocks_rx.load_scores(S, classes=names)
    sim = blocks_rx.compute_similarity(scores)
    ordering = blocks_rx.order_classes(sim, linkage="complete", distance="1-r")
    print("first classes in hclust order:", ordering.ordered_classes[:6])
    print("4 groups (R cutree numbering):", ordering.cut(4).to_dict())
    plot.heatmap(sim, ordering).savefig(out / "example_heatmap.png", dpi=150)
    print(f"wrote {out / 'example_heatmap.png'}")


if __name__ == "__main__":
    main(*sys.argv[1:])
