"""`qurate eval` and `qurate ablate` as a user meets them: a table, a JSON file, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


def qurate(*args: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "qurate", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=600,
    )


def test_eval_scores_a_run_directory_and_writes_json(fact_model, tmp_path, jsonl):
    jsonl(tmp_path / "held.jsonl", [{"text": "the cat sat on the mat.", "domain": "toy"}])
    proc = qurate(
        "eval", str(fact_model), "--eval", "held=held.jsonl", "-o", "e.json", cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    assert "bits_per_byte" in proc.stdout
    out = json.loads((tmp_path / "e.json").read_text())
    held = out["evals"]["held"]
    assert held["metric"] == "bits_per_byte" and held["by_domain"]["toy"] == held["value"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ablate", "raw", "-o", "o", "--eval", "h=held.jsonl"], "arm 'raw': write NAME=PATH"),
        (
            ["ablate", "raw=nope.jsonl", "-o", "o", "--eval", "h=held.jsonl"],
            "arm raw: nope.jsonl: no such file",
        ),
        (["ablate", "raw=held.jsonl", "-o", "o"], "--eval NAME=PATH"),
        (["eval", "nowhere", "--eval", "h=held.jsonl"], "nowhere is neither a checkpoint"),
        (
            ["ablate", "a=held.jsonl", "-o", "o", "-c", "bad.yaml", "--eval", "h=held.jsonl"],
            "bad.yaml: ablate.seedz: unknown key",
        ),
    ],
)
def test_mistakes_are_one_clean_line(tmp_path, jsonl, args, message):
    jsonl(tmp_path / "held.jsonl", [{"text": "some held-out text"}])
    (tmp_path / "bad.yaml").write_text("ablate:\n  seedz: 3\n")
    proc = qurate(*args, cwd=tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    lines = [x for x in proc.stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and message in lines[0], proc.stderr


def test_init_prints_the_ablate_section_and_the_shared_loader_reads_it(tmp_path):
    from qurate.ablate.config import AblateConfig
    from qurate.config import render_default
    from qurate.contract.config import load_section

    text = render_default()
    assert "\nablate:" in text and "leakage_ngram: 13" in text
    (tmp_path / "p.yaml").write_text(text)
    assert load_section(tmp_path / "p.yaml", "ablate", AblateConfig) == AblateConfig()
    cfg = load_section(tmp_path / "p.yaml", "ablate", AblateConfig, {"seeds": 3, "lr": None})
    assert cfg.seeds == 3 and cfg.lr is None
    for name, field in AblateConfig.model_fields.items():
        assert field.description, f"ablate.{name} has no description"
