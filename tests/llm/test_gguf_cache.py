"""The de-quantised copy of a GGUF model kept across processes (qurate/llm/hf.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("gguf")

from qurate.llm import EngineConfig, hf, load_engine  # noqa: E402


def test_the_copy_is_keyed_by_the_file_and_can_be_turned_off(tmp_path: Path, monkeypatch):
    f = tmp_path / "m.gguf"
    f.write_bytes(b"x" * 10)
    monkeypatch.setenv("QURATE_CACHE_DIR", str(tmp_path / "c"))
    first = hf.gguf_cache_dir(f)
    assert first is not None and first.parent == tmp_path / "c" / "gguf-hf"
    assert hf.gguf_cache_dir(f) == first
    os.utime(f, ns=(1, 1))  # the file rewritten in place: another copy
    assert hf.gguf_cache_dir(f) != first
    monkeypatch.setenv("QURATE_CACHE_DIR", "off")
    assert hf.gguf_cache_dir(f) is None


def test_a_second_process_reads_the_copy_and_scores_the_same(tmp_path: Path, monkeypatch):
    from qurate.llm.models import embedded_judge_path

    try:
        gguf = embedded_judge_path()
    except Exception:
        pytest.skip("the embedded SmolLM2 judge is not installed")
    monkeypatch.setenv("QURATE_CACHE_DIR", str(tmp_path))
    texts = ["The derivative of x^2 is 2x, so the slope at x = 3 is 6.", "长江是中国第一大河"]
    cfg = EngineConfig(kind="transformers", model="default")
    monkeypatch.setattr(hf, "_LOADED", {})  # as in a new process
    from_gguf = load_engine(cfg)
    want = from_gguf.loglikelihood(texts, 32)
    cache = hf.gguf_cache_dir(gguf)
    assert cache is not None and (cache / "model.safetensors").is_file()

    def no_gguf(*a, **k):
        raise AssertionError("the GGUF file was de-quantised again")

    import transformers.modeling_gguf_pytorch_utils as gguf_utils

    monkeypatch.setattr(gguf_utils, "load_gguf_checkpoint", no_gguf)
    monkeypatch.setattr(hf, "_LOADED", {})
    from_copy = load_engine(cfg)
    assert from_copy.loglikelihood(texts, 32) == want
    assert from_copy.encode(texts[1]) == from_gguf.encode(texts[1])
    # Both split digits as the model was trained. Before: transformers' GGUF conversion gave
    # SmolLM2 GPT-2's split alone, so spaces before a digit came out as "Ġ", "Ġ", "8" where
    # the original tokenizer.json (digits first) gives "ĠĠ", "8": 8 of the sample's first 71
    # documents were tokenized otherwise than in training.
    from qurate.augment.embed import _from_gguf

    trained, _ = _from_gguf(gguf)
    assert trained.encode("  8").tokens == ["ĠĠ", "8"]
    odd = ["paid  8 dollars", "x = 12345;\n    42", "version 2.0\t\t7"]
    want = [trained.encode(t).ids for t in odd]
    for engine in (from_gguf, from_copy):
        assert [engine.tokenizer(t, add_special_tokens=False)["input_ids"] for t in odd] == want
    assert from_copy.render([{"role": "user", "content": "hi"}]) == from_gguf.render(
        [{"role": "user", "content": "hi"}]
    )
    # A damaged copy (a disk that filled up later, a hand edit) is dropped and the GGUF file
    # read instead, not an error for every later load.
    (cache / "model.safetensors").write_bytes(b"not safetensors")
    real, read = hf.TransformersEngine._from_directory, []

    def record(self, directory, kwargs):
        read.append(directory)
        if directory == str(cache):
            return real(self, directory, kwargs)
        raise RuntimeError("stop here: the GGUF load itself is checked above")

    monkeypatch.setattr(hf.TransformersEngine, "_from_directory", record)
    monkeypatch.setattr(hf, "_LOADED", {})
    with pytest.raises(Exception, match="stop here"):
        load_engine(cfg)
    assert read == [str(cache), str(gguf.parent)] and not cache.exists()
