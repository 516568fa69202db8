"""What the explorer shows, gathered from a result: :func:`gather` -> :class:`Content`.

Everything here is plain data (numpy arrays, tuples of names); :mod:`blocks_rx.explore.page`
turns it into the page. The matrix travels quantised to 8 bits (:func:`quantise`): level
``q`` in 1..255 stands for ``low + (q - 1) * step``, so a cell is known to within half a
step (about 0.004 for correlations spanning -1..1); level 0 marks a missing value.

Orderings: the result's own, then, for up to :data:`EXTRA_ORDERINGS_UP_TO` classes, hclust
with the other linkages of :data:`EXTRA_LINKAGES` (the exact twin of R's ``hclust``, no R
needed), the fuzzy groups (classes by crisp group, groups in the order of their mean
position in the result's order, each group's classes by decreasing membership), a
taxonomy's order when one is given, and the input order. Every ordering with a tree carries
its flat cuts for k = 1..:data:`MAX_CUT` clusters (R's ``cutree``), which the page outlines
like R's ``rect.hclust``.

>>> import numpy as np, blocks_rx
>>> from blocks_rx.datasets import planted_taxonomy
>>> analysis = blocks_rx.analyze(planted_taxonomy()["scores"], groups=None,
...                              hclust_backend="python")
>>> content = gather(analysis)
>>> [o.name for o in content.orderings][:2], content.levels.dtype.name
(['hclust, complete linkage (the result)', 'hclust, average linkage'], 'uint8')
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

#: Up to this many classes the page holds the whole matrix at full resolution.
FULL_RESOLUTION_UP_TO = 5000
#: Above FULL_RESOLUTION_UP_TO classes the page holds a pooled overview of about this side.
OVERVIEW_PIXELS = 2000
#: Above FULL_RESOLUTION_UP_TO classes the page also holds full-resolution blocks (clusters
#: of the result's tree, along its order) of at most DETAIL_CLASSES classes each, the
#: largest first, up to DETAIL_CELLS cells in all (8-bit levels: bytes before deflating).
DETAIL_CLASSES = 2500
DETAIL_CELLS = 40_000_000
#: Orderings computed beside the result's own, up to this many classes (hclust's time grows
#: as m^2; at 5,000 classes each linkage takes a few seconds).
EXTRA_ORDERINGS_UP_TO = 5000
#: The linkages offered beside the result's own, as R names them.
EXTRA_LINKAGES = ("complete", "average", "single", "ward.D2")
#: The dendrogram cut control offers k = 1 .. MAX_CUT clusters.
MAX_CUT = 40
#: At most this many examples per class, texts cut to this many characters.
MAX_EXAMPLES = 3
MAX_TEXT = 160
#: Thumbnails are shrunk to at most this many pixels on a side.
THUMBNAIL_PIXELS = 64


@dataclass(frozen=True)
class ContentOrdering:
    """One entry of the ordering menu: positions -> class index, and cuts if it has a tree."""

    name: str
    order: np.ndarray = field(repr=False)
    #: (MAX_CUT, m) int16: row k - 1 holds R's ``cutree(k = k)`` labels in input order.
    cuts: np.ndarray | None = field(default=None, repr=False)


@dataclass(frozen=True)
class MatrixLayer:
    """One matrix the page can show over the same classes: its 8-bit levels and colours.

    ``limits``, ``cmap``, ``over`` and ``under`` are the colour scale (for a similarity, the
    static heatmap's: :func:`blocks_rx.plot.colour_scale`), with the colours of values beyond
    the limits (the diagonal, usually).
    """

    name: str
    levels: np.ndarray = field(repr=False)
    low: float
    step: float
    limits: tuple[float, float] = (-1.0, 1.0)
    cmap: str = "RdBu_r"
    over: str = "#000000"
    under: str = "#000000"


def matrix_layer(name: str, matrix, *, scale: str = "auto", limits=None) -> MatrixLayer:
    """A :class:`MatrixLayer` of ``matrix`` (quantised, with its colour scale).

    >>> layer = matrix_layer("r", np.array([[1.0, -0.5], [-0.5, 1.0]]))
    >>> layer.limits, layer.cmap
    ((-0.5, 0.5), 'RdBu_r')

    ``limits`` (vmin, vmax) replace the scale's own, so that two layers share one scale.
    """
    import matplotlib.colors

    from ..plot._colour import colour_scale

    levels, low, step = quantise(matrix)
    vmin, vmax = limits or (None, None)
    colour = colour_scale(matrix, scale=scale, vmin=vmin, vmax=vmax)
    colormap = colour.colormap()
    return MatrixLayer(name=name, levels=levels, low=low, step=step,
                       limits=(float(colour.vmin), float(colour.vmax)), cmap=colour.cmap,
                       over=matplotlib.colors.to_hex(colormap.get_over()),
                       under=matplotlib.colors.to_hex(colormap.get_under()))


@dataclass(frozen=True)
class DetailBlock:
    """Positions ``start:end`` of the result's order at full resolution: their classes (in
    that order) and the block of the matrix they span."""

    start: int
    end: int
    classes: tuple[str, ...] = field(repr=False)
    layer: MatrixLayer = field(repr=False)


@dataclass(frozen=True)
class Content:
    """The data of one explorer page (see the module docstring)."""

    title: str
    run_id: str
    classes: tuple[str, ...]
    measure: str
    #: The matrices the page can show (the first at start): the similarity, or A, B and B - A.
    layers: tuple[MatrixLayer, ...]
    orderings: tuple[ContentOrdering, ...]
    memberships: np.ndarray | None = field(default=None, repr=False)
    group_names: tuple[str, ...] = ()
    #: Group names of failed and split groups, with their z-scores, as the report gives them.
    failed: tuple[tuple[str, float], ...] = ()
    #: Split groups: (label, z, the first piece's classes, the second's), as class indices.
    split: tuple[tuple[str, float, tuple[int, ...], tuple[int, ...]], ...] = ()
    confusion: np.ndarray | None = field(default=None, repr=False)
    #: Per class, its taxonomy path (root first), when a taxonomy was given.
    taxonomy: tuple[tuple[str, ...], ...] | None = None
    #: Per class, up to MAX_EXAMPLES items: ("text", str) or ("image", data-URI).
    examples: tuple[tuple[tuple[str, str], ...], ...] | None = None
    #: Above the full-resolution limit the "classes" are tiles of this many classes, else 1.
    pooled: int = 1
    #: Above the full-resolution limit: blocks of the order at full resolution.
    details: tuple[DetailBlock, ...] = ()

    @property
    def m(self) -> int:
        return len(self.classes)

    @property
    def levels(self) -> np.ndarray:
        """The first layer's levels (the similarity's)."""
        return self.layers[0].levels

    @property
    def low(self) -> float:
        return self.layers[0].low

    @property
    def step(self) -> float:
        return self.layers[0].step


def quantise(matrix) -> tuple[np.ndarray, float, float]:
    """8-bit levels of a matrix, with the ``low`` and ``step`` that map them back.

    >>> levels, low, step = quantise(np.array([[1.0, -0.5], [-0.5, 1.0]]))
    >>> levels.tolist(), low, round(step, 6)
    ([[255, 1], [1, 255]], -0.5, 0.005906)
    >>> float(low + (levels[0, 0] - 1) * step)
    1.0
    """
    values = np.asarray(matrix)
    low, high = _finite_range(values)
    step = (high - low) / 254 if high > low else 1.0
    levels = np.zeros(values.shape, dtype=np.uint8)
    # In stripes of QUANTISE_CELLS: no float64 copy of a large matrix, and each stripe's
    # float64 steps stay in cache.
    rows = max(1, QUANTISE_CELLS // max(int(np.prod(values.shape[1:])), 1))
    for start in range(0, values.shape[0], rows):
        block = np.asarray(values[start:start + rows], dtype=np.float64)
        scaled = block - low
        scaled /= step
        np.rint(scaled, out=scaled)
        scaled += 1
        np.clip(scaled, 1, 255, out=scaled)
        np.copyto(levels[start:start + rows], scaled, casting="unsafe",
                  where=np.isfinite(block))  # a missing value keeps level 0
    return levels, low, step


#: Cells of one stripe :func:`quantise` converts to float64 at a time (512 KB).
QUANTISE_CELLS = 1 << 16


def _finite_range(values) -> tuple[float, float]:
    """(smallest, largest) finite value, or (0, 1) when there is none; no copy of the
    values unless one is infinite."""
    if not values.size:
        return 0.0, 1.0
    low, high = np.fmin.reduce(values, axis=None), np.fmax.reduce(values, axis=None)
    if not (np.isfinite(low) and np.isfinite(high)):  # an infinity, or nothing but NaN
        finite = values[np.isfinite(values)]
        if not finite.size:
            return 0.0, 1.0
        low, high = finite.min(), finite.max()
    return float(low), float(high)


def gather(result, *, taxonomy=None, examples=None, extra_orderings: bool = True) -> Content:
    """The explorer's content for a result: an :class:`~blocks_rx.Analysis`, a
    :class:`~blocks_rx.StoredResult` or the path of a result folder.

    ``taxonomy`` maps class names to their ``/``-separated path, root first (or is a
    CSV/TSV file with columns ``class, path``); ``examples`` maps class names to texts or images (2-D or 3-D
    arrays) shown when the class is selected.
    """
    from ..comparison import Comparison

    if isinstance(result, Comparison):
        return comparison_content(result)
    result = _as_result(result)
    if len(result.similarity.classes) > FULL_RESOLUTION_UP_TO:
        return pooled_overview(result)
    if taxonomy is not None:
        from ..ordering.taxonomy import read_taxonomy

        taxonomy = read_taxonomy(taxonomy)
    similarity, ordering = result.similarity, result.ordering
    classes = tuple(similarity.classes)
    groups = _groups(result, classes)
    paths = _taxonomy_paths(taxonomy, classes)
    orderings = [ContentOrdering(_ordering_name(ordering) + " (the result)",
                                 np.asarray(ordering.order, dtype=np.int32), _cuts(ordering))]
    if extra_orderings and len(classes) <= EXTRA_ORDERINGS_UP_TO:
        orderings += _hclust_orderings(similarity, ordering)
    if groups["memberships"] is not None:
        orderings.append(_groups_ordering(groups["memberships"], orderings[0].order))
    if paths is not None:
        orderings.append(_taxonomy_ordering(similarity, taxonomy, classes))
    orderings.append(ContentOrdering("input order", np.arange(len(classes), dtype=np.int32)))
    return Content(
        title=_title(result, similarity), run_id=str(getattr(result, "run_id", "") or ""),
        classes=classes, measure=similarity.measure,
        layers=(matrix_layer(similarity.measure, similarity.matrix),),
        orderings=tuple(orderings), confusion=_confusion(result), taxonomy=paths,
        examples=_examples(examples, classes), **groups)


def comparison_content(comparison) -> Content:
    """The page of a :class:`~blocks_rx.Comparison`: A, B (one shared colour scale) and
    B - A as switchable matrices over the common classes; the comparison's order, hclust of
    A, of B and of their mean; each class's move (its rank, row change and nearest classes on
    both sides) listed when it is brushed."""
    from ..ordering import hclust

    a, b, classes = comparison.matrix_a, comparison.matrix_b, comparison.classes
    if len(classes) > FULL_RESOLUTION_UP_TO:
        raise ValueError(f"the explorer shows comparisons of up to {FULL_RESOLUTION_UP_TO:,} "
                         f"classes; this one has {len(classes):,}")
    shared = colour_limits(np.maximum(np.abs(a), np.abs(b)))
    layers = (matrix_layer("A", a, limits=shared), matrix_layer("B", b, limits=shared),
              matrix_layer("B - A", b - a, scale="diverging"))
    orderings = [ContentOrdering(f"the comparison's ({comparison.order_by})",
                                 np.asarray(comparison.order, dtype=np.int32))]
    for name, matrix in (("A", a), ("B", b), ("(A + B) / 2", (a + b) / 2)):
        tree = hclust(matrix, classes=classes, hclust_backend="python")
        orderings.append(ContentOrdering(f"hclust of {name}, complete linkage",
                                         np.asarray(tree.order, dtype=np.int32), _cuts(tree)))
    orderings.append(ContentOrdering("input order", np.arange(len(classes), dtype=np.int32)))
    sources = comparison.provenance.get("sources", {})
    title = (f"comparison of A ({sources.get('a', 'A')}) and B ({sources.get('b', 'B')}): "
             f"{len(classes):,} common classes; cophenetic r {comparison.cophenetic:.3f}")
    return Content(title=title, run_id="", classes=tuple(classes), measure="r", layers=layers,
                   orderings=tuple(orderings), examples=_moves(comparison))


def colour_limits(matrix) -> tuple[float, float]:
    """Symmetric limits ±(largest |value| off the diagonal) of a square matrix."""
    from ..plot._colour import colour_scale

    scale = colour_scale(matrix, scale="diverging")
    return float(scale.vmin), float(scale.vmax)


def _moves(comparison):
    """Per class, the lines the panel shows about its move (as example texts)."""
    m = len(comparison.classes)
    lines = {row["class"]: [f"moved: rank {rank} of {m}, row change {row['row_change']:.3f}, "
                            f"neighbours kept {row['neighbours_kept']:.2f}",
                            f"nearest in A: {row['neighbours_a']}",
                            f"nearest in B: {row['neighbours_b']}"]
             for rank, row in comparison.moved.iterrows()}
    return _examples(lines, comparison.classes)


def pooled_overview(result, *, side: int | None = None) -> Content:
    """The page's content above :data:`FULL_RESOLUTION_UP_TO` classes: the matrix in the
    result's order, pooled by the mean over tiles of ``t x t`` classes (``t = ceil(m / side)``),
    each tile listed as its range of positions and first and last class. Orderings, tracks
    and confusions need the full matrix: ``blocks-rx explore --serve`` shows them at any zoom.
    """
    similarity, ordering = result.similarity, result.ordering
    classes, order = similarity.classes, np.asarray(ordering.order)
    m = len(classes)
    tile = -(-m // (side or OVERVIEW_PIXELS))
    pooled = pool_ordered(similarity.matrix, order, tile)
    tiles = len(pooled)
    names = tuple(f"positions {i * tile + 1:,}-{min(m, (i + 1) * tile):,}: "
                  f"{classes[order[i * tile]]} ... {classes[order[min(m, (i + 1) * tile) - 1]]}"
                  for i in range(tiles))
    name = f"{_ordering_name(ordering)} (the result), pooled: mean of {tile} x {tile} classes"
    return Content(
        title=_title(result, similarity) + f"; overview pooled to {tiles:,} x {tiles:,} tiles",
        run_id=str(getattr(result, "run_id", "") or ""), classes=names,
        measure=f"mean {similarity.measure}",
        layers=(matrix_layer(f"mean {similarity.measure}", pooled),),
        orderings=(ContentOrdering(name, np.arange(tiles, dtype=np.int32)),), pooled=tile,
        details=detail_blocks(similarity, ordering))


def detail_blocks(similarity, ordering) -> tuple[DetailBlock, ...]:
    """Full-resolution blocks along the order: the largest clusters of the tree with at
    most DETAIL_CLASSES classes (runs of DETAIL_CLASSES positions for an ordering without a
    tree), the largest first within DETAIL_CELLS cells, returned in the order's order."""
    order = np.asarray(ordering.order)
    spans = _detail_spans(ordering, len(order))
    chosen, cells = [], 0
    for start, end in sorted(spans, key=lambda span: span[0] - span[1]):
        if end - start >= 2 and cells + (end - start) ** 2 <= DETAIL_CELLS:
            chosen.append((start, end))
            cells += (end - start) ** 2
    blocks = []
    for start, end in sorted(chosen):
        members = order[start:end]
        block = ordered_block(similarity.matrix, members, members)
        blocks.append(DetailBlock(start, end, tuple(similarity.classes[i] for i in members),
                                  matrix_layer(similarity.measure, block)))
    return tuple(blocks)


