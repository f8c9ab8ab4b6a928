"""What a setting's value may be: small constraint objects declared next to each setting.

scikit-learn's ``_parameter_constraints`` is the model: ``setting(default, *constraints)``
puts them in the dataclass field's metadata, and a value is valid when it satisfies any
of them. Each constraint checks the value's type as well as its range or choices, and
``describe()`` says in words what it allows; ``violation`` joins those into the one-line
error messages of ``pipeline.config`` ("must be a float in (0, 1]; got 2 (e.g. …)").
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, NamedTuple


class Constraint:
    """One kind of value a setting accepts."""

    def is_satisfied_by(self, value: Any) -> bool:
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError


@dataclass(frozen=True)
class Interval(Constraint):
    """An ``int`` or ``float`` between ``low`` and ``high`` (``None``: unbounded).

    ``closed`` says which ends belong to it: "both", "left", "right" or "neither".
    Booleans are not numbers here, and NaN is in no interval.
    """

    kind: type
    low: float | None = None
    high: float | None = None
    closed: str = "both"

    def is_satisfied_by(self, value: Any) -> bool:
        if isinstance(value, bool) or not isinstance(value, self.kind) or math.isnan(value):
            return False
        left = self.closed in ("both", "left")
        right = self.closed in ("both", "right")
        if self.low is not None and (value < self.low if left else value <= self.low):
            return False
        return self.high is None or (value <= self.high if right else value < self.high)

    def describe(self) -> str:
        noun = "an int" if self.kind is int else "a float"
        left = self.closed in ("both", "left")
        right = self.closed in ("both", "right")
        low, high = (None if end is None else str(end) if self.kind is int else f"{end:g}"
                     for end in (self.low, self.high))
        if low is None and high is None:
            return noun
        if high is None:
            return f"{noun} {'≥' if left else '>'} {low}"
        if low is None:
            return f"{noun} {'≤' if right else '<'} {high}"
        return f"{noun} in {'[' if left else '('}{low}, {high}{']' if right else ')'}"


class Options(Constraint):
    """One of a few values (of the same type: ``0`` does not admit ``False``).

    ``note`` says what a lone special value means: ``Options(0, note="auto")``.
    """

    def __init__(self, *choices: Any, note: str = "") -> None:
        self.choices = choices
        self.note = note

    def is_satisfied_by(self, value: Any) -> bool:
        return any(value == choice and type(value) is type(choice) for choice in self.choices)

    def describe(self) -> str:
        listed = ", ".join(_shown(c) for c in self.choices)
        listed = listed if len(self.choices) == 1 else f"one of {listed}"
        return f"{listed} ({self.note})" if self.note else listed

    def __repr__(self) -> str:
        return f"Options{self.choices!r}"


@dataclass(frozen=True)
class ListOf(Constraint):
    """A list whose every item satisfies ``item`` (an empty list does)."""

    item: Constraint

    def is_satisfied_by(self, value: Any) -> bool:
        return isinstance(value, list) and all(self.item.is_satisfied_by(v) for v in value)

    def describe(self) -> str:
        return f"a list, each item {self.item.describe()}"


@dataclass(frozen=True)
class MappingOf(Constraint):
    """A table (dict) whose every key satisfies ``key`` and every value ``value`` (``{}`` does)."""

    key: Constraint
    value: Constraint

    def is_satisfied_by(self, value: Any) -> bool:
        return isinstance(value, dict) and all(self.key.is_satisfied_by(k) and self.value.is_satisfied_by(v)
                                               for k, v in value.items())

    def describe(self) -> str:
        return f"a table, each key {self.key.describe()} and each value {self.value.describe()}"


@dataclass(frozen=True)
class Text(Constraint):
    """Any string; ``non_empty`` refuses ``""``."""

    non_empty: bool = False

    def is_satisfied_by(self, value: Any) -> bool:
        return isinstance(value, str) and (bool(value.strip()) or not self.non_empty)

    def describe(self) -> str:
        return "a non-empty string" if self.non_empty else "a string"


@dataclass(frozen=True)
class Flag(Constraint):
    """``true`` or ``false``."""

    def is_satisfied_by(self, value: Any) -> bool:
        return isinstance(value, bool)

    def describe(self) -> str:
        return "a boolean (true or false)"


@dataclass(frozen=True)
class Matches(Constraint):
    """A string matching ``pattern`` in full, described as ``description``."""

    pattern: str
    description: str

    def is_satisfied_by(self, value: Any) -> bool:
        return isinstance(value, str) and re.fullmatch(self.pattern, value) is not None

    def describe(self) -> str:
        return self.description


@dataclass(frozen=True)
class TextEncoding(Constraint):
    """The name of a text encoding Python can decode bytes with (not ``rot13`` or ``base64``)."""

    def is_satisfied_by(self, value: Any) -> bool:
        if not isinstance(value, str) or not value:
            return False
        try:
            b"x".decode(value)          # empty bytes would skip the codec lookup
        except LookupError:
            return False
        except ValueError:              # a text encoding that cannot decode b"x" alone (utf-16)
            pass
        return True

    def describe(self) -> str:
        return "a text encoding Python knows (e.g. 'utf-8', 'cp1252', 'latin-1')"


@dataclass(frozen=True)
class ExistingFile(Constraint):
    """The path of a file that exists (relative paths from the working directory).

    Whether a file exists is a fact about the machine, not about the value: settings
    recorded by an earlier run (``Config.from_dict``) are not held to it.
    """

    def is_satisfied_by(self, value: Any) -> bool:
        return isinstance(value, str) and bool(value) and Path(value).is_file()

    def describe(self) -> str:
        return "the path of an existing file"


class Requires(NamedTuple):
    """A rule between settings: when ``setting``'s value passes ``applies``, ``other`` must
    satisfy ``allowed``.

    ``example`` is the value of ``other`` an error message suggests.
    """

    setting: str
    applies: Callable[[Any], bool]
    other: str
    allowed: Constraint
    example: Any


def _shown(value: Any) -> str:
    return repr(value) if not isinstance(value, float) else f"{value:g}"


_TYPE_CONSTRAINTS: dict[type, Constraint] = {bool: Flag(), str: Text(), int: Interval(int),
                                             float: Interval(float), list: ListOf(Text()),
                                             dict: MappingOf(Text(), Text())}


def setting(default: Any, *constraints: Constraint, example: Any = None) -> Any:
    """A dataclass field whose value must satisfy one of ``constraints``.

    Without constraints the default's type is the constraint. ``example`` (default: the
    default) is the value an error message suggests.
    """
    if not constraints:
        constraints = (_TYPE_CONSTRAINTS[type(default)],)
    metadata = {"constraints": constraints, "example": default if example is None else example}
    if isinstance(default, (list, dict)):
        return dataclasses.field(default_factory=lambda: type(default)(default), metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


# --- how a violation reads -----------------------------------------------------------------

class Origin(NamedTuple):
    """Where a setting's value came from: ``kind`` is set, env, file or recorded."""

    kind: str
    label: str          # "--set", the variable's name, the file's path, or the record's description
    given: Any          # the value as given, before coercion


