"""What needs a CUDA GPU: the torch engine on the device, against numpy oracles.

Skipped, saying why, where torch sees no GPU (CI, and every machine without one). On a
machine with one, ``bash benchmarks/on_gpu.sh`` runs these with the torch engine's benchmark.
This module needs only numpy, scipy, pandas, numba and torch (no dask, no R), so that it
runs on a bare GPU image.
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="torch not installed: pip install 'blocks-rx[torch]'")

from blocks_rx import analyze, compute_similarity  # noqa: E402
from blocks_rx.errors import ScoresError  # noqa: E402

pytestmark = pytest.mark.skipif(
    not torch.cuda.is_available(),
    reason=f"no CUDA device: torch.cuda.is_available() is False here (torch "
           f"{torch.__version__}); the torch engine's CPU path is tested in test_engines.py")

#: The numpy engine's agreement (float32 GEMMs on centred blocks); 1e-3 with TF32 matmuls.
TOLERANCE = 1e-5


def planted(n: int, m: int, seed: int = 0) -> np.ndarray:
    """Scores with three planted groups and a common offset of +50."""
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=(n, 3))
    return 1.2 * latent[:, np.arange(m) % 3] + rng.normal(size=(n, m)) + 50.0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_torch_engine_on_cuda_agrees_with_numpy_and_records_tf32(dtype):
    # 1,100 classes: two Gram panels; blocks of 3,000 rows (13 MB): copied by threads.
    S = planted(20_000, 1_100).astype(dtype)
    sim = compute_similarity(S, engine="torch", device="cuda", out_dtype=np.float64,
                             warn=False, block_size=3000)
    detail = sim.engine_detail
    assert detail["device"].startswith("cuda") and "gpu" in detail
    tolerance = 1e-3 if detail["allow_tf32"] else TOLERANCE
    expected = np.corrcoef(S.astype(np.float64), rowvar=False)
    np.testing.assert_allclose(sim.matrix, expected, atol=tolerance)
    assert np.array_equal(sim.matrix, sim.matrix.T) and (np.diag(sim.matrix) == 1).all()


def test_tiny_and_constant_columns_on_cuda():
    rng = np.random.default_rng(3)
    S = rng.normal(size=(800, 6)) * 1e-41  # subnormal in float32: rescaled exactly
    S[:, 2] = 3e-41  # a constant class
    S[:, 1] += S[:, 0]
    sim = compute_similarity(S.astype(np.float32), engine="torch", device="cuda", warn=False,
                             out_dtype=np.float64, block_size=300)
    assert sim.constant_classes == ("class_2",)
    keep = [0, 1, 3, 4, 5]
    expected = np.corrcoef(S[:, keep].astype(np.float32).astype(np.float64), rowvar=False)
    np.testing.assert_allclose(sim.matrix[np.ix_(keep, keep)], expected, atol=TOLERANCE)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_a_non_finite_value_is_found_on_the_device_and_named(tmp_path, bad):
    S = planted(9_000, 1_100).astype(np.float32)
    S[7_345, 1_034] = bad
    for source in (S, tmp_path / "bad.npy"):
        np.save(tmp_path / "bad.npy", S)
        with pytest.raises(ScoresError,
                           match=r"row 7345, column 1034 \(class 'class_1034'\)"):
            compute_similarity(source, engine="torch", device="cuda", block_size=3000)


def test_analyze_on_cuda_gives_the_numpy_engines_order():
    S = planted(6_000, 300, seed=5).astype(np.float32)
    runs = {engine: analyze(S, engine=engine, groups=None, hclust_backend="python",
                            **({"device": "cuda"} if engine == "torch" else {}))
            for engine in ("numpy", "torch")}
    assert runs["torch"].similarity.engine_detail["device"].startswith("cuda")
    np.testing.assert_allclose(runs["torch"].similarity.matrix,
                               runs["numpy"].similarity.matrix, atol=TOLERANCE)
    np.testing.assert_array_equal(runs["torch"].ordering.order, runs["numpy"].ordering.order)
