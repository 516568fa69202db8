"""The report of what to check (blocks_rx.quality, ``blocks-rx report``) on structure planted here.

Every number is checked against how the data were made, or against a brute-force
computation independent of the code: near-duplicate pairs planted among 200 classes rank
first; samples planted off their class's block are counted exactly and listed by row; a
planted nuisance feature shows as a failed group; offsets, a constant class and classes
with few samples are flagged. The written files escape hostile class names, name their run
(so a report of another run fails validation), and open in headless Chromium with no
console error and no request beyond the file.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import blocks_rx
from blocks_rx import results
from blocks_rx.errors import BlocksInputError, MixedResultError, ResultError
from blocks_rx.quality import near_duplicate_pairs, write_report
from blocks_rx.scores import Scores

BLOCKS_RX = Path(sys.executable).with_name("blocks-rx")
SHOTS = Path(__file__).resolve().parents[1] / "test-screenshots" / "report"
HOSTILE = ["<script>alert(1)</script>", '<img src=x onerror="alert(2)">',
           "Tom & \"Jerry\" 'quoted' $\\undefined$ | *x*"]


def run_cli(*args):
    return subprocess.run([str(BLOCKS_RX), *map(str, args)], capture_output=True, text=True,
                          timeout=300)


def brute_row_r(M, i, j) -> float:
    """Pearson correlation of rows i and j of M without columns i and j, by np.corrcoef."""
    keep = [k for k in range(len(M)) if k not in (i, j)]
    return float(np.corrcoef(M[i, keep], M[j, keep])[0, 1])


# --------------------------------------------------------------------------- near duplicates


def test_near_duplicate_pairs_match_a_brute_force_search():
    """Every pair of a 60-class matrix (more than the 32 candidates per class), by corrcoef."""
    rng = np.random.default_rng(5)
    block = np.repeat(np.arange(6), 10)
    S = 1.5 * rng.normal(size=(1500, 6))[:, block] + rng.normal(size=(1500, 60))
    S[:, 41] = S[:, 7] + 0.3 * rng.normal(size=1500)
    S[:, 55] = S[:, 54] + 0.6 * rng.normal(size=1500)
    M = np.corrcoef(S, rowvar=False)
    expected = sorted(
        ((i, j) for i in range(60) for j in range(i + 1, 60)
         if M[i, j] >= 0.8 and brute_row_r(M, i, j) >= 0.9),
        key=lambda p: -min(M[p], brute_row_r(M, *p)))
    found = near_duplicate_pairs(M)
    assert list(zip(found["a"], found["b"])) == expected
    assert len(expected) >= 2 and (7, 41) in expected
    for row in found.itertuples():
        assert row.row_r == pytest.approx(brute_row_r(M, row.a, row.b), abs=1e-12)
        assert row.score == pytest.approx(min(row.r, row.row_r))


def test_two_planted_near_duplicates_among_200_classes_rank_first():
    rng = np.random.default_rng(7)
    n, m = 3000, 200
    block = np.repeat(np.arange(8), 25)
    S = rng.normal(size=(n, 8))[:, block] + rng.normal(size=(n, m))
    S[:, 150] = S[:, 30] + 0.15 * rng.normal(size=n)    # a duplicate, in another block's slot
    S[:, 90] = S[:, 60] + 0.5 * rng.normal(size=n)      # a twin, less alike
    analysis = blocks_rx.analyze(S.astype(np.float32), groups=None, hclust_backend="python")
    found = blocks_rx.quality_report(analysis)

    first, second = found.findings[:2]
    assert (first.kind, first.classes) == ("near-duplicate", ("class_30", "class_150"))
    assert (second.kind, second.classes) == ("near-duplicate", ("class_60", "class_90"))
    assert len(found.of_kind("near-duplicate")) == 2 == found.facts["near_duplicate_pairs"]
    M = np.asarray(analysis.similarity.matrix, dtype=np.float64)
    for finding, (i, j) in ((first, (30, 150)), (second, (60, 90))):
        assert finding.evidence["row_r"] == pytest.approx(brute_row_r(M, i, j), abs=1e-4)
        assert finding.evidence["r"] == pytest.approx(M[i, j], abs=1e-4)
        assert finding.score == pytest.approx(min(M[i, j], brute_row_r(M, i, j)), abs=1e-6)
    assert first.score > second.score
    assert found.lines(2)[0].startswith("1. [near-duplicate] class_30 and class_150")
    assert any(s.startswith("off-block confusions: no true labels") for s in found.skipped)


# --------------------------------------------------------------------------- off-block


#: Samples of these classes are predicted into another block: class -> how many.
OFF_BLOCK = {3: 7, 12: 4, 25: 1, 38: 12}


def labelled_scores(seed: int = 3, names=None):
    """40 classes in 4 blocks of 10, 50 labelled samples each. Each sample's predicted class
    gets the top score by a margin; OFF_BLOCK's samples are predicted into another block,
    6 samples of class 5 as class 7 (same block), and class 17 nearly copies class 16 (their
    samples are predicted as either, within their block).

    Returns (Scores, the blocks, the rows planted off-block)."""
    rng = np.random.default_rng(seed)
    m, per = 40, 50
    blocks = np.repeat(np.arange(4), 10)
    labels = np.repeat(np.arange(m), per)
    n = labels.size
    S = 2.0 * rng.normal(size=(n, 4))[:, blocks] + rng.normal(size=(n, m))
    predicted, planted = labels.copy(), []
    for c, count in OFF_BLOCK.items():
        rows = rng.choice(np.flatnonzero(labels == c), size=count, replace=False)
        predicted[rows] = rng.choice(np.flatnonzero(blocks != blocks[c]), size=count)
        planted += rows.tolist()
    predicted[np.flatnonzero(labels == 5)[:6]] = 7
    S[np.arange(n), predicted] = S.max(axis=1) + rng.uniform(1, 3, size=n)
    # Class 17 nearly copies class 16, samples of both score high on both: a duplicate.
    twins = predicted == 17
    S[twins, 16] = S[twins, 17]
    S[:, 17] = S[:, 16] + 0.05 * rng.normal(size=n)
    names = names or [f"c{j:02d}" for j in range(m)]
    return Scores(S.astype(np.float32), tuple(names), labels=labels), blocks, sorted(planted)


@pytest.fixture(scope="module")
def labelled():
    scores, blocks, planted = labelled_scores()
    top = scores.values.argmax(axis=1)   # the oracle's own argmax: exactly what was planted
    assert sorted(np.flatnonzero(blocks[scores.labels] != blocks[top])) == planted
    analysis = blocks_rx.analyze(scores, hclust_backend="python")
    return scores, blocks, planted, analysis


def test_off_block_confusions_are_counted_exactly(labelled):
    scores, blocks, planted, analysis = labelled
    cut = analysis.ordering.cut_labels(4)
    assert {frozenset(np.flatnonzero(cut == g)) for g in np.unique(cut)} == \
        {frozenset(np.flatnonzero(blocks == b)) for b in range(4)}
    found = blocks_rx.quality_report(analysis)
    assert found.facts["top_blocks"] == 4           # the widest gap is the planted level
    (finding,) = found.of_kind("off-block")
    table = finding.tables[0].to_frame()
    expected = sorted(OFF_BLOCK.items(), key=lambda item: -item[1])
    assert list(zip(table["class"], table["off-block"])) == [(f"c{c:02d}", k) for c, k in expected]
    assert table["samples"].tolist() == [50] * 4
    assert table["rate"].tolist() == [k / 50 for _, k in expected]
    assert finding.evidence["off_block_samples"] == len(planted) == sum(OFF_BLOCK.values())
    assert finding.score == max(OFF_BLOCK.values()) / 50
    assert "--scores" in finding.note                # sample ids need the scores
    by_block = np.array([row[3:] for row in finding.tables[1].rows])
    assert by_block.sum() == 2000 and by_block.trace() == 2000 - len(planted)


def test_off_block_samples_are_the_planted_rows(labelled):
    scores, blocks, planted, analysis = labelled
    found = blocks_rx.quality_report(analysis, scores=scores, max_samples=100)
    samples = found.of_kind("off-block")[0].tables[2].to_frame()
    assert sorted(samples["row"]) == planted
    S, labels = scores.values.astype(np.float64), scores.labels
    top = S.argmax(axis=1)
    rows = samples["row"].to_numpy()
    assert samples["true class"].tolist() == [scores.classes[labels[i]] for i in rows]
    assert samples["predicted"].tolist() == [scores.classes[top[i]] for i in rows]
    margin = {i: S[i, top[i]] - S[i, labels[i]] for i in planted}
    strongest = sorted(planted, key=lambda i: (-margin[i], i))[:5]
    few = blocks_rx.quality_report(analysis, scores=scores, max_samples=5)
    assert few.of_kind("off-block")[0].tables[2].to_frame()["row"].tolist() == strongest
    assert "--scores" not in few.of_kind("off-block")[0].note


def test_scores_that_are_not_the_results_are_refused(labelled):
    scores, _, _, analysis = labelled
    shuffled = Scores(scores.values, scores.classes, labels=np.roll(scores.labels, 1))
    with pytest.raises(BlocksInputError, match="another confusion matrix"):
        blocks_rx.quality_report(analysis, scores=shuffled)
    renamed = Scores(scores.values, ("x",) + scores.classes[1:], labels=scores.labels)
    with pytest.raises(BlocksInputError, match="its class 0 is 'x'"):
        blocks_rx.quality_report(analysis, scores=renamed)
    with pytest.raises(BlocksInputError, match="give the scores too"):
        blocks_rx.quality_report(analysis, labels=scores.labels)
    with pytest.raises(BlocksInputError, match="top_blocks"):
        blocks_rx.quality_report(analysis, top_blocks=1)


# --------------------------------------------------------------------------- nuisance


def test_a_planted_nuisance_feature_is_a_finding():
    """Three classes from each of four mid groups, under both top groups, share a factor
    (the construction of test_findings_planted.py): the failed group, with its evidence."""
    rng = np.random.default_rng(1000)
    sizes = rng.integers(8, 15, size=8)
    mid = np.repeat(np.arange(8), sizes)
    n, m = 2000, mid.size
    S = (1.3 * rng.normal(size=(n, 2))[:, mid // 4] + rng.normal(size=(n, 8))[:, mid]
         + rng.normal(size=(n, m)))
    members = np.concatenate([rng.choice(np.flatnonzero(mid == g), size=3, replace=False)
                              for g in (0, 2, 5, 7)])
    S[:, members] += 1.1 * rng.normal(size=(n, 1))
    analysis = blocks_rx.analyze(S.astype(np.float32), hclust_backend="python")
    found = blocks_rx.quality_report(analysis)
    (finding,) = found.of_kind("nuisance-feature")
    planted = {f"class_{j}" for j in members}
    assert len(planted & set(finding.classes)) / len(planted | set(finding.classes)) >= 0.9
    (failed,) = analysis.findings.failed
    assert finding.classes == failed.classes
    assert finding.evidence["z"] == round(failed.evidence.z, 2) == finding.score
    assert finding.evidence["p_adjusted"] <= 0.01


# --------------------------------------------------------------------------- distributions


def test_offsets_a_constant_class_and_few_samples_are_flagged():
    rng = np.random.default_rng(2)
    m = 40
    counts = np.full(m, 40)
    counts[9], counts[11] = 12, 5
    labels = np.repeat(np.arange(m), counts)
    n = labels.size
    S = rng.normal(size=(n, 4))[:, np.repeat(np.arange(4), 10)] + rng.normal(size=(n, m))
    S += 20 * rng.normal(size=(n, 1))             # a per-sample offset dominates
    S[:, 4] = 1.5                                 # class_4 never varies
    with pytest.warns(UserWarning):
        analysis = blocks_rx.analyze(Scores(S, tuple(f"class_{j}" for j in range(m)),
                                            labels=labels), groups=None,
                                     hclust_backend="python")
    found = blocks_rx.quality_report(analysis)
    assert [f.kind for f in found.findings[:2]] == ["offset-dominated", "constant-classes"]
    offset = found.findings[0]
    M = np.asarray(analysis.similarity.matrix, dtype=np.float64)
    assert offset.evidence["mean_r"] == pytest.approx(M[np.triu_indices(m, 1)].mean(), abs=1e-6)
    assert found.findings[1].classes == ("class_4",)
    few = [f for f in found.of_kind("few-samples") if f.tables]
    assert few[0].tables[0].rows == (("class_11", 5), ("class_9", 12))
    assert few[0].classes == ("class_11", "class_9")
    assert any("offsets" in w for w in found.run_warnings)


def test_too_few_samples_in_all_and_heavy_skew_are_caveats():
    rng = np.random.default_rng(4)
    probabilities = rng.dirichlet(np.full(30, 0.05), size=25)   # spiky: skewed similarities
    analysis = blocks_rx.analyze(Scores(probabilities, tuple(f"c{j}" for j in range(30)),
                                        kind="probabilities"),
                                 groups=None, hclust_backend="python")
    skewness = analysis.similarity_stats["skewness"]
    assert skewness > 1
    found = blocks_rx.quality_report(analysis)
    kinds = [f.kind for f in found.findings]
    assert "skewed-similarities" in kinds and "few-samples" in kinds
    skewed = found.of_kind("skewed-similarities")[0]
    assert skewed.score == pytest.approx(abs(skewness)) and skewed.tier == 3
    assert found.of_kind("few-samples")[0].evidence["samples"] == 25


# --------------------------------------------------------------------------- files and CLI


@pytest.fixture(scope="module")
def hostile_folder(tmp_path_factory):
    """A result folder of labelled_scores with hostile names (on the near-duplicate pair and
    a class with off-block samples), its score, class and label files, explorer included."""
    names = [f"c{j:02d}" for j in range(40)]
    names[16], names[17], names[38] = HOSTILE
    scores, _, planted = labelled_scores(names=names)
    here = tmp_path_factory.mktemp("report")
    blocks_rx.write_result(blocks_rx.analyze(scores, hclust_backend="python"), here / "result")
    np.save(here / "scores.npy", scores.values)
    (here / "classes.txt").write_text("\n".join(names) + "\n", encoding="utf-8")
    (here / "labels.txt").write_text("\n".join(map(str, scores.labels)) + "\n")
    return here, planted


def test_the_command_writes_both_files_and_the_result_still_validates(hostile_folder):
    here, planted = hostile_folder
    folder = here / "result"
    done = run_cli("report", folder, "--scores", here / "scores.npy", "--classes",
                   here / "classes.txt", "--labels", here / "labels.txt", "--max-samples", 30)
    assert done.returncode == 0, done.stderr
    stored = blocks_rx.read_result(folder)
    found = blocks_rx.quality_report(stored)
    ranked = [line for line in done.stdout.splitlines() if re.match(r"\d+\. \[", line)]
    assert ranked == found.lines(5) and len(ranked) == min(5, len(found.findings)) >= 2
    assert "wrote" in done.stdout.splitlines()[-1]
    assert results.view_run_id(folder / "report.html") == stored.run_id
    assert results.view_run_id(folder / "report.md") == stored.run_id
    markdown = (folder / "report.md").read_text(encoding="utf-8")
    cells = [r.split("|")[1].strip() for r in markdown.splitlines() if r.startswith("| ")]
    rows = {int(cell) for cell in cells if cell.isdigit()}
    assert rows == set(planted)       # the off-block samples, by row of the score file
    results.check_target(folder)      # a later analyze may replace it, reports and all


def test_a_report_of_another_run_fails_validation(hostile_folder, tmp_path):
    here, _ = hostile_folder
    other = tmp_path / "other"
    scores, _, _ = labelled_scores(seed=4)
    analysis = blocks_rx.analyze(scores, groups=None, hclust_backend="python")
    blocks_rx.write_result(analysis, other)
    with pytest.raises(BlocksInputError, match="unsaved analysis"):
        write_report(blocks_rx.quality_report(analysis))
    report = blocks_rx.quality_report(other)
    with pytest.raises(ResultError, match="holds run"):
        write_report(report, here / "result")
    write_report(report)
    for name in ("report.html", "report.md"):
        copy = tmp_path / "copy"
        shutil.copytree(here / "result", copy)
        shutil.copy(other / name, copy / name)
        with pytest.raises(MixedResultError, match=f"{name} was built from run"):
            blocks_rx.read_result(copy)
        shutil.rmtree(copy)
    assert run_cli("report", other, "--labels", here / "labels.txt").returncode == 2


def test_hostile_names_are_escaped_everywhere(hostile_folder):
    here, _ = hostile_folder
    folder = here / "result"
    write_report(blocks_rx.quality_report(folder))
    page = (folder / "report.html").read_text(encoding="utf-8")
    markdown = (folder / "report.md").read_text(encoding="utf-8")
    for text in (page, markdown):
        assert "<script" not in text and "<img src=x" not in text    # no tag is ever opened
        assert not any(name in text for name in HOSTILE)
    assert 'onerror="' not in page                                     # nor an attribute
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=&quot;alert(2)&quot;&gt;" in page
    assert "Tom &amp; &quot;Jerry&quot; &#x27;quoted&#x27;" in page
    assert 'href="explorer.html#class=%3Cscript%3Ealert%281%29%3C%2Fscript%3E"' in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in markdown
    assert "Tom &amp; \"Jerry\" 'quoted' $\\\\undefined$ \\| \\*x\\*" in markdown
    found = blocks_rx.quality_report(folder)
    assert found.findings[0].classes == (HOSTILE[0], HOSTILE[1])


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium on PATH (make setup installs it)")
def test_the_page_opens_offline_in_chromium(hostile_folder):
    playwright = pytest.importorskip("playwright.sync_api", reason="playwright: test extra")
    here, _ = hostile_folder
    folder = here / "result"
    write_report(blocks_rx.quality_report(folder, scores=Scores(
        np.load(here / "scores.npy"),
        tuple((here / "classes.txt").read_text(encoding="utf-8").splitlines()),
        labels=np.loadtxt(here / "labels.txt", dtype=np.int64))))
    errors, requests, dialogs = [], [], []
    with playwright.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("console", lambda m: m.type == "error" and errors.append(m.text))
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.on("request", lambda r: requests.append(r.url))
        page.goto((folder / "report.html").as_uri())
        page.wait_for_load_state("load")
        assert page.locator("script").count() == 0
        assert page.get_by_text(HOSTILE[0], exact=False).count() >= 1
        assert page.locator("section.finding").count() >= 3
        broken = page.evaluate("[...document.images].filter(i => !i.naturalWidth).length")
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "report.png"), full_page=True)
        browser.close()
    assert errors == [] and dialogs == [] and broken == 0
    assert all(url.startswith(("file:", "data:")) for url in requests), requests
