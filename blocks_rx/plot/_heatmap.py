"""The ordered class-similarity heatmap (the paper's Fig. 2a)."""

from __future__ import annotations

import numpy as np

from ._common import label_positions, new_axes


def heatmap(
    similarity,
    ordering,
    *,
    ax=None,
    cmap: str = "RdYlBu_r",
    vmin: float | None = None,
    vmax: float | None = None,
    max_labels: int = 100,
    title: str | None = None,
    colorbar: bool = True,
):
    """Draw the similarity matrix with rows and columns in the given order.

    Parameters
    ----------
    similarity : Similarity
    ordering : Ordering
        Must order the same classes.
    ax : matplotlib Axes, optional
        Draw here; by default a new standalone Figure is made.
    cmap : str
        Colormap; the default runs blue (dissimilar) to red (similar).
    vmin, vmax : float, optional
        Colour limits; default to the 1st and 99th percentiles of the off-diagonal values,
        so a few extreme pairs do not wash out the blocks.
    max_labels : int
        Label every class when there are at most this many; otherwise an even subset.
    title : str, optional
    colorbar : bool

    Returns
    -------
    matplotlib.figure.Figure
        The image is ``fig.axes[0].images[0]``.

    Examples
    --------
    >>> import numpy as np, blocks_rx
    >>> S = np.random.default_rng(0).normal(size=(200, 6))
    >>> sim = blocks_rx.compute_similarity(S)
    >>> fig = heatmap(sim, blocks_rx.order_classes(sim))
    >>> fig.axes[0].images[0].get_array().shape
    (6, 6)
    """
    if tuple(ordering.classes) != tuple(similarity.classes):
        raise ValueError("the ordering and the similarity matrix are for different classes")
    m = similarity.n_classes
    fig, ax = new_axes(ax, figsize=_size_for(m))
    order = np.asarray(ordering.order)
    matrix = similarity.matrix[np.ix_(order, order)]
    if vmin is None or vmax is None:
        lo, hi = np.quantile(similarity.off_diagonal(), [0.01, 0.99])
        if hi <= lo:
            lo, hi = lo - 1e-6, hi + 1e-6
        vmin = lo if vmin is None else vmin
        vmax = hi if vmax is None else vmax
    image = ax.imshow(matrix, cmap=cmap, vmin=vmin, vmax=vmax,
                      interpolation="nearest" if m <= 400 else "antialiased")
    names = ordering.ordered_classes
    ticks = label_positions(m, max_labels)
    fontsize = max(4.0, min(9.0, 500.0 / max(len(ticks), 1)))
    ax.set_xticks(ticks, [names[i] for i in ticks], rotation=90, fontsize=fontsize)
    ax.set_yticks(ticks, [names[i] for i in ticks], fontsize=fontsize)
    ax.tick_params(length=2, pad=1)
    if len(ticks) < m:
        ax.set_xlabel(f"{m} classes in {ordering.method} order "
                      f"(one label per {ticks[1] - ticks[0]} classes)")
    if title is None:
        title = (f"{similarity.method} similarity of {similarity.kind}"
                 + (f" ({similarity.transform})" if similarity.transform != "none" else "")
                 + f", {m} classes, {similarity.n_samples:,} samples"
                 + (f"\n{ordering.method} order, {ordering.linkage} linkage on {ordering.distance}"
                    if ordering.linkage else f"\n{ordering.method} order"))
    ax.set_title(title, fontsize=10)
    if colorbar:
        bar = fig.colorbar(image, ax=ax, shrink=0.6, pad=0.01)
        bar.set_label("similarity (correlation)")
    return fig


def _size_for(m: int) -> tuple[float, float]:
    side = 7.0 if m <= 40 else 10.0 if m <= 150 else 12.0
    return (side + 1.5, side)
