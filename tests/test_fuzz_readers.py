"""Bounded fuzzing of every score reader and of ``blocks_rx.results.read``.

The property, for any file: ``blocks_rx.load_scores(path)`` either returns Scores whose
values are finite floats of shape (n >= 2, m >= 2) with unique string class names, or raises
:class:`blocks_rx.errors.BlocksInputError` (or ImportError for a missing optional dependency).
Any other exception, a hang (over ``HANG_SECONDS`` for a file under 100 KB) or a crash of the
interpreter is a finding. ``blocks_rx.results.read`` on a result folder with one file mutated
must return or raise BlocksInputError.

Inputs are valid files of each format (``.npy .npz .csv .tsv .parquet .pt``) with bytes
flipped, set, inserted, deleted, duplicated or cut off, plus structured hostile inputs: CSV
and TSV text built from quotes, separators, newlines, BOMs, NULs and odd encodings (up to
~90 KB), ``.npy`` headers with arbitrary dtypes and shapes, ``.npz``/``.pt`` archives with
arbitrary keys and arrays, parquet tables with columns of any Arrow type under any names, and
result folders with a file changed (with and without its checksum in ``report.json``
updated) or with a field of ``report.json`` replaced.

Every input is read in a separate worker process, so a hang is cut off after
``HANG_SECONDS`` and a crash (a segfault in a C reader) is reported instead of ending the
test session; the worker is restarted after either.

In the suite the runs are small and derandomized, so CI is reproducible. A longer randomized
run, outside the suite::

    BLOCKS_RX_FUZZ_EXAMPLES=2000 .venv/bin/python -m pytest tests/test_fuzz_readers.py

(each test then runs 2000 random examples; Hypothesis reports every distinct finding, one per
exception type and blocks_rx function, each shrunk to a small input).

Minimal reproducers of what was found are kept as corpus cases in
``tests/bad_inputs/cases_fuzz.py``.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from bad_inputs.make_corpus import good_scores

#: Examples per test: small and derandomized in the suite, raised (and random) by the env var.
FUZZ_EXAMPLES = int(os.environ.get("BLOCKS_RX_FUZZ_EXAMPLES", "0") or 0)
#: Seconds one small input may take before it counts as a hang.
HANG_SECONDS = 10.0
#: Seconds the worker may take to start (it imports pandas, pyarrow and torch).
START_SECONDS = 120.0
#: The environment the worker starts with, taken before any test runs: starting R through
#: rpy2 adds R's libraries to LD_LIBRARY_PATH, and a Python started with that fails to import
#: ssl (hence pyarrow) on some systems.
WORKER_ENV = dict(os.environ)


def fuzz_settings(examples: int):
    """Settings of one fuzz test: ``examples`` derandomized ones, or the env var's random ones."""
    common = dict(deadline=None, database=None, print_blob=True,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                         HealthCheck.filter_too_much])
    if FUZZ_EXAMPLES:
        return settings(max_examples=FUZZ_EXAMPLES, derandomize=False, **common)
    return settings(max_examples=examples, derandomize=True, **common)


# --------------------------------------------------------------------------- the worker

