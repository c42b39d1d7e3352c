"""Fixtures: a small synth filter directory (math with references, verified for real) and
tiny real chat models built on the fly (nothing downloaded)."""

from __future__ import annotations

from pathlib import Path

import pytest
from post_builders import math_samples


@pytest.fixture(scope="session")
def synth_dir(tmp_path_factory) -> Path:
    from qurate.synth.config import FilterConfig
    from qurate.synth.filter import filter_samples

    out = tmp_path_factory.mktemp("synth") / "filtered"
    cfg = FilterConfig(dedup={"exact": False, "near": False})
    filter_samples(math_samples(), out, cfg)
    return out


@pytest.fixture(scope="session")
def tiny_chat():
    pytest.importorskip("trl")
    from qurate.llm.testing import cached_tiny_chat_model

    return cached_tiny_chat_model()