def _detail_spans(ordering, m: int) -> list[tuple[int, int]]:
    """(start, end) position spans of the detail candidates: the largest clusters of the
    tree with at most DETAIL_CLASSES classes (each spans a run of the tree's order), or runs
    of DETAIL_CLASSES positions for an ordering without a tree."""
    if ordering.merge is None:
        return [(s, min(m, s + DETAIL_CLASSES)) for s in range(0, m, DETAIL_CLASSES)]
    merge = np.asarray(ordering.merge)
    position = np.empty(m, dtype=np.int64)
    position[np.asarray(ordering.order)] = np.arange(m)
    low, high, size = (np.empty(m - 1, dtype=np.int64) for _ in range(3))

    def extent(node):  # R's merge: -j is class j (1-based), +i is the cluster of merge row i
        if node < 0:
            return position[-node - 1], position[-node - 1], 1
        return low[node - 1], high[node - 1], size[node - 1]

    spans = []
    for row, (a, b) in enumerate(merge):  # children come before their parent
        (la, ha, sa), (lb, hb, sb) = extent(a), extent(b)
        low[row], high[row], size[row] = min(la, lb), max(ha, hb), sa + sb
        if size[row] > DETAIL_CLASSES:  # its children of at most DETAIL_CLASSES are maximal
            spans += [(int(lo), int(hi) + 1) for lo, hi, n in ((la, ha, sa), (lb, hb, sb))
                      if n <= DETAIL_CLASSES]
    if size[-1] <= DETAIL_CLASSES:
        spans.append((0, m))
    return spans


