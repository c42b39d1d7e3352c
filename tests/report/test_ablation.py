"""The report draws an ablation: learning curves per arm and a bar chart per evaluation."""

from __future__ import annotations

import json
import re

from qurate.contract.stagedir import write_manifest
from qurate.report.page import render_report


def test_the_report_shows_curves_and_bars_with_the_seed_spread(tmp_path):
    out = tmp_path / "run" / "ablation"
    out.mkdir(parents=True)
    results = {
        "tokens": 4096,
        "seeds": 2,
        "curves": {
            "raw": {"0": [[128, 7.0], [256, 5.0]], "1": [[128, 7.1], [256, 5.2]]},
            "curated": {"0": [[128, 6.9], [256, 4.5]], "1": [[128, 6.8], [256, 4.4]]},
        },
        "summary": {
            "by_eval": {
                "held": {
                    "raw": {"metric": "bits_per_byte", "mean": 1.9, "sd": 0.013},
                    "curated": {"metric": "bits_per_byte", "mean": 1.7, "sd": 0.021},
                },
                "mc": {
                    "raw": {"metric": "acc", "mean": 0.25, "sd": None},
                    "curated": {"metric": "acc", "mean": 0.3, "sd": None},
                },
            }
        },
    }
    (out / "results.json").write_text(json.dumps(results))
    write_manifest(
        out,
        stage="ablate",
        config_hash="x",
        inputs=[],
        n_in=0,
        n_kept=0,
        rejected_by_reason={},
        extra={"ablation": "results.json"},
    )
    page = render_report(tmp_path / "run", tmp_path / "r.html").read_text()
    titles = re.findall(r"<h2>([^<]*ablation[^<]*)</h2>", page)
    assert titles == [
        "ablation: ablation learning curves",
        "ablation: ablation eval held (4,096 tokens per run)",
        "ablation: ablation eval mc (4,096 tokens per run)",
    ]
    assert "curated seed 1" in page and "raw seed 0" in page
    assert "0.021" in page  # the seed spread is drawn as error bars
