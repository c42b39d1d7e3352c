"""Hostile environments, not hostile inputs: the command line run as a real process with an
ASCII stdout, a full or closed standard stream, a narrow terminal, a deleted current
directory, file names that are not UTF-8, a folder the user may not list. Each one either
works or ends in one line on stderr and exit 2."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.robust.test_robust_cli import one_line_error

REPO = Path(__file__).resolve().parents[2]
DOCS = [
    {"id": f"d{i}", "text": f"Le café numéro {i} sert du thé. 数据 {i}. " * 40} for i in range(6)
]


def qurate(*args: str, env: dict | None = None, **kw) -> subprocess.CompletedProcess:
    """``python -m qurate ARGS`` as its own process; stdout and stderr as bytes."""
    full = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    full.pop("QURATE_TRACEBACK", None)
    if "stdout" not in kw and "stderr" not in kw:
        kw.setdefault("capture_output", True)
    return subprocess.run(
        [sys.executable, "-m", "qurate", *args],
        env=full,
        timeout=120,
        cwd=kw.pop("cwd", REPO),
        **kw,
    )


def _jsonl(path: Path, docs: list[dict]) -> Path:
    path.write_bytes("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs).encode())
    return path


@pytest.fixture(scope="module")
def curated(tmp_path_factory) -> Path:
    """One small curate output, made once."""
    d = tmp_path_factory.mktemp("env10")
    out = d / "curated"
    r = qurate("curate", str(_jsonl(d / "in.jsonl", DOCS)), "-o", str(out), "--no-progress")
    assert r.returncode == 0, r.stderr.decode()
    return out


def test_sql_over_document_text_prints_on_an_ascii_stdout(curated: Path):
    # Before: "error: UnicodeEncodeError: 'ascii' codec can't encode character '\xe9' ...
    # (traceback in ...)", exit 1. The characters are now shown escaped.
    r = qurate(
        "stats",
        str(curated),
        "--sql",
        "SELECT text FROM all_docs",
        env={"PYTHONIOENCODING": "ascii"},
    )
    assert r.returncode == 0, r.stderr.decode()
    assert b"caf\\xe9" in r.stdout and b"\\u6570" in r.stdout


@pytest.mark.parametrize("columns", ["10", "0"])
def test_a_narrow_terminal_keeps_the_counts_whole(curated: Path, columns: str):
    # Before: COLUMNS=10 printed a table of empty cells, COLUMNS=0 printed nothing, exit 0.
    want = json.loads(qurate("stats", str(curated), "--json").stdout)[0]
    r = qurate("stats", str(curated), env={"COLUMNS": columns})
    assert r.returncode == 0, r.stderr.decode()
    for key in ("in", "chars", "tokens"):
        assert f"{want[key]:,}".encode() in r.stdout, (key, r.stdout.decode())


def test_curate_draws_its_progress_on_stderr_not_stdout(tmp_path: Path):
    # Before: the filter/write bars went to stdout, into `qurate curate ... > log` and pipes.
    src = _jsonl(tmp_path / "in.jsonl", DOCS[:2])
    r = qurate("curate", str(src), "-o", str(tmp_path / "out"))
    assert r.returncode == 0, r.stderr.decode()
    assert r.stdout == b""


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full")
def test_a_full_stdout_is_one_line(curated: Path):
    # Before: "error: OSError: [Errno 28] No space left on device (traceback in ...)", exit 1.
    for args in (["init"], ["stats", str(curated)]):
        with open("/dev/full", "w") as full:
            r = qurate(*args, stdout=full, stderr=subprocess.PIPE)
        line = one_line_error(r.returncode, r.stderr.decode())
        assert "No space left on device" in line


def test_closed_standard_streams_do_not_break_the_run(tmp_path: Path):
    # Before: with stderr closed (`2>&-`) every command that imports datatrove died at the
    # import, exit 1 and no output; with workers the forkserver died the same way.
    src = _jsonl(tmp_path / "in.jsonl", DOCS[:4])
    out = tmp_path / "out"
    args = ("curate", str(src), "-o", str(out), "--workers", "2", "--tasks", "2")

    def close_all():
        for fd in (0, 1, 2):
            os.close(fd)

    r = qurate(*args, capture_output=False, preexec_fn=close_all)
    assert r.returncode == 0
    assert json.loads((out / "manifest.json").read_text())["counts"]["in"] == 4
    r = qurate("stats", str(tmp_path / "missing"), capture_output=False, preexec_fn=close_all)
    assert r.returncode == 2


def test_file_names_that_are_not_utf8(tmp_path: Path):
    # Before: a record without an id in `\xff.jsonl` failed the reader task ("a task
    # failed: UnicodeEncodeError: ... surrogates not allowed"), and an input folder holding
    # such a name failed writing the manifest; -o with such a name failed inside pyarrow.
    folder = tmp_path / "in"
    folder.mkdir()
    bad = os.fsencode(folder) + b"/\xff.jsonl"
    Path(os.fsdecode(bad)).write_text('{"text": "' + "plain words here. " * 60 + '"}\n')
    out = tmp_path / "out"
    r = qurate("curate", os.fsdecode(bad), str(folder), "-o", str(out), "--no-progress")
    assert r.returncode == 0, r.stderr.decode()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["counts"]["in"] == 2 and os.fsdecode(bad) in manifest["inputs"]
    ids = qurate("stats", str(out), "--sql", "SELECT id FROM all_docs", "--json")
    assert all(row["id"].startswith("\\xff-") for row in json.loads(ids.stdout)), ids.stdout

    bad_out = os.fsdecode(os.fsencode(tmp_path) + b"/out\xfe")
    r = qurate("curate", str(folder), "-o", bad_out, "--no-progress")
    line = one_line_error(r.returncode, r.stderr.decode())
    assert "not a UTF-8 path" in line and not Path(bad_out).exists()


def _without_file_permissions() -> list[str]:
    """A prefix that makes file permissions apply to this user (root ignores them)."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: file permissions cannot be made to apply")
    caps = "-dac_override,-dac_read_search"
    return [setpriv, "--bounding-set", caps, "--inh-caps", caps]


