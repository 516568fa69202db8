"""Shared fixtures: planted score matrices and access to R as a separate process."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
R_SCRIPTS = ROOT / "r_scripts"
RSCRIPT = shutil.which("Rscript")

requires_r = pytest.mark.skipif(
    RSCRIPT is None,
    reason="Rscript not found: R is the independent oracle here (apt-get install r-base-core, "
           "or run `make test`, which installs it when it can)",
)


def planted_scores(n_samples=600, groups=(3, 4, 5), seed=0, offset=0.0, dtype=np.float32):
    """Logits where classes of one planted group share a latent factor.

    Returns (scores, group of each class).
    """
    rng = np.random.default_rng(seed)
    m = sum(groups)
    membership = np.repeat(np.arange(len(groups)), groups)
    latent = rng.normal(size=(n_samples, len(groups)))
    scores = 1.5 * latent[:, membership] + rng.normal(size=(n_samples, m)) + offset
    return scores.astype(dtype), membership


def run_reference_orders(cases, workdir: Path):
    """Run r_scripts/reference_order.R once for many cases.

    ``cases`` is a list of (matrix, distance, linkage); returns one DataFrame per case with
    R's merge1, merge2, height and order.
    """
    rows = []
    for i, (matrix, distance, linkage) in enumerate(cases):
        matrix_file = workdir / f"m{i}.bin"
        np.asarray(matrix, dtype="<f8").tofile(matrix_file)
        rows.append({"matrix": str(matrix_file), "n": len(matrix), "distance": distance,
                     "linkage": linkage, "out": str(workdir / f"r{i}.csv")})
    manifest = workdir / "manifest.csv"
    pd.DataFrame(rows).to_csv(manifest, index=False)
    subprocess.run([RSCRIPT, str(R_SCRIPTS / "reference_order.R"), str(manifest)], check=True,
                   capture_output=True, timeout=600)
    return [pd.read_csv(row["out"]) for row in rows]
