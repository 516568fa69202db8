"""The whole job, scores -> similarity -> ordering -> groups -> summary: :func:`analyze`.

Every choice is a registry name (:data:`~blocks_rx.similarity.MEASURES`,
:data:`~blocks_rx.scores.TRANSFORMS`, :data:`~blocks_rx.ordering.ORDERINGS`,
:data:`~blocks_rx.groups.GROUP_METHODS`); a method's own options are passed by keyword and
routed to the method that takes them, so adding a method never touches this module.
``analyze`` computes and returns an :class:`Analysis`; :mod:`blocks_rx.results` writes it.
Before allocating anything it runs the preflight (:mod:`blocks_rx.preflight`): a job that
cannot fit in memory is refused at once, and slow methods are announced before they start.

The scores are read once: the similarity pass (on the chosen engine,
:data:`~blocks_rx.engines.ENGINES`) also hands every block of rows to block observers that
keep a row sample for the distribution check and each row's prediction for the confusion
matrix; the summary statistics of the matrix stream over stripes of it (the report's
``summary_method`` says how each was made).
"""

from __future__ import annotations

import contextlib
import platform
import time
import warnings
from dataclasses import dataclass, field, replace

import numpy as np

from . import __version__
from ._idle import idle_thread
from .ordering import ORDERINGS, Ordering, SlowMethodWarning, order_classes, resolve_backend
from .progress import enabled_as, stage
from .registry import Option, OptionError
from .scores import TRANSFORMS, Scores
from .similarity import (SUMMARY_METHOD, Similarity, compute, confusion_matrix, describe,
                         describe_off_diagonal, predictions, typical_class)
from ._warn import warn_caller

#: Flat cuts reported in order.csv (those below the number of classes).
DEFAULT_CUTS = (2, 4, 8, 16)

#: Fuzzy groups need at least this many classes to say anything.
MIN_CLASSES_FOR_GROUPS = 4

#: Bytes of score rows kept, in the one pass, for the distribution check of the example
#: class (all rows when they fit; else a seeded uniform sample of rows).
SAMPLE_BYTES = 64 * 2**20


