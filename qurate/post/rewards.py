"""GRPO rewards from our verifiers and reward models, and the RL prompt set.

- ``math``: the synth math verifier (last ``\\boxed{}`` vs ``reference``, symbolic); a
  missing or unparseable reference is *no reward* (None: TRL leaves the sample out of that
  reward), not zero, so a broken reference never teaches the policy anything; a prompt
  that only such a reward could score is left out and counted (``unscorable``);
- ``code``: the synth sandbox: tests pass = 1, failure or timeout = 0, no tests = None;
  short per-test timeout, several workers;
- ``rm:PATH``: a reward-model checkpoint (``Qwen2ForSequenceClassification``-style).

Every reward is :class:`Guarded`: a call that raises or runs past ``timeout_s`` scores its
batch None and is counted (``failures``), so a broken reward never kills a run. TRL passes
every dataset column as a keyword argument; each reward takes what it needs and ignores the
rest.
"""

from __future__ import annotations

import concurrent.futures as cf
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from qurate.errors import BadInputError, ConfigError
from qurate.post.chat import check_messages

log = logging.getLogger("qurate.post")
RewardFn = Callable[..., list[float | None]]


def completion_text(c: Any) -> str:
    """A TRL completion (a string, or a list of assistant messages) as text."""
    if isinstance(c, str):
        return c
    if isinstance(c, list):
        return "".join(m.get("content") or "" for m in c if isinstance(m, dict))
    return str(c)


def math_reward(
    completions: list[Any], reference: list[Any] | None = None, **_: Any
) -> list[float | None]:
    """1.0 when the boxed answer matches ``reference``, 0.0 when not, None when unjudgeable."""
    from qurate.synth.verify_math import verify_against_reference

    refs = reference or [None] * len(completions)
    out: list[float | None] = []
    for c, ref in zip(completions, refs, strict=True):
        if not isinstance(ref, str) or not ref.strip():
            out.append(None)
            continue
        v = verify_against_reference(completion_text(c), ref)
        out.append(None if v.reason == "unparseable_reference" else float(v.verified is True))
    return out


def make_code_reward(timeout_s: float, workers: int) -> RewardFn:
    from qurate.synth.sandbox import SandboxLimits
    from qurate.synth.verify_code import verify_code

    limits = SandboxLimits(timeout_s=timeout_s, workers=workers)

    def code_reward(
        completions: list[Any], tests: list[Any] | None = None, **_: Any
    ) -> list[float | None]:
        samples = [
            {"response": completion_text(c), "tests": t}
            for c, t in zip(completions, tests or [None] * len(completions), strict=True)
        ]
        return [
            None if v.verified is None else float(v.verified) for v in verify_code(samples, limits)
        ]

    return code_reward


def make_rm_reward(path: str) -> RewardFn:
    from qurate.synth.config import RewardConfig
    from qurate.synth.reward import load_reward, reward_architecture

    reward_architecture(path, "transformers")
    scorer = load_reward(path, RewardConfig(rm=path))

    def rm_reward(prompts: list[Any], completions: list[Any], **_: Any) -> list[float | None]:
        ptexts = [
            completion_text([m for m in p if m.get("role") == "user"])
            if isinstance(p, list)
            else str(p)
            for p in prompts
        ]
        return list(scorer.score(ptexts, [completion_text(c) for c in completions]))

    return rm_reward


class Guarded:
    """A reward that never raises and never hangs: failures score None and are counted."""

    def __init__(self, name: str, fn: RewardFn, timeout_s: float) -> None:
        self.name, self.fn, self.timeout_s = name, fn, timeout_s
        self.__name__ = name.replace(":", "_").replace("/", "_")
        self.failures = 0
        self._pool = cf.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix=f"reward-{self.__name__}"
        )

    def __call__(self, completions: list[Any], **kwargs: Any) -> list[float | None]:
        n = len(completions)
        fut = self._pool.submit(self.fn, completions=completions, **kwargs)
        try:
            out = list(fut.result(timeout=self.timeout_s))
            if len(out) != n:
                raise ValueError(f"returned {len(out)} scores for {n} completions")
            return [None if v is None else float(v) for v in out]
        except cf.TimeoutError:
            why = f"no answer in {self.timeout_s}s"
            # A hung call keeps its thread; later calls get a fresh one.
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = cf.ThreadPoolExecutor(max_workers=1)
        except Exception as e:  # noqa: BLE001 - a reward's own bug must not stop training
            why = f"{type(e).__name__}: {e}"
        self.failures += n
        log.warning(
            "reward %s failed on %d completions (%s); scored as no reward", self.name, n, why
        )
        return [None] * n


