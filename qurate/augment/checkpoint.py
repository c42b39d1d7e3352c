"""Finished recall rounds kept in the stage directory, so a rerun after kill -9 resumes.

After each round ``qurate augment recall`` writes the round's pool scores
(``round-N.npy``, one float32 per pool document) and then the state that the next round
needs (``round-N.json``: the reports so far, the judge's verdicts, the last cut, the best
round), both atomically, into the stage's hidden scratch directory (removed when the stage
finishes). A rerun with the same fingerprint loads the last round whose JSON is there and
goes on from the next one. Training is deterministic by default (``deterministic``: one
seeded fastText thread), and every round's sampling is seeded by ``(seed, round)``, so the
resumed run writes what an uninterrupted run writes.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from qurate.contract.stagedir import atomic_write_bytes, atomic_write_text
from qurate.errors import BadInputError

SCRATCH = ".recall-rounds"


@dataclass
class RoundsState:
    """What the rounds carry from one to the next (see ``rounds.run_rounds``)."""

    done: int = 0  # rounds finished
    stopped: bool = False  # a round drifted: no more rounds
    reports: list[dict[str, Any]] = field(default_factory=list)
    judged: dict[str, bool] = field(default_factory=dict)
    judged_text: dict[str, str] = field(default_factory=dict)
    prev_cut: float = 0.0
    best: tuple[float, float, int] | None = None  # (held-out precision, cut, round)


def _split(flat: np.ndarray, rows: list[int]) -> list[np.ndarray]:
    return np.split(flat, np.cumsum(rows)[:-1]) if rows else []


def save(directory: Path, state: RoundsState, scores: list[np.ndarray]) -> None:
    """Keep round ``state.done``: its scores first, then the state (the commit point)."""
    directory.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    flat = np.concatenate(scores) if scores else np.zeros(0, np.float32)
    np.save(buf, flat.astype(np.float32), allow_pickle=False)
    atomic_write_bytes(directory / f"round-{state.done}.npy", buf.getvalue())
    body = {
        "done": state.done,
        "stopped": state.stopped,
        "reports": state.reports,
        "judged": state.judged,
        "judged_text": state.judged_text,
        "prev_cut": state.prev_cut,
        "best": list(state.best) if state.best is not None else None,
    }
    atomic_write_text(directory / f"round-{state.done}.json", json.dumps(body))


def scores_of(directory: Path, r: int, rows: list[int]) -> list[np.ndarray]:
    """Round ``r``'s pool scores, split per shard."""
    flat = np.load(directory / f"round-{r}.npy", allow_pickle=False)
    if len(flat) != sum(rows):
        raise BadInputError(
            f"{directory}: round {r} holds {len(flat)} scores for a pool of {sum(rows)}; "
            "rerun with --overwrite"
        )
    return _split(flat, rows)


def load(directory: Path) -> RoundsState | None:
    """The last finished round's state, or None (a fresh run)."""
    done = sorted((int(p.stem.split("-")[1]) for p in directory.glob("round-*.json")), reverse=True)
    if not done:
        return None
    body = json.loads((directory / f"round-{done[0]}.json").read_text())
    best = body["best"]
    return RoundsState(
        done=body["done"],
        stopped=body["stopped"],
        reports=body["reports"],
        judged=body["judged"],
        judged_text=body["judged_text"],
        prev_cut=body["prev_cut"],
        best=(float(best[0]), float(best[1]), int(best[2])) if best is not None else None,
    )


__all__ = ["SCRATCH", "RoundsState", "load", "save", "scores_of"]
