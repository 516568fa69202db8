"""The hostile-input corpus: each :class:`Case` is one input, how it is given, and its outcome.

A case is run through the command line in-process (``blocks_rx.cli.run``, which lets the error
propagate so that its exact class can be checked) or through the Python API (``call``). In
``argv``, ``mentions`` and ``call``'s paths, ``{files}`` is ``tests/bad_inputs/files`` (small
inputs kept in the repository), ``{made}`` the folder ``make_corpus.py`` fills for this test
session (large or binary inputs), and ``{out}`` an output folder that already holds a valid
earlier result, which a failing case must leave byte-identical.

Each ``cases_*.py`` module beside this one holds the ``CASES`` of one category.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

HERE = Path(__file__).resolve().parent
FILES = HERE / "files"


@dataclass(frozen=True)
class Case:
    """One hostile or malformed input and what blocks-rx must answer.

    Parameters
    ----------
    id : str
        ``category/name``, e.g. ``"csv/empty-file"``.
    argv : tuple of str
        Command-line arguments after ``blocks-rx`` (formatted with files, made, out).
    call : callable, optional
        For API cases: ``call(files, made)`` runs the entry point.
    error : exception class, optional
        The exact class raised; None when the input is valid and must give a result.
    mentions : tuple of str
        Text the message must hold: the file, and the row, column, class or option.
    check : callable, optional
        For valid inputs: ``check(out_folder)`` for CLI cases, ``check(value)`` for API cases.
    warns : str, optional
        Text a warning must hold (for valid inputs that deserve one).
    """

    id: str
    argv: tuple[str, ...] = ()
    call: Callable[[Path, Path], Any] | None = None
    error: type | None = None
    mentions: tuple[str, ...] = ()
    check: Callable[[Any], None] | None = None
    warns: str | None = None
    marks: tuple = field(default=())

    @property
    def category(self) -> str:
        return self.id.split("/", 1)[0]


CATEGORY_MODULES = ("cases_text", "cases_binary", "cases_side", "cases_options", "cases_api",
                    "cases_names", "cases_export", "cases_fuzz")


def all_cases() -> list[Case]:
    """Every case of every ``cases_*`` module that exists, ids unique."""
    cases: list[Case] = []
    for module_name in CATEGORY_MODULES:
        if not (HERE / f"{module_name}.py").exists():
            continue
        module = importlib.import_module(f"bad_inputs.{module_name}")
        cases.extend(module.CASES)
    ids = [c.id for c in cases]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ValueError(f"duplicate case ids: {duplicates}")
    return cases
