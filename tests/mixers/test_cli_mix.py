"""`qurate mix` / `qurate report` as a user runs them: dry-run writes nothing, errors are one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qurate.cli import main
from qurate.contract.shards import shard_paths


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        main(args)
        code = 0
    except SystemExit as e:
        code = int(e.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_dry_run_prints_plan_and_writes_nothing(corpus, tmp_path: Path, capsys) -> None:
    cfg = tmp_path / "MIX.yaml"
    cfg.write_text("budget_tokens: 500000\ndomains:\n  science: {multiplier: 2}\n")
    code, out, _ = run_cli(
        ["mix", *map(str, corpus), "-o", str(tmp_path / "mix"), "-c", str(cfg), "--dry-run"], capsys
    )
    assert code == 0
    assert "mix plan" in out and "science" in out and "epochs" in out and "rate" in out
    assert not (tmp_path / "mix").exists()


def test_mix_then_report(corpus, tmp_path: Path, capsys) -> None:
    cfg = tmp_path / "MIX.yaml"
    cfg.write_text("budget_tokens: 300000\nshard_tokens: 100000\n")
    code, out, _ = run_cli(
        ["mix", *map(str, corpus), "-o", str(tmp_path / "mixed"), "-c", str(cfg)], capsys
    )
    assert code == 0 and "achieved" in out
    assert len(shard_paths(tmp_path / "mixed")) == 3
    # `qurate stats` reads the mix output like any stage directory.
    code, out, _ = run_cli(["stats", str(tmp_path / "mixed"), "--by", "domain", "--json"], capsys)
    manifest = json.loads((tmp_path / "mixed" / "manifest.json").read_text())
    got = {r["domain"]: r["kept_tokens"] for r in json.loads(out)}
    assert code == 0 and got == manifest["tokens_by_domain"]
    code, out, _ = run_cli(["report", str(tmp_path), "-o", str(tmp_path / "r.html")], capsys)
    assert code == 0 and "r.html" in out and (tmp_path / "r.html").stat().st_size > 100_000


@pytest.mark.parametrize(
    ("yaml_text", "expected"),
    [
        (
            "budget_tokens: 100\ndomains: {scince: {weight: 1}}\n",
            "unknown domain(s) scince; the inputs have: ",
        ),
        ("budget_tokens: 100000000\n", "short domains"),
        ("budget_tokens: 100\ndefault: {weight: 0}\n", "must sum to a positive number"),
        ("budget_tokens: [1]\n", "budget_tokens"),
    ],
)
def test_user_mistakes_are_one_line(
    corpus, tmp_path: Path, capsys, yaml_text: str, expected: str
) -> None:
    cfg = tmp_path / "MIX.yaml"
    cfg.write_text(yaml_text)
    code, out, err = run_cli(
        ["mix", *map(str, corpus), "-o", str(tmp_path / "m"), "-c", str(cfg)], capsys
    )
    assert code == 2
    assert expected in err and err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "m").exists()


def test_report_on_empty_dir_is_one_line(tmp_path: Path, capsys) -> None:
    code, _, err = run_cli(["report", str(tmp_path), "-o", str(tmp_path / "r.html")], capsys)
    assert code == 2 and "no stage directories" in err
