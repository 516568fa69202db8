"""Paper Fig. 4b: a multi-label classifier's class similarity, hclust order, labelled groups.

Run:  python examples/fig4b_spans.py [OUT_DIR]     (default OUT_DIR: example-output)

What it shows: the similarity of the classifier's logits (not of the labels, as in Fig. 4a),
in hclust order. The tree is cut into k groups, and each group's run along the order is
bracketed at the left and named by the taxonomy term most of its classes share, so you can
read off which semantic groups the classifier has formed.

Data: synthetic (``blocks_rx.synthetic.planted_multilabel()``): independent-sigmoid logits
of 90 classes in a two-level taxonomy, 5,000 samples.

Your own classifier: replace the lines marked YOUR DATA with your score matrix (logits, one
sigmoid per class), class names and taxonomy ({class: "top/sub"} or a CSV/TSV file). Without
a taxonomy, drop ``taxonomy=`` (spans are then named "group N") or pass ``names=`` a
{group number: label} dict. Change K to cut the tree coarser or finer.
"""

import sys
from pathlib import Path

import blocks_rx
from blocks_rx import plot
from blocks_rx.ordering import spans
from blocks_rx.synthetic import planted_multilabel

K = 6   # number of groups to cut the tree into


def main(out_dir="example-output"):
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)

    data = planted_multilabel()
    scores = blocks_rx.load_scores(data["scores"], classes=data["classes"],   # YOUR DATA
                                   kind="multilabel")
    taxonomy = data["taxonomy"]    # YOUR DATA: {class: "top/sub"} or "taxonomy.csv"

    # 1. Class similarity of the logits, and its hclust order.
    sim = blocks_rx.compute_similarity(scores)
    ordering = blocks_rx.order_classes(sim)

    # 2. Cut the tree into K groups (numbered as R's cutree) and find their runs along the
    #    order, each named by its most shared taxonomy term; runs under 3 classes are left out.
    groups = ordering.cut(K)
    found = spans(ordering, groups, taxonomy=taxonomy, min_size=3)
    for start, end, label in found:
        print(f"positions {start:2d}-{end - 1:2d}: {label} ({end - start} classes)")

    # 3. Draw: the spans replace the row labels at the left.
    fig = plot.heatmap(sim, ordering, spans=found,
                       title=f"Fig. 4b: logit similarity, hclust order; spans: the {K}-group cut, "
                             "named by their most shared taxonomy term\n"
                             "(synthetic: planted multi-label)")
    path = out / "fig4b_spans.png"
    fig.savefig(path, dpi=120)
    print(f"wrote {path}")


if __name__ == "__main__":
    main(*sys.argv[1:])
