"""The `qurate` command line: a thin Typer app over the library.

Each command group lives in its own module under ``qurate/cli/`` and exposes either
``app`` (a Typer sub-app) or ``register(root)``. A command parses flags, builds a config,
calls one library function and renders the result. Library errors (``QurateError``) become
a one-line message and exit code 2, never a traceback.
"""

from __future__ import annotations

import sys

import typer

from qurate import __version__
from qurate.errors import QurateError

app = typer.Typer(
    name="qurate",
    help="Curate raw text into a Qwen2.5-style pretraining mixture and train a Qwen2.5 model on it.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"qurate {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """qurate: filter, score, augment, synthesise, mix, train."""


def _register() -> None:
    """Attach every command group. Import here so `qurate --help` stays the only cost."""
    from qurate.cli import commands

    commands.register(app)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app, turning library errors into one clean line."""
    _register()
    try:
        app(args=argv)
    except QurateError as e:
        typer.secho(f"error: {e}", fg=typer.colors.RED, err=True)
        sys.exit(2)
