"""When R fails: R missing, seriation missing, rpy2 built for another R, R erroring in a call.

Each case runs ``blocks-rx`` as a separate process with an environment that breaks R the way
a user's machine might, and checks for a clear message, an untouched output folder where the
run cannot go on, and the Python twin going on where it can (hclust gives R's result without
R).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from blocks_rx.r.session import INSTALL_HINT

from conftest import planted_scores, requires_r

BLOCKS_RX = Path(sys.executable).with_name("blocks-rx")
NO_R = {"R_HOME": "/nonexistent-r-home"}


def run(*args, env: dict | None = None):
    return subprocess.run([str(BLOCKS_RX), *map(str, args)], capture_output=True, text=True,
                          timeout=300, env={**os.environ, **(env or {})})


def errors(done) -> list[str]:
    return [line for line in done.stderr.splitlines() if line.startswith("blocks-rx: error:")]


@pytest.fixture(scope="module")
def scores(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("r-failures") / "scores.npy"
    S, _ = planted_scores(n_samples=300, groups=(4, 3, 5), seed=8)
    np.save(path, S)
    return path


@requires_r
def test_without_r_hclust_runs_in_the_twin_and_gives_rs_order(scores, tmp_path):
    with_r = run("analyze", scores, "--out", tmp_path / "with-r", "--hclust-backend", "r")
    without = run("analyze", scores, "--out", tmp_path / "without-r", env=NO_R)
    assert with_r.returncode == 0 and without.returncode == 0, without.stderr
    assert "R is not available (R_HOME=/nonexistent-r-home holds no R installation" in \
        without.stderr
    assert "hclust runs in its Python twin" in without.stderr
    assert (tmp_path / "with-r" / "order.csv").read_bytes() == \
        (tmp_path / "without-r" / "order.csv").read_bytes()


def test_without_r_a_seriation_method_is_refused_naming_what_to_install(scores, tmp_path):
    done = run("analyze", scores, "--out", tmp_path / "out", "--ordering", "TSP", env=NO_R)
    assert done.returncode == 1
    assert errors(done) == [
        "blocks-rx: error: ordering method 'TSP' runs in R's seriation package: "
        "R_HOME=/nonexistent-r-home holds no R installation (no library/base there). "
        + INSTALL_HINT]
    assert "Traceback" not in done.stderr and "Fatal error" not in done.stderr
    assert not (tmp_path / "out").exists()


def test_without_r_criteria_are_skipped_with_a_warning(scores, tmp_path):
    done = run("analyze", scores, "--out", tmp_path / "out", "--criteria", env=NO_R)
    assert done.returncode == 0, done.stderr
    assert "warning: no criteria: they are computed by R's seriation package" in done.stderr
    report = (tmp_path / "out" / "report.json").read_text(encoding="utf-8")
    assert '"criteria": {' not in report and "no criteria" in report


def test_without_r_export_says_csv_needs_no_r(scores, tmp_path):
    assert run("analyze", scores, "--out", tmp_path / "out", env=NO_R).returncode == 0
    done = run("export", tmp_path / "out", env=NO_R)
    assert done.returncode == 1
    assert errors(done)[0].endswith("`--format csv` exports without R")
    assert run("export", tmp_path / "out", "--format", "csv", env=NO_R).returncode == 0
    assert (tmp_path / "out" / "r-export" / "similarity.csv").is_file()


@requires_r
def test_without_seriation_the_message_says_install_it(scores, tmp_path):
    empty = tmp_path / "empty-library"
    empty.mkdir()
    done = run("analyze", scores, "--out", tmp_path / "out", "--ordering", "OLO",
               env={"R_LIBS_SITE": str(empty), "R_LIBS_USER": str(empty)})
    assert done.returncode == 1
    assert errors(done)[0].startswith(
        "blocks-rx: error: ordering method 'OLO' runs in R's seriation package: the R "
        "package seriation is not installed.")
    assert "apt-get install" in errors(done)[0]


@requires_r
def test_an_r_error_inside_a_call_is_reported_with_rs_message(scores, tmp_path):
    done = run("analyze", scores, "--out", tmp_path / "out", "--ordering", "TSP",
               "--control", "method=no-such-method")
    assert done.returncode == 1
    assert "blocks-rx: error: R error in blocks_seriate(): " in done.stderr
    assert "'arg' should be one of" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()


def test_rpy2_built_for_another_r_says_which_rpy2_to_install(tmp_path):
    """rpy2 3.6 on R 4.2 fails to load with an undefined R symbol; the message says so."""
    script = textwrap.dedent("""
        import importlib.abc, sys
        class Broken(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path, target=None):
                if name.startswith("rpy2.r"):
                    raise ImportError("_rinterface_cffi_abi.so: undefined symbol: R_getVar")
        sys.meta_path.insert(0, Broken())
        from blocks_rx.r.session import RUnavailable, session
        try:
            session()
        except RUnavailable as exc:
            print(exc)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120)
    assert "undefined symbol: R_getVar" in done.stdout, done.stderr
    assert "needs a newer R; with Debian's R 4.2 use pip install 'rpy2>=3.5.17,<3.6'" in \
        done.stdout


