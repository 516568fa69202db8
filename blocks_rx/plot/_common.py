"""Small helpers shared by the figures."""

from __future__ import annotations

import contextlib
import functools
import numbers
from pathlib import Path

from ..errors import OptionError


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


def panels_figure(size, h_pad: float | None = None):
    """A standalone Figure with constrained layout, for figures of several panels;
    ``h_pad``: inches between the rows of parts (the title and what is below it)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, layout="constrained")
    if h_pad is not None:
        fig.get_layout_engine().set(h_pad=h_pad)
    return fig


def new_figure(size):
    """A standalone Figure with no layout engine, for figures placed by :func:`fit_figure`."""
    from matplotlib.figure import Figure

    return Figure(figsize=size)


def add_axes_inches(fig, x, y, width, height):
    """An axes at a place given in inches from the figure's lower left corner."""
    figure_width, figure_height = fig.get_size_inches()
    return fig.add_axes((x / figure_width, y / figure_height, width / figure_width,
                         height / figure_height))


#: The dpi at which :func:`fit_figure` measures text (blocks-rx saves figures at 150 dpi).
MEASURE_DPI = 150


@contextlib.contextmanager
def measuring(fig):
    """A renderer that measures ``fig`` at :data:`MEASURE_DPI`, the dpi figures are saved
    at (hinted glyphs are not exactly proportional); the figure's own dpi is restored
    afterwards."""
    shown_dpi = fig.dpi
    fig.set_dpi(MEASURE_DPI)
    try:
        yield _measuring_renderer()
    finally:
        fig.set_dpi(shown_dpi)


@functools.lru_cache(maxsize=1)
def _measuring_renderer():
    """The one renderer every figure is measured with: it keeps the sizes of the texts it
    has measured (a figure's tick labels are measured up to three times, and the next
    picture of the same classes has the same labels), and has no canvas: measuring needs
    none (a canvas the size of the figure took 9 MB, zeroed, at each measurement)."""
    from matplotlib.backends.backend_agg import RendererAgg

    return RendererAgg(1, 1, MEASURE_DPI)


def sharpen_upsampled(fig, dpi: float) -> None:
    """Draw the antialiased images of ``fig`` that will have at least one pixel per cell at
    ``dpi`` with ``nearest`` instead: smoothing an image drawn larger than its cells only
    blurs their edges. A heatmap of more than 2,000 classes is pooled to at most 1,000
    cells (:func:`blocks_rx.plot._heatmap.ordered_image`), fewer than its 1,250 pixels at
    150 dpi: the pooling has averaged what the pixels cannot show, and smoothing it again
    took 0.1 s of each picture at 2,622 classes. Their values are resampled before they are
    coloured (``interpolation_stage="data"``): the same pixels, drawn with less memory.
    Images with more cells than pixels keep their antialiasing.

    >>> import numpy as np
    >>> from matplotlib.figure import Figure
    >>> ax = Figure(figsize=(4, 4)).add_subplot()
    >>> image = ax.imshow(np.eye(100), interpolation="antialiased")
    >>> sharpen_upsampled(ax.figure, dpi=150)
    >>> image.get_interpolation(), image.get_interpolation_stage()
    ('nearest', 'data')
    >>> image.set_interpolation("antialiased"); sharpen_upsampled(ax.figure, dpi=20)
    >>> image.get_interpolation()
    'antialiased'
    """
    images = [image for ax in fig.axes for image in ax.get_images()
              if image.get_interpolation() == "antialiased"]
    if not images:
        return
    scale = dpi / MEASURE_DPI  # the measured extents are at MEASURE_DPI
    with measuring(fig) as renderer:
        for ax in fig.axes:
            ax.apply_aspect()
        for image in images:
            box = image.get_window_extent(renderer)
            rows, columns = image.get_array().shape[:2]
            if box.width * scale >= columns and box.height * scale >= rows:
                image.set_interpolation("nearest")
                if image.get_array().ndim == 2:
                    # Values resampled, then coloured: with "nearest" the same pixels as
                    # colours resampled, without float RGBA arrays the size of the picture
                    # (0.05-0.1 s of each heatmap at 2,622 classes).
                    image.set_interpolation_stage("data")


