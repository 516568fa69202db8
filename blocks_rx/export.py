"""Export results to R: ``.rds`` through rpy2, or CSV + JSON that plain R reads.

Both carry the same named list, which ``r_scripts/read_blocks.R`` rebuilds from either:

``similarity``  the m x m matrix with class names as dimnames
``classes``     class names, in input order
``order``       1-based order of the classes (R's convention)
``hclust``      a real R ``hclust`` object (merge, height, order, labels, method,
                dist.method) that ``plot()``, ``cutree()`` and ``as.dendrogram()`` accept;
                absent for orderings without a tree
``groups``, ``memberships``  group results, when present
``provenance``  how everything was computed (methods, versions)
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

#: Files of the CSV + JSON export, inside its folder.
CSV_FILES = ("similarity.csv", "hclust.csv", "blocks.json")


def export_content(similarity, ordering, *, groups=None, memberships=None, provenance=None) -> dict:
    """The export list as plain Python values (1-based order, R's merge)."""
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
        "groups": None if groups is None else np.asarray(groups, dtype=np.int64),
        "memberships": None if memberships is None else np.asarray(memberships, dtype=np.float64),
        "provenance_json": json.dumps(provenance),
    }


def export_rds(result, path, **kwargs) -> Path:
    """Write ``result`` (an Analysis, or a (Similarity, Ordering) pair) as one ``.rds``.

    In R: ``x <- readRDS(path); plot(x$hclust); cutree(x$hclust, k = 5)``.
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
    """Write the export as CSV + JSON into ``folder`` (atomically), for plain R.

    In R: ``source("r_scripts/read_blocks.R"); x <- read_blocks(folder)``.
    """
    content = _content(result, **kwargs)
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".blocks-rx-", dir=folder.parent))
    try:
        _write_csv_files(content, staging)
        folder.mkdir(exist_ok=True)
        for name in CSV_FILES:  # replace our files (a stale hclust.csv goes); leave others alone
            if (staging / name).exists():
                os.replace(staging / name, folder / name)
            elif (folder / name).exists():
                (folder / name).unlink()
        return folder
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _write_csv_files(content: dict, folder: Path) -> None:
    import pandas as pd

    classes = content["classes"]
    frame = pd.DataFrame(content["matrix"], index=classes, columns=classes)
    frame.index.name = "class"
    frame.to_csv(folder / "similarity.csv", float_format="%.17g")
    if content["merge"] is not None:
        pd.DataFrame({"merge1": content["merge"][:, 0], "merge2": content["merge"][:, 1],
                      "height": content["height"]}).to_csv(folder / "hclust.csv", index=False,
                                                           float_format="%.17g")
    meta = {
        "format": "blocks-rx export 1",
        "classes": classes,
        "order": content["order"].tolist(),
        "linkage": content["linkage"],
        "distance": content["distance"],
        "hclust": content["merge"] is not None,
        "groups": None if content["groups"] is None else content["groups"].tolist(),
        "memberships": None if content["memberships"] is None else content["memberships"].tolist(),
        "provenance": json.loads(content["provenance_json"]),
    }
    (folder / "blocks.json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")


def _content(result, **kwargs) -> dict:
    if isinstance(result, tuple) and len(result) == 2:
        return export_content(*result, **kwargs)
    if hasattr(result, "similarity") and hasattr(result, "ordering"):
        if hasattr(result, "report"):  # an Analysis: its report is the provenance
            kwargs.setdefault("provenance", result.report())
        findings = getattr(result, "groups", None)
        if findings is not None:
            kwargs.setdefault("groups", np.asarray(findings.groups.crisp) + 1)
            kwargs.setdefault("memberships", findings.groups.memberships)
        return export_content(result.similarity, result.ordering, **kwargs)
    raise TypeError("export needs an Analysis or a (Similarity, Ordering) pair")
