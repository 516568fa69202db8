"""Orderings of the classes: R's hclust (in R or its exact compiled twin), R's seriation
methods, a taxonomy's order; distances, flat cuts, spans and seriation criteria.

Every ordering is one entry of :data:`ORDERINGS` (``blocks-rx methods`` lists them);
:func:`order_classes` runs one by name with its options checked against the entry.

=================  ===========================================================
``result``         :class:`Ordering`: the permutation, its tree, its provenance
``distances``      :data:`DISTANCES` and :func:`condensed_distance` (R's ``dist``)
``hierarchical``   :func:`hclust`, :data:`LINKAGES`, :data:`HCLUST_BACKENDS`
``seriation``      :func:`seriate`, :func:`criteria`: R's seriation methods, costs, criteria
``taxonomy``       :func:`taxonomy_order`, :func:`taxonomy_levels`, :func:`spans`
``registry``       :data:`ORDERINGS` and :func:`order_classes`
=================  ===========================================================

>>> import numpy as np
>>> M = np.array([[1, .9, 0, 0], [.9, 1, 0, 0], [0, 0, 1, .8], [0, 0, .8, 1]])
>>> ordering = order_classes(M, "hclust", hclust_backend="python")
>>> ordering.order, ordering.cut(2).tolist()
(array([0, 1, 2, 3]), [1, 1, 2, 2])
"""

from .distances import DISTANCES, condensed_distance
from .hierarchical import (HCLUST_BACKENDS, LINKAGES, R_MAX_OBJECTS, confusion_ordering,
                           hclust, resolve_backend)
from .registry import ORDERINGS, OrderingMethod, order_classes
from .result import Ordering, identity, matrix_and_names
from .seriation import SlowMethodWarning, criteria, estimated_seconds, seriate
from .taxonomy import read_taxonomy, spans, taxonomy_levels, taxonomy_order

#: Deprecated: the built-in ordering names (all of them are in :data:`ORDERINGS`).
METHODS = {name: ORDERINGS[name].description for name in ("hclust", "taxonomy", "identity")}

__all__ = [
    "DISTANCES", "HCLUST_BACKENDS", "LINKAGES", "ORDERINGS", "Ordering", "OrderingMethod",
    "R_MAX_OBJECTS", "SlowMethodWarning", "condensed_distance", "confusion_ordering",
    "criteria", "estimated_seconds", "hclust", "identity", "matrix_and_names", "order_classes",
    "read_taxonomy",
    "resolve_backend", "seriate", "spans", "taxonomy_levels", "taxonomy_order",
]