def ordered_block(matrix, rows, columns, dtype=np.float32) -> np.ndarray:
    """``matrix[rows][:, columns]``, its rows read in file order (one forward sweep over a
    memory-mapped matrix, whatever order ``rows`` asks for), a band of rows at a time.

    >>> ordered_block(np.arange(9.0).reshape(3, 3), np.array([2, 0]), np.array([1, 2])).tolist()
    [[7.0, 8.0], [1.0, 2.0]]
    """
    from ..plot._pool import ordered_rows

    return ordered_rows(matrix, rows, columns, dtype)


def pool_ordered(matrix, order, tile: int, columns=None) -> np.ndarray:
    """The mean of the finite cells of each ``tile x tile`` block of
    ``matrix[order][:, columns]`` (``columns`` default ``order``; the last tiles smaller; NaN
    for a tile with none), as float32: the pooling of the drawn heatmap
    (:func:`blocks_rx.plot._pool.pool_tiles`), a band of tiles at a time.

    >>> pool_ordered(np.arange(16.0).reshape(4, 4), np.array([0, 1, 2, 3]), 2).tolist()
    [[2.5, 4.5], [10.5, 12.5]]
    """
    from ..plot._pool import pool_tiles

    return pool_tiles(matrix, order, columns, tile).astype(np.float32)


