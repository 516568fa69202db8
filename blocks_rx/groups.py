"""Groups that hclust cannot show: fuzzy (overlapping) groups, failed groups, split groups.

hclust allows only nested groups. The paper (Sec. 3.2, Fig. 5) finds two ways this hides
structure a classifier has formed:

*failed groups*
    classes the classifier treats as alike (celebrities wearing glasses) that hclust scatters
    across its subtrees, because each of them sits more firmly in another group (gender);
*split groups*
    a coherent group cut in two by the top level of the hierarchy: a dense block off the
    diagonal, between two blocks that lie in different top-level clusters.

:func:`fuzzy_groups` recovers overlapping groups with fuzzy c-means (scikit-fuzzy's
``cmeans``) on the rows of the similarity matrix ``M``, reduced first to a spectral
embedding; :func:`failed_groups` ranks those groups by how scattered yet alike they are in an
ordering; :func:`split_groups` finds dense off-diagonal block pairs across the top-level
clusters; :func:`coherent_groups` lists the fuzzy groups the ordering keeps in one block.
:func:`find_groups` runs all four and returns a :class:`GroupFindings`; it is the
``"fuzzy-cmeans"`` entry of :data:`GROUP_METHODS`, the registry of group methods (options,
whether the ordering needs a tree, memory).

Fuzzy c-means' exponent on memberships, its ``m``, is called ``fuzzifier`` here (> 1, 2 by
default; larger gives softer memberships): in this package ``m`` is the number of classes.
Fewer than 3 classes have no groups to find (:data:`MIN_CLASSES`).

The rules, in one place:

embedding (``"spectral"``)
    The top ``d`` eigenvectors of ``M`` (unit length each, so every direction of structure
    weighs the same), each class's row then scaled to unit length (Ng, Jordan & Weiss, 2002).
    Raw rows are m-dimensional, where fuzzy c-means centres collapse onto the centre of
    gravity (scikit-fuzzy issue 94; Winkler, Klawonn & Kruse, 2012), and a top-level split
    such as gender dominates every distance between rows; in the embedding a small group
    that crosses the top level weighs as much as the top level itself.
dimension ``d``
    The number of *signal* eigenvalues of ``M``: those above the Marchenko-Pastur edge
    ``(1 + sqrt(m / n))**2``, the largest eigenvalue a correlation matrix of ``m``
    independent columns over ``n`` samples reaches; above 1 (Kaiser's rule) when the
    sample count is unknown. Clipped to ``[2, max_components]``, and at most ``c``: one
    direction per group, as spectral clustering uses ``k`` eigenvectors for ``k`` clusters.
    (In more directions than groups the embedding is nearly isotropic, where the centre of
    gravity is a stable fixed point of fuzzy c-means and the fit collapses.)
number of groups (``index``)
    Only fits in which every group holds at least one class crisply count (otherwise two
    centres have merged, a partial collapse seen on real data: langid's 97 languages give
    empty groups from c = 8 on).
    Candidates ``c = 2 .. min(signal eigenvalues, max_groups)``: more groups than directions
    of structure can only cut groups into their overlaps. Fuzzy c-means runs for every
    candidate and the curves are kept: the fuzzy partition coefficient
    ``fpc = sum(u**2) / n`` (scikit-fuzzy's), Dave's modified ``mpc``, Xie-Beni, and the
    default index ``"eigen"``: the c-th eigenvalue over the noise edge. ``"eigen"`` chooses
    the largest candidate above 1, one group per direction of structure. Partition indices
    reward crisp partitions and so absorb a small group that overlaps others, the very group
    this module is for: on ``benchmarks/groups.py`` (2,622 classes) fpc, mpc and Xie-Beni
    all choose c = 2, the top-level split, and fpc prefers 24 groups (0.879) to the 25 that
    hold the planted 60-class failed group (0.852). ``index="fpc"``, ``"mpc"`` or
    ``"xie-beni"`` choose by those curves instead.
overlap
    Class ``i`` belongs to group ``k`` when ``u[i, k] >= 1 / c``: more than a uniform,
    uninformative membership would give it. Every class also belongs to its crisp group.
failed-group measures
    ``dispersion = (runs - 1) / (size - 1)``, where ``runs`` counts the maximal stretches
    of consecutive positions the members occupy in the order (0: one block, 1: no two
    members adjacent); ``excess`` = mean similarity between members minus the mean
    off-diagonal similarity of the whole matrix; ``score = dispersion * excess``.
split-group rule
    Blocks are the clusters of a finer cut of the tree (``round(sqrt(m))`` clusters by
    default), which are contiguous in the order. For every two top-level clusters, each pair
    of blocks (one in each, both of at least ``min_block`` classes: 3, or a quarter of the
    average block if more) gets its mean similarity;
    a pair is a split group when its robust z-score against all such pairs across the same
    two top-level clusters, ``(mean - median) / (1.4826 * MAD)``, is at least ``z_min``
    (3.5, Iglewicz & Hoaglin's cut for outliers) and its mean exceeds the median by at
    least ``min_excess``. Split groups are ranked by ``excess * sqrt(size1 * size2)``.
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass, field

import numpy as np

from .ordering import Ordering, matrix_and_names
from .errors import OptionError
from .registry import Cost, Entry, Option, Registry
from .similarity import Similarity

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
        ``eigen``, ``fpc``, ``mpc`` and ``xie-beni`` for every candidate.
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
    method: str = "fuzzy c-means (skfuzzy.cluster.cmeans)"
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
        warnings.warn("Groups.m is deprecated; use Groups.fuzzifier", DeprecationWarning,
                      stacklevel=2)
        return self.fuzzifier

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

    def provenance(self) -> dict:
        """What was computed, as plain JSON-ready values."""
        return {
            "method": self.method, "fuzzifier": self.fuzzifier, "seed": self.seed,
            "embedding": self.embedding,
            "n_components": self.n_components, "component_rule": self.component_rule,
            "noise_edge": self.noise_edge, "n_groups": self.n_groups, "index": self.index,
            "candidates": list(self.candidates),
            "curves": {k: [float(x) for x in v] for k, v in self.curves.items()},
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
        matrix, candidates, spectrum, embedding=embedding, n_components=n_components,
        max_components=max_components, fuzzifier=fuzzifier, seed=seed, n_init=n_init,
        error=error, maxiter=maxiter)
    curves, best = _choose(fits, candidates, spectrum, index)
    fit, c = fits[best], candidates[best]
    _warn_if_collapsed(fit, c, bool(curves["filled"][best]))
    return _build_groups(fit, c, names, candidates=candidates, curves=curves, spectrum=spectrum,
                         layout=layouts[c], threshold=threshold, fuzzifier=fuzzifier, seed=seed,
                         embedding=embedding, index=index, n_init=n_init, started=started)


def _deprecated_m(fuzzifier: float, m: float | None) -> float:
    """The fuzzifier, taking the deprecated keyword ``m`` with a DeprecationWarning."""
    if m is None:
        return fuzzifier
    if fuzzifier != 2.0:
        raise TypeError("give the fuzzifier once: fuzzifier= (m= is its deprecated spelling)")
    warnings.warn("fuzzy_groups(m=...) is deprecated; use fuzzifier=... (m is the number of "
                  "classes elsewhere)", DeprecationWarning, stacklevel=3)
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
    if not np.isfinite(matrix).all():
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


def _fit_candidates(matrix, candidates, spectrum, *, embedding, n_components, max_components,
                    fuzzifier, seed, n_init, error, maxiter):
    """The best fit for every candidate ``c``, and each embedding's ``(d, rule)`` by ``c``."""
    fits, layouts = [], {}
    for c in candidates:  # d = min(c, signal), so the points depend on c
        points, d, rule = embed_rows(matrix, embedding, n_groups=c, n_components=n_components,
                                     max_components=max_components, spectrum=spectrum)
        layouts[c] = (d, rule)
        fits.append(_best_fit(points, c, fuzzifier, seed, n_init, error, maxiter))
        del points  # raw rows are m x m: hold one candidate's at a time
    return fits, layouts


