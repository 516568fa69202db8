"""The result folder of ``blocks-rx analyze``: which files, writing them, reading them back.

A result folder holds :data:`DATA_FILES`, :data:`FIGURE_FILES`, :data:`CONFUSION_FILES`
(when the scores came with true labels), :data:`GROUP_FILES` (when groups were found) and
``report.json``. It is written whole or not at all: every file is
built in a hidden sibling folder, which then replaces the old folder in one swap
(:mod:`blocks_rx._folders`), so an error, Ctrl-C or SIGTERM leaves the complete old result
and a killed run's leftovers are removed by the next run into the same folder.

Every file belongs to one run: ``report.json`` names the run id and the SHA-256 of every
file, ``similarity.npz`` holds the run id (key ``run_id``) and the PNGs carry it as
metadata. The run id is a hash of the result's content, so the same inputs and options give
the same id and byte-identical data files. :func:`read` and :func:`validate` refuse a folder
whose files disagree, naming them.

Class names are data (:mod:`blocks_rx.names`). In ``order.csv`` and ``groups.csv`` a ``class``
cell that starts with ``=``, ``+``, ``-``, ``@``, tab, CR or a single quote is written with
one more single quote in front, so that no spreadsheet runs it as a formula; numbers are
written as they are. :func:`read_table` (and :func:`read`) strips that quote again, so the
names read back are exactly those analysed.

>>> import numpy as np, tempfile, blocks_rx
>>> analysis = blocks_rx.analyze(np.random.default_rng(0).normal(size=(300, 5)),
...                              groups=None, hclust_backend="python")
>>> folder = tempfile.mkdtemp() + "/result"
>>> sorted(write(analysis, folder))
['distributions.png', 'explorer.html', 'heatmap.png', 'order.csv', 'report.json', 'similarity.npz']
>>> stored = read(folder)
>>> stored.ordering.order.tolist() == analysis.ordering.order.tolist()
True
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import itertools
import json
import time
import warnings
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ._folders import StagedFolder, replace_file, staging_prefix
from ._forked import Aside, run_side_by_side
from .errors import MixedResultError, ResultError
from .names import protect_cell, unprotect_cell
from .ordering import Ordering
from .progress import progress
from .similarity import Similarity

#: Version of the folder layout; ``read`` refuses others.
FORMAT = "blocks-rx result 2"
DATA_FILES = ("similarity.npz", "order.csv")
FIGURE_FILES = ("heatmap.png", "distributions.png")
GROUP_FILES = ("groups.csv", "groups.png")
#: Written when the scores came with true labels: similarity beside the confusions.
CONFUSION_FILES = ("confusion.png",)
#: Views of the run that ``blocks-rx explore`` may rebuild (with other options) after it: not
#: in report.json's checksums, but they name the run id they were built from, and
#: :func:`validate` refuses one built from another run.
VIEW_FILES = ("explorer.html",)
#: The report of what to check (``blocks-rx report``, :mod:`blocks_rx.quality`), written
#: beside a run after it, never by ``analyze``: like VIEW_FILES, not in the checksums, but
#: naming the run id they were built from, which :func:`validate` checks.
QUALITY_FILES = ("report.html", "report.md")
REPORT = "report.json"
#: Every file a result may hold, report.json last.
RESULT_FILES = DATA_FILES + FIGURE_FILES + CONFUSION_FILES + GROUP_FILES + VIEW_FILES + (REPORT,)
#: What ``blocks-rx export`` writes into a result folder by default; not part of the run.
EXPORT_ENTRIES = ("blocks.rds", "r-export")
#: Hidden staging folders of blocks-rx versions before 0.2 were made inside the folder.
_OLD_STAGING = ".blocks-rx-"


@dataclass(frozen=True)
class SavedGroups:
    """The fuzzy groups of a result as read back from ``groups.csv``.

    ``crisp`` is each class's group (0-based), ``memberships`` the (m, c) fuzzy memberships,
    ``table`` the whole CSV (failed and split group flags included).
    """

    classes: tuple[str, ...]
    crisp: np.ndarray = field(repr=False)
    memberships: np.ndarray = field(repr=False)
    table: object = field(repr=False)


@dataclass(frozen=True, eq=False)
class StoredResult:
    """A result folder read back: its similarity, ordering, groups and report."""

    folder: Path
    run_id: str
    similarity: Similarity
    ordering: Ordering
    report: dict = field(repr=False)
    groups: SavedGroups | None = field(default=None, repr=False)
    confusion: np.ndarray | None = field(default=None, repr=False)

    def _repr_html_(self) -> str:
        """In Jupyter: the folder, what it holds, and a small picture of the ordered matrix
        (as an :class:`~blocks_rx.Analysis` shows itself)."""
        from .summaries import first_names, html_summary, matrix_thumbnail

        sim, ordering = self.similarity, self.ordering
        rows = [("folder", f"{self.folder} (run {self.run_id})"),
                ("similarity", f"{sim.measure}"
                 + (f" ({sim.transform})" if sim.transform != "none" else "")
                 + f", {sim.n_classes:,} classes over {sim.n_samples:,} samples"),
                ("order", ordering.method + (f", {ordering.linkage} linkage on "
                                             f"{ordering.distance}" if ordering.linkage else "")),
                ("first in order", first_names(ordering.ordered_classes))]
        if self.groups is not None:
            rows.append(("groups", f"{self.groups.memberships.shape[1]} fuzzy"))
        picture = matrix_thumbnail(sim.matrix, ordering.order)
        return html_summary("blocks-rx result", rows, picture)


# --------------------------------------------------------------------------- target checks


def check_target(folder, *, belongs=None, what: str = "a blocks-rx result") -> Path:
    """Refuse an output path that is not safe to replace; returns it as a Path.

    Allowed: a path that does not exist, an empty folder, or a folder holding only a
    blocks-rx result (and its exports). Refused: an empty path, the current folder or one
    of its parents, an existing file, a folder with anything else in it.
    """
    if folder is None or str(folder).strip() == "":
        raise ResultError("the output folder must be a non-empty path")
    path = Path(folder)
    resolved = path.resolve()
    if resolved == Path.cwd().resolve() or resolved in Path.cwd().resolve().parents:
        raise ResultError(f"{folder}: refusing to replace the current folder or one of its "
                          "parents; name a new folder for the result")
    if path.exists() and not path.is_dir():
        raise ResultError(f"{folder} is an existing file, not a result folder; choose "
                          "another output folder")
    if path.is_dir():
        belongs = belongs or _belongs_to_result
        foreign = sorted(p.name for p in path.iterdir() if not belongs(p.name))
        if foreign:
            shown = ", ".join(foreign[:8]) + (f" and {len(foreign) - 8} more" if len(foreign) > 8 else "")
            raise ResultError(f"{folder} holds files that are not part of {what} "
                              f"({shown}); it would be replaced whole, so choose an empty or "
                              "new output folder")
    return path


def _belongs_to_result(name: str) -> bool:
    return (name in RESULT_FILES or name in QUALITY_FILES or name in EXPORT_ENTRIES
            or name.startswith(_OLD_STAGING) or _is_partial_view(name))


def _is_partial_view(name: str) -> bool:
    """A view file's temporary copy (``.explorer.html.XXXX.part``) that a killed write left:
    part of the folder, replaced with it."""
    return name.startswith(".") and name.endswith(".part") and any(
        name.startswith(f".{view}.") for view in VIEW_FILES + QUALITY_FILES)


# --------------------------------------------------------------------------- writing


def staging(folder) -> StagedFolder:
    """A staged replacement of the result folder ``folder``, checked first (see
    :func:`check_target`); fill ``.path`` with :func:`write_into`, then ``.commit()``.

    Entering it removes a killed run's leftovers and refuses a folder another live run is
    writing, so a command line can take it before the (long) computation starts.
    """
    return StagedFolder(check_target(folder))


def write(analysis, folder, *, dpi: int = 150, explorer: bool = True,
          explorer_options: dict | None = None, workers: int | None = None) -> dict[str, Path]:
    """Write ``analysis`` (from :func:`blocks_rx.analyze`) as a result folder, whole.

    Returns the paths written, by file name. The folder is replaced only when every file is
    complete; see the module docstring. ``explorer=False`` leaves out ``explorer.html``;
    ``explorer_options`` go to :func:`blocks_rx.explore` (``examples``, ``taxonomy``).
    ``workers`` is how many processes write the files side by side (default: one per CPU,
    where the system can fork; 1 writes them all in this process): see :func:`write_into`.
    """
    with staging(folder) as staged:
        names = write_into(analysis, staged.path, dpi=dpi, explorer=explorer,
                           explorer_options=explorer_options, workers=workers)
        staged.commit()
    return {name: staged.target / name for name in names}


def write_into(analysis, folder: Path, *, dpi: int = 150, explorer: bool = True,
               explorer_options: dict | None = None, workers: int | None = None,
               ahead: DrawnAhead | None = None) -> list[str]:
    """Write every file of ``analysis`` into the (staging) folder; returns the file names.

    The files are written side by side by ``workers`` processes (this one and forked copies
    of it, :mod:`blocks_rx._forked`; default one per CPU), pictures first: drawing is
    Python work that threads cannot share out. With ``ahead`` (:class:`DrawnAhead`), its
    processes make the pictures and the page into ``folder`` instead: they are sent what
    they have not been yet (the groups, :meth:`DrawnAhead.complete`), and each file gets the
    run id as it is done.
    ``report.json`` comes last, from this process. Its ``timings_s`` hold ``write_data`` and
    ``draw``, the seconds each kind of file took wherever it was written or drawn, and
    ``write_wall``, the wall-clock seconds of writing them all.
    """
    names = result_files(analysis, explorer=explorer)
    if ahead is not None:
        if (ahead.dpi, ahead.folder) != (dpi, Path(folder)):
            raise ValueError(f"the pictures are drawn ahead into {ahead.folder} at "
                             f"{ahead.dpi} dpi, not into {folder} at {dpi} dpi")
        ahead.complete(analysis, explorer_options if explorer else None)
    drawn_ahead = ahead.names if ahead is not None else ()
    tables = {"order.csv": order_table(analysis)}
    if analysis.findings is not None:
        tables["groups.csv"] = groups_table(analysis)
    arrays = npz_arrays(analysis)
    run_id = content_id(arrays, tables)
    arrays["run_id"] = np.array(run_id)

    def write_file(name: str) -> None:
        WRITERS[name](analysis, folder / name, run_id=run_id, arrays=arrays, tables=tables,
                      dpi=dpi, explorer_options=explorer_options or {})

    # The pictures first: at 2,622 classes each takes 0.3-1.5 s, the data files milliseconds.
    files = sorted((name for name in names[:-1] if name not in drawn_ahead),
                   key=lambda name: not _is_drawn(name))
    spent = {"write_data": 0.0, "draw": 0.0}
    started = time.perf_counter()
    # Data files alone (the pictures made ahead) take milliseconds: not worth a fork.
    written = run_side_by_side(files, write_file,
                               workers if any(map(_is_drawn, files)) else 1)
    if drawn_ahead:
        written = itertools.chain(written, ahead.finish(run_id))
    for name, seconds in progress(written, total=len(files) + len(drawn_ahead),
                                  desc="writing results", unit="file"):
        spent["draw" if _is_drawn(name) else "write_data"] += seconds
    spent["write_wall"] = time.perf_counter() - started
    _DRAWN_HEATMAP.clear()  # its figure is of no use past this result
    report = analysis.report()
    report["timings_s"].update({k: round(v, 4) for k, v in spent.items()})
    report.update(format=FORMAT, run_id=run_id,
                  files={name: sha256(folder / name) for name in names[:-1]
                         if name not in VIEW_FILES})
    WRITERS[REPORT](analysis, folder / REPORT, report=report)
    return names


def result_files(analysis, *, explorer: bool = True) -> list[str]:
    """The files of the result of ``analysis``, in :data:`RESULT_FILES` order (report.json
    last): the group files when it has groups, the confusions when it has labels, the
    explorer page unless ``explorer`` is False."""
    return [name for name in RESULT_FILES
            if (name not in GROUP_FILES or analysis.findings is not None)
            and (name not in CONFUSION_FILES or analysis.confusion is not None)
            and (name not in VIEW_FILES or explorer)]


class DrawnAhead:
    """The pictures of a result (:data:`PICTURES`) and its explorer page, made in ``folder``
    by forked processes while this one still computes, for :func:`write_into` to finish the
    result with.

    Call :meth:`start` before :func:`blocks_rx.analyze`, give it :meth:`prepare` as
    ``before_ordering`` and :meth:`draw` as ``before_groups``, then give this to
    :func:`write_into` as ``ahead``:

    - :meth:`start` forks the process that draws the pictures before the similarity is
      computed, when it will be small enough to send (:data:`SENT_UP_TO_CLASSES`). It loads
      what drawing needs (matplotlib and its fonts) while this process starts R, which
      takes one CPU, and then waits. A larger similarity stays here: the process is forked
      by :meth:`prepare` instead, once it is known, and shares it.
    - :meth:`prepare` sends it the similarity and its summary: the pictures that need no
      order (:data:`UNORDERED_PICTURES`) are drawn while this process orders the classes,
      which R's ``hclust`` does on one CPU.
    - :meth:`draw` sends it the ordering, and the pictures that need no groups are drawn
      while this process finds the groups.
    - :func:`write_into` sends it the groups (:meth:`complete`) and forks one more process
      for the explorer page (unless ``explorer`` is False): ``groups.png`` and the page are
      made while this process writes the tables and works out the run id.

    Only what changed since a process was forked travels, pickled (the similarity and its
    summary to a process started early, then the ordering, the groups), never the scores:
    the pictures are drawn from what was computed from them. The files are the ones
    :func:`write_into` would make (the pictures byte for byte): each process writes its
    files as it makes them (a result held in a pipe would wait for this process to read
    it), and :meth:`finish` adds the run id to them once it is known. While the pictures
    are drawn, this process's BLAS runs on one thread: the other CPU is taken, and two BLAS
    threads sharing one CPU wait on each other (the groups took 1.3 s instead of 0.9 s at
    2,622 classes on 2 cores). Where forking is not available or one CPU is free
    (``workers=1``), nothing is made early: :func:`write_into` makes it all. Leaving the
    ``with`` block stops the forked processes, if an error came first, and gives BLAS its
    threads back.

    >>> import numpy as np, tempfile, blocks_rx
    >>> S = np.random.default_rng(0).normal(size=(300, 12))
    >>> folder = Path(tempfile.mkdtemp())
    >>> with DrawnAhead(folder) as ahead:
    ...     ahead.start(n_classes=12)
    ...     analysis = blocks_rx.analyze(S, hclust_backend="python",
    ...                                  before_ordering=ahead.prepare, before_groups=ahead.draw)
    ...     names = write_into(analysis, folder, ahead=ahead)
    >>> ahead.names
    ('distributions.png', 'heatmap.png', 'groups.png', 'explorer.html')
    """

    def __init__(self, folder, *, dpi: int = 150, explorer: bool = True,
                 workers: int | None = None):
        self.folder, self.dpi, self.explorer, self.workers = Path(folder), dpi, explorer, workers
        self.names: tuple[str, ...] = ()
        self._pictures: Aside | None = None
        self._page: Aside | None = None
        self._blas_limit = None
        # The processes warn as the code that made this one does, not as analyze does (it
        # shows every warning, and forks them inside its warning capture).
        self._warnings = (warnings.filters[:], warnings.showwarning)

    def start(self, n_classes: int) -> None:
        """Start the process that draws the pictures now, before the similarity of
        ``n_classes`` classes is computed, if it is small enough to send to it
        (:data:`SENT_UP_TO_CLASSES`); else :meth:`prepare` starts it."""
        if self._pictures is None and n_classes <= SENT_UP_TO_CLASSES:
            self._pictures = self._picture_process(state={})

    def prepare(self, analysis) -> None:
        """Send the process that draws the pictures ``analysis`` (the similarity and its
        summary known, not yet its order), starting it if :meth:`start` has not: it draws
        the pictures that need no order."""
        if self._pictures is None:
            self._pictures = self._picture_process(state=_fields(analysis))
        self._send(self._pictures, [name for name in result_files(analysis, explorer=False)
                                    if name in UNORDERED_PICTURES], analysis)

    def _picture_process(self, state: dict) -> Aside:
        """The process that draws the pictures, forked now with ``state``: it gets ready to
        draw while it waits for what to draw."""
        from .plot._common import get_ready_to_draw

        def ready() -> None:
            self._warn_as_made()
            get_ready_to_draw()

        return Aside(self._draw, state=state, ready=ready, workers=self.workers)

    def draw(self, analysis) -> None:
        """Draw the pictures of ``analysis`` not sent yet (starting the processes now if
        :meth:`prepare` has not)."""
        if self._pictures is None:
            self.prepare(analysis)
        self._send(self._pictures, [name for name in result_files(analysis, explorer=False)
                                    if name in PICTURES], analysis)
        if self._pictures.forked and self._blas_limit is None:
            from threadpoolctl import threadpool_limits

            self._blas_limit = threadpool_limits(1)

    def complete(self, analysis, explorer_options: dict | None = None) -> None:
        """``analysis`` is complete: draw what is left of it, the page with
        ``explorer_options`` (:func:`blocks_rx.explore`'s ``examples``, ``taxonomy``)."""
        self.draw(analysis)
        if self.explorer and self._pictures.forked and self._page is None:
            self._page = Aside(self._draw, state=_fields(analysis), ready=self._warn_as_made,
                               workers=self.workers)
            self._send(self._page, [PAGE], analysis,
                       explorer_options=dict(explorer_options or {}))

    def finish(self, run_id: str):
        """Add ``run_id`` to each file as it is done (waiting for it); yields ``(name,
        seconds it took)``. Nothing can be sent after."""
        self._release_blas()
        for process in (self._pictures, self._page):
            if process is None or not process.forked:
                continue
            for name, seconds in process.results():
                add_run_id(self.folder / name, run_id)
                yield name, seconds

    def _send(self, process: Aside, names: list[str], analysis, **extra) -> None:
        names = [name for name in names if name not in self.names]
        if not names or not process.forked:
            return
        changes = {key: value for key, value in {**_fields(analysis), **extra}.items()
                   if key not in _NEVER_SENT
                   and (key in _CHANGED_IN_PLACE or process.state.get(key, _MISSING) is not value)}
        process.send(names, changes)
        self.names += tuple(names)

    def _warn_as_made(self) -> None:
        warnings.filters[:], warnings.showwarning = self._warnings[0], self._warnings[1]
        warnings._filters_mutated()  # as catch_warnings does: the filters' cache is stale

    def _draw(self, name: str, state: dict) -> None:
        """Write the file ``name`` as :func:`write_into` does, without the run id."""
        from .pipeline import Analysis

        # A process started before the similarity has no scores (_NEVER_SENT).
        analysis = Analysis(**{"scores": None, **{key: value for key, value in state.items()
                                                  if key != "explorer_options"}})
        WRITERS[name](analysis, self.folder / name, run_id=None, dpi=self.dpi,
                      explorer_options=state.get("explorer_options") or {})

    def __enter__(self) -> DrawnAhead:
        return self

    def __exit__(self, *exc) -> None:
        self._release_blas()
        for process in (self._pictures, self._page):
            if process is not None:
                process.stop()

    def _release_blas(self) -> None:
        if self._blas_limit is not None:
            self._blas_limit.restore_original_limits()
            self._blas_limit = None


#: Up to this many classes (a 64 MB float32 similarity), :meth:`DrawnAhead.start` forks the
#: drawing process before the similarity is computed, and it is sent to it, pickled, once
#: it is: 0.03 s at 2,622 classes, against the 0.4 s the process takes to load matplotlib
#: and its fonts, done while R starts. Above, the process is forked once the similarity is
#: known and shares it (a 20,000-class one is 1.6 GB).
SENT_UP_TO_CLASSES = 4096
#: Pictures drawn from the similarity and its summary alone: :meth:`DrawnAhead.prepare`
#: has them drawn while the classes are ordered.
UNORDERED_PICTURES = ("distributions.png",)

_MISSING = object()
#: Fields of an Analysis that ``analyze`` changes in place: sent to the drawing process even
#: when the object is the one it has.
_CHANGED_IN_PLACE = ("timings",)
#: Fields of an Analysis never sent to a drawing process: no picture or page reads the
#: scores (they may be gigabytes); a process forked after them shares them.
_NEVER_SENT = ("scores",)


def _fields(analysis) -> dict:
    """The fields of an Analysis, by name (the objects themselves, not copies)."""
    return {f.name: getattr(analysis, f.name) for f in dataclasses.fields(analysis)}


def _is_drawn(name: str) -> bool:
    """A picture or page of the result, as opposed to its data files."""
    return name.endswith((".png", ".html"))


def content_id(arrays: dict, tables: dict) -> str:
    """The run id: a hash of the result's arrays and tables (same content, same id)."""
    digest = hashlib.sha256(FORMAT.encode())
    for key in sorted(arrays):
        value = np.ascontiguousarray(arrays[key])
        digest.update(f"{key}:{value.dtype.str}:{value.shape}".encode())
        digest.update(value.tobytes() if value.dtype.kind != "U" else
                      "\n".join(map(str, value.ravel())).encode("utf-8"))
    for key in sorted(tables):
        digest.update(key.encode() + tables[key].encode("utf-8"))
    return digest.hexdigest()[:16]


def npz_arrays(analysis) -> dict:
    """The arrays of ``similarity.npz``: matrix, classes, order, tree, confusion."""
    ordering = analysis.ordering
    arrays = {
        "matrix": np.asarray(analysis.similarity.matrix, dtype=np.float32),
        "classes": np.array(analysis.similarity.classes, dtype=str),
        "order": np.asarray(ordering.order, dtype=np.int64),
    }
    if ordering.merge is not None:
        arrays["linkage"] = ordering.scipy_linkage()
        arrays["merge"] = np.asarray(ordering.merge, dtype=np.int64)
        arrays["height"] = np.asarray(ordering.height, dtype=np.float64)
    if analysis.confusion is not None:
        arrays["confusion"] = analysis.confusion
    return arrays


def order_table(analysis) -> str:
    """``order.csv``: position (1-based), index, class, and the group at each cut."""
    columns = analysis.columns()
    columns["class"] = [protect_cell(c) for c in columns["class"]]
    return csv_text(columns)


def groups_table(analysis) -> str:
    """``groups.csv``: class, crisp group, memberships, and the failed/split groups it is in
    (:meth:`blocks_rx.groups.GroupFindings.to_frame`), memberships to 6 decimals."""
    columns = analysis.findings.columns()
    columns["class"] = [protect_cell(c) for c in columns["class"]]
    for name in columns:
        if name.startswith("membership_"):
            columns[name] = np.round(columns[name], 6)
    return csv_text(columns)


def csv_text(columns: dict) -> str:
    """A CSV table of named columns (a header row, then one row per item), as pandas'
    ``DataFrame(columns).to_csv(index=False, lineterminator="\n")`` writes it, byte for
    byte, without importing pandas (0.3 s of the ``blocks-rx analyze`` process): fields
    quoted only where they must be, numbers as Python writes them (floats to the
    shortest digits that read back the same).

    >>> print(csv_text({"class": ["a", "b,c"], "x": np.array([0.5, 1e-06])}), end="")
    class,x
    a,0.5
    "b,c",1e-06
    """
    import csv

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(zip(*(_plain_values(values) for values in columns.values())))
    return buffer.getvalue()


def _plain_values(values) -> list:
    """A column's values as Python objects (numpy's scalars print as ``np.float64(...)``),
    NaN as an empty field (as pandas writes it)."""
    if not isinstance(values, np.ndarray):
        return list(values)
    if values.dtype.kind == "f" and np.isnan(values).any():
        return ["" if np.isnan(value) else value for value in values.tolist()]
    return values.tolist()


#: Arrays above this size are stored in ``similarity.npz`` without compression, and read
#: back memory-mapped: deflating a 20,000-class matrix (1.6 GB of float32 correlations,
#: which barely compress) took 65 s, and even at its fastest level deflate writes about
#: 55 MB/s (0.5 s for 2,622 classes), where storing takes the disk's write time.
STORE_ABOVE_BYTES = 16 * 2**20


def _write_npz(analysis, path: Path, *, arrays, **_) -> None:
    """An ``.npz`` with fixed entry dates, so equal content gives equal bytes; small arrays
    deflated (at level 1: the higher levels take 6x the time for 1% less), large ones
    (the matrix of many classes) stored as they are."""
    with zipfile.ZipFile(path, "w", allowZip64=True) as archive:
        for key, value in arrays.items():
            value = np.asanyarray(value)
            info = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            if value.nbytes > STORE_ABOVE_BYTES:  # streamed: no copy of a large matrix
                with archive.open(info, "w", force_zip64=True) as handle:
                    np.lib.format.write_array(handle, value, allow_pickle=False)
                continue
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, value, allow_pickle=False)
            archive.writestr(info, buffer.getvalue(), compress_type=zipfile.ZIP_DEFLATED,
                             compresslevel=1)


