"""Five small defects of the model side, each pinned by a test that failed before its fix.

1. `train --init-from` a checkpoint holding NaN weights diverged at step 1 with the advice
   "Lower the learning rate and --resume", which diverges again. Such weights are now a
   one-line error when loaded (also on --resume), and a non-finite loss or gradient at the
   first step, from weights that are not finite, names the weights instead of --resume. A
   non-finite gradient norm (finite loss) no longer turns every weight into NaN.
2. `train export -o DIR` replaced the model files of any directory in place (a Hugging Face
   model from elsewhere, another checkpoint's export). Export now keeps a record of what it
   wrote: the same export again is a no-op, anything else needs `--overwrite` (new flag),
   which replaces the model files only (and removes sharded weights that would be read
   instead of them).
3. `ablate --preset nosuch` failed only after the arms were read and the shared tokenizer
   trained; the whole recipe (preset, model overrides, seq_len against the context, a
   --tokenizer) is now checked first. `eval_seq_len` was never checked: longer than the
   model's context it scored positions the model never had, and 100000 was killed for memory
   (exit 137); it is now a one-line error in `eval` and, up front, in `ablate`.
4. `train` tokenized whitespace-only texts (`"   \\n\\t "`) and trained on them (an EOS and
   some space tokens each), and its tokenizer was trained on them. They are now skipped like
   empty texts and counted: `skipped_empty_text` in metrics.jsonl rows and the final line.
   (`eval` bits per byte already rejected them as `empty_text`; a test keeps it so.)
5. A math `reference` that does not parse as math: `eval` scored the row as a wrong answer
   (pass@1 lowered, the row counted in `docs`) while GRPO's `math` reward gave it no reward
   and still kept the prompt (trained on nothing). Both now use one test
   (`verify_math.reference_parses`): `eval` rejects the row as `unparseable_reference`, GRPO
   leaves the prompt out and counts it under the same name in its manifest.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from qurate.cli import main
from qurate.contract.files import write_manifest
from qurate.contract.schema import rows_to_table
from qurate.contract.stagedir import write_table
from tests.robust.test_robust_cli import one_line_error, run_cli
from tests.robust.test_robust_robust6 import last_line_error
from tests.robust.test_robust_train_small import SENTENCES, _small_mix

TINY = ["--seq-len", "32", "--micro-batch-size", "1", "--max-steps", "1"]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    """A finished one-step tiny run (its checkpoint is also a HF model directory)."""
    from tests.robust.test_robust_robust3b import tiny_run

    return tiny_run(tmp_path_factory.mktemp("left7"), 1)


def _nan_model(run_dir: Path, tmp_path: Path) -> Path:
    """A copy of the run's checkpoint as an HF directory, one weight set to NaN."""
    model = tmp_path / "nan-model"
    shutil.copytree(run_dir / "checkpoints" / "step-00000001", model)
    sd = load_file(str(model / "model.safetensors"))
    name = next(k for k in sd if k.endswith("q_proj.weight"))
    sd[name][0, 0] = float("nan")
    save_file(sd, str(model / "model.safetensors"), metadata={"format": "pt"})
    return model


# --- 1. non-finite initial weights ---------------------------------------------------------


def test_init_from_nan_weights_is_refused_when_loaded(run_dir: Path, tmp_path: Path, capsys):
    # Before: "loss is nan at step 1 ... Lower the learning rate and --resume" (exit 2 after
    # the tokenizer and run directory were set up), advice that diverges again.
    model = _nan_model(run_dir, tmp_path)
    data = _small_mix(tmp_path / "mixed", 56)
    args = ["train", "--data", str(data), "-o", str(tmp_path / "run"), "--init-from", str(model)]
    line = last_line_error(*run_cli([*args, *TINY], capsys))
    assert "NaN or infinite" in line and "q_proj.weight" in line and "--init-from" in line
    assert "--resume" not in line
    assert not (tmp_path / "run" / "checkpoints").exists()


def test_first_step_divergence_from_bad_weights_names_the_weights_not_resume(
    run_dir: Path, tmp_path: Path, capsys, monkeypatch
):
    # The message itself, with the load-time check out of the way (as for weights that turn
    # non-finite on the device): it names the checkpoint, not --resume.
    from qurate.train import checkpoint as ck

    monkeypatch.setattr(ck, "check_finite_weights", lambda *a, **k: None, raising=False)
    model = _nan_model(run_dir, tmp_path)
    data = _small_mix(tmp_path / "mixed", 56)
    args = ["train", "--data", str(data), "-o", str(tmp_path / "run"), "--init-from", str(model)]
    line = last_line_error(*run_cli([*args, *TINY], capsys))
    assert "at step 1" in line and "initial weights are not finite" in line
    assert str(model) in line and "--resume" not in line


