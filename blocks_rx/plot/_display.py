"""What every plot function returns: the figure, its axes and the artists it drew.

The pattern is scikit-learn's Display objects: a plot function computes nothing, draws onto
the axes (or figure) it is given or onto a new standalone Figure, and returns a
:class:`Display` whose attributes end in ``_`` (``figure_``, ``ax_``, ``image_``,
``colorbar_``...) so that code and tests can read what was drawn. Jupyter shows a Display as
its picture (``_repr_png_``); a script saves it with :meth:`Display.savefig`.
"""

from __future__ import annotations

import io


class Display:
    """A drawn figure and the artists in it.

    Attributes
    ----------
    figure_ : matplotlib.figure.Figure
        The figure drawn on (the given axes' figure, or a new standalone one).
    ax_ : matplotlib.axes.Axes
        The main axes: the matrix of a heatmap, the first panel of a multi-panel figure.
    axes_ : list of Axes
        Every panel the function drew, ``ax_`` first.
    Further attributes (``image_``, ``colorbar_``, ...) are listed by each plot function.

    Examples
    --------
    >>> import numpy as np
    >>> from blocks_rx import plot
    >>> shown = plot.heatmap(np.eye(3))
    >>> shown.image_.get_array().shape, shown.figure_ is shown.ax_.figure
    ((3, 3), True)
    """

    #: dpi of the picture Jupyter shows.
    repr_dpi = 100

    def __init__(self, ax, axes=None, **artists):
        self.ax_ = ax
        self.figure_ = ax.get_figure(root=True)
        self.axes_ = list(axes) if axes is not None else [ax]
        for name, artist in artists.items():
            setattr(self, f"{name}_", artist)

    def savefig(self, path, **kwargs):
        """Save the figure: ``display.savefig("heatmap.png", dpi=150)`` (as Figure.savefig)."""
        self.figure_.savefig(path, **kwargs)
        return path

    def _repr_png_(self) -> bytes:
        """The figure as PNG: what Jupyter shows (only this, so a notebook stores it once)."""
        buffer = io.BytesIO()
        self.figure_.savefig(buffer, format="png", dpi=self.repr_dpi)
        return buffer.getvalue()

    def __repr__(self) -> str:
        drawn = ", ".join(sorted(k for k in vars(self) if k.endswith("_") and k not in
                                 ("figure_", "ax_", "axes_")))
        size = self.figure_.get_size_inches()
        return (f"<{type(self).__name__}: {len(self.axes_)} axes on a {size[0]:.1f}x{size[1]:.1f}"
                f" in figure{'; ' + drawn if drawn else ''}>")


class HeatmapDisplay(Display):
    """An ordered matrix: ``image_`` (AxesImage), ``colorbar_`` (or None), ``scale_``
    (the colour :class:`~blocks_rx.plot._colour.Scale`), ``text_ax_`` (boxes' text panel or
    None)."""


class GroupsDisplay(HeatmapDisplay):
    """The groups heatmap: also ``failed_axes_`` (one inset column per failed group),
    ``split_patches_`` and ``coherent_patches_`` (the rectangles) and ``legend_``."""


class MembershipsDisplay(Display):
    """Fuzzy memberships: ``image_`` (classes x groups) and ``colorbar_``."""


class PanelsDisplay(Display):
    """A figure of several panels (confusions, distributions, layers, samples, frequency):
    ``axes_`` holds them in reading order."""

