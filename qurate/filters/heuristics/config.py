"""Thresholds of the heuristic filters, as typed config (every default lives here).

The rule families are datatrove's (Gopher quality, Gopher repetition, C4, FineWeb), with
the same threshold names where the meaning is the same. A threshold set to ``null``
disables its rule. Where a default differs from stock datatrove, the comment says why:
stock defaults were tuned for English web pages and drop most clean documentation,
reference text, literature and code.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class GopherQualityConfig(_Strict):
    enabled: bool = Field(True, description="run the Gopher quality rules")
    min_doc_words: int | None = Field(
        30,
        ge=0,
        description="reject documents shorter than this many words (CJK/Thai characters count "
        "1/cjk_chars_per_word of a word each)",
    )
    max_doc_words: int | None = Field(
        100_000, ge=0, description="reject documents longer than this many words (counted as above)"
    )
    cjk_chars_per_word: float = Field(
        1.5, gt=0, description="CJK/Thai characters that count as one word in the word counts"
    )
    min_avg_word_length: float | None = Field(
        3,
        ge=0,
        description="reject when the mean word length (characters) is below this; skipped for "
        "CJK/Thai documents (their tokens are single characters)",
    )
    max_avg_word_length: float | None = Field(
        10,
        ge=0,
        description="reject when the mean word length (characters) is above this (gibberish, "
        "run-together tokens); skipped for CJK/Thai documents",
    )
    hangul_letters_per_syllable: float = Field(
        2.0,
        gt=0,
        description="In Korean text (mostly Hangul words) a syllable block counts as this many "
        "letters in the mean-word-length rule: Korean words are 2-3 syllables, so counted in "
        "characters every Korean help page fell under min_avg_word_length (13 of 18 on the "
        "web dev set). Gibberish and run-together tokens still exceed max_avg_word_length.",
    )
    max_symbol_word_ratio: float | None = Field(
        0.1,
        ge=0,
        description="reject when '#' per word, or ellipses ('...', '…') per word, exceed this; "
        "'#' counts only mid-line (hashtags), not Markdown heading markers",
    )
    max_bullet_lines_ratio: float | None = Field(
        0.9, ge=0, description="reject when more than this share of lines start with a bullet"
    )
    max_ellipsis_lines_ratio: float | None = Field(
        0.3, ge=0, description="reject when more than this share of lines end in an ellipsis"
    )
    min_alpha_words_ratio: float | None = Field(
        0.6,
        ge=0,
        description="reject when fewer than this share of whitespace-separated words contain a "
        "letter (stock name: max_non_alpha_words_ratio; stock 0.8 drops reference tables such "
        "as character sets and error codes, and math)",
    )
    min_stop_words: int | None = Field(
        2,
        ge=0,
        description="reject documents with fewer stop words than this, per language (lang from "
        "language ID); languages without a stop-word list skip the rule",
    )

    @model_validator(mode="after")
    def _min_below_max(self) -> GopherQualityConfig:
        # A minimum above its maximum rejected every document.
        for lo, hi in (
            ("min_doc_words", "max_doc_words"),
            ("min_avg_word_length", "max_avg_word_length"),
        ):
            a, b = getattr(self, lo), getattr(self, hi)
            if a is not None and b is not None and a > b:
                raise ValueError(
                    f"{lo} ({a:g}) is above {hi} ({b:g}): every document would be rejected"
                )
        return self


class GopherRepetitionConfig(_Strict):
    """Gopher repetition rules, with limits 0.05-0.1 above stock.

    Stock (Gopher paper) fractions are 0.3/0.3/0.2/0.2, top n-grams 0.2/0.18/0.16 and
    duplicated n-grams 0.15..0.10: API references, anthologies with repeated attributions
    and scripture exceed them. Real repeated-line junk and keyword stuffing score far above
    either.
    """

    enabled: bool = Field(True, description="run the Gopher repetition rules")
    dup_line_frac: float | None = Field(
        0.4,
        ge=0,
        description="reject when more than this share of lines are duplicates (stock 0.3)",
    )
    dup_para_frac: float | None = Field(
        0.4,
        ge=0,
        description="reject when more than this share of paragraphs are duplicates (stock 0.3)",
    )
    dup_line_char_frac: float | None = Field(
        0.3,
        ge=0,
        description="reject when more than this share of characters sit in duplicated lines "
        "(stock 0.2)",
    )
    dup_para_char_frac: float | None = Field(
        0.3,
        ge=0,
        description="reject when more than this share of characters sit in duplicated "
        "paragraphs (stock 0.2)",
    )
    top_n_grams: dict[int, float] = Field(
        {2: 0.25, 3: 0.23, 4: 0.21},
        description="n -> max character fraction of the most frequent n-gram (stock 0.2/0.18/0.16)",
    )
    dup_n_grams: dict[int, float] = Field(
        {5: 0.25, 6: 0.24, 7: 0.23, 8: 0.22, 9: 0.21, 10: 0.20},
        description="n -> max character fraction inside repeated n-grams (stock 0.15..0.10)",
    )
    cjk_ngram_scale: float = Field(
        2.0,
        ge=1.0,
        description="on CJK/Thai text (tokens are characters) n-gram sizes are multiplied by this",
    )
    code_min_line_chars: int = Field(
        20,
        ge=0,
        description='in code, lines shorter than this many characters ("}", "end") are ignored '
        "when counting duplicate lines",
    )
    licence_ngram_slack: float = Field(
        0.1,
        ge=0,
        description="Added to the top and duplicated n-gram limits for licence and copyright "
        "texts (two licence markers, e.g. 'licen' and 'warranty'): a copyright file repeats "
        "the same permission notice for each holder, which is content, not stuffing.",
    )
    repeated_steps_max_frac: float | None = Field(
        0.5,
        ge=0,
        le=1,
        description="When a page fails a repetition rule (or fineweb_char_dup_ratio), judge it "
        "again with each list item that repeats an earlier one kept once, provided such "
        "repeats are at most this share of its list items: help pages start several "
        "procedures with the same steps; a list of one line repeated over and over exceeds "
        "the share and stays rejected. null: never.",
    )

    @field_validator("top_n_grams", "dup_n_grams")
    @classmethod
    def _ngram_limits(cls, value: dict[int, float]) -> dict[int, float]:
        # n < 1 was judged as word 1-grams (every repeated word counted) and a negative
        # limit failed every document.
        for n, limit in value.items():
            if n < 1:
                raise ValueError(f"n-gram size {n} must be 1 or more (n -> max fraction)")
            if limit < 0:
                raise ValueError(f"the limit for {n}-grams ({limit:g}) must be 0 or more")
        return value


class C4Config(_Strict):
    enabled: bool = Field(True, description="run the C4 rules")
    filter_lorem_ipsum: bool = Field(True, description="reject documents containing lorem ipsum")
    filter_curly_bracket: bool = Field(
        False,
        description="reject documents containing a curly bracket; off (stock: on) because it "
        "rejects all code, LaTeX and JSON examples",
    )
    min_num_sentences: int | None = Field(
        1,
        ge=0,
        description="reject documents with fewer sentence ends on prose and list lines (stock 5 "
        "drops short reference sections; a page with no sentence at all, menus or tag lists, "
        "still goes)",
    )
    min_words_per_line: int = Field(
        3,
        ge=0,
        description="a list line, or the first prose line, needs this many words for its "
        "sentence ends to count toward min_num_sentences",
    )
    max_boilerplate_lines_ratio: float | None = Field(
        0.3,
        ge=0,
        description="reject when more than this share of lines mention javascript / cookies / "
        "terms (site chrome); stock removes those lines, we mark and never rewrite text",
    )
    min_boilerplate_lines: int = Field(
        3, ge=0, description="the boilerplate ratio applies only from this many such lines"
    )


class FineWebConfig(_Strict):
    enabled: bool = Field(True, description="run the FineWeb rules")
    line_punct_thr: float | None = Field(
        0.06,
        ge=0,
        description="reject when fewer than this share of prose lines (not headings, bullets, "
        "tables or code) end in punctuation; lines of 80+ characters count as punctuated "
        "(quotations, unpunctuated headlines)",
    )
    line_punct_exclude_zero: bool = Field(
        False,
        description="spare documents where no prose line ends in punctuation from line_punct_thr",
    )
    stop_chars: str = Field(
        ".!?,;:…。！？；：，、",
        description="characters that end a punctuated line (stock: terminal punctuation only; a "
        "prose line ending in , ; : continues a sentence)",
    )
    short_line_thr: float | None = Field(
        0.67,
        ge=0,
        description="reject when more than this share of prose lines are short AND unpunctuated "
        "(menus, tag clouds)",
    )
    short_line_length: int = Field(
        30, ge=0, description="a prose line of at most this many characters (CJK count 2) is short"
    )
    context_headings: bool = Field(
        True,
        description="for the line-punctuation and short-line rules, treat an unpunctuated line "
        "that introduces a list item or a punctuated sentence as a heading, and a list item "
        "that ends in punctuation as a prose sentence: extracted web pages carry no heading "
        "marks, and help pages are headings over lists of steps (on the web set's wide dev "
        "side, tuned on, it spares 7 of the 8 help pages these two rules dropped, of 1,791). "
        "Menus and tag clouds introduce nothing and still count. false: stock line classes",
    )
    table_heading_ratio: float | None = Field(
        2.0,
        ge=0,
        description="Skip the line-punctuation and short-line rules and C4's sentence minimum "
        "when table rows (5 or more) outnumber prose lines by this factor: in a reference page "
        "of tables (keyboard shortcuts, network ports) the unpunctuated short lines are the "
        "tables' headings and any sentences sit in cells. Menus and tag clouds are not table rows, so they still count; number "
        "dumps are the web rules' web_numeric_table. null: never skip.",
    )
    char_dup_ratio: float | None = Field(
        0.3,
        ge=0,
        description="reject when more than this share of characters sit in repeated lines (of "
        ">= dup_min_line_chars); stock 0.01 on all lines rejects any page that repeats a "
        '"Returns:" or "Example" line',
    )
    dup_min_line_chars: int = Field(
        20, ge=0, description="shorter lines are ignored by char_dup_ratio (characters)"
    )
    new_line_ratio: float | None = Field(
        0.3,
        ge=0,
        description="reject when non-empty lines per word exceed this (lists of fragments)",
    )


class QualityConfig(_Strict):
    """qurate's own rules for junk the four stock families miss."""

    enabled: bool = Field(True, description="run qurate's own quality rules")
    max_mojibake_per_1k: float | None = Field(
        1.0,
        ge=0,
        description="reject when ftfy badness hits per 1000 characters left after "
        "normalisation exceed this (mojibake)",
    )
    max_replacement_char_frac: float | None = Field(
        0.01,
        ge=0,
        description="reject when U+FFFD (lost characters) exceed this share of all characters",
    )
    max_replacement_nonascii_frac: float | None = Field(
        0.3, ge=0, description="reject when U+FFFD exceed this share of the non-ASCII characters"
    )
    max_latin1_letter_frac: float | None = Field(
        0.3,
        ge=0,
        description="reject when more than this share of letters are Latin-1 accented letters "
        "(cp1251/cp1252 mix-ups ftfy can't fix)",
    )
    max_top_word_frac: float | None = Field(
        0.15,
        ge=0,
        description="keyword stuffing: reject when the most frequent content word takes more "
        "than this share of words",
    )
    min_words_for_top_word: int = Field(
        30, ge=0, description="max_top_word_frac applies only to documents with this many words"
    )
    max_spam_per_100_words: float | None = Field(
        3.0, ge=0, description="reject when spam phrases per 100 words exceed this"
    )


