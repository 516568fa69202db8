"""Independent tasks run side by side in this process and forked copies of it.

Drawing a result's pictures is Python and matplotlib work that holds the GIL, so threads do
not run it side by side; forked processes do, and they share the analysis' arrays with this
process copy-on-write (nothing is pickled but the name of a task, its seconds and, when it
fails, its exception). Each task runs exactly once, in whichever process takes it first from
a shared counter, so a slow task never leaves the others waiting behind it.

Where ``fork`` is missing or unsafe (Windows, macOS) or only one CPU is free, the tasks run
one after another in this process, with the same results.

:class:`Aside` runs tasks in one forked process *while this one goes on* with other work:
``blocks-rx analyze`` draws the pictures that need no groups that way while it finds the
groups.

>>> done = []
>>> [task for task, seconds in run_side_by_side(["a", "b"], done.append, workers=1)]
['a', 'b']
>>> done
['a', 'b']
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import signal
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from multiprocessing.connection import wait


def worker_count(n_tasks: int, workers: int | None = None) -> int:
    """Processes to run ``n_tasks`` tasks in: ``workers`` (default: the CPUs this process may
    use), at most one per task, and 1 where forking is not available.

    >>> worker_count(5, workers=1), worker_count(1, workers=4)
    (1, 1)
    """
    if workers is None:
        workers = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
            os.cpu_count() or 1)
    if sys.platform == "darwin" or "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return max(1, min(int(workers), n_tasks))


def run_side_by_side(tasks: Sequence[str], work: Callable[[str], object],
                     workers: int | None = None) -> Iterator[tuple[str, float]]:
    """Run ``work(task)`` once for each task, here and in ``worker_count - 1`` forked
    processes; yield ``(task, seconds)`` as each one finishes, wherever it ran.

    A task's exception is raised here (in the forked process's type where it can be
    pickled, else as a RuntimeError with its text); a forked process that dies without one
    (killed, out of memory) raises a RuntimeError naming the task it was running. The other
    processes are stopped first. Closing the iterator early stops them too.
    """
    tasks = list(tasks)
    processes = worker_count(len(tasks), workers)
    if processes == 1:
        for task in tasks:
            yield task, _timed(work, task)
        return
    context = multiprocessing.get_context("fork")
    counter = context.Value("l", 0)

    def take() -> str | None:
        with counter.get_lock():
            index = counter.value
            counter.value = index + 1
        return tasks[index] if index < len(tasks) else None

    children: list[_Child] = []
    try:
        for _ in range(processes - 1):
            children.append(_Child.fork(context, take, work))
        while (task := take()) is not None:
            yield task, _timed(work, task)
            yield from _reports(children, block=False)
        yield from _reports(children, block=True)
    finally:
        for child in children:
            child.stop()


class Aside:
    """``work(task)`` for each task, in one forked process that starts now, while this
    process goes on; :meth:`results` reports each task as it finishes.

    The forked process shares this one's arrays as they are at the start (copy-on-write):
    ``work`` sees nothing this process changes afterwards, and what it makes (files) is
    all that comes back. It is stopped (SIGKILL) on :meth:`stop`, on leaving a ``with``
    block, or when :meth:`results` raises. Where forking is not available, or ``workers``
    is 1, the tasks run in :meth:`results`, here.

    >>> done = []
    >>> with Aside(["a", "b"], done.append, workers=1) as aside:
    ...     [task for task, seconds in aside.results()]
    ['a', 'b']
    """

    def __init__(self, tasks: Sequence[str], work: Callable[[str], object],
                 workers: int | None = None):
        self.tasks, self.work = list(tasks), work
        self._child: _Child | None = None
        if self.tasks and worker_count(2, workers) > 1:
            pending = iter(self.tasks)
            self._child = _Child.fork(multiprocessing.get_context("fork"),
                                      lambda: next(pending, None), work)

    @property
    def forked(self) -> bool:
        """Whether the tasks run in a forked process (else in :meth:`results`, here)."""
        return self._child is not None

    def results(self) -> Iterator[tuple[str, float]]:
        """``(task, seconds)`` for each task, in order, as each one finishes (waiting for
        it); a task's error or the process's death is raised here."""
        if self._child is None:
            for task in self.tasks:
                yield task, _timed(self.work, task)
            return
        try:
            yield from _reports([self._child], block=True)
        finally:
            self.stop()

    def stop(self) -> None:
        """Stop the forked process if it still runs (what it was doing is lost)."""
        if self._child is not None:
            self._child.stop()

    def __enter__(self) -> Aside:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def _timed(work, task) -> float:
    started = time.perf_counter()
    work(task)
    return time.perf_counter() - started


def _serve(take, work, sender) -> None:
    """A forked process: take tasks until none are left, reporting each to the parent.

    Ctrl-C and SIGTERM are the parent's to handle (it stops this process with SIGKILL): the
    handlers it inherited would raise here, between tasks or inside them.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    with sender:
        while (task := take()) is not None:
            sender.send(("start", task, None))
            try:
                seconds = _timed(work, task)
            except BaseException as error:  # noqa: BLE001 - everything goes to the parent
                sender.send(("error", task, _portable(error)))
                return
            sender.send(("done", task, seconds))


def _portable(error: BaseException) -> BaseException:
    """``error`` if it survives pickling, else a RuntimeError with its type and text."""
    try:
        return pickle.loads(pickle.dumps(error))
    except Exception:  # noqa: BLE001 - any failure to pickle
        return RuntimeError(f"{type(error).__name__}: {error}")


class _Child:
    """One forked process and the receiving end of its reports."""

    def __init__(self, process, receiver):
        self.process, self.receiver = process, receiver
        self.running: str | None = None
        self.finished = False

    @classmethod
    def fork(cls, context, take, work) -> _Child:
        """A forked process serving ``work`` on the tasks ``take()`` hands it."""
        for stream in (sys.stdout, sys.stderr):  # a fork would write their buffers twice
            stream.flush()
        receiver, sender = context.Pipe(duplex=False)
        process = context.Process(target=_serve, args=(take, work, sender), daemon=True)
        process.start()
        sender.close()
        return cls(process, receiver)

    def read(self) -> tuple[str, float] | None:
        """The next finished task, or None once the process has ended cleanly; raises the
        process's error or its death."""
        try:
            kind, task, payload = self.receiver.recv()
        except EOFError:
            self.finished = True
            self.process.join()
            if self.process.exitcode != 0:
                running = f" while writing {self.running}" if self.running else ""
                raise RuntimeError(f"a worker process ended with exit code "
                                   f"{self.process.exitcode}{running} (killed, or out of "
                                   "memory?)") from None
            return None
        if kind == "error":
            self.finished = True
            raise payload
        self.running = task if kind == "start" else None
        return (task, payload) if kind == "done" else None

    def stop(self) -> None:
        if self.process.is_alive():
            self.process.kill()  # what it wrote is in the staging folder, discarded
        self.process.join()
        self.receiver.close()
        self.finished = True


def _reports(children: list[_Child], *, block: bool) -> Iterator[tuple[str, float]]:
    """Tasks the forked processes finished: those reported so far, or (``block``) all of
    them, waiting until every process has ended."""
    while True:
        pending = [child for child in children if not child.finished]
        if not pending:
            return
        ready = wait([child.receiver for child in pending], timeout=None if block else 0)
        if not ready:
            return
        for child in pending:
            if child.receiver in ready and (found := child.read()) is not None:
                yield found
