"""The bundled sample corpus and default tokenizer: size, provenance, parseability, content.

`qurate run` with no argument runs on these files, so a broken or oversized sample, a file
without recorded provenance, or a tokenizer that does not round-trip is a user-visible bug.
"""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import pyarrow.parquet as pq
import pytest

DATA = Path(__file__).resolve().parents[1] / "qurate" / "data"
SAMPLE = DATA / "sample"
DATA_SUFFIXES = (".jsonl", ".jsonl.gz", ".parquet", ".txt", ".md")


def sample_files() -> list[Path]:
    return sorted(p for p in SAMPLE.rglob("*") if p.is_file() and p.name != "SOURCES.md")


def read_records(path: Path) -> list[dict]:
    """Every record of a sample file, whatever its format."""
    if path.name.endswith(".jsonl.gz"):
        with gzip.open(path, "rt", encoding="utf-8") as f:
            return [json.loads(line) for line in f if line.strip()]
    if path.suffix == ".jsonl":
        lines = path.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]
    if path.suffix == ".parquet":
        return pq.read_table(path).to_pylist()
    return [{"text": path.read_text(encoding="utf-8"), "source": path.name}]


def all_texts() -> list[str]:
    return [r["text"] for p in sample_files() if "seeds" not in p.parts for r in read_records(p)]


def test_sample_is_under_five_megabytes() -> None:
    total = sum(p.stat().st_size for p in SAMPLE.rglob("*") if p.is_file())
    assert 1_000_000 < total < 5 * 1024 * 1024, total


def test_sources_md_lists_every_file_and_only_existing_ones() -> None:
    text = (SAMPLE / "SOURCES.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"^\| `([^`]+)` \|", text, re.M))
    assert listed, "SOURCES.md has no file table"
    for name in listed:
        assert (SAMPLE / name).is_file(), f"SOURCES.md names a missing file: {name}"
    on_disk = {str(p.relative_to(SAMPLE)) for p in sample_files()}
    assert on_disk == listed, on_disk ^ listed
    # every package a record names has a licence row
    licences = set(re.findall(r"^\| ([\w.+-]+) \| ", text.split("## Licences")[1], re.M))
    for path in sample_files():
        for rec in read_records(path):
            if "seeds" in path.parts and "benchmark" in path.name:
                continue
            package = rec["source"].split(":")[0] if ":" in rec["source"] else None
            if package:
                assert package in licences, f"{path.name}: no licence recorded for {package}"


@pytest.mark.parametrize("path", sample_files(), ids=lambda p: str(p.relative_to(SAMPLE)))
def test_every_sample_file_parses_with_text(path: Path) -> None:
    assert path.name.endswith(DATA_SUFFIXES), f"unexpected file kind in the sample: {path}"
    records = read_records(path)
    assert records
    for rec in records:
        assert isinstance(rec["text"], str) and rec["text"].strip()
        if "id" in rec:
            assert isinstance(rec["id"], str) and rec["id"]


def test_formats_ids_and_languages_are_mixed() -> None:
    names = {p.name for p in sample_files()}
    assert any(n.endswith(".jsonl.gz") for n in names)
    assert any(n.endswith(".parquet") for n in names)
    assert any(n.endswith(".txt") for n in names) and any(n.endswith(".md") for n in names)
    records = [r for p in sample_files() if p.suffix != ".txt" for r in read_records(p)]
    assert any("id" not in r or r["id"] is None for r in records), "no record without an id"
    assert any(r.get("id") for r in records)
    joined = "\n".join(all_texts())
    assert len(re.findall(r"[\u4e00-\u9fff]", joined)) > 20_000, "too little Chinese"
    assert len(re.findall(r"[\u3040-\u30ff]", joined)) > 2_000, "too little Japanese"
    assert len(re.findall(r"[\u0400-\u04ff]", joined)) > 5_000, "too little Russian"
    for word in (" und ", " les ", " los ", " the "):  # German, French, Spanish, English
        assert joined.count(word) > 50, word


def test_code_math_and_junk_are_present() -> None:
    code = read_records(SAMPLE / "code.parquet")
    packages = {r["source"].split(":")[0] for r in code}
    assert len(packages) >= 6, packages  # Python, C, Rust, Go, JavaScript, Ruby, Perl
    math = "\n".join(r["text"] for r in read_records(SAMPLE / "math.jsonl"))
    assert math.count("$$") >= 20 and "\\frac" in math
    texts = all_texts()
    assert len(texts) - len(set(texts)) >= 3, "exact duplicates missing"
    assert any(t.count("\n") > 20 and len(set(t.splitlines())) <= 3 for t in texts), (
        "no repeated-lines junk"
    )
    assert any(len(t) < 60 for t in texts), "no short fragments"
    assert any("\ufffd" in t or "Ã" in t for t in texts), "no mojibake"


def test_benchmark_seeds_contaminate_some_sample_documents() -> None:
    bench = read_records(SAMPLE / "seeds" / "benchmark.jsonl")
    assert all(b["id"].startswith("HumanEval/") for b in bench)
    texts = all_texts()
    hits = [b["id"] for b in bench if any(b["text"].strip() in t for t in texts)]
    assert 2 <= len(hits) <= 3, hits
    for name in ("math.jsonl", "code.jsonl"):
        seeds = read_records(SAMPLE / "seeds" / name)
        assert len(seeds) >= 15 and all(s["text"].strip() for s in seeds)


def test_tokenizer_loads_and_round_trips() -> None:
    tokenizers = pytest.importorskip("tokenizers")
    tok = tokenizers.Tokenizer.from_file(str(DATA / "tokenizer.json"))
    assert 8000 <= tok.get_vocab_size() <= 8192 + 3
    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    assert [tok.token_to_id(s) for s in specials] == [0, 1, 2]
    samples = [
        "床前明月光，疑是地上霜。举头望明月，低头思故乡。",
        "Größenänderung: Die Datei wird überschrieben.  Ça marche très bien!",
        "def f(x: int) -> int:\n\treturn x ** 2  # $\\frac{a}{b}$\n",
        "emoji 🙂 and odd bytes \u200b\x07 end",
    ]
    for text in samples:
        enc = tok.encode(text)
        assert tok.decode(enc.ids) == text
    # trained on the sample: common Chinese and English text compresses well
    assert len(tok.encode(samples[0]).ids) < len(samples[0].encode("utf-8")) / 2
    assert tok.encode("<|im_start|>user").ids[0] == 1