def _write_table(name: str):
    def write_table(analysis, path: Path, *, tables, **_) -> None:
        path.write_text(tables[name], encoding="utf-8", newline="")
    write_table.__doc__ = f"Write ``{name}`` as rendered for the run id."
    return write_table


#: zlib level of the result's PNGs: on the 2,622-class heatmap level 3 saves in 0.67 s a
#: file 15% larger than the default level 6 does in 0.87 s.
PNG_COMPRESS_LEVEL = 3
#: The PNG text key that names the run a picture belongs to.
RUN_ID_KEY = "blocks-rx run id"


def _heatmap_picture(analysis):
    from .plot import heatmap

    shown = heatmap(analysis.similarity, analysis.ordering)
    _DRAWN_HEATMAP[:] = [(analysis.similarity, analysis.ordering, shown)]
    return shown


#: The heatmap this process drew last, with its similarity and ordering: ``groups.png`` is
#: drawn on it (:func:`_heatmap_to_build_on`). Emptied when a result is written.
_DRAWN_HEATMAP: list = []


def _heatmap_to_build_on(analysis):
    """The heatmap of ``analysis`` this process drew last (``heatmap.png``'s, saved), else a
    new one: the same figure either way, drawn once where both pictures are drawn here (the
    heatmap took 0.13-0.2 s of the 1.0 s of ``groups.png`` at 2,622 classes)."""
    from .plot import heatmap

    drawn = _DRAWN_HEATMAP.pop() if _DRAWN_HEATMAP else None
    if drawn is not None and drawn[0] is analysis.similarity and drawn[1] is analysis.ordering:
        return drawn[2]
    return heatmap(analysis.similarity, analysis.ordering)


