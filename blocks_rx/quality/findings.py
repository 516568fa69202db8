"""What to check in a result, ranked, with the evidence: :func:`quality_report`.

The paper (Sec. 5) finds data-quality problems in the class structure: duplicate identities,
twins hardly told apart, samples that contradict their class ("outliers off the diagonal
blocks" of the confusion matrix), and classes that lean on a nuisance feature (glasses,
monochrome photos). Each check below turns one of them into findings: small frozen records
(:class:`Finding`) with a one-line title, the numbers behind it and the classes involved.
No check draws or writes; :mod:`blocks_rx.quality.render` does.

``near-duplicate``
    For classes i and j: ``r = M[i, j]`` and the *row r*, the Pearson correlation of rows i
    and j of M over the other m - 2 classes (columns i and j left out, so that neither the
    diagonal nor the pair's own similarity inflates it). A pair is reported when
    ``row r >= NEAR_DUPLICATE_ROW_R`` and ``r >= NEAR_DUPLICATE_R``; its score is
    ``min(row r, r)``: a pair is as duplicate as its weaker piece of evidence. Candidates are
    each class's :data:`NEIGHBOURS` most similar classes, so the cost is O(m^2) for any m
    (never an m x m x m loop). With labels, the confusions both ways are shown.
``off-block``
    The top-level blocks are the stored tree cut into k clusters (R's ``cutree``), numbered
    B1, B2, ... as they come in the order. By default k is the cut in the widest gap between
    consecutive merge heights among k = 2 .. :data:`MAX_TOP_BLOCKS`, where a reader of the
    dendrogram would cut (ties: the smaller k). A sample is off-block when its predicted
    class lies in another block than its true class. Per class the count and rate are exact
    (from the confusion matrix), ranked by rate, then count. Given the scores and labels,
    the samples themselves are listed, largest margin (top score minus the true class's
    score) first. Score: the highest off-block rate of a class.
``nuisance-feature``
    Each failed group of the analysis: fuzzy groups whose members are alike across the
    places the order puts them, beyond what the tree and chance explain (the evidence test
    of :mod:`blocks_rx.groups`: z against random groups, Holm-corrected p <= 0.01). Score: z.
``offset-dominated``, ``constant-classes``, ``skewed-similarities``, ``few-samples``
    The distribution checks: mean off-diagonal r above
    :data:`~blocks_rx.similarity.OFFSET_WARNING_LEVEL` (the offset warning's level); classes
    whose scores never varied; |skewness| of the off-diagonal similarities above
    :data:`SKEWNESS_LIMIT` (the paper's Fig. 1 check); with labels, classes with fewer than
    :data:`MIN_CLASS_SAMPLES` labelled samples, and any result over fewer samples than that.

Ranking: by tier, then score, largest first (:data:`KINDS`, :data:`TIERS`): first what puts
the matrix itself in doubt, then data-quality suspects, then what the classifier leans on,
then caveats.

>>> import numpy as np, blocks_rx
>>> rng = np.random.default_rng(0)
>>> S = rng.normal(size=(800, 3))[:, np.repeat([0, 1, 2], 4)] + rng.normal(size=(800, 12))
>>> S[:, 11] = S[:, 4] + 0.1 * rng.normal(size=800)        # class_11 copies class_4
>>> found = quality_report(blocks_rx.analyze(S, groups=None, hclust_backend="python"))
>>> found.findings[0].kind, found.findings[0].classes
('near-duplicate', ('class_4', 'class_11'))
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import BlocksInputError, OptionError
from ..ordering import Ordering
from ..similarity import OFFSET_WARNING_LEVEL, Similarity

#: A near-duplicate pair's similarity rows correlate at least this much: the two classes
#: relate to (nearly) every other class in the same way.
NEAR_DUPLICATE_ROW_R = 0.9
#: ... and their scores correlate at least this much (r^2 = 0.64: most variance shared).
NEAR_DUPLICATE_R = 0.8
#: Candidate pairs: each class with its this many most similar classes. A duplicate is its
#: twin's nearest class, so 32 loses none and keeps the cost at O(m^2 * 32).
NEIGHBOURS = 32
#: Below this many classes a row holds too few other classes (m - 2) to correlate.
MIN_CLASSES_FOR_ROWS = 5
#: Classes shown beside a near-duplicate pair: those most similar to both.
PAIR_CONTEXT = 6
#: The default cut for the top-level blocks is chosen among k = 2 .. this.
MAX_TOP_BLOCKS = 8
#: |skewness| of the off-diagonal similarities above which they count as heavily skewed
#: (Bulmer's "highly skewed" starts at 1; probabilities in the paper's Fig. 1a lie far beyond).
SKEWNESS_LIMIT = 1.0
#: Fewer labelled samples than this leave a class's similarities resting on other classes'
#: samples; the standard error of r near 0 is about 1/sqrt(n), 0.18 at 30.
MIN_CLASS_SAMPLES = 30
#: Rows of M converted to float64 at once.
_STRIPE_ROWS = 256
#: Values of M gathered at once for the row correlations (32 MB of float64).
_PAIR_VALUES = 2**22
#: A row whose variance over the other classes is below this is constant: no row r.
_FLAT_ROW = 1e-9


@dataclass(frozen=True)
class Kind:
    """A kind of finding: its tier in the ranking, its heading, and what its score is."""

    name: str
    tier: int
    heading: str
    score: str


#: Every kind of finding, in the order of the ranking's tiers (module docstring).
KINDS = {kind.name: kind for kind in (
    Kind("offset-dominated", 0, "Offset-dominated similarities", "mean off-diagonal r"),
    Kind("constant-classes", 0, "Constant classes", "share of the classes that are constant"),
    Kind("near-duplicate", 1, "Near-duplicate classes", "min(row r, r)"),
    Kind("off-block", 1, "Off-block confusions", "highest off-block rate of a class"),
    Kind("nuisance-feature", 2, "Classes sharing a nuisance feature", "z of the failed group"),
    Kind("skewed-similarities", 3, "Skewed similarities",
         "|skewness| of the off-diagonal similarities"),
    Kind("few-samples", 3, "Classes with few samples", "share of the classes below the minimum"),
)}

#: What each tier of the ranking means.
TIERS = {0: "the similarity matrix itself is in doubt: read these first",
         1: "data-quality suspects", 2: "what the classifier leans on", 3: "caveats"}

#: How evidence keys read in a report (others: the key with spaces).
EVIDENCE_LABELS = {
    "r": "r (their scores)", "row_r": "row r (their rows, own columns left out)",
    "samples_a": "labelled samples of a", "a_as_b": "of them predicted as b",
    "samples_b": "labelled samples of b", "b_as_a": "of them predicted as a",
    "top_blocks": "top-level blocks (k)", "off_block_samples": "samples predicted off-block",
    "labelled_samples": "labelled samples", "off_block_rate": "off-block rate",
    "expected_by_tree": "expected by the tree", "p_adjusted": "p (Holm-corrected)",
    "within": "mean r within the group", "across": "mean r across its places",
    "background": "mean r of all pairs", "n_runs": "places in the order",
    "largest_run": "classes in the largest place",
    "next_nearest": "the class nearest to a or b", "next_nearest_r": "its r with a or b",
    "classes_with_off_block": "classes with off-block samples",
}


@dataclass(frozen=True)
class Table:
    """A small table of a finding: a title, column names and rows of plain values."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple, ...]

    def to_frame(self):
        """The table as a pandas DataFrame."""
        import pandas as pd

        return pd.DataFrame(list(self.rows), columns=list(self.columns))


