"""Cheap pre-checks in front of costly patterns must never change an answer.

``is_code_line`` skips ``_CODE_LINE_RE`` when ``_may_be_code`` says the line has none of the
starts, endings or operators its branches need; ``find_chrome`` replaces the per-line
``_MAYBE_CHROME_RE`` search with ``_maybe_chrome_test``. A branch added to either pattern
without its pre-check would drop code lines or chrome silently: these tests catch that on
one example per branch and on fuzzed lines.
"""

from __future__ import annotations

import random

from qurate.filters.heuristics.stats import _CODE_LINE_RE, _may_be_code, is_code_line
from qurate.filters.web.lines import _MAYBE_CHROME_RE, _STRIP, _maybe_chrome_test

# One line (or more) per branch of _CODE_LINE_RE, none ending in a _CODE_ENDS suffix.
CODE_LINES = [
    "def main",
    "class Foo",
    "SELECT name FROM users",
    "else:",
    "async  def fetch",
    "#include <stdio.h>",
    "#!/bin/sh",
    "@dataclass",
    "end",
    "attr_reader :name",
    "sub new",
    "use strict",
    "my $x",
    "=head1 NAME",
    "__END__",
    "    call_something(arg)",
    "f(x);",
    '"key": value,',
    "items.each do |x|",
    "if test -f x; then",
    "[1, 2,",
    '"a string",',
    "'another'",
    "(define (square x) (* x x))",
    ";; comment",
    "proc name {args} {",
    "lappend result $x",
    "namespace eval ::foo",
    "type Point struct",
    "import os",
    "from x import y",
    "print(x)",
    "console.log(x)",
    "System.out",
    "std::vector<int> v",
    "if (x > 0)",
    "for x in items:",
    "while running:",
    "with open(p) as f:",
    ")]",
    "// a comment",
    "/* block",
    "*/",
    "<!-- html -->",
    "-->",
    "<div class='x'>",
    "x = 1",
    "total += n",
    "a := b",
    "x -> y",
    "r <- c(1, 2)",
]
PROSE_LINES = [
    "The quick brown fox jumps over the lazy dog",
    "see the manual for details and more information about this",
    "Überblick über die Funktionen",
    "這是一個測試",
]


def _fuzz_lines(n: int, seed: int = 0) -> list[str]:
    pieces = [
        "def", "end", "do", "then", "if", "for", "x", " ", "  ", "(", ")", ",", ";", "=",
        "->", "<-", "'", '"', "|", ":", "{", "}", "[", "]", "#", "@", "attr_x", "__END__",
        "print(", "the", "Foo", ".", "$", "%", "*", "/", "<", ">", "-", "é", "\t", "std::",
        "type", "use", "my", "«", "»", "©", "·", "—", " / ", " > ", "1", "12", "123", "Home",
    ]  # fmt: skip
    rng = random.Random(seed)
    return ["".join(rng.choice(pieces) for _ in range(rng.randint(1, 9))) for _ in range(n)]


def test_each_code_branch_passes_the_pre_check():
    for line in CODE_LINES:
        s = line.strip()
        assert _CODE_LINE_RE.match(line.rstrip()), line  # the example does hit a branch
        assert _may_be_code(s), line
        assert is_code_line(s, line), line


def test_pre_check_rejects_plain_prose():
    assert not any(_may_be_code(s) for s in PROSE_LINES)


def test_pre_check_never_hides_a_match_on_fuzzed_lines():
    for line in _fuzz_lines(15_000):
        s = line.strip()
        if s and _CODE_LINE_RE.match(line.rstrip()):
            assert _may_be_code(s), line


def test_maybe_chrome_test_equals_the_pattern():
    lines = _fuzz_lines(10_000, seed=1)
    for start in range(0, len(lines), 40):  # pages of 40 lines
        page = lines[start : start + 40]
        test = _maybe_chrome_test("\n".join(page))
        for line in page:
            core = line.strip(_STRIP)
            assert test(core) == (_MAYBE_CHROME_RE.search(core) is not None), line
    # A page without separators, (c) or number runs tests nothing.
    assert not _maybe_chrome_test("plain words\nmore words")("Home | About")
