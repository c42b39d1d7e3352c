"""``mix(inputs, out, cfg)``: plan, sample, shuffle, write training shards and a manifest.

Order of work, so that every user mistake is reported before anything is written:
check the inputs (schema version, columns) and the output directory, count supply and
plan (unknown domains, zero weights, infeasible budgets fail here), then sample and
write. ``plan_mix`` stops after planning (``qurate mix --dry-run``).

Data flow, all streaming: DuckDB selects the sampled rows (``qurate.mixers.sample``), a
two-pass bucket sort shuffles them in bounded memory (``qurate.mixers.shuffle``), and
``TokenShardWriter`` cuts fixed-size shards. Scratch files live in a hidden directory
under the output and are removed at the end. Long-context stages are then composed from
the written shards (``qurate.mixers.longctx``).

The manifest (``manifest.json``, stage ``mix``) keeps the contract's counts: ``in`` is
every input document, ``kept`` the distinct documents drawn at least once, and the rest are
counted by reason (``below_min_quality``, ``not_sampled``); nothing is written to
``rejects/`` because nothing is dropped from the inputs, which stay where they are. Under
``mix`` it records, per domain, the target and achieved tokens and shares, the epochs and
whether the cap bound; the quality distribution of what was drawn; seed and config hash.
"""

from __future__ import annotations

import shutil
import tempfile
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from qurate.contract.args import as_config, as_path, as_paths
from qurate.contract.schema import DOC_SCHEMA, upgrade_table
from qurate.contract.shards import config_hash
from qurate.contract.stagedir import StageDir, fingerprint
from qurate.errors import BadInputError, ConfigError
from qurate.mixers.config import MixConfig
from qurate.mixers.inputs import fill_token_counts, input_shards
from qurate.mixers.longctx import compose_stage
from qurate.mixers.plan import (
    UNLABELLED,
    MixPlan,
    check_values,
    connect,
    count_supply,
    docs_relation,
    plan_from_counts,
    quality_edges,
)
from qurate.mixers.sample import (
    BUCKET_COL,
    HELPER_COLUMNS,
    REPEAT_COL,
    fractional_thresholds,
    plan_rows,
    selection_reader,
)
from qurate.mixers.shuffle import BucketShuffle, bucket_bits, estimate_bytes
from qurate.mixers.writer import TokenShardWriter

STAGE = "mix"
SCRATCH = ".mix-scratch"  # DuckDB spill and shuffle buckets; cleared on restart and at finish


@contextmanager
def _scratch(parent: Path | None) -> Iterator[Path]:
    d = Path(tempfile.mkdtemp(prefix=".qurate-mix-scratch-", dir=parent))
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


def _check_out(out: Path, inputs: list[Path]) -> None:
    """Refuse an output that is an input (the rest is ``StageDir``'s policy)."""
    res = out.resolve()
    for i in inputs:
        if Path(i).resolve() == res:
            raise BadInputError(f"{out}: the output directory is also an input")


@contextmanager
def _duckdb_errors() -> Iterator[None]:
    """A DuckDB failure on user data (a corrupt shard, a full disk) as one line."""
    try:
        yield
    except duckdb.Error as e:
        raise BadInputError(f"mix: DuckDB failed: {str(e).splitlines()[0]}") from None


def _plan(
    inputs: list[Path], cfg: MixConfig, scratch: Path
) -> tuple[Any, str, MixPlan, int, list[Path]]:
    with _duckdb_errors():
        return _plan_inner(inputs, cfg, scratch)


def _plan_inner(
    inputs: list[Path], cfg: MixConfig, scratch: Path
) -> tuple[Any, str, MixPlan, int, list[Path]]:
    shards = input_shards([Path(i) for i in inputs])
    con = connect(cfg, scratch)
    check_values(con, docs_relation(shards))  # on the inputs, before any is copied to fill
    shards = fill_token_counts(shards, scratch, cfg.tokenizer)
    rel = docs_relation(shards)
    edges = quality_edges(con, rel, cfg)
    counts = count_supply(con, rel, cfg, edges)
    plan = plan_from_counts(cfg, counts, edges)
    n_in = sum(plan.domains[d].docs for d in plan.domains)
    return con, rel, plan, n_in, shards