@dataclass(frozen=True, eq=False)
class Analysis:
    """Everything one run computed; written by :func:`blocks_rx.results.write`."""

    scores: Scores = field(repr=False)
    similarity: Similarity
    ordering: Ordering
    cuts: dict = field(repr=False)
    example_class: int
    example_values: np.ndarray = field(repr=False)
    similarity_stats: dict = field(default_factory=dict, repr=False)
    example_stats: dict = field(default_factory=dict, repr=False)
    #: How the summary was gathered: the example values' rows, the passes over the input.
    summary_method: dict = field(default_factory=dict, repr=False)
    confusion: np.ndarray | None = field(default=None, repr=False)
    criteria: dict | None = None
    findings: object | None = None
    timings: dict = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    plan: object | None = field(default=None, repr=False)

    @property
    def groups(self):
        """Deprecated name of :attr:`findings`."""
        warn_caller("Analysis.groups is now Analysis.findings", DeprecationWarning)
        return self.findings

    @property
    def accuracy(self) -> float | None:
        """Top-1 accuracy against the true labels (single-label data with labels only)."""
        if self.confusion is None:
            return None
        return float(np.trace(self.confusion) / max(int(self.confusion.sum()), 1))

    def to_frame(self):
        """The order with the group at each cut: the columns of ``order.csv``
        (:meth:`blocks_rx.ordering.Ordering.to_frame`)."""
        import pandas as pd

        return pd.DataFrame(self.columns())

    def columns(self) -> dict:
        """:meth:`to_frame`'s columns, by name, without pandas."""
        columns = self.ordering.columns()
        order = np.asarray(self.ordering.order)
        for k, groups in self.cuts.items():
            columns[f"cluster_k{k}"] = np.asarray(groups)[order]
        return columns

    def _repr_html_(self) -> str:
        from .summaries import first_names, html_summary, matrix_thumbnail

        sim, ordering = self.similarity, self.ordering
        rows = [("input", f"{self.scores.source}: {self.scores.n_samples:,} samples x "
                          f"{self.scores.n_classes:,} classes ({self.scores.kind})"),
                ("similarity", f"{sim.measure}"
                 + (f" ({sim.transform})" if sim.transform != "none" else "")),
                ("order", ordering.method + (f", {ordering.linkage} linkage on "
                                             f"{ordering.distance}" if ordering.linkage else "")),
                ("first in order", first_names(ordering.ordered_classes))]
        if self.accuracy is not None:
            rows.append(("top-1 accuracy", f"{self.accuracy:.3f}"))
        if self.findings is not None:
            rows.append(("groups", f"{self.findings.fuzzy.n_groups} fuzzy; "
                                   f"{len(self.findings.failed)} failed, "
                                   f"{len(self.findings.split)} split"))
        rows.append(("seconds", f"{sum(self.timings.values()):.1f}"))
        rows += [("warning", w) for w in self.warnings]
        picture = matrix_thumbnail(sim.matrix, ordering.order)
        return html_summary("blocks-rx analysis", rows, picture)

    def report(self) -> dict:
        """The JSON report: inputs, methods, versions, timings and summary statistics."""
        scores = self.scores
        report = {
            "blocks_rx": __version__,
            "input": {"source": scores.source, "n_samples": scores.n_samples,
                      "n_classes": scores.n_classes, "dtype": str(scores.values.dtype),
                      "kind": scores.kind, "labels": scores.labels is not None},
            "similarity": self.similarity.provenance(),
            "ordering": self.ordering.provenance(),
            "versions": _versions(),
            "timings_s": {k: round(v, 4) for k, v in self.timings.items()},
            "summary": {
                "off_diagonal_similarity": self.similarity_stats,
                "example_class": {"name": scores.classes[self.example_class],
                                  "values": self.example_stats},
                "summary_method": self.summary_method,
            },
            "cuts": {str(k): int(v.max()) for k, v in self.cuts.items()},
            "warnings": list(self.warnings),
        }
        if self.plan is not None:
            report["preflight"] = {"peak_bytes": int(self.plan.peak),
                                   "steps": {s.name: int(s.bytes) for s in self.plan.steps}}
        if self.criteria is not None:
            report["criteria"] = self.criteria
        if self.findings is not None:
            report["groups"] = self.findings.report()
        if self.confusion is not None:
            report["confusion"] = {"samples": int(self.confusion.sum()), "accuracy": self.accuracy}
        return report


