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
from typing import NamedTuple

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
    map only. One pass over the matrix, a stripe of rows at a time (:func:`_scan`).

    >>> s = colour_scale(np.array([[1.0, 0.4, np.nan], [0.4, 1.0, 0.1], [np.nan, 0.1, 1.0]]))
    >>> s.vmin, s.vmax, s.cmap, s.extend
    (0.0, 0.4, 'Reds', 'max')
    """
    if scale not in SCALES:
        raise OptionError(f"scale must be one of {', '.join(SCALES)}, not {scale!r}")
    extent = _scan(matrix, robust)
    low, magnitude = extent.low, extent.top
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
    return Scale(cmap or default, float(lo), float(hi), rule,
                 _beyond(extent.smallest, extent.largest, lo, hi))


def _darker(rgba, by: float = 0.5) -> tuple:
    """``rgba`` moved ``by`` of the way to black (alpha kept)."""
    r, g, b, a = rgba
    return (r * (1 - by), g * (1 - by), b * (1 - by), a)


#: Cells of the matrix one stripe of rows holds (4 MB of float32): a stripe stays in cache
#: between the passes for its smallest and largest values.
STRIPE_CELLS = 1 << 20


class Extent(NamedTuple):
    """What a colour scale needs from a square matrix, found in one pass (:func:`_scan`)."""

    #: Smallest and largest finite value off the diagonal (0, 0 when there is none).
    low: float
    high: float
    #: The scale's magnitude: largest |value| off the diagonal, or its 99th percentile
    #: (robust); for a sequential scale (no negative value) the largest value, or its 99th
    #: percentile.
    top: float
    #: Smallest and largest value anywhere, the diagonal and infinities included (NaN when
    #: every value is NaN): whether the matrix goes beyond the limits.
    smallest: float
    largest: float


def _scan(matrix, robust: bool = False) -> Extent:
    """The :class:`Extent` of a square matrix, a stripe of rows at a time, in the matrix's
    own dtype (minimum and maximum are exact in float32: no float64 copy of a stripe).

    >>> _scan(np.array([[1.0, -0.2, np.nan], [0.3, 1.0, 0.1], [0.0, 0.2, 2.0]]))
    Extent(low=-0.2, high=0.3, top=0.3, smallest=-0.2, largest=2.0)
    """
    values = np.asarray(matrix)
    m = values.shape[0]
    low = high = smallest = largest = np.nan
    kept = []
    rows = max(1, STRIPE_CELLS // max(m, 1))
    for start in range(0, m, rows):
        stop = min(m, start + rows)
        stripe = values[start:stop]
        # Only the square that holds this stripe's diagonal is copied, to blank it.
        square = np.array(stripe[:, start:stop], dtype=np.result_type(values.dtype, np.float32))
        diagonal = square.diagonal().copy()
        np.fill_diagonal(square, np.nan)
        parts = [part for part in (stripe[:, :start], square, stripe[:, stop:]) if part.size]
        least, most = _fmin(parts), _fmax(parts)
        smallest = np.fmin(smallest, np.fmin(least, _fmin([diagonal])))
        largest = np.fmax(largest, np.fmax(most, _fmax([diagonal])))
        if not (np.isfinite(least) and np.isfinite(most)) or robust:
            # An infinity (or a stripe of NaN) off the diagonal, or a percentile to take:
            # only the finite values count towards the limits.
            finite = [np.asarray(part[np.isfinite(part)], dtype=np.float64) for part in parts]
            least, most = _fmin(finite), _fmax(finite)
            if robust:
                kept += finite
        low, high = np.fmin(low, least), np.fmax(high, most)
    smallest, largest = float(smallest), float(largest)
    if np.isnan(low):
        return Extent(0.0, 0.0, 0.0, smallest, largest)
    low, high = float(low), float(high)
    if robust:
        finite = np.concatenate(kept)
        top = float(np.quantile(np.abs(finite) if low < 0 else finite, 0.99))
    else:
        top = max(abs(low), abs(high)) if low < 0 else high
    return Extent(low, high, top, smallest, largest)


def _fmin(parts) -> float:
    """The smallest non-NaN value of arrays (NaN when there is none)."""
    return np.fmin.reduce([np.fmin.reduce(part, axis=None) for part in parts if part.size]
                          or [np.nan])


def _fmax(parts) -> float:
    """The largest non-NaN value of arrays (NaN when there is none)."""
    return np.fmax.reduce([np.fmax.reduce(part, axis=None) for part in parts if part.size]
                          or [np.nan])


def _beyond(smallest: float, largest: float, lo: float, hi: float) -> str:
    """Which ends of the colour bar values from ``smallest`` to ``largest`` go beyond."""
    below, above = bool(smallest < lo), bool(largest > hi)
    return {(False, False): "neither", (True, False): "min", (False, True): "max",
            (True, True): "both"}[(below, above)]


def _extend(matrix, lo: float, hi: float) -> str:
    """Which ends of the colour bar the matrix's values (any shape) go beyond, a stripe of
    rows at a time in its own dtype."""
    values = np.asarray(matrix)
    rows = max(1, STRIPE_CELLS // max(values.shape[1] if values.ndim > 1 else 1, 1))
    stripes = [values[start:start + rows] for start in range(0, len(values), rows)]
    return _beyond(_fmin(stripes), _fmax(stripes), lo, hi)
