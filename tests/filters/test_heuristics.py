"""Each heuristic rule on hand-made real-ish text: good text kept, junk dropped by name."""

from __future__ import annotations

import filter_samples as samples
import pytest
from datatrove.data import Document
from pydantic import ValidationError

from qurate.contract.rejects import REJECT_REASON
from qurate.filters.heuristics.config import (
    C4Config,
    GopherQualityConfig,
    GopherRepetitionConfig,
    HeuristicsConfig,
)
from qurate.filters.heuristics.rules import IS_CODE_KEY, Heuristics
from qurate.filters.text import TOKENS_KEY


def judge(text: str, cfg: HeuristicsConfig | None = None, **metadata) -> Document:
    doc = Document(text=text, id="d", metadata=dict(metadata))
    list(Heuristics(cfg).run(iter([doc])))
    return doc


def reason(text: str, cfg: HeuristicsConfig | None = None, **metadata) -> str | None:
    return judge(text, cfg, **metadata).metadata.get(REJECT_REASON)


@pytest.mark.parametrize(
    ("name", "text", "lang"),
    [
        ("en_docs", samples.EN_DOCS, "en"),
        ("en_literature", samples.EN_LITERATURE, "en"),
        ("zh_literature", samples.ZH_LITERATURE, "zh"),
        ("zh_docs", samples.ZH_DOCS, "zh"),
        ("ja_literature", samples.JA_LITERATURE, "ja"),
        ("ja_docs", samples.JA_DOCS, "ja"),
        ("math", samples.MATH_DOC, "en"),
    ],
)
def test_good_prose_is_kept(name: str, text: str, lang: str) -> None:
    doc = judge(text, lang=lang)
    assert doc.metadata.get(REJECT_REASON) is None, doc.metadata.get("reject_detail")
    assert doc.metadata[IS_CODE_KEY] is False


def test_stock_gopher_would_drop_cjk_we_keep() -> None:
    # With English stop words and whitespace words, CJK text has no stop words and a
    # handful of "words": the reason stock datatrove drops it.
    from qurate.filters.text import tokenize

    toks = tokenize(samples.ZH_LITERATURE)
    assert toks.no_space_frac > 0.9
    assert toks.n_words > 150  # characters count as words
    assert len(samples.ZH_LITERATURE.split()) < 10


@pytest.mark.parametrize("text", [samples.PY_CODE, samples.C_CODE])
def test_code_is_detected_from_content_and_kept(text: str) -> None:
    doc = judge(text)
    assert doc.metadata[IS_CODE_KEY] is True
    assert doc.metadata.get(REJECT_REASON) is None


def test_code_hint_from_file_extension_in_meta() -> None:
    # A tiny config file is "code" by its name, not judged as unpunctuated prose.
    text = "\n".join(f"option_{i}: value number {i} for the service" for i in range(12))
    assert judge(text, meta={"path": "conf/app.yaml"}).metadata[IS_CODE_KEY] is True
    assert judge(text, meta={"path": "notes/readme.md"}).metadata[IS_CODE_KEY] is False


def test_short_fragment_dropped() -> None:
    assert reason("the results of the experiment show that the", lang="en") == "gopher_short_doc"
    assert reason("这是一个被截断的", lang="zh") == "gopher_short_doc"


def test_repeated_lines_dropped() -> None:
    line = "Check out our latest collection of summer dresses and accessories today"
    text = samples.EN_LITERATURE.split("\n\n")[0] + "\n" + "\n".join([line] * 15)
    assert reason(text, lang="en") == "gopher_rep_dup_line_frac"


def test_repeated_paragraphs_dropped() -> None:
    para = samples.EN_LITERATURE.split("\n\n")[1]
    assert reason("\n\n".join([para] * 4), lang="en") == "gopher_rep_dup_para_frac"


def test_table_rules_are_not_repeated_lines() -> None:
    rule = "+----------+----------+"
    rows = [f"| item {i:3d} | value {i * 7:3d} |" for i in range(10)]
    table = "\n".join(x for row in rows for x in (rule, row))
    text = samples.EN_DOCS + "\n" + table + "\n" + rule
    assert reason(text, lang="en") is None


def test_lorem_ipsum_dropped() -> None:
    text = samples.EN_DOCS + "\nLorem ipsum dolor sit amet, consectetur adipiscing elit."
    assert reason(text, lang="en") == "c4_lorem_ipsum"