def analyze(
    scores,
    *,
    classes=None,
    labels=None,
    kind: str | None = None,
    measure: str = "pearson",
    transform: str = "none",
    clip_negative: bool = False,
    drop_constant: bool = False,
    ordering: str = "hclust",
    groups: str | bool | None = "fuzzy-cmeans",
    cuts=None,
    criteria: bool = False,
    seed: int = 0,
    block_size: int | None = None,
    max_memory: float | None = None,
    method: str | None = None,
    order: str | None = None,
    progress: bool | None = None,
    engine: str = "numpy",
    before_ordering=None,
    before_groups=None,
    **options,
) -> Analysis:
    """Compute the ordered class-similarity matrix of a score matrix, and its groups.

    Parameters
    ----------
    scores : Scores, ndarray, DataFrame or path
        Anything :func:`blocks_rx.load_scores` accepts.
    classes, labels, kind
        What :func:`blocks_rx.load_scores` takes with them (class names, true labels for the
        confusion matrix, what the scores are: "logits" unless given), for scores not
        loaded yet.
    measure, transform : str
        Names in :data:`~blocks_rx.similarity.MEASURES` and
        :data:`~blocks_rx.scores.TRANSFORMS`.
    clip_negative, drop_constant : bool
        Set negative correlations to 0; remove classes whose scores never vary.
    ordering : str
        A name in :data:`~blocks_rx.ordering.ORDERINGS` (hclust, taxonomy, identity, seriation).
    groups : str or None
        A name in :data:`~blocks_rx.groups.GROUP_METHODS`, or None; needs an ordering with a tree.
    cuts : sequence of int, optional
        Flat cuts listed in ``order.csv``; default :data:`DEFAULT_CUTS` below the class count.
    criteria, seed, block_size
        Add R seriation's criteria of the order to the report; the seed of every stochastic
        step (seriation, fuzzy c-means); samples per streamed block.
    max_memory : float, optional
        Bytes the job may use (default: what is available); a job estimated to need more is
        refused before it starts (:class:`~blocks_rx.preflight.PreflightError`).
    method, order : str, optional
        Deprecated names of ``measure`` and ``ordering``.
    progress : bool, optional
        Show the progress of long steps on stderr (True), never (False); default: as set
        for the process (:mod:`blocks_rx.progress`: only when stderr is a terminal).
    engine : str
        A name in :data:`~blocks_rx.engines.ENGINES` (numpy, torch, dask): what computes the
        similarity. Everything the summary needs from the scores (a row sample for the
        distribution check, the predictions for the confusion matrix) is gathered in the
        same pass over the input.
    before_ordering, before_groups : callable, optional
        Called with the analysis so far: the similarity and its summary, before the classes
        are ordered (``ordering`` None); then ordered as well, just before the groups are
        sought (``findings`` None; not called when none are). ``blocks-rx analyze`` starts
        the process that draws the pictures at the first, and sends it the order at the
        second (:class:`blocks_rx.results.DrawnAhead`).
    **options
        The chosen methods' own options (``linkage``, ``distance``, ``hclust_backend``,
        ``taxonomy``, ``control``, ``n_groups``, ``fuzzifier``...; the engine's ``device``
        or ``scheduler``); see :func:`route_options` and :func:`engine_options`.

    Examples
    --------
    >>> import numpy as np
    >>> S = np.random.default_rng(0).normal(size=(300, 5))
    >>> result = analyze(S, linkage="average", hclust_backend="python")
    >>> result.ordering.order.shape, result.ordering.linkage, result.similarity.matrix.dtype
    ((5,), 'average', dtype('float32'))
    """
    measure, ordering, groups = _renamed(measure, ordering, groups, method, order, options)
    seed, block_size, cuts = _checked_general(seed, block_size, cuts, max_memory)
    engine_kwargs = engine_options(engine, options)
    ordering_options, group_options = route_options(ordering, groups, options, seed)
    timings: dict[str, float] = {}
    with _recorded_warnings() as caught, enabled_as(progress):
        scores = _load(scores, cuts, timings, engine,
                       dict(classes=classes, labels=labels, kind=kind))
        plan, backend = _preflight(scores, measure, ordering, ordering_options, groups,
                                   criteria, block_size, max_memory, engine)
        gathered = _OnePass(scores, seed)
        similarity = _similarity(scores, gathered, groups, timings, measure=measure,
                                 transform=transform, clip_negative=clip_negative,
                                 block_size=block_size, engine=engine, **engine_kwargs)
        if drop_constant and similarity.constant_classes:
            scores, similarity = _drop_constant(scores, similarity)
        summarised = _summarised(scores, similarity, transform, gathered, seed, timings,
                                 plan=plan, warnings=tuple(caught))
        if before_ordering is not None:
            before_ordering(summarised)
        so_far = _ordered(summarised, ordering, backend, ordering_options, criteria, cuts)
        if before_groups is not None and groups is not None:
            before_groups(so_far)
        findings = _groups(similarity, so_far.ordering, groups, group_options, seed, timings)
    return replace(so_far, findings=findings, warnings=tuple(caught))


