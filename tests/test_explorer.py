"""The explorer page in a real headless Chromium (Debian's ``chromium``, driven by Playwright).

Each test opens the page from a file, fails on any console error, page error or request that
leaves the file, and saves a screenshot under ``test-screenshots/explorer/`` to look at.
The data are planted: four blocks of classes, with true labels (a confusion matrix), fuzzy
groups, and hostile class names that would run code if the page wrote them as HTML.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

import blocks_rx
from blocks_rx.scores import Scores

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
playwright = pytest.importorskip("playwright.sync_api", reason="playwright is in the test extra")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no chromium on PATH (make setup installs Debian's chromium)")

SHOTS = Path(__file__).resolve().parents[1] / "test-screenshots" / "explorer"
HOSTILE = ["<script>window.__pwned = 1</script>", "<img src=x onerror=\"window.__pwned = 2\">",
           "Tom & \"Jerry\" 'quoted'"]


def planted_result(tmp_path_factory):
    """A result folder: 4 planted blocks of 6 classes, 3 of them hostile names, with labels."""
    rng = np.random.default_rng(1)
    m, n = 24, 3000
    block = np.repeat(np.arange(4), 6)
    labels = rng.integers(0, m, size=n)
    latent = rng.normal(size=(n, 4))
    scores = 2.0 * latent[:, block] + rng.normal(size=(n, m))
    scores[np.arange(n), labels] += 3.0
    classes = [f"class {i:02d}" for i in range(m)]
    classes[3], classes[10], classes[17] = HOSTILE
    analysis = blocks_rx.analyze(Scores(scores.astype(np.float32), classes=classes,
                                        labels=labels), hclust_backend="python")
    folder = tmp_path_factory.mktemp("explorer") / "result"
    blocks_rx.write_result(analysis, folder)
    return folder, analysis


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    return planted_result(tmp_path_factory)


@pytest.fixture(scope="module")
def page_file(result, tmp_path_factory):
    folder, _ = result
    examples = {name: [f"an example text of {name}"] for name in blocks_rx.read_result(folder)
                .similarity.classes}
    explorer = blocks_rx.explore(folder, examples=examples)
    return explorer, explorer.save(tmp_path_factory.mktemp("page") / "explorer.html")


@pytest.fixture(scope="module")
def browser():
    with playwright.sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


class Page:
    """One open page, with what it logged and asked for."""

    def __init__(self, browser, path: Path, name: str):
        self.errors, self.requests, self.dialogs = [], [], []
        self.name = name
        self.page = browser.new_page(viewport={"width": 1700, "height": 900})
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.page.on("request", self._request)
        self.page.goto(path.as_uri())
        self.page.wait_for_function("document.body.dataset.blocksRx === 'ready'", timeout=30000)

    def _request(self, request):
        if not request.url.startswith(("file:", "data:", "blob:")):
            self.requests.append(request.url)

    def js(self, expression, *args):
        return self.page.evaluate(expression, *args)

    def set_model(self, name, attribute, value):
        self.js("([n, a, v]) => { Bokeh.documents[0].get_model_by_name(n)[a] = v; }",
                [name, attribute, value])
        self.page.wait_for_timeout(150)

    def matrix_pixels(self) -> bytes:
        box = self.js("() => { const [x0, y0] = blocksRx.screenPoint(0, 0);"
                      " const [x1, y1] = blocksRx.screenPoint(blocksRx.state.m, blocksRx.state.m);"
                      " return {x: x0, y: y0, width: x1 - x0, height: y1 - y0}; }")
        return self.page.screenshot(clip=box)

    def drag(self, start, end):
        x0, y0 = self.js("([x, y]) => blocksRx.screenPoint(x, y)", list(start))
        x1, y1 = self.js("([x, y]) => blocksRx.screenPoint(x, y)", list(end))
        self.page.mouse.move(x0, y0)
        self.page.mouse.down()
        self.page.mouse.move((x0 + x1) / 2, (y0 + y1) / 2, steps=5)
        self.page.mouse.move(x1, y1, steps=5)
        self.page.mouse.up()
        self.page.wait_for_timeout(200)

    def close(self):
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SHOTS / f"{self.name}.png"))
        assert self.errors == [], self.errors
        assert self.requests == [], f"requests left the file: {self.requests}"
        assert self.dialogs == [] and self.js("() => window.__pwned === undefined")
        self.page.close()


@pytest.fixture
def opened(browser, page_file, request):
    page = Page(browser, page_file[1], request.node.name)
    yield page
    page.close()


def test_page_loads_offline_and_draws_the_stored_order(opened, page_file, result):
    _, analysis = result
    assert opened.js("() => Array.from(blocksRx.state.perm)") == analysis.ordering.order.tolist()
    # The drawn image is the ordered matrix: its top-left pixel is the diagonal's colour, and
    # it is not blank.
    pixels = opened.matrix_pixels()
    assert len(set(pixels)) > 50
    title = opened.js("() => document.title")
    assert title.startswith("blocks-rx explorer:")


def test_brushing_a_range_lists_those_classes(opened, result):
    _, analysis = result
    order = analysis.ordering.order
    opened.drag((5.2, 5.2), (11.8, 11.8))  # positions 5..11 on both axes
    expected = sorted(order[5:12].tolist())
    assert opened.js("() => blocksRx.state.rows") == expected
    assert opened.js("() => blocksRx.state.columns") == expected
    names = opened.js("() => Bokeh.documents[0].get_model_by_name('names').value").split("\n")
    classes = analysis.similarity.classes
    assert names == [classes[i] for i in order[5:12]]
    panel = opened.js("() => Bokeh.documents[0].get_model_by_name('panel').text")
    assert "Selected classes (7)" in panel and "an example text of" in panel


def test_cutoff_slider_fades_cells(opened):
    before = opened.matrix_pixels()
    opened.set_model("cutoff", "value", 0.3)
    after = opened.matrix_pixels()
    assert before != after
    opened.set_model("cutoff", "value", opened.js("() => blocksRx.data.layers[0].low"))
    assert opened.matrix_pixels() == before


def test_rank_scale_and_dendrogram_cut(opened):
    before = opened.matrix_pixels()
    opened.set_model("scale", "active", 1)
    assert opened.matrix_pixels() != before
    opened.set_model("cut", "value", 4)
    boxes = opened.js("() => Bokeh.documents[0].get_model_by_name('matrix')"
                      ".renderers.map(r => r.data_source.data.left ? r.data_source.data.left.length : -1)")
    assert 4 in boxes  # the four planted blocks, outlined


def test_switching_the_ordering_reorders_and_keeps_the_selection(opened, page_file):
    explorer, _ = page_file
    opened.drag((0.2, 0.2), (5.8, 5.8))
    selected = opened.js("() => blocksRx.state.rows")
    before = opened.matrix_pixels()
    names = [o.name for o in explorer.content.orderings]
    target = names.index("input order")
    opened.set_model("ordering", "value", names[target])
    assert opened.js("() => Array.from(blocksRx.state.perm)") == list(range(24))
    assert opened.matrix_pixels() != before
    assert opened.js("() => blocksRx.state.rows") == selected
    boxes = opened.js("() => blocksRx.state.rows.length && "
                      "Bokeh.documents[0].get_model_by_name('matrix').renderers"
                      ".filter(r => r.glyph.line_color && r.glyph.line_color.value === '#d400aa')"
                      ".map(r => r.data_source.data.left.length)[0]")
    assert boxes >= 1


def test_search_finds_a_class_and_brings_it_into_view(opened, result):
    _, analysis = result
    target = analysis.similarity.classes.index("class 20")
    field = opened.page.locator("input[type=text]").first
    field.click()
    field.type("class 20")
    field.press("Enter")
    opened.page.wait_for_timeout(300)
    assert opened.js("() => blocksRx.state.found") == target
    position = int(np.flatnonzero(analysis.ordering.order == target)[0])
    start, end = opened.js("() => { const r = Bokeh.documents[0].get_model_by_name('matrix')"
                           ".x_range; return [r.start, r.end]; }")
    assert start <= position < end


def test_hostile_class_names_show_as_text_and_run_nothing(opened, result):
    _, analysis = result
    opened.drag((0.1, 0.1), (23.9, 23.9))
    panel_text = opened.page.get_by_text("window.__pwned = 1").count()
    assert panel_text >= 1  # the <script> name is shown as text
    names = opened.js("() => Bokeh.documents[0].get_model_by_name('names').value")
    for name in HOSTILE:
        assert name in names
    for name in HOSTILE[:2]:
        opened.js("(n) => blocksRx.handle('search', {value: n})", name)
        assert opened.js("() => blocksRx.state.found") == analysis.similarity.classes.index(name)
    # hover text for a hostile pair is plain text
    opened.page.mouse.move(*opened.js("() => blocksRx.screenPoint(3.5, 10.5)"))


def test_confusion_view_side_by_side(opened):
    opened.set_model("view", "active", 2)
    visible = opened.js("() => ['matrix', 'confusion'].map(n => "
                        "Bokeh.documents[0].get_model_by_name(n).visible)")
    assert visible == [True, True]
    assert opened.js("() => blocksRx.state.confusion.length") == 24 * 24


def test_page_size_and_the_run_id(page_file, result):
    explorer, path = page_file
    folder, _ = result
    assert path.stat().st_size < 5e6
    run_id = blocks_rx.read_result(folder).run_id
    assert f'<meta name="blocks-rx-run-id" content="{run_id}">' in explorer.html
    assert "cdn.bokeh.org" not in explorer.html


# --------------------------------------------------------------------------- the result folder


def test_analyze_writes_the_page_and_validate_refuses_one_of_another_run(result, tmp_path):
    from blocks_rx import results
    from blocks_rx.errors import MixedResultError

    folder, analysis = result
    stored = blocks_rx.read_result(folder)
    assert results.view_run_id(folder / "explorer.html") == stored.run_id
    other = tmp_path / "other"
    blocks_rx.write_result(blocks_rx.analyze(np.random.default_rng(5).normal(size=(200, 6)),
                                             groups=None, hclust_backend="python"), other)
    mixed = tmp_path / "mixed"
    shutil.copytree(folder, mixed)
    shutil.copy(other / "explorer.html", mixed / "explorer.html")
    with pytest.raises(MixedResultError, match="explorer.html was built from run"):
        blocks_rx.read_result(mixed)


def test_cli_explore_rebuilds_the_page_in_place(result, tmp_path):
    import subprocess
    import sys

    folder, _ = result
    copy = tmp_path / "result"
    shutil.copytree(folder, copy)
    (copy / "explorer.html").unlink()
    done = subprocess.run([sys.executable, "-m", "blocks_rx.cli", "explore", str(copy)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "explorer.html" in done.stdout and (copy / "explorer.html").is_file()
    blocks_rx.read_result(copy)  # the rebuilt page names the folder's run
    bad = subprocess.run([sys.executable, "-m", "blocks_rx.cli", "explore", str(tmp_path / "nope")],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode != 0 and bad.stderr.count("\n") == 1 and "no such result" in bad.stderr


def test_above_the_full_resolution_limit_the_page_holds_a_pooled_overview(monkeypatch):
    """The tiles are the means of the ordered matrix's blocks (numpy's, to the 8-bit step),
    and gather() switches to the overview above the limit."""
    from blocks_rx.explorer import content

    rng = np.random.default_rng(0)
    scores = rng.normal(size=(500, 30)) + np.repeat(rng.normal(size=(500, 3)), 10, axis=1)
    analysis = blocks_rx.analyze(scores, groups=None, hclust_backend="python")
    pooled = content.pooled_overview(analysis, side=8)
    order = analysis.ordering.order
    ordered = analysis.similarity.matrix[np.ix_(order, order)]
    assert pooled.m == 8 and pooled.pooled == 4  # ceil(30 / 8) = 4 classes a tile
    values = pooled.low + (pooled.levels.astype(float) - 1) * pooled.step
    assert abs(values[0, 1] - ordered[0:4, 4:8].mean()) <= pooled.step / 2 + 1e-6
    assert abs(values[7, 7] - ordered[28:30, 28:30].mean()) <= pooled.step / 2 + 1e-6
    assert pooled.classes[0].startswith("positions 1-4: ")
    monkeypatch.setattr(content, "OVERVIEW_PIXELS", 8)
    assert content.gather(analysis).m == 30  # within the limit: every class
    monkeypatch.setattr(content, "FULL_RESOLUTION_UP_TO", 20)
    overview = content.gather(analysis)
    assert overview.m == 8 and len(overview.orderings) == 1 and overview.memberships is None


def test_the_overview_and_detail_blocks_of_a_memory_mapped_matrix_with_missing_values(
        tmp_path, monkeypatch):
    """A stored float32 matrix with NaN (a class with no similarity): each overview tile is
    the mean of its finite cells (NaN where it has none: level 0), each detail block the
    ordered matrix's cells, both read in bands of a few rows; numpy as the oracle."""
    from types import SimpleNamespace

    from blocks_rx.explorer import content
    from blocks_rx.ordering import hclust
    from blocks_rx.plot import _pool

    monkeypatch.setattr(_pool, "BAND_CELLS", 200)
    monkeypatch.setattr(content, "DETAIL_CLASSES", 12)
    rng = np.random.default_rng(5)
    m = 37
    M = np.corrcoef(rng.normal(size=(m, 80)) + np.repeat(rng.normal(size=(4, 80)), [9, 9, 9, 10],
                                                          axis=0)).astype(np.float32)
    M[:, 6] = M[6, :] = np.nan
    stored = np.lib.format.open_memmap(tmp_path / "m.npy", mode="w+", dtype=np.float32,
                                       shape=(m, m))
    stored[:] = M
    stored.flush()
    mapped = np.load(tmp_path / "m.npy", mmap_mode="r")
    tree = hclust(np.nan_to_num(M.astype(np.float64)), classes=[f"c{i}" for i in range(m)])
    order = np.asarray(tree.order)
    similarity = SimpleNamespace(matrix=mapped, classes=tree.classes, measure="r",
                                 n_samples=80, source="test")
    page = content.pooled_overview(SimpleNamespace(similarity=similarity, ordering=tree),
                                   side=8)
    tile = page.pooled
    assert tile == 5
    ordered = M.astype(np.float64)[np.ix_(order, order)]
    values = page.low + (page.levels.astype(float) - 1) * page.step
    for i in range(page.m):
        for j in range(page.m):
            cells = ordered[i * tile:(i + 1) * tile, j * tile:(j + 1) * tile]
            if np.isfinite(cells).any():
                assert abs(values[i, j] - np.nanmean(cells)) <= page.step / 2 + 1e-6
            else:
                assert page.levels[i, j] == 0
    for block in page.details:
        members = order[block.start:block.end]
        expected = M[np.ix_(members, members)]
        shown = block.layer.low + (block.layer.levels.astype(float) - 1) * block.layer.step
        finite = np.isfinite(expected)
        assert np.array_equal(block.layer.levels == 0, ~finite)
        assert np.all(np.abs(shown - expected)[finite] <= block.layer.step / 2 + 1e-6)


