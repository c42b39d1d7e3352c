"""Web-page rules: cut site chrome lines, reject link farms, consent walls, blobs, number dumps.

- ``rules``: the ``WebFilter`` step; ``config``: thresholds with what each catches and spares;
- ``lines``: which lines are chrome and which runs of them to cut; ``lexicon``: the
  multilingual keywords (cookie/consent, site, legal, menu, social).
"""
