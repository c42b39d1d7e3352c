"""Fuzz the readers: random bytes, random JSON lines and random Parquet schemas never raise
(except the one-line ``BadInputError`` for a Parquet file without the text column), every
record comes out as exactly one document, and every document serialises to a work row."""

from __future__ import annotations

import gzip
import json
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qurate.contract.docs import WORK_SCHEMA, doc_to_row, rows_table
from qurate.contract.schema import MAPPED_INPUT_FIELDS
from qurate.errors import BadInputError
from qurate.readers.inputs import InputReader, list_inputs

SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
)
FIELDS = sorted(MAPPED_INPUT_FIELDS | {"id", "text", "meta", "other"})

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
records = st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=6) | json_values


def read(path: Path, **kwargs) -> list:
    docs = list(InputReader(list_inputs([path]), max_chars=10_000, **kwargs).run(None, 0, 1))
    rows_table([doc_to_row(d) for d in docs], WORK_SCHEMA)  # every document is writable
    for d in docs:
        assert isinstance(d.id, str) and d.id and isinstance(d.text, str)
    return docs


def records_in(data: bytes) -> int:
    return sum(1 for line in data.split(b"\n") if line.strip())


@SETTINGS
@given(
    data=st.binary(max_size=2000),
    suffix=st.sampled_from([".jsonl", ".jsonl.gz", ".jsonl.zst", ".txt", ".warc", ".warc.gz"]),
)
def test_random_bytes(data: bytes, suffix: str):
    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / f"f{suffix}"
        p.write_bytes(data)
        docs = read(p)
    if suffix == ".jsonl":
        assert len(docs) == records_in(data)
    elif suffix == ".txt":  # a text file is one document, kept or rejected
        assert len(docs) == 1
    elif not data:  # an empty file holds no records (and no damage)
        assert docs == []
    elif not data.strip(b"\x00 \t\r\n"):  # padding only: no record, damage or not
        assert all(d.metadata["reject_reason"] == "damaged_input" for d in docs)
    else:  # random bytes are no gzip/zstd/WARC stream: the damage is recorded
        assert docs and docs[-1].metadata["reject_reason"] == "damaged_input"


@SETTINGS
@given(
    rows=st.lists(records, min_size=1, max_size=8),
    compress=st.sampled_from([None, "gz", "zst"]),
    cut=st.none() | st.floats(min_value=0.05, max_value=0.95),
)
def test_random_json_lines(rows: list, compress: str | None, cut: float | None):
    body = "".join(json.dumps(r, allow_nan=True) + "\n" for r in rows).encode()
    data, suffix = body, ".jsonl"
    if compress == "gz":
        data, suffix = gzip.compress(body), ".jsonl.gz"
    elif compress == "zst":
        data, suffix = zstandard.ZstdCompressor().compress(body), ".jsonl.zst"
    if cut is not None and compress:
        data = data[: max(1, int(len(data) * cut))]
    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / f"f{suffix}"
        p.write_bytes(data)
        docs = read(p)
    damaged = [d for d in docs if d.metadata.get("reject_reason") == "damaged_input"]
    if cut is None or not compress:
        assert len(docs) == len(rows) and not damaged
    else:  # the records before the damage, then one damage row
        assert len(damaged) == 1 and docs[-1] is damaged[0] and len(docs) <= len(rows) + 1


arrow_types = st.sampled_from(
    [
        pa.int64(),
        pa.float64(),
        pa.string(),
        pa.bool_(),
        pa.binary(),
        pa.list_(pa.int32()),
        pa.struct([("a", pa.string())]),
        pa.null(),
        pa.timestamp("ms"),
        pa.map_(pa.string(), pa.float32()),
    ]
)


@SETTINGS
@given(
    columns=st.dictionaries(st.sampled_from(FIELDS), arrow_types, min_size=1, max_size=6),
    n=st.integers(min_value=0, max_value=5),
    seed=st.integers(min_value=0, max_value=2**16),
)
def test_random_parquet_schemas(columns: dict, n: int, seed: int):
    import numpy as np

    rng = np.random.default_rng(seed)
    arrays = {}
    for name, typ in columns.items():
        values = pa.array(rng.integers(0, 3, n).astype(np.int64)).cast(pa.string())
        arrays[name] = pa.nulls(n, typ) if rng.random() < 0.3 else _fill(values, typ, n)
    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / "f.parquet"
        pq.write_table(pa.table(arrays), p)
        if "text" not in columns:
            with pytest.raises(BadInputError, match="no 'text' column"):
                read(p)
            return
        docs = read(p)
    assert len(docs) == n


def _fill(values: pa.Array, typ: pa.DataType, n: int) -> pa.Array:
    if pa.types.is_string(typ):
        return values
    if pa.types.is_binary(typ):
        return values.cast(pa.binary())
    if pa.types.is_integer(typ) or pa.types.is_floating(typ):
        return values.cast(typ)
    if pa.types.is_boolean(typ):
        return pa.array([v == "1" for v in values.to_pylist()])
    if pa.types.is_timestamp(typ):
        return pa.array(list(range(n)), pa.int64()).cast(typ)
    if pa.types.is_list(typ):
        return pa.array([[1, 2]] * n, typ)
    if pa.types.is_struct(typ):
        return pa.array([{"a": v} for v in values.to_pylist()], typ)
    if pa.types.is_map(typ):
        return pa.array([[("k", 0.5)]] * n, typ)
    return pa.nulls(n, typ)