def test_quantise_is_the_rounded_step_of_each_finite_value():
    """8-bit levels, straight from numpy: rint((value - low) / step) + 1 over the range of
    the finite values; 0 (missing) for NaN and infinities."""
    from blocks_rx.explorer.content import quantise

    rng = np.random.default_rng(6)
    M = rng.normal(size=(40, 7)).astype(np.float32)
    M[3, 2], M[5, 1], M[9, 0] = np.nan, np.inf, -np.inf
    levels, low, step = quantise(M)
    finite = M[np.isfinite(M)].astype(np.float64)
    assert (low, step) == (finite.min(), (finite.max() - finite.min()) / 254)
    with np.errstate(invalid="ignore"):
        expected = np.clip(np.rint((M.astype(np.float64) - low) / step) + 1, 1, 255)
    expected = np.where(np.isfinite(M), expected, 0).astype(np.uint8)
    np.testing.assert_array_equal(levels, expected)
    assert (levels[5, 1], levels[9, 0], levels[3, 2]) == (0, 0, 0)


def test_served_mode_answers_on_localhost_and_stops_cleanly(result, browser):
    import signal
    import subprocess
    import sys
    import urllib.request

    folder, _ = result
    server = subprocess.Popen([sys.executable, "-m", "blocks_rx.cli", "explore", str(folder),
                               "--serve", "--port", "0"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    try:
        line = server.stdout.readline()
        assert "http://127.0.0.1:" in line, line + server.stderr.read()
        url = line.split(" at ")[1].split()[0]
        with urllib.request.urlopen(url, timeout=30) as answer:
            assert answer.status == 200 and b"bokeh" in answer.read().lower()
        page = browser.new_page()
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(url)
        status = "() => Bokeh.documents.length && Bokeh.documents[0].get_model_by_name('status').text"
        page.wait_for_function(status, timeout=30000)
        assert page.evaluate(status).startswith("positions 1-24 x 1-24")
        page.evaluate("() => Bokeh.documents[0].get_model_by_name('matrix').x_range"
                      ".setv({start: 4, end: 12})")
        page.wait_for_function(f"() => ({status})().includes('x 5-12')", timeout=30000)
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "served.png"))
        page.close()
        assert errors == []
    finally:
        server.send_signal(signal.SIGINT)
        out, err = server.communicate(timeout=30)
    assert server.returncode == 0, err
    assert "stopped" in out
    with pytest.raises(OSError):
        urllib.request.urlopen(url, timeout=5)


