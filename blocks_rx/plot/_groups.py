"""Fuzzy, failed and split groups drawn on the ordered heatmap (the paper's Fig. 5).

Everything here draws results of :mod:`blocks_rx.groups`; nothing is recomputed. Side
columns are inset axes that share the matrix's row coordinates, so their marks stay aligned
with the matrix rows however the figure is laid out.
"""

from __future__ import annotations

import numpy as np

from ..names import literal
from ._annotate import _side_axes
from ._common import fit_figure, label_positions, measuring, new_axes
from ._display import GroupsDisplay, MembershipsDisplay

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
    cmap: str | None = None,
    robust: bool = False,
    title: str | None = None,
    ax=None,
) -> GroupsDisplay:
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
    cmap, robust : optional
        Colour, as :func:`blocks_rx.plot.heatmap` (diverging, centred on 0); ``cmap`` may be
        the heatmap's :class:`~blocks_rx.plot._colour.Scale`, so the matrix is not scanned
        again for its limits.
    title : str, optional
    ax : matplotlib Axes, optional
        Draw here (leave room at its right for the side columns); default a new Figure.

    Returns
    -------
    GroupsDisplay
        ``ax_`` is the matrix; ``split_patches_`` the red rectangles (``gid="split"``),
        ``coherent_patches_`` the green outlines (``gid="coherent"``); ``failed_axes_`` one
        inset column per failed group, labelled ``failed G<k>``, whose marks are one
        ``hlines`` collection at the members' positions in the order; ``colorbar_``,
        ``legend_``.

    Examples
    --------
    >>> import numpy as np, blocks_rx
    >>> from blocks_rx import groups as bg
    >>> rng = np.random.default_rng(0)
    >>> S = 2 * rng.normal(size=(400, 2))[:, np.repeat([0, 1], 4)] + rng.normal(size=(400, 8))
    >>> sim = blocks_rx.compute_similarity(S)
    >>> ordering = blocks_rx.order_classes(sim)
    >>> g = bg.fuzzy_groups(sim)
    >>> shown = groups_heatmap(sim, ordering, g, coherent=bg.coherent_groups(g, ordering, sim))
    >>> len(shown.coherent_patches_)
    2
    """
    from ._heatmap import heatmap

    _check_classes(similarity.classes, ordering, groups)
    shown = heatmap(similarity, ordering, ax=ax, cmap=cmap, robust=robust,
                    max_labels=max_labels, title=title)
    return add_findings(shown, similarity, ordering, groups, failed, split, coherent,
                        max_failed=max_failed, fit=ax is None)


def add_findings(shown, similarity, ordering, groups, failed=None, split=None, coherent=None,
                 *, max_failed: int = 6, fit: bool = True) -> GroupsDisplay:
    """Turn a drawn :func:`blocks_rx.plot.heatmap` of ``similarity`` in ``ordering`` into
    :func:`groups_heatmap`'s picture: the findings drawn on it, its colour bar moved past
    the side columns, the figure fitted again (``fit``: a figure the heatmap made).

    ``groups.png`` is drawn so on ``heatmap.png``'s figure once that is saved, and
    :func:`groups_heatmap` so on a new heatmap: the same steps, the same picture, the heatmap
    drawn once (:mod:`blocks_rx.results`).

    >>> import numpy as np, blocks_rx
    >>> from blocks_rx import groups as bg
    >>> from blocks_rx.plot import heatmap
    >>> rng = np.random.default_rng(0)
    >>> S = 2 * rng.normal(size=(400, 2))[:, np.repeat([0, 1], 4)] + rng.normal(size=(400, 8))
    >>> sim = blocks_rx.compute_similarity(S)
    >>> ordering = blocks_rx.order_classes(sim)
    >>> g = bg.fuzzy_groups(sim)
    >>> shown = heatmap(sim, ordering)
    >>> drawn = add_findings(shown, sim, ordering, g,
    ...                      coherent=bg.coherent_groups(g, ordering, sim))
    >>> drawn.image_ is shown.image_, drawn.colorbar_ is shown.colorbar_
    (True, False)
    >>> len(drawn.coherent_patches_)
    2
    """
    _check_classes(similarity.classes, ordering, groups)
    ax = shown.ax_
    if shown.colorbar_ is not None:
        shown.colorbar_.remove()
    failed = list(failed or [])[:max_failed]
    artists = _draw_findings(ax, shown, similarity, groups, failed, list(split or []),
                             list(coherent or []))
    if fit:
        fit_figure(ax.get_figure(root=True))
    return GroupsDisplay(ax, image=shown.image_, scale=shown.scale_, text_ax=None, **artists)


def _draw_findings(ax, shown, similarity, groups, failed, split, coherent) -> dict:
    """Side columns, split boxes, the colour bar past them and the legend; the artists."""
    from ._heatmap import add_colorbar

    m = similarity.n_classes
    outlines, offset, failed_axes = _side_columns(ax, coherent, failed, m)
    boxes = [_split_box(ax, pair, number, m) for number, pair in enumerate(split, start=1)]
    bar = add_colorbar(ax, shown.image_, shown.scale_.label(f"{similarity.measure} similarity"),
                       extend=shown.scale_.extend, offset=offset)
    return dict(colorbar=bar, failed_axes=failed_axes, split_patches=boxes,
                coherent_patches=outlines, legend=_legend(ax, groups, failed, split, coherent))


def _side_columns(ax, coherent, failed, m) -> tuple[list, float, list]:
    """The coherent spans and failed columns right of the matrix; returns the coherent
    outlines, the width used (in axes units), so the colour bar goes beyond them, and the
    failed columns."""
    offset, outlines = 0.01, []
    if coherent:
        outlines = _coherent_spans(ax, coherent, m, offset)
        offset += 0.065
    columns = [_failed_column(ax, placement, rank, offset + rank * 0.03, m)
               for rank, placement in enumerate(failed)]
    if failed:
        offset += len(failed) * 0.03 + 0.01
    return outlines, offset, columns


def memberships(groups, ordering, *, failed=None, ax=None, max_labels: int = 100,
                cmap: str = "magma_r", gamma: float = 0.5) -> MembershipsDisplay:
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
    MembershipsDisplay
        ``image_`` has shape (n_classes, n_groups); ``colorbar_`` marks the threshold.

    Examples
    --------
    >>> import numpy as np, blocks_rx
    >>> from blocks_rx.groups import fuzzy_groups
    >>> rng = np.random.default_rng(0)
    >>> S = 2 * rng.normal(size=(400, 3))[:, np.repeat([0, 1, 2], 4)] + rng.normal(size=(400, 12))
    >>> sim = blocks_rx.compute_similarity(S)
    >>> memberships(fuzzy_groups(sim), blocks_rx.order_classes(sim)).image_.get_array().shape
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
    # At least 5 inches wide: the title and the colour bar's label need that much.
    fig, ax = new_axes(ax, figsize=(min(max(5.0, 3.0 + 0.32 * c), 14.0), 8.0 if n > 40 else 6.0))
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
    ax.set_title(literal(f"memberships, {c} groups, {n} classes in {ordering.method} order\n"
                         f"(fuzzifier {groups.fuzzifier:g}, {groups.embedding} embedding, "
                         f"d={groups.n_components})"), fontsize=9)
    bar = fig.colorbar(image, ax=ax, shrink=0.5, pad=0.02)
    # The overlap threshold: a line on the bar, named in the bar's own label (a text beside
    # the bar ran into that label).
    bar.set_label(f"membership (blue line: overlap threshold {groups.threshold:.2g})",
                  fontsize=8)
    bar.ax.axhline(groups.threshold, color="#1f77b4", linewidth=2.0)
    return MembershipsDisplay(ax, image=image, colorbar=bar)


# --------------------------------------------------------------------------- pieces


def _coherent_spans(ax, coherent, m, offset):
    from matplotlib.patches import Rectangle

    column = _side_axes(ax, "right", offset, 0.055)
    column.set_label("coherent groups")
    min_rows = m / 40  # label only spans tall enough to hold their label
    outlines = []
    for i, placement in enumerate(coherent):
        start, end = placement.span
        # Not clipped: a block in a corner keeps the sides that lie on the matrix's frame.
        outlines.append(ax.add_patch(Rectangle((start - 0.5, start - 0.5), end - start, end - start, fill=False,
                               edgecolor=COHERENT, linewidth=1.4, gid="coherent",
                               clip_on=False)))
        top, bottom = start - 0.4, end - 0.6
        x = 0.15 if i % 2 == 0 else 0.3  # alternate, so touching spans stay apart
        column.plot([x + 0.1, x, x, x + 0.1], [top, top, bottom, bottom], color=COHERENT,
                    linewidth=1.6, solid_capstyle="butt")
        if end - start >= min_rows:
            column.text(x + 0.18, (top + bottom) / 2, f"G{placement.group + 1}", ha="left",
                        va="center", fontsize=7, color=COHERENT, fontweight="bold")
    return outlines


def _failed_column(ax, placement, rank, offset, m):
    column = _side_axes(ax, "right", offset, 0.026)
    column.set_label(f"failed G{placement.group + 1}")
    column.set_facecolor("#eef3fb")
    column.patch.set_visible(True)
    column.hlines(placement.positions, 0.05, 0.95, color=FAILED,
                  linewidth=max(1.0, min(2.5, 300.0 / m)))
    column.text(0.5, 1.005, f"G{placement.group + 1}", transform=column.transAxes, rotation=90,
                ha="center", va="bottom", fontsize=7, color=FAILED, fontweight="bold")
    return column


def _split_box(ax, pair, number, m):
    from matplotlib.patches import Rectangle

    first, second = pair.first, pair.second
    # Rows: the earlier block; columns: the later one (the upper triangle).
    box = ax.add_patch(Rectangle((second.start - 0.5, first.start - 0.5), second.size,
                                 first.size, fill=False, edgecolor=SPLIT, linewidth=2.0,
                                 gid="split"))
    # Inside the box's top-left corner: never over the title or the side columns.
    ax.text(second.start - 0.5 + m * 0.004, first.start - 0.5 + m * 0.004,
            f"S{number}" + (f" z={pair.z:.1f}" if hasattr(pair, "z") else ""),
            color=SPLIT, fontsize=8, fontweight="bold", ha="left", va="top",
            bbox=dict(boxstyle="square,pad=0.1", facecolor="white", edgecolor="none",
                      alpha=0.8))
    return box


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
    if not handles:
        return None
    tested = " (failed and split: z against random groups, corrected p <= 0.01)" \
        if failed or split else ""
    # Below the x tick labels (and the x label), wherever they end.
    with measuring(ax.get_figure(root=True)) as renderer:
        ax.apply_aspect()
        frame = ax.get_window_extent(renderer)
        below = (ax.get_tightbbox(renderer).y0 - frame.y0) / frame.height - 0.01
    return ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, below), ncol=3,
                     fontsize=8, frameon=False, title_fontsize=8,
                     title=f"fuzzy c-means, {groups.n_groups} groups "
                           f"(G1-G{groups.n_groups}){tested}")


def _check_classes(classes, ordering, groups):
    if tuple(ordering.classes) != tuple(classes):
        raise ValueError("the ordering and the similarity matrix are for different classes")
    if tuple(groups.classes) != tuple(classes):
        raise ValueError("the groups and the similarity matrix are for different classes")
