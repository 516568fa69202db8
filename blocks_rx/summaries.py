"""Compact HTML summaries of result objects, which Jupyter shows in place of their repr.

Each result class (:class:`~blocks_rx.similarity.Similarity`,
:class:`~blocks_rx.ordering.Ordering`, :class:`~blocks_rx.groups.Groups`,
:class:`~blocks_rx.groups.GroupFindings`, :class:`~blocks_rx.pipeline.Analysis`) has a
``_repr_html_`` that calls :func:`html_summary` with a title, a few rows of facts and,
where one helps, a small picture of the ordered matrix (:func:`matrix_thumbnail`).

>>> print(html_summary("Example", [("classes", 3)]))
<div class="blocks-rx"><b>Example</b><table><tr><th style="text-align:left">classes</th><td style="text-align:left">3</td></tr></table></div>
"""

from __future__ import annotations

import base64
import html
import io

import numpy as np

#: No thumbnail above this many classes: pooling a larger matrix takes seconds.
THUMBNAIL_MAX_CLASSES = 5000


def html_summary(title: str, rows, picture: str | None = None,
                 alt: str = "the ordered matrix") -> str:
    """A titled two-column table of facts, with an optional picture (a data URI) beside it."""
    cells = "".join(f'<tr><th style="text-align:left">{html.escape(str(key))}</th>'
                    f'<td style="text-align:left">{html.escape(str(value))}</td></tr>'
                    for key, value in rows)
    table = f"<b>{html.escape(title)}</b><table>{cells}</table>"
    if picture is None:
        return f'<div class="blocks-rx">{table}</div>'
    return (f'<div class="blocks-rx" style="display:flex;gap:1em;align-items:flex-start">'
            f'<div>{table}</div><img src="{picture}" alt="{html.escape(alt)}"/></div>')


def matrix_thumbnail(matrix, order=None, *, inches: float = 2.6, dpi: int = 72) -> str | None:
    """A small picture of the matrix in ``order``, as a PNG data URI (None when too large).

    The colour rule is :func:`blocks_rx.plot.heatmap`'s (diverging, centred on 0).
    """
    m = np.shape(matrix)[0]
    if m > THUMBNAIL_MAX_CLASSES or m == 0:
        return None
    from matplotlib.figure import Figure

    from .plot._colour import colour_scale
    from .plot._heatmap import ordered_image

    order = np.arange(m) if order is None else np.asarray(order)
    image, _ = ordered_image(matrix, order)
    scale = colour_scale(matrix)
    fig = Figure(figsize=(inches, inches), layout="constrained")
    ax = fig.add_subplot()
    ax.imshow(image, cmap=scale.colormap(), vmin=scale.vmin, vmax=scale.vmax,
              interpolation="nearest" if m <= 400 else "antialiased")
    ax.set_axis_off()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def first_names(names, count: int = 6) -> str:
    """The first few names, then how many more: ``a, b, c, ... (97 in all)``."""
    names = list(names)
    shown = ", ".join(names[:count])
    return shown + (f", ... ({len(names)} in all)" if len(names) > count else "")


def off_diagonal_range(matrix) -> str:
    """``min / mean / max`` of the values above the diagonal of a symmetric matrix, read a
    stripe at a time (:func:`blocks_rx.similarity._upper_stripes`).

    >>> off_diagonal_range(np.array([[1.0, 0.2, -0.4], [0.2, 1.0, 0.5], [-0.4, 0.5, 1.0]]))
    '-0.400 / 0.100 / 0.500'
    """
    from .similarity import _upper_stripes

    matrix = np.asarray(matrix)
    m = matrix.shape[0]
    if m < 2:
        return "n/a"
    low, high, total = np.inf, -np.inf, 0.0
    for values in _upper_stripes(matrix):
        low, high = min(low, float(values.min())), max(high, float(values.max()))
        total += float(values.sum(dtype=np.float64))
    return f"{low:.3f} / {total / (m * (m - 1) // 2):.3f} / {high:.3f}"
