"""Proxy-model ablations (``qurate ablate``) and model evaluation (``qurate eval``).

- ``run_ablation(cfg, out)``: one recipe, every arm, every seed, the same evaluations;
- ``evaluate_model(path, evals, cfg)``: bits per byte, multiple choice, verified generation;
- ``load_eval(name, path)``: read and check an evaluation file.

Importing the package is cheap; the functions load torch on first use.
"""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    if name in ("run_ablation", "evaluate_model", "load_evals"):
        from qurate.ablate import runner

        return getattr(runner, name)
    if name == "load_eval":
        from qurate.ablate.tasks import load_eval

        return load_eval
    raise AttributeError(name)


__all__ = ["evaluate_model", "load_eval", "load_evals", "run_ablation"]
