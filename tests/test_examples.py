"""Every script in examples/ runs from a fresh process and writes what it promises."""

from __future__ import annotations

import ast
import subprocess
import sys

from conftest import ROOT


def test_analyze_scores_example_recovers_the_planted_groups(tmp_path):
    done = subprocess.run([sys.executable, str(ROOT / "examples" / "analyze_scores.py"),
                           str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "example_heatmap.png").stat().st_size > 10_000
    # The first five classes in the order are one planted fine group.
    first = done.stdout.split("order:")[1].splitlines()[0]
    subgroups = {name.split("/")[1] for name in ast.literal_eval(first)[:5]}
    assert len(subgroups) == 1
