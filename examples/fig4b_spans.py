"""Paper Fig. 4b: a multi-label classifier's class similarity, hclust order, labelled groups.

Run:  python examples/fig4b_spans.py [OUT_DIR]     (default OUT_DIR: example-output)

What it shows: the similarity of the classifier's logits (not of the labels, as in Fig. 4a),
in hclust order. The tree is cut into K groups, and each group's run along the order is
bracketed at the left and named by the taxonomy term most of its classes share, so you can
read off which semantic groups the classifier has formed.

Data: synthetic (``blocks_rx.datasets.planted_multilabel()``): independent-sigmoid logits
of 90 classes in a two-level taxonomy, 5,000 samples.

The API calls: read ``blocks_rx.figures.fig4b_spans``. Your own classifier: pass a dict
``{"scores": S, "classes": names, "taxonomy": taxonomy}`` with S your logits (one sigmoid per
class) and your taxonomy ({class: "top/sub"} or a CSV/TSV file). Change K to cut the tree
coarser or finer.
"""

import sys
from pathlib import Path

from blocks_rx.datasets import planted_multilabel
from blocks_rx.figures import fig4b_spans

K = 6   # number of groups to cut the tree into


def main(out_dir="example-output"):
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)

    data = planted_multilabel()             # YOUR DATA: {"scores", "classes", "taxonomy"}
    fig, found = fig4b_spans(data, k=K)
    # found: the runs of the K-group cut along the order (3+ classes), named by taxonomy term
    for start, end, label in found:
        print(f"positions {start:2d}-{end - 1:2d}: {label} ({end - start} classes)")
    path = out / "fig4b_spans.png"
    fig.savefig(path, dpi=150)
    print(f"wrote {path}")


if __name__ == "__main__":
    main(*sys.argv[1:])
