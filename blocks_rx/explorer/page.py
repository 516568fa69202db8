"""The explorer page: Bokeh figures and widgets around the content of :mod:`.content`.

One self-contained HTML file: Bokeh's JavaScript inlined (only the parts the page uses),
the matrix as deflated 8-bit levels, no request to any server. Bokeh gives the image glyph,
zoom, pan, box select, hover, the widgets and the ranges; ``explorer.js`` (package data) does
what Bokeh does not: drawing the levels in the chosen ordering, colour scale and cut-off, the
dendrogram cut outlines, the brushed class list, search. Every text that comes from the data
(class names, taxonomy terms, example texts) reaches the page as data and is escaped where it
is written as HTML.
"""

from __future__ import annotations

import html
import zlib
from importlib import resources

import numpy as np

from .content import Content

#: Pixels of the matrix's side on the page.
MATRIX_PIXELS = 660
#: Background the cut-off fades cells towards, and the colour of a missing cell.
BACKGROUND = "#f2f2f2"
MISSING = "#bfbfbf"

CSS = """
:host { font-family: system-ui, sans-serif; font-size: 13px; }
.brx-list { padding-left: 1.6em; margin: 0.2em 0; }
.brx-list li { margin-bottom: 0.35em; }
.brx-about { color: #555; font-size: 12px; }
.brx-example { color: #333; font-size: 12px; font-style: italic; }
.brx-thumb { width: 48px; height: 48px; image-rendering: pixelated; margin: 2px; }
.brx-missing { color: #b00; }
h4 { margin: 0.4em 0 0.2em 0; }
"""


def script() -> str:
    """The explorer's JavaScript (``explorer.js``, shipped as package data)."""
    return resources.files(__package__).joinpath("explorer.js").read_text(encoding="utf-8")


def build_html(content: Content) -> str:
    """The whole page as one HTML string (see the module docstring)."""
    from bokeh.document import Document
    from bokeh.embed import file_html
    from bokeh.events import DocumentReady
    from bokeh.models import CustomJS
    from bokeh.resources import INLINE

    models, layout = _layout(content)
    start = CustomJS(args={"models": models, "data": _page_data(content)}, code=script())
    document = Document()
    document.add_root(layout)
    document.js_on_event(DocumentReady, start)
    page = file_html(document, INLINE, title=f"blocks-rx explorer: {content.title}")
    meta = _RUN_ID_META.format("") + '\n<meta name="generator" content="blocks-rx">'
    return with_run_id(page.replace("<head>", "<head>\n" + meta, 1), content.run_id)


_RUN_ID_META = '<meta name="blocks-rx-run-id" content="{}">'


def with_run_id(page: str, run_id: str) -> str:
    """A page that :func:`build_html` built for no run id (``content.run_id`` empty), naming
    ``run_id``: a result's page can be built before its run id, a hash of all of it, is known.

    >>> with_run_id('<head><meta name="blocks-rx-run-id" content=""></head>', "abc")
    '<head><meta name="blocks-rx-run-id" content="abc"></head>'
    """
    empty = _RUN_ID_META.format("")
    if empty not in page:
        raise ValueError("not a page built for no run id (no empty blocks-rx-run-id meta)")
    return page.replace(empty, _RUN_ID_META.format(html.escape(run_id)), 1)


def _handler(name: str):
    from bokeh.models import CustomJS

    return CustomJS(code=f'window.blocksRx && window.blocksRx.handle("{name}", cb_obj);')


def _layout(content: Content):
    """The Bokeh layout and the models ``explorer.js`` reaches by name."""
    from bokeh.events import SelectionGeometry
    from bokeh.layouts import column, row

    controls, widgets = _controls(content)
    matrix = _matrix_figure(content, "matrix", title="Class similarity")
    models = {**widgets, **matrix["models"], "matrix_figure": matrix["figure"],
              "named_axes": list(matrix["named_axes"])}
    figures = [matrix["figure"]]
    if content.confusion is not None:
        confusion = _matrix_figure(content, "confusion", title="Confusions (rows: true class)",
                                   ranges=matrix["ranges"], visible=False,
                                   overlays=matrix["models"])
        models["named_axes"] += confusion["named_axes"]
        models.update({"confusion_source": confusion["models"]["matrix_source"],
                       "confusion_figure": confusion["figure"],
                       "confusion_image": confusion["models"]["image"]})
        figures.append(confusion["figure"])
    tracks, track_models = _tracks(content, matrix["ranges"][1])
    models.update(track_models)
    for figure in figures:
        figure.js_on_event(SelectionGeometry, _handler("select"))
    models["x_range"], models["y_range"] = matrix["ranges"]
    # The selection panel wraps below the matrix where the window is too narrow for it
    # (a notebook's output area): no sideways scrolling.
    page = row(controls, row(*figures, *tracks), column(widgets["panel_title"], widgets["panel"],
                                                       widgets["names"], widgets["copy"]),
               styles={"flex-wrap": "wrap"})
    return models, page


