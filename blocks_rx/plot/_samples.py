"""One sample per class for a range of the order (the notebook's 5 x 5 grids)."""

from __future__ import annotations

import textwrap

import numpy as np

from ..names import literal
from ._common import families_for, panels_figure
from ._display import PanelsDisplay


def class_samples(ordering, samples, *, start: int = 0, count: int = 25, columns: int = 5,
                  fig=None, title: str | None = None, cmap: str = "gray_r") -> PanelsDisplay:
    """A grid of one thumbnail per class, for ``count`` classes from position ``start``.

    Parameters
    ----------
    ordering : Ordering
    samples : dict or Collected
        One sample per class, keyed by class name or by class index (as
        :func:`blocks_rx.torch.collect` keeps ``thumbnails``; a ``Collected`` itself is taken
        too). A sample is an image, ``(H, W)``, ``(H, W, 3|4)`` or channel-first
        ``(1|3|4, H, W)`` as a model is fed, or a text snippet (str).
    start, count, columns : int
        Which part of the order to show, and the grid's width.
    fig : Figure or SubFigure, optional
        Draw into this (its panels are added to what it holds); default a new standalone
        Figure.

    Returns
    -------
    PanelsDisplay
        ``axes_``: one axes per shown class, titled with its position and name.

    Examples
    --------
    >>> import numpy as np, blocks_rx
    >>> o = blocks_rx.order_classes(np.eye(3), "identity", classes=["a", "b", "c"])
    >>> shown = class_samples(o, {"a": np.eye(4), 1: "text", "c": np.ones((1, 4, 4))}, count=3)
    >>> [ax.get_title() for ax in shown.axes_], len(shown.axes_[2].images)
    (['1. a', '2. b', '3. c'], 1)
    """
    names = ordering.ordered_classes[start : start + count]
    if not names:
        raise ValueError(f"no classes from position {start} (there are {ordering.n_classes})")
    by_name = _samples_by_name(samples, ordering.classes)
    rows = -(-len(names) // columns)
    if fig is None:
        fig = panels_figure((2.1 * columns, 2.3 * rows))
    axes = np.atleast_1d(fig.subplots(rows, columns)).ravel()
    for ax in axes[len(names):]:
        ax.remove()
    for offset, (ax, name) in enumerate(zip(axes, names)):
        _draw_sample(ax, by_name.get(name), cmap)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(literal(f"{start + offset + 1}. {name}"), fontsize=8)
    if title:
        fig.suptitle(literal(title), fontsize=11)
    shown = list(axes[:len(names)])
    return PanelsDisplay(shown[0], shown)


def _samples_by_name(samples, classes) -> dict:
    """Samples keyed by class name, whether given by name, by class index or as a Collected."""
    samples = getattr(samples, "thumbnails", samples)
    out = {}
    for key, sample in samples.items():
        if isinstance(key, (int, np.integer)) and not isinstance(key, bool):
            if not 0 <= key < len(classes):
                raise ValueError(f"sample for class index {key}, but there are "
                                 f"{len(classes)} classes")
            key = classes[key]
        out[str(key)] = sample
    return out


def _draw_sample(ax, sample, cmap) -> None:
    """One panel: an image, a text snippet, or a grey "no sample"."""
    if sample is None:
        ax.text(0.5, 0.5, "no sample", ha="center", va="center", color="0.5", fontsize=8)
    elif isinstance(sample, str):
        ax.text(0.5, 0.5, literal(textwrap.fill(sample, 22)), ha="center", va="center",
                fontsize=7, family=families_for(sample))
    else:
        image = _as_image(np.asarray(sample))
        ax.imshow(image, cmap=cmap if image.ndim == 2 else None, interpolation="nearest")


def _as_image(array: np.ndarray) -> np.ndarray:
    """An array imshow draws: (H, W) or (H, W, 3|4) in [0, 1]; channel-first is moved last.

    A colour image outside [0, 1] (a normalised model input) is rescaled to its own range.
    """
    if array.ndim == 3 and array.shape[0] in (1, 3, 4) and array.shape[-1] not in (3, 4):
        array = np.moveaxis(array, 0, -1)
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim not in (2, 3):
        raise ValueError(f"a sample image must be 2-D or 3-D, not shape {array.shape}")
    if array.ndim == 3 and array.dtype.kind == "f" and (array.min() < 0 or array.max() > 1):
        low, high = float(array.min()), float(array.max())
        array = (array - low) / (high - low if high > low else 1.0)
    return array
