"""The inside of the code sandbox: ``python -I -B sandbox_child.py CONFIG``, started by
:mod:`qurate.synth.sandbox`. Standard library only (it imports :mod:`sandbox_rpc`, its
sibling file, and nothing from qurate).

It is the run's supervisor. With kernel containment it starts as PID 1 of a fresh PID
namespace (``unshare --pid --fork --kill-child --mount --net --ipc --uts``), still root, and
first seals the file system of its private mount namespace: every mount is bind-remounted
read-only and a fresh, size-capped tmpfs is mounted on ``/tmp`` (and ``/dev/shm``), the only
writable place, gone with the namespace. PID 1 then only waits for PID 2, the supervisor
proper, which forks two children, each with its own unprivileged uid (random per run, so
``RLIMIT_NPROC`` counts only this run's processes) and its own resource limits:

- the **solution** process runs the untrusted code and answers requests
  (:func:`sandbox_rpc.serve_solution`);
- the **tests** process runs the tests against it (:func:`sandbox_rpc.run_tests`) and alone
  holds the pipe its verdict goes on. It never runs solution code, and the solution cannot
  signal it, trace it or read its memory (another uid; non-dumpable).

The supervisor waits for the tests process, writes the verdict as one JSON line on the
result descriptor the parent gave it (which neither child keeps), and exits; so does PID 1,
and the kernel kills everything left in the namespace, sessions and daemons included.
Without namespaces (not root) it is a plain process in its own session and the same two
children run as the current user.

An audit hook (:pep:`578`) in both children stays as a second layer: it refuses sockets,
new processes, signals to other processes, ctypes, writes outside the sandbox directory and
reading other processes' ``/proc``, so the common escapes fail fast with a readable error.
The kernel layers hold without it (the tests run the escapes with it off).
"""

import ctypes
import json
import os
import re
import resource
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sandbox_rpc  # noqa: E402 - the sibling files, found through the line above

del sys.path[0]  # or qurate/synth/select.py would shadow the standard library's select

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
# mount(2) flags
_MS_RDONLY, _MS_NOSUID, _MS_NODEV, _MS_NOEXEC = 1, 2, 4, 8
_MS_REMOUNT, _MS_BIND, _MS_REC, _MS_PRIVATE = 32, 4096, 16384, 1 << 18
_ST_KEEP = {  # statvfs f_flag bit -> mount flag, kept when remounting read-only
    os.ST_NOSUID: _MS_NOSUID,
    os.ST_NODEV: _MS_NODEV,
    os.ST_NOEXEC: _MS_NOEXEC,
    os.ST_NOATIME: 1024,
    os.ST_NODIRATIME: 2048,
    os.ST_RELATIME: 1 << 21,
}


# Where each path event carries its dir_fd arguments. A relative path with a dir_fd resolves
# against that directory, not the cwd that _inside() checks, so a dir_fd is refused outright.
_DIR_FD_ARGS = {
    "os.remove": (1,),
    "os.rmdir": (1,),
    "os.mkdir": (2,),
    "os.chmod": (2,),
    "os.utime": (3,),
    "os.rename": (2, 3),
}


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
            # the "open" event does not carry os.open's dir_fd: a descriptor of a directory
            # outside the sandbox would let a relative path escape, so none is handed out
            if not _inside(path, root) and os.path.isdir(path):
                raise PermissionError(f"sandbox: opening a directory outside the sandbox: {path}")
            p = os.fspath(path) if not isinstance(path, bytes) else os.fsdecode(path)
            parts = os.path.realpath(os.path.join(os.getcwd(), p)).split(os.sep)
            if len(parts) > 2 and parts[1] == "proc" and parts[2] not in ("self", me):
                if parts[2].isdigit():
                    raise PermissionError("sandbox: reading other processes is not allowed")
        elif event in _PATH_WRITES:
            for i in _DIR_FD_ARGS.get(event, ()):
                if len(args) > i and args[i] not in (None, -1, -100):  # none, or AT_FDCWD
                    raise PermissionError(f"sandbox: {event} with dir_fd is not allowed")
            for path in args[:2]:
                if isinstance(path, (str, bytes, os.PathLike)) and not _inside(path, root):
                    raise PermissionError(f"sandbox: {event} outside the sandbox: {path}")
        elif event == "os.kill":
            if args[0] != os.getpid():
                raise PermissionError("sandbox: signalling other processes is not allowed")

    return hook


