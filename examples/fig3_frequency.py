"""Paper Fig. 3: label frequencies of a multi-label dataset, without its dominant classes.

Run:  python examples/fig3_frequency.py [OUT_DIR]     (default OUT_DIR: example-output)

What it shows: how many samples carry each label, most frequent first, with the y axis
broken so that both the few very frequent classes (upper panel) and the long tail (lower
panel) are readable. Generic "star" labels that appear with almost everything (Music and
Speech in AudioSet) are left out and named in the title; in your data, find them from the
label co-occurrence counts, as in Fig. 4a.

Data: synthetic (``blocks_rx.datasets.planted_multilabel()``): 90 classes, 5,000 samples
with one to four labels each, long-tailed label frequencies and three planted star classes.

The API calls: read ``blocks_rx.figures.fig3_frequency``. Your own dataset: pass a dict
``{"labels": Y, "classes": names, "stars": star_columns}`` with Y your 0/1 label matrix
(n_samples x n_classes); ``star_columns = blocks_rx.similarity.star_classes(
blocks_rx.similarity.cooccurrence_matrix(Y))`` finds the star classes, ``[]`` keeps all.
"""

import sys
from pathlib import Path

from blocks_rx.datasets import planted_multilabel
from blocks_rx.figures import fig3_frequency


def main(out_dir="example-output"):
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)

    data = planted_multilabel()                 # YOUR DATA: {"labels", "classes", "stars"}
    fig = fig3_frequency(data)
    print("left out (star classes):", [data["classes"][j] for j in data["stars"]])
    path = out / "fig3_frequency.png"
    fig.savefig(path, dpi=150)
    print(f"wrote {path}")


if __name__ == "__main__":
    main(*sys.argv[1:])
