"""The shape every reader returns."""

from __future__ import annotations

from typing import Any, NamedTuple


class Raw(NamedTuple):
    """What a reader found: the values, the class names and labels stored with them (or
    None), and the name of the source to use in messages."""

    values: Any
    classes: list[str] | None
    labels: Any
    name: str
