"""The wire between the two processes of a sandboxed run (:mod:`sandbox_rpc` says why
there are two): framing, values and exceptions. Standard library only, run as a plain
module next to :mod:`sandbox_child`.

Framing: 4-byte big-endian length, then UTF-8 JSON with one-key tagged objects for the
non-JSON types. Values cross as data (``None``, ``bool``, ``int``, ``float``, ``complex``,
``str``, ``bytes``, ``list``/``tuple``/``dict``/``set``/``frozenset`` of them, and a few
standard-library kinds rebuilt on arrival, see :func:`encode`); any other object crosses as
a handle. Anything malformed is a :class:`ProtocolError`, and the run fails.
"""

import base64
import builtins
import json
import os
import struct
import sys
from collections import Counter, OrderedDict, defaultdict, deque, namedtuple
from functools import lru_cache

MAX_MESSAGE = 32 << 20  # a reply larger than this is refused (the run fails)
_MAX_DEPTH = 200
_BIG_INT_BITS = 10_000  # about 3,000 digits, below Python's 4,300-digit str() limit
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
    """``x`` as JSON: builtin values copied, anything else ``wrap(x)`` (a handle).

    A subclass of a value type crosses as its plain value (an ``IntEnum`` as its int, a
    solution's ``class I(int)`` as the int it holds): the sender could have sent any value
    anyway, and its methods never run on the other side. ``Counter``, ``OrderedDict``,
    ``defaultdict``, ``deque``, named tuples, ``Fraction`` and ``Decimal`` are rebuilt there
    from their values by the standard library, so they compare as their own kind."""
    if depth > _MAX_DEPTH:
        raise ValueError("value nested too deeply")
    t = type(x)
    if t is int and x.bit_length() > _BIG_INT_BITS:
        return {"i": hex(x)}  # str() of such an int is refused (sys.int_info), hex() is not
    if t in _SCALARS:
        return x

    def sub(v):
        return encode(v, wrap, depth + 1)

    if t is list:
        return {"l": [sub(v) for v in x]}
    if t is tuple:
        return {"t": [sub(v) for v in x]}
    if t is dict:
        return {"d": [[sub(k), sub(v)] for k, v in x.items()]}
    if t is bytes:
        return {"b": base64.b64encode(x).decode("ascii")}
    if t is complex:
        return {"c": [float(x.real), float(x.imag)]}
    if t.__module__ in ("fractions", "decimal", "_decimal"):  # imported only when used
        if t is getattr(sys.modules.get("fractions"), "Fraction", None):
            return {"frac": [int(x.numerator), int(x.denominator)]}
        if t is getattr(sys.modules.get("decimal"), "Decimal", None):
            return {"dec": str(x)}
    if issubclass(t, dict):
        if issubclass(t, OrderedDict):
            return {"od": [[sub(k), sub(v)] for k, v in OrderedDict.items(x)]}
        tag = "ctr" if issubclass(t, Counter) else "dd" if issubclass(t, defaultdict) else "d"
        return {tag: [[sub(k), sub(v)] for k, v in dict.items(x)]}
    if issubclass(t, tuple):
        items = [sub(v) for v in tuple.__iter__(x)]
        fields = getattr(t, "_fields", None)
        if type(fields) is tuple and len(fields) == len(items):
            if all(type(f) is str for f in fields):
                return {"nt": [str(t.__name__), list(fields), items]}
        return {"t": items}
    if issubclass(t, list):
        return {"l": [sub(v) for v in list.__iter__(x)]}
    if issubclass(t, frozenset):
        return {"f": [sub(v) for v in frozenset.__iter__(x)]}
    if issubclass(t, set):
        return {"s": [sub(v) for v in set.__iter__(x)]}
    if issubclass(t, deque):
        return {"dq": [[sub(v) for v in deque.__iter__(x)], deque.maxlen.__get__(x)]}
    if issubclass(t, int):
        return encode(int.__int__(x), wrap, depth)
    if issubclass(t, float):
        return float.__float__(x)
    if issubclass(t, str):
        return str.__str__(x)
    if issubclass(t, bytes):
        return {"b": base64.b64encode(bytes.__bytes__(x)).decode("ascii")}
    return wrap(x)


@lru_cache(maxsize=256)
def _record(name, fields):
    # namedtuple checks the names (identifiers only; rename=True renames the others)
    return namedtuple(name, fields, rename=True)


def decode(x, from_handle, from_callback=None, builtins_ok=False, depth=0):
    """The inverse of :func:`encode`; handles become ``from_handle(int)``, functions of the
    tests ``from_callback(int)``; builtin functions by name only when ``builtins_ok`` (the
    solution decoding what the tests send). Strict: anything else is a ProtocolError."""
    if depth > _MAX_DEPTH + 1:
        raise ProtocolError("value nested too deeply")
    t = type(x)
    if t in _SCALARS:
        return x
    if t is not dict or len(x) != 1:
        raise ProtocolError(f"unexpected {t.__name__} on the wire")
    ((tag, v),) = x.items()

    def sub(e):
        return decode(e, from_handle, from_callback, builtins_ok, depth + 1)

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
        if tag == "i" and type(v) is str:
            return int(v, 16)
        if tag == "h" and type(v) is int:
            return from_handle(v)
        if from_callback is not None and tag == "cb" and type(v) is int:
            return from_callback(v)
        if builtins_ok and tag == "fn" and type(v) is str:
            fn = getattr(builtins, v, None)
            if callable(fn):
                return fn
        if tag == "ctr":
            return Counter({sub(k): sub(e) for k, e in v})
        if tag == "od":
            return OrderedDict((sub(k), sub(e)) for k, e in v)
        if tag == "dd":
            return defaultdict(None, ((sub(k), sub(e)) for k, e in v))
        if tag == "dq" and (v[1] is None or type(v[1]) is int):
            return deque([sub(e) for e in v[0]], v[1])
        if tag == "nt" and type(v[0]) is str and all(type(f) is str for f in v[1]):
            values = [sub(e) for e in v[2]]
            if len(values) == len(v[1]):
                return _record(v[0], tuple(v[1]))(*values)
        if tag == "frac" and type(v[0]) is int and type(v[1]) is int:
            from fractions import Fraction

            return Fraction(v[0], v[1])
        if tag == "dec" and type(v) is str:
            from decimal import Decimal

            return Decimal(v)
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
