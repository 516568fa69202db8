"""Paper Fig. 5: groups hclust cannot show, recovered with fuzzy c-means.

Run:  python examples/fig5_groups.py [OUT_DIR]     (default OUT_DIR: example-output)

What it shows: the hclust-ordered similarity matrix with coherent fuzzy groups as green
spans, *failed* groups (classes the classifier treats as alike but hclust scatters, like the
paper's glass wearers across genders) as blue columns marking their members' rows, and
*split* groups (a dense block off the diagonal, across the top-level split) as red boxes.

Data: synthetic (``blocks_rx.datasets.planted_overlaps()``), which plants one failed group
and one split pair, so you can check that both are found.

The API calls: read ``blocks_rx.figures.fig5_groups``. Your own classifier: pass a dict
``{"scores": S, "classes": names}`` with S your n_samples x n_classes logits.
"""

import sys
from pathlib import Path

from blocks_rx.datasets import planted_overlaps
from blocks_rx.figures import fig5_groups


def main(out_dir="example-output"):
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)

    data = planted_overlaps()                               # YOUR DATA: {"scores", "classes"}
    fig, found = fig5_groups(data)
    print(f"{len(found.coherent)} coherent, {len(found.failed)} failed, "
          f"{len(found.split)} split groups")
    for placement in found.failed[:3]:
        print(f"failed G{placement.group + 1}: {', '.join(placement.classes)} "
              f"({placement.n_runs} runs, {placement.excess:+.2f} above the background)")
    for pair in found.split:
        print(f"split: {', '.join(pair.first.classes)} | {', '.join(pair.second.classes)} "
              f"(z = {pair.z:.1f})")
    path = out / "fig5_groups.png"
    fig.savefig(path, dpi=150)
    print(f"wrote {path}")


if __name__ == "__main__":
    main(*sys.argv[1:])
