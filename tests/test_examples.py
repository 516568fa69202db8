"""Every script in examples/ runs from a fresh process and writes what it promises."""

from __future__ import annotations

import ast
import os
import subprocess
import sys

import pytest
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


#: One script per paper figure (any examples/fig*.py), plus the notebook's two digits figures.
FIGURE_SCRIPTS = sorted(path.name for path in (ROOT / "examples").glob("fig*.py")) + [
    "confusion_comparison.py", "class_samples.py"]


@pytest.fixture(scope="module")
def langid_cache(tmp_path_factory):
    """One langid demo cache for all scripts, never the home folder's (built once, ~3 s)."""
    return tmp_path_factory.mktemp("langid-cache")


@pytest.mark.parametrize("script", FIGURE_SCRIPTS)
def test_figure_example_writes_its_png(script, tmp_path, langid_cache):
    env = {**os.environ, "BLOCKS_RX_CACHE": str(langid_cache)}
    done = subprocess.run([sys.executable, str(ROOT / "examples" / script), str(tmp_path)],
                          capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr
    png = tmp_path / script.replace(".py", ".png")
    assert sorted(tmp_path.iterdir()) == [png]             # exactly one file: its PNG
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert png.stat().st_size > 10_000
    # Something is drawn: a blank canvas with only a title inks well under 1% of its pixels.
    from matplotlib.image import imread

    ink = (imread(png)[..., :3].min(axis=2) < 0.9).mean()
    assert ink > 0.05, f"{png.name} is nearly blank ({ink:.1%} of pixels inked)"
    assert str(png) in done.stdout                        # the script says where it wrote


def test_compare_checkpoints_example_writes_the_comparison(tmp_path):
    """Two checkpoints of a real (small) digits network: the comparison's files and numbers."""
    done = subprocess.run([sys.executable, str(ROOT / "examples" / "compare_checkpoints.py"),
                           str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    for name in ("comparison.png", "moved.csv", "comparison.json", "explorer.html"):
        assert (tmp_path / "comparison" / name).stat().st_size > 1000, name
    accuracies = [float(line.split()[-1]) for line in done.stdout.splitlines()
                  if line.startswith("epoch ")]
    assert len(accuracies) == 2 and accuracies[0] < accuracies[1]
    cophenetic = float(done.stdout.split("cophenetic correlation:")[1].split()[0])
    assert -1 <= cophenetic < 0.99  # training moved the structure
