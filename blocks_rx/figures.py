"""The paper's figures, one function each, on data that needs no download.

Each ``fig*`` function computes what its figure needs with the blocks-rx API and draws it with
``blocks_rx.plot``; :func:`make_all` writes every one of them (``blocks-rx figures``). Sources:

- **langid** (real): langid's 97-language model over texts built from Babel's CLDR data;
- **digits** (real): a logistic-regression classifier on scikit-learn's bundled 8x8 digits;
- **planted** (synthetic): scores with a planted taxonomy, class imbalance, multi-label
  structure, or failed and split groups, where no offline real data has that property. Every
  synthetic figure says so in its title.

All three come from :mod:`blocks_rx.datasets`. The functions that take ``scores`` accept any
:class:`blocks_rx.Scores`; those that take ``data`` expect the dict of a ``planted_*``
generator (``scores`` and ``classes``, plus ``taxonomy``, ``labels`` or ``stars`` as used).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from . import plot
from .names import literal
# The data sources live in blocks_rx.datasets; importable from here too, as before.
from .datasets import digits_classifier, langid_scores  # noqa: F401
from .ordering import (confusion_ordering, hclust, spans, taxonomy_levels, taxonomy_order)
from .scores import load_scores
from .similarity import compute, cooccurrence_matrix, describe, star_classes, typical_class


# --------------------------------------------------------------------------- figures


def fig1_distributions(scores, *, logit_transform: str = "none", source: str = ""):
    """Fig. 1: input values of one class and off-diagonal similarities, three variants.

    (a) Pearson on probabilities (softmax), (b) Pearson on logits, (c) Pearson on the
    classes' ranks within each sample (sample-rank), with skewness and kurtosis.
    """
    from .scores import TRANSFORMS

    variants = [("(a) pearson on probabilities", "pearson", "softmax"),
                ("(b) pearson on logits" + (f" ({logit_transform})" if logit_transform != "none" else ""),
                 "pearson", logit_transform),
                ("(c) pearson on within-sample ranks", "sample-rank", "softmax")]
    reference = compute(scores, transform=logit_transform, warn=False)
    column = typical_class(reference)
    block = np.asarray(scores.values, dtype=np.float64)
    panels = []
    for label, method, transform in variants:
        sim = reference if (method, transform) == ("pearson", logit_transform) else \
            compute(scores, measure=method, transform=transform, warn=False)
        convert = TRANSFORMS[transform].function
        values = block if convert is None else convert(block)
        if method == "sample-rank":
            from scipy.stats import rankdata

            values = rankdata(values, axis=1)
        values = values[:, column]
        off = sim.off_diagonal()
        panels.append({"label": label, "class_name": scores.classes[column], "values": values,
                       "values_stats": describe(values), "similarities": off,
                       "similarity_stats": describe(off)})
    fig = plot.distributions(panels)
    fig.figure_.suptitle(literal(f"Fig. 1 analogue: distributions of inputs and similarities{source}"),
                 fontsize=11)
    return fig


def fig2a_hclust(scores, *, transform: str = "standardize", source: str = ""):
    """Fig. 2a: the logit-based similarity matrix in hclust (complete linkage) order."""
    sim = compute(scores, transform=transform, warn=False)
    ordering = hclust(sim)
    title = f"Fig. 2a analogue: similarity in hclust order{source}"
    return plot.heatmap(sim, ordering, title=title, dendrogram=True), sim, ordering


def fig2b_taxonomy(data: dict):
    """Fig. 2b: the same kind of matrix in a predefined taxonomy's order, with level bands."""
    scores = load_scores(data["scores"], classes=data["classes"])
    sim = compute(scores, warn=False)
    ordering = taxonomy_order(sim, data["taxonomy"])
    levels = taxonomy_levels(ordering, data["taxonomy"])
    return plot.heatmap(sim, ordering, bands=levels,
                        boundaries=[start for start, _, _ in levels[0][1:]],
                        title="Fig. 2b analogue: taxonomy order, taxonomy levels at the right\n"
                              "(synthetic: planted two-level taxonomy)"), ordering, levels


def fig3_frequency(data: dict):
    """Fig. 3: label frequencies without the dominant (star) classes, long tail split."""
    counts = np.asarray(data["labels"]).sum(axis=0)
    exclude = [data["classes"][j] for j in data["stars"]]
    return plot.frequency(counts, data["classes"], exclude=exclude, n_labels=8,
                          title="Fig. 3 analogue: class frequency excluding "
                                f"{', '.join(exclude)} (synthetic: planted multi-label, long tail)")


