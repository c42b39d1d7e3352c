"""`post sft`: assistant-only labels, learning, packing isolation, phases, the final dir."""

from __future__ import annotations

import json

import pytest
from post_builders import assistant_loss, chat_dir, color_chats

from qurate.errors import BadInputError
from qurate.post.config import PhaseConfig, PostConfig
from qurate.post.policy import load_policy
from qurate.post.runs import read_metrics
from qurate.post.trainers import phase_rows, run_sft, sft_trainer

pytest.importorskip("trl")


def test_label_mask_is_the_assistant_turns_and_end_of_turn(tiny_chat, tmp_path):
    policy, tok = load_policy(tiny_chat)
    rows = [{"messages": r["messages"]} for r in color_chats(6)]
    cfg = PostConfig(device="cpu", sft={"batch_size": 2})
    tr = sft_trainer(policy, tok, rows, cfg, tmp_path / "run", PhaseConfig(max_tokens=512), 1)
    batch = next(iter(tr.get_train_dataloader()))
    ids, labels = batch["input_ids"][0], batch["labels"][0]
    trained = tok.decode(ids[labels != -100])
    untrained = tok.decode(ids[labels == -100])
    answers = [r["messages"][1]["content"] for r in rows]
    in_batch = [a for a in answers if a in tok.decode(ids)]
    assert in_batch, "the packed sequence holds some rows"
    # packing reorders rows (best fit); each trained span is "\n" + answer + <|im_end|> + "\n"
    assert trained.endswith("<|im_end|>\n")
    spans = trained.split("<|im_end|>\n")[:-1]
    assert sorted(spans) == sorted(f"\n{a}" for a in in_batch)
    assert "Which color" in untrained and "Which color" not in trained
    assert "<|im_start|>assistant" in untrained  # the role header is prompt, not target


def test_held_out_assistant_loss_falls_and_final_dir_chats(tiny_chat, tmp_path, capfd):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    train = chat_dir(tmp_path / "sft", color_chats(48))
    held = color_chats(8, start=100)
    cfg = PostConfig(
        device="cpu",
        sft={"learning_rate": 3e-3, "batch_size": 4, "max_tokens": 512, "save_steps": 10},
    )
    before = assistant_loss(*load_policy(tiny_chat), held)
    r = run_sft(tiny_chat, [str(train)], tmp_path / "run", cfg, max_steps=30)
    bar = [x for x in capfd.readouterr().err.splitlines() if x.startswith("sft phase-1")]
    assert bar and "30/30" in bar[-1] and "steps/s" in bar[-1], bar  # our bar, not TRL's tqdm
    model = AutoModelForCausalLM.from_pretrained(r.final)
    tok = AutoTokenizer.from_pretrained(r.final)
    after = assistant_loss(model, tok, held)
    assert after < 0.7 * before, (before, after)
    # the final directory is a chat model that stops at <|im_end|>
    assert tok.eos_token == "<|im_end|>" and "<|im_start|>" in tok.chat_template
    assert model.generation_config.eos_token_id == tok.convert_tokens_to_ids("<|im_end|>")
    prompt = tok.apply_chat_template(
        held[0]["messages"][:1], add_generation_prompt=True, return_tensors="pt", return_dict=True
    )
    out = model.generate(**prompt, max_new_tokens=8, do_sample=False)
    assert out.shape[1] > prompt["input_ids"].shape[1]
    recs = read_metrics(r.out)
    assert [x["step"] for x in recs] == list(range(1, 31))
    assert set(recs[0]) >= {
        "step",
        "loss",
        "lr",
        "grad_norm",
        "tokens_per_s",
        "mfu",
        "tokens",
        "stage",
        "seq_len",
    }
    manifest = json.loads((r.out / "manifest.json").read_text())
    assert manifest["counts"]["in"] == 48 and manifest["steps"] == 30
    # same run again: a no-op
    again = run_sft(tiny_chat, [str(train)], tmp_path / "run", cfg, max_steps=30)
    assert again.steps == 30


def test_packed_logits_equal_unpacked(tiny_chat):
    import torch

    policy, tok = load_policy(tiny_chat)
    policy.eval()
    a = tok("The quick brown fox jumps over the lazy dog.", return_tensors="pt")["input_ids"][0]
    b = tok("def add(a, b): return a + b", return_tensors="pt")["input_ids"][0]
    with torch.no_grad():
        la = policy(input_ids=a[None], use_cache=False).logits[0]
        lb = policy(input_ids=b[None], use_cache=False).logits[0]
        pos = torch.cat([torch.arange(len(a)), torch.arange(len(b))])[None]
        packed = policy(
            input_ids=torch.cat([a, b])[None], position_ids=pos, use_cache=False
        ).logits[0]
    torch.testing.assert_close(packed[: len(a)], la, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(packed[len(a) :], lb, atol=1e-5, rtol=1e-4)


def test_two_phase_puts_long_rows_only_in_phase_two(tiny_chat, tmp_path):
    _, tok = load_policy(tiny_chat)
    short = chat_dir(tmp_path / "short", color_chats(6))
    long_rows = [
        {
            "messages": [
                {"role": "user", "content": "Summarise: " + "the fox runs. " * 60},
                {"role": "assistant", "content": "A fox runs."},
            ]
        }
    ]
    long = chat_dir(tmp_path / "long", long_rows)
    p1 = PhaseConfig(max_tokens=128, data={str(short): 1.0, str(long): 1.0})
    p2 = PhaseConfig(max_tokens=1024, data={str(short): 0.5, str(long): 2.0})
    rows1, n1, long1 = phase_rows(p1, [], tok, 0)
    rows2, n2, long2 = phase_rows(p2, [], tok, 0)
    is_long = lambda r: r["messages"][0]["content"].startswith("Summarise")  # noqa: E731
    assert not any(map(is_long, rows1)) and long1 == 1 and n1 == 7
    assert sum(map(is_long, rows2)) == 2 and long2 == 0 and len(rows2) == 3 + 2
    cfg = PostConfig(
        device="cpu", sft={"phases": [p1.model_dump(), p2.model_dump()], "batch_size": 2}
    )
    r = run_sft(tiny_chat, [], tmp_path / "run", cfg, max_steps=1)
    phases = json.loads((r.out / "manifest.json").read_text())["phases"]
    assert [p["left_out_too_long"] for p in phases] == [1, 0]
    assert {x["stage"] for x in read_metrics(r.out)} == {"phase-1", "phase-2"}


def test_bad_models_are_one_line_errors(tmp_path, tiny_chat):
    from qurate.llm.testing import build_tiny_classifier

    rm = build_tiny_classifier(tmp_path / "rm")
    with pytest.raises(BadInputError, match="not a causal LM"):
        run_sft(rm, [], tmp_path / "run")
    with pytest.raises(BadInputError, match="no config.json"):
        run_sft(tmp_path, [], tmp_path / "run2")


def test_bf16_follows_the_device_unless_set(monkeypatch):
    """bf16 unset: on where a bf16 GPU trains, off on CPU; set true, still off on CPU (TRL
    refuses it there); set false, off on a GPU too."""
    import torch

    from qurate.post.runs import device_args

    def args(device: str, **sft) -> dict:
        cfg = PostConfig(device=device, sft=sft)
        return device_args(cfg, cfg.sft)

    assert args("cpu") == {"use_cpu": True, "bf16": False, "fp16": False}
    assert args("cpu", bf16=True)["bf16"] is False
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)
    assert args("auto") == {"use_cpu": False, "bf16": True, "fp16": False}
    assert args("cuda", bf16=False)["bf16"] is False
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: False)
    assert args("auto")["bf16"] is False
