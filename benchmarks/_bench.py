"""Helpers shared by the benchmark scripts: fresh-process contenders, peak memory, goal lines.

Every contender runs in a fresh Python process (:func:`run_child`) whose code starts with
:data:`PRELUDE`. The prelude's :func:`measure` resets the process's peak resident memory
(``/proc/self/clear_refs``), notes the memory held after the imports and the warm-up (the
baseline), samples ``/proc/self/status`` every 50 ms in a thread while the timed call runs, and
reports, beside the time:

``hwm`` / ``hwm_rise``
    VmHWM, the peak resident memory, absolute and above the baseline's VmRSS. It counts the
    pages of a memory-mapped input that the process touched (they are resident, shared with
    the page cache).
``anon_peak`` / ``anon_rise``
    The peak of RssAnon (anonymous memory only: what the process allocated, not the file
    pages it maps or reads through the page cache), absolute and above the baseline's.
``tree_peak`` / ``tree_rise``
    The peak memory of the process with the processes it forked (blocks-rx draws a result's
    pictures side by side in forked copies of itself): the larger of VmHWM and the largest
    sum, sampled while children run, of the proportional set size (Pss, from
    ``/proc/PID/smaps_rollup``: a page shared copy-on-write by two processes counts half in
    each) of the process and its children; absolute and above the baseline's VmRSS.
    Reading ``smaps_rollup`` walks the process's page tables: 15 ms a read for a process
    that maps a 1 GB input, so sampling a parent and one child every 50 ms takes over half
    a CPU from the contender. A timed run therefore sets ``BENCH_TREE=0`` (the tree is then
    the process alone, from ``/proc/self/status``, read in microseconds) and the tree's
    memory comes from a run of its own (benchmarks/analyze.py).

The goal convention: a script prints one line per goal, ``GOAL `` followed by a JSON object
(:func:`goal`)::

    GOAL {"goal": "analyze_100k_speed", "label": "...", "measured": 7.1, "unit": "x",
          "target": 6, "cmp": ">=", "met": true, "size": "100,000 x 2,622", "at_size": true}

``measured`` may be null (not measured, ``met`` null too, ``note`` says why); ``at_size`` is
false when the figure was taken at a smaller size than the goal names (a quick run).
``benchmarks/run_all.py`` collects these lines from every script and prints them as a table.
"""

from __future__ import annotations

import json
import math
import os
import platform
import subprocess
import sys
import time

PRELUDE = r'''
import json, os, sys, threading, time

_FIELDS = ("VmRSS", "VmHWM", "RssAnon", "RssFile")


def status():
    """The memory fields of /proc/self/status, in bytes."""
    found = {}
    with open("/proc/self/status") as handle:
        for line in handle:
            key, _, value = line.partition(":")
            if key in _FIELDS:
                found[key] = int(value.split()[0]) * 1024
    return found


def child_pids():
    """The process ids of this process's children (the workers it forked)."""
    found = []
    for task in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{task}/children") as handle:
                found += handle.read().split()
        except OSError:
            pass
    return found


def pss(pid):
    """The proportional set size of a process in bytes (0 once it has ended)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as handle:
            for line in handle:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


class Sampler(threading.Thread):
    """Peak VmRSS and RssAnon, sampled every ``interval`` s; stops the process (exit 3) when
    VmRSS passes ``limit`` bytes, so that a runaway contender cannot take the machine down."""

    def __init__(self, interval=0.05, limit=None):
        super().__init__(daemon=True)
        self.interval, self.limit = interval, limit
        self.peak = {"VmRSS": 0, "RssAnon": 0, "RssFile": 0, "tree": 0}
        self.done = threading.Event()

    def sample(self):
        now = status()
        for key in ("VmRSS", "RssAnon", "RssFile"):
            self.peak[key] = max(self.peak[key], now.get(key, 0))
        children = child_pids() if TREE else []
        tree = now["VmRSS"] if not children else sum(map(pss, ["self", *children]))
        self.peak["tree"] = max(self.peak["tree"], tree)
        if self.limit and max(now["VmRSS"], tree) > self.limit:
            print("RESULT " + json.dumps({"aborted": f"resident memory passed "
                                                     f"{self.limit / 2**30:.1f} GiB"}),
                  flush=True)
            os._exit(3)

    def run(self):
        while not self.done.wait(self.interval):
            self.sample()

    def stop(self):
        self.done.set()
        self.join()
        self.sample()


LIMIT = float(os.environ.get("BENCH_LIMIT_GB", "20")) * 2**30
#: Sample the Pss of the process and its children (costly: see the module docstring).
TREE = os.environ.get("BENCH_TREE", "1") == "1"


def measure(function, interval=0.05):
    """(result, figures) of one timed call: seconds and peak memory (see benchmarks/_bench.py)."""
    import gc
    gc.collect()
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")  # reset VmHWM to the current resident size
    except OSError:
        pass
    before = status()
    sampler = Sampler(interval, LIMIT)
    sampler.start()
    started = time.perf_counter()
    try:
        result = function()
    finally:
        seconds = time.perf_counter() - started
        sampler.stop()
    after = status()
    anon_peak = max(sampler.peak["RssAnon"], after.get("RssAnon", 0))
    tree_peak = max(after["VmHWM"], sampler.peak["tree"])
    return result, {"seconds": seconds, "baseline_rss": before["VmRSS"],
                    "hwm": after["VmHWM"], "hwm_rise": after["VmHWM"] - before["VmRSS"],
                    "tree_peak": tree_peak, "tree_rise": tree_peak - before["VmRSS"],
                    "anon_peak": anon_peak, "anon_rise": anon_peak - before.get("RssAnon", 0),
                    "file_peak": sampler.peak["RssFile"]}


def emit(**fields):
    print("RESULT " + json.dumps(fields), flush=True)
'''


