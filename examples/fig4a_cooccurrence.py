"""Paper Fig. 4a: label co-occurrence of a multi-label dataset, in taxonomy order.

Run:  python examples/fig4a_cooccurrence.py [OUT_DIR]     (default OUT_DIR: example-output)

What it shows: how many samples carry both labels of every pair of classes (log colour
scale, white = never together), with the classes grouped by their taxonomy and the top level
as bands at the right. Most co-occurrence falls in blocks of one taxonomy group; *star
patterns*, rows and columns filled across the whole matrix, are generic labels (Music,
Speech in AudioSet) that come with almost anything. Their positions are ticked at the right.

Data: synthetic (``blocks_rx.synthetic.planted_multilabel()``): 90 classes in a two-level
taxonomy, 5,000 samples with one to four labels each, three planted star classes.

Your own dataset: replace the lines marked YOUR DATA with your 0/1 label matrix
(n_samples x n_classes), its class names, and your taxonomy ({class: "top/sub"} or a CSV/TSV
file with columns class, path). No scores are needed for this figure. Without a taxonomy,
order by the scores' similarity instead: ``ordering = blocks_rx.order_classes(sim)``.
"""

import sys
from pathlib import Path

import numpy as np
from matplotlib.colors import LogNorm

import blocks_rx
from blocks_rx import plot
from blocks_rx.ordering import taxonomy_levels
from blocks_rx.similarity import cooccurrence_matrix, star_classes
from blocks_rx.synthetic import planted_multilabel


def main(out_dir="example-output"):
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)

    data = planted_multilabel()
    labels = data["labels"]        # YOUR DATA: 0/1 array (n_samples, n_classes)
    classes = data["classes"]      # YOUR DATA: one name per column
    taxonomy = data["taxonomy"]    # YOUR DATA: {class: "top/sub"} or "taxonomy.csv"

    # 1. Co-occurrence counts K[j1, j2]: samples carrying both labels.
    cooc = cooccurrence_matrix(labels).astype(np.float64)

    # 2. Taxonomy order. It needs no similarity: pass any m x m matrix, e.g. the identity.
    ordering = blocks_rx.order_classes(np.eye(len(classes)), "taxonomy", taxonomy=taxonomy,
                                       classes=classes)

    # 3. Star classes, and where they sit along the order.
    stars = star_classes(cooc, share=0.5, min_count=3)
    position = {j: p for p, j in enumerate(ordering.order)}
    marks = ([position[j] for j in stars], [classes[j] for j in stars])
    print("star classes:", marks[1], "at positions", marks[0])

    # 4. Draw the counts on a log scale (zeros left white), top-level bands, star ticks.
    shown = np.where(cooc > 0, cooc, np.nan)
    fig = plot.ordered_matrix(
        shown, ordering, cmap="magma_r", norm=LogNorm(vmin=1, vmax=np.nanmax(shown)),
        bands=taxonomy_levels(ordering, taxonomy, depth=1), marks=marks,
        colorbar="samples with both labels (log)",
        title="Fig. 4a: label co-occurrence in taxonomy order; ticks: star patterns\n"
              "(synthetic: planted multi-label)")
    path = out / "fig4a_cooccurrence.png"
    fig.savefig(path, dpi=120)
    print(f"wrote {path}")


if __name__ == "__main__":
    main(*sys.argv[1:])
