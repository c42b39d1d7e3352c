"""``score.apply.perplexity: auto``: perplexity runs when its CPU price for the input is within
budget (or on a GPU); otherwise it is off with one line saying why, what it would cost and how
to force it, and the manifest records the decision."""

from __future__ import annotations

import pytest

from qurate.contract.shards import ShardWriter, iter_rows, read_manifest, write_manifest
from qurate.errors import BadInputError
from qurate.score.budget import CPU_TOKENS_PER_S, FORCE, decide_perplexity, scored_tokens
from qurate.score.config import ScoreConfig

TEXTS = [
    "The cat sat on the mat and looked out of the window at the rain.",
    "Water boils at one hundred degrees Celsius at sea level.",
    "cat the mat on sat window rain the of out at looked and the",
    "The library opens at nine and closes at five on weekdays.",
]


@pytest.fixture()
def stage(tmp_path):
    # n_tokens 10, 300, None, 50: with max_tokens 256 perplexity reads 10 + 256 + 256 + 50
    with ShardWriter(tmp_path / "in", rows_per_shard=2) as w:
        for i, (t, n) in enumerate(zip(TEXTS, [10, 300, None, 50], strict=True)):
            w.write({"id": f"d{i}", "text": t, "lang": "en", "source": "s", "n_tokens": n})
    write_manifest(tmp_path / "in", stage="curate", config_hash="x", inputs=[], n_in=4,
                   n_kept=4, rejected_by_reason={})  # fmt: skip
    return tmp_path


def _cpu(budget: float) -> ScoreConfig:
    cfg = ScoreConfig()
    cfg.perplexity.device = "cpu"
    cfg.apply.perplexity_budget_core_hours = budget
    return cfg


def test_auto_is_the_default_and_prices_the_tokens_perplexity_would_read(stage):
    assert ScoreConfig().apply.perplexity == "auto"
    assert scored_tokens(stage / "in", 256) == (4, 572)
    # a sample of the first shard stands for the rest: 2 docs, 10 + 256 tokens -> 133 a doc
    assert scored_tokens(stage / "in", 256, sample_rows=1) == (4, 532)
    d = decide_perplexity("auto", stage / "in", _cpu(budget=1.0))
    assert d.on and not d.gpu and (d.docs, d.tokens) == (4, 572)
    assert d.core_hours == pytest.approx(572 / CPU_TOKENS_PER_S / 3600, abs=1e-3)
    assert d.reason.startswith("perplexity: on (auto:") and "within the budget" in d.reason


def test_auto_over_budget_is_off_with_one_line_that_says_the_cost_and_how_to_force_it(stage):
    d = decide_perplexity("auto", stage / "in", _cpu(budget=0.0))
    assert not d.on and d.budget_core_hours == 0.0
    assert "\n" not in d.reason and d.reason.startswith("perplexity: off (auto:")
    assert "4 documents, 572 tokens" in d.reason and "core-hours" in d.reason
    assert FORCE in d.reason and "perplexity_budget_core_hours" in d.reason


def test_explicit_settings_and_a_gpu_skip_the_price(stage):
    assert decide_perplexity(True, stage / "in", _cpu(0.0)).on
    assert not decide_perplexity(False, stage / "in", _cpu(1e9)).on
    cfg = _cpu(0.0)
    cfg.perplexity.device = "cuda:0"
    d = decide_perplexity("auto", stage / "in", cfg)
    assert d.on and d.gpu and d.tokens is None
    with pytest.raises(ValueError):
        decide_perplexity("sometimes", stage / "in", cfg)  # type: ignore[arg-type]


def test_the_config_accepts_auto_true_false_and_nothing_else():
    from pydantic import ValidationError

    for v, want in (("auto", "auto"), (True, True), (False, False)):
        assert ScoreConfig.model_validate({"apply": {"perplexity": v}}).apply.perplexity == want
    with pytest.raises(ValidationError):
        ScoreConfig.model_validate({"apply": {"perplexity": "sometimes"}})
    with pytest.raises(ValidationError):
        ScoreConfig.model_validate({"apply": {"perplexity_budget_core_hours": -1}})


def test_apply_with_nothing_but_a_priced_out_perplexity_says_why(stage):
    from qurate.score.apply import apply

    with pytest.raises(BadInputError, match="nothing to score with.*over the budget"):
        apply(stage / "in", stage / "out", None, _cpu(budget=0.0))


def test_cli_apply_auto_runs_perplexity_within_budget_and_records_the_decision(stage, capsys):
    pytest.importorskip("torch")
    from qurate.cli import main
    from qurate.llm.testing import cached_tiny_chat_model

    cfg = stage / "score.yaml"
    cfg.write_text(
        "score:\n"
        f"  perplexity: {{device: cpu, min_language_docs: 2, model: {cached_tiny_chat_model()}}}\n"
        "  apply: {perplexity_budget_core_hours: 1, check_docs: 0}\n"
    )
    with pytest.raises(SystemExit) as e:
        main(["score", "apply", str(stage / "in"), "-o", str(stage / "out"), "-c", str(cfg)])
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert "perplexity: on (auto:" in out
    m = read_manifest(stage / "out")
    assert m["perplexity_decision"]["on"] is True and m["perplexity_decision"]["tokens"] == 572
    assert all(r["scores"].get("perplexity") for r in iter_rows(stage / "out"))
