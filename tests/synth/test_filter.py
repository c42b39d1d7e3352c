"""``filter_samples`` end to end: every reject reason, reward + selection, dedup against
itself and the real pool, decontamination, and the shard contract of what is kept."""

from __future__ import annotations

import json
import math

import pytest

from qurate.contract.shards import ShardWriter, iter_rows, read_manifest, write_manifest
from qurate.synth.config import FilterConfig
from qurate.synth.filter import filter_samples
from qurate.synth.sandbox import SandboxLimits

FAST_SANDBOX = SandboxLimits(timeout_s=1.5, memory_mb=256, max_processes=4, workers=2)
BENCH_TEXT = (
    "A train leaves the station at noon travelling at sixty miles per hour toward a city "
    "two hundred miles away while a second train leaves the city"
)
POOL_TEXT = (
    "Compute the derivative of x squared plus three x.\n\nThe derivative of x^2 + 3x is "
    r"2x + 3, so the answer is \boxed{2x+3}."
)


def _s(i, task, prompt, response, **kw):
    return {"id": f"s{i}", "task": task, "prompt": prompt, "response": response, **kw}


SAMPLES = [
    _s(0, "math", "What is 2+2?", r"2+2 = \boxed{4}", reference="4"),
    _s(1, "math", "What is 2+2?", r"2+2 = \boxed{5}", reference="4"),
    _s(2, "math", "What is 2+2?", "it is four", reference="4"),
    _s(3, "math", "What is 3+3?", r"\boxed{6}", reference=r"\frac{"),
    # no reference: majority vote over the three samples of this prompt
    _s(4, "math", "Half of 9?", r"so \boxed{4.5}"),
    _s(5, "math", "Half of 9?", r"that is \boxed{\frac{9}{2}}"),
    _s(6, "math", "Half of 9?", r"\boxed{4}"),
    _s(
        7,
        "code",
        "Write sq.",
        "```python\ndef sq(x):\n    return x * x\n```",
        tests="assert sq(3) == 9",
    ),
    _s(
        8,
        "code",
        "Write sq.",
        "```python\ndef sq(x):\n    return x + x\n```",
        tests="assert sq(3) == 9",
    ),
    _s(
        9,
        "code",
        "Write sq.",
        "def sq(x):\n    while True:\n        pass\n",
        tests="assert sq(1) == 1",
    ),
    _s(10, "code", "Write sq.", "```python\ndef sq(x): return x*x\n```"),
    _s(11, "knowledge", "", "Photosynthesis turns light energy into chemical energy in plants."),
    _s(12, "knowledge", "", "  "),
    _s(13, "poetry", "x", "y"),
    _s(14, "math", "", r"\boxed{1}", reference="1"),
    # an exact copy (up to case and spacing) of sample 0, and one of the real pool
    _s(15, "math", "What is  2+2?", r"2+2 = \boxed{4}", reference="4"),
    _s(
        16,
        "math",
        "Compute the derivative of x squared plus three x.",
        r"The derivative of x^2 + 3x is 2x + 3, so the answer is \boxed{2x+3}.",
        reference="2x+3",
    ),
    _s(17, "math", f"{BENCH_TEXT}. When do they meet?", r"\boxed{2}", reference="2"),
]
EXPECTED = {
    "s1": "verify_failed",
    "s2": "no_final_answer",
    "s3": "unparseable_reference",
    "s6": "verify_failed",
    "s8": "verify_failed",
    "s9": "verify_failed",
    "s10": "no_tests",
    "s12": "empty_output",
    "s13": "malformed_sample",
    "s14": "malformed_sample",
    "s15": "duplicate",
    "s16": "duplicate",
    "s17": "contaminated",
}


@pytest.fixture
def pool(tmp_path):
    d = tmp_path / "pool"
    with ShardWriter(d) as w:
        w.write({"id": "web-7", "text": POOL_TEXT, "synthetic": False})
        w.write(
            {
                "id": "web-8",
                "text": "Unrelated text about the weather in spring.",
                "synthetic": False,
            }
        )
    write_manifest(d, stage="curate", config_hash="t", inputs=[], n_in=2, n_kept=2,
                   rejected_by_reason={})  # fmt: skip
    return d


