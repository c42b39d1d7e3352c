"""Long-context stages: 40% of sequences at the stage's maximum length, 60% shorter.

The Qwen2.5 report extends context in a final stage whose data keeps a fixed share of
sequences at the maximum length. A stage is composed from the (already shuffled) mix in
one streaming pass, with memory bounded by one partial sequence per domain:

- a document of at least ``long_min_ratio x max_tokens`` tokens is a max-length sequence;
  a longer one than ``max_tokens`` is cut into ``max_tokens`` pieces first;
- while the long share is below ``long_fraction``, shorter documents are appended to a
  per-domain buffer (same-domain concatenation, joined by ``separator``) that is emitted as
  one max-length sequence when full;
- otherwise a document is emitted as it is, a shorter sequence; a long document that
  arrives when the long share is already met is halved into two shorter ones.

Cuts fall on whitespace near the proportional character offset; the token count of a piece
is estimated from its share of characters (the trainer re-tokenizes anyway). Each output
row keeps the pinned schema; ``meta`` records the stage, the kind and the source ids.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from qurate.contract.schema import rows_to_table
from qurate.contract.shards import iter_batches, write_manifest
from qurate.mixers.config import LongContextStage
from qurate.mixers.writer import TokenShardWriter


def split_text(text: str, n_tokens: int, piece_tokens: int) -> list[tuple[str, int]]:
    """Cut ``text`` into pieces of about ``piece_tokens`` tokens, on whitespace when close."""
    if n_tokens <= piece_tokens or len(text) < 2:
        return [(text, n_tokens)]
    per_token = len(text) / n_tokens
    step = max(1, int(piece_tokens * per_token))
    pieces: list[str] = []
    start = 0
    while len(text) - start > step:
        cut = start + step
        ws = text.rfind(" ", start + int(step * 0.9), cut)
        cut = ws + 1 if ws > start else cut
        pieces.append(text[start:cut])
        start = cut
    pieces.append(text[start:])
    est = [max(1, round(len(p) / per_token)) for p in pieces]
    est[-1] = max(1, n_tokens - sum(est[:-1]))  # keep the total exact
    return list(zip(pieces, est, strict=True))


@dataclass
class _Buffer:
    rows: list[dict[str, Any]] = field(default_factory=list)
    tokens: int = 0


@dataclass
class StageStats:
    docs_in: int = 0
    docs_used: int = 0
    sequences: int = 0
    long_sequences: int = 0
    tokens: int = 0
    long_tokens: int = 0
    concatenations: int = 0
    split_docs: int = 0
    lengths: list[int] = field(default_factory=list)


class StageComposer:
    """Turn a stream of documents into one stage's sequences (see module docstring)."""

    def __init__(self, stage: LongContextStage, writer: TokenShardWriter) -> None:
        self.stage = stage
        self.writer = writer
        self.long_min = math.ceil(stage.long_min_ratio * stage.max_tokens)
        self.buffers: dict[str, _Buffer] = {}
        self.stats = StageStats()
        self._out: list[dict[str, Any]] = []

    @property
    def done(self) -> bool:
        b = self.stage.budget_tokens
        return b is not None and self.stats.tokens >= b

    def _need_long(self) -> bool:
        pending = sum(1 for b in self.buffers.values() if b.rows)
        n_long = self.stats.long_sequences + pending
        return n_long < self.stage.long_fraction * (self.stats.sequences + pending + 1)

    def _emit(self, row: dict[str, Any], *, long: bool) -> None:
        n = int(row["n_tokens"] or 0)
        self.stats.sequences += 1
        self.stats.tokens += n
        self.stats.lengths.append(n)
        if long:
            self.stats.long_sequences += 1
            self.stats.long_tokens += n
        self._out.append(row)
        if len(self._out) >= 1024:
            self.flush()

    def flush(self) -> None:
        if self._out:
            self.writer.write(rows_to_table(self._out))
            self._out = []

    def _piece(self, row: dict[str, Any], text: str, n: int, i: int) -> dict[str, Any]:
        piece = dict(row, text=text, n_tokens=n, n_chars=len(text), id=f"{row['id']}#{i}")
        piece["meta"] = json.dumps({"long_context": {"stage": self.stage.name, "kind": "piece"}})
        return piece

    def add(self, row: dict[str, Any]) -> None:
        self.stats.docs_in += 1
        if self.done:
            return
        self.stats.docs_used += 1
        n = int(row["n_tokens"] or 0)
        text = row["text"] or ""
        L = self.stage.max_tokens
        if n > L:
            self.stats.split_docs += 1
            for i, (t, k) in enumerate(split_text(text, n, L)):
                self._place(self._piece(row, t, k, i))
        else:
            self._place(row)

    def _place(self, row: dict[str, Any]) -> None:
        n = int(row["n_tokens"] or 0)
        if n >= self.long_min:
            if self._need_long():
                self._emit(row, long=True)
            else:
                piece = max(1, min(math.ceil(n / 2), self.long_min - 1))
                for i, (t, k) in enumerate(split_text(row["text"], n, piece)):
                    self._emit(self._piece(row, t, k, i), long=False)
            return
        if not self._need_long():
            self._emit(row, long=False)
            return
        domain = row["domain"] or ""
        buf = self.buffers.setdefault(domain, _Buffer())
        sep = 1 if buf.rows else 0  # the separator costs about a token
        room = self.stage.max_tokens - buf.tokens - sep
        if n > room:
            # The buffer is below max length (it is emitted once it reaches it): fill it to
            # the brim with the head of this document and carry the rest on.
            head, rest = split_text(row["text"], n, max(1, room))[0], None
            if head[1] < n:
                cut = len(head[0])
                rest = self._piece(row, row["text"][cut:], n - head[1], 1)
                row = self._piece(row, head[0], head[1], 0)
                n = head[1]
            buf.rows.append(row)
            buf.tokens += sep + n
            self._emit_buffer(domain)
            if rest is not None:
                self._place(rest)
            return
        buf.rows.append(row)
        buf.tokens += sep + n
        if buf.tokens >= self.long_min:
            self._emit_buffer(domain)

    def _emit_buffer(self, domain: str) -> None:
        buf = self.buffers.pop(domain, None)
        self.buffers[domain] = _Buffer()
        if not buf or not buf.rows:
            return
        long = buf.tokens >= self.long_min
        if len(buf.rows) == 1:
            self._emit(buf.rows[0], long=long)
            return
        self.stats.concatenations += 1
        rows = buf.rows
        weights = [int(r["n_tokens"] or 0) for r in rows]
        q = [
            (r["quality"], w)
            for r, w in zip(rows, weights, strict=True)
            if r["quality"] is not None
        ]
        qw = sum(w for _, w in q)
        langs = {r["lang"] for r in rows}
        text = self.stage.separator.join(r["text"] for r in rows)
        self._emit(
            {
                "id": f"{self.stage.name}:{rows[0]['id']}+{len(rows) - 1}",
                "text": text,
                "source": rows[0]["source"],
                "lang": langs.pop() if len(langs) == 1 else "mixed",
                "domain": rows[0]["domain"],
                "quality": sum(v * w for v, w in q) / qw if qw else None,
                "n_chars": len(text),
                "n_tokens": buf.tokens,
                "synthetic": any(bool(r["synthetic"]) for r in rows),
                "meta": json.dumps(
                    {
                        "long_context": {
                            "stage": self.stage.name,
                            "kind": "concat",
                            "doc_ids": [r["id"] for r in rows],
                        }
                    }
                ),
            },
            long=long,
        )

    def finish(self) -> StageStats:
        for domain in sorted(self.buffers):
            self._emit_buffer(domain)
        self.flush()
        return self.stats


