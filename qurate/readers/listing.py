"""Which files an input argument means: listed once, sorted, and every skip named.

A folder is walked recursively; hidden entries (a name starting with ``.``) are not
inputs. Everything else that is not read is recorded as a :class:`SkippedInput` with the
reason, so the manifest and the summary can say what was left out and why:

- ``unknown format``: a regular file whose name matches no reader's suffix;
- ``dangling symlink``, ``FIFO``, ``socket``, ``device``: not a regular file. It is never
  opened, so a FIFO cannot block the run;
- a directory named like an input (``x.jsonl/``): noted, and walked like any folder;
- ``symlink to a directory``: not followed (a link cycle cannot loop the walk);
- ``unreadable directory (Permission denied)``: a folder the user may not list;
- a stage directory (one holding ``manifest.json``, e.g. an earlier ``qurate curate``
  output): only its kept ``part-*.parquet`` shards are read; its manifest, ``stats/``,
  ``rejects/`` and sub-stages are listed as skipped.

An input argument that cannot be used at all (missing, a FIFO or device given directly,
unreadable, a Parquet file with a corrupt footer or without the text column) fails the run
before any work starts, with a one-line error naming the path.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from qurate.contract.files import MANIFEST, not_regular, text_name, walk
from qurate.errors import BadInputError

JSONL_SUFFIXES = (".jsonl", ".json", ".ndjson", ".jsonl.gz", ".json.gz", ".jsonl.zst", ".json.zst")
TEXT_SUFFIXES = (".txt", ".md", ".rst", ".text", ".markdown")
PARQUET_SUFFIXES = (".parquet",)
WARC_SUFFIXES = (".warc", ".warc.gz", ".wet", ".wet.gz", ".arc.gz")
ALL_SUFFIXES = JSONL_SUFFIXES + TEXT_SUFFIXES + PARQUET_SUFFIXES + WARC_SUFFIXES
# At most this many skipped paths are listed one by one in a manifest; all are counted.
MAX_LISTED_SKIPS = 200
DIR_NAMED_LIKE_FILE = "a directory named like a file (walked as a folder)"
STAGE_DIR_ENTRY = "part of a stage directory (only its kept part-*.parquet shards are read)"


@dataclass(frozen=True)
class InputFile:
    """One file to read: its path, format, and the name used for derived ids and `source`."""

    path: str
    kind: str  # jsonl | parquet | text | warc
    rel: str  # path relative to the input argument, prefixed by that argument's name
    source: str  # default `source` column value


@dataclass(frozen=True)
class SkippedInput:
    """A path under an input folder that is not read, and why."""

    path: str
    reason: str


@dataclass
class InputPlan:
    """The files to read, in order, and what was skipped on the way."""

    files: list[InputFile] = field(default_factory=list)
    skipped: list[SkippedInput] = field(default_factory=list)

    def skipped_summary(self) -> dict:
        """The manifest entry: counts by reason and the first paths, with their reasons."""
        by_reason: dict[str, int] = {}
        for s in self.skipped:
            by_reason[s.reason] = by_reason.get(s.reason, 0) + 1
        return {
            "count": len(self.skipped),
            "by_reason": dict(sorted(by_reason.items())),
            "paths": [
                {"path": s.path, "reason": s.reason} for s in self.skipped[:MAX_LISTED_SKIPS]
            ],
        }


def input_kind(path: Path | str) -> str | None:
    """The reader for a file name (jsonl, parquet, warc, text), or None."""
    name = Path(path).name.lower()
    for kind, suffixes in (
        ("jsonl", JSONL_SUFFIXES),
        ("parquet", PARQUET_SUFFIXES),
        ("warc", WARC_SUFFIXES),
        ("text", TEXT_SUFFIXES),
    ):
        if name.endswith(suffixes):
            return kind
    return None


def _check_readable(path: Path, kind: str, text_key: str | None) -> None:
    if not os.access(path, os.R_OK):
        raise BadInputError(f"{path}: permission denied")
    if kind == "parquet":
        import pyarrow.parquet as pq

        try:
            names = pq.read_schema(path).names
        except Exception as e:
            raise BadInputError(f"{path}: truncated or corrupt Parquet file ({e})") from e
        if text_key is not None and text_key not in names:
            raise BadInputError(
                f"{path}: no '{text_key}' column (columns: {', '.join(names)}); "
                "set text_key in the config"
            )


def scan_inputs(paths: list[str | Path], text_key: str | None = None) -> InputPlan:
    """Expand input arguments (files or folders) to the sorted files to read, and the skips.

    ``text_key``, when given, is checked against every Parquet file's columns up front.
    """
    plan = InputPlan()
    for arg in paths:
        root = Path(arg)
        if not root.exists():
            why = "a dangling symlink" if root.is_symlink() else "no such file or directory"
            raise BadInputError(f"{root}: {why}")
        if root.is_dir():
            _scan_folder(root, plan, text_key)
            continue
        why = not_regular(root)
        if why is not None:
            raise BadInputError(f"{root}: not a regular file ({why}); qurate reads regular files")
        kind = input_kind(root)
        if kind is None:
            raise BadInputError(
                f"{root}: unknown input format (expected one of {', '.join(ALL_SUFFIXES)})"
            )
        _check_readable(root, kind, text_key)
        name = text_name(root.name)
        plan.files.append(InputFile(str(root), kind, name, source=stem(name)))
    return plan


def _scan_folder(root: Path, plan: InputPlan, text_key: str | None) -> None:
    found: list[Path] = []

    def unreadable(e: OSError) -> None:  # was passed over unsaid: its files silently not read
        plan.skipped.append(SkippedInput(str(e.filename), f"unreadable directory ({e.strerror})"))

    # does not follow directory symlinks
    for dirpath, dirnames, filenames in walk(root, onerror=unreadable):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        here = Path(dirpath)
        if MANIFEST in filenames and (here / MANIFEST).is_file():
            _scan_stage_dir(here, dirnames, filenames, found, plan)
            dirnames[:] = []  # its rejects, stats and long-context stages are not documents
            continue
        for d in dirnames:
            if (here / d).is_symlink():
                plan.skipped.append(SkippedInput(str(here / d), "symlink to a directory"))
            elif input_kind(d):
                plan.skipped.append(SkippedInput(str(here / d), DIR_NAMED_LIKE_FILE))
        for name in filenames:
            if name.startswith("."):
                continue
            p = here / name
            why = not_regular(p)
            if why is None and input_kind(p) is not None:
                found.append(p)
            else:
                plan.skipped.append(SkippedInput(str(p), why or "unknown format"))
    if not found:
        raise BadInputError(
            f"{root}: no input files here (looked for {', '.join(ALL_SUFFIXES)})"
            + (f"; skipped {len(plan.skipped)} other entries" if plan.skipped else "")
        )
    for p in sorted(found):
        kind = input_kind(p)
        _check_readable(p, kind, text_key)
        rel = text_name(f"{root.name}/{p.relative_to(root).as_posix()}")
        plan.files.append(InputFile(str(p), kind, rel, source=text_name(root.name)))


def _scan_stage_dir(
    here: Path, dirnames: list[str], filenames: list[str], found: list[Path], plan: InputPlan
) -> None:
    """A finished stage directory inside an input folder: only its kept shards are documents.

    Walked like any folder, it would feed ``manifest.json`` and ``stats/*.json`` to the JSONL
    reader (hundreds of ``malformed_json`` rejects) and its ``rejects/`` back in as input."""
    for d in dirnames:
        plan.skipped.append(SkippedInput(str(here / d), STAGE_DIR_ENTRY))
    for name in sorted(filenames):
        if name.startswith("."):
            continue
        p = here / name
        if name.startswith("part-") and name.endswith(".parquet") and not_regular(p) is None:
            found.append(p)
        else:
            plan.skipped.append(SkippedInput(str(p), STAGE_DIR_ENTRY))


def list_inputs(paths: list[str | Path], text_key: str | None = None) -> list[InputFile]:
    """The files :func:`scan_inputs` would read (skips are not reported)."""
    return scan_inputs(paths, text_key).files


def stem(name: str) -> str:
    """A file name without its input suffix (``a.jsonl.gz`` -> ``a``)."""
    for suffix in sorted(ALL_SUFFIXES, key=len, reverse=True):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name