def _choose(fits, candidates, spectrum, index: str):
    """The index curves over the candidates, and the position of the chosen ``c``."""
    eigenvalues, _, edge = spectrum
    curves = {"eigen": np.array([eigenvalues[c - 1] / edge if c <= eigenvalues.size
                                 else 0.0 for c in candidates])}
    curves.update({name: np.array([fit[name] for fit in fits]) for name in INDICES
                   if name != "eigen"})
    # A fit is degenerate when some group holds no class crisply: fuzzy c-means has put two
    # or more centres on top of each other (a partial collapse), so fewer groups exist than c.
    filled = np.array([np.bincount(np.argmax(fit["u"], axis=0), minlength=c).min() > 0
                       for fit, c in zip(fits, candidates)])
    curves["filled"] = filled
    values = curves[index]
    if index == "eigen":  # one group per signal direction, among fits with no empty group
        above = np.flatnonzero((values > 1.0) & filled)
        best = int(above[-1]) if above.size else int(np.argmax(filled))
    else:  # ties go to the smaller c
        ranked = np.where(filled, values, -np.inf if INDICES[index][1] else np.inf)
        best = int(np.argmax(ranked) if INDICES[index][1] else np.argmin(ranked))
    return curves, best


def _warn_if_collapsed(fit: dict, c: int, filled: bool) -> None:
    """Warn (CollapsedWarning, at fuzzy_groups' caller) of a partial or full collapse."""
    if not filled and fit["mpc"] >= COLLAPSE_MPC:  # a full collapse is reported below
        warnings.warn(
            f"fuzzy c-means with {c} groups left some groups without a class (their centres "
            "coincide with others'); fewer groups describe these classes.", CollapsedWarning,
            stacklevel=3)
    if fit["mpc"] < COLLAPSE_MPC:
        warnings.warn(
            f"fuzzy c-means collapsed with {c} groups: memberships are near-uniform (partition "
            f"coefficient {fit['fpc']:.3f}, uniform is {1 / c:.3f}). Use the spectral embedding, "
            "fewer groups or a smaller fuzzifier.", CollapsedWarning, stacklevel=3)