def test_resume_from_a_checkpoint_with_nan_weights_is_refused(
    run_dir: Path, tmp_path: Path, capsys
):
    run = tmp_path / "run"
    shutil.copytree(run_dir, run)
    ckpt = run / "checkpoints" / "step-00000001"
    sd = load_file(str(ckpt / "model.safetensors"))
    sd["model.norm.weight"][0] = float("inf")
    save_file(sd, str(ckpt / "model.safetensors"), metadata={"format": "pt"})
    args = ["train", "-o", str(run), "--resume", "--max-steps", "2"]
    line = last_line_error(*run_cli(args, capsys))
    assert "NaN or infinite" in line and "model.norm.weight" in line
    assert "delete that checkpoint" in line


def _one_step(data: Path, out: Path, **kw):
    """One step of the tiny preset on ``data`` (32-token rows, no evaluation)."""
    from qurate.train.api import load_config

    return load_config(
        None, data=str(data), out=str(out), preset="tiny", max_steps=1, seq_len=32,
        micro_batch_size=1, eval_every=0, **kw,
    )  # fmt: skip


def test_a_non_finite_gradient_norm_stops_before_the_update(tmp_path: Path, monkeypatch):
    # Before: clip_grad_norm_ scaled every gradient by max_norm/nan, AdamW wrote NaN into
    # every weight, and the run went on (and saved them) when no eval followed the step.
    from qurate.errors import DivergedError
    from qurate.train.api import train_config

    real = torch.nn.utils.clip_grad_norm_

    def nan_norm(params, max_norm, *a, **k):
        real(params, max_norm, *a, **k)
        return torch.tensor(float("nan"))

    monkeypatch.setattr(torch.nn.utils, "clip_grad_norm_", nan_norm)
    cfg = _one_step(_small_mix(tmp_path / "mixed", 56), tmp_path / "run")
    with pytest.raises(DivergedError, match="gradient norm is nan at step 1"):
        train_config(cfg)
    assert not (tmp_path / "run" / "checkpoints").exists()


# --- 2. train export into a directory that holds something else ------------------------------


def test_export_refuses_a_foreign_model_directory_without_overwrite(
    run_dir: Path, tmp_path: Path, capsys
):
    # Before: `train export RUN -o hf/Qwen2.5-0.5B` replaced that model's config.json,
    # model.safetensors and tokenizer in place, exit 0.
    other = tmp_path / "other-model"
    other.mkdir()
    for name, body in {"config.json": "{}", "model.safetensors": "x", "README.md": "mine"}.items():
        (other / name).write_text(body)
    (other / "model.safetensors.index.json").write_text("{}")
    line = one_line_error(*run_cli(["train", "export", str(run_dir), "-o", str(other)], capsys))
    assert "not empty" in line and "--overwrite" in line
    assert (other / "model.safetensors").read_text() == "x"
    assert (other / "config.json").read_text() == "{}"
    args = ["train", "export", str(run_dir), "-o", str(other), "--overwrite"]
    code, err = run_cli(args, capsys)
    assert code in (0, None), err
    assert (other / "model.safetensors").stat().st_size > 1000
    assert (other / "README.md").read_text() == "mine"  # only the model files are replaced
    assert not (other / "model.safetensors.index.json").exists()  # would be read instead


def test_the_same_export_again_is_a_no_op_and_another_needs_overwrite(
    run_dir: Path, tmp_path: Path, capsys
):
    hf = tmp_path / "hf"
    code, err = run_cli(["train", "export", str(run_dir), "-o", str(hf)], capsys)
    assert code in (0, None), err
    weights = hf / "model.safetensors"
    before = weights.stat().st_mtime_ns
    with pytest.raises(SystemExit) as e:
        main(["train", "export", str(run_dir), "-o", str(hf)])
    assert e.value.code in (0, None)
    assert "nothing to do" in capsys.readouterr().out
    assert weights.stat().st_mtime_ns == before
    # another dtype (or checkpoint) into the same place is another export
    args = ["train", "export", str(run_dir), "-o", str(hf), "--dtype", "bfloat16"]
    line = one_line_error(*run_cli(args, capsys))
    assert "another checkpoint or dtype" in line and "--overwrite" in line
    assert weights.stat().st_mtime_ns == before
    code, err = run_cli([*args, "--overwrite"], capsys)
    assert code in (0, None), err
    assert '"bfloat16"' in (hf / "config.json").read_text()


# --- 3. ablate settings checked before any work ----------------------------------------------


