"""The README's "a stage directory loads as it is" lines, run on a stage directory with rejects.

Before the fix the pyarrow line read ``rejects/`` too: 3 kept + 2 rejected came back as 5
documents, with no word."""

from __future__ import annotations

import re
from pathlib import Path

import datasets  # noqa: F401
import duckdb  # noqa: F401  (the README lines use these names)
import polars as pl  # noqa: F401
import pyarrow.dataset as ds  # noqa: F401

from qurate.contract.files import write_manifest
from qurate.contract.schema import rows_to_table
from qurate.contract.shards import REJECTS
from qurate.contract.stagedir import write_table

README = Path(__file__).resolve().parents[2] / "README.md"


def _snippet() -> list[str]:
    text = README.read_text()
    block = re.search(r"```python\nimport duckdb.*?\n(.*?)```", text, re.S)
    assert block, "the README's load-in-every-tool block is gone"
    return [s for s in re.split(r"\n(?=\S)", block.group(1).strip()) if s.strip()]


def _stage(root: Path) -> Path:
    out = root / "out" / "scored"
    rows = [
        {"id": f"k{i}", "text": f"kept {i}", "scores": [{"name": "fluency", "value": 0.5}]}
        for i in range(3)
    ]
    bad = [{"id": f"r{i}", "text": "junk", "reject_reason": "x", "stage": "s"} for i in range(2)]
    write_table(out / "part-00000-00000.parquet", rows_to_table(rows))
    write_table(out / REJECTS / "part-00000-00000.parquet", rows_to_table(bad, rejects=True))
    write_manifest(
        out,
        stage="score.apply",
        config_hash="x",
        inputs=[],
        n_in=5,
        n_kept=3,
        rejected_by_reason={"x": 2},
    )
    return out


def _rows(result) -> int:
    for attr in ("num_rows", "height"):
        if hasattr(result, attr):
            return getattr(result, attr)
    return len(result.fetchall())  # a DuckDB relation


def test_every_readme_load_line_reads_exactly_the_kept_documents(tmp_path: Path, monkeypatch):
    out = _stage(tmp_path)
    monkeypatch.chdir(tmp_path)
    lines = _snippet()
    assert len(lines) == 4
    for line in lines:
        if "load_dataset" in line:
            line = line.replace('split="train"', f'split="train", cache_dir="{tmp_path}/hf"')
        assert _rows(eval(line)) == 3, line
    assert out.is_dir()
