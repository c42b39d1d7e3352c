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
