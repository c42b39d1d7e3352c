"""Gather what the report draws: the stages of a run, their manifests and histograms.

A run directory holds stage directories (``curated/``, ``scored/``, ``mixed/``, ...), each
with a ``manifest.json``. The report finds them by their manifests, whatever stages exist,
and gathers what to plot with DuckDB over each stage's shards (narrow columns only:
domain, lang, n_tokens, quality, scores) and from the manifests (reject counts, the mix's
targets and budget). Drawing is in ``qurate.report.page``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from qurate.contract.files import RUN_STAGES
from qurate.contract.shards import MANIFEST, shard_paths
from qurate.errors import BadInputError

SKIP_DIRS = {"rejects", "stats"}
MAX_DEPTH = 3
HIST_BINS = 20


@dataclass
class StageData:
    """What the report knows about one stage directory."""

    name: str  # path relative to the run directory
    path: Path
    manifest: dict[str, Any]
    docs: int = 0
    tokens: int = 0
    tokens_by_domain: dict[str, int] = field(default_factory=dict)
    docs_by_lang: dict[str, int] = field(default_factory=dict)
    # dimension -> (bin left edges, bin width, counts)
    histograms: dict[str, tuple[list[float], float, list[int]]] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return str(self.manifest.get("stage", "?"))

    @property
    def rejected_by_reason(self) -> dict[str, int]:
        return dict(self.manifest.get("counts", {}).get("rejected_by_reason", {}))


def _is_stage(manifest: Any) -> bool:
    """A stage's manifest the report can plot: an object whose counts are an object (a
    manifest of another shape, hand-written or foreign, made the page fail half-way)."""
    if not isinstance(manifest, dict) or manifest.get("kind") == "models":
        return False  # (a models directory, e.g. raters, has no shards)
    counts = manifest.get("counts", {})
    rejected = counts.get("rejected_by_reason", {}) if isinstance(counts, dict) else None
    return (
        isinstance(rejected, dict)
        and all(_is_number(n) for n in rejected.values())
        and ("mix" not in manifest or _is_mix(manifest["mix"]))
        and _is_long_context(manifest.get("long_context"))
        and isinstance(manifest.get("ablation", ""), str)
    )


def _is_long_context(stages: Any) -> bool:
    """A mix's ``long_context`` list the plot can draw (each stage that counts its
    sequences); a long-context stage's own summary (an object) is not drawn."""
    if not stages or isinstance(stages, dict):
        return True
    keys = ("max_tokens", "sequences", "long_sequences", "short_sequences",
            "long_fraction_achieved")  # fmt: skip
    return isinstance(stages, list) and all(
        not isinstance(lc, dict)
        or "sequences" not in lc
        or (isinstance(lc.get("name"), str) and all(_is_number(lc.get(k)) for k in keys))
        for lc in stages
    )


def _is_number(x: Any) -> bool:
    """A number the page can draw: plotly's JSON refuses an integer past 64 bits (a
    hand-edited count of 10**23 made the page fail, a traceback)."""
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return False
    return isinstance(x, float) or -(2**63) <= x < 2**63


def _is_mix(mix: Any) -> bool:
    """A mix manifest's ``mix`` block the budget plot can draw: the budget, what was achieved
    and, per domain, numbers (a hand-edited one made the page fail half-way)."""
    if not mix:
        return True  # (the plots leave out an empty one)
    if not isinstance(mix, dict) or not isinstance(mix.get("domains"), dict):
        return False
    keys = ("available_tokens", "target_tokens", "achieved_tokens")
    return (
        _is_number(mix.get("budget_tokens"))
        and _is_number(mix.get("achieved_tokens"))
        and all(
            isinstance(d, dict)
            and all(_is_number(d.get(k)) for k in keys)
            and _is_number(d.get("target_share", 0))
            for d in mix["domains"].values()
        )
    )


def discover_stages(run_dir: Path) -> list[tuple[Path, dict[str, Any]]]:
    """Every directory under ``run_dir`` (itself included) with a readable manifest.json; in
    a `qurate run` folder, only below the directories its last run made (``RUN_STAGES``)."""
    found: list[tuple[Path, dict[str, Any]]] = []
    made = run_stages(run_dir)

    def walk(d: Path, depth: int) -> None:
        m = d / MANIFEST
        if m.is_file():
            try:
                manifest = json.loads(m.read_text())
            except (OSError, ValueError):
                manifest = None  # a half-written or foreign manifest: not a stage we can show
            if _is_stage(manifest):
                found.append((d, manifest))  # (a models directory, e.g. raters, has no shards)
        if depth >= MAX_DEPTH:
            return
        for child in sorted(p for p in d.iterdir() if p.is_dir()):
            if child.name in SKIP_DIRS or child.name.startswith("."):
                continue
            if depth == 0 and made is not None and child.name not in made:
                continue  # left by an earlier config of the run: not this run's stage
            walk(child, depth + 1)

    walk(run_dir, 0)
    # Pipeline order: by creation time, then path (manifests of one second tie).
    found.sort(key=lambda x: (str(x[1].get("created", "")), str(x[0])))
    return found


