"""The scoring lever as three stages, one module each:

- :mod:`~qurate.curate.scoring_annotate`: an LLM judge scores a stratified sample;
- :mod:`~qurate.curate.scoring_distill`: fastText raters learn the judge's scores, with
  agreement measured on held-out annotations;
- :mod:`~qurate.curate.scoring_apply`: every document gets ``scores``, ``domain`` and the
  ``quality`` aggregate (raters, optionally the judge and perplexity under a reference LM).

Each stage reads and writes stage directories of the data contract, and each manifest's
counts add up (``in == kept + rejected``).
"""

from __future__ import annotations

from qurate.curate.scoring_annotate import annotate, stratified_sample
from qurate.curate.scoring_apply import apply, raters_summary, score_batch
from qurate.curate.scoring_distill import distill, soft_labels

__all__ = [
    "annotate",
    "apply",
    "distill",
    "raters_summary",
    "score_batch",
    "soft_labels",
    "stratified_sample",
]
