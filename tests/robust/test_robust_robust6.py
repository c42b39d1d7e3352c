"""Sixth sweep, model side again: `train` (and `--resume`, `export`, `plan --fit`), `eval`,
`post sft | dpo | grpo` driven with hostile inputs. What it found: an export that rewrote
another checkpoint's weights, runs that diverged and still saved NaN weights with exit 0,
GRPO that trained on prompts no reward could score, NaN metrics, tracebacks, and flags that
were ignored without a word. Each now ends in one clean line (exit 2) or a counted reject."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.robust.test_robust_cli import one_line_error, run_cli
from tests.robust.test_robust_train_small import _small_mix

TINY = ["--preset", "tiny", "--seq-len", "32", "--micro-batch-size", "1"]


def last_line_error(code: int, err: str) -> str:
    """The error line of a command that printed progress (TRL, the train bar) before failing."""
    assert code == 2, err
    assert "Traceback" not in err and "(traceback in" not in err, err
    line = [x for x in err.splitlines() if x.strip()][-1]
    assert line.startswith("error: "), err
    return line


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    """A finished two-step tiny run with a checkpoint after each step."""
    from tests.robust.test_robust_robust3b import tiny_run

    return tiny_run(tmp_path_factory.mktemp("run6"), 2, save_every=1)


def _copy_run(run_dir: Path, tmp_path: Path) -> Path:
    run = tmp_path / "run"
    shutil.copytree(run_dir, run)
    return run


def _model_copy(run_dir: Path, tmp_path: Path) -> Path:
    model = tmp_path / "model"
    shutil.copytree(run_dir / "checkpoints" / "step-00000002", model)
    return model


def _texts(tmp_path: Path) -> Path:
    texts = tmp_path / "t.jsonl"
    texts.write_text('{"text": "The river rises in the hills and runs west."}\n')
    return texts


# --- train export --------------------------------------------------------------------------


def test_export_never_writes_into_a_checkpoint_of_a_run(run_dir: Path, tmp_path: Path, capsys):
    # Before: `train export RUN -o RUN/checkpoints/step-00000001 --dtype bfloat16` rewrote
    # that checkpoint's model.safetensors in bfloat16 (exit 0); --resume from it read them.
    run = _copy_run(run_dir, tmp_path)
    older = run / "checkpoints" / "step-00000001"
    before = (older / "model.safetensors").read_bytes()
    for out in (older, run / "checkpoints", run / "checkpoints" / "hf"):
        args = ["train", "export", str(run), "-o", str(out), "--dtype", "bfloat16"]
        line = one_line_error(*run_cli(args, capsys))
        assert "inside a run's checkpoints/" in line
    assert (older / "model.safetensors").read_bytes() == before
    assert not (run / "checkpoints" / "config.json").exists()
    code, err = run_cli(["train", "export", str(run), "-o", str(tmp_path / "hf")], capsys)
    assert code in (0, None) and (tmp_path / "hf" / "model.safetensors").is_file(), err


# --- train: divergence, config values, resume ------------------------------------------------


def test_a_step_that_breaks_the_weights_is_neither_logged_nor_saved(tmp_path: Path, capsys):
    # Before: --lr 1e30 trained step 1, wrote `"eval_loss": NaN` to metrics.jsonl, saved the
    # NaN weights as the checkpoint and printed "trained 1 steps ... eval loss nan", exit 0.
    data = _small_mix(tmp_path / "mixed", 56)
    run = tmp_path / "run"
    args = ["train", "--data", str(data), "-o", str(run), *TINY, "--max-steps", "1"]
    line = last_line_error(*run_cli([*args, "--lr", "1e30"], capsys))
    assert "eval loss is nan after step 1" in line and "not saved" in line
    assert not (run / "checkpoints").exists()
    assert "NaN" not in (run / "metrics.jsonl").read_text()


@pytest.mark.parametrize(
    ("yaml", "said"),
    [
        ("optim: {beta1: 5}", "train.optim.beta1"),  # was ValueError: Invalid beta parameter
        ("optim: {beta2: -1}", "train.optim.beta2"),
        ("model: {rope_theta: -1}", "model.rope_theta must be a positive number"),  # complex
        ("model: {rms_norm_eps: -1}", "model.rms_norm_eps must be a positive number"),
        ("model: {initializer_range: -1}", "model.initializer_range must be a number >= 0"),
    ],
)
def test_impossible_optimiser_and_model_numbers_are_named(
    tmp_path: Path, capsys, yaml: str, said: str
):
    # Before: the first two were "error: ValueError: Invalid beta parameter ..." and
    # rope_theta -1 "error: TypeError: int() argument must be ... not 'complex'", each with
    # a traceback file, exit 1, after the tokenizer was trained.
    cfg = tmp_path / "t.yaml"
    cfg.write_text(f"train:\n  {yaml}\n")
    data = _small_mix(tmp_path / "mixed", 8)
    args = ["train", "--data", str(data), "-o", str(tmp_path / "r"), "-c", str(cfg)]
    line = one_line_error(*run_cli([*args, *TINY, "--max-steps", "1"], capsys))
    assert said in line


def test_resume_refuses_a_new_init_from_or_tokenizer(run_dir: Path, tmp_path: Path, capsys):
    # Before: `--resume --init-from OTHER` and `--resume --tokenizer OTHER` went on from the
    # run's own checkpoint and tokenizer and never said the flag was ignored.
    import qurate

    run = _copy_run(run_dir, tmp_path)
    other_tok = Path(qurate.__file__).parent / "data" / "tokenizer.json"
    for flag, value in (("--init-from", run_dir / "checkpoints" / "step-00000001"),
                        ("--tokenizer", other_tok)):  # fmt: skip
        args = ["train", "-o", str(run), "--resume", "--max-steps", "3", flag, str(value)]
        line = one_line_error(*run_cli(args, capsys))
        assert "another config" in line and flag.lstrip("-").replace("-", "_") in line
    assert not (run / "checkpoints" / "step-00000003").exists()


def test_a_batch_of_more_rows_than_documents_is_not_called_empty(tmp_path: Path, capsys):
    # Before: "error: no text to train on in mixed (stream 55 of 128 found no non-empty
    # document)" for 56 documents of text and a 128-row batch.
    data = _small_mix(tmp_path / "mixed", 56)
    args = ["train", "--data", str(data), "-o", str(tmp_path / "r"), *TINY, "--max-steps", "1"]
    line = last_line_error(*run_cli([*args, "--batch-tokens", "4096"], capsys))
    assert "too few documents" in line and "--batch-tokens" in line
    assert "no text to train on" not in line


# --- train plan --fit ------------------------------------------------------------------------

_SWEEP = "N,D,batch,lr,loss\n1e8,1e9,1e5,1e-3,3\n2e8,1e9,2e5,2e-3,2.9\n1e8,4e9,2e5,2e-3,2.8\n"


@pytest.mark.parametrize(
    ("body", "flags", "said"),
    [
        (_SWEEP.replace("1e-3,3", "nan,3"), [], "must be positive and finite"),  # lr = nan
        (_SWEEP.replace("1e-3,3", "inf,3"), [], "must be positive and finite"),
        (b"N,D,batch,lr,loss\n\xff\xfe,1,1,1,1\n", [], "not a CSV text file"),  # traceback
        (_SWEEP, ["--params", "7B", "--tokens", "0"], "--tokens must be positive"),
        (_SWEEP, ["--params", "7B"], "give both, or neither"),  # --params was ignored
    ],
)
def test_plan_fit_refuses_what_it_cannot_fit_or_predict(
    tmp_path: Path, capsys, body: str | bytes, flags: list[str], said: str
):
    # Before: an lr of nan or inf printed "lr = nan * N^nan * D^nan" (exit 0); a file that is
    # not UTF-8 was a UnicodeDecodeError traceback; --tokens 0 printed "batch 0 tokens, lr 0".
    csv = tmp_path / "sweep.csv"
    csv.write_bytes(body if isinstance(body, bytes) else body.encode())
    line = one_line_error(*run_cli(["train", "plan", "--fit", str(csv), *flags], capsys))
    assert said in line


# --- eval --------------------------------------------------------------------------------


def test_eval_refuses_a_tokenizer_larger_than_the_model(run_dir: Path, tmp_path: Path, capsys):
    # Before: "error: IndexError: index out of range in self (traceback in ...)", exit 1.
    import qurate

    model = _model_copy(run_dir, tmp_path)
    shutil.copyfile(
        Path(qurate.__file__).parent / "data" / "tokenizer.json", model / "tokenizer.json"
    )
    args = ["eval", str(model), "--eval", f"x={_texts(tmp_path)}"]
    line = one_line_error(*run_cli(args, capsys))
    assert "8192 tokens but the model's vocab_size is 2048" in line


def test_eval_of_a_model_with_nan_weights_writes_no_nan(run_dir: Path, tmp_path: Path, capsys):
    # Before: the table said "bits_per_byte nan", -o got `"value": NaN`, exit 0.
    from safetensors.torch import load_file, save_file

    model = _model_copy(run_dir, tmp_path)
    sd = load_file(model / "model.safetensors")
    sd["model.norm.weight"][0] = float("nan")
    save_file(sd, model / "model.safetensors", metadata={"format": "pt"})
    out = tmp_path / "eval.json"
    args = ["eval", str(model), "--eval", f"x={_texts(tmp_path)}", "-o", str(out)]
    line = one_line_error(*run_cli(args, capsys))
    assert "bits_per_byte nan" in line and "not finite" in line
    assert not out.exists()


# --- post sft / dpo / grpo ---------------------------------------------------------------


@pytest.fixture(scope="module")
def chat_model() -> str:
    pytest.importorskip("trl")
    from qurate.llm.testing import cached_tiny_chat_model

    return str(cached_tiny_chat_model())


def _chat_dir(path: Path) -> Path:
    from tests.robust.test_robust_robust3b import _GOOD_CHAT
    from tests.robust.test_robust_robust3b import _chat_dir as make

    return make(path, [_GOOD_CHAT])


def test_post_sft_stops_when_training_diverges(chat_model: str, tmp_path: Path, capsys):
    # Before: learning_rate 1e30 logged "loss": 0.0 beside "grad_norm": NaN (the Trainer
    # drops non-finite losses from its average), saved NaN weights as final, exit 0.
    capsys.readouterr()
    cfg = tmp_path / "p.yaml"
    cfg.write_text("post:\n  sft:\n    learning_rate: 1.0e+30\n")
    out = tmp_path / "out"
    args = ["post", "sft", "--model", chat_model, "--data", str(_chat_dir(tmp_path / "chat"))]
    line = last_line_error(
        *run_cli([*args, "-o", str(out), "-c", str(cfg), "--max-steps", "3"], capsys)
    )
    assert "post sft diverged at step 2" in line and "post.sft.learning_rate" in line
    assert not (out / "final").exists()
    assert "NaN" not in (out / "metrics.jsonl").read_text()


def test_check_finite_names_every_non_finite_figure():
    from qurate.post.runs import DivergedError, check_finite

    check_finite({"step": 1, "loss": 0.7, "grad_norm": 2.0, "tokens": None}, "dpo")
    with pytest.raises(DivergedError, match=r"post dpo diverged at step 4 of dpo \(loss inf"):
        check_finite({"step": 4, "loss": float("inf"), "grad_norm": 1.0}, "dpo")


def test_post_sft_without_data_says_so_before_loading_the_model(
    chat_model: str, tmp_path: Path, capsys
):
    # Before: the weights loaded (a progress bar on stderr) and then the error came.
    capsys.readouterr()
    args = ["post", "sft", "--model", chat_model, "-o", str(tmp_path / "out")]
    line = one_line_error(*run_cli(args, capsys))
    assert "no data: give --data" in line
    assert not (tmp_path / "out").exists()


def test_grpo_leaves_out_prompts_no_reward_can_score(chat_model: str, tmp_path: Path, capsys):
    # Before: prompts without a `reference` under --reward math trained "1 steps on 1 rows",
    # every reward None (TRL: "ensure at least one reward function returns a valid reward"),
    # exit 0, and such prompts were counted as kept.
    from qurate.contract.stagedir import read_manifest

    capsys.readouterr()
    prompts = tmp_path / "p.jsonl"
    prompts.write_text('{"prompt": "What is 2+2?"}\n{"prompt": "Write f.", "tests": "f()"}\n')
    base = ["post", "grpo", "--model", chat_model, "--prompts", str(prompts), "--reward", "math"]
    line = one_line_error(*run_cli([*base, "-o", str(tmp_path / "o1")], capsys))
    assert "no prompt that --reward math can score (2 read)" in line

    # A repeated prompt (several pairs of one prompt) is one RL prompt and counted as left
    # out; before, `in` was the number after the repeats were dropped.
    one = '{"prompt": "What is 1+1?", "reference": "2"}\n'
    prompts.write_text(one + '{"prompt": "What is 2+2?"}\n' + one)
    out = tmp_path / "o2"
    code, err = run_cli([*base, "-o", str(out), "--max-steps", "1"], capsys)
    assert code in (0, None), err
    c = read_manifest(out)["counts"]
    left = {"no_reward": 1, "repeated_prompt": 1}
    assert (c["in"], c["kept"], c["rejected_by_reason"]) == (3, 1, left)
