"""How the digits classifier's class structure forms during training: two checkpoints compared.

A small neural network (scikit-learn's MLPClassifier, one hidden layer of 32 units) is trained
on half of scikit-learn's bundled digits, one epoch at a time. Its log-probabilities on the
other half are kept after epoch 2 and after epoch 30 (the "checkpoints"), each analysed like
any score matrix (per-sample centred: log-probabilities carry a per-sample offset), then
compared with :func:`blocks_rx.compare`. Nothing is downloaded.

    python examples/compare_checkpoints.py [OUT_DIR]

writes OUT_DIR/comparison/ (comparison.png, moved.csv, comparison.json, explorer.html) and
prints the comparison's numbers and the classes that moved most.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np

import blocks_rx
from blocks_rx.scores import Scores

EPOCHS = (2, 30)


def checkpoints(seed: int = 0) -> dict:
    """Held-out log-probabilities after each epoch of EPOCHS, with labels and class names."""
    from sklearn.datasets import load_digits
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    digits = load_digits()
    index = np.random.default_rng(seed).permutation(len(digits.target))
    train, test = index[: len(index) // 2], index[len(index) // 2:]
    model = MLPClassifier(hidden_layer_sizes=(32,), learning_rate_init=1e-2, random_state=seed)
    kept = {}
    for epoch in range(1, max(EPOCHS) + 1):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.partial_fit(digits.data[train] / 16, digits.target[train], classes=np.arange(10))
        if epoch in EPOCHS:
            kept[epoch] = np.log(np.clip(model.predict_proba(digits.data[test] / 16), 1e-12, None))
    return {"scores": kept, "labels": digits.target[test],
            "classes": [f"digit {d}" for d in range(10)]}


def main(out: Path) -> None:
    data = checkpoints()
    results = {}
    for epoch, scores in data["scores"].items():
        results[epoch] = blocks_rx.analyze(
            Scores(scores.astype(np.float32), classes=data["classes"], labels=data["labels"]),
            transform="center", hclust_backend="python")
        print(f"epoch {epoch}: top-1 accuracy {results[epoch].accuracy:.3f}")
    early, late = (results[e] for e in EPOCHS)
    found = blocks_rx.compare(early, late)
    print(found.summary(top=5))
    written = blocks_rx.comparison.write_comparison(found, out / "comparison")
    print(f"wrote {', '.join(written)} to {out / 'comparison'}/")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("."))
