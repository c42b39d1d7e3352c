"""The list of command groups. Each module exposes ``register(app)``; one line each."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    from qurate.cli import curate; curate.register(app)
    from qurate.cli import mix; mix.register(app)
    from qurate.cli import train; train.register(app)
    from qurate.cli import score; score.register(app)
    from qurate.cli import synth; synth.register(app)
    from qurate.cli import augment; augment.register(app)
    from qurate.cli import post; post.register(app)
    from qurate.cli import run; run.register(app)
    from qurate.cli import ablate; ablate.register(app)
