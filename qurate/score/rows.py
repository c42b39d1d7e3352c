"""The row plumbing of ``score apply``: batches in, scored rows out to shards or rejects.

Kept apart from ``apply.py`` (the passes, the ranking between them and the manifest) so each
reads on its own.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq

from qurate.contract.shards import REJECTS, ShardWriter, iter_rows
from qurate.errors import BadInputError
from qurate.score.signals import MIN_CHECK_WORDS


class Emitter:
    """Writes one task's scored rows: kept ones to shards, the rest to rejects."""

    def __init__(self, out: Path, prefix: str, threshold: float | None) -> None:
        self.threshold = threshold
        self.writer = ShardWriter(out, prefix=prefix)
        self.rejects = ShardWriter(out / REJECTS, prefix=prefix, rejects=True)
        self.kept = 0
        self.rejected: Counter[str] = Counter()

    def emit(self, rows: list[dict[str, Any]], quality: np.ndarray) -> None:
        for row, q in zip(rows, quality.tolist(), strict=True):
            row["quality"] = None if np.isnan(q) else float(q)
            if self.threshold is not None and not q >= self.threshold:
                self.rejected["low_quality"] += 1
                self.rejects.write(
                    {
                        **row,
                        "reject_reason": "low_quality",
                        "stage": "score.apply",
                        "reject_detail": f"quality={q:.3f} < {self.threshold}",
                    }
                )
            else:
                self.kept += 1
                self.writer.write(row)

    def close(self) -> dict[str, Any]:
        self.writer.close()
        self.rejects.close()
        return {"kept": self.kept, "rejected": dict(self.rejected)}


def rows_in(paths: list[Path]) -> int | None:
    """Rows in ``paths`` from the Parquet footers (None when one cannot be read: reading the
    shard then reports it in one line)."""
    try:
        return sum(pq.ParquetFile(p).metadata.num_rows for p in paths)
    except (OSError, ValueError):
        return None


def check_texts(src: Path, n: int) -> list[str]:
    """The first ``n`` input documents long enough to check a signal on (a shard that cannot
    be read ends the list: the task that owns it reports it)."""
    out: list[str] = []
    if not n:
        return out
    try:
        for r in iter_rows(src, columns=["text"]):
            if len((r["text"] or "").split()) >= MIN_CHECK_WORDS:
                out.append(r["text"])
                if len(out) >= n:
                    break
    except BadInputError:
        pass
    return out


def batches(rows: Any, size: int) -> Any:
    """``rows`` in lists of ``size`` (the last one shorter)."""
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