def _similarity(scores, gathered, groups, timings, **options) -> Similarity:
    """The similarity (timed), its one pass over the scores feeding ``gathered``; meanwhile
    the group method loads its compiled code on a CPU the similarity leaves free."""
    from .groups import GROUP_METHODS

    load = GROUP_METHODS[groups].load if groups is not None else None
    loading = (idle_thread(load, name="blocks-rx: loading the groups")
               if load is not None and scores.n_samples * scores.n_classes >= LOAD_WHILE_ABOVE
               else contextlib.nullcontext())
    with loading:
        similarity = compute(scores, observers=gathered.observers, **options)
    timings["similarity"] = similarity.seconds
    gathered.complete(scores)
    return similarity


#: Scores (samples x classes) from which the group method loads its compiled code while
#: the similarity is computed (:func:`blocks_rx._idle.idle_thread`): the similarity's passes
#: between its products then leave a CPU free for 0.1 s or more; at 100,000 x 2,622, 0.9 s,
#: and the groups took 0.65 s instead of 1.05 s.
LOAD_WHILE_ABOVE = 30_000_000


def _summarised(scores, similarity, transform, gathered, seed, timings, **fields) -> Analysis:
    """The analysis with the similarity's summary (the Fig. 1 check, the confusions), not
    yet ordered (``ordering`` None)."""
    with _timed(timings, "summary"), stage("summary"):
        summary = _summary(scores, similarity, transform, gathered, seed)
    return Analysis(scores=scores, similarity=similarity, ordering=None, cuts={},
                    timings=timings, **fields, **summary)


def _ordered(summarised: Analysis, ordering: str, backend, options: dict, criteria: bool,
             cuts) -> Analysis:
    """The analysis with its classes ordered, the order's cuts and (when asked) criteria."""
    similarity, timings = summarised.similarity, summarised.timings
    with stage(_ordering_step(ordering, backend, options)):
        arranged = order_classes(similarity, ordering, **options)
    timings["ordering"] = arranged.seconds
    return replace(summarised, ordering=arranged, cuts=_cuts(arranged, cuts),
                   criteria=_criteria(similarity, arranged, timings) if criteria else None)


def route_options(ordering: str, groups: str | None, options: dict, seed: int):
    """Split ``options`` between the ordering and the group method that take them.

    Returns (ordering kwargs, group kwargs), each checked and completed with its defaults.
    ``seed`` goes to every method that takes one.

    >>> route_options("hclust", None, {"linkage": "single"}, 0)[0]["linkage"]
    'single'
    >>> route_options("OLO", None, {"linkage": "single"}, 0)
    Traceback (most recent call last):
    ...
    blocks_rx.errors.OptionError: option linkage does not apply: ordering method 'OLO' takes distance, control, seed; no group method was chosen
    """
    from .groups import GROUP_METHODS

    order_entry = ORDERINGS[ordering]
    group_entry = GROUP_METHODS[groups] if groups is not None else None
    order_names = {o.name for o in order_entry.options}
    group_names = {o.name for o in group_entry.options} if group_entry else set()
    foreign = [k for k in options if k not in order_names | group_names]
    if foreign:
        takes = [f"ordering method {ordering!r} takes "
                 + (", ".join(o.name for o in order_entry.options) or "no options")]
        takes.append(f"group method {groups!r} takes "
                     + ", ".join(o.name for o in group_entry.options) if group_entry
                     else "no group method was chosen")
        raise OptionError(f"option {', '.join(foreign)} does not apply: {'; '.join(takes)}")
    given = {k: v for k, v in options.items() if k in order_names}
    if "seed" in order_names:
        given.setdefault("seed", seed)
    ordering_kwargs = order_entry.bind(given, kind="ordering method")
    group_kwargs = (group_entry.bind({k: v for k, v in options.items() if k in group_names},
                                     kind="group method") if group_entry else {})
    return ordering_kwargs, group_kwargs


