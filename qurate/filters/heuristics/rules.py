"""Heuristic quality filters: datatrove's Gopher, C4 and FineWeb rules in one fast step.

Stock datatrove runs four filters, each tokenising the document again with spaCy. This
step tokenises once (``qurate.filters.text``, cached in ``doc.metadata``), classifies lines
once, and applies every rule, cheapest first; the n-gram repetition rules, the costliest,
run last, only on documents that passed everything else.

The rules keep datatrove's definitions, with four changes that keep good text:

- CJK/Thai text is counted in characters (``text.py``), the mean-word-length rule is
  skipped for it, and the stop-word rule uses a list for the document's language (from
  language ID) instead of English for everyone.
- Code (metadata file extension or language, or mostly code-like lines) is judged only by
  the length, repetition (ignoring short lines such as ``}``), lorem-ipsum and mojibake
  rules: symbol ratios, stop words and line punctuation say nothing about code quality.
- Line rules look at prose lines only: headings, bullet items, table rows and fenced code
  in documentation are neither "unpunctuated" nor "short lines".
- Markdown heading markers are not hashtags.

qurate adds rules for junk the stock set lets through: mojibake that ftfy could not repair,
keyword stuffing, commercial spam wording, and pages that are mostly site chrome.

Each reject reason names its rule (``gopher_short_doc``, ``gopher_rep_dup_line_frac``,
``c4_lorem_ipsum``, ``fineweb_line_punct_ratio``, ``mojibake``, ...); the detail gives the
measured value and the threshold, so a user can see how far off a document was.
"""

from __future__ import annotations

import re
from collections import Counter

from datatrove.data import Document

from qurate.contract.rejects import QurateFilter
from qurate.filters.heuristics.config import HeuristicsConfig
from qurate.filters.heuristics.lexicon import (
    BOILERPLATE_PHRASES,
    SPAM_PHRASES,
    SPAM_WORDS,
    STOP_WORDS,
)
from qurate.filters.heuristics.mojibake import Result, fail, mojibake
from qurate.filters.heuristics.procedures import collapse_repeated_steps
from qurate.filters.heuristics.stats import (
    duplicates,
    line_stats,
    looks_like_code,
    ngram_repetition,
)
from qurate.filters.text import TOKENS_KEY, doc_tokens
from qurate.filters.web.lines import is_licence

IS_CODE_KEY = "is_code"
# Rules that a page of repeated procedure steps can fail (see procedures.py).
_REPETITION_REASONS = ("gopher_rep_", "fineweb_char_dup_ratio", "keyword_stuffing")
_PARA_RE = re.compile(r"\n\s*\n")
_NON_ALPHA_CHUNK_RE = re.compile(r"(?<!\S)(?:[^\w\s]|[\d_])+(?!\S)")
_TABLE_CHUNK_RE = re.compile(r"(?<!\S)[|+\-=_~*#.:\u2500-\u257f]+(?!\S)")
_LETTER_RE = re.compile(r"[^\W\d_]")
# ASCII fast path for the two chunk counts above: bytes.translate maps every whitespace
# character to b" " (bytes.split knows fewer than str.split and \s) and deletes the chunk
# class's characters; chunks made only of them vanish from the split.
_ASCII_WS_TAB = bytes(ord(" ") if chr(b).isspace() else b for b in range(256))
_NON_ALPHA_CHARS = bytes(b for b in range(128) if _NON_ALPHA_CHUNK_RE.fullmatch(chr(b)))
_TABLE_CHARS = bytes(b for b in range(128) if _TABLE_CHUNK_RE.fullmatch(chr(b)))
_HANGUL_RE = re.compile(r"[\uac00-\ud7af]")


