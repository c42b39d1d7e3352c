"""The scoring part of ``qurate run`` with no argument: annotate, distill, apply on a small
sample with the embedded default judge (SmolLM2-135M-Instruct, CPU), in a few minutes.

The sample is small (``sample`` documents, truncated to ``max_doc_tokens``), so the raters'
agreement figures are only indicative. ``apply`` runs the default signals: the raters and the
reference classifier (each weighted by its check), perplexity under SmolLM2 over the first
``ppl_tokens`` tokens (64 here to keep the demo to minutes; 256 is the default), and the
shipped domain classifier, so the sample comes out with a visible spread of quality and
four domains for the mixer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from qurate.score.annotate import annotate
from qurate.score.apply import apply
from qurate.score.config import ScoreConfig
from qurate.score.distill import distill


def demo_config(sample: int = 48, max_doc_tokens: int = 192, ppl_tokens: int = 64) -> ScoreConfig:
    """Defaults sized for a laptop CPU: small sample, short documents, small raters."""
    cfg = ScoreConfig()
    cfg.engine.model = "default"
    cfg.perplexity.max_tokens = ppl_tokens
    cfg.perplexity.batch_size = 8
    cfg.annotate.sample = sample
    cfg.judge.max_doc_tokens = max_doc_tokens
    cfg.distill.min_per_class = 2
    cfg.distill.train.epoch = 10
    return cfg


def run_demo(
    curated: str | Path,
    run_dir: str | Path,
    config: ScoreConfig | None = None,
    *,
    progress: bool = False,
) -> dict[str, Any]:
    """annotate -> distill -> apply into ``run_dir/{annotations,raters,scored}``."""
    cfg = config or demo_config()
    run = Path(run_dir)
    ann = annotate(curated, run / "annotations", cfg, progress=progress)
    raters = distill(run / "annotations", run / "raters", cfg)
    scored = apply(curated, run / "scored", run / "raters", cfg, progress=progress)
    return {"annotate": ann, "distill": raters, "apply": scored, "scored_dir": str(run / "scored")}
