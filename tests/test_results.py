"""The result folder, with real subprocesses: never mixed, replaced whole, cleaned after kills.

Each test runs ``blocks-rx`` (or a Python process calling its command line) as a separate
process, as a user would, and checks the folder byte for byte afterwards.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from blocks_rx import results
from blocks_rx._folders import StagedFolder, remove_leftovers

from conftest import planted_scores

BLOCKS_RX = Path(sys.executable).with_name("blocks-rx")


def run_cli(*args, timeout=300):
    return subprocess.run([str(BLOCKS_RX), *map(str, args)], capture_output=True, text=True,
                          timeout=timeout)


def snapshot(folder: Path) -> dict:
    """Every file under ``folder``, by relative path, with its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def siblings(folder: Path) -> list[str]:
    """Hidden staging folders blocks-rx made beside ``folder``."""
    return sorted(p.name for p in folder.parent.iterdir() if p.name.startswith(f".{folder.name}."))


@pytest.fixture
def csv_scores(tmp_path):
    S, groups = planted_scores(n_samples=600, groups=(4, 4, 4), seed=3)
    path = tmp_path / "scores.csv"
    pd.DataFrame(S, columns=[f"g{g}_c{j}" for j, g in enumerate(groups)]).to_csv(path, index=False)
    return path


@pytest.fixture
def other_scores(tmp_path):
    S, groups = planted_scores(n_samples=500, groups=(5, 5, 5, 5), seed=4)
    path = tmp_path / "other.csv"
    pd.DataFrame(S, columns=[f"h{g}_c{j}" for j, g in enumerate(groups)]).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def large_scores(tmp_path_factory):
    """Scores whose analysis (groups included) takes several seconds here."""
    path = tmp_path_factory.mktemp("large") / "large.npy"
    S, _ = planted_scores(n_samples=6000, groups=(450, 450, 450, 450), seed=5)
    np.save(path, S)
    return path


def test_stale_groups_never_survive_a_rerun(tmp_path, csv_scores):
    out = tmp_path / "out"
    assert run_cli("analyze", csv_scores, "--out", out).returncode == 0
    assert (out / "groups.csv").exists() and (out / "groups.png").exists()

    done = run_cli("analyze", csv_scores, "--out", out, "--no-groups")
    assert done.returncode == 0, done.stderr
    assert not (out / "groups.csv").exists() and not (out / "groups.png").exists()
    assert sorted(p.name for p in out.iterdir()) == sorted(
        results.DATA_FILES + results.FIGURE_FILES + results.VIEW_FILES + (results.REPORT,))

    # An ordering without a tree gives no groups either; export carries none.
    assert run_cli("analyze", csv_scores, "--out", out).returncode == 0
    done = run_cli("analyze", csv_scores, "--out", out, "--ordering", "identity")
    assert done.returncode == 0, done.stderr
    assert "no groups" in done.stderr and not (out / "groups.csv").exists()
    done = run_cli("export", out, "--format", "csv")
    assert done.returncode == 0, done.stderr
    meta = json.loads((out / "r-export" / "blocks.json").read_text())
    assert meta["groups"] is None and meta["provenance"]["ordering"]["method"] == "identity"
    assert meta["provenance"]["run_id"] == json.loads((out / "report.json").read_text())["run_id"]


def test_the_tables_are_written_as_pandas_writes_them():
    # pandas, the oracle: csv_text writes a DataFrame's to_csv, byte for byte, without it.
    columns = {
        "position": np.arange(1, 7), "index": np.array([5, 0, 2, 1, 4, 3]),
        "class": ["plain", "comma, inside", 'a "quote"', "line\nbreak", "ünï 名", "'=1+2"],
        "membership": np.array([0.5, 1e-06, -0.0, 0.333333, np.nan, 123456789.123]),
        "big": np.array([2**40, -3, 0, 7, 1, 2], dtype=np.int64),
        "flags": ["G1;G3", "", "S1", "", "G2", ""],
    }
    expected = pd.DataFrame(columns).to_csv(index=False, lineterminator="\n")
    assert results.csv_text(columns) == expected
    # And the result's own tables, against the DataFrames of the public to_frame.
    from blocks_rx import analyze
    from blocks_rx.names import protect_cell

    scores, _ = planted_scores(n_samples=400, groups=(5, 5, 5), seed=2)
    analysis = analyze(scores, hclust_backend="python")
    order = analysis.to_frame()
    order["class"] = [protect_cell(c) for c in order["class"]]
    assert results.order_table(analysis) == order.to_csv(index=False, lineterminator="\n")
    groups = analysis.findings.to_frame().reset_index()
    members = [c for c in groups.columns if c.startswith("membership_")]
    groups[members] = groups[members].round(6)
    assert results.groups_table(analysis) == groups.to_csv(index=False, lineterminator="\n")


