"""Scoring stage 3, apply: score every document and combine the signals into ``quality``.

Each signal becomes a component in [0, 1]:

- **rater**: the fastText raters' weighted mean score / 5 (cheap: the one to run on all);
- **judge**: the LLM judge's mean normalised score (``--judge``; one LLM prefill a document);
- **perplexity** under a reference LM (``--perplexity``; the CCNet idea).

``quality`` is the weighted mean of the components a document has (weights in
``score.apply``); below ``keep_threshold`` a document goes to rejects as ``low_quality``.

Perplexity depends on the language at least as much as on quality: under SmolLM2 the median
kept document scores 17-27 in Chinese, Russian or English and 100-128 in Czech, Swedish or
Dutch (bench/RESULTS.md), so one fixed cut keeps English junk that a good Dutch manual
cannot beat. CCNet therefore cuts perplexity per
language, at percentiles. With ``perplexity.normalize: language`` (the default) the component
is the document's percentile within its language over the whole input: 0.9 means 90% of the
same-language documents are less likely under the reference model. That needs every
perplexity before the first document can be written, so apply runs in two passes: the first
scores and stages rows under ``OUT/_staging``, the second ranks and writes. Languages with
fewer than ``min_language_docs`` documents are ranked together. The per-language 10/50/90th
percentiles go into the manifest (CCNet's head/middle/tail cuts). The percentile is relative
to the input: score a corpus in one run, not shard by shard. ``normalize: absolute`` maps
perplexity through a fixed logistic (one pass; calibrate ``pivot`` for the reference model).
"""

from __future__ import annotations

import contextlib
import json
import shutil
import time
from collections import Counter
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np

from qurate.curate.scoring_annotate import reset_stage_dir
from qurate.curate.scoring_check import check_judge, reliability_of
from qurate.curate.scoring_config import ScoreConfig
from qurate.curate.scoring_metrics import rankdata
from qurate.curate.shards import (
    REJECTS,
    ShardWriter,
    check_stage_dir,
    config_hash,
    iter_rows,
    write_manifest,
)
from qurate.errors import BadInputError
from qurate.filters.judge import Judge
from qurate.filters.raters import RATERS_FILE, Raters

STAGING = "_staging"
COMPONENTS = ("rater", "judge", "perplexity")


