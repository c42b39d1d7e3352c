"""Scoring stage 2, distill: fastText raters learn the judge's annotations.

One rater per judged dimension plus a domain classifier, trained on a split of the
annotations chosen by a hash of the id; the held-out split measures agreement with the judge
(Spearman per dimension, F1 and Cohen's kappa at the keep threshold, domain accuracy,
macro-F1 and confusion). Writes no shards: models named by content hash, ``raters.json``
and ``agreement.json``.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from qurate.contract.args import as_config, as_path
from qurate.contract.shards import MANIFEST, check_stage_dir, iter_rows, read_manifest
from qurate.contract.stagedir import (
    StageDir,
    atomic_write_text,
    config_hash,
    fingerprint,
)
from qurate.errors import BadInputError
from qurate.llm.fasttext import train_classifier
from qurate.score.annotate import JUDGE_META_KEY, row_meta, stable_hash
from qurate.score.config import ScoreConfig
from qurate.score.metrics import classification_report, keep_agreement, spearman
from qurate.score.raters import (
    PREPROCESS_VERSION,
    RATERS_FILE,
    Raters,
    write_raters_meta,
)
from qurate.score.reference import load_reference, pool_sample, train_reference


def _is_test(doc_id: str, fraction: float) -> bool:
    return stable_hash(1234, doc_id) % 10_000 < fraction * 10_000


def distill(
    annotations: str | Path,
    models_dir: str | Path,
    config: ScoreConfig | None = None,
    *,
    overwrite: bool = False,
) -> dict[str, Any]:
    """Train one fastText rater per judged dimension plus a domain classifier; report agreement.

    ``models_dir`` is a ``StageDir`` (manifest of kind ``models``, no shards): the same run
    again is a no-op that returns the saved ``raters.json``, a different one needs
    ``overwrite``."""
    config = as_config(config, ScoreConfig, "distill config", hint="load_config(path).score")
    models_dir = as_path(models_dir, "distill models_dir")
    src = check_stage_dir(as_path(annotations, "distill annotations"))
    with StageDir(models_dir, "score.distill", overwrite=overwrite, inputs=[src]) as sd:
        if sd.begin(fingerprint(config.distill, [src]), resume=False) is not None:
            return json.loads((sd.path / RATERS_FILE).read_text())
        meta, n_rows = _distill(src, sd.path, config)
        sd.finish(
            config_hash=config_hash(config.distill),
            inputs=[str(src)],
            n_in=n_rows,
            n_kept=n_rows,  # every annotated document trains or tests a rater
            rejected_by_reason={},
            extra={"kind": "models", "files": sorted(meta["files"])},
        )
        return meta


def _distill(src: Path, out: Path, config: ScoreConfig) -> tuple[dict[str, Any], int]:
    dcfg = config.distill
    rows = [
        r
        for r in iter_rows(src, columns=["id", "text", "scores", "domain", "meta"])
        if r.get("scores")
    ]
    if not rows:
        raise BadInputError(f"{src}: no annotated documents (run `qurate score annotate` first)")
    judge_meta = next(
        (row_meta(r).get(JUDGE_META_KEY) for r in rows if row_meta(r).get(JUDGE_META_KEY)), {}
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
        # The judge check of annotate (scoring_check.py): apply scales the raters' weight.
        "judge_check": read_manifest(src).get("judge_check")
        if (src / MANIFEST).is_file()
        else None,
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
        labels = sorted({dom[i] for i in tr})
        meta["domain"] = {"file": path.name, "folded_into_other": folded, "labels": labels}
    else:
        meta["domain"] = None
        metrics["domain_note"] = (
            f"fewer than two domain labels with >= {dcfg.min_per_class} examples: no domain classifier"
        )
    meta["reference"] = None
    if dcfg.reference:
        ref_texts, ref_sources = load_reference(dcfg.reference)
        pool = pool_sample(src, texts, dcfg.reference_pool, config.annotate.seed)
        path = train_reference(ref_texts, pool, out, dcfg.train)
        files.append(path.name)
        meta["reference"] = {
            "file": path.name,
            "sources": ref_sources,
            "n_reference": min(len(ref_texts), len(pool)),
            "n_pool": len(pool),
        }
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
    meta["files"] = files
    write_raters_meta(out, meta)
    atomic_write_text(out / "agreement.json", json.dumps(metrics, indent=2, default=_nan_json))
    return meta, len(rows)


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