def fit_figure(fig, pad: float = 0.15, title: str | None = None, title_size: float = 12.0):
    """Resize a figure (no layout engine) to what is drawn on it, plus ``pad`` inches.

    Every axes keeps its size in inches and moves by the same offset, so tick labels, titles,
    insets (trees, side columns, colour bars) and legends all end up inside the canvas with
    no empty band: what ``savefig(bbox_inches="tight")`` does to a saved file, done to the
    figure itself, so that Jupyter, ``savefig`` and the text checks all see the same thing.
    A ``title`` is centred in a band of its own above everything; returns its Text (or None).
    """
    with measuring(fig) as renderer:
        for ax in fig.axes:
            ax.apply_aspect()
        box = fig.get_tightbbox(renderer)
    band = 0.0
    if title:
        lines = title.count("\n") + 1
        band = lines * title_size * 1.35 / 72 + 0.1
    width, height = fig.get_size_inches()
    new_width, new_height = box.width + 2 * pad, box.height + 2 * pad + band
    dx, dy = pad - box.x0, pad - box.y0
    for ax in fig.axes:
        p = ax.get_position()
        ax.set_position(((p.x0 * width + dx) / new_width, (p.y0 * height + dy) / new_height,
                         p.width * width / new_width, p.height * height / new_height))
    fig.set_size_inches(new_width, new_height)
    if not title:
        return None
    return fig.text(0.5, 1.0 - pad / new_height, title, ha="center", va="top",
                    fontsize=title_size)


def get_ready_to_draw() -> None:
    """Load what drawing a picture needs (matplotlib, its Agg canvas, the fonts, the colour
    maps) by drawing a small labelled heatmap: a process that will draw does this while it
    waits for what to draw (:class:`blocks_rx.results.DrawnAhead`).

    >>> get_ready_to_draw()
    """
    import io

    import numpy as np

    from ._heatmap import heatmap

    heatmap(np.eye(3), title="ready").savefig(io.BytesIO(), format="png", dpi=MEASURE_DPI)


def move_beside(fig, left, right, gap: float = 0.35) -> None:
    """Move the axes ``right`` (drawn anywhere right of ``left``) so that ``gap`` inches
    separate everything drawn with ``left`` from everything drawn with ``right``."""
    with measuring(fig) as renderer:
        for ax in (left, right):
            ax.apply_aspect()
        shift = (left.get_tightbbox(renderer).x1 - right.get_tightbbox(renderer).x0) / MEASURE_DPI
    p = right.get_position()
    right.set_position((p.x0 + (shift + gap) / fig.get_figwidth(), p.y0, p.width, p.height))


def label_positions(m: int, max_labels: int) -> list[int]:
    """Positions to label along an axis of ``m`` cells: all, an even thinning, or none
    (``max_labels`` 0).

    >>> label_positions(10, 4), label_positions(10, 1), label_positions(10, 0)
    ([0, 3, 6, 9], [0], [])
    """
    if isinstance(max_labels, bool) or not isinstance(max_labels, numbers.Integral) \
            or max_labels < 0:
        raise OptionError(f"max_labels must be a whole number >= 0, got {max_labels!r}")
    if m <= max_labels:
        return list(range(m))
    if max_labels == 0:
        return []
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


#: Where Debian puts the fonts set-up installs (fonts-noto-core; fonts-wqy-microhei for
#: Chinese, Japanese and Korean), and which of their families to use.
FONT_FOLDERS = {"/usr/share/fonts/truetype/noto": "NotoSans*-Regular.ttf",
                "/usr/share/fonts/truetype/wqy": "wqy-microhei.ttc"}
FALLBACK_FAMILIES = ("Noto Sans", "WenQuanYi Micro Hei")


@functools.lru_cache(maxsize=1)
def _font_coverage() -> dict[str, set[int]]:
    """Family -> code points, for DejaVu Sans and the installed fallback fonts."""
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    def wanted(name):
        return name == "DejaVu Sans" or (name.startswith(FALLBACK_FAMILIES) and "Mono" not in name)

    known = {f.fname for f in font_manager.fontManager.ttflist}
    for folder, pattern in FONT_FOLDERS.items():
        # Fonts installed after matplotlib built its cache: register them now.
        for file in sorted(Path(folder).glob(pattern)) if Path(folder).is_dir() else ():
            if str(file) not in known:
                font_manager.fontManager.addfont(str(file))
    paths = {f.name: f.fname for f in font_manager.fontManager.ttflist if wanted(f.name)}
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
