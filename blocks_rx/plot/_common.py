"""Small helpers shared by the figures."""

from __future__ import annotations


def new_axes(ax, figsize):
    """Return (figure, axes): the given axes' figure, or a new standalone Figure."""
    if ax is not None:
        return ax.figure, ax
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:  # pragma: no cover - matplotlib is a dependency
        raise ImportError("figures need matplotlib: pip install matplotlib") from exc
    fig = Figure(figsize=figsize, layout="constrained")
    return fig, fig.add_subplot()


def label_positions(m: int, max_labels: int) -> list[int]:
    """Positions to label along an axis of ``m`` cells: all, or an even thinning."""
    if m <= max_labels:
        return list(range(m))
    step = -(-m // max_labels)
    return list(range(0, m, step))
