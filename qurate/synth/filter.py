"""``synth filter``: keep a synthetic sample only when verifiers and reward models agree.

Steps, cheapest first, each one only on the samples still alive (first reason wins):

1. **Well-formed**: fields of the right types and a row that was a JSON object
   (:func:`qurate.synth.samples.check_sample`), a known ``task``, and, for math and code, a
   ``prompt`` (else ``malformed_sample``, detail = what is wrong); a non-empty ``response``
   (else ``empty_output``).
2. **Decontaminate** against benchmark files with the curate stage's n-gram index
   (``contaminated``, detail = the benchmark record).
3. **Verify** (``--verify``): math against ``reference`` or by majority vote per prompt
   (``verify_failed``, ``no_final_answer``, ``unparseable_reference``, ``unverifiable``);
   code in the sandbox (``verify_failed``, ``no_tests``). Knowledge has no verifier.
4. **Reward**: the general RM, the math RM for math, and/or an LLM judge.
5. **Select**: the combined reward (:mod:`qurate.synth.select`), a threshold
   (``low_reward``) and top-k per prompt (``not_top_k``).
6. **Dedup** the survivors against each other (best reward first) and the real pool
   (``duplicate``, detail = the id it duplicates).

Kept samples become documents in the shard contract (``synthetic=true``, ``domain`` from the
task, provenance with teacher, template, seed, sampling, ``rm_score``, ``verified`` and the
combined reward); every rejected sample goes to ``rejects/`` with its reason, detail and
scores, and the manifest checks in == kept + rejected. Samples are held in memory: shard the
input by prompt to filter more than fits.
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qurate.contract.shards import (
    REJECTS,
    ShardWriter,
    config_hash,
)
from qurate.contract.stagedir import StageDir, fingerprint
from qurate.contract.steps import resolve_tokenizer
from qurate.dedup.decontam import DecontamFilter, build_decontam_index
from qurate.dedup.ids import Renamer
from qurate.llm import Engine
from qurate.llm.models import resolve_model
from qurate.progress import Bar
from qurate.synth.config import FilterConfig
from qurate.synth.dedup import find_duplicates
from qurate.synth.reward import JudgeReward, load_reward, reward_architecture
from qurate.synth.samples import check_sample, document_text, read_samples
from qurate.synth.sandbox import isolation_summary
from qurate.synth.select import combined_reward, select
from qurate.synth.tasks import TASK_DOMAIN, TASKS
from qurate.synth.verify_code import verify_code
from qurate.synth.verify_math import majority_vote, verify_against_reference

log = logging.getLogger("qurate.synth")
STAGE = "synth_filter"


@dataclass
class FilterResult:
    out: Path
    n_in: int
    kept: int
    rejected: dict[str, int] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)


class _Run:
    """Per-sample state: the reject reason/detail and every score found on the way."""

    def __init__(self, samples: list[dict[str, Any]]) -> None:
        self.s = samples
        self.reason: list[str | None] = [None] * len(samples)
        self.detail: list[str | None] = [None] * len(samples)
        self.info: list[dict[str, Any]] = [{} for _ in samples]
        self.timings: dict[str, float] = {}

    def live(self, task: str | None = None) -> list[int]:
        return [
            i
            for i, r in enumerate(self.reason)
            if r is None and (task is None or self.s[i].get("task") == task)
        ]

    def reject(self, i: int, reason: str, detail: str | None = None) -> None:
        if self.reason[i] is None:
            self.reason[i], self.detail[i] = reason, detail


def filter_samples(
    inp: str | Path | list[dict[str, Any]],
    out: str | Path,
    cfg: FilterConfig | None = None,
    *,
    judge_engine: Engine | None = None,
    overwrite: bool = False,
    progress: bool = True,
) -> FilterResult:
    """Filter the samples of ``inp`` (file, directory or rows) into the stage dir ``out``.

    ``judge_engine``: an engine already loaded for ``cfg.reward.judge`` (the demo reuses its
    teacher as the judge instead of loading the model twice).

    Rerun policy (``StageDir``): the same run again is a no-op, an interrupted one restarts
    in place (``work/`` keeps the reward cache and decontamination index), a different one
    needs ``overwrite``.

    ``progress``: a bar (rate, ETA) on stderr over the slow steps: the code sandbox and the
    reward models.
    """
    cfg = cfg or FilterConfig()
    out = Path(out)
    for path in (cfg.reward.rm, cfg.reward.math_rm):
        if path:  # a wrong model path fails now, not after the verifiers have run
            reward_architecture(path, cfg.reward.engine)
    if cfg.reward.judge and judge_engine is None:
        resolve_model(cfg.reward.judge)
    samples = _unique_ids(inp if isinstance(inp, list) else read_samples(inp))
    inputs = [*([] if isinstance(inp, list) else [inp]), *cfg.pool, *cfg.benchmarks]
    fp = fingerprint(
        cfg,
        inputs,
        samples=config_hash(samples) if isinstance(inp, list) else None,
        judge=None if judge_engine is None else judge_engine.model_id,
    )
    with StageDir(out, STAGE, overwrite=overwrite, keep=("work",), inputs=inputs) as sd:
        done = sd.begin(fp, resume=False)
        if done is not None:
            c = done["counts"]
            timings = done.get("timings_s", {})
            return FilterResult(out, c["in"], c["kept"], c["rejected_by_reason"], timings)
        return _filter(sd, inp, samples, cfg, judge_engine, progress)


def _unique_ids(samples: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Ids unique in the stage directory, as in curate's (the same :class:`Renamer`): a
    repeated id becomes ``<id>~n`` (n = 2, 3, ... in input order, skipping ids the input
    already has) with the input's id in ``meta.original_id``; nothing is dropped for it.
    (Two rows of one id were both kept, and a duplicate's detail was ambiguous.)"""
    rename = Renamer(s["id"] for s in samples)
    out = []
    for s in samples:
        new = rename(s["id"])
        out.append(s if new is None else {**s, "id": new, "original_id": s["id"]})
    return out


