"""The vLLM engine: in-process offline inference on GPU (optional extra ``gpu``).

Written against vLLM's documented offline API: ``LLM(model, enable_prefix_caching=True,
...)``, ``LLM.generate(prompts, SamplingParams(n, temperature, max_tokens, logprobs=k))``,
``LLM.chat`` for message lists, and ``LLM.classify`` / ``LLM.reward`` for pooling models.
Prefix caching is always on: the judge's prompts for one document share the document
prefix, so vLLM computes it once, the same effect as the transformers engine's explicit
KV reuse. Choice probabilities come from the top-``max_logprobs`` logprobs of one generated
token, restricted to the choices' first tokens (``allowed_token_ids``) so the sampled token
is always a choice. ``vllm`` is imported only when this engine is built.

Not exercised by the CPU test suite (no GPU here); ``bench/score.py`` runs it where a GPU is.
"""

from __future__ import annotations

import math
from typing import Any

from qurate.errors import ConfigError, MissingExtraError
from qurate.llm.base import (
    ChoiceResult,
    Generation,
    GenParams,
    LocalTokenizerEngine,
    Prompt,
)
from qurate.llm.config import EngineConfig
from qurate.llm.models import resolve_model

MAX_LOGPROBS = 32


class VLLMEngine(LocalTokenizerEngine):
    kind = "vllm"

    def __init__(self, config: EngineConfig) -> None:
        super().__init__()
        try:
            import vllm
        except ImportError as e:
            raise MissingExtraError("vllm", "gpu") from e
        self.vllm = vllm
        self.config = config
        src = resolve_model(config.model)
        self.model_id = src.model_id
        model = str(src.directory / src.gguf_file) if src.gguf_file else str(src.directory)
        kwargs: dict[str, Any] = {
            "model": model,
            "enable_prefix_caching": True,
            "gpu_memory_utilization": config.gpu_memory_utilization,
            "tensor_parallel_size": config.tensor_parallel_size,
            "max_logprobs": MAX_LOGPROBS,
        }
        if config.dtype != "auto":
            kwargs["dtype"] = config.dtype
        if config.max_model_len:
            kwargs["max_model_len"] = config.max_model_len
        try:
            self.llm = vllm.LLM(**kwargs)
        except (OSError, ValueError) as e:
            raise ConfigError(f"model {config.model!r}: vLLM cannot load it ({e})") from e
        self.tokenizer = self.llm.get_tokenizer()

    def render(self, prompt: Prompt) -> str:
        if isinstance(prompt, str):
            return prompt
        return self.tokenizer.apply_chat_template(
            prompt, tokenize=False, add_generation_prompt=True
        )

    def _generate(self, prompts: list[Prompt], params: Any) -> list[Any]:
        return self.llm.generate([self.render(p) for p in prompts], params, use_tqdm=False)

    def generate(self, prompts: list[Prompt], params: GenParams) -> list[Generation]:
        sp = self.vllm.SamplingParams(
            n=params.n,
            temperature=params.temperature,
            top_p=params.top_p,
            max_tokens=params.max_tokens,
            seed=params.seed,
            stop=list(params.stop) or None,
        )
        out = []
        for o in self._generate(prompts, sp):
            g = Generation(prompt_tokens=len(o.prompt_token_ids or []))
            for c in o.outputs:
                g.texts.append(c.text)
                g.finish_reasons.append("length" if c.finish_reason == "length" else "stop")
                g.completion_tokens += len(c.token_ids)
            out.append(g)
            self.meter.add(1, g.prompt_tokens + g.completion_tokens)
        return out

    def choice_probs(self, prompts: list[Prompt], choices: list[str]) -> list[ChoiceResult]:
        ids = [self.tokenizer.encode(c, add_special_tokens=False)[0] for c in choices]
        if len(set(ids)) != len(ids):
            from qurate.errors import EngineError

            raise EngineError(f"choices {choices} do not start with distinct tokens")
        sp = self.vllm.SamplingParams(
            max_tokens=1,
            temperature=0.0,
            logprobs=min(MAX_LOGPROBS, max(len(choices), 20)),
            allowed_token_ids=ids,
        )
        out = []
        for o in self._generate(prompts, sp):
            n = len(o.prompt_token_ids or [])
            top = o.outputs[0].logprobs[0] if o.outputs and o.outputs[0].logprobs else {}
            probs = {
                c: math.exp(top[i].logprob) if i in top else 0.0
                for c, i in zip(choices, ids, strict=True)
            }
            mass = sum(probs.values())
            self.meter.add(1, n)
            if mass <= 0:
                out.append(
                    ChoiceResult(error="no choice among the returned logprobs", prompt_tokens=n)
                )
            else:
                out.append(ChoiceResult({c: p / mass for c, p in probs.items()}, min(mass, 1.0), n))
        return out

    def sequence_scores(self, texts: list[Prompt]) -> list[float | None]:
        rendered = [self.render(t) for t in texts]
        outs = self.llm.classify(rendered, use_tqdm=False)
        scores: list[float | None] = []
        for o in outs:
            probs = list(o.outputs.probs)
            scores.append(float(probs[-1]) if len(probs) > 1 else float(probs[0]))
        return scores

    def close(self) -> None:
        del self.llm
