"""Distributions of input scores and of similarities (the paper's Fig. 1)."""

from __future__ import annotations

import numpy as np

from ..names import literal
from ._common import panels_figure
from ._display import PanelsDisplay


def distributions(panels, *, fig=None, bins: int = 60):
    """Histograms of one class's input values (left) and of off-diagonal similarities (right).

    Parameters
    ----------
    panels : list of dict
        One row of the figure each, with keys ``label`` (e.g. "pearson on logits"),
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


def _histogram(ax, values, stats, bins, color):
    ax.hist(np.asarray(values, dtype=np.float64), bins=bins, color=color, alpha=0.85)
    text = "\n".join([
        f"mean {stats['mean']:.3g}, sd {stats['std']:.3g}",
        f"skewness {_fmt(stats['skewness'])}",
        f"kurtosis {_fmt(stats['kurtosis'])}",
    ])
    ax.text(0.98, 0.95, text, transform=ax.transAxes, ha="right", va="top", fontsize=8,
            bbox=dict(boxstyle="round", facecolor="white", alpha=0.8, edgecolor="0.8"))


def _fmt(value):
    return "n/a" if value is None else f"{value:.2f}"
