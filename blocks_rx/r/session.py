"""One lazily started R session, reached through rpy2 inside converter contexts only.

Nothing here runs at import time. :func:`session` starts R on first use, loads
``helpers.R`` once, and routes R's console output into Python: R warnings become
:class:`RWarning`, R errors become :class:`RError` with R's message. Ctrl-C and SIGTERM
that arrive while R runs take effect when R returns (:func:`signals_held`).
"""

from __future__ import annotations

import contextlib
import functools
import importlib.metadata
import os
import shutil
import signal
import threading
from pathlib import Path
from .._warn import warn_caller

HELPERS = Path(__file__).with_name("helpers.R")

INSTALL_HINT = (
    "R with the seriation package and rpy2 are needed: apt-get install r-base-core r-base-dev "
    "r-cran-seriation r-cran-jsonlite && pip install 'rpy2>=3.5.17,<3.6' (or run `make setup`)"
)


#: Data passed to an R call from which R collects its garbage right after it (64 MB: the
#: distances of 4,000 classes).
FREE_AFTER_BYTES = 64 * 2**20


class RUnavailable(ImportError):
    """R, rpy2 or a needed R package is missing or does not work with this R."""


class RError(RuntimeError):
    """R raised an error; the message is R's."""


class RWarning(UserWarning):
    """R emitted a warning."""


class _Session:
    def __init__(self):
        try:
            rpy2_version = importlib.metadata.version("rpy2")
        except importlib.metadata.PackageNotFoundError:
            raise RUnavailable(f"rpy2 is not installed. {INSTALL_HINT}") from None
        problem = _r_home_problem()
        if problem:
            raise RUnavailable(f"{problem}. {INSTALL_HINT}")
        with signals_held():
            self._start(rpy2_version)

    def _start(self, rpy2_version: str) -> None:
        """Start R through rpy2, route its console, load helpers.R, read the versions."""
        environment = dict(os.environ)
        try:
            with _library_path_read_by_sh():
                import rpy2.rinterface_lib.callbacks as callbacks
                import rpy2.robjects as robjects
                from rpy2.robjects import default_converter, numpy2ri
        except Exception as exc:  # ImportError, OSError, or rpy2's own R-init errors
            detail = str(exc)
            if "R_getVar" in detail or "undefined symbol" in detail:
                detail += (f" — rpy2 {rpy2_version} needs a newer R; with Debian's R 4.2 use "
                           "pip install 'rpy2>=3.5.17,<3.6'")
            raise RUnavailable(f"rpy2 cannot start R: {detail.rstrip('.')}. {INSTALL_HINT}") from exc
        finally:
            _restore(environment)
        self.robjects = robjects
        self.converter = default_converter + numpy2ri.converter
        self._messages: list[str] = []
        callbacks.consolewrite_warnerror = self._messages.append
        callbacks.consolewrite_print = self._messages.append
        robjects.r["source"](str(HELPERS))
        versions = self.call("blocks_versions")
        self.versions = {"R": str(versions["R"][0]), "rpy2": rpy2_version,
                         "seriation": _na_to_none(versions["seriation"][0])}

    def call(self, function: str, *args, **kwargs):
        """Call an R function of helpers.R (or any R function by name), converting with numpy."""
        from rpy2.rinterface_lib.embedded import RRuntimeError
        from rpy2.robjects.conversion import localconverter

        self._messages.clear()
        args = [_plain(a) for a in args]
        kwargs = {k: _plain(v) for k, v in kwargs.items()}
        try:
            with localconverter(self.converter), signals_held():
                return self.robjects.r[function](*args, **kwargs)
        except RRuntimeError as exc:
            text = "".join(self._messages).strip() or str(exc)
            raise RError(f"R error in {function}(): {text}") from None
        finally:
            text = "".join(self._messages).strip()
            if text and "Warning" in text:
                warn_caller(f"R: {text}", RWarning)
            self._messages.clear()


    def free(self, passed_bytes: int) -> None:
        """Run R's garbage collector after a call that was passed ``passed_bytes`` of data,
        when they are :data:`FREE_AFTER_BYTES` or more: R keeps a large call's working memory
        (4x the distance vector for hclust) until it collects, which would stack under every
        later step. Below, R's own collections suffice (a collection took 35 ms after the
        hclust of 2,622 classes, which keeps 110 MB)."""
        if passed_bytes >= FREE_AFTER_BYTES:
            with signals_held():
                self.robjects.r("invisible(gc(verbose = FALSE))")


