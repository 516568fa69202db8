"""Class names are data, never markup: every rule about them, in one place.

Class names come from a CSV header, a ``--classes`` file, an ``.npz`` array or the caller.
blocks-rx keeps them exactly, draws them exactly and writes them so that no program reading
its files takes a name for an instruction:

1. **Names are text.** :func:`check_names` refuses a name holding a control character
   (Unicode category Cc: the C0 controls, NUL, tab, CR and LF among them, DEL, and the C1
   controls) or a lone surrogate (not text at all), naming its column. Every other character,
   accents, CJK, emoji and right-to-left scripts included, is allowed.
2. **Names are drawn literally.** Matplotlib reads text between ``$`` signs as math, and a name
   such as ``$\\undefinedcmd$`` would abort the drawing. Every user string put on a figure
   (class and group names, titles holding them) goes through :func:`literal`.
3. **Name cells are never formulas** (OWASP's CSV injection). A spreadsheet runs a cell that
   starts with ``=``, ``+``, ``-``, ``@``, tab or CR, so every name cell blocks-rx writes to a
   CSV file starting with one of those gets a leading single quote (:func:`protect_cell`).
   A name that itself starts with a single quote gets one too, so that the rule can be
   undone: readers strip one leading quote from every name cell (:func:`unprotect_cell`,
   and ``unprotect_cells`` in ``r_scripts/blocksrx/R/read.R``). Only name cells are protected;
   numbers are written as they are.

>>> name = '=HYPERLINK("x")'
>>> protect_cell(name)
'\\'=HYPERLINK("x")'
>>> unprotect_cell(protect_cell(name)) == name
True
"""

from __future__ import annotations

import unicodedata

from .errors import ScoresError

#: First characters that make a spreadsheet read a cell as a formula (OWASP).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: The mark that protects a cell; a name starting with it is protected too, so it can be undone.
QUOTE = "'"


def problem(name: str) -> str | None:
    """Why ``name`` cannot be a class name, or None when it can.

    >>> problem("café 日本 😀") is None
    True
    >>> problem("a\\tb")
    'holds a control character'
    """
    for character in name:
        category = unicodedata.category(character)
        if category == "Cc":
            return "holds a control character"
        if category == "Cs":
            return "holds a lone surrogate (not Unicode text)"
    return None


def check_names(names, source: str, error: type = ScoresError) -> None:
    """Raise ``error`` for the first name :func:`problem` refuses, naming its (0-based) column
    and showing the name escaped.

    >>> try:
    ...     check_names(["a", "b\\x00"], "f")
    ... except ScoresError as error:
    ...     print(error)
    f: column 1: class name 'b\\x00' holds a control character; class names must be printable text
    """
    for column, name in enumerate(names):
        reason = problem(name)
        if reason is not None:
            raise error(f"{source}: column {column}: class name {name!r} {reason}; "
                        "class names must be printable text")


def literal(text: str) -> str:
    """``text`` as matplotlib must be given it to draw it as it is: each ``$`` escaped, so no
    part of it is read as math.

    >>> literal("$x^2$ costs $5")
    '\\\\$x^2\\\\$ costs \\\\$5'
    """
    return text.replace("$", r"\$")


def protect_cell(name: str) -> str:
    """The CSV cell of a name: with a leading single quote when it starts like a formula or
    with a single quote, else the name itself.

    >>> [protect_cell(n) for n in ["-1", "'quoted'", "cat", "a=b"]]
    ["'-1", "''quoted'", 'cat', 'a=b']
    """
    return QUOTE + name if name.startswith(FORMULA_STARTS + (QUOTE,)) else name


def unprotect_cell(cell: str) -> str:
    """The name a CSV cell written by :func:`protect_cell` holds.

    >>> [unprotect_cell(c) for c in ["'-1", "''quoted'", "cat"]]
    ['-1', "'quoted'", 'cat']
    """
    return cell[len(QUOTE):] if cell.startswith(QUOTE) else cell
