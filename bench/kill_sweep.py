"""kill -9 each writing command at many points, rerun it, and compare with an uninterrupted run.

The kill tests (tests/test_kill_stages.py, tests/test_kill_more.py, tests/mixers/
test_mix_kill.py) kill each stage at two to four points; a kill in a window of a few
milliseconds (between a manifest and the clean-up after it, say) is found there only by
chance. This sweep kills a fresh run of each command at many points: fractions of an
uninterrupted run's duration (evenly spread over 0.05..1.1, plus a few drawn with a fixed
seed) and a few events polled on the output directory (the lock appears, the first shard
appears, the manifest appears). After each kill it reruns the same command and checks the
contract every stage keeps: the rerun exits 0, its rows and manifest counts are those of the
uninterrupted run (``in == kept + rejected``), it leaves no file the uninterrupted run does
not have (hidden files, ``*.tmp``, ``_parts``, scratch directories), and the readers work on it
(``qurate stats DIR``, DuckDB ``read_parquet(DIR/*.parquet)``).

It prints one row per kill: stage, kill point, whether the kill landed mid-run, the rerun's
exit code, identical?, leftovers (or missing files), readers; and exits 1 if any row fails.

    PYTHONPATH=. .venv/bin/python bench/kill_sweep.py [--stages curate,mix] [--points 16]
        [--random 4] [--seed 12] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "mixers")]
os.environ.setdefault(
    "QURATE_CACHE_DIR", str(Path(tempfile.gettempdir()) / f"qurate-test-cache-{os.getuid()}")
)

from tests.test_kill_stages import _inputs, cli_env, stage_result  # noqa: E402

QURATE = [sys.executable, "-m", "qurate"]


@dataclass
class Stage:
    name: str
    cmd: Callable[[Path], list[str]]  # the command writing to an output directory
    keeps: tuple[str, ...] = ()  # entries whose contents may differ (curate's .work)
    bytes_identical: bool = False  # mix: every shard byte for byte, not only the rows


def _setup(name: str, tmp: Path) -> Stage:
    if name in ("curate", "augment ingest", "synth filter"):
        src = _inputs(name, tmp)
        if name == "curate":
            return Stage(name, lambda o: [*QURATE, "curate", str(src), "-o", str(o)], (".work",))
        if name == "augment ingest":
            return Stage(name, lambda o: [*QURATE, "augment", "ingest", str(src), "-o", str(o),
                                          "--domain", "math"])  # fmt: skip
        return Stage(name, lambda o: [*QURATE, "synth", "filter", str(src), "-o", str(o),
                                      "--no-verify"])  # fmt: skip
    if name == "mix":
        from test_mix_kill import kill_input

        src, cfg = kill_input(tmp)
        return Stage(name, lambda o: [*QURATE, "mix", str(src), "-o", str(o), "-c", str(cfg)],
                     bytes_identical=True)  # fmt: skip
    if name == "score apply":
        from tests.test_kill_more import apply_command

        base = apply_command(tmp)
        return Stage(name, lambda o: [*base, "-o", str(o)])
    raise SystemExit(f"unknown stage {name!r}")


STAGES = ("curate", "augment ingest", "synth filter", "mix", "score apply")

# kill points polled on the output directory (every millisecond)
EVENTS: dict[str, Callable[[Path], bool]] = {
    "lock appears": lambda o: (o / ".qurate.lock").exists(),
    "first shard": lambda o: any(o.glob("part-*.parquet")),
    "manifest appears": lambda o: (o / "manifest.json").exists(),
}


def _files(d: Path, keeps: tuple[str, ...]) -> dict[str, bytes]:
    """Every file under ``d`` (bar the contents of ``keeps``) and its bytes."""
    out = {}
    for p in sorted(d.rglob("*")):
        rel = p.relative_to(d)
        if rel.parts[0] in keeps and len(rel.parts) > 1:
            continue
        out[rel.as_posix()] = p.read_bytes() if p.is_file() else b"<dir>"
    return out


def _kill(cmd: list[str], out: Path, point: str, duration: float) -> tuple[bool, float]:
    """Start ``cmd``, SIGKILL it at ``point``; whether it was still running, and when."""
    proc = subprocess.Popen(cmd, env=cli_env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)  # fmt: skip
    t0 = time.monotonic()
    if point in EVENTS:
        ready = EVENTS[point]
        while proc.poll() is None and not ready(out) and time.monotonic() - t0 < 10 * duration:
            time.sleep(0.001)
    else:
        deadline = t0 + float(point) * duration
        while proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.002)
    proc.kill()
    rc = proc.wait()
    return rc == -9, time.monotonic() - t0


def _readers(out: Path, n_kept: int) -> str:
    import duckdb

    r = subprocess.run([*QURATE, "stats", str(out)], env=cli_env(), capture_output=True,
                       text=True)  # fmt: skip
    if r.returncode != 0:
        return f"stats rc {r.returncode}: {r.stderr.strip()[-120:]}"
    try:
        glob = str(out / "*.parquet")
        with duckdb.connect() as con:
            n = con.execute(f"select count(*) from read_parquet('{glob}')").fetchone()[0]
    except duckdb.Error as e:
        return f"duckdb: {str(e).splitlines()[0][:120]}"
    return "ok" if n == n_kept else f"duckdb {n} rows != {n_kept}"


def sweep(stage: Stage, root: Path, points: list[str]) -> list[dict]:
    ref = root / "ref"
    t0 = time.monotonic()
    r = subprocess.run(stage.cmd(ref), env=cli_env(), capture_output=True, text=True)
    duration = time.monotonic() - t0
    if r.returncode != 0:
        raise SystemExit(f"{stage.name}: the uninterrupted run failed: {r.stderr[-2000:]}")
    expected = stage_result(ref)
    ref_files = _files(ref, stage.keeps)
    print(f"# {stage.name}: uninterrupted run {duration:.1f}s, counts {expected[0]}", flush=True)
    rows = []
    for i, point in enumerate(points):
        out = root / f"k{i:02d}"
        killed, at = _kill(stage.cmd(out), out, point, duration)
        at_kill = sorted(p.name for p in out.iterdir()) if out.is_dir() else []
        rerun = subprocess.run(stage.cmd(out), env=cli_env(), capture_output=True, text=True)
        row = {
            "stage": stage.name,
            "point": point,
            "at_s": round(at, 2),
            "killed": killed,
            "rc": rerun.returncode,
            "identical": False,
            "leftovers": "",
            "readers": "",
            "at_kill": at_kill,
            "stderr": rerun.stderr.strip()[-300:] if rerun.returncode else "",
        }
        if rerun.returncode == 0:
            got = stage_result(out)
            counts = got[0]
            sums = counts["in"] == counts["kept"] + sum(counts["rejected_by_reason"].values())
            files = _files(out, stage.keeps)
            same_bytes = not stage.bytes_identical or {
                k: v for k, v in files.items() if k != "manifest.json"
            } == {k: v for k, v in ref_files.items() if k != "manifest.json"}
            row["identical"] = got == expected and sums and same_bytes
            extra = sorted(set(files) - set(ref_files))
            missing = sorted(set(ref_files) - set(files))
            odd = [*extra, *(f"-{m}" for m in missing)]  # leftovers, then missing files
            row["leftovers"] = ", ".join(odd[:4]) + (" ..." if len(odd) > 4 else "")
            row["readers"] = _readers(out, counts["kept"])
        rows.append(row)
        ok = row["rc"] == 0 and row["identical"] and not row["leftovers"] and row["readers"] == "ok"
        row["ok"] = ok
        print(_line(row), flush=True)
    return rows


def _line(r: dict) -> str:
    point = r["point"] if r["point"] in EVENTS else f"{float(r['point']):.2f}x"
    killed = "killed" if r["killed"] else "ended"
    flag = "" if r.get("ok") else "  <-- FAIL"
    tail = f" | {r['stderr']}" if r["stderr"] else ""
    return (
        f"{r['stage']:<15} {point:<17} {r['at_s']:>6.2f}s {killed:<7} rc={r['rc']:<3} "
        f"{'identical' if r['identical'] else 'DIFFERENT':<10} "
        f"{r['leftovers'] or '-':<40} {r['readers']}{flag}{tail}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--stages", default=",".join(STAGES), help="comma-separated")
    ap.add_argument("--points", type=int, default=16, help="even fractions over 0.05..1.1")
    ap.add_argument("--random", type=int, default=4, help="extra fractions drawn with --seed")
    ap.add_argument("--seed", type=int, default=12)
    ap.add_argument("--keep", type=Path, help="work here and keep the directories")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    n = args.points
    fractions = [0.05 + (1.1 - 0.05) * k / max(1, n - 1) for k in range(n)]
    fractions += [rng.uniform(0.05, 1.1) for _ in range(args.random)]
    points = [*EVENTS, *(f"{f:.3f}" for f in sorted(fractions))]
    base = args.keep or Path(tempfile.mkdtemp(prefix="kill-sweep-"))
    rows = []
    try:
        for name in [s.strip() for s in args.stages.split(",") if s.strip()]:
            root = base / name.replace(" ", "-")
            root.mkdir(parents=True, exist_ok=True)
            rows += sweep(_setup(name, root), root, points)
    finally:
        if args.keep is None:
            shutil.rmtree(base, ignore_errors=True)
    bad = [r for r in rows if not r["ok"]]
    print(f"\n{len(rows)} kills, {sum(r['killed'] for r in rows)} mid-run, {len(bad)} failed")
    for r in bad:
        print("FAIL", _line(r), "| at kill:", " ".join(r["at_kill"]))
    if args.keep:
        (base / "sweep.json").write_text(json.dumps(rows, indent=1))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
