"""Class frequencies with a long tail (the paper's Fig. 3)."""

from __future__ import annotations

import numpy as np

from ..names import literal
from ._common import panels_figure
from ._display import PanelsDisplay


def frequency(counts, classes, *, exclude=(), n_labels: int = 8, split: float | None = None,
              fig=None, title: str | None = None, colour: str = "#4c72b0"):
    """Bar chart of label frequencies, sorted, with a broken axis for the long tail.

    Parameters
    ----------
    counts : array (m,)
        Samples per class (for multi-label data, samples carrying each label).
    classes : sequence of str
    exclude : sequence of str
        Dominant classes to leave out (named in the title), like Music and Speech in AudioSet.
    n_labels : int
        Name this many classes: the most frequent ones and a few spread along the tail.
    split : float, optional
        Count where the y axis breaks; default the 90th percentile of the shown counts. The
        lower panel shows the tail up to it, the upper panel the few classes above it.
    title : str, optional

    Returns
    -------
    PanelsDisplay
        ``axes_[0]`` is the upper (head) panel, ``axes_[1]`` the lower (tail) panel;
        ``bars_`` the two bar containers.

    Examples
    --------
    >>> shown = frequency([500, 40, 30, 7, 3, 2], list("abcdef"), exclude=["a"], n_labels=2)
    >>> sorted(t.get_text() for ax in shown.axes_ for t in ax.texts)
    ['b', 'f']
    """
    counts = np.asarray(counts, dtype=np.float64)
    classes = list(classes)
    unknown = [c for c in exclude if c not in classes]
    if unknown:
        raise ValueError(f"cannot exclude unknown classes: {', '.join(map(repr, unknown))}")
    keep = np.array([c not in set(exclude) for c in classes])
    order = np.argsort(-counts[keep], kind="stable")
    shown = counts[keep][order]
    names = [c for c, k in zip(classes, keep) if k]
    names = [names[i] for i in order]
    if split is None:
        split = float(np.quantile(shown, 0.9))
    if fig is None:
        fig = panels_figure((11, 5))
    head, tail = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [1, 2.2], "hspace": 0.05})
    x = np.arange(len(shown))
    bars = [ax.bar(x, shown, width=1.0, color=colour, edgecolor="none") for ax in (head, tail)]
    top = shown.max() * 1.08
    head.set_ylim(split, top if top > split else split + 1)
    tail.set_ylim(0, split)
    head.spines["bottom"].set_visible(False)
    tail.spines["top"].set_visible(False)
    head.tick_params(bottom=False)
    for ax, y in ((head, 0), (tail, 1)):  # the diagonal "break" marks
        ax.plot([0, 1], [y, y], transform=ax.transAxes, marker=[(-1, -0.5), (1, 0.5)],
                markersize=10, linestyle="none", color="k", clip_on=False)
    labelled = _label_positions(len(shown), n_labels)
    n_head = int((shown > split).sum())
    for i in labelled:
        if shown[i] > split:  # head: labels right of the tall bars, joined by a thin line
            head.annotate(literal(names[i]), (i, shown[i]), xytext=(n_head + 2 + i, shown[i]),
                          textcoords="data", fontsize=8, ha="left", va="center",
                          arrowprops=dict(arrowstyle="-", lw=0.5, color="0.4"))
        else:
            tail.annotate(literal(names[i]), (i, shown[i]), xytext=(4, 10),
                          textcoords="offset points", rotation=45, fontsize=8, ha="left", va="bottom",
                          arrowprops=dict(arrowstyle="-", lw=0.5, color="0.4"))
    tail.set_xlim(-1, len(shown) + max(2, len(shown) // 20))  # room for the last label
    tail.set_xlabel(f"{len(shown)} classes, most frequent first")
    tail.set_ylabel("samples")
    head.set_ylabel("samples")
    if title is None:
        title = "class frequency" + (f", excluding {', '.join(exclude)}" if exclude else "")
    head.set_title(literal(title), fontsize=10)
    return PanelsDisplay(head, [head, tail], bars=bars)


def _label_positions(n: int, count: int) -> list[int]:
    """The first few and an even spread over the rest: head and tail both get names."""
    if count <= 0:
        return []
    head = min(n, max(1, count // 4))
    rest = count - head
    spread = np.linspace(head, n - 1, rest + 1)[1:] if rest and n > head else []
    return sorted(set(range(head)) | {int(round(p)) for p in spread})
