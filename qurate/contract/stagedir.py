"""One stage directory: atomic writes, the run fingerprint, the manifest, one rerun policy.

Every writing stage opens its output through ``StageDir`` so that reruns behave the same
everywhere (before this, curate refused, score wiped, mix deleted, and the temp-then-rename
dance was written seven times):

- **same run again** (same fingerprint, manifest present): a no-op, ``begin`` returns the
  finished manifest;
- **interrupted run** (our run marker, no manifest): with the same fingerprint it resumes
  (``resume=True``: the stage keeps its finished work) or restarts cleanly in place
  (``resume=False``: everything but the lock is cleared); stale temp files are removed;
- **a different run** (another fingerprint, finished or not): a one-line error naming
  ``--overwrite``; with ``overwrite=True`` the directory is cleared and the run starts;
- **not ours** (a non-empty directory with anything but qurate's files): refused, even with
  ``--overwrite`` (``-o ~`` must never delete a home directory).

A lock (``.qurate.lock``, a POSIX record lock holding the pid) keeps two runs out of one
directory: the second gets a one-line error naming the holder's pid. The kernel drops the
lock when its process dies, so a lock left by a killed run is taken over silently; a run that
ends removes the file. (POSIX locks are not inherited by forked workers, so only the driver
holds it.) Readers
call ``require_finished``: a directory with no manifest is an interrupted or running stage,
and reading it would train on a partial mix.

The fingerprint hashes the config and every input: for a stage directory its manifest text
and shard names and sizes (a stage rewritten in place has a new manifest), for a file its
size and modification time, for a folder the same for every file under it.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import shutil
import socket
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from qurate.contract.files import (
    COMPRESSION,
    LOCK,
    MANIFEST,
    RUN_MARKER,
    atomic_write,
    atomic_write_bytes,
    atomic_write_text,
    config_hash,
    files_under,
    read_manifest,
    require_finished,
    require_finished_dirs,
    text_name,
    write_manifest,
    write_table,
)
from qurate.errors import BadInputError, QurateError


def _sqlite(name: str) -> tuple[str, ...]:
    """A SQLite database's file and the files SQLite keeps beside it while it is open."""
    return (name, f"{name}-wal", f"{name}-shm", f"{name}-journal")


# Names stages write; a directory without our marker or manifest that holds anything else is
# not ours to clear. (``cache``: the LLM prompt caches a run may open before its stage starts.)
# Whole names, not prefixes: by prefix a folder holding only ``work/``, ``cache_photos/`` or
# ``statistics.xlsx`` counted as a stage's and was cleared without ``--overwrite``.
_OURS = frozenset({"rejects", "rejects.parquet", "stats", MANIFEST, "long_context", "cache",
                   "samples.parquet", "work", *_sqlite("cache.sqlite")})  # fmt: skip
_OURS_HIDDEN = (LOCK, RUN_MARKER, ".work", ".mix-scratch", ".recall-rounds")


def _is_ours(name: str) -> bool:
    if name.startswith("."):
        return name in _OURS_HIDDEN or name.startswith(".qurate") or name.endswith(".tmp")
    if name.startswith("part-"):
        return name.endswith(".parquet")
    return name in _OURS


def _stage_in(directory: Path) -> str | None:
    """The stage whose directory this is (its manifest names it, or a run is under way in
    it), else None."""
    marker = directory / RUN_MARKER
    try:
        if marker.is_file():
            return str(json.loads(marker.read_text()).get("stage") or "a stage")
        data = json.loads((directory / MANIFEST).read_text())
    except (OSError, ValueError, AttributeError):
        return "a stage" if marker.is_file() else None
    return data["stage"] if isinstance(data, dict) and isinstance(data.get("stage"), str) else None


_HELD: set[str] = set()  # directories this process has locked (POSIX locks ignore our own pid)


# --- the run fingerprint --------------------------------------------------------------------


def _input_facts(path: Path) -> Any:
    if path.is_file():
        st = path.stat()
        return [str(path.resolve()), st.st_size, st.st_mtime_ns]
    if path.is_dir():
        if (path / MANIFEST).is_file():  # a stage directory: its manifest and shards
            shards = sorted(p for p in path.glob("*.parquet") if not p.name.startswith("."))
            return [
                str(path.resolve()),
                (path / MANIFEST).read_text(),
                [(p.name, p.stat().st_size) for p in shards],
            ]
        files = files_under(path)
        return [str(path.resolve()), [_input_facts(p) for p in files]]
    return [str(path), None]