class HeuristicsConfig(_Strict):
    """All heuristic rules. Code documents are judged by the repetition rules only."""

    enabled: bool = Field(True, description="run the heuristic filters at all")
    code_aware: bool = Field(
        True,
        description="detect code (from metadata file names / language, or a code-likeness score "
        "of the text) and skip the prose rules for it",
    )
    code_line_frac: float = Field(
        0.5,
        ge=0,
        le=1,
        description="without a metadata hint, a text is code when at least this share of its "
        "non-comment lines look like code (or fewer, if dense in code symbols)",
    )
    gopher_quality: GopherQualityConfig = Field(
        default_factory=GopherQualityConfig,
        description="Gopher quality: document length, word length, symbols, stop words",
    )
    gopher_repetition: GopherRepetitionConfig = Field(
        default_factory=GopherRepetitionConfig,
        description="Gopher repetition: duplicated lines, paragraphs and n-grams",
    )
    c4: C4Config = Field(
        default_factory=C4Config,
        description="C4: sentences, lorem ipsum, curly brackets, site boilerplate",
    )
    fineweb: FineWebConfig = Field(
        default_factory=FineWebConfig,
        description="FineWeb: line punctuation, short lines, duplicated characters, newlines",
    )
    quality: QualityConfig = Field(
        default_factory=QualityConfig,
        description="qurate's own rules: mojibake, lost characters, keyword stuffing, spam",
    )
