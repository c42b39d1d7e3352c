"""Run untrusted code against its tests in a sandbox: a separate, limited, offline process.

Layers, outermost first (each one is tested against a hostile snippet in
``tests/synth/test_sandbox.py``):

1. **Process isolation.** A new session (so its own process group, which is killed whole
   when the run ends or times out), stdin closed, its own fresh temp directory as cwd, HOME
   and TMPDIR (removed afterwards), an environment with nothing inherited (no secrets), and
   ``python -I`` (ignores ``PYTHON*`` variables and the user site).
2. **Privileges and network (when qurate runs as root).** The child enters a new, empty
   network namespace (``unshare --net``: no interface but a down loopback) and drops to
   ``nobody``/``nogroup`` with no supplementary groups. As ``nobody`` it cannot signal or read
   qurate's processes, and ``RLIMIT_NPROC`` is enforced (root ignores it). Without root
   there is no namespace: the audit hook below is then what blocks the network.
3. **Resource limits** set by the child on itself before the code runs
   (:mod:`qurate.synth.sandbox_child`): address space, CPU seconds, processes, file size,
   open files, no core dumps; plus a wall-clock timeout enforced here.
4. **An audit hook** in the child refusing sockets, new processes, signals to other
   processes, ctypes, writes outside the sandbox and reading other processes' ``/proc``.

A run passes only if the child reports ``passed`` on its private result pipe with the
one-shot nonce: exiting early (``sys.exit(0)``, ``os._exit(0)``) is a failure. Python code
only; the tests are asserts or ``test_*`` functions in the same namespace as the solution.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

_CHILD = Path(__file__).with_name("sandbox_child.py")
_NOBODY = 65534
_OUTPUT_TAIL = 2000


class SandboxLimits(BaseModel):
    """Limits of one sandboxed run. Defaults suit unit tests of a single function."""

    model_config = ConfigDict(extra="forbid")

    timeout_s: float = Field(10.0, gt=0, description="wall-clock limit of one run")
    memory_mb: int = Field(1024, ge=64, description="address-space limit (RLIMIT_AS)")
    max_processes: int = Field(
        8, ge=1, description="RLIMIT_NPROC (per uid; enforced when running as root -> nobody)"
    )
    max_file_mb: int = Field(16, ge=1, description="largest file (and stdout) it may write")
    max_open_files: int = Field(64, ge=16)
    workers: int = Field(2, ge=1, description="sandboxed runs in parallel")
    network_namespace: bool = Field(
        True, description="as root: run in an empty network namespace (unshare --net)"
    )
    drop_privileges: bool = Field(True, description="as root: run as nobody/nogroup")
    audit_hook: bool = Field(
        True, description="the in-process guard; turn off only to test the OS layers alone"
    )
    python: str | None = Field(
        None,
        description="interpreter for the code (default: this one, or the system python3 when "
        "this one is not reachable by nobody, e.g. under a private /root)",
    )


@dataclass(frozen=True)
class SandboxResult:
    """``status``: passed | failed | timeout | memory | killed | crashed."""

    passed: bool
    status: str
    detail: str
    seconds: float
    stdout: str = ""
    stderr: str = ""


@cache
def _can_unshare_net() -> bool:
    """Whether ``unshare --net`` works here (root with CAP_SYS_ADMIN, util-linux present)."""
    exe = shutil.which("unshare")
    if exe is None or os.geteuid() != 0:
        return False
    try:
        return (
            subprocess.run([exe, "--net", "true"], capture_output=True, timeout=10).returncode == 0
        )
    except (OSError, subprocess.SubprocessError):
        return False


def _world_executable(path: str) -> bool:
    """Whether any user (``nobody``) can execute ``path``: every directory on the way to the
    real file is o+x and the file is o+x."""
    real = Path(os.path.realpath(path))
    try:
        if not real.stat().st_mode & 0o001:
            return False
        return all(p.stat().st_mode & 0o001 for p in real.parents)
    except OSError:
        return False


@cache
def _interpreter(configured: str | None, drop: bool) -> str | None:
    """The sandbox's interpreter; None when dropping privileges and nobody can run any."""
    candidates = (
        [configured]
        if configured
        else [sys.executable, "/usr/bin/python3", "/usr/local/bin/python3", shutil.which("python3")]
    )
    for c in candidates:
        if c and (not drop or _world_executable(c)):
            return c
    return None


def isolation_summary(limits: SandboxLimits | None = None) -> dict[str, object]:
    """Which OS layers a run gets on this machine (recorded in the filter manifest)."""
    limits = limits or SandboxLimits()
    root = os.geteuid() == 0
    drop = root and limits.drop_privileges and _interpreter(limits.python, True) is not None
    return {
        "network_namespace": root and limits.network_namespace and _can_unshare_net(),
        "drop_privileges": drop,
        "audit_hook": limits.audit_hook,
        "rlimits": True,
        "python": _interpreter(limits.python, drop) or sys.executable,
    }


def _command(workdir: Path, limits: SandboxLimits) -> list[str]:
    iso = isolation_summary(limits)
    cmd = [str(iso["python"]), "-I", "-B", str(workdir / "sandbox_child.py")]
    if iso["network_namespace"]:
        ids = ["-G", str(_NOBODY), "-S", str(_NOBODY)] if iso["drop_privileges"] else []
        return [shutil.which("unshare") or "unshare", "--net", *ids, "--", *cmd]
    return cmd