def _filter(
    sd, inp, samples, cfg: FilterConfig, judge_engine: Engine | None, progress: bool
) -> FilterResult:
    out = sd.path
    run = _Run(samples)
    work = out / "work"
    work.mkdir(parents=True, exist_ok=True)
    steps = [
        ("check", lambda: _check(run)),
        ("decontam", lambda: _decontam(run, cfg, work)),
        ("verify", lambda: _verify(run, cfg, progress)),
        ("reward", lambda: _reward(run, cfg, work, judge_engine, progress)),
        ("select", lambda: _select(run, cfg)),
        ("dedup", lambda: _dedup(run, cfg)),
    ]
    for name, step in steps:
        t0 = time.perf_counter()
        step()
        run.timings[name] = round(time.perf_counter() - t0, 3)
        log.info("synth filter: %s done, %d live", name, len(run.live()))
    counts = _write(run, cfg, out)
    sd.finish(
        config_hash=config_hash(cfg),
        inputs=[str(inp)] if not isinstance(inp, list) else ["<in-memory samples>"],
        n_in=len(samples),
        n_kept=counts["kept"],
        rejected_by_reason=counts["rejected"],
        extra={
            "tokens_by_domain": counts["tokens_by_domain"],
            "timings_s": run.timings,
            "sandbox": isolation_summary(cfg.sandbox) if cfg.verify else None,
        },
    )
    return FilterResult(out, len(samples), counts["kept"], counts["rejected"], run.timings)


def _check(run: _Run) -> None:
    for i, s in enumerate(run.s):
        bad = check_sample(s)  # wrong types, lines that were not JSON objects
        if bad:
            run.reject(i, "malformed_sample", bad)
            continue
        task, prompt, resp = s.get("task"), s.get("prompt"), s.get("response")
        if task not in TASKS:
            run.reject(i, "malformed_sample", f"task {task!r} is not one of {', '.join(TASKS)}")
        elif not isinstance(resp, str) or not resp.strip():
            run.reject(i, "empty_output", "no response")
        elif task != "knowledge" and (not isinstance(prompt, str) or not prompt.strip()):
            run.reject(i, "malformed_sample", "no prompt")


