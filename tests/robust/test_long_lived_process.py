"""qurate as a library in one long-lived process (a notebook, a service, a test harness).

A command run in-process must leave the process as it found it: the caller's torch thread
count and RNG, its environment, its exception hook. And the same command run twice must give
what one run in a fresh process gives, even after a command that failed.
"""

from __future__ import annotations

import os
import sys

import pytest

torch = pytest.importorskip("torch")

from qurate.cli import main  # noqa: E402


def _run(argv: list[str]) -> int:
    try:
        main(argv)
    except SystemExit as e:
        return int(e.code or 0)
    return 0


@pytest.fixture
def threads():
    """The caller's own torch thread count (3: neither the default nor an engine's 1)."""
    before = torch.get_num_threads()
    torch.set_num_threads(3)
    yield 3
    torch.set_num_threads(before)


def test_an_engine_computes_on_its_threads_and_leaves_the_callers(threads):
    from qurate.llm import EngineConfig, GenParams, load_engine
    from qurate.llm.testing import cached_tiny_chat_model

    engine = load_engine(EngineConfig(model=str(cached_tiny_chat_model()), device="cpu"))
    seen = []
    model = engine.model
    hook = model.register_forward_pre_hook(lambda *_: seen.append(torch.get_num_threads()))
    try:
        torch.manual_seed(7)
        rng = torch.get_rng_state()
        chat = [{"role": "user", "content": "Rate it 0-5."}]
        engine.choice_probs([chat], list("012345"))
        engine.generate([chat], GenParams(max_tokens=3, temperature=1.0, seed=1))
    finally:
        hook.remove()
        engine.close()
    assert seen and set(seen) == {1}  # engine.cpu_threads (default 1) while it computes
    assert torch.get_num_threads() == threads  # was 1 for the rest of the process
    assert torch.equal(torch.get_rng_state(), rng)  # generate reseeded the caller's RNG


def _nothing(data, rank: int = 0, world_size: int = 1):
    return data


def test_a_task_run_in_this_process_leaves_the_environment(tmp_path, monkeypatch):
    from qurate.contract.executors import ExecutorConfig, make_executor, run_executor

    monkeypatch.setenv("DATATROVE_EXECUTOR", "mine")  # the caller's own, kept
    before = dict(os.environ)
    ex = make_executor([_nothing], ExecutorConfig(workers=1), tasks=1, logging_dir=tmp_path,
                       job_name="t")  # fmt: skip
    run_executor(ex)
    assert (tmp_path / "completions" / "00000").is_file()  # the task ran here
    assert dict(os.environ) == before  # DATATROVE_NODE_RANK, _CPUS_PER_TASK ... were left set


def test_a_command_leaves_the_exception_hook(tmp_path):
    hook = sys.excepthook
    assert _run(["train", "plan", "--params", "7e9", "--tokens", "2T"]) == 0
    assert _run(["stats", str(tmp_path / "missing")]) == 2
    assert sys.excepthook is hook  # Typer installed its own on every call


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """Shards of word salad and a 300-token BPE trained on them."""
    import random

    from qurate.contract.shards import ShardWriter, write_manifest
    from qurate.train.api import train_tokenizer

    d = tmp_path_factory.mktemp("long")
    words = "the cat sat on a mat while data engineers curate corpora ; 1 2 + = def ( )".split()
    rng = random.Random(0)
    with ShardWriter(d / "data") as w:
        for i in range(80):
            w.write({"id": f"d{i}", "text": " ".join(rng.choices(words, k=rng.randint(5, 40)))})
    write_manifest(d / "data", stage="t", config_hash="t", inputs=[], n_in=80, n_kept=80,
                   rejected_by_reason={})  # fmt: skip
    return d / "data", train_tokenizer(d / "data", d / "tok", vocab_size=300)


def _train(data, tok, out, *more: str) -> int:
    return _run(["train", "--data", str(data), "-o", str(out), "--preset", "tiny",
                 "--tokenizer", str(tok), "--max-steps", "2", "--seq-len", "32",
                 "--micro-batch-size", "2", "--batch-tokens", "64", "--lr", "1e-3", *more])  # fmt: skip


def test_training_twice_in_one_process_leaves_the_callers_rng(corpus, tmp_path):
    import json
    import random

    import numpy as np

    data, tok = corpus
    assert _train(data, tok, tmp_path / "a") == 0  # first: its imports draw from `random`
    torch.manual_seed(123)
    np.random.seed(123)
    random.seed(123)
    expected = (torch.rand(3), np.random.rand(3), random.random())
    torch.manual_seed(123)
    np.random.seed(123)
    random.seed(123)
    # a resumed run restores the numpy and Python RNGs of its checkpoint
    assert _train(data, tok, tmp_path / "a", "--resume", "--max-steps", "3") == 0
    assert _train(data, tmp_path / "missing-tokenizer", tmp_path / "bad") == 2  # fails ...
    assert _train(data, tok, tmp_path / "b") == 0  # ... and the next call is unharmed
    got = (torch.rand(3), np.random.rand(3), random.random())
    assert torch.equal(got[0], expected[0])  # train's torch.manual_seed(cfg.seed) stayed
    assert np.array_equal(got[1], expected[1]) and got[2] == expected[2]

    def losses(run):
        return [json.loads(line)["loss"] for line in (run / "metrics.jsonl").open()
                if '"loss"' in line]  # fmt: skip

    assert (
        losses(tmp_path / "a")[:2] == losses(tmp_path / "b") != []
        and len(losses(tmp_path / "a")) == 3
    )


def test_token_count_memos_stay_bounded_across_tokenizers(corpus, tmp_path):
    from qurate.contract import token_counts

    _, tok = corpus
    spec = (tok / "tokenizer.json").read_text()
    for i in range(10):  # ten distinct files: a space more each time
        path = tmp_path / f"tok{i}.json"
        path.write_text(spec + " " * i)
        assert token_counts.TokenCounter(path).count(["the cat sat on a mat"]) == [
            token_counts.TokenCounter(tok / "tokenizer.json").count(["the cat sat on a mat"])[0]
        ]
    assert len(token_counts._MEMOS) <= 4  # was one more per tokenizer, for good
