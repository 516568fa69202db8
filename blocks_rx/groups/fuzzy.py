"""Fuzzy c-means groups of the classes on the spectral embedding of M: :func:`fuzzy_groups`.

The rules (embedding, dimension, number of groups, overlap) are in the package docstring,
:mod:`blocks_rx.groups`.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from ..errors import OptionError
from ..ordering import matrix_and_names
from ..similarity import Similarity
from .spectrum import _signal_count, _spectrum
from .._warn import warn_caller

#: Row embeddings fuzzy c-means can run on.
EMBEDDINGS = {
    "spectral": "top-d unit eigenvectors of M, rows scaled to unit length (Ng-Jordan-Weiss)",
    "pca": "rows of M on the top-d eigenvectors of M (M V = V diag(eigenvalues))",
    "none": "the raw m-dimensional rows of M (collapses on large m; for comparison)",
}

#: Indices for choosing the number of groups: name -> (description, larger is better).
INDICES = {
    "eigen": ("c-th eigenvalue of M / noise edge; the largest c above 1 is chosen", True),
    "fpc": ("fuzzy partition coefficient sum(u^2)/n, in [1/c, 1]", True),
    "mpc": ("modified partition coefficient 1 - c/(c-1) (1 - fpc), in [0, 1]", True),
    "xie-beni": ("Xie-Beni: objective / (n * min squared centre distance)", False),
}

#: What fits the groups (:attr:`Groups.method`): :func:`blocks_rx.groups._cmeans.cmeans`, which
#: computes scikit-fuzzy 0.5's ``cmeans`` (same steps, same results to rounding), compiled.
METHOD = "fuzzy c-means (blocks-rx's compiled twin of skfuzzy.cluster.cmeans 0.5)"

#: A fit whose modified partition coefficient is below this has collapsed: its memberships
#: are within 5% of uniform, its centres near the centre of gravity.
COLLAPSE_MPC = 0.05


class CollapsedWarning(UserWarning):
    """Fuzzy c-means memberships came out near-uniform: the centres collapsed."""


@dataclass(frozen=True, eq=False)
class Groups:
    """Fuzzy (overlapping) groups of classes and how they were found.

    Attributes
    ----------
    memberships : ndarray (n_classes, c)
        Fuzzy memberships; each row sums to 1.
    crisp : ndarray of int (n_classes,)
        Each class's group of highest membership (0-based).
    overlap : ndarray of bool (n_classes, c)
        ``memberships >= threshold``, or the crisp group: the overlapping group sets.
    classes : tuple of str
    candidates : tuple of int
        The numbers of groups tried.
    curves : dict of str -> ndarray
        ``eigen``, ``fpc``, ``mpc`` and ``xie-beni`` for every candidate, ``filled`` (no
        group left empty) and ``fitted``: the default index fits only the candidates its
        choice needs, and the partition curves hold NaN for the others.
    centers : ndarray (c, n_components)
        Group centres in the embedding.
    eigenvalues : ndarray
        The leading eigenvalues of M, descending.
    noise_edge : float
        The eigenvalue a structureless matrix reaches (Marchenko-Pastur, or 1).
    method, fuzzifier, seed, embedding, n_components, component_rule, threshold,
    threshold_rule, index, n_init, iterations, seconds, versions
        Provenance: the fuzzifier (fuzzy c-means' ``m``; :attr:`m` is its deprecated
        name), the embedding and its dimension (and the rule that set it), the overlap
        threshold and its rule, the index that chose ``c``.
    """

    memberships: np.ndarray = field(repr=False)
    crisp: np.ndarray = field(repr=False)
    overlap: np.ndarray = field(repr=False)
    classes: tuple[str, ...] = field(repr=False)
    candidates: tuple[int, ...]
    curves: dict = field(repr=False)
    centers: np.ndarray = field(repr=False)
    eigenvalues: np.ndarray = field(repr=False)
    noise_edge: float = 1.0
    method: str = METHOD
    fuzzifier: float = 2.0
    seed: int = 0
    embedding: str = "spectral"
    n_components: int = 0
    component_rule: str = ""
    threshold: float = 0.0
    threshold_rule: str = ""
    index: str = "eigen"
    n_init: int = 3
    iterations: int = 0
    seconds: float = 0.0
    versions: dict = field(default_factory=dict, repr=False)

    @property
    def m(self) -> float:
        """Deprecated: :attr:`fuzzifier` (elsewhere ``m`` is the number of classes)."""
        warn_caller("Groups.m is deprecated; use Groups.fuzzifier", DeprecationWarning)
        return self.fuzzifier

    @property
    def collapsed(self) -> bool:
        """The chosen fit's memberships are near-uniform (Dave's modified partition
        coefficient below :data:`COLLAPSE_MPC`): no group in it means anything."""
        chosen = list(self.candidates).index(self.n_groups)
        return bool(self.curves["mpc"][chosen] < COLLAPSE_MPC)

    @property
    def n_groups(self) -> int:
        return self.memberships.shape[1]

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    @property
    def index_values(self) -> np.ndarray:
        """The chosen index over :attr:`candidates` (the curve ``c`` was chosen on)."""
        return self.curves[self.index]

    @property
    def partition_coefficient(self) -> float:
        """fpc of the returned fit: 1/c when memberships are uniform (collapsed), 1 when crisp."""
        return float(np.sum(self.memberships**2) / self.n_classes)

    def members(self, k: int) -> np.ndarray:
        """Class indices in group ``k`` (its overlapping set), ascending."""
        return np.flatnonzero(self.overlap[:, k])

    def group_classes(self, k: int) -> tuple[str, ...]:
        """Class names in group ``k`` (its overlapping set), in input order."""
        return tuple(self.classes[j] for j in self.members(k))

    def to_frame(self):
        """One row per class (input order): ``group`` (crisp, ``G1``...) and
        ``membership_G<k>`` for every group.

        >>> import numpy as np
        >>> M = np.kron(np.eye(2), np.ones((3, 3))) * 0.8 + 0.2 * np.eye(6)
        >>> fuzzy_groups(M, n_groups=2).to_frame().columns.tolist()
        ['group', 'membership_G1', 'membership_G2']
        """
        import pandas as pd

        return pd.DataFrame(self.columns()).set_index("class")

    def columns(self) -> dict:
        """:meth:`to_frame`'s columns, by name, without pandas: ``class`` first (there,
        the index)."""
        columns = {"class": list(self.classes), "group": [f"G{k + 1}" for k in self.crisp]}
        for k in range(self.n_groups):
            columns[f"membership_G{k + 1}"] = self.memberships[:, k]
        return columns

    def _repr_html_(self) -> str:
        from ..summaries import html_summary

        sizes = np.bincount(self.crisp, minlength=self.n_groups)
        rows = [("method", f"{self.method}, fuzzifier {self.fuzzifier:g}"),
                ("groups", f"{self.n_groups} (sizes {', '.join(map(str, sizes[:12]))}"
                           + (", ..." if self.n_groups > 12 else "") + ")"),
                ("embedding", f"{self.embedding}, {self.n_components} dimensions"),
                ("overlap threshold", f"{self.threshold:.3g}"),
                ("classes in 2+ groups", int(np.sum(self.overlap.sum(axis=1) > 1)))]
        if self.collapsed:
            rows.append(("warning", "the fit collapsed: memberships are near uniform"))
        return html_summary("Fuzzy groups", rows)

    def provenance(self) -> dict:
        """What was computed, as plain JSON-ready values."""
        return {
            "method": self.method, "fuzzifier": self.fuzzifier, "seed": self.seed,
            "embedding": self.embedding,
            "n_components": self.n_components, "component_rule": self.component_rule,
            "noise_edge": self.noise_edge, "n_groups": self.n_groups, "index": self.index,
            "candidates": list(self.candidates),
            "curves": {k: [None if math.isnan(x) else float(x) for x in v]
                       for k, v in self.curves.items()},
            "threshold": self.threshold, "threshold_rule": self.threshold_rule,
            "n_init": self.n_init, "iterations": self.iterations,
            "seconds": round(self.seconds, 4), "versions": dict(self.versions),
        }


# --------------------------------------------------------------------------- fuzzy groups

#: Fewest classes fuzzy groups are found for: two groups need a third class to tell apart.
MIN_CLASSES = 3


def fuzzy_groups(similarity, n_groups: int | None = None, fuzzifier: float = 2.0, seed: int = 0,
                 *, embedding: str = "spectral", n_components: int | None = None,
                 max_components: int = 32, max_groups: int = 32, index: str = "eigen",
                 threshold: float | None = None, n_init: int = 3, error: float = 1e-6,
                 maxiter: int = 1000, classes=None, m: float | None = None) -> Groups:
    """Overlapping groups of classes: fuzzy c-means on the (embedded) rows of ``M``.

    Parameters
    ----------
    similarity : Similarity or ndarray (n, n)
        A :class:`~blocks_rx.Similarity` carries its sample count, which sets the noise edge;
        a bare matrix falls back to Kaiser's rule (eigenvalues above 1).
    n_groups : int, optional
        Number of groups ``c``, 2 to the number of classes. By default chosen by ``index``
        over ``2 .. min(d, max_groups)`` (see the module docstring).
    fuzzifier : float
        Fuzzy c-means' exponent on memberships (its ``m``), > 1; larger gives softer
        memberships.
    seed : int
        Seeds the k-means++ starts (``np.random.default_rng``), handed to ``cmeans`` as an
        explicit ``init``: scikit-fuzzy's own ``seed`` would reset numpy's global state.
    embedding : {"spectral", "pca", "none"}
        How rows of ``M`` are reduced first; see :data:`EMBEDDINGS`.
    n_components : int, optional
        Embedding dimension ``d``; default the number of signal eigenvalues.
    max_components, max_groups : int
        Caps on ``d`` and on the candidate numbers of groups.
    index : {"eigen", "fpc", "mpc", "xie-beni"}
        What chooses ``c`` when ``n_groups`` is None; see :data:`INDICES`.
    threshold : float, optional
        Overlap threshold on memberships; default ``1 / c``.
    n_init : int
        Starts per ``c``; the fit of lowest objective is kept.
    error, maxiter
        ``cmeans`` stopping rule.
    classes : sequence of str, optional
        Names, when ``similarity`` is a bare matrix.
    m : float, optional
        Deprecated spelling of ``fuzzifier`` (elsewhere ``m`` is the number of classes).

    Returns
    -------
    Groups

    Raises
    ------
    ValueError
        Fewer than :data:`MIN_CLASSES` classes, non-finite similarities or a bad argument.

    Examples
    --------
    >>> import numpy as np, blocks_rx
    >>> rng = np.random.default_rng(0)
    >>> labels = np.repeat([0, 1, 2], 5)
    >>> S = 2 * rng.normal(size=(400, 3))[:, labels] + rng.normal(size=(400, 15))
    >>> groups = fuzzy_groups(blocks_rx.compute_similarity(S))
    >>> groups.n_groups, groups.crisp.tolist()
    (3, [0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2])
    >>> groups.memberships.shape, groups.partition_coefficient > 0.9
    ((15, 3), True)
    """
    started = time.perf_counter()
    fuzzifier = _deprecated_m(fuzzifier, m)
    matrix, names = matrix_and_names(similarity, classes)
    _check_arguments(matrix, n_groups=n_groups, fuzzifier=fuzzifier, embedding=embedding,
                     index=index, n_components=n_components, threshold=threshold,
                     n_init=n_init, max_groups=max_groups, max_components=max_components)
    spectrum, candidates = _candidates(similarity, matrix, n_groups, n_components,
                                       max_components, max_groups)
    fits, layouts = _fit_candidates(
        matrix, candidates, spectrum, index=index, embedding=embedding,
        n_components=n_components, max_components=max_components, fuzzifier=fuzzifier,
        seed=seed, n_init=n_init, error=error, maxiter=maxiter)
    curves, best = _choose(fits, candidates, spectrum, index)
    fit, c = fits[best], candidates[best]
    _warn_if_collapsed(fit, c, bool(curves["filled"][best]), embedding)
    return _build_groups(fit, c, names, candidates=candidates, curves=curves, spectrum=spectrum,
                         layout=layouts[c], threshold=threshold, fuzzifier=fuzzifier, seed=seed,
                         embedding=embedding, index=index, n_init=n_init, started=started)


def _deprecated_m(fuzzifier: float, m: float | None) -> float:
    """The fuzzifier, taking the deprecated keyword ``m`` with a DeprecationWarning."""
    if m is None:
        return fuzzifier
    if fuzzifier != 2.0:
        raise TypeError("give the fuzzifier once: fuzzifier= (m= is its deprecated spelling)")
    warn_caller("fuzzy_groups(m=...) is deprecated; use fuzzifier=... (m is the number of "
                "classes elsewhere)", DeprecationWarning)
    return m


def _check_arguments(matrix, *, n_groups, fuzzifier, embedding, index, n_components,
                     threshold, n_init, max_groups, max_components) -> None:
    """Raise OptionError for an argument fuzzy_groups cannot use, naming it."""
    n = matrix.shape[0]
    if not fuzzifier > 1:
        raise OptionError(f"the fuzzifier must be > 1, got {fuzzifier}")
    if n_groups is not None and not 2 <= n_groups <= n:
        raise OptionError(f"n_groups must be between 2 and the number of classes ({n}), "
                         f"got {n_groups}")
    _check_class_count(n)
    if embedding not in EMBEDDINGS:
        raise OptionError(f"unknown embedding {embedding!r}; choose one of {', '.join(EMBEDDINGS)}")
    if index not in INDICES:
        raise OptionError(f"unknown index {index!r}; choose one of {', '.join(INDICES)}")
    if n_components is not None and not 1 <= n_components <= n:
        raise OptionError(f"n_components must be between 1 and {n}, got {n_components}")
    if threshold is not None and not 0 < threshold <= 1:
        raise OptionError(f"threshold must be in (0, 1], got {threshold}")
    if n_init < 1 or max_groups < 2 or max_components < 2:
        raise OptionError("n_init must be >= 1, max_groups and max_components >= 2")
    if not all(np.isfinite(matrix[start:start + 1024]).all()
               for start in range(0, matrix.shape[0], 1024)):
        raise ValueError("the similarity matrix holds non-finite values")


def _check_class_count(n: int) -> None:
    """Raise ValueError below :data:`MIN_CLASSES` classes."""
    if n < MIN_CLASSES:
        raise ValueError(f"fuzzy groups need at least {MIN_CLASSES} classes, got {n}")


def _candidates(similarity, matrix, n_groups, n_components, max_components, max_groups):
    """The leading spectrum of M (and its noise edge) and the candidate numbers of groups."""
    n_samples = similarity.n_samples if isinstance(similarity, Similarity) else 0
    spectrum = _spectrum(matrix, n_samples, max(max_components, n_components or 0))
    if n_groups is not None:
        return spectrum, (n_groups,)
    # The signal directions bound the range, whatever the embedding.
    eigenvalues, _, edge = spectrum
    top = min(_signal_count(eigenvalues, edge, max_components), max_groups, matrix.shape[0])
    return spectrum, tuple(range(2, top + 1))


def _fit_candidates(matrix, candidates, spectrum, *, index, embedding, n_components,
                    max_components, fuzzifier, seed, n_init, error, maxiter):
    """The best fit for the candidates ``c`` the index needs (None for the others), and each
    fitted embedding's ``(d, rule)`` by ``c``.

    The partition indices compare every candidate. ``"eigen"`` chooses the largest
    candidate above the noise edge whose fit leaves no group empty, so its fits run from
    that end and stop at the first such fit: the choice is the one fitting every candidate
    gives (each ``c`` draws its starts from its own generator, so a fit never depends on
    which others ran), at a fraction of the fits.
    """
    def fit(c):
        # d = min(c, signal), so the points depend on c
        points, d, rule = embed_rows(matrix, embedding, n_groups=c, n_components=n_components,
                                     max_components=max_components, spectrum=spectrum)
        layouts[c] = (d, rule)
        return _best_fit(points, c, fuzzifier, seed, n_init, error, maxiter)  # then points go

    fits, layouts = [None] * len(candidates), {}
    if index != "eigen":
        return [fit(c) for c in candidates], layouts
    above = _eigen_curve(candidates, spectrum) > 1.0
    # Above the edge from the largest down, then (none filled there) from the smallest up.
    tries = [i for i in reversed(range(len(candidates))) if above[i]]
    tries += [i for i in range(len(candidates)) if not above[i]]
    for i in tries:
        fits[i] = fit(candidates[i])
        if _filled(fits[i], candidates[i]):
            break
    return fits, layouts


def _eigen_curve(candidates, spectrum) -> np.ndarray:
    """The ``"eigen"`` index: the c-th eigenvalue over the noise edge, for each candidate."""
    eigenvalues, _, edge = spectrum
    return np.array([eigenvalues[c - 1] / edge if c <= eigenvalues.size else 0.0
                     for c in candidates])


def _filled(fit: dict, c: int) -> bool:
    """Every group holds a class crisply. When one does not, fuzzy c-means has put two or
    more centres on top of each other (a partial collapse): fewer groups exist than c."""
    return bool(np.bincount(np.argmax(fit["u"], axis=0), minlength=c).min() > 0)


def _choose(fits, candidates, spectrum, index: str):
    """The index curves over the candidates (NaN, and not ``filled``, where a candidate was
    not fitted: ``curves["fitted"]``), and the position of the chosen ``c``."""
    fitted = np.array([fit is not None for fit in fits])
    curves = {"eigen": _eigen_curve(candidates, spectrum)}
    curves.update({name: np.array([math.nan if fit is None else fit[name] for fit in fits])
                   for name in INDICES if name != "eigen"})
    filled = np.array([fit is not None and _filled(fit, c) for fit, c in zip(fits, candidates)])
    curves["filled"], curves["fitted"] = filled, fitted
    values = curves[index]
    if index == "eigen":  # one group per signal direction, among fits with no empty group
        above = np.flatnonzero((values > 1.0) & filled)
        # None above is filled: the smallest filled (all were fitted if none is: then 2).
        best = int(above[-1]) if above.size else int(np.argmax(filled))
    else:  # ties go to the smaller c
        ranked = np.where(filled, values, -np.inf if INDICES[index][1] else np.inf)
        best = int(np.argmax(ranked) if INDICES[index][1] else np.argmin(ranked))
    return curves, best


def _warn_if_collapsed(fit: dict, c: int, filled: bool, embedding: str) -> None:
    """Warn (CollapsedWarning, at fuzzy_groups' caller) of a partial or full collapse."""
    if not filled and fit["mpc"] >= COLLAPSE_MPC:  # a full collapse is reported below
        warn_caller(f"fuzzy c-means with {c} groups left some groups without a class (their centres "
            "coincide with others'); fewer groups describe these classes.", CollapsedWarning)
    if fit["mpc"] < COLLAPSE_MPC:
        helps = ("the spectral embedding (embedding='spectral'), " if embedding != "spectral"
                 else "")
        warn_caller(f"fuzzy c-means found no groups: with {c} groups its memberships are near-uniform "
            f"(partition coefficient {fit['fpc']:.3f}, uniform is {1 / c:.3f}), so the "
            "classes show no group structure it can separate, and no failed or coherent "
            f"groups are reported. What may help: {helps}more samples, or a smaller "
            "fuzzifier.", CollapsedWarning)


def _build_groups(fit: dict, c: int, names, *, candidates, curves, spectrum, layout,
                  threshold, fuzzifier, seed, embedding, index, n_init, started) -> Groups:
    """The chosen fit as read-only :class:`Groups`: numbered groups, overlap, provenance."""
    from importlib.metadata import version

    memberships, centers = _canonical(fit["u"].T, fit["centers"])
    crisp = np.argmax(memberships, axis=1)
    cut = 1.0 / c if threshold is None else float(threshold)
    overlap = memberships >= cut
    overlap[np.arange(len(names)), crisp] = True
    eigenvalues, _, edge = spectrum
    d, rule = layout
    groups = Groups(
        memberships=memberships, crisp=crisp, overlap=overlap, classes=names,
        candidates=candidates, curves=curves, centers=centers, eigenvalues=eigenvalues,
        noise_edge=float(edge), fuzzifier=float(fuzzifier), seed=int(seed),
        embedding=embedding, n_components=d, component_rule=rule, threshold=cut,
        threshold_rule="1/c (above uniform membership)" if threshold is None else "given",
        index=index, n_init=n_init, iterations=fit["iterations"],
        seconds=time.perf_counter() - started,
        versions={"scikit-fuzzy": version("scikit-fuzzy"), "numba": version("numba")},
    )
    for value in (groups.memberships, groups.crisp, groups.overlap, groups.centers,
                  groups.eigenvalues, *groups.curves.values()):
        value.flags.writeable = False
    return groups


def embed_rows(matrix, embedding: str = "spectral", *, n_groups: int | None = None,
               n_components: int | None = None, max_components: int = 32, n_samples: int = 0,
               spectrum=None):
    """The rows of a similarity matrix as points for fuzzy c-means.

    Returns ``(points, d, rule)``: the (m, d) points, their dimension and the rule that set
    it (see the module docstring): ``n_components`` if given, else the number of signal
    eigenvalues, at most ``n_groups``. ``n_samples`` sets the noise edge (0: unknown).

    >>> import numpy as np
    >>> M = np.kron(np.eye(2), np.full((3, 3), 0.8)) + 0.2 * np.eye(6)
    >>> points, d, rule = embed_rows(M)
    >>> points.shape, rule
    ((6, 2), 'eigenvalues above 1 (Kaiser), clipped to [2, 32]')
    >>> bool(np.allclose(points[:3], points[0]))      # a group shares one direction
    True
    """
    M = np.asarray(matrix)  # as it is (float32 from a Similarity): no m x m float64 copy
    n = M.shape[0]
    if embedding not in EMBEDDINGS:
        raise ValueError(f"unknown embedding {embedding!r}; choose one of {', '.join(EMBEDDINGS)}")
    if embedding == "none":  # the raw rows are m x m float64 points: one copy, asked for
        return np.array(M, dtype=np.float64), n, "raw rows"
    values, vectors, edge = spectrum or _spectrum(M, n_samples, max(max_components,
                                                                    n_components or 0))
    if n_components is not None:
        d, rule = n_components, "given"
    else:
        d = _signal_count(values, edge, max_components)
        rule = (f"eigenvalues above the Marchenko-Pastur edge {edge:.4g}" if edge > 1.0
                else "eigenvalues above 1 (Kaiser)") + f", clipped to [2, {max_components}]"
        if n_groups is not None and n_groups < d:
            d, rule = n_groups, f"c = {n_groups} groups, fewer than the signal ({rule})"
    vectors = vectors[:, :d]
    if embedding == "pca":
        return vectors * values[:d], d, rule
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    # A class with no structure (a constant class) has a ~0 row: leave it at the origin.
    points = np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 1e-12)
    return points, d, rule


