"""Builders for mix inputs: stage directories written with the real ShardWriter."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from qurate.contract.shards import ShardWriter, write_manifest

WORDS = "the of and data model token science code math shop game news film paper".split()


def make_docs(
    n: int,
    *,
    domains: dict[str, float],
    seed: int = 0,
    prefix: str = "d",
    tokens: tuple[int, int] = (50, 400),
    null_tokens: bool = False,
) -> list[dict[str, Any]]:
    """``n`` documents; ``domains`` maps a domain to its share of documents."""
    rng = random.Random(seed)
    names = list(domains)
    weights = [domains[d] for d in names]
    docs = []
    for i in range(n):
        d = rng.choices(names, weights)[0]
        k = rng.randint(*tokens)
        q = rng.random()
        docs.append(
            {
                "id": f"{prefix}{i:06d}",
                "text": " ".join(rng.choice(WORDS) for _ in range(k)),
                "source": prefix,
                "lang": rng.choice(["en", "en", "zh"]),
                "domain": d,
                "quality": q,
                "scores": {"educational_value": q, "fluency": rng.random()},
                "n_chars": 0,
                "n_tokens": None if null_tokens else k,
                "synthetic": prefix == "syn",
            }
        )
    return docs


def write_stage(
    directory: Path,
    docs: list[dict[str, Any]],
    *,
    rows_per_shard: int = 700,
    rejects: list[dict[str, Any]] | None = None,
    stage: str = "scored",
) -> Path:
    with ShardWriter(directory, rows_per_shard=rows_per_shard) as w:
        for d in docs:
            w.write(d)
    by_reason: dict[str, int] = {}
    if rejects:
        with ShardWriter(directory / "rejects", rejects=True) as w:
            for r in rejects:
                w.write(r)
                by_reason[r["reject_reason"]] = by_reason.get(r["reject_reason"], 0) + 1
    write_manifest(
        directory,
        stage=stage,
        config_hash="test",
        inputs=["test"],
        n_in=len(docs) + len(rejects or []),
        n_kept=len(docs),
        rejected_by_reason=by_reason,
    )
    return directory


def stamp_manifest(directory: Path, n: int, *, stage: str = "scored") -> Path:
    """Mark a hand-built shard directory as a finished stage (readers refuse one without)."""
    write_manifest(
        directory, stage=stage, config_hash="test", inputs=[], n_in=n, n_kept=n,
        rejected_by_reason={},
    )  # fmt: skip
    return directory
