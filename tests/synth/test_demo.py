"""The ``qurate run`` synth step, with a tiny teacher so it runs fast anywhere."""

from __future__ import annotations

import pytest

from qurate.contract.shards import iter_rows, read_manifest
from qurate.synth.demo import run_demo


@pytest.mark.slow
def test_demo_generates_filters_and_accounts_for_everything(tmp_path, tiny_chat):
    s = run_demo(tmp_path, n=2, max_tokens=16, teacher=str(tiny_chat))
    assert s["generated"]["outputs"] == 6
    m = read_manifest(tmp_path / "synth")
    assert m["counts"]["in"] == s["filtered"]["in"] == s["generated"]["kept"] + 8
    kept = list(iter_rows(tmp_path / "synth"))
    rejects = {r["id"]: r["reject_reason"] for r in iter_rows(tmp_path / "synth", rejects=True)}
    assert {"demo-code-1", "demo-math-a", "demo-math-c", "demo-math-d"} <= {r["id"] for r in kept}
    assert rejects["demo-code-2"] == rejects["demo-code-3"] == "verify_failed"
    assert rejects["demo-math-b"] == rejects["demo-math-e"] == "verify_failed"
    assert all(r["synthetic"] and r["domain"] in ("math", "code") for r in kept)


def test_demo_reuses_an_engine_the_run_already_loaded(tmp_path, tiny_chat):
    from qurate.llm import EngineConfig, GenParams, load_engine

    engine = load_engine(EngineConfig(model=str(tiny_chat), device="cpu"))
    s = run_demo(tmp_path, n=1, max_tokens=4, engine=engine)
    assert s["generated"]["outputs"] == 3 and s["teacher"] == engine.model_id
    assert engine.generate(["still open"], GenParams(max_tokens=2))[0].error is None
