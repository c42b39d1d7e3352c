"""The scoring lever as three stages: annotate (LLM judge on a sample), distill (fastText
raters from the annotations, with agreement on held-out labels), apply (score everything).

Each stage reads and writes stage directories of the data contract and writes a manifest
whose counts add up (``in == kept + rejected``):

- annotate: ``in`` is the stratified sample; a document the judge cannot score goes to
  rejects with reason ``judge_failed`` (and the error), never crashing the run. LLM answers
  are cached in ``OUT/cache/llm.sqlite``: a killed run, rerun, asks only what it had not.
- distill: writes no shards, only models + ``raters.json`` + ``agreement.json``.
- apply: every input document is kept with ``scores``/``quality``/``domain`` filled, or
  rejected as ``low_quality`` when a keep threshold is set.

``quality`` is a weighted mean of components in [0, 1]: the raters' mean normalised score,
the judge's (``--judge``), and perplexity under a reference LM (``--perplexity``).
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import xxhash

from qurate.curate.scoring_config import ScoreConfig
from qurate.curate.scoring_metrics import classification_report, keep_agreement, spearman
from qurate.curate.shards import (
    REJECTS,
    ShardWriter,
    check_stage_dir,
    config_hash,
    iter_rows,
    shard_paths,
    write_manifest,
)
from qurate.errors import BadInputError
from qurate.filters.judge import Judge, load_rubric
from qurate.filters.raters import (
    PREPROCESS_VERSION,
    RATERS_FILE,
    Raters,
    train_classifier,
    write_raters_meta,
)

log = logging.getLogger("qurate.score")
JUDGE_META_KEY = "judge"


def _stable_hash(seed: int, doc_id: str) -> int:
    return xxhash.xxh64_intdigest(doc_id, seed=seed)


def _reset_stage_dir(out: Path) -> None:
    """A rerun rewrites the stage's shards (the LLM cache keeps the expensive part)."""
    for p in shard_paths(out) + shard_paths(out, rejects=True):
        p.unlink()
    (out / "manifest.json").unlink(missing_ok=True)
    out.mkdir(parents=True, exist_ok=True)


def _meta(row: dict[str, Any]) -> dict[str, Any]:
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
        strata[key].append((_stable_hash(seed, row["id"]), row["id"]))
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
    in_dir: str | Path, out_dir: str | Path, config: ScoreConfig | None = None
) -> dict[str, Any]:
    """LLM-judge a stratified sample of ``in_dir`` into the stage directory ``out_dir``."""
    from qurate.llm import load_engine

    config = config or ScoreConfig()
    src, out = check_stage_dir(in_dir), Path(out_dir)
    for r in config.judge.rubrics:  # fail on a bad rubric before loading a model
        load_rubric(r)
    chosen, population = stratified_sample(src, config.annotate.sample, config.annotate.seed)
    _reset_stage_dir(out)
    engine = load_engine(config.engine, cache_path=out / "cache" / "llm.sqlite")
    judge = Judge(engine, config.judge)
    meta = judge.metadata()
    started = time.perf_counter()
    kept = truncated = 0
    rejected: Counter[str] = Counter()
    pending: list[dict[str, Any]] = []
    with ShardWriter(out) as writer, ShardWriter(out / REJECTS, rejects=True) as rejects:

        def flush() -> None:
            nonlocal kept, truncated
            results = judge.judge([r["text"] or "" for r in pending])
            for row, j in zip(pending, results, strict=True):
                m = _meta(row)
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
                row["quality"] = _judge_quality(judge, j.scores)
                truncated += j.truncated
                kept += 1
                writer.write(row)
            log.info(engine.meter.summary())
            pending.clear()

        for row in iter_rows(src):
            if row["id"] in chosen:
                pending.append(row)
                if len(pending) >= config.judge.batch_size:
                    flush()
        if pending:
            flush()
    rates = engine.meter.rates()
    engine.close()
    n_in = len(chosen)
    manifest = write_manifest(
        out,
        stage="score.annotate",
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
            "throughput": {**rates, "wall_s": time.perf_counter() - started},
        },
    )
    return manifest


def _judge_quality(judge: Judge, scores: dict[str, float]) -> float:
    vals = [
        (scores[r.name] - r.bottom) / (r.top - r.bottom) for r in judge.rubrics if r.name in scores
    ]
    return float(np.mean(vals)) if vals else float("nan")


# -- distill -------------------------------------------------------------------------------


def _is_test(doc_id: str, fraction: float) -> bool:
    return _stable_hash(1234, doc_id) % 10_000 < fraction * 10_000