def run_child(code: str, *args, timeout: float = 7200, env: dict | None = None) -> dict:
    """Run ``PRELUDE + code`` in a fresh interpreter; return its RESULT fields, with
    ``process_seconds`` (the whole process: start, imports, work, exit) added."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", PRELUDE + code, *map(str, args)],
                          capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "PYTHONWARNINGS": "ignore", **(env or {})})
    seconds = time.perf_counter() - started
    lines = [line[7:] for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if not lines:
        raise RuntimeError(f"contender failed (exit {done.returncode}):\n"
                           f"{done.stdout[-1500:]}\n{done.stderr[-3000:]}")
    found = json.loads(lines[-1])
    if "aborted" in found:
        raise RuntimeError(f"contender aborted: {found['aborted']}")
    if done.returncode != 0:
        raise RuntimeError(f"contender exited {done.returncode}:\n{done.stderr[-3000:]}")
    found["process_seconds"] = seconds
    return found


def best_of(contenders: dict, repeats: int, cheap: float = 15.0, log=print,
            key: str = "seconds") -> dict:
    """Run each contender (name -> callable returning run_child's dict) ``repeats`` times,
    alternating; a contender slower than ``cheap`` seconds runs once. Keeps the fastest run's
    figures (by ``key``: ``seconds``, the timed call, or ``process_seconds``), with the largest
    peak memory seen over all runs (``runs`` says how many)."""
    best: dict[str, dict] = {}
    for _ in range(repeats):
        for name, function in contenders.items():
            if name in best and best[name][key] > cheap:
                continue
            found = function()
            log(f"    {name:<28s} {found['seconds']:8.2f} s  (process {found['process_seconds']:.1f}"
                f" s)  peak RSS rise {mb(found['hwm_rise'])}, anonymous rise "
                f"{mb(found['anon_rise'])}")
            if name not in best:
                best[name] = {**found, "runs": 1}
                continue
            previous = best[name]
            peaks = {k: max(previous[k], found[k]) for k in
                     ("hwm", "hwm_rise", "anon_peak", "anon_rise", "file_peak", "tree_peak",
                      "tree_rise")}
            if found[key] < previous[key]:
                previous = found
            best[name] = {**previous, **peaks, "runs": best[name]["runs"] + 1}
    return best


def mb(nbytes) -> str:
    """Decimal megabytes (10^6 bytes), as the goals are stated."""
    return f"{nbytes / 1e6:,.0f} MB"


def gb(nbytes) -> str:
    """Decimal gigabytes (10^9 bytes), as the goals are stated."""
    return f"{nbytes / 1e9:,.2f} GB"


def goal(name: str, label: str, measured, target, *, unit: str, cmp: str = "<=",
         size: str = "", at_size: bool = True, note: str = "", **extra) -> dict:
    """Print (and return) one ``GOAL {json}`` line; ``met`` follows from cmp unless measured
    is None."""
    if measured is None or (isinstance(measured, float) and math.isnan(measured)):
        met = None
        measured = None
    else:
        met = bool(measured <= target if cmp == "<=" else
                   measured < target if cmp == "<" else
                   measured >= target if cmp == ">=" else measured > target)
        measured = round(float(measured), 4)
    line = {"goal": name, "label": label, "measured": measured, "unit": unit, "target": target,
            "cmp": cmp, "met": met, "size": size, "at_size": at_size, "note": note, **extra}
    print("GOAL " + json.dumps(line), flush=True)
    return line


def shape(n: int, m: int) -> str:
    return f"{n:,} x {m:,}"


def machine() -> dict:
    """CPU model, cores, RAM, GPU, Python, numpy and its BLAS, as one dict of strings."""
    info = {}
    try:
        with open("/proc/cpuinfo") as handle:
            models = [line.split(":", 1)[1].strip() for line in handle
                      if line.startswith("model name")]
        info["cpu"] = models[0] if models else platform.processor()
    except OSError:
        info["cpu"] = platform.processor() or "unknown"
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    info["cores"] = f"{usable} usable ({os.cpu_count()} online)"
    try:
        with open("/proc/meminfo") as handle:
            meminfo = {line.split(":")[0]: int(line.split()[1]) * 1024 for line in handle}
        info["ram"] = (f"{meminfo['MemTotal'] / 2**30:.1f} GiB total, "
                       f"{meminfo['MemAvailable'] / 2**30:.1f} GiB available now")
    except (OSError, KeyError):
        info["ram"] = "unknown"
    info["load"] = "%.2f, %.2f, %.2f (1, 5, 15 min averages)" % os.getloadavg()
    info["gpu"] = _gpu()
    info["python"] = f"{platform.python_implementation()} {platform.python_version()}"
    import numpy as np

    blas = "unknown"
    try:
        config = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        blas = f"{config.get('name')} {config.get('version')}"
    except Exception:  # noqa: BLE001 - older numpy
        pass
    try:
        from threadpoolctl import threadpool_info

        pools = [f"{p.get('internal_api')} {p.get('version')} ({p.get('num_threads')} threads)"
                 for p in threadpool_info() if p.get("user_api") == "blas"]
        if pools:
            blas += "; at run time " + ", ".join(pools)
    except ImportError:
        pass
    info["numpy"] = f"{np.__version__}, BLAS {blas}"
    info["platform"] = platform.platform()
    return info


def _gpu() -> str:
    try:
        done = subprocess.run(["nvidia-smi", "--query-gpu=name,memory.total",
                               "--format=csv,noheader"], capture_output=True, text=True,
                              timeout=20)
        if done.returncode == 0 and done.stdout.strip():
            return "; ".join(done.stdout.strip().splitlines())
    except (OSError, subprocess.SubprocessError):
        pass
    return "none"


def evict(path) -> None:
    """Ask the kernel to drop ``path``'s clean pages from the page cache (posix_fadvise
    DONTNEED; no privileges needed), so that the next reader reads it from the disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def cached_fraction(path) -> float | None:
    """The fraction of ``path``'s pages in the page cache (mincore through ctypes), or None."""
    try:
        import ctypes
        import mmap

        size = os.path.getsize(path)
        if size == 0:
            return None
        libc = ctypes.CDLL(None, use_errno=True)
        libc.mmap.restype = ctypes.c_void_p
        libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                              ctypes.c_int, ctypes.c_long]
        libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
        libc.mincore.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p]
        fd = os.open(path, os.O_RDONLY)
        try:
            address = libc.mmap(None, size, mmap.PROT_READ, mmap.MAP_SHARED, fd, 0)
            if address in (None, ctypes.c_void_p(-1).value):
                return None
            pages = (size + mmap.PAGESIZE - 1) // mmap.PAGESIZE
            vector = (ctypes.c_ubyte * pages)()
            ok = libc.mincore(ctypes.c_void_p(address), size, vector) == 0
            libc.munmap(ctypes.c_void_p(address), size)
        finally:
            os.close(fd)
        if not ok:
            return None
        return sum(b & 1 for b in vector) / pages
    except Exception:  # noqa: BLE001 - a diagnostic only
        return None
