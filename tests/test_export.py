"""Exports to R, read back by R itself (Rscript), and compared with Python's own results."""

from __future__ import annotations

import json
import os
import subprocess

import numpy as np
import pandas as pd
import pytest

from blocks_rx import cli, r
from blocks_rx import analyze, read_result
from blocks_rx.export import CSV_FILES, export_csv, export_rds, to_r

from conftest import RSCRIPT, R_SCRIPTS, planted_scores, requires_r

needs_rpy2 = pytest.mark.skipif(not r.available(), reason="R with rpy2 is not available "
                                "(run `make setup`, which installs both when it can)")

CHECK_IN_R = r"""
source(file.path("{scripts}", "read_blocks.R"))
x <- read_blocks("{path}")
stopifnot(inherits(x$hclust, "hclust"))
pdf(NULL)  # base R's plot and print of the tree read its call
plot(x$hclust)
rect.hclust(x$hclust, k = 3)
invisible(capture.output(print(x$hclust)))
dend <- as.dendrogram(x$hclust)
groups <- cutree(x$hclust, k = 5)
write.csv(data.frame(class = names(groups), group = as.integer(groups),
                     leaf = labels(dend), order = x$order,
                     nleaves = attr(dend, "members"), top = attr(dend, "height"),
                     diag = diag(x$similarity), s12 = x$similarity[1, 2],
                     fuzzy = if (is.null(x$groups)) NA else as.integer(x$groups),
                     m1 = if (is.null(x$memberships)) NA else x$memberships[, 1],
                     call = paste(deparse(x$hclust$call), collapse = "")),
          "{out}", row.names = FALSE)
"""


@pytest.fixture(scope="module")
def result_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("analysis")
    S, groups = planted_scores(n_samples=700, groups=(4, 6, 5, 7), seed=31)
    names = [f"g{g}-{j}" for j, g in enumerate(groups)]
    np.savez(folder / "scores.npz", scores=S, classes=np.array(names))
    assert cli.main(["analyze", str(folder / "scores.npz"), "--out", str(folder / "out"),
                     "--hclust-backend", "python"]) == 0
    return folder / "out"


