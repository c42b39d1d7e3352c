"""Reward models: last-token pooling against a direct forward pass, one-line errors for
paths that are not reward models, the LLM judge, and the vLLM path where it can run."""

from __future__ import annotations

import importlib.util

import pytest

torch = pytest.importorskip("torch")

from qurate.errors import ConfigError, MissingExtraError  # noqa: E402
from qurate.synth.config import RewardConfig  # noqa: E402
from qurate.synth.reward import (  # noqa: E402
    JudgeReward,
    TransformersRewardModel,
    VLLMRewardModel,
    load_reward,
    reward_architecture,
)

PROMPTS = ["What is 2 + 2?", "Name a fruit.", "Explain photosynthesis in one sentence please."]
RESPONSES = [
    "4",
    "An apple, which is red or green.",
    "Plants turn light energy into chemical energy.",
]
CPU = RewardConfig(device="cpu", batch_size=3)


def _direct(path, text: str) -> float:
    """The reward as the checkpoint defines it: the score head on the last token's hidden
    state of one unpadded forward pass (no engine, no batching)."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(path))
    model = AutoModelForSequenceClassification.from_pretrained(str(path)).eval()
    ids = torch.tensor([tok.encode(text)])
    with torch.no_grad():
        hidden = model.model(input_ids=ids).last_hidden_state[0, -1]
        return float(model.score(hidden)[0])


def test_last_token_pooling_matches_a_direct_forward_pass(tiny_rm):
    rm = TransformersRewardModel(str(tiny_rm), CPU)
    texts = rm.texts(PROMPTS, RESPONSES)
    assert texts[0].endswith("<|im_end|>\n") and "<|im_start|>assistant\n4" in texts[0]
    batched = rm.score(PROMPTS, RESPONSES)  # one padded batch of different lengths
    direct = [_direct(tiny_rm, t) for t in texts]
    assert batched == pytest.approx(direct, abs=1e-4)
    assert len(set(round(s, 6) for s in batched)) == 3  # really depends on the text
    rm.close()


def test_scores_are_cached_between_runs(tiny_rm, tmp_path):
    cache = tmp_path / "rm.sqlite"
    a = TransformersRewardModel(str(tiny_rm), CPU, cache)
    first = a.score(PROMPTS, RESPONSES)
    a.close()
    b = TransformersRewardModel(str(tiny_rm), CPU, cache)
    assert b.score(PROMPTS, RESPONSES) == pytest.approx(first) and b.engine.hits == 3
    b.close()


def test_a_causal_lm_is_not_a_reward_model(tiny_chat):
    with pytest.raises(
        ConfigError, match="not a reward or classification model .*Qwen2ForCausalLM"
    ):
        load_reward(str(tiny_chat), CPU)


def test_bad_reward_paths_are_one_line_errors(tmp_path):
    with pytest.raises(ConfigError, match="no such directory"):
        reward_architecture(str(tmp_path / "missing"), "transformers")
    f = tmp_path / "model.gguf"
    f.write_bytes(b"GGUF")
    with pytest.raises(ConfigError, match="not a reward or classification model"):
        reward_architecture(str(f), "transformers")
    d = tmp_path / "rmlike"
    d.mkdir()
    (d / "config.json").write_text('{"architectures": ["Qwen2ForRewardModel"]}')
    with pytest.raises(ConfigError, match="need --rm-engine vllm"):
        reward_architecture(str(d), "transformers")
    assert reward_architecture(str(d), "vllm") == "Qwen2ForRewardModel"


@pytest.mark.skipif(importlib.util.find_spec("vllm") is not None, reason="vllm is installed")
def test_vllm_engine_without_vllm_names_the_extra(tiny_rm):
    with pytest.raises(MissingExtraError, match=r"qurate\[gpu\]"):
        VLLMRewardModel(str(tiny_rm), CPU.model_copy(update={"engine": "vllm"}))


@pytest.mark.skipif(
    importlib.util.find_spec("vllm") is None or not torch.cuda.is_available(),
    reason="engine parity needs vllm and a GPU",
)
def test_vllm_and_transformers_agree(tiny_rm):
    hf = TransformersRewardModel(str(tiny_rm), RewardConfig(device="cuda", batch_size=3))
    want = hf.score(PROMPTS, RESPONSES)
    hf.close()
    vl = VLLMRewardModel(str(tiny_rm), RewardConfig(engine="vllm"))
    assert vl.score(PROMPTS, RESPONSES) == pytest.approx(want, abs=2e-2)


def test_llm_judge_gives_bounded_deterministic_scores(tiny_chat):
    judge = JudgeReward(str(tiny_chat), CPU)
    s = judge.score(PROMPTS, RESPONSES)
    assert all(x is not None and 0.0 <= x <= 1.0 for x in s)
    assert judge.score(PROMPTS, RESPONSES) == pytest.approx(s)
    other = judge.score(PROMPTS, ["no", "no", "no"])
    assert other != pytest.approx(s)  # the grade depends on the response
    judge.close()
