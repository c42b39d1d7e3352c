"""Engine config: which backend, which model, and how hard to push it.

``model`` is a local Hugging Face checkpoint directory, a GGUF file, the word ``default``
(the embedded SmolLM2-135M-Instruct judge), or, for ``openai``, the model name the server
knows. Nothing is ever fetched from a hub: a path that does not exist is a ConfigError.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class EngineConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["transformers", "vllm", "openai"] = Field(
        "transformers",
        description="transformers (local, CPU or GPU) | vllm (GPU, optional extra) | openai (any OpenAI-compatible server over HTTP)",
    )
    model: str = Field(
        "default",
        description='A local HF dir, a .gguf file, "default" (embedded judge), or the server\'s model name.',
    )
    device: str = Field(
        "auto",
        description='transformers: "cpu", "cuda", "cuda:1", or "auto" (cuda when available).',
    )
    cpu_threads: int | None = Field(
        1,
        ge=1,
        description="transformers on CPU: torch threads per engine. 1 by default: scale out with one task per core (datatrove executors); several OpenMP threads per process on a busy machine were 7x slower than one in our measurements.",
    )
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = Field(
        "auto", description='transformers/vllm weight dtype; "auto" = bf16 on GPU, fp32 on CPU.'
    )
    batch_size: int = Field(
        8, ge=1, description="Prompts per forward pass (transformers) or per request wave (openai)."
    )
    base_url: str | None = Field(
        None,
        description="openai: base URL of an OpenAI-compatible server, e.g. http://127.0.0.1:8000/v1.",
    )
    api_key_env: str = Field(
        "OPENAI_API_KEY",
        description="openai: the environment variable holding the API key (never the key itself).",
    )
    max_concurrency: int = Field(16, ge=1, description="openai: requests in flight at once")
    timeout_s: float = Field(60.0, gt=0, description="openai: seconds per request")
    max_retries: int = Field(
        4, ge=0, description="openai: retries on 429/5xx/timeouts (retryable errors only)"
    )
    backoff_s: float = Field(
        0.5,
        ge=0,
        description="openai: base retry delay in seconds, doubled each retry (with jitter)",
    )
    gpu_memory_utilization: float = Field(
        0.85, gt=0, le=1, description="vllm: fraction of GPU memory to use"
    )
    tensor_parallel_size: int = Field(
        1, ge=1, description="vllm: GPUs per model (tensor parallel size)"
    )
    max_model_len: int | None = Field(None, description="vllm: context length; none = the model's")
    cache_path: str | None = Field(
        None,
        description="Prompt-level cache (SQLite); None disables it. Stages default it into the run dir.",
    )