@dataclass(frozen=True, eq=False)
class Finding:
    """One thing to check: what :func:`quality_report` ranks.

    Attributes
    ----------
    kind : str
        A key of :data:`KINDS`.
    score : float
        What ranks it within its tier; its meaning is the kind's (``KINDS[kind].score``).
    title : str
        One line.
    evidence : dict
        The numbers behind it, by name (:data:`EVIDENCE_LABELS` says how they read).
    classes : tuple of str
        The classes it concerns (for a pair: a, then b).
    note : str
        What it may mean and what to check.
    tables : tuple of Table
    context : tuple of str
        Classes to see beside ``classes`` (the nearest classes of a pair).
    """

    kind: str
    score: float
    title: str
    evidence: dict
    classes: tuple[str, ...] = ()
    note: str = ""
    tables: tuple[Table, ...] = ()
    context: tuple[str, ...] = ()

    @property
    def tier(self) -> int:
        return KINDS[self.kind].tier


@dataclass(frozen=True, eq=False)
class QualityReport:
    """Ranked findings of what to check in a result: what :func:`quality_report` returns.

    Attributes
    ----------
    findings : tuple of Finding
        Ranked: tier, then score (module docstring); the first is rank 1.
    source : str
        The result folder, or the analysis's input.
    run_id : str or None
        The run the result folder holds (None for an unsaved Analysis).
    facts : dict
        Classes, samples, how the similarity was made, accuracy, the top-level cut and its
        rule, how many near-duplicate pairs passed.
    skipped : tuple of str
        Checks that could not run, and why.
    run_warnings : tuple of str
        The warnings of the analysis itself.
    thresholds : dict
        The thresholds used, by name.
    similarity, ordering, confusion
        What the findings were computed from (to draw them).
    folder : Path or None
        The result folder.
    """

    findings: tuple[Finding, ...]
    source: str
    run_id: str | None
    facts: dict
    skipped: tuple[str, ...]
    run_warnings: tuple[str, ...]
    thresholds: dict
    similarity: Similarity = field(repr=False)
    ordering: Ordering = field(repr=False)
    confusion: np.ndarray | None = field(default=None, repr=False)
    folder: Path | None = None

    def of_kind(self, kind: str) -> tuple[Finding, ...]:
        """The findings of one kind, in rank order."""
        return tuple(f for f in self.findings if f.kind == kind)

    def lines(self, top: int = 5) -> list[str]:
        """The ``top`` findings, one line each: ``rank. [kind] title``."""
        return [f"{rank}. [{f.kind}] {f.title}"
                for rank, f in enumerate(self.findings[:top], start=1)]

    def summary(self) -> str:
        """One paragraph: the data, how many findings of each kind, the top-level cut."""
        facts = self.facts
        how = f"{facts['measure']} on {facts['kind']}" + (
            f", {facts['transform']}" if facts["transform"] != "none" else "")
        text = f"{facts['classes']:,} classes over {facts['samples']:,} samples ({how})"
        if facts.get("accuracy") is not None:
            text += f", top-1 accuracy {facts['accuracy']:.3f}"
        counts = [f"{kind} {len(found)}" for kind in KINDS if (found := self.of_kind(kind))]
        many = "s" if len(self.findings) > 1 else ""
        text += (f". {len(self.findings)} finding{many}: {', '.join(counts)}" if counts
                 else ". No finding: nothing these checks look for stands out")
        if facts.get("near_duplicate_pairs", 0) > len(self.of_kind("near-duplicate")):
            text += (f" ({facts['near_duplicate_pairs']} near-duplicate pairs pass the "
                     f"thresholds; the strongest {len(self.of_kind('near-duplicate'))} are listed)")
        if facts.get("top_blocks"):
            text += f". Top-level blocks: k = {facts['top_blocks']} ({facts['top_blocks_rule']})"
        return text + "."

    def to_frame(self):
        """One row per finding, ranked: rank, kind, tier, score, title, classes."""
        import pandas as pd

        return pd.DataFrame([(rank, f.kind, f.tier, f.score, f.title, ", ".join(f.classes))
                             for rank, f in enumerate(self.findings, start=1)],
                            columns=["rank", "kind", "tier", "score", "title", "classes"])

    def __repr__(self) -> str:
        return (f"<QualityReport of {self.source}: {len(self.findings)} findings"
                + (f"; first: {self.findings[0].title}" if self.findings else "") + ">")


