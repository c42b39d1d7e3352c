"""Datatrove filter steps only: every keep/drop decision of ``qurate curate`` and ``ingest``.

- ``normalize``: Unicode and whitespace repair (ftfy)
- ``langid``: fastText language ID
- ``heuristics/``: Gopher / C4 / FineWeb-style quality rules (config, stats, lexicon)
- ``code``: per-language code-file filters; ``math_features``: math density
- ``steps``: normalise -> language ID -> heuristics, as curate runs them

Imports: ``qurate.errors`` and ``qurate.contract``.
"""