def fig4a_cooccurrence(data: dict):
    """Fig. 4a: label co-occurrence in taxonomy order, star-pattern classes ticked."""
    from matplotlib.colors import LogNorm

    cooc = cooccurrence_matrix(data["labels"]).astype(np.float64)
    ordering = taxonomy_order(np.eye(len(data["classes"])), data["taxonomy"], classes=data["classes"])
    stars = star_classes(cooc)
    position = ordering.positions
    shown = np.where(cooc > 0, cooc, np.nan)
    fig = plot.ordered_matrix(
        shown, ordering, cmap="magma_r", norm=LogNorm(vmin=1, vmax=np.nanmax(shown)),
        bands=taxonomy_levels(ordering, data["taxonomy"], depth=1),
        marks=([int(position[j]) for j in stars], [data["classes"][j] for j in stars]),
        colorbar="samples with both labels (log)",
        title="Fig. 4a analogue: label co-occurrence in taxonomy order; ticks: star patterns\n"
              "(co-occur 3+ times with half of all classes; synthetic: planted multi-label)")
    return fig, stars


def fig4b_spans(data: dict, *, k: int = 6):
    """Fig. 4b: the similarity of the same multi-label classifier, hclust order, labelled spans."""
    scores = load_scores(data["scores"], classes=data["classes"], kind="multilabel")
    sim = compute(scores, warn=False)
    ordering = hclust(sim)
    found = spans(ordering, ordering.cut_labels(k), taxonomy=data["taxonomy"], min_size=3)
    fig = plot.heatmap(sim, ordering, spans=found,
                       title=f"Fig. 4b analogue: logit similarity, hclust order; spans: the {k}-group "
                             "cut, named by their most shared taxonomy term\n(synthetic: planted multi-label)")
    return fig, found


def fig5_groups(data: dict):
    """Fig. 5: hclust order with coherent (green), failed (blue) and split (red) groups."""
    from .groups import find_groups

    scores = load_scores(data["scores"], classes=data["classes"])
    sim = compute(scores, warn=False)
    ordering = hclust(sim)
    found = find_groups(sim, ordering)
    fig = plot.groups_heatmap(
        sim, ordering, found.fuzzy, failed=found.failed[:3], split=found.split,
        coherent=found.coherent,
        title="Fig. 5 analogue: fuzzy c-means groups; blue columns: failed groups, red boxes: "
              "split groups\n(synthetic: planted overlapping and split groups)")
    return fig, found


def fig6_text_groups(data: dict, *, k: int = 5, shown: int = 2, max_lines: int = 12):
    """Fig. 6: probability-based Spearman similarity, two groups boxed with their labels listed."""
    scores = load_scores(data["scores"], classes=data["classes"], kind="multilabel")
    sim = compute(scores, measure="spearman", transform="sigmoid", warn=False)
    ordering = hclust(sim)
    groups = spans(ordering, ordering.cut_labels(k), taxonomy=data["taxonomy"], min_size=3)
    chosen = sorted(groups, key=lambda s: s[0] - s[1])[:shown]  # the largest groups
    boxes = []
    for letter, (start, end, term) in zip("ABCDEFGH", sorted(chosen)):
        names = ordering.ordered_classes[start:end]
        lines = names[:max_lines] + ([f"... and {len(names) - max_lines} more"]
                                     if len(names) > max_lines else [])
        boxes.append((start, end, f"{letter}: {term}", lines))
    fig = plot.heatmap(sim, ordering, boxes=boxes,
                       title="Fig. 6 analogue: Spearman similarity of probabilities, two groups "
                             "listed\n(synthetic: planted multi-label)")
    return fig, boxes