def _distributions_picture(analysis):
    from .plot import distributions

    return distributions(analysis)


def _groups_picture(analysis):
    from .plot._groups import add_findings

    findings = analysis.findings
    return add_findings(_heatmap_to_build_on(analysis), analysis.similarity, analysis.ordering,
                        findings.fuzzy, failed=findings.failed, split=findings.split,
                        coherent=findings.coherent)


def _confusion_picture(analysis):
    from .plot import side_by_side

    accuracy = f", top-1 accuracy {analysis.accuracy:.3f}" if analysis.accuracy is not None else ""
    return side_by_side(analysis.similarity, analysis.confusion, analysis.ordering,
                        title=f"Class similarity beside the confusions, in the same order"
                              f"{accuracy}")


#: How each picture of a result is drawn, by file name: a function of the analysis that
#: returns a plot Display (or figure).
PICTURES = {
    "heatmap.png": _heatmap_picture,
    "distributions.png": _distributions_picture,
    "confusion.png": _confusion_picture,
    "groups.png": _groups_picture,
}


def draw_png(name: str, analysis, dpi: int) -> bytes:
    """The PNG bytes of the picture ``name`` of ``analysis``, without the run id (which
    :func:`png_with_text` adds)."""
    from .plot._common import sharpen_upsampled

    drawn = PICTURES[name](analysis)
    sharpen_upsampled(getattr(drawn, "figure_", drawn), dpi)
    buffer = io.BytesIO()
    drawn.savefig(buffer, format="png", dpi=dpi,
                  pil_kwargs={"compress_level": PNG_COMPRESS_LEVEL})
    return buffer.getvalue()


