"""score apply with perplexity: per-language percentiles (two passes), absolute mapping, and
the combination of components into ``quality``."""

from __future__ import annotations

import numpy as np
import pytest

from qurate.contract.shards import ShardWriter, iter_rows, write_manifest
from qurate.errors import BadInputError
from qurate.score.apply import STAGING, combine, percentile_by_group
from qurate.score.config import ScoreConfig


def test_percentiles_rank_within_each_group_and_pool_small_groups():
    v = np.array([1.0, 3.0, 2.0, np.nan, 10.0, 20.0, 30.0, 40.0, 5.0, 2.0, 2.0])
    g = np.array(["a", "a", "a", "a", "b", "b", "b", "b", "c", "a", "d"])
    p = percentile_by_group(v, g, min_group=3)
    # a: 1, 3, 2, 2 (NaN left out) -> the two 2s share the mean rank
    np.testing.assert_allclose(p[[0, 1, 2, 9]], [0.125, 0.875, 0.5, 0.5])
    assert np.isnan(p[3])
    # b is ranked on its own: its lowest value is at the bottom despite being above all of a
    np.testing.assert_allclose(p[[4, 5, 6, 7]], [0.125, 0.375, 0.625, 0.875])
    # c and d have one value each: ranked together (2 < 5)
    np.testing.assert_allclose(p[[10, 8]], [0.25, 0.75])


def test_combine_is_a_weighted_mean_over_the_components_a_document_has():
    q = combine(
        {"rater": np.array([0.2, 0.4, np.nan]), "perplexity": np.array([0.8, np.nan, np.nan])},
        {"rater": 1.0, "perplexity": 3.0},
    )
    np.testing.assert_allclose(q[:2], [(0.2 + 3 * 0.8) / 4, 0.4])
    assert np.isnan(q[2])


TEXTS = {
    "en": [
        "The cat sat on the mat and looked out of the window at the rain.",
        "Water boils at one hundred degrees Celsius at sea level.",
        "cat the mat on sat window rain the of out at looked and the",
        "The library opens at nine and closes at five on weekdays.",
    ],
    "pl": [
        "Kot siedział na macie i patrzył przez okno na deszcz.",
        "Woda wrze w temperaturze stu stopni Celsjusza.",
        "macie kot na okno deszcz siedział przez i patrzył na",
        "Biblioteka jest otwarta od dziewiątej do piątej.",
    ],
}


@pytest.fixture()
def stage(tmp_path):
    rows = [
        {"id": f"{lang}{i}", "text": t, "lang": lang, "source": "s"}
        for lang, ts in TEXTS.items()
        for i, t in enumerate(ts)
    ]
    with ShardWriter(tmp_path / "in", rows_per_shard=3) as w:
        for r in rows:
            w.write(r)
    write_manifest(
        tmp_path / "in",
        stage="curate",
        config_hash="x",
        inputs=[],
        n_in=len(rows),
        n_kept=len(rows),
        rejected_by_reason={},
    )
    return tmp_path


def _config(batch_size: int) -> ScoreConfig:
    from qurate.llm.testing import cached_tiny_chat_model

    cfg = ScoreConfig()
    cfg.perplexity.model = str(cached_tiny_chat_model())
    cfg.perplexity.device = "cpu"
    cfg.perplexity.min_language_docs = 2
    cfg.apply.batch_size = batch_size  # several batches: pass 2 must realign them
    return cfg


def test_perplexity_quality_is_the_percentile_within_the_language(stage):
    pytest.importorskip("torch")
    from qurate.score.apply import apply

    cfg = _config(batch_size=3)
    cfg.apply.keep_threshold = 0.3
    m = apply(stage / "in", stage / "out", None, cfg, perplexity=True)
    kept = list(iter_rows(stage / "out"))
    rejected = list(iter_rows(stage / "out", rejects=True))
    assert m["counts"]["in"] == 8 == len(kept) + len(rejected)
    assert not (stage / "out" / STAGING).exists()
    rows = {r["id"]: r for r in kept + rejected}
    for lang in TEXTS:
        mine = sorted((r for r in rows.values() if r["lang"] == lang), key=lambda r: r["id"])
        ppl = np.array([r["scores"]["perplexity"] for r in mine])
        q = np.array([r["quality"] for r in mine])
        # quality is the mid-rank percentile of -perplexity among this language's documents
        want = (np.argsort(np.argsort(-ppl)) + 0.5) / len(mine)
        np.testing.assert_allclose(q, want, rtol=1e-6)
    # the lowest quarter of each language (0.125 < 0.3) went to rejects, with the reason
    assert len(rejected) == 2 and {r["lang"] for r in rejected} == {"en", "pl"}
    assert all(r["reject_reason"] == "low_quality" for r in rejected)
    table = m["perplexity"]["by_language"]
    assert set(table) == {"en", "pl"} and all(t["n"] == 4 for t in table.values())
    assert table["en"]["p10"] <= table["en"]["p50"] <= table["en"]["p90"]


