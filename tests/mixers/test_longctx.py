"""Long-context stages: 40% of sequences at max length, same-domain concatenation, splits."""

from __future__ import annotations

import json
from pathlib import Path

from mix_builders import make_docs, write_stage

from qurate.contract.shards import iter_rows, read_manifest
from qurate.mixers import mix, parse_mix_config
from qurate.mixers.longctx import split_text


def test_split_text_keeps_total_and_cuts_on_spaces() -> None:
    text = " ".join(f"w{i}" for i in range(1000))
    pieces = split_text(text, 1000, 300)
    assert "".join(p for p, _ in pieces) == text
    assert sum(n for _, n in pieces) == 1000
    assert all(p.endswith(" ") for p, _ in pieces[:-1])
    assert all(250 <= n <= 310 for _, n in pieces[:-1])


def test_stage_is_forty_percent_at_max_length(tmp_path: Path) -> None:
    docs = make_docs(1500, domains={"science": 2, "code": 1, "news": 1}, tokens=(20, 600))
    docs += make_docs(10, domains={"science": 1}, tokens=(2500, 3000), prefix="long", seed=3)
    src = write_stage(tmp_path / "scored", docs)
    cfg = parse_mix_config(
        {
            "budget_tokens": 300_000,
            "long_context": [
                {"name": "ctx1k", "max_tokens": 1024},
                {"name": "ctx2k", "max_tokens": 2048, "long_fraction": 0.25},
            ],
        }
    )
    man = mix([src], tmp_path / "mix", cfg)
    stages = {s["name"]: s for s in man["long_context"]}
    assert abs(stages["ctx1k"]["long_fraction_achieved"] - 0.4) < 0.02
    assert abs(stages["ctx2k"]["long_fraction_achieved"] - 0.25) < 0.02

    d = tmp_path / "mix" / "long_context" / "ctx1k"
    rows = list(iter_rows(d))
    assert read_manifest(d)["long_context"]["sequences"] == len(rows)
    lengths = [r["n_tokens"] for r in rows]
    assert max(lengths) <= 1024
    n_long = sum(n >= 922 for n in lengths)
    assert n_long == stages["ctx1k"]["long_sequences"]
    assert sum(lengths) >= man["mix"]["achieved_tokens"]  # every mixed token is in the stage
    concats = [
        r
        for r in rows
        if json.loads(r["meta"] or "{}").get("long_context", {}).get("kind") == "concat"
    ]
    assert concats and stages["ctx1k"]["split_docs"] > 0
    by_id = {r["id"]: r["domain"] for r in iter_rows(src, columns=["id", "domain"])}
    for r in concats:
        ids = json.loads(r["meta"])["long_context"]["doc_ids"]
        base = {by_id[i.split("#")[0]] for i in ids}
        assert base == {r["domain"]}  # concatenations never mix domains


def test_stage_budget(tmp_path: Path) -> None:
    src = write_stage(tmp_path / "s", make_docs(600, domains={"a": 1}))
    cfg = parse_mix_config(
        {
            "budget_tokens": 100_000,
            "long_context": [{"name": "s", "max_tokens": 512, "budget_tokens": 20_000}],
        }
    )
    man = mix([src], tmp_path / "mix", cfg)
    s = man["long_context"][0]
    assert 20_000 <= s["tokens"] < 20_000 + 1024
    sub = read_manifest(tmp_path / "mix" / "long_context" / "s")
    assert sub["counts"]["rejected_by_reason"]["over_stage_budget"] > 0
