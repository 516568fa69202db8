"""Two class structures side by side, and their difference (:func:`blocks_rx.compare`)."""

from __future__ import annotations

import numpy as np

from ..names import literal
from ._colour import DIVERGING, Scale, _extend, colour_scale
from ._common import add_axes_inches, fit_figure, label_positions, move_beside, new_figure
from ._display import PanelsDisplay
from ._heatmap import LINE, ordered_matrix

#: Diverging map of the difference B - A: not A's and B's, so it is never read as a similarity.
DIFFERENCE_CMAP = "PuOr_r"
#: The difference's colour limits are never narrower than ±this: the similarity's precision
#: (float32 products; the engines agree to 1e-5). Two runs that differ only by rounding then
#: show a white difference, not their rounding noise in full colour.
DIFFERENCE_FLOOR = 1e-5
#: Panel titles show at most this many characters of a source (its end: the folder's name).
TITLE_CHARACTERS = 45


class ComparisonDisplay(PanelsDisplay):
    """A, B and B - A: ``axes_`` (those three matrices, left to right), ``images_``,
    ``colorbars_`` and ``scales_`` in the same order (A and B share one scale)."""


def comparison(comp, *, fig=None, max_labels: int = 60, title: str | None = None):
    """Draw A, B and their difference B - A in the comparison's common order.

    A and B share one diverging colour scale centred on 0, limits ±(the largest |r| off
    the diagonal of either), so equal colours are equal similarities; the difference has a
    diverging scale of its own (another colour map), ±(its largest |value|), never narrower
    than ±:data:`DIFFERENCE_FLOOR`. Every colour bar states its rule. Nothing is computed here but the colour limits.

    Parameters
    ----------
    comp : blocks_rx.comparison.Comparison
    fig : Figure or SubFigure, optional
        Draw into this (three panels are added); default a new standalone Figure.
    max_labels : int
        Label every class up to this many classes, else an even subset.
    title : str, optional
        Default: the classes compared, the order, and the numbers.

    Returns
    -------
    ComparisonDisplay

    Examples
    --------
    >>> import numpy as np, blocks_rx
    >>> S = np.random.default_rng(0).normal(size=(300, 5))
    >>> a = blocks_rx.compute_similarity(S)
    >>> b = blocks_rx.compute_similarity(S[:, ::-1].copy())
    >>> shown = comparison(blocks_rx.compare(a, b))
    >>> [ax.get_title().split(":")[0] for ax in shown.axes_]
    ['A', 'B', 'B − A']
    """
    m = comp.n_classes
    owned = fig is None
    axes = _three_axes(m, max_labels) if owned else fig.subplots(1, 3)
    shared = _shared_scale(comp.matrix_a, comp.matrix_b)
    difference = comp.matrix_b - comp.matrix_a
    scales = [shared, shared, _difference_scale(difference)]
    sources = comp.provenance["sources"]
    panels = [(comp.matrix_a, f"A: {_short(sources['a'])}", "similarity (A and B)"),
              (comp.matrix_b, f"B: {_short(sources['b'])}", "similarity (A and B)"),
              (difference, "B − A: what moved", "difference of similarity, B − A")]
    drawn = [ordered_matrix(matrix, comp.ordering, ax=ax, cmap=scale, max_labels=max_labels,
                            title=name, colorbar=quantity)
             for ax, scale, (matrix, name, quantity) in zip(axes, scales, panels)]
    heading = title if title is not None else _default_title(comp)
    if owned:
        move_beside(axes[0].figure, axes[0], axes[1])
        move_beside(axes[0].figure, axes[1], axes[2])
        fit_figure(axes[0].figure, title=literal(heading))
    else:
        fig.suptitle(literal(heading), fontsize=12)
    return ComparisonDisplay(axes[0], axes, images=[d.image_ for d in drawn],
                             colorbars=[d.colorbar_ for d in drawn], scales=scales)


def _three_axes(m: int, max_labels: int):
    """Three square matrix axes in a new figure, each sized as a heatmap's (every label
    about 6.5 pt, 5 to 12 inches), spread wide; :func:`move_beside` then closes the gaps."""
    labelled = len(label_positions(m, max_labels))
    side = float(np.clip(labelled * 6.5 * LINE / 72, 5.0, 12.0))
    gap = 8.0
    fig = new_figure((3 * side + 2 * gap + 8.0, side + 8.0))
    return [add_axes_inches(fig, 4.0 + i * (side + gap), 4.0, side, side) for i in range(3)]


def _shared_scale(matrix_a, matrix_b) -> Scale:
    """One diverging scale for both matrices: ±(the larger of their off-diagonal |r| maxima)."""
    limit = max(colour_scale(matrix, scale="diverging").vmax for matrix in (matrix_a, matrix_b))
    extend = _extend(np.concatenate([matrix_a, matrix_b]), -limit, limit)
    return Scale(DIVERGING, -limit, limit,
                 f"limits ±{limit:.3g}: largest |value| off the diagonal of A and B", extend)


def _difference_scale(difference) -> Scale:
    """±(the largest |B - A|), or ±:data:`DIFFERENCE_FLOOR` when every difference is below
    the similarity's precision (the rule then says so).

    >>> _difference_scale(np.array([[0.0, 3e-8], [3e-8, 0.0]])).rule
    'limits ±1e-05, the precision of a similarity: every |B − A| is below it (largest 3e-08)'
    """
    scale = colour_scale(difference, scale="diverging", cmap=DIFFERENCE_CMAP)
    if scale.vmax >= DIFFERENCE_FLOOR:
        return scale
    return Scale(DIFFERENCE_CMAP, -DIFFERENCE_FLOOR, DIFFERENCE_FLOOR,
                 f"limits ±{DIFFERENCE_FLOOR:g}, the precision of a similarity: every |B − A| "
                 f"is below it (largest {scale.vmax:.3g})", "neither")


def _short(source: str) -> str:
    """The end of a long source name (a path's end names the folder)."""
    text = str(source)
    return text if len(text) <= TITLE_CHARACTERS else "…" + text[-(TITLE_CHARACTERS - 1):]


def _default_title(comp) -> str:
    """What was compared, in which order, and the numbers; then the classes one side lacks."""
    missing = [f"{len(names)} only in {side} ({', '.join(names[:3])}"
               + (", ...)" if len(names) > 3 else ")")
               for side, names in (("A", comp.only_in_a), ("B", comp.only_in_b)) if names]
    return (f"{comp.n_classes} classes common to A and B, in "
            f"{comp.ordering.method} order" + (f"; {'; '.join(missing)}" if missing else "")
            + f"\n{comp.numbers()}")
