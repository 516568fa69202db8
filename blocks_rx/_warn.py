"""Warnings attributed to the line of the caller's own code that led to them.

A warning's ``stacklevel`` counts frames, and the same warning can be reached from a
public function called directly or from deep inside :func:`blocks_rx.analyze`; a fixed
count then names a line inside blocks-rx (or inside IPython) instead of the user's.
:func:`warn_caller` walks out of the package instead.
"""

from __future__ import annotations

import sys
import warnings

_PACKAGE = __name__.split(".")[0]


def warn_caller(message, category=UserWarning) -> None:
    """:func:`warnings.warn`, attributed to the first frame outside blocks-rx.

    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warn_caller("careful")
    >>> caught[0].message.args[0], caught[0].filename.endswith("_warn.py")
    ('careful', False)
    """
    frame, level = sys._getframe(1), 2
    while frame is not None and _in_package(frame.f_globals.get("__name__", "")):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)


def _in_package(module: str) -> bool:
    return module == _PACKAGE or module.startswith(_PACKAGE + ".")