# --------------------------------------------------------------------------- the report


def quality_report(result, *, scores=None, labels=None, classes=None, top_blocks=None,
                   max_pairs: int = 20, max_samples: int = 20) -> QualityReport:
    """Ranked findings of what to check in a result (see the module docstring).

    Parameters
    ----------
    result : Analysis, StoredResult or path to a result folder
        A folder is read (and validated) with :func:`blocks_rx.read_result`.
    scores : Scores or path, optional
        The scores the result was analysed from, with single-label true labels: lists the
        off-block samples. A path (or ``labels``, ``classes``) goes through
        :func:`blocks_rx.load_scores`. They must give the result's confusion matrix.
    labels, classes : optional
        True labels and class names of ``scores``, as :func:`blocks_rx.load_scores` takes.
    top_blocks : int, optional
        Cut the tree into this many top-level blocks (default: the widest gap, module
        docstring).
    max_pairs, max_samples : int
        How many near-duplicate pairs and off-block samples to list.

    Returns
    -------
    QualityReport

    Raises
    ------
    BlocksInputError
        Scores that do not match the result, or a bad option; ResultError for a bad folder.

    Examples
    --------
    >>> import numpy as np, blocks_rx
    >>> S = np.random.default_rng(0).normal(size=(300, 6))
    >>> found = quality_report(blocks_rx.analyze(S, groups=None, hclust_backend="python"))
    >>> found.findings, found.skipped[0]
    ((), 'off-block confusions: no true labels (analyze --labels, or give the scores with labels)')
    """
    _check_counts(max_pairs=max_pairs, max_samples=max_samples)
    source = _source(result)
    given = _given_scores(scores, labels, classes, source.similarity.classes)
    confusion, predicted = _confusion(source, given)
    facts, skipped = _facts(source, confusion), []
    found = _distribution_findings(source, confusion)
    found += _near_duplicate_findings(source.similarity, confusion, max_pairs, facts, skipped)
    found += _off_block_findings(source, confusion, (given, predicted), top_blocks,
                                 max_samples, facts, skipped)
    found += _nuisance_findings(source.report, skipped)
    ranked = sorted(found, key=lambda f: (f.tier, -f.score))
    return QualityReport(
        findings=tuple(ranked), source=source.label, run_id=source.run_id, facts=facts,
        skipped=tuple(skipped), run_warnings=tuple(source.report.get("warnings", ())),
        thresholds=_thresholds(), similarity=source.similarity, ordering=source.ordering,
        confusion=confusion, folder=source.folder)


@dataclass(frozen=True, eq=False)
class _Source:
    """What the checks read from an Analysis or a result folder."""

    label: str
    similarity: Similarity
    ordering: Ordering
    confusion: np.ndarray | None
    report: dict
    run_id: str | None = None
    folder: Path | None = None


def _source(value) -> _Source:
    from ..pipeline import Analysis
    from ..results import StoredResult, read

    if isinstance(value, (str, os.PathLike)):
        value = read(value)
    if isinstance(value, StoredResult):
        return _Source(str(value.folder), value.similarity, value.ordering, value.confusion,
                       value.report, value.run_id, Path(value.folder))
    if isinstance(value, Analysis):
        return _Source(value.similarity.source, value.similarity, value.ordering,
                       value.confusion, value.report())
    raise TypeError(f"quality_report takes an Analysis, a StoredResult or the path of a "
                    f"result folder, not {type(value).__name__}")


def _check_counts(**counts) -> None:
    for name, value in counts.items():
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise OptionError(f"{name} must be a positive whole number, not {value!r}")


