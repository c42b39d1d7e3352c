"""The engine interface every LLM backend implements, and what the operations return.

Three operations cover what qurate asks of a model:

- ``generate``: n samples per prompt with temperature / max tokens (synthesis, teachers);
- ``choice_probs``: the next-token distribution restricted to a set of choice strings, which
  is how the judge scores without parsing free text (expected value over "0".."5");
- ``sequence_scores``: one float per text from a reward or classification head.

``choice_probs_grouped`` takes prompts in groups that share a long prefix (one document,
several questions). The default flattens the groups; the transformers engine overrides it to
run the shared prefix once and each question from the cached keys/values, and vLLM gets the
same effect from its prefix cache. Prompts are either plain strings (sent as is) or chat
message lists (rendered with the model's chat template by the engine).

Failures of one prompt never raise: they come back as a result with ``error`` set, so a run
records the reason and goes on. Only a broken engine (a model that does not load, a server
that is down) raises ``EngineError``.
"""

from __future__ import annotations

import logging
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

Message = dict[str, str]
Prompt = str | list[Message]  # a plain string, or chat messages for the chat template

log = logging.getLogger("qurate.llm")


@dataclass(frozen=True)
class GenParams:
    """Sampling parameters of ``generate`` (part of the prompt-cache key)."""

    n: int = 1
    temperature: float = 0.0
    max_tokens: int = 256
    top_p: float = 1.0
    seed: int = 0
    stop: tuple[str, ...] = ()

    def key(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
            "top_p": self.top_p,
            "seed": self.seed,
            "stop": list(self.stop),
        }


@dataclass
class Generation:
    """The samples for one prompt; ``finish_reasons`` is "stop" or "length" per sample."""

    texts: list[str] = field(default_factory=list)
    finish_reasons: list[str] = field(default_factory=list)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    error: str | None = None


@dataclass
class ChoiceResult:
    """Probabilities over the requested choices (renormalised to sum to 1).

    ``mass`` is how much of the model's full next-token probability the choices held before
    renormalising: a low mass says the model wanted to answer something else.
    """

    probs: dict[str, float] = field(default_factory=dict)
    mass: float = 0.0
    prompt_tokens: int = 0
    error: str | None = None

    def expected(self) -> float | None:
        """The expected value when the choices are numbers (the judge's 0-5 score)."""
        if self.error or not self.probs:
            return None
        return float(sum(float(k) * p for k, p in self.probs.items()))

    def best(self) -> tuple[str, float] | None:
        if self.error or not self.probs:
            return None
        label = max(self.probs, key=self.probs.__getitem__)
        return label, self.probs[label]

    def to_json(self) -> dict[str, Any]:
        return {"probs": self.probs, "mass": self.mass, "prompt_tokens": self.prompt_tokens}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> ChoiceResult:
        return cls(probs=d["probs"], mass=d["mass"], prompt_tokens=d.get("prompt_tokens", 0))


class Throughput:
    """Counts documents and tokens and logs docs/s and tokens/s every ``every_s`` seconds."""

    def __init__(self, name: str, every_s: float = 10.0) -> None:
        self.name = name
        self.every_s = every_s
        self.start = time.perf_counter()
        self._last_log = self.start
        self.docs = 0
        self.tokens = 0
        self.cached = 0

    def add(self, docs: int, tokens: int, cached: int = 0) -> None:
        self.docs += docs
        self.tokens += tokens
        self.cached += cached
        now = time.perf_counter()
        if now - self._last_log >= self.every_s:
            self._last_log = now
            log.info(self.summary())

    def rates(self) -> dict[str, float]:
        dt = max(time.perf_counter() - self.start, 1e-9)
        return {
            "docs": self.docs,
            "tokens": self.tokens,
            "cached": self.cached,
            "seconds": dt,
            "docs_per_s": self.docs / dt,
            "tokens_per_s": self.tokens / dt,
        }

    def summary(self) -> str:
        r = self.rates()
        return (
            f"{self.name}: {r['docs']} prompts ({r['cached']} from cache), "
            f"{r['docs_per_s']:.2f} prompts/s, {r['tokens_per_s']:.0f} tokens/s"
        )


class Engine(ABC):
    """An inference backend. Subclasses set ``kind`` and ``model_id`` (the cache key's model)."""

    kind: str = "base"
    model_id: str = ""

    def __init__(self) -> None:
        self.meter = Throughput(f"llm[{self.kind}]")

    @abstractmethod
    def generate(self, prompts: list[Prompt], params: GenParams) -> list[Generation]:
        """n samples for each prompt."""

    @abstractmethod
    def choice_probs(self, prompts: list[Prompt], choices: list[str]) -> list[ChoiceResult]:
        """For each prompt, the next-token probabilities of each choice string."""

    def choice_probs_grouped(
        self, groups: list[list[Prompt]], choices: list[list[str]]
    ) -> list[list[ChoiceResult]]:
        """Prompts grouped by document; ``choices[j]`` are the choices of question ``j``.

        Every group has the same questions in the same order. The default makes one call per
        question; engines with prefix reuse override this.
        """
        out: list[list[ChoiceResult]] = [[] for _ in groups]
        for j, ch in enumerate(choices):
            results = self.choice_probs([g[j] for g in groups], ch)
            for i, r in enumerate(results):
                out[i].append(r)
        return out

    def sequence_scores(self, texts: list[Prompt]) -> list[float | None]:
        """One score per text from a reward / classification model."""
        raise NotImplementedError(f"engine {self.kind} has no sequence scores")

    def count_tokens(self, text: str) -> int:
        """Tokens in ``text`` (engines without a local tokenizer estimate 4 chars/token)."""
        return max(1, len(text) // 4)

    def truncate(self, text: str, max_tokens: int) -> tuple[str, bool]:
        """``text`` cut to at most ``max_tokens`` tokens, and whether it was cut."""
        approx = max_tokens * 4
        return (text[:approx], True) if len(text) > approx else (text, False)

    def close(self) -> None:  # noqa: B027 - optional hook
        """Free what the engine holds (HTTP clients, GPU memory)."""


class LocalTokenizerEngine(Engine):
    """An engine that holds a Hugging Face tokenizer (``self.tokenizer``): exact token
    counts and truncation on token boundaries instead of the 4-chars estimate."""

    tokenizer: Any

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer.encode(text, add_special_tokens=False))

    def truncate(self, text: str, max_tokens: int) -> tuple[str, bool]:
        enc = self.tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
        offsets = enc["offset_mapping"]
        if len(offsets) <= max_tokens:
            return text, False
        return text[: offsets[max_tokens - 1][1]], True
