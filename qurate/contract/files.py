"""The files of a stage directory, written safely: atomic writes and the manifest.

One write-temp-then-rename for every file qurate writes (a reader never sees half a file),
and the manifest, which refuses to be written unless ``in == kept + rejected`` and is written
last, so that its presence means "finished". ``StageDir`` (``qurate.contract.stagedir``)
builds the rerun policy on these; readers call ``require_finished``.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import shutil
import stat
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from qurate import __version__
from qurate.contract.schema import DOC_SCHEMA, SCHEMA_VERSION
from qurate.errors import BadInputError

MANIFEST = "manifest.json"
LOCK = ".qurate.lock"  # held while a stage runs (contract/stagedir.py)
RUN_MARKER = ".qurate-run.json"  # a stage started here and has not finished
# In a `qurate run` output folder: the stage directories its last run's config makes. The
# report reads only those, not what an earlier config left beside them.
RUN_STAGES = ".qurate-stages.json"
COMPRESSION = "zstd"
# Stages whose output is kept documents in the pinned schema. One that keeps nothing still
# gets one empty shard: DuckDB, polars and HF `datasets` refuse a glob that matches no file,
# so without it `SELECT ... FROM 'out/curated/*.parquet'` fails on a valid, finished stage.
DOC_STAGES = frozenset({"curate", "score.apply", "recall", "augment_ingest", "synth_filter", "mix"})
EMPTY_SHARD = "part-00000-00000.parquet"


# --- atomic writes --------------------------------------------------------------------------


def not_regular(path: Path) -> str | None:
    """Why ``path`` is not a regular file (without opening it), or None if it is one."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return "dangling symlink" if path.is_symlink() else "vanished"
    except OSError as e:
        return f"cannot stat ({e.strerror})"
    mode = st.st_mode
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "directory"
    if stat.S_ISFIFO(mode):
        return "FIFO"
    if stat.S_ISSOCK(mode):
        return "socket"
    return "device"


def walk(
    root: str | Path, onerror: Callable[[OSError], None] | None = None
) -> Iterator[tuple[str, list[str], list[str]]]:
    """``os.walk(root)`` (top-down, directory symlinks listed but not followed, unreadable
    directories passed over, given to ``onerror`` when there is one) without recursion:
    Python 3.11's ``os.walk`` recurses once per level, so a folder tree about 1,000 levels
    deep was a ``RecursionError``. As with ``os.walk``, the caller may prune ``dirnames``
    in place."""
    stack = [os.fspath(root)]
    while stack:
        top = stack.pop()
        dirnames: list[str] = []
        filenames: list[str] = []
        try:
            with os.scandir(top) as entries:
                for entry in entries:
                    try:
                        is_dir = entry.is_dir()
                    except OSError:
                        is_dir = False
                    (dirnames if is_dir else filenames).append(entry.name)
        except OSError as e:
            if onerror is not None:
                onerror(e)
            continue
        yield top, dirnames, filenames
        for name in reversed(dirnames):  # reversed: the first name is walked first
            path = os.path.join(top, name)
            if not os.path.islink(path):
                stack.append(path)


def files_under(root: str | Path) -> list[Path]:
    """Every file below ``root``, sorted, by ``walk`` (directory symlinks not followed):
    ``Path.rglob`` recursed once per level on Python 3.11, a ``RecursionError`` for a folder
    tree about 1,000 levels deep."""
    found: list[Path] = []
    for top, _dirs, names in walk(root):
        found += [p for p in (Path(top) / n for n in names) if p.is_file()]
    return sorted(found)


def require_shard_file(path: Path) -> None:
    """A one-line error if an entry named like a shard is not a regular file: a FIFO
    ``part-1.parquet`` blocked every reader on open forever, and a folder of that name is
    data that skipping would lose without a word."""
    if (why := not_regular(path)) is not None:
        raise BadInputError(f"{path}: not a regular file ({why}); a stage's shards are files")


NO_SUCH_FILE = "no such file or directory"


def file_problem(path: Path) -> str | None:
    """Why ``path`` cannot be opened as a file, in words (``NO_SUCH_FILE``, ``not a regular
    file (FIFO)``), or None: a FIFO given as a config, benchmark or samples file was called
    "not found" though it is there."""
    why = not_regular(path)
    if why is None:
        return None
    return NO_SUCH_FILE if why == "vanished" else f"not a regular file ({why})"