def _controls(content: Content):
    from bokeh.layouts import column
    from bokeh.models import (AutocompleteInput, Button, Div, InlineStyleSheet,
                              RadioButtonGroup, Select, Slider, TextAreaInput)

    style = InlineStyleSheet(css=CSS)
    names = [o.name for o in content.orderings]
    top = float(content.low + 254 * content.step)
    widgets = {
        "title": Div(text=f"<h3>blocks-rx explorer</h3><p>{html.escape(content.title)}</p>",
                     width=260, stylesheets=[style]),
        "ordering": Select(title="Ordering", options=names, value=names[0], width=250),
        "scale": RadioButtonGroup(labels=["linear", "rank"], active=0, width=250),
        "cutoff": Slider(title="Cut-off: cells below fade",
                         start=round(content.low, 3), end=round(top, 3),
                         value=round(content.low, 3), step=max(content.step, 1e-3), width=250),
        "cut": Slider(title="Dendrogram cut: clusters outlined (1 = none)", start=1,
                      end=40, value=1, step=1, width=250),
        "search": AutocompleteInput(title="Find a class", completions=list(content.classes),
                                    case_sensitive=False, min_characters=1, width=250),
        "view": RadioButtonGroup(labels=["similarity", "confusion", "side by side"], active=0,
                                 width=250, visible=content.confusion is not None),
        "layer": RadioButtonGroup(labels=[layer.name for layer in content.layers], active=0,
                                  width=250, visible=len(content.layers) > 1),
        "detail": Select(title="Full resolution (the overview is pooled)",
                         options=["overview"] + [_detail_name(d) for d in content.details],
                         value="overview", width=250, visible=bool(content.details)),
        "status": Div(text="Starting…", width=260, stylesheets=[style]),
        "panel_title": Div(text="<h4>Selection</h4>", width=330, stylesheets=[style]),
        "panel": Div(text="", width=330, height=MATRIX_PIXELS - 150, stylesheets=[style],
                     styles={"overflow-y": "auto"}),
        "names": TextAreaInput(title="Names (one per line, to copy)", rows=5, width=330),
        "copy": Button(label="Copy names", width=120),
    }
    for name, widget in widgets.items():
        widget.name = name  # found by name: Bokeh.documents[0].get_model_by_name("cutoff")
    for name, attribute in (("ordering", "value"), ("cutoff", "value"), ("cut", "value"),
                            ("search", "value"), ("scale", "active"), ("view", "active"),
                            ("layer", "active"), ("detail", "value")):
        widgets[name].js_on_change(attribute, _handler(name))
    widgets["copy"].js_on_click(_handler("copy"))
    scale_label = Div(text="Colour scale", width=250)
    controls = column(widgets["title"], widgets["layer"], widgets["detail"], widgets["ordering"],
                      scale_label,
                      widgets["scale"],
                      widgets["cutoff"], widgets["cut"], widgets["search"], widgets["view"],
                      widgets["status"], width=270)
    return controls, widgets


def _detail_name(detail) -> str:
    return (f"positions {detail.start + 1:,}-{detail.end:,} ({detail.end - detail.start:,} "
            f"classes: {detail.classes[0]} ...)")


