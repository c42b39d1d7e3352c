"""The datatrove steps that move documents between the stages of a run and into the contract.

- ``WorkWriter`` ends stage 1: every document of the task, kept or marked, in read order,
  to ``.work/docs/{rank}.parquet``. Stage 3 re-reads it with ``WorkReader`` in the same
  order, which is what lets dedup address a document by (task, index).
- ``ContractWriter`` ends the last stage: kept documents to ``part-*.parquet``, marked ones
  to ``rejects/``, token counts with the configured tokenizer, and a per-task counts file.
- ``write_stage_manifest`` adds the counts up and writes ``manifest.json``; it refuses to
  if ``in != kept + rejected``.
"""

from __future__ import annotations

import functools
import json
import os
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from datatrove.data import DocumentsPipeline
from datatrove.pipeline.base import PipelineStep

from qurate.contract.docs import WORK_SCHEMA, doc_to_row, row_to_doc, rows_table
from qurate.contract.rejects import REJECT_REASON, REJECT_STAGE
from qurate.contract.shards import ShardWriter, atomic_write_bytes, write_manifest
from qurate.contract.token_counts import TokenCounter
from qurate.errors import ConfigError, one_line

DEFAULT_TOKENIZER = Path(__file__).resolve().parent.parent / "data" / "tokenizer.json"


def resolve_tokenizer(path: str | None) -> str | None:
    """The tokenizer.json used to count n_tokens: the configured one, else the bundled one.
    A configured one that is missing or not a tokenizer.json is a one-line config error now,
    not a failed task once every worker has started (with its traceback in a task log)."""
    if path:
        _check_tokenizer(path)
        return path
    return str(DEFAULT_TOKENIZER) if DEFAULT_TOKENIZER.exists() else None


@functools.lru_cache(maxsize=8)
def _check_tokenizer(path: str) -> None:
    if not Path(path).is_file():
        raise ConfigError(f"tokenizer: {path} is not a file (give a tokenizer.json)")
    try:
        from tokenizers import Tokenizer
    except ImportError:
        return  # the writer names the missing extra
    try:
        Tokenizer.from_file(path)
    except Exception as e:  # tokenizers raises a bare Exception for a bad file
        raise ConfigError(f"tokenizer: {path} is not a tokenizer.json ({one_line(e)})") from None


class WorkWriter(PipelineStep):
    """Write every document of this task, in order, to one intermediate Parquet file."""

    name = "💽 work writer"
    type = "💽 - WRITER"

    def __init__(self, directory: str, batch_rows: int = 2048) -> None:
        super().__init__()
        self.directory = directory
        self.batch_rows = batch_rows

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        path = Path(self.directory) / f"{rank:05d}.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        rows: list[dict[str, Any]] = []
        with pq.ParquetWriter(tmp, WORK_SCHEMA, compression="zstd") as writer:
            for doc in data:
                rows.append(doc_to_row(doc))
                self.stat_update("written")
                if len(rows) >= self.batch_rows:
                    writer.write_table(rows_table(rows, WORK_SCHEMA))
                    rows = []
                yield doc
            if rows:
                writer.write_table(rows_table(rows, WORK_SCHEMA))
        os.replace(tmp, path)


class WorkReader(PipelineStep):
    """Read back this task's intermediate file, in the order stage 1 wrote it."""

    name = "📖 work reader"
    type = "📖 - READER"

    def __init__(self, directory: str) -> None:
        super().__init__()
        self.directory = directory

    def run(
        self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1
    ) -> DocumentsPipeline:
        path = Path(self.directory) / f"{rank:05d}.parquet"
        for batch in pq.ParquetFile(path).iter_batches(batch_size=1024):
            for row in batch.to_pylist():
                self.stat_update("documents")
                yield row_to_doc(row)


