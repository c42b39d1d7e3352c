"""Language identification with fastText's lid.176 model, shipped in the package.

``qurate/data/lid.176.ftz`` (938 KB, 176 languages, CC BY-SA 3.0: see
``qurate/data/LICENSE-lid176.txt``) is loaded lazily, once per worker process, so nothing is
downloaded at run time and the step pickles cheaply to executor workers.

fastText predicts on one line, and its scores drop on markup, URLs and code, so each
document is first reduced to a clean single-line sample: fenced code, URLs, e-mail
addresses and markup symbols removed, whitespace collapsed, at most ``sample_chars``
characters. Predictions run in batches. Two script checks fix the model's known confusions
on short CJK excerpts: Kanji-heavy Japanese predicted as Chinese (kana present -> ``ja``)
and Chinese predicted as Japanese (no kana at all -> ``zh``); Hangul text is ``ko``; and
short Ukrainian predicted as Russian (letters only Ukrainian has -> ``uk``).

Every document judged gets ``lang`` (ISO 639-1 where one exists, as lid.176 labels) and
``lang_score``; a language outside the allow-list is rejected as ``lang``, a score below
the minimum as ``lang_score``. Code is exempt from the minimum score: its "language" is
whatever its comments are written in, and the model is rightly unsure.
"""

from __future__ import annotations

import re
import threading
from importlib import resources
from pathlib import Path
from typing import Any

from datatrove.data import Document
from pydantic import BaseModel, ConfigDict, Field, field_validator

from qurate.contract.rejects import QurateFilter
from qurate.errors import ConfigError
from qurate.filters.heuristics.stats import line_stats, looks_like_code

LANG_KEY = "lang"
LANG_SCORE_KEY = "lang_score"

# Common 3-letter and regional spellings users put in allow-lists -> lid.176 labels.
_ALIASES = {
    "eng": "en",
    "zho": "zh",
    "chi": "zh",
    "cmn": "zh",
    "jpn": "ja",
    "kor": "ko",
    "deu": "de",
    "ger": "de",
    "fra": "fr",
    "fre": "fr",
    "spa": "es",
    "rus": "ru",
    "por": "pt",
    "ita": "it",
    "ara": "ar",
    "hin": "hi",
    "nld": "nl",
    "dut": "nl",
    "pol": "pl",
    "tur": "tr",
    "vie": "vi",
    "ukr": "uk",
    "swe": "sv",
    "nob": "no",
    "nb": "no",
    "ind": "id",
    "tha": "th",
    "heb": "he",
    "iw": "he",
    "ell": "el",
    "gre": "el",
}


# The 176 labels lid.176 predicts (``model.get_labels()`` without ``__label__``), and "und",
# what a document with no text to judge gets. An allow-list entry outside them could never
# match: curate would reject every document as ``lang`` (tests check this list against the model).
LID176_LABELS = frozenset(
    """
    af als am an ar arz as ast av az azb ba bar bcl be bg bh bn bo bpy br bs bxr ca cbk ce
    ceb ckb co cs cv cy da de diq dsb dty dv el eml en eo es et eu fa fi fr frr fy ga gd gl
    gn gom gu gv he hi hif hr hsb ht hu hy ia id ie ilo io is it ja jbo jv ka kk km kn ko
    krc ku kv kw ky la lb lez li lmo lo lrc lt lv mai mg mhr min mk ml mn mr mrj ms mt mwl
    my myv mzn nah nap nds ne new nl nn no oc or os pa pam pfl pl pms pnb ps pt qu rm ro ru
    rue sa sah sc scn sco sd sh si sk sl so sq sr su sv sw ta te tg th tk tl tr tt tyv ug
    uk ur uz vec vep vi vls vo wa war wuu xal xmf yi yo yue zh
    """.split()
)
UNDETERMINED = "und"


def canonical_lang(code: str) -> str:
    """``zh-CN`` / ``zh_Hant`` / ``zho`` -> ``zh``; lid.176 labels are base codes."""
    base = re.split(r"[-_]", code.strip().lower(), maxsplit=1)[0]
    return _ALIASES.get(base, base)


