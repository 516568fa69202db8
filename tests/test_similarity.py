"""Similarity against independent oracles: numpy, scipy, and a direct sample-rank."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy import stats

from blocks_rx import compute_similarity, load_scores
from blocks_rx.similarity import (
    CoMoments, ConstantClassWarning, OffsetDominatedWarning, confusion_matrix,
    cooccurrence_matrix, describe,
)

from conftest import planted_scores


def f64(S, **kw):
    return compute_similarity(S, out_dtype=np.float64, warn=False, **kw).matrix


def test_pearson_equals_numpy_corrcoef():
    S, _ = planted_scores(dtype=np.float64)
    np.testing.assert_allclose(f64(S), np.corrcoef(S, rowvar=False), rtol=0, atol=1e-12)


def test_spearman_equals_scipy_spearmanr_with_ties():
    rng = np.random.default_rng(1)
    S = np.round(rng.normal(size=(300, 12)), 1)  # many ties within columns
    expected = stats.spearmanr(S).statistic
    np.testing.assert_allclose(f64(S, measure="spearman"), expected, rtol=0, atol=1e-12)


def test_sample_rank_equals_direct_definition():
    rng = np.random.default_rng(2)
    S = np.round(rng.normal(size=(250, 9)), 1)
    # Direct: rank the classes within each sample (average ranks for ties, values 1..m),
    # then Pearson between the class columns of those ranks.
    ranks = np.empty_like(S)
    for i, row in enumerate(S):
        order = np.argsort(row, kind="stable")
        r = np.empty(len(row))
        r[order] = np.arange(1, len(row) + 1)
        for value in np.unique(row):  # average the ranks of tied values
            tied = row == value
            r[tied] = r[tied].mean()
        ranks[i] = r
    assert ranks.min() >= 1 and ranks.max() <= S.shape[1]
    expected = np.corrcoef(ranks, rowvar=False)
    np.testing.assert_allclose(f64(S, measure="sample-rank"), expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("measure", ["pearson", "spearman", "sample-rank"])
def test_streaming_gives_the_same_matrix_for_any_block_size(measure):
    S, _ = planted_scores(n_samples=1001, dtype=np.float64)
    whole = f64(S, measure=measure, block_size=len(S))
    for block in (1, 2, 7, 100, 333):
        np.testing.assert_allclose(f64(S, measure=measure, block_size=block), whole,
                                   rtol=0, atol=1e-12)


def test_memory_mapped_npy_is_streamed_not_loaded(tmp_path):
    S, _ = planted_scores(n_samples=2000)
    path = tmp_path / "scores.npy"
    np.save(path, S)
    scores = load_scores(path)
    assert isinstance(scores.values, np.memmap)
    sim = compute_similarity(scores, block_size=128, warn=False)
    np.testing.assert_allclose(sim.matrix, np.corrcoef(S.astype(np.float64), rowvar=False),
                               atol=1e-5)


def test_float32_with_large_common_offset_is_within_1e5_of_float64_corrcoef():
    # All logits around +50 with a small spread: naive float32 sums of squares would lose
    # most digits; block centring keeps them.
    S, _ = planted_scores(n_samples=20000, groups=(10, 20, 30, 40), seed=4, offset=50.0)
    assert S.dtype == np.float32 and abs(S.mean() - 50) < 1
    sim = compute_similarity(S, warn=False)
    assert sim.dtype == "float32"
    expected = np.corrcoef(S.astype(np.float64), rowvar=False)
    assert np.abs(sim.matrix.astype(np.float64) - expected).max() <= 1e-5
    # Also when the offset drifts between blocks (rows sorted by offset).
    drifting = S + np.linspace(0, 30, len(S), dtype=np.float32)[:, None]
    expected = np.corrcoef(drifting.astype(np.float64), rowvar=False)
    got = compute_similarity(drifting, block_size=1000, warn=False).matrix
    assert np.abs(got.astype(np.float64) - expected).max() <= 1e-5


def test_result_is_exactly_symmetric_with_unit_diagonal_and_bounded():
    S, _ = planted_scores(n_samples=500)
    M = compute_similarity(S, warn=False).matrix
    assert M.dtype == np.float32
    assert np.array_equal(M, M.T)
    assert np.all(np.diag(M) == 1) and M.min() >= -1 and M.max() <= 1


def test_transforms_match_their_definitions():
    rng = np.random.default_rng(3)
    S = rng.normal(size=(400, 6)) * 3
    p = np.exp(S) / np.exp(S).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(f64(S, transform="softmax"), np.corrcoef(p, rowvar=False), atol=1e-12)
    sig = 1 / (1 + np.exp(-S))
    np.testing.assert_allclose(f64(S, transform="sigmoid"), np.corrcoef(sig, rowvar=False), atol=1e-12)
    centred = S - S.mean(axis=1, keepdims=True)
    np.testing.assert_allclose(f64(S, transform="center"), np.corrcoef(centred, rowvar=False), atol=1e-12)
    np.testing.assert_allclose(f64(p, transform="log"), np.corrcoef(np.log(p), rowvar=False), atol=1e-9)


def test_per_sample_offset_warning_and_centring_removes_it():
    S, groups = planted_scores(n_samples=3000, seed=5)
    offsets = np.random.default_rng(5).normal(scale=20, size=(len(S), 1)).astype(np.float32)
    raw = S + offsets
    with pytest.warns(OffsetDominatedWarning, match="transform='center'"):
        sim = compute_similarity(raw)
    assert np.mean(sim.off_diagonal()) > 0.9
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        centred = compute_similarity(raw, transform="center")
    same = groups[:, None] == groups[None, :]
    off = ~np.eye(len(groups), dtype=bool)
    assert centred.matrix[same & off].mean() > centred.matrix[~same].mean() + 0.3


def test_clip_negative_sets_negatives_to_zero_only():
    rng = np.random.default_rng(6)
    S = rng.normal(size=(300, 8))
    S[:, 1] = -S[:, 0] + 0.1 * rng.normal(size=300)
    plain = f64(S)
    clipped = f64(S, clip_negative=True)
    assert plain.min() < -0.9
    np.testing.assert_array_equal(clipped, np.maximum(plain, 0))


def test_constant_classes_are_named_and_never_nan():
    rng = np.random.default_rng(7)
    S = rng.normal(size=(200, 5))
    S[:, 2] = 3.25
    scores = load_scores(S, classes=["a", "b", "flat", "d", "e"])
    with pytest.warns(ConstantClassWarning, match="'flat'"):
        sim = compute_similarity(scores)
    assert sim.constant_classes == ("flat",)
    assert np.isfinite(sim.matrix).all()
    assert np.all(sim.matrix[2, [0, 1, 3, 4]] == 0) and sim.matrix[2, 2] == 1


def test_comoments_merge_matches_numpy_cov():
    rng = np.random.default_rng(8)
    x = rng.normal(size=(97, 4)) + 1000
    acc = CoMoments(4)
    for part in np.array_split(x, [1, 10, 50]):
        acc.add(part)
    mean, comoment = acc.result()
    np.testing.assert_allclose(mean, x.mean(axis=0), rtol=1e-14)
    np.testing.assert_allclose(comoment / 96, np.cov(x, rowvar=False), rtol=1e-10)


def test_describe_matches_scipy_stats():
    x = np.random.default_rng(9).gamma(2.0, size=5000)
    d = describe(x)
    assert d["skewness"] == pytest.approx(stats.skew(x))
    assert d["kurtosis"] == pytest.approx(stats.kurtosis(x))
    assert d["median"] == pytest.approx(np.median(x))


def test_confusion_and_cooccurrence_against_loops():
    rng = np.random.default_rng(10)
    true, pred = rng.integers(0, 4, 100), rng.integers(0, 4, 100)
    expected = np.zeros((4, 4), dtype=int)
    for t, p in zip(true, pred):
        expected[t, p] += 1
    np.testing.assert_array_equal(confusion_matrix(true, pred, 4), expected)
    y = rng.integers(0, 2, size=(50, 5))
    expected = np.array([[np.sum(y[:, a] & y[:, b]) for b in range(5)] for a in range(5)])
    np.testing.assert_array_equal(cooccurrence_matrix(y), expected)


def test_unknown_method_and_transform_are_named():
    with pytest.raises(ValueError, match="unknown similarity measure 'kendall'"):
        compute_similarity(np.eye(3) + 1, measure="kendall")
    with pytest.warns(DeprecationWarning, match="measure"):
        assert compute_similarity(np.eye(3) + 1, method="spearman").measure == "spearman"
    with pytest.raises(ValueError, match="unknown transform 'exp'"):
        compute_similarity(np.eye(3) + 1, transform="exp")


@pytest.fixture
def small_column_blocks(monkeypatch):
    """The blocked Gram product (10,000 classes and more) on test-sized matrices: column
    blocks of 400 columns."""
    import blocks_rx.similarity as similarity

    monkeypatch.setattr(similarity, "_MIN_BLOCK_COLUMNS", 400)


def test_blocked_upper_triangle_gram_matches_numpy_and_is_exactly_symmetric(
        small_column_blocks):
    """From 10,000 classes the Gram product is formed by square tiles, upper block
    triangle only (similarity.gram_column_edges); the result must not show it."""
    from blocks_rx.similarity import compute, gram_column_edges

    rng = np.random.default_rng(7)
    m = 1300
    assert len(gram_column_edges(m)) > 2
    scores = (rng.normal(size=(900, 40)) @ rng.normal(size=(40, m))
              + rng.normal(size=(900, m)) + 50.0).astype(np.float32)
    with pytest.warns(UserWarning, match="Is the matrix transposed"):  # 900 rows, 1,300 columns
        sim = compute(scores, block_size=256, out_dtype=np.float64)
    expected = np.corrcoef(scores.astype(np.float64), rowvar=False)
    assert np.abs(sim.matrix - expected).max() < 1e-5
    assert np.array_equal(sim.matrix, sim.matrix.T)


def test_blocked_co_moments_give_numpy_covariance_and_any_output_precision(
        small_column_blocks):
    """The blocked float64 sums (upper block triangle) give the full co-moment matrix through
    result(), and correlation(dtype) writes float32 or float64 straight from them."""
    from blocks_rx.similarity import CoMoments

    rng = np.random.default_rng(3)
    x = (rng.normal(size=(700, 1100)) * rng.uniform(0.5, 3, size=1100) + 7).astype(np.float32)
    moments = [CoMoments(1100) for _ in range(3)]
    for acc in moments:
        for start in range(0, 700, 300):
            acc.add(x[start:start + 300])
    mean, comoment = moments[0].result()
    reference = x.astype(np.float64)
    # float32 products (the compute precision), float64 sums
    assert np.allclose(mean, reference.mean(axis=0), rtol=0, atol=1e-5)
    assert np.allclose(comoment / 699, np.cov(reference, rowvar=False), rtol=1e-5, atol=1e-5)
    corr64, _ = moments[1].correlation(np.float64)
    corr32, _ = moments[2].correlation(np.float32)
    expected = np.corrcoef(reference, rowvar=False)
    assert corr64.dtype == np.float64 and np.abs(corr64 - expected).max() < 1e-5
    assert corr32.dtype == np.float32 and np.array_equal(corr32, corr64.astype(np.float32))


def test_mirroring_the_upper_triangle_by_tiles_on_any_size():
    """_mirror_upper copies the upper triangle onto the lower one exactly, whatever the
    size against its 256-row tiles."""
    from blocks_rx.similarity import _mirror_upper

    rng = np.random.default_rng(11)
    for m in (1, 255, 257, 600):
        matrix = rng.normal(size=(m, m)).astype(np.float32)
        expected = np.triu(matrix) + np.triu(matrix, 1).T
        _mirror_upper(matrix)
        np.testing.assert_array_equal(matrix, expected)


@pytest.mark.parametrize("rows", [1, 255, 256, 257, 1000])
def test_row_argmax_of_a_read_only_block_is_numpys_ties_included(rows, tmp_path):
    from blocks_rx.engines.observers import row_argmax

    rng = np.random.default_rng(rows)
    x = rng.integers(0, 4, size=(rows, 37)).astype(np.float32)  # many ties in each row
    np.save(tmp_path / "x.npy", x)
    mapped = np.load(tmp_path / "x.npy", mmap_mode="r")  # read-only, as inputs are mapped
    assert not mapped.flags.writeable
    np.testing.assert_array_equal(row_argmax(mapped), x.argmax(axis=1))
    np.testing.assert_array_equal(row_argmax(x), x.argmax(axis=1))


def test_large_blocks_are_centred_in_halves_to_the_same_sums(monkeypatch):
    from blocks_rx import similarity

    rng = np.random.default_rng(8)
    block = (rng.normal(size=(1001, 7)) + 50).astype(np.float32)
    shift = block[:256].mean(axis=0).astype(np.float32)
    alone, halves = np.empty_like(block), np.empty_like(block)
    whole = similarity._centre(block, shift, alone)
    monkeypatch.setattr(similarity, "CENTRE_IN_HALVES_FROM", 1)
    split = similarity._centre(block, shift, halves)
    np.testing.assert_array_equal(halves, alone)
    np.testing.assert_array_equal(halves, block - shift)
    expected = (halves[:500].astype(np.float64).sum(axis=0)
                + halves[500:].astype(np.float64).sum(axis=0))
    np.testing.assert_allclose(split, expected, rtol=0, atol=1e-9)
    np.testing.assert_allclose(split, whole, rtol=1e-12, atol=1e-9)
    matrix = compute_similarity(block, out_dtype=np.float64).matrix  # halves all through
    np.testing.assert_allclose(matrix, np.corrcoef(block.astype(np.float64), rowvar=False),
                               atol=1e-6)

