"""Layer-wise class structure: one similarity heatmap per layer, all in one order."""

from __future__ import annotations

import numpy as np

from ..names import literal
from ._colour import colour_scale
from ._common import label_positions, panels_figure
from ._display import PanelsDisplay

#: Short names of the agreement measures, for panel titles.
_MEASURE_SYMBOL = {"spearman": "Spearman ρ", "cophenetic": "cophenetic r"}


def layer_heatmaps(
    structure,
    *,
    cmap: str | None = None,
    panel_size: float = 3.0,
    max_labels: int = 40,
    title: str | None = None,
    fig=None,
):
    """Draw each layer's class similarity, then the output's, in the output's order.

    Every panel uses ``structure.ordering`` (the output similarity's hclust order), so
    blocks that line up across panels are the same classes. Each panel's title gives the
    layer's agreement with the output (``structure.agreement``, computed by
    :func:`blocks_rx.torch.layer_structure`; this function only draws it). Colour limits
    are per panel, by :func:`heatmap`'s rule (diverging and centred on 0, ±the largest
    |r| off the diagonal; diverging even when no r is negative, so white is r = 0 in every
    panel), shown by a colour bar
    under each panel, because layers differ in their correlation range: early layers' mean
    activations are often all alike (r > 0.95).

    Parameters
    ----------
    structure : blocks_rx.torch.LayerStructure
    cmap : str, optional
        Colormap; by default blue (negative), white (0), red (positive).
    panel_size : float
        Width of one panel, in inches.
    max_labels : int
        Label every class up to this many classes, else an even subset.
    title : str, optional
        Figure title; default names the order and the agreement measure.
    fig : Figure or SubFigure, optional
        Draw into this (its panels are added to what it holds); default a new standalone
        Figure.

    Returns
    -------
    PanelsDisplay
        ``axes_``: one matrix axes per layer plus one for the output, left to right;
        ``images_`` and ``colorbars_`` in the same order.

    Examples
    --------
    >>> import torch
    >>> from blocks_rx.torch import collect, layer_structure
    >>> model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    >>> data = [(torch.randn(60, 4), torch.arange(60) % 3)]
    >>> shown = layer_heatmaps(layer_structure(collect(model, data, layers=["0"])))
    >>> [ax.get_label() for ax in shown.axes_]
    ['matrix:0', 'matrix:output']
    """
    ordering = structure.ordering
    m = len(ordering.order)
    panels = [(name, sim) for name, sim in structure.layers.items()]
    panels.append(("output", structure.output))
    if fig is None:
        # h_pad: room between the wrapped title and the two-line panel titles below it.
        fig = panels_figure((panel_size * len(panels) + 0.8, panel_size + 1.6), h_pad=0.1)
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    ticks = label_positions(m, max_labels)
    fontsize = max(4.0, min(8.0, 300.0 / max(len(ticks), 1)))
    symbol = _MEASURE_SYMBOL.get(structure.measure, structure.measure)

    drawn = []
    for i, (ax, (name, sim)) in enumerate(zip(axes, panels)):
        if tuple(sim.classes) != tuple(ordering.classes):
            raise ValueError(f"panel {name!r} is for different classes than the ordering")
        drawn.append(_draw_panel(fig, ax, name, sim, structure, cmap=cmap, ticks=ticks,
                                 fontsize=fontsize, tick_labels=i == 0))
    if title is None:
        title = _default_title(structure)
    width = fig.bbox.width / fig.get_figure(root=True).dpi  # inches; a SubFigure's own width
    fig.suptitle(literal(_wrap(title, width, 10)), fontsize=10)
    # supxlabel, not fig.text: constrained layout makes room for it below the colour bars.
    fig.supxlabel(literal(_wrap(f"{symbol}: {structure.description}. Colour limits per panel: "
                                "±the largest |r| off the diagonal; white is r = 0 in every "
                                "panel.",
                                width, 7.5)), fontsize=7.5, color="0.3")
    return PanelsDisplay(axes[0], axes, images=[image for image, _ in drawn],
                         colorbars=[bar for _, bar in drawn])


def _draw_panel(fig, ax, name, sim, structure, *, cmap, ticks, fontsize, tick_labels):
    """One layer's (or the output's) ordered matrix, its title and its colour bar."""
    order = np.asarray(structure.ordering.order)
    names = structure.ordering.ordered_classes
    ax.set_label(f"matrix:{name}")
    colours = colour_scale(sim.matrix, scale="diverging", cmap=cmap)
    image = ax.imshow(np.asarray(sim.matrix)[np.ix_(order, order)], cmap=colours.colormap(),
                      vmin=colours.vmin, vmax=colours.vmax,
                      interpolation="nearest" if len(order) <= 400 else "antialiased")
    labels = [literal(names[t]) for t in ticks]
    ax.set_xticks(ticks, labels, rotation=90, fontsize=fontsize)
    ax.set_yticks(ticks, labels if tick_labels else [], fontsize=fontsize)
    ax.tick_params(length=2, pad=1)
    if name == "output":
        detail = f"{sim.kind}, {sim.n_samples:,} samples"
        ax.set_title(literal(f"output ({detail})\nreference for the order"), fontsize=9)
    else:
        symbol = _MEASURE_SYMBOL.get(structure.measure, structure.measure)
        value = structure.agreement.get(name)
        shown = "n/a" if value is None or not np.isfinite(value) else f"{value:.2f}"
        ax.set_title(literal(f"{name} ({sim.n_samples} features)\n"
                             f"{symbol} vs output = {shown}"), fontsize=9)
    bar = fig.colorbar(image, ax=ax, orientation="horizontal", shrink=0.85, pad=0.02,
                       aspect=25, extend=colours.extend)
    bar.ax.tick_params(labelsize=7)
    bar.locator = _bar_locator()
    bar.update_ticks()
    return image, bar


def _default_title(structure) -> str:
    """What the panels show and in which order."""
    ordering = structure.ordering
    linkage = f"{ordering.linkage} linkage on {ordering.distance}" if ordering.linkage else ""
    centred = any(s.transform == "center-features" for s in structure.layers.values())
    return ("Class similarity by layer: Pearson between classes' mean activations"
            + (", features centred" if centred else "")
            + f" (classes by {structure.assignment}); every panel in the output's "
            f"{ordering.method} order" + (f" ({linkage})" if linkage else ""))


def _wrap(text, width_inches, fontsize):
    """Break text into lines that fit the figure (about 0.5 em per character)."""
    import textwrap

    return textwrap.fill(text, max(30, int(width_inches * 72 / (0.5 * fontsize) * 0.9)))


def _bar_locator():
    from matplotlib.ticker import MaxNLocator

    return MaxNLocator(nbins=3)
