"""Progress on stderr: shown on a terminal, silenced by ``--quiet``, absent in a pipe.

The command-line tests run ``blocks-rx`` in a subprocess whose stderr is the slave side of a
pseudo-terminal (``pty.openpty()``), with ``BLOCKS_RX_PROGRESS_MIN_SECONDS=0`` so that even
the short steps of a small input show their progress.
"""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
import time

import numpy as np
import pytest

import blocks_rx
from blocks_rx import cli
from blocks_rx import progress as progress_module
from blocks_rx.progress import enabled_as, is_enabled, progress, stage

#: Seconds one command may take before the test gives up on it.
TIMEOUT = 120
#: The text every progress line starts with.
PREFIX = "blocks-rx: "


@pytest.fixture(scope="module")
def small_input(tmp_path_factory):
    folder = tmp_path_factory.mktemp("progress")
    rng = np.random.default_rng(0)
    latent = rng.normal(size=(200, 2))
    scores = latent[:, np.arange(8) % 2] + 0.5 * rng.normal(size=(200, 8))
    np.save(folder / "scores.npy", scores.astype(np.float32))
    return folder / "scores.npy"


def _environment() -> dict:
    return {**os.environ, progress_module.MIN_SECONDS_ENV: "0"}


def _command(scores, out, *extra) -> list[str]:
    return [sys.executable, "-m", "blocks_rx.cli", "analyze", str(scores), "--out", str(out),
            "--hclust-backend", "python", *extra]


def _run_with_terminal_stderr(argv) -> tuple[int, str, str]:
    """Run ``argv`` with stderr on a pseudo-terminal; (exit status, stdout, stderr)."""
    master, slave = pty.openpty()
    try:
        child = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                 stderr=slave, env=_environment())
    finally:
        os.close(slave)
    received = bytearray()
    deadline = time.monotonic() + TIMEOUT
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if not ready:
                if child.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            received += chunk
        stdout, _ = child.communicate(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        os.close(master)
        if child.poll() is None:
            child.kill()
    return child.returncode, stdout.decode(), received.decode(errors="replace")


def test_the_command_line_shows_progress_on_a_terminal(small_input, tmp_path):
    status, stdout, stderr = _run_with_terminal_stderr(_command(small_input, tmp_path / "out"))
    assert status == 0, stderr
    assert f"{PREFIX}pearson similarity" in stderr and "200/200" in stderr
    assert f"{PREFIX}ordering (hclust, Python twin, complete linkage) ... done in" in stderr
    assert f"{PREFIX}groups (fuzzy-cmeans) ... done in" in stderr
    assert re.search(rf"{PREFIX}writing results: 100%.* (\d+)/\1 ", stderr), stderr
    assert "wrote " in stdout and PREFIX not in stdout


def test_quiet_silences_progress_and_the_summary(small_input, tmp_path):
    status, stdout, stderr = _run_with_terminal_stderr(
        _command(small_input, tmp_path / "out", "--quiet"))
    assert status == 0, stderr
    assert stdout == ""
    assert PREFIX not in stderr
    assert (tmp_path / "out" / "report.json").is_file()


def test_no_progress_when_stderr_is_a_pipe(small_input, tmp_path):
    done = subprocess.run(_command(small_input, tmp_path / "out"), capture_output=True,
                          text=True, env=_environment(), timeout=TIMEOUT)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert "wrote " in done.stdout


def test_quiet_still_reports_errors(tmp_path):
    status, stdout, stderr = _run_with_terminal_stderr(
        _command(tmp_path / "missing.npy", tmp_path / "out", "-q"))
    assert status == 2 and stdout == ""
    assert "blocks-rx: error:" in stderr and "missing.npy" in stderr


@pytest.mark.parametrize("argv", [["analyze", "s.npy", "--out", "o"], ["demo"], ["doctor"],
                                  ["methods"], ["figures"], ["export", "result"]])
def test_every_subcommand_takes_quiet(argv):
    for flag in ("--quiet", "-q"):
        assert cli.build_parser(raise_errors=True).parse_args([*argv, flag]).quiet is True
    assert cli.build_parser(raise_errors=True).parse_args(argv).quiet is False


def test_quiet_in_process_leaves_the_process_setting_alone(small_input, tmp_path, capsys):
    assert cli.main(["analyze", str(small_input), "--out", str(tmp_path / "out"), "-q",
                     "--hclust-backend", "python", "--no-groups"]) == 0
    assert capsys.readouterr().out == ""
    assert progress_module._switch is None


def test_analyze_progress_keyword(monkeypatch, capsys):
    monkeypatch.setenv(progress_module.MIN_SECONDS_ENV, "0")
    scores = np.random.default_rng(1).normal(size=(120, 6))
    blocks_rx.analyze(scores, hclust_backend="python", progress=True)
    err = capsys.readouterr().err
    assert f"{PREFIX}pearson similarity" in err and f"{PREFIX}groups (fuzzy-cmeans)" in err
    blocks_rx.analyze(scores, hclust_backend="python", progress=False)
    blocks_rx.analyze(scores, hclust_backend="python")  # automatic: stderr is no terminal
    assert capsys.readouterr().err == ""
    assert progress_module._switch is None


def test_a_disabled_bar_is_the_iterable_itself():
    items = [np.zeros((3, 2)), np.zeros((4, 2))]
    assert progress(items, desc="x", size=len, enabled=False) is items
    with enabled_as(False):
        assert progress(items, desc="x") is items
        assert not is_enabled()
    with enabled_as(None):
        assert is_enabled() is False  # pytest captures stderr: no terminal


def test_a_bar_counts_units_per_item(monkeypatch, capsys):
    monkeypatch.setenv(progress_module.MIN_SECONDS_ENV, "0")
    blocks = [np.zeros((300, 2)), np.zeros((200, 2))]
    assert [b.shape for b in progress(blocks, total=500, desc="rows", unit="row", size=len,
                                      enabled=True)] == [(300, 2), (200, 2)]
    err = capsys.readouterr().err
    assert f"{PREFIX}rows" in err and "500/500" in err


def test_stages_show_only_when_they_run_long(monkeypatch, capsys):
    with stage("quick", enabled=True):  # under the default 2 s: nothing
        pass
    assert capsys.readouterr().err == ""
    monkeypatch.setenv(progress_module.MIN_SECONDS_ENV, "0.05")
    with stage("slow step", enabled=True):
        time.sleep(0.3)
    err = capsys.readouterr().err
    assert err.startswith(f"{PREFIX}slow step ... done in 0.") and err.endswith(" s\n")
    with pytest.raises(KeyError), stage("failing step", enabled=True):
        time.sleep(0.3)
        raise KeyError("x")
    assert "failing step ... failed after" in capsys.readouterr().err


def test_langid_scoring_shows_a_count(monkeypatch, capsys):
    pytest.importorskip("langid")
    from blocks_rx.datasets.langid import _score_texts

    monkeypatch.setenv(progress_module.MIN_SECONDS_ENV, "0")
    with enabled_as(True):
        scores = _score_texts(["bonjour le monde", "hello world", "hallo Welt"])
    assert scores.shape == (3, 97)
    err = capsys.readouterr().err
    assert f"{PREFIX}demo: langid scoring" in err and "3/3" in err