def _facts(source: _Source, confusion) -> dict:
    sim = source.similarity
    accuracy = (float(np.trace(confusion) / max(int(confusion.sum()), 1))
                if confusion is not None else None)
    return {"classes": sim.n_classes, "samples": int(sim.n_samples), "measure": sim.measure,
            "kind": sim.kind, "transform": sim.transform, "labels": confusion is not None,
            "accuracy": accuracy}


def _thresholds() -> dict:
    return {"near-duplicate row r at least": NEAR_DUPLICATE_ROW_R,
            "near-duplicate r at least": NEAR_DUPLICATE_R,
            "near-duplicate candidates per class": NEIGHBOURS,
            "top-level cut chosen among k up to": MAX_TOP_BLOCKS,
            "offset-dominated: mean off-diagonal r above": OFFSET_WARNING_LEVEL,
            "skewed: |skewness| above": SKEWNESS_LIMIT,
            "few samples: labelled samples below": MIN_CLASS_SAMPLES}


# --------------------------------------------------------------------------- scores


def _given_scores(scores, labels, classes, names):
    """The scores with single-label labels, checked against the result's classes, or None."""
    from ..scores import Scores, load_scores

    if scores is None:
        if labels is not None or classes is not None:
            raise OptionError("labels and classes describe the scores: give the scores too "
                              "(CLI: --scores FILE)")
        return None
    if not isinstance(scores, Scores) or labels is not None or classes is not None:
        scores = load_scores(scores, labels=labels, classes=classes)
    if scores.labels is None or scores.labels.ndim != 1:
        raise OptionError(f"{scores.source}: listing off-block samples needs one true label "
                          "per sample (labels=, CLI: --labels FILE)")
    if tuple(scores.classes) != tuple(names):
        raise BlocksInputError(f"{scores.source}: {_class_difference(scores.classes, names)}; "
                               "give the scores the result was analysed from (and their "
                               "class names: classes=, CLI: --classes FILE)")
    return scores


def _class_difference(given, names) -> str:
    if len(given) != len(names):
        return f"it has {len(given)} classes, the result {len(names)}"
    j = next(j for j, (a, b) in enumerate(zip(given, names)) if a != b)
    return f"its class {j} is {given[j]!r}, the result's is {names[j]!r}"


def _confusion(source: _Source, scores):
    """(confusion matrix, each sample's predicted class or None): the result's, or counted
    from the scores, which must then agree with the result's."""
    from ..similarity import confusion_matrix, predictions

    if scores is None:
        return source.confusion, None
    predicted = predictions(scores)
    counted = confusion_matrix(scores.labels, predicted, scores.n_classes)
    if source.confusion is not None and not np.array_equal(counted, source.confusion):
        raise BlocksInputError(
            f"{scores.source}: these scores and labels give another confusion matrix "
            f"({int(counted.sum()):,} samples, {int(np.trace(counted)):,} right) than the "
            f"result's ({int(source.confusion.sum()):,}, {int(np.trace(source.confusion)):,} "
            "right); give the scores and labels the result was analysed from")
    return counted, predicted


# --------------------------------------------------------------------------- distributions


def _distribution_findings(source: _Source, confusion) -> list[Finding]:
    stats = source.report.get("summary", {}).get("off_diagonal_similarity", {})
    example = source.report.get("summary", {}).get("example_class", {})
    return (_offset_finding(source.similarity, stats) + _constant_finding(source.similarity)
            + _skew_finding(stats, example) + _few_samples_findings(source.similarity, confusion))


def _offset_finding(sim: Similarity, stats: dict) -> list[Finding]:
    mean = stats.get("mean")
    if mean is None or mean <= OFFSET_WARNING_LEVEL:
        return []
    hint = ("centre each sample's logits (analyze --center) or standardize them "
            "(--transform standardize)" if sim.kind == "logits" and sim.transform == "none"
            else "a per-sample transform or a rank measure (--measure spearman) may remove it")
    return [Finding(
        "offset-dominated", float(mean),
        f"Offset-dominated similarities: mean off-diagonal r {mean:.3f} (above "
        f"{OFFSET_WARNING_LEVEL})",
        {"mean_r": mean, "median_r": stats.get("median"), "q01_r": stats.get("q01"),
         "limit": OFFSET_WARNING_LEVEL},
        note="Nearly every pair of classes correlates: the scores share a per-sample "
             "component (an offset) that hides the class structure, and every finding "
             f"below is read through it. To see the structure, {hint}.")]


def _constant_finding(sim: Similarity) -> list[Finding]:
    names = tuple(sim.constant_classes)
    if not names:
        return []
    return [Finding(
        "constant-classes", len(names) / sim.n_classes,
        f"{len(names)} constant class{'es' if len(names) > 1 else ''}: scored the same on "
        "every sample, no correlation",
        {"constant_classes": len(names), "of_classes": sim.n_classes}, classes=names,
        note="Their rows of the matrix are set to 0, so they sit anywhere in the order. "
             "Check that the classifier can score them at all (a dead output unit) and that "
             "the samples cover them; drop them (analyze --drop-constant) or use more samples.")]


