"""Compute engines (numpy, torch, dask) agree with each other and with numpy/scipy oracles;
dask runs on a real scheduler with two worker processes started here; ``analyze`` reads
every row of its input once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import rankdata, spearmanr

from blocks_rx import analyze, compute_similarity
from blocks_rx.engines import ENGINES
from blocks_rx.errors import OptionError, UnknownChoice
from blocks_rx.scores import TRANSFORMS, Scores
from blocks_rx.similarity import describe, describe_off_diagonal

torch = pytest.importorskip("torch")
pytest.importorskip("distributed")

BIN = Path(sys.executable).parent
#: Agreement between engines and with the oracles (float32 GEMMs on centred blocks).
TOLERANCE = 1e-5

#: The same transform again, written with numpy on the whole matrix (the oracle's input).
TRANSFORM_ORACLES = {
    "none": lambda x: x,
    "center": lambda x: x - x.mean(axis=1, keepdims=True),
    "standardize": lambda x: (x - x.mean(axis=1, keepdims=True)) / x.std(axis=1, keepdims=True),
    "softmax": lambda x: np.exp(x - x.max(axis=1, keepdims=True))
    / np.exp(x - x.max(axis=1, keepdims=True)).sum(axis=1, keepdims=True),
}
MEASURE_ORACLES = {
    "pearson": lambda x: np.corrcoef(x, rowvar=False),
    "spearman": lambda x: spearmanr(x).statistic,
    "sample-rank": lambda x: np.corrcoef(rankdata(x, axis=1), rowvar=False),
}
CASES = [("pearson", t) for t in TRANSFORM_ORACLES] + [
    ("spearman", "none"), ("spearman", "center"), ("sample-rank", "none"),
    ("sample-rank", "softmax")]


def offset_scores(n=1500, m=12, seed=0, dtype=np.float32):
    """Scores with three planted groups, a common offset of +50 (which a naive float32
    sum of squares would lose), and a small per-sample offset."""
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=(n, 3))
    group = np.arange(m) % 3
    scores = 1.2 * latent[:, group] + rng.normal(size=(n, m)) + 50.0
    scores += rng.normal(scale=0.3, size=(n, 1))
    return scores.astype(dtype)


# --------------------------------------------------------------------------- a real cluster


def _stop(process: subprocess.Popen) -> None:
    """Stop a process started here and everything it started (its own process group)."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def scheduler(tmp_path_factory, request):
    """The address of a `dask scheduler` with two `dask worker` processes, all started here
    from the venv's dask command and stopped (process groups killed) however the tests end."""
    from distributed import Client

    folder = tmp_path_factory.mktemp("dask")
    file = folder / "scheduler.json"
    started: list[subprocess.Popen] = []

    def stop_all():
        for process in reversed(started):
            _stop(process)

    request.addfinalizer(stop_all)
    common = dict(cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                  start_new_session=True)
    started.append(subprocess.Popen([str(BIN / "dask"), "scheduler", "--port", "0",
                                     "--no-dashboard", "--scheduler-file", str(file)],
                                    **common))
    deadline = time.monotonic() + 60
    while not file.exists() or not file.read_text().strip():
        assert time.monotonic() < deadline, "dask scheduler did not start"
        assert started[0].poll() is None, "dask scheduler exited"
        time.sleep(0.1)
    address = json.loads(file.read_text())["address"]
    for i in range(2):
        started.append(subprocess.Popen([str(BIN / "dask"), "worker", address, "--nthreads",
                                         "1", "--no-dashboard", "--name", f"w{i}",
                                         "--local-directory", str(folder / f"w{i}")], **common))
    with Client(address, timeout="30s") as client:
        client.wait_for_workers(2, timeout=60)
        assert len(client.scheduler_info()["workers"]) == 2
    return address


# --------------------------------------------------------------------------- agreement


@pytest.mark.parametrize("measure, transform", CASES)
def test_engines_agree_with_each_other_and_the_oracles(measure, transform, scheduler):
    S = offset_scores()
    oracle = MEASURE_ORACLES[measure](TRANSFORM_ORACLES[transform](S.astype(np.float64)))
    found = {}
    for engine, options in (("numpy", {}), ("torch", {"device": "cpu"}),
                            ("dask", {"scheduler": scheduler})):
        sim = compute_similarity(S, measure=measure, transform=transform, block_size=400,
                                 out_dtype=np.float64, warn=False, engine=engine, **options)
        assert sim.engine == engine
        np.testing.assert_allclose(sim.matrix, oracle, atol=TOLERANCE, err_msg=engine)
        found[engine] = sim.matrix
    for engine in ("torch", "dask"):
        np.testing.assert_allclose(found[engine], found["numpy"], atol=TOLERANCE)


