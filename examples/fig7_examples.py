"""Paper Fig. 7: a large classifier's similarity, coarse groups, fine groups shown by example.

Run:  python examples/fig7_examples.py [OUT_DIR]     (default OUT_DIR: example-output)

What it shows: the similarity matrix of a real classifier in hclust order, with the 3-group
cut bracketed at the left (coarse structure) and the SHOWN tightest groups of a finer K-group
cut outlined on the matrix. For each outlined group, a text panel lists its classes with one
example input each, which shows what the classes have in common: in the paper, Chinese
characters sharing strokes; here, languages sharing a script.

Data: langid's real 97-language classifier on texts built from CLDR data
(``blocks_rx.datasets.langid_scores()``; built and cached on first use, a few seconds).

The API calls: read ``blocks_rx.figures.fig7_examples``. Your own classifier: pass your
Scores with true labels, ``blocks_rx.load_scores(S, classes=names, labels=y)`` (y: class
index per sample), and one short description per sample (a caption, a file name, a text).
For image classifiers, show thumbnails instead with class_samples.py.
"""

import sys
from pathlib import Path

from blocks_rx.datasets import langid_scores
from blocks_rx.figures import fig7_examples

K = 12         # the finer cut
SHOWN = 3      # how many of its tightest groups to outline


def main(out_dir="example-output"):
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)

    scores, texts = langid_scores()         # YOUR DATA: Scores with labels, one text per sample
    fig, boxes = fig7_examples(scores, texts, transform="standardize", k=K, shown=SHOWN)
    for start, end, title, lines in boxes:  # lines: "class: example" for its first classes
        print(f"{title}, {end - start} classes: "
              + ", ".join(line.split(": ")[0] for line in lines))
    path = out / "fig7_examples.png"
    fig.savefig(path, dpi=150)
    print(f"wrote {path}")


if __name__ == "__main__":
    main(*sys.argv[1:])
