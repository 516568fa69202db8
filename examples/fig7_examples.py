"""Paper Fig. 7: a large classifier's similarity, coarse groups, fine groups shown by example.

Run:  python examples/fig7_examples.py [OUT_DIR]     (default OUT_DIR: example-output)

What it shows: the similarity matrix of a real classifier in hclust order, with the 3-group
cut bracketed at the left (coarse structure) and the SHOWN tightest groups of a finer K-group
cut outlined on the matrix. For each outlined group, a text panel lists its classes with one
example input each, which shows what the classes have in common: in the paper, Chinese
characters sharing strokes; here, languages sharing a script.

Data: langid's real 97-language classifier on texts built from CLDR data
(``blocks_rx.demo.load_langid_demo()``; built and cached on first use, a few seconds).

Your own classifier: replace the lines marked YOUR DATA with your score matrix, class names,
true labels (class index per sample) and one short description per sample (a caption, a file
name, a text). For image classifiers, show thumbnails instead with class_samples.py.
"""

import sys
from pathlib import Path

import numpy as np

import blocks_rx
from blocks_rx import plot
from blocks_rx.demo import load_langid_demo
from blocks_rx.ordering import spans
from blocks_rx.plot import drawable   # whether the installed fonts have a text's script

K = 12         # the finer cut
SHOWN = 3      # how many of its tightest groups to outline
PER_BOX = 8    # classes listed per box


def main(out_dir="example-output"):
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)

    demo = load_langid_demo()
    scores = blocks_rx.load_scores(demo["scores"], classes=demo["classes"])  # YOUR DATA
    labels = np.asarray(demo["labels"])   # YOUR DATA: true class index of each sample
    examples = demo["texts"]              # YOUR DATA: one short string per sample

    # 1. Similarity of the per-sample standardized logits, hclust order.
    sim = blocks_rx.compute_similarity(scores, transform="standardize")
    ordering = blocks_rx.order_classes(sim)
    ordered = sim.matrix[np.ix_(ordering.order, ordering.order)]

    # 2. The fine cut's groups of 4+ classes; keep the SHOWN tightest, i.e. with the highest
    #    mean similarity inside the block (off its diagonal).
    def tightness(start, end):
        block = ordered[start:end, start:end]
        return (block.sum() - (end - start)) / ((end - start) * (end - start - 1))

    fine = spans(ordering, ordering.cut(K), min_size=4)
    chosen = sorted(sorted(fine, key=lambda s: tightness(s[0], s[1]), reverse=True)[:SHOWN])

    # 3. A box per chosen group, listing each class with its first example.
    boxes = []
    for number, (start, end, _) in enumerate(chosen, start=1):
        lines = []
        for name in ordering.ordered_classes[start:end][:PER_BOX]:
            samples = np.flatnonzero(labels == scores.classes.index(name))
            example = examples[samples[0]][:34] if len(samples) else "(no example)"
            if not drawable(example):
                example = "(no installed font has this script)"
            lines.append(f"{name}: {example}")
        if end - start > PER_BOX:
            lines.append(f"... and {end - start - PER_BOX} more")
        boxes.append((start, end, f"({number}): mean r {tightness(start, end):.2f}", lines))
        print(f"({number}) {end - start} classes, mean r {tightness(start, end):.2f}: "
              + ", ".join(ordering.ordered_classes[start:end][:PER_BOX]))

    # 4. The coarse 3-group cut as brackets at the left.
    coarse = [(start, end, f"coarse {i + 1}")
              for i, (start, end, _) in enumerate(spans(ordering, ordering.cut(3)))]

    fig = plot.heatmap(sim, ordering, boxes=boxes, spans=coarse,
                       title="Fig. 7: langid's 97 languages (real), hclust order; "
                             "fine groups with example texts")
    path = out / "fig7_examples.png"
    fig.savefig(path, dpi=120)
    print(f"wrote {path}")


if __name__ == "__main__":
    main(*sys.argv[1:])
