"""``synth generate``: n teacher samples per seed, through any ``qurate/llm`` engine.

Seeds (JSONL or Parquet rows) are checked against the template's required fields before the
teacher is asked anything: a seed without them is a one-line error naming the seed. Prompts
go to the engine in chunks behind the persistent prompt cache (``OUT/cache.sqlite`` unless
the engine config names another), so a killed run resumes where it stopped and a rerun asks
the teacher nothing. Each output is parsed by its template; an empty or malformed one goes
to ``rejects/rejects.parquet`` with its reason, the rest to ``samples.parquet`` (so that
``OUT/*.parquet`` is the kept samples alone, as in every stage directory), and
``manifest.json`` accounts for every output (in == kept + rejected).

Provenance of each sample: teacher (engine kind + model id), template id and version, seed
id, sample index and the sampling parameters.
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qurate.contract.shards import config_hash
from qurate.contract.stagedir import StageDir, fingerprint
from qurate.errors import BadInputError
from qurate.llm import Engine, EngineConfig, GenParams, load_engine
from qurate.synth.config import GenerateConfig
from qurate.synth.samples import read_records, stable_id, write_samples
from qurate.synth.tasks import Template, load_templates, parse_output, pick_template

log = logging.getLogger("qurate.synth")
STAGE = "synth_generate"
SAMPLES_FILE = "samples.parquet"
REJECTS_FILE = "rejects/rejects.parquet"  # under rejects/, as every stage keeps them


@dataclass
class GenerateResult:
    out: Path
    template: str
    seeds: int
    outputs: int
    kept: int
    rejected: dict[str, int] = field(default_factory=dict)
    cached: int = 0
    seconds: float = 0.0
    tokens_per_s: float = 0.0
    skipped: bool = False  # this exact run had finished: nothing was asked or written


def load_seeds(
    seeds: str | Path | list[dict[str, Any]], limit: int | None, domain: str | None = None
) -> list[dict[str, Any]]:
    """Seed rows with an ``id`` each (their own, else ``file:line``); a stage directory works
    too (its kept shards), with ``domain`` picking e.g. the pool's math documents."""
    return _load_seeds(seeds, limit, domain)[0]


def _load_seeds(
    seeds: str | Path | list[dict[str, Any]], limit: int | None, domain: str | None = None
) -> tuple[list[dict[str, Any]], list[str]]:
    """:func:`load_seeds`, and where each row was read (``file:line``; ``""`` for a list)."""
    rows: list[dict[str, Any]] = []
    wheres: list[str] = []
    src = enumerate(seeds) if isinstance(seeds, list) else read_records(seeds)
    for where, rec in src:
        if domain is not None and rec.get("domain") != domain:
            continue
        r = dict(rec)
        r["id"] = str(r["id"]) if r.get("id") is not None else f"seed:{where}"
        rows.append(r)
        wheres.append("" if isinstance(seeds, list) else str(where))  # a list has no file
        if limit and len(rows) >= limit:
            break
    if not rows:
        raise BadInputError(f"{seeds if not isinstance(seeds, list) else 'seeds'}: no seed rows")
    return rows, wheres


def check_seeds(t: Template, seeds: list[dict[str, Any]], wheres: list[str] | None = None) -> None:
    """A one-line error for the first seed without the template's required text fields:
    a field that is there but not a string (a number, a list, null) is named with its type."""
    for i, s in enumerate(seeds):
        at = f" ({wheres[i]})" if wheres and wheres[i] else ""
        wrong = t.not_text(s)
        if wrong:
            raise BadInputError(
                f"seed {s['id']}{at}: {' and '.join(wrong)}, not text; template {t.id} "
                f"(task {t.task}) needs text in {', '.join(repr(f) for f in t.requires)}"
            )
        missing = t.missing(s)
        if missing:
            raise BadInputError(
                f"seed {s['id']}{at}: template {t.id} (task {t.task}) needs non-empty field(s) "
                f"{', '.join(missing)}; the seed has {', '.join(sorted(s)) or 'none'}"
            )


def read_seeds(
    seeds: str | Path | list[dict[str, Any]], cfg: GenerateConfig
) -> tuple[list[dict[str, Any]], Template]:
    """The seed rows ``cfg`` takes from ``seeds`` and their template, checked (a one-line
    error for none, an unreadable file or a seed the template cannot use): what
    :func:`generate` does before any engine loads, and ``qurate run`` before curate."""
    templates = load_templates(cfg.templates_dir)
    rows, wheres = _load_seeds(seeds, cfg.limit, cfg.seed_domain)
    t = pick_template(cfg.task, rows, cfg.template, templates, wheres[0] or None)
    check_seeds(t, rows, wheres)
    return rows, t


