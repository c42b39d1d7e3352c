"""End to end: shares on target, byte-identical reruns, repeats, shards, manifest."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from qurate.contract.schema import DOC_SCHEMA, SCHEMA_VERSION, schema_version
from qurate.contract.shards import check_schema_version, iter_rows, read_manifest, shard_paths
from qurate.errors import BadInputError, ConfigError
from qurate.mixers import mix, parse_mix_config
from qurate.mixers.sample import doc_hash

CFG = {
    "budget_tokens": 700_000,
    "seed": 7,
    "shard_tokens": 150_000,
    "row_group_rows": 256,
    "domains": {
        "ecommerce": {"multiplier": 0.5},
        "science": {"multiplier": 2, "bucket_rates": [0.5, 1, 1, 2]},
        "technology": {"multiplier": 2.5},
        "math": {"multiplier": 3},
    },
}


def run(corpus: tuple[Path, Path], out: Path, **over) -> dict:
    return mix(list(corpus), out, parse_mix_config({**CFG, **over}))


def test_achieved_shares_within_one_percent(corpus: tuple[Path, Path], tmp_path: Path) -> None:
    m = run(corpus, tmp_path / "mix")["mix"]
    assert abs(m["achieved_tokens"] - m["budget_tokens"]) / m["budget_tokens"] < 0.01
    for d, v in m["domains"].items():
        assert abs(v["achieved_share"] - v["target_share"]) < 0.01, d
    # The config's direction is visible: ecommerce down, science and technology up.
    dom = m["domains"]
    assert dom["ecommerce"]["achieved_share"] < dom["ecommerce"]["natural_share"]
    assert dom["technology"]["achieved_share"] > 1.8 * dom["technology"]["natural_share"]
    # Tallies in the manifest match the shards.
    con = duckdb.connect()
    files = [str(p) for p in shard_paths(tmp_path / "mix")]
    got = dict(
        con.sql(f"SELECT domain, sum(n_tokens) FROM read_parquet({files}) GROUP BY 1").fetchall()
    )
    assert got == {d: v["achieved_tokens"] for d, v in dom.items()}


def test_same_seed_gives_byte_identical_shards(corpus: tuple[Path, Path], tmp_path: Path) -> None:
    run(corpus, tmp_path / "a")
    run(corpus, tmp_path / "b")
    a, b = shard_paths(tmp_path / "a"), shard_paths(tmp_path / "b")
    assert len(a) > 2 and [p.name for p in a] == [p.name for p in b]
    assert all(x.read_bytes() == y.read_bytes() for x, y in zip(a, b, strict=True))
    run(corpus, tmp_path / "c", seed=8)
    c = shard_paths(tmp_path / "c")
    assert a[0].read_bytes() != c[0].read_bytes()


def test_bucketed_shuffle_equals_one_global_sort(corpus: tuple[Path, Path], tmp_path: Path) -> None:
    # 1 MB buckets split this mix into several key ranges; the shards must not change.
    run(corpus, tmp_path / "one")
    run(corpus, tmp_path / "many", shuffle_bucket_mb=1)
    a, b = shard_paths(tmp_path / "one"), shard_paths(tmp_path / "many")
    assert [x.read_bytes() for x in a] == [y.read_bytes() for y in b]


def test_repeats_follow_the_rate_and_order_is_shuffled(
    corpus: tuple[Path, Path], tmp_path: Path
) -> None:
    m = run(corpus, tmp_path / "mix")
    rows = list(iter_rows(tmp_path / "mix", columns=["id", "domain", "quality"]))
    per_id = Counter(r["id"] for r in rows)
    rates = {(b["domain"], b["bucket"]): b["rate"] for b in m["mix"]["buckets"]}
    math = [r for r in rates if r[0] == "math"]
    assert all(2 < rates[r] < 3 for r in math)  # rate 2.x: every doc twice, some three times
    math_ids = {r["id"] for r in rows if r["domain"] == "math"}
    assert {per_id[i] for i in math_ids} == {2, 3}
    # Not grouped by domain or input: the first 200 rows hold every domain.
    assert len({r["domain"] for r in rows[:200]}) == 5
    # The order is the shuffle hash order.
    keys = [doc_hash("shuffle", 7, r["id"], 0) for r in rows[:50] if per_id[r["id"]] == 1]
    assert keys == sorted(keys)


def test_shards_are_fixed_size_and_readable(corpus: tuple[Path, Path], tmp_path: Path) -> None:
    m = run(corpus, tmp_path / "mix")
    paths = shard_paths(tmp_path / "mix")
    assert [p.name for p in paths] == m["mix"]["shards"]
    for p in paths[:-1]:
        t = pq.read_table(p, columns=["n_tokens"])
        n = sum(t.column(0).to_pylist())
        assert 150_000 <= n < 150_000 + 400  # closes at the first doc that reaches the size
    for p in paths:
        assert check_schema_version(p) == SCHEMA_VERSION
        schema = pq.read_schema(p)
        assert schema.remove_metadata().equals(DOC_SCHEMA.remove_metadata())
        assert schema_version(schema) == SCHEMA_VERSION
        assert pq.ParquetFile(p).metadata.row_group(0).num_rows == 256


def test_manifest_counts_add_up(corpus: tuple[Path, Path], tmp_path: Path) -> None:
    run(corpus, tmp_path / "mix", domains={**CFG["domains"], "entertainment": {"min_quality": 0.5}})
    man = read_manifest(tmp_path / "mix")
    c = man["counts"]
    assert c["in"] == 3400 == c["kept"] + c["rejected"]
    assert c["rejected_by_reason"]["below_min_quality"] > 0
    m = man["mix"]
    assert m["seed"] == 7 and len(m["config_hash"]) == 16
    assert (
        m["distinct_docs"]
        == c["kept"]
        == len({r["id"] for r in iter_rows(tmp_path / "mix", columns=["id"])})
    )
    q = m["quality_distribution"]["science"]
    assert (
        list(q) == m["quality_buckets"]
        and sum(q.values()) == m["domains"]["science"]["achieved_tokens"]
    )
    # bucket_rates [.5, 1, 1, 2]: the top science bucket gets about 4x the bottom one's tokens.
    vals = list(q.values())
    assert 2.5 < vals[-1] / vals[0] < 6
    assert man["tokens_by_domain"]["science"] == m["domains"]["science"]["achieved_tokens"]


def test_min_quality_excludes_low_documents(corpus: tuple[Path, Path], tmp_path: Path) -> None:
    run(corpus, tmp_path / "mix", domains={"science": {"min_quality": 0.6, "multiplier": 1}})
    qs = [
        r["quality"]
        for r in iter_rows(tmp_path / "mix", columns=["domain", "quality"])
        if r["domain"] == "science"
    ]
    assert qs and min(qs) >= 0.6


def test_infeasible_budget_writes_nothing(corpus: tuple[Path, Path], tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="short domains"):
        run(corpus, tmp_path / "mix", budget_tokens=10**9)
    assert not shard_paths(tmp_path / "mix")
    assert not (tmp_path / "mix" / "manifest.json").exists()


def test_rerun_into_same_output_replaces_it(corpus: tuple[Path, Path], tmp_path: Path) -> None:
    first = run(corpus, tmp_path / "mix")
    n = len(shard_paths(tmp_path / "mix"))
    assert run(corpus, tmp_path / "mix")["created"] == first["created"]  # the same mix: a no-op
    with pytest.raises(BadInputError, match="different finished run .* --overwrite"):
        run(corpus, tmp_path / "mix", budget_tokens=200_000)
    assert len(shard_paths(tmp_path / "mix")) == n
    mix(list(corpus), tmp_path / "mix", parse_mix_config({**CFG, "budget_tokens": 200_000}),
        overwrite=True)  # fmt: skip
    assert len(shard_paths(tmp_path / "mix")) < n
    assert [p.name for p in (tmp_path / "mix").iterdir() if p.name.startswith(".")] == []


def test_a_budget_that_selects_no_document_is_an_error(
    corpus: tuple[Path, Path], tmp_path: Path
) -> None:
    """Documents are drawn whole: a budget below half a document selected nothing and the mix
    finished empty ("mixed 0 of 1 tokens"), for train to fail on later."""
    out = tmp_path / "mix"
    with pytest.raises(ConfigError, match="selects no document.*raise budget_tokens"):
        run(corpus, out, budget_tokens=1, domains={})
    assert not out.exists()
    out.mkdir()  # a directory the user made: kept, and nothing of the mix left in it
    with pytest.raises(ConfigError, match="selects no document"):
        run(corpus, out, budget_tokens=1, domains={})
    assert out.is_dir() and not [p for p in out.iterdir() if p.name != ".qurate.lock"]