def _best_fit(points, c, fuzzifier, seed, n_init, error, maxiter) -> dict:
    """The lowest-objective of ``n_init`` cmeans runs from k-means++ starts, with its indices.

    cmeans is blocks-rx's compiled twin of scikit-fuzzy's (:mod:`blocks_rx.groups._cmeans`),
    looked up at each call so that tests and benchmarks can put scikit-fuzzy's back.
    """
    from . import _cmeans

    # One generator per c, so a fit does not depend on which other c were tried.
    rng = np.random.default_rng([seed, c])
    data = np.ascontiguousarray(points.T)
    best = None
    for _ in range(n_init):
        init = _kmeanspp_memberships(points, c, fuzzifier, rng)
        centers, u, _, _, jm, p, fpc = _cmeans.cmeans(data, c, fuzzifier, error, maxiter,
                                                      init=init)
        if best is None or jm[-1] < best["objective"]:
            best = {"objective": float(jm[-1]), "centers": centers, "u": u, "fpc": float(fpc),
                    "iterations": int(p)}
    best["mpc"] = 1.0 - c / (c - 1) * (1.0 - best["fpc"])
    gaps = _sq_distances(best["centers"], best["centers"])
    np.fill_diagonal(gaps, np.inf)
    min_gap = gaps.min()
    best["xie-beni"] = (best["objective"] / (len(points) * min_gap) if min_gap > 0
                        else float("inf"))
    return best


