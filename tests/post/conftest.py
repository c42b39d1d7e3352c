"""Fixtures: a small synth filter directory (math with references, verified for real) and
tiny real chat models built on the fly (nothing downloaded)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


def math_samples() -> list[dict]:
    """Three prompts x four samples: right, wrong, no final answer, right again; plus one
    prompt whose samples are all right (nothing to pair) and one with a bad reference."""
    rows = []
    for p in range(3):
        a, b = p + 2, p + 5
        prompt = f"What is {a} + {b}? Put the final answer in a box."
        answers = [
            f"{a} plus {b} is \\boxed{{{a + b}}}.",
            f"I think it is \\boxed{{{a + b + 1}}}.",
            "It is a number.",
            f"Adding gives {a + b}, so \\boxed{{{a + b}}}",
        ]
        for k, resp in enumerate(answers):
            rows.append(
                {
                    "id": f"m{p}-{k}",
                    "prompt": prompt,
                    "response": resp,
                    "task": "math",
                    "reference": str(a + b),
                    "seed_id": f"s{p}",
                }
            )
    for k in range(2):
        rows.append(
            {
                "id": f"all-{k}",
                "prompt": "What is 1 + 1?",
                "response": f"So \\boxed{{2}} ({k})",
                "task": "math",
                "reference": "2",
                "seed_id": "all",
            }
        )
    return rows


@pytest.fixture(scope="session")
def synth_dir(tmp_path_factory) -> Path:
    from qurate.synth.config import FilterConfig
    from qurate.synth.filter import filter_samples

    out = tmp_path_factory.mktemp("synth") / "filtered"
    cfg = FilterConfig(dedup={"exact": False, "near": False})
    filter_samples(math_samples(), out, cfg)
    return out


@pytest.fixture(scope="session")
def tiny_chat():
    pytest.importorskip("trl")
    from qurate.llm.testing import cached_tiny_chat_model

    return cached_tiny_chat_model()


def write_jsonl(path: Path, rows: list) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path
