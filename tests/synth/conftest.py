"""Shared fixtures: a scripted teacher (exact outputs, counts what it was asked) and tiny
real models built on the fly (nothing downloaded)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from qurate.llm.base import ChoiceResult, Engine, Generation, GenParams, Prompt


class ScriptedEngine(Engine):
    """A teacher whose k-th sample for a prompt is ``script(user_text, k)``."""

    kind = "scripted"

    def __init__(
        self, script: Callable[[str, int], str], model_id: str = "scripted-teacher"
    ) -> None:
        super().__init__()
        self.script = script
        self.model_id = model_id
        self.asked: list[str] = []

    def generate(self, prompts: list[Prompt], params: GenParams) -> list[Generation]:
        out = []
        for p in prompts:
            user = p if isinstance(p, str) else p[-1]["content"]
            self.asked.append(user)
            texts = [self.script(user, k) for k in range(params.n)]
            out.append(Generation(texts=texts, finish_reasons=["stop"] * params.n))
        return out

    def choice_probs(self, prompts: list[Prompt], choices: list[str]) -> list[ChoiceResult]:
        raise NotImplementedError


@pytest.fixture(scope="session")
def tiny_chat():
    pytest.importorskip("torch")
    from qurate.llm.testing import cached_tiny_chat_model

    return cached_tiny_chat_model()


@pytest.fixture(scope="session")
def tiny_rm(tmp_path_factory):
    pytest.importorskip("torch")
    from qurate.llm.testing import build_tiny_classifier

    return build_tiny_classifier(tmp_path_factory.mktemp("rm") / "rm", num_labels=1, seed=3)