def test_the_inline_jupyter_frame_runs_the_page(browser, page_file, tmp_path):
    """What a notebook shows (``_repr_html_``: a sandboxed srcdoc iframe) starts the page."""
    explorer, _ = page_file
    host = tmp_path / "notebook_output.html"
    host.write_text(f"<html><body>{explorer._repr_html_()}</body></html>", encoding="utf-8")
    page = browser.new_page(viewport={"width": 1700, "height": 900})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(host.as_uri())
    frame = page.frames[1]
    frame.wait_for_function("document.body.dataset.blocksRx === 'ready'", timeout=30000)
    assert frame.evaluate("() => blocksRx.state.m") == 24
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "inline_frame.png"))
    page.close()
    assert errors == []


def test_taxonomy_band_ordering_and_thumbnails(browser, tmp_path):
    from blocks_rx.datasets import planted_taxonomy

    data = planted_taxonomy()
    analysis = blocks_rx.analyze(Scores(data["scores"], classes=data["classes"]),
                                 groups=None, hclust_backend="python")
    images = {name: [np.outer(np.arange(8), np.ones(8)) * (i + 1)]
              for i, name in enumerate(data["classes"][:3])}
    explorer = blocks_rx.explore(analysis, taxonomy=data["taxonomy"], examples=images)
    names = [o.name for o in explorer.content.orderings]
    assert "taxonomy" in names
    expected = blocks_rx.order_classes(analysis.similarity, "taxonomy",
                                       taxonomy=data["taxonomy"]).order.tolist()
    path = explorer.save(tmp_path / "taxonomy.html")
    opened = Page(browser, path, "taxonomy_and_thumbnails")
    try:
        opened.set_model("ordering", "value", "taxonomy")
        assert opened.js("() => Array.from(blocksRx.state.perm)") == expected
        band = opened.js("() => Bokeh.documents[0].get_model_by_name('taxonomy')"
                         ".renderers[0].data_source.data.image[0].length")
        assert band == len(data["classes"]) * max(len(p.split("/")) for p in data["taxonomy"].values())
        first = data["classes"].index(data["classes"][0])
        position = expected.index(first)
        opened.drag((position + 0.2, position + 0.2), (position + 0.8, position + 0.8))
        thumbnail = opened.page.locator("img.brx-thumb")  # Playwright reaches into Bokeh's shadow DOM
        assert thumbnail.count() == 1
        assert thumbnail.evaluate("(img) => img.complete && img.naturalWidth") == 8
        panel = opened.js("() => Bokeh.documents[0].get_model_by_name('panel').text")
        assert panel.count('<img class="brx-thumb" src="data:image/png;base64,') == 1
        assert data["taxonomy"][data["classes"][0]].replace("/", " / ") in panel
    finally:
        opened.close()


