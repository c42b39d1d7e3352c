"""The tiny preset's defaults learn: 60 steps on bundled prose take the held-out loss well
below the first steps' (issue 16 point 5).

The run is ``qurate train --preset tiny --max-steps 60`` with nothing else set, on the
bundled sample's ``docs.jsonl`` as one shard (the trainer holds out 1% of its rows). With
the old defaults (2,048-token rows, the plan's ~2k-token batch) the held-out loss ended
10.9% below the first three steps' (seeds 0/1: 10.9%, 14.6%); with 16k-token steps and
init std 0.02, 21.4% on seed 0 but 14.9% on seed 2. With init std 0.05 and AdamW beta1 0.8
(the preset's defaults now) seeds 0-3 reach 23.4%, 23.3%, 20.7%, 23.6%. Figures:
``bench/RESULTS.md``, "Tiny preset defaults that learn" and "Tiny preset, every seed".
"""

from __future__ import annotations

import json
import math
import statistics
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from qurate.contract.stagedir import write_manifest
from qurate.train.api import train

SAMPLE = Path(__file__).resolve().parents[2] / "qurate" / "data" / "sample" / "docs.jsonl"

pytestmark = pytest.mark.slow  # 90 s at load 9.5 on the shared 2-core machine (1 thread)


def _shard(directory: Path) -> Path:
    texts = [json.loads(line)["text"] for line in SAMPLE.open()]
    directory.mkdir(parents=True)
    table = pa.table({"id": [str(i) for i in range(len(texts))], "text": texts})
    pq.write_table(table, directory / "part-00000.parquet")
    n = len(texts)
    write_manifest(directory, stage="test", config_hash="t", inputs=[], n_in=n, n_kept=n,
                   rejected_by_reason={})  # fmt: skip
    return directory


# The issue's target: held-out loss at least 20% below the first steps'. Seed 0 (this run)
# reached 23.4%; the old defaults (10.9%) and init std 0.02 at this batch on seed 2 (14.9%)
# fail it.
DROP = 0.20


def test_tiny_defaults_learn_in_60_steps(tmp_path: Path) -> None:
    data = _shard(tmp_path / "docs")
    res = train(data, tmp_path / "run", preset="tiny", max_steps=60)
    rows = [json.loads(x) for x in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    first3 = statistics.mean(r["loss"] for r in rows[:3])
    held = res.eval_loss
    assert held is not None and res.steps == 60
    assert res.batch_tokens == 16384 and rows[0]["seq_len"] == 128  # the preset's defaults
    # learnt, not started high: the first steps' mean stays below the uniform loss ln V
    assert first3 < math.log(2048)
    assert held < (1 - DROP) * first3, f"held-out {held:.3f} vs first steps {first3:.3f}"
    # the same command again is a finished run of the same config: nothing is trained
    assert train(data, tmp_path / "run", preset="tiny", max_steps=60).already_done
