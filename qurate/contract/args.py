"""The library calls' arguments, checked at the call: paths, lists of paths, config sections.

The CLI hands every stage a parsed path and a validated config section, so the stages took
them as given. Called from Python, the same stages met what a script passes: ``curate(
"raw.jsonl", ...)`` curated each character of the name (``r: no such file``); ``None`` or a
dict where a config section goes, or the wrong section (``mix(..., cfg.curate)``), was an
``AttributeError`` deep inside; an ``int`` or ``None`` path was Python's ``TypeError`` that
names no argument (or, in ``train``, the directory ``"None"``). Here each becomes what a
caller can use: a single path is a list of one, ``None`` is the section's defaults, a dict
is validated like the YAML section, and anything else is a one-line error naming the argument.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel

from qurate.errors import BadInputError, ConfigError, QurateError

M = TypeVar("M", bound=BaseModel)

_PATHS = "a path (str or pathlib.Path)"


def _got(value: Any) -> str:
    return f"got {type(value).__name__} {value!r:.60}"


def as_path(value: Any, what: str, error: type[QurateError] = BadInputError) -> Path:
    """``value`` (str, ``os.PathLike``, bytes) as a ``Path``, or an ``error`` naming ``what``.
    The empty string is refused: ``Path("")`` is the working directory."""
    if isinstance(value, bytes):
        value = os.fsdecode(value)
    if not isinstance(value, (str, os.PathLike)):
        raise error(f"{what}: expected {_PATHS}, {_got(value)}")
    text = os.fspath(value)
    if not isinstance(text, str):  # an os.PathLike that returns bytes
        text = os.fsdecode(text)
    if not text:
        raise error(f"{what}: the path is empty; give a file or folder")
    if "\0" in text:
        raise error(f"{what}: {text!r:.60} holds a NUL byte, which no path can")
    return Path(text)


def as_paths(value: Any, what: str) -> list[Path]:
    """``value`` as a list of paths: a single path is a list of one (a ``str`` is iterable,
    and was read one character at a time); any other iterable gives each of its items."""
    if isinstance(value, (str, bytes, os.PathLike)):
        return [as_path(value, what)]
    if not isinstance(value, Iterable) or isinstance(value, Mapping):
        raise BadInputError(f"{what}: expected {_PATHS} or a list of them, {_got(value)}")
    return [as_path(v, what) for v in value]


def as_config(value: Any, model: type[M], what: str, *, hint: str = "") -> M:
    """``value`` as ``model``: None is its defaults, a mapping is validated like its YAML
    section (one-line ``ConfigError`` naming the key), anything else is refused by name
    (``hint`` says where the right one comes from, e.g. ``load_config(path).curate``)."""
    from qurate.contract.config import validate  # config reads paths with this module

    if isinstance(value, model):
        return value
    if value is None or isinstance(value, Mapping):
        return validate(model, dict(value or {}), source=what)
    where = f" ({hint})" if hint else ""
    raise ConfigError(
        f"{what}: expected {model.__name__}{where} or a dict of its keys, "
        f"got {type(value).__name__}"
    )