def _build_groups(fit: dict, c: int, names, *, candidates, curves, spectrum, layout,
                  threshold, fuzzifier, seed, embedding, index, n_init, started) -> Groups:
    """The chosen fit as read-only :class:`Groups`: numbered groups, overlap, provenance."""
    import skfuzzy

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
        seconds=time.perf_counter() - started, versions={"scikit-fuzzy": skfuzzy.__version__},
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
    M = np.asarray(matrix, dtype=np.float64)
    n = M.shape[0]
    if embedding not in EMBEDDINGS:
        raise ValueError(f"unknown embedding {embedding!r}; choose one of {', '.join(EMBEDDINGS)}")
    if embedding == "none":
        return M.copy(), n, "raw rows"
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


def _spectrum(matrix, n_samples: int, k: int):
    """The leading ``k`` eigenpairs of M (descending) and the noise edge."""
    from scipy.linalg import eigh

    M = np.asarray(matrix, dtype=np.float64)
    n = M.shape[0]
    k = min(n, k)
    # Only the leading eigenpairs (LAPACK's MRRR subset): 0.5 s for 2,622 classes.
    values, vectors = eigh(M, subset_by_index=[n - k, n - 1])
    values, vectors = values[::-1].copy(), vectors[:, ::-1]
    # An eigenvector's sign is arbitrary: fix it (largest entry positive) for stable output.
    signs = np.sign(vectors[np.argmax(np.abs(vectors), axis=0), np.arange(k)])
    vectors = vectors * np.where(signs == 0, 1.0, signs)
    edge = (1.0 + math.sqrt(n / n_samples)) ** 2 if n_samples >= 2 else 1.0
    return values, vectors, edge


def _signal_count(eigenvalues, edge: float, max_components: int) -> int:
    """The number of signal eigenvalues (above ``edge``), clipped to [2, max_components]."""
    return int(min(max(np.count_nonzero(eigenvalues > edge), 2), max_components,
                   eigenvalues.size))


def _best_fit(points, c, fuzzifier, seed, n_init, error, maxiter) -> dict:
    """The lowest-objective of ``n_init`` cmeans runs from k-means++ starts, with its indices."""
    from skfuzzy.cluster import cmeans

    # One generator per c, so a fit does not depend on which other c were tried.
    rng = np.random.default_rng([seed, c])
    data = np.ascontiguousarray(points.T)
    best = None
    for _ in range(n_init):
        init = _kmeanspp_memberships(points, c, fuzzifier, rng)
        centers, u, _, _, jm, p, fpc = cmeans(data, c, fuzzifier, error, maxiter, init=init)
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
    """Squared Euclidean distances between the rows of ``a`` and of ``b``."""
    from scipy.spatial.distance import cdist

    return cdist(a, b, "sqeuclidean")


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


# --------------------------------------------------------------------------- placement


