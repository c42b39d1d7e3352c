"""Repeated procedure steps: help pages repeat steps, spam repeats lines.

A help page that explains two tasks often starts both procedures with the same steps
("Open the Activities overview and start typing Printers.", "Click Printers to open the
panel."), and Gopher's repetition rules read those repeats as a page that repeats itself:
on the web set's wide dev side (1,791 help pages, tuned on) one such page and its
translations made 10 of the 26 help pages that the repetition rules (and keyword stuffing)
dropped; all 10 are kept now. The heuristics
judge a page again with each repeated list item kept once, when the page fails a repetition
rule and its repeats are steps: list items that repeat an earlier list item, no more than a
set share of all its list items (a list of one line over and over is not a procedure).
"""

from __future__ import annotations

from qurate.filters.heuristics.stats import is_list_item


def collapse_repeated_steps(text: str, max_frac: float) -> str | None:
    """``text`` with every list item that repeats an earlier one removed, or None when there
    is none, or when repeats are more than ``max_frac`` of the list items."""
    seen: set[str] = set()
    kept: list[str] = []
    n_items = n_repeats = 0
    for line in text.split("\n"):
        s = line.strip()
        if s and is_list_item(s):
            n_items += 1
            if s in seen:
                n_repeats += 1
                continue
            seen.add(s)
        kept.append(line)
    if not n_repeats or n_repeats > max_frac * n_items:
        return None
    return "\n".join(kept)
