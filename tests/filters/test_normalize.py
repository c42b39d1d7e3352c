"""Normalisation: mojibake repaired, NFC, control characters, and nothing else touched."""

from __future__ import annotations

import unicodedata

import ftfy
from datatrove.data import Document
from hypothesis import given, settings
from hypothesis import strategies as st

from qurate.contract.rejects import REJECT_REASON
from qurate.filters.normalize import (
    _FTFY,
    NORMALIZED_KEY,
    Normalize,
    _fix_mojibake,
    normalize_text,
)


def run(*texts: str) -> list[Document]:
    docs = [Document(text=t, id=str(i)) for i, t in enumerate(texts)]
    return list(Normalize().run(iter(docs)))


def test_utf8_read_as_cp1252_is_repaired_and_recorded() -> None:
    good = "Der Café-Besitzer öffnete um acht Uhr – „wie immer“, sagte er. Señor Muñoz kam später."
    broken = good.encode("utf-8").decode("cp1252")
    assert broken != good
    (doc,) = run(broken)
    assert doc.text == good
    assert doc.metadata[NORMALIZED_KEY] == ["mojibake"]


def test_mojibake_whose_no_break_space_became_a_space_is_repaired() -> None:
    # "à" is C3 A0 in UTF-8; read as cp1252 it is "Ã" + NBSP, and the NBSP often ends up a
    # plain space. The pre-check that decides whether to run ftfy must still see it.
    for broken, fixed in [
        ("voilÃ le travail, et voilÃ  tout", "voilà le travail, et voilà tout"),
        ("Ã la carte", "à la carte"),
    ]:
        text, changes = normalize_text(broken)
        assert (text, changes) == (fixed, ["mojibake"])
    # Real Cyrillic and French capitals before a space are left alone.
    for clean in ("В Москве идёт снег.", "Ça va. À bientôt."):
        assert normalize_text(clean) == (clean, [])


def test_nfc_composes_decomposed_accents() -> None:
    decomposed = unicodedata.normalize("NFD", "naïve résumé Ångström")
    text, changes = normalize_text(decomposed)
    assert text == "naïve résumé Ångström" and changes == ["nfc"]


def test_control_chars_removed_but_newlines_and_tabs_kept() -> None:
    text, changes = normalize_text("a\x00b\x07c\td\r\ne\x1bf\ufeffg\x0ch")
    assert text == "abc\td\nefgh"
    assert changes == ["newlines", "control_chars"]


def test_latex_and_unicode_math_untouched() -> None:
    latex = r"Let $f(x) = \frac{1}{2}\sum_{i=1}^{n} x_i^2$ and \begin{align} a &= b \\ c &\neq d \end{align}"
    uni = "∀x ∈ ℝ: x² ≥ 0, ∑ᵢ aᵢ ≤ ∞, α → β, ½ ≠ ⅓, ﬁle ＡＢＣ"
    for text in (latex, uni, latex + "\n" + uni):
        out, changes = normalize_text(text)
        assert out == text and changes == []


def test_cjk_punctuation_and_curly_quotes_kept() -> None:
    text = (
        "他说：“你好！”（这是全角括号），然后离开了。「日本語」も大丈夫です。 “Quoted” ‘text’ &amp;"
    )
    assert normalize_text(text) == (text, [])


def test_clean_text_has_no_normalized_key() -> None:
    (doc,) = run("Plain clean text.\nSecond line.")
    assert NORMALIZED_KEY not in doc.metadata and REJECT_REASON not in doc.metadata


def test_empty_after_normalisation_is_rejected() -> None:
    docs = run("", "   \n\t ", "\x00\x01\x02", "ok")
    reasons = [d.metadata.get(REJECT_REASON) for d in docs]
    assert reasons == ["empty", "empty", "empty", None]
    assert docs[2].metadata["reject_stage"] == "normalize"


def test_rejected_documents_pass_through_untouched() -> None:
    broken = "cafÃ©"
    doc = Document(
        text=broken, id="r", metadata={REJECT_REASON: "bad_json", "reject_stage": "read"}
    )
    (out,) = list(Normalize().run(iter([doc])))
    assert out.text == broken and out.metadata[REJECT_REASON] == "bad_json"


_PIECES = [
    "Café öffnete – „wie immer“".encode().decode("cp1252"),
    "voilÃ le travail",
    "Ã la carte",
    "Привет".encode().decode("cp1251", "replace"),
    "déjà vu",
    "plain line",
    "\x1b[31mred\x1b[0m",
    "\x85\x93",
    "\ufffd",
    "  ",
    "\r",
    "\n",
    "\n\n",
    "Â",
    "â€",
    "™",
]


@settings(max_examples=300, deadline=None, database=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=12).map("".join))
def test_mojibake_repair_line_by_line_is_ftfy_on_the_whole_text(text: str) -> None:
    """ftfy runs only on the lines holding a trigger; the result is ftfy's on the text."""
    assert _fix_mojibake(text) == ftfy.fix_text(text, _FTFY)


def test_mixed_document_repairs_its_broken_lines_only() -> None:
    broken = "Señor Muñoz kam später.".encode().decode("cp1252")
    text = f"A clean first line.\n{broken}\nÇa va, déjà vu.\n\n{broken}"
    fixed, changes = normalize_text(text)
    assert (
        fixed
        == "A clean first line.\nSeñor Muñoz kam später.\nÇa va, déjà vu.\n\nSeñor Muñoz kam später."
    )
    assert changes == ["mojibake"]
    assert fixed == ftfy.fix_text(text, _FTFY)
