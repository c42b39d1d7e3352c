"""Every arm on one footing: the shared tokenizer and exactly ``tokens`` training tokens.

The tokenizer is trained once on an equal share of characters from every arm (so no arm's
text is tokenized better than another's), or given with ``--tokenizer``. Each arm's text is
then counted with it (one EOS per document, as the trainer packs); an arm with more tokens
than the budget is *sampled* (a seeded document order, taken until the budget plus the
trainer's 1% held-out rows and one batch of slack is covered), an arm with fewer is
*repeated*: the trainer's loader starts a new epoch when a stream runs out, so the whole
arm is written once and the manifest records ``epochs`` = budget / arm tokens.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
from tokenizers import Tokenizer

from qurate.ablate.config import AblateConfig
from qurate.ablate.inputs import read_rows
from qurate.contract.stagedir import config_hash, write_manifest, write_table
from qurate.errors import BadInputError, ConfigError
from qurate.train.api import load_config
from qurate.train.prepare import check_stages, model_config, schedule
from qurate.train.tokenizer import encode, load_tokenizer, save_tokenizer_dir, train_bpe

SAMPLE_SEED = 0
HELD_OUT_SHARE = 0.01  # the trainer keeps rows i % 100 == 99 of a lone shard for its eval


@dataclass
class ArmData:
    """One arm after sampling: where its training shard is and how it was made."""

    name: str
    path: str
    docs: int
    tokens: int  # in the whole arm, with one EOS per document
    used_docs: int
    used_tokens: int
    mode: str  # "sample" | "repeat"
    epochs: float  # training tokens / tokens written
    schema_versions: list[str]
    data_dir: str
    no_text: int = 0  # rows of the arm without a non-empty string `text`: not trained on

    def facts(self) -> dict[str, Any]:
        return asdict(self)


def arm_texts(name: str, path: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The rows of an arm with non-empty text (``facts["no_text"]`` counts the others); an arm
    with none is a one-line error."""
    try:
        rows, facts = read_rows(path)
    except BadInputError as e:
        raise BadInputError(f"arm {name}: {e}") from None
    kept = [r for r in rows if isinstance(r.get("text"), str) and r["text"].strip()]
    if not kept:
        raise BadInputError(f"arm {name} ({path}): no text to train on (no non-empty `text` rows)")
    return kept, {**facts, "no_text": len(rows) - len(kept)}


def shared_tokenizer(
    arms: dict[str, list[dict[str, Any]]], cfg: AblateConfig, out: Path
) -> Tokenizer:
    """``cfg.tokenizer``, or a BPE trained on an equal character share of every arm; saved
    to ``out`` (and reused from there when an ablation resumes)."""
    if (out / "tokenizer.json").is_file():
        return load_tokenizer(out)
    if cfg.tokenizer:
        tok = load_tokenizer(cfg.tokenizer)
        src = Path(cfg.tokenizer)
        save_tokenizer_dir(tok, out, src if src.is_dir() else None)
        return tok
    share = cfg.tokenizer_chars // max(1, len(arms))
    sample: list[str] = []
    for name in sorted(arms):
        rows = arms[name]
        order = random.Random(SAMPLE_SEED).sample(range(len(rows)), len(rows))
        used = 0
        for i in order:
            t = rows[i]["text"][: share - used]
            sample.append(t)
            used += len(t)
            if used >= share:
                break
    vocab = model_config(recipe(cfg, ".", ".", 0)).vocab_size
    tok = train_bpe(iter(sample), vocab)
    save_tokenizer_dir(tok, out)
    return tok


def recipe(cfg: AblateConfig, data: str | Path, out: str | Path, seed: int, **extra: Any) -> Any:
    """The ``TrainConfig`` every arm trains with (only data, output and seed differ)."""
    return load_config(
        None,
        data=str(data),
        out=str(out),
        preset=cfg.preset,
        model=dict(cfg.model) or None,
        tokens=cfg.tokens,
        seq_len=cfg.seq_len,
        micro_batch_size=cfg.micro_batch_size,
        batch_tokens=cfg.batch_tokens,
        lr=cfg.lr,
        seed=seed,
        eval_every=0,
        keep_checkpoints=1,
        **extra,
    )


