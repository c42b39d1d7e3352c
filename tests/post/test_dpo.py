"""`post dpo`: the held-out chosen-minus-rejected margin rises on learnable pairs."""

from __future__ import annotations

import json

import pytest
from post_builders import THINGS

from qurate.errors import BadInputError
from qurate.post.config import PostConfig
from qurate.post.pairs import PAIR_SCHEMA
from qurate.post.policy import load_policy
from qurate.post.trainers import run_dpo

pytest.importorskip("trl")


def _pairs(start: int, n: int) -> list[dict]:
    out = []
    for i in range(start, start + n):
        thing = THINGS[i % len(THINGS)]
        out.append(
            {
                "id": f"p{i}",
                "text": thing,
                "prompt": [{"role": "user", "content": f"Is the {thing} number {i} real?"}],
                "chosen": [{"role": "assistant", "content": f"Yes, the {thing} is real."}],
                "rejected": [{"role": "assistant", "content": "No idea, maybe."}],
            }
        )
    return out


def pairs_dir(path, rows):
    """A finished `post pairs`-shaped directory holding ``rows``."""
    from qurate.contract.stagedir import write_manifest, write_table
    from qurate.post.pairs import _table

    path.mkdir(parents=True)
    if rows:
        write_table(path / "part-00000.parquet", _table(rows))
    write_manifest(
        path,
        stage="post_pairs",
        config_hash="t",
        inputs=[],
        n_in=len(rows),
        n_kept=len(rows),
        rejected_by_reason={},
    )
    return path


def margin(model, tok, rows) -> float:
    import torch

    def logp(prompt, answer):
        p = tok.apply_chat_template(
            prompt, add_generation_prompt=True, tokenize=True, return_dict=True
        )["input_ids"]
        f = tok.apply_chat_template(prompt + answer, tokenize=True, return_dict=True)["input_ids"]
        ids = torch.tensor([f])
        with torch.no_grad():
            lp = torch.log_softmax(model(input_ids=ids, use_cache=False).logits[0, :-1], -1)
        tgt = ids[0, 1:]
        return float(lp[torch.arange(len(tgt)), tgt][len(p) - 1 :].sum())

    model.eval()
    return sum(
        logp(r["prompt"], r["chosen"]) - logp(r["prompt"], r["rejected"]) for r in rows
    ) / len(rows)


def test_dpo_raises_held_out_margin(tiny_chat, tmp_path, capfd):
    from transformers import AutoModelForCausalLM

    data = pairs_dir(tmp_path / "prefs", _pairs(0, 24))
    held = _pairs(100, 6)
    before = margin(*load_policy(tiny_chat), held)
    cfg = PostConfig(device="cpu", dpo={"learning_rate": 2e-3, "batch_size": 4, "beta": 0.1})
    r = run_dpo(tiny_chat, data, tmp_path / "run", cfg, max_steps=12, progress=False)
    assert "steps/s" not in capfd.readouterr().err  # progress=False: no bar
    _, tok = load_policy(tiny_chat)
    after = margin(AutoModelForCausalLM.from_pretrained(r.final), tok, held)
    assert after > before + 1.0, (before, after)
    recs = [json.loads(x) for x in (r.out / "metrics.jsonl").read_text().splitlines()]
    assert len(recs) == 12 and "margin" in recs[-1]
    assert PAIR_SCHEMA.field("chosen")  # the pairs schema is the one DPO reads


def test_empty_pairs_are_a_one_line_error(tiny_chat, tmp_path):
    data = pairs_dir(tmp_path / "prefs", [])
    with pytest.raises(BadInputError, match="holds no pairs"):
        run_dpo(tiny_chat, data, tmp_path / "run", PostConfig(device="cpu"))
