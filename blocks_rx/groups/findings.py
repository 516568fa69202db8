"""All findings at once (:func:`find_groups`, :class:`GroupFindings`) and the registry of
group methods (:data:`GROUP_METHODS`)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..ordering import Ordering, matrix_and_names
from ..registry import Cost, Entry, Option, Registry
from ._common import _same_classes
from .failed import GroupPlacement, coherent_groups, failed_groups
from .fuzzy import EMBEDDINGS, INDICES, Groups, _check_class_count, fuzzy_groups
from .split import SplitGroup, split_groups
from .._warn import warn_caller

@dataclass(frozen=True, eq=False)
class GroupFindings:
    """Fuzzy groups and what they say about an ordering: what :func:`find_groups` returns.

    Attributes
    ----------
    fuzzy : Groups
        The fuzzy (overlapping) groups (:func:`fuzzy_groups`).
    failed : list of GroupPlacement
        Groups the ordering scatters although their members are alike
        (:func:`failed_groups`), most "failed" first.
    split : list of SplitGroup
        Dense block pairs across the top-level clusters (:func:`split_groups`); empty
        below 4 classes, too few for two blocks in each of two clusters.
    coherent : list of GroupPlacement
        Groups the ordering keeps in one block (:func:`coherent_groups`), by position.
    seconds : float
        Time to find all of them.
    """

    fuzzy: Groups
    failed: list
    split: list
    coherent: list
    seconds: float = 0.0

    @property
    def groups(self) -> Groups:
        """Deprecated: :attr:`fuzzy` (``analysis.groups.groups`` said "groups" twice)."""
        warn_caller("GroupFindings.groups is deprecated; use GroupFindings.fuzzy", DeprecationWarning)
        return self.fuzzy

    def to_frame(self):
        """One row per class (input order): the crisp group and memberships
        (:meth:`Groups.to_frame`), then the failed and split groups the class is in with
        their z-scores, ``;``-separated in the order of :attr:`failed` and :attr:`split`:
        the columns of ``groups.csv``."""
        import pandas as pd

        return pd.DataFrame(self.columns()).set_index("class")

    def columns(self) -> dict:
        """:meth:`to_frame`'s columns, by name, without pandas: ``class`` first (there,
        the index)."""
        columns = self.fuzzy.columns()
        classes = list(self.fuzzy.classes)
        failed_in = {c: [] for c in classes}
        for placement in self.failed:
            z = getattr(placement.evidence, "z", float("nan"))
            for c in placement.classes:
                failed_in[c].append((f"G{placement.group + 1}", f"{z:.2f}"))
        split_in = {c: [] for c in classes}
        for number, pair in enumerate(self.split, start=1):
            for c in pair.first.classes + pair.second.classes:
                split_in[c].append((f"S{number}", f"{pair.z:.2f}"))
        for name, found in (("failed", failed_in), ("split", split_in)):
            columns[f"{name}_groups"] = [";".join(g for g, _ in found[c]) for c in classes]
            columns[f"{name}_z"] = [";".join(z for _, z in found[c]) for c in classes]
        return columns

    def _repr_html_(self) -> str:
        from ..summaries import html_summary

        def listed(items, label):
            def z(x):
                return getattr(x, "z", getattr(getattr(x, "evidence", None), "z", float("nan")))
            return ", ".join(f"{label(i, x)} (z {z(x):.1f})"
                             for i, x in enumerate(items, start=1)) or "none"

        rows = [("fuzzy groups", f"{self.fuzzy.n_groups} ({self.fuzzy.method})"),
                ("coherent", len(self.coherent)),
                ("failed", listed(self.failed, lambda i, p: f"G{p.group + 1}")),
                ("split", listed(self.split, lambda i, p: f"S{i}")),
                ("rules", "failed and split: z against random groups, corrected p <= 0.01")]
        return html_summary("Group findings", rows)

    def report(self) -> dict:
        """The findings as plain JSON-ready values (the ``groups`` part of report.json)."""
        g = self.fuzzy
        return {
            "method": g.method, "fuzzifier": float(g.fuzzifier),
            "n_groups": int(g.memberships.shape[1]), "index": g.index,
            "embedding": g.embedding, "n_components": int(g.n_components),
            "threshold": float(g.threshold), "seed": int(g.seed),
            "seconds": round(self.seconds, 3),
            "failed": [_failed_report(p) for p in self.failed],
            "split": [_split_report(split) for split in self.split],
            "coherent": [{"group": f"G{p.group + 1}", "classes": list(p.classes)}
                         for p in self.coherent],
        }


def _pieces_of_failed(pair: SplitGroup, failed: list) -> bool:
    """Whether most classes on both sides of a split pair belong to one failed group."""
    for group in failed:
        members = set(group.classes)
        if all(2 * len(members.intersection(side.classes)) > side.size
               for side in (pair.first, pair.second)):
            return True
    return False


def _failed_report(p: GroupPlacement) -> dict:
    e = p.evidence
    return {"group": f"G{p.group + 1}", "classes": list(p.classes), "n_runs": int(p.n_runs),
            "largest_run": int(p.largest_run), "dispersion": round(float(p.dispersion), 4),
            "within": round(float(p.within), 4), "background": round(float(p.background), 4),
            "across": round(e.across, 4),
            "expected_by_tree": round(e.expected, 4), "residual": round(e.residual, 4),
            "null_mean": round(e.null_mean, 4), "null_sd": round(e.null_sd, 4),
            "z": round(e.z, 2), "p_adjusted": float(f"{e.p_adjusted:.3g}"),
            "n_draws": e.n_draws}


def _split_report(s: SplitGroup) -> dict:
    return {"first": list(s.first.classes), "second": list(s.second.classes),
            "mean": round(s.mean, 4), "background": round(s.background, 4),
            "null_mean": round(s.null_mean, 4), "null_sd": round(s.null_sd, 4),
            "z": round(s.z, 2), "p_adjusted": float(f"{s.p_adjusted:.3g}"),
            "n_candidates": s.n_candidates, "n_draws": s.n_draws}


def find_groups(
    similarity,
    ordering: Ordering,
    *,
    n_groups: int | None = None,
    fuzzifier: float = 2.0,
    embedding: str = "spectral",
    index: str = "eigen",
    seed: int = 0,
) -> GroupFindings:
    """Fuzzy groups of the classes, and which of them an ordering fails, splits or keeps.

    Runs :func:`fuzzy_groups` (with ``n_groups``, ``fuzzifier``, ``embedding``, ``index``
    and ``seed``), then :func:`failed_groups`, :func:`split_groups` and
    :func:`coherent_groups` with their defaults. The ``"fuzzy-cmeans"`` entry of
    :data:`GROUP_METHODS`.

    Parameters
    ----------
    similarity : Similarity or ndarray (m, m)
    ordering : Ordering
        Of the same classes, with a tree (hclust): split groups are found by cutting it.
    n_groups : int, optional
        Number of groups; by default chosen from the eigenvalues of the similarity matrix.
    fuzzifier : float
        Fuzzy c-means' fuzzifier, > 1.
    embedding : {"spectral", "pca", "none"}
    index : {"eigen", "fpc", "mpc", "xie-beni"}
    seed : int

    Returns
    -------
    GroupFindings
        ``split`` is empty below 4 classes.

    Raises
    ------
    ValueError
        Fewer than 3 classes, an ordering of other classes or without a tree, or an option
        :func:`fuzzy_groups` rejects.

    Examples
    --------
    >>> import numpy as np, blocks_rx
    >>> rng = np.random.default_rng(0)
    >>> S = 2 * rng.normal(size=(400, 3))[:, np.repeat([0, 1, 2], 5)] + rng.normal(size=(400, 15))
    >>> sim = blocks_rx.compute_similarity(S)
    >>> found = find_groups(sim, blocks_rx.order_classes(sim))
    >>> found.fuzzy.n_groups, len(found.failed), [p.span for p in found.coherent]
    (3, 0, [(0, 5), (5, 10), (10, 15)])
    >>> found.report()["fuzzifier"]
    2.0
    """
    started = time.perf_counter()
    _, names = matrix_and_names(similarity, None)
    _check_class_count(len(names))  # before the ordering: too few classes have no tree
    _same_classes(names, ordering)
    if ordering.merge is None:
        raise ValueError(f"group findings need an ordering with a tree; a {ordering.method!r} "
                         "ordering has none (use hclust)")
    found = fuzzy_groups(similarity, n_groups=n_groups, fuzzifier=fuzzifier, seed=seed,
                         embedding=embedding, index=index)
    # A split group pairs two blocks in each of two top-level clusters: 4 classes at least.
    split = split_groups(similarity, ordering, seed=seed) if len(names) >= 4 else []
    if found.collapsed:  # near-uniform memberships: no group of this fit means anything
        failed, coherent = [], []
    else:
        failed = failed_groups(found, ordering, similarity, seed=seed)
        coherent = coherent_groups(found, ordering, similarity)
    # Pieces of a failed group that hclust peels off on both sides of the top level form
    # dense blocks too: they are that failed group, reported once.
    split = [pair for pair in split if not _pieces_of_failed(pair, failed)]
    return GroupFindings(fuzzy=found, failed=failed, split=split, coherent=coherent,
                         seconds=time.perf_counter() - started)


def load_compiled() -> None:
    """Load the compiled code :func:`find_groups` runs (fuzzy c-means, the failed groups'
    residual sums) from numba's cache, with numba and SciPy's linear algebra, by running it
    on a tiny input: 0.5 s of a fresh process on this project's 2-core machines, which its
    first groups would otherwise spend.

    >>> load_compiled()
    """
    import scipy.linalg  # noqa: F401 - the spectrum's eigh

    from . import _cmeans, _residual

    points = np.array([[0.0, 0.1, 1.0, 1.1]])
    memberships = np.array([[0.9, 0.8, 0.2, 0.1], [0.1, 0.2, 0.8, 0.9]])
    _cmeans.cmeans(points, 2, 2.0, 1e-5, 2, memberships)
    two = np.arange(2, dtype=np.int64)
    # The similarity's own precision: float32 (a float64 one loads on its first use).
    _residual.cross_run_sums(np.eye(2, dtype=np.float32), two, np.ones(1, dtype=np.int64),
                             np.zeros(2), two, two)


# --------------------------------------------------------------------------- registry


@dataclass(frozen=True)
class GroupMethod(Entry):
    """A group method and its facts.

    ``needs_tree``: its failed and split groups need an ordering with a tree (hclust).
    ``dense_copies``: how many m x m float64 arrays it holds at its peak beyond the
    similarity matrix, for a memory estimate (:meth:`memory_bytes`).
    ``cost``: how its time grows with the number of classes.
    ``load``: loads what the method runs (its compiled code from numba's cache, the
    libraries it uses), so that its first call in a process does not; ``analyze`` calls it
    while the similarity is computed, on a CPU the similarity leaves free.

    >>> GROUP_METHODS["fuzzy-cmeans"].bind({"n_groups": 3})
    {'n_groups': 3, 'fuzzifier': 2.0, 'embedding': 'spectral', 'index': 'eigen'}
    >>> GROUP_METHODS["fuzzy-cmeans"].memory_bytes(10_000) / 1e9
    0.4
    """

    needs_tree: bool = True
    dense_copies: float = 0.0
    cost: Cost = field(default_factory=Cost)
    load: Callable[[], None] | None = None

    def memory_bytes(self, m: int) -> int:
        """Estimated peak working memory on ``m`` classes, in bytes."""
        return int(self.dense_copies * 8 * m * m)


GROUP_METHODS: Registry[GroupMethod] = Registry("group method")

# dense_copies: 0.5, one float32 m x m working copy at most, an allowance for the split
# groups, which read M in float32 stripes. The leading eigenvectors make no m x m copy: the
# block Krylov solver (_leading_eigh) multiplies the float32 M itself and holds O(m k), about
# 9 KB a class for k = 32 (preflight counts it apart); the embeddings are m x d and the
# memberships m x c. embedding="none" is outside this count: its raw rows are an m x m
# float64 copy, and cmeans transposes them. benchmarks/preflight.py at 2,000 x 10,000: the
# groups step peaks 750 MB above the job's start (the 400 MB matrix included), 1,140 MB
# estimated.
GROUP_METHODS.register(GroupMethod(
    "fuzzy-cmeans", find_groups,
    "fuzzy c-means on the spectral embedding of M; failed, split and coherent groups",
    options=(
        Option("n_groups", None, "number of groups (default: chosen from the eigenvalues)",
               type=int, metavar="INT", bounds=(2, None)),
        Option("fuzzifier", 2.0, "fuzzy c-means' fuzzifier, > 1: larger gives softer "
               "memberships", type=float, metavar="FLOAT"),
        Option("embedding", "spectral", "rows of M that fuzzy c-means runs on",
               choices=tuple(EMBEDDINGS)),
        Option("index", "eigen", "what chooses the number of groups when n_groups is not "
               "given", choices=tuple(INDICES)),
    ),
    # Time: find_groups on benchmarks/groups.py's planted matrices, 2-core machine: 37 s at
    # 10,000 classes, 99 s at 20,000 (fuzzy c-means 59 s of it, the spectrum 12 s). The
    # spectrum and the split groups grow as m^2 (k fixed), fuzzy c-means as m.
    needs_tree=True, dense_copies=0.5, cost=Cost("polynomial", 2, 20000, 99.0),
    load=load_compiled))
