"""The options every command shares, spelled once: ``-c/--config``, ``-o/--output``,
``--overwrite``. A flag's default is ``None`` ("not given") so the config file wins unless
the flag is given; ``load`` reads a command's section with the one loader."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Optional, TypeVar

import typer
from pydantic import BaseModel
from rich.console import Console as _RichConsole

M = TypeVar("M", bound=BaseModel)


class Console(_RichConsole):
    """rich's Console with markup off. What the CLI prints holds the user's paths, file
    names, sources and reject reasons: a path holding ``[/]`` made rich raise ``MarkupError``
    after a finished run (exit 1), and one holding ``[red]`` was printed restyled. Style a
    line with ``style=`` instead of tags."""

    def __init__(self, *args: Any, markup: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, markup=markup, **kwargs)
        if self.width < MIN_WIDTH:
            self.width = MIN_WIDTH


# rich takes its width from COLUMNS: at COLUMNS=10 a `qurate stats` table had empty cells
# (the counts squeezed out), at COLUMNS=0 nothing was printed at all. Narrower than this, a
# line is left to the terminal to wrap; the numbers stay whole.
MIN_WIDTH = 60


def config_help(section: str) -> str:
    """The ``-c`` help, naming the section the command reads (shown in every --help)."""
    return (
        f"Pipeline YAML (`qurate init`); this command reads its `{section}:` section "
        "(a file holding only that section works too). Flags override the file."
    )


def config_option(section: str) -> Any:
    return typer.Option("-c", "--config", help=config_help(section))


Overwrite = Annotated[
    bool,
    typer.Option(
        "--overwrite",
        help="Replace a different finished (or interrupted) run in the output directory; "
        "without it a rerun of the same run is a no-op and an interrupted one resumes.",
    ),
]


def output_option(what: str) -> Any:
    return typer.Option("-o", "--output", help=what)


OptionalPath = Optional[Path]


def load(
    path: Path | None,
    section: str,
    model: type[M],
    overrides: Mapping[str, Any] | None = None,
    *,
    whole_file: bool = True,
) -> M:
    """``section`` of the ``-c`` file as ``model``, with the given (non-None) flags on top.
    A dotted section (``synth.generate``) is a sub-section of a pipeline file."""
    from qurate.contract.config import load_section

    return load_section(path, section, model, overrides, whole_file=whole_file)


def executor(path: Path | None):
    """The ``executor:`` section of the ``-c`` file (local when absent)."""
    from qurate.contract.executors import ExecutorConfig

    return load(path, "executor", ExecutorConfig, whole_file=False)