def test_curly_bracket_only_when_enabled() -> None:
    text = samples.EN_DOCS + "\nThe set {1, 2, 3} has three elements."
    assert reason(text, lang="en") is None
    cfg = HeuristicsConfig(c4=C4Config(filter_curly_bracket=True))
    assert reason(text, cfg, lang="en") == "c4_curly_bracket"


def test_nav_menu_dropped() -> None:
    got = reason(samples.NAV_MENU * 2, lang="en")
    assert got in {"fineweb_line_punct_ratio", "c4_too_few_sentences", "gopher_rep_dup_line_frac"}
    assert reason(samples.NAV_MENU, lang="en") == "gopher_short_doc"


def test_boilerplate_dropped() -> None:
    assert reason(samples.BOILERPLATE, lang="en") == "c4_boilerplate"


def test_keyword_stuffing_dropped() -> None:
    kws = ["python", "tutorial", "download", "guide", "course", "python", "python"]
    body = ", ".join(kws[i % len(kws)] + (" online" if i % 3 else "") for i in range(90))
    text = "Learn Python programming with our complete guide.\n\n" + body
    assert reason(text, lang="en") in {
        "keyword_stuffing",
        "gopher_rep_top_n_gram",
        "gopher_few_stop_words",
    }
    cfg = HeuristicsConfig(gopher_quality=GopherQualityConfig(min_stop_words=None))
    assert reason(text, cfg, lang="en") in {"keyword_stuffing", "gopher_rep_top_n_gram"}


def test_spam_dropped() -> None:
    lines = [
        "Buy cheap watches online now! Best price and free shipping on every order.",
        "Limited time offer: discount coupon for all replica watches, order now!!!",
        "Click here to get the lowest price on the market and win a bonus gift today.",
        "We ship the cheapest watches in the world to your door with a big discount.",
    ]
    assert reason("\n".join(lines * 2), lang="en") in {"spam", "gopher_rep_dup_line_frac"}
    assert reason(" ".join(lines), lang="en") == "spam"


RU = (
    "Москва — столица России, крупнейший по численности населения город страны и её "
    "важнейший экономический центр. Город расположен на реке Москве в центре "
    "Восточно-Европейской равнины, между Окой и Волгой. Впервые он упоминается в летописи "
    "под 1147 годом, а в XIV веке стал центром объединения русских земель. Сегодня здесь "
    "работают сотни музеев и театров, а метрополитен ежедневно перевозит миллионы пассажиров."
)


def test_unfixable_mojibake_dropped() -> None:
    broken = RU.encode("cp1251").decode("cp1252", "replace")
    assert reason(broken) == "mojibake"
    assert reason(RU, lang="ru") is None


def test_replacement_characters_dropped() -> None:
    text = samples.EN_LITERATURE.replace("e", "\ufffd")
    assert reason(text, lang="en") == "mojibake"


def test_hashtags_dropped_but_markdown_headings_kept() -> None:
    tags = " ".join(f"#tag{i} #love #instagood #photooftheday" for i in range(15))
    assert reason(
        "Our holiday in the mountains was the best week of the year. " + tags, lang="en"
    ) in {
        "gopher_too_many_hashes",
        "keyword_stuffing",
    }
    paras = samples.EN_LITERATURE.split("\n\n") + [samples.MATH_DOC]
    headed = "\n\n".join(f"## Section {i}\n\n{p}" for i, p in enumerate(paras))
    assert reason(headed, lang="en") is None


def test_ellipsis_lines_dropped() -> None:
    lines = [
        f"Read the full story of what happened to the family on day {i} of the trip..."
        for i in range(20)
    ]
    assert reason("\n".join(lines), lang="en") in {
        "gopher_too_many_ellipsis",
        "gopher_too_many_end_ellipsis",
    }


def test_bullet_only_page_dropped() -> None:
    text = "\n".join(f"- item number {i} in the endless list of things to buy" for i in range(40))
    assert reason(text, lang="en") == "gopher_too_many_bullets"


def test_numbers_table_junk_dropped_by_alpha_ratio() -> None:
    text = "Results " + " ".join(f"{i}.{i * 3} {i * 17 % 101} {i * 5}%" for i in range(60))
    assert reason(text, lang="en") in {"gopher_below_alpha_threshold", "gopher_below_avg_threshold"}
    letters = "Results of the run: " + " ".join(
        f"{i}.{i * 3} -- {i * 17 % 101} // {i * 5}%" for i in range(60)
    )
    cfg = HeuristicsConfig(gopher_quality=GopherQualityConfig(min_avg_word_length=None))
    assert reason(letters, cfg, lang="en") == "gopher_below_alpha_threshold"


