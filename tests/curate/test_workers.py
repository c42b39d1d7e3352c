"""Local pool workers start warm: the forkserver has the run's step modules imported.

Each stage of a curate run is a fresh datatrove pool; a worker that imports qurate,
datatrove, pyarrow and pandas itself spends ~1 s doing so, on every stage. These tests run
in a child Python, because the forkserver is per process and may already be running here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path

    from qurate.contract.executors import (
        ExecutorConfig, make_executor, preload_in_workers, run_executor,
    )


    class Probe:
        '''A step that records which modules its worker had imported when the task began.'''

        def __init__(self, out):
            self.out = out

        def __call__(self, data, rank=0, world_size=1):
            mods = [m for m in ("qurate.filters.heuristics.rules", "pandas") if m in sys.modules]
            tokens = sys.modules.get("qurate.dedup.tokens")
            if tokens is not None and tokens._table is not None:
                mods.append("char_table")  # built before the task began: inherited
            Path(self.out, f"{rank}.json").write_text(json.dumps(mods))
            return data


    if __name__ == "__main__":
        out, preload = Path(sys.argv[1]), sys.argv[2] == "preload"
        if preload:
            from qurate.filters.heuristics.rules import Heuristics

            # A later stage's step: its module is not needed to unpickle Probe.
            preload_in_workers([[Probe(str(out))], [Heuristics()]], extra=["qurate.dedup.warm"])
        ex = make_executor(
            [Probe(str(out))], ExecutorConfig(tasks=2, workers=2), tasks=2,
            logging_dir=out / "logs", job_name="probe",
        )
        run_executor(ex)
    """
)


def _worker_modules(tmp_path: Path, mode: str) -> list[list[str]]:
    script = tmp_path / "probe.py"
    script.write_text(SCRIPT)
    out = tmp_path / mode
    out.mkdir()
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    subprocess.run([sys.executable, str(script), str(out), mode], check=True, env=env, timeout=300)
    return [json.loads((out / f"{rank}.json").read_text()) for rank in range(2)]


def test_workers_start_with_every_stage_module_imported(tmp_path: Path):
    for mods in _worker_modules(tmp_path, "preload"):
        assert mods == ["qurate.filters.heuristics.rules", "pandas", "char_table"]


def test_without_preload_workers_import_only_what_their_steps_need(tmp_path: Path):
    # The control: the probe itself does not pull these modules in.
    for mods in _worker_modules(tmp_path, "cold"):
        assert "qurate.filters.heuristics.rules" not in mods
        assert "char_table" not in mods