def test_a_comparison_opens_with_a_b_and_their_difference(browser, tmp_path):
    """explore(compare(a, b)): three matrices to switch between, moves listed per class."""
    rng = np.random.default_rng(3)
    latent = rng.normal(size=(2000, 4))
    a_scores = latent[:, np.repeat(np.arange(4), 6)] + rng.normal(size=(2000, 24))
    b_scores = a_scores.copy()
    b_scores[:, :6] = latent[:, [1]] + rng.normal(size=(2000, 6))  # block 0 joins block 1
    a = blocks_rx.analyze(a_scores, groups=None, hclust_backend="python")
    b = blocks_rx.analyze(b_scores, groups=None, hclust_backend="python")
    comparison = blocks_rx.compare(a, b)
    written = blocks_rx.comparison.write_comparison(comparison, tmp_path / "comparison")
    assert "explorer.html" in written
    opened = Page(browser, written["explorer.html"], "comparison")
    try:
        assert opened.js("() => blocksRx.data.layers.map(l => l.name)") == ["A", "B", "B - A"]
        shown = [opened.matrix_pixels()]
        for active in (1, 2):
            opened.set_model("layer", "active", active)
            shown.append(opened.matrix_pixels())
        assert len(set(shown)) == 3
        difference = opened.js("() => { const s = blocksRx.state, L = blocksRx.data.layers[2];"
                               " return L.low + (s.levels[0 * s.m + 6] - 1) * L.step; }")
        expected = comparison.matrix_b[0, 6] - comparison.matrix_a[0, 6]
        assert abs(difference - expected) <= opened.js("() => blocksRx.data.layers[2].step")
        first = comparison.moved["class"].iloc[0]
        position = int(np.flatnonzero(comparison.order == comparison.classes.index(first))[0])
        opened.drag((position + 0.2, position + 0.2), (position + 0.8, position + 0.8))
        panel = opened.js("() => Bokeh.documents[0].get_model_by_name('panel').text")
        assert "moved: rank 1 of 24" in panel
    finally:
        opened.close()


