"""Fixtures for the mix tests (builders live in mix_builders.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from mix_builders import make_docs, write_stage


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Scored real data (four domains, skewed) and a small synthetic set (read-only)."""
    tmp_path = tmp_path_factory.mktemp("corpus")
    real = write_stage(
        tmp_path / "scored",
        make_docs(
            3000, domains={"ecommerce": 5, "entertainment": 3, "science": 1.5, "technology": 1}
        ),
    )
    syn = write_stage(
        tmp_path / "synth",
        make_docs(400, domains={"science": 1, "math": 1}, seed=1, prefix="syn"),
        stage="synth",
    )
    return real, syn
