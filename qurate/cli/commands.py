"""The list of command groups. Each module exposes ``register(app)``."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    from qurate.cli import ablate, augment, curate, mix, post, run, score, synth, train

    for group in (curate, mix, train, score, synth, augment, post, run, ablate):  # help order
        group.register(app)
