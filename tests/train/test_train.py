"""The training loop end to end on CPU: loss, resume, checkpoints, export, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from train_builders import small_cfg

from qurate.errors import BadInputError, ConfigError
from qurate.train.api import DivergedError, export, train, train_config
from qurate.train.checkpoint import latest_checkpoint, load_hf_model


def _cfg(data: Path, out: Path, tok: Path, **kw):
    return small_cfg(data, out, tok, **kw)


def _losses(run: Path) -> list[float]:
    lines = (run / "metrics.jsonl").read_text().splitlines()
    return [json.loads(line)["loss"] for line in lines]


def test_trains_logs_and_evaluates(shards: Path, tokenizer_dir: Path, tmp_path: Path) -> None:
    res = train_config(_cfg(shards, tmp_path / "run", tokenizer_dir, max_steps=8))
    recs = [json.loads(x) for x in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in recs] == list(range(1, 9))
    assert {"loss", "lr", "grad_norm", "tokens_per_s", "mfu"} <= set(recs[0])
    assert recs[-1]["loss"] < recs[0]["loss"] - 0.5
    assert res.eval_loss is not None and "eval_loss" in recs[2]
    assert res.tokens == 8 * 128 and res.checkpoint.name == "step-00000008"
    # only the newest keep_checkpoints (2) remain
    assert sorted(p.name for p in (tmp_path / "run/checkpoints").glob("step-*")) == [
        "step-00000006",
        "step-00000008",
    ]


def test_resume_gives_the_uninterrupted_loss_sequence(
    shards: Path, tokenizer_dir: Path, tmp_path: Path
) -> None:
    full = tmp_path / "full"
    train_config(_cfg(shards, full, tokenizer_dir))
    cut = tmp_path / "cut"
    train_config(_cfg(shards, cut, tokenizer_dir), stop_at=3)  # as if killed after step 3
    assert len(_losses(cut)) == 3
    train_config(_cfg(shards, cut, tokenizer_dir), resume=True)
    assert _losses(cut) == _losses(full)  # bit-for-bit on CPU
    a = load_hf_model(latest_checkpoint(full)).state_dict()  # type: ignore[arg-type]
    b = load_hf_model(latest_checkpoint(cut)).state_dict()  # type: ignore[arg-type]
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_max_steps_zero_saves_and_stops(shards: Path, tokenizer_dir: Path, tmp_path: Path) -> None:
    res = train_config(_cfg(shards, tmp_path / "r", tokenizer_dir, max_steps=0))
    assert res.steps == 0 and res.checkpoint.name == "step-00000000"
    assert (res.checkpoint / "model.safetensors").is_file()


def test_nan_loss_stops_and_keeps_the_last_good_checkpoint(
    shards: Path, tokenizer_dir: Path, tmp_path: Path
) -> None:
    run = tmp_path / "r"
    train_config(_cfg(shards, run, tokenizer_dir), stop_at=3)
    good = latest_checkpoint(run)
    with pytest.raises(DivergedError, match=r"loss is (nan|inf).*step-00000003"):
        train_config(_cfg(shards, run, tokenizer_dir, lr=1e38), resume=True)
    assert latest_checkpoint(run) == good


def test_checkpoint_from_another_config_is_refused(
    shards: Path, tokenizer_dir: Path, tmp_path: Path
) -> None:
    run = tmp_path / "r"
    train_config(_cfg(shards, run, tokenizer_dir, max_steps=0))
    with pytest.raises(ConfigError, match="another config.*hidden_size"):
        train_config(_cfg(shards, run, tokenizer_dir, model={"hidden_size": 128}), resume=True)
    with pytest.raises(BadInputError, match="--resume"):
        train_config(_cfg(shards, run, tokenizer_dir))


def test_export_loads_and_generates_in_transformers(
    shards: Path, tokenizer_dir: Path, tmp_path: Path
) -> None:
    transformers = pytest.importorskip("transformers")
    run = tmp_path / "r"
    train_config(_cfg(shards, run, tokenizer_dir, max_steps=3))
    hf_dir = export(run, tmp_path / "hf")
    model = transformers.AutoModelForCausalLM.from_pretrained(hf_dir).eval()
    tok = transformers.AutoTokenizer.from_pretrained(hf_dir)
    ids = tok("the cat sat on", return_tensors="pt").input_ids
    ours = load_hf_model(latest_checkpoint(run)).eval()  # type: ignore[arg-type]
    with torch.no_grad():
        torch.testing.assert_close(model(ids).logits, ours(ids), rtol=1e-5, atol=1e-5)
    out = model.generate(ids, max_new_tokens=5, do_sample=False)
    assert out.shape[1] == ids.shape[1] + 5
    assert isinstance(tok.decode(out[0]), str)
    # and the export is a valid --init-from directory (weights and tokenizer)
    res = train_config(
        _cfg(
            shards,
            tmp_path / "ft",
            tokenizer_dir,
            init_from=str(hf_dir),
            tokenizer=None,
            max_steps=1,
        )
    )
    assert res.steps == 1


def test_bad_inputs_get_clear_errors(shards: Path, tokenizer_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "llama").mkdir()
    (tmp_path / "llama/config.json").write_text('{"model_type": "llama"}')
    with pytest.raises(BadInputError, match="not a Qwen2 checkpoint"):
        train_config(_cfg(shards, tmp_path / "a", tokenizer_dir, init_from=str(tmp_path / "llama")))
    with pytest.raises(
        ConfigError, match="tokenizer has .* tokens but the model's vocab_size is 260"
    ):
        train_config(_cfg(shards, tmp_path / "b", tokenizer_dir, model={"vocab_size": 260}))
    with pytest.raises(ConfigError, match="rope_theta"):
        stages = [{"seq_len": 4096, "rope_theta": 10.0, "tokens": 1000}]
        train_config(_cfg(shards, tmp_path / "c", tokenizer_dir, stages=stages))
    with pytest.raises(BadInputError, match="no part"):
        train_config(_cfg(tmp_path, tmp_path / "d", tokenizer_dir))


def test_long_context_stages_switch_seq_len_and_rope(
    shards: Path, tokenizer_dir: Path, tmp_path: Path
) -> None:
    stages = [
        {"name": "short", "seq_len": 32, "rope_theta": 10_000.0, "tokens": 256},
        {
            "name": "long",
            "seq_len": 64,
            "rope_theta": 1_000_000.0,
            "tokens": 256,
            "micro_batch_size": 1,
        },
    ]
    res = train_config(_cfg(shards, tmp_path / "r", tokenizer_dir, stages=stages, max_steps=None))
    recs = [json.loads(x) for x in (tmp_path / "r/metrics.jsonl").read_text().splitlines()]
    assert [r["seq_len"] for r in recs] == [32, 32, 64, 64]
    cfg = json.loads((res.checkpoint / "config.json").read_text())
    assert cfg["rope_theta"] == 1_000_000.0


def test_plan_fills_lr_and_batch(shards: Path, tokenizer_dir: Path, tmp_path: Path) -> None:
    res = train(
        shards,
        tmp_path / "r",
        max_steps=1,
        tokenizer=str(tokenizer_dir),
        seq_len=32,
        micro_batch_size=2,
        eval_every=0,
    )
    assert res.plan is not None and res.plan["law"] == "deepseek"
    assert res.lr == pytest.approx(res.plan["lr"])
    # the batch reported is the batch trained: the plan's, rounded to whole 2 x 32 micro-batches
    assert res.tokens == res.batch_tokens * res.steps
    assert abs(res.batch_tokens - res.plan["batch_tokens"]) <= 2 * 32 / 2
    assert res.note is not None and f"{res.batch_tokens:,}" in res.note


def test_bf16_autocast_path_trains(shards: Path, tokenizer_dir: Path, tmp_path: Path) -> None:
    """The GPU precision path (bf16 autocast, fp32 master weights) runs on CPU too."""
    fp32 = train_config(_cfg(shards, tmp_path / "a", tokenizer_dir, max_steps=3, eval_every=0))
    bf16 = train_config(
        _cfg(shards, tmp_path / "b", tokenizer_dir, max_steps=3, eval_every=0, dtype="bfloat16")
    )
    assert bf16.final_loss is not None and fp32.final_loss is not None
    assert bf16.final_loss != fp32.final_loss  # really ran in another precision ...
    assert abs(bf16.final_loss - fp32.final_loss) < 0.1  # ... and trained the same model
