"""Colour scales for class x class matrices, and the rule behind their limits.

A similarity matrix is drawn on a **diverging** scale centred on 0 with symmetric limits
(seaborn's ``center=0``): r = 0 is the neutral colour, and equal |r| reads as equally strong
either way. By default the limits are ±(the largest |value| off the diagonal), so no pair of
distinct classes is clipped and none takes the diagonal's colour unless it is as strong;
``robust=True`` uses the 99th percentile of |value| instead, so a few extreme pairs do not wash
out the blocks. A matrix with no negative value off the diagonal (co-occurrence, cosine of
probabilities) gets a **sequential** scale from 0. Values beyond the limits (the diagonal,
usually) are drawn in a darker shade of the end colour (:meth:`Scale.colormap`), which the
colour bar's arrow at that end shows. The rule
is written in the colour bar's label, so a reader never has to guess it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import OptionError

#: Default colour maps: blue (negative) - white (0) - red (positive); light to dark red.
DIVERGING = "RdBu_r"
SEQUENTIAL = "Reds"
SCALES = ("auto", "diverging", "sequential")


@dataclass(frozen=True)
class Scale:
    """Colour limits and map for one matrix, with the rule that chose them.

    >>> s = colour_scale(np.array([[1.0, -0.2], [-0.2, 1.0]]))
    >>> s.vmin, s.vmax, s.cmap, s.extend
    (-0.2, 0.2, 'RdBu_r', 'max')
    >>> s.rule
    'limits ±0.2: largest |value| off the diagonal'
    """

    cmap: str
    vmin: float
    vmax: float
    rule: str
    extend: str  # "neither", "min", "max" or "both": which ends the matrix goes beyond

    def label(self, quantity: str) -> str:
        """The colour bar's label: what is shown, then the limits' rule."""
        return f"{quantity}\n{self.rule}"

    def colormap(self):
        """The colour map, with values beyond the limits (the diagonal, usually) drawn in a
        darker shade of the end colour, so no cell within the limits shares their colour."""
        import matplotlib

        base = matplotlib.colormaps[self.cmap] if isinstance(self.cmap, str) else self.cmap
        return base.with_extremes(over=_darker(base(1.0)), under=_darker(base(0.0)))


def colour_scale(matrix, *, scale: str = "auto", robust: bool = False, vmin=None, vmax=None,
                 cmap: str | None = None) -> Scale:
    """Choose the colour scale of a square class x class matrix (see the module docstring).

    ``vmin``/``vmax`` given by the caller win (the rule then says so); ``cmap`` overrides the
    map only.
    """
    if scale not in SCALES:
        raise OptionError(f"scale must be one of {', '.join(SCALES)}, not {scale!r}")
    low, high, magnitude = _off_diagonal_extent(matrix, robust)
    if scale == "auto":
        scale = "sequential" if low >= 0 else "diverging"
    which = "99th percentile of" if robust else "largest"
    if scale == "diverging":
        limit = magnitude if magnitude > 0 else 1.0
        lo, hi = -limit, limit
        rule = f"limits ±{limit:.3g}: {which} |value| off the diagonal"
    else:
        lo, hi = 0.0, (magnitude if magnitude > 0 else 1.0)
        rule = f"limits 0 to {hi:.3g}: {which} value off the diagonal"
    if vmin is not None or vmax is not None:
        lo = lo if vmin is None else float(vmin)
        hi = hi if vmax is None else float(vmax)
        rule = f"limits {lo:.3g} to {hi:.3g}, as given"
    if hi <= lo:
        raise OptionError(f"colour limits must have vmin < vmax, not {lo:g} and {hi:g}")
    default = DIVERGING if scale == "diverging" else SEQUENTIAL
    return Scale(cmap or default, float(lo), float(hi), rule, _extend(matrix, lo, hi))


def _darker(rgba, by: float = 0.5) -> tuple:
    """``rgba`` moved ``by`` of the way to black (alpha kept)."""
    r, g, b, a = rgba
    return (r * (1 - by), g * (1 - by), b * (1 - by), a)


def _off_diagonal_extent(matrix, robust: bool, stripe: int = 1024) -> tuple[float, float, float]:
    """(min, max, magnitude) of the finite values off the diagonal, a stripe of rows at a time.

    The magnitude is the largest |value| (or, robust, its 99th percentile) for a diverging
    scale; for a sequential one the caller reads it as the top. Off-diagonal of a 1 x 1
    matrix: none, so (0, 0, 0).
    """
    matrix = np.asarray(matrix)
    m = matrix.shape[0]
    low, high, kept = np.inf, -np.inf, []
    for start in range(0, m, stripe):
        block = np.array(matrix[start:start + stripe], dtype=np.float64)
        rows = np.arange(block.shape[0])
        block[rows, rows + start] = np.nan
        finite = block[np.isfinite(block)]
        if finite.size:
            low, high = min(low, finite.min()), max(high, finite.max())
            if robust:
                kept.append(finite)
    if not np.isfinite(low):
        return 0.0, 0.0, 0.0
    if robust:
        values = np.concatenate(kept)
        top = np.quantile(np.abs(values) if low < 0 else values, 0.99)
    else:
        top = max(abs(low), abs(high)) if low < 0 else high
    return float(low), float(high), float(top)


def _extend(matrix, lo: float, hi: float, stripe: int = 1024) -> str:
    """Which ends of the colour bar the matrix's finite values go beyond."""
    matrix = np.asarray(matrix)
    below = above = False
    for start in range(0, matrix.shape[0], stripe):
        block = np.asarray(matrix[start:start + stripe], dtype=np.float64)
        with np.errstate(invalid="ignore"):
            below = below or bool(np.any(block < lo))
            above = above or bool(np.any(block > hi))
    return {(False, False): "neither", (True, False): "min", (False, True): "max",
            (True, True): "both"}[(below, above)]
