"""Paper Fig. 2b: the class-similarity matrix in a predefined taxonomy's order, levels as bands.

Run:  python examples/fig2b_taxonomy.py [OUT_DIR]     (default OUT_DIR: example-output)

What it shows: the same kind of matrix as Fig. 2a, but the classes are grouped by a given
taxonomy (a class -> "top/sub/..." path, like Places365's indoor / outdoor-natural /
outdoor-man-made) instead of by clustering. Coloured bands at the right name each taxonomy
level, and lines separate the top-level groups, so you can see whether the classifier's
similarity blocks follow the taxonomy (here they do, because it was planted).

Data: synthetic (``blocks_rx.synthetic.planted_taxonomy()``): a linear classifier over 60
classes in a two-level taxonomy, with long-tailed class frequencies.

Your own classifier: replace the lines marked YOUR DATA with your score matrix, its class
names, and your taxonomy: a dict {class name: "top/sub"} or a CSV/TSV file with columns
class, path. Every class must appear in it.
"""

import sys
from pathlib import Path

import blocks_rx
from blocks_rx import plot
from blocks_rx.ordering import taxonomy_levels
from blocks_rx.synthetic import planted_taxonomy


def main(out_dir="example-output"):
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)

    data = planted_taxonomy()                                               # YOUR DATA
    scores = blocks_rx.load_scores(data["scores"], classes=data["classes"])  # YOUR DATA
    taxonomy = data["taxonomy"]      # YOUR DATA: {"in0-0": "indoor/in0", ...} or "taxonomy.csv"

    # 1. Class similarity (Pearson on the logits).
    sim = blocks_rx.compute_similarity(scores)

    # 2. Order the classes by the taxonomy (groups in the taxonomy's own order).
    ordering = blocks_rx.order_classes(sim, "taxonomy", taxonomy=taxonomy)

    # 3. Runs of equal terms along that order, one list per level: [(start, end, term), ...].
    levels = taxonomy_levels(ordering, taxonomy)
    print("top level:", [(term, end - start) for start, end, term in levels[0]])

    # 4. Draw: bands for every level at the right, lines between top-level groups.
    fig = plot.heatmap(sim, ordering, bands=levels,
                       boundaries=[start for start, _, _ in levels[0][1:]],
                       title="Fig. 2b: class similarity in taxonomy order, taxonomy levels at the "
                             "right\n(synthetic: planted two-level taxonomy)")
    path = out / "fig2b_taxonomy.png"
    fig.savefig(path, dpi=120)
    print(f"wrote {path}")


if __name__ == "__main__":
    main(*sys.argv[1:])
