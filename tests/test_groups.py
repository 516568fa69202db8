"""Fuzzy, failed and split groups, tested against planted structure (the paper's Fig. 5).

The planted scores have a two-level hierarchy (top-level A and B, four subgroups each), a
*failed* group (a factor shared by three classes from each of two subgroups of A and two of
B, like glasses across genders) and a *split* group (a factor shared by one subgroup of A
and one of B, weaker than the top level, so hclust keeps them apart while their
off-diagonal block is dense).
"""

from __future__ import annotations

import doctest
import importlib
import json
import warnings

import numpy as np
import pytest

import blocks_rx
from blocks_rx import groups as bg
from blocks_rx.groups import spectrum as bs

SUBGROUP_SIZES = (10, 12, 9, 11, 10, 11, 12, 9)  # A0..A3, B0..B3
FAILED_FROM = (0, 1, 4, 6)                      # A0, A1, B0, B2: three classes from each
SPLIT_PAIR = (3, 5)                             # A3 and B1


def planted_hierarchy(seed=0, n_samples=2000, top=1.2, sub=1.0, failed=1.0, split=0.8):
    """Scores (samples x classes) = latent factors + noise; returns (scores, names, truth)."""
    rng = np.random.default_rng(seed)
    subgroup = np.repeat(np.arange(len(SUBGROUP_SIZES)), SUBGROUP_SIZES)
    halves = len(SUBGROUP_SIZES) // 2
    level = subgroup // halves
    m = subgroup.size
    scores = (top * rng.normal(size=(n_samples, 2))[:, level]
              + sub * rng.normal(size=(n_samples, subgroup.max() + 1))[:, subgroup]
              + rng.normal(size=(n_samples, m)))
    failed_members = np.concatenate([np.flatnonzero(subgroup == g)[:3] for g in FAILED_FROM])
    scores[:, failed_members] += failed * rng.normal(size=(n_samples, 1))
    pair = np.isin(subgroup, SPLIT_PAIR)
    scores[:, pair] += split * rng.normal(size=(n_samples, 1))
    names = [f"{'AB'[level[j]]}{subgroup[j] % halves}_{j}" for j in range(m)]
    truth = {
        "level": level, "subgroup": subgroup,
        "failed": {names[j] for j in failed_members},
        "split": tuple({names[j] for j in np.flatnonzero(subgroup == g)} for g in SPLIT_PAIR),
    }
    return scores.astype(np.float32), names, truth


def jaccard(a, b) -> float:
    a, b = set(a), set(b)
    return len(a & b) / len(a | b)


