"""The mix planner: supply per (domain, quality bucket) from DuckDB, then water-filling.

Supply is counted in one DuckDB aggregation over the input shards (narrow columns only:
``domain``, ``quality``, ``n_tokens``), so planning an 18T-token mix reads a few columns and
never the text. Domain targets come from the config (see ``qurate.mixers.config``) and are
water-filled to the budget: each round gives every open domain its share of what is left;
a domain whose share exceeds its cap (``max_epochs`` x supply, weighted by bucket rates) is
fixed at the cap and leaves the pool. UniMax (Chung et al., 2023) is this with uniform
weights. When every domain is capped and budget is left over the plan is infeasible and the
error names the short domains.

Within a domain, bucket b gets rate ``scale_d x bucket_rate_b``: a document is repeated
``floor(rate)`` times, plus once more for a hash-chosen subset of the bucket that holds
``frac(rate)`` of its tokens (see ``qurate.mixers.sample``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from qurate.errors import BadInputError, ConfigError
from qurate.mixers.config import MixConfig

UNLABELLED = "unlabelled"  # the domain of a document whose `domain` is null
DOMAIN_SQL = f"coalesce(domain, '{UNLABELLED}')"


@dataclass
class BucketPlan:
    domain: str
    bucket: int
    label: str
    docs: int
    tokens: int  # eligible tokens in this bucket
    rate: float = 0.0  # expected repeats of each document
    planned_tokens: float = 0.0


@dataclass
class DomainPlan:
    domain: str
    docs: int  # all documents of the domain
    available_tokens: int  # all tokens of the domain (the natural distribution)
    eligible_tokens: int  # tokens at or above min_quality
    natural_share: float
    requested_share: float  # share from weights/multipliers, before caps
    max_epochs: float
    cap_tokens: float
    target_tokens: float = 0.0
    capped: bool = False

    @property
    def epochs(self) -> float:
        """Average repeats of an eligible token of this domain."""
        return self.target_tokens / self.eligible_tokens if self.eligible_tokens else 0.0


@dataclass
class MixPlan:
    budget_tokens: int
    seed: int
    edges: list[float]  # quality bucket edges (bucket i is [edges[i-1], edges[i]))
    domains: dict[str, DomainPlan]
    buckets: list[BucketPlan] = field(default_factory=list)

    def bucket_labels(self) -> list[str]:
        return bucket_labels(self.edges)

    @property
    def total_tokens(self) -> int:
        """All tokens of the inputs."""
        return sum(d.available_tokens for d in self.domains.values())


def bucket_labels(edges: list[float]) -> list[str]:
    """Readable bucket names: ``<0.25``, ``0.25-0.5``, ``>=0.75`` (``all`` for one bucket)."""
    if not edges:
        return ["all"]
    e = [f"{x:.3g}" for x in edges]
    return [f"<{e[0]}", *(f"{a}-{b}" for a, b in zip(e[:-1], e[1:], strict=True)), f">={e[-1]}"]


def bucket_sql(edges: list[float]) -> str:
    """SQL for a document's bucket index; a null quality falls in the lowest bucket."""
    if not edges:
        return "0"
    q = "coalesce(quality, '-inf'::DOUBLE)"
    return "(" + " + ".join(f"({q} >= {sql_literal(float(e))})::INT" for e in edges) + ")"


def check_values(con: duckdb.DuckDBPyConnection, rel: str) -> None:
    """Refuse inputs the plan cannot count: no documents at all, a negative ``n_tokens`` (it
    lowered a domain's supply and the mix finished, exit 0, on wrong counts) or a NaN or
    infinite ``quality`` (NaN passed every ``min_quality``; a quantile edge of NaN or inf
    reached the SQL as a column name). Each error names the first file holding one."""
    ((docs, neg, neg_file, bad_q, bad_q_file),) = con.sql(
        f"""SELECT count(*),
                   count(*) FILTER (WHERE n_tokens < 0),
                   first(filename) FILTER (WHERE n_tokens < 0),
                   count(*) FILTER (WHERE NOT isfinite(quality::DOUBLE)),
                   first(filename) FILTER (WHERE NOT isfinite(quality::DOUBLE))
            FROM {rel}"""
    ).fetchall()
    if not docs:
        raise BadInputError("the inputs hold no documents (every input stage kept none)")
    if neg:
        raise BadInputError(
            f"{neg_file}: {neg:,} document(s) with a negative n_tokens (first file shown); "
            "a token count is 0 or more"
        )
    if bad_q:
        raise BadInputError(
            f"{bad_q_file}: {bad_q:,} document(s) with a NaN or infinite quality (first file "
            "shown); score them again, or set quality to null (the lowest bucket)"
        )


