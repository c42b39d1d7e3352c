"""Scaling-law plans: the published formulas, and refitting from a user's sweep."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from qurate.errors import BadInputError, ConfigError
from qurate.train.plan import deepseek, fit_sweep, model_size, parse_count, steplaw


def test_published_formulas() -> None:
    p = deepseek(m=1e9, d=1e11)
    assert p.batch_tokens == pytest.approx(0.2920 * 1e20**0.3271)
    assert p.lr == pytest.approx(0.3118 * 1e20**-0.125)
    s = steplaw(n=1e8, d=1e10)
    assert s.lr == pytest.approx(1.79 * 1e8**-0.713 * 1e10**0.307)
    assert s.batch_tokens == pytest.approx(0.58 * 1e10**0.571)


def test_params_from_preset_or_count() -> None:
    n, m, exact = model_size("0.5B", seq_len=4096)
    assert exact and 3.5e8 < n < 3.7e8 and m > 6 * n  # 0.5B has ~360M non-embedding params
    assert model_size("7e9")[:2] == (7e9, 42e9)
    assert parse_count("1.5B") == 1.5e9 and parse_count("18T") == 18e12
    with pytest.raises(ConfigError):
        parse_count("lots")


def test_fit_recovers_a_known_power_law(tmp_path: Path) -> None:
    rows = ["N,D,batch,lr,loss"]
    for n in (1e7, 1e8, 1e9):
        for d in (1e9, 1e10, 1e11):
            best_b, best_lr = 0.5 * d**0.5, 2.0 * n**-0.3 * d**0.1
            for fb in (0.5, 1.0, 2.0):
                for flr in (0.5, 1.0, 2.0):
                    loss = 2.0 + math.log(fb) ** 2 + math.log(flr) ** 2  # best at fb=flr=1
                    rows.append(f"{n},{d},{best_b * fb},{best_lr * flr},{loss}")
    (tmp_path / "sweep.csv").write_text("\n".join(rows))
    fit = fit_sweep(tmp_path / "sweep.csv")
    assert fit.points == 9
    a, alpha, beta = fit.lr_coef
    assert (a, alpha, beta) == pytest.approx((2.0, -0.3, 0.1), rel=1e-6)
    assert fit.batch_coef == pytest.approx((0.5, 0.0, 0.5), abs=1e-6)
    b, lr = fit.predict(1e8, 1e10)
    assert lr == pytest.approx(2.0 * 1e8**-0.3 * 1e10**0.1)


def test_fit_needs_enough_points(tmp_path: Path) -> None:
    (tmp_path / "s.csv").write_text("N,D,batch,lr,loss\n1e7,1e9,100,0.01,3\n1e7,1e9,200,0.01,2.9\n")
    with pytest.raises(BadInputError, match="3 or more"):
        fit_sweep(tmp_path / "s.csv")
    rising = "".join(f"{n},{20 * n},100,0.01,3\n" for n in (1e6, 1e7, 1e8))  # D = 20 N
    (tmp_path / "r.csv").write_text("N,D,batch,lr,loss\n" + rising)
    with pytest.raises(BadInputError, match="one line in log space"):
        fit_sweep(tmp_path / "r.csv")
    (tmp_path / "t.csv").write_text("N,D,lr\n1,2,3\n")
    with pytest.raises(BadInputError, match="missing column"):
        fit_sweep(tmp_path / "t.csv")
