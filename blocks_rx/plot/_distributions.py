"""Distributions of input scores and of similarities (the paper's Fig. 1)."""

from __future__ import annotations

import numpy as np

from ..names import literal
from ._common import panels_figure
from ._display import PanelsDisplay


#: Above this many class pairs the similarity histogram is drawn from a seeded uniform sample
#: of pairs (its statistics, in report.json, are exact: blocks_rx.similarity).
HISTOGRAM_PAIRS = 5_000_000


def distributions(panels, *, fig=None, bins: int = 60):
    """Histograms of one class's input values (left) and of off-diagonal similarities (right).

    Parameters
    ----------
    panels : Analysis, or list of dict
        An :class:`~blocks_rx.Analysis` (what ``analyze`` returns): its typical class and
        matrix, as in ``distributions.png``. Or one row of the figure per dict, with keys ``label`` (e.g. "pearson on logits"),
        ``class_name``, ``values`` (that class's input values), ``values_stats`` and
        ``similarities`` (off-diagonal values, or a sample of them, said by an optional
        ``similarities_note`` appended to the panel's title), ``similarity_stats`` as returned by
        :func:`blocks_rx.similarity.describe`.
    fig : Figure or SubFigure, optional
        Draw into this (its panels are added to what it holds); default a new standalone
        Figure.
    bins : int

    Returns
    -------
    PanelsDisplay
        ``axes_``: left and right histogram of each row, row by row.

    Examples
    --------
    >>> import numpy as np
    >>> from blocks_rx.similarity import describe
    >>> v, s = np.arange(10.0), np.linspace(-1, 1, 45)
    >>> shown = distributions([dict(label="pearson on logits", class_name="cat", values=v,
    ...     values_stats=describe(v), similarities=s, similarity_stats=describe(s))])
    >>> len(shown.axes_)
    2
    """
    if hasattr(panels, "example_values"):  # an Analysis
        panels = [analysis_panel(panels)]
    if fig is None:
        fig = panels_figure((10, 3.2 * len(panels)))
    axes = fig.subplots(len(panels), 2, squeeze=False)
    for row, panel in zip(axes, panels):
        left, right = row
        _histogram(left, panel["values"], panel["values_stats"], bins, "#4c72b0")
        left.set_title(literal(f"{panel['label']}: input values of class {panel['class_name']!r}"),
                       fontsize=9)
        left.set_ylabel("samples")
        left.set_xlabel("input value", fontsize=8)
        _histogram(right, panel["similarities"], panel["similarity_stats"], bins, "#c44e52")
        note = panel.get("similarities_note", "")
        right.set_title(literal(f"{panel['label']}: off-diagonal similarities{note}"), fontsize=9)
        right.set_ylabel("class pairs")
        right.set_xlabel("similarity", fontsize=8)
    return PanelsDisplay(axes[0, 0], axes.ravel())


def analysis_panel(analysis) -> dict:
    """The row of :func:`distributions` for an Analysis: its typical class's input values
    and its off-diagonal similarities (a sample of :data:`HISTOGRAM_PAIRS` when there are
    more; the statistics are the analysis's, exact)."""
    sim = analysis.similarity
    sampled = sim.n_classes * (sim.n_classes - 1) // 2 > HISTOGRAM_PAIRS
    return {
        "label": f"{sim.measure} on {sim.kind}"
                 + (f" ({sim.transform})" if sim.transform != "none" else ""),
        "class_name": sim.classes[analysis.example_class],
        "values": analysis.example_values,
        "values_stats": analysis.example_stats,
        "similarities": off_diagonal_for_histogram(sim.matrix),
        "similarities_note": (f"\n(histogram of {HISTOGRAM_PAIRS:,} pairs drawn at random; "
                              "statistics exact)" if sampled else ""),
        "similarity_stats": analysis.similarity_stats,
    }


def off_diagonal_for_histogram(matrix, pairs: int = HISTOGRAM_PAIRS, seed: int = 0):
    """The values above the diagonal, or a uniform sample of ``pairs`` of them (with
    replacement), read without a copy of all m(m-1)/2 values.

    >>> off_diagonal_for_histogram(np.arange(9.0).reshape(3, 3)).tolist()
    [1.0, 2.0, 5.0]
    """
    m = matrix.shape[0]
    if m * (m - 1) // 2 <= pairs:
        return np.asarray(matrix, dtype=np.float64)[np.triu_indices(m, k=1)]
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, m, size=pairs)
    columns = rng.integers(0, m - 1, size=pairs)
    columns += columns >= rows  # never the diagonal
    order = np.argsort(rows, kind="stable")  # read row by row
    return np.asarray(matrix[rows[order], columns[order]], dtype=np.float64)


def _histogram(ax, values, stats, bins, color):
    from matplotlib.ticker import MaxNLocator

    ax.hist(np.asarray(values, dtype=np.float64), bins=bins, color=color, alpha=0.85)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # counts: no tick at 2.5
    text = "\n".join([
        f"mean {stats['mean']:.3g}, sd {stats['std']:.3g}",
        f"skewness {_fmt(stats['skewness'])}",
        f"kurtosis {_fmt(stats['kurtosis'])}",
    ])
    ax.text(0.98, 0.95, text, transform=ax.transAxes, ha="right", va="top", fontsize=8,
            bbox=dict(boxstyle="round", facecolor="white", alpha=0.8, edgecolor="0.8"))


def _fmt(value):
    return "n/a" if value is None else f"{value:.2f}"