def _rmtree(path: Path) -> None:
    def fix(func, p, _exc):  # the code may have made its files read-only
        os.chmod(p, 0o700)
        func(p)

    shutil.rmtree(path, onexc=fix) if sys.version_info >= (3, 12) else shutil.rmtree(
        path, onerror=fix
    )


def _tail(path: Path) -> str:
    try:
        with path.open("rb") as f:
            f.seek(max(0, path.stat().st_size - _OUTPUT_TAIL))
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""


def run_in_sandbox(code: str, tests: str, limits: SandboxLimits | None = None) -> SandboxResult:
    """Run ``code`` then ``tests`` in one namespace, in a fresh sandbox; never raises for
    anything the code does."""
    limits = limits or SandboxLimits()
    t0 = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="qurate-sbx-"))
    logs = Path(tempfile.mkdtemp(prefix="qurate-sbx-log-"))  # out of the child's reach
    nonce = secrets.token_hex(16)
    r_fd, w_fd = os.pipe()
    try:
        (work / "solution.py").write_text(code, encoding="utf-8")
        (work / "tests.py").write_text(tests, encoding="utf-8")
        shutil.copyfile(_CHILD, work / "sandbox_child.py")
        cfg = {
            "nonce": nonce,
            "result_fd": w_fd,
            "memory_bytes": limits.memory_mb * 2**20,
            "cpu_seconds": max(1, int(limits.timeout_s + 1)),
            "max_processes": limits.max_processes,
            "max_file_bytes": limits.max_file_mb * 2**20,
            "max_open_files": limits.max_open_files,
            "audit_hook": limits.audit_hook,
        }
        (work / ".sandbox.json").write_text(json.dumps(cfg), encoding="utf-8")
        iso = isolation_summary(limits)
        if iso["drop_privileges"]:
            for p in [work, *work.iterdir()]:
                os.chown(p, _NOBODY, _NOBODY)
        env = {
            "PATH": "/usr/bin:/bin",
            "HOME": str(work),
            "TMPDIR": str(work),
            "LANG": "C.UTF-8",
            "PYTHONHASHSEED": "0",
        }
        with (logs / "out").open("wb") as out, (logs / "err").open("wb") as err:
            try:
                proc = _popen(work, env, out, err, w_fd, limits, iso)
            except OSError as e:  # no interpreter, no unshare: the sample cannot be run
                dt = time.perf_counter() - t0
                return SandboxResult(False, "crashed", f"cannot start the sandbox: {e}", dt)
            os.close(w_fd)
            w_fd = -1
            timed_out = False
            try:
                proc.wait(timeout=limits.timeout_s)
            except subprocess.TimeoutExpired:
                timed_out = True
            finally:
                # The whole group: whatever it started dies with it, finished or not.
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
                proc.wait()
        report = _read_report(r_fd, nonce)
        stdout, stderr = _tail(logs / "out"), _tail(logs / "err")
        dt = time.perf_counter() - t0
        if timed_out:
            return SandboxResult(
                False, "timeout", f"over {limits.timeout_s:g}s", dt, stdout, stderr
            )
        if report is None:
            rc = proc.returncode
            how = f"killed by signal {-rc}" if rc < 0 else f"exited {rc} before the tests ran"
            status = "killed" if rc < 0 else "crashed"
            if rc == -signal.SIGXCPU:
                status, how = "timeout", "CPU time limit"
            return SandboxResult(False, status, how, dt, stdout, stderr)
        status, _, detail = report.partition(" ")
        return SandboxResult(status == "passed", status, detail, dt, stdout, stderr)
    finally:
        if w_fd >= 0:
            os.close(w_fd)
        os.close(r_fd)
        _rmtree(work)
        _rmtree(logs)


def _popen(
    work: Path, env: dict[str, str], out: Any, err: Any, w_fd: int, limits: SandboxLimits, iso: dict
) -> subprocess.Popen:
    return subprocess.Popen(
        _command(work, limits),
        cwd=work,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=out,
        stderr=err,
        start_new_session=True,  # its own session and process group, killed whole at the end
        pass_fds=(w_fd,),
        extra_groups=[] if iso["drop_privileges"] else None,
    )


def _read_report(fd: int, nonce: str) -> str | None:
    """The child's authenticated last line ("passed 3", "failed AssertionError: ..."), if any."""
    os.set_blocking(fd, False)
    chunks = []
    try:
        while True:
            b = os.read(fd, 65536)
            if not b or sum(map(len, chunks)) > 1 << 20:
                break
            chunks.append(b)
    except BlockingIOError:
        pass
    found = None
    for line in b"".join(chunks).decode("utf-8", "replace").splitlines():
        if line.startswith(nonce + " "):
            found = line[len(nonce) + 1 :]
    return found


def run_many(
    jobs: list[tuple[str, str]], limits: SandboxLimits | None = None
) -> list[SandboxResult]:
    """``run_in_sandbox`` for each ``(code, tests)``, ``limits.workers`` at a time."""
    limits = limits or SandboxLimits()
    if limits.workers == 1 or len(jobs) <= 1:
        return [run_in_sandbox(c, t, limits) for c, t in jobs]
    with ThreadPoolExecutor(limits.workers) as pool:
        return list(pool.map(lambda j: run_in_sandbox(j[0], j[1], limits), jobs))
