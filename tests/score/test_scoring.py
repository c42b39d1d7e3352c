"""annotate -> distill -> apply end to end on a tiny judge built in-test: stratified sample,
counts that add up, resume from the prompt cache, failures quarantined, bad input errors."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("torch")

from qurate.contract.shards import ShardWriter, count_rows, iter_rows, read_manifest, write_manifest  # noqa: E402
from qurate.errors import BadInputError  # noqa: E402
from qurate.llm.base import ChoiceResult  # noqa: E402
from qurate.llm.testing import cached_tiny_chat_model  # noqa: E402
from qurate.score.annotate import annotate, stratified_sample  # noqa: E402
from qurate.score.apply import apply  # noqa: E402
from qurate.score.config import ScoreConfig  # noqa: E402
from qurate.score.distill import distill  # noqa: E402

GOOD = [
    "Photosynthesis converts light energy into chemical energy stored in glucose molecules.",
    "The theorem follows by induction on n; the base case n = 1 is immediate and the step is routine.",
    "A compiler translates source code into machine code in phases: lexing, parsing and code generation.",
    "Volcanoes form where molten rock from deep inside the Earth reaches the surface along plate edges.",
]
JUNK = [
    "Buy now! Cheap watches, free shipping, best price, click here.",
    "lol ok see u tmrw haha whatever brb k bye",
    "Home | About | Contact | Login | Cart (0) | Next | Previous",
    "click click click free free free win win win now now now",
]


def _stage(path, n=48):
    rows = []
    for i in range(n):
        text = (GOOD if i % 2 == 0 else JUNK)[i // 2 % 4] + f" Item {i}."
        rows.append(
            {
                "id": f"d{i:03d}",
                "text": text,
                "lang": "en" if i % 3 else "fr",
                "source": f"s{i % 2}",
            }
        )
    with ShardWriter(path, rows_per_shard=20) as w:
        for r in rows:
            w.write(r)
    write_manifest(
        path, stage="curate", config_hash="x", inputs=[], n_in=n, n_kept=n, rejected_by_reason={}
    )
    return rows


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    base = tmp_path_factory.mktemp("score")
    _stage(base / "in")
    cfg = ScoreConfig()
    cfg.engine.model = str(cached_tiny_chat_model())
    cfg.engine.device = "cpu"
    cfg.annotate.sample = 40
    cfg.judge.max_doc_tokens = 48
    cfg.distill.train.epoch = 5
    cfg.distill.train.quantize = False  # quantisation is covered in test_raters; slow here
    cfg.distill.min_per_class = 2
    # The raters alone unless a test asks for more (perplexity and the reference classifier
    # are on by default; test_signals.py covers them).
    cfg.apply.perplexity = False
    cfg.distill.reference = []
    m = annotate(base / "in", base / "ann", cfg)
    return base, cfg, m


def test_stratified_sample_is_proportional_and_reproducible(tmp_path):
    _stage(tmp_path / "in", n=60)
    ids, pop = stratified_sample(tmp_path / "in", 30, seed=0)
    assert len(ids) == 30 and sum(pop.values()) == 60
    again, _ = stratified_sample(tmp_path / "in", 30, seed=0)
    assert ids == again and stratified_sample(tmp_path / "in", 30, seed=1)[0] != ids
    rows = {r["id"]: r for r in iter_rows(tmp_path / "in")}
    for key, n in pop.items():
        got = sum(1 for i in ids if f"{rows[i]['lang']}/{rows[i]['source']}" == key)
        assert abs(got - 30 * n / 60) < 1  # proportional within rounding


def test_annotate_writes_scores_domain_and_judge_metadata(run):
    base, cfg, m = run
    assert m["counts"]["in"] == 40 == m["counts"]["kept"] + m["counts"]["rejected"]
    rows = list(iter_rows(base / "ann"))
    assert len(rows) == m["counts"]["kept"]
    for r in rows:
        assert set(r["scores"]) == set(cfg.judge.rubrics)
        assert r["domain"] in cfg.judge.taxonomy and 0 <= r["quality"] <= 1
        judge = json.loads(r["meta"])["judge"]
        assert judge["rubrics"]["educational_value"] >= 1 and "truncated" in judge
    assert m["judge"]["model"] and m["throughput"]["tokens_per_s"] > 0


def test_a_rerun_resumes_from_the_prompt_cache(run):
    base, cfg, m = run
    # The same finished run again is a no-op (StageDir's policy): the manifest comes back.
    same = annotate(base / "in", base / "ann", cfg)
    assert (same["created"], same["counts"]) == (m["created"], m["counts"])
    # A run killed before its manifest restarts in place, and the prompt cache answers.
    (base / "ann" / "manifest.json").unlink()
    again = annotate(base / "in", base / "ann", cfg)
    # The 40 sampled documents and the judge check's shuffled copies all come from the cache.
    n_check = cfg.annotate.check_docs
    assert again["throughput"]["cached"] == 40 + n_check and again["throughput"]["docs"] == 0
    assert again["counts"] == m["counts"]


def test_a_failed_judgement_is_quarantined_with_its_reason(tmp_path, monkeypatch):
    from qurate.llm.hf import TransformersEngine

    real = TransformersEngine.choice_probs_grouped

    def flaky(self, groups, choices):
        out = real(self, groups, choices)
        out[0] = [ChoiceResult(error="generation failed: out of memory")] * len(choices)
        return out

    monkeypatch.setattr(TransformersEngine, "choice_probs_grouped", flaky)
    _stage(tmp_path / "in", n=6)
    cfg = ScoreConfig()
    cfg.engine.model, cfg.engine.device = str(cached_tiny_chat_model()), "cpu"
    m = annotate(tmp_path / "in", tmp_path / "ann", cfg)
    assert m["counts"]["rejected_by_reason"] == {"judge_failed": 1} and m["counts"]["kept"] == 5
    (bad,) = list(iter_rows(tmp_path / "ann", rejects=True))
    assert bad["reject_reason"] == "judge_failed" and "out of memory" in bad["reject_detail"]


def test_distill_then_apply(run):
    base, cfg, _ = run
    meta = distill(base / "ann", base / "models", cfg)
    m = meta["metrics"]
    assert set(m["dimensions"]) == set(cfg.judge.rubrics)
    for d in m["dimensions"].values():
        assert {"spearman", "f1", "kappa", "threshold"} <= set(d)
    names = sorted(p.name for p in (base / "models").iterdir())
    assert "raters.json" in names and "agreement.json" in names
    assert all(meta["dimensions"][d]["file"] in names for d in cfg.judge.rubrics)
    if meta["domain"]:
        assert "confusion" in m["domain"] and 0 <= m["domain"]["accuracy"] <= 1
    cfg.apply.keep_threshold = 0.5
    out = apply(base / "in", base / "scored", base / "models", cfg)
    c = out["counts"]
    assert c["in"] == 48 == c["kept"] + c["rejected"]
    assert count_rows(base / "scored") == c["kept"]
    rows = list(iter_rows(base / "scored")) + list(iter_rows(base / "scored", rejects=True))
    assert all(
        set(cfg.judge.rubrics) <= set(r["scores"]) and r["quality"] is not None for r in rows
    )
    assert all(r["quality"] >= 0.5 for r in iter_rows(base / "scored"))
    assert all(
        r["reject_reason"] == "low_quality" for r in iter_rows(base / "scored", rejects=True)
    )
    assert read_manifest(base / "scored")["throughput"]["mb_per_s"] > 0


def test_a_judge_that_failed_its_check_leaves_quality_to_the_other_signals(run, tmp_path):
    base, cfg, m = run
    check = m["judge_check"]
    assert check["n"] == cfg.annotate.check_docs and 0 <= check["reliability"] <= 1
    distill(base / "ann", tmp_path / "models", cfg)
    raters_json = tmp_path / "models" / "raters.json"
    meta = json.loads(raters_json.read_text())
    assert meta["judge_check"] == check  # distill carries the check to apply
    meta["judge_check"] = {"n": 16, "auc": 0.45, "reliability": 0.0}
    raters_json.write_text(json.dumps(meta))
    cfg = cfg.model_copy(deep=True)
    cfg.apply.check_docs = 0  # the judge check alone (signal checks: test_signals.py)
    cfg.perplexity.model, cfg.perplexity.device = str(cached_tiny_chat_model()), "cpu"
    cfg.perplexity.min_language_docs = 2
    out = apply(base / "in", tmp_path / "scored", tmp_path / "models", cfg, perplexity=True)
    assert out["weights"]["rater"] == 0.0 and out["weights"]["perplexity"] == 1.0
    rows = list(iter_rows(tmp_path / "scored"))
    for lang in ("en", "fr"):
        mine = [r for r in rows if r["lang"] == lang]
        by_ppl = sorted(mine, key=lambda r: -r["scores"]["perplexity"])
        assert [r["id"] for r in by_ppl] == [
            r["id"] for r in sorted(mine, key=lambda r: r["quality"])
        ]
    # With the raters as the only signal they keep their weight: there is nothing else.
    alone = apply(base / "in", tmp_path / "scored2", tmp_path / "models", cfg)
    assert alone["weights"]["rater"] == cfg.apply.rater_weight
    assert all(r["quality"] is not None for r in iter_rows(tmp_path / "scored2"))


def test_too_few_labels_per_class_is_a_one_line_error(run, tmp_path):
    base, cfg, _ = run
    rows = list(iter_rows(base / "ann"))[:5]
    for r in rows:
        r["scores"] = {"educational_value": 2.0}
    with ShardWriter(tmp_path / "few") as w:
        for r in rows:
            w.write(r)
    write_manifest(tmp_path / "few", stage="annotate", config_hash="t", inputs=[], n_in=5,
                   n_kept=5, rejected_by_reason={})  # fmt: skip
    with pytest.raises(BadInputError, match="too few labels per class"):
        distill(tmp_path / "few", tmp_path / "m", cfg)


def test_cli_reports_errors_in_one_line(tmp_path, capsys):
    from qurate.cli import main

    with pytest.raises(SystemExit) as e:
        main(
            [
                "score",
                "apply",
                str(tmp_path / "missing"),
                "-o",
                str(tmp_path / "o"),
                "--raters",
                str(tmp_path),
            ]
        )
    assert e.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "\n" not in err


def test_cli_apply_splits_the_shards_among_tasks(run, tmp_path, capsys):
    from qurate.cli import main

    base, cfg, _ = run
    distill(base / "ann", tmp_path / "models", cfg)
    args = ["score", "apply", str(base / "in"), "--raters", str(tmp_path / "models")]
    args.append("--no-perplexity")
    quality = {}
    for tasks in (1, 3):  # the input has 3 shards
        out = tmp_path / f"t{tasks}"
        with pytest.raises(SystemExit) as e:
            main([*args, "-o", str(out), "--tasks", str(tasks), "--keep-threshold", "0.5"])
        assert e.value.code == 0
        assert read_manifest(out)["tasks"] == tasks
        rows = list(iter_rows(out)) + list(iter_rows(out, rejects=True))
        assert len(rows) == 48
        quality[tasks] = {r["id"]: (r["quality"], r.get("reject_reason")) for r in rows}
    assert quality[3] == quality[1]
    # Slurm would run the passes asynchronously: refused with a one-line error.
    yml = tmp_path / "slurm.yaml"
    yml.write_text("executor: {kind: slurm, slurm: {partition: cpu}}\n")
    capsys.readouterr()
    with pytest.raises(SystemExit) as e:
        main([*args, "-o", str(tmp_path / "s"), "--tasks", "2", "-c", str(yml)])
    assert e.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: score.apply.tasks:") and "\n" not in err


def test_judge_in_tasks_scores_as_one_task(run, tmp_path):
    """With --judge, each task loads its own judge (the driver's is closed first) and keeps
    its own prompt cache; the answers are the ones a single task gets."""
    _, cfg, _ = run
    _stage(tmp_path / "in", n=24)  # 2 shards
    scores = {}
    for tasks in (1, 2):
        c = cfg.model_copy(deep=True)
        c.apply.tasks = tasks
        m = apply(tmp_path / "in", tmp_path / f"t{tasks}", None, c, judge=True)
        assert m["tasks"] == tasks and m["counts"]["in"] == 24 and m["judge"]
        scores[tasks] = {
            r["id"]: (r["scores"], r["quality"]) for r in iter_rows(tmp_path / f"t{tasks}")
        }
        caches = sorted(p.name for p in (tmp_path / f"t{tasks}" / "cache").glob("*.sqlite"))
        assert caches == [f"llm-{r:05d}.sqlite" for r in range(tasks)]
    assert scores[2].keys() == scores[1].keys()
    for k, (s1, q1) in scores[1].items():
        s2, q2 = scores[2][k]
        assert s2.keys() == s1.keys() and q2 == pytest.approx(q1, abs=1e-4)


def test_distill_trains_a_reference_classifier_and_apply_checks_every_signal(run, tmp_path, capsys):
    from qurate.cli import main
    from qurate.score.domains import DomainClassifier

    base, cfg, _ = run
    cfg = cfg.model_copy(deep=True)
    cfg.distill.reference = ["default"]
    meta = distill(base / "ann", tmp_path / "models", cfg)
    ref = meta["reference"]
    assert ref["n_pool"] == 48 and ref["n_reference"] == 48  # the whole pool; balanced
    assert (tmp_path / "models" / ref["file"]).is_file()
    out = apply(base / "in", tmp_path / "scored", tmp_path / "models", cfg)
    assert set(out["weights"]) == {"rater", "reference"}
    checks = out["signal_checks"]
    assert set(checks) == {"rater", "reference"} and all(c["n"] == 16 for c in checks.values())
    rows = list(iter_rows(tmp_path / "scored"))
    labels = set(DomainClassifier("default").labels)
    assert all(0 <= r["scores"]["reference"] <= 1 and r["domain"] in labels for r in rows)
    assert out["domain_model"].endswith("domains_v1.ftz")
    # the CLI prints each signal's check and weight
    args = ["score", "apply", str(base / "in"), "-o", str(tmp_path / "cli")]
    with pytest.raises(SystemExit) as e:
        main([*args, "--raters", str(tmp_path / "models"), "--no-perplexity"])
    assert e.value.code == 0
    printed = capsys.readouterr().out
    assert "word-shuffled copy" in printed and "reference" in printed
    # ... and the judge check the raters inherit, which scales their weight too
    assert "the judge check" in printed and "reliability" in printed
