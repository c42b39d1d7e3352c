"""The top n-gram rule is deterministic: tied n-grams resolve to the one that occurs first."""

from __future__ import annotations

import os
import subprocess
import sys

from qurate.filters.heuristics.stats import ngram_repetition

WORDS = "alpha beta gamma delta alpha beta epsilonlongword zeta epsilonlongword zeta".split()
TEXT_LEN = len(" ".join(WORDS))


def test_tie_goes_to_the_first_ngram():
    kind, n, frac, _ = ngram_repetition(WORDS, TEXT_LEN, {2: 0.01}, {})
    assert (kind, n) == ("top", 2)
    assert frac == 2 * len("alpha beta") / TEXT_LEN  # not the longer tied "epsilonlongword zeta"


def test_same_answer_under_every_hash_seed():
    code = (
        "from qurate.filters.heuristics.stats import ngram_repetition as r;"
        f"w={WORDS!r}; print(r(w, {TEXT_LEN}, {{2: 0.01}}, {{}}))"
    )
    outs = {
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": str(seed)},
        ).stdout
        for seed in range(4)
    }
    assert len(outs) == 1
