"""The transformers engine on a tiny Qwen2 built on the fly: prefix reuse, generation,
classifier scores, the prompt cache, and one-line errors for bad model paths."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from qurate.errors import ConfigError, EngineError  # noqa: E402
from qurate.llm import EngineConfig, GenParams, load_engine  # noqa: E402
from qurate.llm.cache import CachedEngine, PromptCache  # noqa: E402
from qurate.llm.testing import build_tiny_classifier, cached_tiny_chat_model  # noqa: E402


@pytest.fixture(scope="module")
def engine():
    return load_engine(
        EngineConfig(model=str(cached_tiny_chat_model()), device="cpu", batch_size=3)
    )


def _chat(doc: str, q: str) -> list[dict[str, str]]:
    return [{"role": "system", "content": "rate"}, {"role": "user", "content": f"{doc}\n{q}"}]


DOCS = ["Photosynthesis converts light energy into chemical energy.", "Buy now! cheap watches " * 9]
QUESTIONS = [("Rate it 0-5.", list("012345")), ("Which domain? A or B or C", list("ABC"))]


def test_grouped_prefix_reuse_matches_full_passes(engine):
    groups = [[_chat(d, q) for q, _ in QUESTIONS] for d in DOCS]
    grouped = engine.choice_probs_grouped(groups, [c for _, c in QUESTIONS])
    for g, results in zip(groups, grouped, strict=True):
        for prompt, (_, choices), r in zip(g, QUESTIONS, results, strict=True):
            full = engine.choice_probs([prompt], choices)[0]
            assert r.error is None
            assert sum(r.probs.values()) == pytest.approx(1.0)
            for c in choices:
                assert r.probs[c] == pytest.approx(full.probs[c], abs=1e-4)
    # The second document reused the cross-document prefix (system prompt) computed once.
    assert engine._shared is not None and len(engine._shared[0]) > 5


def test_choice_probs_batched_equals_single(engine):
    prompts = [_chat(d, "Rate it 0-5.") for d in DOCS] + ["plain text prompt"]
    batched = engine.choice_probs(prompts, list("012345"))
    for p, b in zip(prompts, batched, strict=True):
        single = engine.choice_probs([p], list("012345"))[0]
        assert b.expected() == pytest.approx(single.expected(), abs=1e-4)
        assert 0 < b.mass <= 1


def test_choices_must_start_with_distinct_tokens(engine):
    with pytest.raises(EngineError, match="distinct"):
        engine.choice_probs(["x"], ["apple", "apples"])


def test_generate_n_samples_and_finish_reasons(engine):
    gens = engine.generate(
        ["Hello", _chat("hi", "say hi")], GenParams(n=3, temperature=1.0, max_tokens=5)
    )
    assert [len(g.texts) for g in gens] == [3, 3]
    assert all(r in ("stop", "length") for g in gens for r in g.finish_reasons)
    assert all(g.completion_tokens <= 15 and g.prompt_tokens > 0 for g in gens)
    greedy = engine.generate(["Hello"], GenParams(max_tokens=5))[0]
    assert greedy.texts == engine.generate(["Hello"], GenParams(max_tokens=5))[0].texts


def test_truncate_by_tokens(engine):
    text = "The quick brown fox jumps over the lazy dog. " * 20
    cut, flag = engine.truncate(text, 10)
    assert flag and text.startswith(cut) and engine.count_tokens(cut) == 10
    assert engine.truncate("short", 10) == ("short", False)


def test_prompt_cache_resumes_without_asking_again(tmp_path, engine):
    path = tmp_path / "llm.sqlite"
    cached = CachedEngine(engine, PromptCache(path))
    prompts = [_chat(d, "Rate it 0-5.") for d in DOCS]
    first = cached.choice_probs(prompts, list("012345"))
    assert cached.misses == 2 and cached.hits == 0
    # A new process: a fresh cache object on the same file answers from disk.
    again = CachedEngine(engine, PromptCache(path))
    second = again.choice_probs(prompts + ["new prompt"], list("012345"))
    assert again.hits == 2 and again.misses == 1
    assert [r.probs for r in second[:2]] == [r.probs for r in first]
    groups = [[_chat(d, q) for q, _ in QUESTIONS] for d in DOCS]
    g1 = again.choice_probs_grouped(groups, [c for _, c in QUESTIONS])
    hits = again.hits
    g2 = again.choice_probs_grouped(groups, [c for _, c in QUESTIONS])
    assert again.hits == hits + 2
    assert [[r.probs for r in g] for g in g1] == [[r.probs for r in g] for g in g2]


def test_sequence_scores_from_a_reward_model(tmp_path):
    rm = load_engine(EngineConfig(model=str(build_tiny_classifier(tmp_path / "rm")), device="cpu"))
    scores = rm.sequence_scores(["good answer", "bad answer", [{"role": "user", "content": "q"}]])
    assert len(scores) == 3 and all(isinstance(s, float) for s in scores)
    assert scores[0] != scores[1]
    with pytest.raises(EngineError, match="classifier"):
        rm.choice_probs(["x"], ["0", "1"])


def test_bad_model_paths_are_one_line_config_errors(tmp_path):
    with pytest.raises(ConfigError, match="no such file"):
        load_engine(EngineConfig(model=str(tmp_path / "nope")))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match="config.json"):
        load_engine(EngineConfig(model=str(tmp_path / "empty")))
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "config.json").write_text('{"model_type": "qwen2"}')
    with pytest.raises(ConfigError, match="cannot load"):
        load_engine(EngineConfig(model=str(bad)))
    # Before: struct.error from the GGUF reader (a file cut inside its header) escaped as a
    # traceback; a GGUF file that is not whole is a one-line config error like the others.
    pytest.importorskip("gguf")
    from qurate.llm.models import embedded_judge_path

    try:
        whole = embedded_judge_path()
    except ConfigError:
        pytest.skip("the embedded SmolLM2 judge is not installed")
    cut = tmp_path / "cut.gguf"
    with open(whole, "rb") as f:
        cut.write_bytes(f.read(1000))
    with pytest.raises(ConfigError, match="cannot load"):
        load_engine(EngineConfig(model=str(cut)))


def test_vllm_engine_without_the_extra_names_it(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_vllm(name, *a, **k):
        if name == "vllm":
            raise ImportError("no vllm")
        return real_import(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", no_vllm)
    from qurate.errors import MissingExtraError

    with pytest.raises(MissingExtraError, match=r"qurate\[gpu\]"):
        load_engine(EngineConfig(kind="vllm", model="x"))
