"""The two-process harness keeps ordinary tests working: for each style of test, a right
solution passes and a wrong one fails (so a harness that passes or fails everything is
caught). Plus the wire's strictness on its own."""

from __future__ import annotations

import os

import pytest

from qurate.synth.sandbox import SandboxLimits, run_many
from qurate.synth.sandbox_wire import ProtocolError, decode, encode, recv, send

LIMITS = SandboxLimits(timeout_s=5, memory_mb=256, max_processes=6, workers=2)

# name -> (right solution, wrong solution, tests)
STYLES = {
    "class": (
        "class Stack:\n    def __init__(self):\n        self.items = []\n"
        "    def push(self, x):\n        self.items.append(x)\n"
        "    def pop(self):\n        return self.items.pop()\n"
        "    def __len__(self):\n        return len(self.items)\n",
        "class Stack:\n    def __init__(self):\n        self.items = []\n"
        "    def push(self, x):\n        self.items.insert(0, x)\n"
        "    def pop(self):\n        return self.items.pop()\n"
        "    def __len__(self):\n        return 0\n",
        "s = Stack()\ns.push(1)\ns.push(2)\nassert len(s) == 2\nassert s.pop() == 2\n"
        "assert s.items == [1]\nassert isinstance(s, Stack)\n",
    ),
    "generator": (
        "def squares(n):\n    for i in range(n):\n        yield i * i\n",
        "def squares(n):\n    for i in range(n):\n        yield i + i\n",
        "assert list(squares(4)) == [0, 1, 4, 9]\nassert sum(squares(3)) == 5\n",
    ),
    "exception": (
        "def div(a, b):\n    if b == 0:\n        raise ZeroDivisionError('b is 0')\n"
        "    return a // b\n",
        "def div(a, b):\n    return a // b if b else 0\n",
        "try:\n    div(1, 0)\nexcept ZeroDivisionError:\n    pass\n"
        "else:\n    raise AssertionError('no error')\nassert div(7, 2) == 3\n",
    ),
    "lambda_key": (
        "def sort_by(xs, key):\n    return sorted(xs, key=key)\n",
        "def sort_by(xs, key):\n    return sorted(xs)\n",
        "assert sort_by([3, 1, 2], key=lambda v: -v) == [3, 2, 1]\n",
    ),
    "decorator": (
        "def memo(f):\n    cache = {}\n    def g(n):\n        if n not in cache:\n"
        "            cache[n] = f(n)\n        return cache[n]\n    return g\n",
        "def memo(f):\n    return f\n",
        "calls = []\n@memo\ndef sq(n):\n    calls.append(n)\n    return n * n\n"
        "assert sq(3) == 9 and sq(3) == 9\nassert calls == [3]\n",
    ),
    "nested_values": (
        "def group(words):\n    out = {}\n    for w in words:\n"
        "        out.setdefault(len(w), set()).add(w)\n    return out\n",
        "def group(words):\n    return {len(w): {w} for w in words}\n",
        "assert group(['a', 'b', 'cd']) == {1: {'a', 'b'}, 2: {'cd'}}\n",
    ),
    "str_repr": (
        "class P:\n    def __init__(self, x):\n        self.x = x\n"
        "    def __repr__(self):\n        return f'P({self.x})'\n",
        "class P:\n    def __init__(self, x):\n        self.x = x\n",
        "assert repr(P(1)) == 'P(1)'\nassert f'{P(2)}' == 'P(2)'\n",
    ),
    "stdlib_values": (
        "from collections import Counter, OrderedDict, defaultdict, deque, namedtuple\n"
        "from decimal import Decimal\nfrom fractions import Fraction\nfrom enum import IntEnum\n"
        "Point = namedtuple('Point', 'x y')\nclass Color(IntEnum):\n    RED = 1\n"
        "class Name(str):\n    pass\n"
        "def stats(s):\n    d = defaultdict(list)\n    for i, c in enumerate(s):\n"
        "        d[c].append(i)\n"
        "    return Counter(s), d, OrderedDict(a=1), deque([1, 2], 5), Point(1, 2)\n"
        "def nums():\n    return Fraction(1, 3), Decimal('0.1'), Color.RED, Name('ab')\n",
        "from collections import Counter\nfrom decimal import Decimal\n"
        "from fractions import Fraction\nfrom enum import IntEnum\n"
        "class Color(IntEnum):\n    RED = 2\n"
        "def stats(s):\n    return Counter(), {}, {}, [], (0, 0)\n"
        "def nums():\n    return 0.33, Decimal('0.10001'), Color.RED, 'b'\n",
        "from collections import Counter, deque\nfrom decimal import Decimal\n"
        "from fractions import Fraction\n"
        "c, d, od, dq, p = stats('aab')\n"
        "assert c == Counter({'a': 2, 'b': 1}) and c['z'] == 0\n"
        "assert d == {'a': [0, 1], 'b': [2]}\nassert od == {'a': 1}\n"
        "assert dq == deque([1, 2]) and dq.maxlen == 5\n"
        "assert p == (1, 2) and p.x == 1 and p.y == 2\n"
        "f, dec, red, name = nums()\n"
        "assert f == Fraction(1, 3) and dec == Decimal('0.1')\n"
        "assert red == 1 and name == 'ab' and type(name) is str\n",
    ),
    "big_int": (
        "import math\ndef fact(n):\n    return math.factorial(n)\n",
        "import math\ndef fact(n):\n    return math.factorial(n) + 1\n",
        "import math\nassert fact(2000) == math.factorial(2000)\nassert -fact(3) == -6\n",
    ),
    "in_place": (
        "def sort_in_place(xs):\n    xs.sort()\n"
        "def add_key(d, k, seen):\n    d[k] = 1\n    seen.add(k)\n",
        "def sort_in_place(xs):\n    xs = sorted(xs)\ndef add_key(d, k, seen):\n    d = {k: 1}\n",
        "a = [3, 1, 2]\nassert sort_in_place(a) is None\nassert a == [1, 2, 3]\n"
        "d, s = {}, set()\nadd_key(d, 'k', seen=s)\nassert d == {'k': 1} and s == {'k'}\n",
    ),
    "test_functions": (
        "def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n",
        "def fib(n):\n    return n\n",
        "def test_small():\n    assert fib(1) == 1\ndef test_big():\n    assert fib(20) == 6765\n",
    ),
}


