"""The authors' notebook (paper Section 2): the confusion matrix four ways, beside similarity.

Run:  python examples/confusion_comparison.py [OUT_DIR]     (default OUT_DIR: example-output)

What it shows: four panels of one confusion matrix. (a) ordered by clustering its own
confusion pattern; (b) the same without the diagonal, log scale; (c) binarised, any
confusion at all; (d) without the diagonal, in the hclust order of the *score-based*
similarity. Confusions are sparse and dominated by frequent classes, while the similarity
order, found from the scores alone, still gathers the confused pairs near the diagonal.

Data: real: logistic regression on scikit-learn's bundled 8x8 digits, scored on the held-out
half (``blocks_rx.figures.digits_classifier()``; needs scikit-learn).

Your own classifier: replace the lines marked YOUR DATA with your score matrix, class names,
true labels (class index per sample) and predictions (for top-1, ``scores.argmax(axis=1)``).
To draw similarity and confusions side by side instead, call
``plot.side_by_side(sim, confusion, ordering)``.
"""

import sys
from pathlib import Path

import numpy as np

import blocks_rx
from blocks_rx import plot
from blocks_rx.figures import digits_classifier
from blocks_rx.ordering import confusion_ordering
from blocks_rx.similarity import confusion_matrix


def main(out_dir="example-output"):
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)

    digits = digits_classifier()
    scores = blocks_rx.load_scores(digits["scores"], classes=digits["classes"])  # YOUR DATA
    labels = digits["labels"]              # YOUR DATA: true class index of each sample
    predicted = digits["predictions"]      # YOUR DATA: predicted class index of each sample

    # 1. Class similarity from the scores, and its hclust order.
    sim = blocks_rx.compute_similarity(scores)
    ordering = blocks_rx.order_classes(sim)

    # 2. Confusion counts C[true, predicted], and the order of their own clustering.
    confusion = confusion_matrix(labels, predicted, scores.n_classes)
    own = confusion_ordering(confusion, classes=scores.classes)
    accuracy = np.trace(confusion) / confusion.sum()
    print(f"accuracy {accuracy:.3f}, {int(confusion.sum() - np.trace(confusion))} errors")
    print("similarity order:", ordering.ordered_classes)

    # 3. The four panels.
    fig = plot.confusion_comparison(
        confusion, own, ordering,
        title=f"Confusion matrix four ways: scikit-learn digits, logistic regression (real), "
              f"accuracy {accuracy:.3f}")
    path = out / "confusion_comparison.png"
    fig.savefig(path, dpi=100)
    print(f"wrote {path}")


if __name__ == "__main__":
    main(*sys.argv[1:])
