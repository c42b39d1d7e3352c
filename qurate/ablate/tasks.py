"""The three kinds of evaluation, decided by the rows' columns, and their metrics.

- **text** (``text``): bits per byte = summed token loss / ln 2 / UTF-8 bytes of the text.
  Bytes, not tokens, so models with different tokenizers compare (the FineWeb / DCLM
  convention); overall and per ``domain`` / ``lang`` when those columns exist.
- **mc** (``question``, ``choices``, ``answer``): each choice is scored by its
  log-likelihood after ``"{question}\\nAnswer:"``; ``acc`` takes the highest sum, ``acc_norm``
  the highest sum per byte of the choice (the evaluation-harness definitions). ``answer`` is
  an index or a letter (A = 0); a row with an answer outside its choices, fewer than two
  choices or no question is rejected with a reason, never scored.
- **gen** (``prompt`` + ``reference`` or ``prompt`` + ``tests``): greedy generation, checked
  by the math verifier (``\\boxed{}`` against the reference) or the code sandbox (the tests
  against the first code block); pass@1 is the share verified. A math row whose reference
  does not parse as math is rejected (``unparseable_reference``), not scored as a miss: the
  same test GRPO's ``math`` reward applies (``verify_math.reference_parses``).

An evaluation with no usable rows is a one-line error before any training starts.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from qurate.ablate.inputs import read_rows
from qurate.ablate.scoring import LoadedModel, greedy, sequence_nll
from qurate.errors import BadInputError

OnRows = Callable[[int, int], None] | None  # progress: (done, total)

LN2 = math.log(2)


@dataclass
class EvalSet:
    """One evaluation's usable rows, its kind and what was rejected (reason -> count)."""

    name: str
    kind: str  # "text" | "mc" | "gen"
    rows: list[dict[str, Any]]
    path: str
    rejected: dict[str, int] = field(default_factory=dict)

    @property
    def texts(self) -> list[str]:
        """The texts leakage is checked on."""
        if self.kind == "text":
            return [r["text"] for r in self.rows]
        if self.kind == "mc":
            return [f"{r['question']} {r['choices'][r['answer']]}" for r in self.rows]
        return [r["prompt"] for r in self.rows]


def _kind(rows: list[dict[str, Any]]) -> str | None:
    keys = set().union(*(r.keys() for r in rows)) if rows else set()
    if {"question", "choices", "answer"} <= keys:
        return "mc"
    if "prompt" in keys and ({"reference", "tests"} & keys):
        return "gen"
    if "text" in keys:
        return "text"
    return None


def _answer_index(answer: Any, n: int) -> int | None:
    if isinstance(answer, bool):
        return None
    if isinstance(answer, int):
        idx = answer
    elif isinstance(answer, str) and answer.strip().isdigit():
        idx = int(answer.strip())
    elif isinstance(answer, str) and len(answer.strip()) == 1 and answer.strip().isalpha():
        idx = ord(answer.strip().upper()) - ord("A")
    else:
        return None
    return idx if 0 <= idx < n else None


def _check_row(kind: str, r: dict[str, Any]) -> tuple[dict[str, Any] | None, str | None]:
    if kind == "text":
        t = r.get("text")
        return ({**r}, None) if isinstance(t, str) and t.strip() else (None, "empty_text")
    if kind == "mc":
        q, choices = r.get("question"), r.get("choices")
        if not isinstance(q, str) or not q.strip():
            return None, "no_question"
        if (
            not isinstance(choices, list)
            or len(choices) < 2
            or not all(isinstance(c, str) and c.strip() for c in choices)
        ):
            return None, "bad_choices"
        idx = _answer_index(r.get("answer"), len(choices))
        if idx is None:
            return None, "answer_out_of_range"
        return {**r, "answer": idx}, None
    p = r.get("prompt")
    ref, tests = r.get("reference"), r.get("tests")
    if not isinstance(p, str) or not p.strip():
        return None, "no_prompt"
    has_tests = isinstance(tests, str) and bool(tests.strip())
    if not (isinstance(ref, str) and ref.strip()) and not has_tests:
        return None, "no_reference_or_tests"
    if not has_tests:  # math: a reference that is not math would score every answer wrong
        from qurate.synth.verify_math import reference_parses

        if not reference_parses(ref):
            return None, "unparseable_reference"
    return {**r}, None


