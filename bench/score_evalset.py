"""Build the labelled population for the scoring quality bar: junk that curate's heuristics keep.

Usage (after ``bash bench/setup-eval.sh``):

    .venv/bin/python bench/score_evalset.py [--eval-dir bench/data/eval] [--out bench/data/score-eval]

The curate eval set's junk (spam, repeated lines, mojibake, fragments...) is almost all
rejected by the heuristics (junk F1 0.976), so it cannot measure the scorer, whose job is the
junk that *passes* them. This builds a second population from the same held-out real text:

- **good**: half of the eval set's whole documents (man pages, Debian Reference, fortunes,
  Python docs, the KJV, source code in 8 languages), chosen by a hash of the id;
- **junk**, made only from the *other* half, so no good document shares text with junk. The
  types are the machine-made text that crawls are full of and that line- and word-statistics
  rules cannot see, because its words, stop words, punctuation and line shapes are real:
  - ``markov``: a word-level order-2 Markov chain over one language's documents (content
    spinners and spam generators); characters, order 3, for Chinese and Japanese;
  - ``sentence_salad``: real sentences drawn from many unrelated documents of one language
    (scraped mash-ups);
  - ``word_shuffle``: a real document with the words of each sentence shuffled;
  - ``code_salad``: chunks of lines from several unrelated source files, interleaved.
  Each junk document's length is drawn from the good documents of its language.

Writes ``corpus.jsonl`` (id, text, source) and ``labels.jsonl`` (id, label, junk_type, lang,
provenance). Run ``qurate curate`` on it, then ``bench/score.py --quality`` scores what curate
kept. Seeded: the same seed gives the same files.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

import xxhash

sys.path.insert(0, str(Path(__file__).resolve().parent))
import junk  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CJK = ("zh", "ja")
JUNK_TYPES = ("markov", "sentence_salad", "word_shuffle", "code_salad")


def is_b_side(doc_id: str) -> bool:
    """Half of the documents (by a hash of the id) are raw material for junk, never good."""
    return xxhash.xxh64_intdigest(doc_id, seed=7) % 2 == 1


def markov(rng: random.Random, docs: list[str], n_tokens: int, cjk: bool) -> str:
    """Order-2 (words) or order-3 (CJK characters) Markov text over ``docs``, in paragraphs."""
    order = 3 if cjk else 2
    table: dict[tuple[str, ...], list[str]] = defaultdict(list)
    starts: list[tuple[str, ...]] = []
    for d in docs:
        for sent in junk.sentences(d):
            toks = junk.words_of(sent)
            if len(toks) <= order:
                continue
            starts.append(tuple(toks[:order]))
            for i in range(len(toks) - order):
                table[tuple(toks[i : i + order])].append(toks[i + order])
            table[tuple(toks[-order:])].append("\0")  # end of sentence
    sep = "" if cjk else " "
    paras, para, total = [], [], 0
    while total < n_tokens:
        state = rng.choice(starts)
        sent = list(state)
        while len(sent) < 80:
            nxt = rng.choice(table.get(tuple(sent[-order:]), ["\0"]))
            if nxt == "\0":
                break
            sent.append(nxt)
        para.append(sep.join(sent))
        total += len(sent)
        if len(para) >= rng.randint(3, 6):
            paras.append(sep.join(para))
            para = []
    if para:
        paras.append(sep.join(para))
    return "\n\n".join(paras)


def sentence_salad(rng: random.Random, docs: list[str], n_chars: int, cjk: bool) -> str:
    pool = [s for d in rng.sample(docs, min(12, len(docs))) for s in junk.sentences(d)]
    rng.shuffle(pool)
    out, size, para = [], 0, []
    sep = "" if cjk else " "
    for s in pool:
        para.append(s)
        size += len(s)
        if len(para) >= rng.randint(3, 6):
            out.append(sep.join(para))
            para = []
        if size >= n_chars:
            break
    if para:
        out.append(sep.join(para))
    return "\n\n".join(out)


def word_shuffle(rng: random.Random, text: str, n_chars: int, cjk: bool) -> str:
    sep = "" if cjk else " "
    out, size = [], 0
    for s in junk.sentences(text):
        end = s[-1] if s[-1] in ".!?。！？" else ""
        toks = junk.words_of(s[: len(s) - len(end)])
        rng.shuffle(toks)
        out.append(sep.join(toks) + end)
        size += len(s)
        if size >= n_chars:
            break
    return "\n".join(sep.join(out[i : i + 4]) for i in range(0, len(out), 4))


def code_salad(rng: random.Random, docs: list[str], n_chars: int) -> str:
    chunks = []
    for d in rng.sample(docs, min(6, len(docs))):
        lines = d.splitlines()
        for _ in range(3):
            a = rng.randrange(max(1, len(lines) - 4))
            chunks.append(lines[a : a + rng.randint(3, 8)])
    rng.shuffle(chunks)
    out, size = [], 0
    for c in chunks:
        out += c
        size += sum(map(len, c))
        if size >= n_chars:
            break
    return "\n".join(out)


def build(eval_dir: Path, out: Path, seed: int, n_good: int, per_type: int) -> Counter:
    rng = random.Random(seed)
    labels = {j["id"]: j for j in map(json.loads, (eval_dir / "labels.jsonl").open())}
    good_a: dict[str, list[dict]] = defaultdict(list)  # lang -> docs
    raw_b: dict[str, list[str]] = defaultdict(list)
    for line in (eval_dir / "corpus.jsonl").open():
        doc = json.loads(line)
        lab = labels[doc["id"]]
        if lab["label"] != "good" or lab["kind"] not in ("docs", "literature", "code"):
            continue
        if lab["dup_of"] is not None:
            continue
        lang = "code" if lab["kind"] == "code" else lab["lang"]
        doc["lang"], doc["provenance"] = lang, lab["provenance"]
        (raw_b[lang].append(doc["text"]) if is_b_side(doc["id"]) else good_a[lang].append(doc))
    items: list[tuple[dict, dict]] = []
    all_good = [d for v in good_a.values() for d in v]
    rng.shuffle(all_good)
    for d in all_good[:n_good]:
        items.append(
            (
                {"text": d["text"], "source": d["provenance"].split(":", 1)[0]},
                {
                    "label": "good",
                    "junk_type": None,
                    "lang": d["lang"],
                    "provenance": d["provenance"],
                },
            )
        )
    prose_langs = sorted(la for la in raw_b if la != "code" and len(raw_b[la]) >= 8)

    def target_len(lang: str) -> int:
        src = good_a.get(lang) or all_good
        return min(4000, max(400, len(rng.choice(src)["text"])))

    for jt in JUNK_TYPES:
        for i in range(per_type):
            lang = "code" if jt == "code_salad" else prose_langs[i % len(prose_langs)]
            docs, cjk, n = raw_b[lang], lang in CJK, target_len(lang)
            if jt == "markov":
                text = markov(
                    rng, rng.sample(docs, min(40, len(docs))), n // (2 if cjk else 6), cjk
                )
            elif jt == "sentence_salad":
                text = sentence_salad(rng, docs, n, cjk)
            elif jt == "word_shuffle":
                text = word_shuffle(rng, rng.choice(docs), n, cjk)
            else:
                text = code_salad(rng, docs, n)
            text = re.sub(r"[ \t]+\n", "\n", text).strip()
            items.append(
                (
                    {"text": text, "source": "web"},
                    {"label": "junk", "junk_type": jt, "lang": lang, "provenance": f"{jt}:{lang}"},
                )
            )
    rng.shuffle(items)
    out.mkdir(parents=True, exist_ok=True)
    counts: Counter = Counter()
    with (
        (out / "corpus.jsonl").open("w", encoding="utf-8") as fc,
        (out / "labels.jsonl").open("w", encoding="utf-8") as fl,
    ):
        for k, (doc, lab) in enumerate(items):
            doc_id = f"sq-{k:05d}"
            fc.write(json.dumps({"id": doc_id, **doc}, ensure_ascii=False) + "\n")
            fl.write(json.dumps({"id": doc_id, **lab}, ensure_ascii=False) + "\n")
            counts[lab["junk_type"] or "good"] += 1
    return counts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--eval-dir", type=Path, default=ROOT / "bench/data/eval")
    ap.add_argument("--out", type=Path, default=ROOT / "bench/data/score-eval")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--good", type=int, default=400)
    ap.add_argument("--per-type", type=int, default=50)
    args = ap.parse_args()
    counts = build(args.eval_dir, args.out, args.seed, args.good, args.per_type)
    print(f"{args.out}: {dict(counts)}")


if __name__ == "__main__":
    main()
