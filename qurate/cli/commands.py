"""The list of command groups. Each module exposes ``register(app)``; one line each."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    pass
