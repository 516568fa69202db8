"""``report.md`` and ``report.html`` of a :class:`~blocks_rx.quality.QualityReport`, and
writing them into the result folder (:func:`write_report`).

The HTML page is one offline file: its style inline (``report.css``), pictures as PNG data
URIs (:mod:`.pictures`), no script at all, and a Content-Security-Policy that lets none
run, loads nothing from elsewhere and shows only inline images. Every class name and text
is escaped (``html.escape``); in the markdown, names are escaped for HTML and for markdown
both, so no viewer reads them as markup. Class names link into ``explorer.html#class=NAME``
(URL-encoded) when the folder holds the explorer.

Both files name the run they were built from (``<meta name="blocks-rx-run-id">``; in the
markdown a first line ``<!-- blocks-rx-run-id: ... -->``), so
:func:`blocks_rx.read_result` refuses a report of another run.
"""

from __future__ import annotations

import html
import re
from importlib import resources
from pathlib import Path
from urllib.parse import quote

from .._folders import replace_file
from ..errors import OptionError, ResultError
from .findings import EVIDENCE_LABELS, KINDS, TIERS

#: Rows of a finding's table shown in the report; the rest are counted.
MAX_ROWS = 40
#: Class names listed for a finding; the rest are counted.
MAX_NAMES = 40
#: The page's only permissions: inline style, inline (data:) images, nothing else.
CONTENT_POLICY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
#: Markdown characters that could start formatting inside a line.
_MARKDOWN = re.compile(r"([\\`*_\[\]|~])")


# --------------------------------------------------------------------------- values


def _cell(value) -> str:
    """A value as text: floats to 4 significant digits, None as n/a; whole numbers (counts,
    and row numbers to look up) as they are.

    >>> [_cell(v) for v in (0.123456, 12345, None, "x")]
    ['0.1235', '12345', 'n/a', 'x']
    """
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _label(key: str) -> str:
    return EVIDENCE_LABELS.get(key, key.replace("_", " "))


def _link(name: str) -> str:
    return "explorer.html#class=" + quote(name, safe="")


def _listed(names, limit: int = MAX_NAMES) -> tuple[list[str], int]:
    names = list(names)
    return names[:limit], max(0, len(names) - limit)


# --------------------------------------------------------------------------- markdown


def _md(text) -> str:
    """Text safe in markdown: HTML-escaped, markdown punctuation backslash-escaped.

    >>> _md("<b>*x*</b> | y")
    '&lt;b&gt;\\\\*x\\\\*&lt;/b&gt; \\\\| y'
    """
    return _MARKDOWN.sub(r"\\\1", html.escape(str(text), quote=False))