def planted_blocks(sizes=(5, 5, 5), seed=0, n_samples=400, strength=2.0):
    """Scores with one latent factor per block of classes: (scores, crisp labels)."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(len(sizes)), sizes)
    scores = (strength * rng.normal(size=(n_samples, len(sizes)))[:, labels]
              + rng.normal(size=(n_samples, labels.size)))
    return scores, labels


@pytest.fixture(scope="module")
def small():
    """Three planted groups of five classes: a Similarity, its hclust order, the labels."""
    scores, labels = planted_blocks()
    sim = blocks_rx.compute_similarity(scores, warn=False)
    return {"sim": sim, "ordering": blocks_rx.order_classes(sim), "labels": labels}


@pytest.fixture(scope="module")
def planted():
    scores, names, truth = planted_hierarchy()
    sim = blocks_rx.compute_similarity(blocks_rx.load_scores(scores, classes=names), warn=False)
    ordering = blocks_rx.order_classes(sim)  # hclust, complete linkage, 1 - r
    groups = bg.fuzzy_groups(sim)
    return {"sim": sim, "ordering": ordering, "groups": groups, "truth": truth,
            "failed": bg.failed_groups(groups, ordering, sim),
            "split": bg.split_groups(sim, ordering),
            "coherent": bg.coherent_groups(groups, ordering, sim)}


# --------------------------------------------------------------------------- the planted data


def test_hclust_scatters_the_planted_failed_group(planted):
    """Without this the recovery test would mean nothing."""
    sim, ordering, truth = planted["sim"], planted["ordering"], planted["truth"]
    members = [sim.classes.index(c) for c in truth["failed"]]
    position = np.argsort(ordering.order)
    runs = 1 + np.count_nonzero(np.diff(np.sort(position[members])) > 1)
    assert runs >= 4
    assert set(ordering.cut_labels(2)[members]) == {1, 2}
    # ...while the top level is exactly the planted A | B split.
    top = ordering.cut_labels(2)
    assert len({(t, lv) for t, lv in zip(top, truth["level"])}) == 2


def test_planted_split_pair_is_dense_but_kept_apart(planted):
    sim, ordering, truth = planted["sim"], planted["ordering"], planted["truth"]
    a, b = ([sim.classes.index(c) for c in side] for side in truth["split"])
    top = ordering.cut_labels(2)
    assert set(top[a]).isdisjoint(top[b])
    across = sim.matrix[np.ix_(top == 1, top == 2)].mean()
    assert sim.matrix[np.ix_(a, b)].mean() > across + 0.1


# --------------------------------------------------------------------------- fuzzy groups


def test_failed_group_recovered_and_ranked_first(planted):
    failed, truth = planted["failed"], planted["truth"]
    assert failed, "no failed group found"
    best = failed[0]
    assert jaccard(best.classes, truth["failed"]) >= 0.8
    assert best.n_top_clusters == 2 and best.n_runs >= 4
    assert best.excess > 0 and best.score == pytest.approx(best.dispersion * best.excess)
    assert all(other.score <= best.score for other in failed[1:])


def test_number_of_groups_is_chosen_on_a_reported_curve(planted):
    groups = planted["groups"]
    # 8 subgroups + the failed group are the planted directions (A, B and the split pair
    # lie in their span): the eigen index counts them.
    assert groups.n_groups == 9 and groups.n_components == 9
    assert groups.candidates == tuple(range(2, 10))
    for name in bg.INDICES:
        assert groups.curves[name].shape == (8,)
    assert np.all(groups.index_values[groups.candidates.index(9)] > 1.0)
    assert groups.eigenvalues[9] < groups.noise_edge < groups.eigenvalues[8]
    assert "Marchenko-Pastur" in groups.component_rule
    # Another index chooses by its own curve.
    by_fpc = bg.fuzzy_groups(planted["sim"], index="fpc")
    assert by_fpc.n_groups == by_fpc.candidates[int(np.argmax(by_fpc.curves["fpc"]))]


def test_eigen_index_fits_only_what_its_choice_needs(planted):
    """The default index fits from the largest candidate down and stops at the first fit
    with no empty group: the choice fitting every candidate gives (index="fpc" fits them
    all), with the partition curves NaN where nothing was fitted."""
    lazy, full = planted["groups"], bg.fuzzy_groups(planted["sim"], index="fpc")
    assert full.curves["fitted"].all()
    usable = np.flatnonzero((full.curves["eigen"] > 1.0) & full.curves["filled"])
    assert lazy.n_groups == full.candidates[usable[-1]] == 9
    assert lazy.curves["fitted"].tolist() == [False] * 7 + [True]
    assert np.isnan(lazy.curves["fpc"][:7]).all()
    np.testing.assert_allclose(lazy.curves["fpc"][7], full.curves["fpc"][7], rtol=1e-12)
    report = lazy.provenance()["curves"]
    assert report["fpc"][:7] == [None] * 7 and report["fitted"][-1] == 1.0


def test_eigen_index_goes_down_past_fits_with_empty_groups(planted, monkeypatch):
    """When the largest candidates leave a group empty, the next ones down are fitted; the
    fit chosen is the one asked for directly."""
    real = bg.fuzzy._filled
    monkeypatch.setattr(bg.fuzzy, "_filled", lambda fit, c: c < 8 and real(fit, c))
    lazy = bg.fuzzy_groups(planted["sim"])
    assert lazy.n_groups == 7
    assert lazy.curves["fitted"].tolist() == [False] * 5 + [True] * 3
    assert not lazy.curves["filled"][6:].any()
    direct = bg.fuzzy_groups(planted["sim"], n_groups=7)
    np.testing.assert_array_equal(lazy.memberships, direct.memberships)


def test_memberships_crisp_and_overlap_follow_the_stated_rules(planted):
    groups = planted["groups"]
    u = groups.memberships
    assert u.shape == (groups.n_classes, groups.n_groups)
    np.testing.assert_allclose(u.sum(axis=1), 1.0)
    np.testing.assert_array_equal(groups.crisp, u.argmax(axis=1))
    assert groups.threshold == pytest.approx(1 / groups.n_groups)
    expected = u >= 1 / groups.n_groups
    expected[np.arange(groups.n_classes), groups.crisp] = True
    np.testing.assert_array_equal(groups.overlap, expected)
    # Every planted failed-group member is in the failed group's overlapping set, which
    # is what failed_groups reports.
    failed = planted["failed"][0]
    rows = [groups.classes.index(name) for name in planted["truth"]["failed"]]
    assert groups.overlap[rows, failed.group].all()
    assert set(failed.classes) == set(groups.group_classes(failed.group))
    strict = bg.fuzzy_groups(planted["sim"], threshold=0.5)
    assert strict.threshold == 0.5 and strict.threshold_rule == "given"
    assert strict.overlap.sum() < groups.overlap.sum()
    assert groups.provenance()["embedding"] == "spectral"


def test_raw_rows_collapse_where_the_spectral_embedding_does_not():
    # 12 equal groups of 20 classes and noisy rows: 240-dimensional points whose distances
    # are dominated by noise, the case of scikit-fuzzy issue 94.
    rng = np.random.default_rng(0)
    planted = np.repeat(np.arange(12), 20)
    scores = 0.6 * rng.normal(size=(300, 12))[:, planted] + rng.normal(size=(300, 240))
    sim = blocks_rx.compute_similarity(scores, warn=False)

    def collapse(groups):
        """(fpc - 1/c) / (1 - 1/c), and the largest centre gap relative to the data's spread."""
        c = groups.n_groups
        points, _, _ = bg.embed_rows(sim.matrix, groups.embedding,
                                     n_components=groups.n_components
                                     if groups.embedding != "none" else None)
        spread = np.sqrt(((points - points.mean(axis=0)) ** 2).sum(axis=1).mean())
        gaps = np.linalg.norm(groups.centers[:, None] - groups.centers[None], axis=-1)
        return (groups.partition_coefficient - 1 / c) / (1 - 1 / c), gaps.max() / spread

    with pytest.warns(bg.CollapsedWarning, match="near-uniform"):
        raw = bg.fuzzy_groups(sim, n_groups=12, embedding="none")
    raw_fuzziness, raw_gap = collapse(raw)
    assert raw_fuzziness < 0.01            # memberships all ~1/12
    assert raw_gap < 0.01                  # all centres at the centre of gravity
    assert np.abs(raw.memberships - 1 / 12).max() < 0.01

    with warnings.catch_warnings():
        warnings.simplefilter("error", bg.CollapsedWarning)
        reduced = bg.fuzzy_groups(sim, n_groups=12)
    fuzziness, gap = collapse(reduced)
    assert reduced.n_components == 12
    assert fuzziness > 0.2 and gap > 1.0
    # ...and its crisp groups are the planted ones.
    pairs = set(zip(planted.tolist(), reduced.crisp.tolist()))
    assert len(pairs) == 12 and len({g for _, g in pairs}) == 12


def test_same_seed_gives_identical_bytes_and_leaves_numpy_global_state(planted):
    sim = planted["sim"]
    state = np.random.get_state()[1].copy()
    first, second = bg.fuzzy_groups(sim, seed=3), bg.fuzzy_groups(sim, seed=3)
    assert np.array_equal(np.random.get_state()[1], state)
    for name in ("memberships", "crisp", "overlap", "centers", "eigenvalues"):
        assert getattr(first, name).tobytes() == getattr(second, name).tobytes(), name
    for name in first.curves:
        assert first.curves[name].tobytes() == second.curves[name].tobytes()
    with pytest.raises(ValueError):
        first.memberships[0, 0] = 1.0  # results are read-only


