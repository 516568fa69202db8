"""Tasks side by side in forked processes (blocks_rx._forked): each task once, errors and
deaths of a forked process raised here, nothing left running."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from blocks_rx import analyze, load_scores
from blocks_rx._forked import Aside, run_side_by_side, worker_count
from blocks_rx.results import DrawnAhead, write, write_into

pytestmark = pytest.mark.skipif(worker_count(2, workers=2) < 2, reason="no fork on this system")


def _recording(folder, seconds=0.2):
    def work(task):
        time.sleep(seconds)
        (folder / task).write_text(str(os.getpid()))
    return work


def test_every_task_runs_once_and_both_processes_take_some(tmp_path):
    tasks = [f"t{i}" for i in range(6)]
    record = _recording(tmp_path, 0.05)

    def work(task):
        record(task)
        if os.getpid() == parent:
            time.sleep(1.0)

    parent = os.getpid()
    finished = [task for task, _ in run_side_by_side(tasks, work, workers=2)]
    assert sorted(finished) == tasks
    assert sorted(p.name for p in tmp_path.iterdir()) == tasks
    ran_in = {(tmp_path / task).read_text() for task in tasks}
    assert str(os.getpid()) in ran_in and len(ran_in) == 2
    assert multiprocessing.active_children() == []


def test_seconds_are_each_tasks_own(tmp_path):
    found = dict(run_side_by_side(["a", "b"], _recording(tmp_path, 0.3), workers=2))
    assert all(0.3 <= seconds < 2 for seconds in found.values())


def _in_the_forked_process(action):
    """Work that runs ``action(task)`` in a forked process and holds this process 1 s on its
    first task, so that a forked process surely takes the next one."""
    parent = os.getpid()

    def work(task):
        if os.getpid() == parent:
            time.sleep(1.0)
        else:
            action(task)
    return work


def _raise(error):
    def action(task):
        raise error
    return action


def test_an_error_in_a_forked_process_is_raised_here_with_its_type():
    work = _in_the_forked_process(_raise(ValueError("class 'b' is broken")))
    with pytest.raises(ValueError, match="class 'b' is broken"):
        list(run_side_by_side(["a", "b", "c"], work, workers=2))
    assert multiprocessing.active_children() == []


class _Unpicklable(Exception):
    def __init__(self, text):
        super().__init__(text)
        self.handle = lambda: None  # a lambda cannot be pickled


def test_an_error_that_cannot_be_pickled_comes_back_as_its_text():
    work = _in_the_forked_process(_raise(_Unpicklable("disk full")))
    with pytest.raises(RuntimeError, match="_Unpicklable: disk full"):
        list(run_side_by_side(["a", "b", "c"], work, workers=2))


def test_a_forked_process_that_dies_is_reported_with_its_task():
    work = _in_the_forked_process(lambda task: os.kill(os.getpid(), signal.SIGKILL))
    with pytest.raises(RuntimeError, match=r"exit code -9 while writing b"):
        list(run_side_by_side(["a", "b", "c"], work, workers=2))
    assert multiprocessing.active_children() == []


def test_closing_early_stops_the_forked_processes(tmp_path):
    running = run_side_by_side([f"t{i}" for i in range(8)], _recording(tmp_path, 0.5), workers=2)
    next(running)
    running.close()
    assert multiprocessing.active_children() == []
    time.sleep(0.6)
    assert len(list(tmp_path.iterdir())) < 8  # the rest were never written


def test_one_worker_runs_every_task_here_in_order(tmp_path):
    finished = [task for task, _ in run_side_by_side(["b", "a"], _recording(tmp_path, 0), workers=1)]
    assert finished == ["b", "a"]
    assert {(tmp_path / t).read_text() for t in finished} == {str(os.getpid())}


def test_buffered_output_is_not_written_twice(tmp_path):
    code = ("import sys, time\n"
            "from blocks_rx._forked import run_side_by_side\n"
            "print('before', end='')\n"
            "list(run_side_by_side(['a', 'b', 'c'], lambda t: time.sleep(0.2), workers=2))\n"
            "print('|after')\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=True)
    assert done.stdout == "before|after\n"


def test_a_result_written_side_by_side_equals_one_written_in_one_process(tmp_path):
    scores = np.random.default_rng(3).normal(size=(400, 9)).astype(np.float32)
    analysis = analyze(scores, hclust_backend="python", seed=0)
    one = write(analysis, tmp_path / "one", workers=1)
    two = write(analysis, tmp_path / "two", workers=2)
    assert sorted(one) == sorted(two)
    for name in set(one) - {"report.json", "explorer.html"}:  # the page's element ids are random
        assert one[name].read_bytes() == two[name].read_bytes(), name
    run_id = json.loads(one["report.json"].read_text())["run_id"]
    assert run_id == json.loads(two["report.json"].read_text())["run_id"]
    assert run_id in two["explorer.html"].read_text(encoding="utf-8")
    assert multiprocessing.active_children() == []


# --------------------------------------------------------------------------- Aside


def _aside_work(folder, seconds=0.2):
    """An Aside's work: record the process and the state's "value" in a file named by the task."""
    def work(task, state):
        time.sleep(seconds)
        (folder / task).write_text(f"{os.getpid()} {state.get('value')}")
    return work


def _sent(aside, tasks, changes=None):
    aside.send(tasks, changes)
    return aside


def test_aside_runs_in_another_process_while_this_one_goes_on(tmp_path):
    started = time.perf_counter()
    with _sent(Aside(_aside_work(tmp_path, 0.5)), ["a", "b"]) as aside:
        assert time.perf_counter() - started < 0.4  # the tasks have not held this process
        finished = [task for task, _ in aside.results()]
    assert finished == ["a", "b"]
    assert {(tmp_path / task).read_text().split()[0] for task in finished} != {str(os.getpid())}
    assert time.perf_counter() - started < 1.5  # 2 x 0.5 s there, not more here
    assert multiprocessing.active_children() == []


def test_aside_sees_this_process_as_it_was_at_the_start_and_the_changes_sent(tmp_path):
    box = {"value": "before"}
    with Aside(lambda task, state: (tmp_path / task).write_text(
            f"{box['value']} {state['value']}"), state={"value": "first"}) as aside:
        box["value"] = "after"  # changed here after the fork: not seen there
        aside.send(["a"])
        aside.send(["b"], {"value": "second"})  # sent: seen by the tasks sent with it
        assert [task for task, _ in aside.results()] == ["a", "b"]
    assert (tmp_path / "a").read_text() == "before first"
    assert (tmp_path / "b").read_text() == "before second"


def test_aside_gets_ready_before_its_tasks_come(tmp_path):
    def ready():
        time.sleep(0.5)
        (tmp_path / "ready").write_text(str(time.monotonic()))

    started = time.perf_counter()
    with Aside(_aside_work(tmp_path, 0), ready=ready) as aside:
        assert time.perf_counter() - started < 0.4  # getting ready holds this process not
        time.sleep(0.8)  # this process works meanwhile; then the tasks come
        sent = time.monotonic()
        aside.send(["a"])
        assert [task for task, _ in aside.results()] == ["a"]
    assert float((tmp_path / "ready").read_text()) < sent  # ready before the task was sent


def test_an_aside_that_cannot_get_ready_fails_its_first_task():
    def ready():
        raise ImportError("no module named 'drawing'")

    with _sent(Aside(lambda task, state: None, ready=ready), ["a"]) as aside:
        with pytest.raises(ImportError, match="no module named 'drawing'"):
            list(aside.results())
    assert multiprocessing.active_children() == []


def test_aside_raises_the_error_of_its_task_and_stops():
    def work(task, state):
        if task == "b":
            raise ValueError(f"class {task!r} is broken")

    with _sent(Aside(work), ["a", "b", "c"]) as aside:
        found = aside.results()
        assert next(found)[0] == "a"
        with pytest.raises(ValueError, match="class 'b' is broken"):
            next(found)
    assert multiprocessing.active_children() == []


def test_aside_that_dies_is_reported_with_its_task():
    with _sent(Aside(lambda task, state: os.kill(os.getpid(), signal.SIGKILL)), ["a"]) as aside:
        with pytest.raises(RuntimeError, match="exit code -9 while writing a"):
            list(aside.results())


def test_leaving_the_block_stops_an_aside_still_running(tmp_path):
    with pytest.raises(KeyError):
        with _sent(Aside(_aside_work(tmp_path, 0.5)), ["a", "b"]):
            raise KeyError("the work of this process failed")
    assert multiprocessing.active_children() == []
    time.sleep(1.2)
    assert list(tmp_path.iterdir()) == []  # killed before it wrote anything


def test_asides_side_by_side_each_end_when_told(tmp_path):
    # Each forked process holds copies of the pipes made before it: an Aside's process must
    # still end when its own parent says so, whatever the others hold.
    (tmp_path / "one").mkdir(), (tmp_path / "two").mkdir()
    first = _sent(Aside(_aside_work(tmp_path / "one", 0)), ["a"])
    second = _sent(Aside(_aside_work(tmp_path / "two", 0)), ["b"])
    with first, second:
        started = time.perf_counter()
        assert [task for task, _ in first.results()] == ["a"]  # second still runs
        assert [task for task, _ in second.results()] == ["b"]
        assert time.perf_counter() - started < 10
    assert multiprocessing.active_children() == []


def test_aside_with_one_worker_runs_in_results_here(tmp_path):
    with Aside(_aside_work(tmp_path, 0), state={"value": 1}, workers=1) as aside:
        aside.send(["a"])
        aside.send(["b"], {"value": 2})
        assert multiprocessing.active_children() == [] and list(tmp_path.iterdir()) == []
        finished = [task for task, _ in aside.results()]
    assert finished == ["a", "b"]
    assert [(tmp_path / task).read_text() for task in finished] == [f"{os.getpid()} 1",
                                                                    f"{os.getpid()} 2"]


# --------------------------------------------------------------------------- idle_thread


@pytest.mark.skipif(not hasattr(os, "SCHED_IDLE"), reason="no idle scheduling class here")
def test_idle_thread_runs_the_work_in_the_idle_class_and_is_done_at_the_end():
    import threading

    from blocks_rx._idle import idle_thread

    seen = []

    def work():
        time.sleep(0.2)  # still running when the block ends: the end waits for it
        seen.append((threading.current_thread().name,
                     os.sched_getscheduler(threading.get_native_id()) == os.SCHED_IDLE))

    with idle_thread(work, name="example"):
        pass
    assert seen == [("example", True)]
    assert os.sched_getscheduler(0) != os.SCHED_IDLE  # this thread keeps its class

    def broken():
        raise RuntimeError("lost")

    with idle_thread(broken, name="broken"):  # its error is the caller's to meet later
        pass


# --------------------------------------------------------------------------- DrawnAhead


def _blas_threads() -> set:
    from threadpoolctl import threadpool_info

    return {pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"}


def test_files_made_ahead_equal_those_made_with_the_rest(tmp_path):
    threads_before = _blas_threads()
    scores = np.random.default_rng(3).normal(size=(400, 9)).astype(np.float32)
    labels = scores.argmax(axis=1)  # with labels: confusion.png too
    seen = []

    def prepare(analysis):
        seen.append(("prepare", analysis.ordering, analysis.example_values is not None))
        ahead.prepare(analysis)
        seen.append(len(multiprocessing.active_children()))

    def draw(analysis):
        seen.append(("draw", analysis.ordering is not None, analysis.findings))
        ahead.draw(analysis)
        seen.append(_blas_threads())

    (tmp_path / "ahead").mkdir()
    with DrawnAhead(tmp_path / "ahead", workers=2) as ahead:
        analysis = analyze(load_scores(scores, labels=labels), hclust_backend="python",
                           seed=0, before_ordering=prepare, before_groups=draw)
        # Each picture is written as it is drawn, before this process asks for it: a
        # forked process that handed its PNG over a pipe would wait on the full pipe.
        deadline = time.monotonic() + 60
        while not all((tmp_path / "ahead" / name).exists() for name in ahead.names):
            assert time.monotonic() < deadline, sorted(os.listdir(tmp_path / "ahead"))
            time.sleep(0.05)
        names = write_into(analysis, tmp_path / "ahead", ahead=ahead)
    # Started before the ordering (summary known, no order yet), sent the order before the
    # groups, this process's BLAS on one thread while they draw and on all of them after.
    assert seen == [("prepare", None, True), 1, ("draw", True, None), {1}]
    assert _blas_threads() == threads_before
    # The distributions need no order: sent as the process starts.
    assert ahead.names == ("distributions.png", "heatmap.png", "confusion.png", "groups.png",
                           "explorer.html")
    assert analysis.findings is not None and "groups.png" in names
    alone = write(analysis, tmp_path / "alone", workers=1)
    for name in set(names) - {"report.json", "explorer.html"}:  # the page's ids are random
        assert (tmp_path / "ahead" / name).read_bytes() == alone[name].read_bytes(), name
    report = json.loads((tmp_path / "ahead" / "report.json").read_text())
    assert report["run_id"] == json.loads(alone["report.json"].read_text())["run_id"]
    page = (tmp_path / "ahead" / "explorer.html").read_text(encoding="utf-8")
    assert f'<meta name="blocks-rx-run-id" content="{report["run_id"]}">' in page
    assert multiprocessing.active_children() == []


def test_a_process_started_before_the_similarity_is_sent_it_not_the_scores(tmp_path,
                                                                          monkeypatch):
    from blocks_rx import results

    def recorded(name):
        drawn = results.PICTURES[name]

        def picture(analysis):  # runs in the forked process: what it has goes to a file
            with open(tmp_path / "seen.txt", "a") as seen:
                seen.write(f"{name} {os.getpid()} {analysis.scores is None}\n")
            return drawn(analysis)
        return picture

    for name in ("heatmap.png", "distributions.png", "groups.png"):
        monkeypatch.setitem(results.PICTURES, name, recorded(name))
    scores = np.random.default_rng(3).normal(size=(400, 9)).astype(np.float32)
    (tmp_path / "ahead").mkdir()
    with DrawnAhead(tmp_path / "ahead") as ahead:
        ahead.start(n_classes=9)
        started = multiprocessing.active_children()
        analysis = analyze(scores, hclust_backend="python", before_ordering=ahead.prepare,
                           before_groups=ahead.draw)
        names = write_into(analysis, tmp_path / "ahead", ahead=ahead)
    assert len(started) == 1  # forked by start, before analyze
    assert ahead.names == ("distributions.png", "heatmap.png", "groups.png", "explorer.html")
    seen = (tmp_path / "seen.txt").read_text().split("\n")[:-1]
    assert [line.split()[0] for line in seen] == ["distributions.png", "heatmap.png",
                                                  "groups.png"]
    # All three drawn in the process start forked, which was never sent the scores.
    assert {line.split(maxsplit=1)[1] for line in seen} == {f"{started[0].pid} True"}
    alone = write(analysis, tmp_path / "alone", workers=1)
    for name in set(names) - {"report.json", "explorer.html"}:
        assert (tmp_path / "ahead" / name).read_bytes() == alone[name].read_bytes(), name
    assert multiprocessing.active_children() == []


def test_a_similarity_too_large_to_send_waits_for_prepare(tmp_path, monkeypatch):
    from blocks_rx import results

    monkeypatch.setattr(results, "SENT_UP_TO_CLASSES", 8)
    scores = np.random.default_rng(3).normal(size=(400, 9)).astype(np.float32)
    forked = []

    def prepare(analysis):
        forked.append(len(multiprocessing.active_children()))
        ahead.prepare(analysis)
        forked.append(len(multiprocessing.active_children()))

    (tmp_path / "out").mkdir()
    with DrawnAhead(tmp_path / "out", explorer=False) as ahead:
        ahead.start(n_classes=9)  # 9 classes: more than 8, nothing forked yet
        analysis = analyze(scores, hclust_backend="python", before_ordering=prepare,
                           before_groups=ahead.draw)
        write_into(analysis, tmp_path / "out", ahead=ahead, explorer=False)
    assert forked == [0, 1]
    assert ahead.names == ("distributions.png", "heatmap.png", "groups.png")


def test_groups_png_drawn_on_the_saved_heatmap_is_the_picture_drawn_afresh(monkeypatch):
    from blocks_rx import results
    from blocks_rx.plot import heatmap

    scores = np.random.default_rng(3).normal(size=(400, 9)).astype(np.float32)
    scores[:, :4] += 2 * np.random.default_rng(4).normal(size=(400, 1)).astype(np.float32)
    analysis = analyze(scores, hclust_backend="python", seed=0)
    afresh = results.draw_png("groups.png", analysis, 150)  # no heatmap drawn before
    drawn = []
    monkeypatch.setattr("blocks_rx.plot.heatmap",
                        lambda *args, **kwargs: drawn.append(1) or heatmap(*args, **kwargs))
    results.draw_png("heatmap.png", analysis, 150)
    on_heatmap = results.draw_png("groups.png", analysis, 150)
    assert on_heatmap == afresh and drawn == [1]  # the heatmap drawn once, for both
    results.draw_png("heatmap.png", analysis, 150)
    other = analyze(scores[:300], hclust_backend="python", seed=0)
    results.draw_png("groups.png", other, 150)  # another analysis: its own heatmap
    assert drawn == [1, 1, 1] and results._DRAWN_HEATMAP == []


def test_without_groups_the_pictures_are_drawn_ahead_at_the_write(tmp_path):
    scores = np.random.default_rng(3).normal(size=(400, 9)).astype(np.float32)
    (tmp_path / "out").mkdir()
    with DrawnAhead(tmp_path / "out", explorer=False) as ahead:
        analysis = analyze(scores, hclust_backend="python", groups=None,
                           before_ordering=ahead.prepare, before_groups=ahead.draw)
        # draw is never called before groups that are not sought: the ordered pictures
        # are sent with the rest, at the write.
        assert ahead.names == ("distributions.png",)
        names = write_into(analysis, tmp_path / "out", ahead=ahead, explorer=False)
    assert ahead.names == ("distributions.png", "heatmap.png")
    assert "heatmap.png" in names and "explorer.html" not in names
    assert multiprocessing.active_children() == []


def test_an_error_while_drawing_ahead_fails_the_write(tmp_path, monkeypatch):
    from blocks_rx import results

    def broken(analysis):
        raise RuntimeError("no room for the heatmap")

    monkeypatch.setitem(results.PICTURES, "heatmap.png", broken)
    scores = np.random.default_rng(3).normal(size=(400, 9)).astype(np.float32)
    with pytest.raises(RuntimeError, match="no room for the heatmap"):
        (tmp_path / "out").mkdir()
        with DrawnAhead(tmp_path / "out") as ahead:
            analysis = analyze(scores, hclust_backend="python", before_ordering=ahead.prepare,
                               before_groups=ahead.draw)
            write_into(analysis, tmp_path / "out", ahead=ahead)
    assert multiprocessing.active_children() == []
    assert not (tmp_path / "out" / "report.json").exists()


def test_an_aside_whose_parent_is_killed_ends_too(tmp_path):
    # The process waits for orders; its parent's end of the pipe is the only one left open
    # (its own copy, and those of Asides forked later, are closed), so it sees the end.
    script = (
        "import os, signal, sys\n"
        "from blocks_rx._forked import Aside\n"
        "first = Aside(lambda task, state: None)\n"
        "second = Aside(lambda task, state: None)\n"
        "print(first._child.process.pid, second._child.process.pid, flush=True)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n")
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=60)
    assert run.returncode == -signal.SIGKILL, run.stderr
    pids = [int(pid) for pid in run.stdout.split()]
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in pids):
        assert time.monotonic() < deadline, f"processes {pids} still wait for orders"
        time.sleep(0.1)


def test_a_forked_process_never_holds_the_result_folders_lock(tmp_path):
    # The drawing process may outlive a killed blocks-rx by a moment (here: 20 s, getting
    # ready); the staging folder must be free for the next run at once all the same.
    from blocks_rx._folders import remove_leftovers

    script = (
        "import os, signal, sys, time\n"
        "from blocks_rx._folders import StagedFolder\n"
        "from blocks_rx._forked import Aside\n"
        "staged = StagedFolder(sys.argv[1]).__enter__()\n"
        "aside = Aside(lambda task, state: None, ready=lambda: time.sleep(20), workers=2)\n"
        "print(aside._child.process.pid, flush=True)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n")
    out = tmp_path / "out"
    process = subprocess.Popen([sys.executable, "-c", script, str(out)],
                               stdout=subprocess.PIPE, text=True)
    child = int(process.stdout.readline())
    try:
        assert process.wait(timeout=60) == -signal.SIGKILL
        staged = [p for p in tmp_path.iterdir() if p.name.startswith(".")]
        assert len(staged) == 1 and _alive(child)  # its staging folder, its child alive
        assert remove_leftovers(out) == staged  # not refused: nobody holds the lock
    finally:
        os.kill(child, signal.SIGKILL)
        process.stdout.close()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as handle:  # a zombie has ended
        return handle.read().split(")")[-1].split()[0] != "Z"
