"""Document <-> row conversion between datatrove ``Document`` and the pinned schema.

Mapped columns travel in ``doc.metadata`` under their column names; ``meta`` holds every
input field we did not map; annotations a step adds under another name (e.g. what
normalisation changed) go to ``meta["qurate"]``. Keys starting with ``_`` are in-process
caches and are never written.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pyarrow as pa
from datatrove.data import Document

from qurate.contract.rejects import REJECT_DETAIL, REJECT_REASON, REJECT_STAGE
from qurate.contract.schema import DOC_FIELDS, DOC_SCHEMA, REJECT_FIELDS, scores_dict

# Input values for mapped columns are coerced to the column's type; a value that cannot be
# coerced makes the record a `bad_type` reject rather than failing the shard write.
_COERCE = {
    pa.string(): lambda v: v if isinstance(v, str) else _fail(v),
    pa.float32(): lambda v: (
        float(v)
        if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
        else _fail(v)
    ),
    pa.int64(): lambda v: int(v) if isinstance(v, int) and not isinstance(v, bool) else _fail(v),
    pa.bool_(): lambda v: v if isinstance(v, bool) else _fail(v),
}
_FIELD_TYPES = {f.name: f.type for f in DOC_FIELDS}
_RESERVED = {"id", "text"}
_REJECT_KEYS = (REJECT_REASON, REJECT_STAGE, REJECT_DETAIL)

# Intermediate files between stages carry kept and marked documents together.
WORK_SCHEMA = pa.schema(
    DOC_FIELDS + [pa.field(f.name, f.type, nullable=True) for f in REJECT_FIELDS],
    metadata=DOC_SCHEMA.metadata,
)


def _fail(value: Any) -> Any:
    raise TypeError(f"{type(value).__name__} {value!r:.40}")


def coerce_field(name: str, value: Any) -> Any:
    """Coerce an input value for a mapped column; raises TypeError naming the value."""
    if value is None:
        return None
    if name in ("provenance", "meta"):
        return value if isinstance(value, (str, dict)) else _fail(value)
    if name == "scores":
        if isinstance(value, list):  # a qurate shard read back: v2 structs or v1 map pairs
            try:
                value = scores_dict(value)
            except (KeyError, IndexError, TypeError, ValueError):
                _fail(value)
        if not isinstance(value, dict):
            _fail(value)
        return {str(k): _COERCE[pa.float32()](v) for k, v in value.items()}
    return _COERCE[_FIELD_TYPES[name]](value)


def _json(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def doc_to_row(doc: Document) -> dict[str, Any]:
    """A row for the pinned schema (plus reject columns when the doc is marked)."""
    md = doc.metadata
    row: dict[str, Any] = {"id": doc.id, "text": doc.text, "n_chars": len(doc.text)}
    extra: dict[str, Any] = {}
    for key, value in md.items():
        if key.startswith("_") or key in _REJECT_KEYS:
            continue
        if key in _FIELD_TYPES and key not in _RESERVED:
            row[key] = value
        else:
            extra[key] = value
    meta = md.get("meta")
    if isinstance(meta, str):
        try:
            meta = json.loads(meta)
        except json.JSONDecodeError:
            meta = {"meta": meta}
    meta = dict(meta or {})
    extra.pop("meta", None)
    if extra:
        meta.setdefault("qurate", {}).update(extra)
    row["meta"] = _json(meta) if meta else None
    row["provenance"] = _json(md.get("provenance"))
    scores = md.get("scores")
    row["scores"] = list(scores.items()) if isinstance(scores, dict) else scores
    row["reject_reason"] = md.get(REJECT_REASON)
    row["stage"] = md.get(REJECT_STAGE)
    row["reject_detail"] = md.get(REJECT_DETAIL)
    return row


def row_to_doc(row: dict[str, Any]) -> Document:
    """The inverse of ``doc_to_row``: the document with its columns back in metadata."""
    md: dict[str, Any] = {}
    for key, value in row.items():
        if key in _RESERVED or key == "n_chars" or value is None:
            continue
        if key == "stage":
            md[REJECT_STAGE] = value
            continue
        if key == "scores" and isinstance(value, list):
            value = scores_dict(value)
        elif key == "meta" and isinstance(value, str):
            value = json.loads(value)
            annotations = value.pop("qurate", None)
            if annotations:
                md.update(annotations)
            if not value:
                continue
        md[key] = value
    return Document(text=row["text"], id=row["id"], metadata=md)


def rows_table(rows: list[dict[str, Any]], schema: pa.Schema) -> pa.Table:
    return pa.Table.from_pylist(
        [{f.name: r.get(f.name) for f in schema} for r in rows], schema=schema
    )
