"""The command line end to end, from a fresh process, and the written outputs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from blocks_rx import analyze, cli, r, results, write_result

from conftest import R_SCRIPTS, planted_scores, requires_r

BLOCKS_RX = Path(sys.executable).with_name("blocks-rx")


def run_cli(*args, **kwargs):
    return subprocess.run([str(BLOCKS_RX), *map(str, args)], capture_output=True, text=True,
                          timeout=300, **kwargs)


@pytest.fixture
def csv_scores(tmp_path):
    S, groups = planted_scores(n_samples=800, groups=(4, 5, 6), seed=11)
    names = [f"g{g}_c{j}" for j, g in enumerate(groups)]
    path = tmp_path / "scores.csv"
    pd.DataFrame(S, columns=names).to_csv(path, index=False)
    labels = tmp_path / "labels.txt"
    labels.write_text("\n".join(names[j] for j in S.argmax(axis=1)) + "\n")
    return path, S, names, groups, labels


def test_analyze_from_a_fresh_shell_writes_every_output(tmp_path, csv_scores):
    path, S, names, groups, labels = csv_scores
    out = tmp_path / "out"
    done = run_cli("analyze", path, "--out", out, "--labels", labels, "--cuts", "3,5")
    assert done.returncode == 0, done.stderr
    assert "wrote 9 files" in done.stdout and "accuracy" in done.stdout
    assert f"wrote 9 files to {out}/: " in done.stdout
    assert sorted(p.name for p in out.iterdir()) == sorted(results.RESULT_FILES)
    assert "confusion.png" in results.RESULT_FILES  # --labels: similarity beside confusions
    groups = pd.read_csv(out / "groups.csv")
    assert groups["class"].tolist() == names
    memberships = groups.filter(like="membership_G").to_numpy()
    np.testing.assert_allclose(memberships.sum(axis=1), 1.0, atol=1e-5)
    crisp = memberships.argmax(axis=1) + 1
    assert groups["group"].tolist() == [f"G{k}" for k in crisp]

    with np.load(out / "similarity.npz") as npz:
        matrix, order, classes = npz["matrix"], npz["order"], list(npz["classes"])
        linkage = npz["linkage"]
        assert matrix.dtype == np.float32 and matrix.shape == (15, 15)
        assert classes == names
        np.testing.assert_allclose(matrix, np.corrcoef(S.astype(np.float64), rowvar=False), atol=1e-5)
        assert sorted(order) == list(range(15)) and linkage.shape == (14, 4)
        assert npz["confusion"].trace() == 800  # labels were the argmax: all correct

    table = pd.read_csv(out / "order.csv")
    assert list(table.columns) == ["position", "index", "class", "cluster_k3", "cluster_k5"]
    assert table["class"].tolist() == [names[j] for j in order]
    # the planted groups are the 3-cut
    planted = [int(c.split("_")[0][1:]) for c in table["class"]]
    assert len(set(zip(planted, table["cluster_k3"]))) == 3

    report = json.loads((out / "report.json").read_text())
    assert report["similarity"]["measure"] == "pearson"
    expected_backend = "r" if r.available() else "python"  # --hclust-backend auto prefers R
    assert report["ordering"] == {**report["ordering"], "linkage": "complete", "distance": "1-r",
                                  "hclust_backend": expected_backend}
    assert report["input"]["n_samples"] == 800 and report["confusion"]["accuracy"] == 1.0
    assert {"similarity", "ordering", "draw"} <= set(report["timings_s"])
    assert report["summary"]["off_diagonal_similarity"]["count"] == 15 * 14 // 2
    assert report["versions"]["numpy"] == np.__version__


def test_options_reach_the_computation(tmp_path, csv_scores):
    path, S, *_ = csv_scores
    out = tmp_path / "out"
    assert cli.main(["analyze", str(path), "--out", str(out), "--measure", "spearman",
                     "--linkage", "average", "--distance", "1-|r|", "--clip-negative"]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["similarity"]["measure"] == "spearman" and report["similarity"]["clip_negative"]
    assert report["ordering"]["linkage"] == "average" and report["ordering"]["distance"] == "1-|r|"
    from scipy.stats import spearmanr

    with np.load(out / "similarity.npz") as npz:
        np.testing.assert_allclose(npz["matrix"], np.maximum(spearmanr(S).statistic, 0), atol=1e-5)


@requires_r
def test_r_hclust_on_the_stored_matrix_gives_the_stored_order(tmp_path, csv_scores):
    path, *_ = csv_scores
    out = tmp_path / "out"
    assert cli.main(["analyze", str(path), "--out", str(out), "--center"]) == 0
    with np.load(out / "similarity.npz") as npz:
        matrix, order = npz["matrix"], npz["order"]
    matrix.astype("<f8").tofile(tmp_path / "m.bin")
    subprocess.run(["Rscript", str(R_SCRIPTS / "reference_order.R"), str(tmp_path / "m.bin"),
                    str(len(matrix)), "1-r", "complete", str(tmp_path / "r.csv")], check=True)
    assert np.array_equal(pd.read_csv(tmp_path / "r.csv")["order"].to_numpy() - 1, order)


def test_a_failed_run_leaves_no_half_written_files(tmp_path, monkeypatch, csv_scores):
    path, *_ = csv_scores
    out = tmp_path / "out"
    result = analyze(str(path), groups=None)

    def broken(*args, **kwargs):
        raise RuntimeError("disk full while drawing")

    monkeypatch.setitem(results.WRITERS, "heatmap.png", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        write_result(result, out)
    assert not out.exists()  # neither outputs nor the staging folder
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")]


LEAK_THEN_FAIL = """
import gc, sys
from blocks_rx import cli, results

