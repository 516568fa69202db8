"""Real data with no download: a classifier on scikit-learn's bundled 8x8 handwritten digits.

:func:`digits_classifier` fits a logistic regression on half of the 1,797 images and scores
the other half, so the scores, true labels and predictions are those of a real (small)
classifier, with one thumbnail per class for figures that show what classes look like.
Needs scikit-learn (``pip install 'blocks-rx[figures]'``).
"""

from __future__ import annotations

import numpy as np


def digits_classifier(seed: int = 0) -> dict:
    """Logistic regression on half of scikit-learn's digits, scored on the other half.

    Returns
    -------
    dict
        The held-out ``scores`` (float32 decision-function logits, n x 10), ``labels`` (true
        digit per sample), ``predictions`` (``scores.argmax(axis=1)``), ``classes``
        (``"digit 0"`` ... ``"digit 9"``) and ``images`` ({class name: one 8x8 array}).

    Raises
    ------
    ImportError
        If scikit-learn is not installed.

    Examples
    --------
    >>> digits = digits_classifier()
    >>> digits["scores"].shape, digits["classes"][3], digits["images"]["digit 3"].shape
    ((899, 10), 'digit 3', (8, 8))
    >>> bool((digits["predictions"] == digits["labels"]).mean() > 0.9)
    True
    """
    try:
        from sklearn.datasets import load_digits
        from sklearn.linear_model import LogisticRegression
    except ImportError as exc:
        raise ImportError("the digits figures need scikit-learn: pip install scikit-learn") from exc
    digits = load_digits()
    rng = np.random.default_rng(seed)
    index = rng.permutation(len(digits.target))
    train, test = index[: len(index) // 2], index[len(index) // 2:]
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):  # a tiny fit: BLAS threads only contend (seconds on a busy machine)
        model = LogisticRegression(max_iter=2000, C=0.05).fit(digits.data[train] / 16,
                                                              digits.target[train])
    scores = model.decision_function(digits.data[test] / 16).astype(np.float32)
    labels = digits.target[test]
    classes = [f"digit {d}" for d in range(10)]
    images = {classes[d]: digits.images[test][labels == d][0] for d in range(10)}
    return {"scores": scores, "labels": labels, "predictions": scores.argmax(axis=1),
            "classes": classes, "images": images}
