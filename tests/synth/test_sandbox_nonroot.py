"""The sandbox's fallback without kernel containment, really run as a non-root user (issue 12).

``test_sandbox_hostile.py`` simulates a machine without namespaces from inside a root
process. Here a separate Python process runs with a random unprivileged uid (root drops to
it with ``setpriv``; a non-root test run is already there), so the kernel really refuses
the namespaces, and checks: the warning is said once, the layers that remain are the ones
used, a right solution passes, a wrong one fails and no forging sample gets a pass, with
the audit hook and without it. Samples that attack other processes of the same uid (kill,
fork bomb) are left out on purpose: here they would hit that uid's other processes.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

DRIVER = r"""
import json, logging, os, shutil, subprocess, sys
sys.path.insert(0, sys.argv[1])
messages = []
class Keep(logging.Handler):
    def emit(self, record):
        messages.append(record.getMessage())
logging.getLogger("qurate.synth").addHandler(Keep())
from qurate.synth.sandbox import SandboxLimits, isolation_summary, run_in_sandbox
from tests.synth.hostile_samples import ADD_TESTS, FORGERS

unshare = shutil.which("unshare")
refused = None
if unshare:  # what the sandbox would ask for, tried directly: the kernel must say no
    r = subprocess.run([unshare, "--pid", "--fork", "--mount", "true"], capture_output=True)
    refused = r.returncode != 0
limits = SandboxLimits(timeout_s=5, memory_mb=256, max_processes=6, workers=1)
os_only = limits.model_copy(update={"audit_hook": False})
iso = [isolation_summary(limits), isolation_summary(limits)]
right = "def add(a, b):\n    return a + b\n"
wrong = "def add(a, b):\n    return a - b\n"
res = {}
for name, lim in (("hook", limits), ("os-only", os_only)):
    runs = {"right": right, "wrong": wrong, **FORGERS}
    for sample, code in runs.items():
        r = run_in_sandbox(code, ADD_TESTS, lim)
        res[f"{name}/{sample}"] = [r.passed, r.status, r.detail[:300]]
print(json.dumps({"euid": os.geteuid(), "refused": refused, "iso": iso, "results": res,
                  "warnings": [m for m in messages if "no kernel containment" in m]}))
"""


def _as_unprivileged(script: Path) -> list[str]:
    """The command that runs ``script`` as a non-root user (skips where none can be had)."""
    if os.geteuid() != 0:
        return [sys.executable, str(script), str(REPO)]
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv (util-linux): cannot drop privileges")
    uid = 1_500_000_000 + secrets.randbelow(500_000_000)  # no account, no other process
    drop = [setpriv, f"--reuid={uid}", "--regid=65534", "--clear-groups"]
    return [*drop, sys.executable, str(script), str(REPO)]


@pytest.fixture(scope="module")
def report() -> dict:
    with tempfile.TemporaryDirectory(prefix="qurate-nonroot-") as d:
        os.chmod(d, 0o755)  # the unprivileged user reads the driver from here
        script = Path(d) / "driver.py"
        script.write_text(DRIVER)
        script.chmod(0o644)
        cmd = _as_unprivileged(script)
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=d, env=env)
    if r.returncode != 0 and "PermissionError" in r.stderr and "qurate" in r.stderr:
        pytest.skip(f"the unprivileged user cannot read this checkout: {r.stderr[-300:]}")
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads(r.stdout.splitlines()[-1])


def test_the_kernel_really_refuses_the_namespaces(report: dict) -> None:
    assert report["euid"] != 0
    assert report["refused"] in (True, None)  # None: no unshare binary at all


def test_the_missing_containment_is_said_once_and_the_other_layers_stay(report: dict) -> None:
    assert len(report["warnings"]) == 1 and "not root" in report["warnings"][0]
    first, again = report["iso"]
    assert first == again
    assert not first["pid_namespace"] and not first["mount_namespace"]
    assert not first["network_namespace"] and not first["drop_privileges"]
    assert first["audit_hook"] and first["rlimits"]


@pytest.mark.parametrize("layers", ["hook", "os-only"])
def test_right_passes_wrong_fails_and_nothing_forges_a_pass(report: dict, layers: str) -> None:
    res = {k.split("/", 1)[1]: v for k, v in report["results"].items() if k.startswith(layers)}
    assert res["right"][:2] == [True, "passed"], res["right"]
    assert res["wrong"][:2] == [False, "failed"] and "AssertionError" in res["wrong"][2]
    forged = {name: r for name, r in res.items() if name not in ("right", "wrong") and r[0]}
    assert not forged and len(res) > 2