@pytest.mark.parametrize("seed", [1, 7])
def test_other_seeds_still_recover_the_failed_group(planted, seed):
    groups = bg.fuzzy_groups(planted["sim"], seed=seed)
    failed = bg.failed_groups(groups, planted["ordering"], planted["sim"])
    assert jaccard(failed[0].classes, planted["truth"]["failed"]) >= 0.8


def test_coherent_groups_are_the_planted_subgroups(planted):
    coherent, truth, sim = planted["coherent"], planted["truth"], planted["sim"]
    spans = [p.span for p in coherent]
    assert spans == sorted(spans) and all(p.n_runs == 1 for p in coherent)
    subgroups = [{c for c, g in zip(sim.classes, truth["subgroup"]) if g == k}
                 for k in range(len(SUBGROUP_SIZES))]
    # Each coherent group lies inside one planted subgroup and covers most of it.
    for p in coherent:
        best = max(subgroups, key=lambda s: len(s & set(p.classes)))
        assert set(p.classes) <= best and len(p.classes) >= 0.6 * len(best)
    assert len(coherent) >= 7


# --------------------------------------------------------------------------- split groups


def test_split_group_found(planted):
    split, truth = planted["split"], planted["truth"]
    assert len(split) >= 1
    found = split[0]
    side_a, side_b = truth["split"]
    blocks = (found.first.classes, found.second.classes)
    best = max(min(jaccard(blocks[0], side_a), jaccard(blocks[1], side_b)),
               min(jaccard(blocks[0], side_b), jaccard(blocks[1], side_a)))
    assert best >= 0.8
    assert found.first.top_cluster != found.second.top_cluster
    assert found.first.end <= found.second.start
    assert found.z >= 3.5 and found.excess >= 0.1
    order = planted["ordering"].ordered_classes
    assert tuple(order[found.first.start:found.first.end]) == found.first.classes


def test_split_rule_rejects_pairs_below_the_thresholds(planted):
    sim, ordering = planted["sim"], planted["ordering"]
    found = planted["split"][0]
    assert found.p_adjusted <= 0.01 and found.p_adjusted == min(1.0, found.p * found.n_candidates)
    stricter = bg.split_groups(sim, ordering, alpha=found.p_adjusted / 2)
    assert all((s.first.start, s.second.start) != (found.first.start, found.second.start)
               for s in stricter)
    assert bg.split_groups(sim, ordering, min_excess=found.excess + 0.01) == []
    # A finer grid of candidates finds the same subtrees: the search maximises over them.
    finer = bg.split_groups(sim, ordering, n_blocks=sim.n_classes)
    assert (finer[0].first.classes, finer[0].second.classes) == \
        (found.first.classes, found.second.classes)


# --------------------------------------------------------------------------- errors


def test_clear_errors_for_bad_arguments(planted):
    sim, ordering, groups = planted["sim"], planted["ordering"], planted["groups"]
    m = sim.n_classes
    with pytest.raises(ValueError, match="n_groups must be between 2"):
        bg.fuzzy_groups(sim, n_groups=1)
    with pytest.raises(ValueError, match=f"number of classes \\({m}\\)"):
        bg.fuzzy_groups(sim, n_groups=m + 1)
    with pytest.raises(ValueError, match="fuzzifier must be > 1"):
        bg.fuzzy_groups(sim, fuzzifier=1.0)
    with pytest.raises(ValueError, match="unknown embedding"):
        bg.fuzzy_groups(sim, embedding="umap")
    with pytest.raises(ValueError, match="unknown index"):
        bg.fuzzy_groups(sim, index="silhouette")
    # An ordering of other classes (a subset, and the same classes renamed).
    other = blocks_rx.order_classes(sim.matrix[:20, :20], classes=sim.classes[:20])
    renamed = blocks_rx.order_classes(sim.matrix, classes=[f"x{j}" for j in range(m)])
    for bad in (other, renamed):
        with pytest.raises(ValueError, match="ordering and the similarity matrix are for "
                                             "different classes"):
            bg.failed_groups(groups, bad, sim)
        with pytest.raises(ValueError, match="different classes"):
            bg.split_groups(sim, bad)
    with pytest.raises(ValueError, match="needs? a tree"):
        bg.split_groups(sim, blocks_rx.order_classes(sim, "identity"))
    with pytest.raises(ValueError, match="n_blocks"):
        bg.split_groups(sim, ordering, n_blocks=m + 1)
    with pytest.raises(ValueError, match="non-finite"):
        bg.fuzzy_groups(np.full((4, 4), np.nan))


def test_bare_matrix_uses_kaisers_rule():
    M = np.kron(np.eye(3), np.full((4, 4), 0.7)) + 0.3 * np.eye(12)
    groups = bg.fuzzy_groups(M, classes=[f"c{j}" for j in range(12)])
    assert "Kaiser" in groups.component_rule and groups.noise_edge == 1.0
    assert groups.n_groups == 3 and groups.crisp.tolist() == np.repeat([0, 1, 2], 4).tolist()


# --------------------------------------------------------------------------- fuzzifier


def test_deprecated_m_keyword_and_attribute_warn_and_agree(small):
    sim = small["sim"]
    new = bg.fuzzy_groups(sim, n_groups=3, fuzzifier=2.5)
    with pytest.warns(DeprecationWarning, match="fuzzifier"):
        old = bg.fuzzy_groups(sim, n_groups=3, m=2.5)
    assert old.fuzzifier == new.fuzzifier == 2.5
    for name in ("memberships", "crisp", "overlap", "centers"):
        assert getattr(old, name).tobytes() == getattr(new, name).tobytes(), name
    with pytest.warns(DeprecationWarning, match="Groups.fuzzifier"):
        assert new.m == 2.5
    provenance = new.provenance()
    assert provenance["fuzzifier"] == 2.5 and "m" not in provenance
    positional = bg.fuzzy_groups(sim, 3, 2.5)  # the third argument was m, now fuzzifier
    assert positional.memberships.tobytes() == new.memberships.tobytes()
    with pytest.raises(TypeError, match="fuzzifier once"):
        bg.fuzzy_groups(sim, n_groups=3, fuzzifier=3.0, m=2.5)


