"""Export results to R: ``.rds`` through rpy2, or CSV + JSON that plain R reads.

Both carry the same ``blocks_rx`` object, which ``read_blocks()`` of the ``blocksrx`` R package
(``r_scripts/blocksrx``) reads from either:

``similarity``  the m x m matrix with class names as dimnames
``classes``     class names, in input order
``order``       1-based order of the classes (R's convention)
``hclust``      a real R ``hclust`` object (merge, height, order, labels, method,
                dist.method) that ``plot()``, ``cutree()`` and ``as.dendrogram()`` accept;
                absent for orderings without a tree
``groups``, ``memberships``  group results, when present
``provenance``  how everything was computed (methods, versions)

Class names arrive in R exactly as analysed. A name no export can keep (one holding a
control character, which :func:`blocks_rx.scores.load_scores` refuses too) is refused by name.
In ``similarity.csv`` the name cells are protected against spreadsheet formulas as
:mod:`blocks_rx.names` describes; ``read_blocks.R`` undoes that, and the names it returns
come from ``blocks.json``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

from .names import check_names, protect_cell

#: Files of the CSV + JSON export, inside its folder.
CSV_FILES = ("similarity.csv", "hclust.csv", "blocks.json")


def export_content(similarity, ordering, *, groups=None, memberships=None, provenance=None) -> dict:
    """The export list as plain Python values (1-based order, R's merge)."""
    check_names(similarity.classes, "R export")
    provenance = dict(provenance or {})
    provenance.setdefault("similarity", similarity.provenance())
    provenance.setdefault("ordering", ordering.provenance())
    tree = ordering.merge is not None
    return {
        "matrix": np.asarray(similarity.matrix, dtype=np.float64),
        "classes": list(similarity.classes),
        "order": np.asarray(ordering.order, dtype=np.int64) + 1,
        "merge": np.asarray(ordering.merge, dtype=np.int64) if tree else None,
        "height": np.asarray(ordering.height, dtype=np.float64) if tree else None,
        "linkage": ordering.linkage or ordering.method,
        "distance": ordering.distance or "",
        "hclust_call": hclust_call(ordering) if tree else "",
        "groups": None if groups is None else np.asarray(groups, dtype=np.int64),
        "memberships": None if memberships is None else np.asarray(memberships, dtype=np.float64),
        "provenance_json": json.dumps(provenance),
    }


def hclust_call(ordering) -> str:
    """The R call that builds this tree from the exported ``similarity``: R's ``print`` and
    ``plot`` of an ``hclust`` read it (``plot`` labels the axis with its first argument).
    A tree from R's seriation (HC, GW, OLO and their variants) is built by ``seriate``,
    with the linkage it used.

    >>> from blocks_rx import hclust
    >>> hclust(np.eye(3)).linkage, hclust_call(hclust(np.eye(3)))
    ('complete', 'hclust(d = as.dist(1 - similarity), method = "complete")')
    >>> from dataclasses import replace
    >>> print(hclust_call(replace(hclust(np.eye(3)), method="OLO")))
    seriation::seriate(as.dist(1 - similarity), method = "OLO", control = list(method = "complete"))[[1L]]
    """
    from .ordering import DISTANCES

    expression = re.sub(r"\bM\b", "similarity", DISTANCES[ordering.distance].r_expression)
    if ordering.method == "hclust":
        return f'hclust(d = {expression}, method = "{ordering.linkage}")'
    return (f'seriation::seriate({expression}, method = "{ordering.method}", '
            f'control = list(method = "{ordering.linkage}"))[[1L]]')


def export_rds(result, path, **kwargs) -> Path:
    """Write ``result`` (an Analysis, a StoredResult, or a (Similarity, Ordering) pair) as one
    ``.rds``.

    In R: ``library(blocksrx); x <- read_blocks(path); plot(x); cutree(x, k = 5)``.
    Needs R and rpy2 (:class:`blocks_rx.r.RUnavailable` says what to install);
    :func:`export_csv` writes the same content without them.
    """
    from .r.export import save_rds

    return save_rds(_content(result, **kwargs), path)


def to_r(result, name: str = "blocks", **kwargs) -> None:
    """Assign the export list of ``result`` to ``name`` in the live R session (rpy2).

    >>> # then, in R through rpy2: rpy2.robjects.r('cutree(blocks$hclust, k = 3)')
    """
    from .r.export import assign

    assign(_content(result, **kwargs), name)


def export_csv(result, folder, **kwargs) -> Path:
    """Write the export as CSV + JSON into ``folder`` (replaced whole), for plain R.

    In R: ``library(blocksrx); x <- read_blocks(folder)``.
    """
    from ._folders import StagedFolder

    content = _content(result, **kwargs)
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise FileExistsError(f"{folder} is a file; the CSV export is a folder")
    if folder.is_dir():
        foreign = sorted(p.name for p in folder.iterdir() if p.name not in CSV_FILES)
        if foreign:
            raise FileExistsError(f"{folder} holds files that are not part of a blocks-rx "
                                  f"export ({', '.join(foreign[:5])}); choose another folder")
    with StagedFolder(folder) as staged:
        _write_csv_files(content, staged.path)
        staged.commit()
    return folder


def _write_csv_files(content: dict, folder: Path) -> None:
    import pandas as pd

    cells = [protect_cell(name) for name in content["classes"]]
    frame = pd.DataFrame(content["matrix"], index=cells, columns=cells)
    frame.index.name = "class"
    frame.to_csv(folder / "similarity.csv", float_format="%.17g")
    if content["merge"] is not None:
        pd.DataFrame({"merge1": content["merge"][:, 0], "merge2": content["merge"][:, 1],
                      "height": content["height"]}).to_csv(folder / "hclust.csv", index=False,
                                                           float_format="%.17g")
    meta = {
        "format": "blocks-rx export 1",
        "classes": content["classes"],
        "order": content["order"].tolist(),
        "linkage": content["linkage"],
        "distance": content["distance"],
        "hclust": content["merge"] is not None,
        "hclust_call": content["hclust_call"],
        "groups": None if content["groups"] is None else content["groups"].tolist(),
        "memberships": None if content["memberships"] is None else content["memberships"].tolist(),
        "provenance": json.loads(content["provenance_json"]),
    }
    (folder / "blocks.json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")


def _content(result, **kwargs) -> dict:
    """The export list of an Analysis, a StoredResult (a folder read back) or a pair."""
    from .pipeline import Analysis
    from .results import StoredResult

    if isinstance(result, tuple) and len(result) == 2:
        return export_content(*result, **kwargs)
    if isinstance(result, Analysis):
        kwargs.setdefault("provenance", result.report())
        if result.findings is not None:
            kwargs.setdefault("groups", np.asarray(result.findings.fuzzy.crisp) + 1)
            kwargs.setdefault("memberships", result.findings.fuzzy.memberships)
    elif isinstance(result, StoredResult):
        kwargs.setdefault("provenance", result.report)
        if result.groups is not None:
            kwargs.setdefault("groups", result.groups.crisp + 1)
            kwargs.setdefault("memberships", result.groups.memberships)
    else:
        raise TypeError("export needs an Analysis, a StoredResult (blocks_rx.read_result) or "
                        f"a (Similarity, Ordering) pair, not a {type(result).__name__}")
    return export_content(result.similarity, result.ordering, **kwargs)
