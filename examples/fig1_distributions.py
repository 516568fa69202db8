"""Paper Fig. 1: distributions of one class's input values and of the class similarities.

Run:  python examples/fig1_distributions.py [OUT_DIR]     (default OUT_DIR: example-output)

What it shows: three rows, one per way of computing class similarity. Left, the values that
go into the correlation for one typical class; right, all off-diagonal similarities, with
skewness and kurtosis. (a) Pearson on probabilities (softmax): inputs piled up near 0, a
skewed similarity distribution. (b) Pearson on logits (here standardized per sample): a
near-normal spread, in which both small and large groups can emerge. (c) Pearson on the
classes' ranks within each sample (the "sample-rank" method).

Data: langid's real 97-language classifier on texts built from CLDR data
(``blocks_rx.demo.load_langid_demo()``; built and cached on first use, a few seconds).

Your own classifier: replace the two lines marked YOUR DATA with your score matrix
(n_samples x n_classes logits: an array or a .npy/.npz/.csv/.parquet/.pt path) and its class
names. Row (b) standardizes each sample's logits, which removes per-sample offsets and
scales (langid's log-probabilities grow with text length); "center" may suit your logits too.
"""

import sys
from pathlib import Path

import numpy as np
from scipy.stats import rankdata

import blocks_rx
from blocks_rx import plot
from blocks_rx.demo import load_langid_demo
from blocks_rx.scores import softmax, standardize_rows
from blocks_rx.similarity import describe

def main(out_dir="example-output"):
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)

    demo = load_langid_demo()                                          # YOUR DATA
    scores = blocks_rx.load_scores(demo["scores"], classes=demo["classes"])  # YOUR DATA

    # 1. The three similarity matrices of the figure's rows.
    by_logits = blocks_rx.compute_similarity(scores, transform="standardize")
    by_probabilities = blocks_rx.compute_similarity(scores, transform="softmax")
    by_sample_ranks = blocks_rx.compute_similarity(scores, method="sample-rank",
                                                   transform="softmax")

    # 2. A typical class: the median one by its mean similarity to all others.
    mean_r = (by_logits.matrix.sum(axis=1) - 1) / (by_logits.n_classes - 1)
    column = int(np.argsort(mean_r, kind="stable")[len(mean_r) // 2])

    # 3. That class's input values, as each variant sees them.
    logits = np.asarray(scores.values, dtype=np.float64)
    probabilities = softmax(logits)
    inputs = {
        "probabilities": probabilities[:, column],
        "logits": standardize_rows(logits)[:, column],
        "ranks": rankdata(probabilities, axis=1)[:, column],   # 1..m within each sample
    }

    # 4. One panel per row: the values, the off-diagonal similarities, and their statistics.
    rows = [("(a) pearson on probabilities", inputs["probabilities"], by_probabilities),
            ("(b) pearson on logits (standardized)", inputs["logits"], by_logits),
            ("(c) pearson on within-sample ranks", inputs["ranks"], by_sample_ranks)]
    panels = []
    for label, values, sim in rows:
        off = sim.off_diagonal()
        panels.append({"label": label, "class_name": scores.classes[column],
                       "values": values, "values_stats": describe(values),
                       "similarities": off, "similarity_stats": describe(off)})
        print(f"{label}: similarity skewness {describe(off)['skewness']:.2f}")

    fig = plot.distributions(panels)
    fig.suptitle("Fig. 1: distributions of inputs and similarities (langid, real)", fontsize=11)
    path = out / "fig1_distributions.png"
    fig.savefig(path, dpi=120)
    print(f"wrote {path}")


if __name__ == "__main__":
    main(*sys.argv[1:])
