"""Every registry entry, looped over: each measure, transform, distance, linkage, ordering and
hclust backend runs on 0, 1, 2 and 3 classes and agrees with an independent oracle."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy.spatial.distance import pdist, squareform
from scipy.stats import rankdata, spearmanr

from blocks_rx import r
from blocks_rx.ordering import (DISTANCES, HCLUST_BACKENDS, LINKAGES, ORDERINGS, condensed_distance,
                                hclust, order_classes)
from blocks_rx.registry import OptionError, UnknownChoice
from blocks_rx.scores import TRANSFORMS, ScoresError
from blocks_rx.similarity import MEASURES, compute

R_AVAILABLE = r.available()

#: An independent formula for each measure (numpy/scipy), on n x m scores.
MEASURE_ORACLES = {
    "pearson": lambda S: np.corrcoef(S, rowvar=False),
    "spearman": lambda S: np.atleast_2d(spearmanr(S).statistic)
    if S.shape[1] > 2 else np.corrcoef(rankdata(S, axis=0), rowvar=False),
    "sample-rank": lambda S: np.corrcoef(rankdata(S, axis=1), rowvar=False),
}

#: The R expression of each distance, written again with numpy on the full matrix.
DISTANCE_ORACLES = {
    "1-r": lambda M: squareform(1 - M, checks=False),
    "1-|r|": lambda M: squareform(1 - np.abs(M), checks=False),
    "sqrt(2(1-r))": lambda M: squareform(np.sqrt(2 * (1 - M)), checks=False),
    "euclidean": lambda M: pdist(M),
}

TRANSFORM_ORACLES = {
    "none": lambda x: x,
    "center": lambda x: x - x.mean(axis=1, keepdims=True),
    "standardize": lambda x: (x - x.mean(axis=1, keepdims=True)) / x.std(axis=1, keepdims=True),
    "softmax": lambda x: np.exp(x) / np.exp(x).sum(axis=1, keepdims=True),
    "sigmoid": lambda x: 1 / (1 + np.exp(-x)),
    "log": np.log,
}


def similarity_of(m: int, seed: int = 0) -> np.ndarray:
    if m < 2:
        return np.eye(m)
    return np.corrcoef(np.random.default_rng(seed).normal(size=(30, m)), rowvar=False)


def test_every_registry_has_an_oracle_here():
    assert set(MEASURES) == set(MEASURE_ORACLES)
    assert set(DISTANCES) == set(DISTANCE_ORACLES)
    assert set(TRANSFORMS) == set(TRANSFORM_ORACLES)


@pytest.mark.parametrize("measure", list(MEASURES))
@pytest.mark.parametrize("m", [0, 1, 2, 3])
def test_measures_on_few_classes(measure, m):
    S = np.random.default_rng(m).normal(size=(9, m))
    if m < 2:
        with pytest.raises(ScoresError, match="need at least 2 classes"):
            compute(S, measure=measure)
        return
    got = compute(S, measure=measure, out_dtype=np.float64, warn=False).matrix
    np.testing.assert_allclose(got, MEASURE_ORACLES[measure](S), atol=1e-12)


@pytest.mark.parametrize("transform", list(TRANSFORMS))
def test_transforms_match_their_formula(transform):
    x = np.random.default_rng(1).uniform(0.1, 2.0, size=(5, 3))
    function = TRANSFORMS[transform].function
    got = x if function is None else function(x.copy())
    np.testing.assert_allclose(got, TRANSFORM_ORACLES[transform](x), rtol=1e-12)


@pytest.mark.parametrize("distance", list(DISTANCES))
@pytest.mark.parametrize("m", [0, 1, 2, 3, 5])
def test_distances_match_their_r_expression(distance, m):
    M = similarity_of(m)
    expected = DISTANCE_ORACLES[distance](M) if m > 1 else np.empty(0)
    np.testing.assert_allclose(condensed_distance(M, distance), expected, atol=1e-12)
    assert DISTANCES[distance].r_expression


@pytest.mark.parametrize("linkage", list(LINKAGES))
@pytest.mark.parametrize("m", [2, 3])
def test_every_linkage_gives_a_tree_on_few_classes(linkage, m):
    ordering = hclust(similarity_of(m), linkage=linkage, hclust_backend="python")
    assert sorted(ordering.order.tolist()) == list(range(m))
    assert ordering.merge.shape == (m - 1, 2) and ordering.cut_labels(m).tolist() == list(range(1, m + 1))


@pytest.mark.parametrize("backend", list(HCLUST_BACKENDS))
def test_every_hclust_backend_gives_the_same_tree(backend):
    if backend == "r" and not R_AVAILABLE:
        pytest.skip("R with rpy2 is not available")
    M = similarity_of(7, seed=3)
    ours = hclust(M, hclust_backend=backend)
    twin = hclust(M, hclust_backend="python")
    assert np.array_equal(ours.merge, twin.merge) and np.array_equal(ours.order, twin.order)
    assert ours.hclust_backend == ("r" if backend == "r" or (backend == "auto" and R_AVAILABLE)
                                   else "python")


def _options(name: str, m: int) -> dict:
    if name == "taxonomy":
        return {"taxonomy": {f"class_{j}": f"top{j % 2}/leaf{j}" for j in range(m)}}
    return {}


@pytest.mark.parametrize("method", list(ORDERINGS))
@pytest.mark.parametrize("m", [0, 1, 2, 3])
def test_every_ordering_on_zero_to_three_classes(method, m):
    entry = ORDERINGS[method]
    if entry.needs_r and not R_AVAILABLE:
        pytest.skip("R with rpy2 is not available")
    M = similarity_of(m, seed=m)
    if m < entry.min_classes:
        with pytest.raises(ValueError, match=f"needs at least {entry.min_classes} classes, "
                                             f"got {m}"):
            order_classes(M, method, **_options(method, m))
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # some seriation methods warn about tiny inputs
        ordering = order_classes(M, method, **_options(method, m))
    assert sorted(ordering.order.tolist()) == list(range(m))
    assert (ordering.merge is not None) == entry.gives_tree
    if entry.gives_tree:
        assert ordering.merge.shape == (m - 1, 2) and ordering.height.shape == (m - 1,)
    assert ordering.classes == tuple(f"class_{j}" for j in range(m))


def test_stochastic_orderings_are_reproducible_per_seed():
    if not R_AVAILABLE:
        pytest.skip("R with rpy2 is not available")
    M = similarity_of(12, seed=4)
    for method, entry in ORDERINGS.items():
        if entry.stochastic and entry.family == "seriation" and entry.cost.seconds(12) is not None \
                and entry.cost.seconds(12) < 5:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                first = order_classes(M, method, seed=5).order
                again = order_classes(M, method, seed=5).order
            assert np.array_equal(first, again), method


def test_unknown_names_and_foreign_options_are_named():
    with pytest.raises(UnknownChoice, match="unknown similarity measure 'kendall'; choose one "
                                           "of pearson, spearman, sample-rank"):
        MEASURES["kendall"]
    with pytest.raises(OptionError, match="ordering method 'hclust' does not take seed"):
        order_classes(np.eye(3), "hclust", seed=1)
    with pytest.raises(OptionError, match="linkage='complet' is not one of ward.D, single"):
        order_classes(np.eye(3), "hclust", linkage="complet")
