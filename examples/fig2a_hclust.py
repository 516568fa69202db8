"""Paper Fig. 2a: the class-similarity matrix of a classifier, in hclust order.

Run:  python examples/fig2a_hclust.py [OUT_DIR]     (default OUT_DIR: example-output)

What it shows: the correlation between every pair of classes' score columns (Eq. 1 of the
paper), rows and columns ordered by R-identical hierarchical clustering (complete linkage on
1 - r), with the dendrogram on top. Blocks along the diagonal are groups of classes the
classifier scores alike; for langid they are languages sharing a script or a family.

Data: langid's real 97-language classifier on texts built from CLDR data
(``blocks_rx.datasets.langid_scores()``; built and cached on first use, a few seconds).

The API calls: read ``blocks_rx.figures.fig2a_hclust``. Your own classifier: pass your Scores
instead, ``fig2a_hclust(blocks_rx.load_scores(S, classes=names))`` with S your n_samples x
n_classes logits (an array or a .npy/.npz/.csv/.parquet/.pt path). ``transform="standardize"``
(the default) removes per-sample offsets and scales of logits; try "center", or "none" when
compute_similarity does not warn about offsets.
"""

import sys
from pathlib import Path

from blocks_rx.datasets import langid_scores
from blocks_rx.figures import fig2a_hclust


def main(out_dir="example-output"):
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)

    scores, _ = langid_scores()                                    # YOUR DATA: any Scores
    fig, sim, ordering = fig2a_hclust(scores, transform="standardize", source=" (langid, real)")
    print("first classes in hclust order:", ordering.ordered_classes[:6])
    path = out / "fig2a_hclust.png"
    fig.savefig(path, dpi=150)
    print(f"wrote {path}")


if __name__ == "__main__":
    main(*sys.argv[1:])