def _md_table(columns, rows) -> list[str]:
    shown = rows[:MAX_ROWS]
    lines = ["| " + " | ".join(_md(c) for c in columns) + " |",
             "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_md(_cell(v)) for v in row) + " |" for row in shown]
    if len(rows) > len(shown):
        lines.append(f"\n({len(rows) - len(shown)} more rows)")
    return lines + [""]


def _md_names(finding, explorer: bool) -> list[str]:
    if not finding.classes:
        return []
    names, more = _listed(finding.classes)
    shown = [f"[{_md(n)}]({_link(n)})" if explorer else _md(n) for n in names]
    if finding.kind == "near-duplicate":
        return [f"a: {shown[0]} · b: {shown[1]}", ""]
    return ["Classes: " + ", ".join(shown) + (f" and {more} more" if more else ""), ""]


def _md_finding(rank: int, finding, explorer: bool) -> list[str]:
    kind = KINDS[finding.kind]
    lines = [f"## {rank}. {_md(finding.title)}", "",
             f"*{kind.heading}*, score {_cell(float(finding.score))} ({_md(kind.score)})", "",
             _md(finding.note), ""]
    lines += _md_names(finding, explorer)
    lines += _md_table(("evidence", "value"),
                       [(_label(k), v) for k, v in finding.evidence.items()])
    for table in finding.tables:
        lines += [f"**{_md(table.title)}**", ""] + _md_table(table.columns, table.rows)
    return lines


def to_markdown(report, *, explorer: bool = False) -> str:
    """The report as markdown: the run id, a title, the summary, each finding ranked with
    its evidence and tables, then the thresholds and what was not checked.

    ``explorer=True`` links class names into ``explorer.html``.

    >>> import numpy as np, blocks_rx
    >>> S = np.random.default_rng(0).normal(size=(300, 6))
    >>> found = blocks_rx.quality_report(blocks_rx.analyze(S, groups=None, hclust_backend="python"))
    >>> to_markdown(found).splitlines()[0]
    '# What to check in &lt;array&gt;'
    """
    lines = [f"<!-- blocks-rx-run-id: {report.run_id} -->"] if report.run_id else []
    lines += [f"# What to check in {_md(report.source)}", "", _md(report.summary()), "",
              "Pictures of each finding are in report.html.", ""]
    for rank, finding in enumerate(report.findings, start=1):
        lines += _md_finding(rank, finding, explorer)
    lines += ["## How these were found", ""]
    lines += [f"- tier {tier}: {_md(text)}" for tier, text in TIERS.items()]
    lines += [f"- {_md(name)}: {_cell(value)}" for name, value in report.thresholds.items()]
    lines += [""] + _md_section("Not checked", report.skipped)
    lines += _md_section("Warnings of the analysis", report.run_warnings)
    return "\n".join(lines).rstrip("\n") + "\n"


def _md_section(title: str, items) -> list[str]:
    return [f"## {title}", ""] + [f"- {_md(item)}" for item in items] + [""] if items else []


# --------------------------------------------------------------------------- HTML


def _h(text) -> str:
    return html.escape(str(text), quote=True)


def _html_table(columns, rows, css: str = "") -> str:
    shown = rows[:MAX_ROWS]
    head = "".join(f"<th>{_h(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(
        f'<td class="number">{_h(_cell(v))}</td>' if isinstance(v, (int, float))
        else f"<td>{_h(_cell(v))}</td>" for v in row) + "</tr>" for row in shown)
    more = (f'<p class="more">{len(rows) - len(shown)} more rows (report.md and the API '
            "hold them all)</p>" if len(rows) > len(shown) else "")
    table = f'<table class="{css}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
    return f'<div class="scroll">{table}</div>{more}'


def _html_names(finding, explorer: bool) -> str:
    if not finding.classes:
        return ""
    names, more = _listed(finding.classes)
    shown = [f'<a href="{_h(_link(n))}">{_h(n)}</a>' if explorer else _h(n) for n in names]
    if finding.kind == "near-duplicate":
        return f'<p class="classes">a: <b>{shown[0]}</b> · b: <b>{shown[1]}</b></p>'
    return (f'<p class="classes">Classes: {", ".join(shown)}'
            + (f" and {more} more" if more else "") + "</p>")


def _html_finding(rank: int, finding, report, explorer: bool) -> str:
    from .pictures import picture

    kind = KINDS[finding.kind]
    image = picture(finding, report)
    figure = (f'<figure><img src="{image}" alt="{_h(kind.heading)}: {_h(finding.title)}">'
              "</figure>" if image else "")
    evidence = _html_table(("evidence", "value"),
                           [(_label(k), v) for k, v in finding.evidence.items()], "evidence")
    tables = "".join(f"<h3>{_h(t.title)}</h3>{_html_table(t.columns, t.rows)}"
                     for t in finding.tables)
    return (f'<section class="card finding tier-{finding.tier}" id="finding-{rank}">'
            f'<h2><span class="rank">{rank}</span>{_h(finding.title)}</h2>'
            f'<p class="kind">{_h(kind.heading)} · score {_h(_cell(float(finding.score)))} '
            f"({_h(kind.score)}) · tier {finding.tier}: {_h(TIERS[finding.tier])}</p>"
            f'<p class="note">{_h(finding.note)}</p>'
            f'<div class="body">{figure}<div>{_html_names(finding, explorer)}{evidence}</div>'
            f"</div>{tables}</section>")


