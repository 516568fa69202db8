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
failed groups (:func:`failed_groups`)
    A group is scattered when it occupies more than one run (maximal stretch of consecutive
    positions) of the order and no run holds more than half of its members
    (``dispersion = (runs - 1) / (size - 1)`` is reported too). A scattered group is
    reported only with evidence. The tree's explanation of two classes is the mean
    similarity between the two subtrees their lowest common ancestor joins; the group's
    *residual* is the mean over pairs of members in different runs of their similarity minus
    that explanation. Null model: random groups with the same run lengths placed at random
    in the order (200 draws), scored the same way; ``z`` against them, a one-sided normal
    p-value, Holm's correction over the groups tested. Reported when the corrected p-value
    is at most 0.01, the residual exceeds the null mean by at least 0.05, and the members'
    mean similarity across runs exceeds the matrix's mean off-diagonal similarity by at
    least 0.05 (they are alike at all). A collapsed fit (near-uniform memberships) reports
    no failed or coherent groups.
split groups (:func:`split_groups`)
    For two top-level clusters of the tree, the candidates are pairs of subtrees, one in
    each (at least 3 classes, down to a cut into ``4 sqrt(m)`` clusters); the pair with the
    largest ``(mean - background) * sqrt(size1 * size2)`` is exactly the dense block (a
    larger subtree dilutes the mean, a smaller one holds fewer classes). Null model: random
    stretches of the same sizes in the same two clusters (200 draws); reported when the
    one-sided normal p-value times the number of pairs searched (Bonferroni) is at most
    0.01 and the mean exceeds the random stretches' by at least 0.1; the search then
    repeats without the subtrees found. A split pair made of pieces of a reported failed
    group is that failed group and is not listed again.
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass, field, replace

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


def _warn_if_collapsed(fit: dict, c: int, filled: bool, embedding: str) -> None:
    """Warn (CollapsedWarning, at fuzzy_groups' caller) of a partial or full collapse."""
    if not filled and fit["mpc"] >= COLLAPSE_MPC:  # a full collapse is reported below
        warnings.warn(
            f"fuzzy c-means with {c} groups left some groups without a class (their centres "
            "coincide with others'); fewer groups describe these classes.", CollapsedWarning,
            stacklevel=3)
    if fit["mpc"] < COLLAPSE_MPC:
        helps = ("the spectral embedding (embedding='spectral'), " if embedding != "spectral"
                 else "")
        warnings.warn(
            f"fuzzy c-means found no groups: with {c} groups its memberships are near-uniform "
            f"(partition coefficient {fit['fpc']:.3f}, uniform is {1 / c:.3f}), so the "
            "classes show no group structure it can separate, and no failed or coherent "
            f"groups are reported. What may help: {helps}more samples, or a smaller "
            "fuzzifier.", CollapsedWarning, stacklevel=3)


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


#: Up to this many classes the spectrum is a dense eigendecomposition (LAPACK: exact, and
#: fast at this size); above, the leading eigenpairs come from :func:`_leading_eigh`.
_DENSE_MAX = 200
#: Block Krylov settings (:func:`_leading_eigh`): columns per block beyond the ``k`` wanted,
#: blocks per restart, residual tolerance relative to each eigenvalue, cap on restarts.
#: Restarts measured: 4 or 5 on benchmarks/groups.py's planted matrices (2,622 to 20,000
#: classes), 1 to 4 on the tests' (repeated eigenvalues, rank-deficient, pure noise).
_OVERSAMPLE = 16
_KRYLOV_BLOCKS = 6
_RTOL = 1e-5
_MAX_RESTARTS = 60


def _spectrum(matrix, n_samples: int, k: int):
    """The leading ``k`` eigenpairs of M (descending) and the noise edge.

    Up to :data:`_DENSE_MAX` classes, or while a Krylov basis (``7 (k + 16)`` columns) would
    span more than half the space (below 672 classes for ``k = 32``), a dense
    eigendecomposition (LAPACK's, of a float64 copy: small here). Above,
    :func:`_leading_eigh` on M as it is (float32 from a Similarity): no m x m copy, O(m k)
    memory beyond M, and each pass one m x m by m x k product; its eigenvalues agree with
    the dense ones to about 1e-7 relative (see there for what it guarantees). Either way
    each eigenvector has unit length and its largest entry positive.
    """
    M = np.asarray(matrix)
    if M.dtype not in (np.float32, np.float64):
        M = M.astype(np.float64)
    n = M.shape[0]
    k = min(n, k)
    if _use_dense(n, k):
        from scipy.linalg import eigh

        # Only the leading eigenpairs (LAPACK's MRRR subset).
        values, vectors = eigh(np.asarray(M, dtype=np.float64), subset_by_index=[n - k, n - 1])
        values, vectors = values[::-1].copy(), vectors[:, ::-1]
    else:
        values, vectors = _leading_eigh(M, k)
    # An eigenvector's sign is arbitrary: fix it (largest entry positive) for stable output.
    signs = np.sign(vectors[np.argmax(np.abs(vectors), axis=0), np.arange(k)])
    vectors = vectors * np.where(signs == 0, 1.0, signs)
    edge = (1.0 + math.sqrt(n / n_samples)) ** 2 if n_samples >= 2 else 1.0
    return values, vectors, edge


