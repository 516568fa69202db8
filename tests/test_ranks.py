"""Exact column ranks (blocks_rx.ranks) and the spearman measure built on them, against
scipy.stats.rankdata and scipy.stats.spearmanr."""

from __future__ import annotations

import tempfile

import numpy as np
import pytest
from scipy import stats

import blocks_rx.ranks as ranks_module
from blocks_rx import compute_similarity, load_scores
from blocks_rx.errors import ScoresError
from blocks_rx.ranks import column_ranks, rank_dtype, scratch_array
from blocks_rx.scores import center_rows


def tied(shape, dtype=np.float64, seed=0, low=-4, high=5):
    """Integers in a small range: every column is full of ties (and of -0.0 and +0.0)."""
    rng = np.random.default_rng(seed)
    values = rng.integers(low, high, size=shape).astype(dtype)
    if values.dtype.kind == "f":
        zeros = values == 0
        values[zeros] = np.where(rng.random(zeros.sum()) < 0.5, -0.0, 0.0)
    return values


@pytest.fixture
def temp_folder(tmp_path, monkeypatch):
    """tempfile.gettempdir() is an empty folder of this test's own."""
    folder = tmp_path / "temp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


# --------------------------------------------------------------------------- column_ranks


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16, np.int64, np.int8])
@pytest.mark.parametrize("block_classes", [None, 1, 7])
@pytest.mark.parametrize("workers", [1, 2])
def test_column_ranks_equal_rankdata_exactly_with_many_ties(dtype, block_classes, workers):
    values = tied((1500, 23), dtype)
    expected = stats.rankdata(values, axis=0)
    got = column_ranks(values, block_classes=block_classes, workers=workers)
    assert got.dtype == np.float32 and got.shape == values.shape
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_column_ranks_of_continuous_values_with_extremes(dtype):
    rng = np.random.default_rng(3)
    values = (rng.standard_normal((4000, 9)) * 10.0 ** rng.integers(-30, 30, size=9)).astype(dtype)
    values[:5, 0] = [np.inf, -np.inf, np.finfo(dtype).tiny / 4, -np.finfo(dtype).max, 0.0]
    values[5:9, 1] = values[9:13, 1]  # a few ties among continuous values
    np.testing.assert_array_equal(column_ranks(values, block_classes=4),
                                  stats.rankdata(values, axis=0))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_column_holding_nan_is_all_nan_like_rankdata(dtype):
    values = tied((300, 6), dtype)
    values[17, 2] = np.nan
    values[0, 5] = np.nan
    got = column_ranks(values, block_classes=2)
    np.testing.assert_array_equal(got, stats.rankdata(values, axis=0))  # NaN == NaN here
    assert np.isnan(got[:, [2, 5]]).all() and not np.isnan(got[:, [0, 1, 3, 4]]).any()


def test_column_ranks_of_a_memory_mapped_npy_into_a_memory_mapped_out(tmp_path):
    values = tied((2000, 31), np.float32, seed=5)
    np.save(tmp_path / "scores.npy", values)
    mapped = np.load(tmp_path / "scores.npy", mmap_mode="r")
    out = np.lib.format.open_memmap(tmp_path / "ranks.npy", mode="w+", dtype=np.float32,
                                    shape=values.shape)
    assert column_ranks(mapped, out=out, block_classes=8) is out
    out.flush()
    np.testing.assert_array_equal(np.load(tmp_path / "ranks.npy"), stats.rankdata(values, axis=0))


def test_column_ranks_in_place():
    values = tied((700, 12), np.float32, seed=6)
    expected = stats.rankdata(values, axis=0)
    assert column_ranks(values, out=values, block_classes=5) is values
    np.testing.assert_array_equal(values, expected)


def test_column_ranks_calls_check_on_every_piece_and_stops_on_its_error():
    values = tied((1200, 10), np.float32)
    seen = []
    column_ranks(values, block_classes=5, check=lambda piece, row, col: seen.append((row, col)))
    assert sorted(seen) == [(r, c) for r in (0, 512, 1024) for c in (0, 5)]

    def check(piece, first_row, first_column):
        if first_row > 0 and first_column == 5:
            raise ValueError("bad piece")

    for workers in (1, 2):
        with pytest.raises(ValueError, match="bad piece"):
            column_ranks(values, block_classes=5, check=check, workers=workers)


def test_float32_ranks_are_exact_only_up_to_2_to_the_23_samples():
    assert rank_dtype(2**23) == np.float32 and rank_dtype(2**23 + 1) == np.float64
    with pytest.raises(ValueError, match="float64"):
        rank_dtype(2**23 + 1, np.float32)
    # The largest average rank float32 must hold, n - 0.5, is exact at 2**23 and not above.
    assert float(np.float32(2**23 - 0.5)) == 2**23 - 0.5
    assert float(np.float32(2**23 + 0.5)) != 2**23 + 0.5


