"""Load a policy checkpoint for TRL: a causal LM, its tokenizer with the Qwen2.5 chat template
and ``<|im_end|>`` as end of turn, and save the trained result as a plain HF directory.

Why each step (measured with trl 1.16.0 / transformers 5.19.0 on CPU):

- ``qurate train export`` writes a tokenizer with eos = pad = ``<|endoftext|>`` and no chat
  template; TRL stops generation at eos, so a model trained on ChatML turns would never stop.
  The tokenizer's eos becomes ``<|im_end|>`` (pad stays ``<|endoftext|>``) and the
  generation config stops at ``<|im_end|>``.
- ``assistant_only_loss`` needs a template TRL can turn into its ``{% generation %}`` variant;
  Qwen2.5's exact template is one, so every policy gets it (a model's own template is
  replaced: rows are trained and served with one template).
- a directory that holds a sequence classifier, or no model at all, is a one-line error
  before any data is read; a tokenizer with no ``<|im_end|>`` token is one too (adding one
  would give it an untrained embedding).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from qurate.contract.stagedir import atomic_write
from qurate.errors import BadInputError, one_line

END_OF_TURN = "<|im_end|>"
START_OF_TURN = "<|im_start|>"
PAD = "<|endoftext|>"


def qwen25_template() -> str:
    """Qwen2.5's chat template (TRL ships the exact file)."""
    from trl.chat_template_utils import qwen2_5_chat_template

    return qwen2_5_chat_template


def check_causal_lm(model_dir: str | Path) -> str:
    """The architecture of ``model_dir``, or a one-line error when it is not a causal LM."""
    d = Path(model_dir)
    cfg = d / "config.json"
    if not cfg.is_file():
        raise BadInputError(f"{d}: no config.json (not a Hugging Face model directory)")
    try:
        conf = json.loads(cfg.read_text())
    except (OSError, ValueError) as e:
        raise BadInputError(f"{cfg}: unreadable ({e})") from None
    if not isinstance(conf, dict):  # a JSON list was an AttributeError traceback
        raise BadInputError(f"{cfg}: not a model config (a JSON object is expected)")
    archs = conf.get("architectures") or []
    archs = [archs] if isinstance(archs, str) else archs  # not spelt out letter by letter
    causal = [a for a in archs if str(a).endswith("ForCausalLM")]
    if not causal:
        raise BadInputError(
            f"{d}: a {', '.join(archs) or 'model with no architecture'} checkpoint, not a causal "
            "LM (post-training needs a *ForCausalLM, e.g. `qurate train export` output)"
        )
    return causal[0]


def prepare_tokenizer(tok: Any, source: str = "tokenizer") -> Any:
    """Write the Qwen2.5 template and ``<|im_end|>`` end of turn into ``tok`` (in place)."""
    for t in (END_OF_TURN, START_OF_TURN):
        tid = tok.convert_tokens_to_ids(t)
        if tid is None or tid == tok.unk_token_id or tok.convert_ids_to_tokens(tid) != t:
            raise BadInputError(
                f"{source}: no {t} token, so turns cannot end; use a tokenizer with the ChatML "
                "special tokens (qurate's trained tokenizers and Qwen2.5's have them)"
            )
    tok.chat_template = qwen25_template()
    tok.eos_token = END_OF_TURN
    if tok.pad_token is None or tok.pad_token == END_OF_TURN:
        tok.pad_token = (
            PAD if tok.convert_tokens_to_ids(PAD) not in (None, tok.unk_token_id) else END_OF_TURN
        )
    return tok


def load_tokenizer(model_dir: str | Path) -> Any:
    from transformers import AutoTokenizer

    try:
        tok = AutoTokenizer.from_pretrained(str(model_dir))
    except Exception as e:  # noqa: BLE001 - transformers raises many types for a bad directory
        why = one_line(e)[:200]
        raise BadInputError(f"{model_dir}: cannot load its tokenizer ({why})") from None
    return prepare_tokenizer(tok, str(model_dir))


def load_policy(model_dir: str | Path) -> tuple[Any, Any]:
    """``(model, tokenizer)`` ready for a TRL trainer (fp32; TRL moves it to the device)."""
    check_causal_lm(model_dir)
    tok = load_tokenizer(model_dir)
    import torch
    from transformers import AutoModelForCausalLM

    try:
        model = AutoModelForCausalLM.from_pretrained(str(model_dir), dtype=torch.float32)
    except Exception as e:  # noqa: BLE001
        why = one_line(e)[:200]
        raise BadInputError(f"{model_dir}: cannot load the model ({why})") from None
    set_end_of_turn(model, tok)
    # Packed rows are kept apart only without the KV cache (measured: with use_cache the
    # position-id document boundaries are ignored).
    model.config.use_cache = False
    return model, tok


def set_end_of_turn(model: Any, tok: Any) -> None:
    eot = tok.convert_tokens_to_ids(END_OF_TURN)
    model.config.eos_token_id = eot
    model.config.pad_token_id = tok.pad_token_id
    if getattr(model, "generation_config", None) is not None:
        model.generation_config.eos_token_id = eot
        model.generation_config.pad_token_id = tok.pad_token_id


def save_policy(model: Any, tok: Any, out: str | Path) -> Path:
    """Save ``model`` + ``tok`` as an HF directory at ``out`` (atomically: all or nothing)."""
    tok.chat_template = qwen25_template()  # TRL swaps in its training variant while training
    set_end_of_turn(model, tok)
    model.config.use_cache = True

    def write(tmp: Path) -> None:
        model.save_pretrained(str(tmp))
        tok.save_pretrained(str(tmp))

    out = Path(out)
    if out.exists():
        shutil.rmtree(out)
    return atomic_write(out, write)


__all__ = [
    "END_OF_TURN",
    "check_causal_lm",
    "load_policy",
    "load_tokenizer",
    "prepare_tokenizer",
    "qwen25_template",
    "save_policy",
]
