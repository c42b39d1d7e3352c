"""`qurate curate` end to end: every document accounted for, reruns, resume, executors."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from qurate.contract.executors import ExecutorConfig
from qurate.contract.shards import iter_rows, read_manifest
from qurate.curate.config import CurateConfig
from qurate.curate.pipeline import curate
from qurate.errors import BadInputError

LOCAL = ExecutorConfig(workers=1)


def outcome(out: Path) -> tuple[dict, dict]:
    kept = {r["id"]: r for r in iter_rows(out)}
    rejected = {r["id"]: r for r in iter_rows(out, rejects=True)}
    return kept, rejected


def test_curate_accounts_for_every_document(corpus, tmp_path: Path):
    out = tmp_path / "out"
    result = curate(
        corpus["files"],
        out,
        CurateConfig(),
        executor=LOCAL,
        decontaminate=[corpus["benchmark"]],
        progress=False,
    )
    kept, rejected = outcome(out)
    counts = result.manifest["counts"]
    assert counts["in"] == corpus["n"] == len(kept) + len(rejected)
    assert counts["kept"] == len(kept) and counts["rejected"] == len(rejected)
    assert sum(counts["rejected_by_reason"].values()) == len(rejected)

    assert {"en0", "en1", "en2", "en3", "en5", "zh0"} <= set(kept)
    assert kept["zh0"]["lang"] == "zh" and kept["en0"]["lang"] == "en"
    assert kept["en0"]["n_chars"] == len(kept["en0"]["text"])
    assert kept["en0"]["source"] == "encyclopedia"

    assert rejected["exact-copy"]["reject_reason"] == "duplicate"
    assert rejected["exact-copy"]["reject_detail"] == "en0"
    assert rejected["near-copy"]["reject_reason"] == "duplicate"
    assert rejected["near-copy"]["reject_detail"] == "en1"
    assert rejected["contaminated"]["reject_reason"] == "contaminated"
    assert rejected["contaminated"]["reject_detail"] == "gsm8k-0"
    assert rejected["blank"]["reject_reason"] == "empty"
    assert {rejected["spam"]["reject_reason"], rejected["short"]["reject_reason"]}.isdisjoint(
        {"duplicate", None}
    )
    broken = [r for r in rejected.values() if r["reject_reason"] == "malformed_json"]
    assert len(broken) == 1 and "c.jsonl:4" in broken[0]["reject_detail"]
    assert all(r["stage"] for r in rejected.values())
    assert (out / "stats").is_dir() and any((out / "stats").iterdir())


def test_rerun_is_a_noop_and_other_config_is_refused(corpus, tmp_path: Path):
    out = tmp_path / "out"
    curate(corpus["files"], out, CurateConfig(), executor=LOCAL, progress=False)
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*.parquet")}
    again = curate(corpus["files"], out, CurateConfig(), executor=LOCAL, progress=False)
    assert again.skipped
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*.parquet")} == before
    with pytest.raises(BadInputError, match="different finished run"):
        curate(corpus["files"], out, CurateConfig(max_chars=10), executor=LOCAL, progress=False)


def test_failed_run_resumes_without_redoing_finished_tasks(corpus, tmp_path: Path, monkeypatch):
    import qurate.readers.inputs as inputs

    files = list(corpus["files"])
    bad = corpus["dir"] / "d.jsonl.gz"
    good_bytes = gzip.compress(b'{"id": "late", "text": "A late arrival."}\n')
    bad.write_bytes(good_bytes)
    files.append(bad)
    out = tmp_path / "out"
    real_lines = inputs.iter_lines

    def failing_disk(path):  # the task reading d.jsonl.gz hits an I/O error
        if path.endswith("d.jsonl.gz"):
            raise OSError(5, "Input/output error")
        return real_lines(path)

    monkeypatch.setattr(inputs, "iter_lines", failing_disk)
    with pytest.raises(BadInputError, match="d.jsonl.gz"):
        curate(files, out, CurateConfig(), executor=LOCAL, progress=False)
    monkeypatch.setattr(inputs, "iter_lines", real_lines)
    done = sorted((out / ".work" / "logs" / "1-filter" / "completions").iterdir())
    assert [p.name for p in done] == ["00000", "00001", "00002"]
    stamps = {p.name: p.stat().st_mtime_ns for p in done}

    # the disk is fixed and the user reruns
    result = curate(files, out, CurateConfig(), executor=LOCAL, progress=False)
    after = {
        p.name: p.stat().st_mtime_ns
        for p in (out / ".work" / "logs" / "1-filter" / "completions").iterdir()
    }
    assert {k: after[k] for k in stamps} == stamps  # finished tasks were not redone
    assert result.manifest["counts"]["in"] == corpus["n"] + 1
    kept, rejected = outcome(out)
    assert "late" in kept or "late" in rejected


def test_ray_executor_keeps_the_same_documents(corpus, tmp_path: Path):
    pytest.importorskip("ray")
    import ray

    local = curate(
        corpus["files"], tmp_path / "local", CurateConfig(), executor=LOCAL, progress=False
    )
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        remote = curate(
            corpus["files"],
            tmp_path / "ray",
            CurateConfig(),
            executor=ExecutorConfig(kind="ray", workers=2),
            progress=False,
        )
    finally:
        ray.shutdown()
    assert set(outcome(tmp_path / "ray")[0]) == set(outcome(tmp_path / "local")[0])
    assert remote.manifest["counts"] == local.manifest["counts"]
    assert read_manifest(tmp_path / "ray")["executor"] == "ray"


def test_manifest_records_counts_by_language(corpus, tmp_path: Path):
    out = tmp_path / "out"
    curate(corpus["files"][:1], out, CurateConfig(), executor=LOCAL, progress=False)
    m = json.loads((out / "manifest.json").read_text())
    assert m["by_lang"]["zh"]["docs"] == 1
    assert m["by_lang"]["en"]["chars"] == sum(
        len(r["text"]) for r in iter_rows(out) if r["lang"] == "en"
    )
    assert m["schema_version"] == "2" and m["config_hash"]


def _fake_slurm(bin_dir: Path, queued: str) -> Path:
    """``sbatch`` that hands out increasing job ids; ``squeue`` that prints ``queued``."""
    bin_dir.mkdir(exist_ok=True)
    counter = bin_dir / "next-id"
    counter.write_text("100")
    (bin_dir / "sbatch").write_text(
        f"#!/bin/sh\ncat >/dev/null\nn=$(cat {counter}); echo $((n+1)) > {counter}\n"
        'echo "Submitted batch job $n"\n'
    )
    (bin_dir / "squeue").write_text(f"#!/bin/sh\nprintf '{queued}'\n")
    for name in ("sbatch", "squeue"):
        (bin_dir / name).chmod(0o755)
    return bin_dir


def test_slurm_rerun_while_jobs_run_is_refused_not_resubmitted(corpus, tmp_path, monkeypatch):
    slurm = ExecutorConfig(kind="slurm", tasks=2, slurm={"partition": "cpu"})
    bin_dir = _fake_slurm(tmp_path / "bin", queued="")
    monkeypatch.setenv("PATH", f"{bin_dir}:{__import__('os').environ['PATH']}")
    out = tmp_path / "out"
    first = curate(corpus["files"], out, CurateConfig(), executor=slurm, progress=False)
    assert first.submitted
    ids = json.loads((out / ".work" / "slurm-jobs.json").read_text())["job_ids"]
    assert len(ids) >= 4 and len(set(ids)) == len(ids)
    # Two of the earlier arrays still in the queue (one shown as array tasks): refused.
    _fake_slurm(bin_dir, queued=f"{ids[1]}_[3-5]\\n{ids[-1]}\\n")
    with pytest.raises(BadInputError, match=f"Slurm jobs {ids[1]}, {ids[-1]} .* still queued"):
        curate(corpus["files"], out, CurateConfig(), executor=slurm, progress=False)
    # Once the queue no longer holds them, a rerun submits again.
    _fake_slurm(bin_dir, queued="")
    again = curate(corpus["files"], out, CurateConfig(), executor=slurm, progress=False)
    assert again.submitted


def _counters(path: Path) -> list:
    """A stats file's counters, without its timings."""
    return [s.get("stats") for s in json.loads(path.read_text())]


