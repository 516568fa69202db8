"""Registries: every choice a user names is one entry in one table.

A :class:`Registry` holds the entries of one kind of choice (similarity measures, per-sample
transforms, distances, hclust linkages, orderings, group methods). Each :class:`Entry` holds
the callable, a one-line description, its options (:class:`Option`: name, type, default,
help) and the facts the rest of the code needs (for an ordering: whether it gives a tree,
needs R, how its time and memory grow). The command line's choices and help, ``blocks-rx
methods``, ``doctor``, the preflight and the tests all read these tables, so adding a
measure or an ordering is one entry plus one function; R's seriation package keeps its
methods the same way (``AAA_registry_seriate.R``).

>>> from blocks_rx.similarity import MEASURES
>>> MEASURES["pearson"].description
"Pearson correlation of the score columns (the paper's Eq. 1)."
>>> MEASURES["kendall"]
Traceback (most recent call last):
...
blocks_rx.errors.UnknownChoice: unknown similarity measure 'kendall'; choose one of pearson, spearman, sample-rank
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from .errors import OptionError, UnknownChoice


@dataclass(frozen=True)
class Option:
    """One parameter of a registered method.

    Parameters
    ----------
    name : str
        The Python keyword (``linkage``); the command line spells it ``--linkage``.
    default
        Used when the caller does not give the option.
    help : str
        One line for ``--help`` and the docs.
    type : callable
        Converts a command-line string to the value (``int``, ``float``, ``str``...).
    choices : tuple, Registry or callable, optional
        Allowed values; a Registry means its entry names.
    metavar : str, optional
        Placeholder in ``--help``.
    required : bool
        The method cannot run without it (the taxonomy of the taxonomy order).
    bounds : (low, high), optional
        For numbers: the smallest and largest value allowed (None: unbounded).
    """

    name: str
    default: Any
    help: str
    type: Callable[[str], Any] = str
    choices: Any = None
    metavar: str | None = None
    required: bool = False
    bounds: tuple | None = None

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    def allowed(self) -> tuple | None:
        """The allowed values as a tuple, or None when any value of the type goes."""
        if self.choices is None:
            return None
        if isinstance(self.choices, Registry):
            return tuple(self.choices)
        if callable(self.choices):
            return tuple(self.choices())
        return tuple(self.choices)

    def check(self, value, owner: str):
        """Return ``value`` if it is allowed, else raise :class:`OptionError` naming both.

        >>> Option("n_groups", None, "groups", type=int, bounds=(2, None)).check(2.5, "m")
        Traceback (most recent call last):
        ...
        blocks_rx.errors.OptionError: m: n_groups must be a whole number, got 2.5
        """
        if value is not None and self.type in (int, float):
            value = _number(value, self.type, f"{owner}: {self.name}")
            low, high = self.bounds or (None, None)
            if (low is not None and value < low) or (high is not None and value > high):
                span = (f"from {low} to {high}" if low is not None and high is not None
                        else f"at least {low}" if low is not None else f"at most {high}")
                raise OptionError(f"{owner}: {self.name} must be {span}, got {value}")
        allowed = self.allowed()
        if allowed is not None and value not in allowed:
            raise OptionError(f"{owner}: {self.name}={value!r} is not one of "
                              f"{', '.join(map(str, allowed))}")
        return value


def _number(value, kind, what: str):
    """``value`` as an int (a whole number) or a finite float, else :class:`OptionError`."""
    import numbers

    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise OptionError(f"{what} must be a number, got {value!r}")
    if not math.isfinite(value):
        raise OptionError(f"{what} must be finite, got {value}")
    if kind is int:
        if value != int(value):
            raise OptionError(f"{what} must be a whole number, got {value}")
        return int(value)
    return float(value)


@dataclass(frozen=True)
class Cost:
    """How a method's run time grows with the number of classes ``m``.

    ``kind`` is ``"constant"``, ``"polynomial"`` (time ~ m**exponent, anchored at
    ``reference_seconds`` measured on ``reference_m`` classes on this project's 2-core
    machines), ``"exponential"`` (feasible only up to ``reference_m``), or ``"unknown"``.

    >>> Cost("polynomial", 3, 2622, 8.2).seconds(5244)
    65.6
    >>> Cost("exponential", reference_m=25, reference_seconds=30.0).seconds(100)
    inf
    """

    kind: str = "unknown"
    exponent: float = 0.0
    reference_m: int = 0
    reference_seconds: float = 0.0

    def seconds(self, m: int) -> float | None:
        """Estimated seconds on ``m`` classes; ``inf`` past an exponential method's reach."""
        if self.kind == "constant":
            return 0.0
        if self.kind == "exponential":
            return math.inf if m > self.reference_m else self.reference_seconds
        if self.kind == "polynomial":
            return self.reference_seconds * (m / self.reference_m) ** self.exponent
        return None

    @property
    def label(self) -> str:
        if self.kind == "polynomial":
            return f"O(m^{self.exponent:g})"
        return {"constant": "O(1)", "exponential": "exponential"}.get(self.kind, "unknown")


