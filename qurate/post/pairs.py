"""``post pairs``: DPO preference pairs from one ``synth filter`` directory, grouped by prompt.

The report's offline RL pairs come from execution feedback and answer matching; here:

- **verifier pairs**: chosen = a kept, verified sample (best combined reward first, then id),
  rejected = a sample of the *same prompt* that failed verification (``verify_failed`` or
  ``no_final_answer``, read from ``rejects/``). A sample rejected for any other reason
  (``duplicate``, ``contaminated``, ``unverifiable``, ...) is never a rejected side: it says
  nothing about the answer being wrong;
- **reward-model pairs**, only for prompts whose samples had no verifier (knowledge
  rewrites): best and worst reward-model score, paired only when they differ by at least
  ``rm_margin``; the worse side may be a sample rejected for ``low_reward`` / ``not_top_k``.

One manifest unit is a prompt: a prompt with at least one pair is kept (its pairs are the
rows of the output), one with none is a reject ``unpaired`` (detail: what it had), one
longer than ``max_prompt_tokens`` a reject ``too_long`` (RL uses short instructions only).
Output rows keep every document column (``text`` renders prompt + chosen) and add
``prompt`` / ``chosen`` / ``rejected`` message lists, both ids, the rejected sample's reason,
the margin and the prompt's verifier pass rate (a GRPO prompt set wants 0 < rate < 1).
Everything is sorted, so the same input gives the same pairs.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from qurate.contract.schema import DOC_FIELDS, REJECT_FIELDS, SCHEMA_VERSION_KEY, rows_to_table
from qurate.contract.schema import SCHEMA_VERSION as _V
from qurate.contract.shards import REJECTS, check_stage_dir, iter_rows
from qurate.contract.stagedir import StageDir, config_hash, fingerprint, read_manifest, write_table
from qurate.contract.steps import resolve_tokenizer
from qurate.errors import BadInputError
from qurate.post.chat import MESSAGES, TURN_OVERHEAD, check_messages, render_text
from qurate.post.config import PairsConfig
from qurate.post.data import _json, synth_messages

STAGE = "post_pairs"
VERIFIER_REASONS = frozenset({"verify_failed", "no_final_answer"})
RM_REASONS = frozenset({"low_reward", "not_top_k"})
PAIR_FIELDS = [
    pa.field("prompt", MESSAGES),
    pa.field("chosen", MESSAGES),
    pa.field("rejected", MESSAGES),
    pa.field("chosen_id", pa.string()),
    pa.field("rejected_id", pa.string()),
    pa.field("rejected_reason", pa.string()),
    pa.field("pair_kind", pa.string()),
    pa.field("margin", pa.float64()),
    pa.field("pass_rate", pa.float64()),
    pa.field("task", pa.string()),
    pa.field("reference", pa.string()),
    pa.field("tests", pa.large_string()),
]
_META = {SCHEMA_VERSION_KEY: _V.encode()}
PAIR_SCHEMA = pa.schema(DOC_FIELDS + PAIR_FIELDS, metadata=_META)
PAIR_REJECT_SCHEMA = pa.schema(DOC_FIELDS + REJECT_FIELDS + PAIR_FIELDS, metadata=_META)


@dataclass
class PairsResult:
    out: Path
    prompts: int
    paired: int
    pairs: int
    rejected: dict[str, int] = field(default_factory=dict)


@dataclass
class Sample:
    """One synth sample as the pair builder sees it."""

    id: str
    prompt: str
    response: str
    task: str
    reason: str | None  # None: kept by synth filter
    verified: bool | None
    reward: float | None
    rm: float | None
    reference: str | None
    tests: str | None


def _sample(row: dict[str, Any]) -> Sample | None:
    msgs = synth_messages(row)
    if len(msgs) != 2 or not msgs[1]["content"]:
        return None
    meta, prov = _json(row.get("meta")), _json(row.get("provenance"))

    def num(v: Any) -> float | None:
        return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None

    return Sample(
        id=str(row["id"]),
        prompt=msgs[0]["content"],
        response=msgs[1]["content"],
        task=str(meta.get("task") or ""),
        reason=row.get("reject_reason"),
        verified=prov.get("verified") if isinstance(prov.get("verified"), bool) else None,
        reward=num(prov.get("reward")),
        rm=num(prov.get("rm_score")),
        reference=meta.get("reference"),
        tests=meta.get("tests"),
    )


def read_groups(synth_dir: str | Path) -> dict[tuple[str, str], list[Sample]]:
    """Every sample of a synth filter directory (kept and rejected), by (task, prompt)."""
    d = check_stage_dir(synth_dir)
    stage = read_manifest(d).get("stage")
    if stage != "synth_filter":
        raise BadInputError(f"{d}: a {stage} directory; post pairs reads `synth filter` output")
    groups: dict[tuple[str, str], list[Sample]] = defaultdict(list)
    for rejects in (False, True):
        for row in iter_rows(d, rejects=rejects):
            s = _sample(row)
            if s is not None:
                groups[(s.task, s.prompt.strip())].append(s)
    return dict(sorted(groups.items()))


def _best_first(s: Sample) -> tuple:
    return (-(s.reward if s.reward is not None else -1e9), s.id)


def pair_group(
    samples: list[Sample], cfg: PairsConfig
) -> tuple[list[tuple[Sample, Sample, str, float | None]], str]:
    """The pairs of one prompt ``(chosen, rejected, kind, margin)`` and, when there are none,
    why (the ``unpaired`` detail)."""
    chosen = sorted(
        (s for s in samples if s.reason is None and s.verified is True), key=_best_first
    )
    # a failed sample whose response is a verified one's (a flaky check: a timeout one run,
    # a pass the next) would make a pair with nothing to learn from; it is not a rejected side
    good = {s.response.strip() for s in chosen}
    failed = sorted(
        (s for s in samples if s.reason in VERIFIER_REASONS and s.response.strip() not in good),
        key=lambda s: s.id,
    )
    pairs: list[tuple[Sample, Sample, str, float | None]] = []
    if any(s.verified is not None or s.reason in VERIFIER_REASONS for s in samples):
        for c, r in list(zip(chosen, failed, strict=False))[: cfg.max_pairs_per_prompt]:
            pairs.append(
                (
                    c,
                    r,
                    "verifier",
                    c.reward - r.reward if None not in (c.reward, r.reward) else None,
                )
            )  # type: ignore[operator]
        why = f"{len(chosen)} verified, {len(failed)} failed verification"
        return pairs, why
    scored, seen = [], set()
    for s in sorted(  # one sample per distinct response: a copy of the chosen is no rejected
        (s for s in samples if s.rm is not None and (s.reason is None or s.reason in RM_REASONS)),
        key=lambda s: (-s.rm, s.id),  # type: ignore[operator]
    ):
        if s.response.strip() not in seen:
            seen.add(s.response.strip())
            scored.append(s)
    lo, hi = 0, len(scored) - 1
    while lo < hi and len(pairs) < cfg.max_pairs_per_prompt:
        c, r = scored[lo], scored[hi]
        if c.reason is not None or c.rm - r.rm < cfg.rm_margin:  # type: ignore[operator]
            break
        pairs.append((c, r, "reward_model", c.rm - r.rm))  # type: ignore[operator]
        lo, hi = lo + 1, hi - 1
    why = f"no verifier; {len(scored)} reward-model scores, none {cfg.rm_margin} apart from a kept one"
    return pairs, why


def pass_rate(samples: list[Sample]) -> float | None:
    """Share of a prompt's verifier-judged samples that passed (None when none was judged)."""
    judged = [s for s in samples if s.verified is True or s.reason in VERIFIER_REASONS]
    return sum(s.verified is True for s in judged) / len(judged) if judged else None