def _skew_finding(stats: dict, example: dict) -> list[Finding]:
    skewness = stats.get("skewness")
    if skewness is None or abs(skewness) <= SKEWNESS_LIMIT:
        return []
    tail = "right" if skewness > 0 else "left"
    note = ("Most pairs sit near the median with a long tail of alike pairs: only small, "
            "tight clusters emerge in the picture, as with probabilities in the paper's "
            "Fig. 1a. If the scores are probabilities, use logits or a rank measure "
            "(--measure spearman); with many small, well separated groups it is expected."
            if tail == "right" else
            "Most pairs are alike, with a long tail of unlike ones: a shared component may "
            "dominate the scores (see offset-dominated), hiding the finer structure.")
    values = example.get("values", {})
    return [Finding(
        "skewed-similarities", abs(float(skewness)),
        f"Skewed similarities: skewness {skewness:.2f} ({tail} tail; limit ±{SKEWNESS_LIMIT})",
        {"skewness": skewness, "kurtosis": stats.get("kurtosis"), "mean_r": stats.get("mean"),
         "median_r": stats.get("median"), "example_class": example.get("name"),
         "example_score_skewness": values.get("skewness")},
        note=note)]


def _few_samples_findings(sim: Similarity, confusion) -> list[Finding]:
    found = []
    if sim.n_samples < MIN_CLASS_SAMPLES:
        found.append(Finding(
            "few-samples", 1.0,
            f"Only {sim.n_samples} samples in all: every similarity rests on fewer than "
            f"{MIN_CLASS_SAMPLES} values", {"samples": sim.n_samples, "minimum": MIN_CLASS_SAMPLES},
            note="Correlations over so few samples are mostly noise; collect more samples."))
    if confusion is None:
        return found
    counts = confusion.sum(axis=1)
    few = np.flatnonzero(counts < MIN_CLASS_SAMPLES)
    if few.size:
        few = few[np.argsort(counts[few], kind="stable")]
        rows = tuple((sim.classes[j], int(counts[j])) for j in few)
        found.append(Finding(
            "few-samples", few.size / sim.n_classes,
            f"{few.size} class{'es have' if few.size > 1 else ' has'} fewer than "
            f"{MIN_CLASS_SAMPLES} labelled samples ({int((counts[few] == 0).sum())} with none)",
            {"classes_below": int(few.size), "minimum": MIN_CLASS_SAMPLES,
             "fewest": int(counts[few[0]])},
            classes=tuple(r[0] for r in rows),
            note="Their similarities rest mostly on other classes' samples, and their "
                 "confusion rates on few: add samples of them before trusting either.",
            tables=(Table("labelled samples per class, fewest first", ("class", "samples"),
                          rows),)))
    return found


# --------------------------------------------------------------------------- near duplicates


def near_duplicate_pairs(matrix, *, min_row_r: float = NEAR_DUPLICATE_ROW_R,
                         min_r: float = NEAR_DUPLICATE_R, neighbours: int = NEIGHBOURS):
    """Pairs of classes that are alike and relate to all other classes alike.

    The definitions and thresholds are in the module docstring.

    Parameters
    ----------
    matrix : ndarray (m, m)
        A similarity matrix (may be a memory map; read in stripes).
    min_row_r, min_r : float
        Thresholds on the row r and on r.
    neighbours : int
        Candidates: each class with its this many most similar classes.

    Returns
    -------
    pandas.DataFrame
        ``a``, ``b`` (class indices, a < b), ``r``, ``row_r``, ``score`` (their minimum),
        strongest first (ties: by a, then b). Empty below 5 classes.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> S = rng.normal(size=(500, 6))
    >>> S[:, 5] = S[:, 0] + 0.1 * rng.normal(size=500)
    >>> near_duplicate_pairs(np.corrcoef(S, rowvar=False))[["a", "b"]].values.tolist()
    [[0, 5]]
    """
    import pandas as pd

    m = matrix.shape[0]
    columns = ["a", "b", "r", "row_r", "score"]
    if m < MIN_CLASSES_FOR_ROWS:
        return pd.DataFrame(columns=columns)
    a, b = _candidate_pairs(matrix, neighbours, min_r)
    r = np.asarray(matrix[a, b], dtype=np.float64)
    row_r = row_correlations(matrix, a, b)
    with np.errstate(invalid="ignore"):
        kept = row_r >= min_row_r
    a, b, r, row_r = a[kept], b[kept], r[kept], row_r[kept]
    score = np.minimum(r, row_r)
    ranked = np.lexsort((b, a, -score))
    return pd.DataFrame({"a": a[ranked], "b": b[ranked], "r": r[ranked],
                         "row_r": row_r[ranked], "score": score[ranked]}, columns=columns)


def _candidate_pairs(matrix, neighbours: int, min_r: float):
    """Pairs (a < b) where b is among a's ``neighbours`` most similar classes, or a among
    b's, with ``M[a, b] >= min_r``."""
    m = matrix.shape[0]
    k = min(neighbours, m - 1)
    codes = []
    for start in range(0, m, _STRIPE_ROWS):
        rows = np.array(matrix[start:start + _STRIPE_ROWS], dtype=np.float64)
        index = np.arange(start, start + len(rows))
        rows[np.arange(len(rows)), index] = -np.inf
        nearest = np.argpartition(-rows, k - 1, axis=1)[:, :k]
        alike = np.take_along_axis(rows, nearest, axis=1) >= min_r
        first = np.broadcast_to(index[:, None], nearest.shape)[alike]
        codes.append(np.minimum(first, nearest[alike]) * m + np.maximum(first, nearest[alike]))
    codes = np.unique(np.concatenate(codes))
    return codes // m, codes % m


