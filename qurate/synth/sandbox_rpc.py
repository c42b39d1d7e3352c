"""The wire between the two processes of a sandboxed run: the *tests* process, which decides
pass or fail, and the *solution* process, which holds the untrusted code. Standard library
only: the sandbox runs it as a plain module next to :mod:`sandbox_child`, never through
qurate.

Why two processes: anything the harness does in the solution's process, the solution can do
too (read the nonce from a frame, write "passed", ``os._exit(0)``). So the solution never
runs where the verdict is made. The tests process sees the solution's top-level names as
:class:`Remote` handles; a call, an attribute, an item, ``len``, ``iter``, ``str`` go over a
pipe and the answer comes back as a *value*: only exact builtin types (``None``, ``bool``,
``int``, ``float``, ``complex``, ``str``, ``bytes`` and ``list``/``tuple``/``dict``/``set``/
``frozenset`` of them) are copied; any other object (a subclass of ``int`` included) stays
behind as a handle whose ``==`` is identity and whose truth value is refused. So
``assert add(2, 3) == 5`` compares two real ints, in a process the solution cannot reach,
and an object whose ``__eq__`` always returns True never takes part. Exceptions come back as
the nearest builtin class (a solution's ``class Empty(ValueError)`` arrives as
``ValueError``). Arguments from the tests must be values, handles or builtin functions: a
lambda cannot cross (the test fails, it is never run in the solution's process).

Framing: 4-byte big-endian length, then UTF-8 JSON with one-key tagged objects for the
non-JSON types. Anything malformed from the solution is a protocol error, and the run fails.
"""

import base64
import builtins
import json
import os
import struct

MAX_MESSAGE = 32 << 20  # a reply larger than this is refused (the run fails)
_MAX_DEPTH = 200
_SCALARS = (type(None), bool, int, float, str)


class ProtocolError(BaseException):
    """The solution process broke the wire (died, or sent garbage): the run fails.

    A BaseException, so that a test's ``except Exception`` cannot swallow it."""


class SolutionError(Exception):
    """An exception of the solution with no builtin class above it (SystemExit, say)."""


# --- framing -------------------------------------------------------------------------------


def send(fd, obj):
    data = json.dumps(obj, allow_nan=True, separators=(",", ":")).encode("utf-8")
    msg = struct.pack(">I", len(data)) + data
    view = memoryview(msg)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def _read_exact(fd, n):
    chunks, got = [], 0
    while got < n:
        b = os.read(fd, min(n - got, 1 << 20))
        if not b:
            return None
        chunks.append(b)
        got += len(b)
    return b"".join(chunks)


def recv(fd):
    """The next message, or None at end of stream. Raises ProtocolError on garbage."""
    head = _read_exact(fd, 4)
    if head is None:
        return None
    (n,) = struct.unpack(">I", head)
    if n > MAX_MESSAGE:
        raise ProtocolError(f"a message of {n} bytes (limit {MAX_MESSAGE})")
    data = _read_exact(fd, n)
    if data is None:
        return None
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise ProtocolError(f"not a message: {type(e).__name__}") from None


# --- values ------------------------------------------------------------------------------


def encode(x, wrap, depth=0):
    """``x`` as JSON: exact builtin values copied, anything else ``wrap(x)`` (a handle)."""
    if depth > _MAX_DEPTH:
        raise ValueError("value nested too deeply")
    t = type(x)
    if t in _SCALARS:
        return x
    d = depth + 1
    if t is list:
        return {"l": [encode(v, wrap, d) for v in x]}
    if t is tuple:
        return {"t": [encode(v, wrap, d) for v in x]}
    if t is dict:
        return {"d": [[encode(k, wrap, d), encode(v, wrap, d)] for k, v in x.items()]}
    if t is set:
        return {"s": [encode(v, wrap, d) for v in x]}
    if t is frozenset:
        return {"f": [encode(v, wrap, d) for v in x]}
    if t is bytes:
        return {"b": base64.b64encode(x).decode("ascii")}
    if t is complex:
        return {"c": [x.real, x.imag]}
    return wrap(x)