def _as_result(result):
    """A StoredResult for a path; Analysis and StoredResult as they are."""
    if isinstance(result, (str, Path)):
        from ..results import read

        return read(result)
    if not (hasattr(result, "similarity") and hasattr(result, "ordering")):
        raise TypeError("explore() takes an Analysis (blocks_rx.analyze), a StoredResult "
                        f"(blocks_rx.read_result) or a result folder, not {type(result).__name__}")
    return result


def _title(result, similarity) -> str:
    source = getattr(similarity, "source", None)
    folder = getattr(result, "folder", None)
    where = f"{Path(folder).name}: " if folder is not None else ""
    named = f" ({source})" if source and not source.startswith("<") else ""
    return (f"{where}{similarity.measure} similarity of {len(similarity.classes):,} classes "
            f"over {similarity.n_samples:,} samples{named}")


def _ordering_name(ordering) -> str:
    if ordering.merge is not None:
        return f"{ordering.method}, {ordering.linkage} linkage"
    return str(ordering.method)


def _cuts(ordering) -> np.ndarray | None:
    """R's ``cutree`` for k = 1..MAX_CUT, or None for an ordering without a tree."""
    if ordering.merge is None:
        return None
    m = len(ordering.classes)
    cuts = np.ones((MAX_CUT, m), dtype=np.int16)
    for k in range(2, min(MAX_CUT, m) + 1):
        cuts[k - 1] = ordering.cut_labels(k)
    for k in range(min(MAX_CUT, m) + 1, MAX_CUT + 1):  # more clusters than classes: singletons
        cuts[k - 1] = cuts[min(MAX_CUT, m) - 1]
    return cuts