def plan_mix(inputs: list[Path], cfg: MixConfig) -> MixPlan:
    """The plan only (``--dry-run``): supply, targets, rates, epochs. Writes nothing."""
    with _scratch(None) as scratch:
        con, _, plan, _, _ = _plan(inputs, cfg, scratch)
        con.close()
    return plan


class _Tally:
    """Achieved tokens per (domain, bucket) and per language, and distinct documents drawn."""

    def __init__(self) -> None:
        self.tokens: Counter[tuple[str, int]] = Counter()
        self.langs: Counter[str] = Counter()
        self.first_draws = 0

    def add(self, t: pa.Table) -> None:
        dom = pc.fill_null(t.column("domain"), UNLABELLED)
        lang = pc.fill_null(t.column("lang"), "unknown")
        view = pa.table({"d": dom, "b": t.column(BUCKET_COL), "l": lang, "n": t.column("n_tokens")})
        for r in view.group_by(["d", "b"]).aggregate([("n", "sum")]).to_pylist():
            self.tokens[(r["d"], r["b"])] += r["n_sum"]
        for r in view.group_by("l").aggregate([("n", "sum")]).to_pylist():
            self.langs[r["l"]] += r["n_sum"]
        self.first_draws += pc.sum(pc.equal(t.column(REPEAT_COL), 0)).as_py() or 0


def _summary(plan: MixPlan, tally: _Tally, cfg: MixConfig, shards: list[Path]) -> dict[str, Any]:
    achieved = sum(tally.tokens.values())
    by_domain: defaultdict[str, int] = defaultdict(int)
    for (d, _), n in tally.tokens.items():
        by_domain[d] += n
    labels = plan.bucket_labels()
    domains = {}
    for d, p in plan.domains.items():
        got = by_domain.get(d, 0)
        domains[d] = {
            "docs": p.docs,
            "available_tokens": p.available_tokens,
            "eligible_tokens": p.eligible_tokens,
            "natural_share": p.natural_share,
            "requested_share": p.requested_share,
            "max_epochs": p.max_epochs,
            "cap_tokens": p.cap_tokens,
            "capped": p.capped,
            "target_tokens": round(p.target_tokens),
            "target_share": p.target_tokens / plan.budget_tokens,
            "achieved_tokens": got,
            "achieved_share": got / achieved if achieved else 0.0,
            "epochs_target": p.epochs,
            "epochs_achieved": got / p.eligible_tokens if p.eligible_tokens else 0.0,
        }
    quality = {
        d: {labels[b]: tally.tokens.get((d, b), 0) for b in range(len(labels))}
        for d in plan.domains
    }
    buckets = [
        {
            "domain": b.domain,
            "bucket": b.label,
            "docs": b.docs,
            "eligible_tokens": b.tokens,
            "rate": b.rate,
            "planned_tokens": round(b.planned_tokens),
            "achieved_tokens": tally.tokens.get((b.domain, b.bucket), 0),
        }
        for b in plan.buckets
    ]
    return {
        "seed": cfg.seed,
        "config_hash": config_hash(cfg),
        "budget_tokens": plan.budget_tokens,
        "achieved_tokens": achieved,
        "quality_edges": plan.edges,
        "quality_buckets": labels,
        "shard_tokens": cfg.shard_tokens,
        "shards": [p.name for p in shards],
        "domains": domains,
        "quality_distribution": quality,
        "buckets": buckets,
    }


def mix(
    inputs: list[Path], out: Path, cfg: MixConfig, *, overwrite: bool = False
) -> dict[str, Any]:
    """Mix ``inputs`` into training shards under ``out``; return the manifest.

    Rerun policy (``StageDir``): the same mix again is a no-op; a killed mix restarts
    cleanly in place (its shards, temp files and scratch directory are cleared, so no
    valid-looking shard without a manifest survives); a different mix needs ``overwrite``.
    """
    cfg = as_config(cfg, MixConfig, "mix cfg", hint="load_mix_config(path)")
    out, inputs = as_path(out, "mix out"), as_paths(inputs, "mix inputs")
    _check_out(out, inputs)
    created = not out.exists()
    with StageDir(out, STAGE, overwrite=overwrite, inputs=inputs) as sd:
        done = sd.begin(fingerprint(cfg, inputs), resume=False)
        if done is not None:
            return done
        return _mix(sd, inputs, cfg, created)


