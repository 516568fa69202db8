"""Replacing a folder whole: build the new one aside, then swap it in with one rename.

:class:`StagedFolder` creates a hidden sibling of the target (``.NAME.blocks-rx-new-PID``),
holds an exclusive lock on it while the caller fills it, and :meth:`~StagedFolder.commit`
puts it in place of the target. On Linux the swap is one ``renameat2(RENAME_EXCHANGE)``
call, so at every instant the target is either the complete old folder or the complete new
one; elsewhere the old folder is renamed aside first and put back if the second rename
fails. Any exception before the commit (an error, Ctrl-C, SIGTERM turned into an exception
by the command line) removes the sibling and leaves the target untouched.

A run killed outright (SIGKILL, power loss) leaves its sibling behind, unlocked: the next
:class:`StagedFolder` for the same target recognises it by name and by its free lock and
removes it (first putting back an old folder that was renamed aside, if the target is
missing). A sibling whose lock is held belongs to a run still going, and is refused.

>>> import tempfile, pathlib
>>> root = pathlib.Path(tempfile.mkdtemp())
>>> with StagedFolder(root / "result") as staged:
...     _ = (staged.path / "a.txt").write_text("new")
...     staged.commit()
>>> sorted(p.name for p in root.iterdir())
['result']
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import os
import re
import shutil
from pathlib import Path

_MARK = ".blocks-rx-"


class FolderBusy(RuntimeError):
    """Another live blocks-rx run is writing the same target."""


def staging_prefix(target: Path) -> str:
    """The name prefix of every sibling blocks-rx makes for ``target``."""
    return f".{target.name}{_MARK}"


class StagedFolder:
    """A hidden sibling of ``target`` to fill, then swap in whole (see the module docstring).

    Parameters
    ----------
    target : path
        The folder to replace (it need not exist). Missing parent folders are created, and
        removed again if nothing is committed.
    """

    def __init__(self, target):
        self.target = Path(target)
        self.path: Path | None = None
        self.committed = False
        self._lock_fd: int | None = None
        self._made_parents: list[Path] = []

    def __enter__(self) -> "StagedFolder":
        self._make_parents()
        remove_leftovers(self.target)
        self.path = self.target.parent / f"{staging_prefix(self.target)}new-{os.getpid()}"
        if self.path.exists():  # our own pid: a leftover of an earlier call in this process
            shutil.rmtree(self.path)
        self.path.mkdir()
        self._lock_fd = _lock(self.path, wait=False)
        _HELD_LOCKS.add(self._lock_fd)
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def commit(self) -> None:
        """Put the filled sibling in place of the target, whole."""
        if self.path is None or self.committed:
            raise RuntimeError("nothing staged to commit")
        if self.target.exists() and not self.target.is_dir():
            raise FileExistsError(f"{self.target} is a file, not a folder")
        if not self.target.exists():
            os.rename(self.path, self.target)
        elif not _exchange(self.path, self.target):
            _swap_by_two_renames(self.path, self.target)
        self.committed = True
        # After an exchange self.path holds the old folder; remove it (still locked by us).
        if self.path.exists():
            shutil.rmtree(self.path, ignore_errors=True)
        self._made_parents = []

    def close(self) -> None:
        """Remove what was not committed and release the lock (idempotent)."""
        if self.path is not None and self.path.exists():
            shutil.rmtree(self.path, ignore_errors=True)
        if self._lock_fd is not None:
            _HELD_LOCKS.discard(self._lock_fd)
            os.close(self._lock_fd)
            self._lock_fd = None
        if not self.committed:
            for folder in reversed(self._made_parents):
                try:
                    folder.rmdir()
                except OSError:
                    break
        self._made_parents = []

    def _make_parents(self) -> None:
        missing = []
        parent = self.target.parent
        while not parent.exists():
            missing.append(parent)
            parent = parent.parent
        for folder in reversed(missing):
            folder.mkdir()
            self._made_parents.append(folder)


def remove_leftovers(target: Path) -> list[Path]:
    """Remove siblings of ``target`` left by killed runs; returns what was removed.

    An old folder renamed aside by an interrupted two-rename swap is put back first when the
    target is missing. Raises :class:`FolderBusy` when a live run holds a sibling's lock.
    """
    target = Path(target)
    parent = target.parent
    if not parent.is_dir():
        return []
    removed = []
    prefix = staging_prefix(target)
    pattern = re.compile(re.escape(prefix) + r"(new|old)-(\d+)$")
    for sibling in sorted(parent.iterdir()):
        found = pattern.match(sibling.name)
        if not found or not sibling.is_dir():
            continue
        try:
            fd = _lock(sibling, wait=False)
        except BlockingIOError:
            raise FolderBusy(f"another blocks-rx run (pid {found.group(2)}) is writing "
                             f"{target}; wait for it to finish or choose another output "
                             "folder") from None
        try:
            if found.group(1) == "old" and not target.exists():
                os.rename(sibling, target)  # the old result, set aside by a killed swap
            else:
                shutil.rmtree(sibling, ignore_errors=True)
                removed.append(sibling)
        finally:
            os.close(fd)
    return removed


#: Descriptors by which this process holds a staging folder's lock.
_HELD_LOCKS: set[int] = set()


def _close_inherited_locks() -> None:
    """In a forked copy of this process (the processes that draw a result's pictures): close
    its copies of the locks' descriptors. A lock lasts while any copy is open, and a copy
    may outlive this process by a moment: killed, this process would leave its folder
    locked, and the next run into it would be refused, naming a process that is gone."""
    for fd in _HELD_LOCKS:
        try:
            os.close(fd)
        except OSError:
            pass
    _HELD_LOCKS.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_close_inherited_locks)


def _lock(folder: Path, *, wait: bool) -> int:
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
    except BaseException:
        os.close(fd)
        raise
    return fd


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux renameat2); False where that is not supported."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                          ctypes.c_uint]
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(code, f"cannot swap {b} for its new version: {os.strerror(code)}")


def _swap_by_two_renames(new: Path, target: Path) -> None:
    aside = target.parent / f"{staging_prefix(target)}old-{os.getpid()}"
    os.rename(target, aside)
    try:
        os.rename(new, target)
    except BaseException:
        os.rename(aside, target)
        raise
    os.rename(aside, new)  # so that the caller's clean-up removes the old folder


def readable_as_made(path) -> None:
    """Give a file made by ``tempfile.mkstemp`` (mode 0600) the mode the user's umask gives
    any new file (0644 under the usual 022)."""
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(path, 0o666 & ~mask)


def replace_file(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary sibling (``.NAME.XXXX.part``) and one
    rename, so a reader never sees half a file; readable as any file the user makes (not
    mkstemp's 0600). A write killed outright leaves only the ``.part`` file."""
    import tempfile

    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.",
                                         suffix=".part")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        readable_as_made(temporary)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
