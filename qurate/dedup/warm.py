"""Importing this module builds the dedup tokenizer's code point table (``char_table``).

The table (1.1M code points classified with ``unicodedata``) takes ~0.5 s to build on an idle
core (1.6 s at load 10) and was built again in every pool worker of every stage that hashes
tokens. ``qurate curate`` names this module in its forkserver preload
(``contract.executors.preload_in_workers``), so the table is built once and every forked
worker inherits it.
"""

from __future__ import annotations

from qurate.dedup.tokens import char_table

char_table()
