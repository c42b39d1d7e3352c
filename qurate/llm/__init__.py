"""One interface over inference engines: transformers (CPU/GPU), vLLM (GPU), OpenAI-compatible.

``load_engine(config)`` builds the engine the config names and, when ``cache_path`` is set,
wraps it in the persistent prompt cache. Heavy imports (torch, vllm, httpx) happen inside
the engine modules, so importing ``qurate.llm`` stays cheap.
"""

from __future__ import annotations

from pathlib import Path

from qurate.llm.base import ChoiceResult, Engine, Generation, GenParams, Message, Prompt
from qurate.llm.config import EngineConfig

__all__ = [
    "ChoiceResult",
    "Engine",
    "EngineConfig",
    "GenParams",
    "Generation",
    "Message",
    "Prompt",
    "load_engine",
]


def load_engine(config: EngineConfig, cache_path: str | Path | None = None) -> Engine:
    """The engine ``config.kind`` names, behind a prompt cache if a cache path is given."""
    engine: Engine
    if config.kind == "transformers":
        from qurate.llm.hf import TransformersEngine

        engine = TransformersEngine(config)
    elif config.kind == "vllm":
        from qurate.llm.vllm_engine import VLLMEngine

        engine = VLLMEngine(config)
    else:
        from qurate.llm.openai_engine import OpenAIEngine

        engine = OpenAIEngine(config)
    path = cache_path or config.cache_path
    if path:
        from qurate.llm.cache import CachedEngine, PromptCache

        engine = CachedEngine(engine, PromptCache(path))
    return engine
