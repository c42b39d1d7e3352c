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

    kind: Literal["transformers", "vllm", "openai"] = "transformers"
    # A local HF dir, a .gguf file, "default" (embedded judge), or the server's model name.
    model: str = "default"
    # transformers: "cpu", "cuda", "cuda:1", or "auto" (cuda when available).
    device: str = "auto"
    # transformers on CPU: torch threads per engine. 1 by default: scale out with one task per
    # core (datatrove executors); several OpenMP threads per process on a busy machine were
    # 7x slower than one in our measurements.
    cpu_threads: int | None = Field(1, ge=1)
    # transformers/vllm weight dtype; "auto" = bf16 on GPU, fp32 on CPU.
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = "auto"
    # Prompts per forward pass (transformers) or per request wave (openai).
    batch_size: int = Field(8, ge=1)
    # openai: base URL of an OpenAI-compatible server, e.g. http://127.0.0.1:8000/v1.
    base_url: str | None = None
    # openai: the environment variable holding the API key (never the key itself).
    api_key_env: str = "OPENAI_API_KEY"
    # openai: requests in flight at once; per-request timeout; retries on 429/5xx/timeouts.
    max_concurrency: int = Field(16, ge=1)
    timeout_s: float = Field(60.0, gt=0)
    max_retries: int = Field(4, ge=0)
    backoff_s: float = Field(0.5, ge=0)
    # vllm: fraction of GPU memory, tensor parallel size, context length.
    gpu_memory_utilization: float = Field(0.85, gt=0, le=1)
    tensor_parallel_size: int = Field(1, ge=1)
    max_model_len: int | None = None
    # Prompt-level cache (SQLite); None disables it. Stages default it into the run dir.
    cache_path: str | None = None