def _hclust_orderings(similarity, ordering) -> list[ContentOrdering]:
    """hclust with every linkage of EXTRA_LINKAGES the result did not use."""
    from ..ordering import hclust

    found = []
    for linkage in EXTRA_LINKAGES:
        if ordering.method == "hclust" and linkage == ordering.linkage:
            continue  # the result itself (an OLO or GW tree of that linkage orders otherwise)
        tree = hclust(similarity, linkage=linkage, hclust_backend="python")
        found.append(ContentOrdering(f"hclust, {linkage} linkage",
                                     np.asarray(tree.order, dtype=np.int32), _cuts(tree)))
    return found


def _groups_ordering(memberships, reference) -> ContentOrdering:
    """Classes by fuzzy group (groups by mean position in ``reference``), then membership."""
    crisp = np.argmax(memberships, axis=1)
    position = np.empty(len(reference), dtype=np.int64)
    position[reference] = np.arange(len(reference))
    centre = np.array([position[crisp == g].mean() if (crisp == g).any() else np.inf
                       for g in range(memberships.shape[1])])
    rank = np.argsort(np.argsort(centre, kind="stable"), kind="stable")
    strength = memberships[np.arange(len(crisp)), crisp]
    order = np.lexsort((position, -strength, rank[crisp]))
    return ContentOrdering("fuzzy groups", order.astype(np.int32))