def test_each_style_passes_a_right_solution_and_fails_a_wrong_one():
    names = sorted(STYLES)
    jobs = [(STYLES[n][0], STYLES[n][2]) for n in names]
    jobs += [(STYLES[n][1], STYLES[n][2]) for n in names]
    results = run_many(jobs, LIMITS)
    right, wrong = results[: len(names)], results[len(names) :]
    assert {n: r.status for n, r in zip(names, right, strict=True)} == dict.fromkeys(
        names, "passed"
    ), right
    assert not any(r.passed for r in wrong), [
        (n, r) for n, r in zip(names, wrong, strict=True) if r.passed
    ]


def test_values_round_trip_and_objects_stay_behind():
    kept = []
    value = [1, -(2**70), 1.5, float("inf"), "é", b"\x00", (1, [2]), {3: {"k"}}, frozenset({4}), 2j]
    assert decode(encode(value, kept.append), lambda h: h) == value and kept == []

    class Odd(int):  # equal to everything, but only its value crosses
        def __eq__(self, other):
            return True

        __hash__ = int.__hash__

    back = decode(encode([Odd(3), object()], lambda o: {"h": 7}), lambda h: ("handle", h))
    assert back == [3, ("handle", 7)] and type(back[0]) is int and back[0] != 4


@pytest.mark.parametrize(
    "bad",
    [{"x": 1}, {"l": 1}, {"h": "0"}, {"h": True}, {"d": [[[1], 2]]}, {"fn": "eval"}, [1], {}],
)
def test_the_tests_side_refuses_anything_else(bad):
    with pytest.raises(ProtocolError):
        decode(bad, lambda h: h)


def test_a_message_over_the_limit_is_refused():
    r, w = os.pipe()
    try:
        os.write(w, (1 << 31).to_bytes(4, "big"))
        with pytest.raises(ProtocolError, match="limit"):
            recv(r)
        send(w, {"ok": 1})  # a well-formed one after it still reads
        assert recv(r) == {"ok": 1}
    finally:
        os.close(r)
        os.close(w)