def connect(cfg: MixConfig, scratch: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    try:
        con.execute(f"SET memory_limit = {_sql_str(cfg.memory_limit)}")
    except duckdb.Error as e:
        raise ConfigError(f"memory_limit: {str(e).splitlines()[0]}") from None
    # quoted: an -o path holding a ' was "DuckDB failed: unterminated string literal"
    con.execute(f"SET temp_directory = {_sql_str(scratch / 'duckdb')}")
    return con


def _sql_str(value: object) -> str:
    """A SQL string literal of ``value`` (quotes doubled)."""
    return "'" + str(value).replace("'", "''") + "'"


def docs_relation(shards: list[Path]) -> str:
    files = ", ".join(_sql_str(p) for p in shards)
    return f"read_parquet([{files}], union_by_name = true, filename = true, file_row_number = true)"


def quality_edges(con: duckdb.DuckDBPyConnection, rel: str, cfg: MixConfig) -> list[float]:
    if isinstance(cfg.quality_buckets, list):
        return [float(e) for e in cfg.quality_buckets]
    n = cfg.quality_buckets
    if n == 1:
        return []
    qs = [i / n for i in range(1, n)]
    row = con.sql(f"SELECT quantile_cont(quality, {qs}) FROM {rel}").fetchall()[0]
    if row is None or row[0] is None:
        raise BadInputError("every input document has a null quality: score the inputs first")
    # Equal quantiles (many tied scores) would leave empty buckets; that is fine, not an error.
    return [float(x) for x in row[0]]


def _raw_targets(cfg: MixConfig, domains: dict[str, DomainPlan]) -> dict[str, float]:
    specs = {d: cfg.spec_for(d) for d in domains}
    by_weight = sorted(d for d, s in specs.items() if s.weight is not None)
    by_mult = sorted(d for d, s in specs.items() if s.weight is None)
    if by_weight and by_mult:
        raise ConfigError(
            f"domains {', '.join(by_weight)} use weight but {', '.join(by_mult)} use multiplier: "
            "use one kind for every domain (set default.weight for unlisted domains)"
        )
    if by_weight:
        if cfg.temperature is not None:
            raise ConfigError("temperature reshapes natural shares: use it with multipliers")
        raw = {d: float(specs[d].weight or 0.0) for d in domains}
    else:
        t = cfg.temperature or 1.0
        # p^(1/T) relative to the largest share (the same shares once normalised): a small T
        # underflowed every p^(1/T) to 0 ("sum to 0") instead of keeping the largest domain.
        top = max((p.natural_share for p in domains.values()), default=0.0)
        raw = {
            d: float(specs[d].multiplier if specs[d].multiplier is not None else 1.0)
            * ((p.natural_share / top) ** (1.0 / t) if p.natural_share > 0 else 0.0)
            for d, p in domains.items()
        }
    most = max(raw.values(), default=0.0)
    if most > 0:  # huge weights (1e308 each) summed to inf, and every share became NaN
        raw = {d: r / most for d, r in raw.items()}
    total = sum(raw.values())
    if not total > 0:
        kind = "weights" if by_weight else "multipliers x natural shares"
        raise ConfigError(
            f"domains: the {kind} sum to {total:g}; they must sum to a positive number"
        )
    return {d: r / total for d, r in raw.items()}


def water_fill(budget: float, shares: dict[str, float], caps: dict[str, float]) -> dict[str, float]:
    """Split ``budget`` by ``shares`` without exceeding ``caps``; redistribute the excess."""
    targets = {d: 0.0 for d in shares}
    open_ = {d for d, s in shares.items() if s > 0}
    left = float(budget)
    while open_ and left > 1e-9 * budget:
        total = sum(shares[d] for d in open_)
        over = {d for d in open_ if left * shares[d] / total >= caps[d]}
        if not over:
            for d in open_:
                targets[d] += left * shares[d] / total
            return targets
        for d in over:
            targets[d] = caps[d]
            left -= caps[d]
        open_ -= over
    if left > 1e-6 * budget:
        raise _Infeasible(left)
    return targets


class _Infeasible(Exception):
    def __init__(self, left: float) -> None:
        self.left = left


def _fmt(n: float) -> str:
    for unit, scale in (("T", 1e12), ("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(n) >= scale:
            return f"{n / scale:.3g}{unit}"
    return f"{n:.0f}"


def plan_from_counts(cfg: MixConfig, counts: pa.Table, edges: list[float]) -> MixPlan:
    """Build the plan from per-(domain, bucket) supply rows.

    ``counts`` has columns domain, bucket, docs, tokens, eligible_docs, eligible_tokens.
    """
    rows = counts.to_pylist()
    valid = sorted({r["domain"] for r in rows})
    unknown = sorted(set(cfg.domains) - set(valid))
    if unknown:
        raise ConfigError(
            f"domains: unknown domain(s) {', '.join(unknown)}; the inputs have: {', '.join(valid)}"
        )
    labels = bucket_labels(edges)
    total_tokens = sum(r["tokens"] for r in rows)
    if total_tokens <= 0:
        raise BadInputError("the inputs hold no tokens (every n_tokens is 0)")
    domains: dict[str, DomainPlan] = {}
    for d in valid:
        mine = [r for r in rows if r["domain"] == d]
        spec = cfg.spec_for(d)
        avail = sum(r["tokens"] for r in mine)
        domains[d] = DomainPlan(
            domain=d,
            docs=sum(r["docs"] for r in mine),
            available_tokens=avail,
            eligible_tokens=sum(r["eligible_tokens"] for r in mine),
            natural_share=avail / total_tokens,
            requested_share=0.0,
            max_epochs=spec.max_epochs or cfg.max_epochs,
            cap_tokens=0.0,
        )
    shares = _raw_targets(cfg, domains)
    caps: dict[str, float] = {}
    unit: dict[str, float] = {}  # tokens drawn from the domain at scale 1
    for d, p in domains.items():
        p.requested_share = shares[d]
        rates = cfg.spec_for(d).bucket_rates or [1.0] * len(labels)
        mine = [r for r in rows if r["domain"] == d]
        unit[d] = sum(rates[r["bucket"]] * r["eligible_tokens"] for r in mine)
        top = max((rates[r["bucket"]] for r in mine if r["eligible_tokens"] > 0), default=0.0)
        caps[d] = p.max_epochs / top * unit[d] if top > 0 else 0.0
        p.cap_tokens = caps[d]
    try:
        targets = water_fill(cfg.budget_tokens, shares, caps)
    except _Infeasible:
        supply = sum(c for d, c in caps.items() if shares[d] > 0)
        short = ", ".join(
            f"{d} (supply {_fmt(domains[d].eligible_tokens)}, max_epochs {domains[d].max_epochs:g}"
            f" -> cap {_fmt(caps[d])}, wanted {_fmt(shares[d] * cfg.budget_tokens)})"
            for d in sorted(
                domains, key=lambda d: shares[d] * cfg.budget_tokens - caps[d], reverse=True
            )
            if shares[d] > 0 and shares[d] * cfg.budget_tokens > caps[d]
        )
        raise ConfigError(
            f"budget_tokens {_fmt(cfg.budget_tokens)} exceeds the capped supply {_fmt(supply)}; "
            f"short domains: {short}. Raise max_epochs, lower budget_tokens or add data"
        ) from None
    plan = MixPlan(budget_tokens=cfg.budget_tokens, seed=cfg.seed, edges=edges, domains=domains)
    for d, p in domains.items():
        p.target_tokens = targets[d]
        p.capped = shares[d] > 0 and targets[d] >= caps[d] * (1 - 1e-9)
        scale = targets[d] / unit[d] if unit[d] > 0 else 0.0
        rates = cfg.spec_for(d).bucket_rates or [1.0] * len(labels)
        for r in sorted((r for r in rows if r["domain"] == d), key=lambda r: r["bucket"]):
            rate = scale * rates[r["bucket"]]
            plan.buckets.append(
                BucketPlan(
                    domain=d,
                    bucket=r["bucket"],
                    label=labels[r["bucket"]],
                    docs=r["eligible_docs"],
                    tokens=r["eligible_tokens"],
                    rate=rate,
                    planned_tokens=rate * r["eligible_tokens"],
                )
            )
    return plan


def sql_literal(v: object) -> str:
    if v is None:
        return "NULL"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v) if math.isfinite(v) else f"'{v}'::DOUBLE"
    return "'" + str(v).replace("'", "''") + "'"


def values_sql(columns: list[tuple[str, str]], rows: list[tuple]) -> str:
    """A small inline table. (Registering an Arrow table costs seconds on first use.)"""
    names = ", ".join(n for n, _ in columns)
    if not rows:
        typed = ", ".join(f"NULL::{t} AS {n}" for n, t in columns)
        return f"(SELECT {typed} WHERE false)"
    body = ", ".join(
        "("
        + ", ".join(f"{sql_literal(v)}::{t}" for v, (_, t) in zip(r, columns, strict=True))
        + ")"
        for r in rows
    )
    return f"(SELECT * FROM (VALUES {body}) AS v({names}))"


def count_supply(
    con: duckdb.DuckDBPyConnection, rel: str, cfg: MixConfig, edges: list[float]
) -> pa.Table:
    """Documents and tokens per (domain, bucket), all and eligible (>= min_quality)."""
    listed = values_sql(
        [("d", "VARCHAR"), ("min_q", "DOUBLE")],
        [(d, cfg.spec_for(d).min_quality) for d in sorted(cfg.domains)],
    )
    default = sql_literal(cfg.default.min_quality)
    sql = f"""
        SELECT {DOMAIN_SQL} AS domain, {bucket_sql(edges)} AS bucket,
               count(*) AS docs, coalesce(sum(n_tokens), 0)::BIGINT AS tokens,
               count(*) FILTER (WHERE eligible) AS eligible_docs,
               coalesce(sum(n_tokens) FILTER (WHERE eligible), 0)::BIGINT AS eligible_tokens
        FROM (
            SELECT *, (q IS NULL OR coalesce(quality, '-inf'::DOUBLE) >= q) AS eligible
            FROM (
                SELECT r.*, CASE WHEN t.d IS NULL THEN {default}::DOUBLE ELSE t.min_q END AS q
                FROM {rel} r LEFT JOIN {listed} t ON t.d = {DOMAIN_SQL}
            )
        )
        GROUP BY ALL ORDER BY domain, bucket
    """
    return con.sql(sql).to_arrow_table()
