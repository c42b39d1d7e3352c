"""The Parquet document schema (v1): the contract between every stage.

Every stage reads and writes a directory of Parquet shards with exactly these columns, in
this order, never inferred. Stages fill columns; they never drop them. Rejected documents
carry three more columns saying which stage dropped them, why, and a detail (for a
duplicate: the id it duplicates; for contamination: the benchmark record's id).

``scores`` is a map from dimension name to score rather than a struct: the set of judged
dimensions is configurable, and a map keeps the pinned schema identical whatever the
rubric, while DuckDB still reads ``scores['educational_value']`` directly.
"""

from __future__ import annotations

import json
from typing import Any

import pyarrow as pa

SCHEMA_VERSION = "1"
SCHEMA_VERSION_KEY = b"qurate.schema_version"

DOC_FIELDS: list[pa.Field] = [
    pa.field("id", pa.string(), nullable=False),
    pa.field("text", pa.large_string(), nullable=False),
    pa.field("source", pa.string()),
    pa.field("lang", pa.string()),
    pa.field("lang_score", pa.float32()),
    pa.field("domain", pa.string()),
    pa.field("domain_score", pa.float32()),
    pa.field("quality", pa.float32()),
    pa.field("scores", pa.map_(pa.string(), pa.float32())),
    pa.field("n_chars", pa.int64()),
    pa.field("n_tokens", pa.int64()),
    pa.field("synthetic", pa.bool_()),
    pa.field("provenance", pa.string()),  # JSON object
    pa.field("meta", pa.string()),  # JSON object: every input field we did not map
]

REJECT_FIELDS: list[pa.Field] = [
    pa.field("reject_reason", pa.string(), nullable=False),
    pa.field("stage", pa.string(), nullable=False),
    pa.field("reject_detail", pa.string()),
]

_META = {SCHEMA_VERSION_KEY: SCHEMA_VERSION.encode()}
DOC_SCHEMA = pa.schema(DOC_FIELDS, metadata=_META)
REJECT_SCHEMA = pa.schema(DOC_FIELDS + REJECT_FIELDS, metadata=_META)
DOC_COLUMNS: list[str] = [f.name for f in DOC_FIELDS]
REJECT_COLUMNS: list[str] = [f.name for f in REJECT_FIELDS]

# Input fields with these names fill the matching column instead of going to `meta`.
MAPPED_INPUT_FIELDS = frozenset(DOC_COLUMNS) - {"text", "meta"}


def empty_row() -> dict[str, Any]:
    """A document row with every column present and unset."""
    return {name: None for name in DOC_COLUMNS}


def rows_to_table(rows: list[dict[str, Any]], *, rejects: bool = False) -> pa.Table:
    """Build a table with the pinned schema from row dicts (missing columns become null).

    ``scores`` may be given as a dict; it is stored as a map.
    """
    schema = REJECT_SCHEMA if rejects else DOC_SCHEMA
    columns: dict[str, list[Any]] = {f.name: [] for f in schema}
    for row in rows:
        for name, values in columns.items():
            value = row.get(name)
            if name == "scores" and isinstance(value, dict):
                value = list(value.items())
            elif name in ("provenance", "meta") and isinstance(value, dict):
                value = json.dumps(value, ensure_ascii=False, sort_keys=True)
            values.append(value)
    return pa.Table.from_pydict(columns, schema=schema)


def schema_version(schema: pa.Schema) -> str | None:
    """The qurate schema version recorded in a Parquet schema, or None if it has none."""
    meta = schema.metadata or {}
    value = meta.get(SCHEMA_VERSION_KEY)
    return value.decode() if value is not None else None