def decode(x, from_handle, depth=0, allow_fn=True):
    """The inverse of :func:`encode`; handles become ``from_handle(int)``. Strict: anything
    else is a ProtocolError."""
    if depth > _MAX_DEPTH + 1:
        raise ProtocolError("value nested too deeply")
    t = type(x)
    if t in _SCALARS:
        return x
    if t is not dict or len(x) != 1:
        raise ProtocolError(f"unexpected {t.__name__} on the wire")
    ((tag, v),) = x.items()

    def sub(e):
        return decode(e, from_handle, depth + 1, allow_fn)

    try:
        if tag == "l":
            return [sub(e) for e in v]
        if tag == "t":
            return tuple(sub(e) for e in v)
        if tag == "d":
            return {sub(k): sub(e) for k, e in v}
        if tag == "s":
            return {sub(e) for e in v}
        if tag == "f":
            return frozenset(sub(e) for e in v)
        if tag == "b":
            return base64.b64decode(v.encode("ascii"), validate=True)
        if tag == "c":
            return complex(float(v[0]), float(v[1]))
        if tag == "h" and type(v) is int:
            return from_handle(v)
        if tag == "fn" and allow_fn and type(v) is str:  # only the tests may send these
            fn = getattr(builtins, v, None)
            if callable(fn):
                return fn
    except ProtocolError:
        raise
    except Exception as e:  # wrong shapes: unhashable keys, bad base64, ...
        raise ProtocolError(f"bad {tag!r} value: {type(e).__name__}") from None
    raise ProtocolError(f"unknown tag {tag!r}")


def describe_exception(e):
    """``{"e": nearest builtin exception class name, "m": message}`` for the wire."""
    name = "SolutionError"
    for cls in type(e).__mro__:
        if getattr(builtins, cls.__name__, None) is cls and issubclass(cls, Exception):
            name = cls.__name__
            break
    try:
        msg = str(e)[:1000]
    except Exception:  # a __str__ that raises
        msg = "<unprintable>"
    return {"e": name, "m": msg, "type": type(e).__name__[:100]}


def rebuild_exception(info):
    """The exception to raise in the tests process for a ``describe_exception`` dict."""
    if type(info) is not dict:
        raise ProtocolError("bad exception")
    cls = getattr(builtins, str(info.get("e")), None)
    msg = str(info.get("m", ""))
    if not (isinstance(cls, type) and issubclass(cls, Exception)):
        cls = SolutionError
    try:
        exc = cls(msg)
    except Exception:  # UnicodeDecodeError and a few others need more arguments
        exc = SolutionError(f"{info.get('e')}: {msg}")
    exc.solution_type = str(info.get("type", cls.__name__))
    return exc


# --- the solution's side -------------------------------------------------------------------


def _apply(op, target, arg):
    if op == "call":
        args, kwargs = arg
        return target(*args, **kwargs)
    if op == "getattr":
        return getattr(target, arg)
    if op == "setattr":
        return setattr(target, arg[0], arg[1])
    if op == "getitem":
        return target[arg]
    if op == "setitem":
        target[arg[0]] = arg[1]
        return None
    if op == "delitem":
        del target[arg]
        return None
    if op == "len":
        return len(target)
    if op == "iter":
        return iter(target)
    if op == "next":
        return next(target)
    if op == "contains":
        return arg in target
    if op == "isinstance":
        return isinstance(arg, target)
    if op == "str":
        return str(target)
    if op == "repr":
        return repr(target)
    raise ProtocolError(f"unknown operation {op!r}")


def serve_solution(source, calls_fd, replies_fd):
    """Run the solution, send its top-level names, then answer the tests' requests until
    they close the pipe. Runs in the solution's process, so nothing here is trusted."""
    objects, ids = [], {}

    def wrap(o):
        h = ids.get(id(o))
        if h is None:  # objects are kept alive, so an id is never reused for another
            h = ids[id(o)] = len(objects)
            objects.append(o)
        return {"h": h}

    def from_handle(h):
        if not 0 <= h < len(objects):
            raise ProtocolError(f"no handle {h}")
        return objects[h]

    ns = {"__name__": "solution", "__builtins__": builtins}
    try:
        exec(compile(source, "solution.py", "exec"), ns)
        names = {k: v for k, v in ns.items() if not k.startswith("__")}
        reply = {"ok": encode(names, wrap)}
    except BaseException as e:  # noqa: BLE001 - SystemExit too: it is the solution's failure
        ns.clear()  # free what a memory bomb holds, so the report itself fits
        reply = {"err": describe_exception(e)}
        del e
    send(replies_fd, reply)
    if "err" in reply:
        return
    while True:
        msg = recv(calls_fd)
        if msg is None:
            return
        try:
            target = from_handle(msg["h"])
            out = {"ok": encode(_apply(msg["op"], target, decode(msg["a"], from_handle)), wrap)}
        except BaseException as e:  # noqa: BLE001
            out = {"err": describe_exception(e)}
        try:
            send(replies_fd, out)
        except (ValueError, TypeError) as e:  # e.g. an int too long for str()
            send(replies_fd, {"err": describe_exception(e)})