def engine_options(engine: str, options: dict) -> dict:
    """Take the engine's options out of ``options`` (in place), checked and completed.

    An option of another engine is an :class:`OptionError` naming what the chosen one takes.

    >>> options = {"device": "cpu", "linkage": "single"}
    >>> engine_options("torch", options), options
    ({'device': 'cpu'}, {'linkage': 'single'})
    >>> engine_options("numpy", {"scheduler": "tcp://localhost:8786"})
    Traceback (most recent call last):
    ...
    blocks_rx.errors.OptionError: engine 'numpy' does not take scheduler (it takes no options)
    """
    from .engines import ENGINES

    entry = ENGINES[engine]
    names = set(ENGINES.options())
    given = {name: options.pop(name) for name in list(options) if name in names}
    return entry.bind(given, kind="engine")


def _checked_general(seed, block_size, cuts, max_memory):
    """The options every job takes, checked: (seed, block_size, cuts) or OptionError."""
    from .ordering.registry import SEED_BOUNDS

    seed = Option("seed", 0, "", type=int, bounds=SEED_BOUNDS).check(seed, "analyze")
    if block_size is not None:
        block_size = Option("block_size", None, "", type=int, bounds=(1, None)).check(
            block_size, "analyze")
    if max_memory is not None:
        Option("max_memory", None, "", type=float, bounds=(1, None)).check(max_memory, "analyze")
    if cuts is not None:
        if isinstance(cuts, (str, bytes)) or not hasattr(cuts, "__iter__"):
            raise OptionError(f"analyze: cuts must be a sequence of whole numbers such as "
                              f"[2, 4], got {cuts!r}")
        cut = Option("cuts", None, "", type=int, bounds=(1, None))
        cuts = tuple(cut.check(k, "analyze") for k in cuts)
    return seed, block_size, cuts


def _renamed(measure, ordering, groups, method, order, options):
    """Old spellings, still accepted with a DeprecationWarning."""
    renames = {"method": ("measure", method), "order": ("ordering", order),
               "backend": ("hclust_backend", options.pop("backend", None))}
    for old, (new, value) in renames.items():
        if value is not None:
            warn_caller(f"analyze({old}=...) is now analyze({new}=...)", DeprecationWarning)
    measure = method if method is not None else measure
    ordering = order if order is not None else ordering
    if renames["backend"][1] is not None:
        options["hclust_backend"] = renames["backend"][1]
    if groups is True:
        groups = "fuzzy-cmeans"
    elif groups is False:
        groups = None
    return measure, ordering, groups


def _preflight(scores, measure, ordering, ordering_options, groups, criteria, block_size,
               max_memory, engine="numpy"):
    """Refuse a job that cannot fit; announce slow steps before they start.

    Returns the plan and the hclust backend that will run (None for other orderings).
    """
    from .preflight import plan

    backend = ordering_options.get("hclust_backend")
    if backend is not None:  # resolve "auto" now: R and the twin differ in memory
        backend, _ = resolve_backend(backend, scores.n_classes)
    job = plan(scores.n_samples, scores.n_classes, itemsize=scores.dtype.itemsize,
               measure=measure, ordering=ordering, hclust_backend=backend or "python",
               groups=groups, criteria=criteria, block_size=block_size, engine=engine)
    job.check(max_memory=max_memory)
    for text in job.warnings:
        warn_caller(text, SlowMethodWarning)
    return job, backend


def _ordering_step(ordering: str, backend: str | None, options: dict) -> str:
    """The ordering step's name in progress lines, e.g. ``ordering (R hclust, complete linkage)``.
    """
    if backend is not None:
        where = "R hclust" if backend == "r" else "hclust, Python twin"
        linkage = options.get("linkage")
        return f"ordering ({where}" + (f", {linkage} linkage)" if linkage else ")")
    if ORDERINGS[ordering].needs_r:
        return f"ordering (R seriation {ordering})"
    return f"ordering ({ordering})"


def _criteria(similarity, arranged, timings) -> dict | None:
    """R seriation's criteria of the order, or None with a warning when R cannot give them."""
    from .ordering import criteria
    from .r.session import RUnavailable

    try:
        with _timed(timings, "criteria"), stage("criteria (R seriation)"):
            return criteria(similarity, arranged)
    except RUnavailable as exc:
        warn_caller(f"no criteria: they are computed by R's seriation package, and "
                    f"{str(exc).split('. ')[0]}")
        return None


