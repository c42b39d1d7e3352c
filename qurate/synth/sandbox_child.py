"""The child side of the code sandbox: runs *inside* the sandboxed process, before any
untrusted code, and is executed as a standalone file (``python -I sandbox_child.py``), so it
imports only the standard library and nothing from qurate.

Order matters: it first reads and deletes its one-shot config (the nonce that authenticates
its result), then lowers its own resource limits (address space, CPU seconds, processes,
file size, open files, no core dumps), then installs an audit hook
(:pep:`578`) that refuses, for the rest of the process's life, every event a test has no
business raising: sockets, new processes, signals to other processes, ctypes (the way around
audit hooks), opening files for writing outside the sandbox directory, and reading other
processes' ``/proc`` entries (their environment). Only then does it execute the solution and
its tests in one namespace, call every top-level ``test_*`` function, and report
``<nonce> passed`` on the result pipe. Anything else - an exception, ``sys.exit`` before the
tests ran, ``os._exit``, a kill by a limit - leaves no authenticated "passed" line, so the
parent counts it as a failure: a solution cannot pass by exiting early.

The OS limits hold even against code that escapes the hook; the hook makes the common
escapes fail fast with a readable error instead of a limit kill.
"""

import json
import os
import resource
import sys

_FORBIDDEN = {
    "os.fork",
    "os.forkpty",
    "os.system",
    "os.exec",
    "os.posix_spawn",
    "os.spawn",
    "os.killpg",
    "os.setuid",
    "os.setgid",
    "os.setsid",
    "subprocess.Popen",
    "pty.spawn",
    "socket.connect",
    "socket.bind",
    "socket.sendto",
    "socket.sendmsg",
    "socket.getaddrinfo",
    "socket.gethostbyname",
    "socket.gethostbyaddr",
    "ctypes.dlopen",
    "ctypes.dlsym",
    "ctypes.cdata",
    "ctypes.call_function",
    "signal.pthread_kill",
    "os.symlink",
    "os.link",
    "os.chown",
}
# Filesystem events whose first argument is a path that must stay inside the sandbox dir.
_PATH_WRITES = {
    "os.remove",
    "os.rmdir",
    "os.rename",
    "os.mkdir",
    "os.chmod",
    "os.truncate",
    "os.utime",
    "shutil.rmtree",
    "shutil.copyfile",
    "shutil.move",
}
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC


def _inside(path, root):
    if isinstance(path, int):
        return True  # an already open descriptor
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    real = os.path.realpath(os.path.join(os.getcwd(), os.fspath(path)))
    return real == root or real.startswith(root + os.sep)


def _make_hook(root):
    me = str(os.getpid())

    def hook(event, args):
        if event in _FORBIDDEN:
            raise PermissionError(f"sandbox: {event} is not allowed")
        if event == "open":
            path, mode, flags = args
            if isinstance(path, int):
                return
            writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
                isinstance(flags, int) and flags & _WRITE_FLAGS
            )
            if writing and not _inside(path, root):
                raise PermissionError(f"sandbox: writing outside the sandbox: {path}")
            p = os.fspath(path) if not isinstance(path, bytes) else os.fsdecode(path)
            parts = os.path.realpath(os.path.join(os.getcwd(), p)).split(os.sep)
            if len(parts) > 2 and parts[1] == "proc" and parts[2] not in ("self", me):
                if parts[2].isdigit():
                    raise PermissionError("sandbox: reading other processes is not allowed")
        elif event in _PATH_WRITES:
            for path in args[:2]:
                if isinstance(path, (str, bytes, os.PathLike)) and not _inside(path, root):
                    raise PermissionError(f"sandbox: {event} outside the sandbox: {path}")
        elif event == "os.kill":
            pid = args[0]
            if pid != os.getpid():
                raise PermissionError("sandbox: signalling other processes is not allowed")

    return hook


def _limit(kind, value):
    try:
        resource.setrlimit(kind, (value, value))
    except (ValueError, OSError):
        soft, hard = resource.getrlimit(kind)  # cannot raise above hard: take the lower
        resource.setrlimit(kind, (min(value, hard), min(value, hard)))


def main():
    root = os.path.realpath(os.getcwd())
    with open(".sandbox.json", encoding="utf-8") as f:
        cfg = json.load(f)
    os.unlink(".sandbox.json")
    nonce, result_fd = cfg["nonce"], cfg["result_fd"]
    result = os.fdopen(result_fd, "w", encoding="utf-8")
    with open("solution.py", encoding="utf-8") as f:
        solution = f.read()
    with open("tests.py", encoding="utf-8") as f:
        tests = f.read()

    _limit(resource.RLIMIT_CORE, 0)
    _limit(resource.RLIMIT_AS, cfg["memory_bytes"])
    _limit(resource.RLIMIT_CPU, cfg["cpu_seconds"])
    _limit(resource.RLIMIT_NPROC, cfg["max_processes"])
    _limit(resource.RLIMIT_FSIZE, cfg["max_file_bytes"])
    _limit(resource.RLIMIT_NOFILE, cfg["max_open_files"])
    if cfg["audit_hook"]:
        sys.addaudithook(_make_hook(root))

    namespace = {"__name__": "solution", "__builtins__": __builtins__}
    try:
        exec(compile(solution, "solution.py", "exec"), namespace)
        exec(compile(tests, "tests.py", "exec"), namespace)
        n = 0
        for name, fn in list(namespace.items()):
            if name.startswith("test_") and callable(fn):
                fn()
                n += 1
    except MemoryError:
        result.write(f"{nonce} memory MemoryError\n")
        result.flush()
        os._exit(1)
    except BaseException as e:  # noqa: BLE001 - SystemExit too: exiting early is a failure
        msg = f"{type(e).__name__}: {e}".replace("\n", " ")[:500]
        result.write(f"{nonce} failed {msg}\n")
        result.flush()
        os._exit(1)
    result.write(f"{nonce} passed {n}\n")
    result.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
