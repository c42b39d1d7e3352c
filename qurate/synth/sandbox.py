"""Run untrusted code against its tests in a sandbox the kernel enforces.

A run is a small process tree (:mod:`qurate.synth.sandbox_child` is its inside):

1. **Kernel containment (root with namespaces, the default here and in CI).** The run is
   started with ``unshare --pid --fork --kill-child --mount --mount-proc --net --ipc --uts``
   and is a fresh PID namespace: when its PID 1 exits (after the supervisor, or killed with
   unshare at the timeout) the kernel kills every process of the run, new sessions and
   daemons included.
   In its private mount namespace every mount is remounted read-only and a fresh tmpfs
   (``tmp_mb``) on ``/tmp`` is the only writable place; it vanishes with the run. The network
   namespace is empty (a down loopback only).
2. **Two processes, two uids.** The solution runs in one process and the tests in another,
   each as its own random unprivileged uid (so ``RLIMIT_NPROC`` is the run's own: a fork
   bomb cannot starve runs next to it). The tests see the solution through a pipe and get
   back builtin values only (:mod:`qurate.synth.sandbox_rpc`), so neither the verdict nor an
   ``==`` is ever computed where the solution runs: it cannot forge a pass.
3. **Resource limits** on each process: address space, CPU seconds, processes, file size,
   open files, no core dumps; plus the wall-clock timeout enforced here.
4. **The audit hook** in both processes, a second layer: sockets, new processes, signals,
   ctypes, writes outside the sandbox directory and other processes' ``/proc`` are refused.

Without root or namespaces the runs fall back to layers 2 to 4 (one uid for both unless
root) in a new session and process group, killed at the end; a warning says so once.
Measured (``bench/synth.py --code-only``, 2 loaded cores, 2 workers): 94 ms per sample,
against 93 ms for the older one-process sandbox and 39 ms for a bare ``python -I``; about
38 ms of CPU per sample against 30 ms before (bench/RESULTS.md). Python code only.
"""

from __future__ import annotations

import ctypes
import importlib.util
import json
import logging
import os
import py_compile
import secrets
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

log = logging.getLogger("qurate.synth")
_CHILD = Path(__file__).with_name("sandbox_child.py")
_OUTPUT_TAIL = 2000
_NAMESPACES = ["--pid", "--fork", "--kill-child", "--mount", "--mount-proc", "--net", "--ipc"]
_NAMESPACES.append("--uts")