def check_recipe(cfg: AblateConfig) -> None:
    """The recipe, checked before any arm is read or tokenizer trained: an unknown preset
    (the valid ones listed), a bad model override, a row longer than the model's context or
    a --tokenizer that cannot be read failed only after that work."""
    tcfg = recipe(cfg, ".", ".", 0)
    mcfg = model_config(tcfg)
    check_stages(mcfg, tcfg.effective_stages())
    check_eval_window(cfg, mcfg.max_position_embeddings, f"preset {cfg.preset}")
    batch_tokens(cfg)
    if cfg.tokenizer:
        load_tokenizer(cfg.tokenizer)


def check_eval_window(cfg: AblateConfig, context: int, model: str) -> None:
    """Bits-per-byte windows longer than the model's context: positions it never had, and
    a window of 100,000 was killed for memory after the model had loaded, not an error."""
    if cfg.eval_seq_len > context:
        raise ConfigError(
            f"ablate.eval_seq_len {cfg.eval_seq_len} exceeds the context of {model} "
            f"(max_position_embeddings {context}); set eval_seq_len to at most {context}"
        )


def batch_tokens(cfg: AblateConfig) -> int:
    """Tokens in one global batch of the recipe (rows x seq_len x accumulation steps)."""
    tcfg = recipe(cfg, ".", ".", 0)
    s = schedule(tcfg, model_config(tcfg), 1)
    return s.streams[0] * s.micro_batch[0] * cfg.seq_len


def prepare_arm(
    name: str,
    rows: list[dict[str, Any]],
    facts: dict[str, Any],
    tok: Tokenizer,
    cfg: AblateConfig,
    data_dir: Path,
) -> ArmData:
    """Count the arm's tokens, sample or keep it whole, and write its training shard."""
    no_text = int(facts.get("no_text", 0))  # rows arm_texts set aside: counted, not lost
    lengths = [len(t) + 1 for t in encode(tok, [r["text"] for r in rows])]
    total = sum(lengths)
    batch = batch_tokens(cfg)
    if total < batch + 1:
        raise BadInputError(
            f"arm {name}: {total:,} tokens, fewer than one training batch of {batch:,} "
            "(seq_len x micro-batch x accumulation); give it more text or lower --seq-len / "
            "batch_tokens"
        )
    need = int(cfg.tokens * (1 + 2 * HELD_OUT_SHARE)) + batch
    # the order depends on the rows only, so two arms with the same text get the same sample
    order = random.Random(SAMPLE_SEED).sample(range(len(rows)), len(rows))
    if total > need:
        mode, keep, used = "sample", [], 0
        for i in order:
            keep.append(i)
            used += lengths[i]
            if used >= need:
                break
    else:
        mode, keep, used = "repeat", order, total
    cols: dict[str, list[Any]] = {"text": [rows[i]["text"] for i in keep]}
    for col in ("domain", "lang"):
        if any(col in r for r in rows):
            cols[col] = [rows[i].get(col) for i in keep]
    data_dir.mkdir(parents=True, exist_ok=True)
    write_table(data_dir / "part-00000.parquet", pa.table(cols))
    # a finished stage directory, so the trainer (which refuses half-written data) reads it
    write_manifest(
        data_dir,
        stage="ablate-arm",
        config_hash=config_hash(cfg),
        inputs=[str(facts.get("path"))],
        n_in=len(rows) + no_text,
        n_kept=len(keep),
        rejected_by_reason={
            k: v for k, v in (("not_sampled", len(rows) - len(keep)), ("no_text", no_text)) if v
        },
        extra={"arm": name, "mode": mode},
    )
    return ArmData(
        name=name,
        path=str(facts.get("path")),
        docs=len(rows),
        tokens=total,
        used_docs=len(keep),
        used_tokens=used,
        mode=mode,
        epochs=round(cfg.tokens / used, 4),
        schema_versions=list(facts.get("schema_versions", [])),
        data_dir=str(data_dir),
        no_text=no_text,
    )
