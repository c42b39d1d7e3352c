"""Input checks and token counting for the mix, all before any output is written.

The mix reads any number of stage directories (scored real data, synthetic data, ...). They
must be readable qurate shards of one schema version with every column of the document
schema, each of its type (``check_doc_columns``: the mix writes the full schema, so a shard
with ``domain: int`` or ``n_tokens: double`` failed half-way with a traceback), and no null
``id`` or ``text``. A document without ``n_tokens`` is counted with the configured tokenizer: the shards that have
such documents are copied once, streaming, into a scratch directory with ``n_tokens`` filled,
so the planner and the sampler both read plain integers and tokenisation happens once.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from qurate.contract.files import file_problem
from qurate.contract.schema import DOC_SCHEMA, READABLE_VERSIONS, SCHEMA_VERSION, schema_version
from qurate.contract.shards import (
    COMPRESSION,
    check_doc_columns,
    check_stage_dir,
    null_count,
    read_schema,
    shard_paths,
)
from qurate.errors import BadInputError, ConfigError, MissingExtraError

REQUIRED_COLUMNS = tuple(DOC_SCHEMA.names)  # the mix writes every column of the schema
BUNDLED_TOKENIZER = Path(__file__).resolve().parent.parent / "data" / "tokenizer.json"


def input_shards(inputs: list[Path]) -> list[Path]:
    """Every kept-document shard of the inputs, after checking versions and columns.

    Raises a one-line ``BadInputError`` for a missing directory, mixed schema versions, an
    unsupported version, or a shard without the columns the mix needs.
    """
    if not inputs:
        raise BadInputError("mix: give at least one input stage directory")
    versions: dict[str, tuple[Path, Path]] = {}  # version -> (directory, first shard)
    shards: list[Path] = []
    seen: set[Path] = set()
    for d in inputs:
        check_stage_dir(d)
        if Path(d).resolve() in seen:  # its supply would count twice, silently
            raise BadInputError(f"{d}: given twice as an input")
        seen.add(Path(d).resolve())
        paths = shard_paths(d)
        if not paths:
            raise BadInputError(f"{d}: no kept-document shards (part-*.parquet) to mix")
        for p in paths:
            schema = read_schema(p)
            v = schema_version(schema) or "none"
            versions.setdefault(v, (Path(d), p))
            missing = [c for c in REQUIRED_COLUMNS if c not in schema.names]
            if missing:
                raise BadInputError(f"{p}: missing column(s) {', '.join(missing)} needed to mix")
            check_doc_columns(p, schema)
        shards.extend(paths)
    if len(versions) > 1:
        listed = ", ".join(f"{d} ({p.name}) has v{v}" for v, (d, p) in sorted(versions.items()))
        raise BadInputError(f"inputs have different schema versions: {listed}")
    (version,) = versions
    if version not in READABLE_VERSIONS:  # v1 (scores as a map) is upgraded as it is written
        raise BadInputError(
            f"inputs have schema version {version}; this qurate mixes versions "
            f"{', '.join(READABLE_VERSIONS)} (writes {SCHEMA_VERSION})"
        )
    return shards


def load_counter(tokenizer: str | None) -> Callable[[list[str]], list[int]]:
    """A batch token counter from a local ``tokenizer.json`` (nothing is downloaded)."""
    path = Path(tokenizer) if tokenizer else BUNDLED_TOKENIZER
    if (why := file_problem(path)) is not None:  # a folder was "does not exist"
        where = f"tokenizer: {path}: {why}" if tokenizer else "no tokenizer is bundled"
        raise ConfigError(
            f"some documents have no n_tokens and {where}; set tokenizer: to a tokenizer.json"
        )
    try:
        from tokenizers import Tokenizer
    except ImportError as e:
        raise MissingExtraError("tokenizers", "train") from e
    try:
        tok = Tokenizer.from_file(str(path))
    except Exception as e:  # tokenizers raises a bare Exception for a bad file
        raise ConfigError(f"tokenizer: {path} is not a tokenizer.json ({e})") from None

    def count(texts: list[str]) -> list[int]:
        return [len(enc.ids) for enc in tok.encode_batch(texts, add_special_tokens=False)]

    return count


def fill_token_counts(shards: list[Path], scratch: Path, tokenizer: str | None) -> list[Path]:
    """Shards to read, with every shard that lacks some ``n_tokens`` replaced by a filled copy.

    Streams one row group at a time, so memory stays bounded by the largest row group.
    """
    todo = [p for p in shards if null_count(p, "n_tokens") > 0]
    if not todo:
        return shards
    count = load_counter(tokenizer)
    replaced: dict[Path, Path] = {}
    for i, src in enumerate(todo):
        dst = scratch / f"filled-{i:05d}.parquet"
        pf = pq.ParquetFile(src)
        with pq.ParquetWriter(dst, DOC_SCHEMA, compression=COMPRESSION) as w:
            for rg in range(pf.metadata.num_row_groups):
                t = pf.read_row_group(rg).select(DOC_SCHEMA.names).cast(DOC_SCHEMA)
                n = t.column("n_tokens")
                missing = pc.is_null(n).to_pylist()
                texts = [s for s, m in zip(t.column("text").to_pylist(), missing, strict=True) if m]
                counted = iter(count(texts))
                filled = [
                    next(counted) if m else v for v, m in zip(n.to_pylist(), missing, strict=True)
                ]
                idx = t.schema.get_field_index("n_tokens")
                t = t.set_column(idx, DOC_SCHEMA.field("n_tokens"), pa.array(filled, pa.int64()))
                w.write_table(t)
        replaced[src] = dst
    return [replaced.get(p, p) for p in shards]
