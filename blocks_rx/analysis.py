"""The main job: scores -> similarity -> ordering -> files (what ``blocks-rx analyze`` runs).

:func:`analyze` computes and returns an :class:`Analysis`; :func:`write_outputs` writes it
to a folder atomically: every file is first written under a temporary folder next to the
target and moved into place only when all of them are complete, so a failed run leaves no
half-written output.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import __version__
from .ordering import Ordering, criteria as ordering_criteria, order_classes
from .scores import TRANSFORMS, Scores, load_scores
from .similarity import (Similarity, compute, confusion_matrix, describe, predictions,
                         typical_class)

#: Files ``write_outputs`` produces, in the order they are written.
OUTPUT_FILES = ("similarity.npz", "order.csv", "heatmap.png", "distributions.png", "report.json")

#: Written too when groups were computed (orderings with a tree).
GROUP_FILES = ("groups.csv", "groups.png")


@dataclass(frozen=True, eq=False)
class GroupFindings:
    """Fuzzy groups and what they say about the ordering (see :mod:`blocks_rx.groups`)."""

    groups: object
    failed: list
    split: list
    coherent: list
    seconds: float = 0.0

    def report(self) -> dict:
        g = self.groups
        return {
            "method": g.method, "n_groups": int(g.memberships.shape[1]), "index": g.index,
            "embedding": g.embedding, "n_components": int(g.n_components),
            "threshold": float(g.threshold), "seed": int(g.seed),
            "seconds": round(self.seconds, 3),
            "failed": [{"group": f"G{p.group + 1}", "classes": list(p.classes),
                        "n_runs": int(p.n_runs), "dispersion": round(float(p.dispersion), 4),
                        "within": round(float(p.within), 4), "excess": round(float(p.excess), 4),
                        "score": round(float(p.score), 4)} for p in self.failed],
            "split": [{"first": list(s.first.classes), "second": list(s.second.classes),
                       "mean": round(float(s.mean), 4), "background": round(float(s.background), 4),
                       "z": round(float(s.z), 2)} for s in self.split],
            "coherent": [{"group": f"G{p.group + 1}", "classes": list(p.classes)}
                         for p in self.coherent],
        }

#: Flat cuts reported in order.csv (those below the number of classes).
DEFAULT_CUTS = (2, 4, 8, 16)


@dataclass(frozen=True, eq=False)
class Analysis:
    """Everything one run computed; drawn and written by :func:`write_outputs`."""

    scores: Scores = field(repr=False)
    similarity: Similarity
    ordering: Ordering
    cuts: dict = field(repr=False)
    example_class: int
    example_values: np.ndarray = field(repr=False)
    similarity_stats: dict = field(default_factory=dict, repr=False)
    example_stats: dict = field(default_factory=dict, repr=False)
    confusion: np.ndarray | None = field(default=None, repr=False)
    criteria: dict | None = None
    groups: GroupFindings | None = None
    timings: dict = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    @property
    def accuracy(self) -> float | None:
        """Top-1 accuracy against the true labels (single-label data with labels only)."""
        if self.confusion is None:
            return None
        return float(np.trace(self.confusion) / max(int(self.confusion.sum()), 1))

    def report(self) -> dict:
        """The JSON report: inputs, methods, versions, timings and summary statistics."""
        sim, ordering = self.similarity, self.ordering
        report = {
            "blocks_rx": __version__,
            "input": {"source": self.scores.source, "n_samples": self.scores.n_samples,
                      "n_classes": self.scores.n_classes, "dtype": str(self.scores.values.dtype),
                      "kind": self.scores.kind, "labels": self.scores.labels is not None},
            "similarity": sim.provenance(),
            "ordering": ordering.provenance(),
            "versions": _versions(),
            "timings_s": {k: round(v, 4) for k, v in self.timings.items()},
            "summary": {
                "off_diagonal_similarity": self.similarity_stats,
                "example_class": {"name": self.scores.classes[self.example_class],
                                  "values": self.example_stats},
            },
            "cuts": {str(k): int(v.max()) for k, v in self.cuts.items()},
            "warnings": list(self.warnings),
        }
        if self.criteria is not None:
            report["criteria"] = self.criteria
        if self.groups is not None:
            report["groups"] = self.groups.report()
        if self.confusion is not None:
            report["confusion"] = {"samples": int(self.confusion.sum()), "accuracy": self.accuracy}
        return report


def analyze(
    scores,
    *,
    method: str = "pearson",
    transform: str = "none",
    clip_negative: bool = False,
    order: str = "hclust",
    linkage: str = "complete",
    distance: str = "1-r",
    backend: str = "auto",
    taxonomy=None,
    control: dict | None = None,
    seed: int = 0,
    criteria: bool = False,
    groups: bool = True,
    n_groups: int | None = None,
    cuts=DEFAULT_CUTS,
    drop_constant: bool = False,
    block_size: int | None = None,
) -> Analysis:
    """Compute the ordered class-similarity matrix of a score matrix.

    Parameters mirror :func:`blocks_rx.similarity.compute` and
    :func:`blocks_rx.ordering.order_classes` (``order`` is ``hclust``, ``taxonomy``,
    ``identity`` or any R seriation method; ``backend`` picks R or its Python twin for
    hclust). ``criteria`` adds R seriation's criterion values of the order to the report;
    ``groups`` adds fuzzy, failed and split groups (:mod:`blocks_rx.groups`; orderings
    with a tree only), with ``n_groups`` fixed or chosen by the module's rule;
    ``drop_constant`` removes classes whose scores never vary instead of zeroing them.

    Examples
    --------
    >>> import numpy as np
    >>> S = np.random.default_rng(0).normal(size=(300, 5))
    >>> result = analyze(S)
    >>> result.ordering.order.shape, result.similarity.matrix.dtype
    ((5,), dtype('float32'))
    """
    timings = {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        started = time.perf_counter()
        if not isinstance(scores, Scores):
            scores = load_scores(scores)
        timings["load"] = time.perf_counter() - started

        similarity = compute(scores, method=method, transform=transform,
                             clip_negative=clip_negative, block_size=block_size)
        timings["similarity"] = similarity.seconds
        if drop_constant and similarity.constant_classes:
            scores, similarity = _drop_constant(scores, similarity)

        options = {"hclust": dict(linkage=linkage, distance=distance, backend=backend),
                   "taxonomy": dict(taxonomy=taxonomy), "identity": {}}.get(
            order, dict(distance=distance, control=control, seed=seed))
        ordering = order_classes(similarity, order, **options)
        timings["ordering"] = ordering.seconds
        criterion_values = None
        if criteria:
            started = time.perf_counter()
            criterion_values = ordering_criteria(similarity, ordering, distance=distance)
            timings["criteria"] = time.perf_counter() - started
        m = similarity.n_classes
        cut_levels = {k: ordering.cut(k) for k in cuts if ordering.merge is not None and k < m}
        findings = None
        if groups and ordering.merge is not None and m >= 4:
            findings = find_groups(similarity, ordering, n_groups=n_groups, seed=seed)
            timings["groups"] = findings.seconds

        started = time.perf_counter()
        example = typical_class(similarity)
        column = np.asarray(scores.values[:, example], dtype=np.float64)
        if transform != "none":  # show the values that were correlated
            column = _transformed_column(scores, transform, example)
        confusion = None
        if scores.labels is not None and scores.labels.ndim == 1:
            confusion = confusion_matrix(scores.labels, predictions(scores), m)
        similarity_stats, example_stats = describe(similarity.off_diagonal()), describe(column)
        timings["summary"] = time.perf_counter() - started
    for warning in caught:  # pass them on to the caller, and keep them for the report
        warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
    return Analysis(
        scores=scores, similarity=similarity, ordering=ordering, cuts=cut_levels,
        example_class=example, example_values=column, similarity_stats=similarity_stats,
        example_stats=example_stats, confusion=confusion,
        criteria=criterion_values, groups=findings, timings=timings,
        warnings=tuple(str(w.message) for w in caught),
    )


def find_groups(similarity: Similarity, ordering: Ordering, *, n_groups=None, seed: int = 0):
    """Fuzzy groups of the classes, and which of them the ordering fails or splits."""
    from .groups import coherent_groups, failed_groups, fuzzy_groups, split_groups

    started = time.perf_counter()
    found = fuzzy_groups(similarity, n_groups=n_groups, seed=seed)
    return GroupFindings(
        groups=found, failed=failed_groups(found, ordering, similarity),
        split=split_groups(similarity, ordering),
        coherent=coherent_groups(found, ordering, similarity),
        seconds=time.perf_counter() - started)


def _transformed_column(scores: Scores, transform: str, column: int) -> np.ndarray:
    convert = TRANSFORMS[transform]
    parts = [convert(block)[:, column] for _, block in scores.iter_chunks(65536)]
    return np.concatenate(parts).astype(np.float64)


def _drop_constant(scores: Scores, similarity: Similarity):
    constant = set(similarity.constant_classes)
    keep = np.array([c not in constant for c in scores.classes])
    kept = tuple(c for c, k in zip(scores.classes, keep) if k)
    labels = scores.labels
    if labels is not None and labels.ndim == 2:
        labels = labels[:, keep]
    elif labels is not None:
        # Samples of a dropped class keep their row; remap indices to the kept columns.
        remap = np.cumsum(keep) - 1
        labels = np.where(keep[labels], remap[labels], -1)
        if (labels < 0).any():
            labels = None  # a true class was dropped: no confusion matrix is well defined
    reduced = Scores(values=scores.values[:, keep], classes=kept, kind=scores.kind,
                     source=scores.source, labels=labels)
    matrix = similarity.matrix[np.ix_(keep, keep)]
    from dataclasses import replace

    return reduced, replace(similarity, matrix=matrix, classes=kept)


def _versions() -> dict:
    import numba
    import scipy

    from .r.session import versions as r_versions

    return {"python": platform.python_version(), "numpy": np.__version__,
            "scipy": scipy.__version__, "numba": numba.__version__,
            "blocks_rx": __version__, **r_versions()}


# --------------------------------------------------------------------------- writing


def write_outputs(analysis: Analysis, out_dir, *, dpi: int = 150) -> dict[str, Path]:
    """Write :data:`OUTPUT_FILES` into ``out_dir`` (created if needed), atomically.

    Returns the paths written, by file name.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".blocks-rx-", dir=out_dir))
    try:
        timings = dict(analysis.timings)
        started = time.perf_counter()
        _write_npz(analysis, staging / "similarity.npz")
        _write_order_csv(analysis, staging / "order.csv")
        timings["write_data"] = time.perf_counter() - started
        started = time.perf_counter()
        _write_figures(analysis, staging, dpi)
        timings["draw"] = time.perf_counter() - started
        report = analysis.report()
        report["timings_s"] = {k: round(v, 4) for k, v in timings.items()}
        names = OUTPUT_FILES + (GROUP_FILES if analysis.groups is not None else ())
        if analysis.groups is not None:
            _write_groups(analysis, staging, dpi)
        report["outputs"] = list(names)
        (staging / "report.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        written = {}
        for name in names:
            os.replace(staging / name, out_dir / name)
            written[name] = out_dir / name
        return written
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def read_outputs(out_dir) -> tuple[Similarity, Ordering, dict]:
    """Read what :func:`write_outputs` wrote: (Similarity, Ordering, report dict).

    >>> # sim, ordering, report = read_outputs("result/")
    """
    out_dir = Path(out_dir)
    for name in ("similarity.npz", "report.json"):
        if not (out_dir / name).exists():
            raise FileNotFoundError(f"{out_dir}: no {name}; is this a `blocks-rx analyze` output folder?")
    report = json.loads((out_dir / "report.json").read_text(encoding="utf-8"))
    with np.load(out_dir / "similarity.npz", allow_pickle=False) as npz:
        classes = tuple(str(c) for c in npz["classes"])
        sim_info, order_info = report["similarity"], report["ordering"]
        similarity = Similarity(
            matrix=npz["matrix"], classes=classes, method=sim_info["method"],
            kind=sim_info["kind"], transform=sim_info["transform"],
            clip_negative=sim_info["clip_negative"], n_samples=sim_info["n_samples"],
            constant_classes=tuple(sim_info["constant_classes"]), dtype=sim_info["dtype"],
            source=sim_info["source"])
        ordering = Ordering(
            order=npz["order"], classes=classes, method=order_info["method"],
            linkage=order_info["linkage"], distance=order_info["distance"],
            merge=npz["merge"] if "merge" in npz.files else None,
            height=npz["height"] if "height" in npz.files else None,
            backend=order_info["backend"], versions=order_info.get("versions", {}))
    return similarity, ordering, report


def _write_npz(analysis: Analysis, path: Path) -> None:
    ordering = analysis.ordering
    arrays = {
        "matrix": analysis.similarity.matrix.astype(np.float32),
        "classes": np.array(analysis.similarity.classes, dtype=str),
        "order": ordering.order.astype(np.int64),
    }
    if ordering.merge is not None:
        arrays["linkage"] = ordering.scipy_linkage()
        arrays["merge"] = ordering.merge
        arrays["height"] = ordering.height
    if analysis.confusion is not None:
        arrays["confusion"] = analysis.confusion
    with open(path, "wb") as handle:
        np.savez_compressed(handle, **arrays)


def _write_order_csv(analysis: Analysis, path: Path) -> None:
    import pandas as pd

    order = analysis.ordering.order
    table = pd.DataFrame({
        "position": np.arange(1, len(order) + 1),
        "index": order,
        "class": [analysis.similarity.classes[j] for j in order],
    })
    for k, groups in analysis.cuts.items():
        table[f"cluster_k{k}"] = groups[order]
    table.to_csv(path, index=False)


def _write_groups(analysis: Analysis, folder: Path, dpi: int) -> None:
    """groups.csv (class, crisp group, memberships, failed/split flags) and groups.png."""
    import pandas as pd

    from .plot import groups_heatmap

    findings = analysis.groups
    g = findings.groups
    classes = list(analysis.similarity.classes)
    table = pd.DataFrame({"class": classes, "group": [f"G{k + 1}" for k in g.crisp]})
    for k in range(g.memberships.shape[1]):
        table[f"membership_G{k + 1}"] = np.round(g.memberships[:, k], 6)
    failed_in = {c: [] for c in classes}
    for placement in findings.failed:
        for c in placement.classes:
            failed_in[c].append(f"G{placement.group + 1}")
    table["failed_groups"] = [";".join(failed_in[c]) for c in classes]
    split_in = {c: [] for c in classes}
    for number, pair in enumerate(findings.split, start=1):
        for c in pair.first.classes + pair.second.classes:
            split_in[c].append(f"S{number}")
    table["split_groups"] = [";".join(split_in[c]) for c in classes]
    table.to_csv(folder / "groups.csv", index=False)
    fig = groups_heatmap(analysis.similarity, analysis.ordering, g, failed=findings.failed,
                         split=findings.split, coherent=findings.coherent)
    fig.savefig(folder / "groups.png", dpi=dpi)


def _write_figures(analysis: Analysis, folder: Path, dpi: int) -> None:
    from .plot import distributions, heatmap

    fig = heatmap(analysis.similarity, analysis.ordering)
    fig.savefig(folder / "heatmap.png", dpi=dpi)
    sim = analysis.similarity
    label = f"{sim.method} on {sim.kind}" + (f" ({sim.transform})" if sim.transform != "none" else "")
    fig = distributions([{
        "label": label,
        "class_name": analysis.scores.classes[analysis.example_class],
        "values": analysis.example_values,
        "values_stats": analysis.example_stats,
        "similarities": sim.off_diagonal(),
        "similarity_stats": analysis.similarity_stats,
    }])
    fig.savefig(folder / "distributions.png", dpi=dpi)
