"""The Python API's entry points (analyze, compute_similarity, order_classes, hclust) given
bad arguments, and numbers at the edges of floating point that must still give the right
matrix."""

from __future__ import annotations

import numpy as np

from blocks_rx import analyze, compute_similarity, hclust, load_scores, order_classes
from blocks_rx.errors import OptionError, SimilarityError

from bad_inputs.corpus import Case
from bad_inputs.make_corpus import good_scores

SCORES = good_scores()
ASYMMETRIC = np.array([[1.0, 0.5, 0.1], [0.2, 1.0, 0.3], [0.1, 0.3, 1.0]])


def _scaled(factor: float, dtype) -> np.ndarray:
    return (SCORES.astype(np.float64) * factor).astype(dtype)


def _equals_the_unscaled_matrix(similarity) -> None:
    """Pearson does not depend on scale: the matrix is numpy's for the unscaled scores."""
    assert similarity.constant_classes == ()
    expected = np.corrcoef(SCORES.astype(np.float64), rowvar=False)
    np.testing.assert_allclose(similarity.matrix, expected, atol=2e-6)


def _with_a_constant_labelled_class():
    scores = SCORES.copy()
    scores[:, 5] = 1.0
    labels = np.arange(len(scores)) % 6  # 10 of the 60 samples are labelled class_5
    return analyze(load_scores(scores, labels=labels), drop_constant=True, groups=None)


def _dropped_class_and_no_confusion(result) -> None:
    assert "class_5" not in result.similarity.classes
    assert result.similarity.n_classes == 5 and result.confusion is None


CASES = [
    Case("api/cuts-as-a-string", call=lambda f, m: analyze(SCORES, cuts="2,4"),
         error=OptionError, mentions=("cuts", "'2,4'", "[2, 4]")),
    Case("api/cuts-beyond-the-classes", call=lambda f, m: analyze(SCORES, cuts=[2, 99]),
         error=OptionError, mentions=("cuts", "99", "6 classes")),
    Case("api/n-groups-fraction", call=lambda f, m: analyze(SCORES, n_groups=2.5),
         error=OptionError, mentions=("n_groups", "whole number", "2.5")),
    Case("api/fuzzifier-text", call=lambda f, m: analyze(SCORES, fuzzifier="two"),
         error=OptionError, mentions=("fuzzifier", "'two'")),
    Case("api/seed-boolean", call=lambda f, m: analyze(SCORES, seed=True),
         error=OptionError, mentions=("seed", "True")),
    Case("api/seed-beyond-32-bits", call=lambda f, m: analyze(SCORES, seed=2**32),
         error=OptionError, mentions=("seed", "4294967296")),
    Case("api/misspelt-option", call=lambda f, m: analyze(SCORES, linkgae="single"),
         error=OptionError, mentions=("linkgae", "does not apply", "linkage")),
    Case("api/block-size-fraction",
         call=lambda f, m: compute_similarity(SCORES, block_size=2.5),
         error=OptionError, mentions=("block_size", "2.5")),
    Case("api/block-size-zero", call=lambda f, m: analyze(SCORES, block_size=0),
         error=OptionError, mentions=("block_size", "0")),
    Case("api/order-an-asymmetric-matrix", call=lambda f, m: order_classes(ASYMMETRIC),
         error=SimilarityError, mentions=("not symmetric", "[0, 1] is 0.5", "[1, 0] is 0.2")),
    Case("api/order-values-beyond-one", call=lambda f, m: order_classes(np.eye(3) * 3),
         error=SimilarityError, mentions=("outside [-1, 1]", "[0, 0] is 3.0")),
    Case("api/order-a-nan", call=lambda f, m: hclust(np.where(np.eye(3) > 0, np.nan, 0.1)),
         error=SimilarityError, mentions=("non-finite", "[0, 0] is nan")),
    Case("api/order-a-rectangle", call=lambda f, m: order_classes(np.ones((3, 4)) * 0.5),
         error=SimilarityError, mentions=("square", "(3, 4)")),
    Case("api/order-text", call=lambda f, m: order_classes(np.array([["1", "0"], ["0", "1"]])),
         error=SimilarityError, mentions=("real numbers", "<U1")),
    Case("api/order-with-too-few-names",
         call=lambda f, m: hclust(np.eye(3), classes=["a", "b"]),
         error=SimilarityError, mentions=("2 class names", "3-class")),
    Case("api/order-with-duplicate-names",
         call=lambda f, m: hclust(np.eye(3), classes=["a", "b", "a"]),
         error=SimilarityError, mentions=("duplicate", "'a'")),
    Case("api/subnormal-float32-scores",
         call=lambda f, m: compute_similarity(_scaled(1e-40, np.float32), out_dtype=np.float64),
         check=_equals_the_unscaled_matrix),
    Case("api/huge-finite-float32-scores",
         call=lambda f, m: compute_similarity(_scaled(4.5e30, np.float32), out_dtype=np.float64),
         check=_equals_the_unscaled_matrix),
    Case("api/tiny-float64-scores-streamed",
         call=lambda f, m: compute_similarity(_scaled(1e-200, np.float64), block_size=7,
                                              out_dtype=np.float64),
         check=_equals_the_unscaled_matrix),
    Case("api/drop-a-constant-labelled-class", call=lambda f, m: _with_a_constant_labelled_class(),
         check=_dropped_class_and_no_confusion,
         warns="drop_constant removed 1 class(es) that 10 sample(s) are labelled with "
               "('class_5')"),
]
