"""The OpenAI-compatible engine: any server that speaks /v1/completions and
/v1/chat/completions (``vllm serve``, SGLang, llama.cpp server, ``transformers serve``).

Requests go out concurrently (asyncio + httpx) with at most ``max_concurrency`` in flight,
a per-request timeout, and retries with exponential backoff and jitter on 429, 5xx,
timeouts and refused connections; any other 4xx is not retried (it will not get better).
When every retry of a request fails to connect, the engine is down: that raises
``EngineError`` (one line) instead of marking every document failed.

Choice probabilities need the server to return logprobs (``top_logprobs``). A server that
ignores the field (``transformers serve`` does) raises a clear ``EngineError`` naming it.
Without a local tokenizer, a choice matches a returned top token by its stripped text.
"""

from __future__ import annotations

import asyncio
import math
import os
import random
from typing import Any

from qurate.errors import ConfigError, EngineError, MissingExtraError
from qurate.llm.base import ChoiceResult, Engine, Generation, GenParams, Prompt
from qurate.llm.config import EngineConfig

TOP_LOGPROBS = 20
_RETRY_STATUS = {429, 500, 502, 503, 504}


class _Down(Exception):
    """Every attempt of a request failed to connect."""


class OpenAIEngine(Engine):
    kind = "openai"

    def __init__(self, config: EngineConfig) -> None:
        super().__init__()
        try:
            import httpx
        except ImportError as e:
            raise MissingExtraError("httpx", "score") from e
        if not config.base_url:
            raise ConfigError(
                "engine.base_url: the openai engine needs the server URL, e.g. http://127.0.0.1:8000/v1"
            )
        self.httpx = httpx
        self.config = config
        self.base_url = config.base_url.rstrip("/")
        self.model_id = f"{self.base_url}#{config.model}"
        key = os.environ.get(config.api_key_env, "")
        self.headers = {"Authorization": f"Bearer {key}"} if key else {}

    # -- transport ------------------------------------------------------------------------

    async def _post(
        self, client: Any, sem: asyncio.Semaphore, path: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        cfg = self.config
        last = ""
        connect_failures = 0
        for attempt in range(cfg.max_retries + 1):
            if attempt:
                await asyncio.sleep(cfg.backoff_s * 2 ** (attempt - 1) * (0.5 + random.random()))
            async with sem:
                try:
                    r = await client.post(f"{self.base_url}{path}", json=body, headers=self.headers)
                except self.httpx.ConnectError as e:
                    connect_failures += 1
                    last = f"cannot connect: {e}"
                    continue
                except self.httpx.TimeoutException:
                    last = f"timed out after {cfg.timeout_s}s"
                    continue
            if r.status_code in _RETRY_STATUS:
                last = f"HTTP {r.status_code}: {r.text[:200]}"
                continue
            if r.status_code >= 400:
                raise EngineError(f"{self.base_url}{path}: HTTP {r.status_code}: {r.text[:300]}")
            return r.json()
        if connect_failures == cfg.max_retries + 1:
            raise _Down(last)
        raise EngineError(
            f"{path}: gave up after {cfg.max_retries + 1} tries ({last})", retryable=True
        )

    def _run(self, path: str, bodies: list[dict[str, Any]]) -> list[dict[str, Any] | EngineError]:
        async def main() -> list[Any]:
            sem = asyncio.Semaphore(self.config.max_concurrency)
            timeout = self.httpx.Timeout(self.config.timeout_s)
            async with self.httpx.AsyncClient(timeout=timeout) as client:
                return await asyncio.gather(
                    *(self._post(client, sem, path, b) for b in bodies), return_exceptions=True
                )

        results = asyncio.run(main())
        for r in results:
            if isinstance(r, _Down):
                raise EngineError(
                    f"engine at {self.base_url} is down ({r}); start the server or fix engine.base_url"
                )
            if isinstance(r, EngineError) and not r.retryable:
                raise r
            if isinstance(r, BaseException) and not isinstance(r, EngineError):
                raise EngineError(f"{self.base_url}{path}: {r}") from r
        return results

    def _body(
        self, prompt: Prompt, logprobs: bool = False, **kw: Any
    ) -> tuple[str, dict[str, Any]]:
        # Logprobs are asked differently: chat wants logprobs=true + top_logprobs=k,
        # completions wants logprobs=k.
        if isinstance(prompt, str):
            extra = {"logprobs": TOP_LOGPROBS} if logprobs else {}
            return "/completions", {"model": self.config.model, "prompt": prompt, **kw, **extra}
        extra = {"logprobs": True, "top_logprobs": TOP_LOGPROBS} if logprobs else {}
        return "/chat/completions", {"model": self.config.model, "messages": prompt, **kw, **extra}

    def _grouped_run(self, prompts: list[Prompt], **kw: Any) -> list[dict[str, Any] | EngineError]:
        """Send each prompt to its endpoint (completions or chat), results in prompt order."""
        out: list[Any] = [None] * len(prompts)
        by_path: dict[str, list[tuple[int, dict[str, Any]]]] = {}
        for i, p in enumerate(prompts):
            path, body = self._body(p, **kw)
            by_path.setdefault(path, []).append((i, body))
        for path, items in by_path.items():
            for (i, _), r in zip(items, self._run(path, [b for _, b in items]), strict=True):
                out[i] = r
        return out

    # -- operations -----------------------------------------------------------------------

    def generate(self, prompts: list[Prompt], params: GenParams) -> list[Generation]:
        kw: dict[str, Any] = {
            "n": params.n,
            "temperature": params.temperature,
            "max_tokens": params.max_tokens,
            "top_p": params.top_p,
            "seed": params.seed,
        }
        if params.stop:
            kw["stop"] = list(params.stop)
        out = []
        for _p, r in zip(prompts, self._grouped_run(prompts, **kw), strict=True):
            if isinstance(r, EngineError):
                out.append(Generation(error=str(r)))
                continue
            g = Generation()
            for c in r.get("choices", []):
                text = c.get("text") if "text" in c else (c.get("message") or {}).get("content")
                g.texts.append(text or "")
                g.finish_reasons.append(c.get("finish_reason") or "stop")
            usage = r.get("usage") or {}
            g.prompt_tokens = usage.get("prompt_tokens", 0)
            g.completion_tokens = usage.get("completion_tokens", 0)
            if not g.texts:
                g.error = "server returned no choices"
            out.append(g)
            self.meter.add(1, g.prompt_tokens + g.completion_tokens)
        return out

    def choice_probs(self, prompts: list[Prompt], choices: list[str]) -> list[ChoiceResult]:
        kw: dict[str, Any] = {"max_tokens": 1, "temperature": 0.0, "logprobs": True}
        out = []
        for r in self._grouped_run(prompts, **kw):
            if isinstance(r, EngineError):
                out.append(ChoiceResult(error=str(r)))
                continue
            top = _top_logprobs(r)
            if top is None:
                raise EngineError(
                    f"the server at {self.base_url} returned no logprobs: choice scoring needs one "
                    "that does (vLLM, SGLang); `transformers serve` ignores them"
                )
            probs = {c: 0.0 for c in choices}
            for tok, lp in top.items():
                t = tok.strip()
                for c in choices:
                    if t and (t == c or (len(c) > len(t) and c.startswith(t))):
                        probs[c] += math.exp(lp)
            mass = sum(probs.values())
            n = (r.get("usage") or {}).get("prompt_tokens", 0)
            self.meter.add(1, n)
            if mass <= 0:
                out.append(ChoiceResult(error="no choice among the top logprobs", prompt_tokens=n))
            else:
                out.append(ChoiceResult({c: v / mass for c, v in probs.items()}, mass, n))
        return out

    def sequence_scores(self, texts: list[Prompt]) -> list[float | None]:
        """vLLM's classification endpoint (``/classify`` at the server root)."""
        root = self.base_url[: -len("/v1")] if self.base_url.endswith("/v1") else self.base_url
        saved, self.base_url = self.base_url, root
        try:
            inputs = [
                t if isinstance(t, str) else "\n".join(m["content"] for m in t) for t in texts
            ]
            (r,) = self._run("/classify", [{"model": self.config.model, "input": inputs}])
        finally:
            self.base_url = saved
        if isinstance(r, EngineError):
            return [None] * len(texts)
        return [
            float(d["probs"][-1]) if len(d["probs"]) > 1 else float(d["probs"][0])
            for d in r["data"]
        ]


def _top_logprobs(r: dict[str, Any]) -> dict[str, float] | None:
    """token -> logprob of the first generated position, from either response shape."""
    try:
        lp = r["choices"][0].get("logprobs")
    except (KeyError, IndexError, AttributeError):
        return None
    if not lp:
        return None
    if lp.get("content"):  # chat shape
        return {
            e["token"]: e["logprob"] for e in lp["content"][0].get("top_logprobs") or []
        } or None
    tops = lp.get("top_logprobs")  # completions shape
    return dict(tops[0]) if tops and tops[0] else None