def _ablate_inputs(tmp_path: Path) -> tuple[Path, Path]:
    arm = tmp_path / "arm.jsonl"
    arm.write_text("".join(f'{{"text": "the cat sat on mat {i}."}}\n' for i in range(40)))
    held = tmp_path / "held.jsonl"
    held.write_text('{"text": "the cat sat on the mat."}\n')
    return arm, held


@pytest.mark.parametrize(
    ("extra", "said"),
    [
        (["--preset", "nosuch"], "unknown preset 'nosuch'; valid: tiny, mini"),
        (["--seq-len", "100000"], "seq_len 100000 exceeds max_position_embeddings"),
        (["--tokenizer", "nowhere.json"], "no tokenizer.json at nowhere.json"),
    ],
)
def test_ablate_refuses_a_bad_recipe_before_reading_arms_or_training_a_tokenizer(
    tmp_path: Path, capsys, monkeypatch, extra: list[str], said: str
):
    # Before: the arms were read and the shared BPE trained, then "unknown preset".
    from qurate.ablate import runner

    def no_work(*a, **k):
        raise AssertionError("work done before the recipe was checked")

    monkeypatch.setattr(runner, "arm_texts", no_work)
    monkeypatch.setattr(runner, "shared_tokenizer", no_work)
    arm, held = _ablate_inputs(tmp_path)
    out = tmp_path / "out"
    args = ["ablate", f"a={arm}", "-o", str(out), "--eval", f"h={held}", "--tokens", "1024"]
    line = one_line_error(*run_cli([*args, "--seeds", "1", *extra], capsys))
    assert said in line
    assert not out.exists()


def test_eval_windows_longer_than_the_model_context_are_refused(
    run_dir: Path, tmp_path: Path, capsys
):
    # Before: scored 8192-token windows with a 4096-position model, exit 0 (100000: killed
    # for memory, exit 137, no message).
    _, held = _ablate_inputs(tmp_path)
    cfg = tmp_path / "e.yaml"
    cfg.write_text("ablate:\n  eval_seq_len: 8192\n")
    args = ["eval", str(run_dir), "--eval", f"h={held}", "-c", str(cfg)]
    line = one_line_error(*run_cli(args, capsys))
    assert "eval_seq_len 8192 exceeds the context" in line and "4096" in line
    arm, _ = _ablate_inputs(tmp_path)
    args = ["ablate", f"a={arm}", "-o", str(tmp_path / "o"), "--eval", f"h={held}", "-c", str(cfg)]
    line = one_line_error(*run_cli([*args, "--seq-len", "32"], capsys))
    assert "eval_seq_len 8192 exceeds the context of preset tiny" in line


# --- 4. whitespace-only texts ----------------------------------------------------------------

BLANKS = ["   \n\t ", " ", "\n\n", "\u3000\t"]