def _use_dense(n: int, k: int) -> bool:
    """Whether the top ``k`` eigenpairs of ``n`` classes come from a dense eigendecomposition."""
    return n <= _DENSE_MAX or 2 * (_KRYLOV_BLOCKS + 1) * (k + _OVERSAMPLE) > n


def _leading_eigh(M, k: int, *, seed: int = 0, rtol: float = _RTOL,
                  max_restarts: int = _MAX_RESTARTS):
    """The ``k`` largest eigenpairs of a symmetric matrix: restarted randomized block Krylov.

    Returns ``(values, vectors)``: descending float64 eigenvalues and orthonormal (m, k)
    float64 eigenvectors (signs as they come). ``M`` is used as it is, float32 or float64,
    only through products ``M @ X`` with X of ``b = k + 16`` columns (GEMMs in M's own
    precision); the basis and the small dense algebra are float64, O(m k) memory.

    Algorithm (Halko, Martinsson & Tropp 2011, Sec. 4.5; Musco & Musco 2015; thick restarts
    as in Stathopoulos & Saad's block methods): start from ``b`` Gaussian columns (fixed
    ``seed``: reproducible); build the block Krylov basis ``[Q, M Q, ..., M^6 Q]``,
    orthonormalized block by block (:func:`_orthonormal_extension`); Rayleigh-Ritz on it
    (eigenpairs of ``K^T M K``, whose products are already at hand); restart from the top
    ``b`` Ritz vectors and their images. A Krylov space holds every polynomial filter of its
    degree, so the eigenvalues of a dense bulk (noise) converge in a few restarts, where
    plain subspace (power) iteration needs ``log(tol) / log(lambda_b / lambda_k)`` passes.

    Convergence: stop when every one of the ``k`` Ritz pairs has
    ``||M v - theta v|| <= max(rtol |theta|, eps ||M||)``, ``eps`` the machine epsilon of
    M's dtype and ``||M||`` estimated by the Ritz values at both ends: below that the
    residual is the rounding of the product itself (it levels off at 0.1-0.2 ``eps ||M||``
    on float32 matrices of 2,622 to 20,000 classes). What it guarantees, for a symmetric
    M: each Ritz value is within its residual norm of an eigenvalue of M (and at most the
    eigenvalue of its rank, by Cauchy interlacing), so within ``rtol |theta|`` (1e-5
    relative) or ``eps ||M||`` (the rounding of M's own entries), whichever is larger. The
    error of a Ritz value is also quadratic in the residual, ``||r||^2 / gap``, so with
    any gap to the rest of the spectrum it is far smaller: about 1e-7 relative, measured
    against ``numpy.linalg.eigh``. The angle between a Ritz vector and its eigenvector is
    at most ``||r|| / gap`` (Davis-Kahan): vectors are unique, up to sign, only where
    eigenvalues are separated; within a (near-)repeated eigenvalue any orthonormal basis
    of its eigenspace is returned. Stops early, with a RuntimeWarning, if the residuals
    stop falling for three restarts or after ``max_restarts`` (neither seen on
    correlation matrices).
    """
    m = M.shape[0]
    b = min(k + _OVERSAMPLE, m)
    eps = float(np.finfo(M.dtype).eps)
    width = (_KRYLOV_BLOCKS + 1) * b
    Q = _orthonormal_extension(np.random.default_rng(seed).standard_normal((m, b)), None)
    W = _product(M, Q)
    best, stalled = np.inf, 0
    for _ in range(max_restarts):
        basis, images = np.empty((m, width)), np.empty((m, width))
        used = Q.shape[1]
        basis[:, :used], images[:, :used] = Q, W
        last = slice(0, used)
        for _ in range(_KRYLOV_BLOCKS):
            block = _orthonormal_extension(images[:, last].copy(), basis[:, :used])
            if block.shape[1] == 0:  # the space is invariant: nothing new to add
                break
            grown = used + block.shape[1]
            basis[:, used:grown], images[:, used:grown] = block, _product(M, block)
            last, used = slice(used, grown), grown
        basis, images = basis[:, :used], images[:, :used]
        projected = basis.T @ images
        theta, S = np.linalg.eigh((projected + projected.T) / 2)
        norm = max(-theta[0], theta[-1])  # ||M||, from both ends of the Krylov spectrum
        theta, S = theta[::-1][:b], S[:, ::-1][:, :b]
        Q, W = basis @ S, images @ S
        del basis, images
        residuals = np.linalg.norm(W[:, :k] - Q[:, :k] * theta[:k], axis=0)
        bound = np.maximum(rtol * np.abs(theta[:k]), eps * norm)
        worst = float(np.max(residuals / np.where(bound > 0, bound, np.inf)))
        if np.all(residuals <= bound):
            break
        stalled = stalled + 1 if worst > 0.9 * best else 0
        best = min(best, worst)
        if stalled >= 3:
            break
    else:
        stalled = -1
    if not np.all(residuals <= bound):
        warnings.warn(
            f"the leading {k} eigenpairs of the similarity matrix did not converge "
            f"({'residuals stopped falling' if stalled >= 0 else f'{max_restarts} restarts'}); "
            f"the largest residual is {worst:.3g} times the tolerance", RuntimeWarning,
            stacklevel=2)
    return theta[:k].copy(), np.ascontiguousarray(Q[:, :k])