def test_a_pooled_page_holds_full_resolution_blocks_to_switch_to(browser, monkeypatch, tmp_path):
    """Above the limit: the overview, plus the tree's clusters at full resolution."""
    from blocks_rx.explorer import content

    rng = np.random.default_rng(0)
    scores = rng.normal(size=(600, 30)) + 2 * np.repeat(rng.normal(size=(600, 3)), 10, axis=1)
    analysis = blocks_rx.analyze(scores, groups=None, hclust_backend="python")
    for name, value in (("FULL_RESOLUTION_UP_TO", 20), ("OVERVIEW_PIXELS", 8),
                        ("DETAIL_CLASSES", 12)):
        monkeypatch.setattr(content, name, value)
    explorer = blocks_rx.explore(analysis)
    details = explorer.content.details
    assert [(d.start, d.end) for d in details] == [(0, 10), (10, 20), (20, 30)]
    order = analysis.ordering.order
    opened = Page(browser, explorer.save(tmp_path / "pooled.html"), "pooled_details")
    try:
        assert opened.js("() => blocksRx.state.m") == 8
        names = opened.js("() => Bokeh.documents[0].get_model_by_name('detail').options")
        opened.set_model("detail", "value", names[2])
        opened.page.wait_for_function("blocksRx.state.m === 10")
        shown = opened.js("() => blocksRx.data.classes")
        assert shown == [analysis.similarity.classes[i] for i in order[10:20]]
        level = opened.js("() => { const L = blocksRx.data.layers[0];"
                          " return L.low + (blocksRx.state.levels[0 * 10 + 3] - 1) * L.step; }")
        expected = analysis.similarity.matrix[order[10], order[13]]
        assert abs(level - expected) <= details[1].layer.step
        opened.drag((1.2, 1.2), (3.8, 3.8))
        assert opened.js("() => blocksRx.state.rows.map(i => blocksRx.data.classes[i])") == \
            sorted(shown[1:4], key=shown.index)
        opened.set_model("detail", "value", "overview")
        opened.page.wait_for_function("blocksRx.state.m === 8")
    finally:
        opened.close()