_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_with_text(png: bytes, key: str, value: str) -> bytes:
    """``png`` with a ``tEXt`` chunk ``key: value`` right after its header (IHDR), where
    readers find it without decoding the image (PIL's ``Image.open(...).info``).

    The run id of a result is known only once all of it is computed; its pictures are
    drawn before that, and labelled with it here.

    >>> import PIL.Image
    >>> buffer = io.BytesIO()
    >>> PIL.Image.new("L", (2, 1)).save(buffer, format="png")
    >>> PIL.Image.open(io.BytesIO(png_with_text(buffer.getvalue(), "run", "abc"))).info["run"]
    'abc'
    """
    header_end = len(_PNG_SIGNATURE) + 8 + 13 + 4  # length, "IHDR", 13 bytes, CRC
    if not png.startswith(_PNG_SIGNATURE) or png[12:16] != b"IHDR":
        raise ValueError("not a PNG image (no PNG signature and IHDR chunk)")
    data = key.encode("latin-1") + b"\0" + value.encode("latin-1")
    chunk = (len(data).to_bytes(4, "big") + b"tEXt" + data
             + zlib.crc32(b"tEXt" + data).to_bytes(4, "big"))
    return png[:header_end] + chunk + png[header_end:]


def _write_picture(name: str):
    def write_picture(analysis, path: Path, *, run_id, dpi, **_) -> None:
        png = draw_png(name, analysis, dpi)
        path.write_bytes(png if run_id is None else png_with_text(png, RUN_ID_KEY, run_id))
    write_picture.__doc__ = (f"Draw ``{name}`` with the run id in its metadata (None: not "
                             "known yet, :func:`add_run_id` adds it).")
    return write_picture


