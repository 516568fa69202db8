"""Every bad input gets a clear answer: the corpus in tests/bad_inputs/, case by case.

For each case the exact exception class is checked (all derive from
:class:`blocks_rx.errors.BlocksInputError`, exit status 2 on the command line), the message
must name the file and the row, column, class or option, and the output folder must still
hold the earlier result byte for byte; a valid input must give the correct result.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from blocks_rx import cli
from blocks_rx.errors import BlocksInputError

from bad_inputs.corpus import FILES, all_cases
from bad_inputs.make_corpus import good_scores, make

CASES = all_cases()
BLOCKS_RX = Path(sys.executable).with_name("blocks-rx")


@pytest.fixture(scope="session")
def made(tmp_path_factory) -> Path:
    return make(tmp_path_factory.mktemp("corpus"))


@pytest.fixture(scope="session")
def earlier_result(tmp_path_factory) -> Path:
    """A valid result folder, as a user's earlier run would have left it."""
    folder = tmp_path_factory.mktemp("earlier")
    scores = folder / "scores.npy"
    np.save(scores, good_scores(seed=11))
    assert cli.run(["analyze", str(scores), "--out", str(folder / "result")]) == 0
    return folder / "result"


def snapshot(folder: Path) -> dict:
    return {str(p.relative_to(folder)): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _format(text: str, **places) -> str:
    return text.format(**{k: str(v) for k, v in places.items()})


@pytest.mark.parametrize("case", [pytest.param(c, marks=c.marks, id=c.id) for c in CASES])
def test_each_input_gets_a_clear_answer(case, made, earlier_result, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(earlier_result, out)
    before = snapshot(out)
    places = dict(files=FILES, made=made, out=out)
    if case.call is not None:
        action = lambda: case.call(FILES, made)  # noqa: E731
    else:
        argv = [_format(a, **places) for a in case.argv]
        action = lambda: cli.run(argv)  # noqa: E731

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if case.error is not None:
            with pytest.raises(BlocksInputError) as info:
                action()
            value = None
        else:
            value = action()
    shown = [str(w.message) for w in caught]

    if case.error is not None:
        assert type(info.value) is case.error, f"{type(info.value).__name__}: {info.value}"
        message = str(info.value)
        for text in case.mentions:
            assert _format(text, **places) in message, message
        assert snapshot(out) == before, "a failed run changed the earlier result"
    else:
        if case.call is None:
            assert value == 0
            case.check and case.check(out)
        elif case.check:
            case.check(value)
    if case.warns is not None:
        assert any(case.warns in text for text in shown), shown
    leftovers = [p.name for p in out.parent.iterdir() if p.name.startswith(".out.")]
    assert leftovers == []


def test_the_corpus_covers_every_reader_and_side_file():
    ids = " ".join(c.id for c in CASES)
    argvs = " ".join(" ".join(c.argv) for c in CASES)
    assert len(CASES) >= 60
    for suffix in (".npy", ".npz", ".csv", ".tsv", ".parquet", ".pt"):
        assert suffix in argvs or suffix in ids, suffix
    for flag in ("--classes", "--labels", "--taxonomy"):
        assert flag in argvs, flag


@pytest.mark.parametrize("case", [c for c in CASES if c.error is not None and c.argv][:4],
                         ids=lambda c: c.id)
def test_the_command_line_prints_one_line_and_exits_2(case, made, tmp_path):
    argv = [_format(a, files=FILES, made=made, out=tmp_path / "out") for a in case.argv]
    done = subprocess.run([str(BLOCKS_RX), *argv], capture_output=True, text=True, timeout=300)
    assert done.returncode == 2, done.stderr
    errors = [line for line in done.stderr.splitlines() if not line.startswith("warning:")]
    assert len(errors) == 1 and errors[0].startswith("blocks-rx: error: "), done.stderr
    assert "Traceback" not in done.stderr


TORCH_CASES = [c for c in CASES if c.error is not None and c.call is None and c.argv
               and c.argv[0] == "analyze"]


@pytest.mark.parametrize("case", [pytest.param(c, marks=c.marks, id=c.id) for c in TORCH_CASES])
def test_the_torch_engine_answers_each_bad_input_alike(case, made, tmp_path):
    """The torch engine checks the values itself (on its device, not when they are loaded):
    every refusal must still be the same error, naming the same places."""
    pytest.importorskip("torch")
    places = dict(files=FILES, made=made, out=tmp_path / "out")
    argv = [_format(a, **places) for a in case.argv] + ["--engine", "torch", "--device", "cpu"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(BlocksInputError) as info:
            cli.run(argv)
    assert type(info.value) is case.error, f"{type(info.value).__name__}: {info.value}"
    for text in case.mentions:
        assert _format(text, **places) in str(info.value), str(info.value)
