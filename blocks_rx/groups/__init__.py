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
``cmeans``, as its compiled twin :mod:`blocks_rx.groups._cmeans` computes it) on the rows of the similarity matrix ``M``, reduced first to a spectral
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
    of structure can only cut groups into their overlaps. The curves are kept: the fuzzy
    partition coefficient ``fpc = sum(u**2) / n`` (scikit-fuzzy's), Dave's modified ``mpc``,
    Xie-Beni, and the default index ``"eigen"``: the c-th eigenvalue over the noise edge.
    ``"eigen"`` chooses the largest candidate above 1, one group per direction of
    structure; its fits run from that candidate down and stop at the first with no empty
    group (the partition curves hold NaN for the candidates not fitted; each candidate's
    fit has its own seeded starts, so fitting them all would choose the same). Partition indices
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

from .failed import (FailedEvidence, GroupPlacement, TreeBaseline, coherent_groups,
                     failed_groups, place_groups)
from .findings import GROUP_METHODS, GroupFindings, GroupMethod, find_groups
from .fuzzy import (COLLAPSE_MPC, EMBEDDINGS, INDICES, MIN_CLASSES, CollapsedWarning, Groups,
                    embed_rows, fuzzy_groups)
from .split import Block, SplitGroup, split_groups

__all__ = [
    "COLLAPSE_MPC", "EMBEDDINGS", "GROUP_METHODS", "INDICES", "MIN_CLASSES", "Block",
    "CollapsedWarning", "FailedEvidence", "GroupFindings", "GroupMethod", "GroupPlacement",
    "Groups", "SplitGroup", "TreeBaseline", "coherent_groups", "embed_rows", "failed_groups",
    "find_groups", "fuzzy_groups", "place_groups", "split_groups",
]