def run_stages(run_dir: Path) -> set[str] | None:
    """The directory names ``qurate run`` recorded as its last run's (``RUN_STAGES``), or None
    (no record, or one unreadable: every directory is shown)."""
    try:
        names = json.loads((run_dir / RUN_STAGES).read_text()).get("stages")
    except (OSError, ValueError, AttributeError):
        return None
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        return None
    return set(names)


def files_sql(paths: list[Path]) -> str:
    files = ", ".join("'" + str(p).replace("'", "''") + "'" for p in paths)
    return f"read_parquet([{files}], union_by_name = true)"


def _histograms(con: duckdb.DuckDBPyConnection, rel: str, cols: set[str]) -> dict[str, Any]:
    """Per score dimension (and the aggregate ``quality``), counts in HIST_BINS equal bins."""
    parts = []
    if "scores" in cols:
        kind = con.cursor().execute(f"SELECT typeof(scores) FROM {rel} LIMIT 1").fetchone()
        if kind and str(kind[0]).startswith("MAP"):  # a schema v1 shard
            parts.append(
                f"SELECT unnest(map_keys(scores)) AS dim, unnest(map_values(scores))::DOUBLE AS v "
                f"FROM {rel} WHERE scores IS NOT NULL"
            )
        else:  # v2: a list of {name, value} structs
            parts.append(
                f"SELECT e.name AS dim, e.value::DOUBLE AS v FROM "
                f"(SELECT unnest(scores) AS e FROM {rel} WHERE scores IS NOT NULL)"
            )
    if "quality" in cols:
        parts.append(f"SELECT 'quality' AS dim, quality::DOUBLE AS v FROM {rel}")
    if not parts:
        return {}
    sql = f"""
        WITH s AS ({" UNION ALL ".join(parts)}),
        f AS (SELECT * FROM s WHERE v IS NOT NULL AND isfinite(v)),
        r AS (SELECT dim, min(v) AS lo, max(v) AS hi FROM f GROUP BY dim)
        SELECT f.dim, r.lo, r.hi,
               least(CASE WHEN r.hi > r.lo THEN floor((f.v - r.lo) / (r.hi - r.lo) * {HIST_BINS})
                          ELSE 0 END, {HIST_BINS - 1})::INT AS bin,
               count(*) AS n
        FROM f JOIN r USING (dim) GROUP BY ALL ORDER BY f.dim, bin
    """
    out: dict[str, Any] = {}
    for dim, lo, hi, b, n in con.sql(sql).fetchall():
        width = (hi - lo) / HIST_BINS if hi > lo else 1.0
        edges, _, counts = out.setdefault(
            dim, ([lo + i * width for i in range(HIST_BINS)], width, [0] * HIST_BINS)
        )
        counts[b] += n
    return out


def gather_stage(
    con: duckdb.DuckDBPyConnection, run_dir: Path, path: Path, manifest: dict
) -> StageData:
    name = str(path.relative_to(run_dir)) if path != run_dir else path.name
    s = StageData(name=name, path=path, manifest=manifest)
    shards = shard_paths(path)
    if not shards:
        return s
    rel = files_sql(shards)
    cols = {r[0] for r in con.sql(f"DESCRIBE SELECT * FROM {rel}").fetchall()}
    # As text and as a 64-bit sum: a list-typed domain failed as a dict key, and a total past
    # 64 bits failed in plotly's JSON, both tracebacks (a sum too large is DuckDB's one line).
    tok = "coalesce(n_tokens, 0)" if "n_tokens" in cols else "0"
    dom = "coalesce(domain::VARCHAR, 'unlabelled')" if "domain" in cols else "'unlabelled'"
    for d, n, t in con.sql(
        f"SELECT {dom}, count(*), sum({tok})::BIGINT FROM {rel} GROUP BY 1 ORDER BY 1"
    ).fetchall():
        s.docs += n
        s.tokens += int(t or 0)
        s.tokens_by_domain[d] = int(t or 0)
    if "lang" in cols:
        q = (
            f"SELECT coalesce(lang::VARCHAR, 'unknown'), count(*) FROM {rel} "
            "GROUP BY 1 ORDER BY 2 DESC"
        )
        s.docs_by_lang = {lang: n for lang, n in con.sql(q).fetchall()}
    s.histograms = _histograms(con, rel, cols)
    return s


def gather(run_dir: Path) -> list[StageData]:
    """Discover and summarise every stage of a run."""
    run_dir = Path(run_dir)
    if run_dir.exists() and not run_dir.is_dir():  # it was "no such run directory"
        raise BadInputError(f"{run_dir}: not a directory (give the run directory of stages)")
    if not run_dir.is_dir():
        raise BadInputError(f"{run_dir}: no such run directory")
    found = discover_stages(run_dir)
    if not found:
        raise BadInputError(f"{run_dir}: no stage directories (no manifest.json found under it)")
    con = duckdb.connect()
    con.execute("SET memory_limit = '1GB'")
    try:
        return [gather_stage(con, run_dir, p, m) for p, m in found]
    except duckdb.Error as e:
        raise BadInputError(
            f"{run_dir}: cannot read a stage's shards ({str(e).splitlines()[0]})"
        ) from None
    finally:
        con.close()
