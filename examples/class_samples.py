"""The authors' notebook: one sample per class, in the similarity's hclust order.

Run:  python examples/class_samples.py [OUT_DIR]     (default OUT_DIR: example-output)

What it shows: a grid of one thumbnail per class, classes in the order hclust gives the
score-based similarity matrix (read left to right, top to bottom). Neighbours in the order
are classes the classifier scores alike, so the grid shows what they look like: for a large
classifier, page through the order (``plot.class_samples(..., start=)``) to see what each
block of Fig. 2a contains.

Data: real: logistic regression on scikit-learn's bundled 8x8 digits, scored on the held-out
half (``blocks_rx.datasets.digits_classifier()``; needs scikit-learn).

The API calls: read ``blocks_rx.figures.class_samples_figure``. Your own classifier: order
your Scores (``blocks_rx.load_scores(S, classes=names)``) as below, and pass a dict
``{"images": {class name: image}}`` (a 2-D or H x W x 3 array; a short string also works,
for text classifiers). For more classes, call ``plot.class_samples`` with ``count=`` and
``columns=`` as that function does.
"""

import sys
from pathlib import Path

import blocks_rx
from blocks_rx.datasets import digits_classifier
from blocks_rx.figures import class_samples_figure


def main(out_dir="example-output"):
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)

    digits = digits_classifier()                   # YOUR DATA: {"scores", "classes", "images"}
    scores = blocks_rx.load_scores(digits["scores"], classes=digits["classes"])
    ordering = blocks_rx.order_classes(blocks_rx.compute_similarity(scores))
    fig = class_samples_figure(digits, ordering)
    print("hclust order:", ordering.ordered_classes)
    path = out / "class_samples.png"
    fig.savefig(path, dpi=150)
    print(f"wrote {path}")


if __name__ == "__main__":
    main(*sys.argv[1:])
