"""Paper Fig. 6: probability-based Spearman similarity, two class groups boxed and listed.

Run:  python examples/fig6_text_groups.py [OUT_DIR]     (default OUT_DIR: example-output)

What it shows: class similarity computed as Spearman (rank) correlation of the sigmoid
probabilities, which brings out coarser structure than Pearson on logits. The tree is cut
into K groups; the SHOWN largest are outlined on the matrix, and a text panel at the right
lists the classes in each, so the groups can be read by name.

Data: synthetic (``blocks_rx.synthetic.planted_multilabel()``): independent-sigmoid logits
of 90 classes in a two-level taxonomy, 5,000 samples.

Your own classifier: replace the lines marked YOUR DATA with your score matrix (logits, one
sigmoid per class), class names and taxonomy. For a single-label classifier use
``transform="softmax"``. Without a taxonomy, drop ``taxonomy=`` from ``spans``.
"""

import sys
from pathlib import Path

import blocks_rx
from blocks_rx import plot
from blocks_rx.ordering import spans
from blocks_rx.synthetic import planted_multilabel

K = 5           # groups to cut the tree into
SHOWN = 2       # how many of the largest groups to box and list
MAX_LINES = 12  # class names listed per box


def main(out_dir="example-output"):
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)

    data = planted_multilabel()
    scores = blocks_rx.load_scores(data["scores"], classes=data["classes"],   # YOUR DATA
                                   kind="multilabel")
    taxonomy = data["taxonomy"]    # YOUR DATA: {class: "top/sub"} or "taxonomy.csv"

    # 1. Spearman correlation of the probabilities (sigmoid of each logit), hclust order.
    sim = blocks_rx.compute_similarity(scores, method="spearman", transform="sigmoid")
    ordering = blocks_rx.order_classes(sim)

    # 2. Cut into K groups, keep the SHOWN largest runs along the order.
    groups = spans(ordering, ordering.cut(K), taxonomy=taxonomy, min_size=3)
    largest = sorted(groups, key=lambda span: span[1] - span[0], reverse=True)[:SHOWN]

    # 3. A box per group: (start, end, title, lines listing its classes).
    boxes = []
    for letter, (start, end, term) in zip("ABCDEFGH", sorted(largest)):
        names = ordering.ordered_classes[start:end]
        lines = names[:MAX_LINES]
        if len(names) > MAX_LINES:
            lines.append(f"... and {len(names) - MAX_LINES} more")
        boxes.append((start, end, f"{letter}: {term}", lines))
        print(f"{letter}: {term}, {end - start} classes")

    # 4. Draw: boxes on the matrix, their lists in a text panel at the right.
    fig = plot.heatmap(sim, ordering, boxes=boxes,
                       title="Fig. 6: Spearman similarity of probabilities, two groups listed\n"
                             "(synthetic: planted multi-label)")
    path = out / "fig6_text_groups.png"
    fig.savefig(path, dpi=120)
    print(f"wrote {path}")


if __name__ == "__main__":
    main(*sys.argv[1:])
