"""The paper's figures: content checked through their artists, and the planted-taxonomy claim."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from sklearn.metrics import adjusted_rand_score

import blocks_rx
from blocks_rx import datasets, figures, plot
from blocks_rx.datasets import planted_multilabel, planted_taxonomy
from blocks_rx.ordering import confusion_ordering, hclust, spans, taxonomy_levels, taxonomy_order
from blocks_rx.similarity import confusion_matrix, cooccurrence_matrix, star_classes


@pytest.fixture(scope="module")
def taxonomy_data():
    return planted_taxonomy()


@pytest.fixture(scope="module")
def multilabel_data():
    return planted_multilabel()


@pytest.fixture(scope="module")
def langid(tmp_path_factory):
    import os

    os.environ.setdefault("BLOCKS_RX_CACHE", str(tmp_path_factory.mktemp("cache")))
    return datasets.langid_scores()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_similarity_recovers_the_planted_top_level_and_confusion_does_worse(seed):
    data = planted_taxonomy(seed=seed)
    sim = blocks_rx.compute_similarity(data["scores"], warn=False)
    by_similarity = adjusted_rand_score(data["top"], hclust(sim).cut_labels(3))
    predictions = data["scores"].argmax(axis=1)
    assert 0.85 < np.mean(predictions == data["labels"]) < 0.98  # few errors: sparse confusions
    confusion = confusion_matrix(data["labels"], predictions, len(data["classes"]))
    by_confusion = adjusted_rand_score(data["top"], confusion_ordering(confusion).cut_labels(3))
    assert by_similarity >= 0.9
    assert by_confusion < by_similarity - 0.3


def test_fig1_shows_three_variants_with_their_statistics(langid):
    scores, _ = langid
    fig = figures.fig1_distributions(scores, logit_transform="standardize")
    axes = [ax for ax in fig.figure_.axes if ax.patches]
    assert len(axes) == 6
    titles = [ax.get_title() for ax in axes]
    assert [t[:3] for t in titles[::2]] == ["(a)", "(b)", "(c)"]
    # Right column: the off-diagonal similarities; their skewness is printed.
    from blocks_rx.similarity import compute

    expected = stats.skew(compute(scores, transform="softmax", warn=False).off_diagonal())
    box = axes[1].texts[0].get_text()
    assert f"skewness {expected:.2f}" in box
    # (c) values are ranks within a sample: 1..m.
    heights = axes[4].patches
    lo = min(p.get_x() for p in heights)
    hi = max(p.get_x() + p.get_width() for p in heights)
    assert lo >= 1 - 1e-9 and hi <= scores.n_classes + 1e-9


def test_fig2b_bands_follow_the_taxonomy_order_and_colours(taxonomy_data):
    fig, ordering, levels = figures.fig2b_taxonomy(taxonomy_data)
    main = fig.ax_
    bands = [child for child in main.child_axes if child.get_label().startswith("taxonomy level")]
    assert len(bands) == 2  # top level and second level
    top_names = [p.get_label() for p in bands[0].patches]
    assert top_names == ["indoor", "outdoor-natural", "outdoor-man-made"]
    heights = [p.get_height() for p in bands[0].patches]
    assert heights == [20, 20, 20]
    colours = {p.get_facecolor() for p in bands[0].patches}
    assert len(colours) == 3
    # No colour stands for groups of two levels; neighbours in a level differ.
    second = [p.get_facecolor() for p in bands[1].patches]
    assert not colours & set(second)
    assert all(a != b for a, b in zip(second, second[1:]))
    # Ordered classes in each band really have that top-level path.
    for patch in bands[0].patches:
        start = int(patch.get_y() + 0.5)
        members = ordering.ordered_classes[start:start + int(patch.get_height())]
        assert {taxonomy_data["taxonomy"][c].split("/")[0] for c in members} == {patch.get_label()}
    assert len(main.lines) == 2 * 2  # boundaries between the three top groups, both axes


def test_fig2a_draws_the_dendrogram_with_one_link_per_merge(langid):
    scores, _ = langid
    fig, sim, ordering = figures.fig2a_hclust(scores)
    trees = [child for child in fig.ax_.child_axes if child.get_label() == "dendrogram"]
    assert len(trees) == 1
    assert len(trees[0].collections[0].get_segments()) == sim.n_classes - 1


def test_fig3_excludes_the_dominant_classes_and_breaks_the_axis(multilabel_data):
    fig = figures.fig3_frequency(multilabel_data)
    head, tail = fig.figure_.axes[:2]
    m = len(multilabel_data["classes"])
    assert len(tail.patches) == m - len(multilabel_data["stars"])
    labels = {t.get_text() for ax in (head, tail) for t in ax.texts}
    stars = {multilabel_data["classes"][j] for j in multilabel_data["stars"]}
    assert labels and not labels & stars
    assert head.get_ylim()[0] == pytest.approx(tail.get_ylim()[1])
    heights = [p.get_height() for p in tail.patches]
    assert heights == sorted(heights, reverse=True)


def test_fig4a_marks_exactly_the_planted_star_classes(multilabel_data):
    fig, stars = figures.fig4a_cooccurrence(multilabel_data)
    assert sorted(stars) == sorted(multilabel_data["stars"])
    marks = [child for child in fig.ax_.child_axes if child.get_label() == "marks"]
    labels = sorted(t.get_text() for t in marks[0].texts)
    assert labels == sorted(multilabel_data["classes"][j] for j in multilabel_data["stars"])
    segments = marks[0].collections[0].get_segments()
    ordering = taxonomy_order(np.eye(len(multilabel_data["classes"])), multilabel_data["taxonomy"],
                              classes=multilabel_data["classes"])
    positions = sorted(int(seg[0][1]) for seg in segments)
    assert positions == sorted(ordering.ordered_classes.index(multilabel_data["classes"][j])
                               for j in multilabel_data["stars"])


def test_star_rule_on_a_hand_made_matrix():
    K = np.zeros((6, 6), dtype=int)
    K[0, 1:] = K[1:, 0] = 10  # class 0 co-occurs with everyone
    K[1, 2] = K[2, 1] = 10
    assert star_classes(K).tolist() == [0]
    assert star_classes(K, share=0.3).tolist() == [0, 1, 2]  # 2 of 5 partners suffice


def test_fig4b_span_labels_are_the_shared_taxonomy_terms(multilabel_data):
    fig, found = figures.fig4b_spans(multilabel_data)
    side = [child for child in fig.ax_.child_axes if child.get_label() == "spans"][0]
    assert [t.get_text() for t in side.texts] == [label for _, _, label in found]
    ordering = hclust(blocks_rx.compute_similarity(
        blocks_rx.load_scores(multilabel_data["scores"], classes=multilabel_data["classes"]),
        warn=False))
    for start, end, label in found:
        members = ordering.ordered_classes[start:end]
        terms = [multilabel_data["taxonomy"][c].split("/") for c in members]
        share = max(np.mean([label in t for t in terms]), 0)
        assert share >= 0.5, (label, members)


def test_fig6_boxes_two_groups_and_lists_their_classes(multilabel_data):
    fig, boxes = figures.fig6_text_groups(multilabel_data)
    main, text_panel = fig.figure_.axes[0], fig.figure_.axes[1]
    rectangles = [p for p in main.patches if p.get_edgecolor()[:3] != (0, 0, 0) and not p.get_fill()]
    assert len(rectangles) == len(boxes) == 2
    listed = [t.get_text() for t in text_panel.texts]
    sim = blocks_rx.compute_similarity(
        blocks_rx.load_scores(multilabel_data["scores"], classes=multilabel_data["classes"]),
        measure="spearman", transform="sigmoid", warn=False)
    ordering = hclust(sim)
    for (start, end, title, lines), text in zip(boxes, listed):
        assert text.startswith(title)
        assert ordering.ordered_classes[start] in text


def test_fig7_finds_script_groups_in_real_langid_data(langid):
    scores, texts = langid
    fig, boxes = figures.fig7_examples(scores, texts)
    assert len(boxes) == 3
    listed = "\n".join(t.get_text() for t in fig.figure_.axes[1].texts)
    assert "Russian (ru)" in listed and "Ukrainian (uk)" in listed  # the Cyrillic block
    assert "Arabic (ar)" in listed and "Persian (fa)" in listed     # the Arabic-script block


def test_confusion_figures_on_real_digits():
    digits = datasets.digits_classifier()
    comparison, beside, ordering = figures.confusion_figures(digits)
    images = [ax.images[0] for ax in comparison.axes_ if ax.images]
    assert len(images) == 4
    binary = np.asarray(images[2].get_array())
    assert set(np.unique(binary)) <= {0.0, 1.0}
    confusion = confusion_matrix(digits["labels"], digits["predictions"], 10)
    off = (confusion > 0) & ~np.eye(10, dtype=bool)
    own = confusion_ordering(confusion, classes=digits["classes"])
    np.testing.assert_array_equal(binary, off[np.ix_(own.order, own.order)])
    panel_d = [ax for ax in comparison.axes_ if ax.images][3]
    ticks = [t.get_text() for t in panel_d.get_xticklabels()]
    assert ticks == ordering.ordered_classes
    assert np.isnan(np.diag(np.asarray(images[1].get_array(), dtype=float))).all()  # no diagonal
    # Side by side: similarity and confusion share one order.
    left, right = [ax for ax in beside.axes_ if ax.images]
    assert [t.get_text() for t in left.get_yticklabels()] == ordering.ordered_classes
    assert [t.get_text() for t in right.get_yticklabels()] == ordering.ordered_classes
    shown = np.asarray(right.images[0].get_array(), dtype=float)
    expected = np.where(off, confusion, np.nan)[np.ix_(ordering.order, ordering.order)]
    np.testing.assert_array_equal(shown, expected)


def test_class_samples_shows_one_thumbnail_per_class_in_order():
    digits = datasets.digits_classifier()
    _, _, ordering = figures.confusion_figures(digits)
    fig = figures.class_samples_figure(digits, ordering)
    assert [ax.get_title().split(". ", 1)[1] for ax in fig.figure_.axes] == ordering.ordered_classes
    for ax, name in zip(fig.figure_.axes, ordering.ordered_classes):
        np.testing.assert_array_equal(ax.images[0].get_array(), digits["images"][name])


def test_spans_and_levels_on_small_inputs():
    o = blocks_rx.order_classes(np.eye(5), "identity", classes=list("abcde"))
    tax = {"a": "x/p", "b": "x/p", "c": "x/q", "d": "y/r", "e": "y/r"}
    assert taxonomy_levels(o, tax) == [[(0, 3, "x"), (3, 5, "y")],
                                       [(0, 2, "p"), (2, 3, "q"), (3, 5, "r")]]
    # the deepest term shared by more than half of the span: p (2 of 3), then r (2 of 2)
    assert spans(o, [1, 1, 1, 2, 2], taxonomy=tax) == [(0, 3, "p"), (3, 5, "r")]
    tax = {"a": "x/p", "b": "x/q", "c": "x/s", "d": "y/r", "e": "y/t"}
    assert spans(o, [1, 1, 1, 2, 2], taxonomy=tax) == [(0, 3, "x"), (3, 5, "y")]  # r is only half


def test_make_all_writes_every_figure(tmp_path, langid):
    written = figures.make_all(tmp_path, dpi=40, log=lambda *_: None)
    expected = {"fig1_distributions.png", "fig2a_hclust.png", "fig2b_taxonomy.png",
                "fig3_frequency.png", "fig4a_cooccurrence.png", "fig4b_spans.png", "fig5_groups.png",
                "fig6_text_groups.png", "fig7_examples.png", "confusion_comparison.png",
                "similarity_vs_confusion.png", "class_samples.png"}
    assert expected <= set(written)
    assert all(p.stat().st_size > 5000 for p in written.values())
    assert not list(tmp_path.glob(".*.tmp.png"))


def test_fig5_marks_the_planted_failed_group_and_boxes_the_split_pair():
    from blocks_rx.datasets import planted_overlaps

    data = planted_overlaps()
    fig, found = figures.fig5_groups(data)
    planted_failed = {data["classes"][j] for j in data["failed"]}
    assert set(found.failed[0].classes) == planted_failed
    main = fig.figure_.axes[0]
    boxes = [p for p in main.patches if not p.get_fill() and p.get_edgecolor()[0] > 0.7
             and p.get_edgecolor()[1] < 0.3]
    assert len(boxes) == len(found.split) == 1
    pair = found.split[0]
    planted_split = [{data["classes"][j] for j in block} for block in data["split"]]
    assert sorted(map(sorted, (pair.first.classes, pair.second.classes))) == \
        sorted(map(sorted, planted_split))
    columns = [child for child in main.child_axes if child.get_label().startswith("failed")]
    assert columns[0].get_label() == f"failed G{found.failed[0].group + 1}"
    marked = sorted(int(round(y)) for seg in columns[0].collections[0].get_segments()
                    for y in {seg[0][1]})
    scores = blocks_rx.load_scores(data["scores"], classes=data["classes"])
    ordering = hclust(blocks_rx.compute_similarity(scores, warn=False))
    position = {c: i for i, c in enumerate(ordering.ordered_classes)}
    assert marked == sorted(position[data["classes"][j]] for j in data["failed"])
