"""``qurate score``: the quality lever as three stages, one module each.

- ``annotate``: an LLM judge (``judge``) scores a stratified sample on rubric dimensions
- ``distill``: fastText raters (``raters``) learn the judge's scores; agreement on held-out
- ``apply``: every document gets ``scores``, ``domain`` and ``quality`` (raters, judge,
  perplexity under a reference LM (``perplexity``)), weighted by ``check``; ``budget``
  prices perplexity for the input (``auto``), ``rows`` writes the scored rows
- ``config``: the ``score:`` section; ``metrics``: agreement and ROC-AUC helpers

Imports: ``qurate.errors``, ``qurate.contract`` and ``qurate.llm``. Nothing below it imports it.
"""
