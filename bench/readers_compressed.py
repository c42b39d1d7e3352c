"""Reading compressed JSONL: qurate's own decompression loop vs the library readers it replaced.

Usage: .venv/bin/python bench/readers_compressed.py [--mb 40]

``qurate.readers.inputs.iter_lines`` decompresses ``.gz`` with ``zlib.decompressobj`` and
``.zst`` with ``zstandard``'s ``decompressobj`` in 64 KB chunks and splits lines itself, so
that a damaged stream keeps what came before it and says where it broke. The baseline is
what the reader used before: ``gzip.open`` and ``zstandard``'s ``stream_reader`` under a
``BufferedReader``, iterated line by line. Both read the same file, in the same run, best of
three. Documents: the Python standard library's source files as JSONL records (every
Python install has them). Last line: ``ratio=<qurate MB/s / baseline MB/s>`` (the slower of
the two formats).
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import sysconfig
import tempfile
import time
from pathlib import Path

import zstandard

from qurate.readers.inputs import iter_lines


def body(mb: float) -> bytes:
    out, size = [], 0
    for path in sorted(Path(sysconfig.get_paths()["stdlib"]).rglob("*.py")):
        text = path.read_text(errors="replace")
        line = json.dumps({"id": str(path), "text": text}).encode() + b"\n"
        out.append(line)
        size += len(line)
        if size >= mb * 1e6:
            break
    return b"".join(out)


def baseline(path: str) -> int:
    if path.endswith(".gz"):
        stream = gzip.open(path, "rb")
    else:
        raw = zstandard.ZstdDecompressor().stream_reader(open(path, "rb"))
        stream = io.BufferedReader(raw)
    with stream:
        return sum(1 for _ in stream)


def ours(path: str) -> int:
    return sum(1 for _ in iter_lines(path))


def best(fn, path: str) -> float:
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        fn(path)
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=float, default=40)
    args = ap.parse_args()
    data = body(args.mb)
    mb = len(data) / 1e6
    ratios = []
    with tempfile.TemporaryDirectory() as tmp:
        for suffix, compress in (
            (".jsonl.gz", lambda b: gzip.compress(b, compresslevel=6)),
            (".jsonl.zst", lambda b: zstandard.ZstdCompressor(level=3).compress(b)),
        ):
            p = str(Path(tmp) / f"corpus{suffix}")
            Path(p).write_bytes(compress(data))
            assert baseline(p) == ours(p)
            tb, tq = best(baseline, p), best(ours, p)
            print(
                f"{suffix:11s} {mb:6.1f} MB  baseline {mb / tb:7.1f} MB/s  qurate {mb / tq:7.1f} MB/s"
            )
            ratios.append(tb / tq)
    print(f"ratio={min(ratios):.2f}")


if __name__ == "__main__":
    main()
