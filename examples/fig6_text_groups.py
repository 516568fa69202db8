"""Paper Fig. 6: probability-based Spearman similarity, two class groups boxed and listed.

Run:  python examples/fig6_text_groups.py [OUT_DIR]     (default OUT_DIR: example-output)

What it shows: class similarity computed as Spearman (rank) correlation of the sigmoid
probabilities, which brings out coarser structure than Pearson on logits. The tree is cut
into K groups; the SHOWN largest are outlined on the matrix, and a text panel at the right
lists the classes in each, so the groups can be read by name.

Data: synthetic (``blocks_rx.datasets.planted_multilabel()``): independent-sigmoid logits
of 90 classes in a two-level taxonomy, 5,000 samples.

The API calls: read ``blocks_rx.figures.fig6_text_groups``. Your own classifier: pass a dict
``{"scores": S, "classes": names, "taxonomy": taxonomy}`` with S your logits (one sigmoid per
class) and your taxonomy ({class: "top/sub"} or a CSV/TSV file).
"""

import sys
from pathlib import Path

from blocks_rx.datasets import planted_multilabel
from blocks_rx.figures import fig6_text_groups

K = 5           # groups to cut the tree into
SHOWN = 2       # how many of the largest groups to box and list
MAX_LINES = 12  # class names listed per box


def main(out_dir="example-output"):
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)

    data = planted_multilabel()             # YOUR DATA: {"scores", "classes", "taxonomy"}
    fig, boxes = fig6_text_groups(data, k=K, shown=SHOWN, max_lines=MAX_LINES)
    for start, end, title, _lines in boxes:         # one box per group: its classes listed
        print(f"{title}, {end - start} classes")
    path = out / "fig6_text_groups.png"
    fig.savefig(path, dpi=150)
    print(f"wrote {path}")


if __name__ == "__main__":
    main(*sys.argv[1:])
