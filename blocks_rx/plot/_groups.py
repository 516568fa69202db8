"""Fuzzy, failed and split groups drawn on the ordered heatmap (the paper's Fig. 5).

Everything here draws results of :mod:`blocks_rx.groups`; nothing is recomputed. Side
columns are inset axes that share the matrix's row coordinates, so their marks stay aligned
with the matrix rows however the figure is laid out.
"""

from __future__ import annotations

import numpy as np

from ..names import literal
from ._annotate import _side_axes
from ._common import label_positions, new_axes

#: The paper's colours: green for coherent groups, blue for failed ones, red for split ones.
COHERENT = "#2a9d3a"
FAILED = "#1f5fbf"
SPLIT = "#d62728"


def groups_heatmap(
    similarity,
    ordering,
    groups,
    failed=None,
    split=None,
    coherent=None,
    *,
    max_failed: int = 6,
    max_labels: int = 100,
    cmap: str = "RdYlBu_r",
    title: str | None = None,
):
    """The ordered heatmap with coherent (green), failed (blue) and split (red) groups.

    Parameters
    ----------
    similarity : Similarity
    ordering : Ordering
    groups : Groups
        From :func:`blocks_rx.groups.fuzzy_groups`; names the groups ``G1``, ``G2``, ... (1-based, as in groups.csv).
    failed : list of GroupPlacement, optional
        From :func:`blocks_rx.groups.failed_groups`: one narrow blue column each, right of
        the matrix, with a mark at every member's row (the paper's auxiliary columns).
    split : list of SplitGroup, optional
        From :func:`blocks_rx.groups.split_groups`: one red rectangle each, around the
        off-diagonal block (rows: the earlier block, columns: the later one).
    coherent : list of GroupPlacement, optional
        From :func:`blocks_rx.groups.coherent_groups`: green outlines on the diagonal and
        labelled green spans in a column right of the matrix.
    max_failed : int
        Draw columns for at most this many failed groups (the list is ranked).
    max_labels : int
        Class labels along the axes, as :func:`blocks_rx.plot.heatmap`.
    cmap : str
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
        ``fig.axes[0]`` is the matrix; red rectangles carry ``gid="split"``, green outlines
        ``gid="coherent"``; each failed column is an inset axes (in
        ``fig.axes[0].child_axes``) labelled ``failed G<k>``, whose marks are one ``hlines``
        collection at the members' positions in the order.

    Examples
    --------
    >>> import numpy as np, blocks_rx
    >>> from blocks_rx import groups as bg
    >>> rng = np.random.default_rng(0)
    >>> S = 2 * rng.normal(size=(400, 2))[:, np.repeat([0, 1], 4)] + rng.normal(size=(400, 8))
    >>> sim = blocks_rx.compute_similarity(S)
    >>> ordering = blocks_rx.order_classes(sim)
    >>> g = bg.fuzzy_groups(sim)
    >>> fig = groups_heatmap(sim, ordering, g, coherent=bg.coherent_groups(g, ordering, sim))
    >>> sum(p.get_gid() == "coherent" for p in fig.axes[0].patches)
    2
    """
    from ._heatmap import heatmap

    _check_classes(similarity.classes, ordering, groups)
    failed = list(failed or [])[:max_failed]
    split = list(split or [])
    coherent = list(coherent or [])
    m = similarity.n_classes
    side = 7.0 if m <= 40 else 9.0 if m <= 150 else 11.0
    # Room at the right for the span column, the failed columns and the colour bar.
    fig, ax = new_axes(None, figsize=(side + 2.2 + 0.32 * len(failed), side + 0.6))
    heatmap(similarity, ordering, ax=ax, cmap=cmap, max_labels=max_labels, title=title,
            colorbar=False)
    offset = _side_columns(ax, coherent, failed, m)
    for number, pair in enumerate(split, start=1):
        _split_box(ax, pair, number, m)
    bar = fig.colorbar(ax.images[0], cax=ax.inset_axes([1.0 + offset + 0.03, 0.2, 0.025, 0.6]))
    bar.set_label("similarity (correlation)")
    _legend(ax, groups, failed, split, coherent)
    return fig