@dataclass(frozen=True, eq=False)
class GroupPlacement:
    """Where a fuzzy group lies in an ordering, and how alike its members are.

    Attributes
    ----------
    group : int
        Index into the :class:`Groups`.
    classes : tuple of str
        Members (the overlapping set), in the ordering's order.
    positions : ndarray of int
        Their positions in the order, ascending.
    span : (int, int)
        Half-open ``(start, end)`` from the first to past the last member, as a slice.
    n_runs : int
        Maximal stretches of consecutive positions the members occupy.
    dispersion : float
        ``(n_runs - 1) / (size - 1)``: 0 in one block, 1 when no two members are adjacent.
    n_top_clusters : int or None
        Top-level clusters of the ordering's tree that hold members (None: no tree).
    within : float
        Mean similarity over pairs of distinct members.
    background : float
        Mean off-diagonal similarity of the whole matrix.
    excess : float
        ``within - background``.
    score : float
        ``dispersion * excess``: how "failed" the group is.
    """

    group: int
    classes: tuple[str, ...]
    positions: np.ndarray = field(repr=False)
    span: tuple[int, int]
    n_runs: int
    dispersion: float
    n_top_clusters: int | None
    within: float
    background: float
    excess: float
    score: float

    @property
    def size(self) -> int:
        return len(self.classes)


def place_groups(groups: Groups, ordering: Ordering, similarity, *,
                 n_top: int = 2) -> list[GroupPlacement]:
    """Every group's placement in the ordering (see :class:`GroupPlacement`), by group index.

    >>> import numpy as np, blocks_rx
    >>> M = np.kron(np.eye(2), np.full((3, 3), 0.8)) + 0.2 * np.eye(6)
    >>> groups = fuzzy_groups(M)
    >>> [(p.classes, p.n_runs) for p in place_groups(groups, blocks_rx.hclust(M), M)]
    [(('class_2', 'class_0', 'class_1'), 1), (('class_5', 'class_3', 'class_4'), 1)]
    """
    matrix, names = matrix_and_names(similarity, None)
    _same_classes(names, ordering, groups)
    n = len(names)
    position = ordering.positions
    top = ordering.cut(n_top) if ordering.merge is not None and n >= n_top else None
    background = _off_diagonal_mean(matrix)
    placements = []
    for k in range(groups.n_groups):
        members = groups.members(k)
        if members.size == 0:
            continue
        pos = np.sort(position[members])
        runs = 1 + int(np.count_nonzero(np.diff(pos) > 1))
        size = members.size
        dispersion = (runs - 1) / (size - 1) if size > 1 else 0.0
        if size > 1:
            block = np.asarray(matrix[np.ix_(members, members)], dtype=np.float64)
            within = (block.sum() - np.trace(block)) / (size * (size - 1))
        else:
            within = float("nan")
        excess = within - background
        ordered = np.asarray(ordering.order)[pos]
        placements.append(GroupPlacement(
            group=k, classes=tuple(names[j] for j in ordered), positions=pos,
            span=(int(pos[0]), int(pos[-1]) + 1), n_runs=runs, dispersion=float(dispersion),
            n_top_clusters=None if top is None else int(np.unique(top[members]).size),
            within=float(within), background=float(background), excess=float(excess),
            score=float(dispersion * excess) if size > 1 else 0.0,
        ))
    return placements


