"""The floor every stage stands on: the data contract.

- ``schema``: the pinned Parquet schema of documents and rejects
- ``docs``: datatrove ``Document`` <-> row
- ``rejects``: mark, don't drop (reject helpers and the ``QurateFilter`` base step)
- ``shards``: shard I/O, atomic writes, manifests, stage-directory checks
- ``steps``: the datatrove steps that write the contract (work files, shards, manifest)
- ``executors``: datatrove's local / Slurm / Ray executors from one config section

Imports: ``qurate.errors`` and third-party libraries only. Every other package may import it.
"""
