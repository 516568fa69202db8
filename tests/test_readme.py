"""Every documented step works as written: the README's code blocks, run one by one.

Each fenced block with a language (``sh``, ``python``, ``r``) runs in a fresh process, in
document order, in one temporary folder that holds the input files the README names
(``scores.npy``, ``classes.txt``, ``labels.txt``, ``scores.csv``, ``probs.parquet``,
``logits.npz``, ``predictions.parquet``: the scikit-learn digits classifier's real scores), so
a block may use what an earlier block wrote (``result/``) exactly as a reader would. The
Quick start block (``make demo``, ``make test``) is checked with ``make -n``: running
``make test`` from inside ``make test`` would recurse. Then the README's claims about the demo
are checked against the demo's own output.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
FENCE = re.compile(r"^```(\w+)\n(.*?)^```", re.M | re.S)
BIN = Path(sys.executable).parent


def code_blocks() -> list[tuple[str, str, int]]:
    """(language, code, first line number) of every fenced block that names a language."""
    return [(m.group(1).lower(), m.group(2), README.count("\n", 0, m.start()) + 1)
            for m in FENCE.finditer(README)]


BLOCKS = code_blocks()


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """A fresh folder with the input files the README's blocks name."""
    from blocks_rx.datasets import digits_classifier

    here = tmp_path_factory.mktemp("readme")
    digits = digits_classifier()
    scores = np.asarray(digits["scores"], dtype=np.float32)
    classes = list(digits["classes"])
    labels = [classes[j] for j in digits["labels"]]
    np.save(here / "scores.npy", scores)
    (here / "classes.txt").write_text("\n".join(classes) + "\n", encoding="utf-8")
    (here / "labels.txt").write_text("\n".join(labels) + "\n", encoding="utf-8")
    pd.DataFrame(scores, columns=classes).to_csv(here / "scores.csv", index=False)
    shifted = np.exp(scores - scores.max(axis=1, keepdims=True))
    probs = shifted / shifted.sum(axis=1, keepdims=True)
    pd.DataFrame(probs, columns=classes).to_parquet(here / "probs.parquet")
    np.savez(here / "logits.npz", scores=scores, classes=np.array(classes))
    pd.DataFrame({"id": np.arange(len(scores)), "logits": list(scores),
                  "label": digits["labels"]}).to_parquet(here / "predictions.parquet")
    return here


def _environment() -> dict:
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONIOENCODING="utf-8")
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"  # blocks-rx, as after make setup
    return env


def _run(command, cwd, what) -> None:
    done = subprocess.run(command, cwd=cwd, env=_environment(), capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, (f"{what} failed (exit {done.returncode})\n--- stdout\n"
                                  f"{done.stdout[-3000:]}\n--- stderr\n{done.stderr[-3000:]}")


def test_the_readme_has_blocks_of_each_kind():
    kinds = {language for language, _, _ in BLOCKS}
    assert {"sh", "python", "r"} <= kinds
    assert len(BLOCKS) >= 8


@pytest.mark.parametrize("language, code, line", BLOCKS,
                         ids=[f"line{line}-{language}" for language, _, line in BLOCKS])
def test_readme_block_runs_as_written(language, code, line, folder):
    what = f"README.md block at line {line} ({language})"
    if language == "sh" and re.search(r"^make (demo|test)", code, re.M):
        targets = re.findall(r"^make (\w+)", code, re.M)
        _run(["make", "-n", *targets], ROOT, what)
    elif language == "sh":
        _run(["bash", "-euo", "pipefail", "-c", code], folder, what)
    elif language == "python":
        script = folder / f"readme_line{line}.py"
        script.write_text(code, encoding="utf-8")
        _run([sys.executable, str(script)], folder, what)
    elif language == "r":
        if shutil.which("Rscript") is None:
            pytest.skip("Rscript is not installed (make setup installs R)")
        script = folder / f"readme_line{line}.R"
        script.write_text(code, encoding="utf-8")
        _run(["Rscript", str(script)], folder, what)
    else:
        pytest.fail(f"{what}: no rule to run a {language!r} block")


# --------------------------------------------------------------------------- the demo's claims


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "demo-output"
    _run([str(BIN / "blocks-rx"), "demo", "--out", str(out), "--quiet"], out.parent, "the demo")
    return out


def _bullets() -> list[str]:
    """The README's bullet items about the demo's cuts, each joined onto one line."""
    items, current = [], None
    for text in README.splitlines():
        if text.startswith("- `cluster_k"):
            current = [text[2:]]
            items.append(current)
        elif current is not None and text.startswith("  "):
            current.append(text.strip())
        else:
            current = None
    return [" ".join(parts) for parts in items]


def _groups_at(order: pd.DataFrame, k: int) -> list[set[str]]:
    """The cut's groups, as sets of language names without their codes."""
    names = order["class"].str.replace(r" \(\w+\)$", "", regex=True)
    return [set(names[order[f"cluster_k{k}"] == g]) for g in order[f"cluster_k{k}"].unique()]


def test_the_readme_names_the_demo_blocks_that_its_cuts_give(demo):
    order = pd.read_csv(demo / "order.csv")
    bullets = _bullets()
    assert len(bullets) >= 4
    for bullet in bullets:
        k = int(re.match(r"`cluster_k(\d+)`", bullet).group(1))
        groups = _groups_at(order, k)
        listed = re.fullmatch(r"`cluster_k\d+`: [^:]+: (.+)\.", bullet)
        if listed:  # "title: name, name, ... ." is exactly one group of that cut
            named = {name.strip() for name in listed.group(1).split(",")}
            assert named in groups, (bullet, groups)
            continue
        size = int(re.search(r"one group holds (\d+) languages", bullet).group(1))
        also = re.search(r"and also (.+)\.$", bullet).group(1).replace(" and ", ", ").split(", ")
        first = next(g for g in groups if "English" in g)
        assert len(first) == size, bullet
        other = next(g for g in groups if "Russian" in g)
        assert set(also) <= other and {"Hindi", "Arabic", "Chinese", "Greek"} <= other, bullet


def test_the_readme_reports_the_demo_groups_it_finds(demo):
    report = json.loads((demo / "report.json").read_text(encoding="utf-8"))["groups"]
    claim = re.search(r"On the langid demo, (\d+) fuzzy groups.*?the Cyrillic languages form one "
                      r"coherent group.*?(\d+) languages most.*?z = ([\d.]+)\).*?(\d+)\s+"
                      r"Latin-script languages.*?z = ([\d.]+)\)", README, re.S)
    assert claim, "the README's sentence about the demo's groups changed: update this test"
    n_groups, size_a, z_a, size_b, z_b = claim.groups()
    assert report["n_groups"] == int(n_groups)
    failed = [(len(f["classes"]), round(f["z"], 1)) for f in report["failed"]]
    assert failed == [(int(size_a), float(z_a)), (int(size_b), float(z_b))]
    cyrillic = {"Kyrgyz", "Macedonian", "Serbian", "Bulgarian", "Russian", "Ukrainian", "Kazakh",
                "Belarusian", "Mongolian"}
    coherent = [{re.sub(r" \(\w+\)$", "", c) for c in g["classes"]} for g in report["coherent"]]
    assert cyrillic in coherent
