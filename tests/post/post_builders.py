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


COLORS = ["red", "blue", "green", "black", "white", "pink", "gold", "gray"]
THINGS = [
    "sky",
    "sea",
    "leaf",
    "coal",
    "snow",
    "rose",
    "coin",
    "rock",
    "lamp",
    "door",
    "cup",
    "hat",
]


def color_chats(n: int, start: int = 0) -> list[dict]:
    """A learnable chat task: the answer is a fixed phrase per thing."""
    rows = []
    for i in range(start, start + n):
        thing = THINGS[i % len(THINGS)]
        color = COLORS[i % len(COLORS)]
        rows.append(
            {
                "id": f"c{i}",
                "messages": [
                    {"role": "user", "content": f"Which color is the {thing} number {i}?"},
                    {"role": "assistant", "content": f"The {thing} is {color}."},
                ],
            }
        )
    return rows


def chat_dir(path: Path, rows: list[dict], max_tokens: int = 4096) -> Path:
    """A finished chat stage directory built by `post data` from ``rows``."""
    from qurate.post.config import DataConfig
    from qurate.post.data import build_chat_data

    src = write_jsonl(path.parent / f"{path.name}.jsonl", rows)
    build_chat_data(
        [src], path, DataConfig(max_tokens=max_tokens, dedup={"exact": False, "near": False})
    )
    return path


def assistant_loss(model, tok, rows: list[dict]) -> float:
    """Mean loss of the assistant turn given its prompt, under the chat template."""
    import torch

    total, count = 0.0, 0
    model.eval()
    with torch.no_grad():
        for r in rows:
            prompt = tok.apply_chat_template(
                r["messages"][:-1], add_generation_prompt=True, tokenize=True
            )
            full = tok.apply_chat_template(r["messages"], tokenize=True)
            prompt = prompt["input_ids"] if hasattr(prompt, "keys") else prompt
            full = full["input_ids"] if hasattr(full, "keys") else full
            ids = torch.tensor([full])
            labels = ids.clone()
            labels[0, : len(prompt)] = -100
            out = model(input_ids=ids, labels=labels, use_cache=False)
            n = int((labels[0, 1:] != -100).sum())
            total += float(out.loss) * n
            count += n
    return total / count