def _kmeanspp_memberships(points, c, fuzzifier, rng):
    """Memberships to ``c`` k-means++ seeds (a c x n ``init`` for cmeans).

    Starting from spread-out seeds, not from random memberships (whose centres all begin at
    the centre of gravity), keeps cmeans away from the collapsed fixed point.
    """
    n = len(points)
    chosen = [int(rng.integers(n))]
    nearest = _sq_distances(points, points[chosen])[:, 0]
    for _ in range(1, c):
        total = nearest.sum()
        pick = int(rng.choice(n, p=nearest / total)) if total > 0 else int(rng.integers(n))
        chosen.append(pick)
        np.minimum(nearest, _sq_distances(points, points[[pick]])[:, 0], out=nearest)
    # u ~ d ** (-2 / (fuzzifier - 1)), in logs: a fuzzifier near 1 would overflow the powers.
    log_u = (-np.log(np.fmax(_sq_distances(points[chosen], points), 1e-24))
             / (fuzzifier - 1.0))
    u = np.exp(log_u - log_u.max(axis=0, keepdims=True))
    return u / u.sum(axis=0, keepdims=True)


def _sq_distances(a, b):
    """Squared Euclidean distances between the rows of ``a`` and of ``b``, summed feature
    by feature as ``scipy.spatial.distance.cdist(a, b, "sqeuclidean")`` sums them (the
    points have at most 32 features; importing scipy.spatial takes 0.2 s)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    out = np.zeros((a.shape[0], b.shape[0]))
    for k in range(a.shape[1]):
        out += np.subtract.outer(a[:, k], b[:, k]) ** 2
    return out


def _canonical(u, centers):
    """Number the groups by their first crisp member in input order (stable across seeds)."""
    crisp = np.argmax(u, axis=1)
    first = np.empty(u.shape[1], dtype=np.int64)
    for k in range(u.shape[1]):
        hits = np.flatnonzero(crisp == k)
        # A group that is nobody's best goes after the others, by its strongest member.
        first[k] = hits[0] if hits.size else u.shape[0] + int(np.argmax(u[:, k]))
    perm = np.argsort(first, kind="stable")
    return np.ascontiguousarray(u[:, perm]), np.ascontiguousarray(centers[perm])