def test_rerun_gives_byte_identical_data_and_the_same_run_id(tmp_path, csv_scores):
    first, second = tmp_path / "a", tmp_path / "b"
    for out in (first, second):
        assert run_cli("analyze", csv_scores, "--out", out).returncode == 0
    for name in results.DATA_FILES + results.GROUP_FILES + results.FIGURE_FILES:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    ids = [json.loads((f / "report.json").read_text())["run_id"] for f in (first, second)]
    assert ids[0] == ids[1]
    with np.load(first / "similarity.npz") as npz:
        assert str(npz["run_id"]) == ids[0]


def test_every_picture_names_its_run_in_its_metadata(tmp_path, csv_scores):
    """The pictures are drawn before the run id is known (some while the groups are found)
    and labelled with it afterwards: a tEXt chunk PIL reads without decoding the image."""
    from PIL import Image

    out = tmp_path / "out"
    assert run_cli("analyze", csv_scores, "--out", out).returncode == 0
    run_id = json.loads((out / "report.json").read_text())["run_id"]
    pictures = sorted(out.glob("*.png"))
    assert [p.name for p in pictures] == ["distributions.png", "groups.png", "heatmap.png"]
    for path in pictures:
        with Image.open(path) as image:
            assert image.info[results.RUN_ID_KEY] == run_id, path.name
            image.load()  # the whole file decodes: the chunk's CRC and the image are intact
            assert image.text[results.RUN_ID_KEY] == run_id


def test_png_with_text_adds_one_chunk_and_leaves_the_image_alone():
    import io
    import zlib

    from PIL import Image

    pixels = np.random.default_rng(0).integers(0, 255, size=(7, 5, 4), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="png")
    labelled = results.png_with_text(buffer.getvalue(), "blocks-rx run id", "0123abcd")
    assert len(labelled) == len(buffer.getvalue()) + 12 + len("blocks-rx run id") + 1 + 8
    with Image.open(io.BytesIO(labelled)) as image:
        assert image.info["blocks-rx run id"] == "0123abcd"
        assert np.array_equal(np.asarray(image), pixels)
    start = labelled.index(b"tEXt") - 4  # the chunk as the PNG specification lays it out
    length = int.from_bytes(labelled[start:start + 4], "big")
    data = labelled[start + 8:start + 8 + length]
    assert data == b"blocks-rx run id\0" + b"0123abcd"
    crc = int.from_bytes(labelled[start + 8 + length:start + 12 + length], "big")
    assert crc == zlib.crc32(b"tEXt" + data)
    with pytest.raises(ValueError, match="not a PNG"):
        results.png_with_text(b"GIF89a" + bytes(40), "k", "v")


INJECT = textwrap.dedent("""
    import json, sys
    from blocks_rx import _folders, cli, results

    step, scores, out = sys.argv[1:4]

    def fail(*args, **kwargs):
        raise RuntimeError(f"injected failure at {step}")

    if step == "swap":
        _folders._exchange = fail
        _folders.os.rename = fail
    else:  # the same step, wherever it runs: here, in a forked process, or made ahead
        results.WRITERS[step] = fail
    status = cli.main(["analyze", scores, "--out", out, "--seed", "1"])
    print(json.dumps({"status": status}))
""")