def _cuts(arranged: Ordering, cuts) -> dict:
    """Flat cuts of the tree; given cuts that cannot be made are named in a warning."""
    if arranged.merge is None:
        return {}
    m = arranged.n_classes
    if cuts is None:
        return {k: arranged.cut_labels(k) for k in DEFAULT_CUTS if k < m}
    dropped = [k for k in cuts if k > m]
    if dropped:  # only after --drop-constant removed classes
        warn_caller(f"cuts {', '.join(map(str, dropped))} not listed in order.csv: "
                    f"{m} classes are left after dropping the constant ones")
    return {k: arranged.cut_labels(k) for k in cuts if k <= m}


def _load(scores, cuts, timings: dict, engine: str = "numpy", how: dict | None = None) -> Scores:
    """The scores, loaded (and timed) unless they are Scores already; cuts checked on them.
    Dask arrays, zarr, HDF5 and ``.npy`` shards are opened lazily (no data read). ``how``:
    what load_scores takes with them (classes, labels, kind)."""
    from .engines.inputs import open_scores

    how = {name: value for name, value in (how or {}).items() if value is not None}
    with _timed(timings, "load"):
        if isinstance(scores, Scores):
            if how:
                raise OptionError(f"analyze: {', '.join(how)} given for scores that are "
                                  f"loaded already; pass them to load_scores instead")
        else:
            with stage("reading scores"):
                scores = open_scores(scores, engine=engine, **how)
    _check_cuts(cuts, scores.n_classes)
    return scores


def _check_cuts(cuts, m: int) -> None:
    """Refuse cuts into more groups than there are classes, before any work."""
    too_many = [k for k in cuts or () if k > m]
    if too_many:
        raise OptionError(f"cuts: {', '.join(map(str, too_many))} is more groups than the {m} "
                          f"classes; a cut makes 1 to {m} groups")


def _groups(similarity, arranged: Ordering, groups, group_options, seed, timings):
    """The group method's findings, or None (with a warning saying why, when asked for)."""
    if groups is None:
        return None
    from .groups import GROUP_METHODS

    entry = GROUP_METHODS[groups]
    if entry.needs_tree and arranged.merge is None:
        warn_caller(f"no groups: {groups} needs an ordering with a tree, and "
                    f"{arranged.method!r} has none (hclust, HC, GW and OLO have one)")
        return None
    if similarity.n_classes < MIN_CLASSES_FOR_GROUPS:
        warn_caller(f"no groups: {similarity.n_classes} classes are too few "
                    f"(groups need at least {MIN_CLASSES_FOR_GROUPS})")
        return None
    with stage(f"groups ({groups})"):
        findings = entry.function(similarity, arranged, seed=seed, **group_options)
    timings["groups"] = findings.seconds
    return findings


class _OnePass:
    """The block observers ``analyze`` hands to the similarity pass: a row sample for the
    distribution check and, for single-label data, every row's prediction."""

    def __init__(self, scores: Scores, seed: int):
        from .engines.observers import Predictions, RowSample

        self.classes = scores.classes
        self.sample = RowSample.uniform(scores.n_samples, scores.n_classes, scores.dtype,
                                        budget_bytes=SAMPLE_BYTES, seed=seed)
        labelled = scores.labels is not None and scores.labels.ndim == 1
        self.predictions = Predictions(scores.n_samples) if labelled else None
        self.reads = 1

    @property
    def observers(self) -> tuple:
        return tuple(o for o in (self.sample, self.predictions) if o is not None)

    def complete(self, scores: Scores) -> None:
        """Read the input again only if the similarity pass did not show every row once
        (a measure that reads the scores some other way)."""
        if all(o.complete for o in self.observers):
            return
        fresh = _OnePass(scores, 0)
        fresh.sample = type(self.sample)(self.sample.rows, scores.n_classes, scores.dtype)
        for start, block in scores.iter_chunks(65536):
            for observer in fresh.observers:
                observer.observe(start, block)
        self.sample, self.predictions, self.reads = fresh.sample, fresh.predictions, 2

    def method(self, n_samples: int, seed: int) -> dict:
        rows = self.sample.rows.size
        how = ("all rows" if rows == n_samples else
               f"{rows:,} of {n_samples:,} rows, a uniform sample without replacement "
               f"(seed {seed})")
        return {**SUMMARY_METHOD, "example_values": how, "input_reads": self.reads}


