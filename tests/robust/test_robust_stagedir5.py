"""Output directories that a stage must not clear (sweep 5): user folders whose names only
begin like a stage's, outputs inside another stage's directory, outputs around an input."""

from __future__ import annotations

from pathlib import Path

import pytest

from qurate.errors import BadInputError
from tests.robust.test_robust_cli import one_line_error, run_cli
from tests.robust.test_robust_robust4 import _scored


@pytest.mark.parametrize("overwrite", [[], ["--overwrite"]])
def test_a_folder_whose_names_only_begin_like_a_stages_is_not_cleared(
    tmp_path: Path, capsys, overwrite
):
    # Before: names counted as a stage's own by prefix, so a folder holding only workshop/,
    # stats_2024.xlsx and cache_photos/ was cleared by `mix S -o FOLDER`, even without
    # --overwrite (no manifest and no run marker: nothing to protect), exit 0.
    s = _scored(tmp_path / "scored")
    mine = tmp_path / "mine"
    (mine / "workshop").mkdir(parents=True)
    (mine / "workshop" / "thesis.tex").write_text("chapter 1")
    (mine / "stats_2024.xlsx").write_text("cells")
    (mine / "cache_photos").mkdir()
    line = one_line_error(*run_cli(["mix", str(s), "-o", str(mine), *overwrite], capsys))
    assert "not a qurate stage directory" in line and "stats_2024.xlsx" in line
    assert (mine / "workshop" / "thesis.tex").read_text() == "chapter 1"
    assert (mine / "stats_2024.xlsx").is_file() and (mine / "cache_photos").is_dir()


def test_a_stages_own_names_still_count_as_its_own(tmp_path: Path, capsys):
    # The exact names a stage writes (a prompt cache opened before the run marker, rejects,
    # stats) do not make an interrupted output directory foreign.
    s = _scored(tmp_path / "scored")
    out = tmp_path / "out"
    (out / "cache").mkdir(parents=True)
    (out / "stats").mkdir()
    (out / "part-00009.parquet").write_bytes(b"")
    code, err = run_cli(["mix", str(s), "-o", str(out)], capsys)
    assert code in (0, None), err
    assert (out / "manifest.json").is_file() and not (out / "part-00009.parquet").exists()


def test_an_output_inside_another_stages_directory_is_refused(tmp_path: Path, capsys):
    # Before: `mix S -o OTHER/sub`, OTHER a finished stage that is not an input, was written;
    # OTHER's next `--overwrite` (or a restart of an interrupted run in it) cleared sub.
    s = _scored(tmp_path / "scored")
    other = _scored(tmp_path / "other")
    line = one_line_error(*run_cli(["mix", str(s), "-o", str(other / "sub")], capsys))
    assert f"inside the stage directory {other} (score.apply)" in line
    assert not (other / "sub").exists()


def test_an_output_inside_a_running_stage_is_refused(tmp_path: Path, capsys):
    s = _scored(tmp_path / "scored")
    running = tmp_path / "running"
    running.mkdir()
    (running / ".qurate-run.json").write_text('{"stage": "curate", "fingerprint": "x"}')
    line = one_line_error(*run_cli(["mix", str(s), "-o", str(running / "a" / "b")], capsys))
    assert "inside the stage directory" in line and "(curate)" in line


def test_an_output_that_holds_an_input_is_refused_before_it_is_cleared(tmp_path: Path):
    # Before: `post dpo --model RUN/final -o RUN --overwrite` (RUN a finished stage) cleared
    # RUN, the model with it, then failed to load the model it had deleted.
    from qurate.contract.stagedir import StageDir

    run = _scored(tmp_path / "run")
    model = run / "final"
    model.mkdir()
    (model / "config.json").write_text("{}")
    sd = StageDir(run, "post_dpo", overwrite=True, inputs=[model, tmp_path / "pairs"])
    with pytest.raises(BadInputError, match="holds the input"), sd:
        sd.begin("fp")
    assert (model / "config.json").is_file() and (run / "part-00000.parquet").is_file()
    # An input that does not exist (a model name, say) is not "inside" anything.
    sd = StageDir(tmp_path / "new", "post_dpo", inputs=[tmp_path / "new" / "Qwen" / "x"])
    with sd:
        assert sd.begin("fp") is None


def test_post_data_and_pairs_refuse_to_overwrite_their_input(tmp_path: Path, capsys):
    # Before: neither checked its inputs: `post data S -o S --overwrite` and `post pairs F -o
    # F --overwrite` cleared their input once read, then wrote their output in its place.
    from qurate.synth.config import FilterConfig
    from qurate.synth.filter import filter_samples
    from tests.post.post_builders import math_samples

    synth = tmp_path / "synth"
    filter_samples(math_samples(), synth, FilterConfig(dedup={"exact": False, "near": False}))
    shards = sorted(p.name for p in synth.iterdir())
    for cmd in (["post", "data", str(synth)], ["post", "pairs", str(synth)]):
        line = one_line_error(*run_cli([*cmd, "-o", str(synth), "--overwrite"], capsys))
        assert "inside the input" in line, cmd
        assert sorted(p.name for p in synth.iterdir()) == shards


def test_a_finished_stage_that_kept_nothing_says_so(tmp_path: Path):
    # Before: `post sft --data SFT` on a finished `post data` run that kept no conversation
    # said only "no Parquet shards (part-*.parquet) in this directory", as for a wrong folder.
    from qurate.contract.files import write_manifest
    from qurate.contract.shards import check_stage_dir

    empty = tmp_path / "sft"
    empty.mkdir()
    write_manifest(empty, stage="post_data", config_hash="x", inputs=[], n_in=3, n_kept=0,
                   rejected_by_reason={"too_long": 2, "lang": 1})  # fmt: skip
    with pytest.raises(BadInputError, match=r"post_data run finished but kept no documents "
                       r"\(0 of 3; rejected: too_long 2, lang 1\)"):  # fmt: skip
        check_stage_dir(empty)


def test_post_resume_with_no_earlier_run_is_refused(tmp_path: Path, capsys):
    # Before: `post sft --resume -o NEW` started a fresh run and exited 0 (a mistyped -o went
    # unnoticed), where `qurate train --resume` refuses.
    data = _scored(tmp_path / "chats")
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text('{"architectures": ["Qwen2ForCausalLM"]}')
    out = tmp_path / "nothere"
    cmd = ["post", "sft", "--model", str(model), "--data", str(data), "-o", str(out)]
    line = one_line_error(*run_cli([*cmd, "--resume"], capsys))
    assert "nothing to resume" in line and not out.exists()