def test_a_folder_that_cannot_be_listed_is_named_as_skipped(tmp_path: Path):
    # Before: its files were silently not read (exit 0, no skip listed anywhere).
    folder = tmp_path / "in"
    (folder / "locked").mkdir(parents=True)
    _jsonl(folder / "a.jsonl", DOCS[:1])
    _jsonl(folder / "locked" / "b.jsonl", DOCS[1:2])
    (folder / "locked").chmod(0)
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "500"}
    cmd = [*_without_file_permissions(), sys.executable, "-m", "qurate", "curate", str(folder)]
    try:
        r = subprocess.run(
            [*cmd, "-o", str(out), "--no-progress"], env=env, capture_output=True, timeout=120
        )
    finally:
        (folder / "locked").chmod(0o755)
    assert r.returncode == 0, r.stderr.decode()
    assert "locked: unreadable directory" in r.stderr.decode()
    skipped = json.loads((out / "manifest.json").read_text())["skipped_inputs"]
    assert skipped["paths"] == [
        {"path": str(folder / "locked"), "reason": "unreadable directory (Permission denied)"}
    ]


def test_a_deleted_current_directory_is_one_line(tmp_path: Path):
    # Before: "error: FileNotFoundError: [Errno 2] No such file or directory (traceback
    # in ...)", exit 1.
    src = _jsonl(tmp_path / "in.jsonl", DOCS[:1])
    gone = tmp_path / "gone"
    gone.mkdir()
    script = f"cd {gone} && rmdir {gone} && exec {sys.executable} -m qurate curate {src} -o out"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    r = subprocess.run(["bash", "-c", script], env=env, capture_output=True, timeout=120)
    line = one_line_error(r.returncode, r.stderr.decode())
    assert "current directory no longer exists" in line
