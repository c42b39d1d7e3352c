"""The built-in Qwen2.5 trainer: model, tokenizer, packed Parquet loader, loop, planner.

It reads only the shard contract (a directory of ``part-*.parquet`` with a ``text``
column) and never imports the curation stages. Modules, in reading order:

- ``model``: Qwen2.5 in one file, HF parameter names, presets (tiny ... 72B)
- ``loss``: the LM head fused with cross-entropy in token chunks
- ``tokenizer``: load a ``tokenizer.json`` or train a Qwen-style byte-level BPE
- ``data``: streams of packed rows, deterministic from a seed, resumable
- ``plan``: batch size and learning rate from scaling laws, and refitting them
- ``config`` / ``prepare`` / ``loop`` / ``dist`` / ``checkpoint``: the training run
- ``api``: the entry points (``train``, ``train_tokenizer``, ``export``, ``plan``)

Importing this package is cheap; ``qurate.train.api`` needs the ``train`` extra.
"""
