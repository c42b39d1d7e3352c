"""Does the shape of a document's token losses add to its perplexity? (issue 15, session 17)

Perplexity percentile within language is the one default ``quality`` signal that works; it is
weakest on junk made of well-formed pieces in the wrong order or company (sentence shuffles,
stitched pages). This measures, from the same forward pass (no extra model cost), whether
features of the per-token log-probabilities over the first 256 tokens add to it:

- ``gain``: second half's mean log-prob minus the first half's (context should help coherent
  text more); ``late_rel``: tokens 64+ against the first 64;
- ``start_rel``: the first two tokens of each sentence (after ``. ! ? 。 ；`` or a newline)
  against the rest (a coherent text's sentence openings follow from what came before);
- ``median``, ``q10``, ``tail`` (share of tokens below log-prob -10): the distribution;
- ``slor<a>``: mean log-prob minus ``a`` x mean unigram log-prob of the same tokens over the
  pool (SLOR, the acceptability measure: lexical rarity taken out).

Usage: ``.venv/bin/python bench/ppl_shape.py DATA OUT`` with ``DATA`` a labelled set
(``corpus.jsonl``, ``labels.jsonl``: ``bench/score_evalset.py``, ``bench/quality_heldout*.py``).
It curates ``DATA`` into ``OUT/curated``, scores the survivors once (``OUT/tok.pkl``; about 10
minutes for 600 documents on 2 cores) and prints the ROC-AUC (good vs junk) of each feature's
percentile within language, alone, averaged with the mean's, and per junk type.
"""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np

ENDS = tuple(".!?。！？;:")


def dump(data: Path, out: Path) -> list[dict]:
    from qurate.contract.shards import iter_rows
    from qurate.llm.config import EngineConfig
    from qurate.llm.hf import TransformersEngine

    if (out / "tok.pkl").is_file():
        return pickle.loads((out / "tok.pkl").read_bytes())
    out.mkdir(parents=True, exist_ok=True)
    if not (out / "curated" / "manifest.json").is_file():
        cmd = [sys.executable, "-m", "qurate", "curate", str(data / "corpus.jsonl")]
        subprocess.run([*cmd, "-o", str(out / "curated")], check=True, capture_output=True)
    rows = list(iter_rows(out / "curated", columns=["id", "text", "lang"]))
    labels = {j["id"]: j for j in map(json.loads, (data / "labels.jsonl").open())}
    eng = TransformersEngine(EngineConfig(kind="transformers", model="default", device="cpu"))
    seqs = [eng.tokenizer.encode(r["text"], add_special_tokens=False)[:256] for r in rows]
    lps = eng.token_logprobs(seqs)
    tok = eng.tokenizer
    recs = []
    for r, ids, lp in zip(rows, seqs, lps, strict=True):
        lab = labels[r["id"]]
        pieces = [tok.convert_tokens_to_string([t]) for t in tok.convert_ids_to_tokens(ids)]
        recs.append(
            dict(ids=ids, lp=lp, pieces=pieces, lang=r["lang"] or "?",
                 good=lab["label"] == "good", jt=lab["junk_type"] or "good")
        )  # fmt: skip
    (out / "tok.pkl").write_bytes(pickle.dumps(recs))
    return recs


def features(r: dict) -> dict[str, float]:
    lp = np.asarray(r["lp"], dtype=np.float64)
    n = len(lp)
    start = np.zeros(n, bool)
    for i in range(1, n):
        s = r["pieces"][i - 1]
        start[i] = "\n" in s or s.rstrip().endswith(ENDS)
    start[1:] |= start[:-1].copy()  # the first two tokens of a sentence
    f = {"mean": lp.mean(), "median": float(np.median(lp)), "q10": np.quantile(lp, 0.1)}
    f["tail"] = -(lp < -10).mean()
    f["gain"] = lp[n // 2 :].mean() - lp[: n // 2].mean() if n >= 16 else 0.0
    f["late_rel"] = lp[64:].mean() - lp[:64].mean() if n > 96 else 0.0
    ok = start.sum() >= 3 and (~start).sum() >= 3
    f["start_rel"] = lp[start].mean() - lp[~start].mean() if ok else 0.0
    return f


def main() -> None:
    from qurate.score.apply import percentile_by_group
    from qurate.score.metrics import roc_auc

    recs = dump(Path(sys.argv[1]), Path(sys.argv[2]))
    y = np.array([r["good"] for r in recs])
    jt = np.array([r["jt"] for r in recs])
    lang = np.array([r["lang"] for r in recs], dtype=object)
    feats = [features(r) for r in recs]
    raw = {k: np.array([f[k] for f in feats]) for k in feats[0]}
    counts = Counter(i for r in recs for i in r["ids"])
    total = sum(counts.values())
    uni = np.array(
        [np.mean([np.log((counts[i] + 1) / (total + 49152)) for i in r["ids"]]) for r in recs]
    )
    for a in (0.25, 0.5, 1.0):
        raw[f"slor{a}"] = raw["mean"] - a * uni
    pct = {k: percentile_by_group(v, lang, 20) for k, v in raw.items()}
    types = sorted(set(jt) - {"good"})
    print(f"{sys.argv[1]}: {len(y)} curate survivors ({int(y.sum())} good)")
    print(
        f"{'feature (percentile in language)':<34} {'all':>6} "
        + " ".join(f"{t[:9]:>9}" for t in types)
    )

    def line(name: str, v: np.ndarray) -> None:
        per = [roc_auc(y[(jt == "good") | (jt == t)], v[(jt == "good") | (jt == t)]) for t in types]
        print(f"{name:<34} {roc_auc(y, v):6.3f} " + " ".join(f"{a:9.3f}" for a in per))

    for k, v in pct.items():
        line(k, v)
    for k, v in pct.items():
        if k != "mean" and not k.startswith("slor"):
            line(f"(mean + {k}) / 2", (pct["mean"] + v) / 2)
            line(f"0.75 mean + 0.25 {k}", 0.75 * pct["mean"] + 0.25 * v)


if __name__ == "__main__":
    main()
