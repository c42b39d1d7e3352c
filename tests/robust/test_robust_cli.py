"""Hostile command lines: each must end in one clean line and exit 2, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from qurate.cli import main


def run_cli(args: list[str], capsys) -> tuple[int, str]:
    with pytest.raises(SystemExit) as e:
        main(args)
    err = capsys.readouterr().err
    return e.value.code, err


def one_line_error(code: int, err: str) -> str:
    assert code == 2, err
    lines = [x for x in err.splitlines() if x.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err and "(traceback in" not in err
    return lines[0]


def test_init_into_a_directory_is_a_user_error(tmp_path: Path, capsys):
    # Before: "error: IsADirectoryError: ... (traceback in /tmp/qurate-error-*.log)", exit 1.
    line = one_line_error(*run_cli(["init", "-o", str(tmp_path)], capsys))
    assert str(tmp_path) in line and "cannot write" in line


def test_a_directory_as_config_is_named(tmp_path: Path, capsys):
    doc = tmp_path / "a.jsonl"
    doc.write_text('{"text": "x"}\n')
    args = ["curate", str(doc), "-o", str(tmp_path / "out"), "-c", str(tmp_path)]
    line = one_line_error(*run_cli(args, capsys))
    assert "is a directory, not a config file" in line  # was: "no such config file"


def test_resume_without_a_run_says_there_is_none(tmp_path: Path, capsys):
    # Before: "training needs a data directory (--data) and an output (-o)" though -o was given.
    line = one_line_error(*run_cli(["train", "-o", str(tmp_path / "r"), "--resume"], capsys))
    assert "no run to resume" in line


def test_train_into_a_file_is_a_user_error(tmp_path: Path, capsys):
    # Before: "error: FileExistsError: [Errno 17] File exists ... (traceback in ...)", exit 1.
    afile = tmp_path / "afile"
    afile.write_text("x")
    args = ["train", "--data", str(tmp_path), "-o", str(afile), "--preset", "tiny"]
    line = one_line_error(*run_cli(args, capsys))
    assert "exists and is not a directory" in line


def test_paths_with_rich_markup_print_as_they_are(capsys):
    # Before: a skipped input under `in/x[/]/` or an -o holding `[/]` raised rich's MarkupError
    # after the run had finished ("error: MarkupError: closing tag '[/]' ...", exit 1).
    from qurate.cli.curate import render_manifest

    manifest = {
        "stage": "curate",
        "counts": {"in": 1, "kept": 0, "rejected": 1, "rejected_by_reason": {"[red]x[/]": 1}},
        "skipped_inputs": {
            "count": 1,
            "by_reason": {"unknown format": 1},
            "paths": [{"path": "in/a[/]b/[bold]c.bin", "reason": "unknown format"}],
        },
    }
    render_manifest(manifest)
    err = capsys.readouterr().err
    assert "in/a[/]b/[bold]c.bin" in err and "[red]x[/]" in err


def test_export_into_a_file_or_a_stage_directory_is_refused(tmp_path: Path, capsys):
    # Before: -o FILE was "error: FileExistsError ... (traceback in ...)", exit 1, and -o a
    # curate output wrote model files in among its shards, exit 0.
    afile = tmp_path / "afile"
    afile.write_text("x")
    stage = tmp_path / "curated"
    stage.mkdir()
    (stage / "manifest.json").write_text("{}")
    for out, what in ((afile, "exists and is not a directory"), (stage, "stage directory")):
        line = one_line_error(*run_cli(["train", "export", str(tmp_path), "-o", str(out)], capsys))
        assert what in line


@pytest.mark.parametrize(
    ("err", "hint"),
    [
        (OSError(30, "Read-only file system", "ro/out"), "fix its permissions"),
        (PermissionError(13, "Permission denied", "ro/out"), "fix its permissions"),
        (OSError(28, "No space left on device", "ro/out"), "free some space"),
    ],
)
def test_a_place_that_cannot_be_written_is_a_user_error(monkeypatch, capsys, err, hint):
    # Before: every writing command into a read-only -o said "error: OSError: [Errno 30]
    # Read-only file system: 'ro/out' (traceback in /tmp/qurate-error-*.log)", exit 1 (a bug).
    import qurate.cli as cli

    def fail(args=None):
        raise err

    monkeypatch.setattr(cli, "_register", lambda: None)
    monkeypatch.setattr(cli, "app", fail)
    line = one_line_error(*run_cli(["curate"], capsys))
    assert line.startswith("error: ro/out: ") and hint in line


def test_an_oserror_of_ours_still_names_its_traceback(monkeypatch, capsys):
    import qurate.cli as cli

    def fail(args=None):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(cli, "_register", lambda: None)
    monkeypatch.setattr(cli, "app", fail)
    code, err = run_cli(["curate"], capsys)
    assert code == 1 and "(traceback in " in err
    Path(err.split("(traceback in ")[1].strip().rstrip(")")).unlink()


def test_resuming_a_finished_run_says_nothing_was_trained(tmp_path: Path, monkeypatch, capsys):
    # Before: "trained 50 steps, 64000 tokens; loss None; eval loss None; ..." for a run that
    # trained no step (resumed at its max_steps).
    from types import SimpleNamespace

    import qurate.train.api as api

    done = SimpleNamespace(
        already_done=False,
        final_loss=None,
        eval_loss=None,
        steps=50,
        tokens=64000,
        checkpoint=tmp_path / "checkpoints" / "step-00000050",
        out=tmp_path,
    )
    monkeypatch.setattr(api, "train_config", lambda *a, **k: done)
    with pytest.raises(SystemExit) as e:
        main(["train", "--data", str(tmp_path), "-o", str(tmp_path), "--resume"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert "nothing left to train: the run is at step 50" in out and "loss None" not in out