def _product(M, X):
    """``M @ X`` in M's precision (one GEMM; X is cast, M is not), as float64."""
    return (M @ X.astype(M.dtype, copy=False)).astype(np.float64, copy=False)


def _orthonormal_extension(Y, K):
    """An orthonormal basis of the part of the columns of ``Y`` outside ``span(K)``.

    ``K`` is None or has orthonormal columns; ``Y`` is overwritten. Classical Gram-Schmidt
    against ``K`` twice ("twice is enough"), then SVQB twice (the eigendecomposition of
    the small Gram matrix): GEMMs and a b x b eigh only, where LAPACK's QR of a tall block
    is many times slower. Directions numerically inside ``span(K)``, or dependent on the
    others, are dropped: the block may come back narrower, or empty.
    """
    scale = np.linalg.norm(Y, axis=0)
    for _ in range(2 if K is not None else 0):
        Y -= K @ (K.T @ Y)
    norms = np.linalg.norm(Y, axis=0)
    keep = norms > 1e-10 * scale
    Y = Y[:, keep] / norms[keep]
    for again in (True, False):
        if Y.shape[1] == 0:
            break
        s, U = np.linalg.eigh(Y.T @ Y)
        keep = s > 1e-10 * s[-1]
        Y = Y @ (U[:, keep] / np.sqrt(s[keep]))
        if again and K is not None:
            Y -= K @ (K.T @ Y)
    return Y


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
    """Where a fuzzy group lies in an ordering, how alike its members are, and the evidence.

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
    largest_run : int
        Members in the longest of those stretches.
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
        ``dispersion * excess``.
    evidence : FailedEvidence or None
        The test against the null model (failed groups only; see :func:`failed_groups`).
    """

    group: int
    classes: tuple[str, ...]
    positions: np.ndarray = field(repr=False)
    span: tuple[int, int]
    n_runs: int
    largest_run: int
    dispersion: float
    n_top_clusters: int | None
    within: float
    background: float
    excess: float
    score: float
    evidence: "FailedEvidence | None" = None

    @property
    def size(self) -> int:
        return len(self.classes)


@dataclass(frozen=True)
class FailedEvidence:
    """Why a scattered group counts as failed: its members are more alike across the
    stretches the order puts them in than the tree says they should be, beyond chance.

    Attributes
    ----------
    across : float
        Mean similarity over pairs of members in different stretches (runs) of the order.
    expected : float
        What the tree predicts for those pairs: for each pair, the mean similarity between
        the two subtrees its lowest common ancestor joins, averaged.
    residual : float
        ``across - expected``.
    null_mean, null_sd : float
        The residual of ``n_draws`` random groups with the same run lengths placed at random
        in the order.
    z : float
        ``(residual - null_mean) / null_sd``.
    p : float
        One-sided p-value of ``z`` (normal approximation of the null distribution).
    p_adjusted : float
        ``p`` after Holm's correction over the groups tested.
    n_draws : int
    """

    across: float
    expected: float
    residual: float
    null_mean: float
    null_sd: float
    z: float
    p: float
    p_adjusted: float
    n_draws: int

    @property
    def effect(self) -> float:
        """``residual - null_mean``: how much more alike than the tree and chance allow."""
        return self.residual - self.null_mean


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
        lengths = _run_lengths(pos)
        size = members.size
        dispersion = (lengths.size - 1) / (size - 1) if size > 1 else 0.0
        within = _mean_between(matrix, members, members) if size > 1 else float("nan")
        excess = within - background
        ordered = np.asarray(ordering.order)[pos]
        placements.append(GroupPlacement(
            group=k, classes=tuple(names[j] for j in ordered), positions=pos,
            span=(int(pos[0]), int(pos[-1]) + 1), n_runs=int(lengths.size),
            largest_run=int(lengths.max()), dispersion=float(dispersion),
            n_top_clusters=None if top is None else int(np.unique(top[members]).size),
            within=float(within), background=float(background), excess=float(excess),
            score=float(dispersion * excess) if size > 1 else 0.0,
        ))
    return placements


