"""Input formats: JSONL (plain, .gz, .zst), Parquet, text folders, WARC, code trees.

``listing`` (which paths an input argument means, and what is skipped), ``compressed`` (our
own .gz/.zst loop, which keeps what precedes damage), ``inputs`` (the corpus reader),
``warc``, ``code`` (one document per source file), ``text`` (the one empty / too long /
binary check), ``html`` (HTML to text).

Imports: ``qurate.errors`` and ``qurate.contract``.
"""
