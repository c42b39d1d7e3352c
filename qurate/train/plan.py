"""Batch size and peak learning rate from hyper-parameter scaling laws.

Two published fits, both from (model size, data size):

- DeepSeek LLM (2024): ``B = 0.2920 * C^0.3271`` tokens and ``lr = 0.3118 * C^-0.1250`` with
  compute ``C = M * D``, where ``M`` is the non-embedding FLOPs per token
  (``72 * n_layer * d^2 + 6 * n_layer * d * seq`` for their blocks; for ours we count the
  real non-embedding parameters: ``6 * N_body + 6 * n_layer * d * seq``).
- Step Law (Li et al., 2025): ``lr = 1.79 * N^-0.713 * D^0.307`` and ``B = 0.58 * D^0.571``
  tokens, with ``N`` the non-embedding parameters.

Qwen2.5 fitted its own laws from a grid of small runs; ``fit_sweep`` does the same from a
user's CSV of (N, D, batch, lr, loss): for each (N, D) it keeps the best run and fits
``lr = a * N^alpha * D^beta`` and ``B = c * N^gamma * D^delta`` by least squares in log space.

MoE: N and M are the *active* non-embedding parameters and FLOPs per token (top-k routed
experts, the shared expert, the router and attention), the compute a token really costs.
Both published laws come from grids of small runs, almost all dense (DeepSeek LLM: dense
models at budgets of about 1e17-3e20 FLOPs; Step Law: a large grid of models up to ~1B
parameters, mostly dense), so for MoE, and far outside those budgets, they are a starting
point to refit with ``--fit`` on a sweep of MoE runs (a sweep CSV may give ``N_active``
beside ``N``, or a preset name as ``N``; the active count is then used).
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qurate.errors import BadInputError, ConfigError, one_line
from qurate.train.model import PRESETS, ModelConfig


@dataclass(frozen=True)
class Plan:
    law: str
    params: float  # non-embedding parameters N
    tokens: float  # D
    flops_per_token: float  # M
    batch_tokens: float
    lr: float


@dataclass(frozen=True)
class Fit:
    """``lr = a * N^alpha * D^beta`` and ``B = c * N^gamma * D^delta``."""

    lr_coef: tuple[float, float, float]  # (a, alpha, beta)
    batch_coef: tuple[float, float, float]  # (c, gamma, delta)
    points: int  # (N, D) groups used
    lr_r2: float
    batch_r2: float

    def predict(self, n: float, d: float) -> tuple[float, float]:
        a, al, be = self.lr_coef
        c, ga, de = self.batch_coef
        return c * n**ga * d**de, a * n**al * d**be


_SUFFIX = {"": 1.0, "k": 1e3, "m": 1e6, "b": 1e9, "t": 1e12}


def parse_count(text: str | float | int) -> float:
    """'7e9', '500M', '1.5B', '18T' -> a number."""
    if isinstance(text, int | float):
        value = float(text)
    else:
        m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:e[+-]?[0-9]+)?)\s*([kmbt]?)\s*", text, re.I)
        if not m:
            raise ConfigError(f"cannot read {text!r} as a count (e.g. 7e9, 500M, 1.5B, 18T)")
        value = float(m.group(1)) * _SUFFIX[m.group(2).lower()]
    if not math.isfinite(value):  # 1e400 read as inf: a plan of "lr 0" and "C = inf"
        raise ConfigError(f"{text!r} is not a finite count (e.g. 7e9, 500M, 1.5B, 18T)")
    return value


def model_size(params: str | float, seq_len: int = 4096) -> tuple[float, float, bool]:
    """(non-embedding N, non-embedding FLOPs/token M, exact) for a preset name or a count.

    A preset gives exact figures (active ones for MoE); a bare count is taken as
    (active) non-embedding parameters and ``M ~ 6 N`` (attention needs the architecture).
    """
    if seq_len < 1:  # a negative one made M negative: "batch 4,264,789+7,063,688j tokens"
        raise ConfigError(f"--seq-len must be a positive number of tokens, not {seq_len}")
    if isinstance(params, str) and params in PRESETS:
        cfg = PRESETS[params]
        return float(body_params(cfg)), body_flops_per_token(cfg, seq_len), True
    n = parse_count(params)
    if n <= 0:
        raise ConfigError("--params must be positive")
    return n, 6.0 * n, False


def body_params(cfg: ModelConfig) -> int:
    """Non-embedding parameters one token uses: all of them for dense, top-k experts for MoE."""
    return cfg.num_params(embedding=False, active=True)


def body_flops_per_token(cfg: ModelConfig, seq_len: int) -> float:
    """DeepSeek's M for our block: 6 * N_body (active) + 6 * n_layer * d * seq."""
    return 6.0 * body_params(cfg) + 6.0 * cfg.num_hidden_layers * cfg.hidden_size * seq_len


