"""Thresholds of the heuristic filters, as typed config (every default lives here).

The rule families are datatrove's (Gopher quality, Gopher repetition, C4, FineWeb), with
the same threshold names where the meaning is the same. A threshold set to ``null``
disables its rule. Where a default differs from stock datatrove, the comment says why:
stock defaults were tuned for English web pages and drop most clean documentation,
reference text, literature and code.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class GopherQualityConfig(_Strict):
    enabled: bool = True
    # Counted in words; CJK/Thai characters count 1/cjk_chars_per_word of a word each.
    min_doc_words: int | None = 30
    max_doc_words: int | None = 100_000
    cjk_chars_per_word: float = Field(1.5, gt=0)
    # Skipped for CJK/Thai documents (their tokens are single characters).
    min_avg_word_length: float | None = 3
    max_avg_word_length: float | None = 10
    hangul_letters_per_syllable: float = Field(
        2.0,
        gt=0,
        description="In Korean text (mostly Hangul words) a syllable block counts as this many "
        "letters in the mean-word-length rule: Korean words are 2-3 syllables, so counted in "
        "characters every Korean help page fell under min_avg_word_length (13 of 18 on the "
        "web dev set). Gibberish and run-together tokens still exceed max_avg_word_length.",
    )
    # '#' counts only mid-line (hashtags), not Markdown heading markers.
    max_symbol_word_ratio: float | None = 0.1
    max_bullet_lines_ratio: float | None = 0.9
    max_ellipsis_lines_ratio: float | None = 0.3
    # Share of whitespace-separated words with a letter (stock name: max_non_alpha_words_ratio).
    # Stock: 0.8, which drops reference tables (character sets, error codes) and math.
    min_alpha_words_ratio: float | None = 0.6
    # Per language (lang from language ID); languages without a stop-word list skip it.
    min_stop_words: int | None = 2


class GopherRepetitionConfig(_Strict):
    # Stock (Gopher paper) fractions are 0.3/0.3/0.2/0.2, top n-grams 0.2/0.18/0.16 and
    # duplicated n-grams 0.15..0.10: API references, anthologies with repeated attributions
    # and scripture exceed them. Ours sit 0.05-0.1 higher; real repeated-line junk and
    # keyword stuffing score far above either.
    enabled: bool = True
    dup_line_frac: float | None = 0.4
    dup_para_frac: float | None = 0.4
    dup_line_char_frac: float | None = 0.3
    dup_para_char_frac: float | None = 0.3
    # n -> max character fraction of the most frequent n-gram.
    top_n_grams: dict[int, float] = {2: 0.25, 3: 0.23, 4: 0.21}
    # n -> max character fraction inside repeated n-grams.
    dup_n_grams: dict[int, float] = {5: 0.25, 6: 0.24, 7: 0.23, 8: 0.22, 9: 0.21, 10: 0.20}
    # On CJK/Thai text (tokens are characters) n-gram sizes are multiplied by this.
    cjk_ngram_scale: float = Field(2.0, ge=1.0)
    # Lines shorter than this are ignored when counting duplicate lines in code ("}", "end").
    code_min_line_chars: int = 20
    licence_ngram_slack: float = Field(
        0.1,
        ge=0,
        description="Added to the top and duplicated n-gram limits for licence and copyright "
        "texts (two licence markers, e.g. 'licen' and 'warranty'): a copyright file repeats "
        "the same permission notice for each holder, which is content, not stuffing.",
    )


class C4Config(_Strict):
    enabled: bool = True
    filter_lorem_ipsum: bool = True
    # Off by default (stock: on): a curly bracket rejects all code, LaTeX and JSON examples.
    filter_curly_bracket: bool = False
    # Sentence ends on prose and list lines. Stock: 5, which drops short reference
    # sections; a page with no sentence at all (menus, tag lists) still goes.
    min_num_sentences: int | None = 1
    min_words_per_line: int = 3
    # Stock removes lines mentioning javascript / cookies / terms; we mark, never rewrite
    # text, so a document whose lines are mostly such site chrome is rejected instead.
    max_boilerplate_lines_ratio: float | None = 0.3
    min_boilerplate_lines: int = 3


class FineWebConfig(_Strict):
    enabled: bool = True
    # Share of prose lines (not headings, bullets, tables or code) that end in punctuation;
    # lines of 80+ characters count as punctuated (quotations, unpunctuated headlines).
    line_punct_thr: float | None = 0.06
    line_punct_exclude_zero: bool = False
    # Stock: terminal punctuation only; a prose line ending in , ; : continues a sentence.
    stop_chars: str = ".!?,;:…。！？；：，、"
    # Share of prose lines that are short AND unpunctuated (menus, tag clouds).
    short_line_thr: float | None = 0.67
    short_line_length: int = 30
    table_heading_ratio: float | None = Field(
        2.0,
        ge=0,
        description="Skip the line-punctuation and short-line rules and C4's sentence minimum "
        "when table rows (5 or more) outnumber prose lines by this factor: in a reference page "
        "of tables (keyboard shortcuts, network ports) the unpunctuated short lines are the "
        "tables' headings and any sentences sit in cells. Menus and tag clouds are not table rows, so they still count; number "
        "dumps are the web rules' web_numeric_table. null: never skip.",
    )
    # Characters in repeated lines (of >= dup_min_line_chars) / all. Stock: 0.01 on all lines,
    # which rejects any page that repeats a "Returns:" or "Example" line.
    char_dup_ratio: float | None = 0.3
    dup_min_line_chars: int = 20
    new_line_ratio: float | None = 0.3


class QualityConfig(_Strict):
    """qurate's own rules for junk the four stock families miss."""

    enabled: bool = True
    # ftfy badness hits per 1000 characters left after normalisation.
    max_mojibake_per_1k: float | None = 1.0
    # U+FFFD (lost characters): share of all characters, and of non-ASCII characters.
    max_replacement_char_frac: float | None = 0.01
    max_replacement_nonascii_frac: float | None = 0.3
    # Share of letters that are Latin-1 accented letters (cp1251/cp1252 mix-ups ftfy can't fix).
    max_latin1_letter_frac: float | None = 0.3
    # Keyword stuffing: share of words taken by the most frequent content word.
    max_top_word_frac: float | None = 0.15
    min_words_for_top_word: int = 30
    # Spam phrases per 100 words.
    max_spam_per_100_words: float | None = 3.0


class HeuristicsConfig(_Strict):
    """All heuristic rules. Code documents are judged by the repetition rules only."""

    enabled: bool = True
    # Detect code (from metadata file names / language, or a code-likeness score of the
    # text) and skip prose rules for it.
    code_aware: bool = True
    code_line_frac: float = Field(0.5, ge=0, le=1)
    gopher_quality: GopherQualityConfig = GopherQualityConfig()
    gopher_repetition: GopherRepetitionConfig = GopherRepetitionConfig()
    c4: C4Config = C4Config()
    fineweb: FineWebConfig = FineWebConfig()
    quality: QualityConfig = QualityConfig()