def _decontam(run: _Run, cfg: FilterConfig, work: Path) -> None:
    if not cfg.benchmarks:
        return
    index = build_decontam_index([Path(b) for b in cfg.benchmarks], work, cfg.decontam)
    flt = DecontamFilter(index, cfg.decontam)
    live = run.live()
    # A sample is contaminated if its prompt or its response carries a benchmark n-gram.
    texts = [f"{run.s[i].get('prompt') or ''}\n\n{run.s[i]['response']}" for i in live]
    hits = flt.index.first_hits(texts)
    for i, h in zip(live, hits, strict=True):
        if h is not None:
            run.reject(i, "contaminated", h)


def _verify(run: _Run, cfg: FilterConfig, progress: bool) -> None:
    if not cfg.verify:
        return
    groups: dict[str, list[int]] = defaultdict(list)
    for i in run.live("math"):
        ref = run.s[i].get("reference")
        if isinstance(ref, str) and ref.strip():
            v = verify_against_reference(run.s[i]["response"], ref)
            _verdict(run, i, v.verified, v.reason, v.detail, answer=v.answer)
        else:
            groups[run.s[i]["prompt"].strip()].append(i)
    for members in groups.values():
        verdicts = majority_vote([run.s[i]["response"] for i in members], cfg.min_votes)
        for i, v in zip(members, verdicts, strict=True):
            _verdict(run, i, v.verified, v.reason, v.detail, answer=v.answer)
    code = run.live("code")
    with Bar("code tests", len(code), enabled=progress and bool(code), unit="samples") as bar:
        verdicts = verify_code([run.s[i] for i in code], cfg.sandbox, bar.advance)
    for i, v in zip(code, verdicts, strict=True):
        _verdict(run, i, v.verified, v.reason, v.detail)


def _verdict(
    run: _Run, i: int, ok: bool | None, reason: str | None, detail: str | None, **extra: Any
) -> None:
    run.info[i]["verified"] = ok
    run.info[i].update({k: v for k, v in extra.items() if v is not None})
    if ok is not True:
        run.info[i]["verify_detail"] = detail
        run.reject(i, reason or "verify_failed", detail)


# samples a reward model scores between two steps of the progress bar
_REWARD_CHUNK = 32


def _reward(
    run: _Run, cfg: FilterConfig, work: Path, judge_engine: Engine | None, progress: bool
) -> None:
    rc = cfg.reward
    jobs: list[tuple[str, str, list[int]]] = []  # (score key, model, samples)
    live = run.live()
    if rc.math_rm:
        math = [i for i in live if run.s[i]["task"] == "math"]
        jobs.append(("math_rm_score", rc.math_rm, math))
        if rc.rm:
            jobs.append(("rm_score", rc.rm, [i for i in live if run.s[i]["task"] != "math"]))
    elif rc.rm:
        jobs.append(("rm_score", rc.rm, live))
    if rc.judge:
        jobs.append(("judge_score", rc.judge, live))
    for key, model, idx in jobs:
        if not idx:
            continue
        cache = work / "reward-cache.sqlite"
        scorer = (
            JudgeReward(model, rc, cache, judge_engine)
            if key == "judge_score"
            else load_reward(model, rc, cache)
        )
        scores: list[Any] = []
        try:
            with Bar(key.removesuffix("_score"), len(idx), enabled=progress, unit="samples") as bar:
                for at in range(0, len(idx), _REWARD_CHUNK):
                    part = idx[at : at + _REWARD_CHUNK]
                    scores += scorer.score(
                        [run.s[i].get("prompt") or "" for i in part],
                        [run.s[i]["response"] for i in part],
                    )
                    bar.advance(len(part))
        finally:
            scorer.close()
        for i, sc in zip(idx, scores, strict=True):
            run.info[i][key] = sc
            run.info[i].setdefault("reward_models", {})[key] = scorer.model_id