def deepseek(m: float, d: float, n: float = 0.0) -> Plan:
    c = m * d
    return Plan("deepseek", n, d, m, 0.2920 * c**0.3271, 0.3118 * c**-0.1250)


def steplaw(n: float, d: float, m: float = 0.0) -> Plan:
    return Plan("steplaw", n, d, m, 0.58 * d**0.571, 1.79 * n**-0.713 * d**0.307)


def plan(n: float, m: float, d: float, law: str = "deepseek") -> Plan:
    """The plan of one law (``deepseek`` or ``steplaw``)."""
    if d <= 0:
        raise ConfigError("--tokens must be positive")
    if law == "deepseek":
        return deepseek(m, d, n)
    if law == "steplaw":
        return steplaw(n, d, m)
    raise ConfigError(f"unknown law {law!r}; valid: deepseek, steplaw")


def _lstsq(x: np.ndarray, y: np.ndarray) -> tuple[tuple[float, float, float], float]:
    a = np.column_stack([np.ones(len(x)), x])
    coef, *_ = np.linalg.lstsq(a, y, rcond=None)
    pred = a @ coef
    ss = float(((y - y.mean()) ** 2).sum())
    r2 = 1.0 - float(((y - pred) ** 2).sum()) / ss if ss > 0 else 1.0
    return (math.exp(coef[0]), float(coef[1]), float(coef[2])), r2


def fit_sweep(path: str | Path) -> Fit:
    """Refit both power laws from a CSV with columns N, D, batch, lr, loss (and, for MoE
    runs, N_active: the active non-embedding parameters, used as N when present)."""
    p = Path(path)
    try:
        with p.open(newline="") as f:
            rows = list(csv.DictReader(f))
    except OSError as e:
        raise BadInputError(f"cannot read sweep {p}: {e}") from None
    except (UnicodeDecodeError, csv.Error) as e:  # was a UnicodeDecodeError traceback
        raise BadInputError(f"cannot read sweep {p}: not a CSV text file ({one_line(e)})") from None
    need = ("n", "d", "batch", "lr", "loss")  # plus, for MoE sweeps, an optional n_active
    best: dict[tuple[float, float], tuple[float, float, float]] = {}
    for i, row in enumerate(rows, start=2):
        low = {(k or "").strip().lower(): v for k, v in row.items()}
        missing = [k for k in need if k not in low]
        if missing:
            raise BadInputError(f"{p}: missing column(s) {missing}; need N, D, batch, lr, loss")
        try:
            n_text = low.get("n_active") or low["n"]
            n = model_size(n_text.strip())[0] if n_text.strip() in PRESETS else parse_count(n_text)
            d, b = (parse_count(low[k]) for k in ("d", "batch"))
            lr, loss = float(low["lr"]), float(low["loss"])
        except (ConfigError, ValueError, TypeError):
            raise BadInputError(f"{p}:{i}: not a number in {row}") from None
        # an lr of nan or inf passed (nan compares false) and made the whole lr fit nan
        if not all(math.isfinite(v) for v in (lr, loss)) or min(n, d, b, lr) <= 0:
            raise BadInputError(
                f"{p}:{i}: N, D, batch and lr must be positive and finite, loss finite"
            )
        if (n, d) not in best or loss < best[(n, d)][2]:
            best[(n, d)] = (b, lr, loss)
    keys = list(best)
    x = np.log(np.array(keys, dtype=float)) if keys else np.zeros((0, 2))
    if len(keys) < 3:
        raise BadInputError(
            f"{p}: need runs at 3 or more (N, D) points that vary both N and D to fit "
            f"lr and batch as power laws of N and D (found {len(keys)})"
        )
    if np.linalg.matrix_rank(np.column_stack([np.ones(len(x)), x])) < 3:
        raise BadInputError(
            f"{p}: the {len(keys)} (N, D) points lie on one line in log space (N and D rise "
            "together, or one of them is fixed), so the N and D exponents cannot be told "
            "apart; add runs that change N at a fixed D (or D at a fixed N)"
        )
    lr_coef, lr_r2 = _lstsq(x, np.log([best[k][1] for k in keys]))
    b_coef, b_r2 = _lstsq(x, np.log([best[k][0] for k in keys]))
    return Fit(lr_coef, b_coef, len(keys), lr_r2, b_r2)
