"""Orders and annotations from a known taxonomy (a class -> path table): the paper's Fig. 2b.

A taxonomy maps each class to a path such as ``indoor/shopping``; :func:`taxonomy_order`
groups the classes by it, :func:`taxonomy_levels` gives the coloured bands of each level,
and :func:`spans` labels contiguous groups of any ordering (Fig. 4b).
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from ..errors import SideFileError
from .result import Ordering, identity, matrix_and_names


def taxonomy_order(similarity, taxonomy, *, classes=None, separator: str = "/") -> Ordering:
    """Group the classes by a taxonomy: a class -> path mapping (``"indoor/shopping"``).

    Groups appear in the order their first class appears in the taxonomy (its own order),
    at every level; classes within a leaf group keep the taxonomy's order. Classes missing
    from the taxonomy are an error naming them.

    >>> import numpy as np
    >>> tax = {"b": "animal/bird", "x": "thing", "a": "animal/dog", "c": "animal/bird"}
    >>> taxonomy_order(np.eye(4), tax, classes=["a", "b", "c", "x"]).ordered_classes
    ['b', 'c', 'a', 'x']
    """
    matrix, names = matrix_and_names(similarity, classes)
    paths = read_taxonomy(taxonomy)
    missing = [c for c in names if c not in paths]
    if missing:
        source = "" if isinstance(taxonomy, dict) else f"{taxonomy}: "
        raise SideFileError(f"{source}{len(missing)} class(es) missing from the taxonomy: "
                            + ", ".join(repr(c) for c in missing[:10]))
    rank: dict[tuple, int] = {}
    for cls, path in paths.items():  # first appearance of every prefix, in taxonomy order
        parts = tuple(p for p in path.split(separator) if p)
        for depth in range(1, len(parts) + 1):
            rank.setdefault(parts[:depth], len(rank))
    position = {cls: i for i, cls in enumerate(paths)}

    def key(j):
        parts = tuple(p for p in paths[names[j]].split(separator) if p)
        return [rank[parts[:d]] for d in range(1, len(parts) + 1)], position[names[j]]

    order = np.array(sorted(range(len(names)), key=key), dtype=np.int64)
    return Ordering(order=order, classes=names, method="taxonomy", linkage=None, distance=None,
                    hclust_backend=None)


def read_taxonomy(taxonomy) -> dict[str, str]:
    """A class -> path dict from a mapping, or from a CSV/TSV file with columns ``class, path``
    (read by :func:`~blocks_rx.readers.text.read_taxonomy_file`, which names the file and
    line of anything wrong in it)."""
    if isinstance(taxonomy, dict):
        return {str(k): str(v) for k, v in taxonomy.items()}
    from ..readers.text import read_taxonomy_file

    return read_taxonomy_file(taxonomy)


def taxonomy_levels(ordering: Ordering, taxonomy, *, separator: str = "/", depth: int | None = None):
    """Runs of equal taxonomy terms along the order, per level: the bands of Fig. 2b.

    Returns a list (top level first) of lists of ``(start, end, term)``, ``end`` exclusive.

    >>> import numpy as np
    >>> tax = {"a": "x/p", "b": "x/q", "c": "y/r"}
    >>> taxonomy_levels(identity(np.eye(3), classes="abc"), tax)
    [[(0, 2, 'x'), (2, 3, 'y')], [(0, 1, 'p'), (1, 2, 'q'), (2, 3, 'r')]]
    """
    paths = read_taxonomy(taxonomy)
    parts = [[p for p in paths.get(c, "").split(separator) if p] for c in ordering.ordered_classes]
    deepest = max(len(p) for p in parts)
    levels = []
    for level in range(min(depth or deepest, deepest)):
        terms = [p[level] if len(p) > level else "" for p in parts]
        runs, start = [], 0
        for position in range(1, len(terms) + 1):
            if position == len(terms) or terms[position] != terms[start]:
                runs.append((start, position, terms[start]))
                start = position
        levels.append(runs)
    return levels


def spans(ordering: Ordering, groups, *, names=None, taxonomy=None, min_size: int = 2,
          separator: str = "/"):
    """Contiguous runs of one group along the order, labelled: the spans of Fig. 4b.

    Parameters
    ----------
    ordering : Ordering
    groups : array (m,)
        A group per class, in input order (e.g. ``ordering.cut_labels(6)``).
    names : dict, optional
        Label per group. Otherwise, with a ``taxonomy``, the deepest taxonomy term shared by
        more than half of the span's classes (else the most frequent top-level term), and
        without one, ``group N``.
    min_size : int
        Runs shorter than this are left out.

    Returns
    -------
    list of (start, end, label)

    >>> import numpy as np
    >>> o = identity(np.eye(4), classes="abcd")
    >>> spans(o, [1, 1, 2, 2], names={1: "first", 2: "second"})
    [(0, 2, 'first'), (2, 4, 'second')]
    """
    groups = np.asarray(groups)[ordering.order]
    paths = read_taxonomy(taxonomy) if taxonomy is not None else None
    out, start = [], 0
    for position in range(1, len(groups) + 1):
        if position < len(groups) and groups[position] == groups[start]:
            continue
        if position - start >= min_size:
            group = groups[start]
            if names is not None:
                label = str(names.get(group, names.get(int(group), f"group {group}")))
            elif paths is not None:
                label = _shared_term(ordering.ordered_classes[start:position], paths, separator)
            else:
                label = f"group {group}"
            out.append((start, position, label))
        start = position
    return out


def _shared_term(members, paths, separator):
    parts = [[p for p in paths.get(c, "").split(separator) if p] for c in members]
    for level in range(max(len(p) for p in parts) - 1, -1, -1):
        counts = Counter(p[level] for p in parts if len(p) > level)
        if counts:
            term, count = counts.most_common(1)[0]
            if count > len(members) / 2:
                return term
    counts = Counter(p[0] for p in parts if p)
    return counts.most_common(1)[0][0] if counts else ""
