"""Every command that takes `-c` reads its section, and the file wins unless a flag is given.

Each case puts a bad value under a key that also has a flag: if a flag's default overrode the
file (the old `score annotate -c` bug), the bad value would go unnoticed and the command would
run. Commands with an LLM engine are also pointed at an OpenAI-compatible URL where nothing
listens: they must use that engine and name the URL.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from qurate.cli import main
from qurate.contract.shards import ShardWriter, write_manifest

DEAD = "http://127.0.0.1:9/v1"
OPENAI = f"{{kind: openai, base_url: '{DEAD}', model: x, max_retries: 0}}"


def _stage(d: Path, n: int = 4) -> Path:
    with ShardWriter(d) as w:
        for i in range(n):
            w.write({"id": f"d{i}", "text": f"document number {i} about algebra and proofs"})
    write_manifest(d, stage="curate", config_hash="t", inputs=[], n_in=n, n_kept=n,
                   rejected_by_reason={})  # fmt: skip
    return d


def _run(argv: list[str], capsys) -> tuple[int, str]:
    with pytest.raises(SystemExit) as e:
        main(argv)
    err = capsys.readouterr().err
    return int(e.value.code or 0), err


# (command argv before -c, the YAML, the key the one-line error must name)
BAD_VALUE = [
    (["curate", "{in}", "-o", "{out}"], "executor: {workers: -1}", "executor.workers"),
    (["score", "annotate", "{stage}", "-o", "{out}"], "score: {annotate: {sample: 0}}",
     "score.annotate.sample"),
    (["score", "distill", "{stage}", "-o", "{out}"], "score: {distill: {keep_threshold: x}}",
     "score.distill.keep_threshold"),
    (["score", "apply", "{stage}", "-o", "{out}", "--raters", "{tmp}"],
     "score: {apply: {tasks: 0}}", "score.apply.tasks"),
    (["augment", "recall", "{stage}", "-o", "{out}", "--seeds", "{in}", "--domain", "math"],
     "augment: {recall: {rounds: 0}}", "augment.recall.rounds"),
    (["augment", "ingest", "{in}", "-o", "{out}", "--domain", "math"],
     "augment: {ingest: {text_key: [a]}}", "augment.ingest.text_key"),
    (["synth", "generate", "{in}", "-o", "{out}"], "synth: {generate: {n: 0}}",
     "synth.generate.n"),
    (["synth", "filter", "{in}", "-o", "{out}"], "synth: {filter: {top_k: 0}}",
     "synth.filter.top_k"),
    (["mix", "{stage}", "-o", "{out}"], "mix: {budget_tokens: 100, seed: x}", "mix.seed"),
    (["train", "--data", "{stage}", "-o", "{out}"], "train: {seq_len: 0}", "train.seq_len"),
    (["run", "-o", "{out}"], "run: {inputs: ['{in}']}\ncurate: {max_chars: 0}",
     "curate.max_chars"),
]  # fmt: skip


@pytest.mark.parametrize(("argv", "yaml", "key"), BAD_VALUE, ids=lambda x: str(x)[:30])
def test_the_config_file_wins_over_flag_defaults(tmp_path, capsys, argv, yaml, key):
    (tmp_path / "in.jsonl").write_text('{"text": "hello world"}\n')
    stage = _stage(tmp_path / "stage")
    fill = {"in": str(tmp_path / "in.jsonl"), "out": str(tmp_path / "out"),
            "stage": str(stage), "tmp": str(tmp_path)}  # fmt: skip
    cfg = tmp_path / "cfg.yaml"
    for name, value in fill.items():
        yaml = yaml.replace("{" + name + "}", value)
    cfg.write_text(yaml)
    argv = [a.format(**fill) for a in argv]
    if argv[0] == "run":
        argv.insert(1, str(cfg))
    else:
        argv += ["-c", str(cfg)]
    code, err = _run(argv, capsys)
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1 and f"cfg.yaml: {key}: " in lines[0], err


def test_help_of_every_command_with_a_config_names_its_section(capsys):
    for argv, _, key in BAD_VALUE:
        cmd = [a for a in argv if not a.startswith(("{", "-"))][:2]
        cmd = cmd[:1] if cmd[0] in ("curate", "mix", "train", "run") else cmd
        with pytest.raises(SystemExit):
            main([*cmd, "--help"])
        out = " ".join(capsys.readouterr().out.split())
        section = key.rsplit(".", 1)[0] if cmd[0] in ("augment", "synth") else key.split(".")[0]
        assert "Config section" in out and f"`{section}" in out, (cmd, out[:300])


def test_score_annotate_uses_the_engine_of_the_config(tmp_path, capsys):
    stage = _stage(tmp_path / "stage")
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(f"score: {{engine: {OPENAI}}}\n")
    code, err = _run(["score", "annotate", str(stage), "-o", str(tmp_path / "ann"),
                      "-c", str(cfg)], capsys)  # fmt: skip
    assert code == 2 and DEAD in err and "Traceback" not in err


def test_score_apply_judge_uses_the_engine_of_the_config(tmp_path, capsys):
    stage = _stage(tmp_path / "stage")
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(f"score: {{engine: {OPENAI}}}\n")
    code, err = _run(["score", "apply", str(stage), "-o", str(tmp_path / "scored"),
                      "--judge", "x", "-c", str(cfg)], capsys)  # fmt: skip
    assert code == 2 and DEAD in err and "Traceback" not in err


def test_synth_generate_uses_the_teacher_of_the_config(tmp_path, capsys):
    seeds = tmp_path / "seeds.jsonl"
    seeds.write_text('{"id": "s1", "problem": "What is 2 + 2?", "answer": "4"}\n')
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(f"synth: {{generate: {{teacher: {OPENAI}}}}}\n")
    code, err = _run(["synth", "generate", str(seeds), "-o", str(tmp_path / "gen"),
                      "-c", str(cfg)], capsys)  # fmt: skip
    assert code == 2 and DEAD in err and "Traceback" not in err