def failed_groups(groups: Groups, ordering: Ordering, similarity, *, min_size: int = 3,
                  min_excess: float = 0.0, n_top: int = 2) -> list[GroupPlacement]:
    """Fuzzy groups that the ordering scatters although their members are alike.

    A group is listed when it has at least ``min_size`` members (its overlapping set), more
    than one run in the order, and ``excess > min_excess``; the list is ranked by
    ``score = dispersion * excess``, most "failed" first (measures: :class:`GroupPlacement`).

    Parameters
    ----------
    groups : Groups
    ordering : Ordering
        Typically hclust, complete linkage; must order the same classes.
    similarity : Similarity or ndarray
    min_size : int
    min_excess : float
    n_top : int
        Top-level clusters counted in ``n_top_clusters``.

    Returns
    -------
    list of GroupPlacement

    Examples
    --------
    >>> import numpy as np, blocks_rx
    >>> rng = np.random.default_rng(0)
    >>> sub = np.repeat(np.arange(4), 4)      # subgroups 0, 1 | 2, 3 under two top groups
    >>> S = (1.2 * rng.normal(size=(2000, 2))[:, sub // 2] + rng.normal(size=(2000, 4))[:, sub]
    ...      + rng.normal(size=(2000, 16)))
    >>> S[:, [0, 1, 8, 9]] += 1.2 * rng.normal(size=(2000, 1))   # alike across the top level
    >>> sim = blocks_rx.compute_similarity(S)
    >>> groups = fuzzy_groups(sim, n_groups=5, n_components=5)
    >>> failed = failed_groups(groups, blocks_rx.order_classes(sim), sim)
    >>> len(failed), sorted(failed[0].classes), failed[0].n_runs, failed[0].n_top_clusters
    (1, ['class_0', 'class_1', 'class_8', 'class_9'], 2, 2)
    """
    if min_size < 2:
        raise ValueError(f"min_size must be >= 2, got {min_size}")
    found = [p for p in place_groups(groups, ordering, similarity, n_top=n_top)
             if p.size >= min_size and p.n_runs > 1 and p.excess > min_excess]
    return sorted(found, key=lambda p: (-p.score, p.group))


def coherent_groups(groups: Groups, ordering: Ordering, similarity, *, min_size: int = 2,
                    min_excess: float = 0.0) -> list[GroupPlacement]:
    """Fuzzy groups that the ordering keeps in one block (the paper's green spans).

    Listed when the overlapping set (at least ``min_size`` classes) forms a single run in
    the order and its members are more alike than the background (``excess > min_excess``);
    in order of position. The complement, among alike groups, of :func:`failed_groups`.

    >>> import numpy as np, blocks_rx
    >>> rng = np.random.default_rng(0)
    >>> S = 2 * rng.normal(size=(400, 2))[:, np.repeat([0, 1], 4)] + rng.normal(size=(400, 8))
    >>> sim = blocks_rx.compute_similarity(S)
    >>> spans = coherent_groups(fuzzy_groups(sim), blocks_rx.order_classes(sim), sim)
    >>> [p.span for p in spans]
    [(0, 4), (4, 8)]
    """
    found = [p for p in place_groups(groups, ordering, similarity)
             if p.size >= min_size and p.n_runs == 1 and p.excess > min_excess]
    return sorted(found, key=lambda p: p.span)


# --------------------------------------------------------------------------- split groups


@dataclass(frozen=True, eq=False)
class Block:
    """A contiguous stretch of the order: classes ``order[start:end]``."""

    classes: tuple[str, ...]
    start: int
    end: int
    top_cluster: int

    @property
    def size(self) -> int:
        return self.end - self.start


@dataclass(frozen=True, eq=False)
class SplitGroup:
    """Two blocks in different top-level clusters that are far more alike than their surround.

    Attributes
    ----------
    first, second : Block
        ``first`` comes earlier in the order.
    mean : float
        Mean similarity between the two blocks.
    background : float
        Median of that mean over all block pairs across the same two top-level clusters.
    spread : float
        ``1.4826 * MAD`` of those means.
    z : float
        ``(mean - background) / spread``.
    n_pairs : int
        Block pairs in the background.
    """

    first: Block
    second: Block
    mean: float
    background: float
    spread: float
    z: float
    n_pairs: int

    @property
    def excess(self) -> float:
        return self.mean - self.background

    @property
    def weight(self) -> float:
        """``excess * sqrt(first.size * second.size)``: what the ranking is by."""
        return self.excess * math.sqrt(self.first.size * self.second.size)