WORKER_SOURCE = r'''
import json, os, sys, traceback, warnings

protocol = os.fdopen(os.dup(1), "w", encoding="utf-8")
os.dup2(2, 1)  # anything the libraries print goes to stderr, not into the protocol
sys.stdout = sys.stderr
warnings.simplefilter("ignore")

import numpy as np
import pandas  # noqa: F401  (imported now, not timed per input)
for optional in ("pyarrow.parquet", "torch"):
    try:
        __import__(optional)
    except ImportError:
        pass
import blocks_rx
import blocks_rx.results
from blocks_rx.errors import BlocksInputError


def failure(exc):
    kind = f"{type(exc).__module__}.{type(exc).__qualname__}"
    where = "?"
    for frame in traceback.extract_tb(exc.__traceback__):
        if "/blocks_rx/" in frame.filename.replace(os.sep, "/"):
            where = f"{os.path.basename(frame.filename)}:{frame.name}"
    return {"outcome": "error", "type": kind, "where": where, "message": str(exc)[:400],
            "traceback": traceback.format_exc()[-4000:]}


def refusal(exc, outcome):
    return {"outcome": outcome, "type": type(exc).__qualname__, "message": str(exc)[:400]}


def check_scores(path):
    try:
        scores = blocks_rx.load_scores(path)
        # Memory-mapped values are checked block by block as they are read: read them all.
        blocks = [block for _, block in scores.iter_chunks(4096)]
    except BlocksInputError as exc:
        return refusal(exc, "refused")
    except ImportError as exc:
        return refusal(exc, "missing-dependency")
    except Exception as exc:
        return failure(exc)
    problems = []
    values = scores.values
    if not isinstance(values, np.ndarray):
        problems.append(f"values are a {type(values).__name__}")
    elif values.ndim != 2 or values.shape[0] < 2 or values.shape[1] < 2:
        problems.append(f"values have shape {values.shape}")
    elif values.dtype.kind != "f":
        problems.append(f"values have dtype {values.dtype}")
    else:
        for block in blocks:
            if block.dtype not in (np.float32, np.float64) or not np.isfinite(block).all():
                problems.append("values are not all finite floats")
                break
    classes = scores.classes
    if not isinstance(classes, tuple) or not all(isinstance(c, str) for c in classes):
        problems.append(f"classes are not a tuple of str: {classes!r}"[:300])
    elif isinstance(values, np.ndarray) and values.ndim == 2 and len(classes) != values.shape[1]:
        problems.append(f"{len(classes)} classes for {values.shape[1]} columns")
    elif len(set(classes)) != len(classes):
        problems.append(f"duplicate class names: {classes!r}"[:300])
    if problems:
        return {"outcome": "invalid", "problems": problems}
    return {"outcome": "ok", "shape": list(values.shape), "classes": list(classes)[:20]}


def check_result(folder, verify):
    try:
        stored = blocks_rx.results.read(folder, verify=verify)
        classes = stored.similarity.classes
    except BlocksInputError as exc:
        return refusal(exc, "refused")
    except Exception as exc:
        return failure(exc)
    if not all(isinstance(c, str) for c in classes):
        return {"outcome": "invalid", "problems": [f"classes {classes!r}"[:300]]}
    return {"outcome": "ok", "classes": list(classes)[:20]}


protocol.write(json.dumps({"outcome": "ready"}) + "\n")
protocol.flush()
for line in sys.stdin:
    request = json.loads(line)
    if request["op"] == "scores":
        answer = check_scores(request["path"])
    elif request["op"] == "sleep":  # for the harness's own test
        import time
        time.sleep(request["seconds"])
        answer = {"outcome": "ok"}
    elif request["op"] == "abort":  # for the harness's own test
        os.abort()
    else:
        answer = check_result(request["path"], request["verify"])
    protocol.write(json.dumps(answer) + "\n")
    protocol.flush()
'''


class Worker:
    """A process that reads one input per request; restarted after a hang or a crash."""

    def __init__(self, log: Path):
        self.log = log
        self.proc: subprocess.Popen | None = None

    def _start(self) -> None:
        env = dict(WORKER_ENV, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1",
                   OPENBLAS_NUM_THREADS="1", PYTHONFAULTHANDLER="1")
        self._stderr = open(self.log, "wb")
        self.proc = subprocess.Popen([sys.executable, "-c", WORKER_SOURCE], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self._stderr, env=env)
        answer = self._answer(START_SECONDS)
        if answer.get("outcome") != "ready":
            raise RuntimeError(f"the fuzz worker did not start: {answer}")

    def _answer(self, timeout: float) -> dict:
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not ready:
            self._stop()
            return {"outcome": "hang", "seconds": timeout}
        line = self.proc.stdout.readline()
        if not line:
            code = self.proc.wait()
            self._stop()
            tail = self.log.read_bytes()[-3000:].decode("utf-8", "replace")
            return {"outcome": "crash", "returncode": code, "stderr": tail}
        return json.loads(line)

    def _stop(self) -> None:
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.kill()
            self.proc.wait()
            self.proc = None
            self._stderr.close()

    def ask(self, request: dict, timeout: float = HANG_SECONDS) -> dict:
        if self.proc is None:
            self._start()
        try:
            self.proc.stdin.write((json.dumps(request) + "\n").encode())
            self.proc.stdin.flush()
        except BrokenPipeError:
            self._stop()
            return {"outcome": "crash", "returncode": None, "stderr": "broken pipe"}
        return self._answer(timeout)

    def close(self) -> None:
        if self.proc is not None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
            self._stop()