def test_a_dask_array_is_reduced_on_the_workers(scheduler):
    import dask.array as da

    S = offset_scores(n=2000, seed=1)
    x = da.from_array(S, chunks=(300, S.shape[1]))
    for measure in ("pearson", "sample-rank", "spearman"):
        sim = compute_similarity(x, measure=measure, transform="center", engine="dask",
                                 scheduler=scheduler, out_dtype=np.float64, warn=False)
        oracle = MEASURE_ORACLES[measure](TRANSFORM_ORACLES["center"](S.astype(np.float64)))
        np.testing.assert_allclose(sim.matrix, oracle, atol=TOLERANCE, err_msg=measure)
        expected = "blocks sent from client" if measure == "spearman" else "chunks on workers"
        assert sim.engine_detail["reduction"] == expected
        assert sim.engine_detail["workers"] == 2 and sim.engine_detail["scheduler"] == scheduler


def test_float64_tiny_and_constant_columns_on_every_engine(scheduler):
    rng = np.random.default_rng(3)
    S = rng.normal(size=(800, 6)) * 1e-41  # subnormal in float32: rescaled exactly
    S[:, 2] = 3e-41  # a constant class
    S[:, 1] += S[:, 0]
    for engine, options in (("numpy", {}), ("torch", {"device": "cpu"}),
                            ("dask", {"scheduler": scheduler})):
        sim = compute_similarity(S.astype(np.float32), engine=engine, warn=False,
                                 out_dtype=np.float64, block_size=300, **options)
        assert sim.constant_classes == ("class_2",), engine
        keep = [0, 1, 3, 4, 5]
        oracle = np.corrcoef(S[:, keep].astype(np.float32).astype(np.float64), rowvar=False)
        np.testing.assert_allclose(sim.matrix[np.ix_(keep, keep)], oracle, atol=TOLERANCE)


@pytest.mark.parametrize("where", ["memory", "file"])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("measure, transform",
                         [("pearson", "none"), ("pearson", "softmax"), ("spearman", "none")])
def test_the_torch_engine_names_a_non_finite_value_as_the_numpy_engine_does(
        tmp_path, where, bad, measure, transform):
    """Pearson with no transform is checked where torch computes (the device), anything
    else on the host as it is read; either way the message is the numpy engine's."""
    from blocks_rx.errors import ScoresError

    S = offset_scores(n=1000, m=5)
    S[733, 3] = bad  # in the third block of 300 rows
    source = S
    if where == "file":
        np.save(tmp_path / "bad.npy", S)
        source = tmp_path / "bad.npy"
    messages = {}
    for engine, options in (("numpy", {}), ("torch", {"device": "cpu"})):
        with pytest.raises(ScoresError) as raised:
            compute_similarity(source, engine=engine, measure=measure, transform=transform,
                               block_size=300, **options)
        messages[engine] = str(raised.value)
    assert "at row 733, column 3 (class 'class_3')" in messages["numpy"]
    assert messages["torch"] == messages["numpy"]


def test_the_torch_engine_defers_the_check_of_scores_in_memory_to_its_pass():
    from blocks_rx.engines.inputs import open_scores

    S = offset_scores(n=50, m=3)
    assert open_scores(S).finite_checked
    assert not open_scores(S, engine="torch").finite_checked  # checked as it is read


def test_torch_blocks_copied_by_threads_and_gram_panels_agree_with_numpy():
    """Blocks above PARALLEL_COPY_FROM_BYTES are copied by several threads; the Gram
    matrix is formed in column panels (700 classes: one panel by default, five here)."""
    from concurrent.futures import ThreadPoolExecutor

    from blocks_rx.engines import torch_engine

    S = offset_scores(n=12_000, m=700, seed=4)  # blocks of 5,000 rows: 14 MB
    assert 5000 * 700 * 4 >= torch_engine.PARALLEL_COPY_FROM_BYTES
    expected = np.corrcoef(S.astype(np.float64), rowvar=False)
    sim = compute_similarity(S, engine="torch", device="cpu", block_size=5000,
                             out_dtype=np.float64, warn=False)
    np.testing.assert_allclose(sim.matrix, expected, atol=TOLERANCE)
    with ThreadPoolExecutor(3) as pool:
        moments = torch_engine.DeviceCoMoments(700, torch, torch.device("cpu"), pool,
                                               panel_columns=128)
        assert len(moments._edges) == 6  # 5 panels of the upper block triangle
        for start in range(0, len(S), 5000):
            moments.add(S[start:start + 5000])
    matrix, constant = moments.correlation()
    np.testing.assert_allclose(matrix, expected, atol=TOLERANCE)
    assert not constant.any() and (np.diag(matrix) == 1).all() and (matrix == matrix.T).all()


# --------------------------------------------------------------------------- dask inputs


