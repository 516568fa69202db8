"""Paper Fig. 5: groups hclust cannot show, recovered with fuzzy c-means.

Run:  python examples/fig5_groups.py [OUT_DIR]     (default OUT_DIR: example-output)

What it shows: the hclust-ordered similarity matrix with coherent fuzzy groups as green
spans, *failed* groups (classes the classifier treats as alike but hclust scatters, like the
paper's glass wearers across genders) as blue columns marking their members' rows, and
*split* groups (a dense block off the diagonal, across the top-level split) as red boxes.

Data: synthetic (``blocks_rx.synthetic.planted_overlaps()``), which plants one failed group
and one split pair, so you can check that both are found.

Your own classifier: replace the lines marked YOUR DATA with your score matrix and names.
"""

import sys
from pathlib import Path

import blocks_rx
from blocks_rx import plot
from blocks_rx.groups import coherent_groups, failed_groups, fuzzy_groups, split_groups
from blocks_rx.synthetic import planted_overlaps


def main(out_dir="example-output"):
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)

    data = planted_overlaps()                                                 # YOUR DATA
    scores = blocks_rx.load_scores(data["scores"], classes=data["classes"])   # YOUR DATA

    # 1. Similarity and the hclust order (complete linkage on 1 - r, identical to R's).
    sim = blocks_rx.compute_similarity(scores)
    ordering = blocks_rx.order_classes(sim)

    # 2. Fuzzy c-means on the spectrally embedded rows of the matrix; the number of groups is
    #    chosen from the eigenvalues (see blocks_rx.groups for the stated rules).
    groups = fuzzy_groups(sim, seed=0)

    # 3. What the order does with them: scattered (failed), split, or kept together.
    failed = failed_groups(groups, ordering, sim)
    split = split_groups(sim, ordering)
    coherent = coherent_groups(groups, ordering, sim)
    for placement in failed[:3]:
        print(f"failed G{placement.group + 1}: {', '.join(placement.classes)} "
              f"({placement.n_runs} runs, {placement.excess:+.2f} above the background)")
    for pair in split:
        print(f"split: {', '.join(pair.first.classes)} | {', '.join(pair.second.classes)} "
              f"(z = {pair.z:.1f})")

    # 4. Draw it.
    fig = plot.groups_heatmap(sim, ordering, groups, failed=failed[:3], split=split,
                              coherent=coherent)
    path = out / "fig5_groups.png"
    fig.savefig(path, dpi=110)
    print(f"wrote {path}")


if __name__ == "__main__":
    main(*sys.argv[1:])