def test_stop_words_use_document_language() -> None:
    de = (
        "Die Stadt liegt an einem Fluss und ist seit dem Mittelalter ein wichtiger Ort für den "
        "Handel. Im Zentrum steht eine alte Kirche, die von vielen Besuchern besichtigt wird, "
        "und auf dem Markt gibt es jeden Samstag frisches Obst und Gemüse aus der Region. "
        "Wer mit der Bahn anreist, erreicht die Altstadt vom Bahnhof aus in zehn Minuten zu Fuß."
    )
    assert reason(de, lang="de") is None
    no_stops = " ".join(f"Widget{i} Gadget Pro Max Ultra Edition Black Friday" for i in range(8))
    assert reason(no_stops, lang="en") in {"gopher_few_stop_words", "c4_too_few_sentences"}


def test_thresholds_can_be_disabled() -> None:
    frag = "the results of the experiment show that the"
    cfg = HeuristicsConfig(gopher_quality=GopherQualityConfig(min_doc_words=None))
    assert reason(frag, cfg, lang="en") != "gopher_short_doc"
    off = HeuristicsConfig(
        gopher_quality=GopherQualityConfig(enabled=False),
        gopher_repetition=GopherRepetitionConfig(enabled=False),
        c4=C4Config(enabled=False),
        fineweb={"enabled": False},
        quality={"enabled": False},
    )
    assert reason(frag, off, lang="en") is None


def test_reject_detail_gives_value_and_threshold() -> None:
    doc = judge("much too short to be a document", lang="en")
    assert doc.metadata["reject_detail"] == "7 < 30"


def test_config_rejects_unknown_keys() -> None:
    with pytest.raises(ValidationError, match="min_doc_wrods"):
        HeuristicsConfig.model_validate({"gopher_quality": {"min_doc_wrods": 3}})


def test_tokens_cached_once_and_rejected_docs_skipped() -> None:
    doc = Document(text=samples.EN_DOCS, id="a", metadata={"lang": "en"})
    done = Document(
        text="x", id="b", metadata={REJECT_REASON: "empty", "reject_stage": "normalize"}
    )
    out = list(Heuristics().run(iter([doc, done])))
    assert [d.id for d in out] == ["a", "b"]
    assert TOKENS_KEY in doc.metadata
    assert done.metadata[REJECT_REASON] == "empty" and IS_CODE_KEY not in done.metadata


KO_HELP = (
    "로그인 화면 사진 바꾸기\n"
    "로그인을 하거나 사용자 계정을 바꿀 때 로그인 사진이 붙은 사용자 목록을 볼 수 있습니다. "
    "그림 모음의 사진 또는 보유한 그림으로 사진을 바꿀 수 있습니다. 또한 웹캠으로 새 로그인 "
    "사진을 찍을 수 있습니다.\n"
    "여러분의 계정이 아닌 사용자 계정을 편집하려면 관리자 권한이 필요합니다.\n"
    "- 현재 활동 개요를 열고 사용자 입력을 시작합니다.\n"
    "- 사용자를 눌러 창을 엽니다.\n"
    "- 이름 옆 연필 아이콘을 누릅니다. 몇가지 로그인 사진이 들어있는 그림 모음이 나타납니다. "
    "이 중 하나가 맘에 든다면, 해당 항목을 눌러 활용합니다."
)


def test_korean_words_are_not_too_short() -> None:
    # Counted in syllable blocks the mean word is ~2.7, under the 3-letter minimum.
    assert reason(KO_HELP, lang="ko") is None
    cfg = HeuristicsConfig.model_validate(
        {"gopher_quality": {"hangul_letters_per_syllable": 1.0, "min_stop_words": None}}
    )
    assert reason(KO_HELP, cfg, lang="ko") == "gopher_below_avg_threshold"