def test_absolute_normalisation_maps_perplexity_in_one_pass(stage):
    pytest.importorskip("torch")
    from qurate.score.apply import apply
    from qurate.score.perplexity import quality_from_perplexity

    cfg = _config(batch_size=3)
    cfg.perplexity.normalize = "absolute"
    cfg.perplexity.pivot = 1000.0
    apply(stage / "in", stage / "out", None, cfg, perplexity=True)
    rows = list(iter_rows(stage / "out"))
    ppl = np.array([r["scores"]["perplexity"] for r in rows])
    want = quality_from_perplexity(ppl, 1000.0, cfg.perplexity.scale)
    np.testing.assert_allclose([r["quality"] for r in rows], want, rtol=1e-5)


def test_cli_apply_with_perplexity_prints_the_per_language_table(stage, capsys):
    pytest.importorskip("torch")
    from qurate.cli import main
    from qurate.llm.testing import cached_tiny_chat_model

    cfg = stage / "score.yaml"
    cfg.write_text("score:\n  perplexity: {device: cpu, min_language_docs: 2}\n")
    args = ["score", "apply", str(stage / "in"), "-o", str(stage / "out"), "-c", str(cfg)]
    with pytest.raises(SystemExit) as e:
        main([*args, "--perplexity", str(cached_tiny_chat_model())])
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert "scored 8 documents" in out and "perplexity by language" in out
    assert all(r["quality"] is not None for r in iter_rows(stage / "out"))


@pytest.mark.parametrize("normalize", ["language", "absolute"])
def test_tasks_split_the_shards_and_score_exactly_as_one_task(stage, normalize):
    """Two tasks on the local executor (separate processes, each loading its own model)
    give every document the quality one task gives it; per-language percentiles are still
    taken over the whole input, not per task."""
    pytest.importorskip("torch")
    from qurate.score.apply import PARTS, apply

    def run(tasks: int, out: str) -> tuple[dict, dict, dict]:
        cfg = _config(batch_size=2)
        cfg.perplexity.normalize = normalize
        cfg.perplexity.pivot = 1000.0
        cfg.apply.keep_threshold = 0.3 if normalize == "language" else 0.5
        cfg.apply.tasks = tasks
        m = apply(stage / "in", stage / out, None, cfg, perplexity=True)
        kept = {r["id"]: r["quality"] for r in iter_rows(stage / out)}
        rejected = {r["id"]: r["quality"] for r in iter_rows(stage / out, rejects=True)}
        return m, kept, rejected

    m1, kept1, rej1 = run(1, "one")
    m2, kept2, rej2 = run(2, "two")
    assert m2["tasks"] == 2 and m1["tasks"] == 1
    assert m2["counts"] == m1["counts"] and m2["counts"]["in"] == 8 == len(kept2) + len(rej2)
    assert kept2.keys() == kept1.keys() and rej2.keys() == rej1.keys() and rej2
    for got, want in ((kept2, kept1), (rej2, rej1)):
        np.testing.assert_allclose([got[k] for k in want], list(want.values()), rtol=1e-5)
    names = [p.name for p in (stage / "two").rglob("*.parquet")]  # kept and rejects
    assert {n[:10] for n in names} == {"part-00000", "part-00001"}  # one set per task
    assert not (stage / "two" / PARTS).exists() and not (stage / "two" / STAGING).exists()
    if normalize == "language":
        assert m2["perplexity"]["by_language"] == m1["perplexity"]["by_language"]