@pytest.fixture
def bench(tmp_path):
    p = tmp_path / "bench.jsonl"
    p.write_text(json.dumps({"id": "gsm-17", "question": BENCH_TEXT}) + "\n")
    return p


def _cfg(pool, bench, **kw):
    return FilterConfig(
        pool=[str(pool)],
        benchmarks=[str(bench)],
        decontam={"text_field": "question"},
        sandbox=FAST_SANDBOX,
        **kw,
    )


def test_every_sample_is_kept_or_rejected_with_its_reason(tmp_path, pool, bench, capfd):
    out = tmp_path / "out"
    r = filter_samples(SAMPLES, out, _cfg(pool, bench))
    n_code = sum(s["task"] == "code" for s in SAMPLES)
    bar = [x for x in capfd.readouterr().err.splitlines() if x.startswith("code tests")]
    assert bar and "samples/s" in bar[-1] and "ETA" in bar[-1], bar  # the sandbox's bar
    done, total = next(t for t in bar[-1].split() if "/" in t and t[0].isdigit()).split("/")
    assert done == total and 0 < int(total) <= n_code, bar  # every live code sample, settled
    kept = list(iter_rows(out))
    rejects = {x["id"]: x for x in iter_rows(out, rejects=True)}
    assert r.n_in == len(SAMPLES) == len(kept) + len(rejects)
    assert {k: v["reject_reason"] for k, v in rejects.items()} == EXPECTED
    assert sorted(x["id"] for x in kept) == ["s0", "s11", "s4", "s5", "s7"]
    assert rejects["s15"]["reject_detail"] == "s0" and rejects["s16"]["reject_detail"] == "web-7"
    assert rejects["s17"]["reject_detail"] == "gsm-17"
    assert "timeout" in rejects["s9"]["reject_detail"]
    assert all(x["stage"] == "synth_filter" for x in rejects.values())
    m = read_manifest(out)
    assert m["counts"]["kept"] == 5 and m["counts"]["rejected"] == len(EXPECTED)
    assert m["sandbox"]["audit_hook"] is True


def test_kept_documents_follow_the_contract(tmp_path, pool, bench):
    out = tmp_path / "out"
    filter_samples(SAMPLES, out, _cfg(pool, bench))
    docs = {x["id"]: x for x in iter_rows(out)}
    assert all(d["synthetic"] is True for d in docs.values())
    assert {d["domain"] for d in docs.values()} == {"math", "code", "education"}
    assert docs["s0"]["text"] == "What is 2+2?\n\n2+2 = \\boxed{4}"
    assert docs["s11"]["text"].startswith("Photosynthesis")  # knowledge: the rewrite alone
    prov = json.loads(docs["s4"]["provenance"])
    assert prov["verified"] is True and prov["answer"] == "4.5" and prov["reward"] == 1.0
    assert json.loads(docs["s11"]["provenance"])["verified"] is None
    assert docs["s0"]["n_tokens"] > 0 and docs["s0"]["n_chars"] == len(docs["s0"]["text"])
    meta = json.loads(docs["s7"]["meta"])
    assert meta["task"] == "code" and meta["tests"] == "assert sq(3) == 9"