def test_a_resumed_run_keeps_every_tasks_step_stats(corpus, tmp_path: Path):
    """datatrove merges per-task stats into ``stats.json`` only for the tasks run by that
    call, and writes none when every task had finished: a curate killed after its dedup
    tasks finished lost ``stats/2-dedup-0.json`` (bench/kill_sweep.py), and one resumed
    after some filter tasks counted only the others."""
    files = corpus["files"]
    curate(files, tmp_path / "ref", CurateConfig(), executor=LOCAL, progress=False)
    out = tmp_path / "out"
    done = curate(files, out, CurateConfig(), executor=LOCAL, progress=False).manifest
    # back to a run killed before its last step: the merged stats of one step never written,
    # another's from a resume that ran one task of three
    logs = out / ".work" / "logs"
    for p in [out / "manifest.json", *(out / "stats").iterdir(), *logs.glob("4-*/completions/*")]:
        p.unlink()
    (logs / "2-dedup-0" / "stats.json").unlink()
    (logs / "1-filter" / "stats.json").write_text((logs / "1-filter/stats/00002.json").read_text())
    marker = {"stage": "curate", "fingerprint": done["fingerprint"], "pid": 1}
    (out / ".qurate-run.json").write_text(json.dumps(marker))

    curate(files, out, CurateConfig(), executor=LOCAL, progress=False)
    ref = sorted((tmp_path / "ref" / "stats").iterdir())
    assert [p.name for p in ref] == sorted(p.name for p in (out / "stats").iterdir())
    assert "2-dedup-0.json" in [p.name for p in ref]
    for p in ref:
        assert _counters(out / "stats" / p.name) == _counters(p), p.name
