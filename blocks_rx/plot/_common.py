"""Small helpers shared by the figures."""

from __future__ import annotations

import functools
from pathlib import Path


def new_axes(ax, figsize):
    """Return (figure, axes): the given axes' figure, or a new standalone Figure."""
    if ax is not None:
        return ax.figure, ax
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:  # pragma: no cover - matplotlib is a dependency
        raise ImportError("figures need matplotlib: pip install matplotlib") from exc
    fig = Figure(figsize=figsize, layout="constrained")
    return fig, fig.add_subplot()


def label_positions(m: int, max_labels: int) -> list[int]:
    """Positions to label along an axis of ``m`` cells: all, or an even thinning."""
    if m <= max_labels:
        return list(range(m))
    step = -(-m // max_labels)
    return list(range(0, m, step))


def families_for(text: str) -> list[str]:
    """Font families that together draw every character of ``text``.

    DejaVu Sans (matplotlib's default) first, then, for characters it lacks, installed Noto
    families that have them (Debian's fonts-noto-core), so labels in many scripts render
    through matplotlib's per-glyph font fallback instead of as empty boxes.
    """
    coverage = _font_coverage()
    families = ["DejaVu Sans"]
    missing = {ord(ch) for ch in text if not ch.isspace()} - coverage.get("DejaVu Sans", set())
    for family, charmap in coverage.items():
        if not missing:
            break
        found = missing & charmap
        if found and family not in families:
            families.append(family)
            missing -= found
    return families


@functools.lru_cache(maxsize=1)
def _font_coverage() -> dict[str, set[int]]:
    """Family -> code points, for DejaVu Sans and the installed Noto Sans fonts."""
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    paths = {f.name: f.fname for f in font_manager.fontManager.ttflist
             if f.name == "DejaVu Sans" or (f.name.startswith("Noto Sans") and "Mono" not in f.name)}
    noto = Path("/usr/share/fonts/truetype/noto")
    if not any(name.startswith("Noto") for name in paths) and noto.is_dir():
        # Fonts installed after matplotlib built its cache: register them now.
        for file in sorted(noto.glob("NotoSans*-Regular.ttf")):
            font_manager.fontManager.addfont(str(file))
            paths.setdefault(font_manager.FontProperties(fname=str(file)).get_name(), str(file))
    coverage = {}
    for name in sorted(paths, key=lambda n: (n != "DejaVu Sans", n)):
        try:
            coverage[name] = set(FT2Font(paths[name]).get_charmap())
        except (OSError, RuntimeError):  # an unreadable font file: skip it
            continue
    return coverage


def drawable(text: str) -> bool:
    """Whether the installed fonts (see :func:`families_for`) have every character of ``text``.

    >>> drawable("Hello")
    True
    """
    covered = set().union(*_font_coverage().values())
    return all(ord(ch) in covered for ch in text if not ch.isspace())