def compose_stage(
    mix_dir: Path, stage: LongContextStage, *, shard_tokens: int, row_group_rows: int, cfg_hash: str
) -> dict[str, Any]:
    """Compose one stage from the mix shards into ``mix_dir/long_context/<name>/``."""
    out = mix_dir / "long_context" / stage.name
    writer = TokenShardWriter(out, shard_tokens=shard_tokens, row_group_rows=row_group_rows)
    composer = StageComposer(stage, writer)
    try:
        for batch in iter_batches(mix_dir, batch_size=1024):
            for row in pa.Table.from_batches([batch]).to_pylist():
                composer.add(row)
        stats = composer.finish()
        shards = writer.close()
    except BaseException:
        writer.abort()
        raise
    lengths = sorted(stats.lengths)
    summary = {
        "name": stage.name,
        "dir": str(out.relative_to(mix_dir)),
        "max_tokens": stage.max_tokens,
        "long_min_tokens": composer.long_min,
        "long_fraction_target": stage.long_fraction,
        "long_fraction_achieved": stats.long_sequences / stats.sequences
        if stats.sequences
        else 0.0,
        "sequences": stats.sequences,
        "long_sequences": stats.long_sequences,
        "short_sequences": stats.sequences - stats.long_sequences,
        "tokens": stats.tokens,
        "long_tokens": stats.long_tokens,
        "concatenations": stats.concatenations,
        "split_docs": stats.split_docs,
        "median_tokens": lengths[len(lengths) // 2] if lengths else 0,
        "shards": [p.name for p in shards],
    }
    write_manifest(
        out,
        stage="mix-long-context",
        config_hash=cfg_hash,
        inputs=[str(mix_dir)],
        n_in=stats.docs_in,
        n_kept=stats.docs_used,
        rejected_by_reason={"over_stage_budget": stats.docs_in - stats.docs_used}
        if stats.docs_in > stats.docs_used
        else {},
        extra={"long_context": summary},
    )
    return summary
