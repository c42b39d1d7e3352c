"""The command line as a user meets it: help everywhere, README coverage, one-line errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import typer

from qurate.cli import _register, app

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def commands() -> list[tuple[str, object]]:
    _register()
    root = typer.main.get_command(app)
    found = []

    def walk(cmd, path: str) -> None:
        if hasattr(cmd, "commands"):  # a group (typer ships its own click)
            for name, sub in cmd.commands.items():
                walk(sub, f"{path} {name}".strip())
        else:
            found.append((path, cmd))

    walk(root, "")
    return found


def test_every_command_has_help_and_a_readme_line():
    cmds = commands()
    assert {"curate", "stats", "init", "run"} <= {p for p, _ in cmds}
    for path, cmd in cmds:
        assert (cmd.help or "").strip(), f"`qurate {path}` has no help text"
        assert f"qurate {path}" in README, f"`qurate {path}` is not in the README"


def qurate(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "qurate", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["curate", "missing.jsonl", "-o", "out"], "missing.jsonl: no such file or directory"),
        (["stats", "nowhere"], "nowhere: no such directory"),
        (
            ["curate", "in.jsonl", "-o", "out", "-c", "bad.yaml"],
            "bad.yaml: curate.nope: unknown key",
        ),
    ],
)
def test_user_mistakes_are_one_clean_line(tmp_path: Path, args: list[str], message: str):
    (tmp_path / "in.jsonl").write_text('{"text": "hello"}\n')
    (tmp_path / "bad.yaml").write_text("curate:\n  nope: 1\n")
    proc = qurate(*args, cwd=tmp_path)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0], proc.stderr


def test_init_writes_a_config_that_curate_accepts(tmp_path: Path):
    proc = qurate("init", cwd=tmp_path)
    assert proc.returncode == 0 and "curate:" in proc.stdout
    (tmp_path / "pipeline.yaml").write_text(proc.stdout)
    (tmp_path / "in.jsonl").write_text('{"text": "hello"}\n')
    proc = qurate(
        "curate", "in.jsonl", "-o", "out", "-c", "pipeline.yaml", "--no-progress", cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    assert "1 in, 0 kept, 1 rejected" in proc.stderr


def test_every_command_help_names_its_config_section():
    _register()
    root = typer.main.get_command(app)
    groups = [(name, sub) for name, sub in root.commands.items() if hasattr(sub, "commands")]
    for path, cmd in commands() + groups:
        assert "Config section" in (cmd.help or ""), f"`qurate {path} --help` names no section"


def test_every_writing_command_takes_output_and_overwrite():
    writing = {"curate", "score annotate", "score distill", "score apply", "augment recall",
               "augment ingest", "synth generate", "synth filter", "mix", "run"}  # fmt: skip
    found = dict(commands())
    for path in writing:
        opts = {o for p in found[path].params for o in getattr(p, "opts", [])}
        assert {"-o", "--output", "--overwrite"} <= opts, (path, opts)
    for path, cmd in found.items():
        opts = {o for p in cmd.params for o in getattr(p, "opts", [])}
        assert "--out" not in opts, f"`qurate {path}` still spells --out"


def test_calling_main_again_does_not_register_the_commands_again(capsys):
    # Before: every `main()` call added every command group to the app again, and Typer
    # builds the whole tree per call, so the Nth call in one process (a notebook, the test
    # suite) built N copies: the help test took 72 s in the suite against 5 s alone.
    from qurate.cli import main

    def size() -> tuple[int, int]:
        return len(app.registered_groups), len(app.registered_commands)

    for _ in range(3):
        with pytest.raises(SystemExit):
            main(["--help"])
        if _ == 0:
            first = size()
    assert size() == first and first[0] >= 5, (first, size())
    capsys.readouterr()