def apply(
    in_dir: str | Path,
    out_dir: str | Path,
    raters_dir: str | Path | None,
    config: ScoreConfig | None = None,
    *,
    judge: bool = False,
    perplexity: bool = False,
) -> dict[str, Any]:
    """Score every document of ``in_dir`` with the raters (and optionally the judge and
    perplexity under ``config.perplexity.model``); write ``out_dir``."""
    config = config or ScoreConfig()
    acfg, pcfg = config.apply, config.perplexity
    src, out = check_stage_dir(in_dir), Path(out_dir)
    raters = Raters(raters_dir) if raters_dir else None
    if raters is None and not judge and not perplexity:
        raise BadInputError("nothing to score with: give --raters, --judge or --perplexity")
    reset_stage_dir(out)
    shutil.rmtree(out / STAGING, ignore_errors=True)
    the_judge = scorer = None
    if judge:
        from qurate.llm import load_engine

        the_judge = Judge(
            load_engine(config.engine, cache_path=out / "cache" / "llm.sqlite"), config.judge
        )
    if perplexity:
        from qurate.filters.perplexity import PerplexityScorer

        scorer = PerplexityScorer(pcfg)
    relative = scorer is not None and pcfg.normalize == "language"
    weights, present, judge_check = _weights(src, config, raters, the_judge, scorer)
    started = time.perf_counter()
    n_in = kept = n_bytes = 0
    rejected: Counter[str] = Counter()
    staged: dict[str, list[np.ndarray]] = {c: [] for c in COMPONENTS}
    langs: list[str] = []
    with ShardWriter(out) as writer, ShardWriter(out / REJECTS, rejects=True) as rejects:

        def emit(rows: list[dict[str, Any]], quality: np.ndarray) -> None:
            nonlocal kept
            for row, q in zip(rows, quality.tolist(), strict=True):
                row["quality"] = None if np.isnan(q) else float(q)
                if acfg.keep_threshold is not None and not q >= acfg.keep_threshold:
                    rejected["low_quality"] += 1
                    detail = f"quality={q:.3f} < {acfg.keep_threshold}"
                    rejects.write(
                        {
                            **row,
                            "reject_reason": "low_quality",
                            "stage": "score.apply",
                            "reject_detail": detail,
                        }
                    )
                else:
                    kept += 1
                    writer.write(row)

        # Pass 1: score; write directly, or stage the rows when a component needs the
        # whole input (per-language perplexity percentiles).
        with ShardWriter(out / STAGING) if relative else contextlib.nullcontext() as staging:
            for batch in _batches(iter_rows(src), acfg.batch_size):
                n_in += len(batch)
                n_bytes += sum(len((r["text"] or "").encode()) for r in batch)
                comps = score_batch(batch, raters, the_judge, scorer, config)
                if relative:
                    for c in COMPONENTS:
                        staged[c].append(comps.get(c, np.full(len(batch), np.nan)))
                    langs += [r.get("lang") or "?" for r in batch]
                    for row in batch:
                        staging.write(row)
                else:
                    if scorer is not None:
                        comps["perplexity"] = scorer.quality(comps["perplexity"])
                    emit(batch, combine(comps, weights))
        ppl_table = None
        if relative:
            # Pass 2: rank perplexity within each language, combine, write.
            comp = {c: np.concatenate(v) if v else np.empty(0) for c, v in staged.items()}
            lang_arr = np.array(langs, dtype=object)
            ppl = comp["perplexity"]
            comp["perplexity"] = percentile_by_group(-np.log(ppl), lang_arr, pcfg.min_language_docs)
            ppl_table = perplexity_quantiles(ppl, lang_arr)
            quality = combine(comp, weights)
            k = 0
            for batch in _batches(iter_rows(out / STAGING), acfg.batch_size):
                emit(batch, quality[k : k + len(batch)])
                k += len(batch)
    shutil.rmtree(out / STAGING, ignore_errors=True)
    wall = time.perf_counter() - started
    extra: dict[str, Any] = {
        "raters": str(raters_dir) if raters_dir else None,
        "judge": the_judge.metadata() if the_judge else None,
        "perplexity_model": scorer.model_id if scorer else None,
        "weights": {c: weights[c] for c in present},
        "judge_check": judge_check,
        "throughput": {
            "docs_per_s": n_in / wall if wall else None,
            "mb_per_s": n_bytes / 1e6 / wall if wall else None,
        },
    }
    if scorer is not None:
        extra["perplexity"] = {
            "normalize": pcfg.normalize,
            "max_tokens": pcfg.max_tokens,
            "by_language": ppl_table,
        }
    return write_manifest(
        out,
        stage="score.apply",
        config_hash=config_hash(config),
        inputs=[str(src)],
        n_in=n_in,
        n_kept=kept,
        rejected_by_reason=dict(rejected),
        extra=extra,
    )


def _weights(
    src: Path, config: ScoreConfig, raters: Raters | None, judge: Judge | None, scorer: Any
) -> tuple[dict[str, float], list[str], dict[str, Any] | None]:
    """Each component's weight in ``quality``, the components present, and the judge check.

    A judge that failed its check (scoring_check.py) passes its low reliability on to the
    raters distilled from it; a judge asked here is checked on the first documents (their
    answers are cached, so scoring them again later costs nothing).
    """
    acfg = config.apply
    judge_check = None
    if judge is not None and config.annotate.check_docs:
        head = [
            r["text"] or ""
            for r in islice(iter_rows(src, columns=["text"]), config.annotate.check_docs)
        ]
        quality = [judge.quality(j.scores) if not j.error else np.nan for j in judge.judge(head)]
        judge_check = check_judge(judge, head, quality)
    configured = {
        "rater": acfg.rater_weight,
        "judge": acfg.judge_weight,
        "perplexity": acfg.perplexity_weight,
    }
    weights = {
        **configured,
        "rater": acfg.rater_weight
        * reliability_of(raters.meta.get("judge_check") if raters else None),
        "judge": acfg.judge_weight * reliability_of(judge_check),
    }
    present = [
        c for c, on in zip(COMPONENTS, (raters, judge, scorer), strict=True) if on is not None
    ]
    if not sum(weights[c] for c in present):
        # Nothing else to lean on: the checked signal is all there is, so it keeps its weight
        # (the manifest records the check, so the weakness is on record).
        weights = configured
    return weights, present, judge_check