def violation(dotted: str, allowed: str, value: Any, origin: Origin | None, example: Any, *,
              env_name: str, cited: bool = True) -> str:
    """One line: the setting, what it allows, the value and where it came from, and a fix
    written the way the value was given (``--set``, ``env_name``, or the TOML file).

    ``cited``: the value came from ``origin`` (else ``origin`` only says how to fix it).
    """
    kind = origin.kind if origin is not None else "default"
    given = origin.given if cited and kind in ("set", "env", "file") else value
    source = {"env": " from ", "file": " in ", "recorded": " in "}.get(kind, "") if cited else ""
    source = source and source + origin.label
    section, _, key = dotted.partition(".")
    if kind == "file":
        fix = f"{key} = {_toml_text(example)} under [{section}]" + ("" if cited else f" in {origin.label}")
    elif kind == "env":
        fix = f"{env_name}={_cli_text(example)}"
    else:
        fix = f"--set {dotted}={_cli_text(example)}"
    return f"setting {dotted!r} must be {allowed}; got {given!r}{source} (e.g. {fix})"


def _cli_text(value: Any) -> str:
    """``value`` as one would type it after ``--set key=``."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return ",".join(map(str, value)) if value else "[]"
    if isinstance(value, dict):
        return "'" + _toml_text(value) + "'"
    return '""' if value == "" else str(value)


def _toml_text(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return "[" + ", ".join(_toml_text(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(str(k))} = {_toml_text(v)}" for k, v in value.items()) + "}"
    return json.dumps(value) if isinstance(value, str) else repr(value)