# --- the tests' side ---------------------------------------------------------------------


class Remote:
    """An object of the solution, seen from the tests. Equal only to itself; its truth value
    is refused; everything else is asked of the solution and answered with a value."""

    __slots__ = ("_h",)

    def __init__(self, h):
        object.__setattr__(self, "_h", h)

    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)  # protocol probes (copy, pickle) stay local
        return LINK.call("getattr", self, name)

    def __setattr__(self, name, value):
        LINK.call("setattr", self, (name, value))

    def __call__(self, *args, **kwargs):
        return LINK.call("call", self, (args, kwargs))

    def __getitem__(self, key):
        return LINK.call("getitem", self, key)

    def __setitem__(self, key, value):
        LINK.call("setitem", self, (key, value))

    def __delitem__(self, key):
        LINK.call("delitem", self, key)

    def __len__(self):
        return LINK.call("len", self)

    def __iter__(self):
        return LINK.call("iter", self)

    def __next__(self):
        return LINK.call("next", self)

    def __contains__(self, item):
        return LINK.call("contains", self, item)

    def __str__(self):
        return _text(LINK.call("str", self))

    def __repr__(self):
        return _text(LINK.call("repr", self))

    def __instancecheck__(self, instance):  # isinstance(x, SolutionClass), asked there
        return LINK.call("isinstance", self, instance) is True

    def __bool__(self):
        raise TypeError("sandbox: the truth value of a solution object is refused (not a value)")


def _text(s):
    if type(s) is not str:
        raise TypeError("__str__/__repr__ returned a non-string")
    return s


class Link:
    """The tests' end of the pipes. Once the solution breaks the wire, every later call fails
    too, and the run fails whatever the tests catch (``broken``)."""

    def __init__(self, calls_fd, replies_fd):
        self.w, self.r = calls_fd, replies_fd
        self.broken = None
        self.remotes = {}

    def remote(self, h):
        r = self.remotes.get(h)
        if r is None:
            r = self.remotes[h] = Remote(h)
        return r

    def receive(self):
        try:
            msg = recv(self.r)
            if msg is None:
                raise ProtocolError("the solution process ended")
            if type(msg) is not dict or len(msg) != 1 or not ({"ok", "err"} & msg.keys()):
                raise ProtocolError("not a reply")
            if "ok" in msg:
                return decode(msg["ok"], self.remote, allow_fn=False)
        except ProtocolError as e:
            self.broken = self.broken or str(e)
            raise
        raise rebuild_exception(msg["err"])

    def call(self, op, target, arg=None):
        if self.broken:
            raise ProtocolError(self.broken)
        payload = encode(arg, _wrap_for_solution)  # a TypeError here is the test's failure
        try:
            send(self.w, {"op": op, "h": object.__getattribute__(target, "_h"), "a": payload})
        except OSError as e:
            self.broken = self.broken or f"the solution process ended ({e.strerror})"
            raise ProtocolError(self.broken) from None
        return self.receive()


def _wrap_for_solution(o):
    if type(o) is Remote:
        return {"h": object.__getattribute__(o, "_h")}
    name = getattr(o, "__name__", None)
    if isinstance(name, str) and getattr(builtins, name, None) is o:
        return {"fn": name}  # len, int, sorted: the solution's own copy is used
    raise TypeError(f"sandbox: cannot pass a {type(o).__name__} from the tests to the solution")


LINK = None


def run_tests(source, calls_fd, replies_fd):
    """Run ``source`` against the solution behind the pipes. Returns the number of ``test_*``
    functions run; raises what failed (ProtocolError when the solution broke the wire)."""
    global LINK
    LINK = Link(calls_fd, replies_fd)
    names = LINK.receive()  # the solution's top-level names, or what its import raised
    if type(names) is not dict:
        raise ProtocolError("bad globals")
    ns = {"__name__": "tests", "__builtins__": builtins}
    ns.update({k: v for k, v in names.items() if type(k) is str and not k.startswith("__")})
    exec(compile(source, "tests.py", "exec"), ns)
    n = 0
    for name, fn in list(ns.items()):
        if name.startswith("test_") and type(fn) is _FUNCTION:
            if fn.__code__.co_filename == "tests.py":  # not a solution's test_ handle
                fn()
                n += 1
    if LINK.broken:  # a test swallowed the error: the run still fails
        raise ProtocolError(LINK.broken)
    return n


_FUNCTION = type(run_tests)
