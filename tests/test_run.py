"""The demo shows the score and mix levers: on the bundled sample, the demo's score step (the
embedded judge, the default signals, the shipped domain classifier) yields a quality a user can
see spread in the histogram and at least four domains for the mixer to move."""

from __future__ import annotations

import numpy as np
import pytest

from qurate.contract.shards import iter_rows


@pytest.mark.slow
def test_the_demo_scores_with_a_visible_spread_and_four_domains(tmp_path):
    pytest.importorskip("torch")
    from qurate.llm.models import embedded_judge_path

    try:
        embedded_judge_path()
    except Exception:  # the embedded judge is installed by `make`, not by pip
        pytest.skip("the embedded SmolLM2 judge is not installed")
    from qurate.config import PipelineConfig
    from qurate.curate.pipeline import curate
    from qurate.run import SAMPLE, SAMPLE_BENCHMARK, demo_score_config
    from qurate.score.demo import run_demo as score_demo

    cfg = PipelineConfig()
    inputs = [
        "docs.jsonl",
        "literature.jsonl.gz",
        "code.parquet",
        "math.jsonl",
        "web.jsonl",
        "notes",
    ]
    curate([SAMPLE / n for n in inputs], tmp_path / "curated", cfg.curate,
           executor=cfg.executor, decontaminate=[SAMPLE_BENCHMARK], progress=False)  # fmt: skip
    m = score_demo(tmp_path / "curated", tmp_path, demo_score_config())["apply"]
    rows = list(iter_rows(tmp_path / "scored", columns=["quality", "domain"]))
    assert len(rows) == m["counts"]["in"] > 100
    q = np.array([r["quality"] for r in rows], dtype=float)
    p5, p95 = np.nanpercentile(q, [5, 95])
    assert p95 - p5 >= 0.05, f"quality spread {p95 - p5:.3f} (p5 {p5:.3f}, p95 {p95:.3f})"
    domains, counts = np.unique([r["domain"] or "" for r in rows], return_counts=True)
    big = {d for d, c in zip(domains, counts, strict=True) if c >= 5 and d}
    assert len(big) >= 4, dict(zip(domains, counts, strict=True))
    assert m["weights"] and m["signal_checks"]
