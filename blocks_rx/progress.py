"""Progress of long steps on stderr: a tqdm bar over an iterable, or a one-line stage.

Progress is shown only where someone watches it: by default only when stderr is a terminal,
so a pipe, a log file or pytest sees nothing extra. :func:`set_enabled` (the command line's
``--quiet``) and :func:`enabled_as` (``analyze(..., progress=...)``) switch it on or off.
A step shows nothing at all unless it runs longer than :func:`min_seconds` (2 s; the
environment variable ``BLOCKS_RX_PROGRESS_MIN_SECONDS`` changes it, 0 shows every step):

    blocks-rx: pearson similarity: 100%|█████████| 100k/100k [00:03<00:00, 30.1ksample/s]
    blocks-rx: groups (fuzzy-cmeans) ... done in 3.2 s

Nothing here changes what is computed: :func:`progress` hands back the same items in the
same order, and the bar is updated once per item (a block of rows, not a row).

>>> list(progress(range(3), total=3, desc="counting", enabled=False))
[0, 1, 2]
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time

#: Seconds a step runs before its progress appears.
DEFAULT_MIN_SECONDS = 2.0
#: Environment variable overriding :data:`DEFAULT_MIN_SECONDS` (tests set it to 0).
MIN_SECONDS_ENV = "BLOCKS_RX_PROGRESS_MIN_SECONDS"
PREFIX = "blocks-rx: "

#: None: automatic (only when stderr is a terminal); True or False: forced.
_switch: bool | None = None


def set_enabled(value: bool | None) -> None:
    """Show progress (True), never (False), or only when stderr is a terminal (None)."""
    global _switch
    _switch = None if value is None else bool(value)


@contextlib.contextmanager
def enabled_as(value: bool | None):
    """Within the block, progress is ``value`` (see :func:`set_enabled`); None leaves the
    current setting as it is. The previous setting is restored afterwards."""
    previous = _switch
    if value is not None:
        set_enabled(value)
    try:
        yield
    finally:
        set_enabled(previous)


def is_enabled(enabled: bool | None = None) -> bool:
    """Whether progress is shown: ``enabled`` if given, else the switch, else whether
    stderr is a terminal."""
    if enabled is None:
        enabled = _switch
    if enabled is None:
        stream = sys.stderr
        try:
            return stream is not None and stream.isatty()
        except (AttributeError, ValueError):  # a replaced or closed stream
            return False
    return enabled


def min_seconds() -> float:
    """Seconds a step must run before it shows progress (from the environment, else 2)."""
    try:
        return max(0.0, float(os.environ.get(MIN_SECONDS_ENV, DEFAULT_MIN_SECONDS)))
    except ValueError:
        return DEFAULT_MIN_SECONDS


def progress(iterable, *, total=None, desc: str, unit: str = "it", size=None, label=None,
             enabled: bool | None = None):
    """``iterable`` itself, with a tqdm bar on stderr when progress is shown.

    Parameters
    ----------
    total : int, optional
        Units in all (default: ``len(iterable)`` where it has one).
    desc, unit : str
        What the bar counts, e.g. ``"similarity"`` and ``"sample"``.
    size : callable, optional
        Units one item counts for (e.g. ``len`` of a block of rows); default 1.
    label : callable, optional
        Text shown beside the bar while an item is being worked on (e.g. a file name).
    enabled : bool, optional
        Force the bar on or off; default :func:`is_enabled`.
    """
    if not is_enabled(enabled):
        return iterable
    try:
        from tqdm import tqdm
    except ImportError:  # the bar is a convenience; never fail for it
        return iterable
    if total is None and hasattr(iterable, "__len__"):
        total = len(iterable)
    delay = min_seconds()
    bar = tqdm(total=total, desc=PREFIX + desc, unit=unit, unit_scale=size is not None,
               delay=delay, file=sys.stderr, leave=True, **_bar_size())
    return _counted(iterable, bar, size, label, delay)


def _bar_size() -> dict:
    """tqdm's size options: follow the terminal's size, or 80 x 24 for a terminal that
    reports none (a pseudo-terminal whose size was never set), where tqdm draws nothing."""
    try:
        if os.get_terminal_size(sys.stderr.fileno()).columns > 0:
            return {"dynamic_ncols": True}
    except (AttributeError, OSError, ValueError):
        pass
    return {"ncols": 80, "nrows": 24}


def _counted(iterable, bar, size, label, delay: float):
    """Yield the items of ``iterable``, advancing ``bar`` after each; closes the bar."""
    try:
        for item in iterable:
            if label is not None:  # redrawn at once only once the bar shows (after delay)
                bar.set_postfix_str(label(item), refresh=bar.format_dict["elapsed"] >= delay)
            yield item
            bar.update(1 if size is None else size(item))
    finally:
        bar.close()


@contextlib.contextmanager
def stage(name: str, *, enabled: bool | None = None):
    """Say on stderr that step ``name`` runs and how long it took, if it runs long.

    After :func:`min_seconds` it writes ``blocks-rx: NAME ...``; when the step ends it
    completes the line with `` done in 3.2 s`` (or `` failed after 3.2 s``). A shorter step
    writes nothing.
    """
    if not is_enabled(enabled):
        yield
        return
    line = _StageLine(name)
    line.start(min_seconds())
    outcome = "failed after"
    try:
        yield
        outcome = "done in"
    finally:
        line.finish(outcome)


class _StageLine:
    """The ``blocks-rx: NAME ...`` line of one stage, written by a timer once it runs long."""

    def __init__(self, name: str):
        self.name = name
        self.started = time.perf_counter()
        self.shown = False
        self.lock = threading.Lock()
        self.timer: threading.Timer | None = None

    def start(self, delay: float) -> None:
        """Show the line after ``delay`` seconds (at once when ``delay`` is 0)."""
        if delay <= 0:
            self.show()
            return
        self.timer = threading.Timer(delay, self.show)
        self.timer.daemon = True
        self.timer.start()

    def show(self) -> None:
        """Write ``blocks-rx: NAME ...`` (unless the stage has finished already)."""
        with self.lock:
            if self.shown is None:  # finished already
                return
            _write(f"{PREFIX}{self.name} ...")
            self.shown = True

    def finish(self, outcome: str) -> None:
        """Complete the line, if it was shown, with ``outcome`` and the seconds taken."""
        if self.timer is not None:
            self.timer.cancel()
        with self.lock:
            if self.shown:
                _write(f" {outcome} {time.perf_counter() - self.started:.1f} s\n")
            self.shown = None


def _write(text: str) -> None:
    """Write to stderr now; a missing or closed stream is no error."""
    stream = sys.stderr
    if stream is None:
        return
    try:
        stream.write(text)
        stream.flush()
    except (OSError, ValueError):  # a closed stream never stops the job
        pass
