"""Paper Fig. 2a: the class-similarity matrix of a classifier, in hclust order.

Run:  python examples/fig2a_hclust.py [OUT_DIR]     (default OUT_DIR: example-output)

What it shows: the correlation between every pair of classes' score columns (Eq. 1 of the
paper), rows and columns ordered by R-identical hierarchical clustering (complete linkage on
1 - r), with the dendrogram on top. Blocks along the diagonal are groups of classes the
classifier scores alike; for langid they are languages sharing a script or a family.

Data: langid's real 97-language classifier on texts built from CLDR data
(``blocks_rx.demo.load_langid_demo()``; built and cached on first use, a few seconds).

Your own classifier: replace the two lines marked YOUR DATA with your score matrix
(n_samples x n_classes logits: an array or a .npy/.npz/.csv/.parquet/.pt path) and its class
names. ``transform="standardize"`` removes per-sample offsets and scales of logits; try
"center", or "none" when compute_similarity does not warn about offsets.
"""

import sys
from pathlib import Path

import blocks_rx
from blocks_rx import plot
from blocks_rx.demo import load_langid_demo


def main(out_dir="example-output"):
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)

    demo = load_langid_demo()                                          # YOUR DATA
    scores = blocks_rx.load_scores(demo["scores"], classes=demo["classes"])  # YOUR DATA

    # 1. Class similarity: Pearson correlation of the (per-sample standardized) score columns.
    sim = blocks_rx.compute_similarity(scores, transform="standardize")

    # 2. Order the classes: R's hclust, complete linkage on the distance 1 - r.
    ordering = blocks_rx.order_classes(sim, "hclust", linkage="complete", distance="1-r")
    print("first classes in hclust order:", ordering.ordered_classes[:6])

    # 3. Draw the ordered matrix with its dendrogram.
    fig = plot.heatmap(sim, ordering, dendrogram=True,
                       title="Fig. 2a: class similarity in hclust order (langid, real)")
    path = out / "fig2a_hclust.png"
    fig.savefig(path, dpi=120)
    print(f"wrote {path}")


if __name__ == "__main__":
    main(*sys.argv[1:])
