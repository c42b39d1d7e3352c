"""Fixed-size training shards: a new shard every ``shard_tokens`` tokens.

Rows arrive already shuffled. Shards close at a token count (what a trainer budgets in), and
row groups have a fixed number of rows, so the bytes written depend only on the row order,
never on how the rows were batched on the way in: two runs with one seed give identical
files. Each shard is written under a temporary name and renamed when complete, and carries
the full pinned schema (with its version metadata), so ``qurate stats`` reads it like any
stage directory.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from qurate.contract.schema import DOC_SCHEMA
from qurate.contract.shards import COMPRESSION


class TokenShardWriter:
    """Write ``DOC_SCHEMA`` tables as ``part-NNNNN.parquet`` shards of ``shard_tokens`` tokens."""

    def __init__(
        self,
        directory: Path,
        *,
        shard_tokens: int,
        row_group_rows: int = 2048,
        prefix: str = "part",
    ) -> None:
        self.directory = Path(directory)
        self.shard_tokens = shard_tokens
        self.row_group_rows = row_group_rows
        self.prefix = prefix
        self.written: list[Path] = []
        self.rows = 0
        self.tokens = 0
        self._writer: pq.ParquetWriter | None = None
        self._tmp: Path | None = None
        self._pending: list[pa.Table] = []
        self._pending_rows = 0
        self._shard_tokens = 0

    def write(self, table: pa.Table) -> None:
        """Append rows in order, closing a shard as soon as it reaches ``shard_tokens``."""
        while table.num_rows:
            room = self.shard_tokens - self._shard_tokens
            cum = np.cumsum(table.column("n_tokens").fill_null(0).to_numpy())
            take = min(int(np.searchsorted(cum, room, side="left")) + 1, table.num_rows)
            part = table.slice(0, take)
            table = table.slice(take)
            got = int(cum[take - 1])
            self._pending.append(part)
            self._pending_rows += take
            self._shard_tokens += got
            self.tokens += got
            self.rows += take
            self._drain(final=False)
            if self._shard_tokens >= self.shard_tokens:
                self._close_shard()

    def _drain(self, *, final: bool) -> None:
        if not self._pending_rows:
            return
        if self._pending_rows < self.row_group_rows and not final:
            return
        buf = pa.concat_tables(self._pending).combine_chunks()
        if self._writer is None:
            self.directory.mkdir(parents=True, exist_ok=True)
            name = f"{self.prefix}-{len(self.written):05d}.parquet"
            self._tmp = self.directory / f".{name}.{os.getpid()}.tmp"
            self._writer = pq.ParquetWriter(self._tmp, DOC_SCHEMA, compression=COMPRESSION)
        n = self.row_group_rows
        full = buf.num_rows if final else buf.num_rows - buf.num_rows % n
        for start in range(0, full, n):
            self._writer.write_table(buf.slice(start, min(n, full - start)), row_group_size=n)
        rest = buf.slice(full)
        self._pending = [rest] if rest.num_rows else []
        self._pending_rows = rest.num_rows

    def _close_shard(self) -> None:
        self._drain(final=True)
        if self._writer is None:
            return
        self._writer.close()
        assert self._tmp is not None
        final = self.directory / self._tmp.name[1:].rsplit(".", 2)[0]
        os.replace(self._tmp, final)
        self.written.append(final)
        self._writer = None
        self._tmp = None
        self._shard_tokens = 0

    def close(self) -> list[Path]:
        self._close_shard()
        return self.written

    def abort(self) -> None:
        """Drop the shard in progress (on an error), leaving only complete shards."""
        if self._writer is not None:
            self._writer.close()
        if self._tmp is not None and self._tmp.exists():
            self._tmp.unlink()
        self._writer = None
        self._tmp = None
