"""The dedup work directory: one place that names every file the three stages exchange.

```
<work_dir>/
  meta/{rank:05d}.json                 stage 1 done for task `rank`: doc count, world size, config
  ids/{rank:05d}.parquet               ids of ALL docs of the task, in stage-1 order
  exact/{rank:05d}.bin                 (hash_hi u64, hash_lo u64, doc_index u32) of live docs, sorted
  minhash/sigs/bucket_{b:03d}/{rank:05d}.minhash.sig
                                       datatrove's format: per band, sorted (rows x u32, doc_index u32)
  minhash/full/{rank:05d}.u32          per live doc, in doc order: its LSH signature, its parts'
                                       signatures and its shingle count (for verification)
  minhash/full/{rank:05d}.idx          the doc index of each of those rows (u32)
  exact_pairs/{part:05d}.dups          exact duplicate pairs   (datatrove .dups: 4 x u32)
  minhash/pairs/{band:05d}_00.dups     LSH candidate pairs     (datatrove .dups: 4 x u32)
  result/{rank:05d}.parquet            duplicates of task `rank`: doc_index, survivor id, kind
  result/_SUCCESS.json                 stage 2 done (world size, counts)
```

Every file is written under a temporary name and renamed, so a killed task leaves either
the old file or the new one, never half of one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from qurate.contract.stagedir import atomic_write_bytes

EXACT_DTYPE = np.dtype([("hi", "<u8"), ("lo", "<u8"), ("idx", "<u4")])
SUCCESS = "_SUCCESS.json"


def atomic_save(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` under a temporary name, then rename (the contract's one
    atomic write)."""
    atomic_write_bytes(path, data)


def atomic_json(path: Path, obj: dict[str, Any]) -> None:
    atomic_save(path, json.dumps(obj, indent=1, sort_keys=True).encode())


class DedupLayout:
    """Paths inside a dedup work directory (see the module docstring)."""

    def __init__(self, work_dir: str | Path) -> None:
        self.root = Path(work_dir)

    def meta(self, rank: int) -> Path:
        return self.root / "meta" / f"{rank:05d}.json"

    def ids(self, rank: int) -> Path:
        return self.root / "ids" / f"{rank:05d}.parquet"

    def exact(self, rank: int) -> Path:
        return self.root / "exact" / f"{rank:05d}.bin"

    @property
    def sig_dir(self) -> Path:
        return self.root / "minhash" / "sigs"

    def full_sig(self, rank: int) -> Path:
        return self.root / "minhash" / "full" / f"{rank:05d}.u32"

    def full_idx(self, rank: int) -> Path:
        return self.root / "minhash" / "full" / f"{rank:05d}.idx"

    @property
    def exact_pairs_dir(self) -> Path:
        return self.root / "exact_pairs"

    @property
    def pairs_dir(self) -> Path:
        return self.root / "minhash" / "pairs"

    def result(self, rank: int) -> Path:
        return self.root / "result" / f"{rank:05d}.parquet"

    @property
    def success(self) -> Path:
        return self.root / "result" / SUCCESS

    def read_metas(self) -> list[dict[str, Any]]:
        """Stage-1 metadata of every task, checked for one consistent world size."""
        from qurate.errors import EngineError

        files = sorted((self.root / "meta").glob("*.json"))
        if not files:
            raise EngineError(
                f"dedup: no stage-1 output in {self.root} (run the signature stage first)"
            )
        metas = [json.loads(f.read_text()) for f in files]
        world = {m["world_size"] for m in metas}
        if len(world) != 1:
            raise EngineError(
                f"dedup: stage-1 tasks in {self.root} ran with different task counts {sorted(world)}"
            )
        (w,) = world
        ranks = sorted(m["rank"] for m in metas)
        if ranks != list(range(w)):
            missing = sorted(set(range(w)) - set(ranks))
            raise EngineError(
                f"dedup: stage-1 tasks {missing[:10]} of {w} have not finished in {self.root}"
            )
        return sorted(metas, key=lambda m: m["rank"])