#: The explorer page of a result.
PAGE = "explorer.html"


def explorer_page(analysis, explorer_options: dict) -> str:
    """The explorer page of ``analysis`` (:func:`blocks_rx.explore`), naming no run id yet:
    :func:`blocks_rx.explorer.page.with_run_id` adds it."""
    from .explorer import explore

    return explore(analysis, **explorer_options).html


def _write_explorer(analysis, path: Path, *, run_id, explorer_options, **_) -> None:
    from .explorer.page import with_run_id

    page = explorer_page(analysis, explorer_options)
    replace_file(path, page if run_id is None else with_run_id(page, run_id))


def add_run_id(path: Path, run_id: str) -> None:
    """Name ``run_id`` in a picture or page written without it (``run_id=None``)."""
    if path.name == PAGE:
        from .explorer.page import with_run_id

        replace_file(path, with_run_id(path.read_text(encoding="utf-8"), run_id))
    else:
        path.write_bytes(png_with_text(path.read_bytes(), RUN_ID_KEY, run_id))


def _write_report(analysis, path: Path, *, report, **_) -> None:
    path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


#: How each file is written, by name (one step each; the tests fail each step in turn).
WRITERS = {
    "similarity.npz": _write_npz,
    "order.csv": _write_table("order.csv"),
    "heatmap.png": _write_picture("heatmap.png"),
    "distributions.png": _write_picture("distributions.png"),
    "confusion.png": _write_picture("confusion.png"),
    "groups.csv": _write_table("groups.csv"),
    "groups.png": _write_picture("groups.png"),
    "explorer.html": _write_explorer,
    REPORT: _write_report,
}


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