def _side_columns(ax, coherent, failed, m) -> float:
    """The coherent spans and failed columns right of the matrix; returns the width used
    (in axes units) so the colour bar goes beyond them."""
    offset = 0.01
    if coherent:
        _coherent_spans(ax, coherent, m, offset)
        offset += 0.065
    for rank, placement in enumerate(failed):
        _failed_column(ax, placement, rank, offset + rank * 0.03, m)
    if failed:
        offset += len(failed) * 0.03 + 0.01
    return offset


def memberships(groups, ordering, *, failed=None, ax=None, max_labels: int = 100,
                cmap: str = "magma_r", gamma: float = 0.5):
    """Fuzzy memberships as an image: classes in the ordering's order x groups.

    Columns are the groups ``G<k>``, left to right by the median position of their crisp
    members in the order, so coherent groups line up along a diagonal; a class that belongs
    to several groups shows as a row with several bright cells. Failed groups (if given)
    get blue column labels. Colours follow ``membership ** gamma`` so that the weak
    memberships by which a class joins a second group (a little above ``1/c``) stay
    visible; the colour bar marks the overlap threshold.

    Parameters
    ----------
    groups : Groups
    ordering : Ordering
        Must order the same classes.
    failed : list of GroupPlacement, optional
    ax : matplotlib Axes, optional
    max_labels : int
    cmap : str
    gamma : float
        Exponent of the colour scale (1: linear).

    Returns
    -------
    matplotlib.figure.Figure
        The image is ``fig.axes[0].images[0]``, shape (n_classes, n_groups).

    Examples
    --------
    >>> import numpy as np, blocks_rx
    >>> from blocks_rx.groups import fuzzy_groups
    >>> rng = np.random.default_rng(0)
    >>> S = 2 * rng.normal(size=(400, 3))[:, np.repeat([0, 1, 2], 4)] + rng.normal(size=(400, 12))
    >>> sim = blocks_rx.compute_similarity(S)
    >>> fig = memberships(fuzzy_groups(sim), blocks_rx.order_classes(sim))
    >>> fig.axes[0].images[0].get_array().shape
    (12, 3)
    """
    _check_classes(groups.classes, ordering, groups)
    order = np.asarray(ordering.order)
    n, c = groups.n_classes, groups.n_groups
    position = ordering.positions
    # Display order of the columns (the groups' numbering stays that of ``groups``).
    medians = [np.median(position[groups.crisp == k]) if np.any(groups.crisp == k) else n + k
               for k in range(c)]
    columns = np.argsort(medians, kind="stable")
    fig, ax = new_axes(ax, figsize=(min(3.0 + 0.32 * c, 14.0), 8.0 if n > 40 else 6.0))
    from matplotlib.colors import PowerNorm

    image = ax.imshow(groups.memberships[np.ix_(order, columns)], aspect="auto", cmap=cmap,
                      norm=PowerNorm(gamma, vmin=0.0, vmax=1.0), interpolation="nearest")
    names = ordering.ordered_classes
    rows = label_positions(n, max_labels)
    ax.set_yticks(rows, [literal(names[i]) for i in rows],
                  fontsize=max(4.0, min(8.0, 450.0 / max(len(rows), 1))))
    failed_ids = {p.group for p in failed or []}
    ax.set_xticks(range(c), [f"G{k + 1}" for k in columns], rotation=90,
                  fontsize=max(5.0, min(9.0, 300.0 / c)))
    for label, k in zip(ax.get_xticklabels(), columns):
        if k in failed_ids:
            label.set_color(FAILED)
            label.set_fontweight("bold")
    ax.tick_params(length=2, pad=1)
    ax.set_xlabel("fuzzy group" + (" (blue: failed in this order)" if failed_ids else ""))
    ax.set_title(literal(f"memberships, {c} groups (fuzzifier {groups.fuzzifier:g}, "
                         f"{groups.embedding} embedding, d={groups.n_components})\n"
                         f"{n} classes in {ordering.method} order"), fontsize=9)
    bar = fig.colorbar(image, ax=ax, shrink=0.5, pad=0.02)
    bar.set_label("membership")
    bar.ax.axhline(groups.threshold, color="#1f77b4", linewidth=2.0)  # the overlap threshold
    bar.ax.text(1.6, groups.threshold, "threshold", transform=bar.ax.get_yaxis_transform(),
                va="center", fontsize=7, color="#1f77b4")
    return fig