def load_eval(name: str, path: str, max_docs: int | None = None) -> EvalSet:
    """Read and check one evaluation; no usable rows is a one-line error naming it."""
    try:
        rows, _facts = read_rows(path)
    except BadInputError as e:
        raise BadInputError(f"eval {name}: {e}") from None
    kind = _kind(rows)
    if kind is None:
        raise BadInputError(
            f"eval {name} ({path}): no usable rows: expected `text`, or `question`+`choices`+"
            f"`answer`, or `prompt`+`reference`/`tests` ({len(rows)} rows read)"
        )
    good, rejected = [], Counter()
    for r in rows:
        row, reason = _check_row(kind, r)
        if row is None:
            rejected[reason or "unusable"] += 1
        else:
            good.append(row)
    if max_docs is not None:
        rejected["over_eval_max_docs"] += max(0, len(good) - max_docs)
        good = good[:max_docs]
    if not good:
        why = ", ".join(f"{k}: {v}" for k, v in sorted(rejected.items())) or "the file is empty"
        raise BadInputError(f"eval {name} ({path}): no usable {kind} rows ({why})")
    return EvalSet(name, kind, good, str(path), dict(rejected))


def bits_per_byte(
    lm: LoadedModel,
    texts: list[str],
    *,
    seq_len: int,
    batch_size: int,
    on_rows: Callable[[int, int], None] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(nats, bytes) per text; bits per byte of a set is ``sum(nats) / ln 2 / sum(bytes)``."""
    toks = lm.encode(texts)
    seqs = [(np.concatenate(([lm.eos], t)).astype(np.int64), 1) for t in toks]
    nll, _ = sequence_nll(lm, seqs, seq_len=seq_len, batch_size=batch_size, on_rows=on_rows)
    nbytes = np.array([len(t.encode("utf-8")) for t in texts], dtype=np.int64)
    return nll, nbytes


def _text_metrics(
    lm: LoadedModel, ev: EvalSet, seq_len: int, batch: int, on_rows: OnRows
) -> dict[str, Any]:
    texts = [r["text"] for r in ev.rows]
    nll, nbytes = bits_per_byte(lm, texts, seq_len=seq_len, batch_size=batch, on_rows=on_rows)
    out: dict[str, Any] = {
        "metric": "bits_per_byte",
        "value": float(nll.sum() / LN2 / nbytes.sum()),
        "docs": len(ev.rows),
        "bytes": int(nbytes.sum()),
    }
    for col in ("domain", "lang"):
        groups: dict[str, list[int]] = defaultdict(list)
        for i, r in enumerate(ev.rows):
            if r.get(col) is not None:
                groups[str(r[col])].append(i)
        if groups:
            out[f"by_{col}"] = {
                g: float(nll[idx].sum() / LN2 / nbytes[idx].sum())
                for g, idx in sorted(groups.items())
            }
    return out


def mc_scores(
    lm: LoadedModel,
    rows: list[dict[str, Any]],
    seq_len: int,
    batch: int,
    on_rows: OnRows = None,
) -> list[tuple[list[float], list[int]]]:
    """Per row: (summed log-likelihood of each choice, byte length of each choice)."""
    seqs, where = [], []
    for i, r in enumerate(rows):
        ctx = f"{r['question'].strip()}\nAnswer:"
        ctx_ids = lm.encode([ctx])[0]
        for c in r["choices"]:
            full = lm.encode([f"{ctx} {c.strip()}"])[0]
            if len(full) > len(ctx_ids) and np.array_equal(full[: len(ctx_ids)], ctx_ids):
                cont = full[len(ctx_ids) :]
            else:  # the tokenizer merged across the boundary: score the choice on its own
                cont = lm.encode([f" {c.strip()}"])[0]
            toks = np.concatenate(([lm.eos], ctx_ids, cont)).astype(np.int64)
            start = len(toks) - len(cont)
            if len(toks) > seq_len + 1:  # keep the answer, drop the oldest context
                toks = toks[-(seq_len + 1) :]
                start = len(toks) - len(cont)
            seqs.append((toks, start))
            where.append(i)
    nll, _ = sequence_nll(lm, seqs, seq_len=seq_len, batch_size=batch, on_rows=on_rows)
    out: list[tuple[list[float], list[int]]] = [([], []) for _ in rows]
    k = 0
    for i, r in enumerate(rows):
        for c in r["choices"]:
            out[i][0].append(-float(nll[k]))
            out[i][1].append(len(f" {c.strip()}".encode()))
            k += 1
    return out


def _mc_metrics(
    lm: LoadedModel, ev: EvalSet, seq_len: int, batch: int, on_rows: OnRows
) -> dict[str, Any]:
    scores = mc_scores(lm, ev.rows, seq_len, batch, on_rows)
    acc = acc_norm = 0
    for r, (ll, nb) in zip(ev.rows, scores, strict=True):
        acc += int(int(np.argmax(ll)) == r["answer"])
        acc_norm += int(int(np.argmax(np.array(ll) / np.array(nb))) == r["answer"])
    n = len(ev.rows)
    return {"metric": "acc", "value": acc / n, "acc_norm": acc_norm / n, "docs": n}


def _gen_metrics(
    lm: LoadedModel, ev: EvalSet, seq_len: int, max_new: int, on_rows: OnRows
) -> dict[str, Any]:
    from qurate.synth.sandbox import SandboxLimits
    from qurate.synth.verify_code import verify_code
    from qurate.synth.verify_math import verify_against_reference

    outs = []
    for r in ev.rows:
        outs.append(greedy(lm, r["prompt"], max_new, seq_len))
        if on_rows is not None:
            on_rows(len(outs), len(ev.rows))
    passed = []
    is_code = [isinstance(r.get("tests"), str) and bool(r["tests"].strip()) for r in ev.rows]
    code_rows = [(i, r) for i, r in enumerate(ev.rows) if is_code[i]]
    math_rows = [(i, r) for i, r in enumerate(ev.rows) if not is_code[i]]
    for i, r in math_rows:
        passed.append(bool(verify_against_reference(outs[i], str(r["reference"])).verified))
    if code_rows:
        samples = [{"response": outs[i], "tests": r["tests"]} for i, r in code_rows]
        passed += [bool(v.verified) for v in verify_code(samples, SandboxLimits())]
    return {
        "metric": "pass@1",
        "value": sum(passed) / len(passed),
        "docs": len(passed),
        "math": len(math_rows),
        "code": len(code_rows),
    }


def run_eval(
    lm: LoadedModel,
    ev: EvalSet,
    *,
    seq_len: int = 512,
    batch_size: int = 8,
    max_new_tokens: int = 128,
    on_rows: OnRows = None,
) -> dict[str, Any]:
    """The metrics of one evaluation on one model (``metric`` names the headline ``value``).
    ``on_rows(done, total)`` reports progress: packed windows scored (text, multiple choice)
    or prompts generated (generation)."""
    if ev.kind == "text":
        out = _text_metrics(lm, ev, seq_len, batch_size, on_rows)
    elif ev.kind == "mc":
        out = _mc_metrics(lm, ev, seq_len, batch_size, on_rows)
    else:
        out = _gen_metrics(lm, ev, seq_len, max_new_tokens, on_rows)
    out["kind"] = ev.kind
    if ev.rejected:
        out["rejected_rows"] = ev.rejected
    return out


def lower_is_better(metric: str) -> bool:
    return metric == "bits_per_byte"
