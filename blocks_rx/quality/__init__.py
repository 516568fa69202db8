"""A report of what to check in a result: near-duplicate classes, off-block confusions,
classes sharing a nuisance feature, and distribution warnings, ranked, with the evidence.

:func:`quality_report` computes the findings (:mod:`.findings`: every definition and
threshold) and returns a :class:`QualityReport`; :func:`write_report` writes it into the
result folder as ``report.md`` and ``report.html`` (:mod:`.render`: one offline page, every
name escaped, a small picture per finding, links into ``explorer.html``)::

    found = blocks_rx.quality_report("result/")      # or an Analysis, with scores= to list samples
    print(found.summary())
    write_report(found)                              # result/report.html, result/report.md

The package is named for what it judges, the quality of the data and the classes as the
classifier sees them; ``blocks_rx.quality_report`` is its function, so no attribute of
``blocks_rx`` is both a module and a function.
"""

from .findings import (KINDS, Finding, QualityReport, Table, near_duplicate_pairs,
                       off_block_counts, quality_report, row_correlations, top_level_blocks)
from .render import to_html, to_markdown, write_report

__all__ = ["KINDS", "Finding", "QualityReport", "Table", "near_duplicate_pairs",
           "off_block_counts", "quality_report", "row_correlations", "to_html", "to_markdown",
           "top_level_blocks", "write_report"]