@requires_r
def test_programs_started_after_r_inherit_the_environment_they_had_before(tmp_path):
    """rpy2 puts R's library folders first on LD_LIBRARY_PATH while R starts; a Python
    started afterwards with that path cannot import ssl. blocks-rx restores the path."""
    script = textwrap.dedent("""
        import os, subprocess, sys
        before = os.environ.get("LD_LIBRARY_PATH")
        from blocks_rx.r.session import session
        session()
        assert os.environ.get("LD_LIBRARY_PATH") == before, os.environ.get("LD_LIBRARY_PATH")
        child = subprocess.run([sys.executable, "-c", "import ssl"], capture_output=True,
                               text=True)
        print("child", child.returncode, child.stderr[-200:])
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120)
    assert "child 0" in done.stdout, done.stdout + done.stderr


@requires_r
@pytest.mark.parametrize("outside", [None, "/opt/elsewhere/lib"])
def test_rs_library_path_read_from_ldpaths_is_what_rscript_reports(outside):
    """rpy2 asks an Rscript process for R's LD_LIBRARY_PATH; blocks-rx reads it from
    R_HOME/etc/ldpaths instead. Both see the same environment and must agree."""
    from blocks_rx.r.session import library_path_from_ldpaths

    environment = {k: v for k, v in os.environ.items() if k != "LD_LIBRARY_PATH"}
    if outside is not None:
        environment["LD_LIBRARY_PATH"] = outside
    home = subprocess.run(["R", "RHOME"], capture_output=True, text=True).stdout.strip()
    rscript = subprocess.run([str(Path(home) / "bin" / "Rscript"), "-e",
                              'cat(Sys.getenv("LD_LIBRARY_PATH"))'], capture_output=True,
                             text=True, env=environment, timeout=60)
    saved = os.environ.get("LD_LIBRARY_PATH")
    try:
        os.environ.pop("LD_LIBRARY_PATH", None)
        os.environ.update({} if outside is None else {"LD_LIBRARY_PATH": outside})
        found = library_path_from_ldpaths(home)
    finally:
        os.environ.pop("LD_LIBRARY_PATH", None)
        os.environ.update({} if saved is None else {"LD_LIBRARY_PATH": saved})
    assert rscript.returncode == 0 and rscript.stdout
    assert found == rscript.stdout
    if outside is not None:
        assert found.endswith(":" + outside)


def test_without_ldpaths_rpy2s_own_way_answers(tmp_path):
    from blocks_rx.r.session import library_path_from_ldpaths

    asked = []
    assert library_path_from_ldpaths(str(tmp_path), lambda home: asked.append(home) or "x") \
        == "x"
    assert asked == [str(tmp_path)]
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "ldpaths").write_text("exit 3\n")  # sh fails: rpy2's way again
    assert library_path_from_ldpaths(str(tmp_path), lambda home: "y") == "y"
    assert library_path_from_ldpaths(str(tmp_path)) == ""


@requires_r
def test_r_starts_without_an_rscript_process_and_rpy2_is_left_as_it_was(tmp_path):
    script = textwrap.dedent("""
        import subprocess
        started = []
        real = subprocess.Popen.__init__
        def watched(self, args, *rest, **options):
            started.append(" ".join(map(str, args)) if not isinstance(args, str) else args)
            real(self, args, *rest, **options)
        subprocess.Popen.__init__ = watched
        import rpy2.situation as situation
        own = situation.r_ld_library_path_from_subprocess
        from blocks_rx.r.session import session
        session()
        assert situation.r_ld_library_path_from_subprocess is own
        print("started", [a for a in started if "Rscript" in a or "ldpaths" in a])
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    line = done.stdout.splitlines()[-1]
    assert "Rscript" not in line and "ldpaths" in line, line


SIGNAL_DURING_R = textwrap.dedent("""
    import contextlib, importlib, signal, sys, time
    module = importlib.import_module("blocks_rx.r.session")
    if sys.argv[1:] == ["unheld"]:
        module.signals_held = contextlib.nullcontext
    r = module.session()
    r.robjects.r("busy <- function(n) { s <- 0; for (i in seq_len(n)) s <- s + sqrt(i); s }")
    def sigterm(signum, frame):
        raise SystemExit(143)
    signal.signal(signal.SIGTERM, sigterm)
    print("ready", flush=True)
    started = time.perf_counter()
    try:
        r.call("busy", 6e7)  # about 2 s of R computing, no Python in between
    except KeyboardInterrupt:
        print(f"KeyboardInterrupt after {time.perf_counter() - started:.1f} s", flush=True)
        sys.exit(130)
    print("R call returned and the run went on", flush=True)
""")


def _signal_during_r(signum, *args):
    process = subprocess.Popen([sys.executable, "-c", SIGNAL_DURING_R, *args],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "ready"
    time.sleep(0.5)
    process.send_signal(signum)
    stdout, stderr = process.communicate(timeout=120)
    return process.returncode, stdout, stderr


@requires_r
@pytest.mark.parametrize("signum, status", [(2, 130), (15, 143)])
def test_a_signal_while_r_runs_takes_effect_when_r_returns(signum, status):
    """rpy2 runs Python's handlers inside R's event callback and drops their exception: a
    Ctrl-C or SIGTERM there was lost and the run went on. Held, it acts once R returns."""
    code, stdout, stderr = _signal_during_r(signum)
    assert code == status, (stdout, stderr)
    assert "went on" not in stdout and "Exception ignored" not in stderr
    if signum == 2:
        assert float(stdout.split("after ")[1].split()[0]) >= 1.0  # R's loop ran to its end
    unheld = _signal_during_r(signum, "unheld")  # the failure this guards against
    assert unheld[0] == 0 and "went on" in unheld[1] and "Exception ignored" in unheld[2]
