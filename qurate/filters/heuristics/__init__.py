"""Document-level quality heuristics (Gopher, C4, FineWeb) that hold in every script.

- ``rules``: the ``Heuristics`` step; ``config``: thresholds with what each catches;
- ``stats``: per-document line and word statistics; ``lexicon``: multilingual phrase lists;
- ``mojibake``: the rule for text a wrong code page damaged beyond repair.
"""
