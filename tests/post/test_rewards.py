"""GRPO rewards: verifier semantics, and a reward that raises or hangs never stops a run."""

from __future__ import annotations

import time

import pytest
from post_builders import write_jsonl

from qurate.errors import BadInputError, ConfigError
from qurate.post.rewards import Guarded, build_rewards, math_reward, read_prompts


def test_math_reward_scores_and_refuses_to_guess():
    done = [
        [{"role": "assistant", "content": "so \\boxed{7}"}],
        "\\boxed{8}",
        "no answer",
        "\\boxed{1}",
    ]
    refs = ["7", "7", "7", None]
    assert math_reward(done, reference=refs) == [1.0, 0.0, 0.0, None]


def test_a_raising_or_hanging_reward_scores_none_and_is_counted():
    def boom(completions, **_):
        raise RuntimeError("bug in reward")

    def slow(completions, **_):
        time.sleep(5)
        return [1.0] * len(completions)

    def short(completions, **_):
        return [1.0]

    g = Guarded("boom", boom, timeout_s=2)
    assert g(["a", "b"], prompts=["p", "q"]) == [None, None] and g.failures == 2
    t0 = time.perf_counter()
    h = Guarded("slow", slow, timeout_s=0.2)
    assert h(["a"]) == [None] and h.failures == 1
    assert time.perf_counter() - t0 < 2
    s = Guarded("short", short, timeout_s=2)
    assert s(["a", "b"]) == [None, None] and s.failures == 2


def test_reward_names_and_weights_are_checked(tmp_path):
    with pytest.raises(ConfigError, match="unknown reward"):
        build_rewards(["magic"], {}, 1, 1, 1)
    with pytest.raises(ConfigError, match="not a --reward given"):
        build_rewards(["math"], {"code": 2.0}, 1, 1, 1)
    with pytest.raises(BadInputError, match="not a model directory"):
        build_rewards([f"rm:{tmp_path}/none"], {}, 1, 1, 1)
    funcs, weights = build_rewards(["math", "code"], {"code": 0.5}, 1, 1, 1)
    assert [f.name for f in funcs] == ["math", "code"] and weights == [1.0, 0.5]


def test_code_reward_runs_the_sandbox():
    funcs, _ = build_rewards(["code"], {}, 10, 5, 2)
    code = funcs[0]
    good = "```python\ndef add(a, b):\n    return a + b\n```"
    bad = "```python\ndef add(a, b):\n    return a - b\n```"
    tests = "assert add(2, 3) == 5\n"
    assert code([good, bad, good], tests=[tests, tests, None]) == [1.0, 0.0, None]


def test_prompt_files(tmp_path):
    f = write_jsonl(
        tmp_path / "p.jsonl",
        [{"prompt": "What is 2+2?", "reference": 4}, {"prompt": "What is 2+2?", "reference": 4}],
    )
    rows = read_prompts(f)
    assert rows == [
        {"prompt": [{"role": "user", "content": "What is 2+2?"}], "reference": "4", "tests": None}
    ]
    bad = write_jsonl(tmp_path / "bad.jsonl", [{"question": "x"}])
    with pytest.raises(BadInputError, match="no `prompt`"):
        read_prompts(bad)
