"""The scoring quality bar: does ``quality`` separate good documents from junk that curate kept?

Usage (after ``bash bench/setup-eval.sh``; about 30 minutes on 2 CPU cores, half of it
perplexity over 256 tokens; ``--ppl-tokens 128`` halves that part):

    .venv/bin/python bench/score_quality.py [--out /tmp/qurate-score-quality] [--reuse]

The chain is the README's three commands with their defaults: ``qurate curate`` the labelled
population of ``bench/score_evalset.py`` (built if missing), then on what curate kept
``score annotate`` (default judge; a stratified sample of ``--sample``, 150 here instead of
the default 500, and ``--judge-tokens`` 256 instead of 768, to fit the time), ``score
distill`` (raters, reference classifier with the default reference) and ``score apply`` with
no flags (raters, reference classifier, perplexity under the default reference LM, shipped
domain classifier; each signal weighted by its own shuffle check). Labels are never shown
to any step.

Prints the ROC-AUC (good vs junk) of each signal alone and of ``quality`` (the default
pipeline), overall and per junk type, among the documents curate kept, then each signal's
check and weight; the last line is ``auc=<quality ROC-AUC>``. The judge's own AUC is over
the annotated sample only. ``--reuse`` skips a step whose output manifest exists.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))


def _done(d: Path, reuse: bool) -> bool:
    return reuse and (d / "manifest.json").is_file()


def run_chain(data: Path, out: Path, args: argparse.Namespace) -> None:
    from qurate.score.annotate import annotate
    from qurate.score.apply import apply
    from qurate.score.config import ScoreConfig
    from qurate.score.distill import distill

    if not (data / "corpus.jsonl").is_file():
        import score_evalset

        score_evalset.build(ROOT / "bench/data/eval", data, seed=0, n_good=400, per_type=50)
    if not _done(out / "curated", args.reuse):
        cmd = [sys.executable, "-m", "qurate", "curate", str(data / "corpus.jsonl")]
        subprocess.run([*cmd, "-o", str(out / "curated")], check=True, capture_output=True)
    cfg = ScoreConfig()
    cfg.annotate.sample = args.sample
    cfg.judge.max_doc_tokens = args.judge_tokens
    cfg.perplexity.max_tokens = args.ppl_tokens
    if not _done(out / "annotations", args.reuse):
        annotate(out / "curated", out / "annotations", cfg)
    if not (args.reuse and (out / "raters" / "raters.json").is_file()):
        distill(out / "annotations", out / "raters", cfg)
    if not _done(out / "scored", args.reuse):
        apply(out / "curated", out / "scored", out / "raters", cfg, progress=True)


def report(data: Path, out: Path) -> float:
    from qurate.contract.shards import iter_rows, read_manifest
    from qurate.score.apply import percentile_by_group
    from qurate.score.metrics import roc_auc

    labels = {j["id"]: j for j in map(json.loads, (data / "labels.jsonl").open())}
    rows = list(iter_rows(out / "scored", columns=["id", "lang", "scores", "quality"]))
    manifest = read_manifest(out / "scored")
    y = np.array([labels[r["id"]]["label"] == "good" for r in rows])
    jt = np.array([labels[r["id"]]["junk_type"] or "good" for r in rows])
    dims = [d for d in rows[0]["scores"] if d not in ("perplexity", "reference")]
    ppl = np.array([r["scores"]["perplexity"] for r in rows])
    signals = {
        "rater mean": np.array([np.mean([r["scores"][d] for d in dims]) for r in rows]),
        "reference classifier": np.array([r["scores"].get("reference", np.nan) for r in rows]),
        "perplexity (raw)": -ppl,
        "perplexity (pct in language)": percentile_by_group(
            -np.log(ppl), np.array([r["lang"] or "?" for r in rows], dtype=object), 20
        ),
        "quality": np.array([r["quality"] for r in rows]),
    }
    n_cur = read_manifest(out / "curated")["counts"]
    print(
        f"population: {len(labels)} labelled documents; curate kept {n_cur['kept']} "
        f"({int(y.sum())} good, {int((~y).sum())} junk: "
        + ", ".join(f"{t} {int((jt == t).sum())}" for t in sorted(set(jt) - {"good"}))
        + ")"
    )
    types = sorted(set(jt) - {"good"})
    print(f"{'signal':<30} {'all':>6} " + " ".join(f"{t:>15}" for t in types))
    for name, v in signals.items():
        per = [roc_auc(y[(jt == "good") | (jt == t)], v[(jt == "good") | (jt == t)]) for t in types]
        print(f"{name:<30} {roc_auc(y, v):6.3f} " + " ".join(f"{a:15.3f}" for a in per))
    ann = list(iter_rows(out / "annotations", columns=["id", "quality"]))
    ya = np.array([labels[r["id"]]["label"] == "good" for r in ann])
    qa = np.array([r["quality"] for r in ann])
    print(
        f"judge (default, on its {len(ann)} annotated documents: {int(ya.sum())} good, "
        f"{int((~ya).sum())} junk): ROC-AUC {roc_auc(ya, qa):.3f}"
    )
    check = read_manifest(out / "annotations").get("judge_check") or {}
    if check.get("auc") is not None:
        print(
            f"judge check: ROC-AUC {check['auc']:.3f} between {check['n']} documents and their "
            f"word-shuffled copies -> reliability {check['reliability']:.2f}"
        )
    checks = manifest.get("signal_checks") or {}
    for k, v in manifest["weights"].items():
        c = checks.get(k) or {}
        auc = c.get("auc")
        print(
            f"signal {k}: shuffle check ROC-AUC {auc if auc is None else round(auc, 3)} on "
            f"{c.get('n')} documents -> weight {v:.2f}"
        )
    print(f"apply: {manifest['throughput']['docs_per_s']:.2f} docs/s (all signals, 2 cores)")
    agree = json.loads((out / "raters" / "agreement.json").read_text())
    sp = {d: round(m["spearman"], 2) for d, m in agree["dimensions"].items()}
    print(f"rater vs judge Spearman on held-out annotations: {sp}")
    return roc_auc(y, signals["quality"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=ROOT / "bench/data/score-eval")
    ap.add_argument("--out", type=Path, default=Path("/tmp/qurate-score-quality"))
    ap.add_argument("--reuse", action="store_true")
    ap.add_argument("--sample", type=int, default=150)
    ap.add_argument("--judge-tokens", type=int, default=256)
    ap.add_argument(
        "--ppl-tokens",
        type=int,
        default=256,
        help="perplexity over this many tokens (default: 256, the product default)",
    )
    args = ap.parse_args()
    run_chain(args.data, args.out, args)
    auc = report(args.data, args.out)
    print(f"auc={auc:.3f}")


if __name__ == "__main__":
    main()
