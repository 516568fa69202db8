"""Ordered matrix heatmaps: class similarity (the paper's Fig. 2), and any class x class matrix."""

from __future__ import annotations

import numpy as np

from ..errors import SimilarityError
from ..names import literal
from ..ordering.result import Ordering
from ..similarity import Similarity
from ._colour import Scale, colour_scale
from ._common import add_axes_inches, fit_figure, label_positions, new_figure
from ._display import HeatmapDisplay
from ._pool import pool_tiles


def heatmap(
    similarity,
    ordering=None,
    *,
    ax=None,
    scale: str = "auto",
    robust: bool = False,
    cmap: str | None = None,
    vmin: float | None = None,
    vmax: float | None = None,
    max_labels: int = 100,
    title: str | None = None,
    colorbar: bool = True,
    **annotations,
) -> HeatmapDisplay:
    """Draw a class-similarity matrix with rows and columns in the given order.

    Parameters
    ----------
    similarity : Analysis, Similarity, ndarray (m, m) or DataFrame
        An :class:`~blocks_rx.Analysis` (or a result read back) brings its own ordering. A
        DataFrame's index names the classes (its columns must be the same classes); an
        array takes the names of ``ordering``, or ``0 .. m-1``.
    ordering : Ordering, optional
        Must order the same classes; default: the analysis's, else as given.
    ax : matplotlib Axes, optional
        Draw here; by default a new standalone Figure is made.
    scale : {"auto", "diverging", "sequential"}
        Diverging (centred on 0, symmetric limits) unless no value off the diagonal is
        negative; see :mod:`blocks_rx.plot._colour` for the rule, which the colour bar states.
    robust : bool
        Limits from the 99th percentile of |value| off the diagonal instead of the largest.
    cmap : str or Scale, optional
        Colormap; default blue (negative), white (0), red (positive). A
        :class:`~blocks_rx.plot._colour.Scale` (from :func:`~blocks_rx.plot._colour.colour_scale`)
        is used as it is, limits and rule included, instead of ``scale``, ``robust``, ``vmin``
        and ``vmax``: a caller drawing one matrix several times passes over it once.
    vmin, vmax : float, optional
        Colour limits, overriding the rule.
    max_labels : int
        Label every class when there are at most this many; otherwise an even subset (0: none).
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
    HeatmapDisplay
        ``figure_``, ``ax_`` (the matrix), ``image_``, ``colorbar_``, ``scale_`` (limits,
        map and rule) and ``text_ax_``.

    Examples
    --------
    >>> import numpy as np, blocks_rx
    >>> S = np.random.default_rng(0).normal(size=(200, 6))
    >>> sim = blocks_rx.compute_similarity(S)
    >>> shown = heatmap(sim, blocks_rx.order_classes(sim))
    >>> shown.image_.get_array().shape, shown.scale_.vmin == -shown.scale_.vmax
    ((6, 6), True)
    >>> heatmap(blocks_rx.analyze(S, groups=None)).image_.get_array().shape  # its own order
    (6, 6)
    """
    if hasattr(similarity, "similarity") and hasattr(similarity, "ordering"):  # an analysis
        similarity, ordering = similarity.similarity, ordering or similarity.ordering
    matrix, ordering = _matrix_and_ordering(similarity, ordering)
    colours = cmap if isinstance(cmap, Scale) else colour_scale(
        matrix, scale=scale, robust=robust, vmin=vmin, vmax=vmax, cmap=cmap)
    if title is None:
        title = _default_title(similarity, ordering)
    quantity = (f"{similarity.measure} similarity" if isinstance(similarity, Similarity)
                else "similarity")
    return ordered_matrix(matrix, ordering, ax=ax, cmap=colours, max_labels=max_labels,
                          title=title, colorbar=quantity if colorbar else None, **annotations)


