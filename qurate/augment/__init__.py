"""``qurate augment``: the math and code lever.

- ``classifier``: the fastText recall classifier (seeds vs pool) and its datatrove step
- ``recall``: iterative recall rounds over a curated pool (the Qwen2.5-Math recipe)
- ``ingest``: dedicated math/code corpora and code trees, with the code filters

Imports: ``qurate.errors``, ``qurate.contract``, ``qurate.readers``, ``qurate.filters``,
and ``qurate.llm`` (the fastText trainer and the judge's prompt pieces).
"""