class ContractWriter(PipelineStep):
    """Route kept and rejected documents into the stage directory, counting as it goes."""

    name = "💽 shard writer"
    type = "💽 - WRITER"

    def __init__(
        self,
        out_dir: str,
        counts_dir: str,
        *,
        tokenizer: str | None = None,
        rows_per_shard: int = 50_000,
        progress_dir: str | None = None,
    ) -> None:
        super().__init__()
        self.out_dir = out_dir
        self.counts_dir = counts_dir
        self.tokenizer = tokenizer
        self.rows_per_shard = rows_per_shard
        self.progress_dir = progress_dir

    def _count_tokens(self, docs: list) -> None:
        if self._tok is None or not docs:
            return
        # token_counts: each distinct whitespace unit tokenised once (same counts).
        for doc, n in zip(docs, self._tok.count([d.text for d in docs]), strict=True):
            doc.metadata["n_tokens"] = n

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        self._tok = None
        if self.tokenizer:
            self._tok = TokenCounter(self.tokenizer)
        out = Path(self.out_dir)
        prefix = f"part-{rank:05d}"
        for stale in [
            *out.glob(f"{prefix}-*.parquet"),
            *(out / "rejects").glob(f"{prefix}-*.parquet"),
        ]:
            stale.unlink()  # a killed earlier attempt of this task
        kept = ShardWriter(out, prefix=prefix, rows_per_shard=self.rows_per_shard)
        rejected = ShardWriter(
            out / "rejects", prefix=prefix, rejects=True, rows_per_shard=self.rows_per_shard
        )
        counts = _Counts()
        pending: list = []

        def flush() -> None:
            self._count_tokens(pending)
            for d in pending:
                kept.write(doc_to_row(d))
                counts.add(d)
            pending.clear()

        for doc in data:
            if REJECT_REASON in doc.metadata:
                rejected.write(doc_to_row(doc))
                counts.add(doc)
                self.stat_update("rejected")
            else:
                pending.append(doc)
                self.stat_update("kept")
                if len(pending) >= 512:
                    flush()
            if self.progress_dir and counts.n_in % 512 == 0:
                _write_progress(self.progress_dir, rank, counts.n_in)
        flush()
        kept.close()
        rejected.close()
        if self.progress_dir:
            _write_progress(self.progress_dir, rank, counts.n_in)
        atomic_write_bytes(
            Path(self.counts_dir) / f"{rank:05d}.json", json.dumps(counts.to_dict()).encode()
        )
        return
        yield  # a generator step that yields nothing: the stage ends here


def _write_progress(directory: str, rank: int, docs: int) -> None:
    atomic_write_bytes(Path(directory) / f"{rank:05d}.json", json.dumps({"docs": docs}).encode())


class _Counts:
    def __init__(self) -> None:
        self.n_in = 0
        self.n_kept = 0
        self.by_reason: Counter[str] = Counter()
        self.by_stage_reason: Counter[str] = Counter()
        self.by_lang: dict[str, Counter[str]] = defaultdict(Counter)

    def add(self, doc) -> None:
        md = doc.metadata
        self.n_in += 1
        lang = md.get("lang") or "unknown"
        if REJECT_REASON in md:
            self.by_reason[md[REJECT_REASON]] += 1
            self.by_stage_reason[f"{md.get(REJECT_STAGE)}/{md[REJECT_REASON]}"] += 1
            self.by_lang[lang]["rejected"] += 1
        else:
            self.n_kept += 1
            c = self.by_lang[lang]
            c["docs"] += 1
            c["chars"] += len(doc.text)
            c["tokens"] += md.get("n_tokens") or 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "in": self.n_in,
            "kept": self.n_kept,
            "rejected_by_reason": dict(self.by_reason),
            "rejected_by_stage": dict(self.by_stage_reason),
            "by_lang": {k: dict(v) for k, v in self.by_lang.items()},
        }


def merge_counts(counts_dir: Path, tasks: int) -> dict[str, Any]:
    """Add up the per-task counts files; every task must have written one."""
    total: dict[str, Any] = {
        "in": 0,
        "kept": 0,
        "rejected_by_reason": Counter(),
        "rejected_by_stage": Counter(),
        "by_lang": defaultdict(Counter),
    }
    for rank in range(tasks):
        path = counts_dir / f"{rank:05d}.json"
        part = json.loads(path.read_text())
        total["in"] += part["in"]
        total["kept"] += part["kept"]
        total["rejected_by_reason"].update(part["rejected_by_reason"])
        total["rejected_by_stage"].update(part["rejected_by_stage"])
        for lang, c in part["by_lang"].items():
            total["by_lang"][lang].update(c)
    return total


def write_stage_manifest(
    out_dir: Path,
    counts_dir: Path,
    *,
    tasks: int,
    stage: str,
    config_hash: str,
    inputs: list[str],
    extra: dict[str, Any],
) -> dict[str, Any]:
    total = merge_counts(counts_dir, tasks)
    by_lang = {
        k: dict(v)
        for k, v in sorted(total["by_lang"].items(), key=lambda kv: -kv[1].get("docs", 0))
    }
    return write_manifest(
        out_dir,
        stage=stage,
        config_hash=config_hash,
        inputs=inputs,
        n_in=total["in"],
        n_kept=total["kept"],
        rejected_by_reason=dict(total["rejected_by_reason"]),
        extra={
            "rejected_by_stage": dict(sorted(total["rejected_by_stage"].items())),
            "by_lang": by_lang,
            **extra,
        },
    )