# --------------------------------------------------------------------------- reading


def validate(folder) -> dict:
    """Check that every file of a result folder belongs to the same run; returns the report.

    Raises :class:`ResultError` for a folder that is not a result, and
    :class:`MixedResultError`, naming the files, when files are missing, changed, or left
    over from another run.
    """
    folder = Path(folder)
    report = _read_report(folder)
    listed = report["files"]
    problems = []
    for name, expected in listed.items():
        path = folder / name
        if not path.is_file():
            problems.append(f"{name} is missing")
        elif sha256(path) != expected:
            problems.append(f"{name} does not match report.json (changed, or from another run)")
    stale = [name for name in RESULT_FILES
             if name != REPORT and name not in VIEW_FILES and name not in listed
             and (folder / name).exists()]
    problems += [f"{name} was built from run {found}" for name in VIEW_FILES + QUALITY_FILES
                 if (found := view_run_id(folder / name)) not in (None, report["run_id"])]
    if stale:
        problems.append(f"{', '.join(stale)} left over from another run (this run "
                        f"{report['run_id']} wrote no such file)")
    if problems:
        raise MixedResultError(f"{folder} mixes files of different runs: "
                               + "; ".join(problems) + ". Re-run `blocks-rx analyze` into it.")
    return report


#: How a view file names its run: a meta tag in HTML, a first-line comment in markdown.
RUN_ID_MARKERS = (('<meta name="blocks-rx-run-id" content="', '"'),
                  ("<!-- blocks-rx-run-id: ", " -->"))