def build_rewards(
    names: list[str],
    weights: dict[str, float],
    timeout_s: float,
    code_timeout_s: float,
    code_workers: int,
) -> tuple[list[Guarded], list[float]]:
    """The guarded reward functions for ``--reward`` names and their weights."""
    if not names:
        raise ConfigError("post grpo: give at least one --reward (math, code or rm:PATH)")
    funcs: list[Guarded] = []
    for name in names:
        if name == "math":
            fn: RewardFn = math_reward
        elif name == "code":
            fn = make_code_reward(code_timeout_s, code_workers)
        elif name.startswith("rm:"):
            path = name[3:]
            if not Path(path).is_dir():
                raise BadInputError(f"--reward {name}: {path} is not a model directory")
            fn = make_rm_reward(path)
        else:
            raise ConfigError(f"--reward {name}: unknown reward (valid: math, code, rm:PATH)")
        funcs.append(Guarded(name, fn, timeout_s))
    unknown = sorted(set(weights) - set(names))
    if unknown:
        raise ConfigError(f"post.grpo.reward_weights: {', '.join(unknown)} is not a --reward given")
    return funcs, [float(weights.get(n, 1.0)) for n in names]


def read_prompts(path: str | Path) -> list[dict[str, Any]]:
    """The RL prompt set: a ``post pairs`` directory, or any JSONL/Parquet file with ``prompt``
    (text or messages) and ``reference`` and/or ``tests``. A row with no prompt is an error
    naming it; an empty set is an error. A repeated prompt is read once."""
    return read_prompts_counted(path)[0]


def read_prompts_counted(path: str | Path) -> tuple[list[dict[str, Any]], int]:
    """:func:`read_prompts` and the number of rows read, repeats included (the stage's ``in``:
    the repeats are counted as left out, not lost)."""
    from qurate.contract.stagedir import MANIFEST
    from qurate.synth.samples import read_records

    p = Path(path)
    if p.is_dir() and (p / MANIFEST).is_file():
        from qurate.post.pairs import read_pairs

        records = [(r["id"], r) for r in read_pairs(p)]
    else:
        records = list(read_records(p))
    rows, seen = [], set()
    for where, r in records:
        prompt = r.get("prompt")
        if isinstance(prompt, str) and prompt.strip():
            prompt = [{"role": "user", "content": prompt}]
        if not isinstance(prompt, list) or not prompt:
            raise BadInputError(f"{path}: row {where}: no `prompt` (text or a list of messages)")
        # the prompt must read as a conversation awaiting an answer (was a KeyError/TypeError
        # traceback for a turn without content or a bare string, and role "bot" went through)
        if (bad := check_messages([*prompt, {"role": "assistant", "content": "."}])) is not None:
            raise BadInputError(f"{path}: row {where}: `prompt` is not a conversation: {bad[1]}")
        if r.get("tests") is not None and not isinstance(r.get("tests"), str):
            raise BadInputError(f"{path}: row {where}: `tests` must be test code (text)")
        key = str(prompt)
        if key in seen:  # several pairs of one prompt: one RL prompt
            continue
        seen.add(key)
        rows.append(
            {
                "prompt": [{"role": m["role"], "content": m["content"]} for m in prompt],
                "reference": None if r.get("reference") is None else str(r.get("reference")),
                "tests": r.get("tests"),
            }
        )
    if not rows:
        raise BadInputError(f"{path}: no prompts")
    return rows, len(records)


def unscorable(row: dict[str, Any], names: list[str]) -> str | None:
    """Why none of the rewards ``names`` can score completions of this prompt (None: one
    can): ``math`` needs a ``reference`` that parses as math (else ``unparseable_reference``,
    as ``qurate eval`` counts such a row), ``code`` needs ``tests``, a reward model scores
    anything. A prompt none of them can score gives every completion no reward (zero
    gradient), so it is left out and counted under this reason."""
    from qurate.synth.verify_math import reference_parses

    why = "no_reward"
    for name in names:
        if name.startswith("rm:"):
            return None
        ref = row.get("reference")
        if name == "math" and (ref or "").strip():
            if reference_parses(ref):
                return None
            why = "unparseable_reference"
        tests = row.get("tests")
        if name == "code" and isinstance(tests, str) and tests.strip():
            return None
    return why


def keep_learnable(rates: dict[str, float | None]) -> list[str]:
    """Prompts whose pass rate over their synth samples is strictly between 0 and 1: the ones
    where a GRPO group can disagree (all-pass or all-fail groups give zero gradient)."""
    return sorted(k for k, r in rates.items() if r is not None and 0.0 < r < 1.0)


__all__ = [
    "Guarded",
    "build_rewards",
    "completion_text",
    "keep_learnable",
    "make_code_reward",
    "math_reward",
    "read_prompts",
    "read_prompts_counted",
    "unscorable",
]
