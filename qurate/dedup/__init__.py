"""Exact and MinHash near-duplicate removal, and decontamination against benchmarks.

- ``steps``: the three dedup stages of ``qurate curate`` (signatures, index, filter)
- ``minhash`` / ``tokens`` / ``cluster`` / ``files``: signatures, shingles, union-find, files
- ``decontam``: n-gram overlap with benchmark sets
- ``config``: ``DedupConfig`` and ``DecontamConfig``

Imports: ``qurate.errors`` and ``qurate.contract``. Synth and post reuse it.
"""