def test_a_failure_at_any_step_leaves_the_previous_result_byte_identical(tmp_path, csv_scores):
    out = tmp_path / "out"
    assert run_cli("analyze", csv_scores, "--out", out).returncode == 0
    before = snapshot(out)
    script = tmp_path / "inject.py"
    script.write_text(INJECT)
    steps = [name for name in results.WRITERS if (out / name).exists()]
    assert set(results.WRITERS) - set(steps) == {"confusion.png"}  # the scores have no labels
    for step in steps + ["swap"]:
        done = subprocess.run([sys.executable, str(script), step, str(csv_scores), str(out)],
                              capture_output=True, text=True, timeout=300)
        assert json.loads(done.stdout.splitlines()[-1]) == {"status": 1}, (step, done.stderr)
        assert f"injected failure at {step}" in done.stderr
        assert "Traceback" not in done.stderr
        assert snapshot(out) == before, step
        assert siblings(out) == [], step


def test_a_failed_first_run_leaves_no_folder(tmp_path, csv_scores):
    out = tmp_path / "deep" / "new" / "out"
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n3,x\n")
    done = run_cli("analyze", bad, "--out", out)
    assert done.returncode == 2 and "not numeric" in done.stderr
    assert not (tmp_path / "deep").exists()


@pytest.mark.parametrize("signum, status, name", [(signal.SIGTERM, 143, "SIGTERM"),
                                                  (signal.SIGINT, 130, "SIGINT")])