def split_groups(
    similarity,
    ordering: Ordering,
    *,
    n_top: int = 2,
    n_blocks: int | None = None,
    min_block: int | None = None,
    z_min: float = 3.5,
    min_excess: float = 0.1,
) -> list[SplitGroup]:
    """Dense off-diagonal block pairs across top-level clusters: the paper's red boxes.

    Parameters
    ----------
    similarity : Similarity or ndarray
    ordering : Ordering
        With a tree (hclust); must order the same classes.
    n_top : int
        Top-level clusters (``ordering.cut(n_top)``).
    n_blocks : int, optional
        Clusters of the finer cut that make the blocks; default ``round(sqrt(m))``, at least
        ``2 * n_top``.
    min_block : int, optional
        Smaller blocks are neither candidates nor background; default a quarter of the
        average block, at least 3 (fine cuts peel off a few outlying classes as blocks).
    z_min, min_excess : float
        The rule (module docstring): robust z at least ``z_min`` and mean above the
        background median by at least ``min_excess``.

    Returns
    -------
    list of SplitGroup
        Ranked by ``excess * sqrt(size1 * size2)``: large dense blocks first, before the
        small tight ones a fine cut peels off (pieces of a failed group are such pairs too).

    Examples
    --------
    >>> import numpy as np, blocks_rx
    >>> rng = np.random.default_rng(0)
    >>> sub = np.repeat(np.arange(8), 5)     # subgroups 0-3 in one half, 4-7 in the other
    >>> S = (1.5 * rng.normal(size=(2000, 2))[:, sub // 4] + rng.normal(size=(2000, 8))[:, sub]
    ...      + rng.normal(size=(2000, 40)))
    >>> pair = (sub == 1) | (sub == 6)         # a subgroup in each half shares a factor
    >>> S[:, pair] += 0.8 * rng.normal(size=(2000, 1))
    >>> sim = blocks_rx.compute_similarity(S)
    >>> found = split_groups(sim, blocks_rx.order_classes(sim), n_blocks=8)
    >>> len(found), sorted(int(b.classes[0][6:]) // 5 for b in (found[0].first, found[0].second))
    (1, [1, 6])
    """
    matrix, names = matrix_and_names(similarity, None)
    _same_classes(names, ordering)
    if ordering.merge is None:
        raise ValueError(f"split groups need a tree to cut; a {ordering.method!r} ordering has "
                         "none (use hclust)")
    n_blocks, min_block = _block_settings(len(names), n_top, n_blocks, min_block)
    starts, ends, means, block_top = _cut_blocks(matrix, ordering, n_top, n_blocks)
    order = np.asarray(ordering.order)
    blocks = [_block(s, starts, ends, order, names, block_top) for s in range(starts.size)]
    big = (ends - starts) >= min_block
    found = []
    tops = np.unique(block_top)
    for i, p in enumerate(tops):
        for q in tops[i + 1:]:
            found += _dense_pairs(means, np.flatnonzero((block_top == p) & big),
                                  np.flatnonzero((block_top == q) & big), blocks,
                                  z_min=z_min, min_excess=min_excess)
    return sorted(found, key=lambda s: (-s.weight, -s.z, s.first.start, s.second.start))


def _block_settings(n: int, n_top: int, n_blocks: int | None, min_block: int | None):
    """``(n_blocks, min_block)`` with their defaults filled, checked against ``n`` classes."""
    if n_blocks is None:
        n_blocks = max(int(round(math.sqrt(n))), 2 * n_top)
    if not 2 <= n_top <= n_blocks <= n:
        raise ValueError(f"need 2 <= n_top <= n_blocks <= {n} classes, got n_top={n_top}, "
                         f"n_blocks={n_blocks}")
    if min_block is None:
        min_block = max(3, math.ceil(n / (4 * n_blocks)))
    if min_block < 1:
        raise ValueError(f"min_block must be >= 1, got {min_block}")
    return n_blocks, min_block


def _cut_blocks(matrix, ordering: Ordering, n_top: int, n_blocks: int):
    """The finer cut's blocks in the order: starts, ends, mean similarities, top clusters."""
    order = np.asarray(ordering.order)
    top = ordering.cut(n_top)[order]
    fine = ordering.cut(n_blocks)[order]
    # Clusters of a cut are contiguous in the tree's order: blocks start where the label changes.
    starts = np.flatnonzero(np.r_[True, fine[1:] != fine[:-1]])
    ends = np.r_[starts[1:], order.size]
    ordered = np.asarray(matrix, dtype=np.float64)[np.ix_(order, order)]
    sums = np.add.reduceat(np.add.reduceat(ordered, starts, axis=0), starts, axis=1)
    sizes = (ends - starts).astype(np.float64)
    return starts, ends, sums / np.outer(sizes, sizes), top[starts]


def _dense_pairs(means, rows, cols, blocks, *, z_min: float, min_excess: float) -> list:
    """The split groups among block pairs ``rows x cols`` (two top-level clusters)."""
    if rows.size * cols.size < 4:  # too few pairs for a background
        return []
    values = means[np.ix_(rows, cols)]
    median = float(np.median(values))
    spread = 1.4826 * float(np.median(np.abs(values - median)))
    found = []
    for a, b in zip(*np.nonzero(values - median >= min_excess)):
        z = (values[a, b] - median) / spread if spread > 0 else float("inf")
        if z < z_min:
            continue
        first, second = sorted((blocks[rows[a]], blocks[cols[b]]), key=lambda blk: blk.start)
        found.append(SplitGroup(first=first, second=second, mean=float(values[a, b]),
                                background=median, spread=spread, z=float(z),
                                n_pairs=int(values.size)))
    return found