def test_an_address_naming_a_class_finds_it(browser, page_file, result):
    """The report links into explorer.html#class=NAME (URL-encoded): the page finds it."""
    from urllib.parse import quote

    _, path = page_file
    _, analysis = result
    name = HOSTILE[0]
    page = browser.new_page(viewport={"width": 1700, "height": 900})
    page.goto(path.as_uri() + "#class=" + quote(name, safe=""))
    page.wait_for_function("document.body.dataset.blocksRx === 'ready'", timeout=30000)
    assert page.evaluate("() => blocksRx.state.found") == analysis.similarity.classes.index(name)
    page.evaluate("() => { window.location.hash = '#class=' + encodeURIComponent('class 20'); }")
    page.wait_for_function("blocksRx.state.found === %d"
                           % analysis.similarity.classes.index("class 20"), timeout=10000)
    assert page.evaluate("() => window.__pwned === undefined")
    page.close()


def test_a_killed_page_write_leaves_a_folder_analyze_still_replaces(result, tmp_path):
    """A page write killed outright leaves only its hidden .part file; check_target takes it
    as part of the result folder (replaced whole), not as a foreign file."""
    from blocks_rx import results
    from blocks_rx.errors import ResultError

    folder, _ = result
    copy = tmp_path / "result"
    shutil.copytree(folder, copy)
    (copy / ".explorer.html.k2x9_a.part").write_text("<!DOCTYPE html>", encoding="utf-8")
    (copy / ".report.md.zz1.part").write_text("#", encoding="utf-8")
    assert results.check_target(copy) == copy
    (copy / ".notes.part").write_text("mine", encoding="utf-8")
    with pytest.raises(ResultError, match="not part of a blocks-rx result"):
        results.check_target(copy)


