"""``post data``: synth output and chat files -> one chat stage directory of SFT rows.

Inputs, any mix:

- a ``synth filter`` directory: its kept samples, each a user turn (the prompt) and an
  assistant turn (the response, as generated), capability from the synth task;
- chat files (JSONL / Parquet, or a folder of them) with OpenAI-style ``messages`` or
  ``prompt`` / ``response``; an optional ``capability`` field (one of the nine of
  :data:`qurate.post.config.CAPABILITIES`, else ``other``); other fields go to ``meta``;
- an earlier chat stage directory (``post data`` output).

Checks, first reason wins, every one a reject row with a detail (in == kept + rejected):
``bad_roles`` / ``no_assistant`` / ``empty_turn`` (:func:`qurate.post.chat.check_messages`),
``too_long`` (never truncated), ``lang`` (only when languages are set), ``contaminated``
(13-grams of the user turns against benchmark files, the curate stage's index) and
``duplicate`` (exact + MinHash near copies of the user turns, against ``--pool`` and earlier
rows, best synth reward first; the curate stage's definitions via ``qurate.synth.dedup``).
A line that is not a JSON object is a ``malformed_row`` reject naming the file and line.
Rows are held in memory (a shard of a few hundred thousand conversations is fine).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qurate.contract.shards import REJECTS, check_stage_dir, iter_rows
from qurate.contract.stagedir import (
    MANIFEST,
    StageDir,
    config_hash,
    fingerprint,
    read_manifest,
    write_table,
)
from qurate.contract.steps import resolve_tokenizer
from qurate.dedup.decontam import DecontamIndex, build_decontam_index
from qurate.errors import BadInputError
from qurate.post.chat import (
    TURN_OVERHEAD,
    chat_table,
    check_messages,
    clean_messages,
    render_text,
    user_text,
)
from qurate.post.config import CAPABILITIES, DataConfig
from qurate.synth.dedup import find_duplicates
from qurate.synth.samples import iter_records_or_problems, stable_id

STAGE = "post_data"
MALFORMED = "_malformed"  # row keys starting with "_" are bookkeeping, never written
NO_CHAT = "_no_chat"
TASK_CAPABILITY = {"math": "math", "code": "code"}


@dataclass
class DataResult:
    out: Path
    n_in: int
    kept: int
    rejected: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def _json(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    try:
        out = json.loads(value) if isinstance(value, str) and value else {}
    except json.JSONDecodeError:
        return {"raw": value}
    return out if isinstance(out, dict) else {"raw": out}


def synth_messages(row: dict[str, Any]) -> list[dict[str, str]]:
    """A ``synth filter`` document as the conversation it came from (user prompt, assistant
    response as generated); older directories without ``meta.prompt`` are split at
    ``meta.prompt_chars``."""
    meta = _json(row.get("meta"))
    prompt, response = meta.get("prompt"), meta.get("response")
    if not isinstance(response, str):
        text, cut = row.get("text") or "", int(meta.get("prompt_chars") or 0)
        prompt, response = text[:cut].strip(), text[cut:].strip()
    msgs = [{"role": "user", "content": prompt}] if isinstance(prompt, str) and prompt else []
    return [*msgs, {"role": "assistant", "content": response}]


def _from_synth(row: dict[str, Any]) -> dict[str, Any]:
    meta = _json(row.get("meta"))
    return {
        **{k: row.get(k) for k in ("id", "source", "domain", "scores", "provenance")},
        "synthetic": True,
        "messages": synth_messages(row),
        "capability": TASK_CAPABILITY.get(meta.get("task") or "", "other"),
        "meta": meta,
    }


def row_problem(row: dict[str, Any]) -> tuple[str, str] | None:
    """``(reason, detail)`` when a row's messages are unusable, or None: a line that was not a
    JSON object is ``malformed_row``; a record with no chat field says so by name."""
    if row.get(MALFORMED):
        return "malformed_row", str(row[MALFORMED])
    if row.get("messages") is None and row.get(NO_CHAT):
        return "bad_roles", "no messages (or prompt/response) field"
    return check_messages(row.get("messages"))


def _from_record(where: str, rec: dict[str, Any], source: str) -> dict[str, Any]:
    msgs = rec.get("messages")
    if msgs is None and ("prompt" in rec or "response" in rec):
        msgs = [
            {"role": "user", "content": rec.get("prompt")},
            {"role": "assistant", "content": rec.get("response")},
        ]
    cap = rec.get("capability")
    known = {"id", "messages", "prompt", "response", "capability", "source", "text"}
    return {
        "id": str(rec["id"]) if rec.get("id") is not None else stable_id(source, where),
        "source": rec.get("source") if isinstance(rec.get("source"), str) else f"chat:{source}",
        "synthetic": bool(rec.get("synthetic", False)),
        "messages": msgs,
        "capability": cap if cap in CAPABILITIES else "other",
        "meta": {k: v for k, v in rec.items() if k not in known} or None,
        NO_CHAT: msgs is None and "messages" not in rec,
    }


def read_inputs(inputs: list[str | Path]) -> list[dict[str, Any]]:
    """Every input row as a raw chat row (messages not yet checked)."""
    rows: list[dict[str, Any]] = []
    for inp in inputs:
        p = Path(inp)
        if p.is_dir() and (p / MANIFEST).is_file():
            check_stage_dir(p)
            stage = read_manifest(p).get("stage")
            for r in iter_rows(p):
                if stage == "synth_filter" or (r.get("messages") is None and r.get("meta")):
                    rows.append(_from_synth(r))
                else:
                    r["meta"] = _json(r.get("meta")) or None
                    rows.append(r)
        else:
            for where, rec, problem in iter_records_or_problems(p):
                if rec is None:  # not a JSON object: a reject row, the rest of the file goes on
                    rows.append({**_from_record(where, {}, p.name), MALFORMED: problem})
                else:
                    rows.append(_from_record(where, rec, p.name))
    return rows


def _count(tok: Any, texts: list[str]) -> list[int]:
    if tok is None:
        return [len(t.split()) for t in texts]
    return [len(e.ids) for e in tok.encode_batch(texts, add_special_tokens=False)]


def build_chat_data(
    inputs: list[str | Path],
    out: str | Path,
    cfg: DataConfig | None = None,
    *,
    overwrite: bool = False,
) -> DataResult:
    """Write the chat stage directory ``out`` from ``inputs`` (see the module docstring)."""
    cfg = cfg or DataConfig()
    if not inputs:
        raise BadInputError("post data: give at least one synth directory or chat file")
    for p in [*inputs, *cfg.benchmarks]:
        if not Path(p).exists():
            raise BadInputError(f"{p}: no such file or directory")
    t0 = time.perf_counter()
    reads = [*inputs, *cfg.benchmarks, *cfg.pool]
    sd = StageDir(out, STAGE, overwrite=overwrite, inputs=reads)
    with sd:
        fp = fingerprint(cfg, reads)
        if (done := sd.begin(fp, resume=False)) is not None:
            c = done["counts"]
            return DataResult(sd.path, c["in"], c["kept"], c["rejected_by_reason"])
        rows = read_inputs(list(inputs))
        reason: list[tuple[str, str | None] | None] = [row_problem(r) for r in rows]
        _lengths(rows, reason, cfg)
        _lang(rows, reason, cfg)
        _contaminated(rows, reason, cfg, sd.scratch())
        _duplicates(rows, reason, cfg)
        counts = _write(rows, reason, sd.path, cfg)
        sd.finish(
            config_hash=config_hash(cfg),
            inputs=[str(i) for i in inputs],
            n_in=len(rows),
            n_kept=counts["kept"],
            rejected_by_reason=counts["rejected"],
            extra={"capabilities": counts["capabilities"], "tokens": counts["tokens"]},
        )
    return DataResult(
        sd.path, len(rows), counts["kept"], counts["rejected"], time.perf_counter() - t0
    )


def _lengths(rows: list[dict[str, Any]], reason: list, cfg: DataConfig) -> None:
    from tokenizers import Tokenizer

    path = resolve_tokenizer(cfg.tokenizer)
    tok = Tokenizer.from_file(path) if path else None
    ok = [i for i, r in enumerate(reason) if r is None]
    for i in ok:
        rows[i]["messages"] = clean_messages(rows[i]["messages"])
    contents = [m["content"] for i in ok for m in rows[i]["messages"]]
    lengths = iter(_count(tok, contents))
    for i in ok:
        n_prompt = n_resp = 0
        for m in rows[i]["messages"]:
            n = next(lengths) + TURN_OVERHEAD
            if m["role"] == "assistant":
                n_resp += n
            else:
                n_prompt += n
        rows[i]["n_prompt_tokens"], rows[i]["n_response_tokens"] = n_prompt, n_resp
        rows[i]["n_tokens"] = n_prompt + n_resp
        if n_prompt + n_resp > cfg.max_tokens:
            reason[i] = ("too_long", f"{n_prompt + n_resp} > {cfg.max_tokens} tokens")


def _lang(rows: list[dict[str, Any]], reason: list, cfg: DataConfig) -> None:
    if not cfg.languages:
        return
    from qurate.filters.langid import LanguageIDConfig, predict_languages

    keep = set(LanguageIDConfig(languages=cfg.languages).languages)
    ok = [i for i, r in enumerate(reason) if r is None]
    preds = predict_languages([user_text(rows[i]["messages"]) for i in ok])
    for i, (lang, score) in zip(ok, preds, strict=True):
        rows[i]["lang"], rows[i]["lang_score"] = lang, score
        if lang not in keep:
            reason[i] = ("lang", f"{lang} ({score:.2f}) not in {', '.join(sorted(keep))}")


def _contaminated(rows: list[dict[str, Any]], reason: list, cfg: DataConfig, work: Path) -> None:
    if not cfg.benchmarks:
        return
    index = DecontamIndex(
        build_decontam_index([Path(b) for b in cfg.benchmarks], work, cfg.decontam)
    )
    ok = [i for i, r in enumerate(reason) if r is None]
    for i, hit in zip(
        ok, index.first_hits([user_text(rows[i]["messages"]) for i in ok]), strict=True
    ):
        if hit is not None:
            reason[i] = ("contaminated", hit)


def _reward(row: dict[str, Any]) -> float | None:
    r = _json(row.get("provenance")).get("reward")
    return float(r) if isinstance(r, (int, float)) else None


def _duplicates(rows: list[dict[str, Any]], reason: list, cfg: DataConfig) -> None:
    ok = [i for i, r in enumerate(reason) if r is None]
    # Best synth reward first, then input order: of a group of copies the best one survives.
    ok.sort(key=lambda i: (_reward(rows[i]) is None, -(_reward(rows[i]) or 0.0), i))
    pool_ids, pool_texts = [], []
    for d in cfg.pool:
        check_stage_dir(d)
        for r in iter_rows(d, columns=["id", "messages"]):
            if isinstance(r.get("messages"), list):
                pool_ids.append(str(r["id"]))
                pool_texts.append(user_text(r["messages"]))
    texts = pool_texts + [user_text(rows[i]["messages"]) for i in ok]
    ids = pool_ids + [str(rows[i]["id"]) for i in ok]
    dups = find_duplicates(ids, texts, cfg.dedup)[len(pool_ids) :]
    for i, d in zip(ok, dups, strict=True):
        if d is not None:
            reason[i] = ("duplicate", d)


def _write(rows: list[dict[str, Any]], reason: list, out: Path, cfg: DataConfig) -> dict[str, Any]:
    kept, rejected = [], []
    reasons: Counter[str] = Counter()
    caps: Counter[str] = Counter()
    tokens = 0
    for r, why in zip(rows, reason, strict=True):
        r["text"] = render_text(r["messages"])
        r["n_chars"] = len(r["text"])
        if why is None:
            kept.append(r)
            caps[r["capability"]] += 1
            tokens += r["n_tokens"] or 0
        else:
            r.update(reject_reason=why[0], reject_detail=why[1], stage=STAGE)
            rejected.append(r)
            reasons[why[0]] += 1
    n = cfg.rows_per_shard
    for k in range(0, len(kept), n):
        write_table(out / f"part-{k // n:05d}.parquet", chat_table(kept[k : k + n]))
    for k in range(0, len(rejected), n):
        path = out / REJECTS / f"part-{k // n:05d}.parquet"
        write_table(path, chat_table(rejected[k : k + n], rejects=True))
    return {
        "kept": len(kept),
        "rejected": dict(reasons),
        "capabilities": dict(caps),
        "tokens": tokens,
    }


__all__ = ["DataResult", "build_chat_data", "read_inputs", "synth_messages"]
