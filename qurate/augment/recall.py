"""``qurate augment recall``: iterative fastText recall of math or code documents from a pool.

The Qwen2.5-Math recipe, over a stage directory (the pool) and a seed file:

1. **Train** a fastText classifier (``qurate.augment.classifier``) on the positives against
   negatives sampled from the pool. Round 1: positives are the seeds and, for math, the pool
   documents the math prior picks (``augment/prior.py``, ``augment/prior_split.py``: the pool's
   own math, which narrow seeds cannot teach), negatives a sample of the rest. Later rounds: positives also take pool documents the last round
   scored >= ``pseudo_positive_score`` and those the LLM judge confirmed; negatives are
   sampled only from documents the last round did *not* recall, plus those the judge
   rejected. Positives are repeated to balance the classes.
2. **Score** every pool document (streaming the ``text`` column shard by shard; one float32
   per document stays in memory) and take those at or above the threshold (raised, if
   ``max_fraction`` < 1, so that at most that share of the pool is recalled).
3. **Judge** (optional): an LLM answers Y/N for a sample of the recalled documents; the
   share of Y is the round's precision, and the answers feed the next round.

The output is a stage directory: recalled documents with ``domain`` set, ``domain_score``
and ``scores["recall_score"]`` both the last round's P(domain); every other pool document
in ``rejects/`` with reason ``not_recalled`` and its score (scores are kept, so the threshold
can be retuned without rescoring). The manifest's ``rounds`` list gives, per round, the
training set sizes, the threshold, documents and tokens recalled, and judged precision.

Every finished round is kept (``qurate.augment.checkpoint``), so a rerun after kill -9
resumes after it; training is deterministic by default (one seeded fastText thread), so the
output equals an uninterrupted run's.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

from qurate.augment import checkpoint
from qurate.augment import pool as pooling
from qurate.augment.classifier import (
    NOT_RECALLED,
    SCORE_KEY,
    DomainConfirmer,
    RecallConfig,
)
from qurate.augment.embed import TokenEmbedder, for_recall
from qurate.augment.pool import STAGE
from qurate.augment.prior_split import final_cuts
from qurate.augment.rounds import RoundReport, run_rounds
from qurate.contract.args import as_config, as_path
from qurate.contract.rejects import REJECT_DETAIL, REJECT_REASON, is_rejected
from qurate.contract.shards import config_hash
from qurate.contract.stagedir import MANIFEST, StageDir
from qurate.errors import BadInputError, ConfigError
from qurate.llm.base import Engine
from qurate.readers.inputs import InputReader, list_inputs

DOMAINS = ("math", "code")
BUNDLED_SEEDS = Path(__file__).resolve().parent.parent / "data" / "sample" / "seeds"
log = logging.getLogger("qurate.augment")


def bundled_seeds(domain: str) -> Path:
    """The bundled seed file of a domain (``qurate run``'s default): sympy docstrings for
    math, 21 source files in 7 languages for code. Narrow: see bench/RESULTS.md."""
    if domain not in DOMAINS:
        raise ConfigError(f"domain {domain!r}: expected one of {', '.join(DOMAINS)}")
    return BUNDLED_SEEDS / f"{domain}.jsonl"


def load_seeds(path: str | Path) -> list[str]:
    """Seed texts from JSONL / Parquet / text files (one-line error on a bad record)."""
    texts: list[str] = []
    for doc in InputReader(list_inputs([Path(path)])).run():
        if is_rejected(doc):
            if doc.metadata[REJECT_REASON] == "empty":
                continue
            raise BadInputError(f"seeds: {doc.metadata.get(REJECT_DETAIL)}")
        texts.append(doc.text)
    if not texts:
        raise BadInputError(f"{path}: no seed documents (records need a 'text' field)")
    return texts


def _fingerprint(
    pool: pooling.Pool,
    seeds: list[str],
    domain: str,
    cfg: RecallConfig,
    engine: Engine | None,
    embedder: TokenEmbedder | None,
) -> str:
    return config_hash(
        {
            "config": cfg.model_dump(mode="json"),
            "pool": [[str(p), n] for p, n in zip(pool.shards, pool.rows, strict=True)],
            # a pool stage rewritten in place has a new manifest
            "pool_manifest": [
                (p.parent / MANIFEST).read_text()
                for p in {s.parent: s for s in pool.shards}.values()
                if (p.parent / MANIFEST).is_file()
            ],
            "seeds": config_hash(seeds),
            "domain": domain,
            "judge": engine.model_id if engine is not None else None,
            # what `embed: auto` resolved to: rounds scored with the probe and rounds scored
            # by fastText alone (the model installed or removed in between) must not mix
            "embedder": embedder.name if embedder is not None else None,
        }
    )


def _bar(enabled: bool, total: int) -> Any:
    """A rich progress bar over the documents scored in all rounds (rate, ETA), or None."""
    if not enabled:
        return None
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text

    class Rate(ProgressColumn):
        def render(self, task: Any) -> Text:
            speed = task.finished_speed or task.speed
            return Text(f"{speed:.0f} docs/s" if speed else "? docs/s")

    bar = Progress(
        TextColumn("recall"),
        BarColumn(),
        MofNCompleteColumn(),
        Rate(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=Console(stderr=True),
    )
    bar.add_task("recall", total=total)
    bar.start()
    return bar


def recall(
    pool_dir: str | Path,
    out_dir: str | Path,
    seeds: str | Path | list[str],
    domain: str,
    cfg: RecallConfig | None = None,
    *,
    engine: Engine | None = None,
    rows_per_shard: int = 50_000,
    on_round: Callable[[RoundReport], None] | None = None,
    overwrite: bool = False,
    progress: bool = False,
) -> dict[str, Any]:
    """Recall ``domain`` documents from the stage directory ``pool_dir`` into ``out_dir``.

    ``seeds`` is a JSONL/Parquet path (records with ``text``) or a list of texts; ``engine``
    (optional) is the LLM judge. Returns the manifest. Rerun policy (``StageDir``): a rerun
    of a finished identical run returns the existing manifest without work, an interrupted
    one resumes after its last finished round (``augment/checkpoint.py``; with the default
    ``deterministic`` training its output is the uninterrupted run's), a different one needs
    ``overwrite``.
    """
    cfg = as_config(cfg, RecallConfig, "recall cfg", hint="load_config(path).augment.recall")
    if domain not in DOMAINS:
        raise ConfigError(f"domain {domain!r}: expected one of {', '.join(DOMAINS)}")
    t0 = time.perf_counter()
    pool_dir, out = as_path(pool_dir, "recall pool_dir"), as_path(out_dir, "recall out_dir")
    if out.resolve() == pool_dir.resolve():
        raise ConfigError("the output directory must differ from the pool directory")
    if isinstance(seeds, str | bytes | os.PathLike):
        seeds = as_path(seeds, "recall seeds")
    elif isinstance(seeds, Iterable) and not isinstance(seeds, Mapping):
        seeds = list(seeds)  # a tuple or generator of texts, as a list is
        if not all(isinstance(t, str) for t in seeds):
            raise BadInputError("recall seeds: a list of seeds holds texts (str) only")
    else:
        raise BadInputError(
            f"recall seeds: expected a JSONL/Parquet path or a list of texts, got "
            f"{type(seeds).__name__}"
        )
    seed_texts = seeds if isinstance(seeds, list) else load_seeds(seeds)
    if not seed_texts:
        raise BadInputError("no seed documents")
    pool = pooling.open_pool(pool_dir)
    embedder = for_recall(cfg.embed, domain, cfg.embed_tokens)
    reads = [pool_dir, *([] if isinstance(seeds, list) else [seeds])]
    with StageDir(out, STAGE, overwrite=overwrite, inputs=reads) as sd:
        # resume=True: finished rounds kept in the scratch directory survive a kill
        fp = _fingerprint(pool, seed_texts, domain, cfg, engine, embedder)
        done = sd.begin(fp, resume=True)
        if done is not None:
            return done
        args = (pool_dir, seeds, seed_texts, domain, cfg, engine, embedder)
        args += (rows_per_shard, on_round, t0)
        return _recall(pool, sd, *args, progress=progress)


def _recall(
    pool,
    sd,
    pool_dir,
    seeds,
    seed_texts,
    domain,
    cfg,
    engine,
    embedder,
    rows_per_shard,
    on_round,
    t0,
    *,
    progress: bool,
):
    out = sd.path
    confirmer = (
        DomainConfirmer(engine, domain, cfg.judge_max_tokens) if engine is not None else None
    )
    bar = _bar(progress, cfg.rounds * pool.size)
    try:
        scores, cut, reports, judged, holdout = run_rounds(
            pool,
            seed_texts,
            cfg,
            confirmer,
            on_round,
            bar,
            sd.scratch(checkpoint.SCRATCH),
            domain,
            embedder,
        )
    finally:
        if bar is not None:
            bar.stop()
    # shards a killed attempt wrote are rewritten from the kept rounds
    for stale in [*out.glob("part-*.parquet"), *(out / "rejects").glob("part-*.parquet")]:
        stale.unlink()
    cuts, gate = final_cuts(pool, cut, cfg, domain)
    n_in, n_kept, kept_tokens = pooling.write(
        pool, out, scores, cuts, domain, judged, rows_per_shard
    )
    # The kept rounds go before the manifest commits the run: a kill in between costs a
    # rerun of the rounds (same output), never a finished directory with scratch left in it.
    shutil.rmtree(out / checkpoint.SCRATCH, ignore_errors=True)
    return sd.finish(
        config_hash=config_hash(cfg),
        inputs=[str(p) for p in pool.shards],
        n_in=n_in,
        n_kept=n_kept,
        rejected_by_reason={NOT_RECALLED: n_in - n_kept} if n_in > n_kept else {},
        extra={
            "domain": domain,
            "pool": str(pool_dir),
            "seeds": str(seeds) if not isinstance(seeds, list) else f"{len(seed_texts)} texts",
            "n_seeds": len(seed_texts),
            "score_column": f"scores['{SCORE_KEY}'] (also domain_score on kept documents)",
            "threshold": cut,
            "final_cuts": gate,
            "judge": engine.model_id if engine is not None else None,
            "embedder": embedder.name if embedder is not None else None,
            "tokens_by_domain": {domain: int(kept_tokens)},
            "rounds": [asdict(r) for r in reports],
            "holdout": holdout,
            "elapsed_s": round(time.perf_counter() - t0, 3),
        },
    )


__all__ = ["DOMAINS", "RoundReport", "bundled_seeds", "load_seeds", "recall"]