def failed_groups(groups: Groups, ordering: Ordering, similarity, *, min_size: int = 3,
                  alpha: float = 0.01, min_effect: float = 0.05, n_draws: int = 200,
                  seed: int = 0, n_top: int = 2) -> list[GroupPlacement]:
    """Fuzzy groups that the ordering scatters although their members are alike, with evidence.

    A group (its overlapping set, at least ``min_size`` members) is a candidate when the
    order scatters it: more than one run, and no run holding more than half of its members
    (one block plus a stray member is a coherent group with an outlier, not a failed one).

    A candidate is reported only when its members are alike *across* their runs beyond what
    the tree explains and beyond chance. The tree's explanation of a pair of classes is the
    mean similarity between the two subtrees their lowest common ancestor joins; the
    group's *residual* is the mean, over pairs of members in different runs, of their
    similarity minus that explanation. The null model: ``n_draws`` random groups with the
    same run lengths placed at random in the order, scored the same way. The group's
    ``z = (residual - null mean) / null sd`` gives a one-sided p-value (normal
    approximation: the residual is a mean over many pairs), corrected with Holm's method
    over the candidates. The group is reported when the corrected p-value is at most
    ``alpha``, its residual exceeds the null mean by ``min_effect`` or more, and its members
    are alike at all: their mean similarity across runs exceeds the mean off-diagonal
    similarity of the whole matrix by ``min_effect`` or more.

    Returns
    -------
    list of GroupPlacement
        With ``evidence`` set, most significant first.

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
        raise OptionError(f"min_size must be >= 2, got {min_size}")
    if ordering.merge is None:
        raise ValueError(f"failed groups need a tree for their null model; a "
                         f"{ordering.method!r} ordering has none (use hclust)")
    matrix, _ = matrix_and_names(similarity, None)
    candidates = [p for p in place_groups(groups, ordering, similarity, n_top=n_top)
                  if p.size >= min_size and p.n_runs > 1 and 2 * p.largest_run <= p.size]
    if not candidates:
        return []
    baseline = TreeBaseline(matrix, ordering)
    rng = np.random.default_rng(seed)
    tested = [(p, _scattered_evidence(baseline, p, n_draws, rng)) for p in candidates]
    adjusted = _holm([e["p"] for _, e in tested])
    found = [replace(p, evidence=FailedEvidence(**e, p_adjusted=float(q)))
             for (p, e), q in zip(tested, adjusted)]
    found = [p for p in found
             if p.evidence.p_adjusted <= alpha and p.evidence.effect >= min_effect
             and p.evidence.across - p.background >= min_effect]
    return sorted(found, key=lambda p: (p.evidence.p, -p.evidence.z, p.group))


class TreeBaseline:
    """What an ordering's tree says about the similarity of any two classes.

    For two positions ``p < q`` of the order, their lowest common ancestor is the merge
    with the latest step among the gaps between positions ``p .. q`` (each gap between
    neighbours is where exactly one merge joins its two subtrees; ancestors merge later).
    The tree's prediction for the pair is that merge's *node mean*: the mean similarity
    between its two subtrees. One pass over the matrix computes every node mean; a sparse
    table answers the latest-step queries.

    >>> import numpy as np, blocks_rx
    >>> M = np.array([[1, .8, .1, .2], [.8, 1, .3, .2], [.1, .3, 1, .6], [.2, .2, .6, 1]])
    >>> base = TreeBaseline(M, blocks_rx.hclust(M))
    >>> base.expected(np.array([0, 0]), np.array([1, 3])).round(3).tolist()
    [0.8, 0.2]
    """

    def __init__(self, matrix, ordering: Ordering, rows_per_block: int = 1024):
        order = np.asarray(ordering.order)
        position = ordering.positions
        m = order.size
        self.matrix, self.order = matrix, order
        low, high = {}, {}
        self.gap_step = np.zeros(max(m - 1, 1), dtype=np.int64)
        self.node_mean = np.zeros(m, dtype=np.float64)  # by merge step, 1-based
        for step, pair in enumerate(np.asarray(ordering.merge), start=1):
            spans = [(int(position[-r - 1]), int(position[-r - 1]) + 1) if r < 0
                     else (low[r], high[r]) for r in map(int, pair)]
            (la, ha), (lb, hb) = sorted(spans)
            low[step], high[step] = la, hb
            self.gap_step[ha - 1] = step
            self.node_mean[step] = _block_mean(matrix, order[la:ha], order[lb:hb],
                                               rows_per_block)
        self._table = _sparse_max_table(self.gap_step)

    def expected(self, p: np.ndarray, q: np.ndarray) -> np.ndarray:
        """The tree's similarity for each pair of positions ``(p[i], q[i])``, ``p != q``."""
        lo, hi = np.minimum(p, q), np.maximum(p, q)
        return self.node_mean[_range_max(self._table, lo, hi)]

    def residual(self, positions: np.ndarray, lengths: np.ndarray) -> tuple[float, float]:
        """``(across, expected)``: mean similarity and mean tree prediction over pairs of
        ``positions`` in different runs (runs given by their ``lengths``, in order)."""
        run = np.repeat(np.arange(lengths.size), lengths)
        i, j = np.nonzero(run[:, None] < run[None, :])
        p, q = positions[i], positions[j]
        similar = np.asarray(self.matrix[self.order[p], self.order[q]], dtype=np.float64)
        return float(similar.mean()), float(self.expected(p, q).mean())