@pytest.fixture(scope="module")
def worker(tmp_path_factory):
    running = Worker(tmp_path_factory.mktemp("fuzz-worker") / "stderr.log")
    yield running
    running.close()


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz-inputs")


def read_scores(worker: Worker, path: Path, data: bytes) -> dict:
    """Write ``data`` to ``path``, read it in the worker, and check the property."""
    path.write_bytes(data)
    assert len(data) < 100_000
    answer = worker.ask({"op": "scores", "path": str(path)})
    assert_acceptable(answer, data)
    if answer["outcome"] == "refused" and str(path) not in answer["message"]:
        raise finding("a refusal that does not name the file")(
            f"{answer['type']}: {answer['message']}\ninput ({len(data)} bytes): {data[:600]!r}")
    return answer


class Finding(AssertionError):
    """An input that breaks the property; one subclass per kind of failure (see ``finding``)."""


_FINDINGS: dict = {}


def finding(signature: str) -> type:
    """The Finding subclass of one signature, so Hypothesis shrinks and reports each distinct
    failure (exception type and the blocks_rx function it escaped from) on its own."""
    if signature not in _FINDINGS:
        _FINDINGS[signature] = type(f"Finding[{signature}]", (Finding,), {})
    return _FINDINGS[signature]


def assert_acceptable(answer: dict, data=None) -> None:
    outcome = answer["outcome"]
    if outcome in ("ok", "refused", "missing-dependency"):
        return
    shown = "" if data is None else f"\ninput ({len(data)} bytes): {bytes(data[:600])!r}"
    if outcome == "error":
        signature = f"{answer['type']} from {answer['where']}"
        raise finding(signature)(f"{signature}: {answer['message']}{shown}\n"
                                 f"{answer['traceback']}")
    raise finding(outcome)(f"{answer}{shown}")


# --------------------------------------------------------------------------- valid seeds

CLASSES = ["cat", "dog", "owl", "eel"]


def seed_scores() -> np.ndarray:
    return good_scores(n=12, m=len(CLASSES), seed=3)


def seed_frame() -> pd.DataFrame:
    frame = pd.DataFrame(seed_scores().astype(np.float64), columns=CLASSES)
    frame.insert(0, "sample", [f"s{i}" for i in range(len(frame))])
    return frame


def seed_bytes(suffix: str, variant: str = "") -> bytes:
    """A small valid score file of the format ``suffix``, as bytes."""
    scores = seed_scores()
    buffer = io.BytesIO()
    if suffix == ".npy":
        np.save(buffer, scores)
    elif suffix == ".npz":
        save = np.savez_compressed if variant == "compressed" else np.savez
        save(buffer, scores=scores, classes=np.array(CLASSES),
             labels=np.arange(len(scores)) % len(CLASSES))
    elif suffix == ".csv":
        return seed_frame().to_csv(index=False).encode()
    elif suffix == ".tsv":
        return seed_frame().to_csv(index=False, sep="\t").encode()
    elif suffix == ".parquet":
        pytest.importorskip("pyarrow")
        seed_frame().to_parquet(buffer, index=False)
    elif suffix == ".pt":
        torch = pytest.importorskip("torch")
        torch.save({"scores": torch.from_numpy(scores), "classes": list(CLASSES),
                    "labels": torch.arange(len(scores)) % len(CLASSES)}, buffer)
    return buffer.getvalue()


# --------------------------------------------------------------------------- byte mutations

#: Bytes that mean something to one format or another.
INTERESTING_BYTES = [0x00, 0xFF, 0x7F, 0x80, 0x01, ord('"'), ord("'"), ord(","), ord("\t"),
                     ord("\n"), ord("\r"), ord("9"), ord("-"), ord("."), ord("e"), ord("{"),
                     ord("("), ord(")"), ord("<"), ord(">"), ord(" ")]
