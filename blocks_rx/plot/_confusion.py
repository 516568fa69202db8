"""Confusion matrices beside class similarity (the authors' notebook, Section 2 of the paper)."""

from __future__ import annotations

import numpy as np

from ..names import literal
from ._common import new_axes
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

    Returns
    -------
    matplotlib.figure.Figure
        Four image axes, in the panel order above (colour bars follow them).
    """
    from matplotlib.colors import LogNorm

    C = np.asarray(confusion, dtype=np.float64)
    off = C.copy()
    np.fill_diagonal(off, 0.0)
    masked = np.where(off > 0, off, np.nan)
    if fig is None:
        fig, _ = new_axes(None, figsize=(15, 13))
        fig.clear()
    axes = fig.subplots(2, 2).ravel()
    m = C.shape[0]
    labels = 100 if m <= 100 else 40
    ordered_matrix(C, own_ordering, ax=axes[0], cmap="Blues", max_labels=labels,
                   title="(a) confusion, ordered by its own clustering", colorbar="samples")
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
    if title:
        fig.suptitle(literal(title), fontsize=12)
    return fig


def side_by_side(similarity, confusion, ordering, *, fig=None, title: str | None = None):
    """Similarity (left) and confusion without its diagonal (right) in the same order."""
    from matplotlib.colors import LogNorm

    off = np.asarray(confusion, dtype=np.float64).copy()
    np.fill_diagonal(off, 0.0)
    masked = np.where(off > 0, off, np.nan)
    if fig is None:
        fig, _ = new_axes(None, figsize=(17, 8))
        fig.clear()
    left, right = fig.subplots(1, 2)
    heatmap(similarity, ordering, ax=left, title="class similarity (scores)")
    upper = np.nanmax(masked) if np.isfinite(masked).any() else 1.0
    ordered_matrix(masked, ordering, ax=right, cmap="magma_r",
                   norm=LogNorm(vmin=1, vmax=max(upper, 2)),
                   title="confusions (labels), same order, diagonal removed",
                   colorbar="samples (log)")
    if title:
        fig.suptitle(literal(title), fontsize=12)
    return fig
