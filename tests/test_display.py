"""Display objects of every plot function, their inputs, colour scales and text layout.

Oracles are independent of the plotting code: numpy for the ordered image and the colour
limits, the planted structure of ``blocks_rx.datasets`` for the groups, and the geometry of
the drawn texts (``tests/figure_checks.py``) for the layout.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure, SubFigure

import blocks_rx
from blocks_rx import datasets, figures, plot
from blocks_rx.errors import BlocksInputError, SimilarityError
from blocks_rx.groups import find_groups, fuzzy_groups
from blocks_rx.ordering import hclust, order_classes
from blocks_rx.similarity import describe
from figure_checks import text_problems

PNG = b"\x89PNG\r\n\x1a\n"


def planted(n_samples=500, sizes=(4, 4, 4), seed=0, names=None):
    """Scores whose classes share one latent factor per planted group, and their similarity."""
    rng = np.random.default_rng(seed)
    member = np.repeat(np.arange(len(sizes)), sizes)
    scores = 2.0 * rng.normal(size=(n_samples, len(sizes)))[:, member] \
        + rng.normal(size=(n_samples, member.size))
    names = names or [f"c{j}" for j in range(member.size)]
    return blocks_rx.compute_similarity(blocks_rx.load_scores(scores, classes=names), warn=False)


@pytest.fixture(scope="module")
def small():
    sim = planted()
    ordering = hclust(sim)
    groups = fuzzy_groups(sim)
    return sim, ordering, groups


@pytest.fixture(scope="module")
def overlaps():
    data = datasets.planted_overlaps()
    sim = blocks_rx.compute_similarity(blocks_rx.load_scores(data["scores"], classes=data["classes"]),
                                       warn=False)
    ordering = hclust(sim)
    return data, sim, ordering, find_groups(sim, ordering)


@pytest.fixture(scope="module")
def digits():
    return datasets.digits_classifier()


def _layer_display(fig=None):
    torch = pytest.importorskip("torch")
    from blocks_rx.torch import collect, layer_structure

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    data = [(torch.randn(60, 4), torch.arange(60) % 3)]
    return plot.layer_heatmaps(layer_structure(collect(model, data, layers=["0"])), fig=fig)


def _distribution_panels():
    v, s = np.arange(10.0), np.linspace(-1, 1, 45)
    return [dict(label="pearson on logits", class_name="cat", values=v, values_stats=describe(v),
                 similarities=s, similarity_stats=describe(s))]


def _confusion(m, seed=0):
    rng = np.random.default_rng(seed)
    return np.diag(rng.integers(20, 40, m)) + rng.integers(0, 3, (m, m))


#: Every public plot function, drawn on a new figure.
BUILDERS = {
    "heatmap": lambda s, o, g: plot.heatmap(s, o),
    "ordered_matrix": lambda s, o, g: plot.ordered_matrix(np.asarray(s.matrix), o),
    "groups_heatmap": lambda s, o, g: plot.groups_heatmap(s, o, g),
    "memberships": lambda s, o, g: plot.memberships(g, o),
    "distributions": lambda s, o, g: plot.distributions(_distribution_panels()),
    "frequency": lambda s, o, g: plot.frequency([500, 40, 30, 7, 3, 2], list("abcdef")),
    "confusion_comparison": lambda s, o, g: plot.confusion_comparison(
        _confusion(s.n_classes), order_classes(s, "identity"), o),
    "side_by_side": lambda s, o, g: plot.side_by_side(s, _confusion(s.n_classes), o),
    "class_samples": lambda s, o, g: plot.class_samples(
        o, {name: np.eye(4) for name in s.classes}, count=6, columns=3),
    "layer_heatmaps": lambda s, o, g: _layer_display(),
    "comparison": lambda s, o, g: plot.comparison(blocks_rx.compare(s, s)),
}


def test_every_public_plot_function_is_covered():
    assert set(BUILDERS) == set(plot.__all__) - {"drawable"}


def _in_figure(ax, fig) -> bool:
    """Whether ``ax`` is a panel of ``fig`` (or of one of its subfigures), or an inset of one."""
    return ax.get_figure(root=True) is fig and (
        ax in fig.axes or any(ax in panel.child_axes for panel in fig.axes))


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_display_has_figure_axes_and_pictures(name, small, tmp_path):
    shown = BUILDERS[name](*small)
    assert isinstance(shown.figure_, Figure)
    assert shown.ax_ in shown.figure_.axes
    assert shown.axes_ and shown.axes_[0] is shown.ax_
    assert all(_in_figure(ax, shown.figure_) for ax in shown.axes_)
    png = shown._repr_png_()
    assert isinstance(png, bytes) and png.startswith(PNG)
    # One picture only: a notebook would store an HTML copy of the PNG a second time.
    assert not hasattr(shown, "_repr_html_")
    path = tmp_path / f"{name}.png"
    shown.savefig(path)
    assert path.read_bytes().startswith(PNG)


AXES_FUNCTIONS = {
    "heatmap": lambda s, o, g, ax: plot.heatmap(s, o, ax=ax),
    "ordered_matrix": lambda s, o, g, ax: plot.ordered_matrix(np.asarray(s.matrix), o, ax=ax),
    "groups_heatmap": lambda s, o, g, ax: plot.groups_heatmap(s, o, g, ax=ax),
    "memberships": lambda s, o, g, ax: plot.memberships(g, o, ax=ax),
}


@pytest.mark.parametrize("name", sorted(AXES_FUNCTIONS))
def test_draws_onto_the_users_axes(name, small):
    fig = Figure(figsize=(12, 6))
    left, right = fig.subplots(1, 2)
    shown = AXES_FUNCTIONS[name](*small, right)
    assert shown.ax_ is right
    assert shown.figure_ is fig
    assert fig.axes[:2] == [left, right]
    assert not left.images and right.images  # drawn where asked, nowhere else
    assert shown._repr_png_().startswith(PNG)


FIG_FUNCTIONS = {
    "distributions": lambda s, o, g, fig: plot.distributions(_distribution_panels(), fig=fig),
    "frequency": lambda s, o, g, fig: plot.frequency([500, 40, 30, 7, 3, 2], list("abcdef"),
                                                     fig=fig),
    "confusion_comparison": lambda s, o, g, fig: plot.confusion_comparison(
        _confusion(s.n_classes), order_classes(s, "identity"), o, fig=fig),
    "side_by_side": lambda s, o, g, fig: plot.side_by_side(s, _confusion(s.n_classes), o,
                                                           fig=fig),
    "class_samples": lambda s, o, g, fig: plot.class_samples(
        o, {name: np.eye(4) for name in s.classes}, count=6, columns=3, fig=fig),
    "layer_heatmaps": lambda s, o, g, fig: _layer_display(fig=fig),
}


@pytest.mark.parametrize("target", ["figure", "subfigure"])
@pytest.mark.parametrize("name", sorted(FIG_FUNCTIONS))
def test_multi_panel_functions_take_a_figure_or_subfigure(name, target, small):
    root = Figure(figsize=(20, 10))
    given = root if target == "figure" else root.subfigures(1, 2)[0]
    shown = FIG_FUNCTIONS[name](*small, given)
    assert shown.figure_ is root
    for ax in shown.axes_:
        assert ax.get_figure(root=False) is given
    if target == "subfigure":
        assert isinstance(given, SubFigure)
    assert shown.ax_ in root.axes
    assert shown._repr_png_().startswith(PNG)


# --------------------------------------------------------------------------- inputs


def _labels(ax):
    return [t.get_text() for t in ax.get_yticklabels()], [t.get_text() for t in ax.get_xticklabels()]


def test_heatmap_of_an_array_labels_classes_by_index():
    M = np.corrcoef(np.random.default_rng(0).normal(size=(6, 40)))
    rows, columns = _labels(plot.heatmap(M).ax_)
    assert rows == columns == [str(j) for j in range(6)]


@pytest.mark.parametrize("max_labels, expected", [(0, []), (1, ["0"]), (2, ["0", "3"]),
                                                   (3, ["0", "2", "4"]), (6, list("012345"))])
def test_heatmap_labels_at_most_max_labels_classes_and_says_how_many(max_labels, expected):
    M = np.corrcoef(np.random.default_rng(0).normal(size=(6, 40)))
    shown = plot.heatmap(M, max_labels=max_labels)
    rows, columns = _labels(shown.ax_)
    assert rows == columns == expected
    xlabel = shown.ax_.get_xlabel()
    if max_labels == 0:
        assert "6 classes" in xlabel and "not labelled" in xlabel
    elif len(expected) < 6:
        step = 6 if len(expected) == 1 else int(expected[1]) - int(expected[0])
        assert f"one label per {step} classes" in xlabel
    assert shown._repr_png_().startswith(PNG)


@pytest.mark.parametrize("max_labels", [-1, 2.5, True, "10"])
def test_heatmap_refuses_a_max_labels_that_is_no_count(max_labels):
    with pytest.raises(BlocksInputError, match="max_labels must be a whole number >= 0"):
        plot.heatmap(np.eye(3), max_labels=max_labels)


def test_heatmap_of_a_dataframe_labels_classes_by_its_index():
    names = ["alpha", "beta", "gamma", "delta", "eps"]
    M = np.corrcoef(np.random.default_rng(1).normal(size=(5, 40)))
    shown = plot.heatmap(pd.DataFrame(M, index=names, columns=names))
    rows, columns = _labels(shown.ax_)
    assert rows == columns == names
    np.testing.assert_array_equal(shown.image_.get_array(), M)


@pytest.mark.parametrize("columns", [list("abcdx"), list("bacde")])
def test_heatmap_refuses_a_dataframe_whose_columns_are_not_its_index(columns):
    M = np.eye(5)
    with pytest.raises(BlocksInputError, match="columns"):
        plot.heatmap(pd.DataFrame(M, index=list("abcde"), columns=columns))
    with pytest.raises(SimilarityError, match="columns"):
        plot.ordered_matrix(pd.DataFrame(M, index=list("abcde"), columns=columns))


@pytest.mark.parametrize("as_frame", [False, True])
def test_image_is_the_matrix_in_the_orderings_order(as_frame):
    rng = np.random.default_rng(2)
    m = 9
    names = [f"k{j}" for j in range(m)]
    M = np.corrcoef(rng.normal(size=(m, 30)))
    ordering = hclust(M, classes=names)
    assert not np.array_equal(ordering.order, np.arange(m))  # a real permutation
    given = pd.DataFrame(M, index=names, columns=names) if as_frame else M
    for shown in (plot.heatmap(given, ordering), plot.ordered_matrix(given, ordering)):
        order = np.asarray(ordering.order)
        np.testing.assert_array_equal(shown.image_.get_array(), M[np.ix_(order, order)])
        rows, columns = _labels(shown.ax_)
        assert rows == columns == [names[j] for j in order]


def test_dataframe_and_ordering_of_different_classes_are_refused():
    M = np.corrcoef(np.random.default_rng(3).normal(size=(4, 30)))
    ordering = hclust(M, classes=list("abcd"))
    frame = pd.DataFrame(M, index=list("abce"), columns=list("abce"))
    with pytest.raises(SimilarityError, match="different classes"):
        plot.heatmap(frame, ordering)
    with pytest.raises(SimilarityError, match="different classes"):
        plot.ordered_matrix(frame, ordering)


# --------------------------------------------------------------------------- colour


def _off(M):
    M = np.asarray(M, dtype=np.float64)
    return M[~np.eye(len(M), dtype=bool)]


def _label(shown):
    return shown.colorbar_.ax.get_ylabel() or shown.colorbar_.ax.get_xlabel()


@pytest.fixture
def correlations():
    rng = np.random.default_rng(4)
    latent = rng.normal(size=(60, 3))
    M = np.corrcoef((latent @ rng.normal(size=(3, 12)) + rng.normal(size=(60, 12))).T)
    assert _off(M).min() < 0 < _off(M).max()
    return M


def test_diverging_limits_are_the_largest_off_diagonal_magnitude(correlations):
    shown = plot.heatmap(correlations)
    limit = np.abs(_off(correlations)).max()
    assert shown.scale_.vmin == pytest.approx(-limit, abs=1e-12)
    assert shown.scale_.vmax == pytest.approx(limit, abs=1e-12)
    assert shown.scale_.vmin == -shown.scale_.vmax
    norm, cmap = shown.image_.norm, shown.image_.cmap
    assert norm.vmin == pytest.approx(-limit) and norm.vmax == pytest.approx(limit)
    assert float(norm(0.0)) == pytest.approx(0.5)
    np.testing.assert_allclose(cmap(norm(0.0)), cmap(0.5))
    assert shown.colorbar_.extend == "max"  # the diagonal (1) lies beyond the limit
    assert "largest |value| off the diagonal" in _label(shown)


def test_extend_is_neither_when_two_classes_are_identical():
    M = np.array([[1.0, 1.0, -0.3], [1.0, 1.0, -0.3], [-0.3, -0.3, 1.0]])
    shown = plot.heatmap(M)
    assert (shown.scale_.vmin, shown.scale_.vmax) == (-1.0, 1.0)
    assert shown.colorbar_.extend == "neither"


def test_robust_limits_are_the_99th_percentile(correlations):
    shown = plot.heatmap(correlations, robust=True)
    limit = np.quantile(np.abs(_off(correlations)), 0.99)
    assert shown.scale_.vmax == pytest.approx(limit, rel=1e-12)
    assert shown.scale_.vmin == pytest.approx(-limit, rel=1e-12)
    assert limit < np.abs(_off(correlations)).max()
    assert "99th percentile" in _label(shown)


def test_non_negative_matrix_gets_a_sequential_scale_from_zero():
    rng = np.random.default_rng(5)
    P = rng.random((7, 7))
    M = (P + P.T) / 2
    np.fill_diagonal(M, 1.0)
    shown = plot.heatmap(M)
    assert shown.scale_.vmin == 0.0
    assert shown.scale_.vmax == pytest.approx(_off(M).max())
    assert shown.image_.norm.vmin == 0.0
    assert shown.scale_.cmap != plot._colour.DIVERGING
    assert "value off the diagonal" in _label(shown)


def test_explicit_limits_win_and_are_named(correlations):
    shown = plot.heatmap(correlations, vmin=-0.25, vmax=0.75)
    assert (shown.scale_.vmin, shown.scale_.vmax) == (-0.25, 0.75)
    assert (shown.image_.norm.vmin, shown.image_.norm.vmax) == (-0.25, 0.75)
    assert "as given" in _label(shown)


def _strongest_pair_and_diagonal_colours(shown):
    A = np.asarray(shown.image_.get_array(), dtype=np.float64)
    rgba = shown.image_.to_rgba(shown.image_.get_array())
    masked = np.where(np.eye(len(A), dtype=bool), -np.inf, A)
    i, j = np.unravel_index(np.argmax(masked), A.shape)
    return rgba[i, j], rgba[i, i], A[i, j]


def test_strongest_pair_is_not_drawn_in_the_diagonals_colour_on_digits(digits):
    scores = blocks_rx.load_scores(digits["scores"], classes=digits["classes"])
    sim = blocks_rx.compute_similarity(scores, warn=False)
    shown = plot.heatmap(sim, hclust(sim))
    pair, diagonal, value = _strongest_pair_and_diagonal_colours(shown)
    assert value < 1.0
    assert not np.allclose(pair, diagonal)


def test_strongest_pair_is_not_drawn_in_the_diagonals_colour_when_it_sets_the_limit():
    # Planted groups: the largest |r| off the diagonal is positive, so it is the limit itself.
    sim = planted(sizes=(3, 4, 5), seed=6)
    assert _off(sim.matrix).max() > -_off(sim.matrix).min()
    shown = plot.heatmap(sim, hclust(sim))
    pair, diagonal, value = _strongest_pair_and_diagonal_colours(shown)
    assert value < 0.99
    assert not np.allclose(pair, diagonal), (
        f"the pair at r={value:.3f} is drawn as the diagonal (r=1): {pair} vs {diagonal}")


def _expected_scale(M, lo=None, hi=None):
    """Limits (diverging: ±largest finite |value| off the diagonal) and ``extend`` (any
    non-NaN value anywhere below lo or above hi), straight from numpy."""
    M = np.asarray(M, dtype=np.float64)
    off = _off(M)
    off = off[np.isfinite(off)]
    limit = np.abs(off).max()
    lo, hi = (-limit if lo is None else lo), (limit if hi is None else hi)
    present = M[~np.isnan(M)]
    below, above = bool((present < lo).any()), bool((present > hi).any())
    return lo, hi, {(False, False): "neither", (True, False): "min", (False, True): "max",
                    (True, True): "both"}[(below, above)]


@pytest.mark.parametrize("stripe_cells", [7, 1 << 20])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_colour_scale_is_numpys_off_diagonal_extent_with_nan_and_values_beyond(
        dtype, stripe_cells, monkeypatch, tmp_path):
    """The one-pass scan (a stripe at a time, in the matrix's own dtype) gives numpy's
    limits and ends beyond them: NaN ignored, infinities beyond but not limits, the
    diagonal beyond but not a limit; also from a memory-mapped float32 file."""
    monkeypatch.setattr(plot._colour, "STRIPE_CELLS", stripe_cells)
    rng = np.random.default_rng(11)
    M = rng.uniform(-0.6, 0.8, size=(13, 13)).astype(dtype)
    M = (M + M.T) / 2
    np.fill_diagonal(M, 1.0)
    M[2, 5] = M[5, 2] = np.nan
    M[7] = np.nan  # a class with no similarity at all (its diagonal too)
    for given in (M, np.where(np.eye(13, dtype=bool), 1.0, M).astype(dtype)):
        lo, hi, extend = _expected_scale(given)
        scale = plot._colour.colour_scale(given, scale="diverging")
        assert (scale.vmin, scale.vmax, scale.extend) == (lo, hi, extend) == (lo, hi, "max")
        assert scale.vmax == float(np.nanmax(np.abs(given[~np.eye(13, dtype=bool)])))
        for vmin, vmax in ((-0.2, 0.3), (-0.9, 0.3), (-0.2, 1.5), (-2.0, 2.0)):
            scale = plot._colour.colour_scale(given, vmin=vmin, vmax=vmax)
            assert scale.extend == _expected_scale(given, vmin, vmax)[2]
    infinite = M.copy()
    infinite[0, 3] = -np.inf  # beyond the lower end; the limits stay the finite values'
    lo, hi, extend = _expected_scale(infinite)
    scale = plot._colour.colour_scale(infinite)
    assert (scale.vmin, scale.vmax, scale.extend) == (lo, hi, "both") == (lo, hi, extend)
    robust = plot._colour.colour_scale(M, robust=True)
    off = _off(M)
    assert robust.vmax == pytest.approx(np.quantile(np.abs(off[np.isfinite(off)]), 0.99),
                                        rel=1e-12)
    stored = np.lib.format.open_memmap(tmp_path / "m.npy", mode="w+", dtype=np.float32,
                                       shape=M.shape)
    stored[:] = M
    scale = plot._colour.colour_scale(np.load(tmp_path / "m.npy", mmap_mode="r"))
    assert (scale.vmin, scale.vmax, scale.extend) == _expected_scale(M.astype(np.float32))


def test_colour_scale_of_a_matrix_with_nothing_off_the_diagonal():
    """Off the diagonal all NaN (or a single class): limits ±1, the diagonal beyond."""
    M = np.full((3, 3), np.nan)
    np.fill_diagonal(M, 2.0)
    for given in (M, np.array([[2.0]])):
        scale = plot._colour.colour_scale(given)
        assert (scale.vmin, scale.vmax, scale.extend) == (0.0, 1.0, "max")
    assert plot._colour.colour_scale(np.full((2, 2), np.nan)).extend == "neither"


def test_extend_of_any_shape_is_numpys():
    rng = np.random.default_rng(12)
    values = rng.normal(size=(9, 4)).astype(np.float32)
    values[1, 2] = np.nan
    for lo, hi in ((-5.0, 5.0), (-1.0, 5.0), (-5.0, 1.0), (-1.0, 1.0)):
        below, above = bool((values < lo).any()), bool((values > hi).any())
        assert plot._colour._extend(values, lo, hi) == {
            (False, False): "neither", (True, False): "min", (False, True): "max",
            (True, True): "both"}[(below, above)]


def test_heatmap_takes_a_known_scale_without_scanning_the_matrix(correlations, monkeypatch):
    scale = plot._colour.colour_scale(correlations, vmin=-0.5, vmax=0.5)

    def scan(*args, **kwargs):
        raise AssertionError("the matrix was scanned again")

    monkeypatch.setattr(plot._heatmap, "colour_scale", scan)
    shown = plot.heatmap(correlations, cmap=scale)
    assert shown.scale_ is scale
    assert (shown.image_.norm.vmin, shown.image_.norm.vmax) == (-0.5, 0.5)


# --------------------------------------------------------------------------- pooling


def _pooled_by_numpy(matrix, rows, columns, tile):
    """np.nanmean over each tile x tile block of matrix[rows][:, columns] (the last tiles
    smaller); NaN for a tile with no finite value."""
    ordered = np.asarray(matrix, dtype=np.float64)[np.ix_(rows, columns)]
    pooled = np.full((-(-len(rows) // tile), -(-len(columns) // tile)), np.nan)
    for i in range(pooled.shape[0]):
        for j in range(pooled.shape[1]):
            cells = ordered[i * tile:(i + 1) * tile, j * tile:(j + 1) * tile]
            if np.isfinite(cells).any():
                pooled[i, j] = np.nanmean(cells)
    return pooled


def _matrix_with_nan(m, seed, dtype=np.float64):
    rng = np.random.default_rng(seed)
    M = rng.normal(size=(m, m)).astype(dtype)
    M[rng.random((m, m)) < 0.05] = np.nan
    M[:, 3] = np.nan  # a class with no values: with tile 1, tiles with no finite value
    M[5, :] = np.nan
    return M


@pytest.mark.parametrize("band_cells", [40, 1 << 20])
@pytest.mark.parametrize("tile", [1, 2, 3, 5, 8, 29])
def test_pooling_is_the_mean_of_the_finite_cells_of_each_tile(tile, band_cells, monkeypatch):
    """pool_tiles against numpy, for tiles that divide m and that do not, square and
    non-square (a window of columns, few columns, more rows than columns), in bands of
    a few rows (many bands, some with NaN, some without) and in one band."""
    from blocks_rx.explorer.content import pool_ordered
    from blocks_rx.plot import _pool

    monkeypatch.setattr(_pool, "BAND_CELLS", band_cells)
    m = 29
    M = _matrix_with_nan(m, seed=tile)
    M[10:20, 10:20] = 0.25  # a band of rows with no NaN in its columns of 10..19
    rng = np.random.default_rng(100 + tile)
    order = rng.permutation(m)
    cases = [(order, order), (order, rng.permutation(m)), (order[:17], order[4:27]),
             (order, order[11:16]), (order[:6], order), (order[10:20], np.arange(10, 20))]
    for rows, columns in cases:
        expected = _pooled_by_numpy(M, rows, columns, tile)
        pooled = _pool.pool_tiles(M, rows, columns, tile)
        assert pooled.dtype == np.float64 and pooled.shape == expected.shape
        np.testing.assert_allclose(pooled, expected, rtol=1e-12, atol=1e-15)
        served = pool_ordered(M, rows, tile, columns=columns)
        assert served.dtype == np.float32
        np.testing.assert_allclose(served, expected, rtol=1e-6)
    np.testing.assert_allclose(_pool.pool_tiles(M, order, tile=tile),
                               _pooled_by_numpy(M, order, order, tile), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("tile", [4, 7])
def test_pooling_a_memory_mapped_float32_matrix(tile, tmp_path, monkeypatch):
    """A stored (memory-mapped) float32 matrix pools as numpy says, in bands of a few rows."""
    from blocks_rx.explorer.content import ordered_block
    from blocks_rx.plot import _pool

    monkeypatch.setattr(_pool, "BAND_CELLS", 300)
    m = 61
    M = _matrix_with_nan(m, seed=20, dtype=np.float32)
    M[7, 9] = np.inf  # not finite: left out of its tile's mean
    stored = np.lib.format.open_memmap(tmp_path / "m.npy", mode="w+", dtype=np.float32,
                                       shape=(m, m))
    stored[:] = M
    stored.flush()
    mapped = np.load(tmp_path / "m.npy", mmap_mode="r")
    order = np.random.default_rng(21).permutation(m)
    finite = np.where(np.isfinite(M), M, np.nan)
    np.testing.assert_allclose(_pool.pool_tiles(mapped, order, tile=tile),
                               _pooled_by_numpy(finite, order, order, tile), rtol=1e-12)
    np.testing.assert_allclose(_pool.pool_tiles(mapped, order[:40], order[50:], tile),
                               _pooled_by_numpy(finite, order[:40], order[50:], tile),
                               rtol=1e-12)
    np.testing.assert_array_equal(ordered_block(mapped, order[:30], order[20:]),
                                  M[np.ix_(order[:30], order[20:])])


def test_a_heatmap_of_many_classes_draws_the_pooled_image_on_the_class_positions(monkeypatch):
    """Above POOL_ABOVE classes the image is the mean of factor x factor tiles (numpy as the
    oracle); its extent puts each tile on its classes, the limits end at the last class."""
    monkeypatch.setattr(plot._heatmap, "POOL_ABOVE", 20)
    m = 47  # factor ceil(47 / 10) = 5: 10 tiles, the last of 2 classes
    M = _matrix_with_nan(m, seed=30)
    ordering = order_classes(np.eye(m), "identity")
    order = np.random.default_rng(31).permutation(m)
    ordering = type(ordering)(order=order, classes=ordering.classes, method="given",
                              linkage=None, distance=None, hclust_backend=None)
    shown = plot.heatmap(M, ordering)
    np.testing.assert_allclose(np.ma.filled(shown.image_.get_array(), np.nan),
                               _pooled_by_numpy(M, order, order, 5), rtol=1e-12)
    assert shown.image_.get_extent() == [-0.5, 49.5, 49.5, -0.5]
    assert shown.ax_.get_xlim() == (-0.5, 46.5)
    assert "mean of 5 x 5 matrix cells" in shown.ax_.get_xlabel()
    image, factor = plot._heatmap.ordered_image(M.astype(np.float32), order)
    assert factor == 5
    np.testing.assert_allclose(image, _pooled_by_numpy(M.astype(np.float32), order, order, 5),
                               rtol=1e-12)


# --------------------------------------------------------------------------- class samples


def test_class_samples_by_index_channel_first_and_text():
    ordering = order_classes(np.eye(3), "identity", classes=["a", "b", "c"])
    colour = 3.0 * np.random.default_rng(7).normal(size=(3, 8, 8))  # outside [0, 1]
    shown = plot.class_samples(ordering, {0: np.zeros((1, 8, 8)), "b": "text", 2: colour},
                               count=3)
    a, b, c = shown.axes_
    assert [ax.get_title() for ax in shown.axes_] == ["1. a", "2. b", "3. c"]
    assert len(a.images) == 1 and a.images[0].get_array().shape == (8, 8)
    assert not b.images and [t.get_text() for t in b.texts] == ["text"]
    drawn = np.asarray(c.images[0].get_array())
    assert drawn.shape == (8, 8, 3)
    assert drawn.min() >= 0.0 and drawn.max() <= 1.0
    # The rescaling keeps the picture: same ordering of values, channel-last.
    expected = np.moveaxis(colour, 0, -1)
    expected = (expected - colour.min()) / (colour.max() - colour.min())
    np.testing.assert_allclose(drawn, expected)
    for ax in shown.axes_:
        assert "no sample" not in [t.get_text() for t in ax.texts]


def test_class_samples_take_a_collected_like_object():
    class Collected:
        thumbnails = {0: np.ones((8, 8)), 1: np.ones((3, 8, 8)) * 0.5, 2: np.ones((1, 8, 8))}

    ordering = order_classes(np.eye(3), "identity", classes=["a", "b", "c"])
    shown = plot.class_samples(ordering, Collected(), count=3)
    assert [len(ax.images) for ax in shown.axes_] == [1, 1, 1]
    assert all("no sample" not in [t.get_text() for t in ax.texts] for ax in shown.axes_)


def test_class_samples_refuse_an_index_out_of_range():
    ordering = order_classes(np.eye(3), "identity", classes=["a", "b", "c"])
    with pytest.raises(ValueError, match="5"):
        plot.class_samples(ordering, {5: np.ones((8, 8))})


def test_class_samples_mark_a_missing_sample():
    ordering = order_classes(np.eye(2), "identity", classes=["a", "b"])
    shown = plot.class_samples(ordering, {"a": np.eye(3)}, count=2)
    assert "no sample" in [t.get_text() for t in shown.axes_[1].texts]


# --------------------------------------------------------------------------- groups heatmap


def test_groups_heatmap_artists_match_the_findings(overlaps):
    data, sim, ordering, found = overlaps
    assert found.failed and found.split and found.coherent  # the planted structure is found
    shown = plot.groups_heatmap(sim, ordering, found.fuzzy, failed=found.failed,
                                split=found.split, coherent=found.coherent, max_failed=6)
    position = {name: int(p) for name, p in zip(sim.classes, ordering.positions)}
    # One blue column per failed group, marks at its members' rows in the order.
    assert len(shown.failed_axes_) == min(len(found.failed), 6)
    for column, placement in zip(shown.failed_axes_, found.failed):
        assert column.get_label() == f"failed G{placement.group + 1}"
        marks = [c for c in column.collections if len(c.get_segments())]
        ys = sorted(seg[0][1] for c in marks for seg in c.get_segments())
        assert ys == sorted(position[name] for name in placement.classes)
    # One red rectangle per split pair: rows the earlier block, columns the later one.
    assert len(shown.split_patches_) == len(found.split)
    for box, pair in zip(shown.split_patches_, found.split):
        rows = sorted(position[name] for name in pair.first.classes)
        columns = sorted(position[name] for name in pair.second.classes)
        assert rows == list(range(rows[0], rows[0] + len(rows)))  # contiguous blocks
        assert columns == list(range(columns[0], columns[0] + len(columns)))
        assert box.get_xy() == pytest.approx((columns[0] - 0.5, rows[0] - 0.5))
        assert (box.get_width(), box.get_height()) == (len(columns), len(rows))
        assert box.get_gid() == "split"
    # One green square on the diagonal per coherent group, around its members.
    assert len(shown.coherent_patches_) == len(found.coherent)
    for square, placement in zip(shown.coherent_patches_, found.coherent):
        members = sorted(position[name] for name in placement.classes)
        assert square.get_xy() == pytest.approx((members[0] - 0.5, members[0] - 0.5))
        assert square.get_width() == square.get_height() == members[-1] - members[0] + 1
    legend = [t.get_text() for t in shown.legend_.get_texts()]
    assert f"coherent groups ({len(found.coherent)})" in legend
    assert f"split groups ({len(found.split)})" in legend
    assert any(t.startswith("failed groups") and f"G{found.failed[0].group + 1}" in t
               for t in legend)
    assert f"{found.fuzzy.n_groups} groups" in shown.legend_.get_title().get_text()


def test_groups_heatmap_without_findings_has_no_patches_or_legend(small):
    sim, ordering, groups = small
    shown = plot.groups_heatmap(sim, ordering, groups)
    assert shown.failed_axes_ == [] and shown.split_patches_ == []
    assert shown.coherent_patches_ == [] and shown.legend_ is None


def test_groups_heatmap_draws_at_most_max_failed_columns(overlaps):
    _, sim, ordering, found = overlaps
    shown = plot.groups_heatmap(sim, ordering, found.fuzzy, failed=found.failed, max_failed=0)
    assert shown.failed_axes_ == []


# --------------------------------------------------------------------------- text layout


@pytest.fixture(scope="module")
def multilabel():
    return datasets.planted_multilabel()


PLANTED_FIGURES = {
    "fig2b": lambda d: figures.fig2b_taxonomy(d["taxonomy"])[0],
    "fig3": lambda d: figures.fig3_frequency(d["multilabel"]),
    "fig4a": lambda d: figures.fig4a_cooccurrence(d["multilabel"])[0],
    "fig4b": lambda d: figures.fig4b_spans(d["multilabel"])[0],
    "fig5": lambda d: figures.fig5_groups(d["overlaps"])[0],
    "fig6": lambda d: figures.fig6_text_groups(d["multilabel"])[0],
}


@pytest.fixture(scope="module")
def planted_data(multilabel):
    return {"taxonomy": datasets.planted_taxonomy(), "multilabel": multilabel,
            "overlaps": datasets.planted_overlaps()}


@pytest.mark.parametrize("name", sorted(PLANTED_FIGURES))
def test_planted_figures_have_no_text_problems(name, planted_data):
    assert text_problems(PLANTED_FIGURES[name](planted_data)) == []


def test_digits_confusion_figures_have_no_text_problems(digits):
    comparison, beside, ordering = figures.confusion_figures(digits)
    assert text_problems(comparison) == []
    assert text_problems(beside) == []
    assert text_problems(figures.class_samples_figure(digits, ordering)) == []


@pytest.mark.parametrize("m", [5, 40, 97, 150, 600])
def test_heatmap_with_long_names_and_a_tree_has_no_text_problems(m):
    names = [f"{j:04d} - a class with a long name"[:30] for j in range(m)]
    assert len(set(names)) == m and all(len(n) == 30 for n in names)
    rng = np.random.default_rng(m)
    n = max(3 * m, 60)
    scores = 2.0 * rng.normal(size=(n, 4))[:, rng.integers(0, 4, m)] + rng.normal(size=(n, m))
    sim = blocks_rx.compute_similarity(blocks_rx.load_scores(scores, classes=names), warn=False)
    shown = plot.heatmap(sim, hclust(sim), dendrogram=True)
    assert text_problems(shown) == []


# --------------------------------------------------------------------------- confusion.png


def test_result_with_labels_has_a_confusion_figure(tmp_path):
    rng = np.random.default_rng(8)
    logits = rng.normal(size=(300, 5))
    labels = np.argmax(logits + rng.normal(scale=0.7, size=logits.shape), axis=1)
    analysis = blocks_rx.analyze(blocks_rx.load_scores(logits, labels=labels), groups=None,
                                 hclust_backend="python")
    written = blocks_rx.write_result(analysis, tmp_path / "labelled")
    assert "confusion.png" in written
    path = tmp_path / "labelled" / "confusion.png"
    assert path.read_bytes().startswith(PNG)
    report = json.loads((tmp_path / "labelled" / "report.json").read_text())
    assert "confusion.png" in report["files"]

    unlabelled = blocks_rx.analyze(logits, groups=None, hclust_backend="python")
    written = blocks_rx.write_result(unlabelled, tmp_path / "plain")
    assert "confusion.png" not in written
    assert not (tmp_path / "plain" / "confusion.png").exists()
    report = json.loads((tmp_path / "plain" / "report.json").read_text())
    assert "confusion.png" not in report["files"]


def test_a_sharpened_heatmap_is_pixel_for_pixel_the_one_coloured_before_resampling(
        monkeypatch):
    """sharpen_upsampled draws a pooled heatmap with nearest, its values resampled, then
    coloured (interpolation_stage "data"); matplotlib's colouring first ("rgba") is the
    oracle: the same pixels, bad (NaN) cells and colours beyond the limits included."""
    import io

    from PIL import Image

    from blocks_rx.plot._common import sharpen_upsampled

    monkeypatch.setattr(plot._heatmap, "POOL_ABOVE", 100)  # pooled: 9 x 9 tiles
    rng = np.random.default_rng(4)
    M = np.corrcoef(rng.normal(size=(420, 500)))  # above 400 classes: antialiased
    M[:9, 9:18] = np.nan  # a whole tile: bad
    M[27:36, 45:63] = 1.8  # beyond the upper limit
    M[90:99, 99:108] = -1.5  # beyond the lower one

    def pixels(stage):
        shown = plot.heatmap(M, vmin=-0.5, vmax=0.9)
        assert "mean of 9 x 9" in shown.ax_.get_xlabel()
        assert shown.image_.get_interpolation() == "antialiased"
        sharpen_upsampled(shown.figure_, dpi=150)
        assert shown.image_.get_interpolation() == "nearest"
        assert shown.image_.get_interpolation_stage() == "data"
        if stage is not None:
            shown.image_.set_interpolation_stage(stage)
        buffer = io.BytesIO()
        shown.figure_.savefig(buffer, format="png", dpi=150)
        return np.asarray(Image.open(buffer))

    sharpened, coloured_first = pixels(None), pixels("rgba")
    assert sharpened.shape == coloured_first.shape
    np.testing.assert_array_equal(sharpened, coloured_first)



def test_an_analysis_draws_itself_in_heatmap_and_distributions():
    """What analyze returns is what a user hands to the pictures: the heatmap takes its
    order, the distributions its typical class; anything else is named in the error."""
    digits = datasets.digits_classifier()
    found = blocks_rx.analyze(digits["scores"], classes=digits["classes"], groups=None)
    shown = plot.heatmap(found)
    order = found.ordering.order
    np.testing.assert_array_equal(shown.image_.get_array(),
                                  found.similarity.matrix[np.ix_(order, order)])
    assert "hclust order" in shown.ax_.get_title()
    rows = plot.distributions(found)
    assert len(rows.axes_) == 2 and "digit" in rows.axes_[0].get_title()
    counts = rows.axes_[1].get_yticks()
    assert np.array_equal(counts, np.round(counts))  # pair counts: whole-number ticks
    with pytest.raises(SimilarityError, match="got Scores"):
        plot.heatmap(blocks_rx.load_scores(digits["scores"]))


def test_analyze_takes_class_names_and_labels_with_raw_scores():
    digits = datasets.digits_classifier()
    names = list(digits["classes"])
    direct = blocks_rx.analyze(digits["scores"], classes=names, labels=digits["labels"],
                               groups=None)
    loaded = blocks_rx.analyze(blocks_rx.load_scores(digits["scores"], classes=names,
                                                     labels=digits["labels"]), groups=None)
    assert direct.similarity.classes == tuple(names)
    np.testing.assert_array_equal(direct.confusion, loaded.confusion)
    with pytest.raises(BlocksInputError, match="loaded already; pass them to load_scores"):
        blocks_rx.analyze(blocks_rx.load_scores(digits["scores"]), labels=digits["labels"])
