"""The code sandbox against every hostile snippet of the issue, with short limits and a low
process cap (the machine is small and shared). Where the OS layers apply (root: unprivileged
uids, namespaces), the dangerous cases also run with the audit hook off, to show the OS
layers hold on their own. The attacks of issue 12 are in ``test_sandbox_hostile.py``."""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from pathlib import Path

import pytest

from qurate.synth.sandbox import SandboxLimits, isolation_summary, run_in_sandbox, run_many

FAST = SandboxLimits(timeout_s=1.5, memory_mb=256, max_processes=6, workers=2)
OS_ONLY = FAST.model_copy(update={"audit_hook": False})
ISO = isolation_summary(FAST)
needs_os_layers = pytest.mark.skipif(
    not (ISO["drop_privileges"] and ISO["network_namespace"]),
    reason="OS layers need root with unshare (nobody + network namespace)",
)


def _sandbox_procs(wait_s: float = 3.0) -> list[int]:
    """Processes still running our child script (not zombies), after SIGKILL has had up to
    ``wait_s`` to land: delivery to a process group is asynchronous."""
    deadline = time.monotonic() + wait_s
    while True:
        out = []
        for p in Path("/proc").iterdir():
            if p.name.isdigit():
                try:
                    alive = (p / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
                    if alive and b"sandbox_child.py" in (p / "cmdline").read_bytes():
                        out.append(int(p.name))
                except (OSError, IndexError):
                    pass
        if not out or time.monotonic() > deadline:
            return out
        time.sleep(0.05)


def test_passing_and_failing_solutions():
    code = "def add(a, b):\n    return a + b\n"
    ok = run_in_sandbox(
        code, "assert add(1, 2) == 3\ndef test_neg():\n    assert add(-1, 1) == 0\n", FAST
    )
    assert ok.passed and ok.status == "passed" and ok.detail == "1"  # one test_ function ran
    bad = run_in_sandbox(code, "assert add(2, 2) == 5\n", FAST)
    assert not bad.passed and bad.status == "failed" and "AssertionError" in bad.detail


@pytest.mark.parametrize("exit_code", ["import sys\nsys.exit(0)", "import os\nos._exit(0)"])
def test_exiting_before_the_tests_is_a_failure(exit_code):
    r = run_in_sandbox(exit_code, "assert False\n", FAST)
    assert not r.passed


def test_infinite_loop_is_stopped_by_the_time_limit():
    r = run_in_sandbox("while True:\n    pass\n", "", FAST)
    assert r.status == "timeout" and not r.passed
    assert r.seconds < FAST.timeout_s + 1.5
    assert not _sandbox_procs()


def test_fork_bomb_is_refused():
    r = run_in_sandbox("import os\nwhile True:\n    os.fork()\n", "", FAST)
    assert not r.passed and "os.fork" in r.detail
    assert not _sandbox_procs()


@needs_os_layers
def test_fork_bomb_hits_the_process_limit_without_the_hook():
    code = (
        "import os, time\nn = 0\n"
        "while True:\n"
        "    try:\n        pid = os.fork()\n"
        "    except OSError:\n        break\n"
        "    if pid == 0:\n        time.sleep(30)\n        os._exit(0)\n"
        "    n += 1\n"
        "print('forked', n, flush=True)\n"
    )
    r = run_in_sandbox(code, "", OS_ONLY)
    assert r.passed  # the loop ended by itself: fork failed at the cap
    forked = int(r.stdout.split()[-1])
    assert forked < OS_ONLY.max_processes
    assert not _sandbox_procs()  # the sleeping children died with the process group


@pytest.mark.parametrize(
    "bomb",
    ["x = bytearray(10 ** 10)\n", "chunks = []\nwhile True:\n    chunks.append(' ' * 10 ** 6)\n"],
)
@pytest.mark.parametrize("limits", [FAST, OS_ONLY], ids=["hook", "os-only"])
def test_memory_bomb_is_capped(bomb, limits):
    r = run_in_sandbox(bomb, "", limits)
    assert not r.passed and r.status in ("memory", "killed")


@pytest.mark.parametrize("limits", [FAST, OS_ONLY], ids=["hook", "os-only"])
def test_writes_outside_the_temp_dir_fail(tmp_path, limits):
    if not limits.audit_hook and not ISO["drop_privileges"]:
        pytest.skip("without the hook only a non-root user protects the file system")
    target = tmp_path / "escaped.txt"
    # pytest's tmp_path is private to root: the OS layer (nobody) alone refuses it.
    r = run_in_sandbox(f"open({str(target)!r}, 'w').write('pwned')\n", "", limits)
    assert not r.passed and not target.exists()
    if limits.audit_hook:  # /tmp is world-writable: only the hook stops that one
        shared = Path("/tmp") / f"qurate-escape-{uuid.uuid4().hex}"
        r = run_in_sandbox(f"open({str(shared)!r}, 'w').write('pwned')\n", "", limits)
        assert not r.passed and "outside the sandbox" in r.detail and not shared.exists()
        r = run_in_sandbox("import os\nos.remove('/etc/hostname')\n", "", limits)
        assert not r.passed and Path("/etc/hostname").exists()


def test_the_hook_refuses_a_directory_descriptor_outside_the_sandbox():
    # A path relative to a dir_fd resolves against that directory, which the hook's check
    # (against the cwd) did not see: os.open('x', O_CREAT, dir_fd=<fd of /tmp>) wrote outside.
    name = f"qurate-escape-{uuid.uuid4().hex}"
    via_open = (
        "import os\nd = os.open('/tmp', os.O_RDONLY)\n"
        f"fd = os.open({name!r}, os.O_WRONLY | os.O_CREAT, dir_fd=d)\nos.write(fd, b'x')\n"
    )
    r = run_in_sandbox(via_open, "", FAST)
    assert not r.passed and "opening a directory outside the sandbox" in r.detail
    assert not (Path("/tmp") / name).exists()
    # a descriptor of the sandbox's own directory is fine, but no path event takes a dir_fd
    own = "import os\nd = os.open('.', os.O_RDONLY)\nos.mkdir('sub', dir_fd=d)\n"
    r = run_in_sandbox(own, "", FAST)
    assert not r.passed and "os.mkdir with dir_fd is not allowed" in r.detail
    ok = "import os\nos.mkdir('sub')\nos.rename('sub', 'sub2')\nos.rmdir('sub2')\n"
    assert run_in_sandbox(ok, "", FAST).passed


def test_its_own_dir_is_writable_and_removed():
    code = (
        "import os\nopen('scratch.txt', 'w').write('ok')\n"
        "print(os.getcwd(), os.environ['HOME'], flush=True)\n"
    )
    r = run_in_sandbox(code, "assert open('scratch.txt').read() == 'ok'\n", FAST)
    assert r.passed
    cwd, home = r.stdout.split()
    assert cwd == home and not Path(cwd).exists()


@pytest.mark.parametrize("limits", [FAST, OS_ONLY], ids=["hook", "os-only"])
def test_network_access_fails(limits):
    if not limits.audit_hook and not ISO["network_namespace"]:
        pytest.skip("without a network namespace only the hook blocks sockets")
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(0.5)
    port = server.getsockname()[1]
    code = (
        "import socket\ns = socket.socket()\ns.settimeout(1)\n"
        f"s.connect(('127.0.0.1', {port}))\ns.sendall(b'leak')\n"
    )
    r = run_in_sandbox(code, "", limits)
    with pytest.raises(socket.timeout):
        server.accept()  # nothing ever reached the listener
    server.close()
    assert not r.passed
    r = run_in_sandbox(
        "import urllib.request\nurllib.request.urlopen('http://example.com', timeout=1)\n",
        "",
        limits,
    )
    assert not r.passed


@pytest.mark.parametrize("limits", [FAST, OS_ONLY], ids=["hook", "os-only"])
def test_environment_secrets_are_not_visible(monkeypatch, limits):
    if not limits.audit_hook and not ISO["drop_privileges"]:
        pytest.skip("without the hook only a different user hides /proc/<parent>/environ")
    monkeypatch.setenv("QURATE_TEST_SECRET", "hunter2-secret")
    code = (
        "import os\nprint(dict(os.environ), flush=True)\n"
        "print(open(f'/proc/{os.getppid()}/environ', 'rb').read(), flush=True)\n"
    )
    r = run_in_sandbox(code, "", limits)
    seen = r.stdout + r.stderr + r.detail
    assert "hunter2-secret" not in seen
    assert "QURATE_TEST_SECRET" not in seen
    assert "'HOME'" in r.stdout  # it did run and print its (clean) environment


@pytest.mark.parametrize("limits", [FAST, OS_ONLY], ids=["hook", "os-only"])
def test_it_cannot_kill_its_parent(limits):
    if not limits.audit_hook and not ISO["drop_privileges"]:
        pytest.skip("without the hook only a different user protects the parent")
    code = (
        "import os, signal\n"
        "for sig in (signal.SIGTERM, signal.SIGKILL):\n"
        "    try:\n        os.kill(os.getppid(), sig)\n"
        "    except OSError as e:\n        print('refused', e, flush=True)\n"
        "    try:\n        os.killpg(os.getpgid(os.getppid()), sig)\n"
        "    except OSError as e:\n        print('refused', e, flush=True)\n"
    )
    r = run_in_sandbox(code, "", limits)
    # We are still here (pytest is the parent), and the snippet saw every attempt refused.
    assert r.stdout.count("refused") == 4
    assert os.getpid() > 0


def test_runs_in_parallel_are_independent():
    jobs = [(f"x = {i}\n", f"assert x == {i}\n") for i in range(4)] + [
        ("x = 1\n", "assert x == 2\n")
    ]
    results = run_many(jobs, FAST)
    assert [r.passed for r in results] == [True, True, True, True, False]


def test_threads_do_not_share_result_pipes():
    out: list[bool] = []

    def one(i: int) -> None:
        out.append(run_in_sandbox(f"v = {i}\n", f"assert v == {i}\n", FAST).passed)

    ts = [threading.Thread(target=one, args=(i,)) for i in range(3)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert out == [True, True, True]


def test_a_broken_interpreter_fails_the_sample_not_the_run():
    r = run_in_sandbox(
        "x = 1\n", "assert x == 1\n", FAST.model_copy(update={"python": "/nonexistent/python3"})
    )
    assert not r.passed and r.status == "crashed"
