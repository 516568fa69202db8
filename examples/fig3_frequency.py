"""Paper Fig. 3: label frequencies of a multi-label dataset, without its dominant classes.

Run:  python examples/fig3_frequency.py [OUT_DIR]     (default OUT_DIR: example-output)

What it shows: how many samples carry each label, most frequent first, with the y axis
broken so that both the few very frequent classes (upper panel) and the long tail (lower
panel) are readable. Generic "star" labels that appear with almost everything (Music and
Speech in AudioSet) are left out and named in the title; they are found from the label
co-occurrence counts, as in Fig. 4a.

Data: synthetic (``blocks_rx.synthetic.planted_multilabel()``): 90 classes, 5,000 samples
with one to four labels each, long-tailed label frequencies and three planted star classes.

Your own dataset: replace the lines marked YOUR DATA with your 0/1 label matrix
(n_samples x n_classes) and class names. For single-label data, use
``counts = np.bincount(labels, minlength=n_classes)`` and ``exclude=[]`` instead.
"""

import sys
from pathlib import Path

import numpy as np

from blocks_rx import plot
from blocks_rx.similarity import cooccurrence_matrix, star_classes
from blocks_rx.synthetic import planted_multilabel


def main(out_dir="example-output"):
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)

    data = planted_multilabel()
    labels = data["labels"]        # YOUR DATA: 0/1 array (n_samples, n_classes)
    classes = data["classes"]      # YOUR DATA: one name per column

    # 1. Samples carrying each label.
    counts = np.asarray(labels).sum(axis=0)

    # 2. The star classes: co-occurring 3+ times with at least half of all other classes.
    stars = star_classes(cooccurrence_matrix(labels), share=0.5, min_count=3)
    exclude = [classes[j] for j in stars]
    print("left out (star classes):", {name: int(counts[j]) for name, j in zip(exclude, stars)})

    # 3. Sorted bars with a broken axis; name 8 classes from the head and along the tail.
    fig = plot.frequency(counts, classes, exclude=exclude, n_labels=8,
                         title=f"Fig. 3: class frequency excluding {', '.join(exclude)}\n"
                               "(synthetic: planted multi-label, long tail)")
    path = out / "fig3_frequency.png"
    fig.savefig(path, dpi=120)
    print(f"wrote {path}")


if __name__ == "__main__":
    main(*sys.argv[1:])
