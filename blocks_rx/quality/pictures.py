"""Small pictures of findings for the HTML report, as PNG data URIs.

Each kind of finding that a picture helps gets one (:data:`DRAWINGS`): the similarity
sub-matrix of a near-duplicate pair and its nearest classes, or of a nuisance-feature
group's members, in the result's order; the samples by true and predicted top-level block;
the histogram of the off-diagonal similarities (the paper's Fig. 1 check). They draw what
the report holds and never compute a finding. matplotlib only, no pyplot.
"""

from __future__ import annotations

import base64
import io

import numpy as np

from ..names import literal

#: Most classes named on a picture's axes; a larger group is drawn without names.
MAX_NAMED = 40
#: Longest class name drawn in full; a longer one is cut, with an ellipsis.
NAME_CHARS = 28
#: Resolution of the pictures (dots per inch).
DPI = 100
#: Inches per class of a sub-matrix picture with names.
CELL_INCHES = 0.2
#: Width of the panel of a pair's two rows, inches.
ROWS_INCHES = 3.6


def picture(finding, report) -> str | None:
    """The picture of ``finding`` as a PNG data URI, or None for a kind without one.

    >>> import numpy as np, blocks_rx
    >>> S = np.random.default_rng(0).normal(size=(300, 6))
    >>> S[:, 5] = S[:, 0] + 0.1 * np.random.default_rng(1).normal(size=300)
    >>> found = blocks_rx.quality_report(blocks_rx.analyze(S, groups=None, hclust_backend="python"))
    >>> picture(found.findings[0], found).startswith("data:image/png;base64,")
    True
    """
    draw = DRAWINGS.get(finding.kind)
    if draw is None:
        return None
    buffer = io.BytesIO()
    draw(finding, report).savefig(buffer, format="png", dpi=DPI)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _short(name: str) -> str:
    return name if len(name) <= NAME_CHARS else name[:NAME_CHARS - 1] + "…"


def _group(finding, report):
    """The similarity of a group's classes in the result's order (:func:`_draw_submatrix`)."""
    from ..plot._common import panels_figure

    chosen, width, height = _submatrix_layout(finding, report)
    fig = panels_figure((width, height))
    _draw_submatrix(fig.add_subplot(), finding, report, chosen)
    return fig


def _pair(finding, report):
    """A near-duplicate pair: the similarity of the pair and its nearest classes, and the
    pair's two rows of M over all classes in the result's order (the rows that are almost
    the same)."""
    from ..plot._common import panels_figure

    chosen, width, height = _submatrix_layout(finding, report)
    fig = panels_figure((width + ROWS_INCHES, max(height, 2.6)))
    left, right = fig.subplots(1, 2, width_ratios=(width, ROWS_INCHES))
    _draw_submatrix(left, finding, report, chosen)
    index = {name: j for j, name in enumerate(report.similarity.classes)}
    order = np.asarray(report.ordering.order)
    for name, style in zip(finding.classes, ("-", "--")):
        row = np.asarray(report.similarity.matrix[index[name]], dtype=np.float64)[order]
        right.plot(row, style, linewidth=1.1, label=literal(_short(name)))
    right.set_ylim(-1.05, 1.05)
    right.set_xlabel(f"the {len(order):,} classes in the result's order", fontsize=8)
    right.set_ylabel("r with each class", fontsize=8)
    right.tick_params(labelsize=7)
    right.legend(fontsize=7, frameon=False)
    return fig


def _submatrix_layout(finding, report) -> tuple[list[int], float, float]:
    """(the classes drawn, in the result's order; width and height of the picture, inches)."""
    index = {name: j for j, name in enumerate(report.similarity.classes)}
    positions = report.ordering.positions
    chosen = sorted({index[name] for name in finding.classes + finding.context},
                    key=lambda j: positions[j])
    if len(chosen) > MAX_NAMED:
        return chosen, 4.2, 3.6
    side = CELL_INCHES * len(chosen)
    longest = max(len(_short(report.similarity.classes[j])) for j in chosen)
    return chosen, max(side + 0.075 * longest + 1.3, 3.0), max(side + 0.075 * longest + 0.4, 2.4)


def _draw_submatrix(ax, finding, report, chosen):
    """The similarity of the ``chosen`` classes on the heatmap's diverging scale, limits
    ±1; with a pair, its two classes named in bold."""
    from ..plot._common import families_for

    sub = np.asarray(report.similarity.matrix[np.ix_(chosen, chosen)], dtype=np.float64)
    image = ax.imshow(sub, cmap="RdBu_r", vmin=-1, vmax=1, interpolation="nearest")
    ax.figure.colorbar(image, ax=ax, shrink=0.7, label="r")
    labels = [_short(report.similarity.classes[j]) for j in chosen]
    named = len(chosen) <= MAX_NAMED
    if named:
        family = families_for("".join(labels))
        ax.set_xticks(range(len(chosen)), [literal(t) for t in labels], rotation=90,
                      fontsize=7, family=family)
        ax.set_yticks(range(len(chosen)), [literal(t) for t in labels], fontsize=7,
                      family=family)
        if finding.context:  # a pair among its nearest classes: the pair in bold
            own = {report.similarity.classes.index(name) for name in finding.classes}
            for axis in (ax.get_xticklabels(), ax.get_yticklabels()):
                for j, text in zip(chosen, axis):
                    text.set_fontweight("bold" if j in own else "normal")
    else:
        ax.set_xticks([]), ax.set_yticks([])
        ax.set_xlabel(f"{len(chosen)} classes in the result's order", fontsize=8)


def _blocks(finding, report):
    """Samples by true block (rows) and predicted block (columns), coloured by the share of
    the row, counts written in the cells."""
    from ..plot._common import panels_figure

    table = next(t for t in finding.tables if t.title.startswith("samples by true block"))
    counts = np.array([row[3:] for row in table.rows], dtype=np.float64)
    k = len(counts)
    shares = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    fig = panels_figure((1.2 + 0.55 * k, 0.9 + 0.5 * k))
    ax = fig.add_subplot()
    ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    for (i, j), value in np.ndenumerate(counts):
        ax.text(j, i, f"{int(value):,}", ha="center", va="center", fontsize=7,
                color="white" if shares[i, j] > 0.6 else "black")
    names = [row[0] for row in table.rows]
    ax.set_xticks(range(k), names, fontsize=7)
    ax.set_yticks(range(k), names, fontsize=7)
    ax.set_xlabel("predicted block", fontsize=8)
    ax.set_ylabel("true block", fontsize=8)
    return fig


def _histogram(finding, report):
    """The off-diagonal similarities (a uniform sample of pairs above 5 million), with the
    mean and the median marked."""
    from ..plot._common import panels_figure
    from ..plot._distributions import off_diagonal_for_histogram

    values = off_diagonal_for_histogram(report.similarity.matrix)
    fig = panels_figure((4.2, 2.4))
    ax = fig.add_subplot()
    ax.hist(values, bins=60, color="#8a8f98")
    ax.axvline(float(np.mean(values)), color="#c0392b", label="mean")
    ax.axvline(float(np.median(values)), color="#2c3e50", linestyle="--", label="median")
    ax.set_xlabel("similarity r of two classes (off the diagonal)", fontsize=8)
    ax.set_ylabel("pairs", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.legend(fontsize=7, frameon=False)
    return fig


#: How each kind of finding is drawn (kinds without an entry get no picture).
DRAWINGS = {
    "near-duplicate": _pair,
    "nuisance-feature": _group,
    "off-block": _blocks,
    "skewed-similarities": _histogram,
    "offset-dominated": _histogram,
}