def generate(
    seeds: str | Path | list[dict[str, Any]],
    out: str | Path,
    task: str | None = None,
    engine_cfg: EngineConfig | None = None,
    n: int | None = None,
    *,
    cfg: GenerateConfig | None = None,
    engine: Engine | None = None,
    overwrite: bool = False,
    progress: bool = True,
) -> GenerateResult:
    """Generate ``n`` samples per seed into ``out`` (samples, rejects, manifest).

    ``task``, ``engine_cfg`` and ``n`` override the same fields of ``cfg``. ``engine`` lets a
    caller (the ``qurate run`` demo, tests) pass an engine it already built; otherwise the
    teacher config is loaded behind the prompt cache in ``out``.

    Rerun policy (``StageDir``): the same run again is a no-op, an interrupted one restarts
    in place and the prompt cache (``cache.sqlite``, kept) answers what was asked; a
    different run needs ``overwrite``. ``progress`` (on by default, so `synth generate` and
    the demo show it) draws a bar with rate and ETA on stderr (a CPU teacher writes a few
    samples a minute).
    """
    cfg = cfg or GenerateConfig()
    upd: dict[str, Any] = {"task": task, "teacher": engine_cfg, "n": n}
    cfg = cfg.model_copy(update={k: v for k, v in upd.items() if v is not None})
    out = Path(out)
    rows, t = read_seeds(seeds, cfg)
    inputs = [] if isinstance(seeds, list) else [seeds]
    fp = fingerprint(
        cfg,
        inputs,
        seeds=None if inputs else config_hash(rows),
        engine=None if engine is None else engine.model_id,
    )
    reads = [*inputs, *([cfg.templates_dir] if cfg.templates_dir else [])]
    with StageDir(out, STAGE, overwrite=overwrite, keep=("cache.sqlite",), inputs=reads) as sd:
        done = sd.begin(fp, resume=False)
        if done is not None:
            c = done["counts"]
            return GenerateResult(
                out=out, template=done["template"], seeds=done["seeds"], outputs=c["in"],
                kept=c["kept"], rejected=c["rejected_by_reason"], skipped=True,
            )  # fmt: skip
        return _generate(sd, seeds, rows, t, cfg, engine, progress)


def _generate(
    sd, seeds, rows, t, cfg: GenerateConfig, engine: Engine | None, progress: bool
) -> GenerateResult:
    out = sd.path
    own = engine is None
    if engine is None:
        engine = load_engine(cfg.teacher, cache_path=cfg.teacher.cache_path or out / "cache.sqlite")
    params = GenParams(
        n=cfg.n,
        temperature=cfg.temperature,
        max_tokens=cfg.max_tokens,
        top_p=cfg.top_p,
        seed=cfg.seed,
    )
    teacher = {"engine": engine.kind, "model": engine.model_id}
    kept: list[dict[str, Any]] = []
    rejected: list[dict[str, Any]] = []
    reasons: Counter[str] = Counter()
    hits0 = getattr(engine, "hits", 0)
    bar = _bar(progress)
    task_id = bar.add_task("generate", total=len(rows), rate="?") if bar else None
    t_start = time.perf_counter()
    try:
        if bar:
            bar.start()
        for i in range(0, len(rows), cfg.chunk):
            chunk = rows[i : i + cfg.chunk]
            gens = engine.generate([t.render(s) for s in chunk], params)
            if bar and task_id is not None:
                done = min(i + cfg.chunk, len(rows))
                rate = done / max(time.perf_counter() - t_start, 1e-9)
                bar.update(task_id, completed=done, rate=f"{rate:.2f}")
            for seed, gen in zip(chunk, gens, strict=True):
                texts = gen.texts if gen.error is None else [""] * cfg.n
                for k in range(cfg.n):
                    text = texts[k] if k < len(texts) else ""
                    row = _sample(t, seed, k, text, teacher, params, gen.error)
                    if row.get("reject_reason"):
                        reasons[row["reject_reason"]] += 1
                        rejected.append(row)
                    else:
                        kept.append(row)
            log.info(engine.meter.summary())
    finally:
        if bar:
            bar.stop()
        if own:
            engine.close()
    write_samples(out / SAMPLES_FILE, kept)
    (out / REJECTS_FILE).parent.mkdir(exist_ok=True)
    write_samples(out / REJECTS_FILE, rejected, rejects=True)
    rates = engine.meter.rates()
    sd.finish(
        config_hash=config_hash(cfg),
        inputs=[str(seeds)] if not isinstance(seeds, list) else ["<in-memory seeds>"],
        n_in=len(rows) * cfg.n,
        n_kept=len(kept),
        rejected_by_reason=dict(reasons),
        extra={"template": t.id, "teacher": teacher, "sampling": params.key(), "seeds": len(rows)},
    )
    return GenerateResult(
        out=out,
        template=t.id,
        seeds=len(rows),
        outputs=len(rows) * cfg.n,
        kept=len(kept),
        rejected=dict(reasons),
        cached=getattr(engine, "hits", 0) - hits0,
        seconds=rates["seconds"],
        tokens_per_s=rates["tokens_per_s"],
    )


def _bar(enabled: bool) -> Any:
    """A rich progress bar (seeds done, rate, ETA) on stderr, or None."""
    if not enabled:
        return None
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(
        TextColumn("{task.description:<12}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]} seeds/s"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=Console(stderr=True),
    )


def _sample(
    t: Template,
    seed: dict[str, Any],
    k: int,
    text: str,
    teacher: dict[str, str],
    params: GenParams,
    error: str | None,
) -> dict[str, Any]:
    prov = {
        "teacher": teacher,
        "template": t.name,
        "template_version": t.version,
        "domain": t.domain,
        "seed_id": seed["id"],
        "sample_index": k,
        "sampling": params.key(),
    }
    p = parse_output(t, seed, text)
    ref = seed.get(t.reference_field) if t.reference_field else None
    row: dict[str, Any] = {
        "id": stable_id(teacher["model"], t.id, seed["id"], k, params.key()),
        "prompt": p.prompt or (str(seed.get(t.prompt_field) or "") if t.prompt_field else None),
        "response": p.response or (text or None),
        "task": t.task,
        "reference": None if ref is None else str(ref),
        "tests": p.tests,
        "seed_id": seed["id"],
        "provenance": prov,
    }
    if error is not None:
        row["reject_reason"], row["reject_detail"] = "engine_error", error[:500]
    elif p.reason:
        row["reject_reason"], row["reject_detail"] = p.reason, p.detail
    row["provenance"] = json.dumps(prov, sort_keys=True, ensure_ascii=False)
    return row
