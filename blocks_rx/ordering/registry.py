"""The registry of orderings: every method ``--ordering`` (``order_classes``) accepts.

Built in: ``hclust`` (R-identical, in R or its compiled twin), ``taxonomy`` and
``identity``; and every ``seriation::seriate()`` method for ``dist`` objects, which run in R.
Each entry states what the rest of the code needs: whether the ordering gives a tree (for
cuts, groups and the dendrogram), whether it needs R, whether it is stochastic (uses
``seed``), how its time grows (:class:`~blocks_rx.registry.Cost`) and its working memory.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from ..registry import Cost, Entry, Option, Registry
from .distances import DISTANCES
from .hierarchical import HCLUST_BACKENDS, LINKAGES, hclust
from .result import Ordering, identity, matrix_and_names
from .seriation import SERIATION_METHODS, seriate
from .taxonomy import taxonomy_order
from .two_level import two_level
from .._warn import warn_caller

#: Bytes of one condensed distance (R's dist vector, float64).
_PAIR = 8


@dataclass(frozen=True)
class OrderingMethod(Entry):
    """An ordering method and its facts.

    ``min_classes`` is the fewest classes it can order (R's seriation fails on two classes
    for a few methods). ``pair_copies`` is how many condensed-distance vectors (m(m-1)/2 float64 each) the
    method holds at once beyond the similarity matrix; ``r_pair_copies`` the same when it
    runs in R (rpy2's copy into R, R's own working copies); ``dense_copies`` how many m x m
    float64 matrices it makes.
    """

    family: str = ""
    gives_tree: bool = False
    needs_r: bool = False
    stochastic: bool = False
    min_classes: int = 2
    cost: Cost = field(default_factory=Cost)
    pair_copies: float = 1.0
    r_pair_copies: float = 0.0
    dense_copies: float = 0.0

    def memory_bytes(self, m: int, *, in_r: bool | None = None) -> int:
        """Estimated working memory of this ordering on ``m`` classes, in bytes."""
        in_r = self.needs_r if in_r is None else in_r
        pairs = m * (m - 1) // 2 * _PAIR
        copies = self.pair_copies + (self.r_pair_copies if in_r else 0.0)
        return int(copies * pairs + self.dense_copies * 8 * m * m)

    def facts(self) -> dict:
        return {"family": self.family, "gives_tree": self.gives_tree, "needs_r": self.needs_r,
                "stochastic": self.stochastic, "min_classes": self.min_classes,
                "cost": self.cost.label}


DISTANCE_OPTION = Option("distance", "1-r", "distance derived from the similarity",
                         choices=DISTANCES)
#: R's set.seed takes a 32-bit integer.
SEED_BOUNDS = (0, 2**31 - 1)
SEED_OPTION = Option("seed", 0, "seed for stochastic steps (set.seed in R)", type=int,
                     metavar="INT", bounds=SEED_BOUNDS)

ORDERINGS: Registry[OrderingMethod] = Registry("ordering method")

# Measured here: the twin rises by about one condensed vector (it works in place), R's hclust
# by about 4.8 (benchmarks/order.py, 10,000 classes: 382 MB vs 1,910 MB).
ORDERINGS.register(OrderingMethod(
    "hclust", hclust,
    "hierarchical clustering identical to R's hclust; leaves in R's dendrogram order",
    options=(Option("linkage", "complete", "hclust linkage, R's names (the paper: complete)",
                    choices=LINKAGES),
             DISTANCE_OPTION,
             Option("hclust_backend", "auto", "where hclust runs: r (through rpy2), python "
                    "(its exact compiled twin), auto (R when available)",
                    choices=HCLUST_BACKENDS)),
    family="hclust", gives_tree=True, cost=Cost("polynomial", 2, 10000, 5.5),
    pair_copies=1.0, r_pair_copies=3.8))
ORDERINGS.register(OrderingMethod(
    "taxonomy", taxonomy_order,
    "grouped by a known class -> path taxonomy, in the taxonomy's own order (Fig. 2b)",
    options=(Option("taxonomy", None, "CSV/TSV with columns class,path (e.g. "
                    "bedroom,indoor/home)", metavar="FILE", required=True),),
    family="taxonomy", cost=Cost("constant"), pair_copies=0.0))
ORDERINGS.register(OrderingMethod(
    "two-level", two_level,
    "approximate, for more classes than one hclust holds: coarse groups from hclust of "
    "sampled landmark classes, then exact hclust within each group (no single tree)",
    options=(Option("linkage", "complete", "hclust linkage within groups and of the landmarks",
                    choices=LINKAGES),
             DISTANCE_OPTION,
             Option("group_size", 4000, "classes per coarse group (about)", type=int,
                    metavar="INT", bounds=(2, 10**7)),
             Option("landmarks", 2000, "sampled classes whose hclust makes the coarse groups",
                    type=int, metavar="INT", bounds=(2, 10**6)),
             SEED_OPTION),
    family="two-level", stochastic=True, cost=Cost("polynomial", 1, 10000, 1.0),
    pair_copies=0.0))
ORDERINGS.register(OrderingMethod(
    "identity", identity, "the input order of the classes (a baseline)",
    family="identity", cost=Cost("constant"), pair_copies=0.0))

_SERIATION_OPTIONS = (
    DISTANCE_OPTION,
    Option("control", None, "the method's control parameters, passed to R as they are "
           "(command line: KEY=VALUE, repeatable)", metavar="KEY=VALUE"),
    SEED_OPTION,
)


def _seriation_entry(name: str, description: str, gives_tree: bool, stochastic: bool,
                     cost: Cost) -> OrderingMethod:
    return OrderingMethod(
        name, functools.partial(seriate, method=name), f"seriation: {description}",
        options=_SERIATION_OPTIONS, family="seriation", gives_tree=gives_tree, needs_r=True,
        stochastic=stochastic, min_classes=_SERIATION_MIN_CLASSES.get(name, 2), cost=cost,
        pair_copies=1.0, r_pair_copies=3.0, dense_copies=0.0 if gives_tree else 2.0)


#: seriation 1.4 fails inside R on two classes for these (tests/test_registries.py).
_SERIATION_MIN_CLASSES = {"BBURCG": 3, "BBWRCG": 3, "MDS_angle": 3, "SA": 3}

for _name, _facts in SERIATION_METHODS.items():
    ORDERINGS.register(_seriation_entry(_name, *_facts))


def _newer_seriation_method(name: str) -> OrderingMethod | None:
    """A method that the installed seriation offers but this table does not know yet."""
    from ..r.session import RUnavailable

    try:
        from ..r.seriation import seriation_methods

        known = seriation_methods("dist")
    except (RUnavailable, ImportError):
        return None
    if name not in known:
        return None
    return _seriation_entry(name, "a method of the installed seriation package", False, True,
                            Cost())


ORDERINGS.missing = _newer_seriation_method


def order_classes(similarity, method: str = "hclust", *, classes=None, **options) -> Ordering:
    """Order the classes with any method of :data:`ORDERINGS`, by name.

    ``options`` are the method's own (``ORDERINGS[method].options``): ``linkage``,
    ``distance`` and ``hclust_backend`` for hclust; ``taxonomy`` for taxonomy;
    ``distance``, ``control`` and ``seed`` for seriation methods. An option the method does
    not take is an error, never silently dropped. ``classes`` names the rows of a bare
    matrix.

    >>> import numpy as np
    >>> order_classes(np.eye(3), "identity").order
    array([0, 1, 2])
    >>> order_classes(np.eye(3), "identity", linkage="single")
    Traceback (most recent call last):
    ...
    blocks_rx.errors.OptionError: ordering method 'identity' does not take linkage (it takes no options)
    """
    if "backend" in options:
        import warnings

        warn_caller("order_classes(backend=...) is now order_classes(hclust_backend=...)", DeprecationWarning)
        options["hclust_backend"] = options.pop("backend")
    entry = ORDERINGS[method]
    kwargs = entry.bind(options, kind="ordering method")
    m = len(matrix_and_names(similarity, classes)[1])
    if m < entry.min_classes:
        raise ValueError(f"ordering method {method!r} needs at least {entry.min_classes} "
                         f"classes, got {m}")
    if entry.needs_r:
        from ..r.session import RUnavailable, require_seriation

        try:
            require_seriation()
        except RUnavailable as exc:
            raise RUnavailable(f"ordering method {method!r} runs in R's seriation package: "
                               f"{exc}") from None
    if classes is not None:
        kwargs["classes"] = classes
    return entry.function(similarity, **kwargs)