#: Little-endian integers that break sizes, counts and offsets.
INTERESTING_INTS = [0, 1, 2, 0x7F, 0xFF, 0x7FFF, 0xFFFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF,
                    2**40, 2**62, 2**64 - 1]

# A position: near the start (headers), near the end (zip directories, parquet footers), or
# anywhere; resolved against the current length when the mutation is applied.
positions = st.one_of(st.integers(0, 127), st.integers(-128, -1), st.integers(0, 1 << 20))

mutation = st.one_of(
    st.tuples(st.just("flip"), positions, st.integers(1, 255)),
    st.tuples(st.just("set"), positions, st.sampled_from(INTERESTING_BYTES)),
    st.tuples(st.just("int"), positions, st.sampled_from(INTERESTING_INTS),
              st.sampled_from([2, 4, 8])),
    st.tuples(st.just("truncate"), positions),
    st.tuples(st.just("insert"), positions, st.binary(min_size=1, max_size=16)),
    st.tuples(st.just("delete"), positions, st.integers(1, 64)),
    st.tuples(st.just("duplicate"), positions, st.integers(1, 64), positions),
)
mutations = st.lists(mutation, min_size=1, max_size=4)


def _at(position: int, length: int) -> int:
    if position < 0:
        return max(0, length + position)
    return position % (length + 1)


def mutate(data: bytes, operations) -> bytes:
    """Apply byte mutations in turn (see ``mutation``)."""
    out = bytearray(data)
    for op in operations:
        kind, where = op[0], _at(op[1], len(out))
        if kind == "flip" and out:
            where = min(where, len(out) - 1)
            out[where] ^= op[2]
        elif kind == "set" and out:
            out[min(where, len(out) - 1)] = op[2]
        elif kind == "int":
            value, width = op[2], op[3]
            out[where : where + width] = (value % 2 ** (8 * width)).to_bytes(width, "little")
        elif kind == "truncate":
            del out[where:]
        elif kind == "insert":
            out[where:where] = op[2]
        elif kind == "delete":
            del out[where : where + op[2]]
        elif kind == "duplicate":
            piece = bytes(out[where : where + op[2]])
            target = _at(op[3], len(out))
            out[target:target] = piece
    return bytes(out)


MUTATED_FORMATS = [(".npy", ""), (".npz", ""), (".npz", "compressed"), (".csv", ""),
                   (".tsv", ""), (".parquet", ""), (".pt", "")]


@pytest.mark.parametrize("suffix,variant", MUTATED_FORMATS,
                         ids=[s + (f"-{v}" if v else "") for s, v in MUTATED_FORMATS])
def test_mutated_files_load_or_are_refused(worker, scratch, suffix, variant):
    seed = seed_bytes(suffix, variant)
    path = scratch / f"mutated{suffix}"
    answer = worker.ask({"op": "scores", "path": str(_written(path, seed))})
    assert answer["outcome"] == "ok", f"the valid seed {suffix} file does not load: {answer}"

    @fuzz_settings(500)
    @given(operations=mutations)
    def check(operations):
        read_scores(worker, path, mutate(seed, operations))

    check()


