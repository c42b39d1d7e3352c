"""Score `qurate curate` and stock datatrove on the web held-out set (``bench/webset.py``).

Usage (from the repository root, after ``PYTHONPATH=. python bench/webset.py``):

    PYTHONPATH=. python bench/web_quality.py --side dev   # tune on this one
    PYTHONPATH=. python bench/web_quality.py --side test  # report once

- qurate: ``qurate curate pages.warc.gz -o OUT`` with the default config (the WARC reader
  extracts each page's text with Trafilatura; every later step is qurate's).
- stock: datatrove's FineWeb filter set with stock settings (Gopher repetition, Gopher
  quality, C4, FineWeb quality) on ``extracted.jsonl``, the same text qurate's reader saw.
  No language filter: stock datatrove's keeps English only, which would say nothing here.

A page is "dropped" when it is rejected for any reason. Junk F1 is over all pages; good kept
is the share of good pages not dropped. Per language the same two figures. For good pages
that qurate keeps, line removal is measured too: the share of the chrome strings left by the
extractor that qurate cut, and the share of body lines it cut (which should be ~0).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]


def read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def run_qurate(side_dir: Path, out: Path) -> tuple[dict[str, str | None], dict[str, str]]:
    """(id -> reject 'stage/reason' or None if kept, id -> kept text)."""
    if not (out / "manifest.json").exists():
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        cmd = [sys.executable, "-m", "qurate", "curate", str(side_dir / "pages.warc.gz"),
               "-o", str(out)]  # fmt: skip
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL)
        print(f"qurate curate: {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    fate: dict[str, str | None] = {}
    kept_text: dict[str, str] = {}
    for path in sorted(out.glob("part-*.parquet")):
        for r in pq.read_table(path, columns=["id", "text"]).to_pylist():
            fate[r["id"]] = None
            kept_text[r["id"]] = r["text"]
    for path in sorted((out / "rejects").glob("part-*.parquet")):
        cols = ["id", "stage", "reject_reason"]
        for r in pq.read_table(path, columns=cols).to_pylist():
            fate[r["id"]] = f"{r['stage']}/{r['reject_reason']}"
    return fate, kept_text


def run_stock(side_dir: Path) -> dict[str, str | None]:
    from datatrove.data import Document
    from datatrove.pipeline.filters import (
        C4QualityFilter,
        FineWebQualityFilter,
        GopherQualityFilter,
        GopherRepetitionFilter,
    )

    filters = [GopherRepetitionFilter(), GopherQualityFilter(), C4QualityFilter(),
               FineWebQualityFilter()]  # fmt: skip
    fate: dict[str, str | None] = {}
    t0 = time.perf_counter()
    for row in read_jsonl(side_dir / "extracted.jsonl"):
        doc = Document(text=row["text"], id=row["id"])
        fate[row["id"]] = None
        for f in filters:
            res = f.filter(doc)
            ok = res[0] if isinstance(res, tuple) else res
            if not ok:
                why = res[1] if isinstance(res, tuple) else "rejected"
                fate[row["id"]] = f"{f.name}/{why}"
                break
    print(f"stock filters: {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    return fate


def f1(labels: list[dict], fate: dict[str, str | None]) -> dict:
    dropped = {i for i, why in fate.items() if why is not None}
    junk = [lab for lab in labels if lab["label"] == "junk"]
    good = [lab for lab in labels if lab["label"] == "good"]
    tp = sum(lab["id"] in dropped for lab in junk)
    fp = sum(lab["id"] in dropped for lab in good)
    prec = tp / (tp + fp) if tp + fp else 0.0
    rec = tp / len(junk) if junk else 0.0
    return {"f1": 2 * prec * rec / (prec + rec) if prec + rec else 0.0, "precision": prec,
            "recall": rec, "good_kept": 1 - fp / len(good) if good else 0.0,
            "n_good": len(good), "n_junk": len(junk)}  # fmt: skip


def line_removal(labels: list[dict], extracted: dict[str, str], kept: dict[str, str]) -> dict:
    """On kept good pages: chrome strings the extractor left, and how many qurate cut."""
    chrome_in = chrome_cut = body_in = body_cut = 0
    for lab in labels:
        i = lab["id"]
        if lab["label"] != "good" or i not in kept:
            continue
        before, after = extracted[i], kept[i]
        body_lines = {ln for b in lab["body"] for ln in b.split("\n") if len(ln.strip()) > 20}
        for s in lab["chrome"]:
            if s in before and not any(s in b for b in body_lines):
                chrome_in += 1
                chrome_cut += s not in after
        for ln in body_lines:
            if ln.strip() in before:
                body_in += 1
                body_cut += ln.strip() not in after
    return {"chrome_strings_left_by_extractor": chrome_in, "chrome_cut": chrome_cut / max(chrome_in, 1),
            "body_lines": body_in, "body_lines_cut": body_cut / max(body_in, 1)}  # fmt: skip


def report(name: str, labels: list[dict], fate: dict[str, str | None]) -> dict:
    m = f1(labels, fate)
    print(f"\n## {name}: junk F1 {m['f1']:.3f} (P {m['precision']:.3f}, R {m['recall']:.3f}), "
          f"good kept {m['good_kept']:.1%} ({m['n_good']} good, {m['n_junk']} junk)")  # fmt: skip
    by_kind: dict[str, Counter] = defaultdict(Counter)
    for lab in labels:
        why = fate.get(lab["id"], "lost")
        by_kind[f"{lab['label']}:{lab['kind']}"][why or "kept"] += 1
    for k, c in sorted(by_kind.items()):
        print(f"  {k}: {dict(c.most_common(6))}")
    langs = sorted({lab["lang"] for lab in labels if lab["lang"]})
    per_lang = {la: f1([x for x in labels if x["lang"] == la], fate) for la in langs}
    ok = [la for la, v in per_lang.items() if v["f1"] >= 0.85 and v["good_kept"] >= 0.95]
    print("  per language (F1 / good kept): " + ", ".join(
        f"{la} {v['f1']:.2f}/{v['good_kept']:.0%}" for la, v in per_lang.items()))  # fmt: skip
    print(f"  languages meeting F1 >= 0.85 and good kept >= 95%: {len(ok)} of {len(langs)}")
    m["per_lang"] = per_lang
    m["langs_ok"] = ok
    return m


def lang_table(result: dict) -> str:
    """Markdown: per language, qurate's and stock's junk F1 and good kept, side by side."""
    q = result["qurate"]["per_lang"]
    st = result.get("stock", {}).get("per_lang", {})
    rows = ["| lang | qurate F1 | qurate good kept | stock F1 | stock good kept | both targets |",
            "|---|---|---|---|---|---|"]  # fmt: skip
    for la, v in q.items():
        s = st.get(la)
        ok = "yes" if v["f1"] >= 0.85 and v["good_kept"] >= 0.95 else "no"
        stock = f"{s['f1']:.2f} | {s['good_kept']:.0%}" if s else "- | -"
        rows.append(f"| {la} | {v['f1']:.2f} | {v['good_kept']:.0%} | {stock} | {ok} |")
    return "\n".join(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--side", choices=("dev", "dev-wide", "test"), default="dev")
    ap.add_argument("--data", type=Path, default=ROOT / "bench" / "data" / "web")
    ap.add_argument("--out", type=Path, default=None, help="qurate output dir (reused if done)")
    ap.add_argument("--no-stock", action="store_true")
    args = ap.parse_args()
    side_dir = args.data / args.side
    if not (side_dir / "labels.jsonl").exists():
        sys.exit(f"error: {side_dir}/labels.jsonl missing: run `python bench/webset.py`")
    labels = read_jsonl(side_dir / "labels.jsonl")
    extracted = {r["id"]: r["text"] for r in read_jsonl(side_dir / "extracted.jsonl")}
    out = args.out or args.data / f"out-{args.side}"
    fate, kept = run_qurate(side_dir, out)
    missing = [lab["id"] for lab in labels if lab["id"] not in fate]
    print(f"{args.side}: {len(labels)} pages, {len(missing)} missing from qurate's output")
    result = {"qurate": report("qurate", labels, fate)}
    lr = line_removal(labels, extracted, kept)
    print(f"  line removal on kept good pages: {lr}")
    result["line_removal"] = lr
    if not args.no_stock:
        result["stock"] = report("stock datatrove (FineWeb filters)", labels, run_stock(side_dir))
    print("\n" + lang_table(result))
    (out / "web_quality.json").write_text(json.dumps(result, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