def _limit(kind, value):
    try:
        resource.setrlimit(kind, (value, value))
    except (ValueError, OSError):
        soft, hard = resource.getrlimit(kind)  # cannot raise above hard: take the lower
        resource.setrlimit(kind, (min(value, hard), min(value, hard)))


# --- kernel containment (PID 1 of the namespaces, root) ------------------------------------


def _mount(libc, source, target, fstype, flags, data):
    enc = [None if x is None else os.fsencode(x) for x in (source, target, fstype, data)]
    if libc.mount(enc[0], enc[1], enc[2], flags, enc[3]) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"mount {target}: {os.strerror(err)}")


def _mount_points():
    with open("/proc/self/mountinfo", "rb") as f:
        points = [line.split()[4] for line in f if line.strip()]
    # mountinfo escapes space, tab, newline and backslash as octal (\040); names are bytes
    octal = re.compile(rb"\\([0-7]{3})")
    return [os.fsdecode(octal.sub(lambda m: bytes([int(m.group(1), 8)]), p)) for p in points]


def seal(cfg):
    """Make the whole file system read-only in this mount namespace and mount the private
    tmpfs; returns the sandbox directory. Raises OSError when a step fails (the sample is
    then not run: containment is never silently partial)."""
    libc = ctypes.CDLL(None, use_errno=True)
    _mount(libc, None, "/", None, _MS_REC | _MS_PRIVATE, None)  # nothing leaks to the host
    for point in _mount_points():
        try:
            st = os.statvfs(point)
        except OSError:
            continue  # hidden under another mount
        flags = _MS_REMOUNT | _MS_BIND | _MS_RDONLY
        flags |= sum(m for bit, m in _ST_KEEP.items() if st.f_flag & bit)
        try:
            _mount(libc, None, point, None, flags, None)
        except OSError:
            if point.startswith(("/proc/", "/sys/")) or st.f_flag & os.ST_RDONLY:
                continue  # kernel pseudo-files root alone may write
            raise
    size = f"size={cfg['tmp_mb']}m,nr_inodes=4096,mode=1777"
    opts = _MS_NOSUID | _MS_NODEV
    _mount(libc, "tmpfs", "/tmp", "tmpfs", opts, size)
    if os.path.isdir("/dev/shm"):
        _mount(libc, "tmpfs", "/dev/shm", "tmpfs", opts, "size=16m,nr_inodes=256,mode=1777")
    work = os.path.join("/tmp", cfg["workdir_name"])
    os.mkdir(work)
    os.chmod(work, 0o1777)
    return work


# --- the two children -------------------------------------------------------------------


def _become(cfg, uid, keep, workdir, supervisor):
    """In a fresh child of the supervisor: close every descriptor but ``keep`` and the three
    standard ones, lower the limits, drop to ``uid``, refuse to be traced."""
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd > 2 and fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass
    os.chdir(workdir)
    _limit(resource.RLIMIT_CORE, 0)
    _limit(resource.RLIMIT_AS, cfg["memory_bytes"])
    _limit(resource.RLIMIT_CPU, cfg["cpu_seconds"])
    _limit(resource.RLIMIT_NPROC, cfg["max_processes"])
    _limit(resource.RLIMIT_FSIZE, cfg["max_file_bytes"])
    _limit(resource.RLIMIT_NOFILE, cfg["max_open_files"])
    if cfg["namespaces"]:
        os.setsid()  # a group of its own: a killpg of its parent's group cannot hit a sibling
    if uid is not None:
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
    libc = ctypes.CDLL(None)
    libc.prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE 0: no ptrace, no /proc/pid/mem
    libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG (a uid change cleared it)
    if os.getppid() != supervisor:
        os._exit(1)  # the supervisor is already gone
    os.environ.clear()
    os.environ.update(cfg["env"], HOME=workdir, TMPDIR=workdir)
    if cfg["audit_hook"]:
        sys.addaudithook(_make_hook(os.path.realpath(workdir)))


def _solution(cfg, calls_r, replies_w, workdir):
    _become(cfg, cfg["solution_uid"], (calls_r, replies_w), workdir, cfg["supervisor"])
    try:
        sandbox_rpc.serve_solution(cfg["solution"], calls_r, replies_w)
    finally:
        os._exit(0)


