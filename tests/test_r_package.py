"""The blocksrx R package (r_scripts/blocksrx): its own R tests, run on exports written here by
blocks-rx, and checks against independent oracles (scipy's fcluster, the pixels of the PNG
that plot_blocks.R draws); the R files inside the wheel."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import blocks_rx
from blocks_rx import r
from blocks_rx.export import export_csv, export_rds, to_r
from blocks_rx.ordering import hclust, order_classes
from blocks_rx.similarity import Similarity

from conftest import RSCRIPT, ROOT, R_SCRIPTS, planted_scores, requires_r

PACKAGE = R_SCRIPTS / "blocksrx"
R_TESTS = sorted((PACKAGE / "tests").glob("test-*.R"))
CLASSES = [f"c{j}" for j in range(10)] + ["=formula", "naïve"]  # one protected CSV cell

needs_rpy2 = pytest.mark.skipif(not r.available(), reason="R with rpy2 is not available "
                                "(run `make setup`, which installs both when it can)")


@pytest.fixture(scope="module")
def analysis():
    S, _ = planted_scores(n_samples=500, groups=(3, 4, 5), seed=11)
    return blocks_rx.analyze(blocks_rx.load_scores(S, classes=CLASSES), hclust_backend="python",
                             n_groups=3)


@pytest.fixture(scope="module")
def exports(analysis, tmp_path_factory):
    """The folder the R tests read (BLOCKSRX_TEST_EXPORTS, see tests/exports.R there)."""
    folder = tmp_path_factory.mktemp("exports")
    export_csv(analysis, folder / "r-export")
    if r.available():
        export_rds(analysis, folder / "blocks.rds")
    identity = order_classes(analysis.similarity, "identity")
    export_csv((analysis.similarity, identity), folder / "r-export-notree")
    return folder


@pytest.fixture(scope="module")
def r_library(tmp_path_factory):
    """The package installed from the checkout into a library of its own (what R CMD INSTALL
    accepts, and the sources as they are now, whatever `make setup` installed before)."""
    library = tmp_path_factory.mktemp("rlib")
    done = subprocess.run([str(Path(RSCRIPT).with_name("R")), "CMD", "INSTALL", "-l", str(library),
                           str(PACKAGE)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"R CMD INSTALL failed:\n{done.stdout}\n{done.stderr}"
    return library


def r_env(r_library, exports) -> dict:
    env = dict(os.environ)
    env["R_LIBS"] = os.pathsep.join(filter(None, [str(r_library), env.get("R_LIBS")]))
    env["BLOCKSRX_TEST_EXPORTS"] = str(exports)
    env["BLOCKSRX_R_SCRIPTS"] = str(R_SCRIPTS)
    return env


def run_r(args, env, cwd, timeout=180):
    done = subprocess.run([RSCRIPT, *args], capture_output=True, text=True, env=env, cwd=cwd,
                          timeout=timeout)
    assert done.returncode == 0, f"Rscript {' '.join(map(str, args))} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def test_the_r_package_has_tests():
    assert R_TESTS, f"no test-*.R in {PACKAGE / 'tests'}"


@requires_r
@pytest.mark.parametrize("script", R_TESTS, ids=lambda p: p.name)
def test_r_package_tests_pass(script, exports, r_library):
    out = run_r([str(script)], r_env(r_library, exports), cwd=script.parent)
    assert "all checks passed" in out, out
    assert ("forms: csv rds" if r.available() else "forms: csv") in out


@requires_r
@needs_rpy2
def test_rds_written_by_python_carries_the_class(exports, tmp_path):
    # readRDS alone, no package loaded: the class and the memberships' column names.
    out = run_r(["-e", f'x <- readRDS("{exports / "blocks.rds"}"); '
                       'cat(class(x), colnames(x$memberships), sep = "\\n")'],
                dict(os.environ), cwd=tmp_path)
    assert out.split() == ["blocks_rx", "list", "G1", "G2", "G3"]


@needs_rpy2
def test_to_r_assigns_the_class(analysis):
    import rpy2.robjects as robjects

    to_r(analysis, "blocks_classed")
    assert list(robjects.r("class(blocks_classed)")) == ["blocks_rx", "list"]
    assert list(robjects.r("colnames(blocks_classed$memberships)")) == ["G1", "G2", "G3"]


@requires_r
def test_cutree_matches_scipy_fcluster(analysis, exports, r_library, tmp_path):
    from scipy.cluster.hierarchy import fcluster

    ordering = analysis.ordering
    heights = np.sort(ordering.height)
    cuts_h = [(heights[i] + heights[i + 1]) / 2 for i in (0, 3, 6, 9)]  # between merges
    out = tmp_path / "cuts.csv"
    script = tmp_path / "cuts.R"
    script.write_text(
        "library(blocksrx)\n"
        f'x <- read_blocks("{exports / "r-export"}")\n'
        f"ks <- 2:6; hs <- c({', '.join(f'{h:.17g}' for h in cuts_h)})\n"
        "rows <- c(lapply(ks, function(k) cutree(x, k = k)), lapply(hs, function(h) cutree(x, h = h)))\n"
        "write.csv(do.call(rbind, rows), "
        f'"{out}", row.names = FALSE)\n', encoding="utf-8")
    run_r([str(script)], r_env(r_library, exports), cwd=tmp_path)
    in_r = pd.read_csv(out)
    assert list(in_r.columns) == CLASSES  # cutree names its result by class

    Z = ordering.scipy_linkage()
    expected = [fcluster(Z, t=k, criterion="maxclust") for k in range(2, 7)]
    expected += [fcluster(Z, t=h, criterion="distance") for h in cuts_h]
    for row, (labels_r, labels_scipy) in enumerate(zip(in_r.to_numpy(), expected)):
        # the same partition up to the numbering of the clusters
        np.testing.assert_array_equal(pd.factorize(labels_r)[0], pd.factorize(labels_scipy)[0],
                                      err_msg=f"cut {row}")
    assert [len(set(labels)) for labels in in_r.to_numpy()[:5]] == [2, 3, 4, 5, 6]


def planted_matrix(n=12, seed=3):
    """Off-diagonal values within [-0.4, 0.4] but one pair at -0.6: with the default limits
    (-0.6, 0.6) only the diagonal (1, beyond them) takes the darker top colour."""
    rng = np.random.default_rng(seed)
    M = rng.uniform(-0.4, 0.4, size=(n, n))
    M = (M + M.T) / 2
    M[2, 7] = M[7, 2] = -0.6
    np.fill_diagonal(M, 1.0)
    return M


@requires_r
def test_plot_blocks_draws_every_cell_with_the_diagonal_beyond_the_top_colour(r_library,
                                                                             tmp_path):
    from matplotlib import image
    from scipy import ndimage

    M = planted_matrix()
    classes = [f"class {j}" for j in range(len(M))]
    similarity = Similarity(matrix=M, classes=tuple(classes))
    export_csv((similarity, hclust(M, classes=classes)), tmp_path / "x")
    png = tmp_path / "out" / "plot.png"
    png.parent.mkdir()
    env = r_env(r_library, tmp_path)
    # From another working directory, through the script's absolute path.
    out = run_r([str(R_SCRIPTS / "plot_blocks.R"), str(tmp_path / "x"), str(png), "planted"],
                env, cwd=png.parent)
    assert "wrote" in out and png.is_file() and not list(png.parent.glob(".*partial*"))
    top = run_r(["-e", "cat(blocksrx:::darker(tail(blocksrx:::diverging_colours(), 1)))"],
                env, cwd=tmp_path)
    top_rgb = np.array([int(top[i:i + 2], 16) / 255 for i in (1, 3, 5)])

    pixels = image.imread(png)[..., :3]
    near_top = np.abs(pixels - top_rgb).max(axis=2) < 0.04
    labelled, _ = ndimage.label(near_top)  # 4-connected: diagonal cells touch at corners only
    squares = []
    for rows, cols in ndimage.find_objects(labelled):
        height, width = rows.stop - rows.start, cols.stop - cols.start
        if height >= 10 and abs(height - width) <= 2:
            squares.append((rows.start, cols.start, height))
    # The diagonal: squares of one size along one line of slope 1, one per class.
    by_line = pd.DataFrame(squares, columns=["y", "x", "size"])
    # One line: x - y within a few pixels (cell edges fall on fractional pixels, so it
    # varies by one or two; rounding it to a grid would split a line at a grid edge).
    by_line = by_line.assign(offset=by_line.x - by_line.y).sort_values("offset")
    by_line["line"] = (by_line.offset.diff() > 8).cumsum()
    lines = [group for _, group in by_line.groupby("line")]
    assert lines, "no cell has the darker top colour: the diagonal is left blank"
    diagonal = max(lines, key=len).sort_values("x")
    assert len(diagonal) == len(M), f"{len(diagonal)} of {len(M)} diagonal cells drawn"
    size = diagonal["size"].median()
    assert (diagonal["size"] - size).abs().max() <= 2
    np.testing.assert_allclose(np.diff(diagonal.x), size, atol=2)
    # No cell left blank: nothing inside the matrix is the white of the background.
    y0, x0 = diagonal.y.iloc[0], diagonal.x.iloc[0]
    y1, x1 = diagonal.y.iloc[-1] + diagonal["size"].iloc[-1], diagonal.x.iloc[-1] + diagonal["size"].iloc[-1]
    inside = pixels[y0:y1, x0:x1]
    assert not (inside > 0.995).all(axis=2).any(), "a cell of the matrix is left white"


@requires_r
def test_read_blocks_script_prints_an_export_from_any_directory(exports, tmp_path):
    out = run_r([str(R_SCRIPTS / "read_blocks.R"), str(exports / "r-export")], dict(os.environ),
                cwd=tmp_path)
    assert out.startswith(f"<blocks_rx> {len(CLASSES)} classes, pearson similarity\n")


def test_r_scripts_dir_holds_the_r_files():
    folder = blocks_rx.r_scripts_dir()
    assert folder == R_SCRIPTS  # a source checkout
    for name in ("read_blocks.R", "plot_blocks.R", "common.R", "blocksrx/DESCRIPTION",
                 "blocksrx/NAMESPACE", "blocksrx/R/read.R"):
        assert (folder / name).is_file(), name


def test_description_version_is_the_python_version():
    description = (PACKAGE / "DESCRIPTION").read_text(encoding="utf-8")
    assert f"\nVersion: {blocks_rx.__version__}\n" in description


def test_pyproject_lists_every_package():
    """pyproject.toml lists the packages (find cannot map blocks_rx._r_scripts onto
    r_scripts/), so a new package folder must be added there."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    listed = set(config["packages"])
    python = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "blocks_rx").rglob("__init__.py")}
    r_files = {".".join(("blocks_rx", "_r_scripts") + p.relative_to(R_SCRIPTS).parts)
               for p in R_SCRIPTS.rglob("*") if p.is_dir() and any(c.is_file() for c in p.iterdir())}
    assert python - listed == set()
    assert r_files - listed == set()
    assert config["package-dir"]["blocks_rx._r_scripts"] == "r_scripts"


