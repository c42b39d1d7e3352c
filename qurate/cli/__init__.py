"""The `qurate` command line: a thin Typer app over the library.

Each command group lives in its own module under ``qurate/cli/`` and exposes either
``app`` (a Typer sub-app) or ``register(root)``. A command parses flags, builds a config,
calls one library function and renders the result. Library errors (``QurateError``) become
a one-line message and exit code 2, never a traceback. Anything else (a full disk, a bug) is
one line too, exit 1, naming the file that holds the traceback. Ctrl-C (exit 130) and
SIGTERM (exit 143) say in one line that rerunning the command resumes. A path that cannot be
written (read-only, permission denied, disk full) is a one-line error naming it, exit 2.
``QURATE_TRACEBACK=1`` shows tracebacks instead, for debugging.
"""

from __future__ import annotations

import errno
import os
import signal
import sys
import threading
from pathlib import Path
from typing import NoReturn

import typer

from qurate import __version__
from qurate.errors import QurateError

app = typer.Typer(
    name="qurate",
    help="Curate raw text into a Qwen2.5-style pretraining mixture and train a Qwen2.5 model on it.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"qurate {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """qurate: filter, score, augment, synthesise, mix, train."""


_registered = False


def _register() -> None:
    """Attach every command group, once per process. Import here so `qurate --help` stays the
    only cost. Once: each registration adds every group again, and Typer builds the whole
    tree on every call, so a process calling `main` N times paid N times the tree."""
    global _registered
    if _registered:
        return
    from qurate.cli import commands

    commands.register(app)
    _registered = True


class Interrupted(BaseException):
    """Ctrl-C or SIGTERM, raised in the main thread so the command unwinds. Not a
    ``KeyboardInterrupt``: Typer turns that into a silent exit 130."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _on_signal(signum, frame) -> None:
    raise Interrupted(signum)


def _traceback_file(error: BaseException) -> str | None:
    """Write the traceback to a file in the temp folder; its path, or None if that fails."""
    import tempfile
    import time
    import traceback

    path = (
        Path(tempfile.gettempdir())
        / f"qurate-error-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"
    )
    try:
        path.write_text("".join(traceback.format_exception(error)))
    except OSError:
        return None
    return str(path)


def _say(message: str) -> None:
    """``message`` on stderr as one line: a line break inside it (a path named with one,
    ``run.ingest[0].inputs: a<newline>b: no such file``) is shown escaped, ``\\n``."""
    message = message.replace("\r", "\\r").replace("\n", "\\n")
    try:
        typer.secho(message, fg=typer.colors.RED, err=True)
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app, turning every failure into one clean line.

    Called in-process (a notebook, a test), it leaves the process as it found it: the signal
    handlers and ``sys.excepthook``, which Typer replaces on every call, are put back."""
    hook = sys.excepthook
    _open_standard_fds()
    errors = _printable_stdout()
    try:
        _main(argv)
    finally:
        sys.excepthook = hook
        if errors is not None:
            sys.stdout.reconfigure(errors=errors)


def _open_standard_fds() -> None:
    """Put ``/dev/null`` on a closed stdin, stdout or stderr (``qurate ... 2>&-``).

    A closed standard descriptor is taken by the next file opened, so a worker's or a
    library's write to "stderr" would land in a shard or manifest. And with no stderr, the
    import of datatrove failed (loguru cannot log to None): exit 1, no line at all. What a
    closed stdout or stderr was meant to show is lost, as with any program."""
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
            continue
        except OSError:
            pass
        null = os.open(os.devnull, os.O_RDONLY if fd == 0 else os.O_WRONLY)
        if null != fd:
            os.dup2(null, fd)
            os.close(null)
        os.set_inheritable(fd, True)  # os.open's are not: the forkserver had no stderr
    if sys.stderr is None:
        sys.stderr = open(2, "w", closefd=False)  # noqa: SIM115 - for the process's life


def _printable_stdout() -> str | None:
    """Let stdout print any character: one its encoding cannot hold (``PYTHONIOENCODING=ascii``,
    a Latin-1 terminal) is written escaped, ``\\xe9``, as Python already does on stderr.
    ``stats --sql`` over document text failed with ``UnicodeEncodeError`` (exit 1) instead.
    The previous error handler, to put back, or None when nothing was changed."""
    stream = sys.stdout
    errors = getattr(stream, "errors", None)
    if errors != "strict" or not hasattr(stream, "reconfigure"):
        return None
    try:
        stream.reconfigure(errors="backslashreplace")
    except (OSError, ValueError):
        return None
    return errors


def _main(argv: list[str] | None) -> None:
    if os.environ.get("QURATE_TRACEBACK"):
        _register()
        app(args=argv)
        return
    previous = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, _on_signal)
    try:
        _register()
        app(args=argv)
    except QurateError as e:
        _say(f"error: {e}")
        sys.exit(2)
    except Interrupted as e:
        what = "terminated (SIGTERM)" if e.signum == signal.SIGTERM else "interrupted"
        from qurate.contract.executors import kill_descendants

        kill_descendants()  # before they notice and print tracebacks of their own
        _say(f"{what}: finished work is kept; rerun the same command to resume")
        # No interpreter shutdown: worker pools and their threads would print their own
        # errors on the way down. Workers die with this process (die_with_parent).
        os._exit(128 + e.signum)
    except OSError as e:
        full = e.errno in (errno.ENOSPC, errno.EDQUOT)
        if full and e.filename is None:
            # A write to an open file, stdout included (`qurate init > /dev/full`): which one
            # is not known, the cause is. Was "error: OSError: [Errno 28] ...", exit 1.
            _say(f"error: {e.strerror} (free some space)")
            sys.exit(2)
        if e.errno == errno.ENOENT and e.filename is None and not _cwd_exists():
            # os.getcwd() fails: a relative path cannot be resolved, and worker processes
            # cannot start. Was "error: FileNotFoundError: [Errno 2] ...", exit 1.
            _say(
                "error: the current directory no longer exists (deleted while in use); "
                "cd to an existing directory and rerun"
            )
            sys.exit(2)
        if e.errno not in _PLACE_ERRNOS or e.filename is None:
            _internal(e)
        hint = "free some space" if full else "choose another place or fix its permissions"
        _say(f"error: {e.filename}: {e.strerror} ({hint})")
        sys.exit(2)
    except Exception as e:
        _internal(e)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _cwd_exists() -> bool:
    try:
        os.getcwd()
    except OSError:
        return False
    return True


# A path the user named cannot be written there (read-only, not allowed, full): their
# setup, not a bug, so no traceback file; one line naming the path.
_PLACE_ERRNOS = frozenset(
    {
        errno.EROFS,
        errno.EACCES,
        errno.EPERM,
        errno.ENOSPC,
        errno.EDQUOT,
        errno.ENAMETOOLONG,
        errno.ENOTDIR,  # `-o some-file/sub`: a file where a folder has to be
    }
)


def _internal(e: BaseException) -> NoReturn:
    """Anything else is ours: one line, exit 1, the traceback in a file."""
    first = str(e).strip().splitlines()[0] if str(e).strip() else ""
    where = _traceback_file(e)
    _say(
        f"error: {type(e).__name__}{': ' + first if first else ''}"
        + (f" (traceback in {where})" if where else "")
    )
    sys.exit(1)
