"""Bad inputs fail before any work with one line; null n_tokens are counted with a tokenizer."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest
from mix_builders import WORDS, make_docs, stamp_manifest, write_stage

from qurate.contract.schema import SCHEMA_VERSION_KEY, rows_to_table
from qurate.contract.shards import iter_rows, shard_paths
from qurate.errors import BadInputError, ConfigError
from qurate.mixers import mix, parse_mix_config, plan_mix


def cfg(**kw):
    return parse_mix_config({"budget_tokens": 10_000, **kw})


def test_different_schema_versions(corpus: tuple[Path, Path], tmp_path: Path) -> None:
    real, _ = corpus  # schema v2; the directory below claims v1
    v2 = tmp_path / "v1"
    v2.mkdir()
    t = rows_to_table(make_docs(20, domains={"science": 1}))
    pq.write_table(t.replace_schema_metadata({SCHEMA_VERSION_KEY: b"1"}), v2 / "part-00000.parquet")
    stamp_manifest(v2, 20)
    with pytest.raises(BadInputError, match=r"different schema versions: .*v1, .*v2") as e:
        mix([real, v2], tmp_path / "out", cfg())
    assert "\n" not in str(e.value)
    assert not (tmp_path / "out").exists()


def test_missing_domain_or_quality_column(corpus: tuple[Path, Path], tmp_path: Path) -> None:
    real, _ = corpus
    bad = tmp_path / "bad"
    bad.mkdir()
    t = rows_to_table(make_docs(5, domains={"science": 1})).drop_columns(["domain", "quality"])
    pq.write_table(t, bad / "part-00000.parquet")
    stamp_manifest(bad, 5)
    with pytest.raises(BadInputError, match="missing column.*domain, quality"):
        plan_mix([real, bad], cfg())


def test_not_a_stage_dir(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match="no such directory"):
        plan_mix([tmp_path / "nope"], cfg())


def test_an_unfinished_stage_dir_is_refused(tmp_path: Path) -> None:
    """A killed stage left valid-looking shards but no manifest: never read it."""
    half = write_stage(tmp_path / "half", make_docs(20, domains={"science": 1}))
    (half / "manifest.json").unlink()
    with pytest.raises(BadInputError, match=f"{half}: no manifest.json") as e:
        plan_mix([half], cfg())
    assert "\n" not in str(e.value)


def test_output_must_not_be_someone_elses_directory(
    corpus: tuple[Path, Path], tmp_path: Path
) -> None:
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    with pytest.raises(BadInputError, match="not empty"):
        mix(list(corpus), tmp_path / "busy", cfg())
    with pytest.raises(BadInputError, match="also an input"):
        mix(list(corpus), corpus[0], cfg())


def _tokenizer(path: Path) -> Path:
    tokenizers = pytest.importorskip("tokenizers")
    vocab = {w: i for i, w in enumerate(["[UNK]", *WORDS])}
    tok = tokenizers.Tokenizer(tokenizers.models.WordLevel(vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = tokenizers.pre_tokenizers.Whitespace()
    tok.save(str(path))
    return path


def test_null_n_tokens_are_counted_with_the_tokenizer(tmp_path: Path) -> None:
    docs = make_docs(300, domains={"science": 1, "code": 1}, null_tokens=True)
    src = write_stage(tmp_path / "raw", docs)
    tok = _tokenizer(tmp_path / "tokenizer.json")
    plan = plan_mix([src], cfg(tokenizer=str(tok)))
    words = sum(len(d["text"].split()) for d in docs)
    assert sum(d.available_tokens for d in plan.domains.values()) == words
    mix([src], tmp_path / "out", cfg(tokenizer=str(tok)))
    rows = list(iter_rows(tmp_path / "out", columns=["text", "n_tokens"]))
    assert rows and all(r["n_tokens"] == len(r["text"].split()) for r in rows)
    assert shard_paths(src)[0].stat().st_size > 0  # the input was not rewritten


def test_null_n_tokens_without_tokenizer_is_a_config_error(tmp_path: Path) -> None:
    src = write_stage(tmp_path / "raw", make_docs(10, domains={"science": 1}, null_tokens=True))
    with pytest.raises(ConfigError, match="no n_tokens.*tokenizer"):
        plan_mix([src], cfg(tokenizer=str(tmp_path / "missing.json")))


def test_null_domain_is_unlabelled(tmp_path: Path) -> None:
    docs = make_docs(50, domains={"science": 1})
    for d in docs[:10]:
        d["domain"] = None
    plan = plan_mix([write_stage(tmp_path / "s", docs)], cfg(budget_tokens=1000))
    assert set(plan.domains) == {"science", "unlabelled"}
    assert plan.domains["unlabelled"].docs == 10


def test_bad_memory_limit_names_the_key(corpus: tuple[Path, Path]) -> None:
    with pytest.raises(ConfigError, match="memory_limit"):
        plan_mix(list(corpus), cfg(memory_limit="lots"))


def test_corrupt_shard_is_one_line(tmp_path: Path) -> None:
    src = write_stage(tmp_path / "s", make_docs(50, domains={"a": 1}))
    shard = shard_paths(src)[0]
    shard.write_bytes(shard.read_bytes()[:-100])
    with pytest.raises(BadInputError, match="not a readable Parquet file"):
        plan_mix([src], cfg())
