"""The pipeline spine: readers, normalisation, dedup, decontamination, shard I/O, stats."""
