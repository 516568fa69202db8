"""Ordered matrix heatmaps: class similarity (the paper's Fig. 2), and any class x class matrix."""

from __future__ import annotations

import numpy as np

from ..names import literal
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
    **annotations,
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
    **annotations
        Side annotations, as :func:`ordered_matrix` takes them:
    bands : list of lists of (start, end, name), optional
        Taxonomy levels as coloured bands at the right, top level first (see
        :func:`blocks_rx.ordering.taxonomy_levels`).
    spans : list of (start, end, label), optional
        Labelled group spans at the left (see :func:`blocks_rx.ordering.spans`).
    marks : (positions, labels), optional
        Tick marks at the right, e.g. star-pattern classes.
    boundaries : list of int, optional
        Draw lines across the matrix before these positions.
    dendrogram : bool
        Draw the ordering's tree above the matrix.
    boxes : list of (start, end, title, lines), optional
        Outlined diagonal blocks with text boxes listing their contents (Figs. 6, 7).

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
    if vmin is None or vmax is None:
        lo, hi = np.quantile(similarity.off_diagonal(), [0.01, 0.99])
        if hi <= lo:
            lo, hi = lo - 1e-6, hi + 1e-6
        vmin = lo if vmin is None else vmin
        vmax = hi if vmax is None else vmax
    if title is None:
        m = similarity.n_classes
        title = (f"{similarity.measure} similarity of {similarity.kind}"
                 + (f" ({similarity.transform})" if similarity.transform != "none" else "")
                 + f", {m} classes, {similarity.n_samples:,} samples"
                 + (f"\n{ordering.method} order, {ordering.linkage} linkage on {ordering.distance}"
                    if ordering.linkage else f"\n{ordering.method} order"))
    return ordered_matrix(
        similarity.matrix, ordering, ax=ax, cmap=cmap, vmin=vmin, vmax=vmax,
        max_labels=max_labels, title=title, colorbar="similarity (correlation)" if colorbar else None,
        **annotations)


def ordered_matrix(
    matrix,
    ordering,
    *,
    ax=None,
    cmap: str = "viridis",
    vmin=None,
    vmax=None,
    norm=None,
    max_labels: int = 100,
    title: str | None = None,
    colorbar: str | None = None,
    bands=None,
    spans=None,
    marks=None,
    boundaries=None,
    dendrogram: bool = False,
    boxes=None,
):
    """Draw any class x class matrix (confusion, co-occurrence, ...) in an ordering's order.

    Annotations (``bands``, ``spans``, ``marks``, ``boundaries``, ``dendrogram``,
    ``boxes``) are described under :func:`heatmap`; ``norm`` takes a matplotlib norm (e.g. ``LogNorm``)
    and ``colorbar`` is the colour bar's label (None for no bar).

    >>> import numpy as np, blocks_rx
    >>> o = blocks_rx.order_classes(np.eye(3), "identity")
    >>> ordered_matrix(np.arange(9).reshape(3, 3), o).axes[0].images[0].get_array()[0, 1]
    np.int64(1)
    """
    matrix = np.asarray(matrix)
    m = matrix.shape[0]
    if m != ordering.n_classes:
        raise ValueError(f"a {m}-class matrix cannot take an ordering of {ordering.n_classes} classes")
    fig, ax, text_ax = _matrix_axes(ax, m, boxes)
    image = _draw_matrix(ax, matrix, ordering, cmap=cmap, vmin=vmin, vmax=vmax, norm=norm)
    _label_classes(ax, ordering, m, max_labels)
    side = _add_annotations(ax, ordering, text_ax, bands=bands, spans=spans, marks=marks,
                            boundaries=boundaries, dendrogram=dendrogram, boxes=boxes)
    if title:
        ax.set_title(literal(title), fontsize=10, pad=60 if dendrogram else 6)
    if colorbar:
        _add_colorbar(fig, ax, image, colorbar, norm, pad=0.01 + side)
    return fig


def _matrix_axes(ax, m, boxes):
    """The figure and axes to draw on, plus the text panel that ``boxes`` need (else None)."""
    if boxes and ax is None:  # a text panel at the right holds the boxes' contents
        width, height = _size_for(m)
        fig, ax = new_axes(None, figsize=(width + 5.0, height))
        ax.remove()
        ax, text_ax = fig.subplots(1, 2, width_ratios=[width, 4.0])
        return fig, ax, text_ax
    if boxes:
        raise ValueError("boxes need their own figure (leave ax=None)")
    fig, ax = new_axes(ax, figsize=_size_for(m))
    return fig, ax, None