class SandboxLimits(BaseModel):
    """Limits of one sandboxed run. Defaults suit unit tests of a single function. The upper
    bounds keep each limit within what an rlimit and ``select`` take: beyond them a run
    crashed qurate (``timeout_s: 1e30``) or failed every sample, right ones included."""

    model_config = ConfigDict(extra="forbid")

    timeout_s: float = Field(10.0, gt=0, le=86_400, description="wall-clock limit of one run")
    memory_mb: int = Field(1024, ge=64, le=2**24, description="address-space limit (RLIMIT_AS)")
    max_processes: int = Field(
        8,
        ge=1,
        le=2**22,
        description="RLIMIT_NPROC of the solution (and of the tests): processes and threads, "
        "per run when running as root (each run has its own uids)",
    )
    max_file_mb: int = Field(
        16, ge=1, le=2**24, description="largest file (and stdout) it may write"
    )
    max_open_files: int = Field(
        64, ge=16, le=2**20, description="open file descriptors a run may hold (RLIMIT_NOFILE)"
    )
    workers: int = Field(2, ge=1, description="sandboxed runs in parallel")
    namespaces: bool = Field(
        True,
        description="as root: contain each run in fresh PID, mount, network, IPC and UTS "
        "namespaces (the kernel ends whatever it started; the file system is read-only but a "
        "private tmpfs); off, or where they are missing, the layers below only",
    )
    tmp_mb: int = Field(
        64, ge=1, description="size of the private tmpfs on /tmp, the only writable place"
    )
    network_namespace: bool = Field(
        True, description="as root without the other namespaces: still an empty network one"
    )
    drop_privileges: bool = Field(
        True,
        description="as root: the solution and the tests each run as a random, "
        "unprivileged uid of their own (namespaces need it)",
    )
    audit_hook: bool = Field(
        True, description="the in-process guard; turn off only to test the OS layers alone"
    )
    python: str | None = Field(
        None,
        description="interpreter for the code (default: this one, or the system python3 when "
        "this one is not reachable by other users, e.g. under a private /root)",
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


@cache
def _kernel_containment(python: str) -> str | None:
    """None when a real run's namespaces and file-system seal work here, else why not. Tried
    once per process with the sandbox's own setup code (``probe``)."""
    exe = shutil.which("unshare")
    if os.geteuid() != 0:
        return "not running as root"
    if exe is None:
        return "no unshare (util-linux)"
    with tempfile.TemporaryDirectory(prefix="qurate-sbx-probe-") as d:
        cfg = Path(d) / "probe.json"
        cfg.write_text(json.dumps({"probe": True, "tmp_mb": 1, "workdir_name": "probe"}))
        cmd = [exe, *_NAMESPACES, "--", *_child(python), str(cfg)]
        try:
            r = subprocess.run(cmd, capture_output=True, timeout=30, cwd=d)
        except (OSError, subprocess.SubprocessError) as e:
            return f"unshare failed ({e})"
    if r.returncode != 0:
        return "namespaces refused: " + r.stderr.decode(errors="replace").strip()[-200:]
    return None


def _world_executable(path: str) -> bool:
    """Whether any user can execute ``path``: every directory on the way to the real file
    is o+x and the file is o+x."""
    real = Path(os.path.realpath(path))
    try:
        if not real.stat().st_mode & 0o001:
            return False
        return all(p.stat().st_mode & 0o001 for p in real.parents)
    except OSError:
        return False


@cache
def _interpreter(configured: str | None, drop: bool) -> str | None:
    """The sandbox's interpreter: the configured one, else the first default this user may
    execute (a non-root user may not reach this process's own, e.g. a venv under a private
    /root: every sample used to crash); when dropping privileges, one any user may run.
    None when there is none."""
    candidates = (
        [configured]
        if configured
        else [sys.executable, "/usr/bin/python3", "/usr/local/bin/python3", shutil.which("python3")]
    )
    for c in candidates:
        if not c or not (configured or os.access(c, os.X_OK)):  # configured: used as given
            continue
        if not drop or _world_executable(c):
            return c
    return None


_warned: set[str] = set()


def isolation_summary(limits: SandboxLimits | None = None) -> dict[str, object]:
    """Which layers a run gets on this machine (recorded in the filter manifest). Logs once
    why kernel containment is missing when it was asked for."""
    limits = limits or SandboxLimits()
    root = os.geteuid() == 0
    drop = root and limits.drop_privileges and _interpreter(limits.python, True) is not None
    python = _interpreter(limits.python, drop) or sys.executable
    why = None
    if limits.namespaces:
        why = _kernel_containment(python) if drop else "not root, or privileges not dropped"
        if why and why not in _warned:
            _warned.add(why)
            log.warning(
                "code sandbox: no kernel containment here (%s); runs fall back to a new "
                "session, rlimits, separate solution/tests processes and the audit hook, so "
                "a process that leaves the session can outlive its run",
                why,
            )
    kernel = limits.namespaces and why is None
    return {
        "pid_namespace": kernel,
        "mount_namespace": kernel,
        "network_namespace": kernel or (root and limits.network_namespace and _can_unshare_net()),
        "drop_privileges": drop,
        "audit_hook": limits.audit_hook,
        "rlimits": True,
        "python": python,
    }


@cache
def _precompile() -> None:
    """Byte-compile the sandbox's own modules once per qurate process, so a run loads them
    rather than compiling ~900 lines (the child runs with ``-B`` and never writes a cache;
    measured ~3 ms of CPU per sample on the dev box). Skipped where the package is read-only:
    the child then compiles them itself."""
    for src in sorted(_CHILD.parent.glob("sandbox_*.py")):
        try:
            cached = Path(importlib.util.cache_from_source(str(src)))
            if not cached.exists() or cached.stat().st_mtime < src.stat().st_mtime:
                py_compile.compile(str(src), cfile=str(cached), doraise=True)
        except (OSError, py_compile.PyCompileError):
            pass


def _child(python: str) -> list[str]:
    """The interpreter command line that runs ``sandbox_child.main`` from its cached
    bytecode (a script given by path would be compiled every time); the child's path stays
    in the command line, so ``ps`` shows what it is."""
    _precompile()
    boot = (
        f"import sys; sys.argv[0] = {str(_CHILD)!r}; sys.path.insert(0, {str(_CHILD.parent)!r}); "
        "import sandbox_child; del sys.path[0]; sandbox_child.main()"
    )
    return [python, "-I", "-B", "-c", boot]


@cache
def _die_with_us() -> list[str]:
    """``setpriv --pdeathsig KILL --`` where util-linux has it (else nothing): ``unshare``,
    the top of a contained run, is then killed by the kernel when the thread that started
    it dies, and takes the run's PID namespace with it. Without it a ``qurate`` killed with
    SIGKILL left every running sample behind (a sleeping one for ever). Outside a PID
    namespace the child does the same for itself (``sandbox_child.main``)."""
    exe = shutil.which("setpriv")
    if exe is None:
        return []
    cmd = [exe, "--pdeathsig", "KILL", "--"]
    try:
        ok = subprocess.run([*cmd, "true"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return []
    return cmd if ok else []


def _command(cfg_path: Path, iso: dict[str, Any]) -> list[str]:
    cmd = [*_child(str(iso["python"])), str(cfg_path)]
    unshare = shutil.which("unshare") or "unshare"
    if iso["pid_namespace"]:
        return [*_die_with_us(), unshare, *_NAMESPACES, "--", *cmd]
    if iso["network_namespace"]:
        return [unshare, "--net", "--", *cmd]
    return cmd


def _uid() -> int:
    """A random uid no account has: its process count (RLIMIT_NPROC) is this run's alone."""
    return 1_500_000_000 + secrets.randbelow(500_000_000)


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


@cache
def _not_dumpable() -> None:
    """Make this process not dumpable (PR_SET_DUMPABLE 0), once. Where the code runs as our
    own uid (no dropped privileges), it could otherwise read the tests out of our memory,
    reopen our end of the verdict pipe through ``/proc/<pid>/fd`` and write "passed" into it,
    or ptrace us: a wrong solution passed that way. Costs this process its core dumps."""
    try:
        ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: no /proc to reach us through either
        pass


def run_in_sandbox(code: str, tests: str, limits: SandboxLimits | None = None) -> SandboxResult:
    """Run ``tests`` against ``code`` in a fresh sandbox; never raises for anything the
    code does. Passed only when the tests process, which the code never runs in, says so."""
    limits = limits or SandboxLimits()
    iso = isolation_summary(limits)
    if not iso["drop_privileges"]:
        _not_dumpable()
    t0 = time.perf_counter()
    run = Path(tempfile.mkdtemp(prefix="qurate-sbx-run-"))  # 0700: out of the code's reach
    work = None
    if not iso["pid_namespace"]:  # with namespaces the work dir lives in the private tmpfs
        work = Path(tempfile.mkdtemp(prefix="qurate-sbx-"))
        os.chmod(work, 0o1777)
    r_fd, w_fd = os.pipe()
    try:
        (run / "tests.py").write_text(tests, encoding="utf-8")
        cfg = {
            "namespaces": iso["pid_namespace"],
            "parent": os.getpid(),  # outside a PID namespace the child dies with it
            "workdir": str(work) if work else None,
            "workdir_name": f"qurate-sbx-{secrets.token_hex(8)}",
            "tmp_mb": limits.tmp_mb,
            "result_fd": w_fd,
            "solution": code,
            "tests_path": str(run / "tests.py"),
            "solution_uid": _uid() if iso["drop_privileges"] else None,
            "tests_uid": _uid() if iso["drop_privileges"] else None,
            "memory_bytes": limits.memory_mb * 2**20,
            "cpu_seconds": max(1, int(limits.timeout_s + 1)),
            "max_processes": limits.max_processes,
            "max_file_bytes": limits.max_file_mb * 2**20,
            "max_open_files": limits.max_open_files,
            "audit_hook": limits.audit_hook,
            "env": {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "PYTHONHASHSEED": "0"},
        }
        (run / "run.json").write_text(json.dumps(cfg), encoding="utf-8")
        with (run / "out").open("wb") as out, (run / "err").open("wb") as err:
            try:
                proc = subprocess.Popen(
                    _command(run / "run.json", iso),
                    cwd=run,
                    env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=err,
                    start_new_session=True,  # its own process group, killed whole at the end
                    pass_fds=(w_fd,),
                )
            except OSError as e:  # no interpreter, no unshare: the sample cannot be run
                dt = time.perf_counter() - t0
                return SandboxResult(False, "crashed", f"cannot start the sandbox: {e}", dt)
            os.close(w_fd)
            w_fd = -1
            try:
                raw, timed_out = _await_verdict(r_fd, t0 + limits.timeout_s)
            finally:
                # The verdict is in (or time is up): the group goes, unshare and the run's
                # PID 1 with it (--kill-child), and with PID 1 the kernel ends every other
                # process of the run. Nothing waits for the teardown of the leftovers.
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
                proc.wait()
        verdict = _parse_verdict(raw)
        stdout, stderr = _tail(run / "out"), _tail(run / "err")
        dt = time.perf_counter() - t0
        if timed_out:
            return SandboxResult(
                False, "timeout", f"over {limits.timeout_s:g}s", dt, stdout, stderr
            )
        if verdict is None:
            rc = proc.returncode
            how = f"killed by signal {-rc}" if rc < 0 else f"exited {rc} before the tests ran"
            return SandboxResult(False, "killed" if rc < 0 else "crashed", how, dt, stdout, stderr)
        status, detail = verdict
        return SandboxResult(status == "passed", status, detail, dt, stdout, stderr)
    finally:
        if w_fd >= 0:
            os.close(w_fd)
        os.close(r_fd)
        _rmtree(run)
        if work is not None:
            _rmtree(work)


_STATUSES = {"passed", "failed", "timeout", "memory", "killed", "crashed"}


def _await_verdict(fd: int, deadline: float) -> tuple[bytes, bool]:
    """What the supervisor wrote on its result pipe, up to its one line or its exit; and
    whether the deadline (``time.perf_counter()``) passed first. Only the supervisor holds
    the other end: neither the solution nor the tests process keeps it."""
    buf = b""
    while b"\n" not in buf and len(buf) < 1 << 16:
        left = deadline - time.perf_counter()
        if left <= 0:
            return buf, True
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            chunk = os.read(fd, 65536)
            if not chunk:
                break  # the supervisor is gone
            buf += chunk
    return buf, False


def _parse_verdict(raw: bytes) -> tuple[str, str] | None:
    """(status, detail) from the supervisor's JSON line, or None."""
    try:
        v = json.loads(raw.decode("utf-8").splitlines()[0])
        status, detail = v["status"], str(v.get("detail", ""))
    except (ValueError, IndexError, KeyError, TypeError, AttributeError):
        return None
    return (status, detail) if status in _STATUSES else None


def run_many(
    jobs: list[tuple[str, str]],
    limits: SandboxLimits | None = None,
    on_done: Callable[[], None] | None = None,
) -> list[SandboxResult]:
    """``run_in_sandbox`` for each ``(code, tests)``, ``limits.workers`` at a time;
    ``on_done`` is called as each finishes (a progress bar)."""
    limits = limits or SandboxLimits()

    def one(job: tuple[str, str]) -> SandboxResult:
        result = run_in_sandbox(job[0], job[1], limits)
        if on_done is not None:
            on_done()
        return result

    if limits.workers == 1 or len(jobs) <= 1:
        return [one(j) for j in jobs]
    with ThreadPoolExecutor(limits.workers) as pool:
        return list(pool.map(one, jobs))