def _summary(scores: Scores, similarity: Similarity, transform: str, gathered: _OnePass,
             seed: int = 0) -> dict:
    """The Fig. 1 check (a typical class's values, the off-diagonal spread) and confusion,
    from what the similarity pass gathered and the matrix (no further read of the scores)."""
    example = typical_class(similarity)
    position = {name: j for j, name in enumerate(gathered.classes)}
    kept = [position[name] for name in similarity.classes]  # all, unless drop_constant
    convert = TRANSFORMS[transform].function
    rows = gathered.sample.values
    rows = rows[:, kept] if len(kept) < len(gathered.classes) else rows
    column = (rows if convert is None else convert(rows))[:, example].astype(np.float64)
    return {"example_class": example, "example_values": column,
            "similarity_stats": describe_off_diagonal(similarity.matrix),
            "example_stats": describe(column),
            "confusion": _confusion(scores, similarity, gathered, kept),
            "summary_method": gathered.method(scores.n_samples, seed)}


def _confusion(scores: Scores, similarity: Similarity, gathered: _OnePass, kept) -> np.ndarray:
    """Counts of (true, predicted) from the predictions of the pass; predictions among the
    kept classes when drop_constant removed one that some sample predicted (read again)."""
    if scores.labels is None or scores.labels.ndim != 1 or gathered.predictions is None:
        return None
    top = gathered.predictions.values
    if len(kept) < len(gathered.classes):
        index = np.full(len(gathered.classes), -1)
        index[kept] = np.arange(len(kept))
        top = index[top]
        if (top < 0).any():  # a dropped (constant) class won: the argmax among the others
            top, gathered.reads = predictions(scores), gathered.reads + 1
    return confusion_matrix(scores.labels, top, similarity.n_classes)


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
        lost = ~keep[labels]
        if lost.any():
            dropped = sorted({scores.classes[j] for j in labels[lost]})
            warn_caller(f"drop_constant removed {len(dropped)} class(es) that "
                        f"{int(lost.sum())} sample(s) are labelled with "
                        f"({', '.join(map(repr, dropped[:5]))}), so no confusion matrix is "
                        "made; keep them (no --drop-constant) to get one")
            labels = None
        else:
            labels = remap[labels]
    reduced = Scores(values=scores.values[:, keep], classes=kept, kind=scores.kind,
                     source=scores.source, labels=labels)
    matrix = similarity.matrix[np.ix_(keep, keep)]
    return reduced, replace(similarity, matrix=matrix, classes=kept)


@contextlib.contextmanager
def _timed(timings: dict, name: str):
    started = time.perf_counter()
    try:
        yield
    finally:
        timings[name] = time.perf_counter() - started


@contextlib.contextmanager
def _recorded_warnings():
    """Keep every warning's text for the report, and show each one as it happens."""
    caught: list[str] = []
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        show = warnings.showwarning

        def record(message, category, filename, lineno, file=None, line=None):
            caught.append(str(message))
            show(message, category, filename, lineno, file, line)

        warnings.showwarning = record
        yield caught


def _versions() -> dict:
    import numba
    import scipy

    from .r.session import versions as r_versions

    return {"python": platform.python_version(), "numpy": np.__version__,
            "scipy": scipy.__version__, "numba": numba.__version__,
            "blocks_rx": __version__, **r_versions()}