def row_correlations(matrix, a, b) -> np.ndarray:
    """Pearson correlation of rows ``a[p]`` and ``b[p]`` of a square matrix, over the
    columns other than ``a[p]`` and ``b[p]``; NaN where a row is constant there.

    From each row's sum and sum of squares and one dot product per pair, less the two
    columns left out: O(m) per pair, no copy of the reduced rows.

    >>> M = np.corrcoef(np.random.default_rng(1).normal(size=(40, 7)), rowvar=False)
    >>> keep = [k for k in range(7) if k not in (2, 5)]
    >>> expected = np.corrcoef(M[2, keep], M[5, keep])[0, 1]
    >>> bool(np.isclose(row_correlations(M, np.array([2]), np.array([5]))[0], expected))
    True
    """
    a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
    m = matrix.shape[0]
    sums, squares = _row_moments(matrix)
    out = np.empty(a.size)
    n = m - 2
    step = max(1, _PAIR_VALUES // m)
    for start in range(0, a.size, step):
        i, j = a[start:start + step], b[start:start + step]
        x, y = np.asarray(matrix[i], dtype=np.float64), np.asarray(matrix[j], dtype=np.float64)
        at = np.arange(i.size)
        xi, xj, yi, yj = x[at, i], x[at, j], y[at, i], y[at, j]
        sx, sy = sums[i] - xi - xj, sums[j] - yi - yj
        spread_x = n * (squares[i] - xi**2 - xj**2) - sx**2
        spread_y = n * (squares[j] - yi**2 - yj**2) - sy**2
        co = n * (np.einsum("pk,pk->p", x, y) - xi * yi - xj * yj) - sx * sy
        flat = (spread_x <= _FLAT_ROW * n * n) | (spread_y <= _FLAT_ROW * n * n)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[start:start + step] = np.where(flat, np.nan,
                                               co / np.sqrt(np.abs(spread_x * spread_y)))
    return out


def _row_moments(matrix) -> tuple[np.ndarray, np.ndarray]:
    """Each row's sum and sum of squares, in float64, a stripe of rows at a time."""
    m = matrix.shape[0]
    sums, squares = np.empty(m), np.empty(m)
    for start in range(0, m, _STRIPE_ROWS):
        rows = np.asarray(matrix[start:start + _STRIPE_ROWS], dtype=np.float64)
        sums[start:start + len(rows)] = rows.sum(axis=1)
        squares[start:start + len(rows)] = np.einsum("ik,ik->i", rows, rows)
    return sums, squares


def _near_duplicate_findings(sim: Similarity, confusion, max_pairs: int, facts: dict,
                             skipped: list) -> list[Finding]:
    if sim.n_classes < MIN_CLASSES_FOR_ROWS:
        skipped.append(f"near-duplicate classes: {sim.n_classes} classes are too few to "
                       f"compare rows (at least {MIN_CLASSES_FOR_ROWS})")
        return []
    pairs = near_duplicate_pairs(sim.matrix)
    facts["near_duplicate_pairs"] = len(pairs)
    return [_near_duplicate(sim, confusion, int(p.a), int(p.b), float(p.r), float(p.row_r))
            for p in pairs.head(max_pairs).itertuples()]


def _near_duplicate(sim: Similarity, confusion, a: int, b: int, r: float,
                    row_r: float) -> Finding:
    names = sim.classes
    context = _nearest_to_pair(sim.matrix, a, b)
    nearest = max(context, key=lambda c: max(sim.matrix[a, c], sim.matrix[b, c]))
    evidence = {"r": round(r, 4), "row_r": round(row_r, 4), "next_nearest": names[nearest],
                "next_nearest_r": round(float(max(sim.matrix[a, nearest],
                                                  sim.matrix[b, nearest])), 4)}
    note = ("They score alike and relate to every other class alike: the classifier hardly "
            "tells them apart. Check for one identity under two names, twins, or two labels "
            "for one thing.")
    if confusion is not None:
        evidence.update(samples_a=int(confusion[a].sum()), a_as_b=int(confusion[a, b]),
                        samples_b=int(confusion[b].sum()), b_as_a=int(confusion[b, a]))
        note += (f" Confusions: {evidence['a_as_b']} of {evidence['samples_a']} samples of a "
                 f"predicted as b, {evidence['b_as_a']} of {evidence['samples_b']} of b as a.")
    return Finding(
        "near-duplicate", min(r, row_r),
        f"{names[a]} and {names[b]}: near-duplicate classes (row r {row_r:.3f}, r {r:.3f})",
        evidence, classes=(names[a], names[b]), note=note,
        context=tuple(names[k] for k in context))


def _nearest_to_pair(matrix, a: int, b: int) -> np.ndarray:
    """The :data:`PAIR_CONTEXT` classes most similar to a and b together (mean of rows)."""
    both = (np.asarray(matrix[a], dtype=np.float64) + np.asarray(matrix[b], dtype=np.float64))
    both[[a, b]] = -np.inf
    count = min(PAIR_CONTEXT, len(both) - 2)
    return np.argsort(-both, kind="stable")[:count]


# --------------------------------------------------------------------------- off-block


def top_level_blocks(ordering: Ordering, k: int | None = None) -> tuple[np.ndarray, int, str]:
    """The top-level blocks: the tree cut into ``k`` clusters, numbered 1, 2, ... as they
    come in the order; returns (block of each class, k, the rule that chose k).

    ``k=None`` takes the cut in the widest gap between consecutive merge heights among
    k = 2 .. :data:`MAX_TOP_BLOCKS` (ties: the smaller k).

    >>> from blocks_rx.ordering import hclust
    >>> M = np.array([[1, .9, .1, 0], [.9, 1, 0, .1], [.1, 0, 1, .8], [0, .1, .8, 1]])
    >>> blocks, k, rule = top_level_blocks(hclust(M))
    >>> blocks.tolist(), k
    ([1, 1, 2, 2], 2)
    """
    if ordering.merge is None:
        raise OptionError(f"a {ordering.method!r} ordering has no tree to cut into blocks")
    m = ordering.n_classes
    if k is None:
        height = np.asarray(ordering.height, dtype=np.float64)
        tried = np.arange(2, max(2, min(MAX_TOP_BLOCKS, m - 1)) + 1)
        gaps = np.array([height[m - c] - height[m - c - 1] if c < m else -np.inf for c in tried])
        k = int(tried[np.argmax(gaps)])
        rule = (f"the widest gap between merge heights among k = 2..{tried[-1]}, "
                f"{gaps.max():.3g} wide")
    else:
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 2 <= k <= m:
            raise OptionError(f"top_blocks (CLI: --top-blocks) must be a whole number from 2 "
                              f"to {m}, not {k!r}")
        k, rule = int(k), "as given"
    cut = ordering.cut_labels(k)
    first_seen = {}
    for j in ordering.order:
        first_seen.setdefault(int(cut[j]), len(first_seen) + 1)
    return np.array([first_seen[int(c)] for c in cut], dtype=np.int64), k, rule


def off_block_counts(confusion, blocks):
    """Per class: its labelled samples, those predicted into another block, the rate, and
    the class outside its block it is predicted as most.

    Returns a DataFrame indexed by class index: ``block``, ``samples``, ``off_block``,
    ``rate`` (NaN without samples), ``most_as`` (class index, -1 for none) and
    ``most_as_count``.

    >>> C = np.array([[8, 1, 1], [0, 9, 0], [2, 0, 5]])
    >>> off_block_counts(C, np.array([1, 1, 2]))[["off_block", "most_as"]].values.tolist()
    [[1, 2], [0, -1], [2, 0]]
    """
    import pandas as pd

    blocks = np.asarray(blocks)
    m = blocks.size
    samples, off, most_as, most_count = (np.zeros(m, dtype=np.int64) for _ in range(4))
    for start in range(0, m, _STRIPE_ROWS):
        rows = np.array(confusion[start:start + _STRIPE_ROWS], dtype=np.int64)
        own = blocks[start:start + len(rows), None] == blocks[None, :]
        samples[start:start + len(rows)] = rows.sum(axis=1)
        rows[own] = 0
        off[start:start + len(rows)] = rows.sum(axis=1)
        most_as[start:start + len(rows)] = rows.argmax(axis=1)
        most_count[start:start + len(rows)] = rows.max(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = off / samples
    return pd.DataFrame({"block": blocks, "samples": samples, "off_block": off, "rate": rate,
                         "most_as": np.where(most_count > 0, most_as, -1),
                         "most_as_count": most_count})


def _off_block_findings(source: _Source, confusion, given, top_blocks, max_samples: int,
                        facts: dict, skipped: list) -> list[Finding]:
    if confusion is None:
        skipped.append("off-block confusions: no true labels (analyze --labels, or give the "
                       "scores with labels)")
        return []
    if source.ordering.merge is None or source.ordering.n_classes < 3:
        skipped.append(f"off-block confusions: the {source.ordering.method!r} ordering of "
                       f"{source.ordering.n_classes} classes has no tree with blocks to cut")
        return []
    blocks, k, rule = top_level_blocks(source.ordering, top_blocks)
    facts.update(top_blocks=k, top_blocks_rule=rule)
    counts = off_block_counts(confusion, blocks)
    hit = counts[counts["off_block"] > 0]
    if hit.empty:
        return []
    hit = hit.assign(index=hit.index).sort_values(["rate", "off_block", "index"],
                                                  ascending=[False, False, True])
    tables = (_class_table(hit, source.similarity.classes),
              _block_table(confusion, blocks, source.ordering))
    scores, predicted = given
    if scores is not None:
        tables += (off_block_samples(scores, predicted, blocks, max_samples),)
    return [_off_block(hit, counts, k, tables, with_samples=scores is not None,
                       names=source.similarity.classes)]


def _off_block(hit, counts, k: int, tables, *, with_samples: bool, names) -> Finding:
    total, off = int(counts["samples"].sum()), int(counts["off_block"].sum())
    worst = hit.iloc[0]
    note = ("Samples predicted into another top-level block than their label's are the "
            "outliers off the diagonal blocks where the paper found data-quality problems: "
            "mislabelled samples, a spouse in a celebrity's photos, a duplicate identity. "
            "Look at the samples of the classes with the highest rates first.")
    note += ("" if with_samples else " To list the samples themselves (row numbers of the "
             "score file), give the scores: blocks-rx report RESULT --scores FILE --labels FILE.")
    return Finding(
        "off-block", float(hit["rate"].max()),
        f"Off-block confusions: {off:,} of {total:,} samples ({off / total:.1%}) predicted "
        f"into another of {k} top-level blocks; highest rate: {names[int(worst.name)]}, "
        f"{int(worst['off_block'])} of {int(worst['samples'])}",
        {"top_blocks": k, "off_block_samples": off, "labelled_samples": total,
         "off_block_rate": round(off / total, 4), "classes_with_off_block": len(hit)},
        classes=tuple(names[j] for j in hit.index), note=note, tables=tables)


def _class_table(hit, names) -> Table:
    rows = tuple((names[j], f"B{row.block}", int(row.samples), int(row.off_block),
                  round(float(row.rate), 4),
                  f"{names[int(row.most_as)]} ({int(row.most_as_count)})")
                 for j, row in zip(hit.index, hit.itertuples()))
    return Table("classes with off-block samples, highest rate first",
                 ("class", "block", "samples", "off-block", "rate", "most predicted as"), rows)


def _block_table(confusion, blocks, ordering: Ordering) -> Table:
    """Samples by true block (rows) and predicted block (columns), with each block's size
    and its first classes in the order."""
    k = int(blocks.max())
    member = (blocks[:, None] == np.arange(1, k + 1)[None, :]).astype(np.float64)
    by_block = np.zeros((k, k))
    for start in range(0, len(blocks), _STRIPE_ROWS):
        rows = np.asarray(confusion[start:start + _STRIPE_ROWS], dtype=np.float64)
        by_block += member[start:start + len(rows)].T @ (rows @ member)
    rows = []
    for block in range(1, k + 1):
        inside = [ordering.classes[j] for j in ordering.order if blocks[j] == block]
        first = ", ".join(inside[:3]) + (", ..." if len(inside) > 3 else "")
        rows.append((f"B{block}", len(inside), first,
                     *(int(round(v)) for v in by_block[block - 1])))
    return Table("samples by true block (rows) and predicted block (columns)",
                 ("block", "classes", "first classes", *(f"as B{c}" for c in range(1, k + 1))),
                 tuple(rows))


def off_block_samples(scores, predicted, blocks, max_samples: int = 20) -> Table:
    """The samples predicted into another block than their true class's, largest margin
    (top score minus the true class's score) first (ties: by row); at most ``max_samples``.

    >>> from blocks_rx.scores import Scores
    >>> S = Scores(np.array([[3., 1., 0.], [0., 1., 5.], [1., 4., 0.]]), ("a", "b", "c"),
    ...            labels=np.array([0, 0, 2]))
    >>> off_block_samples(S, np.array([0, 2, 1]), np.array([1, 1, 2])).rows
    ((1, 'a', 'c', 5.0, 0.0, 5.0), (2, 'c', 'b', 4.0, 0.0, 4.0))
    """
    labels, names = scores.labels, scores.classes
    off = np.flatnonzero(blocks[labels] != blocks[predicted])
    top = np.asarray(scores.values[off, predicted[off]], dtype=np.float64)
    true = np.asarray(scores.values[off, labels[off]], dtype=np.float64)
    chosen = np.lexsort((off, -(top - true)))[:max_samples]
    rows = tuple((int(off[p]), names[labels[off[p]]], names[predicted[off[p]]],
                  round(float(top[p]), 4), round(float(true[p]), 4),
                  round(float(top[p] - true[p]), 4)) for p in chosen)
    return Table(f"off-block samples, largest margin first ({len(rows)} of {off.size:,})",
                 ("row", "true class", "predicted", "its score", "true class's score",
                  "margin"), rows)


# --------------------------------------------------------------------------- nuisance


def _nuisance_findings(report: dict, skipped: list) -> list[Finding]:
    groups = report.get("groups")
    if groups is None:
        skipped.append("nuisance features: the result has no groups (analyze with an "
                       "ordering that has a tree, without --no-groups)")
        return []
    return [_nuisance(group) for group in groups.get("failed", [])]


def _nuisance(group: dict) -> Finding:
    classes = tuple(group["classes"])
    keys = ("n_runs", "largest_run", "within", "across", "expected_by_tree", "background",
            "z", "p_adjusted")
    return Finding(
        "nuisance-feature", float(group["z"]),
        f"Group {group['group']}: {len(classes)} classes alike across {group['n_runs']} places "
        f"in the order (z {group['z']:.1f}, p {group['p_adjusted']:.2g}), a feature the "
        "hierarchy hides",
        {"size": len(classes), **{key: group[key] for key in keys if key in group}},
        classes=classes,
        note="The classifier treats these classes as alike, more than the tree and chance "
             "explain, although the hierarchy puts them apart: they may depend on a feature "
             "their inputs share (the paper's eye glasses, monochrome photos). Look at their "
             "samples for what they have in common, and test them on inputs without it.")
