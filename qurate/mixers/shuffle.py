"""A global shuffle in bounded memory: a two-pass bucket sort on the shuffle key.

The shuffle key is a uniform 64-bit hash, so its top bits split the rows into buckets of
near-equal size whose key ranges follow each other. Pass one streams the selected rows
into per-bucket buffers; whenever ``memory_bytes`` are buffered they are appended to the
buckets' scratch files (Arrow IPC, uncompressed: written once, read once). Pass two loads
one bucket at a time, sorts it by the total order ``SORT_KEYS`` and hands it on. The
result is the same as one big ``ORDER BY`` of every row, so two runs give identical output,
but memory holds about one bucket plus the buffers, whatever the corpus size. The bucket
count comes from an estimate of the bytes selected and ``shuffle_bucket_mb``.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from qurate.mixers.sample import KEY_COL, SORT_KEYS

MAX_BUCKETS = 512  # open scratch files at once; well under the usual 1024 descriptor limit


def estimate_bytes(shards: list[Path], fraction: float) -> int:
    """Uncompressed bytes of ``fraction`` of the inputs, from the Parquet footers."""
    total = 0
    for p in shards:
        meta = pq.ParquetFile(p).metadata
        total += sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
    return int(total * fraction)


def bucket_bits(est_bytes: int, bucket_bytes: int) -> int:
    """log2 of the bucket count: enough buckets that each holds about ``bucket_bytes``."""
    n = max(1, -(-est_bytes // max(1, bucket_bytes)))
    return min(int(np.ceil(np.log2(n))), int(np.log2(MAX_BUCKETS)))


class BucketShuffle:
    """Scatter batches into key-range buckets, then yield each bucket sorted, in order.

    Rows stay in memory until ``memory_bytes`` are buffered; then every buffer is appended
    to its bucket's scratch file. A mix that fits never touches the disk.
    """

    def __init__(self, scratch: Path, bits: int, memory_bytes: int = 64 << 20) -> None:
        self.dir = scratch / "shuffle"
        self.bits = bits
        self.n = 1 << bits
        self.memory_bytes = memory_bytes
        self._buf: list[list[pa.RecordBatch]] = [[] for _ in range(self.n)]
        self._buffered = 0
        self._writers: list[pa.ipc.RecordBatchStreamWriter | None] = [None] * self.n
        self._files: list[pa.NativeFile | None] = [None] * self.n
        self.schema: pa.Schema | None = None
        self.spilled_bytes = 0

    def _path(self, i: int) -> Path:
        return self.dir / f"bucket-{i:04d}.arrow"

    def add(self, batch: pa.RecordBatch) -> None:
        if batch.num_rows == 0:
            return
        self.schema = self.schema or batch.schema
        if self.bits == 0:
            self._buf[0].append(batch)
        else:
            keys = batch.column(KEY_COL).to_numpy(zero_copy_only=False).astype(np.uint64)
            ids = (keys >> np.uint64(64 - self.bits)).astype(np.int64)
            order = np.argsort(ids, kind="stable")
            grouped = batch.take(pa.array(order))
            bounds = np.searchsorted(ids[order], np.arange(self.n + 1))
            for i in np.nonzero(np.diff(bounds))[0]:
                start, stop = int(bounds[i]), int(bounds[i + 1])
                self._buf[int(i)].append(grouped.slice(start, stop - start))
        self._buffered += batch.nbytes
        if self._buffered >= self.memory_bytes:
            for i in range(self.n):
                self._spill(i)
            self._buffered = 0

    def _spill(self, i: int) -> None:
        if not self._buf[i]:
            return
        if self._writers[i] is None:
            self.dir.mkdir(parents=True, exist_ok=True)
            self._files[i] = pa.OSFile(str(self._path(i)), "wb")
            self._writers[i] = pa.ipc.new_stream(self._files[i], self.schema)
        table = pa.Table.from_batches(self._buf[i])
        self._writers[i].write_table(table)
        self.spilled_bytes += table.nbytes
        self._buf[i] = []

    def _load(self, i: int) -> pa.Table | None:
        if self._writers[i] is None:
            batches, self._buf[i] = self._buf[i], []
            return pa.Table.from_batches(batches) if batches else None
        self._spill(i)
        self._writers[i].close()
        self._files[i].close()
        self._writers[i] = self._files[i] = None
        path = self._path(i)
        with pa.memory_map(str(path)) as source:
            table = pa.ipc.open_stream(source).read_all()
        path.unlink()
        return table

    def _sorted(self, i: int) -> pa.Table | None:
        table = self._load(i)
        if table is None or not table.num_rows:
            return None
        return table.take(pa.compute.sort_indices(table, sort_keys=SORT_KEYS))

    def sorted_tables(self) -> Iterator[pa.Table]:
        """Each non-empty bucket, sorted by ``SORT_KEYS``, in key order (scratch is freed).

        The next bucket is loaded and sorted in a worker thread while the caller writes
        this one (Arrow releases the GIL), so memory holds at most two buckets.
        """
        with ThreadPoolExecutor(max_workers=1) as pool:
            pending = pool.submit(self._sorted, 0)
            for i in range(self.n):
                table = pending.result()
                if i + 1 < self.n:
                    pending = pool.submit(self._sorted, i + 1)
                if table is not None:
                    yield table

    def close(self) -> None:
        """Drop buffers and scratch files (after an error)."""
        for w, f in zip(self._writers, self._files, strict=True):
            if w is not None:
                try:
                    w.close()
                    f.close()
                except (OSError, pa.ArrowException):
                    pass
        self._buf = [[] for _ in range(self.n)]
        for p in self.dir.glob("bucket-*.arrow"):
            p.unlink(missing_ok=True)
