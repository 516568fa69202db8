"""Before any work: will the job fit in memory, and which of its steps will be slow?

:func:`plan` estimates the peak memory each step of ``analyze`` allocates (similarity,
ordering, groups, summary, drawing and writing) from the shapes and the chosen methods'
registry facts, without touching the data; :meth:`Plan.check` refuses a job whose peak
exceeds the memory available (or ``max_memory``), naming the estimate and what helps, and
:attr:`Plan.warnings` says which methods may run long. ``analyze`` runs both before it
allocates anything, so a job that cannot fit fails in a second instead of after minutes.

Memory is counted in bytes the job allocates beyond what is already resident (an in-memory
score matrix is resident; a memory-mapped ``.npy`` is page cache). With ``m`` classes the
float32 similarity matrix is ``4 m^2`` bytes, and each step's estimate adds the
working copies its code makes (read off the code, then checked) and about 0.25 GB for the
libraries the job loads (0.7 GB when drawing). ``benchmarks/preflight.py`` measures each
step's real peak against these estimates.

>>> from blocks_rx.preflight import plan
>>> job = plan(n_samples=10, n_classes=70_000, itemsize=8)
>>> round(job.peak / 1e9)
60
>>> job.check(available=24e9)
Traceback (most recent call last):
...
blocks_rx.preflight.PreflightError: this job needs about 59.9 GB of memory at its peak (writing: figures and files), but 24.0 GB is available. What helps: fewer classes (memory grows with their square), or a machine with more memory; --max-memory SIZE runs it anyway.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace

#: Bytes of one block-sized temporary per streamed row block (input, transform, centred).
_BLOCK_COPIES = 3
#: What the summary statistics hold beside the matrix: they stream over stripes of it
#: (blocks_rx.similarity.describe_off_diagonal: a 32 MB stripe of float64 values and a few
#: temporaries of its size), never a copy of the m(m-1)/2 values.
_SUMMARY_STRIPES = 256e6
#: The row sample the one pass keeps for the distribution check (pipeline.SAMPLE_BYTES).
_SAMPLE = 64 * 2**20
#: What the job's libraries add to the process by each step (R and rpy2, scipy, numba's
#: compiled code), and what drawing adds at 150 dpi (matplotlib, canvases), measured here
#: with benchmarks/preflight.py.
_RUNTIME = 250e6
_FIGURES = 600e6
#: Bytes per class of the groups' leading eigenvectors: the block Krylov basis of 7 x 48
#: float64 columns and their images under M, with the temporaries of one block (8.7 KB
#: measured with tracemalloc at 2,622 classes, k = 32).
_EIGENVECTOR_BYTES = 9_000
#: Above this many classes the heatmap pools blocks of cells (see blocks_rx.plot).
_POOL_ABOVE = 2000


class PreflightError(RuntimeError):
    """The job would not fit in the memory available; the message says what helps."""


@dataclass(frozen=True)
class Step:
    """One step of the job: its peak allocation in bytes and, if known, its time."""

    name: str
    bytes: int
    detail: str = ""
    seconds: float | None = None


@dataclass(frozen=True)
class Plan:
    """The estimated steps of a job, their peak memory, and warnings about slow methods."""

    n_samples: int
    n_classes: int
    steps: tuple[Step, ...]
    warnings: tuple[str, ...] = ()
    savings: dict = field(default_factory=dict)

    @property
    def peak(self) -> int:
        return max((s.bytes for s in self.steps), default=0)

    @property
    def peak_step(self) -> Step:
        return max(self.steps, key=lambda s: s.bytes)

    def check(self, available: float | None = None, max_memory: float | None = None) -> None:
        """Raise :class:`PreflightError` when the peak exceeds ``max_memory`` or, without it,
        the ``available`` memory (default: what the system reports as available)."""
        limit = max_memory if max_memory is not None else (
            available if available is not None else available_memory())
        if limit is None or self.peak <= limit:
            return
        step = self.peak_step
        helps = [f"{flag} (saves about {format_bytes(saved)})"
                 for flag, saved in self.savings.items() if saved > 0]
        helps += ["fewer classes (memory grows with their square)", "or a machine with more memory"]
        override = ("raise --max-memory" if max_memory is not None
                    else "--max-memory SIZE runs it anyway")
        raise PreflightError(
            f"this job needs about {format_bytes(self.peak)} of memory at its peak "
            f"({step.name}: {step.detail}), but {format_bytes(limit)} is "
            f"{'allowed' if max_memory is not None else 'available'}. What helps: "
            f"{', '.join(helps)}; {override}.")

    def describe(self) -> str:
        """The steps, one line each, as ``--dry-run`` prints them."""
        lines = [f"{self.n_samples:,} samples x {self.n_classes:,} classes; peak memory about "
                 f"{format_bytes(self.peak)} ({self.peak_step.name})"]
        for s in self.steps:
            time = "" if s.seconds is None else f", about {s.seconds:,.0f} s"
            lines.append(f"  {s.name:<12} {format_bytes(s.bytes):>9}{time}  {s.detail}")
        return "\n".join(lines + [f"  warning: {w}" for w in self.warnings])


def plan(
    n_samples: int,
    n_classes: int,
    *,
    itemsize: int = 4,
    measure: str = "pearson",
    ordering: str = "hclust",
    hclust_backend: str = "python",
    groups: str | None = None,
    criteria: bool = False,
    block_size: int | None = None,
    engine: str = "numpy",
) -> Plan:
    """Estimate the memory and slow steps of ``analyze`` on an ``n_samples x n_classes`` input.

    ``itemsize`` is the compute precision (4: float32, 8: float64); ``hclust_backend`` the
    backend that will actually run (``"r"`` or ``"python"``). Names are registry names;
    the engine adds what it holds beyond numpy's co-moments (its ``cell_bytes``).
    """
    from .engines import ENGINES

    from .groups import GROUP_METHODS
    from .ordering import ORDERINGS
    from .similarity import MEASURES, default_block_size

    n, m = int(n_samples), int(n_classes)
    cells, pairs = m * m, m * (m - 1) // 2
    matrix = 4 * cells  # the float32 similarity, resident from the similarity step on
    rows = block_size or default_block_size(n, m, itemsize)
    measure_entry = MEASURES[measure]
    held = measure_entry.scores_bytes(n, m, itemsize)
    similarity = (_BLOCK_COPIES * rows * m * itemsize + _co_moment_bytes(m, itemsize) + held
                  + int(ENGINES[engine].cell_bytes * cells) + min(_SAMPLE, n * m * itemsize)
                  + 8 * n)
    order_entry = ORDERINGS[ordering]
    in_r = order_entry.needs_r or (order_entry.family == "hclust" and hclust_backend == "r")
    steps = [
        Step("similarity", similarity, f"{m:,} x {m:,} co-moments"
             + (f", {measure} holds the {n:,} x {m:,} scores" if held else "")),
        Step("ordering", matrix + order_entry.memory_bytes(m, in_r=in_r),
             f"{ordering} on {pairs:,} pairs" + (" in R" if in_r else ""),
             order_entry.cost.seconds(m)),
    ]
    savings = {}
    if groups is not None:
        group_entry = GROUP_METHODS[groups]
        # The float32 matrix, at most one float32 m x m working copy (the registry's
        # dense_copies, 0.5 float64 copies: the split groups read M in float32 stripes) and
        # O(m k) for the leading k = 32 eigenvectors (their block Krylov basis; no m x m
        # copy for them).
        group_bytes = int(matrix + group_entry.memory_bytes(m) + _EIGENVECTOR_BYTES * m)
        steps.append(Step("groups", group_bytes, f"leading eigenvectors of the {m:,} x {m:,} "
                          f"matrix ({groups})", group_entry.cost.seconds(m)))
        savings["--no-groups"] = group_bytes - max(s.bytes for s in steps[:-1])
    steps.append(Step("summary", int(matrix + _SUMMARY_STRIPES),
                      "distribution statistics of the off-diagonal values, streamed"))
    if criteria:
        steps.append(Step("criteria", matrix + 4 * 8 * pairs, "seriation criteria in R"))
    steps.append(Step("writing", matrix + _FIGURES + _drawing_bytes(m), "figures and files"))
    steps = [replace(s, bytes=int(s.bytes + _RUNTIME)) for s in steps]
    from .ordering.seriation import slow_warning

    warnings = [w for w in (slow_warning(ordering, m),) if w]
    if groups is not None:
        estimate = GROUP_METHODS[groups].cost.seconds(m)
        if estimate is not None and estimate > 60:
            warnings.append(f"groups ({groups}) on {m:,} classes take about {estimate:,.0f} s; "
                            "--no-groups skips them")
    return Plan(n, m, tuple(steps), tuple(warnings), savings)


def _co_moment_bytes(m: int, itemsize: int) -> int:
    """What the co-moments hold at their peak (:class:`~blocks_rx.similarity.CoMoments`).

    Below 10,000 classes (one block): the float64 m x m sum, the Gram matrix (itemsize)
    and about 3 m^2 more measured than that count (benchmarks/preflight.py at 12,000
    classes, before the blocked sums: 15.1 m^2 for float32). From 10,000 classes: float64
    sums of the upper block triangle, one square tile's product and the float32
    correlation written from them (20,000 classes x 3,000 samples: 2.36 GB peak RSS
    measured with 8 blocks, this gave 2.1 GB beyond the runtime's 0.25 GB).
    """
    from .similarity import gram_column_edges

    edges = gram_column_edges(m)
    if len(edges) == 2:
        return (11 + itemsize) * m * m
    spans = list(zip(edges[:-1], edges[1:]))
    upper = sum((b - a) * (m - a) for a, b in spans)
    widest = max(b - a for a, b in spans)
    return 8 * upper + itemsize * widest * widest + 4 * m * m


def _drawing_bytes(m: int) -> int:
    """The figures: the off-diagonal values the histogram shows (float64, and the histogram's
    own copy of them), and the heatmap's ordered copy (up to 2,000 classes; above, a pooled
    image built a stripe at a time). benchmarks/preflight.py, 50 x 20,000: 5.1 GB measured,
    5.7 GB estimated."""
    pairs = 2 * 8 * (m * (m - 1) // 2)
    if m <= _POOL_ABOVE:
        return pairs + 4 * m * m
    factor = -(-m // (_POOL_ABOVE // 2))
    return pairs + 40 * factor * m + 8 * (m // factor + 1) ** 2


def available_memory() -> int | None:
    """Bytes of memory available now (Linux MemAvailable, capped by a cgroup limit)."""
    found = None
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    found = int(line.split()[1]) * 1024
                    break
    except OSError:
        try:
            found = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError, AttributeError):
            return None
    try:
        with open("/sys/fs/cgroup/memory.max") as handle:
            text = handle.read().strip()
        if text.isdigit():
            with open("/sys/fs/cgroup/memory.current") as handle:
                used = int(handle.read().strip())
            found = min(found, int(text) - used) if found is not None else int(text) - used
    except OSError:
        pass
    return found


_UNITS = {"": 1, "B": 1, "K": 1e3, "KB": 1e3, "M": 1e6, "MB": 1e6, "G": 1e9, "GB": 1e9,
          "T": 1e12, "TB": 1e12, "KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40}


def parse_size(text: str) -> int:
    """``"6G"``, ``"500MB"``, ``"1.5TB"``, ``"8GiB"`` -> bytes (G = 10^9, GiB = 2^30).

    >>> parse_size("6G"), parse_size("512 MiB")
    (6000000000, 536870912)
    """
    found = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([KMGT]?I?B?)\s*", str(text), re.IGNORECASE)
    if not found or found.group(2).upper() not in _UNITS:
        raise ValueError(f"cannot read {text!r} as a memory size; use e.g. 6G or 500M")
    return int(float(found.group(1)) * _UNITS[found.group(2).upper()])


def format_bytes(value: float) -> str:
    """Decimal units, as ``free -h`` and most people read them.

    >>> format_bytes(36.5 * 2**30)
    '39.2 GB'
    """
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if value >= size:
            return f"{value / size:.1f} {unit}"
    return f"{int(value)} B"
