"""A label-free check that the judge tells text from destroyed text, and the weight it earns.

A judge too small for its rubrics gives scores with no quality signal in them, or an inverted
one: on held-out labelled text the embedded SmolLM2-135M ranks junk *above* good documents.
Raters distilled from such scores inherit the fault, and averaging them into ``quality``
only dilutes the signals that work. Nobody has labels at this point, so the judge is
checked against a control it must pass: ``check_docs`` documents of the sample, and copies
with the words of every line shuffled (same vocabulary, language, length and layout; no
meaning). The check is the AUC P(original scored above its copy) of the judge's aggregate
score, and the weight of the judge and of its raters in ``quality`` is scaled by

    reliability = clip((auc - 0.5) / (full_auc - 0.5), 0, 1)

so a judge at chance (or worse) adds nothing, and one that separates nearly every pair
keeps its configured weight. A strong instruct judge passes without effort; the point is to
catch the weak one before its noise reaches the mixture.
"""

from __future__ import annotations

import random
import re
from typing import Any

import numpy as np

from qurate.score.judge import Judge
from qurate.score.metrics import roc_auc

# Scripts written without spaces between words: shuffle characters instead of words.
_NO_SPACE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")
FULL_AUC = 0.9


def shuffle_words(text: str, seed: int) -> str:
    """``text`` with the words of each line in a seeded random order (characters for lines
    of CJK text); blank lines and line breaks stay where they were."""
    rng = random.Random(seed)
    out = []
    for line in text.split("\n"):
        if len(_NO_SPACE.findall(line)) > len(line) // 3:
            chars = list(line.strip())
            rng.shuffle(chars)
            out.append("".join(chars))
        else:
            words = line.split()
            rng.shuffle(words)
            out.append(" ".join(words))
    return "\n".join(out)


def reliability(auc: float, full_auc: float = FULL_AUC) -> float:
    """The share of its configured weight a judge with check AUC ``auc`` keeps."""
    if np.isnan(auc):
        return 1.0  # no check was possible: keep the configured weight
    return float(np.clip((auc - 0.5) / (full_auc - 0.5), 0.0, 1.0))


def reliability_of(check: dict[str, Any] | None) -> float:
    """The reliability a recorded check gives (1.0 when there was none)."""
    return 1.0 if not check else float(check.get("reliability", 1.0))


def check_judge(judge: Judge, texts: list[str], quality: Any) -> dict[str, Any]:
    """Judge word-shuffled copies of ``texts`` (already judged: their aggregate scores are
    ``quality``) and return the check's n, AUC and reliability."""
    pairs = [(t, q) for t, q in zip(texts, quality, strict=True) if t.split() and not np.isnan(q)]
    if not pairs:
        return {"n": 0, "auc": None, "reliability": 1.0}
    copies = [shuffle_words(t, seed=i) for i, (t, _) in enumerate(pairs)]
    judged = judge.judge(copies)
    q_orig, q_copy = [], []
    for (_, q), j in zip(pairs, judged, strict=True):
        if j.error:
            continue
        q_orig.append(q)
        q_copy.append(judge.quality(j.scores))
    if not q_orig:
        return {"n": 0, "auc": None, "reliability": 1.0}
    labels = np.r_[np.ones(len(q_orig), bool), np.zeros(len(q_copy), bool)]
    auc = roc_auc(labels, np.r_[q_orig, q_copy])
    return {"n": len(q_orig), "auc": auc, "reliability": reliability(auc)}
