"""Thresholds of the web-junk rules (``WebFilter``): what each catches and what it spares.

A threshold set to ``null`` disables its rule. Figures in the descriptions were measured on
the dev side of the web set (``bench/webset.py``); see ``bench/RESULTS.md``.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class WebConfig(BaseModel):
    """Line removal and document rules for web pages."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(
        True, description="Run the web rules (line removal, link/blob/table/chrome rejects)."
    )
    remove_lines: bool = Field(
        True,
        description="Cut chrome lines (cookie banners, menus, legal footers, sharing bars) out "
        "of pages whose body is kept; what was cut is recorded in meta.qurate.web_lines_removed. "
        "Off: the lines stay and only the document rules apply.",
    )
    max_chrome_line_words: int = Field(
        60,
        ge=1,
        description="A line longer than this (in words; a CJK character counts 2/3 of a word) "
        "is never chrome: it spares prose that discusses cookies, privacy or menus.",
    )
    max_chrome_frac: float | None = Field(
        0.5,
        ge=0,
        le=1,
        description="Reject a page when chrome lines hold more than this share of its "
        "characters (reason web_consent, web_navigation or web_policy, by the largest part): "
        "consent walls and menu pages. Pages with a real body are far below it.",
    )
    min_body_words: int = Field(
        30,
        ge=0,
        description="A page whose body (after chrome removal) has fewer words than this (a "
        "CJK character counts 2/3 of a word) is rejected for its chrome, when chrome was "
        "found, rather than kept as a stub. 30 is the heuristics' minimum document length.",
    )
    min_prose_frac: float | None = Field(
        0.2,
        ge=0,
        le=1,
        description="On a page where chrome was cut and min_chrome_hits lines are chrome "
        "(cut or not), reject "
        "(web_navigation) when prose lines (15+ words, or 6+ ending a sentence) hold less than "
        "this share of the body: category and tag pages, lists of titles with 'read more' "
        "links. Pages without chrome are left to the heuristics, so glossaries and tables "
        "are not judged by it.",
    )
    min_chrome_hits: int = Field(
        2, ge=1, description="Chrome lines a page needs before min_prose_frac applies."
    )
    max_url_frac: float | None = Field(
        0.15,
        ge=0,
        le=1,
        description="Reject (web_link_density) when URLs hold more than this share of the "
        "non-space characters, with at least min_urls URLs: SEO link farms. Licence and "
        "copyright files, bibliographies and help pages with a few links stay far below.",
    )
    min_urls: int = Field(
        6,
        ge=1,
        description="URLs needed before link density is judged: reference pages cite up to "
        "five (a dense CJK page with five URLs is 15-22% URL characters); link farms dozens.",
    )
    max_anchor_list_frac: float | None = Field(
        0.5,
        ge=0,
        le=1,
        description="Reject (web_anchor_list) when lines that are lists of short link phrases "
        "(3+ items split by | · • / , without sentence punctuation) hold more than this share "
        "of the characters: link farms and tag clouds. Prose enumerations end in punctuation "
        "or hold single words; documentation tables are rows, not phrase lists.",
    )
    max_blob_frac: float | None = Field(
        0.1,
        ge=0,
        le=1,
        description="Reject (web_encoded_blob) when base64 runs (40+ characters mixing cases "
        "and digits), hex runs (32+ hex digits) and hex dumps hold more than this share of the "
        "characters. A checksum or key id in documentation is a few percent at most.",
    )
    min_blob_chars: int = Field(
        200,
        ge=0,
        description="Encoded characters needed before the blob rule is judged: one SHA-256 "
        "(64 hex digits) or key id in a short help page is not a blob.",
    )
    max_numeric_line_frac: float | None = Field(
        0.4,
        ge=0,
        le=1,
        description="Reject (web_numeric_table) when lines made of numbers (4+ fields, 80% "
        "numeric) are more than this share of the lines and hold over half of the characters: "
        "data exports and price dumps. Documentation tables have words in their cells.",
    )
    min_numeric_lines: int = Field(
        8, ge=1, description="Numeric lines needed before the numeric-table rule is judged."
    )
    code_aware: bool = Field(
        True,
        description="Skip every web rule on source code (file-name hints or code-like lines): "
        "code legitimately holds hex constants, base64 test data, URLs and number tables.",
    )