def _block_mean(matrix, rows, cols, rows_per_block: int) -> float:
    """Mean of ``matrix[rows][:, cols]``, a stripe of rows at a time."""
    total = 0.0
    for start in range(0, rows.size, rows_per_block):
        stripe = np.asarray(matrix[np.ix_(rows[start:start + rows_per_block], cols)])
        total += float(stripe.sum(dtype=np.float64))
    return total / (rows.size * cols.size)


def _sparse_max_table(values: np.ndarray) -> list[np.ndarray]:
    """Sparse table for range-maximum queries over ``values`` (argmax not needed: values)."""
    table = [values]
    width = 1
    while 2 * width <= values.size:
        previous = table[-1]
        table.append(np.maximum(previous[:-width], previous[width:]))
        width *= 2
    return table


def _range_max(table, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """``max(values[lo:hi])`` for each pair of bounds (``lo < hi``), from the sparse table."""
    length = hi - lo
    level = np.floor(np.log2(length)).astype(np.int64)
    out = np.empty(lo.size, dtype=table[0].dtype)
    for k in np.unique(level):
        chosen = level == k
        row = table[k]
        out[chosen] = np.maximum(row[lo[chosen]], row[hi[chosen] - (1 << int(k))])
    return out


def _scattered_evidence(baseline: TreeBaseline, placement: GroupPlacement, n_draws: int,
                        rng) -> dict:
    """The residual of a scattered group against random groups with its run lengths."""
    from scipy.stats import norm

    lengths = _run_lengths(placement.positions)
    across, expected = baseline.residual(placement.positions, lengths)
    observed = across - expected
    draws = max(20, min(n_draws, int(2e7 // max(placement.size, 1) ** 2)))
    m = baseline.order.size
    null = np.array([np.subtract(*baseline.residual(positions, shuffled))
                     for positions, shuffled in _random_runs(lengths, m, draws, rng)])
    mean, sd = float(null.mean()), float(null.std(ddof=1))
    z = (observed - mean) / sd if sd > 0 else (math.inf if observed > mean else 0.0)
    return {"across": across, "expected": expected, "residual": float(observed),
            "null_mean": mean, "null_sd": sd, "z": float(z), "p": float(norm.sf(z)),
            "n_draws": draws}


def _run_lengths(positions: np.ndarray) -> np.ndarray:
    """Lengths of the maximal stretches of consecutive values in sorted ``positions``."""
    breaks = np.flatnonzero(np.diff(positions) > 1)
    return np.diff(np.r_[0, breaks + 1, positions.size])


def _random_runs(lengths: np.ndarray, m: int, draws: int, rng):
    """``draws`` placements of runs with these lengths, in random order, at random
    non-overlapping places among ``m`` positions: yields (sorted positions, run lengths)."""
    slack = m - int(lengths.sum())
    r = lengths.size
    for _ in range(draws):
        shuffled = rng.permutation(lengths)
        # A random composition: the gap before each run, from r sorted distinct slots.
        gaps = np.sort(rng.choice(slack + r, size=r, replace=False)) - np.arange(r)
        starts = gaps + np.r_[0, np.cumsum(shuffled)[:-1]]
        yield np.concatenate([np.arange(s, s + n) for s, n in zip(starts, shuffled)]), shuffled


def _holm(p_values) -> np.ndarray:
    """Holm's step-down adjusted p-values, in the given order.

    >>> _holm([0.01, 0.04, 0.03]).round(3).tolist()
    [0.03, 0.06, 0.06]
    """
    p = np.asarray(p_values, dtype=np.float64)
    if p.size == 0:
        return p
    rank = np.argsort(p)
    adjusted = np.maximum.accumulate((p.size - np.arange(p.size)) * p[rank])
    out = np.empty_like(p)
    out[rank] = np.minimum(adjusted, 1.0)
    return out


def _mean_between(matrix, rows, cols) -> float:
    """Mean of ``matrix[rows][:, cols]`` without the diagonal when rows and cols are equal."""
    block = np.asarray(matrix[np.ix_(rows, cols)], dtype=np.float64)
    if rows is cols or (len(rows) == len(cols) and np.array_equal(rows, cols)):
        n = len(rows)
        return float((block.sum() - np.trace(block)) / (n * (n - 1)))
    return float(block.mean())


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
    """Two subtrees in different top-level clusters that are far more alike than chance.

    Attributes
    ----------
    first, second : Block
        ``first`` comes earlier in the order; each is a whole subtree of the tree.
    mean : float
        Mean similarity between the two blocks.
    background : float
        Mean similarity between the two top-level clusters they lie in.
    null_mean, null_sd : float
        The mean similarity between ``n_draws`` pairs of random stretches of the same sizes
        placed at random in the same two top-level clusters.
    z : float
        ``(mean - null_mean) / null_sd``.
    p : float
        One-sided p-value of ``z`` (normal approximation).
    p_adjusted : float
        ``p`` times the number of block pairs searched (Bonferroni), at most 1.
    n_candidates : int
        Block pairs searched across the two top-level clusters.
    n_draws : int
    """

    first: Block
    second: Block
    mean: float
    background: float
    null_mean: float
    null_sd: float
    z: float
    p: float
    p_adjusted: float
    n_candidates: int
    n_draws: int

    @property
    def excess(self) -> float:
        """``mean - null_mean``: how much denser than chance."""
        return self.mean - self.null_mean

    @property
    def weight(self) -> float:
        """``(mean - background) * sqrt(first.size * second.size)``: what the search maximises."""
        return (self.mean - self.background) * math.sqrt(self.first.size * self.second.size)


def split_groups(
    similarity,
    ordering: Ordering,
    *,
    n_top: int = 2,
    n_blocks: int | None = None,
    min_block: int = 3,
    alpha: float = 0.01,
    min_excess: float = 0.1,
    n_draws: int = 200,
    max_splits: int = 10,
    seed: int = 0,
) -> list[SplitGroup]:
    """Dense off-diagonal blocks across top-level clusters: the paper's red boxes.

    Candidates are the subtrees of the ordering's tree inside each top-level cluster (of at
    least ``min_block`` classes, down to the clusters of a finer cut into ``n_blocks``).
    For every two top-level clusters, the pair of subtrees (one in each) with the largest
    ``(mean - background) * sqrt(size1 * size2)`` is the candidate split group: exactly the
    classes of the dense block, since a larger subtree dilutes the mean and a smaller one
    holds fewer classes. It is tested against ``n_draws`` pairs of random stretches of the
    same sizes in the same two clusters; its one-sided p-value (normal approximation),
    multiplied by the number of pairs searched (Bonferroni), must be at most ``alpha``, and
    its mean must exceed the random pairs' by ``min_excess``. Subtrees overlapping a split
    group found are then left out and the search repeats, up to ``max_splits`` times.

    Parameters
    ----------
    similarity : Similarity or ndarray
    ordering : Ordering
        With a tree (hclust); must order the same classes.
    n_top : int
        Top-level clusters (``ordering.cut(n_top)``).
    n_blocks : int, optional
        The finest cut whose clusters are candidates; default ``4 * sqrt(m)``, at most m.

    Returns
    -------
    list of SplitGroup
        Most significant first.

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
    >>> found = split_groups(sim, blocks_rx.order_classes(sim))
    >>> len(found), sorted(int(b.classes[0][6:]) // 5 for b in (found[0].first, found[0].second))
    (1, [1, 6])
    """
    matrix, names = matrix_and_names(similarity, None)
    _same_classes(names, ordering)
    if ordering.merge is None:
        raise ValueError(f"split groups need a tree to cut; a {ordering.method!r} ordering has "
                         "none (use hclust)")
    m = len(names)
    if not 2 <= n_top <= m:
        raise OptionError(f"n_top must be between 2 and {m} classes, got {n_top}")
    n_blocks = min(m, max(2 * n_top, int(round(4 * math.sqrt(m))))) if n_blocks is None \
        else int(n_blocks)
    if not n_top <= n_blocks <= m:
        raise OptionError(f"n_blocks must be between n_top ({n_top}) and the {m} classes, "
                          f"got {n_blocks}")
    grid = _BlockGrid(matrix, ordering, n_blocks)
    top = ordering.cut(n_top)[np.asarray(ordering.order)]
    tops = [(int(s), int(e)) for s, e in _stretches(top)]
    rng = np.random.default_rng(seed)
    found = []
    for i, first_top in enumerate(tops):
        for second_top in tops[i + 1:]:
            labels = (top[first_top[0]], top[second_top[0]])
            found += _splits_between(grid, first_top, second_top, names, top_labels=labels,
                                     min_block=min_block,
                                     alpha=alpha, min_excess=min_excess, n_draws=n_draws,
                                     max_splits=max_splits, rng=rng)
    return sorted(found, key=lambda s: (s.p, -s.z, s.first.start, s.second.start))


def _stretches(labels: np.ndarray):
    """``(start, end)`` of each maximal stretch of equal labels."""
    starts = np.flatnonzero(np.r_[True, labels[1:] != labels[:-1]])
    return zip(starts, np.r_[starts[1:], labels.size])


class _BlockGrid:
    """Sums of the similarity over the blocks of a fine cut (contiguous in the order), and
    the subtrees above that cut as spans of blocks; block sums come from one striped pass."""

    def __init__(self, matrix, ordering: Ordering, n_blocks: int, rows_per_stripe: int = 1024):
        order = np.asarray(ordering.order)
        fine = ordering.cut(n_blocks)[order]
        self.starts = np.array([s for s, _ in _stretches(fine)])
        self.ends = np.r_[self.starts[1:], order.size]
        self.matrix, self.order = matrix, order
        k = self.starts.size
        sums = np.zeros((k, k))
        for row in range(0, order.size, rows_per_stripe):
            stripe = np.asarray(matrix[np.ix_(order[row:row + rows_per_stripe], order)],
                                dtype=np.float64)
            by_column = np.add.reduceat(stripe, self.starts, axis=1)
            block_of_row = np.searchsorted(self.starts, np.arange(row, row + len(stripe)),
                                           side="right") - 1
            np.add.at(sums, block_of_row, by_column)
        self.prefix = np.zeros((k + 1, k + 1))
        self.prefix[1:, 1:] = sums.cumsum(axis=0).cumsum(axis=1)
        self.nodes = self._subtrees(ordering, n_blocks)

    def _subtrees(self, ordering: Ordering, n_blocks: int) -> np.ndarray:
        """``(first block, end block)`` of every subtree at or above the fine cut."""
        spans = set()
        order = np.asarray(ordering.order)
        for k in range(1, n_blocks + 1):
            labels = ordering.cut(k)[order]
            for start, end in _stretches(labels):
                first = int(np.searchsorted(self.starts, start))
                last = int(np.searchsorted(self.starts, end))
                spans.add((first, last))
        return np.array(sorted(spans))

    def mean(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """Mean similarity between block spans ``rows[i]`` and ``cols[i]`` (pairs of
        ``(first block, end block)``)."""
        p = self.prefix
        total = (p[rows[:, 1], cols[:, 1]] - p[rows[:, 0], cols[:, 1]]
                 - p[rows[:, 1], cols[:, 0]] + p[rows[:, 0], cols[:, 0]])
        size = self.size(rows) * self.size(cols)
        return total / size

    def size(self, spans: np.ndarray) -> np.ndarray:
        return self.ends[spans[:, 1] - 1] - self.starts[spans[:, 0]]

    def positions(self, span) -> tuple[int, int]:
        return int(self.starts[span[0]]), int(self.ends[span[1] - 1])

    def stretch_mean(self, a: tuple[int, int], b: tuple[int, int]) -> float:
        """Mean similarity between the classes at positions ``a`` and ``b`` (half-open)."""
        return _block_mean(self.matrix, self.order[a[0]:a[1]], self.order[b[0]:b[1]], 1024)


def _splits_between(grid: _BlockGrid, first_top, second_top, names, *, top_labels, min_block,
                    alpha, min_excess, n_draws, max_splits, rng) -> list:
    """The split groups between two top-level clusters (half-open spans of positions)."""
    from scipy.stats import norm

    rows = _subtrees_inside(grid, first_top, min_block)
    cols = _subtrees_inside(grid, second_top, min_block)
    if rows.size == 0 or cols.size == 0:
        return []
    background = grid.stretch_mean(first_top, second_top)
    pairs_r, pairs_c = np.repeat(rows, len(cols), axis=0), np.tile(cols, (len(rows), 1))
    means = grid.mean(pairs_r, pairs_c)
    sizes = grid.size(pairs_r) * grid.size(pairs_c)
    weight = (means - background) * np.sqrt(sizes)
    n_candidates = weight.size
    found = []
    while len(found) < max_splits and np.isfinite(weight).any() and weight.max() > 0:
        best = int(np.argmax(weight))
        a, b = grid.positions(pairs_r[best]), grid.positions(pairs_c[best])
        null = _random_stretch_means(grid, a[1] - a[0], b[1] - b[0], first_top, second_top,
                                     n_draws, rng)
        mean = float(means[best])
        null_mean, null_sd = float(null.mean()), float(null.std(ddof=1))
        z = (mean - null_mean) / null_sd if null_sd > 0 else math.inf
        p = float(norm.sf(z))
        if min(1.0, p * n_candidates) > alpha or mean - null_mean < min_excess:
            break
        first = Block(tuple(names[j] for j in grid.order[a[0]:a[1]]), a[0], a[1],
                      int(top_labels[0]))
        second = Block(tuple(names[j] for j in grid.order[b[0]:b[1]]), b[0], b[1],
                       int(top_labels[1]))
        found.append(SplitGroup(first=first, second=second, mean=mean, background=background,
                                null_mean=null_mean, null_sd=null_sd, z=float(z), p=p,
                                p_adjusted=min(1.0, p * n_candidates),
                                n_candidates=n_candidates, n_draws=null.size))
        # Leave out every subtree overlapping the two found.
        overlaps = _overlapping(grid, pairs_r, a) | _overlapping(grid, pairs_c, b)
        weight = np.where(overlaps, -np.inf, weight)
    return found


def _subtrees_inside(grid: _BlockGrid, top: tuple[int, int], min_block: int) -> np.ndarray:
    """The candidate subtrees (block spans) inside one top-level cluster's positions."""
    starts = grid.starts[grid.nodes[:, 0]]
    ends = grid.ends[grid.nodes[:, 1] - 1]
    keep = (starts >= top[0]) & (ends <= top[1]) & (ends - starts >= min_block)
    return grid.nodes[keep]


def _overlapping(grid: _BlockGrid, spans: np.ndarray, stretch: tuple[int, int]) -> np.ndarray:
    starts = grid.starts[spans[:, 0]]
    ends = grid.ends[spans[:, 1] - 1]
    return (starts < stretch[1]) & (ends > stretch[0])


def _random_stretch_means(grid: _BlockGrid, first_size, second_size, first_top, second_top,
                          n_draws, rng) -> np.ndarray:
    """Mean similarity between random stretches of these sizes inside the two clusters."""
    draws = max(20, min(n_draws, int(2e7 // max(first_size * second_size, 1))))
    out = np.empty(draws)
    for d in range(draws):
        a = int(rng.integers(first_top[0], first_top[1] - first_size + 1))
        b = int(rng.integers(second_top[0], second_top[1] - second_size + 1))
        out[d] = grid.stretch_mean((a, a + first_size), (b, b + second_size))
    return out


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
    0.4
    """

    needs_tree: bool = True
    dense_copies: float = 0.0
    cost: Cost = field(default_factory=Cost)

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
    needs_tree=True, dense_copies=0.5, cost=Cost("polynomial", 2, 20000, 99.0)))


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


def _off_diagonal_mean(matrix, rows_per_stripe: int = 1024) -> float:
    """Mean of the off-diagonal entries of a square matrix (a stripe of rows at a time)."""
    n = matrix.shape[0]
    total = sum(float(np.asarray(matrix[start:start + rows_per_stripe]).sum(dtype=np.float64))
                for start in range(0, n, rows_per_stripe))
    return (total - float(np.trace(matrix))) / (n * (n - 1))
