"""A persistent prompt-level cache, so a killed run resumes without asking the model again.

Keys are a SHA-256 of (model id, operation, prompt, parameters); values are the JSON of the
result. The store is one SQLite file in the run directory (WAL mode, one commit per batch),
which survives a kill at any point: a batch is either committed or asked again.

``CachedEngine`` wraps any engine and only forwards the prompts it has not seen. Results
that carry an error are never cached, so a transient failure is retried on the next run.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from pathlib import Path
from typing import Any

from qurate.llm.base import ChoiceResult, Engine, Generation, GenParams, Prompt


def cache_key(model: str, op: str, prompt: Prompt, params: Any) -> str:
    blob = json.dumps([model, op, prompt, params], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()


class PromptCache:
    """A key -> JSON store in SQLite."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(self.path), check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS cache (key TEXT PRIMARY KEY, value TEXT)")
        self._db.commit()

    def get_many(self, keys: list[str]) -> dict[str, Any]:
        found: dict[str, Any] = {}
        with self._lock:
            for i in range(0, len(keys), 500):
                chunk = keys[i : i + 500]
                q = f"SELECT key, value FROM cache WHERE key IN ({','.join('?' * len(chunk))})"
                for k, v in self._db.execute(q, chunk):
                    found[k] = json.loads(v)
        return found

    def put_many(self, items: dict[str, Any]) -> None:
        if not items:
            return
        with self._lock:
            self._db.executemany(
                "INSERT OR REPLACE INTO cache (key, value) VALUES (?, ?)",
                [(k, json.dumps(v, ensure_ascii=False)) for k, v in items.items()],
            )
            self._db.commit()

    def __len__(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM cache").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _gen_to_json(g: Generation) -> dict[str, Any]:
    return {
        "texts": g.texts,
        "finish_reasons": g.finish_reasons,
        "prompt_tokens": g.prompt_tokens,
        "completion_tokens": g.completion_tokens,
    }


class CachedEngine(Engine):
    """Any engine behind a ``PromptCache``; asks the inner engine only for misses."""

    def __init__(self, inner: Engine, cache: PromptCache) -> None:
        self.inner = inner
        self.cache = cache
        self.kind = inner.kind
        self.model_id = inner.model_id
        self.meter = inner.meter
        self.hits = 0
        self.misses = 0

    def _split(self, keys: list[str]) -> tuple[dict[str, Any], list[int]]:
        found = self.cache.get_many(keys)
        missing = [i for i, k in enumerate(keys) if k not in found]
        self.hits += len(keys) - len(missing)
        self.misses += len(missing)
        self.meter.add(0, 0, cached=len(keys) - len(missing))
        return found, missing

    def generate(self, prompts: list[Prompt], params: GenParams) -> list[Generation]:
        keys = [cache_key(self.model_id, "generate", p, params.key()) for p in prompts]
        found, missing = self._split(keys)
        fresh = self.inner.generate([prompts[i] for i in missing], params) if missing else []
        out: list[Generation] = [Generation(**found[k]) if k in found else None for k in keys]  # type: ignore[misc]
        new = {}
        for i, g in zip(missing, fresh, strict=False):
            out[i] = g
            if g.error is None:
                new[keys[i]] = _gen_to_json(g)
        self.cache.put_many(new)
        return out

    def choice_probs(self, prompts: list[Prompt], choices: list[str]) -> list[ChoiceResult]:
        keys = [cache_key(self.model_id, "choice", p, choices) for p in prompts]
        found, missing = self._split(keys)
        fresh = self.inner.choice_probs([prompts[i] for i in missing], choices) if missing else []
        out: list[ChoiceResult] = [
            ChoiceResult.from_json(found[k]) if k in found else None  # type: ignore[misc]
            for k in keys
        ]
        new = {}
        for i, r in zip(missing, fresh, strict=False):
            out[i] = r
            if r.error is None:
                new[keys[i]] = r.to_json()
        self.cache.put_many(new)
        return out

    def choice_probs_grouped(
        self, groups: list[list[Prompt]], choices: list[list[str]]
    ) -> list[list[ChoiceResult]]:
        keys = [
            [cache_key(self.model_id, "choice", p, choices[j]) for j, p in enumerate(g)]
            for g in groups
        ]
        found = self.cache.get_many([k for ks in keys for k in ks])
        missing = [i for i, ks in enumerate(keys) if not all(k in found for k in ks)]
        self.hits += len(groups) - len(missing)
        self.misses += len(missing)
        self.meter.add(0, 0, cached=len(groups) - len(missing))
        fresh = (
            self.inner.choice_probs_grouped([groups[i] for i in missing], choices)
            if missing
            else []
        )
        todo = set(missing)
        out: list[list[ChoiceResult]] = [
            [] if i in todo else [ChoiceResult.from_json(found[k]) for k in ks]
            for i, ks in enumerate(keys)
        ]
        new = {}
        for i, results in zip(missing, fresh, strict=False):
            out[i] = results
            for k, r in zip(keys[i], results, strict=False):
                if r.error is None:
                    new[k] = r.to_json()
        self.cache.put_many(new)
        return out

    def sequence_scores(self, texts: list[Prompt]) -> list[float | None]:
        keys = [cache_key(self.model_id, "score", t, None) for t in texts]
        found, missing = self._split(keys)
        fresh = self.inner.sequence_scores([texts[i] for i in missing]) if missing else []
        out: list[float | None] = [found.get(k) for k in keys]
        new = {}
        for i, s in zip(missing, fresh, strict=False):
            out[i] = s
            if s is not None:
                new[keys[i]] = s
        self.cache.put_many(new)
        return out

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    def truncate(self, text: str, max_tokens: int) -> tuple[str, bool]:
        return self.inner.truncate(text, max_tokens)

    def close(self) -> None:
        self.inner.close()
        self.cache.close()
