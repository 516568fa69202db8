"""Work for the CPU time nothing else wants: :func:`idle_thread`.

A thread of the idle scheduling class (Linux's ``SCHED_IDLE``) runs only on a CPU no other
thread wants. Beside a computation whose own threads leave gaps, it uses those gaps and
takes nothing from the computation: ``blocks-rx analyze`` loads the groups' compiled code
(0.5 s of a fresh process's time) between the similarity's products, while the similarity's
other passes over each block of rows run on one CPU (:func:`blocks_rx.pipeline.analyze`).
Where the class is missing (not Linux) or refused, nothing runs: the work is done where it is
needed, as without this module.

>>> done = []
>>> with idle_thread(lambda: done.append("loaded"), name="example"):
...     pass
>>> done in ([], ["loaded"])  # [] where the idle class is missing
True
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable


@contextlib.contextmanager
def idle_thread(work: Callable[[], object], *, name: str):
    """Run ``work()`` in a thread of the idle class while the ``with`` block runs.

    The block's end waits for it: nothing after the block sees it half done (a process
    forked then would copy a half-done import, whose lock no thread of the copy would ever
    release). Its exceptions are dropped, and so is the work where the idle class cannot be
    had: the caller's own code does the same work later, where any error shows.
    """
    if not hasattr(os, "SCHED_IDLE"):
        yield
        return

    def run() -> None:
        try:
            os.sched_setscheduler(threading.get_native_id(), os.SCHED_IDLE, os.sched_param(0))
        except OSError:  # refused (a sandbox's seccomp): never compete with the caller
            return
        with contextlib.suppress(Exception):
            work()

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    try:
        yield
    finally:
        thread.join()
