"""``qurate curate``: the pipeline (read, normalise, language ID, heuristics, dedup,
decontaminate, write) and its config section.

Imports: ``qurate.errors``, ``qurate.contract``, ``qurate.readers``, ``qurate.filters`` and
``qurate.dedup``.
"""