def allowed_languages(codes: list[str]) -> list[str]:
    """The canonical, sorted allow-list for ``codes`` (any spelling); a code lid.176 cannot
    predict is a ``ValueError`` that lists the valid ones."""
    known = LID176_LABELS | {UNDETERMINED}
    out = sorted({canonical_lang(c) for c in codes if c.strip()})
    unknown = [c for c in codes if c.strip() and canonical_lang(c) not in known]
    if unknown:
        raise ValueError(
            f"unknown language code(s) {', '.join(map(repr, unknown))}: language ID (lid.176) "
            "predicts only these ISO 639 codes (3-letter and regional spellings of them, such "
            f"as 'eng' or 'zh-CN', work too): {', '.join(sorted(LID176_LABELS))}, "
            f"and '{UNDETERMINED}' (no text to judge)"
        )
    return out


class LanguageIDConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(
        True, description="run fastText language ID (lid.176) and reject documents below min_score"
    )
    languages: list[str] = Field(
        [],
        description='Languages to keep (any spelling: "zh", "zh-CN", "zho"); empty = keep every language.',
    )
    min_score: float = Field(
        0.15,
        ge=0.0,
        le=1.0,
        description="below this top-1 probability a document is rejected as lang_score; clean excerpts of a dozen words score > 0.5, mojibake, symbol soup and random strings fall far below",
    )
    sample_chars: int = Field(
        1000, ge=50, description="characters of each document the model reads"
    )
    batch_size: int = Field(512, ge=1, description="documents per fastText predict call")

    @field_validator("languages")
    @classmethod
    def _canonical(cls, value: list[str]) -> list[str]:
        return allowed_languages(value)


def default_model_path() -> Path:
    return Path(str(resources.files("qurate") / "data" / "lid.176.ftz"))


_FENCE_RE = re.compile(r"```.*?(?:```|\Z)", re.DOTALL)
_URL_RE = re.compile(r"\b(?:https?://|www\.)\S+|\S+@\S+\.\w+")
# _URL_RE without its e-mail branch: that branch backtracks over every word (most of
# prediction_sample's time), and it cannot match a text without "@".
_WEB_RE = re.compile(r"\b(?:https?://|www\.)\S+")
# A whitespace-delimited chunk holding "@": the only place the e-mail branch can match.
_AT_CHUNK_RE = re.compile(r"\S*@\S*")


def _strip_urls(text: str) -> str:
    """``_URL_RE.sub(" ", text)``, same result, without running the e-mail branch everywhere.

    No match crosses whitespace, so the text can be cut at whitespace: chunks with an "@"
    get the full pattern, the stretches between them only the web-address branch.
    """
    if "@" not in text:
        return _WEB_RE.sub(" ", text) if "://" in text or "www." in text else text
    out: list[str] = []
    pos = 0
    for m in _AT_CHUNK_RE.finditer(text):
        out.append(_WEB_RE.sub(" ", text[pos : m.start()]))
        out.append(_URL_RE.sub(" ", m.group()))
        pos = m.end()
    out.append(_WEB_RE.sub(" ", text[pos:]))
    return "".join(out)


_NOISE_RE = re.compile(r"[\s#*_`|<>{}\[\]=~^\\$]+")
# Exactly the characters that are not letters ([^\W\d_]): counting them is cheaper on prose.
_NON_LETTER_RE = re.compile(r"[\W\d_]")
# The same class as bytes, for ASCII lines: deleting them leaves the letters to count.
_ASCII_NON_LETTERS = bytes(b for b in range(128) if _NON_LETTER_RE.match(chr(b)))
_KANA_RE = re.compile(r"[\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f]")
_HAN_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
_HANGUL_RE = re.compile(r"[\uac00-\ud7af\u1100-\u11ff]")


