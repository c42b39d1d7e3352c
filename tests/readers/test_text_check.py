"""One text check for every reader: the corpus reader and the code-file reader judge the same
bytes the same way (they disagreed: any NUL vs more than 1% and at least two)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qurate.readers.code import CodeFileReader
from qurate.readers.inputs import InputReader, list_inputs
from qurate.readers.text import binary_reason


@pytest.mark.parametrize(
    ("text", "binary"),
    [
        ("x = 1\x00\n", True),  # one NUL in a short text: more than 1%
        ("\x00" * 4, True),
        ("# a long source file\n" * 20 + "\x00", False),  # one stray NUL in 421 characters
        ("plain text\n", False),
    ],
)
def test_both_readers_agree_on_binary(tmp_path: Path, text: str, binary: bool):
    src = tmp_path / "file.py"
    src.write_text(text)
    code_doc = CodeFileReader([(str(src), "t/file.py", "python")]).read(
        str(src), "t/file.py", "python"
    )
    corpus = tmp_path / "c.jsonl"
    corpus.write_text(json.dumps({"id": "c", "text": text}) + "\n")
    (corpus_doc,) = InputReader(list_inputs([corpus])).run(None, 0, 1)
    expected = "binary" if binary else None
    assert code_doc.metadata.get("reject_reason") == expected
    assert corpus_doc.metadata.get("reject_reason") == expected
    assert (binary_reason(text) is not None) == binary