def _select(run: _Run, cfg: FilterConfig) -> None:
    live = run.live()
    scores = []
    for i in live:
        inf = run.info[i]
        rm = inf.get("math_rm_score", inf.get("rm_score"))
        inf["reward"] = combined_reward(rm, inf.get("verified"), inf.get("judge_score"))
        scores.append(inf["reward"])
    groups = [
        (
            run.s[i]["task"],
            (run.s[i].get("prompt") or "").strip() or run.s[i].get("seed_id") or run.s[i]["id"],
        )
        for i in live
    ]
    for i, why in zip(live, select(groups, scores, cfg.min_reward, cfg.top_k), strict=True):
        if why:
            run.reject(i, why, f"combined reward {run.info[i]['reward']}")


def _dedup(run: _Run, cfg: FilterConfig) -> None:
    live = sorted(
        run.live(),
        key=lambda i: (run.info[i].get("reward") is None, -(run.info[i].get("reward") or 0.0), i),
    )
    texts = [document_text(run.s[i]) for i in live]
    dups = find_duplicates([run.s[i]["id"] for i in live], texts, cfg.dedup, cfg.pool)
    for i, d in zip(live, dups, strict=True):
        if d is not None:
            run.reject(i, "duplicate", d)


def _write(run: _Run, cfg: FilterConfig, out: Path) -> dict[str, Any]:
    tok = None
    tok_path = resolve_tokenizer(cfg.tokenizer)
    if tok_path:
        from tokenizers import Tokenizer

        tok = Tokenizer.from_file(tok_path)
    kept = ShardWriter(out, rows_per_shard=cfg.rows_per_shard)
    rejected = ShardWriter(out / REJECTS, rejects=True, rows_per_shard=cfg.rows_per_shard)
    reasons: Counter[str] = Counter()
    tokens: Counter[str] = Counter()
    for i, s in enumerate(run.s):
        row = _document(s, run.info[i], tok)
        if run.reason[i] is None:
            kept.write(row)
            tokens[row["domain"] or "unknown"] += row["n_tokens"] or 0
        else:
            row.update(reject_reason=run.reason[i], stage=STAGE, reject_detail=run.detail[i])
            rejected.write(row)
            reasons[run.reason[i]] += 1  # type: ignore[index]
    kept.close()
    rejected.close()
    return {"kept": kept.count, "rejected": dict(reasons), "tokens_by_domain": dict(tokens)}


def _document(s: dict[str, Any], info: dict[str, Any], tok: Any) -> dict[str, Any]:
    try:
        prov = json.loads(s["provenance"]) if s.get("provenance") else {}
    except (TypeError, json.JSONDecodeError):
        prov = {"raw": str(s.get("provenance"))}
    if not isinstance(prov, dict):
        prov = {"raw": prov}
    prov.update(
        rm_score=info.get("math_rm_score", info.get("rm_score")),
        verified=info.get("verified"),
        reward=info.get("reward"),
        **{
            k: v
            for k, v in info.items()
            if k in ("judge_score", "answer", "verify_detail", "reward_models")
        },
    )
    text = document_text(s)
    task = s.get("task")
    scores = {
        k: float(v)
        for k, v in (
            ("synth_reward", info.get("reward")),
            ("rm_score", info.get("rm_score")),
            ("math_rm_score", info.get("math_rm_score")),
            ("judge_score", info.get("judge_score")),
        )
        if v is not None
    }
    teacher = (
        (prov.get("teacher") or {}).get("model") if isinstance(prov.get("teacher"), dict) else None
    )
    return {
        "id": s["id"],
        "text": text,
        "source": f"synth:{teacher or 'external'}",
        "domain": prov.get("domain") or TASK_DOMAIN.get(task or ""),
        "scores": scores or None,
        "n_chars": len(text),
        "n_tokens": len(tok.encode(text, add_special_tokens=False).ids) if tok and text else None,
        "synthetic": True,
        "provenance": prov,
        "meta": {
            "task": task,
            "prompt_chars": len(s.get("prompt") or "") if task != "knowledge" else 0,
            # The turns as generated, so `post data` / `post pairs` rebuild the conversation.
            "prompt": s.get("prompt"),
            "response": s.get("response"),
            "reference": s.get("reference"),
            "tests": s.get("tests"),
            "seed_id": s.get("seed_id"),
            **({"original_id": s["original_id"]} if s.get("original_id") else {}),
        },
    }