def _html_contents(report) -> str:
    rows = "".join(f'<tr><td>{rank}</td><td>{_h(KINDS[f.kind].heading)}</td>'
                   f'<td><a href="#finding-{rank}">{_h(f.title)}</a></td></tr>'
                   for rank, f in enumerate(report.findings, start=1))
    return (f'<table class="contents"><thead><tr><th>rank</th><th>kind</th><th>finding</th>'
            f"</tr></thead><tbody>{rows}</tbody></table>" if rows else "")


def _html_footer(report) -> str:
    def listed(title, items):
        return (f"<h3>{_h(title)}</h3><ul>" + "".join(f"<li>{_h(i)}</li>" for i in items)
                + "</ul>") if items else ""

    return ('<footer class="card">'
            + listed("How these were found", [f"tier {t}: {text}" for t, text in TIERS.items()]
                     + [f"{name}: {_cell(v)}" for name, v in report.thresholds.items()])
            + listed("Not checked", report.skipped)
            + listed("Warnings of the analysis", report.run_warnings) + "</footer>")


def to_html(report, *, explorer: bool = False) -> str:
    """The report as one self-contained HTML page (module docstring); ``explorer=True``
    links class names into ``explorer.html``.

    >>> import numpy as np, blocks_rx
    >>> S = np.random.default_rng(0).normal(size=(300, 6))
    >>> found = blocks_rx.quality_report(blocks_rx.analyze(S, groups=None, hclust_backend="python"))
    >>> "<script" in to_html(found), to_html(found).startswith("<!DOCTYPE html>")
    (False, True)
    """
    style = resources.files(__package__).joinpath("report.css").read_text(encoding="utf-8")
    run = (f'<meta name="blocks-rx-run-id" content="{_h(report.run_id)}">'
           if report.run_id else "")
    sections = "".join(_html_finding(rank, f, report, explorer)
                       for rank, f in enumerate(report.findings, start=1))
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">" + run
            + f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_POLICY}">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>What to check in {_h(report.source)}</title><style>{style}</style>"
            f'</head><body><main><h1>What to check</h1><p class="source">{_h(report.source)}'
            + (f" · run {_h(report.run_id)}" if report.run_id else "") + "</p>"
            f'<section class="card"><p class="summary">{_h(report.summary())}</p>'
            f"{_html_contents(report)}</section>{sections}{_html_footer(report)}"
            "</main></body></html>\n")


# --------------------------------------------------------------------------- writing


def write_report(report, folder=None) -> dict[str, Path]:
    """Write ``report.html`` and ``report.md`` into the result folder the report was built
    from (or ``folder``, which must hold that same run); each file is replaced whole.

    Returns the paths written, by file name.

    Raises
    ------
    ResultError
        The folder holds another run (or is not a valid result); OptionError for a report
        built from an unsaved Analysis without a folder.

    Examples
    --------
    >>> import numpy as np, tempfile, blocks_rx
    >>> S = np.random.default_rng(0).normal(size=(300, 6))
    >>> folder = tempfile.mkdtemp() + "/result"
    >>> analysis = blocks_rx.analyze(S, groups=None, hclust_backend="python")
    >>> _ = blocks_rx.write_result(analysis, folder)
    >>> sorted(write_report(blocks_rx.quality_report(folder)))
    ['report.html', 'report.md']
    >>> _ = blocks_rx.read_result(folder)      # still one run
    """
    from ..results import validate

    target = Path(folder) if folder is not None else report.folder
    if target is None:
        raise OptionError("this report was built from an unsaved analysis: write it with "
                          "blocks_rx.write_result(analysis, folder), then report the folder")
    held = validate(target)["run_id"]
    if report.run_id != held:
        raise ResultError(f"{target} holds run {held}, and this report was built from "
                          + (f"run {report.run_id}" if report.run_id else "an unsaved analysis")
                          + f"; build it from the folder: quality_report({str(target)!r})")
    explorer = (target / "explorer.html").is_file()
    texts = {"report.html": to_html(report, explorer=explorer),
             "report.md": to_markdown(report, explorer=explorer)}
    for name, text in texts.items():
        replace_file(target / name, text)
    return {name: target / name for name in texts}