def ordered_matrix(
    matrix,
    ordering=None,
    *,
    ax=None,
    cmap="viridis",
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
) -> HeatmapDisplay:
    """Draw any class x class matrix (confusion, co-occurrence, ...) in an ordering's order.

    Annotations (``bands``, ``spans``, ``marks``, ``boundaries``, ``dendrogram``,
    ``boxes``) are described under :func:`heatmap`; ``norm`` takes a matplotlib norm (e.g.
    ``LogNorm``) and ``colorbar`` is the colour bar's label (None for no bar). ``cmap`` may be
    a :class:`~blocks_rx.plot._colour.Scale`, whose limits and rule then apply; ``matrix`` an
    ndarray or a DataFrame, as :func:`heatmap` takes them.

    >>> import numpy as np, blocks_rx
    >>> o = blocks_rx.order_classes(np.eye(3), "identity")
    >>> ordered_matrix(np.arange(9).reshape(3, 3), o).image_.get_array()[0, 1]
    np.int64(1)
    """
    matrix, ordering = _matrix_and_ordering(matrix, ordering)
    m = matrix.shape[0]
    colours = cmap if isinstance(cmap, Scale) else None
    if colours is not None:
        cmap, vmin, vmax = colours.colormap(), colours.vmin, colours.vmax
    owned = ax is None
    fig, ax, text_ax = _matrix_axes(ax, m, max_labels, boxes, annotated=dict(
        bands=len(bands or ()), marks=bool(marks)))
    image, factor = _draw_matrix(ax, matrix, ordering, cmap=cmap, vmin=vmin, vmax=vmax,
                                 norm=norm)
    _label_classes(ax, ordering, m, max_labels)
    if factor > 1:  # say how the image was reduced to fewer cells than classes
        ax.set_xlabel(ax.get_xlabel() + f"\nimage: each cell is the mean of {factor} x "
                      f"{factor} matrix cells")
    right = _add_annotations(ax, ordering, text_ax, bands=bands, spans=spans, marks=marks,
                             boundaries=boundaries, dendrogram=dendrogram, boxes=boxes)
    if title:
        # Above the tree when there is one: its inset axes is 12% of the matrix's height.
        pad = 0.13 * _axes_inches(ax)[1] * 72 + 4 if dendrogram else 6
        ax.set_title(literal(title), fontsize=10, pad=pad)
    bar = None
    if colorbar:
        label = colours.label(colorbar) if colours is not None else colorbar
        extend = colours.extend if colours is not None else "neither"
        bar = add_colorbar(ax, image, label, norm=norm, extend=extend, offset=right,
                           text_ax=text_ax)
    if owned:
        fit_figure(fig)
    return HeatmapDisplay(ax, [ax] + ([text_ax] if text_ax is not None else []), image=image,
                          colorbar=bar, scale=colours, text_ax=text_ax)


def _matrix_and_ordering(matrix, ordering):
    """(matrix as an array, an Ordering of its classes) from a Similarity, DataFrame or array.

    Names known from the matrix (a Similarity's classes, a DataFrame's index) must be those
    the ordering orders; an array takes the ordering's names. With no ordering: as given.
    """
    names = None
    if isinstance(matrix, Similarity):
        names, matrix = tuple(matrix.classes), matrix.matrix
    elif hasattr(matrix, "index") and hasattr(matrix, "columns"):  # a pandas DataFrame
        names = tuple(str(c) for c in matrix.index)
        if names != tuple(str(c) for c in matrix.columns):
            raise SimilarityError("the DataFrame's columns must be its index's classes, "
                                  "in the same order")
        matrix = matrix.to_numpy()
    else:
        given, matrix = matrix, np.asarray(matrix)
        if matrix.dtype == object or matrix.dtype.kind not in "fiub":
            raise SimilarityError(f"expected an Analysis, a Similarity, or a square class x "
                                  f"class array or DataFrame, got {type(given).__name__}")
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise SimilarityError(f"expected a square class x class matrix, got shape {matrix.shape}")
    m = matrix.shape[0]
    if ordering is None:
        classes = names or tuple(str(j) for j in range(m))
        return matrix, Ordering(order=np.arange(m), classes=classes, method="given",
                                linkage=None, distance=None, hclust_backend=None)
    if ordering.n_classes != m:
        raise SimilarityError(f"a {m}-class matrix cannot take an ordering of "
                              f"{ordering.n_classes} classes")
    if names is not None and names != tuple(ordering.classes):
        raise SimilarityError("the ordering and the matrix are for different classes")
    return matrix, ordering


def _default_title(similarity, ordering) -> str | None:
    """What a Similarity holds and how it is ordered (None for a bare matrix)."""
    if not isinstance(similarity, Similarity):
        return None
    m = similarity.n_classes
    return (f"{similarity.measure} similarity of {similarity.kind}"
            + (f" ({similarity.transform})" if similarity.transform != "none" else "")
            + f", {m} classes, {similarity.n_samples:,} samples"
            + (f"\n{ordering.method} order, {ordering.linkage} linkage on {ordering.distance}"
               if ordering.linkage else f"\n{ordering.method} order"))


#: A label's box is about 1.25 times its font size tall: each labelled row needs that room.
LINE = 1.25
#: Smallest and largest class-label font sizes (points); labels are thinned below the smallest.
MIN_FONT, MAX_FONT = 4.5, 8.0


def matrix_figure(m: int, max_labels: int, *, text_panel_at: float | None = None,
                  panel_width: float | None = 4.0):
    """A new figure holding a matrix axes sized for ``m`` classes and, ``text_panel_at``
    inches right of it, a second axes (``panel_width`` inches wide: a text panel; None: a
    second matrix of the same size); :func:`fit_figure` trims the figure once drawn.

    The matrix side gives every label about 6.5 pt, between 5 and 12 inches.
    """
    labelled = len(label_positions(m, max_labels))
    side = float(np.clip(labelled * 6.5 * LINE / 72, 5.0, 12.0))
    second = side if panel_width is None else panel_width
    fig = new_figure((side + second + 22.0, side + 8.0))
    ax = add_axes_inches(fig, 4.0, 4.0, side, side)
    other = None
    if text_panel_at is not None:
        other = add_axes_inches(fig, 4.0 + side + text_panel_at, 4.0, second, side)
    return fig, ax, other