def test_reward_model_scores_and_best_of_n(tmp_path, tiny_rm, capfd):
    samples = [
        _s(
            i,
            "knowledge",
            "Rewrite: water",
            f"Fact number {i}: water boils at {90 + i} degrees at some pressure.",
        )
        for i in range(4)
    ] + [
        _s(9, "math", "1+1?", r"\boxed{2}", reference="2"),
        _s(10, "math", "1+1?", r"\boxed{3}", reference="2"),
    ]
    cfg = FilterConfig(reward={"rm": str(tiny_rm), "device": "cpu"}, top_k=1, sandbox=FAST_SANDBOX)
    out = tmp_path / "rm"
    filter_samples(samples, out, cfg)
    assert any(x.startswith("rm ") and "5/5" in x for x in capfd.readouterr().err.splitlines())
    kept = {x["id"]: x for x in iter_rows(out)}
    rej = {x["id"]: x for x in iter_rows(out, rejects=True)}
    prov = {k: json.loads(x["provenance"]) for k, x in {**kept, **rej}.items()}
    know = ["s0", "s1", "s2", "s3"]  # one prompt group: four rewrites of one passage
    assert all(isinstance(prov[k]["rm_score"], float) for k in know)
    best = max(know, key=lambda k: prov[k]["reward"])
    assert sorted(kept) == sorted([best, "s9"])  # best-of-n per prompt
    assert {rej[k]["reject_reason"] for k in know if k != best} == {"not_top_k"}
    assert rej["s10"]["reject_reason"] == "verify_failed"  # failed samples are never scored
    s9 = prov["s9"]
    assert s9["reward"] == pytest.approx(1 / (1 + math.exp(-0.5 * s9["rm_score"])), rel=1e-6)
    assert kept["s9"]["scores"]["rm_score"] == pytest.approx(s9["rm_score"], rel=1e-5)


def test_threshold_rejects_low_reward(tmp_path):
    samples = [
        _s(0, "math", "1+1?", r"\boxed{2}", reference="2"),
        _s(1, "math", "1+2?", r"\boxed{2}", reference="3"),
    ]
    out = tmp_path / "t"
    r = filter_samples(
        samples, out, FilterConfig(verify=True, min_reward=0.5, sandbox=FAST_SANDBOX)
    )
    assert r.kept == 1 and r.rejected == {"verify_failed": 1}
    r = filter_samples(samples, out, FilterConfig(verify=False, min_reward=0.5), overwrite=True)
    assert r.kept == 0 and r.rejected == {"low_reward": 2}  # no reward at all: below any threshold
    assert len(list(iter_rows(out, rejects=True))) == 2  # rerun replaced the old output


def test_reads_jsonl_and_parquet_files(tmp_path):
    p = tmp_path / "in.jsonl"
    p.write_text("\n".join(json.dumps(s) for s in SAMPLES[:3]) + "\n")
    r = filter_samples(p, tmp_path / "o", FilterConfig(sandbox=FAST_SANDBOX))
    assert (r.n_in, r.kept) == (3, 1)
    ids = {x["id"] for x in iter_rows(tmp_path / "o", rejects=True)}
    assert ids == {"s1", "s2"}


@pytest.mark.parametrize(
    ("tests", "detail"),
    [
        ("print(sq(2))", "check nothing"),
        ("def test_sq():\n    sq(2)\n", "check nothing"),
        ("result = sq(2) == 4\n", "check nothing"),  # computed, never checked
        ("assert sq(2) ==\n", "do not parse"),
    ],
)
def test_tests_that_cannot_fail_do_not_verify(tests, detail):
    # Before: a wrong response "passed" tests that assert nothing and was kept as verified
    # (and became the chosen side of a DPO pair); a syntax error in the tests was blamed on
    # the response as verify_failed.
    from qurate.synth.sandbox import SandboxLimits
    from qurate.synth.verify_code import verify_code

    wrong = {"response": "def sq(x):\n    return x + 1\n", "tests": tests}
    (v,) = verify_code([wrong], SandboxLimits())
    assert v.verified is None and v.reason == "no_tests" and detail in v.detail


def test_tests_that_raise_or_exit_on_a_wrong_answer_do_verify():
    from qurate.synth.sandbox import SandboxLimits
    from qurate.synth.verify_code import verify_code

    tests = "if sq(3) != 9:\n    raise SystemExit(1)\n"
    right = {"response": "def sq(x):\n    return x * x\n", "tests": tests}
    wrong = {
        "response": "def sq(x):\n    return x + 6\n",
        "tests": "import sys\nsys.exit(sq(2) != 4)\n",
    }
    got = verify_code([right, wrong], SandboxLimits())
    assert [v.verified for v in got] == [True, False]