def test_the_served_view_pools_any_window_of_the_ordered_matrix(monkeypatch):
    """server.view_of: a window of the ordered matrix, pooled by the mean over square tiles
    (numpy as the oracle), single cells when it fits VIEW_PIXELS."""
    from blocks_rx.explorer import server

    rng = np.random.default_rng(0)
    matrix, order = rng.normal(size=(50, 50)), rng.permutation(50)
    image, tile = server.view_of(matrix, order, (3, 40, 10, 17))
    assert tile == 1 and np.allclose(image, matrix[np.ix_(order[3:40], order[10:17])])
    monkeypatch.setattr(server, "VIEW_PIXELS", 10)
    image, tile = server.view_of(matrix, order, (0, 50, 10, 30))
    ordered = matrix[np.ix_(order, order[10:30])]
    assert tile == 5 and image.shape == (10, 4)
    assert np.allclose(image[2, 3], ordered[10:15, 15:20].mean())


def test_a_narrow_window_puts_the_selection_below_the_matrix(browser, page_file):
    """1,200 pixels (a notebook's output area) cannot hold the matrix and the selection side
    by side: the selection wraps below it, and nothing needs sideways scrolling."""
    _, path = page_file
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    page.goto(path.as_uri())
    page.wait_for_function("document.body.dataset.blocksRx === 'ready'", timeout=30000)
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    selection = page.get_by_text("Selection", exact=True).bounding_box()
    matrix_bottom = page.evaluate("() => blocksRx.screenPoint(0, blocksRx.state.m)[1]")
    page.close()
    assert overflow <= 0
    assert selection["y"] > matrix_bottom


def test_few_classes_are_named_on_the_axes_in_the_order_shown(browser, page_file, result):
    """Up to NAMED_AXES_UP_TO classes every row and column is named, and choosing another
    ordering renames them in its order."""
    _, path = page_file
    _, analysis = result
    page = Page(browser, path, "named axes")
    labels = ("(side) => [...Bokeh.documents[0].get_model_by_name('matrix')[side][0]"
              ".major_label_overrides.entries()].sort((a, b) => a[0] - b[0]).map((e) => e[1])")
    assert page.js(labels, "below") == list(analysis.ordering.ordered_classes)
    assert page.js(labels, "left") == list(analysis.ordering.ordered_classes)
    names = page.js("() => blocksRx.data.ordering_names")
    page.set_model("ordering", "value", names[1])
    order = page.js("() => Array.from(blocksRx.data.orderings[1].order)")
    classes = page.js("() => blocksRx.data.classes")
    assert page.js(labels, "below") == [classes[j] for j in order]
    assert order != list(analysis.ordering.order)  # another order indeed
    page.page.close()
    assert page.errors == []
