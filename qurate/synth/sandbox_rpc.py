"""The wire between the two processes of a sandboxed run: the *tests* process, which decides
pass or fail, and the *solution* process, which holds the untrusted code. Standard library
only: the sandbox runs it as a plain module next to :mod:`sandbox_child`, never through
qurate.

Why two processes: anything the harness does in the solution's process, the solution can do
too (read the nonce from a frame, write "passed", ``os._exit(0)``). So the solution never
runs where the verdict is made. The tests process sees the solution's top-level names as
:class:`Remote` handles; a call, an attribute, an item, ``len``, ``iter``, ``str`` go over a
pipe and the answer comes back as a *value*, rebuilt here from data
(:func:`sandbox_wire.encode`: builtin types, a subclass of one as its plain value, and a few
standard-library kinds such as ``Counter`` or named tuples); any other object stays behind
as a handle whose ``==`` is identity and whose truth value is refused. So
``assert add(2, 3) == 5`` compares two real ints, in a process the solution cannot reach,
and an object whose ``__eq__`` always returns True never takes part: none of the solution's
methods ever runs where the verdict is made. Exceptions come back as
the nearest builtin class (a solution's ``class Empty(ValueError)`` arrives as
``ValueError``; a ``StopIteration`` out of anything but ``next`` as a ``RuntimeError``, as
:pep:`479` does for generators, or it would end a loop of the tests). A function of the
tests passed to the solution (a ``key=lambda``, a decorated test helper) stays in the
tests process: the solution gets a handle, and calling it runs the function there, with
values for arguments. Arguments cross as values too; a
list, dict or set passed to a call is updated in place, after it, to what the solution made
of it, so in-place functions (``xs.sort()``) are tested as Python would see them.

Values, framing and exceptions are :mod:`sandbox_wire`. Anything malformed from the
solution is a protocol error, and the run fails.
"""

import builtins
import os

try:  # as the sandbox runs it: a plain file next to sandbox_wire.py
    from sandbox_wire import (
        ProtocolError,
        decode,
        describe_exception,
        encode,
        rebuild_exception,
        recv,
        send,
    )
except ImportError:  # imported as part of qurate
    from qurate.synth.sandbox_wire import (
        ProtocolError,
        decode,
        describe_exception,
        encode,
        rebuild_exception,
        recv,
        send,
    )


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


class _Callback:
    """A function of the tests, seen from the solution: calling it runs it there."""

    __slots__ = ("_server", "_id")

    def __init__(self, server, i):
        self._server, self._id = server, i

    def __call__(self, *args, **kwargs):
        srv = self._server
        send(srv.replies, {"op": "call", "h": self._id, "a": encode((args, kwargs), srv.wrap)})
        msg = srv.wait()
        if msg is None:
            os._exit(0)  # the tests are gone
        if "ok" in msg:
            return decode(msg["ok"], srv.from_handle, srv.callback, True)
        raise rebuild_exception(msg.get("err"))


class _Server:
    """The solution's end: answers requests, calls back into the tests when asked to."""

    def __init__(self, calls_fd, replies_fd):
        self.calls, self.replies = calls_fd, replies_fd
        self.objects, self.ids, self.callbacks = [], {}, {}

    def wrap(self, o):
        if type(o) is _Callback:
            return {"cb": o._id}
        h = self.ids.get(id(o))
        if h is None:  # objects are kept alive, so an id is never reused for another
            h = self.ids[id(o)] = len(self.objects)
            self.objects.append(o)
        return {"h": h}

    def from_handle(self, h):
        if not 0 <= h < len(self.objects):
            raise ProtocolError(f"no handle {h}")
        return self.objects[h]

    def callback(self, i):
        cb = self.callbacks.get(i)
        if cb is None:
            cb = self.callbacks[i] = _Callback(self, i)
        return cb

    def answer(self, msg):
        try:
            target = self.from_handle(msg["h"])
            arg = decode(msg["a"], self.from_handle, self.callback, True)
            out = {"ok": encode(_apply(msg["op"], target, arg), self.wrap)}
            if msg["op"] == "call":  # what the call did to the lists/dicts/sets it was given
                flat = [*arg[0], *arg[1].values()]
                if any(type(a) in _MUTABLE for a in flat):
                    out["back"] = [
                        encode(a, self.wrap) if type(a) in _MUTABLE else None for a in flat
                    ]
        except BaseException as e:  # noqa: BLE001
            out = {"err": describe_exception(e)}
        try:
            send(self.replies, out)
        except (ValueError, TypeError) as e:  # e.g. an int too long for str()
            send(self.replies, {"err": describe_exception(e)})

    def wait(self):
        """Serve the tests' requests until a reply to ours (a callback) arrives; None when
        the tests close the pipe."""
        while True:
            msg = recv(self.calls)
            if type(msg) is not dict:
                return None
            if "op" not in msg:
                return msg
            self.answer(msg)


