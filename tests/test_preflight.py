"""The preflight: jobs that cannot fit are refused before anything is allocated, with the
estimate in the message; slow methods are announced before they start."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import blocks_rx
from blocks_rx import r
from blocks_rx.preflight import PreflightError, format_bytes, parse_size, plan

BLOCKS_RX = Path(sys.executable).with_name("blocks-rx")


def run_cli(*args, timeout=300):
    return subprocess.run([str(BLOCKS_RX), *map(str, args)], capture_output=True, text=True,
                          timeout=timeout)


def sparse_npy(path: Path, n: int, m: int, dtype=np.float32) -> Path:
    """A valid .npy of n x m zeros that takes no disk space (the data region is a hole)."""
    array = np.lib.format.open_memmap(path, mode="w+", dtype=dtype, shape=(n, m))
    del array
    return path


def test_ten_samples_of_seventy_thousand_classes_are_refused_at_once(tmp_path):
    scores = tmp_path / "wide.npy"
    np.save(scores, np.random.default_rng(0).normal(size=(10, 70_000)))
    started = time.perf_counter()
    done = run_cli("analyze", scores, "--out", tmp_path / "out")
    seconds = time.perf_counter() - started
    assert done.returncode == 1, done.stderr
    needs = re.search(r"this job needs about ([0-9.]+) GB of memory at its peak \((\w+):",
                      done.stderr)
    # the float32 70,000^2 matrix (19.6 GB) and more: beyond what this machine has
    assert needs and float(needs.group(1)) > 40, done.stderr
    assert "fewer classes" in done.stderr and "--max-memory SIZE runs it anyway" in done.stderr
    assert "Traceback" not in done.stderr and "allocate" not in done.stderr
    # Nothing was computed: refused in seconds (it would allocate tens of GB otherwise).
    assert seconds < 30, seconds
    assert not (tmp_path / "out").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["wide.npy"]


def test_fifty_by_twenty_thousand_is_refused_where_it_cannot_fit(tmp_path):
    """50 x 20,000 once failed at 8 GB. Its peak is now the figures' (about 5.4 GB measured
    at 20,000 classes, benchmarks/analyze.py): refused at once at 4 GB, and the dry run
    says it fits at 8 GB."""
    scores = sparse_npy(tmp_path / "s.npy", 50, 20_000)
    started = time.perf_counter()
    done = run_cli("analyze", scores, "--out", tmp_path / "out", "--max-memory", "4G")
    assert time.perf_counter() - started < 5
    assert done.returncode == 1
    needs = re.search(r"this job needs about ([0-9.]+) GB of memory at its peak", done.stderr)
    assert needs and 4 < float(needs.group(1)) < 8, done.stderr
    assert "but 4.0 GB is allowed" in done.stderr and "raise --max-memory" in done.stderr
    assert not (tmp_path / "out").exists()
    done = run_cli("analyze", scores, "--out", tmp_path / "out", "--max-memory", "8G",
                   "--dry-run")
    assert done.returncode == 0 and "fits: the job would run" in done.stdout, done.stderr


def test_thirty_thousand_by_twenty_thousand_is_let_through(tmp_path):
    scores = sparse_npy(tmp_path / "big.npy", 30_000, 20_000)  # 2.4 GB apparent, no disk
    done = run_cli("analyze", scores, "--out", tmp_path / "out", "--no-groups", "--dry-run",
                   "--max-memory", "24G")
    assert done.returncode == 0, done.stderr
    assert "30,000 samples x 20,000 classes; peak memory about" in done.stdout
    assert "fits: the job would run" in done.stdout
    for step in ("similarity", "ordering", "summary", "writing"):
        assert f"  {step}" in done.stdout
    assert not (tmp_path / "out").exists()


def test_the_estimate_grows_with_the_square_of_the_classes_and_counts_groups():
    small, large = plan(1000, 5_000), plan(1000, 10_000)
    # (From 10,000 classes the co-moments keep the upper block triangle only: the
    # similarity step grows as m^2 on either side of that, here across it less.)
    for step in ("ordering",):
        grown = [next(s.bytes for s in p.steps if s.name == step) - 0.25e9 for p in (small, large)]
        assert 3.2 < grown[1] / grown[0] < 4.5, step  # m^2, plus the O(m) block buffers
    for sizes in ((2_000, 4_000), (10_000, 20_000)):
        similarity = [next(s.bytes for s in plan(1000, m).steps if s.name == "similarity")
                      - 0.25e9 for m in sizes]
        # m^2 (at 20,000 classes 4 column blocks to 10,000's 2: a smaller share of m^2)
        assert 3.0 < similarity[1] / similarity[0] < 4.5, sizes
    # The summary streams over stripes of M: the float32 matrix and a bounded working set,
    # no float64 copies of the m(m-1)/2 values.
    for p, m in ((small, 5_000), (large, 10_000)):
        summary = next(s.bytes for s in p.steps if s.name == "summary")
        assert 4 * m * m < summary - 0.25e9 < 4 * m * m + 0.3e9
    with_groups = plan(1000, 10_000, groups="fuzzy-cmeans")
    assert {s.name for s in with_groups.steps} == {s.name for s in large.steps} | {"groups"}
    spearman = plan(100_000, 2_622, measure="spearman")
    # spearman holds the n x m float32 ranks beside what pearson holds
    assert spearman.steps[0].bytes >= plan(100_000, 2_622).steps[0].bytes + 100_000 * 2_622 * 4
    in_r = plan(1000, 10_000, hclust_backend="r")
    assert in_r.steps[1].bytes > large.steps[1].bytes  # R copies the distances


def test_analyze_refuses_before_computing():
    S = np.random.default_rng(0).normal(size=(300, 50))
    with pytest.raises(PreflightError, match="but 1.0 MB is allowed"):
        blocks_rx.analyze(S, max_memory=1e6)


def test_sizes_read_and_print_in_decimal_units():
    assert parse_size("6G") == 6_000_000_000 and parse_size("1.5 GiB") == int(1.5 * 2**30)
    assert format_bytes(88.4e9) == "88.4 GB"
    with pytest.raises(ValueError, match="cannot read 'lots' as a memory size"):
        parse_size("lots")


@pytest.mark.skipif(not r.available(), reason="R with rpy2 is not available")
def test_a_possibly_endless_method_is_announced_before_it_starts(tmp_path):
    S = np.random.default_rng(0).normal(size=(200, 40)).astype(np.float32)
    np.save(tmp_path / "s.npy", S)
    process = subprocess.Popen([str(BLOCKS_RX), "analyze", str(tmp_path / "s.npy"), "--out",
                                str(tmp_path / "out"), "--ordering", "BBURCG"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stderr.readline()  # blocks until the first line is printed
        assert "ordering method BBURCG on 40 classes takes an exponential time" in line
        assert process.poll() is None, "the warning came only after the run ended"
    finally:
        process.terminate()
        process.communicate(timeout=60)
    assert not (tmp_path / "out").exists()