def fig7_examples(scores, texts, *, transform: str = "standardize", k: int = 12, shown: int = 3):
    """Fig. 7: a large real matrix, coarse groups, and fine groups shown with examples.

    The langid analogue of the paper's Chinese characters: three fine-grained groups are boxed
    with an example text of each of their languages, which shows the shared script.
    """
    from .plot import drawable

    sim = compute(scores, transform=transform, warn=False)
    ordering = hclust(sim)
    ordered = sim.matrix[np.ix_(ordering.order, ordering.order)]

    def tightness(span):  # mean similarity inside the block, off its diagonal
        start, end, _ = span
        block = ordered[start:end, start:end]
        return (block.sum() - (end - start)) / ((end - start) * (end - start - 1))

    fine = [s for s in spans(ordering, ordering.cut_labels(k), min_size=4)]
    chosen = sorted(sorted(fine, key=tightness, reverse=True)[:shown])
    labels = np.asarray(scores.labels)
    boxes = []
    for number, (start, end, _) in enumerate(chosen, start=1):
        lines = []
        for name in ordering.ordered_classes[start:end][:8]:
            column = scores.classes.index(name)
            example = next((texts[i] for i in np.flatnonzero(labels == column)), None)
            if example is None:
                example = "(no text in the demo)"
            elif not drawable(example[:34]):
                example = "(no installed font has this script)"
            else:
                example = example[:34]
            lines.append(f"{name}: {example}")
        if end - start > 8:
            lines.append(f"... and {end - start - 8} more")
        boxes.append((start, end, f"({number}): mean r {tightness((start, end, '')):.2f}", lines))
    coarse = [(s, e, f"coarse {i + 1}") for i, (s, e, _) in enumerate(spans(ordering, ordering.cut_labels(3)))]
    fig = plot.heatmap(sim, ordering, boxes=boxes, spans=coarse,
                       title="Fig. 7 analogue: langid's 97 languages (real), hclust order; "
                             "fine groups with example texts")
    return fig, boxes


def confusion_figures(digits: dict):
    """The notebook's confusion comparison and similarity beside confusion, on real digits."""
    from .similarity import confusion_matrix

    scores = load_scores(digits["scores"], classes=digits["classes"], labels=digits["labels"])
    sim = compute(scores, warn=False)
    ordering = hclust(sim)
    confusion = confusion_matrix(digits["labels"], digits["predictions"], len(digits["classes"]))
    own = confusion_ordering(confusion, classes=digits["classes"])
    accuracy = np.trace(confusion) / confusion.sum()
    first = plot.confusion_comparison(
        confusion, own, ordering,
        title=f"Confusion matrix four ways: scikit-learn digits, logistic regression (real), "
              f"accuracy {accuracy:.3f}")
    second = plot.side_by_side(sim, confusion, ordering,
                               title="Similarity from scores beside confusions, same hclust order "
                                     "(scikit-learn digits, real)")
    return first, second, ordering


def class_samples_figure(digits: dict, ordering):
    """One thumbnail per class in the similarity order (the notebook's 5 x 5 grid)."""
    return plot.class_samples(ordering, digits["images"], count=10, columns=5,
                              title="One sample per class in hclust order (scikit-learn digits, real)")


# --------------------------------------------------------------------------- all of them


def make_all(out_dir, *, dpi: int = 150, log=print) -> dict[str, Path]:
    """Write every figure as PNG into ``out_dir``; returns {file name: path}.

    Figures are written one by one as they are made, each through a temporary name, so an
    interrupted run leaves only complete files.
    """
    from .datasets import planted_multilabel, planted_overlaps, planted_taxonomy

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}

    def save(name, fig):
        path = out_dir / name
        temporary = out_dir / f".{name}.tmp.png"
        fig.savefig(temporary, dpi=dpi)
        temporary.replace(path)
        written[name] = path
        log(f"  {name}")

    started = time.perf_counter()
    langid, texts = langid_scores()
    source = " (langid, real)"
    save("fig1_distributions.png", fig1_distributions(langid, logit_transform="standardize", source=source))
    save("fig2a_hclust.png", fig2a_hclust(langid, source=source)[0])
    taxonomy_data = planted_taxonomy()
    save("fig2b_taxonomy.png", fig2b_taxonomy(taxonomy_data)[0])
    multilabel = planted_multilabel()
    save("fig3_frequency.png", fig3_frequency(multilabel))
    save("fig4a_cooccurrence.png", fig4a_cooccurrence(multilabel)[0])
    save("fig4b_spans.png", fig4b_spans(multilabel)[0])
    save("fig5_groups.png", fig5_groups(planted_overlaps())[0])
    save("fig6_text_groups.png", fig6_text_groups(multilabel)[0])
    save("fig7_examples.png", fig7_examples(langid, texts)[0])
    digits = digits_classifier()
    comparison, beside, ordering = confusion_figures(digits)
    save("confusion_comparison.png", comparison)
    save("similarity_vs_confusion.png", beside)
    save("class_samples.png", class_samples_figure(digits, ordering))
    log(f"{len(written)} figures in {time.perf_counter() - started:.1f} s")
    return written