def _batches(rows: Any, size: int) -> Any:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def score_batch(
    rows: list[dict[str, Any]],
    raters: Raters | None,
    judge: Judge | None,
    scorer: Any,
    config: ScoreConfig,
) -> dict[str, np.ndarray]:
    """Fill scores / domain / domain_score of ``rows`` in place; return the components:
    ``rater`` and ``judge`` in [0, 1] (NaN where missing) and ``perplexity`` raw."""
    acfg = config.apply
    texts = [r["text"] or "" for r in rows]
    comps: dict[str, np.ndarray] = {}
    new_scores: list[dict[str, float]] = [{} for _ in rows]
    if raters is not None:
        scores, domains, dprob = raters.predict(texts)
        comp = np.zeros(len(rows), dtype=np.float64)
        total_w = 0.0
        for dim, vals in scores.items():
            w = acfg.weights.get(dim, 1.0)
            comp += w * np.clip(vals, 0, 5) / 5.0
            total_w += w
            for i, v in enumerate(vals.tolist()):
                new_scores[i][dim] = v
        if total_w > 0:
            comps["rater"] = comp / total_w
        if raters.domain_model is not None:
            for i, row in enumerate(rows):
                row["domain"], row["domain_score"] = domains[i], float(dprob[i])
    if judge is not None:
        comp = np.full(len(rows), np.nan)
        for i, j in enumerate(judge.judge(texts)):
            if j.error:
                continue
            comp[i] = judge.quality(j.scores)
            for dim, v in j.scores.items():
                new_scores[i][f"judge_{dim}"] = v
            if raters is None or raters.domain_model is None:
                rows[i]["domain"], rows[i]["domain_score"] = j.domain, j.domain_score
        comps["judge"] = comp
    if scorer is not None:
        ppl = scorer.perplexity(texts)
        for i, p in enumerate(ppl.tolist()):
            if not np.isnan(p):
                new_scores[i]["perplexity"] = p
        comps["perplexity"] = ppl
    for row, s in zip(rows, new_scores, strict=True):
        row["scores"] = {**(row.get("scores") or {}), **s}
    return comps


def combine(comps: dict[str, np.ndarray], weights: dict[str, float]) -> np.ndarray:
    """Weighted mean of the components each document has (NaN when it has none)."""
    n = len(next(iter(comps.values()))) if comps else 0
    num, den = np.zeros(n), np.zeros(n)
    for name, comp in comps.items():
        ok = ~np.isnan(comp)
        num[ok] += weights[name] * comp[ok]
        den[ok] += weights[name]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / den, np.nan)


def _indices_by_group(groups: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """Sorted group names and, for each, the positions that hold it (one sort, not a mask
    over the whole array per group)."""
    names, inv = np.unique(groups.astype(str), return_inverse=True)
    order = np.argsort(inv, kind="stable")
    return names, np.split(order, np.cumsum(np.bincount(inv, minlength=len(names)))[:-1])


def percentile_by_group(values: np.ndarray, groups: np.ndarray, min_group: int) -> np.ndarray:
    """Mid-rank percentile in (0, 1) of each value within its group (ties share a rank);
    NaN stays NaN; groups with fewer than ``min_group`` values are ranked together."""
    out = np.full(len(values), np.nan)
    ok = np.flatnonzero(~np.isnan(values))
    if not len(ok):
        return out
    _, parts = _indices_by_group(groups[ok])
    small = [p for p in parts if len(p) < min_group]
    ranked = [p for p in parts if len(p) >= min_group]
    if small:
        ranked.append(np.concatenate(small))
    for part in ranked:
        idx = ok[part]
        out[idx] = (rankdata(values[idx]) - 0.5) / len(idx)
    return out


def perplexity_quantiles(ppl: np.ndarray, groups: np.ndarray) -> dict[str, dict[str, float]]:
    """Per-language document count and 10/50/90th percentile perplexity (CCNet-style cuts)."""
    ok = np.flatnonzero(~np.isnan(ppl))
    table: dict[str, dict[str, float]] = {}
    if not len(ok):
        return table
    names, parts = _indices_by_group(groups[ok])
    for name, part in zip(names.tolist(), parts, strict=True):
        p10, p50, p90 = np.percentile(ppl[ok[part]], [10, 50, 90])
        table[name] = {"n": len(part), "p10": float(p10), "p50": float(p50), "p90": float(p90)}
    return table


def raters_summary(models_dir: str | Path) -> dict[str, Any]:
    """The saved ``raters.json`` of a models directory (for rendering)."""
    path = Path(models_dir) / RATERS_FILE
    if not path.is_file():
        raise BadInputError(f"{models_dir}: no {RATERS_FILE}")
    return json.loads(path.read_text())
