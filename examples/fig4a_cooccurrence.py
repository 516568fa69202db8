"""Paper Fig. 4a: label co-occurrence of a multi-label dataset, in taxonomy order.

Run:  python examples/fig4a_cooccurrence.py [OUT_DIR]     (default OUT_DIR: example-output)

What it shows: how many samples carry both labels of every pair of classes (log colour
scale, white = never together), with the classes grouped by their taxonomy and the top level
as bands at the right. Most co-occurrence falls in blocks of one taxonomy group; *star
patterns*, rows and columns filled across the whole matrix, are generic labels (Music,
Speech in AudioSet) that come with almost anything. Their positions are ticked at the right.

Data: synthetic (``blocks_rx.datasets.planted_multilabel()``): 90 classes in a two-level
taxonomy, 5,000 samples with one to four labels each, three planted star classes.

The API calls: read ``blocks_rx.figures.fig4a_cooccurrence``. Your own dataset: pass a dict
``{"labels": Y, "classes": names, "taxonomy": taxonomy}`` with Y your 0/1 label matrix
(n_samples x n_classes) and your taxonomy ({class: "top/sub"} or a CSV/TSV file with columns
class, path). No scores are needed for this figure.
"""

import sys
from pathlib import Path

from blocks_rx.datasets import planted_multilabel
from blocks_rx.figures import fig4a_cooccurrence


def main(out_dir="example-output"):
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)

    data = planted_multilabel()             # YOUR DATA: {"labels", "classes", "taxonomy"}
    fig, stars = fig4a_cooccurrence(data)
    print("star classes (ticked):", [data["classes"][j] for j in stars])
    path = out / "fig4a_cooccurrence.png"
    fig.savefig(path, dpi=150)
    print(f"wrote {path}")


if __name__ == "__main__":
    main(*sys.argv[1:])