def _taxonomy_ordering(similarity, taxonomy, classes) -> ContentOrdering:
    from ..ordering import taxonomy_order

    ordering = taxonomy_order(similarity, taxonomy, classes=classes)
    return ContentOrdering("taxonomy", np.asarray(ordering.order, dtype=np.int32))


def _groups(result, classes) -> dict:
    """Memberships, group names and the failed and split groups of a result, if any."""
    from ..results import StoredResult

    none = {"memberships": None, "group_names": (), "failed": (), "split": ()}
    if isinstance(result, StoredResult):
        if result.groups is None:
            return none
        memberships, report = np.asarray(result.groups.memberships), result.report["groups"]
    elif result.findings is not None:  # an Analysis
        memberships = np.asarray(result.findings.fuzzy.memberships)
        report = result.findings.report()
    else:
        return none
    index = {name: i for i, name in enumerate(classes)}
    split = tuple((f"split {i + 1}", float(s["z"]),
                   tuple(index[c] for c in s["first"] if c in index),
                   tuple(index[c] for c in s["second"] if c in index))
                  for i, s in enumerate(report.get("split", [])))
    return {"memberships": memberships.astype(np.float32),
            "group_names": tuple(f"G{k + 1}" for k in range(memberships.shape[1])),
            "failed": tuple((str(f["group"]), float(f["z"])) for f in report.get("failed", [])),
            "split": split}


def _confusion(result) -> np.ndarray | None:
    confusion = getattr(result, "confusion", None)
    return None if confusion is None else np.asarray(confusion)


def _taxonomy_paths(taxonomy, classes):
    if taxonomy is None:
        return None
    missing = [name for name in classes if name not in taxonomy]
    if missing:
        raise ValueError(f"the taxonomy has no path for {len(missing)} classes of the result: "
                         + ", ".join(map(repr, missing[:5])) + (" ..." if len(missing) > 5 else ""))
    return tuple(tuple(p for p in taxonomy[name].split("/") if p) for name in classes)


def _examples(examples, classes):
    """Per class, its first MAX_EXAMPLES examples as ("text", ...) or ("image", data URI)."""
    if not examples:
        return None
    unknown = sorted(set(examples) - set(classes))
    if unknown:
        raise ValueError(f"examples given for classes the result does not have: "
                         f"{', '.join(map(repr, unknown[:5]))}")
    return tuple(tuple(_example(item) for item in list(examples.get(name, ()))[:MAX_EXAMPLES])
                 for name in classes)


def _example(item) -> tuple[str, str]:
    if isinstance(item, str):
        text = " ".join(item.split())
        return ("text", text if len(text) <= MAX_TEXT else text[:MAX_TEXT - 1] + "…")
    return ("image", thumbnail_uri(np.asarray(item)))


def thumbnail_uri(image: np.ndarray) -> str:
    """A small PNG of an image (H x W grey, or H x W x 3/4 colour) as a ``data:`` URI.

    >>> thumbnail_uri(np.zeros((8, 8)))[:22]
    'data:image/png;base64,'
    """
    from PIL import Image

    values = np.asarray(image, dtype=np.float64)
    if values.ndim not in (2, 3):
        raise ValueError(f"a thumbnail needs a 2-D or 3-D image array, got shape {values.shape}")
    low, high = np.nanmin(values), np.nanmax(values)
    scaled = np.zeros_like(values) if high <= low else (values - low) / (high - low)
    picture = Image.fromarray(np.rint(scaled * 255).astype(np.uint8).squeeze())
    picture.thumbnail((THUMBNAIL_PIXELS, THUMBNAIL_PIXELS))
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
