"""Multiple choice, verified generation and the checks on evaluation files."""

from __future__ import annotations

import random

import pytest
from ablate_builders import FACTS

from qurate.ablate import tasks
from qurate.ablate.scoring import load_model
from qurate.ablate.tasks import load_eval, run_eval
from qurate.errors import BadInputError

DISTRACTORS = ["zebra", "quantum", "violin", "oxygen", "marble", "tundra"]


def mc_rows(n: int, shuffle_answers: bool = False) -> list[dict]:
    rng = random.Random(7)
    items = list(FACTS.items())
    rows = []
    for i in range(n):
        q, a = items[i % len(items)]
        choices = [a, *rng.sample(DISTRACTORS, 3)]
        rng.shuffle(choices)
        answer = choices.index(a)
        if shuffle_answers:
            answer = rng.randrange(4)
        rows.append({"question": q, "choices": choices, "answer": answer})
    return rows


def test_mc_accuracy_is_one_on_known_facts_and_chance_on_shuffled_answers(
    fact_model, tmp_path, jsonl
):
    lm = load_model(fact_model, device="cpu")
    right = load_eval("facts", str(jsonl(tmp_path / "mc.jsonl", mc_rows(40))))
    res = run_eval(lm, right)
    assert res["metric"] == "acc" and res["value"] == 1.0 and res["acc_norm"] == 1.0
    shuffled = load_eval("shuffled", str(jsonl(tmp_path / "sh.jsonl", mc_rows(200, True))))
    res = run_eval(lm, shuffled)
    assert 0.15 < res["value"] < 0.35, res


def test_mc_rows_with_a_wrong_answer_are_rejected_with_a_reason(tmp_path, jsonl):
    rows = mc_rows(4) + [
        {"question": "q", "choices": ["a", "b"], "answer": 2},
        {"question": "q", "choices": ["a", "b"], "answer": -1},
        {"question": "q", "choices": ["a"], "answer": 0},
        {"question": "q", "choices": ["a", "b", "c"], "answer": "C"},
    ]
    ev = load_eval("mc", str(jsonl(tmp_path / "mc.jsonl", rows)))
    assert len(ev.rows) == 5 and ev.rows[-1]["answer"] == 2
    assert ev.rejected == {"answer_out_of_range": 2, "bad_choices": 1}


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([{"question": "q", "choices": ["a", "b"], "answer": 9}], "answer_out_of_range: 1"),
        ([{"text": ""}, {"text": "  "}], "no usable text rows"),
        ([{"title": "x"}], "no usable rows"),
        ([], "no usable rows"),
    ],
)
def test_an_eval_with_no_usable_rows_is_a_one_line_error(tmp_path, jsonl, rows, message):
    path = jsonl(tmp_path / "e.jsonl", rows)
    with pytest.raises(BadInputError, match=message) as e:
        load_eval("bad", str(path))
    assert "eval bad" in str(e.value) and "\n" not in str(e.value)


def test_generation_pass_at_1_goes_through_the_math_verifier_and_the_sandbox(
    fact_model, tmp_path, jsonl, monkeypatch
):
    rows = [
        {"prompt": "2+2=", "reference": "4"},
        {"prompt": "3+3=", "reference": "7"},
        {"prompt": "write add", "tests": "assert add(2, 3) == 5"},
        {"prompt": "write sub", "tests": "assert sub(5, 3) == 2"},
    ]
    answers = {
        "2+2=": "so \\boxed{4}",
        "3+3=": "so \\boxed{6}",
        "write add": "```python\ndef add(a, b):\n    return a + b\n```",
        "write sub": "```python\ndef sub(a, b):\n    return a + b\n```",
    }
    monkeypatch.setattr(tasks, "greedy", lambda lm, prompt, n, seq: answers[prompt])
    ev = load_eval("gen", str(jsonl(tmp_path / "g.jsonl", rows)))
    res = run_eval(load_model(fact_model, device="cpu"), ev)
    assert res["metric"] == "pass@1" and res["value"] == 0.5
    assert (res["math"], res["code"]) == (2, 2)


def test_generation_runs_on_a_tiny_model(fact_model, tmp_path, jsonl):
    rows = [{"prompt": "two plus two is", "reference": "4"}]
    ev = load_eval("gen", str(jsonl(tmp_path / "g.jsonl", rows)))
    res = run_eval(load_model(fact_model, device="cpu"), ev, max_new_tokens=8)
    assert res["docs"] == 1 and res["value"] == 0.0  # it answers "four.", never \boxed{4}


def test_every_kind_reports_its_progress_up_to_the_total(fact_model, tmp_path, jsonl, monkeypatch):
    # `qurate eval` drew no bar: a held-out set of a real model sat silent for minutes.
    lm = load_model(fact_model, device="cpu")
    monkeypatch.setattr(tasks, "greedy", lambda lm, prompt, n, seq: "\\boxed{4}")
    texts = [{"text": f"{q} {a}. " * 20} for q, a in FACTS.items()]
    sets = {
        "text": jsonl(tmp_path / "t.jsonl", texts),
        "mc": jsonl(tmp_path / "mc.jsonl", mc_rows(12)),
        "gen": jsonl(tmp_path / "g.jsonl", [{"prompt": f"{i}+0=", "reference": "4"} for i in range(5)]),
    }  # fmt: skip
    for kind, path in sets.items():
        seen: list[tuple[int, int]] = []
        ev = load_eval(kind, str(path))
        run_eval(lm, ev, seq_len=32, batch_size=2, on_rows=lambda d, t, s=seen: s.append((d, t)))
        done = [d for d, _ in seen]
        assert len(seen) >= 2 and done == sorted(done) and seen[-1][0] == seen[-1][1], (kind, seen)
        assert len({t for _, t in seen}) == 1, (kind, seen)
    assert seen[-1] == (5, 5)  # generation counts prompts
