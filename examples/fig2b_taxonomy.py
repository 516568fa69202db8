"""Paper Fig. 2b: the class-similarity matrix in a predefined taxonomy's order, levels as bands.

Run:  python examples/fig2b_taxonomy.py [OUT_DIR]     (default OUT_DIR: example-output)

What it shows: the same kind of matrix as Fig. 2a, but the classes are grouped by a given
taxonomy (a class -> "top/sub/..." path, like Places365's indoor / outdoor-natural /
outdoor-man-made) instead of by clustering. Coloured bands at the right name each taxonomy
level, and lines separate the top-level groups, so you can see whether the classifier's
similarity blocks follow the taxonomy (here they do, because it was planted).

Data: synthetic (``blocks_rx.datasets.planted_taxonomy()``): a linear classifier over 60
classes in a two-level taxonomy, with long-tailed class frequencies.

The API calls: read ``blocks_rx.figures.fig2b_taxonomy``. Your own classifier: pass a dict
``{"scores": S, "classes": names, "taxonomy": taxonomy}`` with S your n_samples x n_classes
logits and your taxonomy a dict {class name: "top/sub"} or a CSV/TSV file with columns
class, path. Every class must appear in it.
"""

import sys
from pathlib import Path

from blocks_rx.datasets import planted_taxonomy
from blocks_rx.figures import fig2b_taxonomy


def main(out_dir="example-output"):
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)

    data = planted_taxonomy()               # YOUR DATA: {"scores", "classes", "taxonomy"}
    fig, ordering, levels = fig2b_taxonomy(data)
    # levels: runs of equal terms along the order, one list per level: [(start, end, term)]
    print("top level:", [(term, end - start) for start, end, term in levels[0]])
    path = out / "fig2b_taxonomy.png"
    fig.savefig(path, dpi=150)
    print(f"wrote {path}")


if __name__ == "__main__":
    main(*sys.argv[1:])