def _matrix_figure(content: Content, name: str, *, title: str, ranges=None, visible=True,
                   overlays=None):
    """A square figure holding one class x class image and the overlays drawn on it (the
    sources of ``overlays``, another figure's, when given: the same boxes on both)."""
    from bokeh.models import (BoxSelectTool, ColumnDataSource, CustomJSHover, HoverTool,
                              Range1d, WheelZoomTool)
    from bokeh.plotting import figure

    m = content.m
    x_range, y_range = ranges or (Range1d(0, m, bounds=(0, m)), Range1d(m, 0, bounds=(0, m)))
    plot = figure(name=name, title=title, x_range=x_range, y_range=y_range,
                  frame_width=MATRIX_PIXELS, frame_height=MATRIX_PIXELS, visible=visible,
                  tools="pan,wheel_zoom,box_zoom,reset,save", toolbar_location="above",
                  x_axis_label="position in the ordering", y_axis_label="position in the ordering")
    source = ColumnDataSource({"image": [np.zeros((1, 1), dtype=np.uint32)]})
    image = plot.image_rgba(image="image", x=0, y=0, dw=m, dh=m, source=source)
    diagonal = ColumnDataSource({"x": np.arange(m) + 0.5, "y": np.arange(m) + 0.5})
    brushable = plot.scatter("x", "y", source=diagonal, alpha=0, size=1)
    select = BoxSelectTool(renderers=[brushable], persistent=True)
    plot.add_tools(select)
    plot.toolbar.active_drag = select
    plot.toolbar.active_scroll = plot.select_one(WheelZoomTool)
    text = CustomJSHover(code="return window.blocksRx ? window.blocksRx.hover(special_vars, format) : '';")
    lines = ([("true", "$y{row}"), ("predicted", "$x{column}"), ("count", "$x{confusion}")]
             if name == "confusion" else
             [("row", "$y{row}"), ("column", "$x{column}"), ("value", "$x{value}")])
    plot.add_tools(HoverTool(renderers=[image], tooltips=lines,
                             formatters={"$x": text, "$y": text}))
    plot.xaxis.major_label_text_font_size = plot.yaxis.major_label_text_font_size = "9px"
    plot.grid.visible = False
    named_axes = _name_the_classes(plot, m) if m <= NAMED_AXES_UP_TO and not content.details \
        else []
    sources = {}
    for overlay, (colour, width, alpha) in OVERLAYS.items():
        sources[overlay] = (overlays[overlay] if overlays else
                            ColumnDataSource({"left": [], "right": [], "top": [], "bottom": []}))
        plot.quad(left="left", right="right", top="top", bottom="bottom",
                  source=sources[overlay], fill_color=colour, fill_alpha=alpha,
                  line_color=colour if width else None, line_width=width or 1)
    return {"figure": plot, "ranges": (x_range, y_range), "named_axes": named_axes,
            "models": {"matrix_source": source, "image": image, "diagonal_source": diagonal,
                       **sources}}


#: Up to this many classes, the matrix's axes name every class (``explorer.js`` relabels
#: them when the ordering changes): 11 pixels a row and more.
NAMED_AXES_UP_TO = 60


def _name_the_classes(plot, m: int) -> list:
    """A tick at the middle of every row and column, labelled by ``explorer.js`` with the
    class there; returns the two axes."""
    from bokeh.models import FixedTicker

    ticks = [p + 0.5 for p in range(m)]
    axes = [plot.xaxis[0], plot.yaxis[0]]
    for axis in axes:
        axis.ticker = FixedTicker(ticks=ticks, minor_ticks=[])
        axis.axis_label = "class, in the ordering"
    plot.xaxis.major_label_orientation = "vertical"
    return axes


#: Boxes drawn over the matrices: (colour, line width, fill alpha). The dendrogram cut's
#: clusters, the brushed selection, the split groups' cross blocks, the found class's row
#: and column.
OVERLAYS = {"outline_source": ("black", 1.5, 0.0), "selection_source": ("#d400aa", 2.5, 0.0),
            "split_source": ("#2a7a00", 2.0, 0.0), "found_source": ("#e6a100", 0.0, 0.35)}