def test_a_wheel_carries_the_r_files(tmp_path):
    """Build a wheel from a copy of the sources, install it elsewhere, and find every R file
    of r_scripts/ through r_scripts_dir()."""
    source = tmp_path / "src"
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "build", "*.pyc")
    for name in ("blocks_rx", "r_scripts"):
        shutil.copytree(ROOT / name, source / name, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps",
                    "--no-build-isolation", "-w", str(tmp_path / "whl"), str(source)],
                   check=True, capture_output=True, timeout=300)
    wheel = next((tmp_path / "whl").glob("*.whl"))
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target",
                    str(tmp_path / "site"), str(wheel)], check=True, capture_output=True,
                   timeout=300)
    done = subprocess.run([sys.executable, "-c", "import blocks_rx; print(blocks_rx.r_scripts_dir())"],
                          capture_output=True, text=True, cwd=tmp_path, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(tmp_path / "site")})
    assert done.returncode == 0, done.stderr
    folder = Path(done.stdout.strip())
    assert folder == tmp_path / "site" / "blocks_rx" / "_r_scripts"
    shipped = {p.relative_to(folder) for p in folder.rglob("*") if p.is_file()}
    wanted = {p.relative_to(R_SCRIPTS) for p in R_SCRIPTS.rglob("*")
              if p.is_file() and "__pycache__" not in p.parts}
    assert wanted - shipped == set()