def _mix_with_blanks(path: Path) -> tuple[Path, int]:
    """56 documents, every 4th of the first 48 whitespace only (rows 55: the eval row)."""
    rows, blank = [], 0
    for i in range(56):
        text = f"{SENTENCES[i % 4]} Note {i}. " * 4
        if i < 48 and i % 4 == 0:
            text, blank = BLANKS[(i // 4) % len(BLANKS)], blank + 1
        rows.append({"id": f"d{i}", "text": text})
    write_table(path / "part-00000.parquet", rows_to_table(rows))
    write_manifest(
        path, stage="mix", config_hash="x", inputs=[], n_in=56, n_kept=56, rejected_by_reason={}
    )
    return path, blank


def test_whitespace_only_texts_are_skipped_and_counted_by_train(tmp_path: Path, capsys):
    import json

    data, blank = _mix_with_blanks(tmp_path / "mixed")
    run = tmp_path / "run"
    args = ["train", "--data", str(data), "-o", str(run), "--preset", "tiny", *TINY]
    with pytest.raises(SystemExit) as e:
        main(args)
    assert e.value.code in (0, None)
    assert f"{blank} empty or whitespace-only documents skipped" in capsys.readouterr().out
    rows = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    assert rows[-1]["skipped_empty_text"] == blank == 12


def test_the_skipped_count_is_the_final_one_between_logged_steps(tmp_path: Path):
    from qurate.train.api import train_config

    data, blank = _mix_with_blanks(tmp_path / "mixed")
    cfg = _one_step(data, tmp_path / "run", log_every=5)
    assert train_config(cfg).skipped_empty_text == blank  # no row logged at step 1


def test_the_loader_never_yields_a_whitespace_document(tmp_path: Path):
    from qurate.train.data import Stream, iter_texts, list_shards
    from qurate.train.tokenizer import train_bpe

    data, blank = _mix_with_blanks(tmp_path / "mixed")
    shards = list_shards(data)
    texts = list(iter_texts(shards))
    assert len(texts) == 56 - blank and not any(t.isspace() for t in texts)
    tok = train_bpe(iter(texts), 300)
    stream = Stream(shards, tok, seq_len=32, seed=0, shuffle=False)
    docs = [stream._next_doc_tokens() for _ in range(56 - blank)]
    assert all(len(d) > 5 for d in docs)  # each a real sentence, none a few space tokens
    assert stream.empty == blank
    state = stream.state_dict()
    again = Stream(shards, tok, seq_len=32, seed=0, shuffle=False)
    again.load_state_dict(state)
    assert again.empty == blank  # a resume does not count the re-read batch twice


def test_eval_bits_per_byte_leaves_whitespace_texts_out_and_counts_them(tmp_path: Path):
    from qurate.ablate.tasks import load_eval

    held = tmp_path / "held.jsonl"
    held.write_text('{"text": "   \\n\\t "}\n{"text": "the cat sat."}\n{"text": ""}\n')
    ev = load_eval("h", str(held))
    assert [r["text"] for r in ev.rows] == ["the cat sat."]
    assert ev.rejected == {"empty_text": 2}


# --- 5. an unparseable math reference: left out and counted, the same in eval and GRPO ----


def _gen_eval(tmp_path: Path) -> Path:
    held = tmp_path / "gen.jsonl"
    held.write_text(
        '{"prompt": "What is 1+1?", "reference": "2"}\n'
        '{"prompt": "What is 2+2?", "reference": "\\\\frac{"}\n'
        '{"prompt": "Write f.", "reference": "???", "tests": "assert True"}\n'
    )
    return held


def test_eval_leaves_out_a_math_row_whose_reference_does_not_parse(tmp_path: Path):
    # Before: the row was kept and scored as a miss (verified None -> False).
    from qurate.ablate.tasks import load_eval
    from qurate.post.rewards import unscorable

    ev = load_eval("g", str(_gen_eval(tmp_path)))
    assert [r["prompt"] for r in ev.rows] == ["What is 1+1?", "Write f."]  # f: has tests
    assert ev.rejected == {"unparseable_reference": 1}
    bad = {"prompt": "What is 2+2?", "reference": "\\frac{"}
    assert unscorable(bad, ["math"]) == "unparseable_reference"  # GRPO: the same verdict
    assert unscorable({**bad, "reference": "4"}, ["math"]) is None
    assert unscorable({**bad, "tests": "assert True"}, ["math", "code"]) is None


def test_eval_pass_at_1_counts_only_rows_with_a_usable_reference(
    run_dir: Path, tmp_path: Path, capsys
):
    import json

    out = tmp_path / "e.json"
    cfg = tmp_path / "e.yaml"
    cfg.write_text("ablate:\n  max_new_tokens: 4\n")
    held = tmp_path / "m.jsonl"
    held.write_text(
        '{"prompt": "1+1?", "reference": "2"}\n{"prompt": "2+2?", "reference": "{{{"}\n'
    )
    args = ["eval", str(run_dir), "--eval", f"m={held}", "-o", str(out), "-c", str(cfg)]
    with pytest.raises(SystemExit) as e:
        main(args)
    assert e.value.code in (0, None)
    assert "1 rows not scored (unparseable_reference: 1)" in capsys.readouterr().err
    m = json.loads(out.read_text())["evals"]["m"]
    assert m["docs"] == 1 and m["rejected_rows"] == {"unparseable_reference": 1}


@pytest.fixture(scope="module")
def chat_model() -> str:
    pytest.importorskip("trl")
    from qurate.llm.testing import cached_tiny_chat_model

    return str(cached_tiny_chat_model())


def test_grpo_leaves_out_and_counts_prompts_whose_reference_does_not_parse(
    chat_model: str, tmp_path: Path, capsys
):
    # Before: the prompt was kept (`reference` non-empty) and every completion of it got no
    # reward: one with only such prompts went into training with nothing to learn.
    prompts = tmp_path / "p.jsonl"
    prompts.write_text('{"prompt": "What is 2+2?", "reference": "{{{"}\n')
    base = ["post", "grpo", "--model", chat_model, "--prompts", str(prompts), "--reward", "math"]
    line = one_line_error(*run_cli([*base, "-o", str(tmp_path / "o1")], capsys))
    assert "no prompt that --reward math can score (1 read)" in line
    assert "parses as math" in line
    assert not (tmp_path / "o1").exists()
