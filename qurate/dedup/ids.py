"""Unique ids in a stage directory: a repeated input id is renamed, never dropped.

Two input files often number their records the same way (``"id": 0, 1, 2`` in every
shard of a dataset), so the same id in two inputs is almost always two different
documents. Rejecting the later one would throw away a whole corpus; keeping both breaks
every join on ``id``. So the first occurrence keeps its id and every later one becomes
``<id>~<n>`` (n = 2, 3, ... in run order: stage-1 task, then position), with the input's
id kept in ``meta["original_id"]``. A document's text plays no part here: a copy of a
text is the dedup stage's business (reason ``duplicate``).

Like the dedup index it runs over the stage-1 work files of every task:

- :class:`IdIndex` (stage 2, one task per 64-bit hash range): reads the ``id`` column of
  every task's ``.work/docs/{task}.parquet``, keeps the ids whose xxh3-64 falls in its range,
  sorts, and writes the renames ``(task, index, new_id)`` of its range; ids that share a hash
  are compared as strings, so a hash collision renames nothing.
- :class:`UniqueIds` (stage 3): renames this task's documents as it reads them.

A new name never repeats an input id: input ``a, a, a~2`` gives ``a, a~3, a~2`` (``a~2`` is
taken, so the next free number is used; :class:`Renamer`, which ``synth filter`` uses too).
Two new names cannot repeat each other, since ``<id>~<n>`` splits back into one ``id`` and one
``n`` at its last ``~``, and every repeat of an ``id`` falls in one hash range. So a range task
needs, besides its own range, only the input ids that end in ``~<digits>``, from every range.

Scale: a range task holds 16 bytes per document of its range, the id strings of the
repeated ones and every input id ending in ``~<digits>`` (none in most inputs; a re-curated
curate output has one per renamed document); every range task reads every task's id column
once.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import xxhash
from datatrove.data import DocumentsPipeline
from datatrove.pipeline.base import PipelineStep

from qurate.dedup.files import atomic_json, atomic_save
from qurate.errors import EngineError

RENAME_SCHEMA = pa.schema([("task", pa.uint32()), ("idx", pa.uint32()), ("id", pa.string())])


# The form of a renamed id: only input ids of this form can be what a rename would produce.
RENAMED_FORM = r"~[0-9]+$"


class Renamer:
    """Names for repeated ids, in the order the occurrences are met: the first keeps its id,
    each later one gets ``<id>~<n>`` with the smallest n >= 2 (above the last one given)
    that is not in ``taken``, the input ids that a new name could repeat."""

    def __init__(self, taken: Iterable[str] = ()) -> None:
        self.taken = set(taken)
        self._next: dict[str, int] = {}

    def __call__(self, name: str) -> str | None:
        """The new name of this occurrence of ``name``, or None for its first occurrence."""
        n = self._next.get(name)
        if n is None:
            self._next[name] = 2
            return None
        while f"{name}~{n}" in self.taken:
            n += 1
        self._next[name] = n + 1
        return f"{name}~{n}"


def _task_files(docs_dir: Path, tasks: int | None) -> list[tuple[int, Path]]:
    """Stage 1's work file of every task; with ``tasks``, exactly those ranks (a file left
    by an earlier attempt with more tasks is not read; a missing one is an error)."""
    if tasks is None:
        return sorted((int(p.stem), p) for p in docs_dir.glob("[0-9]*.parquet"))
    files = [(t, docs_dir / f"{t:05d}.parquet") for t in range(tasks)]
    missing = [t for t, p in files if not p.is_file()]
    if missing:
        raise EngineError(
            f"unique ids: stage-1 tasks {missing[:10]} left no work file in {docs_dir}"
        )
    return files


def _hash(ids: list[str]) -> np.ndarray:
    return np.fromiter(
        (xxhash.xxh3_64_intdigest(i.encode("utf-8", "surrogatepass")) for i in ids),
        dtype=np.uint64,
        count=len(ids),
    )


class IdIndex(PipelineStep):
    """Stage 2: the renames that make ids unique, for hash range ``rank`` of ``world_size``."""

    type = "🫂 - DEDUP"
    name = "🆔 qurate unique ids index"

    def __init__(
        self, docs_dir: str | Path, ids_dir: str | Path, stage1_tasks: int | None = None
    ) -> None:
        super().__init__()
        self.docs_dir = str(docs_dir)
        self.ids_dir = str(ids_dir)
        self.stage1_tasks = stage1_tasks

    def run(
        self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1
    ) -> DocumentsPipeline:
        lo = np.uint64((rank << 64) // world_size)
        hi = (rank + 1 << 64) // world_size
        hashes, tasks, idxs, names = [], [], [], []
        taken: set[str] = set()  # input ids, of every range, that a new name could repeat
        with self.track_time():
            for task, path in _task_files(Path(self.docs_dir), self.stage1_tasks):
                column = pq.read_table(path, columns=["id"]).column("id")
                taken.update(
                    pc.filter(column, pc.match_substring_regex(column, RENAMED_FORM)).to_pylist()
                )
                ids = column.to_pylist()
                h = _hash(ids)
                mine = h >= lo
                if hi < 1 << 64:
                    mine &= h < np.uint64(hi)
                where = np.flatnonzero(mine)
                hashes.append(h[where])
                tasks.append(np.full(where.size, task, dtype=np.uint32))
                idxs.append(where.astype(np.uint32))
                names.append([ids[i] for i in where])
            h = np.concatenate(hashes) if hashes else np.zeros(0, np.uint64)
            t = np.concatenate(tasks) if tasks else np.zeros(0, np.uint32)
            i = np.concatenate(idxs) if idxs else np.zeros(0, np.uint32)
            flat = [n for part in names for n in part]
            order = np.lexsort((i, t, h))
            hs = h[order]
            repeated = np.zeros(hs.size, dtype=bool)
            if hs.size > 1:
                same = hs[1:] == hs[:-1]
                repeated[1:] |= same
                repeated[:-1] |= same
            renames: dict[str, list] = {"task": [], "idx": [], "id": []}
            rename = Renamer(taken)
            for k in order[repeated]:  # in (hash, task, index) order: first occurrence first
                new = rename(flat[k])
                if new is not None:
                    renames["task"].append(int(t[k]))
                    renames["idx"].append(int(i[k]))
                    renames["id"].append(new)
            out = Path(self.ids_dir)
            table = pa.table(renames, schema=RENAME_SCHEMA)
            sink = pa.BufferOutputStream()
            pq.write_table(table, sink)
            atomic_save(out / f"{rank:05d}.parquet", sink.getvalue().to_pybytes())
            atomic_json(out / f"{rank:05d}.json", {"renamed": table.num_rows})
            self.stat_update("renamed", value=table.num_rows)
        return iter(())


class UniqueIds(PipelineStep):
    """Stage 3: give this task's repeated ids their new names (``meta.original_id`` keeps
    the input's). Reads the documents in stage-1 order, like ``DedupFilter``."""

    type = "🫂 - DEDUP"
    name = "🆔 qurate unique ids"

    def __init__(self, ids_dir: str | Path) -> None:
        super().__init__()
        self.ids_dir = str(ids_dir)

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        new: dict[int, str] = {}
        for path in sorted(Path(self.ids_dir).glob("[0-9]*.parquet")):
            table = pq.read_table(path, filters=[("task", "=", rank)])
            new.update(
                zip(table.column("idx").to_pylist(), table.column("id").to_pylist(), strict=True)
            )
        for index, doc in enumerate(data):
            name = new.get(index)
            if name is not None:
                meta = doc.metadata.get("meta")
                meta = (
                    dict(meta)
                    if isinstance(meta, dict)
                    else ({} if meta is None else {"meta": meta})
                )
                meta["original_id"] = doc.id
                doc.metadata["meta"] = meta
                doc.id = name
                self.stat_update("renamed")
            yield doc


def renamed_count(ids_dir: str | Path) -> int:
    """How many documents the index renamed (for the manifest)."""
    return sum(json.loads(p.read_text())["renamed"] for p in Path(ids_dir).glob("[0-9]*.json"))