def _write_inputs(folder: Path, S: np.ndarray) -> dict:
    import h5py
    import pandas as pd
    import zarr

    n, m = S.shape
    classes = [f"c{j}" for j in range(m)]
    store = zarr.open(str(folder / "x.zarr"), mode="w", shape=S.shape, chunks=(250, m),
                      dtype=S.dtype)
    store[:] = S
    store.attrs["classes"] = classes
    with h5py.File(folder / "x.h5", "w") as handle:
        handle.create_dataset("logits", data=S, chunks=(250, m))
        handle.create_dataset("classes", data=np.array(classes, dtype="S"))
    shards = folder / "shards"
    shards.mkdir()
    for i, (start, stop) in enumerate([(0, 700), (700, 710), (710, n)]):
        np.save(shards / f"part-{i * 5}.npy", S[start:stop])  # part-0, part-5, part-10
    tables = folder / "table"
    tables.mkdir()
    frame = pd.DataFrame(S, columns=classes)
    frame[:900].to_parquet(tables / "0.parquet")
    frame[900:].to_parquet(tables / "1.parquet")
    return {"zarr": (folder / "x.zarr", None), "hdf5": (folder / "x.h5", "logits"),
            "npy folder": (shards, None), "npy glob": (str(shards / "part-*.npy"), None),
            "parquet": (tables, None)}


def test_dask_reads_zarr_hdf5_npy_shards_and_parquet_on_the_cluster(tmp_path, scheduler):
    from blocks_rx.engines.inputs import open_scores

    S = offset_scores(n=1500, m=10, seed=4)
    expected = np.corrcoef(S.astype(np.float64), rowvar=False)
    for name, (path, key) in _write_inputs(tmp_path, S).items():
        scores = open_scores(path, engine="dask", key=key)
        assert scores.n_samples == 1500 and scores.finite_checked is False, name
        if name in ("zarr", "hdf5", "parquet"):
            assert scores.classes[:2] == ("c0", "c1"), name
        sim = compute_similarity(scores, engine="dask", scheduler=scheduler, warn=False,
                                 out_dtype=np.float64)
        assert sim.engine_detail["reduction"] == "chunks on workers", name
        np.testing.assert_allclose(sim.matrix, expected, atol=TOLERANCE, err_msg=name)
    # The numpy engine reads the same lazy inputs block by block in this process.
    zarr_sim = compute_similarity(tmp_path / "x.zarr", warn=False, out_dtype=np.float64)
    np.testing.assert_allclose(zarr_sim.matrix, expected, atol=TOLERANCE)


def test_a_non_finite_value_in_a_chunk_is_named_by_row_and_class(tmp_path, scheduler):
    import zarr

    from blocks_rx.errors import ScoresError

    S = offset_scores(n=600, m=4)
    S[433, 2] = np.nan
    zarr.save(str(tmp_path / "bad.zarr"), S)
    with pytest.raises(ScoresError, match=r"row 433, column 2 \(class 'class_2'\)"):
        compute_similarity(tmp_path / "bad.zarr", engine="dask", scheduler=scheduler)