def _draw_matrix(ax, matrix, ordering, *, cmap, vmin, vmax, norm):
    """Draw the matrix with rows and columns in the ordering's order; return the image."""
    m = matrix.shape[0]
    order = np.asarray(ordering.order)
    shown, factor = ordered_image(matrix, order)
    size = shown.shape[0] * factor
    # The extent is in cells, so a pooled image still lines up with the class positions;
    # the limits then crop the padding pooling adds past the last class.
    image = ax.imshow(shown, cmap=cmap, vmin=None if norm else vmin, vmax=None if norm else vmax,
                      norm=norm, interpolation="nearest" if m <= 400 else "antialiased",
                      extent=(-0.5, size - 0.5, size - 0.5, -0.5))
    ax.set_xlim(-0.5, m - 0.5)
    ax.set_ylim(m - 0.5, -0.5)
    return image


def _label_classes(ax, ordering, m, max_labels):
    """Label rows and columns with class names: all of them, or an even subset."""
    names = ordering.ordered_classes
    ticks = label_positions(m, max_labels)
    fontsize = max(4.0, min(9.0, 500.0 / max(len(ticks), 1)))
    labels = [literal(names[i]) for i in ticks]
    ax.set_xticks(ticks, labels, rotation=90, fontsize=fontsize)
    ax.set_yticks(ticks, labels, fontsize=fontsize)
    ax.tick_params(length=2, pad=1)
    if len(ticks) < m:
        ax.set_xlabel(literal(f"{m} classes in {ordering.method} order "
                              f"(one label per {ticks[1] - ticks[0]} classes)"))


def _add_annotations(ax, ordering, text_ax, *, bands, spans, marks, boundaries, dendrogram,
                     boxes) -> float:
    """Draw the side annotations; return the width they take at the right of the axes."""
    from ._annotate import add_bands, add_boundaries, add_boxes, add_dendrogram, add_marks, add_spans

    # Bands and marks both sit at the right: each is offset past the previous one, and
    # the colour bar past them all.
    side = 0.0
    if boundaries:
        add_boundaries(ax, boundaries)
    if bands:
        add_bands(ax, bands)
        side += 0.04 * len(bands)
    if marks:
        add_marks(ax, *marks, offset=0.01 + side)
        side += 0.12
    if spans:
        add_spans(ax, spans)
    if boxes:
        add_boxes(ax, boxes, text_ax)
    if dendrogram:
        if ordering.merge is None:
            raise ValueError(f"a {ordering.method!r} ordering has no tree to draw")
        add_dendrogram(ax, ordering)
    return side


def _add_colorbar(fig, ax, image, label, norm, *, pad):
    """Add a labelled colour bar for the image."""
    bar = fig.colorbar(image, ax=ax, shrink=0.6, pad=pad)
    bar.set_label(literal(label))
    if norm is not None:  # plain numbers at 1, 2, 5, 10, 20, ... rather than 10^0 notation
        from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

        bar.ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        bar.ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
        bar.ax.yaxis.set_minor_formatter(NullFormatter())


#: Above this many classes the image is averaged over blocks of cells before drawing: a figure
#: has fewer pixels than that anyway, and resampling 25 million cells costs seconds.
POOL_ABOVE = 2000


def ordered_image(matrix: np.ndarray, order: np.ndarray) -> tuple[np.ndarray, int]:
    """The matrix in ``order``, as drawn: whole up to POOL_ABOVE classes, else the NaN-aware
    mean over factor x factor blocks of cells.

    Pooling reads a stripe of ``factor`` ordered rows at a time, so memory stays near the
    pooled image (never an ordered or float64 copy of the whole matrix).

    >>> M = np.arange(16.0).reshape(4, 4)
    >>> ordered_image(M, np.array([3, 2, 1, 0]))[0][0]
    array([15., 14., 13., 12.])
    """
    m = matrix.shape[0]
    if m <= POOL_ABOVE:
        return matrix[np.ix_(order, order)], 1
    factor = -(-m // (POOL_ABOVE // 2))
    cells = -(-m // factor)
    # Column j of the ordered matrix falls in pooled column j // factor.
    column_block = np.arange(m) // factor
    pooled = np.full((cells, cells), np.nan)
    for row in range(cells):
        stripe = np.asarray(matrix[order[row * factor:(row + 1) * factor]][:, order],
                            dtype=np.float64)
        finite = np.isfinite(stripe)
        sums = np.bincount(np.broadcast_to(column_block, stripe.shape)[finite],
                           weights=stripe[finite], minlength=cells)
        counts = np.bincount(np.broadcast_to(column_block, stripe.shape)[finite],
                             minlength=cells)
        with np.errstate(invalid="ignore", divide="ignore"):
            pooled[row] = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    return pooled, factor


def _size_for(m: int) -> tuple[float, float]:
    side = 7.0 if m <= 40 else 10.0 if m <= 150 else 12.0
    return (side + 1.5, side)
