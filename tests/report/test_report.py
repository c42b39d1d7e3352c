"""`render_report`: one self-contained page whose plots show the run's stages."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest

from qurate.contract.shards import ShardWriter, write_manifest
from qurate.errors import BadInputError
from qurate.mixers import mix, parse_mix_config
from qurate.report.gather import discover_stages
from qurate.report.page import FIGURES, render_report


def _stage(d: Path, name: str, n: int, *, scores: bool, rejects: dict[str, int]) -> Path:
    rng = random.Random(n)
    with ShardWriter(d, rows_per_shard=150) as w:
        for i in range(n):
            q = rng.random()
            w.write(
                {
                    "id": f"{name}{i}",
                    "text": "word " * 50,
                    "lang": rng.choice(["en", "zh", "fr"]),
                    "domain": rng.choice(["shop", "science", "news"]),
                    "quality": q if scores else None,
                    "scores": {"educational_value": q, "coherence": rng.random()}
                    if scores
                    else None,
                    "n_tokens": rng.randint(20, 200),
                }
            )
    with ShardWriter(d / "rejects", rejects=True) as w:
        for reason, k in rejects.items():
            for i in range(k):
                w.write(
                    {"id": f"r{reason}{i}", "text": "x", "reject_reason": reason, "stage": name}
                )
    write_manifest(
        d,
        stage=name,
        config_hash="t",
        inputs=["sample"],
        n_in=n + sum(rejects.values()),
        n_kept=n,
        rejected_by_reason=rejects,
    )
    return d


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    run = tmp_path / "run"
    _stage(
        run / "curated",
        "curate",
        500,
        scores=False,
        rejects={"duplicate": 40, "gopher_repetition": 25},
    )
    _stage(run / "scored", "score", 480, scores=True, rejects={"low_quality": 20})
    cfg = parse_mix_config(
        {
            "budget_tokens": 40_000,
            "domains": {"shop": {"multiplier": 0.3}, "science": {"multiplier": 3}},
            "long_context": [{"name": "ctx", "max_tokens": 512}],
        }
    )
    mix([run / "scored"], run / "mixed", cfg)
    return run


def _figure_json(page: str, fid: str) -> str:
    """The text of the <script> that draws figure ``fid``."""
    i = page.index(f'id="{fid}"')
    return page[i : page.index("</script>", i)]


def test_report_has_every_plot_and_is_self_contained(run_dir: Path, tmp_path: Path) -> None:
    out = render_report(run_dir, tmp_path / "report.html")
    page = out.read_text()
    for fid in FIGURES:
        assert f'<div id="{fid}"' in page, fid
        assert f'Plotly.newPlot(                        "{fid}"' in page or re.search(
            rf'newPlot\(\s*"{fid}"', page
        )
    # plotly.js is inlined once; nothing is fetched from the network.
    assert len(re.findall(r"plotly\.js v\d", page)) == 1
    tags = re.findall(r"<script[^>]*>", page)
    assert len(tags) >= len(FIGURES) and all("src=" not in t for t in tags)

    shares = _figure_json(page, "domain-shares")
    assert "scored (score)" in shares and "mixed (mix)" in shares and "mixed: target" in shares
    hist = _figure_json(page, "quality-histograms")
    assert "educational_value" in page and "coherence" in page and '"name":"scored"' in hist
    assert '"zh"' in _figure_json(page, "languages")
    rejects = _figure_json(page, "reject-reasons")
    for reason in ("duplicate", "gopher_repetition", "low_quality", "not_sampled"):
        assert f'"name":"{reason}"' in rejects
    budget = _figure_json(page, "token-budget")
    assert "budget 40,000" in budget and "mixed: achieved" in budget
    assert "ctx (max 512)" in _figure_json(page, "long-context")


def test_report_works_with_whatever_stages_exist(run_dir: Path, tmp_path: Path) -> None:
    import shutil

    shutil.rmtree(run_dir / "mixed")
    shutil.rmtree(run_dir / "scored")
    page = render_report(run_dir, tmp_path / "r.html").read_text()
    assert '<div id="token-budget"' in page and "no stage has quality scores yet" in page
    assert 'id="long-context"' not in page


def test_discovery_skips_rejects_and_broken_manifests(run_dir: Path) -> None:
    (run_dir / "broken").mkdir()
    (run_dir / "broken" / "manifest.json").write_text("{not json")
    names = [p.relative_to(run_dir).as_posix() for p, _ in discover_stages(run_dir)]
    assert set(names) == {"curated", "scored", "mixed", "mixed/long_context/ctx"}
    assert json.loads((run_dir / "mixed" / "manifest.json").read_text())["stage"] == "mix"


def test_no_stages_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match="no stage directories"):
        render_report(tmp_path, tmp_path / "r.html")