def prediction_sample(text: str, max_chars: int) -> str:
    """One clean line of at most ``max_chars`` characters for fastText.

    Lines that are mostly letters are preferred (tables, shell commands and option lists
    pull the model towards English or nowhere); when too few remain, all text is used.
    """
    text = text[: max_chars * 4]
    # Cheap substring checks skip the regex passes that cannot match (same result).
    if "```" in text:
        text = _FENCE_RE.sub(" ", text)
    text = _strip_urls(text)
    prose: list[str] = []
    size = 0
    for line in text.split("\n"):
        s = line.strip()
        if len(s) < 8:
            continue
        if s.isascii():
            letters = len(s.encode().translate(None, _ASCII_NON_LETTERS))
        else:
            letters = len(s) - len(_NON_LETTER_RE.findall(s))
        if letters >= 0.6 * (len(s) - s.count(" ")) and "|" not in s:
            prose.append(s)
            size += len(s)
            if size >= max_chars:
                break
    sample = " ".join(prose) if size >= min(200, len(text) // 3) else text
    return _NOISE_RE.sub(" ", sample).strip()[:max_chars]


_UK_ONLY_RE = re.compile("[їєґЇЄҐ]")


def _script_fix(lang: str, sample: str) -> str:
    if lang == "ru" and "ў" not in sample:
        # ї, є, ґ (and і, shared only with Belarusian, which has ў) are not Russian letters.
        if _UK_ONLY_RE.search(sample) or "і" in sample or "І" in sample:
            return "uk"
    if lang in ("zh", "ja", "ko", "wuu", "yue"):
        n_han = len(_HAN_RE.findall(sample))
        n_kana = len(_KANA_RE.findall(sample))
        n_hangul = len(_HANGUL_RE.findall(sample))
        if n_hangul > n_han + n_kana:
            return "ko"
        if lang != "ja" and n_kana >= 3 and n_kana >= 0.05 * (n_han + n_kana):
            return "ja"
        if lang == "ja" and n_kana == 0 and n_han >= 5:
            return "zh"
        if lang in ("wuu", "yue") and n_kana == 0:
            return lang
    return lang


class _Model:
    """The fastText model, loaded once per process (steps are pickled to workers)."""

    _lock = threading.Lock()
    _cache: dict[str, Any] = {}

    @classmethod
    def get(cls, path: Path) -> Any:
        key = str(path)
        with cls._lock:
            if key not in cls._cache:
                import fasttext

                # fasttext prints a deprecation warning to stderr on every load.
                fasttext.FastText.eprint = lambda *_: None
                if not path.is_file():
                    raise ConfigError(f"language-ID model not found: {path}")
                cls._cache[key] = fasttext.load_model(key)  # the shipped lid.176 file
            return cls._cache[key]


def predict_languages(
    texts: list[str], model_path: Path | None = None, sample_chars: int = 1000
) -> list[tuple[str, float]]:
    """(lang, score) for each text: the batched core of ``LanguageID``, usable on its own."""
    model = _Model.get(model_path or default_model_path())
    samples = [prediction_sample(t, sample_chars) for t in texts]
    labels, probs = model.predict(samples, k=1)
    out: list[tuple[str, float]] = []
    for sample, label, prob in zip(samples, labels, probs, strict=True):
        if not sample or not label:
            out.append((UNDETERMINED, 0.0))
            continue
        lang = label[0].removeprefix("__label__")
        out.append((_script_fix(lang, sample), min(float(prob[0]), 1.0)))
    return out


class LanguageID(QurateFilter):
    """Set ``lang`` / ``lang_score``; reject by allow-list (``lang``) or score (``lang_score``)."""

    name = "🌐 qurate language ID"
    stage = "langid"

    def __init__(
        self, config: LanguageIDConfig | None = None, model_path: str | Path | None = None
    ) -> None:
        super().__init__()
        self.cfg = config or LanguageIDConfig()
        self.batch_size = self.cfg.batch_size
        self.model_path = Path(model_path) if model_path else default_model_path()
        self._allowed = frozenset(self.cfg.languages)

    def filter(self, doc: Document) -> bool | tuple:
        return self.filter_batch([doc])[0]

    def filter_batch(self, batch: list[Document]) -> list[bool | tuple]:
        preds = predict_languages([d.text for d in batch], self.model_path, self.cfg.sample_chars)
        results: list[bool | tuple] = []
        for doc, (lang, score) in zip(batch, preds, strict=True):
            doc.metadata[LANG_KEY] = lang
            doc.metadata[LANG_SCORE_KEY] = round(score, 4)
            self.stat_update(f"lang_{lang}")
            if self._allowed and lang not in self._allowed:
                results.append((False, "lang", f"{lang} not in allow-list"))
            elif score < self.cfg.min_score and not self._is_code(doc):
                results.append(
                    (False, "lang_score", f"{lang} {score:.3f} < {self.cfg.min_score:g}")
                )
            else:
                results.append(True)
        return results

    @staticmethod
    def _is_code(doc: Document) -> bool:
        st = line_stats(doc.text.split("\n"), (".",), 30, 3)
        return looks_like_code(doc.metadata, st, 0.5, doc.text)
