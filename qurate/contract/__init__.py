"""The floor every stage stands on: the data contract.

- ``schema``: the pinned Parquet schema of documents and rejects
- ``docs``: datatrove ``Document`` <-> row
- ``rejects``: mark, don't drop (reject helpers and the ``QurateFilter`` base step)
- ``args``: the library calls' arguments checked at the call (paths, config sections)
- ``config``: the one config loader (YAML section -> pydantic model, flag overrides,
  one-line errors), used by every command
- ``files``: the one atomic write, the manifest (refused unless in == kept + rejected),
  ``require_finished`` for readers
- ``stagedir``: ``StageDir`` (atomic writes, run fingerprint, manifest, one rerun policy,
  the output-directory lock) and ``require_finished`` for readers
- ``shards``: shard I/O and stage-directory checks
- ``steps``: the datatrove steps that write the contract (work files, shards, manifest)
- ``executors``: datatrove's local / Slurm / Ray executors from one config section

Imports: ``qurate.errors`` and third-party libraries only. Every other package may import it.
"""