def _matrix_axes(ax, m, max_labels, boxes, annotated):
    """The figure and axes to draw on, plus the text panel that ``boxes`` need (else None)."""
    if ax is not None:
        if boxes:
            raise ValueError("boxes need their own figure (leave ax=None)")
        return ax.get_figure(root=False), ax, None
    gap = 0.3 + 0.35 * annotated["bands"] + (1.3 if annotated["marks"] else 0.0)
    return matrix_figure(m, max_labels, text_panel_at=gap if boxes else None)


def _axes_inches(ax) -> tuple[float, float]:
    """The axes' current width and height in inches (before layout: its planned size)."""
    box = ax.get_position()
    fig = ax.get_figure(root=True)
    return box.width * fig.get_figwidth(), box.height * fig.get_figheight()


def _draw_matrix(ax, matrix, ordering, *, cmap, vmin, vmax, norm):
    """Draw the matrix with rows and columns in the ordering's order; return the image and
    the pooling factor (1: every cell drawn)."""
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
    return image, factor


def _label_classes(ax, ordering, m, max_labels):
    """Label rows and columns with class names: all of them, or an even subset.

    The font fits the row pitch (labels never overlap): from MAX_FONT down to MIN_FONT,
    below which labels are thinned further.
    """
    names = ordering.ordered_classes
    height = min(_axes_inches(ax))
    fitting = max(1, int(height * 72 / (MIN_FONT * LINE)))
    ticks = label_positions(m, min(max_labels, fitting))
    if not ticks:
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_xlabel(literal(f"{m} classes in {ordering.method} order (not labelled)"))
        return
    # Thinned labels sit further apart than one row.
    step = ticks[1] - ticks[0] if len(ticks) > 1 else m
    fontsize = float(np.clip(height * 72 / m * step / LINE, MIN_FONT, MAX_FONT))
    labels = [literal(names[i]) for i in ticks]
    ax.set_xticks(ticks, labels, rotation=90, fontsize=fontsize)
    ax.set_yticks(ticks, labels, fontsize=fontsize)
    ax.tick_params(length=2, pad=1)
    if len(ticks) < m:
        ax.set_xlabel(literal(f"{m} classes in {ordering.method} order "
                              f"(one label per {step} classes)"))


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


def add_colorbar(ax, image, label, *, norm=None, extend="neither", offset=0.0, text_ax=None):
    """A labelled colour bar for the image, with arrows at the ends values go beyond.

    The bar is an inset of the matrix axes (so it moves with it), ``offset`` (axes units)
    past the side annotations; with a text panel (boxes) it lies across the panel's foot
    instead, so it does not come between the matrix and the boxes that describe it.
    """
    fig = ax.get_figure(root=False)
    if text_ax is not None:
        cax = text_ax.inset_axes([0.0, 0.02, 0.7, 0.025])
        bar = fig.colorbar(image, cax=cax, orientation="horizontal", extend=extend)
    else:
        bar = fig.colorbar(image, cax=ax.inset_axes([1.02 + offset, 0.2, 0.035, 0.6]),
                           extend=extend)
    bar.set_label(literal(label), fontsize=8)
    bar.ax.set_label("colorbar")
    if norm is not None:  # plain numbers at 1, 2, 5, 10, 20, ... rather than 10^0 notation
        from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

        axis = bar.ax.xaxis if text_ax is not None else bar.ax.yaxis
        axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
        axis.set_minor_formatter(NullFormatter())
    return bar


#: Above this many classes the image is averaged over blocks of cells before drawing: a figure
#: has fewer pixels than that anyway, and resampling 25 million cells costs seconds.
POOL_ABOVE = 2000


def ordered_image(matrix: np.ndarray, order: np.ndarray) -> tuple[np.ndarray, int]:
    """The matrix in ``order``, as drawn: whole up to POOL_ABOVE classes, else the mean of
    the finite cells of each factor x factor tile (:func:`~blocks_rx.plot._pool.pool_tiles`:
    a band of tiles at a time, never an ordered or float64 copy of the whole matrix).

    The last row and column of tiles hold fewer classes; the caller's extent of
    ``cells * factor`` and axis limits of ``m`` keep the image on the class positions.

    >>> M = np.arange(16.0).reshape(4, 4)
    >>> ordered_image(M, np.array([3, 2, 1, 0]))[0][0]
    array([15., 14., 13., 12.])
    """
    m = matrix.shape[0]
    if m <= POOL_ABOVE:
        return matrix[np.ix_(order, order)], 1
    factor = -(-m // (POOL_ABOVE // 2))
    return pool_tiles(matrix, order, order, factor), factor