@contextlib.contextmanager
def signals_held():
    """Hold Ctrl-C (SIGINT) and SIGTERM while R runs; deliver the first one when it returns.

    While R computes, Python's signal handlers run inside rpy2's R event callback, which
    prints and drops their exception ("Exception ignored from cffi callback ...
    KeyboardInterrupt"): the signal was lost, and an interrupted ``blocks-rx analyze`` ran
    on and replaced its result. Here the signal is recorded and raised again once R has
    returned, so the handler the process had (KeyboardInterrupt, the command line's
    SIGTERM handler, or the default) acts on it then. Outside the main thread, where
    handlers cannot be set, nothing changes.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = {signum: signal.signal(signum, lambda number, frame: caught.append(number))
                for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if caught:
            signal.raise_signal(caught[0])


def _restore(environment: dict) -> None:
    """Undo what starting R changed in this process's environment.

    rpy2 puts R's library folders (``/usr/lib/x86_64-linux-gnu`` among them) first on
    ``LD_LIBRARY_PATH`` while R starts; R has loaded its libraries by then, but every
    program this process starts afterwards would inherit the path, and a Python started
    that way fails to import ``ssl`` (and so pyarrow).
    """
    for key in set(os.environ) - set(environment):
        if key.startswith("LD_"):
            del os.environ[key]
    for key, value in environment.items():
        if key.startswith("LD_") and os.environ.get(key) != value:
            os.environ[key] = value


@contextlib.contextmanager
def _library_path_read_by_sh():
    """While rpy2 loads, it reads R's library path from ``R_HOME/etc/ldpaths`` through sh.

    On loading, rpy2 starts a whole R process (``Rscript -e 'cat(Sys.getenv(...))'``, 0.15 s
    of the 0.5 s it takes to start R) only to learn the ``LD_LIBRARY_PATH`` that R's start-up
    script sets, and sets it for the embedded R (for processes R starts; :func:`_restore`
    undoes it once R has started). That script gets it by sourcing ``etc/ldpaths``, which
    sh does here in milliseconds, giving the same text. Where that file is missing, or sh
    fails, rpy2's own way runs.
    """
    import rpy2.situation as situation

    rpy2_way = situation.r_ld_library_path_from_subprocess
    situation.r_ld_library_path_from_subprocess = functools.partial(
        library_path_from_ldpaths, otherwise=rpy2_way)
    try:
        yield
    finally:
        situation.r_ld_library_path_from_subprocess = rpy2_way


def library_path_from_ldpaths(r_home: str, otherwise=None) -> str:
    """The ``LD_LIBRARY_PATH`` R's start-up script sets, read from ``R_HOME/etc/ldpaths``.

    ``otherwise(r_home)`` answers where that file is missing or sh fails (None: "").

    >>> import tempfile
    >>> home = Path(tempfile.mkdtemp())
    >>> (home / "etc").mkdir()
    >>> _ = (home / "etc" / "ldpaths").write_text('LD_LIBRARY_PATH="$R_HOME/lib"')
    >>> library_path_from_ldpaths(str(home)) == f"{home}/lib"
    True
    """
    import subprocess

    ldpaths = Path(r_home) / "etc" / "ldpaths"
    if ldpaths.is_file():
        found = subprocess.run(["sh", "-c", '. "$1" && printf %s "$LD_LIBRARY_PATH"', "sh",
                                str(ldpaths)], env={**os.environ, "R_HOME": r_home},
                               capture_output=True, text=True)
        if found.returncode == 0:
            return found.stdout
    return otherwise(r_home) if otherwise is not None else ""


def _r_home_problem() -> str | None:
    """Why R cannot start here, found without starting it, or None.

    Embedded R ends the whole process (``Fatal error: unable to open the base package``)
    when ``R_HOME`` points at no R installation, so that case is caught before rpy2 starts R.
    """
    home = os.environ.get("R_HOME")
    if home is None:
        return None if shutil.which("R") else "R is not installed (no R on PATH, no R_HOME)"
    if not (Path(home) / "library" / "base").is_dir():
        return f"R_HOME={home} holds no R installation (no library/base there)"
    return None


def _plain(value):
    """numpy scalars and Python sequences of str, as rpy2's numpy converter expects them."""
    import numpy as np

    if value is None:
        import rpy2.robjects as robjects

        return robjects.NULL
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, str) for v in value):
        return np.array(value, dtype=str)
    return value


def _na_to_none(value):
    """R's NA (which the numpy converter may give as None or as the text NA) -> None."""
    if value is None:
        return None
    value = str(value)
    return None if value in ("NA", "NA_character_") else value


@functools.lru_cache(maxsize=1)
def session() -> _Session:
    """The R session, started on first call.

    Raises
    ------
    RUnavailable
        With the commands that install what is missing.
    """
    return _Session()


def end_before_exit() -> None:
    """End R, if it was started, in a process that exits next: remove R's session folder
    (``tempdir()``) and skip rpy2's ending of R at exit.

    That ending runs R's exit hooks, which blocks-rx never sets (``.Last``, exit
    finalizers, graphics devices), collects R's garbage, and removes the session folder
    twice, each time by starting a shell's ``rm``: 40-80 ms at the end of each command that
    started R, spent after its result was in place. Only the ``blocks-rx`` program calls
    this (:func:`blocks_rx.cli.console`); a Python session keeps R to the end.
    """
    if not session.cache_info().currsize:  # R never started (a failed start is not kept)
        return
    r = session()
    import atexit

    import rpy2.rinterface

    try:
        folder = str(r.robjects.r("tempdir()")[0])
    except Exception:  # an R that cannot answer any more: rpy2 ends it at exit, as before
        return
    atexit.unregister(rpy2.rinterface.endr)
    shutil.rmtree(folder, ignore_errors=True)


def available() -> bool:
    """Whether R can be used through rpy2 here (starts R if it was not yet started)."""
    try:
        session()
    except RUnavailable:
        return False
    return True


def require_seriation() -> _Session:
    r = session()
    if r.versions["seriation"] is None:
        raise RUnavailable(f"the R package seriation is not installed. {INSTALL_HINT}")
    return r


def versions(start: bool = False) -> dict:
    """R, rpy2 and seriation versions; without ``start``, only what is known without starting R."""
    if start or session.cache_info().currsize:
        try:
            return dict(session().versions)
        except RUnavailable:
            pass
    try:
        return {"rpy2": importlib.metadata.version("rpy2")}
    except importlib.metadata.PackageNotFoundError:
        return {}
