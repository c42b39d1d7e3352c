"""HTML extraction: a short page comes out once, and a bare <pre> keeps its lines."""

from __future__ import annotations

from qurate.readers.html import html_to_text

SHORT_PAGE = """<html><body><header><nav><ul><li><a href="/0">Home</a></li>
<li><a href="/1">About</a></li></ul></nav></header>
<div class="bc"><p>Home › Slow network</p></div>
<main><article><h1>Slow network</h1>
<p>There are many reasons why a network can be slow.</p>
<p>Try closing the browser and opening it again.</p>
<ul><li>Downloading many things at once can make it slow.</li>
<li>Unreliable connections drop often.</li></ul></article></main>
<div class="s"><p>Share: Facebook · X</p></div>
<footer><p>© 2021 Example Media.</p></footer></body></html>"""

PROSE = "<p>" + "This page explains how the loop below works, step by step, for readers. " * 4
CODE = "def f(x):\n    return x + 1\n\nprint(f(2))"


def test_short_page_body_is_not_emitted_twice():
    # Trafilatura 1.11's "wild text" recovery appended every <p> of the page again after
    # the article (and the breadcrumbs and sharing bar with them) when the body was short.
    text = html_to_text(SHORT_PAGE)
    lines = text.split("\n")
    assert lines.count("There are many reasons why a network can be slow.") == 1
    assert lines.count("Try closing the browser and opening it again.") == 1
    assert "- Unreliable connections drop often." in lines
    assert "Share: Facebook · X" not in text


def test_short_page_without_list_keeps_its_line_breaks():
    # Without the list, the same page went through the last-resort baseline: one line.
    page = SHORT_PAGE.replace(
        "<ul><li>Downloading many things at once can make it slow.</li>\n"
        "<li>Unreliable connections drop often.</li></ul>",
        "",
    )
    assert html_to_text(page).split("\n") == [
        "Slow network",
        "There are many reasons why a network can be slow.",
        "Try closing the browser and opening it again.",
    ]


def _page(pre: str) -> str:
    return f"<html><body><article><h1>Loops</h1>{PROSE}</p>{pre}<p>That is all.</p></article></body></html>"


def test_bare_pre_keeps_its_newlines():
    lines = html_to_text(_page(f"<pre>{CODE}</pre>")).split("\n")
    assert "def f(x):" in lines
    assert "return x + 1" in lines
    assert "print(f(2))" in lines


def test_pre_with_attributes_in_capitals_keeps_its_newlines():
    lines = html_to_text(_page(f'<PRE class="src">{CODE}</PRE>')).split("\n")
    assert "def f(x):" in lines and "return x + 1" in lines


def test_pre_code_unchanged():
    lines = html_to_text(_page(f"<pre><code>{CODE}</code></pre>")).split("\n")
    assert "def f(x):" in lines and "print(f(2))" in lines


def test_no_text_gives_empty_string():
    assert html_to_text("") == ""
    assert html_to_text("<html><body></body></html>") == ""