def serve_solution(source, calls_fd, replies_fd):
    """Run the solution, send its top-level names, then answer the tests' requests until
    they close the pipe. Runs in the solution's process, so nothing here is trusted."""
    srv = _Server(calls_fd, replies_fd)
    ns = {"__name__": "solution", "__builtins__": builtins}
    try:
        exec(compile(source, "solution.py", "exec"), ns)
        names = {k: v for k, v in ns.items() if not k.startswith("__")}
        reply = {"ok": encode(names, srv.wrap)}
    except BaseException as e:  # noqa: BLE001 - SystemExit too: it is the solution's failure
        ns.clear()  # free what a memory bomb holds, so the report itself fits
        reply = {"err": describe_exception(e)}
        del e
    send(replies_fd, reply)
    if "err" not in reply:
        srv.wait()


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
        self.callbacks = []  # functions of the tests the solution may call back

    def remote(self, h):
        r = self.remotes.get(h)
        if r is None:
            r = self.remotes[h] = Remote(h)
        return r

    def receive(self):
        """The reply to our last request; the solution's calls into our callbacks are
        served meanwhile."""
        try:
            while True:
                msg = recv(self.r)
                if msg is None:
                    raise ProtocolError("the solution process ended")
                if type(msg) is not dict:
                    raise ProtocolError("not a message")
                if "op" in msg:
                    self._run_callback(msg)
                    continue
                if "ok" in msg and msg.keys() <= {"ok", "back"}:
                    return msg
                if msg.keys() != {"err"}:
                    raise ProtocolError("not a reply")
                break
        except ProtocolError as e:
            self.broken = self.broken or str(e)
            raise
        raise rebuild_exception(msg["err"])

    def value(self, msg, arg=None):
        """The value of an ``ok`` reply; for a call, the lists, dicts and sets passed in are
        updated in place to what the solution made of them (``xs.sort()`` is seen here)."""
        try:
            value = decode(msg["ok"], self.remote, self.callback)
            if "back" in msg:
                flat = [*arg[0], *arg[1].values()] if arg is not None else []
                back = msg["back"]
                if type(back) is not list or len(back) != len(flat):
                    raise ProtocolError("bad arguments sent back")
                for orig, enc in zip(flat, back, strict=True):
                    if enc is not None and type(orig) in _MUTABLE:
                        _update(orig, decode(enc, self.remote, self.callback))
        except ProtocolError as e:
            self.broken = self.broken or str(e)
            raise
        return value

    def callback(self, i):
        if not 0 <= i < len(self.callbacks):
            raise ProtocolError(f"no callback {i}")
        return self.callbacks[i]

    def _run_callback(self, msg):
        h = msg.get("h")
        if msg.get("op") != "call" or type(h) is not int or not 0 <= h < len(self.callbacks):
            raise ProtocolError("a bad callback request")
        try:
            args, kwargs = decode(msg.get("a"), self.remote, self.callback)
        except (ValueError, TypeError):
            args = kwargs = None
        if type(args) is not tuple or type(kwargs) is not dict:
            raise ProtocolError("bad callback arguments")
        try:
            out = {"ok": encode(self.callbacks[h](*args, **kwargs), _wrap_for_solution)}
        except ProtocolError:
            raise
        except Exception as e:  # the tests' own function failed: the solution sees it
            out = {"err": describe_exception(e)}
        send(self.w, out)

    def call(self, op, target, arg=None):
        if self.broken:
            raise ProtocolError(self.broken)
        payload = encode(arg, _wrap_for_solution)  # a TypeError here is the test's failure
        try:
            send(self.w, {"op": op, "h": object.__getattribute__(target, "_h"), "a": payload})
        except OSError as e:
            self.broken = self.broken or f"the solution process ended ({e.strerror})"
            raise ProtocolError(self.broken) from None
        try:
            reply = self.receive()
        except (StopIteration, StopAsyncIteration) as e:
            if op == "next":
                raise  # the end of the solution's iterator, as a for loop expects
            # Anywhere else it would end a loop of the tests' own (``all(map(f, xs))`` was
            # True for an f that raises it); as PEP 479 does for generators: an error.
            raise RuntimeError(f"the solution raised {type(e).__name__}") from None
        return self.value(reply, arg if op == "call" else None)


def _wrap_for_solution(o):
    if type(o) is Remote:
        return {"h": object.__getattribute__(o, "_h")}
    name = getattr(o, "__name__", None)
    if isinstance(name, str) and getattr(builtins, name, None) is o:
        return {"fn": name}  # len, int, sorted: the solution's own copy is used
    if callable(o):  # a lambda, a test's function or class: it runs here when called back
        LINK.callbacks.append(o)
        return {"cb": len(LINK.callbacks) - 1}
    raise TypeError(f"sandbox: cannot pass a {type(o).__name__} from the tests to the solution")


LINK = None
_MUTABLE = (list, dict, set)


def _update(orig, new):
    """``orig`` (a value of the tests) made equal to ``new`` in place."""
    if type(new) is not type(orig):
        raise ProtocolError("an argument came back as another type")
    if new != orig:
        if type(orig) is list:
            orig[:] = new
        else:
            orig.clear()
            orig.update(new)


def run_tests(source, calls_fd, replies_fd):
    """Run ``source`` against the solution behind the pipes. Returns the number of ``test_*``
    functions run; raises what failed (ProtocolError when the solution broke the wire)."""
    global LINK
    LINK = Link(calls_fd, replies_fd)
    names = LINK.value(LINK.receive())  # the solution's top-level names, or its error
    if type(names) is not dict:
        raise ProtocolError("bad globals")
    ns = {"__name__": "tests", "__builtins__": builtins}
    # A solution's name never shadows a builtin here: ``def abs(x): return 0`` or
    # ``len = lambda x: 3`` would otherwise answer the tests' own ``abs(f(x) - 0.5) < 1e-9``
    # or ``len(f()) == 3`` from the solution's process, and a wrong solution passed.
    ns.update(
        {
            k: v
            for k, v in names.items()
            if type(k) is str and not k.startswith("__") and not hasattr(builtins, k)
        }
    )
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
