"""Independent tasks run side by side in this process and forked copies of it.

Drawing a result's pictures is Python and matplotlib work that holds the GIL, so threads do
not run it side by side; forked processes do, and they share the analysis' arrays with this
process copy-on-write (nothing is pickled but the name of a task, its seconds and, when it
fails, its exception). Each task runs exactly once, in whichever process takes it first from
a shared counter, so a slow task never leaves the others waiting behind it.

Where ``fork`` is missing or unsafe (Windows, macOS) or only one CPU is free, the tasks run
one after another in this process, with the same results.

:class:`Aside` runs tasks in one forked process *while this one goes on* with other work,
tasks that may be sent to it later, with what changed since it started: ``blocks-rx
analyze`` starts one before it orders the classes, and it draws the pictures as the order and
then the groups come (:class:`blocks_rx.results.DrawnAhead`).

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
import queue
import signal
import sys
import threading
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


#: The sending ends of the running Asides' order pipes, in the process that made them.
_ORDERS_SENT: set = set()


class Aside:
    """One forked process, started now, that runs ``work(task, state)`` for the tasks sent
    to it while this process goes on; :meth:`results` reports each task as it finishes.

    The process first runs ``ready()`` (say, the imports its tasks need: done while this
    process still computes what they will draw), then waits for :meth:`send`. It shares this
    process's arrays as they were when it started (copy-on-write): ``state`` is a dict of
    what it had then, and each :meth:`send` carries ``changes`` to it, pickled, so only
    what is new travels. What ``work`` makes (files) is all that comes back. It is stopped
    (SIGKILL) on :meth:`stop`, on leaving a ``with`` block, or when :meth:`results` raises.
    Where forking is not available, or ``workers`` is 1, the tasks run in :meth:`results`,
    here, each with the state it was sent with.

    >>> done = []
    >>> with Aside(lambda task, state: done.append((task, state["n"])), state={"n": 0},
    ...            workers=1) as aside:
    ...     aside.send(["a"], {"n": 1}); aside.send(["b"], {"n": 2})
    ...     [task for task, seconds in aside.results()]
    ['a', 'b']
    >>> done
    [('a', 1), ('b', 2)]
    """

    def __init__(self, work: Callable[[str, dict], object], *, state: dict | None = None,
                 ready: Callable[[], object] | None = None, workers: int | None = None):
        self.work, self.state = work, dict(state or {})
        self._pending: list[tuple[str, dict]] = []  # tasks to run here, unforked
        self._child: _Child | None = None
        self._orders = None
        if worker_count(2, workers) > 1:
            context = multiprocessing.get_context("fork")
            orders, self._orders = context.Pipe(duplex=False)
            _ORDERS_SENT.add(self._orders)
            take = _OrderTaker(orders, self.state, ready)
            self._child = _Child.fork(context, take, take.run(work))
            orders.close()

    @property
    def forked(self) -> bool:
        """Whether the tasks run in a forked process (else in :meth:`results`, here)."""
        return self._child is not None

    def send(self, tasks: Sequence[str], changes: dict | None = None) -> None:
        """Run ``tasks`` with the state updated by ``changes`` (a dict, pickled)."""
        self.state.update(changes or {})
        if self._child is None:
            self._pending.extend((task, dict(self.state)) for task in tasks)
        else:
            try:
                self._orders.send((list(tasks), changes or {}))
            except BrokenPipeError:  # it ended (its task failed, or it was killed):
                pass                 # results() raises why

    def results(self) -> Iterator[tuple[str, float]]:
        """``(task, seconds)`` for each task sent, in order, as each one finishes (waiting
        for it); no task can be sent after. A task's error or the process's death is
        raised here."""
        if self._child is None:
            for task, state in self._pending:
                yield task, _timed(lambda name: self.work(name, state), task)
            return
        try:
            try:
                self._orders.send(None)  # no more: the process ends once its tasks are done
            except BrokenPipeError:  # it ended already: its reports say why
                pass
            self._close_orders()
            yield from _reports([self._child], block=True)
        finally:
            self.stop()

    def stop(self) -> None:
        """Stop the forked process if it still runs (what it was doing is lost)."""
        if self._child is not None:
            self._child.stop()
            self._close_orders()

    def _close_orders(self) -> None:
        _ORDERS_SENT.discard(self._orders)
        self._orders.close()

    def __enter__(self) -> Aside:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


class _OrderTaker:
    """In an :class:`Aside`'s process: its tasks, as this process's orders bring them, run
    once ``ready()`` has (its error, if any, is the first task's).

    A thread reads the orders as they come, so the parent never waits for a task to end
    before it can send the next (an order larger than the pipe's buffer, the groups, say,
    would hold it until then).
    """

    def __init__(self, orders, state: dict, ready):
        self.orders, self.state, self.ready = orders, state, ready
        self.tasks: list[str] = []
        self.received: queue.SimpleQueue | None = None
        self.not_ready: BaseException | None = None

    def run(self, work):
        def run(task: str):
            if self.not_ready is not None:
                raise self.not_ready
            return work(task, self.state)
        return run

    def __call__(self) -> str | None:
        if self.received is None:
            self.received = queue.SimpleQueue()
            threading.Thread(target=self._receive, daemon=True).start()
            try:
                if self.ready is not None:
                    self.ready()
            except Exception as error:  # noqa: BLE001 - reported with the first task
                self.not_ready = error
        while not self.tasks:
            order = self.received.get()
            if order is None:  # nothing more, or the parent ended
                return None
            tasks, changes = order
            self.state.update(changes)
            self.tasks.extend(tasks)
        return self.tasks.pop(0)

    def _receive(self) -> None:
        while True:
            try:
                order = self.orders.recv()
            except EOFError:
                order = None
            self.received.put(order)
            if order is None:
                return


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
    for end in list(_ORDERS_SENT):  # the parent's ends, which a fork copied: closed here,
        end.close()                 # so that an Aside's process sees its parent end
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