def learnable_prompts(synth_dir: str | Path) -> list[dict[str, Any]]:
    """GRPO prompts of a synth directory: those whose verifier pass rate over their samples is
    strictly between 0 and 1 (a group where every sample passes, or every one fails, gives
    GRPO equal rewards and zero gradient), with ``reference`` / ``tests`` for the rewards."""
    rows = []
    for (task, prompt), samples in read_groups(synth_dir).items():
        rate = pass_rate(samples)
        if rate is not None and 0.0 < rate < 1.0:
            first = min(samples, key=lambda s: s.id)
            rows.append(
                {
                    "prompt": prompt,
                    "task": task,
                    "reference": first.reference,
                    "tests": first.tests,
                    "pass_rate": rate,
                }
            )
    return rows


def build_pairs(
    synth_dir: str | Path,
    out: str | Path,
    cfg: PairsConfig | None = None,
    *,
    overwrite: bool = False,
) -> PairsResult:
    """Write DPO pairs of ``synth_dir`` into the stage directory ``out``."""
    cfg = cfg or PairsConfig()
    groups = read_groups(synth_dir)
    sd = StageDir(out, STAGE, overwrite=overwrite, inputs=[synth_dir])
    with sd:
        if (done := sd.begin(fingerprint(cfg, [synth_dir]), resume=False)) is not None:
            c = done["counts"]
            return PairsResult(
                sd.path, c["in"], c["kept"], done.get("pairs", 0), c["rejected_by_reason"]
            )
        lengths = _prompt_tokens([p for _, p in groups], cfg)
        kept: list[dict[str, Any]] = []
        rejected: list[dict[str, Any]] = []
        paired = 0
        for ((task, prompt), samples), n_tok in zip(groups.items(), lengths, strict=True):
            rate = pass_rate(samples)
            if n_tok > cfg.max_prompt_tokens:
                rejected.append(
                    _reject(
                        task,
                        prompt,
                        samples,
                        rate,
                        "too_long",
                        f"{n_tok} > {cfg.max_prompt_tokens} tokens",
                    )
                )
                continue
            pairs, why = pair_group(samples, cfg)
            if not pairs:
                rejected.append(_reject(task, prompt, samples, rate, "unpaired", why))
                continue
            paired += 1
            kept += [_pair_row(task, prompt, c, r, kind, m, rate) for c, r, kind, m in pairs]
        if kept:
            write_table(sd.path / "part-00000.parquet", _table(kept))
        if rejected:
            write_table(sd.path / REJECTS / "part-00000.parquet", _table(rejected, rejects=True))
        reasons: dict[str, int] = defaultdict(int)
        for r in rejected:
            reasons[r["reject_reason"]] += 1
        sd.finish(
            config_hash=config_hash(cfg),
            inputs=[str(synth_dir)],
            n_in=len(groups),
            n_kept=paired,
            rejected_by_reason=dict(reasons),
            extra={"unit": "prompt", "pairs": len(kept)},
        )
    return PairsResult(sd.path, len(groups), paired, len(kept), dict(reasons))


