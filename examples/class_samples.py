"""The authors' notebook: one sample per class, in the similarity's hclust order.

Run:  python examples/class_samples.py [OUT_DIR]     (default OUT_DIR: example-output)

What it shows: a grid of one thumbnail per class, classes in the order hclust gives the
score-based similarity matrix (read left to right, top to bottom). Neighbours in the order
are classes the classifier scores alike, so the grid shows what they look like: for a large
classifier, page through the order (``start=``) to see what each block of Fig. 2a contains.

Data: real: logistic regression on scikit-learn's bundled 8x8 digits, scored on the held-out
half (``blocks_rx.figures.digits_classifier()``; needs scikit-learn).

Your own classifier: replace the lines marked YOUR DATA with your score matrix, class names
and a dict {class name: image} (a 2-D or H x W x 3 array; a short string also works, for
text classifiers). Raise COUNT/COLUMNS, or set START, for more classes.
"""

import sys
from pathlib import Path

import blocks_rx
from blocks_rx import plot
from blocks_rx.figures import digits_classifier

START, COUNT, COLUMNS = 0, 10, 5   # which part of the order to show, and the grid's width


def main(out_dir="example-output"):
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)

    digits = digits_classifier()
    scores = blocks_rx.load_scores(digits["scores"], classes=digits["classes"])  # YOUR DATA
    images = digits["images"]     # YOUR DATA: {class name: one example image}

    # 1. Class similarity from the scores, and its hclust order.
    sim = blocks_rx.compute_similarity(scores)
    ordering = blocks_rx.order_classes(sim)
    print("hclust order:", ordering.ordered_classes)

    # 2. One thumbnail per class, for COUNT classes of the order from position START.
    fig = plot.class_samples(ordering, images, start=START, count=COUNT, columns=COLUMNS,
                             title="One sample per class in hclust order "
                                   "(scikit-learn digits, real)")
    path = out / "class_samples.png"
    fig.savefig(path, dpi=120)
    print(f"wrote {path}")


if __name__ == "__main__":
    main(*sys.argv[1:])
