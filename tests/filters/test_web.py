"""Web rules: chrome lines cut from good pages (and recorded), web junk rejected by name."""

from __future__ import annotations

import base64
import json
import random

import pytest
from datatrove.data import Document
from pydantic import ValidationError

from qurate.contract.docs import doc_to_row
from qurate.contract.rejects import REJECT_REASON
from qurate.filters.steps import FiltersConfig, build_filter_steps
from qurate.filters.web.config import WebConfig
from qurate.filters.web.rules import REMOVED_KEY, WebFilter, blob_chars

BODY_EN = (
    "Printing a document on both sides of the paper saves paper and makes long documents "
    "easier to carry.\nOpen the print dialog with Ctrl+P and choose the Page Setup tab. "
    "Under Two-sided, pick Long Edge for portrait pages, or Short Edge for landscape pages.\n"
    "If your printer cannot print on both sides by itself, print the odd pages first, turn "
    "the stack over and feed it back in, then print the even pages."
)
BODY_DE = (
    "Wenn Sie ein Dokument beidseitig drucken, sparen Sie Papier und das Dokument wird "
    "handlicher.\nÖffnen Sie den Druckdialog mit Strg+P und wählen Sie den Reiter "
    "Seiteneinrichtung. Wählen Sie unter Beidseitig die lange Kante für Hochformat.\n"
    "Falls Ihr Drucker nicht selbst beidseitig drucken kann, drucken Sie zuerst die "
    "ungeraden Seiten, wenden Sie den Stapel und drucken Sie dann die geraden Seiten."
)
BODY_JA = (
    "両面印刷をすると用紙を節約でき、長い文書も持ち運びやすくなります。\n"
    "Ctrl+P で印刷ダイアログを開き、ページ設定タブを選びます。両面の項目で、縦向きのページには"
    "長辺綴じを、横向きのページには短辺綴じを選択してください。\n"
    "プリンターが自動で両面印刷できない場合は、まず奇数ページを印刷し、用紙の束を裏返して"
    "もう一度セットしてから偶数ページを印刷します。"
)


def judge(text: str, cfg: WebConfig | None = None, **metadata) -> Document:
    doc = Document(text=text, id="d", metadata=dict(metadata))
    list(WebFilter(cfg).run(iter([doc])))
    return doc


def reason(text: str, cfg: WebConfig | None = None, **metadata) -> str | None:
    return judge(text, cfg, **metadata).metadata.get(REJECT_REASON)


@pytest.mark.parametrize(
    ("header", "body", "footer"),
    [
        (
            "Home › Printing\nWe use cookies to improve your experience on our website. By "
            "continuing to browse, you agree to our use of cookies.\nAccept all",
            BODY_EN,
            "Privacy policy | Terms of use | Contact\n© 2021 Example Media. All rights reserved.",
        ),
        (
            "Startseite › Drucken\nDiese Website nutzt Cookies. Mit der weiteren Nutzung "
            "stimmen Sie der Verwendung von Cookies zu.\nAlle akzeptieren",
            BODY_DE,
            "Teilen: Facebook · Twitter · E-Mail\nImpressum | Datenschutz | Kontakt",
        ),
        (
            "ホーム › 印刷\n当サイトではクッキーを使用しています。閲覧を続けると同意したものとみなされます。",
            BODY_JA,
            "プライバシーポリシー | 利用規約\n© 2020 Example. 無断転載を禁じます。",
        ),
    ],
    ids=["en", "de", "ja"],
)
def test_chrome_lines_are_cut_and_the_body_kept(header: str, body: str, footer: str) -> None:
    doc = judge(f"{header}\n{body}\n{footer}")
    assert doc.metadata.get(REJECT_REASON) is None, doc.metadata.get("reject_detail")
    assert doc.text == body
    cut = doc.metadata[REMOVED_KEY]
    assert sum(cut["lines"].values()) == len(header.split("\n")) + len(footer.split("\n"))
    assert cut["first"][0] == header.split("\n")[0]
    # The record reaches the shard's meta column, where `qurate stats` and users see it.
    meta = json.loads(doc_to_row(doc)["meta"])
    assert meta["qurate"][REMOVED_KEY]["chars"] == cut["chars"] > 0


def test_text_about_cookies_and_a_lone_search_heading_are_not_chrome() -> None:
    text = (
        "Search\nA web server sets a cookie with the Set-Cookie response header, and the "
        "browser sends it back in the Cookie header of every later request to the same site. "
        "The Secure attribute limits a cookie to HTTPS, and HttpOnly hides it from scripts, "
        "which protects session cookies from cross-site scripting attacks on the page.\n"
        "Cookies without an Expires or Max-Age attribute are session cookies: the browser "
        "deletes them when it closes, unless it restores the previous session on start."
    )
    doc = judge(text)
    assert doc.metadata.get(REJECT_REASON) is None
    assert doc.text == text and REMOVED_KEY not in doc.metadata


