"""The interactive explorer: one offline HTML page to zoom, brush, threshold, reorder, search.

:func:`explore` gathers what a result holds (:mod:`.content`) and builds the page
(:mod:`.page`, Bokeh with its JavaScript inlined, plus ``explorer.js``). The page works from a
file with no network: open it in a browser, or display it inline in Jupyter::

    page = blocks_rx.explore("demo-output")   # a result folder, or what analyze returned
    page.save("explorer.html")
    page                                      # in Jupyter: the page itself, inline

Above :data:`FULL_RESOLUTION_UP_TO` classes the page holds a pooled overview, and
``blocks-rx explore RESULT --serve`` (:mod:`.server`) renders any zoom level on a local
Bokeh server.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field, replace
from pathlib import Path

from .._folders import replace_file
from .content import FULL_RESOLUTION_UP_TO, Content, gather

__all__ = ["Explorer", "explore", "FULL_RESOLUTION_UP_TO"]


@dataclass(frozen=True, eq=False)
class Explorer:
    """An explorer page: ``.html`` (the page), ``.save(path)``, inline in Jupyter."""

    content: Content = field(repr=False)
    html: str = field(repr=False)

    def __repr__(self) -> str:
        return (f"<Explorer: {self.content.m:,} classes, {len(self.content.orderings)} "
                f"orderings, {len(self.html) / 1e6:.1f} MB>")

    def save(self, path) -> Path:
        """Write the page to ``path``, whole (a partial file never replaces an old one).

        Returns the path written.
        """
        path = Path(path)
        if path.is_dir():
            path = path / "explorer.html"
        replace_file(path, self.html)
        return path

    def _repr_html_(self) -> str:
        """The page in a sandboxed iframe: its scripts run inside it, offline."""
        return (f'<iframe srcdoc="{html.escape(self.html, quote=True)}" '
                'sandbox="allow-scripts allow-downloads" '
                'style="width: 100%; height: 780px; border: 1px solid #ddd;"></iframe>')


def explore(result, *, taxonomy=None, examples=None, extra_orderings: bool = True,
            run_id: str | None = None) -> Explorer:
    """The explorer page of a result.

    Parameters
    ----------
    result : Analysis, StoredResult, or str / Path
        What :func:`blocks_rx.analyze` returned, :func:`blocks_rx.read_result` read, or a
        result folder.
    taxonomy : mapping, optional
        Class name -> taxonomy path (terms root first, or ``"a/b/c"``): a taxonomy band beside
        the matrix, a taxonomy ordering, and the path of each brushed class.
    examples : mapping, optional
        Class name -> texts or images (arrays), up to three shown per brushed class.
    extra_orderings : bool
        Also offer hclust with the other linkages (up to
        :data:`~blocks_rx.explore.content.EXTRA_ORDERINGS_UP_TO` classes).

    Returns
    -------
    Explorer

    Examples
    --------
    >>> import numpy as np, blocks_rx
    >>> from blocks_rx.datasets import planted_taxonomy
    >>> data = planted_taxonomy()
    >>> page = blocks_rx.explore(blocks_rx.analyze(data["scores"], groups=None))
    >>> page.html.startswith("<!DOCTYPE html>"), page.content.m
    (True, 60)
    """
    from .page import build_html

    content = gather(result, taxonomy=taxonomy, examples=examples,
                     extra_orderings=extra_orderings)
    if run_id is not None:
        content = replace(content, run_id=str(run_id))
    return Explorer(content=content, html=build_html(content))