def test_column_ranks_rejects_an_out_of_the_wrong_shape():
    with pytest.raises(ValueError, match="shape"):
        column_ranks(np.ones((3, 2)), out=np.empty((2, 3), np.float32))


# --------------------------------------------------------------------------- scratch_array


def test_scratch_array_in_memory_within_the_budget(temp_folder):
    with scratch_array((10, 10), np.float32, budget=400) as array:
        assert type(array) is np.ndarray
    assert not list(temp_folder.iterdir())


def test_scratch_array_beyond_the_budget_is_a_temporary_memmap_that_is_removed(temp_folder):
    with scratch_array((10, 10), np.float32, budget=399) as array:
        assert isinstance(array, np.memmap)
        assert str(array.filename).startswith(str(temp_folder))
        array[:] = 7.0
        assert float(array.sum()) == 700.0
    assert not list(temp_folder.iterdir())


def test_scratch_array_file_is_removed_on_error(temp_folder):
    with pytest.raises(RuntimeError, match="midway"):
        with scratch_array((100, 10), np.float64, budget=0) as array:
            array[:50] = 1.0
            raise RuntimeError("midway")
    assert not list(temp_folder.iterdir())


def test_the_default_budget_is_a_quarter_of_the_available_memory(monkeypatch):
    monkeypatch.setattr(ranks_module, "MEMORY_BUDGET", None)
    monkeypatch.setattr(ranks_module, "_available_memory", lambda: 8 * 2**30)
    assert ranks_module.memory_budget() == 2 * 2**30
    monkeypatch.setattr(ranks_module, "MEMORY_BUDGET", 123)
    assert ranks_module.memory_budget() == 123


# --------------------------------------------------------------------------- spearman


def spearman(S, **kw):
    return compute_similarity(S, measure="spearman", out_dtype=np.float64, warn=False, **kw).matrix


@pytest.mark.parametrize("dtype, atol", [(np.float64, 1e-6), (np.float32, 1e-5)])
@pytest.mark.parametrize("offset", [0.0, 50.0])
def test_spearman_equals_scipy_spearmanr(dtype, atol, offset):
    rng = np.random.default_rng(7)
    latent = rng.normal(size=(3000, 4))
    S = (np.round(latent[:, rng.integers(0, 4, size=40)] + rng.normal(size=(3000, 40)), 1)
         + offset).astype(dtype)  # ties in every column
    expected = stats.spearmanr(S).statistic
    np.testing.assert_allclose(spearman(S), expected, rtol=0, atol=atol)


def test_spearman_of_a_memory_mapped_npy(tmp_path):
    S = tied((5000, 30), np.float32, seed=8, low=0, high=40)
    np.save(tmp_path / "scores.npy", S)
    scores = load_scores(tmp_path / "scores.npy")
    assert isinstance(scores.values, np.memmap)
    np.testing.assert_allclose(spearman(scores, block_size=777), stats.spearmanr(S).statistic,
                               rtol=0, atol=1e-5)


def test_spearman_through_a_temporary_memmap_equals_in_memory(temp_folder, monkeypatch):
    S = tied((3000, 25), np.float32, seed=9, low=0, high=30)
    in_memory = spearman(S)
    made = []
    mkstemp = tempfile.mkstemp

    def recording_mkstemp(*args, **kwargs):
        made.append(mkstemp(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(ranks_module, "MEMORY_BUDGET", 1)
    monkeypatch.setattr(tempfile, "mkstemp", recording_mkstemp)
    np.testing.assert_array_equal(spearman(S), in_memory)
    assert len(made) == 1 and made[0][1].startswith(str(temp_folder))
    assert not list(temp_folder.iterdir())


def test_spearman_removes_its_temporary_file_when_a_bad_value_stops_it(temp_folder, tmp_path,
                                                                        monkeypatch):
    S = tied((4000, 8), np.float32, seed=10)
    S[3500, 3] = np.nan  # read after the rank matrix was made
    np.save(tmp_path / "scores.npy", S)
    monkeypatch.setattr(ranks_module, "MEMORY_BUDGET", 1)
    with pytest.raises(ScoresError, match="row 3500, column 3"):
        spearman(load_scores(tmp_path / "scores.npy"), block_size=500)
    assert not list(temp_folder.iterdir())


def test_spearman_removes_its_temporary_file_when_stopped_early(temp_folder, monkeypatch):
    from blocks_rx.similarity import MEASURES

    monkeypatch.setattr(ranks_module, "MEMORY_BUDGET", 1)
    blocks = MEASURES["spearman"].function(load_scores(tied((900, 5))), None, 100)
    assert next(blocks).shape == (100, 5)
    blocks.close()
    assert not list(temp_folder.iterdir())


def test_spearman_ranks_the_transformed_scores():
    S = tied((800, 6), np.float32, seed=11, low=0, high=6)
    centred = center_rows(S)  # float32, with ties of its own
    np.testing.assert_allclose(spearman(S, transform="center"),
                               stats.spearmanr(centred).statistic, rtol=0, atol=1e-5)
