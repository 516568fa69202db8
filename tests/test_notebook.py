"""examples/tour.ipynb runs top to bottom in a fresh kernel and shows what it says it shows.

The notebook is stored without outputs; this test executes a copy in a temporary folder (its
temporary files and the langid cache go there too, never into the repository or the home
folder) with a kernel started from this interpreter, then reads the outputs of the cells by
the tag each one carries in its metadata.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import os
import sys
from pathlib import Path

import pytest
from conftest import ROOT

nbformat = pytest.importorskip("nbformat", reason="the notebook test needs nbformat (test extra)")
nbclient = pytest.importorskip("nbclient", reason="the notebook test needs nbclient (test extra)")
pytest.importorskip("ipykernel", reason="the notebook test needs ipykernel (test extra)")

NOTEBOOK = ROOT / "examples" / "tour.ipynb"
#: Cells whose last expression is a plot call, so Jupyter shows a picture.
PLOT_CELLS = ("heatmap", "panels", "groups-heatmap")
#: Cells that show a result object, and words its HTML summary must contain.
HTML_CELLS = {
    "similarity": ("Similarity", "pearson", "899"),
    "ordering": ("Ordering", "hclust", "complete linkage"),
    "findings": ("Group findings", "coherent", "failed", "split"),
    "analysis": ("blocks-rx analysis", "top-1 accuracy", "groups"),
}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: Appended to the copy that runs: which interpreter the kernel is.
INTERPRETER_CELL = "import json, sys; print(json.dumps([sys.executable, sys.prefix]))"
CELL_TIMEOUT = 300


def _has(*modules: str) -> bool:
    return all(importlib.util.find_spec(name) is not None for name in modules)


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """The notebook run in a fresh kernel; (cells by tag, the folder it ran in)."""
    from ipykernel.kernelspec import write_kernel_spec
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    work = tmp_path_factory.mktemp("tour")
    (work / "tmp").mkdir()
    # A kernel spec of this very interpreter, so a user's or the system's "python3" spec
    # (another Python, without blocks_rx) can never be the one that starts.
    kernels = work / "kernels"
    write_kernel_spec(kernels / "blocks-rx-test")
    specs = KernelSpecManager(kernel_dirs=[str(kernels)])
    manager = KernelManager(kernel_name="blocks-rx-test", kernel_spec_manager=specs)

    nb = nbformat.read(NOTEBOOK, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(INTERPRETER_CELL, id="interpreter",
                                              metadata={"tags": ["interpreter"]}))
    (work / NOTEBOOK.name).write_text(nbformat.writes(nb), encoding="utf-8")
    env = {**os.environ, "TMPDIR": str(work / "tmp"),
           "BLOCKS_RX_CACHE": str(work / "langid-cache")}
    client = nbclient.NotebookClient(nb, km=manager, timeout=CELL_TIMEOUT,
                                     resources={"metadata": {"path": str(work)}})
    client.execute(env=env)  # raises CellExecutionError on the first cell that fails
    by_tag = {}
    for cell in nb.cells:
        if cell.cell_type == "code":
            for tag in cell.metadata.get("tags", []):
                assert tag not in by_tag, f"tag {tag!r} is on two cells"
                by_tag[tag] = cell
    return by_tag, work


def _outputs(cell, mime: str) -> list:
    return [out["data"][mime] for out in cell.outputs if mime in out.get("data", {})]


def _stream(cell) -> str:
    return "".join(out["text"] for out in cell.outputs if out["output_type"] == "stream")


def _check_png(data: str, where: str) -> None:
    png = base64.b64decode(data)
    assert png.startswith(PNG_SIGNATURE), f"{where}: image/png is not a PNG"
    assert len(png) > 10_000, f"{where}: a {len(png)}-byte PNG is too small to be the picture"


def test_notebook_is_stored_clean_and_valid():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert code and all(not cell.outputs and cell.execution_count is None for cell in code)
    tags = [tag for cell in code for tag in cell.metadata.get("tags", [])]
    for tag in (*PLOT_CELLS, *HTML_CELLS, "cut", "frames", "r-export", "langid"):
        assert tags.count(tag) == 1, tag


def test_kernel_is_this_interpreter(executed):
    by_tag, _ = executed
    executable, prefix = json.loads(_stream(by_tag["interpreter"]))
    assert Path(prefix).resolve() == Path(sys.prefix).resolve()
    assert Path(executable).resolve() == Path(sys.executable).resolve()


def test_no_cell_raised(executed):
    by_tag, _ = executed
    for tag, cell in by_tag.items():
        errors = [out for out in cell.outputs if out["output_type"] == "error"]
        assert not errors, f"cell {tag!r} raised {errors[0]['ename']}: {errors[0]['evalue']}"


@pytest.mark.parametrize("tag", PLOT_CELLS)
def test_plot_cell_shows_a_picture(executed, tag):
    by_tag, _ = executed
    pictures = _outputs(by_tag[tag], "image/png")
    assert len(pictures) == 1, f"cell {tag!r} shows {len(pictures)} pictures"
    _check_png(pictures[0], tag)


@pytest.mark.parametrize("tag", sorted(HTML_CELLS))
def test_result_cell_shows_its_html_summary(executed, tag):
    by_tag, _ = executed
    pages = _outputs(by_tag[tag], "text/html")
    assert pages, f"cell {tag!r} shows no HTML"
    for word in HTML_CELLS[tag]:
        assert word in pages[-1], f"cell {tag!r}: {word!r} not in its HTML summary"


def test_cut_cell_shows_group_series(executed):
    by_tag, _ = executed
    shown = _outputs(by_tag["cut"], "text/plain")
    assert len(shown) == 2  # cut(k=4), then cut(h=...)
    for text in shown:
        assert "Name: group" in text and text.startswith("class\n")
        assert text.count("digit ") == 10


def test_frames_cell_shows_both_tables(executed):
    by_tag, _ = executed
    order, matrix = _outputs(by_tag["frames"], "text/html")
    assert "cluster_k2" in order and "cluster_k4" in order
    assert "digit 4" in matrix and "digit 5" not in matrix  # .iloc[:5, :5]


def test_result_folder_goes_to_the_temporary_directory(executed):
    by_tag, work = executed
    printed = _stream(by_tag["analysis"])
    assert "heatmap.png" in printed and "report.json" in printed
    folder = Path(printed.rsplit(" into ", 1)[1].strip())
    assert folder.is_relative_to(work / "tmp") and (folder / "order.csv").is_file()


def test_r_cell_exports_or_says_r_is_missing(executed):
    by_tag, _ = executed
    printed = _stream(by_tag["r-export"])
    if "R is not available here" in printed:
        assert "read_blocks(" in printed and "digits-for-r" in printed
        return
    assert ".rds" in printed and "read_blocks(" in printed
    r_groups = printed.split("R's cutree(k = 4):")[1].splitlines()[0].strip()
    python_groups = printed.split("Python's ordering.cut(4):")[1].splitlines()[0].strip()
    assert r_groups == python_groups


def test_langid_cell_shows_its_picture_when_langid_is_installed(executed):
    by_tag, _ = executed
    cell = by_tag["langid"]
    if not _has("langid"):
        assert "skipped" in _stream(cell)
        return
    assert "blocks-rx analysis" in _outputs(cell, "text/html")[0]
    pictures = _outputs(cell, "image/png")
    assert len(pictures) == 1
    _check_png(pictures[0], "langid")


def test_explore_cell_shows_the_page_inline(executed):
    """The explorer displays as a sandboxed iframe holding the whole offline page."""
    import html

    by_tag, work = executed
    shown = _outputs(by_tag["explore"], "text/html")
    assert len(shown) == 1 and shown[0].startswith("<iframe srcdoc=")
    page = html.unescape(shown[0].split('srcdoc="', 1)[1].split('" sandbox=', 1)[0])
    assert page.startswith("<!DOCTYPE html>") and "window.blocksRx" in page
    assert "cdn.bokeh.org" not in page
    assert list(work.glob("tmp/blocks-rx-tour-*/explorer_copy.html"))