def _tmp_name(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def atomic_write(path: str | Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp)`` then rename ``tmp`` to ``path``: a reader sees all or nothing."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp_name(path)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            tmp.unlink(missing_ok=True)
        raise
    return path


def text_name(name: str) -> str:
    """``name`` as text that can be stored: a file name that is not valid UTF-8 (bytes such
    as ``\\xff``, which Python holds as lone surrogates) with those bytes written ``\\xff``.
    Kept as it was, it made every id derived from it and every ``source`` value unwritable
    (``UnicodeEncodeError: surrogates not allowed`` in the reader task)."""
    return os.fsencode(name).decode("utf-8", "backslashreplace")


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` via a temporary file and rename."""
    return atomic_write(path, lambda tmp: tmp.write_bytes(data))


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write UTF-8 ``text`` to ``path`` via a temporary file and rename."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def write_table(path: str | Path, table: pa.Table, **kwargs: Any) -> Path:
    """Write one zstd Parquet shard atomically (temp name, then rename)."""
    return atomic_write(
        path, lambda tmp: pq.write_table(table, tmp, compression=COMPRESSION, **kwargs)
    )


# --- manifests ------------------------------------------------------------------------------


def config_hash(config: Any) -> str:
    """A short, stable hash of a config (a pydantic model or any JSON-able object)."""
    if hasattr(config, "model_dump"):
        config = config.model_dump(mode="json")
    blob = json.dumps(config, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def write_manifest(
    directory: str | Path,
    *,
    stage: str,
    config_hash: str,
    inputs: Iterable[str],
    n_in: int,
    n_kept: int,
    rejected_by_reason: dict[str, int],
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Write ``manifest.json``; refuse to if the counts do not add up (nothing lost silently)."""
    n_rejected = sum(rejected_by_reason.values())
    if n_in != n_kept + n_rejected:
        raise AssertionError(
            f"stage {stage}: {n_in} documents in but {n_kept} kept + {n_rejected} rejected"
        )
    manifest: dict[str, Any] = {
        "stage": stage,
        "qurate_version": __version__,
        "schema_version": SCHEMA_VERSION,
        "config_hash": config_hash,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "inputs": [str(i) for i in inputs],
        "counts": {
            "in": n_in,
            "kept": n_kept,
            "rejected": n_rejected,
            "rejected_by_reason": dict(sorted(rejected_by_reason.items())),
        },
    }
    if extra:
        manifest.update(extra)
    directory = Path(directory)
    if stage in DOC_STAGES and not any(
        not p.name.startswith(".") for p in directory.glob("*.parquet")
    ):
        write_table(directory / EMPTY_SHARD, DOC_SCHEMA.empty_table())
    # A path that is not valid UTF-8 (a file named with byte \xff, held as a lone surrogate)
    # is written as the JSON escape "\udcff", which reads back as the same path; plain UTF-8
    # refused it and the finished run had no manifest.
    text = json.dumps(manifest, indent=2, ensure_ascii=False)
    atomic_write_bytes(Path(directory) / MANIFEST, text.encode("utf-8", "backslashreplace"))
    return manifest


def read_manifest(directory: str | Path) -> dict[str, Any]:
    """The manifest of a finished stage directory, or a one-line error."""
    path = Path(directory) / MANIFEST
    if not path.exists():
        raise BadInputError(f"{directory}: no {MANIFEST} (not a finished stage directory)")
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise BadInputError(f"{path}: corrupt manifest ({e})") from e
    if not isinstance(data, dict):
        raise BadInputError(f"{path}: corrupt manifest (not a JSON object)")
    return data


def require_finished(directory: str | Path) -> dict[str, Any]:
    """The manifest of ``directory``; a one-line error when the stage that writes it has not
    finished (no manifest: interrupted, still running, or not a stage directory)."""
    d = Path(directory)
    if not d.is_dir():
        raise BadInputError(f"{d}: no such stage directory")
    if not (d / MANIFEST).is_file():
        started = (RUN_MARKER, LOCK, ".work", "_parts")
        if not any((d / n).exists() for n in started) and not any(d.glob("part-*.parquet")):
            # (raw data: "rerun that stage" sent the user after a stage that never ran)
            raise BadInputError(
                f"{d}: no {MANIFEST}: not a qurate stage directory (a folder of raw files is "
                "read by `qurate curate`; give its output directory here)"
            )
        raise BadInputError(
            f"{d}: no {MANIFEST}, so its stage did not finish (interrupted or still running); "
            "rerun that stage to complete it before reading this directory"
        )
    return read_manifest(d)


def require_finished_dirs(*directories: str | Path | None) -> None:
    """``require_finished`` for each directory that holds Parquet shards (None skipped): the
    one call a reader of several stage directories (the trainer: data plus per-stage data)
    makes. A directory without shards is left to the reader's own, more precise, error."""
    for d in directories:
        if d is not None and Path(d).is_dir() and any(Path(d).glob("*.parquet")):
            require_finished(d)