def distill(
    annotations: str | Path, models_dir: str | Path, config: ScoreConfig | None = None
) -> dict[str, Any]:
    """Train one fastText rater per judged dimension plus a domain classifier; report agreement."""
    config = config or ScoreConfig()
    dcfg = config.distill
    src, out = check_stage_dir(annotations), Path(models_dir)
    rows = [
        r
        for r in iter_rows(src, columns=["id", "text", "scores", "domain", "meta"])
        if r.get("scores")
    ]
    if not rows:
        raise BadInputError(f"{src}: no annotated documents (run `qurate score annotate` first)")
    judge_meta = next(
        (_meta(r).get(JUDGE_META_KEY) for r in rows if _meta(r).get(JUDGE_META_KEY)), {}
    )
    rubric_versions = (judge_meta or {}).get("rubrics", {})
    dims = sorted(
        {k for r in rows for k in r["scores"] if not rubric_versions or k in rubric_versions}
    )
    test = np.array([_is_test(r["id"], dcfg.test_fraction) for r in rows])
    if test.all() or not test.any():  # tiny sets: force at least one on each side
        test = np.zeros(len(rows), dtype=bool)
        test[:: max(2, round(1 / dcfg.test_fraction))] = True
    texts = [r["text"] or "" for r in rows]
    train_idx, test_idx = np.flatnonzero(~test), np.flatnonzero(test)
    out.mkdir(parents=True, exist_ok=True)
    meta: dict[str, Any] = {
        "preprocess_version": PREPROCESS_VERSION,
        "max_chars": dcfg.train.max_chars,
        "judge": judge_meta,
        "annotations": str(src),
        "n_train": int(len(train_idx)),
        "n_test": int(len(test_idx)),
        "dimensions": {},
    }
    metrics: dict[str, Any] = {"dimensions": {}}
    files: list[str] = []
    for dim in dims:
        y = np.array([r["scores"].get(dim, np.nan) for r in rows], dtype=np.float64)
        ok = ~np.isnan(y)
        tr = [i for i in train_idx if ok[i]]
        t_texts, t_labels = soft_labels([texts[i] for i in tr], y[tr], dcfg.soft_copies)
        # Per-class label mass in documents (each document splits one unit between two scores).
        counts = Counter(t_labels)
        counts = Counter({k: round(v / dcfg.soft_copies) for k, v in counts.items()})
        if sum(c >= dcfg.min_per_class for c in counts.values()) < 2:
            raise BadInputError(
                f"{src}: dimension {dim!r} has too few labels per class to train a rater "
                f"(train counts by score {dict(sorted(counts.items()))}; need two scores with "
                f">= {dcfg.min_per_class} each): annotate more documents"
            )
        path = train_classifier(t_texts, t_labels, out, dim, dcfg.train)
        files.append(path.name)
        meta["dimensions"][dim] = {
            "file": path.name,
            "train_counts": {str(k): v for k, v in sorted(counts.items())},
        }
    dom_counts = Counter(
        r.get("domain") for i, r in enumerate(rows) if not test[i] and r.get("domain")
    )
    folded = sorted(d for d, c in dom_counts.items() if c < dcfg.min_per_class)
    dom = [(r.get("domain") if r.get("domain") not in folded else "other") for r in rows]
    if len({dom[i] for i in train_idx if dom[i]}) >= 2:
        tr = [i for i in train_idx if dom[i]]
        path = train_classifier(
            [texts[i] for i in tr], [dom[i] for i in tr], out, "domain", dcfg.train
        )
        files.append(path.name)
        meta["domain"] = {"file": path.name, "folded_into_other": folded}
    else:
        meta["domain"] = None
        metrics["domain_note"] = (
            f"fewer than two domain labels with >= {dcfg.min_per_class} examples: no domain classifier"
        )
    write_raters_meta(out, meta)
    for p in out.glob("*-*.*"):  # model files of earlier runs into the same directory
        if p.suffix in (".ftz", ".bin") and p.name not in files:
            p.unlink()
    # Agreement on the held-out split.
    raters = Raters(out)
    pred, pdom, _ = raters.predict([texts[i] for i in test_idx])
    for dim in dims:
        y = np.array([rows[i]["scores"].get(dim, np.nan) for i in test_idx], dtype=np.float64)
        ok = ~np.isnan(y)
        thr = dcfg.keep_threshold
        if thr is None:
            ytr = np.array(
                [rows[i]["scores"].get(dim, np.nan) for i in train_idx], dtype=np.float64
            )
            thr = float(np.nanmedian(ytr))
        metrics["dimensions"][dim] = {
            "spearman": spearman(y[ok], pred[dim][ok]),
            **keep_agreement(y[ok], pred[dim][ok], thr),
            "n": int(ok.sum()),
        }
    if meta["domain"]:
        truth = [dom[i] or "other" for i in test_idx]
        metrics["domain"] = classification_report(truth, [d or "other" for d in pdom])
    meta["metrics"] = metrics
    write_raters_meta(out, meta)
    (out / "agreement.json").write_text(json.dumps(metrics, indent=2, default=_nan_json))
    return meta


