"""The folders are the architecture: imports run one way, and `qurate.train` stands alone."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "qurate"

# A package may import only packages of a lower level (and itself).
LEVEL = {
    "errors": 0,
    "contract": 1,
    "progress": 1,  # the rich progress bar the stages share (imports nothing of qurate)
    "readers": 2,
    "filters": 2,
    "dedup": 2,
    "llm": 2,
    "curate": 3,
    "score": 3,
    "augment": 3,
    "synth": 3,
    "mixers": 3,
    "post": 3,
    "ablate": 3,
    "train": 3,
    "report": 4,
    "config": 5,
    "run_checks": 6,  # what `qurate run` checks before any work
    "run": 6,
    "cli": 7,
    "__main__": 8,
}
# Stages that build on another stage's library (never the other way round).
ALLOWED_PEERS = {
    ("ablate", "train"),
    ("ablate", "mixers"),
    ("ablate", "synth"),
    ("post", "synth"),
    ("post", "train"),
    ("run", "run_checks"),
}


def _imports(path: Path) -> list[str]:
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("qurate."):
            out.append(node.module)
        elif isinstance(node, ast.Import):
            out += [a.name for a in node.names if a.name.startswith("qurate.")]
    return out


def test_imports_run_one_way():
    bad = []
    for f in PKG.rglob("*.py"):
        top = f.relative_to(PKG).parts[0].removesuffix(".py")
        if top == "__init__":
            continue
        assert top in LEVEL, f"{f}: package {top!r} has no place in the layering"
        for mod in _imports(f):
            target = mod.split(".")[1]
            if target == top:
                continue
            if top == "train" and target not in ("errors", "contract"):
                bad.append(f"{f.relative_to(PKG)} imports {mod} (train imports only contract)")
            elif LEVEL[target] >= LEVEL[top] and (top, target) not in ALLOWED_PEERS:
                bad.append(f"{f.relative_to(PKG)} imports {mod}")
    assert not bad, "imports against the layering:\n" + "\n".join(bad)


def test_importing_the_trainer_pulls_in_no_stage():
    code = (
        "import sys, qurate.train, qurate.train.api;"
        "print(sorted({m.split('.')[1] for m in sys.modules if m.startswith('qurate.')}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(ast.literal_eval(out.stdout.strip()))
    assert loaded <= {"train", "errors", "contract"}, loaded