def fingerprint(config: Any, inputs: Iterable[str | Path] = (), **extra: Any) -> str:
    """What makes two runs the same: the config, every input (see module docstring) and any
    ``extra`` facts a stage adds (model ids, seed texts)."""
    return config_hash(
        {
            "config": config.model_dump(mode="json") if hasattr(config, "model_dump") else config,
            "inputs": [_input_facts(Path(p)) for p in inputs],
            "extra": extra,
        }
    )


# --- the lock -------------------------------------------------------------------------------


class _Lock:
    """An exclusive POSIX record lock on ``<dir>/.qurate.lock``; the file holds the pid."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / LOCK
        self.key = str(directory.resolve())
        self.fd: int | None = None

    def _holder(self) -> str:
        try:
            info = json.loads(self.path.read_text())
            return f"pid {info['pid']} on {info.get('host', '?')}"
        except (OSError, ValueError, KeyError):
            return "another process"

    def acquire(self) -> None:
        if self.key in _HELD:
            raise BadInputError(
                f"{self.path.parent}: in use by another run in this process (pid {os.getpid()})"
            )
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as e:
                os.close(fd)
                if e.errno in (errno.EACCES, errno.EAGAIN):
                    raise BadInputError(
                        f"{self.path.parent}: in use by another qurate run ({self._holder()}); "
                        "wait for it to finish or stop it"
                    ) from None
                raise
            # The holder unlinks the file when it releases: a lock on an unlinked file is no
            # lock, so make sure the path still names the file we locked, else try again.
            try:
                same = os.stat(self.path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        # Ours now (a lock of a dead pid was released by the kernel): record who holds it.
        info = json.dumps({"pid": os.getpid(), "host": socket.gethostname()}).encode()
        os.ftruncate(fd, 0)
        os.pwrite(fd, info, 0)
        self.fd = fd
        _HELD.add(self.key)

    def release(self) -> None:
        """Unlink the lock file, then unlock: a finished directory keeps no lock file."""
        if self.fd is not None:
            self.path.unlink(missing_ok=True)
            fcntl.lockf(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None
            _HELD.discard(self.key)


def refuse_output_in_inputs(out: str | Path, inputs: Iterable[str | Path]) -> None:
    """A one-line error when ``out`` is an input, lies inside an input folder, or holds an
    input.

    Inside a folder that is walked for input, the first run wrote there, and the rerun read
    its own output back: the same command then claimed "a different finished run", and with
    ``--overwrite`` it cleared the shards it had just listed (a FileNotFoundError traceback).
    Around an input (``post dpo --model RUN/final -o RUN --overwrite``), ``--overwrite``
    deleted the input before the stage read it."""
    res = Path(os.path.abspath(out))  # `..` folded; the last part itself is not followed
    res = res.parent.resolve() / res.name  # non-strict: the part of the parent that exists
    for i in inputs:
        src = Path(i).resolve()
        if res == src or (src.is_dir() and src in res.parents):
            raise BadInputError(
                f"{out}: the output directory is inside the input {i}; "
                "choose an output outside the inputs"
            )
        if res in src.parents and src.exists():
            raise BadInputError(
                f"{out}: the output directory holds the input {i}; "
                "choose an output outside the inputs"
            )


# --- the stage directory --------------------------------------------------------------------


class StageDir:
    """A stage's output directory and its rerun policy (see the module docstring).

    Use::

        sd = StageDir(out, "mix", overwrite=overwrite)
        with sd:
            if (done := sd.begin(fp)) is not None:
                return done                       # the same run again: a no-op
            ...write shards with sd.path, write_table, ShardWriter...
            return sd.finish(config_hash=..., inputs=..., n_in=..., ...)
    """

    def __init__(
        self,
        path: str | Path,
        stage: str,
        *,
        overwrite: bool = False,
        keep: Iterable[str] = (),
        keep_hidden: Iterable[str] = (),
        inputs: Iterable[str | Path] = (),
    ) -> None:
        """``keep``: entries that survive a restart or ``--overwrite`` because they are valid
        for any run (an LLM prompt cache keyed by model and prompt). ``keep_hidden``: hidden
        entries a finished run keeps (curate's ``.work``); every other hidden entry is scratch,
        removed by ``finish``, ``done`` and a no-op rerun. ``inputs``: what the stage reads;
        ``begin`` refuses an output that is one of them or lies inside one (``--overwrite``
        would clear the input before it is read)."""
        self.path = Path(path)
        self.stage = stage
        self.overwrite = overwrite
        # an open SQLite cache keeps its log beside it: removing that loses its writes
        self.keep = frozenset(k for name in keep for k in _sqlite(name))
        self.keep_hidden = frozenset(keep_hidden)
        self.inputs = list(inputs)
        self.fingerprint: str | None = None
        self.resumed = False  # True when begin() kept an interrupted attempt's work
        self._created = False  # begin() made the directory
        self._lock = _Lock(self.path)

    # context manager: the lock is held between begin() and finish()/exit
    def __enter__(self) -> StageDir:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if isinstance(exc, QurateError) and self._lock.fd is not None:
            self._forget_empty_run()
        self.release()

    def _forget_empty_run(self) -> None:
        """A run refused for a user mistake before it wrote anything leaves no run marker
        (nor a directory it made): else the corrected command met "holds an interrupted run
        with another config or inputs" and needed --overwrite."""
        if not self.path.is_dir() or (self.path / MANIFEST).exists():
            return  # (a stage may remove a directory it made itself)
        made = [p for p in self.path.iterdir() if p.name not in (LOCK, RUN_MARKER)]
        if any(p.is_symlink() or not p.is_dir() or any(p.iterdir()) for p in made):
            return  # work of this (or a resumed) run: keep it for a rerun to resume
        for p in made:  # empty folders a stage makes before it checks all it reads
            p.rmdir()
        (self.path / RUN_MARKER).unlink(missing_ok=True)
        self.release()
        if self._created:
            with contextlib.suppress(OSError):
                self.path.rmdir()

    def release(self) -> None:
        self._lock.release()

    def _foreign(self) -> list[str]:
        if not self.path.is_dir() or self._stage_manifest() or self._marker():
            return []  # a stage directory (finished, or our run marker): whatever a stage wrote
        return sorted(p.name for p in self.path.iterdir() if not _is_ours(p.name))

    def _refuse_inside_stage(self) -> None:
        """An output inside another stage's directory is refused: that stage's ``--overwrite``
        (or a restart of its run) clears everything in it, this output included. A stage that
        this process is writing may hold others (its lock is ours)."""
        here = Path(os.path.abspath(self.path))
        for parent in here.parents:
            stage = _stage_in(parent)
            if stage is not None and str(parent.resolve()) not in _HELD:
                raise BadInputError(
                    f"{self.path}: inside the stage directory {parent} ({stage}), which a "
                    "rerun of that stage clears; choose an output outside it"
                )

    def _stage_manifest(self) -> bool:
        """Whether ``manifest.json`` is one a stage wrote (an object naming its stage), not a
        user's file of that common name (a web app's, a browser extension's)."""
        try:
            data = json.loads((self.path / MANIFEST).read_text())
        except FileNotFoundError:
            return False
        except (OSError, ValueError):
            return True  # ours, damaged: read_manifest names it
        return isinstance(data, dict) and isinstance(data.get("stage"), str)

    def has_run(self) -> bool:
        """Whether a run was started here (a run marker) or finished here (a manifest): what
        a user's ``--resume`` needs."""
        return any((self.path / n).is_file() for n in (RUN_MARKER, MANIFEST))

    def _marker(self) -> dict[str, Any] | None:
        try:
            return json.loads((self.path / RUN_MARKER).read_text())
        except (OSError, ValueError):
            return None

    def clear(self) -> None:
        """Remove everything in the directory but the lock (it stays held) and ``keep``."""
        for p in self.path.iterdir():
            if p.name == LOCK or p.name in self.keep:
                continue
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p)
            else:
                p.unlink()

    def clear_temp(self) -> None:
        """Remove temp files a killed writer left (``.NAME.PID.tmp``), here and one level down."""
        for p in [*self.path.glob(".*.tmp"), *self.path.glob("*/.*.tmp")]:
            shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)

    def begin(self, fingerprint: str, *, resume: bool = True) -> dict[str, Any] | None:
        """Apply the rerun policy and take the lock; the finished manifest when this exact
        run is already done (a no-op, lock released), else None: write the run."""
        self.fingerprint = fingerprint
        refuse_output_in_inputs(self.path, self.inputs)
        self._refuse_inside_stage()
        if foreign := self._foreign():
            raise BadInputError(
                f"{self.path}: not empty and not a qurate stage directory (holds "
                f"{', '.join(foreign[:3])}{', ...' if len(foreign) > 3 else ''}); "
                "choose a new output directory"
            )
        if self.path.exists() and not self.path.is_dir():
            raise BadInputError(f"{self.path}: exists and is not a directory")
        if text_name(str(self.path)) != str(self.path):
            # Parquet (pyarrow) takes UTF-8 paths only: the reader task failed with
            # "UnicodeEncodeError: surrogates not allowed" after the directory was made.
            raise BadInputError(
                f"{text_name(str(self.path))}: not a UTF-8 path, which Parquet cannot write to; "
                "choose an output directory with a UTF-8 name"
            )
        self._created = not self.path.exists()
        self.path.mkdir(parents=True, exist_ok=True)
        self._lock.acquire()
        try:
            return self._policy(fingerprint, resume)
        except BaseException:
            self.release()
            raise

    def _policy(self, fp: str, resume: bool) -> dict[str, Any] | None:
        has_manifest = (self.path / MANIFEST).is_file()
        marker = self._marker()
        if has_manifest and not self.overwrite:
            manifest = read_manifest(self.path)
            if manifest.get("fingerprint") == fp:
                # a run killed between its manifest and its clean-up left its marker, temp
                # files and scratch beside a finished run: this no-op finishes that clean-up
                self.clean_scratch()
                self.clear_temp()
                self.release()
                return manifest
            raise BadInputError(
                f"{self.path}: already holds a different finished run ({manifest.get('stage')}, "
                "another config or inputs); pass --overwrite to replace it, or choose a new -o"
            )
        unfinished_other = marker is not None and marker.get("fingerprint") != fp
        if not has_manifest and unfinished_other and not self.overwrite:
            raise BadInputError(
                f"{self.path}: holds an interrupted run with another config or inputs; rerun "
                "that one to resume it, or pass --overwrite to replace it"
            )
        if self.overwrite or has_manifest or unfinished_other or not resume or marker is None:
            self.clear()
        else:
            self.resumed = True
            self.clear_temp()
        info = {"stage": self.stage, "fingerprint": fp, "pid": os.getpid()}
        atomic_write_text(self.path / RUN_MARKER, json.dumps(info))
        return None

    def scratch(self, name: str = ".work") -> Path:
        """A scratch directory inside the stage directory, removed by ``finish``."""
        d = self.path / name
        d.mkdir(parents=True, exist_ok=True)
        return d

    def finish(
        self,
        *,
        config_hash: str,
        inputs: Iterable[str],
        n_in: int,
        n_kept: int,
        rejected_by_reason: dict[str, int],
        extra: dict[str, Any] | None = None,
        keep: Iterable[str] = (),
    ) -> dict[str, Any]:
        """Write the manifest (refused unless in == kept + rejected) with the fingerprint,
        remove scratch (hidden) entries except ``keep``, and release the lock."""
        manifest = write_manifest(
            self.path,
            stage=self.stage,
            config_hash=config_hash,
            inputs=inputs,
            n_in=n_in,
            n_kept=n_kept,
            rejected_by_reason=rejected_by_reason,
            extra={**(extra or {}), "fingerprint": self.fingerprint},
        )
        self.clean_scratch(keep)
        self.release()
        return manifest

    def done(self, keep: Iterable[str] = ()) -> None:
        """For a stage whose manifest a datatrove step wrote (with ``self.fingerprint`` in
        it): remove scratch entries and release the lock, as ``finish`` does."""
        if not (self.path / MANIFEST).is_file():
            raise AssertionError(f"{self.path}: done() before the manifest was written")
        self.clean_scratch(keep)
        self.release()

    def clean_scratch(self, keep: Iterable[str] = ()) -> None:
        """Remove the run marker, temp files and hidden scratch entries (not the lock, nor
        ``keep_hidden`` and ``keep``)."""
        kept = {LOCK, *self.keep_hidden, *keep}
        for p in self.path.glob(".*"):
            if p.name in kept:
                continue
            shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)


__all__ = [
    "COMPRESSION",
    "LOCK",
    "MANIFEST",
    "RUN_MARKER",
    "StageDir",
    "atomic_write",
    "atomic_write_bytes",
    "atomic_write_text",
    "config_hash",
    "fingerprint",
    "read_manifest",
    "require_finished",
    "require_finished_dirs",
    "write_manifest",
    "write_table",
]