def leak_then_fail(analysis, path, **kwargs):
    open(path, "wb")  # left open, as an interrupted savefig leaves its file
    gc.collect()
    raise RuntimeError("disk full while drawing")

results.WRITERS["groups.png"] = leak_then_fail
sys.exit(cli.main(["analyze", sys.argv[1], "--out", sys.argv[2], "--quiet"]))
"""


def test_a_failed_run_prints_its_error_and_no_resource_warning(tmp_path, csv_scores):
    path, *_ = csv_scores
    done = subprocess.run([sys.executable, "-c", LEAK_THEN_FAIL, str(path), str(tmp_path / "out")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 1
    assert "blocks-rx: error: disk full while drawing" in done.stderr
    assert "unclosed file" not in done.stderr and "ResourceWarning" not in done.stderr


def test_bad_input_exits_2_with_a_named_problem(tmp_path):
    bad = tmp_path / "bad.npy"
    S = np.ones((10, 4), dtype=np.float32)
    S[6, 2] = np.nan
    np.save(bad, S)
    done = run_cli("analyze", bad, "--out", tmp_path / "out")
    assert done.returncode == 2
    assert "row 6, column 2" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "out" / "similarity.npz").exists()


def test_offset_dominated_logits_print_a_hint(tmp_path):
    S, _ = planted_scores(n_samples=1000, seed=3)
    S += np.random.default_rng(3).normal(scale=30, size=(1000, 1)).astype(np.float32)
    np.save(tmp_path / "s.npy", S)
    done = run_cli("analyze", tmp_path / "s.npy", "--out", tmp_path / "out")
    assert done.returncode == 0
    assert "--center" in done.stderr
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert any("per-sample offsets" in w for w in report["warnings"])


def test_demo_runs_on_the_real_langid_data(tmp_path):
    env = {**os.environ, "BLOCKS_RX_CACHE": str(tmp_path / "cache")}
    done = run_cli("demo", "--out", tmp_path / "demo", env=env)
    assert done.returncode == 0, done.stderr
    assert "97 languages" in done.stdout
    report = json.loads((tmp_path / "demo" / "report.json").read_text())
    # The demo's groups are listed: the Cyrillic languages form one coherent fuzzy group.
    groups = report["groups"]
    assert groups["n_groups"] >= 3 and groups["failed"]
    assert any({"Russian (ru)", "Ukrainian (uk)", "Bulgarian (bg)"} <= set(g["classes"])
               for g in groups["coherent"])
    assert report["input"]["n_classes"] == 97 and report["similarity"]["transform"] == "standardize"
    assert report["confusion"]["accuracy"] > 0.5
    table = pd.read_csv(tmp_path / "demo" / "order.csv")
    # Scripts form blocks: the Cyrillic languages sit together in the order.
    cyrillic = ["(ru)", "(uk)", "(be)", "(bg)", "(mk)", "(sr)"]
    positions = sorted(table.index[table["class"].str.endswith(tuple(cyrillic))])
    assert len(positions) == 6 and positions[-1] - positions[0] <= 8


def test_the_program_exits_with_mains_status_and_skips_the_exit_collections(tmp_path):
    """``blocks-rx`` is cli.console: main's status becomes the exit status, and the objects
    left are frozen out of the collector's reach before the interpreter exits."""
    check = ("import atexit, gc, sys\n"
             "from blocks_rx import cli\n"
             "atexit.register(lambda: print('frozen objects:', gc.get_freeze_count()))\n"
             "sys.argv = ['blocks-rx', *sys.argv[1:]]\n"
             "cli.console()\n")
    done = subprocess.run([sys.executable, "-c", check, "methods", "linkages"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "complete" in done.stdout
    frozen = int(done.stdout.rsplit("frozen objects:", 1)[1])
    assert frozen > 10_000  # numpy's and blocks_rx's objects, at least
    bad = subprocess.run([sys.executable, "-c", check, "analyze", str(tmp_path / "none.npy"),
                          "--out", str(tmp_path / "out")], capture_output=True, text=True,
                         timeout=120)
    assert bad.returncode == 2 and "none.npy" in bad.stderr
    assert not (tmp_path / "out").exists()
    assert BLOCKS_RX.read_text().count("console") >= 1  # the installed program is console


@requires_r
def test_the_program_removes_rs_session_folder_without_a_shell(tmp_path, csv_scores):
    """R's session folder (``tempdir()``) goes when ``blocks-rx`` exits, removed by the
    program itself: no ``sh -c rm -Rf`` is started, and rpy2's exit handler is not run."""
    path, *_ = csv_scores
    temp = tmp_path / "temp"
    temp.mkdir()
    check = ("import atexit, subprocess, sys\n"
             "import rpy2.rinterface_lib.embedded as embedded\n"
             "ended = embedded.endr\n"
             "def watched(fatal):\n"
             "    print('rpy2 ended R', flush=True)\n"
             "    ended(fatal)\n"
             "embedded.endr = watched  # what rpy2 registers at exit, once it starts R\n"
             "from blocks_rx import cli\n"
             "sys.argv = ['blocks-rx', *sys.argv[1:]]\n"
             "cli.console()\n")
    done = subprocess.run([sys.executable, "-c", check, "analyze", str(path), "--out",
                           str(tmp_path / "out"), "--quiet", "--no-explorer"],
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "TMPDIR": str(temp)})
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out" / "report.json").is_file()
    assert not list(temp.iterdir())  # R's Rtmp... folder was made there, and is gone
    assert "rpy2 ended R" not in done.stdout
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["versions"]["R"]  # R did run


def test_help_lists_the_commands():
    done = run_cli("--help")
    assert done.returncode == 0 and "analyze" in done.stdout and "demo" in done.stdout


@pytest.mark.skipif(not r.available(), reason="R with rpy2 is not available")
def test_seriation_order_with_criteria_and_r_versions_in_the_report(tmp_path, csv_scores):
    path, *_ = csv_scores
    out = tmp_path / "out"
    assert cli.main(["analyze", str(path), "--out", str(out), "--ordering", "OLO_complete",
                     "--criteria"]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["ordering"]["method"] == "OLO_complete" and report["ordering"]["hclust_backend"] == "r"
    assert report["ordering"]["versions"]["seriation"]
    assert {"AR_events", "Gradient_raw", "Path_length", "Moore_stress"} <= set(report["criteria"])
    assert report["versions"]["R"].startswith("4.")


def test_taxonomy_order_from_the_cli(tmp_path, csv_scores):
    path, S, names, groups, _ = csv_scores
    taxonomy = tmp_path / "taxonomy.csv"
    # groups in reverse, to see that the taxonomy's own order is used
    rows = sorted(zip(names, groups), key=lambda item: -item[1])
    taxonomy.write_text("class,path\n" + "".join(f"{c},top{g}/{c}\n" for c, g in rows))
    out = tmp_path / "out"
    with pytest.warns(UserWarning, match="no groups: fuzzy-cmeans needs an ordering with a tree"):
        assert cli.main(["analyze", str(path), "--out", str(out), "--ordering", "taxonomy",
                         "--taxonomy", str(taxonomy)]) == 0
    table = pd.read_csv(out / "order.csv")
    assert table["class"].tolist() == [c for c, _ in rows]
    assert "cluster_k2" not in table.columns  # a taxonomy order has no tree to cut


def test_doctor_reports_every_piece_with_a_fix():
    done = run_cli("doctor")
    assert "numpy" in done.stdout and "rpy2" in done.stdout and "R package seriation" in done.stdout
    for line in done.stdout.splitlines():
        if line.startswith("--"):
            following = done.stdout.split(line, 1)[1].splitlines()[1]
            assert "fix:" in following


def test_analyze_help_is_built_from_the_registries():
    from blocks_rx.groups import GROUP_METHODS
    from blocks_rx.ordering import ORDERINGS
    from blocks_rx.scores import TRANSFORMS
    from blocks_rx.similarity import MEASURES

    done = run_cli("analyze", "--help")
    assert done.returncode == 0
    text = " ".join(done.stdout.split())
    for registry in (MEASURES, TRANSFORMS, GROUP_METHODS):
        for name in registry:
            assert name in text, name
    for registry in (ORDERINGS, GROUP_METHODS):
        for name, (option, takers) in registry.options().items():
            if name != "seed":
                assert option.flag in text and option.help.split(";")[0][:30] in text, name
    for heading in ("similarity:", "ordering:", "groups:", "run:", "input:"):
        assert heading in done.stdout
    # Options sit under the heading of what they do (--linkage is not a groups option).
    groups_part = done.stdout.split("groups:")[1]
    assert "--linkage" not in groups_part and "--n-groups" in groups_part


def test_methods_lists_every_registry_entry():
    from blocks_rx import cli as blocks_cli

    done = run_cli("methods")
    assert done.returncode == 0
    for kind, registry in blocks_cli._registries().items():
        assert f"{kind}:" in done.stdout
        for name in registry:
            assert f"  {name} " in done.stdout, (kind, name)
    assert "OLO_complete" in done.stdout and "cost=O(m^3)" in done.stdout
    assert "gives_tree=True" in done.stdout and "needs_r=True" in done.stdout


@pytest.mark.parametrize("args, message", [
    (["--ordering", "identity", "--linkage", "single"],
     "option linkage does not apply: ordering method 'identity' takes no options"),
    (["--taxonomy", "tax.csv"], "option taxonomy does not apply: ordering method 'hclust'"),
    (["--ordering", "taxonomy"], "ordering method 'taxonomy' needs taxonomy"),
    (["--ordering", "no-such-order"], "unknown ordering method 'no-such-order'"),
    (["--no-groups", "--n-groups", "3"], "option n_groups does not apply"),
])
def test_options_that_do_not_apply_are_errors(tmp_path, csv_scores, args, message):
    path, *_ = csv_scores
    done = run_cli("analyze", path, "--out", tmp_path / "out", *args)
    assert done.returncode == 2 and message in done.stderr, done.stderr
    assert not (tmp_path / "out").exists()


def test_old_option_spellings_still_work_with_a_warning(tmp_path, csv_scores):
    path, *_ = csv_scores
    out = tmp_path / "out"
    done = run_cli("analyze", path, "--out", out, "--method", "spearman", "--order", "hclust",
                   "--backend", "python", "--groups", "3")
    assert done.returncode == 0, done.stderr
    for old, new in (("--method", "--measure"), ("--order", "--ordering"),
                     ("--backend", "--hclust-backend"), ("--groups", "--n-groups")):
        assert f"{old} is now {new}" in done.stderr
    report = json.loads((out / "report.json").read_text())
    assert report["similarity"]["measure"] == "spearman"
    assert report["ordering"]["hclust_backend"] == "python"
    assert report["groups"]["n_groups"] == 3


def test_seed_and_fuzzifier_reach_the_groups(tmp_path, csv_scores):
    path, *_ = csv_scores
    out = tmp_path / "out"
    done = run_cli("analyze", path, "--out", out, "--fuzzifier", "1.5", "--seed", "7",
                   "--n-groups", "3")
    assert done.returncode == 0, done.stderr
    groups = json.loads((out / "report.json").read_text())["groups"]
    assert groups["fuzzifier"] == 1.5 and groups["seed"] == 7 and groups["n_groups"] == 3


def test_a_reader_that_stops_reading_ends_the_command_quietly(tmp_path, csv_scores):
    """`blocks-rx methods | head`: the reader is gone, so the command stops as Unix tools do
    (status 128 + SIGPIPE), without an error; a folder written with a trailing slash is
    named once with it."""
    import signal

    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader has gone before the first line is written
    try:
        done = subprocess.run([str(BLOCKS_RX), "methods", "orderings"], stdout=write_end,
                              stderr=subprocess.PIPE, text=True, timeout=120)
    finally:
        os.close(write_end)
    assert done.returncode == 128 + signal.SIGPIPE and done.stderr == ""
    path = csv_scores[0]
    done = run_cli("analyze", path, "--out", f"{tmp_path / 'out'}/", "--no-groups")
    assert done.returncode == 0 and f"to {tmp_path / 'out'}/: " in done.stdout, done.stderr
