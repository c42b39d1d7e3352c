"""Input formats: JSONL (plain or compressed), Parquet, text folders, WARC, HTML to text.

Imports: ``qurate.errors`` and ``qurate.contract``.
"""
