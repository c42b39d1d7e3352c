"""Builders shared by the post tests (rows, files)."""

from __future__ import annotations

import json
from pathlib import Path


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


def write_jsonl(path: Path, rows: list) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path
