"""`qurate augment ingest` and the `qurate augment` CLI as a user runs them."""

from __future__ import annotations

import base64
import json
import random
import shutil
from pathlib import Path

import pytest

from qurate.augment.ingest import ingest
from qurate.cli import main
from qurate.contract.shards import iter_rows
from qurate.errors import BadInputError, ConfigError

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "qurate" / "data" / "sample"
STDLIB = Path("/usr/lib/python3.11")


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        main(args)
        code = 0
    except SystemExit as e:
        code = int(e.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def code_tree(tmp_path: Path) -> Path:
    """A repository-like tree: real Python files, a minified bundle, a data blob, an image."""
    root = tmp_path / "repo"
    (root / "pkg").mkdir(parents=True)
    for name in ("textwrap.py", "shlex.py", "bisect.py"):
        shutil.copy(STDLIB / name, root / "pkg" / name)
    (root / "web").mkdir()
    (root / "web" / "app.min.js").write_text(
        "".join(f"function f{i}(a){{return a+{i}}};" for i in range(200))
    )
    blob = base64.b64encode(random.Random(0).randbytes(4000)).decode()
    (root / "pkg" / "icons.py").write_text(f'ICON = "{blob}"\n')
    (root / "package.json").write_text(
        json.dumps(
            {"name": "demo", "version": "1.0.0", "main": "web/app.min.js", "license": "MIT"},
            indent=2,
        )
    )
    (root / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    (root / "pkg" / "latin1.c").write_bytes(b"/* caf\xe9 */\nint main(void) { return 0; }\n")
    (root / ".git").mkdir()
    (root / ".git" / "config.py").write_text("x = 1\n")  # hidden: never read
    return root


def test_ingest_code_tree(code_tree: Path, tmp_path: Path) -> None:
    m = ingest([code_tree], tmp_path / "out", "code")
    c = m["counts"]
    assert c["in"] == 7 == c["kept"] + c["rejected"]
    assert c["rejected_by_reason"] == {
        "code_minified": 1,
        "code_encoded_data": 1,
        "invalid_utf8": 1,
    }
    assert m["skipped_files"] == {".png": 1}
    assert m["languages"] == {"python": 4, "javascript": 1, "json": 1, "c": 1}
    kept = {r["id"]: r for r in iter_rows(tmp_path / "out")}
    assert set(kept) == {
        "repo/pkg/textwrap.py",
        "repo/pkg/shlex.py",
        "repo/pkg/bisect.py",
        "repo/package.json",
    }
    for r in kept.values():
        assert r["domain"] == "code" and r["source"] == "repo" and r["n_tokens"] > 0
    assert json.loads(kept["repo/pkg/shlex.py"]["meta"]) == {
        "language": "python",
        "path": "repo/pkg/shlex.py",
    }
    assert kept["repo/pkg/shlex.py"]["text"] == (STDLIB / "shlex.py").read_text()
    rejects = {r["id"]: r for r in iter_rows(tmp_path / "out", rejects=True)}
    assert rejects["repo/web/app.min.js"]["stage"] == "code_filters"
    assert "latin1.c" in rejects["repo/pkg/latin1.c"]["reject_detail"]
    # Rerun: a no-op that returns the same manifest.
    assert ingest([code_tree], tmp_path / "out", "code")["created"] == m["created"]


def test_ingest_math_corpus_keeps_latex_and_scores_density(tmp_path: Path) -> None:
    src = tmp_path / "math.jsonl"
    rows = [json.loads(x) for x in (SAMPLE / "math.jsonl").read_text().splitlines() if x][:20]
    rows.append({"id": "empty", "text": "   "})
    src.write_text("".join(json.dumps(r) + "\n" for r in rows) + "{broken\n")
    m = ingest([src], tmp_path / "out", "math")
    assert m["counts"]["in"] == 22 and m["counts"]["kept"] == 20
    assert m["counts"]["rejected_by_reason"] == {"empty": 1, "malformed_json": 1}
    kept = list(iter_rows(tmp_path / "out"))
    by_id = {r["id"]: r for r in rows}
    for r in kept:
        assert r["domain"] == "math" and 0.0 <= r["scores"]["math_density"] <= 1.0
        assert r["text"] == by_id[r["id"]]["text"]  # LaTeX untouched by normalisation
    assert sorted(r["scores"]["math_density"] for r in kept)[10] > 0.8


def test_ingest_errors(tmp_path: Path, code_tree: Path) -> None:
    with pytest.raises(ConfigError, match="domain"):
        ingest([code_tree], tmp_path / "o1", "poetry")
    with pytest.raises(BadInputError, match="no such file"):
        ingest([tmp_path / "nope"], tmp_path / "o2", "code")
    (tmp_path / "pics").mkdir()
    (tmp_path / "pics" / "a.png").write_bytes(b"x")
    with pytest.raises(BadInputError, match="no documents"):
        ingest([tmp_path / "pics"], tmp_path / "o3", "code")


def recall_args(pool: Path, out: Path, seeds: Path | str, domain: str, *extra: str) -> list[str]:
    """``qurate augment recall POOL -o OUT --seeds SEEDS --domain DOMAIN [extra...]``."""
    return ["augment", "recall", str(pool), "-o", str(out), "--seeds", str(seeds), "--domain",
            domain, *extra]  # fmt: skip


def test_cli_ingest_and_recall(code_tree: Path, tmp_path: Path, capsys) -> None:
    code, out, err = run_cli(
        ["augment", "ingest", str(code_tree), "-o", str(tmp_path / "ing"), "--domain", "code"],
        capsys,
    )
    assert code == 0, err
    assert "code_minified" in out and "kept" in out and "python 4" in err
    # Recall over the ingested stage (a tiny pool: 4 code files) with the bundled code seeds.
    seeds = SAMPLE / "seeds" / "code.jsonl"
    args = recall_args(tmp_path / "ing", tmp_path / "rec", seeds, "code", "--rounds", "1")
    code, out, err = run_cli(args, capsys)
    assert code == 0, err
    assert "round 1" in err and "pool documents" in err
    manifest = json.loads((tmp_path / "rec" / "manifest.json").read_text())
    assert manifest["counts"]["in"] == 4 and len(manifest["rounds"]) == 1


def test_cli_errors_are_one_line(tmp_path: Path, capsys) -> None:
    out = tmp_path / "o"
    code, _, err = run_cli(
        recall_args(tmp_path, out, SAMPLE / "seeds" / "math.jsonl", "math"), capsys
    )
    assert code == 2 and err.strip().startswith("error:") and len(err.strip().splitlines()) == 1
    code, _, err = run_cli(recall_args(tmp_path, out, "s.jsonl", "poetry"), capsys)
    assert code == 2 and "math or code" in err
    code, _, err = run_cli(
        recall_args(tmp_path, out, "s.jsonl", "math", "--threshold", "1.5"), capsys
    )
    assert code == 2 and "less than 1" in err
