"""Checks that a drawn figure reads right: every text inside the canvas, none over another.

Used by the figure tests; ``python tests/figure_checks.py FOLDER`` would need the figures as
objects, so the tests build them and call :func:`text_problems` directly.
"""

from __future__ import annotations

import io

import numpy as np


def visible_texts(fig):
    """(artist, window extent) of every drawn, non-empty text in the figure, after a draw.

    Tick labels count only for the ticks an axis draws (inside its view limits);
    matplotlib keeps label objects for the others but does not draw them.
    """
    from matplotlib.text import Text

    renderer = fig.canvas.get_renderer()
    tick_labels, drawn = set(), []
    for ax in fig.findobj(lambda a: hasattr(a, "xaxis") and hasattr(a, "yaxis")):
        for axis in (ax.xaxis, ax.yaxis):
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                tick_labels.update({id(tick.label1), id(tick.label2)})
            if ax.get_visible() and ax.axison and axis.get_visible():
                for tick in axis._update_ticks():
                    drawn += [t for t in (tick.label1, tick.label2) if t.get_visible()]
    texts = [a for a in fig.findobj(Text) if id(a) not in tick_labels] + drawn
    found = []
    for artist in texts:
        if not artist.get_visible() or not artist.get_text().strip() or not _shown(artist):
            continue
        found.append((artist, artist.get_window_extent(renderer)))
    return found


def _shown(artist) -> bool:
    """Whether the artist's axes is visible and, when clipped, it lies in its clip box."""
    axes = artist.axes
    if axes is not None and not axes.get_visible():
        return False
    if artist.get_clip_on() and axes is not None and artist.get_clip_box() is not None:
        return artist.get_window_extent().overlaps(artist.get_clip_box())
    return True


def text_problems(shown, *, dpi: int = 150, tolerance: float = 0.0, overlap: float = 0.15):
    """Texts that stick out of the figure or cover each other, as readable strings.

    ``shown`` is a Display or a Figure. Two texts clash when their boxes share more than
    ``overlap`` of the smaller box's area (tick labels touching by a pixel do not count).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = getattr(shown, "figure_", shown)
    fig.savefig(io.BytesIO(), format="png", dpi=dpi)  # lay out as saving does
    fig.set_dpi(dpi)
    FigureCanvasAgg(fig).draw()
    texts = visible_texts(fig)
    width, height = fig.canvas.get_width_height()
    problems = []
    for artist, box in texts:
        if (box.x0 < -tolerance or box.y0 < -tolerance or box.x1 > width + tolerance
                or box.y1 > height + tolerance):
            problems.append(f"outside the figure: {artist.get_text()!r} at "
                            f"({box.x0:.0f}, {box.y0:.0f})-({box.x1:.0f}, {box.y1:.0f}) "
                            f"in {width}x{height}")
    boxes = np.array([[b.x0, b.y0, b.x1, b.y1] for _, b in texts]) if texts else np.zeros((0, 4))
    for i in range(len(texts)):
        x0 = np.maximum(boxes[i, 0], boxes[i + 1:, 0])
        y0 = np.maximum(boxes[i, 1], boxes[i + 1:, 1])
        x1 = np.minimum(boxes[i, 2], boxes[i + 1:, 2])
        y1 = np.minimum(boxes[i, 3], boxes[i + 1:, 3])
        shared = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
        area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
        smaller = np.minimum(area[i], area[i + 1:])
        for j in np.flatnonzero(shared > overlap * np.maximum(smaller, 1.0)):
            other = texts[i + 1 + j][0]
            problems.append(f"overlap: {texts[i][0].get_text()!r} and {other.get_text()!r}")
    return problems
