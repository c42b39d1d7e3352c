"""Seconds to load the embedded GGUF judge with transformers in a new process: de-quantising
the GGUF file (the baseline, ``QURATE_CACHE_DIR=off``) against reading the float32 copy that
the first load keeps (``qurate/llm/hf.py``).

Usage: ``.venv/bin/python bench/llm_load.py [--repeat 3]``

Each load runs in a fresh ``python`` process (what every ``qurate score ...`` command pays),
timed inside it from before the engine is built to after, so interpreter start-up and
imports are left out. The copy lives in a temporary folder, written by one warm-up load.
The last line is ``ratio=<gguf seconds / copy seconds>`` (best of ``--repeat``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHILD = """
import json, time
from qurate.llm import EngineConfig, load_engine
t = time.perf_counter()
e = load_engine(EngineConfig(kind="transformers", model="default"))
s = time.perf_counter() - t
print(json.dumps({"seconds": s, "ll": e.loglikelihood(["A test sentence, scored."], 16)[0][0]}))
"""


def load(cache: str) -> dict:
    env = {**os.environ, "QURATE_CACHE_DIR": cache}
    out = subprocess.run(
        [sys.executable, "-c", CHILD], env=env, cwd=ROOT, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        load(tmp)  # warm-up: writes the copy
        gguf = [load("off") for _ in range(args.repeat)]
        copy = [load(tmp) for _ in range(args.repeat)]
    if {r["ll"] for r in gguf} != {r["ll"] for r in copy}:
        raise SystemExit(f"the copy scores differently: {gguf[0]['ll']} vs {copy[0]['ll']}")
    g = min(r["seconds"] for r in gguf)
    c = min(r["seconds"] for r in copy)
    print(f"load from GGUF: {g:.1f} s   from the kept copy: {c:.1f} s   (best of {args.repeat})")
    print(f"ratio={g / c:.1f}")


if __name__ == "__main__":
    main()
