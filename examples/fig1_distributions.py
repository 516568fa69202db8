"""Paper Fig. 1: distributions of one class's input values and of the class similarities.

Run:  python examples/fig1_distributions.py [OUT_DIR]     (default OUT_DIR: example-output)

What it shows: three rows, one per way of computing class similarity. Left, the values that
go into the correlation for one typical class; right, all off-diagonal similarities, with
skewness and kurtosis. (a) Pearson on probabilities (softmax): inputs piled up near 0, a
skewed similarity distribution. (b) Pearson on logits (here standardized per sample): a
near-normal spread, in which both small and large groups can emerge. (c) Pearson on the
classes' ranks within each sample (the "sample-rank" method).

Data: langid's real 97-language classifier on texts built from CLDR data
(``blocks_rx.datasets.langid_scores()``; built and cached on first use, a few seconds).

The API calls: read ``blocks_rx.figures.fig1_distributions``. Your own classifier: pass your
Scores instead, ``fig1_distributions(blocks_rx.load_scores(S, classes=names),
logit_transform="standardize")`` with S your n_samples x n_classes logits (an array or a
.npy/.npz/.csv/.parquet/.pt path). Row (b) standardizes each sample's logits, which removes
per-sample offsets and scales (langid's log-probabilities grow with text length); "center"
may suit your logits too.
"""

import sys
from pathlib import Path

from blocks_rx.datasets import langid_scores
from blocks_rx.figures import fig1_distributions


def main(out_dir="example-output"):
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)

    scores, _ = langid_scores()                                    # YOUR DATA: any Scores
    fig = fig1_distributions(scores, logit_transform="standardize", source=" (langid, real)")
    print(f"{scores.n_samples:,} texts x {scores.n_classes} languages; rows: Pearson on "
          "probabilities, on standardized logits, on within-sample ranks")
    path = out / "fig1_distributions.png"
    fig.savefig(path, dpi=150)
    print(f"wrote {path}")


if __name__ == "__main__":
    main(*sys.argv[1:])