def _prompt_tokens(prompts: list[str], cfg: PairsConfig) -> list[int]:
    from tokenizers import Tokenizer

    path = resolve_tokenizer(cfg.tokenizer)
    if not path:
        return [len(p.split()) + TURN_OVERHEAD for p in prompts]
    tok = Tokenizer.from_file(path)
    return [len(e.ids) + TURN_OVERHEAD for e in tok.encode_batch(prompts, add_special_tokens=False)]


def _user(prompt: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": prompt}]


def _pair_row(
    task: str,
    prompt: str,
    c: Sample,
    r: Sample,
    kind: str,
    margin: float | None,
    rate: float | None,
) -> dict[str, Any]:
    chosen = [{"role": "assistant", "content": c.response}]
    text = render_text(_user(prompt) + chosen)
    return {
        "id": f"pair-{c.id}-{r.id}",
        "text": text,
        "source": "post:pairs",
        "synthetic": True,
        "n_chars": len(text),
        "domain": task or None,
        "provenance": {
            "chosen_reward": c.reward,
            "rejected_reward": r.reward,
            "chosen_rm": c.rm,
            "rejected_rm": r.rm,
        },
        "prompt": _user(prompt),
        "chosen": chosen,
        "rejected": [{"role": "assistant", "content": r.response}],
        "chosen_id": c.id,
        "rejected_id": r.id,
        "rejected_reason": r.reason,
        "pair_kind": kind,
        "margin": margin,
        "pass_rate": rate,
        "task": task,
        "reference": c.reference,
        "tests": c.tests,
    }


def _reject(
    task: str, prompt: str, samples: list[Sample], rate: float | None, reason: str, detail: str
) -> dict[str, Any]:
    first = min(samples, key=lambda s: s.id)
    return {
        "id": f"prompt-{first.id}",
        "text": prompt,
        "source": "post:pairs",
        "synthetic": True,
        "n_chars": len(prompt),
        "domain": task or None,
        "prompt": _user(prompt),
        "pass_rate": rate,
        "task": task,
        "reference": first.reference,
        "tests": first.tests,
        "reject_reason": reason,
        "reject_detail": detail,
        "stage": STAGE,
    }


def _table(rows: list[dict[str, Any]], *, rejects: bool = False) -> pa.Table:
    base = rows_to_table(rows, rejects=rejects)
    schema = PAIR_REJECT_SCHEMA if rejects else PAIR_SCHEMA
    cols = {f.name: base.column(f.name) for f in base.schema}
    for f in PAIR_FIELDS:
        cols[f.name] = pa.array([r.get(f.name) for r in rows], type=f.type)
    return pa.Table.from_pydict({f.name: cols[f.name] for f in schema}, schema=schema)


def pair_problem(pair: dict[str, Any]) -> str | None:
    """Why a pair cannot be trained on, or None: prompt + chosen and prompt + rejected must
    each be a conversation :func:`~qurate.post.chat.check_messages` accepts (its reason), and
    the two answers must differ (``identical``: a DPO step on it learns nothing, loss ln 2)."""
    prompt, chosen, rejected = (pair.get(k) for k in ("prompt", "chosen", "rejected"))
    if not all(isinstance(x, list) for x in (prompt, chosen, rejected)):
        return "bad_roles"
    for side in (chosen, rejected):
        if (problem := check_messages(prompt + side)) is not None:
            return problem[0]
    return "identical" if chosen == rejected else None


def read_pairs(directory: str | Path) -> list[dict[str, Any]]:
    """The pair rows of a ``post pairs`` directory (a one-line error for an empty one)."""
    d = Path(directory)
    from qurate.contract.stagedir import require_finished

    require_finished(d)
    rows = (
        list(iter_rows(d, columns=[f.name for f in PAIR_FIELDS] + ["id"]))
        if list(d.glob("part-*.parquet"))
        else []
    )
    if not rows:
        raise BadInputError(f"{d}: holds no pairs (every prompt was rejected; see {d}/rejects)")
    return rows


__all__ = [
    "PairsResult",
    "Sample",
    "build_pairs",
    "learnable_prompts",
    "pair_group",
    "pair_problem",
    "pass_rate",
    "read_groups",
    "read_pairs",
]