def test_a_signal_during_a_run_keeps_the_old_result(tmp_path, csv_scores, large_scores,
                                                    signum, status, name):
    out = tmp_path / "out"
    assert run_cli("analyze", csv_scores, "--out", out).returncode == 0
    before = snapshot(out)
    process = subprocess.Popen([str(BLOCKS_RX), "analyze", str(large_scores), "--out", str(out)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _wait_for_staging(out, process)
    time.sleep(0.5)
    process.send_signal(signum)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == status, stderr
    lines = [line for line in stderr.splitlines() if not line.startswith("warning:")]
    assert lines == [f"blocks-rx: interrupted by {name}; {out} was left as it was"]
    assert snapshot(out) == before
    assert siblings(out) == []


def test_a_killed_runs_leftovers_are_removed_by_the_next_run(tmp_path, csv_scores, large_scores):
    out = tmp_path / "out"
    assert run_cli("analyze", csv_scores, "--out", out).returncode == 0
    before = snapshot(out)
    process = subprocess.Popen([str(BLOCKS_RX), "analyze", str(large_scores), "--out", str(out)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _wait_for_staging(out, process)
    process.kill()
    process.wait(timeout=60)
    assert siblings(out), "SIGKILL leaves the staging folder behind"
    assert snapshot(out) == before  # the old result is whole

    done = run_cli("analyze", csv_scores, "--out", out, "--no-groups")
    assert done.returncode == 0, done.stderr
    assert siblings(out) == []
    results.validate(out)


def test_a_second_run_into_a_folder_being_written_is_refused(tmp_path, csv_scores, large_scores):
    out = tmp_path / "out"
    process = subprocess.Popen([str(BLOCKS_RX), "analyze", str(large_scores), "--out", str(out)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for_staging(out, process)
        done = run_cli("analyze", csv_scores, "--out", out)
        assert done.returncode == 1
        assert f"another blocks-rx run (pid {process.pid}) is writing" in done.stderr
    finally:
        process.terminate()
        process.wait(timeout=60)
    assert siblings(out) == []


def _wait_for_staging(out: Path, process, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not siblings(out):
        assert process.poll() is None, "the run ended before its staging folder was seen"
        assert time.monotonic() < deadline, "no staging folder appeared"
        time.sleep(0.02)


def test_export_refuses_a_mixed_folder_naming_the_files(tmp_path, csv_scores, other_scores):
    mixed, other = tmp_path / "mixed", tmp_path / "other"
    assert run_cli("analyze", csv_scores, "--out", mixed, "--no-groups").returncode == 0
    assert run_cli("analyze", other_scores, "--out", other).returncode == 0
    shutil.copy(other / "similarity.npz", mixed / "similarity.npz")
    shutil.copy(other / "groups.csv", mixed / "groups.csv")
    for fmt in ("csv", "rds"):
        done = run_cli("export", mixed, "--format", fmt)
        assert done.returncode == 2, done.stdout
        assert "similarity.npz does not match report.json" in done.stderr
        assert "groups.csv left over from another run" in done.stderr
    assert not (mixed / "r-export").exists() and not (mixed / "blocks.rds").exists()
    with pytest.raises(results.MixedResultError, match="similarity.npz"):
        results.read(mixed)


def test_a_changed_or_missing_file_is_named(tmp_path, csv_scores):
    out = tmp_path / "out"
    assert run_cli("analyze", csv_scores, "--out", out).returncode == 0
    (out / "order.csv").write_text("position,index,class\n")
    (out / "heatmap.png").unlink()
    with pytest.raises(results.MixedResultError) as caught:
        results.validate(out)
    assert "order.csv does not match" in str(caught.value)
    assert "heatmap.png is missing" in str(caught.value)


@pytest.mark.parametrize("make, message", [
    (lambda p: None, "must be a non-empty path"),
    (lambda p: p.write_text("precious"), "is an existing file"),
    (lambda p: (p.mkdir(), (p / "notes.txt").write_text("precious")),
     "holds files that are not part of a blocks-rx result (notes.txt)"),
])
def test_out_paths_that_must_not_be_replaced_are_refused(tmp_path, csv_scores, make, message):
    out = tmp_path / "target"
    make(out)
    before = snapshot(tmp_path)
    done = run_cli("analyze", csv_scores, "--out", "" if "non-empty" in message else out)
    assert done.returncode == 2 and message in done.stderr, done.stderr
    assert snapshot(tmp_path) == before


def test_the_current_folder_is_never_replaced(tmp_path, csv_scores):
    done = subprocess.run([str(BLOCKS_RX), "analyze", str(csv_scores), "--out", "."],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "refusing to replace the current folder" in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scores.csv"]


def test_a_result_folder_with_its_exports_is_replaced(tmp_path, csv_scores):
    out = tmp_path / "out"
    assert run_cli("analyze", csv_scores, "--out", out, "--export-r").returncode == 0
    exported = {p.name for p in out.iterdir()} & set(results.EXPORT_ENTRIES)
    assert exported, "--export-r wrote an export into the folder"
    assert run_cli("analyze", csv_scores, "--out", out, "--no-groups").returncode == 0
    assert not {p.name for p in out.iterdir()} & set(results.EXPORT_ENTRIES)


def test_an_old_format_folder_is_refused_with_a_hint(tmp_path, csv_scores):
    out = tmp_path / "out"
    assert run_cli("analyze", csv_scores, "--out", out).returncode == 0
    report = json.loads((out / "report.json").read_text())
    del report["format"]
    (out / "report.json").write_text(json.dumps(report))
    done = run_cli("export", out, "--format", "csv")
    assert done.returncode == 2 and "re-run `blocks-rx analyze`" in done.stderr


# --------------------------------------------------------------------------- the folder swap


def test_staged_folder_replaces_whole_and_cleans_up_on_error(tmp_path):
    target = tmp_path / "result"
    target.mkdir()
    (target / "old.txt").write_text("old")
    with pytest.raises(RuntimeError):
        with StagedFolder(target) as staged:
            (staged.path / "new.txt").write_text("new")
            raise RuntimeError("boom")
    assert sorted(os.listdir(target)) == ["old.txt"] and siblings(target) == []
    with StagedFolder(target) as staged:
        (staged.path / "new.txt").write_text("new")
        staged.commit()
    assert sorted(os.listdir(target)) == ["new.txt"] and siblings(target) == []


def test_an_old_folder_set_aside_by_a_killed_swap_is_put_back(tmp_path):
    target = tmp_path / "result"
    aside = tmp_path / ".result.blocks-rx-old-999999"
    aside.mkdir()
    (aside / "report.json").write_text("{}")
    remove_leftovers(target)
    assert (target / "report.json").exists() and not aside.exists()


def test_the_two_rename_swap_works_where_exchange_is_unsupported(tmp_path, monkeypatch):
    from blocks_rx import _folders

    monkeypatch.setattr(_folders, "_exchange", lambda a, b: False)
    target = tmp_path / "result"
    target.mkdir()
    (target / "old.txt").write_text("old")
    with StagedFolder(target) as staged:
        (staged.path / "new.txt").write_text("new")
        staged.commit()
    assert sorted(os.listdir(target)) == ["new.txt"] and siblings(target) == []
