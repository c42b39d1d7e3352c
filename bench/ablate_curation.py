"""Does curation lower held-out bits per byte? Raw text with junk vs the same after `qurate curate`.

Real text no qurate stage was tuned on: the long descriptions (README text, Markdown/reST)
in the ``METADATA`` of the Python packages installed in the venv running this script. Split by
package (sha1 of the name): one package in five is the held-out *clean* evaluation, the rest
the training pool, cut into pieces of at most 3,000 characters at paragraph breaks.

The raw arm is the pool plus junk that this script writes itself (not ``bench/junk.py``, which
curate's thresholds were tuned against): random-character gibberish, navigation boilerplate,
keyword spam made of a real piece's words, base64 blobs, and 3 extra copies of one piece in
five. The curated arm is ``qurate curate`` (defaults) over the raw arm. The scored arm is the
curated arm after ``qurate score`` with the embedded default (the ``qurate run`` demo's
scoring: SmolLM2 judges a sample, fastText raters distilled from it, ``score apply`` with the
raters, the reference classifier and perplexity), cut to the top half by ``quality``
(``--no-score`` leaves it out). Every arm trains the same tiny proxy on the same tokens with
2 seeds (``qurate ablate``, one tokenizer for all), then bits per byte on the held-out
packages.

    python bench/ablate_curation.py --out /tmp/ablate-curation [--tokens 60000] [--seeds 2] [--no-score]

Last line: ``ratio=<curated bpb / raw bpb>`` (below 1: curation helps).
"""

from __future__ import annotations

import argparse
import base64
import email
import hashlib
import json
import random
import subprocess
import sys
import sysconfig
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from qurate.ablate.config import AblateConfig
from qurate.ablate.runner import run_ablation
from qurate.contract.shards import iter_rows
from qurate.score.demo import run_demo

NAV = [
    "Home",
    "About us",
    "Contact",
    "Login",
    "Sign up",
    "Privacy policy",
    "Terms of use",
    "Cookie settings",
    "Sitemap",
    "Careers",
    "Press",
    "Help center",
    "Subscribe",
    "Share",
]


def packages() -> list[tuple[str, str]]:
    site = Path(sysconfig.get_paths()["purelib"])
    out = []
    for meta in sorted(site.glob("*.dist-info/METADATA")):
        msg = email.message_from_string(meta.read_text(errors="replace"))
        body = msg.get_payload()
        if isinstance(body, str) and len(body.strip()) > 1500:
            out.append((str(msg.get("Name", meta.parent.name)), body.strip()))
    return out


def pieces(text: str, size: int = 3000) -> list[str]:
    out, cur = [], ""
    for para in text.split("\n\n"):
        if cur and len(cur) + len(para) > size:
            out.append(cur.strip())
            cur = ""
        cur += para[:size] + "\n\n"
    if cur.strip():
        out.append(cur.strip())
    return [p for p in out if len(p) > 200]


def junk(pool: list[str], rng: random.Random) -> list[str]:
    out = []
    for i, text in enumerate(pool):
        kind = i % 5
        if kind == 0:
            out.append(
                "".join(
                    rng.choice("abcdefghijklmnopqrstuvwxyz0123456789 #@%&*;{}") for _ in range(1500)
                )
            )
        elif kind == 1:
            out.append("\n".join(" | ".join(rng.sample(NAV, 6)) for _ in range(40)))
        elif kind == 2:
            words = [w for w in text.split() if w.isalpha() and len(w) > 4][:8] or ["deal"]
            out.append(
                " ".join(f"buy cheap {rng.choice(words)} best price discount" for _ in range(60))
            )
        elif kind == 3:
            out.append(base64.b64encode(rng.randbytes(1200)).decode())
        else:
            out += [text] * 3  # exact copies
    return out


def quality_cut(out: Path, curated: Path, keep: float) -> Path:
    """``score`` the curated arm (the embedded default, untuned here) and keep the top
    ``keep`` share of the curated documents by ``quality``, as a Parquet arm."""
    scored = out / "score" / "scored"
    if not (scored / "manifest.json").is_file():
        run_demo(curated, out / "score")
    n_curated = sum(1 for _ in iter_rows(curated))
    rows = sorted(iter_rows(scored), key=lambda r: (-(r["quality"] or 0.0), r["id"]))
    top = rows[: round(n_curated * keep)]
    path = out / f"scored-top{round(keep * 100)}.parquet"
    pq.write_table(
        pa.table({k: [r[k] for r in top] for k in ("id", "text", "quality", "domain")}), path
    )
    qs = [r["quality"] for r in top]
    print(
        f"scored: {len(rows)} of {n_curated} curated docs kept by score apply; top {len(top)} "
        f"by quality ({min(qs):.3f}-{max(qs):.3f}) -> {path.name}",
        flush=True,
    )
    return path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--tokens", type=int, default=60_000)
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--max-eval", type=int, default=30)
    ap.add_argument("--no-score", action="store_true", help="leave out the scored arm")
    ap.add_argument("--keep", type=float, default=0.5, help="share kept by the quality cut")
    a = ap.parse_args()
    a.out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(0)
    held, pool = [], []
    for name, body in packages():
        side = held if int(hashlib.sha1(name.lower().encode()).hexdigest(), 16) % 5 == 0 else pool
        side += pieces(body)
    raw = pool + junk(pool, rng)
    rng.shuffle(raw)
    raw_path = a.out / "raw.jsonl"
    raw_path.write_text("".join(json.dumps({"text": t}) + "\n" for t in raw))
    held_path = a.out / "heldout.jsonl"
    held_path.write_text("".join(json.dumps({"text": t}) + "\n" for t in held))
    print(
        f"pool {len(pool)} pieces, raw {len(raw)} docs ({sum(map(len, raw)):,} chars), "
        f"held-out {len(held)} pieces",
        flush=True,
    )
    curated = a.out / "curated"
    if not (curated / "manifest.json").is_file():
        subprocess.run(
            [
                sys.executable,
                "-m",
                "qurate",
                "curate",
                str(raw_path),
                "-o",
                str(curated),
                "--no-progress",
            ],
            check=True,
        )
    arms = {"raw": str(raw_path), "curated": str(curated)}
    if not a.no_score:
        arms[f"scored-top{round(a.keep * 100)}"] = str(quality_cut(a.out, curated, a.keep))
    cfg = AblateConfig(
        arms=arms,
        evals={"heldout": str(held_path)},
        tokens=a.tokens,
        seeds=a.seeds,
        seq_len=128,
        micro_batch_size=8,
        batch_tokens=1024,
        lr=3e-3,
        tokenizer_chars=1_000_000,
        eval_max_docs=a.max_eval,
        eval_seq_len=256,
    )
    res = run_ablation(cfg, a.out / "ablation", say=lambda s: print(s, flush=True))
    print(json.dumps({k: v for k, v in res.items() if k in ("arms", "leakage")}, indent=1))
    by = res["summary"]["by_eval"]["heldout"]
    for arm, s in by.items():
        print(f"{arm}: bpb mean {s['mean']:.4f} sd {s['sd']} values {s['values']}")
    for d in res["summary"]["differences"]:
        print(
            f"delta {d['a']}-{d['b']} = {d['delta']:+.4f}, seed spread {d['spread']}, "
            f"exceeds: {d['exceeds_spread']}"
        )
    for arm in arms:
        if arm not in ("raw", "curated"):
            print(f"{arm} / curated = {by[arm]['mean'] / by['curated']['mean']:.4f}")
    print(f"ratio={by['curated']['mean'] / by['raw']['mean']:.4f}")


if __name__ == "__main__":
    main()