def _check_room(
    sd: StageDir, est_bytes: int, cfg: MixConfig, created: bool, con: duckdb.DuckDBPyConnection
) -> None:
    """Refuse, before writing, a mix bigger than the free disk under ``out``.

    A budget far above the inputs is valid when ``max_epochs`` allows it (10^11 tokens from
    1 MB with max_epochs 10^5 passes the plan) and then writes until the disk is full: 4 GB
    of shuffle scratch in the first 40 s here. The selected rows pass through the shuffle's
    uncompressed scratch files, so ``est_bytes`` (uncompressed) is a lower bound of the room
    the mix needs.
    """
    free = shutil.disk_usage(sd.path).free
    if est_bytes <= free:
        return
    con.close()
    if created:  # as for a mistake found while planning: no trace
        shutil.rmtree(sd.path, ignore_errors=True)
    else:
        sd.clear()
    raise ConfigError(
        f"budget_tokens {cfg.budget_tokens:,} needs about {est_bytes / 1e9:,.1f} GB of scratch "
        f"space (the selected rows, uncompressed) but {sd.path} has {free / 1e9:,.1f} GB free; "
        "lower budget_tokens or max_epochs, or mix to a larger disk"
    )


def _mix(sd: StageDir, inputs: list[Path], cfg: MixConfig, created: bool) -> dict[str, Any]:
    out = sd.path
    cfg_hash = config_hash(cfg)
    scratch = sd.scratch(SCRATCH)  # one scratch directory, removed by finish
    try:
        con, rel, plan, n_in, shards_in = _plan(inputs, cfg, scratch)
    except BaseException:
        if created:  # a mistake found while planning leaves no trace
            shutil.rmtree(out, ignore_errors=True)
        raise
    min_q = {d: cfg.spec_for(d).min_quality for d in plan.domains}
    writer = TokenShardWriter(out, shard_tokens=cfg.shard_tokens, row_group_rows=cfg.row_group_rows)
    tally = _Tally()
    fraction = sum(b.planned_tokens for b in plan.buckets) / max(1, plan.total_tokens)
    est = estimate_bytes(shards_in, fraction)
    _check_room(sd, est, cfg, created, con)
    bits = bucket_bits(est, cfg.shuffle_bucket_mb << 20)
    shuffle = BucketShuffle(scratch, bits, memory_bytes=cfg.shuffle_bucket_mb << 20)
    try:
        with _duckdb_errors():
            rows = fractional_thresholds(con, rel, plan, plan_rows(plan, min_q))
            reader = selection_reader(con, rel, plan, rows, batch_rows=8192)
            for batch in reader:  # pass one: scatter into key-range buckets
                shuffle.add(batch)
        for t in shuffle.sorted_tables():  # pass two: one sorted bucket at a time
            tally.add(t)
            writer.write(upgrade_table(t.drop_columns(HELPER_COLUMNS)).cast(DOC_SCHEMA))
        shards = writer.close()
    except BaseException:
        writer.abort()
        shuffle.close()
        raise
    finally:
        con.close()
    eligible = sum(p.docs for p in plan.buckets)
    if eligible and not tally.first_draws:
        if created:  # as for a mistake found while planning: no trace
            shutil.rmtree(out, ignore_errors=True)
        else:
            sd.clear()
        raise ConfigError(
            f"budget_tokens {cfg.budget_tokens:,} selects no document: documents are drawn "
            f"whole and the {eligible:,} eligible ones average "
            f"{sum(b.tokens for b in plan.buckets) // eligible:,} tokens; raise budget_tokens"
        )
    summary = _summary(plan, tally, cfg, shards)
    summary["rows"] = writer.rows
    summary["distinct_docs"] = tally.first_draws
    stages = [
        compose_stage(
            out,
            s,
            shard_tokens=cfg.shard_tokens,
            row_group_rows=cfg.row_group_rows,
            cfg_hash=cfg_hash,
        )
        for s in cfg.long_context
    ]
    rejected = {
        "below_min_quality": n_in - eligible,
        "not_sampled": eligible - tally.first_draws,
    }
    return sd.finish(
        config_hash=cfg_hash,
        inputs=[str(i) for i in inputs],
        n_in=n_in,
        n_kept=tally.first_draws,
        rejected_by_reason={k: v for k, v in rejected.items() if v},
        extra={
            "mix": summary,
            "long_context": stages,
            "tokens_by_domain": {d: v["achieved_tokens"] for d, v in summary["domains"].items()},
            "tokens_by_lang": dict(sorted(tally.langs.items())),
        },
    )