def view_run_id(path: Path) -> str | None:
    """The run id a view file (``explorer.html``, ``report.html``, ``report.md``) names,
    "unknown" if it names none, or None when there is no such file."""
    if not path.is_file():
        return None
    with open(path, encoding="utf-8", errors="replace") as handle:
        head = handle.read(4096)
    for marker, end in RUN_ID_MARKERS:
        start = head.find(marker)
        if start >= 0:
            start += len(marker)
            return head[start:head.find(end, start)]
    return "unknown"


def _read_report(folder: Path) -> dict:
    path = folder / REPORT
    if folder.is_file():
        raise ResultError(f"{folder}: a file, not a result folder (the folder that holds "
                          f"{REPORT} and the other files)")
    if not folder.is_dir():
        raise ResultError(f"{folder}: no such result folder")
    if not path.is_file():
        raise ResultError(f"{folder}: no {REPORT}; is this a `blocks-rx analyze` output folder?")
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ResultError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(report, dict) or report.get("format") != FORMAT:
        found = report.get("format") if isinstance(report, dict) else None
        raise ResultError(f"{folder}: written by "
                          + (f"a format {found!r}" if found else "an older blocks-rx")
                          + f", not {FORMAT!r}; re-run `blocks-rx analyze` to rewrite it")
    missing = [k for k in ("run_id", "files", "similarity", "ordering") if k not in report]
    if missing:
        raise ResultError(f"{path}: missing {', '.join(missing)}")
    kinds = {"run_id": str, "files": dict, "similarity": dict, "ordering": dict}
    wrong = [f"{key} is not a {kind.__name__.replace('dict', 'mapping')}"
             for key, kind in kinds.items() if not isinstance(report[key], kind)]
    if not wrong and not all(isinstance(k, str) and isinstance(v, str)
                             for k, v in report["files"].items()):
        wrong = ["files does not map file names to checksums"]
    if wrong:
        raise ResultError(f"{path}: {'; '.join(wrong)}")
    return report


def read(folder, *, verify: bool = True) -> StoredResult:
    """Read a result folder back (validated first unless ``verify=False``).

    >>> # stored = read("result/"); stored.similarity, stored.ordering, stored.groups
    """
    folder = Path(folder)
    report = validate(folder) if verify else _read_report(folder)
    try:
        return _stored(folder, report)
    except (KeyError, TypeError, ValueError, OSError, EOFError, zipfile.BadZipFile,
            zlib.error, NotImplementedError, RuntimeError) as exc:
        if isinstance(exc, ResultError):
            raise
        what = f"no {exc}" if isinstance(exc, KeyError) else str(exc) or type(exc).__name__
        raise ResultError(f"{folder}: cannot read the result ({what}); re-run `blocks-rx "
                          "analyze` into it") from None