# --------------------------------------------------------------------------- findings


def test_find_groups_is_fuzzy_groups_plus_the_placements(planted):
    sim, ordering = planted["sim"], planted["ordering"]
    found = bg.find_groups(sim, ordering, seed=0)
    assert isinstance(found, bg.GroupFindings)
    direct = planted["groups"]  # bg.fuzzy_groups(sim), seed 0
    for name in ("memberships", "crisp", "overlap", "centers"):
        assert getattr(found.fuzzy, name).tobytes() == getattr(direct, name).tobytes(), name
    assert [p.classes for p in found.failed] == [p.classes for p in planted["failed"]]
    assert [p.classes for p in found.coherent] == [p.classes for p in planted["coherent"]]
    # Split pairs made of a failed group's pieces are that failed group: reported once.
    failed = set().union(*(p.classes for p in found.failed))
    kept = [(s.first.classes, s.second.classes) for s in found.split]
    for s in planted["split"]:
        pieces = all(2 * len(failed & set(side.classes)) > side.size
                     for side in (s.first, s.second))
        assert ((s.first.classes, s.second.classes) in kept) != pieces
    with pytest.warns(DeprecationWarning, match="GroupFindings.fuzzy"):
        assert found.groups is found.fuzzy
    report = found.report()
    assert json.loads(json.dumps(report)) == report
    assert list(report)[:2] == ["method", "fuzzifier"] and report["fuzzifier"] == 2.0
    assert {"n_groups", "index", "embedding", "n_components", "threshold", "seed", "seconds",
            "failed", "split", "coherent"} <= set(report)
    assert report["n_groups"] == direct.n_groups
    assert report["failed"][0]["group"] == f"G{planted['failed'][0].group + 1}"
    # Options are forwarded.
    other = bg.find_groups(sim, ordering, n_groups=4, fuzzifier=1.5, index="fpc", seed=2)
    assert other.fuzzy.n_groups == 4 and other.fuzzy.fuzzifier == 1.5
    assert other.fuzzy.seed == 2 and other.fuzzy.index == "fpc"
    assert other.fuzzy.memberships.tobytes() == bg.fuzzy_groups(
        sim, n_groups=4, fuzzifier=1.5, index="fpc", seed=2).memberships.tobytes()


def test_find_groups_needs_an_ordering_of_the_classes_with_a_tree(small):
    sim = small["sim"]
    with pytest.raises(ValueError, match="needs? an ordering with a tree"):
        bg.find_groups(sim, blocks_rx.order_classes(sim, "identity"))
    renamed = blocks_rx.order_classes(sim.matrix, classes=[f"x{j}" for j in range(15)])
    with pytest.raises(ValueError, match="different classes"):
        bg.find_groups(sim, renamed)


# --------------------------------------------------------------------------- registry


def test_group_methods_registry_entries():
    entry = bg.GROUP_METHODS["fuzzy-cmeans"]
    assert isinstance(entry, bg.GroupMethod) and entry.function is bg.find_groups
    assert entry.bind({"n_groups": 3}) == {"n_groups": 3, "fuzzifier": 2.0,
                                           "embedding": "spectral", "index": "eigen"}
    assert entry.option("embedding").allowed() == tuple(bg.EMBEDDINGS)
    assert entry.option("index").allowed() == tuple(bg.INDICES)
    with pytest.raises(blocks_rx.registry.OptionError, match="does not take seed"):
        entry.bind({"seed": 1})  # the caller passes the seed itself
    with pytest.raises(blocks_rx.registry.OptionError, match="not one of"):
        entry.bind({"index": "silhouette"})
    for name, method in bg.GROUP_METHODS.items():
        assert "\n" not in method.description and method.description
        assert all(option.help for option in method.options)
        facts = method.facts()
        assert isinstance(facts["needs_tree"], bool) and facts["dense_copies"] > 0
        assert method.memory_bytes(1000) == int(facts["dense_copies"] * 8e6)


def test_analyze_loads_the_group_method_while_the_similarity_is_computed(monkeypatch):
    import dataclasses
    import threading

    from blocks_rx import pipeline

    entry = bg.GROUP_METHODS["fuzzy-cmeans"]
    events = []

    def load():
        events.append(("load", threading.current_thread().name))
        entry.load()
        events.append("loaded")

    def grouped(*args, **kwargs):
        events.append("groups")
        return entry.function(*args, **kwargs)

    scores = np.random.default_rng(0).normal(size=(300, 12))
    scores[:, :4] += 2 * np.random.default_rng(1).normal(size=(300, 1))
    monkeypatch.setitem(bg.GROUP_METHODS.entries, "fuzzy-cmeans",
                        dataclasses.replace(entry, function=grouped, load=load))
    alone = blocks_rx.analyze(scores, hclust_backend="python")
    assert events == ["groups"]  # 3,600 scores: too few to load them aside
    events.clear()
    monkeypatch.setattr(pipeline, "LOAD_WHILE_ABOVE", 0)
    ahead = blocks_rx.analyze(scores, hclust_backend="python")
    # In a thread of its own, done before the similarity step ends.
    assert events == [("load", "blocks-rx: loading the groups"), "loaded", "groups"]
    assert ahead.findings.report() | {"seconds": 0} == alone.findings.report() | {"seconds": 0}

    def broken():
        raise ImportError("no compiled code")

    monkeypatch.setitem(bg.GROUP_METHODS.entries, "fuzzy-cmeans",
                        dataclasses.replace(entry, load=broken))
    # A failed load is the groups step's to meet (and to raise, if it fails there too).
    again = blocks_rx.analyze(scores, hclust_backend="python")
    assert again.findings.report() | {"seconds": 0} == alone.findings.report() | {"seconds": 0}