def _tracks(content: Content, y_range):
    """Side tracks sharing the matrix's rows: group memberships, taxonomy, class frequency."""
    from bokeh.models import ColumnDataSource
    from bokeh.plotting import figure

    m, figures, models = content.m, [], {}

    def track(name, width, x_range, title):
        plot = figure(name=name, title=title, y_range=y_range, x_range=x_range,
                      frame_width=width, frame_height=MATRIX_PIXELS, tools="",
                      toolbar_location=None, min_border_left=4)
        plot.yaxis.visible = False
        plot.grid.visible = False
        plot.xaxis.major_label_text_font_size = "9px"
        figures.append(plot)
        return plot

    if content.memberships is not None:
        c = content.memberships.shape[1]
        plot = track("memberships", min(200, max(60, 14 * c)), (0, c), "Groups")
        models["memberships_source"] = ColumnDataSource({"image": [np.zeros((1, 1), np.uint32)]})
        plot.image_rgba(image="image", x=0, y=0, dw=c, dh=m, source=models["memberships_source"])
        failed = {name for name, _ in content.failed}
        step = -(-c // 12)  # at most about 12 labels; failed groups always named
        plot.xaxis.ticker = sorted({g + 0.5 for g in range(0, c, step)}
                                   | {g + 0.5 for g, name in enumerate(content.group_names)
                                      if name in failed})
        plot.xaxis.major_label_overrides = {
            g + 0.5: f"{name} failed" if name in failed else name
            for g, name in enumerate(content.group_names)}
        # Upright: a slanted "G1 failed" ran into its neighbour's 14 pixels away.
        plot.xaxis.major_label_orientation = "vertical"
    if content.taxonomy is not None:
        depth = max(len(path) for path in content.taxonomy)
        plot = track("taxonomy", max(70, 12 * depth), (0, depth), "Taxonomy")
        models["taxonomy_source"] = ColumnDataSource({"image": [np.zeros((1, 1), np.uint32)]})
        plot.image_rgba(image="image", x=0, y=0, dw=depth, dh=m, source=models["taxonomy_source"])
        plot.xaxis.visible = False
    if content.confusion is not None:
        plot = track("frequency", 80, (0, float(content.confusion.sum(axis=1).max() or 1) * 1.05),
                     "Samples")
        models["frequency_source"] = ColumnDataSource({"y": [], "count": []})
        plot.hbar(y="y", right="count", left=0, height=0.8, source=models["frequency_source"],
                  color="#777777")
        plot.xaxis.ticker.desired_num_ticks = 2
    return figures, models


def _page_data(content: Content) -> dict:
    """Everything explorer.js needs, as plain values and typed arrays."""
    data = {
        "m": content.m, "classes": list(content.classes),
        "layers": [_layer_data(layer) for layer in content.layers],
        "background": _palette_of(BACKGROUND), "missing": _palette_of(MISSING),
        "ordering_names": [o.name for o in content.orderings],
        "orderings": [{"name": o.name, "order": o.order.astype(np.int32),
                       "cuts": None if o.cuts is None else o.cuts.astype(np.int16).ravel()}
                      for o in content.orderings],
        "confusion": None, "frequency": None, "memberships": None, "n_groups": 0,
        "group_names": list(content.group_names), "threshold": 1.0, "taxonomy": None,
        "split": [{"label": label, "z": z, "first": list(first), "second": list(second)}
                  for label, z, first, second in content.split],
        "examples": None if content.examples is None else [list(map(list, e))
                                                           for e in content.examples],
        "details": [{"name": _detail_name(d), "start": d.start, "m": d.end - d.start,
                     "classes": list(d.classes), "layers": [_layer_data(d.layer)]}
                    for d in content.details],
    }
    if content.confusion is not None:
        counts = np.ascontiguousarray(content.confusion, dtype=np.uint32)
        data.update(confusion=np.frombuffer(_deflate(counts), dtype=np.uint8),
                    frequency=counts.sum(axis=1).tolist(), confusion_palette=_palette("Reds"))
    if content.memberships is not None:
        c = content.memberships.shape[1]
        data.update(memberships=np.ascontiguousarray(content.memberships, np.float32).ravel(),
                    n_groups=c, threshold=1.0 / c, memberships_palette=_palette("Blues"))
    if content.taxonomy is not None:
        data.update(_taxonomy_data(content.taxonomy))
    return data


def _layer_data(layer) -> dict:
    """One matrix of the page: deflated levels, their values and colours."""
    return {"name": layer.name, "low": layer.low, "step": layer.step,
            "vmin": layer.limits[0], "vmax": layer.limits[1], "palette": _palette(layer.cmap),
            "over": _palette_of(layer.over), "under": _palette_of(layer.under),
            "levels": np.frombuffer(_deflate(layer.levels), dtype=np.uint8)}


def _deflate(values: np.ndarray) -> bytes:
    """Deflate at level 1: on 2,622 classes' 8-bit levels, 0.07 s against 0.73 s at the
    default level 6, for a stream 10% larger (2.66 MB against 2.42 MB)."""
    return zlib.compress(np.ascontiguousarray(values).tobytes(), 1)


def _taxonomy_data(paths) -> dict:
    """Per class and level, a colour code of its term (terms of a level cycle 10 colours)."""
    depth = max(len(path) for path in paths)
    codes = np.zeros((len(paths), depth), dtype=np.uint8)
    for level in range(depth):
        terms = {}
        for i, path in enumerate(paths):
            if level < len(path):
                codes[i, level] = 1 + terms.setdefault(path[level], len(terms)) % 10
    palette = np.zeros((256, 4), dtype=np.uint8)
    palette[0] = _palette_of("#ffffff").reshape(4)
    palette[1:11] = np.rint(np.array(_tab10()) * 255)
    return {"taxonomy": [list(p) for p in paths], "taxonomy_depth": depth,
            "taxonomy_codes": codes.ravel(), "taxonomy_palette": palette.ravel()}


def _tab10():
    import matplotlib

    return [matplotlib.colormaps["tab10"](i) for i in range(10)]


def _palette(name: str) -> np.ndarray:
    """256 RGBA bytes of a matplotlib colour map, flattened."""
    import matplotlib

    colours = matplotlib.colormaps[name](np.linspace(0, 1, 256))
    return np.rint(colours * 255).astype(np.uint8).ravel()


def _palette_of(colour: str) -> np.ndarray:
    import matplotlib.colors

    return np.rint(np.array(matplotlib.colors.to_rgba(colour)) * 255).astype(np.uint8)