def test_a_copyright_file_may_repeat_its_permission_notice() -> None:
    notice = (
        "Permission to use, copy, modify, and distribute this software and its documentation "
        "for any purpose and without fee is hereby granted, provided that the above copyright "
        "notice appear in all copies and that both that copyright notice and this permission "
        "notice appear in supporting documentation. THE AUTHORS DISCLAIM ALL WARRANTIES WITH "
        "REGARD TO THIS SOFTWARE."
    )
    text = (
        f"Copyright (c) 1994-1996 by Silicon Graphics Computer Systems, Inc.\n{notice}\n\n"
        "Copyright 1987, 1998 The Open Group\n"
        + notice.replace("modify, and distribute", "modify, distribute, and sell").replace(
            "THE AUTHORS", "THE OPEN GROUP"
        )
        + "\n\nExcept as contained in this notice, the name of a copyright holder shall not be "
        "used in advertising or otherwise to promote the sale, use or other dealings in this "
        "Software without prior written authorization from the copyright holder."
    )
    assert reason(text, lang="en") is None
    no_slack = HeuristicsConfig.model_validate({"gopher_repetition": {"licence_ngram_slack": 0}})
    assert reason(text, no_slack, lang="en") == "gopher_rep_dup_n_gram"


def test_a_page_of_shortcut_tables_keeps_its_headings() -> None:
    keys = ["Smaller text", "High contrast", "Larger text", "Screen reader", "Zoom in",
            "Zoom out", "Home folder", "Calculator", "Mail client", "Help browser",
            "Web browser", "Search", "Settings", "Hide all windows", "Move window left",
            "Move window right", "Switch windows", "Close window", "Maximize window",
            "Minimize window"]  # fmt: skip
    mods = ["Ctrl", "Alt", "Shift", "Super", "Ctrl+Alt"]
    rows = [f"{k} | {mods[i % 5]}+{chr(65 + i)} |" for i, k in enumerate(keys)]
    text = (
        "Set keyboard shortcuts\nTo change the key or keys to be pressed for a keyboard "
        "shortcut, open the Settings and click on the row for the desired action.\n"
        "Accessibility\n" + "\n".join(rows[:6]) + "\nLaunchers\n" + "\n".join(rows[6:11])
        + "\nNavigation\n" + "\n".join(rows[11:16]) + "\nWindows\n" + "\n".join(rows[16:])
    )  # fmt: skip
    assert reason(text, lang="en") is None
    off = HeuristicsConfig.model_validate({"fineweb": {"table_heading_ratio": None}})
    assert reason(text, off, lang="en") == "fineweb_short_line_ratio"


def test_scheme_and_tcl_are_code() -> None:
    scheme = (
        ";;; match.scm --- pattern matching\n(define-module (ice-9 match)\n"
        "  #:export (match match-lambda))\n\n(define (flatten x)\n  (cond ((null? x) '())\n"
        "        ((pair? x) (append (flatten (car x)) (flatten (cdr x))))\n"
        "        (else (list x))))\n\n(define-syntax-rule (swap! a b)\n"
        "  (let ((tmp a))\n    (set! a b)\n    (set! b tmp)))\n"
    )
    tcl = (
        "proc ttk::scrollbar::Press {w x y} {\n    variable State\n"
        "    set State(xPress) $x\n    lappend State(list) $w\n    foreach e $events {\n"
        "        bind $w $e {}\n    }\n    incr State(count)\n}\n"
    )
    for code in (scheme, tcl):
        assert judge(code * 3).metadata[IS_CODE_KEY] is True


def test_a_ports_table_page_needs_no_sentence_outside_its_cells() -> None:
    ports = [("5353/udp", "mDNS, Avahi", "Lets systems find each other and the services they "
              "offer."), ("631/udp", "Printing", "Lets you send print jobs to a printer over "
              "the network."), ("631/tcp", "Printing", "Lets you share your printer with other "
              "people."), ("5900/tcp", "Remote desktop", "Lets people see your desktop or give "
              "remote help."), ("3689/tcp", "Music sharing (DAAP)", "Lets you share your "
              "music library with others on your network.")]  # fmt: skip
    text = "Commonly used network ports\nPort | Name | Description |\n" + "\n".join(
        f"{p} | {n} | {d} |" for p, n, d in ports
    )
    assert reason(text, lang="en") is None
    off = HeuristicsConfig.model_validate({"fineweb": {"table_heading_ratio": None}})
    assert reason(text, off, lang="en") == "c4_too_few_sentences"
    off.c4.min_num_sentences = None
    assert reason(text, off, lang="en") == "fineweb_line_punct_ratio"


def test_a_katakana_word_is_one_token() -> None:
    from qurate.filters.text import tokenize

    toks = tokenize("バックアップ方法は、バックアップアプリケーションに任せます。")
    assert "バックアップ" in toks.words and "バックアップアプリケーション" in toks.words
    assert toks.n_no_space == len(toks.words)  # every token is of a no-space script
