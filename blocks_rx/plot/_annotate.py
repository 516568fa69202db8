"""Side annotations for an ordered matrix drawn with ``imshow`` (cells at 0..m-1).

Each helper adds a thin inset axes beside the matrix axes, aligned with its rows, so the
annotations follow the matrix however the figure is laid out. Spans, bands and marks are
given in *positions along the order*: ``(start, end)`` is the half-open range of rows.
"""

from __future__ import annotations

import numpy as np

from ..names import literal

#: Qualitative colours for taxonomy bands, dark enough for white text.
BAND_COLOURS = ("#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860",
                "#da8bc3", "#8c8c8c", "#ccb974", "#64b5cd")


def _side_axes(ax, side: str, offset: float, width: float):
    """An inset axes beside ``ax`` spanning its full height, sharing its row coordinates."""
    x0 = 1.0 + offset if side == "right" else -offset - width
    inset = ax.inset_axes([x0, 0.0, width, 1.0], sharey=ax)
    inset.set_xlim(0, 1)
    inset.set_xticks([])
    inset.tick_params(left=False, labelleft=False, right=False, labelright=False)
    for spine in inset.spines.values():
        spine.set_visible(False)
    return inset


def add_bands(ax, levels, *, offset: float = 0.01, width: float = 0.035, fontsize: float = 7.0):
    """Coloured bands, one column per taxonomy level, right of the matrix.

    ``levels`` is a list (top level first) of lists of ``(start, end, name)``. Top-level
    groups take distinct colours; a group of a deeper level takes a tint of the colour of
    the top-level group it lies in, lighter and darker in turn, so no colour stands for two
    levels. Each group is labelled with its name when it is tall enough to hold it.
    Returns the band axes, top level first.
    """
    from matplotlib.patches import Rectangle

    axes = []
    m = max(end for level in levels for _, end, _ in level)
    top = [(start, end, BAND_COLOURS[i % len(BAND_COLOURS)])
           for i, (start, end, _) in enumerate(levels[0])]
    for depth, level in enumerate(levels):
        band = _side_axes(ax, "right", offset + depth * (width + 0.004), width)
        band.set_label(f"taxonomy level {depth + 1}")
        for index, (start, end, name) in enumerate(level):
            colour = _band_colour(top, start, depth, index)
            band.add_patch(Rectangle((0, start - 0.5), 1, end - start, facecolor=colour,
                                     edgecolor="white", linewidth=0.6, label=name))
            if (end - start) / m > 0.04:
                band.text(0.5, (start + end - 1) / 2, literal(name), rotation=90, ha="center",
                          va="center", fontsize=fontsize, color=_text_on(colour), clip_on=True)
        axes.append(band)
    return axes


def _band_colour(top, start, depth, index):
    """The top-level colour, or for deeper levels a tint of the enclosing top group's."""
    from matplotlib.colors import to_rgb

    parent = next((c for s, e, c in top if s <= start < e), BAND_COLOURS[0])
    if depth == 0:
        return parent
    towards_white = 0.55 if index % 2 == 0 else 0.3
    return tuple(c + (1.0 - c) * towards_white for c in to_rgb(parent))


def _text_on(colour) -> str:
    """Black or white, whichever reads better on ``colour`` (by relative luminance)."""
    from matplotlib.colors import to_rgb

    r, g, b = to_rgb(colour)
    return "black" if 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.55 else "white"


def add_spans(ax, spans, *, offset: float = 0.01, width: float = 0.06, colour: str = "#2a9d3a",
              fontsize: float = 8.0):
    """Labelled brackets left of the matrix for groups ``(start, end, label)``.

    The matrix's own row labels are hidden: spans take their place.
    """
    ax.tick_params(labelleft=False, left=False)
    side = _side_axes(ax, "left", offset, width)
    side.set_label("spans")
    for start, end, label in spans:
        top, bottom = start - 0.4, end - 0.6
        side.plot([0.95, 0.8, 0.8, 0.95], [top, top, bottom, bottom], color=colour, lw=1.6,
                  solid_capstyle="butt")
        side.text(0.7, (top + bottom) / 2, literal(label), ha="right", va="center",
                  fontsize=fontsize, color=colour, fontweight="bold")
    return side