def _tests(cfg, replies_r, calls_w, report_w, workdir):
    _become(cfg, cfg["tests_uid"], (replies_r, calls_w, report_w), workdir, cfg["supervisor"])
    try:
        n = sandbox_rpc.run_tests(cfg["tests"], calls_w, replies_r)
        verdict, code = {"status": "passed", "detail": str(n)}, 0
    except BaseException as e:  # noqa: BLE001 - every way out but the end is a failure
        name = getattr(e, "solution_type", None) or type(e).__name__
        status = "memory" if isinstance(e, MemoryError) else "failed"
        if isinstance(e, sandbox_rpc.ProtocolError):
            name = "solution broke the harness"
        detail = f"{name}: {e}".replace("\n", " ")[:500]
        verdict, code = {"status": status, "detail": detail}, 1
    try:
        os.write(report_w, (json.dumps(verdict) + "\n").encode())
    finally:
        os._exit(code)


def _read_all(fd, limit=1 << 16):
    chunks = []
    while sum(map(len, chunks)) < limit:
        b = os.read(fd, 4096)
        if not b:
            break
        chunks.append(b)
    return b"".join(chunks)


def supervise(cfg, workdir):
    """Fork the solution and the tests processes, wait for the tests, and return the
    verdict as a dict (status, detail)."""
    cfg["supervisor"] = os.getpid()
    calls_r, calls_w = os.pipe()
    replies_r, replies_w = os.pipe()
    sol = os.fork()
    if sol == 0:
        _solution(cfg, calls_r, replies_w, workdir)
    os.close(calls_r)
    os.close(replies_w)
    # Read only now, from a descriptor the solution closed: its memory never held the tests,
    # so it cannot read answers off them.
    cfg["tests"] = _read_all(cfg["tests_fd"], 1 << 26).decode("utf-8", "replace")
    os.close(cfg["tests_fd"])
    report_r, report_w = os.pipe()  # likewise the pipe the verdict goes on
    tester = os.fork()
    if tester == 0:
        _tests(cfg, replies_r, calls_w, report_w, workdir)
    for fd in (calls_w, replies_r, report_w):
        os.close(fd)
    raw = _read_all(report_r)
    _, status = os.waitpid(tester, 0)
    try:
        verdict = json.loads(raw.decode("utf-8").splitlines()[0])
    except (ValueError, IndexError):
        verdict = None
    if not isinstance(verdict, dict):
        verdict = None
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        kind = "timeout" if sig == signal.SIGXCPU else "killed"
        return {"status": kind, "detail": f"the tests process was killed by signal {sig}"}
    if verdict is None:
        return {"status": "crashed", "detail": f"the tests process exited {status >> 8}"}
    if verdict.get("status") == "passed" and os.waitstatus_to_exitcode(status) != 0:
        return {"status": "crashed", "detail": "a pass without a clean exit"}
    if verdict.get("status") != "passed":
        pid, sstatus = os.waitpid(sol, os.WNOHANG)
        if pid == sol and os.WIFSIGNALED(sstatus):  # say why the solution went away
            sig = os.WTERMSIG(sstatus)
            kind = "timeout" if sig == signal.SIGXCPU else "killed"
            return {"status": kind, "detail": f"the solution was killed by signal {sig}"}
    return verdict


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        cfg = json.load(f)
    if cfg.get("probe"):  # can this machine seal a run? (asked once per qurate process)
        seal(cfg)
        os._exit(0)
    # Not dumpable: a process of the same uid (the solution's, without root) can then neither
    # reopen our descriptors through /proc/<pid>/fd (and write a verdict into them), nor
    # ptrace us, nor read the tests from our memory. Our two children inherit it.
    ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE 0
    if not cfg["namespaces"]:  # inside one, unshare --kill-child does this for PID 1
        ctypes.CDLL(None).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
        if os.getppid() != cfg["parent"]:
            os._exit(1)  # qurate is already gone: nobody waits for a verdict
    cfg["tests_fd"] = os.open(cfg["tests_path"], os.O_RDONLY)  # before the seal hides it
    try:
        if cfg["namespaces"]:
            workdir = seal(cfg)
            # PID 1 only waits; the supervisor is PID 2 in a session of its own, so the
            # children see a real parent group (not 0, "mine", nor 1, "everyone" to killpg).
            # When PID 1 exits, the kernel kills everything else in the namespace.
            pid = os.fork()
            if pid:
                os.waitpid(pid, 0)
                os._exit(0)
            os.setsid()
        else:
            workdir = cfg["workdir"]
        verdict = supervise(cfg, workdir)
    except OSError as e:
        verdict = {"status": "crashed", "detail": f"sandbox setup failed: {e}"}
    os.write(cfg["result_fd"], (json.dumps(verdict) + "\n").encode())
    os._exit(0)


if __name__ == "__main__":
    main()
