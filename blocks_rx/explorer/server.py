"""``blocks-rx explore RESULT --serve``: a local Bokeh server for matrices of any size.

The static page holds the whole matrix up to
:data:`~blocks_rx.explorer.content.FULL_RESOLUTION_UP_TO` classes. Above, the server renders
what the view shows: the matrix in the result's order, read from the memory-mapped
``similarity.npz``, pooled by the mean over square tiles so that the image has at most
:data:`VIEW_PIXELS` pixels a side; zooming in far enough shows single classes. It binds
127.0.0.1 only, and stops on Ctrl-C or SIGTERM, closing its sockets.
"""

from __future__ import annotations

import signal

import numpy as np

from .content import pool_ordered

#: Signals that stop the server cleanly (sockets closed, exit status 0).
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
#: The rendered image's largest side, in tiles.
VIEW_PIXELS = 700


def view_of(matrix, order, window) -> tuple[np.ndarray, int]:
    """The image of positions ``window = (r0, r1, c0, c1)`` of the ordered matrix, pooled
    by the mean over ``t x t`` tiles (``t`` the smallest that fits VIEW_PIXELS); returns
    (image, t).

    >>> image, tile = view_of(np.eye(4), np.arange(4), (0, 4, 0, 4))
    >>> image.tolist(), tile
    ([[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]], 1)
    """
    r0, r1, c0, c1 = window
    tile = max(1, -(-max(r1 - r0, c1 - c0) // VIEW_PIXELS))
    return pool_ordered(matrix, order[r0:r1], tile, columns=order[c0:c1]), tile


def make_document(stored):
    """The Bokeh application function: one document per browser tab."""
    from bokeh.models import (ColumnDataSource, CustomJSHover, Div, HoverTool,
                              LinearColorMapper, Range1d)
    from bokeh.palettes import interp_palette
    from bokeh.plotting import figure

    from .content import matrix_layer

    similarity, order = stored.similarity, np.asarray(stored.ordering.order)
    m, classes = len(order), list(similarity.classes)
    corner = min(m, 2000)  # the colour scale from a corner: no pass over a large matrix
    colours = matrix_layer("", similarity.matrix[:corner, :corner])
    palette = interp_palette(_hex_palette(colours.cmap), 256)

    def build(doc):
        x_range, y_range = Range1d(0, m, bounds=(0, m)), Range1d(m, 0, bounds=(0, m))
        plot = figure(name="matrix", x_range=x_range, y_range=y_range, frame_width=700,
                      frame_height=700, tools="pan,wheel_zoom,box_zoom,reset",
                      title=f"{similarity.measure} similarity of {m:,} classes "
                            f"(served from {stored.folder})")
        source = ColumnDataSource({"image": [], "x": [], "y": [], "dw": [], "dh": []})
        mapper = LinearColorMapper(palette=palette, low=colours.limits[0],
                                   high=colours.limits[1])
        image = plot.image(image="image", x="x", y="y", dw="dw", dh="dh", source=source,
                           color_mapper=mapper)
        names = CustomJSHover(args={"names": [classes[i] for i in order]},
                              code="return names[Math.floor(value)] || '';")
        plot.add_tools(HoverTool(renderers=[image], formatters={"$x": names, "$y": names},
                                 tooltips=[("row", "$y{custom}"), ("column", "$x{custom}"),
                                           ("mean", "@image{0.000}")]))
        status = Div(name="status", text="")

        def render():
            window = (_clamp(y_range.end, m), _clamp(y_range.start, m, up=True),
                      _clamp(x_range.start, m), _clamp(x_range.end, m, up=True))
            values, tile = view_of(similarity.matrix, order, window)
            source.data = {"image": [values], "x": [window[2]], "y": [window[0]],
                           "dw": [window[3] - window[2]], "dh": [window[1] - window[0]]}
            status.text = (f"positions {window[0] + 1:,}-{window[1]:,} x {window[2] + 1:,}-"
                           f"{window[3]:,}; each pixel the mean of {tile} x {tile} classes")

        pending = []

        def schedule(attr, old, new):  # one render per burst of range changes
            if not pending:
                pending.append(doc.add_timeout_callback(lambda: (pending.clear(), render()),
                                                        150))

        for r in (x_range, y_range):
            r.on_change("start", schedule)
            r.on_change("end", schedule)
        render()
        from bokeh.layouts import column

        doc.add_root(column(plot, status))
        doc.title = "blocks-rx explorer (served)"

    return build


def _clamp(value, m: int, up: bool = False) -> int:
    value = int(np.ceil(value) if up else np.floor(value))
    return int(min(max(value, 0), m))


def _hex_palette(cmap: str) -> list[str]:
    import matplotlib
    import matplotlib.colors

    return [matplotlib.colors.to_hex(c) for c in matplotlib.colormaps[cmap](np.linspace(0, 1, 256))]


def serve(stored, *, port: int = 5006, say=print, **_options) -> int:
    """Serve the explorer of ``stored`` on 127.0.0.1 until Ctrl-C or SIGTERM; returns 0."""
    from bokeh.application import Application
    from bokeh.application.handlers.function import FunctionHandler
    from bokeh.server.server import Server
    from bokeh.server.util import bind_sockets

    if port == 0:  # any free port: find one, then name it in the allowed origins
        sockets, port = bind_sockets("127.0.0.1", 0)
        for sock in sockets:
            sock.close()
    server = Server({"/": Application(FunctionHandler(make_document(stored)))},
                    address="127.0.0.1", port=port, num_procs=1,
                    allow_websocket_origin=[f"127.0.0.1:{port}", f"localhost:{port}"])
    server.start()
    url = f"http://127.0.0.1:{server.port}/"
    print(f"serving the explorer of {stored.folder} at {url} (Ctrl-C stops it)", flush=True)

    loop = server.io_loop.asyncio_loop
    for stop_signal in STOP_SIGNALS:
        loop.add_signal_handler(stop_signal, server.io_loop.stop)
    try:
        server.io_loop.start()
    finally:
        for stop_signal in STOP_SIGNALS:
            loop.remove_signal_handler(stop_signal)
        server.stop()
        server.unlisten()
        say("the explorer server stopped", flush=True)
    return 0