def test_the_group_methods_load_what_their_first_call_runs(tmp_path):
    # In a fresh process: after load(), the first groups (a failed group among them, whose
    # residual sums are compiled too) find all their compiled code loaded.
    np.save(tmp_path / "scores.npy", planted_hierarchy()[0])
    script = (
        "import sys, numpy as np, blocks_rx\n"
        "from blocks_rx.groups import GROUP_METHODS, _cmeans, _residual\n"
        "GROUP_METHODS['fuzzy-cmeans'].load()\n"
        "kernels = (_cmeans._iterate, _residual.cross_run_sums)\n"
        "loaded = [len(kernel.signatures) for kernel in kernels]\n"
        "found = blocks_rx.analyze(np.load(sys.argv[1]), hclust_backend='python').findings\n"
        "print(len(found.failed), loaded, [len(kernel.signatures) for kernel in kernels])\n")
    import subprocess
    import sys

    run = subprocess.run([sys.executable, "-c", script, str(tmp_path / "scores.npy")],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "1 [1, 1] [1, 1]"  # nothing compiled or loaded afterwards


@pytest.mark.parametrize("name", list(bg.GROUP_METHODS))
def test_every_group_method_finds_planted_groups_with_its_defaults(small, name):
    method = bg.GROUP_METHODS[name]
    found = method.function(small["sim"], small["ordering"], seed=0, **method.bind({}))
    assert isinstance(found, bg.GroupFindings)
    assert found.fuzzy.n_groups == 3
    assert found.fuzzy.crisp.tolist() == small["labels"].tolist()
    assert sorted(p.span for p in found.coherent) == [(0, 5), (5, 10), (10, 15)]
    assert found.failed == []
    json.dumps(found.report())


def _few_classes(n):
    """A similarity of ``n`` classes (the first two alike) and an ordering of them."""
    if n < 2:  # no scores, no hclust: a bare matrix in its input order
        M = np.eye(n)
        return M, blocks_rx.ordering.identity(M)
    scores = np.random.default_rng(0).normal(size=(200, n))
    scores[:, :2] += 2 * np.random.default_rng(1).normal(size=(200, 1))
    sim = blocks_rx.compute_similarity(scores, warn=False)
    return sim, blocks_rx.order_classes(sim)


@pytest.mark.parametrize("name", list(bg.GROUP_METHODS))
@pytest.mark.parametrize("n", [0, 1, 2])
def test_group_methods_refuse_fewer_than_three_classes(name, n):
    method = bg.GROUP_METHODS[name]
    similarity, ordering = _few_classes(n)
    message = f"fuzzy groups need at least 3 classes, got {n}"
    with pytest.raises(ValueError, match=message) as caught:
        method.function(similarity, ordering, seed=0, **method.bind({}))
    assert type(caught.value) is ValueError
    with pytest.raises(ValueError, match=message):
        bg.fuzzy_groups(similarity)


@pytest.mark.parametrize("name", list(bg.GROUP_METHODS))
def test_group_methods_on_three_classes(name):
    method = bg.GROUP_METHODS[name]
    similarity, ordering = _few_classes(3)
    found = method.function(similarity, ordering, seed=0, **method.bind({}))
    assert found.fuzzy.n_classes == 3 and found.fuzzy.n_groups == 2
    assert found.fuzzy.crisp.tolist() == [0, 0, 1]
    assert found.split == []  # too few classes for two blocks in each top-level cluster
    assert [sorted(p.classes) for p in found.coherent] == [["class_0", "class_1"]]
    json.dumps(found.report())


# --------------------------------------------------------------------------- figures


def test_groups_heatmap_draws_what_it_is_given(planted, tmp_path):
    from matplotlib.patches import Rectangle

    from blocks_rx.plot import groups_heatmap

    sim, ordering = planted["sim"], planted["ordering"]
    failed, split, coherent = planted["failed"], planted["split"], planted["coherent"]
    fig = groups_heatmap(sim, ordering, planted["groups"], failed=failed, split=split,
                         coherent=coherent)
    ax = fig.ax_
    assert ax is fig.figure_.axes[0]
    red = [p for p in ax.patches if isinstance(p, Rectangle) and p.get_gid() == "split"]
    assert red == fig.split_patches_ and len(red) == len(split)
    for box, pair in zip(red, split):  # rows: the earlier block, columns: the later one
        assert box.get_x() == pair.second.start - 0.5 and box.get_width() == pair.second.size
        assert box.get_y() == pair.first.start - 0.5 and box.get_height() == pair.first.size
        assert box.get_edgecolor()[:3] == pytest.approx((0.839, 0.153, 0.157), abs=1e-2)
    green = [p for p in ax.patches if p.get_gid() == "coherent"]
    assert green == fig.coherent_patches_ and len(green) == len(coherent)
    columns = [a for a in ax.child_axes if a.get_label().startswith("failed ")]
    assert columns == fig.failed_axes_
    assert [a.get_label() for a in columns] == [f"failed G{p.group + 1}" for p in failed]
    marks = columns[0].collections[0].get_segments()
    ys = sorted(segment[0][1] for segment in marks)
    assert ys == sorted(failed[0].positions.tolist())
    position = np.argsort(ordering.order)
    assert ys == sorted(position[[sim.classes.index(c) for c in failed[0].classes]].tolist())
    assert ax.images[0].get_array().shape == (sim.n_classes, sim.n_classes)
    fig.savefig(tmp_path / "groups.png", dpi=50)
    assert (tmp_path / "groups.png").stat().st_size > 10_000


def test_groups_heatmap_without_annotations_and_with_wrong_classes(planted):
    from blocks_rx.plot import groups_heatmap

    sim, ordering, groups = planted["sim"], planted["ordering"], planted["groups"]
    fig = groups_heatmap(sim, ordering, groups)
    assert not [p for p in fig.figure_.axes[0].patches if p.get_gid() in ("split", "coherent")]
    assert not [a for a in fig.figure_.axes[0].child_axes if a.get_label().startswith("failed ")]
    other = bg.fuzzy_groups(sim.matrix, n_groups=3, classes=[f"x{j}" for j in range(sim.n_classes)])
    with pytest.raises(ValueError, match="groups and the similarity matrix"):
        groups_heatmap(sim, ordering, other)


def test_memberships_image_is_classes_in_order_by_groups(planted):
    from blocks_rx.plot import memberships

    groups, ordering, failed = planted["groups"], planted["ordering"], planted["failed"]
    fig = memberships(groups, ordering, failed=failed)
    image = np.asarray(fig.image_.get_array())
    assert image.shape == (groups.n_classes, groups.n_groups)
    labels = [t.get_text() for t in fig.figure_.axes[0].get_xticklabels()]
    columns = [int(text[1:]) - 1 for text in labels]  # labels are 1-based: G1, G2, ...
    assert sorted(columns) == list(range(groups.n_groups))
    np.testing.assert_array_equal(image, groups.memberships[np.ix_(ordering.order, columns)])
    blue = [t.get_text() for t in fig.figure_.axes[0].get_xticklabels() if t.get_color() != "black"]
    assert blue == [f"G{p.group + 1}" for p in failed]


@pytest.mark.parametrize("name", ["blocks_rx.groups.fuzzy", "blocks_rx.groups.failed",
                                  "blocks_rx.groups.split", "blocks_rx.groups.findings",
                                  "blocks_rx.plot._groups"])
def test_docstring_examples_run(name):
    result = doctest.testmod(importlib.import_module(name),
                             optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


# --------------------------------------------------------------------------- the spectrum at scale


def _correlation(scores):
    """Pearson correlation of the columns of ``scores`` (float64, unit diagonal)."""
    z = scores - scores.mean(axis=0)
    z /= np.linalg.norm(z, axis=0)
    matrix = z.T @ z
    np.fill_diagonal(matrix, 1.0)
    return matrix


def _dense_leading(matrix, k):
    """numpy.linalg.eigh's top ``k`` eigenpairs, descending, with _spectrum's sign rule."""
    values, vectors = np.linalg.eigh(np.asarray(matrix, dtype=np.float64))
    values, vectors = values[::-1][:k], vectors[:, ::-1][:, :k]
    return values, vectors * np.sign(vectors[np.argmax(np.abs(vectors), axis=0), np.arange(k)])


@pytest.fixture(scope="module")
def spectrum_cases():
    """Matrices above the dense threshold (m > 672 for k = 32), by name."""
    rng = np.random.default_rng(5)
    labels = np.repeat(np.arange(20), np.arange(20, 60, 2))    # 20 blocks of 20 to 58
    blocks = 2 * rng.normal(size=(1000, 20))[:, labels] + rng.normal(size=(1000, labels.size))
    repeated = np.kron(np.eye(10), np.full((80, 80), 0.6))      # 10 identical blocks
    np.fill_diagonal(repeated, 1.0)
    noise = 1e-6 * rng.normal(size=repeated.shape)
    near = repeated + (noise + noise.T) / 2
    np.fill_diagonal(near, 1.0)
    shared = rng.normal(size=(30, 900)) + 0.3 * rng.normal(size=(30, 1))
    return {
        "planted blocks": _correlation(blocks).astype(np.float32),
        "planted blocks, float64": _correlation(blocks),
        "100 samples < 900 classes": _correlation(rng.normal(size=(100, 900))).astype(np.float32),
        "20 samples: rank < k": _correlation(rng.normal(size=(20, 900))).astype(np.float32),
        "5000 samples: pure noise": _correlation(rng.normal(size=(5000, 700))).astype(np.float32),
        "repeated eigenvalues": repeated.astype(np.float32),
        "near-repeated eigenvalues": near,
        "clipped at 0 (indefinite)": np.clip(_correlation(shared), 0, 1).astype(np.float32),
    }


SPECTRUM_CASES = ["planted blocks", "planted blocks, float64", "100 samples < 900 classes",
                  "20 samples: rank < k", "5000 samples: pure noise", "repeated eigenvalues",
                  "near-repeated eigenvalues", "clipped at 0 (indefinite)"]


@pytest.mark.parametrize("case", SPECTRUM_CASES)
def test_truncated_spectrum_equals_dense_eigh(spectrum_cases, case):
    matrix = spectrum_cases[case]
    before = matrix.copy()
    m, k = matrix.shape[0], 32
    assert not bs._use_dense(m, k)  # the block Krylov path
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # converged: no RuntimeWarning
        values, vectors, _ = bs._spectrum(matrix, 0, k)
    assert np.array_equal(matrix, before)
    expected, dense = _dense_leading(matrix, k + 1)
    # Eigenvalues to 1e-4 relative (the exact zeros of a rank-deficient M: to 1e-6 of the top).
    np.testing.assert_allclose(values, expected[:k], rtol=1e-4, atol=1e-6 * expected[0])
    assert values.dtype == vectors.dtype == np.float64 and vectors.shape == (m, k)
    np.testing.assert_allclose(vectors.T @ vectors, np.eye(k), atol=1e-10)
    # Eigenvectors equal, with the sign rule, where the eigengap allows (1% of the top
    # eigenvalue on both sides); the leading j-dimensional eigenspaces equal at every gap.
    gaps = -np.diff(expected)  # gaps[j] = lambda_j - lambda_j+1 (0-based)
    wide = gaps > 1e-2 * expected[0]
    for j in range(k):
        if wide[j] and (j == 0 or wide[j - 1]):
            assert np.abs(vectors[:, j] - dense[:, j]).max() < 1e-4, j
    for j in np.flatnonzero(wide) + 1:
        cosines = np.linalg.svd(vectors[:, :j].T @ dense[:, :j], compute_uv=False)
        assert cosines.min() > 1 - 1e-8, j


def test_truncated_spectrum_vectors_on_a_spread_spectrum(spectrum_cases):
    # Blocks of 20 to 58 classes: distinct eigenvalues, every vector is pinned down.
    matrix = spectrum_cases["planted blocks"]
    values, vectors, _ = bs._spectrum(matrix, 1000, 32)
    expected, dense = _dense_leading(matrix, 32)
    assert np.abs(values[:20] - expected[:20]).max() < 1e-5 * expected[0]
    assert np.abs(vectors[:, :20] - dense[:, :20]).max() < 1e-5


@pytest.mark.parametrize("m", [60, 300])
def test_block_krylov_where_its_basis_fills_the_space(m):
    # At m <= 7 (k + 16) the basis spans everything: Rayleigh-Ritz is then exact.
    matrix = _correlation(np.random.default_rng(m).normal(size=(200, m))).astype(np.float32)
    values, vectors = bs._leading_eigh(matrix, 32)
    expected, _ = _dense_leading(matrix, 32)
    np.testing.assert_allclose(values, expected, rtol=1e-5)
    np.testing.assert_allclose(vectors.T @ vectors, np.eye(32), atol=1e-10)
    np.testing.assert_allclose(matrix @ vectors, vectors * values, atol=1e-5)


def test_truncated_spectrum_is_reproducible_and_warns_when_capped(spectrum_cases):
    matrix = spectrum_cases["100 samples < 900 classes"]
    first, second = bs._spectrum(matrix, 100, 32), bs._spectrum(matrix, 100, 32)
    assert first[0].tobytes() == second[0].tobytes()
    assert first[1].tobytes() == second[1].tobytes()
    with pytest.warns(RuntimeWarning, match="did not converge"):  # it takes 3 restarts
        bs._leading_eigh(spectrum_cases["planted blocks"], 32, max_restarts=1)


def test_spectrum_and_embedding_make_no_m_by_m_copy():
    import tracemalloc

    m = 3000
    matrix = _correlation(np.random.default_rng(0).normal(size=(200, m))).astype(np.float32)
    tracemalloc.start()
    try:
        points, _, _ = bg.embed_rows(matrix, n_samples=200)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert points.shape[0] == m
    # Less than one float32 m x m array (36 MB; a float64 copy would be 72 MB): O(m k) only.
    assert peak < matrix.nbytes, peak


def test_planted_groups_unchanged_with_the_truncated_spectrum(planted, small, monkeypatch):
    # Force the block Krylov path on the planted tests' matrices (84 and 15 classes) and
    # compare with their dense results: same embedding, same number of groups, same groups.
    dense = {"planted": planted["groups"], "small": bg.fuzzy_groups(small["sim"])}
    dense_points = {name: bg.embed_rows(fix["sim"].matrix, n_samples=fix["sim"].n_samples)[0]
                    for name, fix in (("planted", planted), ("small", small))}
    monkeypatch.setattr(bs, "_use_dense", lambda n, k: False)
    for name, fix in (("planted", planted), ("small", small)):
        sim = fix["sim"]
        points = bg.embed_rows(sim.matrix, n_samples=sim.n_samples)[0]
        np.testing.assert_allclose(points, dense_points[name], atol=1e-5)
        groups = bg.fuzzy_groups(sim)
        assert groups.n_groups == dense[name].n_groups, name
        assert groups.candidates == dense[name].candidates
        np.testing.assert_array_equal(groups.crisp, dense[name].crisp)
        np.testing.assert_allclose(groups.memberships, dense[name].memberships, atol=1e-4)
        np.testing.assert_allclose(groups.eigenvalues, dense[name].eigenvalues, rtol=1e-5)


def test_groups_on_a_thousand_classes_match_the_dense_spectrum(monkeypatch):
    scores, labels = planted_blocks(sizes=tuple(range(30, 70, 4)) * 2, n_samples=1500,
                                    strength=1.0)
    sim = blocks_rx.compute_similarity(scores, warn=False)
    assert not bs._use_dense(sim.n_classes, 32)
    truncated = bg.fuzzy_groups(sim)
    monkeypatch.setattr(bs, "_use_dense", lambda n, k: True)
    dense = bg.fuzzy_groups(sim)
    assert truncated.n_groups == dense.n_groups == 20
    np.testing.assert_array_equal(truncated.crisp, dense.crisp)
    np.testing.assert_allclose(truncated.memberships, dense.memberships, atol=1e-4)
    np.testing.assert_allclose(truncated.eigenvalues, dense.eigenvalues, rtol=1e-5)
    assert len(set(zip(labels.tolist(), truncated.crisp.tolist()))) == 20


# --------------------------------------------------------------------------- the compiled cmeans


#: Point sets on which the compiled cmeans must give scikit-fuzzy's results (_cmeans_case).
CMEANS_CASES = ["random", "planted, c=10", "planted on the sphere, c=2", "fuzzifier 1.5",
                "fuzzifier 3", "fuzzifier 1.05", "duplicates", "points on the centres",
                "points on the centres, fuzzifier 1.05"]


def _blobs(rng, n_per, centres, spread):
    """``n_per`` points around each of ``centres`` (c x d), in scikit-fuzzy's d x n layout."""
    centres = np.asarray(centres, dtype=float)
    points = np.repeat(centres, n_per, axis=0) + spread * rng.normal(size=(n_per * len(centres),
                                                                          centres.shape[1]))
    return points.T.copy()


def _on_the_sphere(points):
    """Columns scaled to unit length, as the spectral embedding leaves its rows."""
    return points / np.linalg.norm(points, axis=0)


def _cmeans_case(name):
    """(data d x n, c, fuzzifier, init c x n) for one named point set."""
    rng = np.random.default_rng(CMEANS_CASES.index(name))
    if name == "random":
        data, c, m = rng.normal(size=(5, 300)), 3, 2.0
    elif name == "planted, c=10":
        data, c, m = _blobs(rng, 40, 4 * rng.normal(size=(10, 8)), 1.0), 10, 2.0
    elif name == "planted on the sphere, c=2":
        data, c, m = _on_the_sphere(_blobs(rng, 60, [[1, 0.2], [0.2, 1]], 0.3)), 2, 2.0
    elif name == "fuzzifier 1.5":
        data, c, m = _blobs(rng, 50, 3 * rng.normal(size=(4, 3)), 1.0), 4, 1.5
    elif name == "fuzzifier 3":
        data, c, m = _blobs(rng, 50, 3 * rng.normal(size=(4, 6)), 1.0), 4, 3.0
    elif name == "duplicates":  # every point four times, and 40 copies of one more
        base = rng.normal(size=(7, 60))
        data, c, m = np.hstack([np.tile(base, 4), np.repeat(base[:, :1], 40, axis=1)]), 5, 2.0
    elif name == "fuzzifier 1.05":  # d ** -40: scikit-fuzzy's scaling keeps it finite
        data, c, m = _blobs(rng, 50, 3 * rng.normal(size=(4, 3)), 1.0), 4, 1.05
    else:  # "points on the centres": 30 points on each of 3 whole-numbered places, where
        # the centres land exactly (memberships of 1, weights of 1, sums of whole numbers).
        # The places lie far apart, so that the other groups' memberships fall below
        # epsilon and their floor there makes the objective. With fuzzifier 1.05 the
        # memberships are d ** -40: finite only through scikit-fuzzy's scaling by the
        # nearest distance.
        places = np.repeat(np.array([[0, 3, -1], [0, 1, 4], [0, -2, 2]]) * 1e6, 30, axis=1)
        data, c, m = places, 3, (1.05 if "1.05" in name else 2.0)
    init = rng.random((c, data.shape[1]))
    # Memberships that do not sum to 1 test the first step's normalisation.
    return data, c, m, init if name in ("random", "duplicates") else init / init.sum(axis=0)


@pytest.mark.parametrize("name", CMEANS_CASES)
def test_compiled_cmeans_equals_scikit_fuzzy(name):
    from skfuzzy.cluster import cmeans as skfuzzy_cmeans

    from blocks_rx.groups._cmeans import cmeans

    data, c, m, init = _cmeans_case(name)
    expected = skfuzzy_cmeans(data, c, m, 1e-6, 1000, init=init.copy())
    got = cmeans(data, c, m, 1e-6, 1000, init.copy())
    centres, u, u0, d, jm, p, fpc = got
    assert p == expected[5] and 1 < p < 1000, (p, expected[5])
    np.testing.assert_allclose(centres, expected[0], rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(u, expected[1], rtol=0, atol=1e-9)
    np.testing.assert_array_equal(u0, expected[2])
    np.testing.assert_allclose(d, expected[3], rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(jm, expected[4], rtol=1e-9, atol=0)
    assert fpc == pytest.approx(expected[6], abs=1e-12)
    assert np.allclose(u.sum(axis=0), 1.0) and u.shape == (c, data.shape[1])
    if name == "points on the centres":  # distances of 0, floored at epsilon, in both
        assert expected[3].min() == d.min() == np.finfo(float).eps
    if name == "points on the centres, fuzzifier 1.05":  # (d / largest) ** -40 > 1e308
        assert (d.min(axis=0) / d.max(axis=0)).min() < 1e-13


def test_compiled_cmeans_stops_where_scikit_fuzzy_stops():
    from skfuzzy.cluster import cmeans as skfuzzy_cmeans

    from blocks_rx.groups._cmeans import cmeans

    data, c, m, init = _cmeans_case("planted, c=10")
    for maxiter in (1, 2, 7):  # cut short: the same partial fit, step for step
        expected = skfuzzy_cmeans(data, c, m, 1e-6, maxiter, init=init)
        got = cmeans(data, c, m, 1e-6, maxiter, init)
        assert got[5] == expected[5] == maxiter
        np.testing.assert_allclose(got[1], expected[1], rtol=0, atol=1e-12)
        np.testing.assert_allclose(got[4], expected[4], rtol=1e-12)
    loose = skfuzzy_cmeans(data, c, m, 1e-2, 1000, init=init)  # a looser stopping rule
    assert cmeans(data, c, m, 1e-2, 1000, init)[5] == loose[5] < 1000


def test_compiled_cmeans_rejects_what_it_cannot_fit():
    from blocks_rx.groups._cmeans import cmeans

    data, c, m, init = _cmeans_case("random")
    with pytest.raises(ValueError, match="fuzzifier"):
        cmeans(data, c, 1.0, 1e-6, 10, init)
    with pytest.raises(ValueError, match="maxiter"):
        cmeans(data, c, m, 1e-6, 0, init)
    with pytest.raises(ValueError, match="init must have shape"):
        cmeans(data, c + 1, m, 1e-6, 10, init)


@pytest.mark.parametrize("fixture", ["planted", "small"])
def test_fuzzy_groups_same_with_scikit_fuzzys_cmeans(fixture, planted, small, monkeypatch):
    from skfuzzy.cluster import cmeans as skfuzzy_cmeans

    from blocks_rx.groups import _cmeans

    sim = {"planted": planted, "small": small}[fixture]["sim"]
    twin = bg.fuzzy_groups(sim)
    assert "compiled twin of skfuzzy.cluster.cmeans" in twin.method
    assert twin.provenance()["versions"]["scikit-fuzzy"]
    monkeypatch.setattr(_cmeans, "cmeans", skfuzzy_cmeans)
    reference = bg.fuzzy_groups(sim)
    assert twin.candidates == reference.candidates and twin.n_groups == reference.n_groups
    np.testing.assert_array_equal(twin.crisp, reference.crisp)
    np.testing.assert_allclose(twin.memberships, reference.memberships, rtol=0, atol=1e-6)
    np.testing.assert_allclose(twin.centers, reference.centers, rtol=0, atol=1e-6)
    for name in ("fpc", "mpc"):
        np.testing.assert_allclose(twin.curves[name], reference.curves[name], atol=1e-6)
    np.testing.assert_array_equal(twin.curves["filled"], reference.curves["filled"])
    assert twin.iterations == reference.iterations


def test_compiled_cmeans_docstring_example_runs():
    from blocks_rx.groups import _cmeans

    result = doctest.testmod(_cmeans, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