def test_cli_analyze_zarr_with_the_dask_engine(tmp_path, scheduler):
    import zarr

    S = offset_scores(n=1200, m=9, seed=5)
    zarr.save(str(tmp_path / "x.zarr"), S)
    out = tmp_path / "out"
    done = subprocess.run([str(BIN / "blocks-rx"), "analyze", str(tmp_path / "x.zarr"),
                           "--engine", "dask", "--dask-scheduler", scheduler, "--out", str(out),
                           "--no-groups", "--hclust-backend", "python", "-q"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    report = json.loads((out / "report.json").read_text())
    assert report["similarity"]["engine"] == "dask"
    assert report["similarity"]["engine_detail"]["scheduler"] == scheduler
    with np.load(out / "similarity.npz") as npz:
        np.testing.assert_allclose(npz["matrix"], np.corrcoef(S.astype(np.float64),
                                                              rowvar=False), atol=TOLERANCE)


# --------------------------------------------------------------------------- one pass


class CountingRows(np.ndarray):
    """A view of a memory-mapped score matrix that counts how often each row is read."""

    def __getitem__(self, key):
        rows = key[0] if isinstance(key, tuple) else key
        assert isinstance(rows, slice), f"unexpected read of the scores: {key!r}"
        start, stop, step = rows.indices(self.shape[0])
        assert step == 1
        self.reads[start:stop] += 1
        return np.asarray(self.view(np.ndarray)[key])


def counting_scores(path: Path, labels) -> Scores:
    values = np.load(path, mmap_mode="r").view(CountingRows)
    values.reads = np.zeros(values.shape[0], dtype=np.int64)
    classes = tuple(f"class_{j}" for j in range(values.shape[1]))
    return Scores(values=values, classes=classes, source=str(path), labels=labels)


@pytest.mark.parametrize("engine, measure", [("numpy", "pearson"), ("numpy", "sample-rank"),
                                             ("numpy", "spearman"), ("torch", "pearson"),
                                             ("dask", "pearson")])
def test_analyze_reads_every_row_once(tmp_path, engine, measure, scheduler):
    S = offset_scores(n=2500, m=10, seed=6)
    np.save(tmp_path / "s.npy", S)
    labels = np.random.default_rng(0).integers(0, 10, size=len(S))
    scores = counting_scores(tmp_path / "s.npy", labels)
    options = {"torch": {"device": "cpu"}, "dask": {"scheduler": scheduler}}.get(engine, {})
    result = analyze(scores, measure=measure, engine=engine, block_size=600, groups=None,
                     hclust_backend="python", transform="center", **options)
    reads = scores.values.reads
    assert (reads == 1).all(), np.bincount(reads)
    # What the pass gathered equals what a separate read gives.
    example = result.example_class
    column = TRANSFORMS["center"].function(S)[:, example]
    np.testing.assert_array_equal(result.example_values, column.astype(np.float64))
    top = S.argmax(axis=1)
    np.testing.assert_array_equal(result.confusion, np.histogram2d(
        labels, top, bins=[np.arange(11), np.arange(11)])[0].astype(np.int64))
    assert result.report()["summary"]["summary_method"]["input_reads"] == 1


def test_the_example_values_are_a_seeded_row_sample_when_rows_are_many(monkeypatch):
    from blocks_rx import pipeline

    S = offset_scores(n=3000, m=8, seed=7)
    monkeypatch.setattr(pipeline, "SAMPLE_BYTES", 500 * 8 * 4)  # 500 rows of 8 float32
    one, two = (analyze(S, groups=None, hclust_backend="python", seed=3) for _ in range(2))
    assert one.example_values.shape == (500,)
    np.testing.assert_array_equal(one.example_values, two.example_values)
    column = S[:, one.example_class].astype(np.float64)
    assert np.isin(one.example_values, column).all()
    assert "500 of 3,000 rows" in one.report()["summary"]["summary_method"]["example_values"]


def test_summary_statistics_are_exact_without_a_copy_of_the_pairs():
    for m, dtype in ((3, np.float32), (97, np.float32), (400, np.float64)):
        matrix = np.corrcoef(np.random.default_rng(m).normal(size=(60, m)),
                             rowvar=False).astype(dtype)
        got = describe_off_diagonal(matrix)
        want = describe(matrix[np.triu_indices(m, 1)])
        for key in ("count", "min", "max", "q01", "q25", "median", "q75", "q99"):
            assert got[key] == want[key], (m, key)  # order statistics: bit for bit
        for key in ("mean", "std", "skewness", "kurtosis"):
            assert got[key] == pytest.approx(want[key], rel=1e-10, abs=1e-12), (m, key)


# --------------------------------------------------------------------------- options


def test_engine_options_are_checked_and_routed():
    S = offset_scores(n=200, m=4)
    with pytest.raises(OptionError, match="engine 'numpy' does not take device"):
        analyze(S, device="cpu", groups=None)
    with pytest.raises(OptionError, match="device='gpu' is not one of auto, cpu, cuda"):
        compute_similarity(S, engine="torch", device="gpu")
    with pytest.raises(UnknownChoice, match="unknown engine 'jax'; choose one of numpy, torch, dask"):
        compute_similarity(S, engine="jax")
    sim = compute_similarity(S, engine="torch", device="cpu", warn=False)
    detail = sim.provenance()["engine_detail"]
    assert detail["device"] == "cpu" and detail["allow_tf32"] in (True, False)
    if not torch.cuda.is_available():
        with pytest.raises(OptionError, match="sees no CUDA device"):
            compute_similarity(S, engine="torch", device="cuda")


def test_an_engine_that_is_not_installed_says_what_to_install(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "distributed" else real(name, *a))
    with pytest.raises(OptionError, match=r"needs distributed, which is not installed: "
                                          r"pip install 'blocks-rx\[dask\]'"):
        compute_similarity(offset_scores(n=50, m=3), engine="dask")


def test_methods_lists_the_engines():
    done = subprocess.run([str(BIN / "blocks-rx"), "methods", "engines"], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0
    for name in ENGINES:
        assert f"  {name} " in done.stdout
    assert "options: device" in done.stdout and "options: scheduler" in done.stdout


def test_dask_and_zarr_clis_are_installed():
    assert (BIN / "dask").exists()
    for command in ("scheduler", "worker"):
        done = subprocess.run([str(BIN / "dask"), command, "--help"], capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0 and "Usage" in done.stdout