@dataclass(frozen=True)
class Entry:
    """A registered method: the callable, what it is, and what it takes.

    Registries of one kind use a subclass that adds that kind's facts (see
    :class:`blocks_rx.ordering.OrderingMethod`).
    """

    name: str
    function: Callable | None
    description: str
    options: tuple[Option, ...] = ()

    def option(self, name: str) -> Option | None:
        return next((o for o in self.options if o.name == name), None)

    def bind(self, given: Mapping[str, Any] | None = None, *, kind: str = "method") -> dict:
        """Keyword arguments for :attr:`function`: the given options checked, defaults filled.

        Raises :class:`OptionError` for an option this entry does not take.

        >>> from blocks_rx.ordering import ORDERINGS
        >>> ORDERINGS["hclust"].bind({"linkage": "average"})["distance"]
        '1-r'
        """
        given = dict(given or {})
        names = {o.name for o in self.options}
        foreign = sorted(set(given) - names)
        if foreign:
            takes = ", ".join(sorted(names)) or "no options"
            raise OptionError(f"{kind} {self.name!r} does not take {', '.join(foreign)} "
                              f"(it takes {takes})")
        missing = [o for o in self.options if o.required and given.get(o.name) is None]
        if missing:
            o = missing[0]
            raise OptionError(f"{kind} {self.name!r} needs {o.name} ({o.help}; command "
                              f"line: {o.flag})")
        return {o.name: o.check(given[o.name], f"{kind} {self.name!r}") if o.name in given
                else o.default for o in self.options}

    def facts(self) -> dict:
        """The kind-specific facts of this entry, as plain values (for tables and JSON); its
        other callables (a group method's ``load``) are not facts."""
        skip = {"name", "function", "description", "options"}
        return {k: v.label if isinstance(v, Cost) else v for k, v in self.__dict__.items()
                if k not in skip and not callable(v)}


E = TypeVar("E", bound=Entry)


@dataclass
class Registry(Generic[E], Mapping[str, E]):
    """An ordered table of entries of one kind, looked up by name.

    ``missing`` may build an entry for a name not registered in advance (R's seriation
    methods of a newer seriation version), or return None.
    """

    kind: str
    entries: dict[str, E] = field(default_factory=dict)
    missing: Callable[[str], E | None] | None = None

    def register(self, entry: E) -> E:
        if entry.name in self.entries:
            raise ValueError(f"{self.kind} {entry.name!r} is registered twice")
        self.entries[entry.name] = entry
        return entry

    def __getitem__(self, name: str) -> E:
        if name in self.entries:
            return self.entries[name]
        found = self.missing(name) if self.missing is not None and isinstance(name, str) else None
        if found is not None:
            return found
        raise UnknownChoice(f"unknown {self.kind} {name!r}; choose one of "
                            f"{', '.join(self.entries)}")

    def __iter__(self) -> Iterator[str]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def __contains__(self, name) -> bool:
        return name in self.entries

    def options(self) -> dict[str, tuple[Option, list[str]]]:
        """Every option any entry takes: name -> (the first entry's Option, entry names)."""
        out: dict[str, tuple[Option, list[str]]] = {}
        for entry in self.entries.values():
            for option in entry.options:
                out.setdefault(option.name, (option, []))[1].append(entry.name)
        return out

    def table(self) -> list[dict]:
        """One row per entry: name, description, options and facts (for docs and listings)."""
        return [{"name": e.name, "description": e.description,
                 "options": [o.name for o in e.options], **e.facts()}
                for e in self.entries.values()]