def add_marks(ax, positions, labels=None, *, offset: float = 0.01, width: float = 0.04,
              colour: str = "black", fontsize: float = 7.0):
    """Tick marks right of the matrix at the given row positions (e.g. star-pattern classes)."""
    side = _side_axes(ax, "right", offset, width)
    side.set_label("marks")
    side.hlines(positions, 0.0, 0.6, color=colour, linewidth=1.5)
    for position, label in zip(positions, labels or []):
        side.text(0.7, position, literal(label), ha="left", va="center", fontsize=fontsize,
                  clip_on=False)
    return side


def add_boundaries(ax, positions, *, colour: str = "black", linewidth: float = 0.8):
    """Lines across the matrix between groups, before each given row position."""
    for position in positions:
        ax.axhline(position - 0.5, color=colour, linewidth=linewidth)
        ax.axvline(position - 0.5, color=colour, linewidth=linewidth)


def add_dendrogram(ax, ordering, *, height: float = 0.12, colour: str = "0.25"):
    """The ordering's tree above the matrix, leaves aligned with the columns.

    Drawn from ``merge``/``height`` directly (no recursion), so deep trees of many
    thousand leaves draw too.
    """
    from matplotlib.collections import LineCollection

    merge, heights = ordering.merge, ordering.height
    m = ordering.n_classes
    position = ordering.positions.astype(np.float64)
    node_x = np.empty(m - 1)
    node_y = np.asarray(heights, dtype=np.float64)
    segments = []
    for step, (a, b) in enumerate(merge):
        xs, ys = [], []
        for child in (a, b):
            if child < 0:
                xs.append(position[-child - 1])
                ys.append(0.0)
            else:
                xs.append(node_x[child - 1])
                ys.append(node_y[child - 1])
        node_x[step] = (xs[0] + xs[1]) / 2
        top = node_y[step]
        segments.append([(xs[0], ys[0]), (xs[0], top), (xs[1], top), (xs[1], ys[1])])
    tree = ax.inset_axes([0.0, 1.01, 1.0, height], sharex=ax)
    tree.set_label("dendrogram")
    tree.add_collection(LineCollection(segments, colors=colour, linewidths=0.5))
    tree.set_ylim(min(0.0, node_y.min()), node_y.max() * 1.02)
    tree.axis("off")
    return tree


def add_boxes(ax, boxes, text_ax, *, colour: str = "#d62728", fontsize: float = 7.5):
    """Outline diagonal blocks and list what is in them in text boxes on ``text_ax``.

    ``boxes`` holds ``(start, end, title, lines)``: a block of rows/columns ``start:end``, a
    short title drawn at the block and heading its text box, and the lines (class names,
    examples) of the box. Boxes stack from the top of ``text_ax``; text in any script is
    drawn with the installed fonts that have its characters.
    """
    from matplotlib.patches import Rectangle

    from ._common import families_for

    text_ax.axis("off")
    y = 1.0
    for start, end, title, lines in boxes:
        ax.add_patch(Rectangle((start - 0.5, start - 0.5), end - start, end - start, fill=False,
                               edgecolor=colour, linewidth=2.0, label=title))
        ax.text(end - 0.5, start - 0.5, literal(f" {title.split(':')[0]}"), color=colour,
                fontsize=fontsize + 2, fontweight="bold", ha="left", va="bottom")
        body = "\n".join([title, *lines])
        text = text_ax.text(0.0, y, literal(body), transform=text_ax.transAxes, fontsize=fontsize,
                            va="top", ha="left", family=families_for(body),
                            bbox=dict(boxstyle="round", facecolor="white", edgecolor=colour))
        y -= (len(lines) + 2.2) * fontsize * 1.45 / (72 * text_ax.figure.get_figheight()
                                                      * text_ax.get_position().height)
        text.set_gid("box")
