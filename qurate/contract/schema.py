"""The Parquet document schema (v2): the contract between every stage.

Every stage reads and writes a directory of Parquet shards with exactly these columns, in
this order, never inferred. Stages fill columns; they never drop them. Rejected documents
carry three more columns saying which stage dropped them, why, and a detail (for a
duplicate: the id it duplicates; for contamination: the benchmark record's id).

``scores`` is a list of ``{name, value}`` structs (one per judged dimension), not a struct
with a field per dimension: the set of dimensions is configurable, and a list keeps the
pinned schema identical whatever the rubric. Schema v1 stored it as an Arrow map, which
Hugging Face ``datasets`` cannot load (``map<string, float> does not have a datasets dtype
equivalent``); ``list<struct<name: string, value: float>>`` loads in DuckDB, pyarrow, polars
and ``datasets`` alike, and it is exactly a map's physical layout, so upgrading a v1 shard is
a zero-copy relabelling (``upgrade_scores``). Readers accept v1 shards and upgrade them as
they read; ``qurate stats`` shows ``scores`` as a DuckDB MAP so ``scores['fluency']`` works.
"""

from __future__ import annotations

import json
from typing import Any

import pyarrow as pa

SCHEMA_VERSION = "2"
READABLE_VERSIONS = ("1", "2")  # v1: ``scores`` as map<string, float>, upgraded on read
SCHEMA_VERSION_KEY = b"qurate.schema_version"
SCORES_TYPE = pa.list_(pa.struct([("name", pa.string()), ("value", pa.float32())]))

DOC_FIELDS: list[pa.Field] = [
    pa.field("id", pa.string(), nullable=False),
    pa.field("text", pa.large_string(), nullable=False),
    pa.field("source", pa.string()),
    pa.field("lang", pa.string()),
    pa.field("lang_score", pa.float32()),
    pa.field("domain", pa.string()),
    pa.field("domain_score", pa.float32()),
    pa.field("quality", pa.float32()),
    pa.field("scores", SCORES_TYPE),
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

    ``scores`` may be given as a dict (or a list of (name, value) pairs); it is stored as a
    list of ``{name, value}`` structs.
    """
    schema = REJECT_SCHEMA if rejects else DOC_SCHEMA
    columns: dict[str, list[Any]] = {f.name: [] for f in schema}
    for row in rows:
        for name, values in columns.items():
            value = row.get(name)
            if name == "scores" and value is not None:
                value = scores_to_list(value)
            elif name in ("provenance", "meta") and isinstance(value, dict):
                value = json.dumps(value, ensure_ascii=False, sort_keys=True)
            values.append(value)
    return pa.Table.from_pydict(columns, schema=schema)


def schema_version(schema: pa.Schema) -> str | None:
    """The qurate schema version recorded in a Parquet schema, or None if it has none."""
    meta = schema.metadata or {}
    value = meta.get(SCHEMA_VERSION_KEY)
    return value.decode() if value is not None else None


def scores_to_list(value: Any) -> list[dict[str, Any]]:
    """``scores`` as stored: a dict, (name, value) pairs or {name, value} structs -> structs."""
    items = value.items() if isinstance(value, dict) else value
    out = []
    for item in items:
        if isinstance(item, dict):
            out.append({"name": item["name"], "value": item["value"]})
        else:
            name, score = item
            out.append({"name": name, "value": score})
    return out


def scores_dict(value: Any) -> dict[str, float] | None:
    """``scores`` as read (v2 structs, v1 map pairs, or a dict) -> a dict, None stays None."""
    if value is None or isinstance(value, dict):
        return value
    return {
        (i["name"] if isinstance(i, dict) else i[0]): (i["value"] if isinstance(i, dict) else i[1])
        for i in value
    }


def upgrade_scores(array: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """A v1 ``scores`` column (map<string, float>) as v2 (list<struct<name, value>>)."""
    if isinstance(array, pa.ChunkedArray):
        return pa.chunked_array([upgrade_scores(c) for c in array.chunks], type=SCORES_TYPE)
    if not pa.types.is_map(array.type):
        return array
    if array.offset:  # a slice: copy it so that offsets and null bitmap start at 0
        array = pa.concat_arrays([array])
    entries = pa.StructArray.from_arrays(
        [array.keys.cast(pa.string()), array.items.cast(pa.float32())], names=["name", "value"]
    )
    mask = array.is_null() if array.null_count else None
    return pa.ListArray.from_arrays(array.offsets, entries, type=SCORES_TYPE, mask=mask)


def upgrade_table(data: pa.Table | pa.RecordBatch) -> pa.Table | pa.RecordBatch:
    """A table or batch with a v1 ``scores`` map column upgraded to v2 (others unchanged)."""
    names = data.schema.names
    if "scores" not in names or not pa.types.is_map(data.schema.field("scores").type):
        return data
    i = names.index("scores")
    field = pa.field("scores", SCORES_TYPE)
    column = upgrade_scores(data.column(i))
    if isinstance(data, pa.Table):
        out = data.set_column(i, field, column)
    else:
        columns = [column if j == i else data.column(j) for j in range(len(names))]
        out = pa.RecordBatch.from_arrays(columns, schema=data.schema.set(i, field))
    meta = dict(out.schema.metadata or {})
    meta[SCHEMA_VERSION_KEY] = SCHEMA_VERSION.encode()
    return out.replace_schema_metadata(meta)
