"""Language ID with the packaged lid.176 model: short excerpts, CJK, allow-list, scores."""

from __future__ import annotations

import filter_samples as samples
import pytest
from datatrove.data import Document
from pydantic import ValidationError

from qurate.contract.rejects import REJECT_REASON
from qurate.filters.langid import (
    LanguageID,
    LanguageIDConfig,
    canonical_lang,
    default_model_path,
    predict_languages,
    prediction_sample,
)

# One or two real-looking sentences per language, as short as the eval's excerpts.
EXCERPTS = {
    "en": "The committee will publish its final report on the new railway line next spring.",
    "de": "Die Stadtverwaltung hat beschlossen, die alte Brücke im nächsten Sommer zu renovieren.",
    "fr": "Le musée sera fermé pendant deux semaines pour des travaux de rénovation.",
    "es": "El ayuntamiento anunció ayer que la biblioteca abrirá también los domingos.",
    "it": "La nuova linea della metropolitana sarà inaugurata alla fine dell'anno prossimo.",
    "pt": "O governo anunciou que as escolas vão receber novos computadores este ano.",
    "nl": "De gemeente heeft besloten om de oude brug volgend jaar te vervangen.",
    "sv": "Kommunen har beslutat att bygga en ny skola i centrum av staden.",
    "pl": "Rada miasta zdecydowała, że nowy park zostanie otwarty w przyszłym roku.",
    "cs": "Městská rada rozhodla, že nový park bude otevřen příští rok na jaře.",
    "tr": "Belediye, eski köprünün gelecek yıl yenileneceğini açıkladı.",
    "ru": "Городской совет решил открыть новый парк в следующем году.",
    "uk": "Міська рада вирішила відкрити новий парк наступного року.",
    "zh": "市政府决定明年在市中心建一座新的图书馆。",
    "ja": "市は来年、駅の近くに新しい図書館を建てることを決めた。",
}


def test_model_is_packaged() -> None:
    path = default_model_path()
    assert path.is_file() and path.stat().st_size > 900_000
    assert (path.parent / "LICENSE-lid176.txt").is_file()


def test_short_excerpts_in_fifteen_languages() -> None:
    preds = predict_languages(list(EXCERPTS.values()))
    got = {lang: pred for lang, (pred, _) in zip(EXCERPTS, preds, strict=True)}
    assert got == {lang: lang for lang in EXCERPTS}
    assert all(score > 0.5 for _, score in preds)


def test_kanji_heavy_japanese_is_not_chinese() -> None:
    # Headline style: mostly kanji, a few kana.
    ((lang, _),) = predict_languages(["東京都知事選挙の投票率は前回を上回る見通しとなった"])
    assert lang == "ja"


def test_multiline_text_and_markup_are_cleaned() -> None:
    sample = prediction_sample(
        "# Title\n\nSee https://example.com/x\n```\ncode()\n```\nplain words here", 200
    )
    assert "\n" not in sample and "https" not in sample and "code()" not in sample
    preds = predict_languages([samples.ZH_DOCS, samples.JA_DOCS, samples.EN_DOCS])
    assert [p for p, _ in preds] == ["zh", "ja", "en"]


def run(docs: list[Document], cfg: LanguageIDConfig | None = None) -> list[Document]:
    return list(LanguageID(cfg).run(iter(docs)))


def test_every_doc_gets_lang_and_score() -> None:
    docs = [Document(text=t, id=lang) for lang, t in EXCERPTS.items()]
    for doc in run(docs):
        assert doc.metadata["lang"] == doc.id
        assert 0.0 < doc.metadata["lang_score"] <= 1.0
        assert REJECT_REASON not in doc.metadata


def test_allow_list_rejects_other_languages() -> None:
    cfg = LanguageIDConfig(languages=["zh-CN", "eng"])
    docs = run([Document(text=EXCERPTS[k], id=k) for k in ("en", "zh", "de")], cfg)
    assert [d.metadata.get(REJECT_REASON) for d in docs] == [None, None, "lang"]
    assert docs[2].metadata["lang"] == "de"  # still labelled


def test_min_score_rejects_gibberish_but_not_code() -> None:
    gibberish = Document(text="xq zzv kkp 8831 qwf pl0 vvb ttq mmz", id="g")
    code = Document(text=samples.C_CODE, id="c")
    out = run([gibberish, code], LanguageIDConfig(min_score=0.5))
    assert out[0].metadata[REJECT_REASON] == "lang_score"
    assert REJECT_REASON not in out[1].metadata and "lang" in out[1].metadata


def test_already_rejected_docs_are_skipped() -> None:
    doc = Document(text=EXCERPTS["en"], id="x", metadata={REJECT_REASON: "empty"})
    assert "lang" not in run([doc])[0].metadata


def test_config_validation() -> None:
    assert LanguageIDConfig(languages=["ZH_Hant", "ja", "jpn"]).languages == ["ja", "zh"]
    assert canonical_lang("pt-BR") == "pt"
    with pytest.raises(ValidationError):
        LanguageIDConfig(min_score=1.5)
    with pytest.raises(ValidationError, match="langs"):
        LanguageIDConfig.model_validate({"langs": ["en"]})


def test_ukrainian_with_its_own_letters_is_not_russian() -> None:
    ((lang, _),) = predict_languages(["БЕЗ ЖОДНИХ ГАРАНТІЙ, в межах, дозволених законом."])
    assert lang == "uk"