def test_a_failed_task_resumes_without_redoing_the_finished_ones(stage):
    """Task 1 of 2 fails on an unreadable shard; once the shard is back, the rerun skips
    task 0's finished pass and ends where a clean run ends. A rerun after that is a no-op."""
    pytest.importorskip("torch")
    from qurate.contract.executors import ExecutorConfig
    from qurate.errors import BadInputError
    from qurate.score.apply import PARTS
    from qurate.score.apply import apply as apply_

    def apply(*args, **kw):  # one task at a time: task 0 has finished when task 1 fails
        return apply_(*args, **kw, executor=ExecutorConfig(workers=1))

    cfg = _config(batch_size=2)
    cfg.apply.tasks = 2
    shard = sorted((stage / "in").glob("part-*.parquet"))[1]  # task 1's only shard
    good = shard.read_bytes()
    shard.write_bytes(b"\0" * len(good))  # same size: the same run once it is restored
    with pytest.raises(BadInputError, match="part-00001.parquet: not a readable Parquet"):
        apply(stage / "in", stage / "out", None, cfg, perplexity=True)
    staged0 = {p: p.stat().st_mtime_ns for p in (stage / "out" / STAGING).glob("part-00000-*")}
    assert staged0 and not list((stage / "out" / STAGING).glob("part-00001-*"))
    assert (stage / "out" / PARTS / "score-00000.json").exists()
    # what a killed attempt of task 1 could have left: it must not end up in the output
    leftover = stage / "out" / STAGING / "part-00001-00007.parquet"
    leftover.write_bytes(next(iter(staged0)).read_bytes())
    shard.write_bytes(good)
    m = apply(stage / "in", stage / "out", None, cfg, perplexity=True)
    # task 0's pass 1 was not redone (its staged rows are the first attempt's files) ...
    assert all(p.stat().st_mtime_ns == t for p, t in staged0.items() if p.exists())
    clean = apply(stage / "in", stage / "clean", None, cfg, perplexity=True)
    assert m["counts"] == clean["counts"] and m["counts"]["in"] == 8
    rows = {r["id"]: r["quality"] for r in iter_rows(stage / "out")}
    want = {r["id"]: r["quality"] for r in iter_rows(stage / "clean")}
    assert rows.keys() == want.keys()
    np.testing.assert_allclose([rows[k] for k in want], list(want.values()), rtol=1e-6)
    # ... and a finished run is not run again.
    shards = {p: p.stat().st_mtime_ns for p in (stage / "out").glob("*.parquet")}
    assert apply(stage / "in", stage / "out", None, cfg, perplexity=True)["created"] == m["created"]
    assert {p: p.stat().st_mtime_ns for p in (stage / "out").glob("*.parquet")} == shards


def test_a_run_killed_in_pass_two_does_not_score_again(stage, monkeypatch):
    """One task, per-language ranking: pass 1 (the perplexity) finished, then the run died;
    the rerun only ranks and writes."""
    pytest.importorskip("torch")
    from qurate.score import apply as scoring_apply

    cfg = _config(batch_size=2)

    def killed(job, rank):
        raise KeyboardInterrupt

    monkeypatch.setattr(scoring_apply, "_write_task", killed)
    with pytest.raises(KeyboardInterrupt):
        scoring_apply.apply(stage / "in", stage / "out", None, cfg, perplexity=True)
    monkeypatch.undo()
    calls = []
    real = scoring_apply.score_batch
    monkeypatch.setattr(
        scoring_apply, "score_batch", lambda *a, **k: calls.append(1) or real(*a, **k)
    )
    m = scoring_apply.apply(stage / "in", stage / "out", None, cfg, perplexity=True)
    assert calls == [] and m["counts"]["in"] == 8 == m["counts"]["kept"]
    assert all(r["quality"] is not None for r in iter_rows(stage / "out"))
    scoring_apply.apply(stage / "in", stage / "out", None, cfg, perplexity=True)
    assert calls == []  # finished: a no-op
    # The input stage rewritten in place (a new manifest): a new run, refused unless
    # overwrite is given (StageDir's policy), then scored from the start.
    write_manifest(stage / "in", stage="curate", config_hash="y", inputs=[], n_in=8, n_kept=8,
                   rejected_by_reason={})  # fmt: skip
    with pytest.raises(BadInputError, match="different finished run .* --overwrite"):
        scoring_apply.apply(stage / "in", stage / "out", None, cfg, perplexity=True)
    assert calls == []
    scoring_apply.apply(stage / "in", stage / "out", None, cfg, perplexity=True, overwrite=True)
    assert len(calls) == 4  # 8 documents in batches of 2
    cfg.apply.batch_size = 3  # another config: a new run too
    scoring_apply.apply(stage / "in", stage / "out", None, cfg, perplexity=True, overwrite=True)
    assert len(calls) == 4 + 3
