"""``qurate report`` and ``qurate stats``: read finished stage directories, never write them.

- ``gather``: find the stages of a run and collect their manifests and histograms
- ``html``: the self-contained HTML page (plotly)
- ``stats``: DuckDB views over a stage directory

Imports: ``qurate.errors`` and ``qurate.contract``.
"""