def check_in_r(path, tmp_path):
    script = tmp_path / "check.R"
    out = tmp_path / "r_view.csv"
    script.write_text(CHECK_IN_R.format(scripts=R_SCRIPTS, path=path, out=out))
    done = subprocess.run([RSCRIPT, str(script)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return pd.read_csv(out)


def assert_matches_python(view, result_dir):
    stored = read_result(result_dir)
    similarity, ordering = stored.similarity, stored.ordering
    assert view["class"].tolist() == list(similarity.classes)
    np.testing.assert_array_equal(view["group"], ordering.cut_labels(5))
    assert view["leaf"].tolist() == ordering.ordered_classes  # dendrogram leaves in our order
    np.testing.assert_array_equal(view["order"] - 1, ordering.order)
    assert view["nleaves"][0] == similarity.n_classes
    assert view["top"][0] == pytest.approx(ordering.height[-1], abs=1e-12)
    assert (view["diag"] == 1).all()
    assert view["call"][0] == 'hclust(d = as.dist(1 - similarity), method = "complete")'

    assert view["s12"][0] == pytest.approx(float(similarity.matrix[0, 1]), abs=1e-15)
    groups = pd.read_csv(result_dir / "groups.csv")  # fuzzy groups travel with the export
    assert view["fuzzy"].tolist() == groups["group"].str[1:].astype(int).tolist()
    np.testing.assert_allclose(view["m1"], groups["membership_G1"], atol=1e-9)


@requires_r
@needs_rpy2
def test_rds_export_loads_in_plain_r_with_cutree_and_dendrogram(result_dir, tmp_path):
    done = subprocess.run([str(cli_path()), "export", str(result_dir), "--format", "rds"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    rds = result_dir / "blocks.rds"
    assert rds.exists() and "read_blocks(" in done.stdout and "library(blocksrx)" in done.stdout
    mask = os.umask(0)
    os.umask(mask)
    assert rds.stat().st_mode & 0o777 == 0o666 & ~mask  # as any file the user makes
    assert_matches_python(check_in_r(rds, tmp_path), result_dir)


@requires_r
def test_csv_json_export_reads_into_the_same_list_without_rpy2(result_dir, tmp_path):
    target = tmp_path / "r-export"
    assert cli.main(["export", str(result_dir), "--format", "csv", "--out", str(target)]) == 0
    assert sorted(p.name for p in target.iterdir()) == sorted(CSV_FILES)
    meta = json.loads((target / "blocks.json").read_text())
    assert meta["provenance"]["ordering"]["linkage"] == "complete"
    assert_matches_python(check_in_r(target, tmp_path), result_dir)


@requires_r
@needs_rpy2
def test_rds_and_csv_forms_hold_the_same_list(result_dir, tmp_path):
    stored = read_result(result_dir)
    similarity, ordering, report = stored.similarity, stored.ordering, stored.report
    export_rds((similarity, ordering), tmp_path / "x.rds", provenance=report)
    export_csv((similarity, ordering), tmp_path / "x", provenance=report)
    script = tmp_path / "same.R"
    script.write_text(
        f'source(file.path("{R_SCRIPTS}", "read_blocks.R"))\n'
        f'a <- read_blocks("{tmp_path / "x.rds"}"); b <- read_blocks("{tmp_path / "x"}")\n'
        'stopifnot(identical(names(a), names(b)), identical(a$order, b$order),\n'
        '          identical(a$hclust$merge, b$hclust$merge), identical(a$classes, b$classes),\n'
        '          isTRUE(all.equal(a$similarity, b$similarity, tolerance = 1e-15)),\n'
        '          isTRUE(all.equal(a$hclust$height, b$hclust$height, tolerance = 1e-15)),\n'
        '          identical(a$provenance$ordering$linkage, "complete"))\n'
        'cat("same\\n")\n')
    done = subprocess.run([RSCRIPT, str(script)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "same" in done.stdout, done.stderr


@needs_rpy2
def test_to_r_puts_the_list_into_the_live_session(result_dir):
    stored = read_result(result_dir)
    similarity, ordering = stored.similarity, stored.ordering
    to_r((similarity, ordering), "blocks_test")
    import rpy2.robjects as robjects

    groups = np.asarray(robjects.r("as.integer(cutree(blocks_test$hclust, k = 3))"))
    np.testing.assert_array_equal(groups, ordering.cut_labels(3))
    assert list(robjects.r("rownames(blocks_test$similarity)")) == list(similarity.classes)


@requires_r
def test_plot_blocks_draws_the_stored_order_in_plain_r(result_dir, tmp_path):
    stored = read_result(result_dir)
    export_csv((stored.similarity, stored.ordering), tmp_path / "x")
    png = tmp_path / "r_heatmap.png"
    done = subprocess.run([RSCRIPT, str(R_SCRIPTS / "plot_blocks.R"), str(tmp_path / "x"), str(png)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert png.stat().st_size > 5_000


def test_analyze_export_r_flag_writes_an_export(tmp_path):
    S, _ = planted_scores(n_samples=300, seed=2)
    np.save(tmp_path / "s.npy", S)
    assert cli.main(["analyze", str(tmp_path / "s.npy"), "--out", str(tmp_path / "out"),
                     "--export-r"]) == 0
    assert (tmp_path / "out" / "blocks.rds").exists() or (tmp_path / "out" / "r-export").is_dir()


def test_export_of_a_folder_that_is_not_a_result_is_a_clear_error(tmp_path, capsys):
    assert cli.main(["export", str(tmp_path), "--format", "csv"]) == 2
    assert "no report.json; is this a `blocks-rx analyze` output folder?" in capsys.readouterr().err
    (tmp_path / "report.json").write_text("{}")
    assert cli.main(["export", str(tmp_path / "report.json"), "--format", "csv"]) == 2
    assert "report.json: a file, not a result folder" in capsys.readouterr().err


def cli_path():
    import sys
    from pathlib import Path

    return Path(sys.executable).with_name("blocks-rx")


@requires_r
@needs_rpy2
def test_an_olo_tree_is_rebuilt_by_its_call_in_r(tmp_path):
    """A tree from R's seriation (OLO here) exports the call that makes it again and the
    linkage it used; R prints both."""
    from blocks_rx.export import export_csv

    S, _ = planted_scores(n_samples=400, groups=(3, 4, 5), seed=2)
    found = analyze(S, ordering="OLO", groups=None)
    assert found.ordering.linkage == "complete"
    export_csv(found, tmp_path / "olo")
    script = tmp_path / "olo.R"
    script.write_text(f"""
source(file.path("{R_SCRIPTS}", "read_blocks.R"))
x <- read_blocks("{tmp_path / 'olo'}")
again <- eval(x$hclust$call, x)
stopifnot(identical(again$merge, x$hclust$merge), identical(again$order, x$hclust$order),
          isTRUE(all.equal(again$height, x$hclust$height)), x$hclust$method == "complete")
print(x)
""")
    done = subprocess.run([RSCRIPT, str(script)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "OLO, complete linkage" in done.stdout, done.stdout