def _block(s, starts, ends, order, names, block_top) -> Block:
    """Block ``s`` of the cut, with its classes in order."""
    start, end = int(starts[s]), int(ends[s])
    return Block(classes=tuple(names[j] for j in order[start:end]), start=start, end=end,
                 top_cluster=int(block_top[s]))


# --------------------------------------------------------------------------- findings


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
        warnings.warn("GroupFindings.groups is deprecated; use GroupFindings.fuzzy",
                      DeprecationWarning, stacklevel=2)
        return self.fuzzy

    def report(self) -> dict:
        """The findings as plain JSON-ready values (the ``groups`` part of report.json)."""
        g = self.fuzzy
        return {
            "method": g.method, "fuzzifier": float(g.fuzzifier),
            "n_groups": int(g.memberships.shape[1]), "index": g.index,
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
    split = split_groups(similarity, ordering) if len(names) >= 4 else []
    return GroupFindings(
        fuzzy=found, failed=failed_groups(found, ordering, similarity), split=split,
        coherent=coherent_groups(found, ordering, similarity),
        seconds=time.perf_counter() - started)


# --------------------------------------------------------------------------- registry


@dataclass(frozen=True)
class GroupMethod(Entry):
    """A group method and its facts.

    ``needs_tree``: its failed and split groups need an ordering with a tree (hclust).
    ``dense_copies``: how many m x m float64 arrays it holds at its peak beyond the
    similarity matrix, for a memory estimate (:meth:`memory_bytes`).
    ``cost``: how its time grows with the number of classes.

    >>> GROUP_METHODS["fuzzy-cmeans"].bind({"n_groups": 3})
    {'n_groups': 3, 'fuzzifier': 2.0, 'embedding': 'spectral', 'index': 'eigen'}
    >>> GROUP_METHODS["fuzzy-cmeans"].memory_bytes(10_000) / 1e9
    1.6
    """

    needs_tree: bool = True
    dense_copies: float = 0.0
    cost: Cost = field(default_factory=Cost)

    def memory_bytes(self, m: int) -> int:
        """Estimated peak working memory on ``m`` classes, in bytes."""
        return int(self.dense_copies * 8 * m * m)


GROUP_METHODS: Registry[GroupMethod] = Registry("group method")

# dense_copies, counted: two m x m float64 arrays at once, in the eigendecomposition (the
# float64 M, and eigh's copy of it for LAPACK; the eigenvectors kept are m x 32 at most) and
# again in split_groups (the float64 M and its reordered copy); the embeddings are m x d and
# the memberships m x c. With embedding="none" the raw rows (m x m) and cmeans' transposed
# copy also make two. tracemalloc, 1,000 classes from a float32 Similarity: find_groups peaks
# at 2.07 copies (spectral, pca) and 2.26 (none).
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
    # Time: the dense eigendecomposition dominates; 246 s measured at 10,000 classes here.
    needs_tree=True, dense_copies=2.0, cost=Cost("polynomial", 3, 10000, 246.0)))


# --------------------------------------------------------------------------- helpers


def _same_classes(names, ordering: Ordering, groups: Groups | None = None) -> None:
    """Raise ValueError unless the ordering (and groups) are of the classes ``names``."""
    for what, other in (("ordering", ordering.classes),
                        ("groups", groups.classes if groups is not None else names)):
        if tuple(other) != tuple(names):
            extra = [c for c in other if c not in set(names)][:5]
            missing = [c for c in names if c not in set(other)][:5]
            detail = (f" (only in the {what}: {extra}; only in the similarity: {missing})"
                      if extra or missing else " (same classes, different order)")
            raise ValueError(f"the {what} and the similarity matrix are for different "
                             f"classes{detail}")


def _off_diagonal_mean(matrix) -> float:
    """Mean of the off-diagonal entries of a square matrix."""
    M = np.asarray(matrix, dtype=np.float64)
    n = M.shape[0]
    return float((M.sum() - np.trace(M)) / (n * (n - 1)))
