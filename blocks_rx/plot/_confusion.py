"""Confusion matrices beside class similarity (the authors' notebook, Section 2 of the paper)."""

from __future__ import annotations

import numpy as np

from ..names import literal
from ._common import fit_figure, move_beside, panels_figure
from ._display import PanelsDisplay
from ._heatmap import heatmap, ordered_matrix


def confusion_comparison(confusion, own_ordering, similarity_ordering, *, fig=None,
                         title: str | None = None):
    """The confusion matrix four ways, as the authors' notebook shows it.

    Panels: (a) ordered by its own clustering; (b) the same without the diagonal, on a log
    scale; (c) binarised (any confusion at all); (d) in the *similarity* order, where the
    blocks found from the scores appear in the confusions too.

    Parameters
    ----------
    confusion : array (m, m)
        Counts ``C[true, predicted]``.
    own_ordering : Ordering
        From :func:`blocks_rx.ordering.confusion_ordering`.
    similarity_ordering : Ordering
        The hclust order of the score-based similarity.

    fig : Figure or SubFigure, optional
        Draw into this (its panels are added to what it holds); default a new standalone
        Figure.
    title : str, optional

    Returns
    -------
    PanelsDisplay
        ``axes_``: the four matrix axes in the panel order above, each with rows = true
        class and columns = predicted class; ``ax_`` is panel (a).
    """
    from matplotlib.colors import LogNorm

    C = np.asarray(confusion, dtype=np.float64)
    off = C.copy()
    np.fill_diagonal(off, 0.0)
    masked = np.where(off > 0, off, np.nan)
    if fig is None:
        fig = panels_figure((15, 13))
    axes = fig.subplots(2, 2).ravel()
    m = C.shape[0]
    labels = 100 if m <= 100 else 40
    ordered_matrix(C, own_ordering, ax=axes[0], cmap="Blues", vmin=0, vmax=max(C.max(), 1),
                   max_labels=labels, title="(a) confusion, ordered by its own clustering",
                   colorbar="samples")
    upper = np.nanmax(masked) if np.isfinite(masked).any() else 1.0
    ordered_matrix(masked, own_ordering, ax=axes[1], cmap="magma_r",
                   norm=LogNorm(vmin=1, vmax=max(upper, 2)), max_labels=labels,
                   title="(b) without the diagonal, log scale", colorbar="samples (log)")
    ordered_matrix((off > 0).astype(float), own_ordering, ax=axes[2], cmap="Greys", vmin=0,
                   vmax=1, max_labels=labels, title="(c) binarised: any confusion",
                   colorbar=None)
    ordered_matrix(masked, similarity_ordering, ax=axes[3], cmap="magma_r",
                   norm=LogNorm(vmin=1, vmax=max(upper, 2)), max_labels=labels,
                   title="(d) without the diagonal, in the similarity's hclust order",
                   colorbar="samples (log)")
    for ax in axes:
        _axis_titles(ax)
    if title:
        fig.suptitle(literal(title), fontsize=12)
    return PanelsDisplay(axes[0], axes)


def side_by_side(similarity, confusion, ordering, *, fig=None, title: str | None = None):
    """Similarity (left) and confusion without its diagonal (right) in the same order.

    Returns a :class:`PanelsDisplay` whose ``axes_`` are the two matrices (the confusion's
    rows are true classes, its columns predicted ones).

    >>> import numpy as np, blocks_rx
    >>> sim = blocks_rx.compute_similarity(np.random.default_rng(0).normal(size=(90, 4)))
    >>> shown = side_by_side(sim, np.eye(4) * 9 + 1, blocks_rx.order_classes(sim))
    >>> shown.axes_[1].get_ylabel(), shown.axes_[1].get_xlabel()
    ('true class', 'predicted class')
    """
    from matplotlib.colors import LogNorm

    off = np.asarray(confusion, dtype=np.float64).copy()
    np.fill_diagonal(off, 0.0)
    masked = np.where(off > 0, off, np.nan)
    owned = fig is None
    if owned:  # two matrices side by side, the figure then fitted to them
        from ._heatmap import matrix_figure

        fig, left, right = matrix_figure(len(off), 100, text_panel_at=8.0, panel_width=None)
    else:
        left, right = fig.subplots(1, 2)
    heatmap(similarity, ordering, ax=left, title="class similarity (scores)")
    upper = np.nanmax(masked) if np.isfinite(masked).any() else 1.0
    ordered_matrix(masked, ordering, ax=right, cmap="magma_r",
                   norm=LogNorm(vmin=1, vmax=max(upper, 2)),
                   title="confusions (labels), same order, diagonal removed",
                   colorbar="samples (log)")
    _axis_titles(right)
    if owned:
        move_beside(fig, left, right)
        fit_figure(fig, title=literal(title) if title else None)
    elif title:
        fig.suptitle(literal(title), fontsize=12)
    return PanelsDisplay(left, [left, right])


def _axis_titles(ax) -> None:
    """Name a confusion matrix's axes: rows are true classes, columns predicted ones."""
    thinned = ax.get_xlabel()  # "(one label per k classes)" when labels were thinned
    ax.set_xlabel("predicted class" + (f"\n{thinned}" if thinned else ""))
    ax.set_ylabel("true class")