def _boilerplate_groups() -> tuple[tuple[str, tuple[str, ...]], ...]:
    """BOILERPLATE_PHRASES grouped under a substring each member contains ("cookie" for
    "accept cookies"): a text without the gate cannot hold any of the group. Non-ASCII
    phrases form one group behind the "" gate and are skipped for ASCII text."""
    gates = ("cookie", "privacy", "terms ", "sign ", "log", "share ", "skip to ", "leave a ")
    groups: dict[str, list[str]] = {}
    for phrase in BOILERPLATE_PHRASES:
        if not phrase.isascii():
            gate = ""
        else:
            gate = next((g for g in gates if g in phrase), phrase)
        groups.setdefault(gate, []).append(phrase)
    return tuple((gate, tuple(ps)) for gate, ps in groups.items())


_BOILERPLATE_GROUPS = _boilerplate_groups()
_ASCII_SPAM_PHRASES = tuple(p for p in SPAM_PHRASES if p.isascii())


def _has_boilerplate(lower: str) -> bool:
    """``any(p in lower for p in BOILERPLATE_PHRASES)``, with fewer substring scans."""
    ascii_text = lower.isascii()
    for gate, phrases in _BOILERPLATE_GROUPS:
        if gate:
            if gate in lower and any(p in lower for p in phrases):
                return True
        elif not ascii_text and any(p in lower for p in phrases):
            return True
    return False


def _letter_lines(lines: list[str]) -> list[str]:
    search = _LETTER_RE.search
    return [s for s in map(str.strip, lines) if search(s)]


_fail = fail