def test_a_licence_keeps_its_rights_line() -> None:
    text = (
        "Copyright (c) 2003-2019 The Example Project. All rights reserved.\n\n"
        "Redistribution and use in source and binary forms, with or without modification, "
        "are permitted provided that the following conditions are met: redistributions of "
        "source code must retain the above copyright notice, this list of conditions and the "
        "following disclaimer.\n\nTHIS SOFTWARE IS PROVIDED AS IS AND ANY EXPRESS OR IMPLIED "
        "WARRANTIES ARE DISCLAIMED."
    )
    doc = judge(text)
    assert doc.metadata.get(REJECT_REASON) is None
    assert doc.text == text


def test_a_consent_wall_is_rejected_as_consent() -> None:
    text = (
        "Wir verwenden Cookies, um Ihnen die bestmögliche Nutzung unserer Webseite zu "
        "ermöglichen.\nAlle akzeptieren\nCookie-Einstellungen\nDatenschutzerklärung | "
        "Impressum\nAnmelden"
    )
    assert reason(text) == "web_consent"


def test_a_category_page_of_titles_is_rejected_as_navigation() -> None:
    titles = ["Change the screen brightness", "Connect to a wireless network",
              "Why does my battery drain fast?", "Print a booklet", "Share files by e-mail",
              "Find your IP address", "Set file permissions"]  # fmt: skip
    lines = ["Home › Blog › Hardware"]
    for t in titles:
        lines += [t, "Read more »"]
    lines.append("« Previous 1 2 3 4 Next »")
    assert reason("\n".join(lines)) == "web_navigation"


def test_a_link_farm_is_rejected_for_its_link_density() -> None:
    rng = random.Random(1)
    kws = ["cheap", "flights", "hotel", "deals", "rome", "paris", "last", "minute"]
    parts = []
    for _ in range(30):
        a, b = rng.sample(kws, 2)
        parts.append(f"{a} {b} https://www.{a}-{b}{rng.randint(1, 99)}.com/{a}-{b}")
    assert reason(" | ".join(parts)) == "web_link_density"


def test_a_help_page_with_a_few_links_is_kept() -> None:
    text = BODY_EN + "\nSee https://help.example.org/printing and https://www.cups.org/doc/ ."
    assert reason(text) is None


def test_anchor_phrase_lists_are_rejected_and_enumerations_kept() -> None:
    anchors = "\n".join(
        "best car insurance · cheap auto insurance quotes · compare car insurance rates · "
        "young driver insurance · classic car cover"
        for _ in range(4)
    )
    assert reason(anchors) == "web_anchor_list"
    enumeration = (
        "The viewer opens PNG, JPEG, GIF, TIFF, BMP and WebP images.\n" + BODY_EN
    )  # fmt: skip
    assert reason(enumeration) is None


def test_encoded_blobs_in_prose_are_rejected_but_a_checksum_is_not() -> None:
    blob = base64.b64encode(random.Random(0).randbytes(600)).decode()
    assert reason(f"{BODY_EN}\ndata:image/png;base64,{blob}") == "web_encoded_blob"
    dump = " ".join(f"{b:02x}" for b in random.Random(1).randbytes(400))
    assert reason(f"{BODY_DE}\n{dump}") == "web_encoded_blob"
    sha = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
    assert reason(f"{BODY_EN}\nThe SHA-256 of the image is {sha}.") is None
    # Long paths and identifiers use the base64 alphabet but are not blobs.
    assert blob_chars("/usr/share/doc/python3/html/library/functions/index/all") == 0


def test_numeric_dumps_are_rejected_and_documentation_tables_kept() -> None:
    rng = random.Random(2)
    rows = [" | ".join(f"{rng.random() * 1000:.2f}" for _ in range(7)) for _ in range(30)]
    assert reason("Quarterly export\n" + "\n".join(rows)) == "web_numeric_table"
    table = "\n".join(
        f"| Ctrl+{k} | {what} |"
        for k, what in zip("ACFNOPQSVWXZ", ["Select all", "Copy", "Find", "New window",
            "Open", "Print", "Quit", "Save", "Paste", "Close", "Cut", "Undo"], strict=True)
    )  # fmt: skip
    assert reason("Keyboard shortcuts of the editor:\n" + table) is None


def test_code_is_exempt() -> None:
    blob = base64.b64encode(random.Random(3).randbytes(500)).decode()
    code = f'PNG = base64.b64decode(\n    "{blob}"\n)\nCRC = 0xEDB88320\n'
    assert reason(code, path="tests/fixtures.py") is None


def test_thresholds_switch_off_and_removal_can_be_turned_off() -> None:
    blob = base64.b64encode(random.Random(4).randbytes(600)).decode()
    assert reason(f"{BODY_EN}\n{blob}", WebConfig(max_blob_frac=None)) is None
    page = f"Home | Blog | Contact | Log in\n{BODY_EN}"
    doc = judge(page, WebConfig(remove_lines=False))
    assert doc.text == page and REMOVED_KEY not in doc.metadata
    with pytest.raises(ValidationError, match="max_url_fraction"):
        WebConfig.model_validate({"max_url_fraction": 0.2})


def test_web_step_runs_between_language_id_and_heuristics() -> None:
    names = [type(s).__name__ for s in build_filter_steps(FiltersConfig())]
    assert names == ["Normalize", "LanguageID", "WebFilter", "Heuristics"]
    off = FiltersConfig.model_validate({"web": {"enabled": False}})
    assert "WebFilter" not in [type(s).__name__ for s in build_filter_steps(off)]