def _stored(folder: Path, report: dict) -> StoredResult:
    """The StoredResult of a folder whose report was read (KeyError etc. for a bad one)."""
    run_id = report["run_id"]
    arrays = npz_arrays_mapped(folder / "similarity.npz")
    if str(arrays.get("run_id")) != run_id:
        raise MixedResultError(f"{folder}: similarity.npz belongs to run "
                               f"{arrays.get('run_id')}, report.json to {run_id}")
    classes = tuple(str(c) for c in arrays["classes"])
    sim_info, order_info = report["similarity"], report["ordering"]
    similarity = Similarity(
        matrix=arrays["matrix"], classes=classes, measure=sim_info["measure"],
        kind=sim_info["kind"], transform=sim_info["transform"],
        clip_negative=sim_info["clip_negative"], n_samples=sim_info["n_samples"],
        constant_classes=tuple(sim_info["constant_classes"]), dtype=sim_info["dtype"],
        source=sim_info["source"])
    ordering = Ordering(
        order=arrays["order"], classes=classes, method=order_info["method"],
        linkage=order_info["linkage"], distance=order_info["distance"],
        merge=arrays.get("merge"), height=arrays.get("height"),
        hclust_backend=order_info["hclust_backend"], note=order_info.get("note"),
        versions=order_info.get("versions", {}))
    groups = _read_groups(folder / "groups.csv", classes) if "groups.csv" in report["files"] else None
    return StoredResult(folder=folder, run_id=run_id, similarity=similarity, ordering=ordering,
                        report=report, groups=groups, confusion=arrays.get("confusion"))


def npz_arrays_mapped(path: Path) -> dict:
    """The arrays of an ``.npz``: small ones loaded, stored (uncompressed) large ones
    memory-mapped from the file, so reading a 20,000-class result costs no 1.6 GB copy.

    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "x.npz"
    >>> np.savez(path, a=np.arange(3))
    >>> npz_arrays_mapped(path)["a"].tolist()
    [0, 1, 2]
    """
    arrays = {}
    with zipfile.ZipFile(path) as archive, open(path, "rb") as raw:
        for info in archive.infolist():
            key = info.filename.removesuffix(".npy")
            if info.compress_type == zipfile.ZIP_STORED and info.file_size > STORE_ABOVE_BYTES:
                arrays[key] = _mapped_member(path, raw, info)
            else:
                with archive.open(info) as handle:
                    arrays[key] = np.lib.format.read_array(handle, allow_pickle=False)
    return arrays


def _mapped_member(path: Path, raw, info):
    """A stored ``.npy`` member of a zip file as a read-only memory map."""
    raw.seek(info.header_offset)
    local = raw.read(30)  # the local file header: name and extra-field lengths at 26 and 28
    if local[:4] != b"PK\x03\x04":
        raise zipfile.BadZipFile(f"{path}: bad local header for {info.filename}")
    name_length = int.from_bytes(local[26:28], "little")
    extra_length = int.from_bytes(local[28:30], "little")
    raw.seek(info.header_offset + 30 + name_length + extra_length)
    version = np.lib.format.read_magic(raw)
    read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                   else np.lib.format.read_array_header_2_0)
    shape, fortran, dtype = read_header(raw)
    return np.memmap(path, dtype=dtype, mode="r", offset=raw.tell(), shape=shape,
                     order="F" if fortran else "C")


def read_table(path):
    """``order.csv`` or ``groups.csv`` of a result as a DataFrame, class names exact (the
    quote that protects a name cell is removed; see the module docstring).

    >>> import numpy as np, tempfile, blocks_rx
    >>> scores = blocks_rx.load_scores(np.random.default_rng(0).normal(size=(100, 3)),
    ...                                classes=["=1+1", "'q'", "cat"])
    >>> analysis = blocks_rx.analyze(scores, groups=None, hclust_backend="python")
    >>> folder = tempfile.mkdtemp() + "/result"
    >>> sorted(read_table(write(analysis, folder)["order.csv"])["class"])
    ["'q'", '=1+1', 'cat']
    """
    import pandas as pd

    table = pd.read_csv(path, keep_default_na=False, dtype={"class": str})
    table["class"] = [unprotect_cell(cell) for cell in table["class"]]
    return table


def _read_groups(path: Path, classes: tuple[str, ...]) -> SavedGroups:
    table = read_table(path)
    if tuple(table["class"]) != classes:
        raise MixedResultError(f"{path}: its classes are not those of similarity.npz")
    columns = [c for c in table.columns if c.startswith("membership_G")]
    groups = table["group"].astype(str)
    if not groups.str.fullmatch(r"G[1-9][0-9]*").all() or not columns:
        raise ResultError(f"{path}: not a groups table (its group column holds G1, G2, ...; "
                          "its membership_G columns the memberships)")
    crisp = groups.str[1:].astype(int).to_numpy() - 1
    return SavedGroups(classes=classes, crisp=crisp, memberships=table[columns].to_numpy(),
                       table=table)


def leftovers(folder) -> list[Path]:
    """Staging siblings of ``folder`` that exist now (a live or killed run's)."""
    folder = Path(folder)
    prefix = staging_prefix(folder)
    return sorted(p for p in folder.parent.iterdir() if p.name.startswith(prefix)) \
        if folder.parent.is_dir() else []
