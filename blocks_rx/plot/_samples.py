"""One sample per class for a range of the order (the notebook's 5 x 5 grids)."""

from __future__ import annotations

import textwrap

import numpy as np

from ..names import literal
from ._common import families_for, new_axes


def class_samples(ordering, samples, *, start: int = 0, count: int = 25, columns: int = 5,
                  fig=None, title: str | None = None, cmap: str = "gray_r"):
    """A grid of one thumbnail per class, for ``count`` classes from position ``start``.

    Parameters
    ----------
    ordering : Ordering
    samples : dict
        Class name -> an image (2-D or H x W x 3 array) or a text snippet (str).
    start, count, columns : int
        Which part of the order to show, and the grid's width.

    Returns
    -------
    matplotlib.figure.Figure
        One axes per shown class, titled with its position and name.

    Examples
    --------
    >>> import numpy as np, blocks_rx
    >>> o = blocks_rx.order_classes(np.eye(3), "identity", classes=["a", "b", "c"])
    >>> fig = class_samples(o, {"a": np.eye(4), "b": "text", "c": np.ones((4, 4))}, count=3)
    >>> [ax.get_title() for ax in fig.axes]
    ['1. a', '2. b', '3. c']
    """
    names = ordering.ordered_classes[start : start + count]
    if not names:
        raise ValueError(f"no classes from position {start} (there are {ordering.n_classes})")
    rows = -(-len(names) // columns)
    if fig is None:
        fig, _ = new_axes(None, figsize=(2.1 * columns, 2.3 * rows))
        fig.clear()
    axes = np.atleast_1d(fig.subplots(rows, columns)).ravel()
    for ax in axes[len(names):]:
        ax.remove()
    for offset, (ax, name) in enumerate(zip(axes, names)):
        sample = samples.get(name)
        if sample is None:
            ax.text(0.5, 0.5, "no sample", ha="center", va="center", color="0.5", fontsize=8)
        elif isinstance(sample, str):
            ax.text(0.5, 0.5, literal(textwrap.fill(sample, 22)), ha="center", va="center",
                    fontsize=7, family=families_for(sample))
        else:
            image = np.asarray(sample)
            ax.imshow(image, cmap=cmap if image.ndim == 2 else None, interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(literal(f"{start + offset + 1}. {name}"), fontsize=8)
    if title:
        fig.suptitle(literal(title), fontsize=11)
    return fig
