"""The one config loader every command uses: YAML file -> one section -> pydantic model.

Why one: four loaders and nine hand-written error formatters drifted apart, and one of
them let Typer's concrete defaults override the file (``score annotate -c`` silently
ignored ``score.engine``). Here, in order:

1. the file is read with a safe loader (``yaml.SafeLoader`` that also refuses a key given
   twice); unreadable YAML or a top level that is not a mapping is a one-line ``ConfigError`` (with the line number when YAML gives one);
2. one section is taken: ``data[section]`` when the file has it; an empty section when the
   file is a pipeline file (it has other pipeline sections) without this one; the whole
   file when it is a stage's own file (``MIX.yaml``, ``train.yaml``) with no sections;
3. flag overrides are applied: a mapping of (possibly dotted) keys, where ``None`` means
   "flag not given", so the file wins unless a flag is given;
4. the result is validated into the model, and a ``ValidationError`` becomes one line that
   names the offending key path (``cfg.yaml: score.engine.kind: Input should be ...``).

This lives in ``contract/`` because ``train/`` (which may import only the contract) uses it too.
"""

from __future__ import annotations

import copy
import math
import typing
from collections.abc import Mapping
from pathlib import Path
from types import UnionType
from typing import Any, TypeVar, Union

import yaml
from pydantic import BaseModel, ValidationError

from qurate.contract.args import as_path
from qurate.contract.files import NO_SUCH_FILE, file_problem
from qurate.errors import ConfigError

M = TypeVar("M", bound=BaseModel)

# Top-level keys of the pipeline file (``qurate init``). A file holding any of them is a
# pipeline file, so a missing section means "defaults", not "the whole file is the section".
PIPELINE_SECTIONS = frozenset(
    {"run", "executor", "curate", "score", "augment", "synth", "mix", "train", "post", "ablate"}
)


class _UniqueKeyLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses a key given twice in one mapping. PyYAML keeps the
    last one silently, so a second ``curate:`` block dropped every key of the first."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # `<<: *anchor` merges are YAML's own way to repeat keys
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, (str, int, float, bool)):
                continue  # an unhashable key is YAML's own error, raised below
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"the key {key!r} is given twice", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def load_yaml(path: str | Path | None, what: str = "config") -> dict[str, Any]:
    """The YAML mapping in ``path`` (``{}`` for no path or an empty file), safely loaded;
    ``what`` names the file in the errors (``mix config``)."""
    if path is None:
        return {}
    parse = "qurate.config.parse_config (a pipeline) or qurate.mixers.parse_mix_config"
    if isinstance(path, Mapping):
        raise ConfigError(
            f"config: expected a path to a YAML file, got a dict; validate it with {parse}"
        )
    if isinstance(path, str) and "\n" in path:
        raise ConfigError(
            f"config: expected a path to a YAML file, got YAML text; pass yaml.safe_load(text) to {parse}"
        )
    p = as_path(path, what, ConfigError)
    if p.is_dir():
        raise ConfigError(f"{p}: is a directory, not a config file (give a YAML file)")
    if (why := file_problem(p)) is not None:
        raise ConfigError(f"{p}: {f'no such {what} file' if why == NO_SUCH_FILE else why}")
    try:
        data = yaml.load(p.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)  # noqa: S506
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise ConfigError(f"{p}{where}: not valid YAML ({problem})") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{p}: cannot read config ({e})") from None
    except RecursionError:  # PyYAML composes nested values recursively: `[[[[...` 600 deep
        raise ConfigError(
            f"{p}: values nested too deeply to read; a config is a few levels"
        ) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{p}: expected a mapping of keys, got a {type(data).__name__}")
    if (problem := _alias_problem(data)) is not None:
        raise ConfigError(f"{p}: {problem}; write the value out")
    return data


MAX_VALUES = 1_000_000  # a config is a few hundred values; aliases of aliases can be 10**9


def _alias_problem(data: Any) -> str | None:
    """What YAML aliases made of the loaded data that no later walk survives, or None: a
    value that holds itself (``&a [*a]``: the NaN check and pydantic recursed until a
    RecursionError, a traceback) or aliases of aliases expanding to more than
    ``MAX_VALUES`` values (ten levels of ten: the run hung)."""
    seen = 0
    open_: set[int] = set()  # the containers on the path from the root to this node

    def walk(node: Any, path: tuple[str, ...]) -> str | None:
        nonlocal seen
        seen += 1
        if seen > MAX_VALUES:
            return f"expands to more than {MAX_VALUES:,} values (YAML aliases of aliases)"
        if not isinstance(node, (dict, list)):
            return None
        if id(node) in open_:
            return f"{'.'.join(path)}: a YAML alias that holds itself (`&a [*a]`)"
        open_.add(id(node))
        items = node.items() if isinstance(node, dict) else enumerate(node)
        try:
            for k, v in items:
                if (found := walk(v, (*path, str(k)))) is not None:
                    return found
        finally:
            open_.discard(id(node))
        return None

    return walk(data, ())


def take_section(
    data: Mapping[str, Any], section: str | None, source: str, *, whole_file: bool = True
) -> dict[str, Any]:
    """One section of a loaded file (see the module docstring for the rule). A dotted
    ``section`` (``synth.generate``) walks into a pipeline file. With ``whole_file`` False a
    file without the section gives the defaults (``executor:`` read beside a stage's section)."""
    if section is None:
        return copy.deepcopy(dict(data))
    top = section.split(".")[0]
    if top in data:
        node: Any = data
        for i, part in enumerate(section.split(".")):
            node = node.get(part) if isinstance(node, dict) else None
            if node is None:
                return {}
            if not isinstance(node, dict):
                where = ".".join(section.split(".")[: i + 1])
                raise ConfigError(
                    f"{source}: {where}: expected a mapping of keys, got a {type(node).__name__}"
                )
        return copy.deepcopy(node)
    if not whole_file or any(k in PIPELINE_SECTIONS for k in data):
        return {}  # a pipeline file without this section: the section's defaults
    return copy.deepcopy(dict(data))  # a stage's own file: the whole file is the section


