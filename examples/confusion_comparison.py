"""The authors' notebook (paper Section 2): the confusion matrix four ways, beside similarity.

Run:  python examples/confusion_comparison.py [OUT_DIR]     (default OUT_DIR: example-output)

What it shows: four panels of one confusion matrix. (a) ordered by clustering its own
confusion pattern; (b) the same without the diagonal, log scale; (c) binarised, any
confusion at all; (d) without the diagonal, in the hclust order of the *score-based*
similarity. Confusions are sparse and dominated by frequent classes, while the similarity
order, found from the scores alone, still gathers the confused pairs near the diagonal.

Data: real: logistic regression on scikit-learn's bundled 8x8 digits, scored on the held-out
half (``blocks_rx.datasets.digits_classifier()``; needs scikit-learn).

The API calls: read ``blocks_rx.figures.confusion_figures``. Your own classifier: pass a dict
``{"scores": S, "classes": names, "labels": y, "predictions": p}`` with y the true class
index per sample and p the predicted one (for top-1, ``S.argmax(axis=1)``). It also returns
similarity and confusions side by side (``plot.side_by_side``), which this script does not
save.
"""

import sys
from pathlib import Path

from blocks_rx.datasets import digits_classifier
from blocks_rx.figures import confusion_figures


def main(out_dir="example-output"):
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)

    digits = digits_classifier()   # YOUR DATA: {"scores", "classes", "labels", "predictions"}
    fig, _side_by_side, ordering = confusion_figures(digits)
    print("similarity order (panel d):", ordering.ordered_classes)
    path = out / "confusion_comparison.png"
    fig.savefig(path, dpi=150)
    print(f"wrote {path}")


if __name__ == "__main__":
    main(*sys.argv[1:])