# --------------------------------------------------------------------------- pieces


def _coherent_spans(ax, coherent, m, offset):
    from matplotlib.patches import Rectangle

    column = _side_axes(ax, "right", offset, 0.055)
    column.set_label("coherent groups")
    min_rows = m / 40  # label only spans tall enough to hold their label
    for i, placement in enumerate(coherent):
        start, end = placement.span
        ax.add_patch(Rectangle((start - 0.5, start - 0.5), end - start, end - start, fill=False,
                               edgecolor=COHERENT, linewidth=1.4, gid="coherent"))
        top, bottom = start - 0.4, end - 0.6
        x = 0.15 if i % 2 == 0 else 0.3  # alternate, so touching spans stay apart
        column.plot([x + 0.1, x, x, x + 0.1], [top, top, bottom, bottom], color=COHERENT,
                    linewidth=1.6, solid_capstyle="butt")
        if end - start >= min_rows:
            column.text(x + 0.18, (top + bottom) / 2, f"G{placement.group + 1}", ha="left",
                        va="center", fontsize=7, color=COHERENT, fontweight="bold")


def _failed_column(ax, placement, rank, offset, m):
    column = _side_axes(ax, "right", offset, 0.026)
    column.set_label(f"failed G{placement.group + 1}")
    column.set_facecolor("#eef3fb")
    column.patch.set_visible(True)
    column.hlines(placement.positions, 0.05, 0.95, color=FAILED,
                  linewidth=max(1.0, min(2.5, 300.0 / m)))
    column.text(0.5, 1.005, f"G{placement.group + 1}", transform=column.transAxes, rotation=90,
                ha="center", va="bottom", fontsize=7, color=FAILED, fontweight="bold")


def _split_box(ax, pair, number, m):
    from matplotlib.patches import Rectangle

    first, second = pair.first, pair.second
    # Rows: the earlier block; columns: the later one (the upper triangle).
    ax.add_patch(Rectangle((second.start - 0.5, first.start - 0.5), second.size, first.size,
                           fill=False, edgecolor=SPLIT, linewidth=2.0, gid="split"))
    # Inside the box's top-left corner: never over the title or the side columns.
    ax.text(second.start - 0.5 + m * 0.004, first.start - 0.5 + m * 0.004,
            f"S{number}" + (f" z={pair.z:.1f}" if hasattr(pair, "z") else ""),
            color=SPLIT, fontsize=8, fontweight="bold", ha="left", va="top",
            bbox=dict(boxstyle="square,pad=0.1", facecolor="white", edgecolor="none",
                      alpha=0.8))


def _legend(ax, groups, failed, split, coherent):
    from matplotlib.lines import Line2D

    handles = []
    if coherent:
        handles.append(Line2D([], [], color=COHERENT, lw=2,
                              label=f"coherent groups ({len(coherent)})"))
    if failed:
        shown = ", ".join(f"G{p.group + 1}" + (f" z={p.evidence.z:.1f}"
                                                 if getattr(p, "evidence", None) else "")
                          for p in failed)
        handles.append(Line2D([], [], color=FAILED, lw=2,
                              label=f"failed groups, members' rows: {shown}"))
    if split:
        handles.append(Line2D([], [], color=SPLIT, lw=2, label=f"split groups ({len(split)})"))
    if handles:
        tested = " (failed and split: z against random groups, corrected p <= 0.01)" \
            if failed or split else ""
        # A figure legend "outside": constrained layout keeps it clear of the tick labels.
        ax.figure.legend(handles=handles, loc="outside lower center", ncol=3, fontsize=8,
                         frameon=False, title_fontsize=8,
                         title=f"fuzzy c-means, {groups.n_groups} groups "
                               f"(G1-G{groups.n_groups}){tested}")


def _check_classes(classes, ordering, groups):
    if tuple(ordering.classes) != tuple(classes):
        raise ValueError("the ordering and the similarity matrix are for different classes")
    if tuple(groups.classes) != tuple(classes):
        raise ValueError("the groups and the similarity matrix are for different classes")