def soft_labels(texts: list[str], scores: np.ndarray, copies: int) -> tuple[list[str], list[str]]:
    """Each document ``copies`` times, its labels split between the two integer scores around
    the judge's expected value (2.3 -> 70% "2", 30% "3"), so the rater learns the judge's
    continuous score; rounding would collapse a judge whose scores cluster (the small default
    judge gives mostly 1.5-2.5) into one class."""
    out_t: list[str] = []
    out_y: list[str] = []
    for t, s in zip(texts, np.clip(scores, 0, 5), strict=True):
        lo = min(int(np.floor(s)), 4)
        n_hi = int(round((s - lo) * copies))
        out_t += [t] * copies
        out_y += [str(lo + 1)] * n_hi + [str(lo)] * (copies - n_hi)
    return out_t, out_y


def _nan_json(x: Any) -> Any:
    return None if isinstance(x, float) and np.isnan(x) else str(x)


# -- apply ---------------------------------------------------------------------------------


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
    acfg = config.apply
    src, out = check_stage_dir(in_dir), Path(out_dir)
    raters = Raters(raters_dir) if raters_dir else None
    if raters is None and not judge and not perplexity:
        raise BadInputError("nothing to score with: give --raters, --judge or --perplexity")
    _reset_stage_dir(out)
    the_judge = scorer = None
    if judge:
        from qurate.llm import load_engine

        the_judge = Judge(
            load_engine(config.engine, cache_path=out / "cache" / "llm.sqlite"), config.judge
        )
    if perplexity:
        from qurate.filters.perplexity import PerplexityScorer

        scorer = PerplexityScorer(config.perplexity)
    started = time.perf_counter()
    n_in = kept = 0
    n_bytes = 0
    rejected: Counter[str] = Counter()
    with ShardWriter(out) as writer, ShardWriter(out / REJECTS, rejects=True) as rejects:
        batch: list[dict[str, Any]] = []

        def flush() -> None:
            nonlocal kept
            texts = [r["text"] or "" for r in batch]
            quality = score_batch(batch, texts, raters, the_judge, scorer, config)
            for row, q in zip(batch, quality, strict=True):
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
            batch.clear()

        for row in iter_rows(src):
            n_in += 1
            n_bytes += len((row["text"] or "").encode())
            batch.append(row)
            if len(batch) >= acfg.batch_size:
                flush()
        if batch:
            flush()
    wall = time.perf_counter() - started
    extra: dict[str, Any] = {
        "raters": str(raters_dir) if raters_dir else None,
        "judge": the_judge.metadata() if the_judge else None,
        "perplexity_model": scorer.model_id if scorer else None,
        "throughput": {
            "docs_per_s": n_in / wall if wall else None,
            "mb_per_s": n_bytes / 1e6 / wall if wall else None,
        },
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


def score_batch(
    rows: list[dict[str, Any]],
    texts: list[str],
    raters: Raters | None,
    judge: Judge | None,
    scorer: Any,
    config: ScoreConfig,
) -> np.ndarray:
    """Fill scores / domain / domain_score of ``rows`` in place; return the quality aggregate."""
    acfg = config.apply
    parts: list[tuple[float, np.ndarray]] = []
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
            parts.append((acfg.rater_weight, comp / total_w))
        if raters.domain_model is not None:
            for i, row in enumerate(rows):
                row["domain"], row["domain_score"] = domains[i], float(dprob[i])
    if judge is not None:
        comp = np.full(len(rows), np.nan)
        for i, j in enumerate(judge.judge(texts)):
            if j.error:
                continue
            comp[i] = _judge_quality(judge, j.scores)
            for dim, v in j.scores.items():
                new_scores[i][f"judge_{dim}"] = v
            if raters is None or raters.domain_model is None:
                rows[i]["domain"], rows[i]["domain_score"] = j.domain, j.domain_score
        parts.append((acfg.judge_weight, comp))
    if scorer is not None:
        ppl = scorer.perplexity(texts)
        for i, p in enumerate(ppl.tolist()):
            if not np.isnan(p):
                new_scores[i]["perplexity"] = p
        parts.append((acfg.perplexity_weight, scorer.quality(ppl)))
    for row, s in zip(rows, new_scores, strict=True):
        row["scores"] = {**(row.get("scores") or {}), **s}
    num = np.zeros(len(rows))
    den = np.zeros(len(rows))
    for w, comp in parts:
        ok = ~np.isnan(comp)
        num[ok] += w * comp[ok]
        den[ok] += w
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / den, np.nan)


def raters_summary(models_dir: str | Path) -> dict[str, Any]:
    """The saved ``raters.json`` of a models directory (for rendering)."""
    path = Path(models_dir) / RATERS_FILE
    if not path.is_file():
        raise BadInputError(f"{models_dir}: no {RATERS_FILE}")
    return json.loads(path.read_text())


__all__ = ["annotate", "apply", "distill", "raters_summary", "score_batch", "stratified_sample"]