def apply_overrides(data: dict[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Set each (dotted) key whose value is not None; ``None`` means the flag was not given."""
    for dotted, value in overrides.items():
        if value is None:
            continue
        node = data
        *parents, leaf = dotted.split(".")
        for part in parents:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        node[leaf] = value
    return data


def _valid_keys(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str] | None:
    """The field names of the model at ``loc``'s parent, for an "unknown key" message. A list
    item's or a mapping value's model counts (``run.ingest.0.Domain``: the keys of one
    ``run.ingest`` entry; they went unlisted)."""
    current: Any = model
    for part in loc[:-1]:
        current = _step(current, part)
        if current is None:
            return None
    found = _models(current)
    return sorted(found[0].model_fields) if found else None


def _models(ann: Any) -> list[type[BaseModel]]:
    """The pydantic models ``ann`` is (``M``) or may be (``M | None``)."""
    args = typing.get_args(ann) if typing.get_origin(ann) in (Union, UnionType) else (ann,)
    return [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]


def _step(ann: Any, part: Any) -> Any:
    """The annotation one step of an error's ``loc`` into ``ann``: a field of a model, an
    item of a list, a value of a mapping; None when the step leads nowhere known."""
    for m in _models(ann):
        info = m.model_fields.get(part) if isinstance(part, str) else None
        if info is not None:
            return info.annotation
    origin = typing.get_origin(ann)
    if origin is list and isinstance(part, int):
        return typing.get_args(ann)[0]
    if origin is dict and isinstance(part, str):
        return typing.get_args(ann)[-1]
    return None


def validation_message(
    err: ValidationError, *, source: str, section: str | None = None, model: type | None = None
) -> str:
    """The one-line form of a pydantic error: ``source: section.key.path: what is wrong``."""
    first = err.errors()[0]
    loc = tuple(first["loc"])
    key = ".".join(str(p) for p in ((section,) if section else ()) + loc) or "(top level)"
    msg = str(first["msg"]).removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        valid = _valid_keys(model, loc) if model is not None else None
        msg = "unknown key" + (f" (valid: {', '.join(valid)})" if valid else "")
    more = err.error_count() - 1
    return f"{source}: {key}: {msg}" + (f" (and {more} more)" if more else "")


def _non_finite(data: Any, path: tuple[str, ...] = ()) -> tuple[tuple[str, ...], float] | None:
    """The key path and value of the first NaN or infinity in a loaded config, or None."""
    if isinstance(data, float) and not math.isfinite(data):
        return path, data
    if isinstance(data, dict):
        items = data.items()
    elif isinstance(data, list):
        items = enumerate(data)
    else:
        return None
    for k, v in items:
        found = _non_finite(v, (*path, str(k)))
        if found is not None:
            return found
    return None


def validate(model: type[M], data: Any, *, source: str, section: str | None = None) -> M:
    """``model`` validated from ``data``, or a one-line ``ConfigError`` naming the key.

    NaN and infinity (YAML ``.nan``, ``.inf``) are refused for every key: a NaN threshold
    compares False with everything, so it silently turned a filter off (or rejected every
    document), and ``mix.quality_buckets: [.nan]`` reached DuckDB as a column name."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        where = f"{section}: " if section else ""
        raise ConfigError(f"{source}: {where}expected a mapping of keys, got {type(data).__name__}")
    bad = _non_finite(data)
    if bad is not None:
        key = ".".join(((section,) if section else ()) + bad[0])
        raise ConfigError(
            f"{source}: {key}: {bad[1]} is not a finite number (NaN and infinity are refused; "
            "give a number)"
        )
    try:
        return model.model_validate(data)
    except ValidationError as e:
        raise ConfigError(
            validation_message(e, source=source, section=section, model=model)
        ) from None


def load_section(
    path: str | Path | None,
    section: str | None,
    model: type[M],
    overrides: Mapping[str, Any] | None = None,
    *,
    whole_file: bool = True,
    what: str = "config",
) -> M:
    """Load ``section`` of the YAML file at ``path`` into ``model``, flags applied on top.

    ``path`` None gives the model's defaults (plus the overrides). ``section`` None takes
    the whole file. ``overrides`` maps dotted keys (``engine.kind``) to flag values; a
    ``None`` value is a flag that was not given, so the file's value stands. ``whole_file``:
    see ``take_section``. ``what`` names the file in the errors.
    """
    loaded = load_yaml(path, what)  # refuses a path that is no path
    source = "flags" if path is None else str(as_path(path, what, ConfigError))
    data = take_section(loaded, section, source, whole_file=whole_file)
    apply_overrides(data, overrides or {})
    # name keys by their path in the file: ``mix.seed`` in a pipeline file, ``seed`` in MIX.yaml
    top = section.split(".")[0] if section is not None else None
    named = section if top is not None and (top in loaded or not loaded) else None
    return validate(model, data, source=source, section=named)


__all__ = [
    "PIPELINE_SECTIONS",
    "apply_overrides",
    "load_section",
    "load_yaml",
    "take_section",
    "validate",
    "validation_message",
]