def _written(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


# --------------------------------------------------------------------------- hostile text

#: Pieces hostile CSV cells are made of.
CELL_PIECES = ["0", "1", "-2.5", "3e5", "1e400", "-1e-400", "0x1F", "1_000", "1,5", "nan", "NaN",
               "inf", "-inf", "NA", "", " ", "True", "false", "abc", "é", "名", "\ufeff", "\x00",
               '"', '""', "'", ",", ";", "\t", "|", "\n", "\r", "\r\n", "\\", "#", "=1+1", "@",
               "\u2028", "\x85", "\x1a", "9" * 30]
cells = st.lists(st.sampled_from(CELL_PIECES), min_size=0, max_size=4).map("".join)


@st.composite
def hostile_tables(draw, sep: str) -> bytes:
    """Delimited text: a header and rows of hostile cells, odd quoting, BOMs and encodings."""
    n_columns = draw(st.integers(1, 5))
    lines = []
    for _ in range(draw(st.integers(0, 6)) + 1):
        width = draw(st.one_of(st.just(n_columns), st.integers(0, 7)))
        row = []
        for _ in range(width):
            cell = draw(st.one_of(cells, st.floats(allow_nan=True).map(repr),
                                  st.integers(-10**20, 10**20).map(str)))
            quoting = draw(st.sampled_from(["none", "none", "quoted", "open", "close"]))
            if quoting == "quoted":
                cell = '"' + cell.replace('"', '""') + '"'
            elif quoting == "open":
                cell = '"' + cell
            elif quoting == "close":
                cell = cell + '"'
            row.append(cell)
        lines.append(draw(st.sampled_from([sep, sep, ";", " ", sep + " "])).join(row))
    ending = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    # Sometimes many copies of the rows (up to ~90 KB): slow paths show up as hangs.
    copies = draw(st.sampled_from([1] * 8 + [30, 1000]))
    if copies > 1 and len(lines) > 1:
        body = ending.join(lines[1:])
        lines = lines[:1] + [body] * max(1, min(copies, 40_000 // (len(body) + 1)))
    text = ending.join(lines) + draw(st.sampled_from(["", ending, ending * 3]))
    text = draw(st.sampled_from(["", "", "\ufeff", "\ufeff\ufeff", "#", "\n"])) + text
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-8", "utf-16", "latin-1", "cp1252"]))
    data = text.encode(encoding, errors="replace")
    if draw(st.booleans()):
        data = mutate(data, draw(st.lists(mutation, max_size=2)))
    return data


@pytest.mark.parametrize("suffix,sep", [(".csv", ","), (".tsv", "\t")])
def test_hostile_tables_load_or_are_refused(worker, scratch, suffix, sep):
    path = scratch / f"hostile{suffix}"

    @fuzz_settings(400)
    @given(data=hostile_tables(sep))
    def check(data):
        read_scores(worker, path, data)

    check()


# --------------------------------------------------------------------------- structured npy

DESCRS = ["<f4", "<f8", ">f8", "<f2", "<f16", "<i8", "|u1", "|b1", "<c16", "|O", "<U3", "|S2",
          "|V8", "<M8[D]", "<m8[s]", "[('a', '<f4'), ('b', '<f4')]", "'<f4'", "<f4 ", "float32",
          "", "<x4"]
shape_sizes = st.one_of(st.integers(0, 4), st.integers(0, 40),
                        st.sampled_from([2**31, 2**32 + 1, 2**40, 2**62, 2**63 - 1, -1]))


@st.composite
def npy_files(draw) -> bytes:
    """An .npy header with an arbitrary dtype, order and shape, and data of any length."""
    descr = draw(st.sampled_from(DESCRS))
    descr_text = descr if descr.startswith("[") or descr.startswith("'") else repr(descr)
    shape = tuple(draw(st.lists(shape_sizes, min_size=0, max_size=3)))
    order = draw(st.sampled_from(["False", "True", "0", "None"]))
    header = f"{{'descr': {descr_text}, 'fortran_order': {order}, 'shape': {shape!r}, }}"
    header = draw(st.sampled_from([header, header, header.replace("'shape'", "'shap'"),
                                   header[: len(header) // 2]]))
    version = draw(st.sampled_from([(1, 0), (1, 0), (2, 0), (3, 0), (9, 9)]))
    raw = header.encode("latin-1")
    size_bytes = 2 if version[0] == 1 else 4
    pad = (-(6 + 2 + size_bytes + len(raw) + 1)) % 64
    raw = raw + b" " * pad + b"\n"
    length = len(raw).to_bytes(size_bytes, "little")
    payload = draw(st.one_of(
        st.binary(max_size=64),
        st.integers(0, 2000).map(lambda k: np.random.default_rng(k).normal(size=k).tobytes()),
        st.integers(0, 500).map(lambda k: np.full(k, np.nan).tobytes()),
    ))
    return b"\x93NUMPY" + bytes(version) + length + raw + payload


def test_npy_headers_load_or_are_refused(worker, scratch):
    path = scratch / "header.npy"

    @fuzz_settings(600)
    @given(data=npy_files())
    def check(data):
        read_scores(worker, path, data)

    check()


# --------------------------------------------------------------------------- structured npz

KEYS = ["scores", "logits", "probs", "classes", "labels", "targets", "other", "x"]
any_dtype = st.sampled_from(["<f4", "<f8", "<f2", ">f4", "<i4", "|b1", "<c8", "<U4", "|S3",
                             "<M8[D]"]).map(np.dtype)
any_array = hnp.arrays(any_dtype, hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=5))


@st.composite
def npz_files(draw) -> bytes:
    """An .npz with arbitrary keys and arrays: scores, class names and labels of any kind."""
    arrays = {}
    for key in draw(st.lists(st.sampled_from(KEYS), min_size=0, max_size=4, unique=True)):
        arrays[key] = draw(st.one_of(
            any_array,
            st.integers(2, 6).flatmap(lambda m: hnp.arrays(np.float32, (5, m),
                                                           elements=st.floats(-5, 5, width=32))),
            st.lists(st.text(max_size=4), min_size=0, max_size=6).map(
                lambda names: np.array(names, dtype=str)),
        ))
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def test_npz_archives_load_or_are_refused(worker, scratch):
    path = scratch / "archive.npz"

    @fuzz_settings(400)
    @given(data=npz_files())
    def check(data):
        read_scores(worker, path, data)

    check()


# --------------------------------------------------------------------------- structured parquet


def _parquet_column(kind: str, n: int, seed: int):
    import pyarrow as pa

    rng = np.random.default_rng(seed)
    numbers = rng.normal(size=n)
    if kind == "float64":
        return pa.array(numbers)
    if kind == "float32":
        return pa.array(numbers.astype(np.float32))
    if kind == "float16":
        return pa.array(numbers.astype(np.float16))
    if kind == "nan":
        return pa.array(np.where(rng.random(n) < 0.3, np.nan, numbers))
    if kind == "null":
        return pa.array([None if rng.random() < 0.3 else float(x) for x in numbers],
                        pa.float64())
    if kind == "int64":
        return pa.array(rng.integers(-5, 5, size=n))
    if kind == "uint64":
        return pa.array(rng.integers(0, 2**63, size=n, dtype=np.uint64) * 2)
    if kind == "bool":
        return pa.array(rng.random(n) < 0.5)
    if kind == "text":
        return pa.array([f"s{i}" for i in range(n)])
    if kind == "numeric text":
        return pa.array([repr(float(x)) for x in numbers])
    if kind == "not utf-8":
        text = pa.array([b"s\xf1" + bytes([i % 256]) for i in range(n)], pa.binary())
        return text.view(pa.string())
    if kind == "binary":
        return pa.array([bytes([i % 256]) for i in range(n)], pa.binary())
    if kind == "timestamp":
        return pa.array(rng.integers(0, 10**9, size=n).astype("datetime64[s]"))
    if kind == "decimal":
        import decimal
        return pa.array([decimal.Decimal(f"{x:.3f}") for x in numbers], pa.decimal128(10, 3))
    if kind == "list":
        return pa.array([[float(x), 1.0] for x in numbers])
    if kind == "struct":
        return pa.array([{"a": float(x)} for x in numbers])
    if kind == "dictionary":
        return pa.array([f"c{i % 3}" for i in range(n)]).dictionary_encode()
    if kind == "all null":
        return pa.nulls(n, pa.float64())
    raise AssertionError(kind)


PARQUET_KINDS = ["float64", "float64", "float32", "float16", "nan", "null", "int64", "uint64",
                 "bool", "text", "numeric text", "not utf-8", "binary", "timestamp", "decimal",
                 "list", "struct", "dictionary", "all null"]
PARQUET_NAMES = ["cat", "dog", "owl", "", "sample", "id", "__index_level_0__", "Unnamed: 0",
                 "a\nb", "=1+1", "\x00", "é", "1", "nan"]


@st.composite
def parquet_files(draw) -> bytes:
    """A parquet table of columns of any Arrow type, under any names (duplicates too)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    n = draw(st.integers(0, 6))
    width = draw(st.integers(0, 5))
    names = draw(st.lists(st.one_of(st.sampled_from(PARQUET_NAMES), st.text(max_size=4)),
                          min_size=width, max_size=width))
    columns = [_parquet_column(draw(st.sampled_from(PARQUET_KINDS)), n, draw(st.integers(0, 99)))
               for _ in range(width)]
    table = pa.Table.from_arrays(columns, names=names) if width else pa.table({})
    if draw(st.booleans()) and width:  # pandas metadata naming an index column
        metadata = {b"pandas": json.dumps({"index_columns": [names[0]], "columns": [],
                                           "column_indexes": [], "pandas_version": "2.0"})}
        table = table.replace_schema_metadata(metadata)
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()


def test_parquet_tables_load_or_are_refused(worker, scratch):
    pytest.importorskip("pyarrow")
    path = scratch / "structured.parquet"

    @fuzz_settings(400)
    @given(data=parquet_files())
    def check(data):
        read_scores(worker, path, data)

    check()


# --------------------------------------------------------------------------- structured pt


@st.composite
def torch_files(draw) -> bytes:
    """A torch file holding a tensor, a dict of anything weights_only allows, or a list."""
    torch = pytest.importorskip("torch")
    dtypes = [torch.float32, torch.float64, torch.float16, torch.bfloat16, torch.int64,
              torch.bool, torch.complex64, torch.uint8]

    def tensors():
        return st.tuples(st.sampled_from(dtypes),
                         st.lists(st.integers(0, 5), min_size=0, max_size=3),
                         st.integers(0, 2**16)).map(lambda t: _tensor(torch, *t))

    values = st.one_of(
        tensors(),
        st.lists(st.text(max_size=3), max_size=5),
        st.lists(st.integers(-3, 3), max_size=5),
        st.text(max_size=5), st.integers(), st.none(),
        st.integers(2, 5).map(lambda m: torch.randn(6, m)),
    )
    keys = st.one_of(st.sampled_from(KEYS), st.integers(0, 3), st.text(max_size=3))
    obj = draw(st.one_of(tensors(), st.dictionaries(keys, values, max_size=4),
                         st.lists(tensors(), max_size=3)))
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


def _tensor(torch, dtype, shape, seed):
    generator = torch.Generator().manual_seed(seed)
    values = torch.randn(tuple(shape), generator=generator) * 3
    if dtype == torch.complex64:
        return torch.complex(values, values)
    return values.to(dtype)


def test_torch_files_load_or_are_refused(worker, scratch):
    pytest.importorskip("torch")
    path = scratch / "structured.pt"

    @fuzz_settings(400)
    @given(data=torch_files())
    def check(data):
        read_scores(worker, path, data)

    check()


# --------------------------------------------------------------------------- result folders


@pytest.fixture(scope="module")
def result_folder(tmp_path_factory) -> Path:
    """A result folder written by ``blocks-rx analyze`` (groups included)."""
    from blocks_rx import cli

    folder = tmp_path_factory.mktemp("fuzz-result")
    np.save(folder / "scores.npy", good_scores(n=40, m=6, seed=5))
    assert cli.run(["analyze", str(folder / "scores.npy"), "--out", str(folder / "result")]) == 0
    return folder / "result"


def result_copy(result_folder: Path, scratch: Path) -> Path:
    target = Path(tempfile.mkdtemp(dir=scratch, prefix="result-"))
    shutil.rmtree(target)
    shutil.copytree(result_folder, target)
    return target


def rehash(folder: Path, name: str) -> None:
    """Record the current checksum of ``name`` in report.json, as a consistent edit would."""
    report = json.loads((folder / "report.json").read_text(encoding="utf-8"))
    report["files"][name] = hashlib.sha256((folder / name).read_bytes()).hexdigest()
    (folder / "report.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


def read_result(worker, folder: Path, verify: bool = True, data=None) -> dict:
    answer = worker.ask({"op": "result", "path": str(folder), "verify": verify})
    shutil.rmtree(folder, ignore_errors=True)
    assert_acceptable(answer, data)
    return answer


RESULT_NAMES = ["similarity.npz", "order.csv", "groups.csv", "report.json", "heatmap.png"]


def test_result_folder_with_a_mutated_file_reads_or_is_refused(worker, scratch, result_folder):
    answer = worker.ask({"op": "result", "path": str(result_folder), "verify": True})
    assert answer["outcome"] == "ok", f"the valid result folder does not read: {answer}"

    @fuzz_settings(300)
    @given(name=st.sampled_from(RESULT_NAMES), operations=mutations)
    def check(name, operations):
        folder = result_copy(result_folder, scratch)
        data = mutate((folder / name).read_bytes(), operations)
        (folder / name).write_bytes(data)
        read_result(worker, folder, data=data)

    check()


def test_result_folder_edited_consistently_reads_or_is_refused(worker, scratch, result_folder):
    """A data file changed and its checksum updated in report.json: the parsers must cope."""

    @fuzz_settings(300)
    @given(name=st.sampled_from(["similarity.npz", "groups.csv", "order.csv"]),
           operations=mutations)
    def check(name, operations):
        folder = result_copy(result_folder, scratch)
        data = mutate((folder / name).read_bytes(), operations)
        (folder / name).write_bytes(data)
        rehash(folder, name)
        read_result(worker, folder, data=data)

    check()


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-5, 10**6), st.floats(allow_nan=False),
              st.text(max_size=8)),
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.text(max_size=6), inner, max_size=3)),
    max_leaves=6)
REPORT_PATHS = [("files",), ("run_id",), ("format",), ("similarity",), ("ordering",),
                ("similarity", "measure"), ("similarity", "constant_classes"),
                ("similarity", "n_samples"), ("ordering", "linkage"), ("ordering", "versions"),
                ("ordering", "note"), ("files", "groups.csv"), ("files", "order.csv")]


def test_result_folder_with_an_edited_report_reads_or_is_refused(worker, scratch, result_folder):
    @fuzz_settings(300)
    @given(where=st.sampled_from(REPORT_PATHS), value=json_values, drop=st.booleans())
    def check(where, value, drop):
        folder = result_copy(result_folder, scratch)
        report = json.loads((folder / "report.json").read_text(encoding="utf-8"))
        node = report
        for key in where[:-1]:
            node = node[key]
        if drop:
            node.pop(where[-1], None)
        else:
            node[where[-1]] = value
        text = json.dumps(report, indent=2)
        (folder / "report.json").write_text(text, encoding="utf-8")
        read_result(worker, folder, data=text.encode())

    check()


def test_the_worker_reports_errors_hangs_and_crashes(worker, scratch):
    """The harness itself: a non-input error is an error, not a pass."""
    path = scratch / "valid.npz"
    path.write_bytes(seed_bytes(".npz"))
    assert worker.ask({"op": "scores", "path": str(path)})["outcome"] == "ok"
    missing = worker.ask({"op": "scores", "path": str(scratch / "nothing-here.npy")})
    assert missing["outcome"] == "refused"
    broken = worker.ask({"op": "result", "path": str(scratch), "verify": "not a bool"})
    assert broken["outcome"] == "refused"  # no report.json: a ResultError
    assert worker.ask({"op": "sleep", "seconds": 30}, timeout=1)["outcome"] == "hang"
    crash = worker.ask({"op": "abort"})
    assert crash["outcome"] == "crash" and crash["returncode"] != 0
    assert worker.ask({"op": "scores", "path": str(path)})["outcome"] == "ok"  # restarted
    with pytest.raises(AssertionError):
        assert_acceptable(crash)
    with pytest.raises(AssertionError):
        assert_acceptable({"outcome": "error", "type": "builtins.TypeError", "where": "?",
                           "message": "x", "traceback": ""})


def test_zip_seed_is_a_real_zip():
    """The .npz seeds are zip archives, so their mutations reach the zip reader."""
    assert zipfile.is_zipfile(io.BytesIO(seed_bytes(".npz")))
    assert zipfile.is_zipfile(io.BytesIO(seed_bytes(".npz", "compressed")))
