"""Scoring stage 1, annotate: an LLM judge scores a stratified sample (and shared helpers).

A document the judge cannot score goes to rejects with reason ``judge_failed`` (and the
error), never crashing the run; ``in == kept + rejected`` over the sample. LLM answers are
cached in ``OUT/cache/llm.sqlite``: a killed run, rerun, asks only what it had not.
"""

from __future__ import annotations

import heapq
import json
import logging
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import xxhash

from qurate.contract.args import as_config, as_path
from qurate.contract.shards import (
    REJECTS,
    ShardWriter,
    check_doc_shards,
    check_stage_dir,
    config_hash,
    iter_rows,
)
from qurate.contract.stagedir import StageDir, fingerprint
from qurate.progress import Bar
from qurate.score.check import check_judge
from qurate.score.config import ScoreConfig
from qurate.score.judge import Judge, load_rubric

log = logging.getLogger("qurate.score")
JUDGE_META_KEY = "judge"


def stable_hash(seed: int, doc_id: str) -> int:
    return xxhash.xxh64_intdigest(doc_id, seed=seed)


def row_meta(row: dict[str, Any]) -> dict[str, Any]:
    raw = row.get("meta")
    if isinstance(raw, dict):
        return raw
    try:
        return json.loads(raw) if raw else {}
    except json.JSONDecodeError:
        return {"_unparsed_meta": raw}


# -- annotate ------------------------------------------------------------------------------


def stratified_sample(in_dir: Path, n: int | None, seed: int) -> tuple[set[str], dict[str, int]]:
    """Ids of a sample stratified by (lang, source), proportional with largest remainders.

    Reads only the id/lang/source columns; the order inside a stratum is a seeded hash of the
    id, so the sample is reproducible and independent of shard order.
    """
    strata: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for row in iter_rows(in_dir, columns=["id", "lang", "source"]):
        key = f"{row.get('lang') or '?'}/{row.get('source') or '?'}"
        strata[key].append((stable_hash(seed, row["id"]), row["id"]))
    total = sum(len(v) for v in strata.values())
    population = {k: len(v) for k, v in sorted(strata.items())}
    if n is None or n >= total:
        return {i for v in strata.values() for _, i in v}, population
    quotas = {k: n * len(v) / total for k, v in strata.items()}
    alloc = {k: int(q) for k, q in quotas.items()}
    for k in sorted(quotas, key=lambda k: quotas[k] - alloc[k], reverse=True)[
        : n - sum(alloc.values())
    ]:
        alloc[k] += 1
    chosen: set[str] = set()
    for k, v in strata.items():
        chosen.update(i for _, i in sorted(v)[: alloc[k]])
    return chosen, population


def annotate(
    in_dir: str | Path,
    out_dir: str | Path,
    config: ScoreConfig | None = None,
    *,
    overwrite: bool = False,
    progress: bool = False,
) -> dict[str, Any]:
    """LLM-judge a stratified sample of ``in_dir`` into the stage directory ``out_dir``
    (``progress``: a bar with rate and ETA on stderr; the judge runs at a few documents a
    second on a CPU).

    The rerun policy is ``StageDir``'s: the same run again is a no-op, an interrupted one
    restarts in place (the prompt cache in ``cache/`` answers what was judged), a different
    one needs ``overwrite``."""
    config = as_config(config, ScoreConfig, "annotate config", hint="load_config(path).score")
    out_dir = as_path(out_dir, "annotate out_dir")
    src = check_stage_dir(as_path(in_dir, "annotate in_dir"))
    check_doc_shards(src)  # a null text or n_tokens as text was a traceback mid-run
    for r in config.judge.rubrics:  # fail on a bad rubric before loading a model
        load_rubric(r)
    with StageDir(
        out_dir, "score.annotate", overwrite=overwrite, keep=("cache",), inputs=[src]
    ) as sd:
        done = sd.begin(fingerprint(config, [src]), resume=False)
        return done if done is not None else _annotate(src, sd, config, progress)


def _annotate(src: Path, sd: StageDir, config: ScoreConfig, progress: bool) -> dict[str, Any]:
    from qurate.llm import load_engine

    out = sd.path
    chosen, population = stratified_sample(src, config.annotate.sample, config.annotate.seed)
    engine = load_engine(config.engine, cache_path=out / "cache" / "llm.sqlite")
    judge = Judge(engine, config.judge)
    meta = judge.metadata()
    started = time.perf_counter()
    kept = truncated = 0
    rejected: Counter[str] = Counter()
    pending: list[dict[str, Any]] = []
    # The judge check's documents: the judged ones with the smallest seeded id hashes, kept
    # in a bounded heap of (-hash, text, quality) so a large sample is not held in memory.
    n_check = config.annotate.check_docs
    for_check: list[tuple[int, str, float]] = []
    with ShardWriter(out) as writer, ShardWriter(out / REJECTS, rejects=True) as rejects:

        def flush() -> None:
            nonlocal kept, truncated
            results = judge.judge([r["text"] or "" for r in pending])
            for row, j in zip(pending, results, strict=True):
                m = row_meta(row)
                m[JUDGE_META_KEY] = {**j.meta(), "model": meta["model"], "rubrics": meta["rubrics"]}
                row["meta"] = m
                if j.error:
                    rejected["judge_failed"] += 1
                    rejects.write(
                        {
                            **row,
                            "reject_reason": "judge_failed",
                            "stage": "score.annotate",
                            "reject_detail": j.error,
                        }
                    )
                    continue
                row["scores"] = {**(row.get("scores") or {}), **j.scores}
                row["domain"], row["domain_score"] = j.domain, j.domain_score
                row["quality"] = judge.quality(j.scores)
                item = (
                    -stable_hash(config.annotate.seed + 1, row["id"]),
                    row["text"] or "",
                    row["quality"],
                )
                if len(for_check) < n_check:
                    heapq.heappush(for_check, item)
                elif n_check and item > for_check[0]:
                    heapq.heapreplace(for_check, item)
                truncated += j.truncated
                kept += 1
                writer.write(row)
            log.info(engine.meter.summary())
            bar.advance(len(pending))
            pending.clear()

        with Bar("annotate", len(chosen), enabled=progress) as bar:
            for row in iter_rows(src):
                if row["id"] in chosen:
                    pending.append(row)
                    if len(pending) >= config.judge.batch_size:
                        flush()
            if pending:
                flush()
    check = None
    if n_check:
        picked = sorted(for_check, reverse=True)
        check = check_judge(judge, [t for _, t, _ in picked], [q for _, _, q in picked])
    rates = engine.meter.rates()
    engine.close()
    n_in = len(chosen)
    manifest = sd.finish(
        config_hash=config_hash(config),
        inputs=[str(src)],
        n_in=n_in,
        n_kept=kept,
        rejected_by_reason=dict(rejected),
        extra={
            "judge": meta,
            "sample": {
                "requested": config.annotate.sample,
                "seed": config.annotate.seed,
                "population": population,
            },
            "truncated": truncated,
            "judge_check": check,
            "throughput": {**rates, "wall_s": time.perf_counter() - started},
        },
    )
    return manifest
