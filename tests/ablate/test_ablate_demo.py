"""The embedded demo's ablation step: two arms, one held-out eval, a report section."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq

from qurate.ablate.demo import run_demo
from qurate.contract.stagedir import write_manifest
from qurate.report.page import render_report
from qurate.run import SAMPLE


def test_the_demo_ablation_compares_mixed_and_raw_and_the_report_shows_it(tmp_path, capfd):
    mixed = tmp_path / "run" / "mixed"
    mixed.mkdir(parents=True)
    rows = [json.loads(line) for line in (SAMPLE / "docs.jsonl").open()]
    pq.write_table(pa.table({"text": [r["text"] for r in rows]}), mixed / "part-00000.parquet")
    write_manifest(
        mixed,
        stage="mix",
        config_hash="t",
        inputs=[],
        n_in=len(rows),
        n_kept=len(rows),
        rejected_by_reason={},
    )
    out = run_demo(
        mixed,
        SAMPLE / "web.jsonl",
        SAMPLE / "seeds" / "math.jsonl",
        tmp_path / "run" / "ablation",
        progress=True,
    )
    err = capfd.readouterr().err.splitlines()
    for arm in ("mixed", "raw"):  # a training bar per proxy run, finished (64/64 steps)
        assert any(x.startswith(f"{arm} seed 0") and "64/64" in x for x in err), err
    held = out["summary"]["by_eval"]["heldout"]
    assert set(held) == {"mixed", "raw"}
    assert all(0 < s["mean"] < 8 for s in held.values())  # bits per byte of a real model
    page = render_report(tmp_path / "run", tmp_path / "r.html").read_text()
    assert "ablation eval heldout" in page