class Heuristics(QurateFilter):
    """All heuristic rules of ``HeuristicsConfig`` as one datatrove step (mark, don't drop).

    Sets ``doc.metadata["is_code"]`` on every document it judges.
    """

    name = "🧹 qurate heuristics"
    stage = "heuristics"

    def __init__(self, config: HeuristicsConfig | None = None) -> None:
        super().__init__()
        self.cfg = config or HeuristicsConfig()
        self._stop_chars = tuple(self.cfg.fineweb.stop_chars)

    def filter(self, doc: Document) -> Result:
        res = self._judge(doc)
        max_frac = self.cfg.gopher_repetition.repeated_steps_max_frac
        if res is True or max_frac is None or not res[1].startswith(_REPETITION_REASONS):
            return res
        collapsed = collapse_repeated_steps(doc.text, max_frac)
        if collapsed is None:
            return res
        # Judged again as if each repeated procedure step appeared once (procedures.py).
        meta = {k: v for k, v in doc.metadata.items() if k != TOKENS_KEY}
        again = self._judge(Document(text=collapsed, id=doc.id, metadata=meta))
        if again is True:
            doc.metadata[IS_CODE_KEY] = meta.get(IS_CODE_KEY, False)
        return again if again is True else res

    def _judge(self, doc: Document) -> Result:
        cfg = self.cfg
        text = doc.text
        q, gq, gr, c4, fw = (
            cfg.quality,
            cfg.gopher_quality,
            cfg.gopher_repetition,
            cfg.c4,
            cfg.fineweb,
        )
        if not text.strip():
            return False, "empty", "no text"

        if q.enabled and (res := mojibake(text, q)) is not True:
            return res
        lower = text.lower()
        if c4.enabled and c4.filter_lorem_ipsum and "lorem ipsum" in lower:
            return False, "c4_lorem_ipsum", "contains 'lorem ipsum'"

        lines = text.split("\n")
        boilerplate = c4.enabled and _has_boilerplate(lower)
        st = line_stats(
            lines,
            self._stop_chars,
            fw.short_line_length,
            c4.min_words_per_line,
            boilerplate,
            fw.context_headings,
        )
        is_code = cfg.code_aware and looks_like_code(doc.metadata, st, cfg.code_line_frac, text)
        doc.metadata[IS_CODE_KEY] = is_code

        # Stripped lines that hold a letter, in order: both line-duplication rules count only
        # these, so they are found once (a letter implies a non-empty line).
        letter_lines = _letter_lines(lines) if gr.enabled or fw.enabled else []
        if gr.enabled and (res := self._line_repetition(text, letter_lines, is_code)) is not True:
            return res
        toks = doc_tokens(doc)
        if gq.enabled and (res := self._gopher_quality(doc, text, toks, st, is_code)) is not True:
            return res
        if is_code:
            return True

        if c4.enabled:
            if c4.filter_curly_bracket and "{" in text:
                return False, "c4_curly_bracket", "contains '{'"
            if (
                c4.max_boilerplate_lines_ratio is not None
                and st.n_boilerplate >= c4.min_boilerplate_lines
                and st.n_boilerplate / st.n_nonempty > c4.max_boilerplate_lines_ratio
            ):
                return _fail(
                    "c4_boilerplate",
                    st.n_boilerplate / st.n_nonempty,
                    c4.max_boilerplate_lines_ratio,
                )
            if (
                c4.min_num_sentences is not None
                and st.n_sentences < c4.min_num_sentences
                and not self._table_page(st)
            ):
                return _fail("c4_too_few_sentences", st.n_sentences, c4.min_num_sentences, "<")

        if fw.enabled and (res := self._fineweb(text, letter_lines, toks, st)) is not True:
            return res
        if q.enabled and (res := self._spam(lower, toks, doc)) is not True:
            return res
        if gr.enabled:
            top_ns, dup_ns = gr.top_n_grams, gr.dup_n_grams
            if gr.licence_ngram_slack and is_licence(lower):
                top_ns = {n: v + gr.licence_ngram_slack for n, v in top_ns.items()}
                dup_ns = {n: v + gr.licence_ngram_slack for n, v in dup_ns.items()}
            if toks.no_space_frac > 0.5:
                # One CJK character is a fraction of a word: compare like-sized n-grams.
                scale = gr.cjk_ngram_scale
                top_ns = {round(n * scale): v for n, v in top_ns.items()}
                dup_ns = {round(n * scale): v for n, v in dup_ns.items()}
            hit = ngram_repetition(toks.words, len(text), top_ns, dup_ns)
            if hit is not None:
                kind, n, value, thr = hit
                name = "gopher_rep_top_n_gram" if kind == "top" else "gopher_rep_dup_n_gram"
                return False, name, f"{n}-grams: {value:.4g} > {thr:g}"
        return True

    def _line_repetition(self, text: str, letter_lines: list[str], is_code: bool) -> Result:
        gr = self.cfg.gopher_repetition
        # Lines and paragraphs without a letter (table rules, "...", "}") repeat in every
        # good table or program; only repeated *text* counts. In code, short lines too.
        min_len = gr.code_min_line_chars if is_code else 1
        paragraphs = [
            p
            for p in (p.strip() for p in _PARA_RE.split(text.strip()))
            if len(p) >= min_len and _LETTER_RE.search(p)
        ]
        if paragraphs:
            n_dup, dup_chars = duplicates(paragraphs)
            if gr.dup_para_frac is not None and n_dup / len(paragraphs) > gr.dup_para_frac:
                return _fail("gopher_rep_dup_para_frac", n_dup / len(paragraphs), gr.dup_para_frac)
            if gr.dup_para_char_frac is not None and dup_chars / len(text) > gr.dup_para_char_frac:
                return _fail(
                    "gopher_rep_dup_para_char_frac", dup_chars / len(text), gr.dup_para_char_frac
                )
        kept = letter_lines if min_len <= 1 else [s for s in letter_lines if len(s) >= min_len]
        if not kept:
            return True
        n_dup, dup_chars = duplicates(kept)
        if gr.dup_line_frac is not None and n_dup / len(kept) > gr.dup_line_frac:
            return _fail("gopher_rep_dup_line_frac", n_dup / len(kept), gr.dup_line_frac)
        if gr.dup_line_char_frac is not None and dup_chars / len(text) > gr.dup_line_char_frac:
            return _fail(
                "gopher_rep_dup_line_char_frac", dup_chars / len(text), gr.dup_line_char_frac
            )
        return True

    def _gopher_quality(self, doc: Document, text: str, toks, st, is_code: bool) -> Result:
        gq = self.cfg.gopher_quality
        words = toks.words
        n_spaced = toks.n_words - toks.n_no_space
        n_eff = n_spaced + toks.n_no_space / gq.cjk_chars_per_word
        if gq.min_doc_words is not None and n_eff < gq.min_doc_words:
            return _fail("gopher_short_doc", n_eff, gq.min_doc_words, "<")
        if gq.max_doc_words is not None and n_eff > gq.max_doc_words:
            return _fail("gopher_long_doc", n_eff, gq.max_doc_words)
        if is_code:
            return True
        # Mean word length over spaced-script words only, when they dominate.
        if toks.no_space_frac < 0.3 and n_spaced >= 10:
            n_letters = sum(map(len, words)) - toks.n_no_space
            if not text.isascii():
                n_hangul = len(_HANGUL_RE.findall(text))
                if n_hangul > 0.5 * n_letters:
                    n_letters += n_hangul * (gq.hangul_letters_per_syllable - 1)
            avg = n_letters / n_spaced
            if gq.min_avg_word_length is not None and avg < gq.min_avg_word_length:
                return _fail("gopher_below_avg_threshold", avg, gq.min_avg_word_length, "<")
            if gq.max_avg_word_length is not None and avg > gq.max_avg_word_length:
                return _fail("gopher_above_avg_threshold", avg, gq.max_avg_word_length)
        n_tokens = max(toks.n_tokens, 1)
        if gq.max_symbol_word_ratio is not None:
            hashes = (text.count("#") - st.n_heading_hashes) / n_tokens
            if hashes > gq.max_symbol_word_ratio:
                return _fail("gopher_too_many_hashes", hashes, gq.max_symbol_word_ratio)
            ell = (text.count("...") + text.count("…")) / n_tokens
            if ell > gq.max_symbol_word_ratio:
                return _fail("gopher_too_many_ellipsis", ell, gq.max_symbol_word_ratio)
        n_lines = max(st.n_nonempty, 1)
        if (
            gq.max_bullet_lines_ratio is not None
            and st.n_bullet / n_lines > gq.max_bullet_lines_ratio
        ):
            return _fail(
                "gopher_too_many_bullets", st.n_bullet / n_lines, gq.max_bullet_lines_ratio
            )
        if (
            gq.max_ellipsis_lines_ratio is not None
            and st.n_end_ellipsis / n_lines > gq.max_ellipsis_lines_ratio
        ):
            return _fail(
                "gopher_too_many_end_ellipsis",
                st.n_end_ellipsis / n_lines,
                gq.max_ellipsis_lines_ratio,
            )
        if gq.min_alpha_words_ratio is not None:
            # Gopher's "words" are whitespace-separated: a Markdown `code` span is a word with
            # letters, not three tokens. Table borders ("|", "+---+") are layout, not words;
            # each CJK character counts as a word (CJK text has few spaces to split on).
            if text.isascii():
                raw = text.encode()
                n_split = len(raw.translate(_ASCII_WS_TAB).split())
                n_table = n_split - len(raw.translate(_ASCII_WS_TAB, _TABLE_CHARS).split())
                n_non_alpha = n_split - len(raw.translate(_ASCII_WS_TAB, _NON_ALPHA_CHARS).split())
            else:
                n_split = len(text.split())
                n_table = len(_TABLE_CHUNK_RE.findall(text))
                n_non_alpha = len(_NON_ALPHA_CHUNK_RE.findall(text))
            n_chunks = max(n_split - n_table + toks.n_no_space, 1)
            ratio = 1 - (n_non_alpha - n_table) / n_chunks
            if ratio < gq.min_alpha_words_ratio:
                return _fail("gopher_below_alpha_threshold", ratio, gq.min_alpha_words_ratio, "<")
        if gq.min_stop_words is not None:
            stops = STOP_WORDS.get(str(doc.metadata.get("lang") or "").split("_")[0])
            if stops is not None:
                found = len(stops.intersection(map(str.lower, words)))
                if found < gq.min_stop_words:
                    return _fail("gopher_few_stop_words", found, gq.min_stop_words, "<")
        return True

    def _table_page(self, st) -> bool:
        """A reference page of tables (shortcuts, ports, options): its rows are the content,
        its short lines are headings, and its sentences, if any, are inside cells."""
        ratio = self.cfg.fineweb.table_heading_ratio
        return ratio is not None and st.n_table >= 5 and st.n_table >= ratio * st.n_prose

    def _fineweb(self, text: str, letter_lines: list[str], toks, st) -> Result:
        fw = self.cfg.fineweb
        # Headings known from context are not prose; sentences written as list items are.
        n_prose = st.n_prose - st.n_ctx_heading + st.n_bullet_punct
        if n_prose:
            ratio = (st.n_prose_punct + st.n_bullet_punct) / n_prose
            # In a page of tables, the short "prose" lines are the tables' section headings.
            tables = self._table_page(st)
            if (
                fw.line_punct_thr is not None
                and ratio < fw.line_punct_thr
                and not (ratio == 0 and fw.line_punct_exclude_zero)
                and not tables
            ):
                return _fail("fineweb_line_punct_ratio", ratio, fw.line_punct_thr, "<")
            ratio = (st.n_prose_short - st.n_ctx_heading_short) / n_prose
            if fw.short_line_thr is not None and ratio > fw.short_line_thr and not tables:
                return _fail("fineweb_short_line_ratio", ratio, fw.short_line_thr)
        if fw.char_dup_ratio is not None:
            min_len = fw.dup_min_line_chars
            long_lines = [s for s in letter_lines if len(s) >= min_len]
            ratio = duplicates(long_lines)[1] / max(len(text) - text.count("\n"), 1)
            if ratio > fw.char_dup_ratio:
                return _fail("fineweb_char_dup_ratio", ratio, fw.char_dup_ratio)
        if fw.new_line_ratio is not None and toks.n_words:
            ratio = st.n_nonempty / toks.n_words
            if ratio > fw.new_line_ratio:
                return _fail("fineweb_list_ratio", ratio, fw.new_line_ratio)
        return True

    def _spam(self, lower: str, toks, doc: Document) -> Result:
        q = self.cfg.quality
        n = toks.n_words
        if not n:
            return True
        counts = Counter(map(str.lower, toks.words))
        if q.max_spam_per_100_words is not None:
            # A non-ASCII phrase cannot occur in ASCII text: skip those scans there.
            phrases = _ASCII_SPAM_PHRASES if lower.isascii() else SPAM_PHRASES
            hits = sum(lower.count(p) for p in phrases)
            hits += sum(counts[w] for w in SPAM_WORDS.intersection(counts))
            n_eff = (
                n - toks.n_no_space + toks.n_no_space / self.cfg.gopher_quality.cjk_chars_per_word
            )
            per_100 = hits * 100 / max(n_eff, 1)
            if per_100 > q.max_spam_per_100_words:
                return _fail("spam", per_100, q.max_spam_per_100_words)
        if (
            q.max_top_word_frac is not None
            and n >= q.min_words_for_top_word
            and toks.no_space_frac < 0.3
        ):
            stops = STOP_WORDS.get(
                str(doc.metadata.get("lang") or "").split("_")[0], STOP_WORDS["en"]
            )
            for word, count in counts.most_common(8):
                if len(word) < 3 or word in stops or word.isdigit():
                    continue
                frac = count / n
                if frac > q.max_top_word_frac:
                    return _fail("keyword_stuffing", frac, q.max_top_word_frac)
                break
        return True
