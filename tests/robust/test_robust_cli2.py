"""Second sweep on command lines: outputs in odd places. One clean line, exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qurate.contract.stagedir import refuse_output_in_inputs
from tests.robust.test_robust_cli import one_line_error, run_cli


def _inputs(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.jsonl").write_text(json.dumps({"text": "hello there"}) + "\n")
    return folder


def test_curate_refuses_an_output_inside_its_input_folder(tmp_path: Path, capsys):
    # Before: the first run wrote in/out; the same command again read in/out back as input
    # ("already holds a different finished run"), and with --overwrite it cleared the shards
    # it had just listed: "error: FileNotFoundError ... (traceback in ...)", exit 1.
    folder = _inputs(tmp_path)
    line = one_line_error(*run_cli(["curate", str(folder), "-o", str(folder / "out")], capsys))
    assert "inside the input" in line
    assert not (folder / "out").exists()


def test_an_output_next_to_the_inputs_is_fine(tmp_path: Path):
    folder = _inputs(tmp_path)
    refuse_output_in_inputs(tmp_path / "out", [folder, folder / "a.jsonl"])
    refuse_output_in_inputs(tmp_path / "in-out", [folder])  # a sibling with a common prefix


def test_an_output_deep_under_a_linked_input_is_refused(tmp_path: Path):
    # The output's missing folders do not stop the existing part of its path from being
    # resolved: `link/new/out`, with link -> the input folder, is inside the input.
    from qurate.errors import BadInputError

    folder = _inputs(tmp_path)
    link = tmp_path / "link"
    link.symlink_to(folder)
    with pytest.raises(BadInputError, match="inside the input"):
        refuse_output_in_inputs(link / "new" / "out", [folder])


def test_an_output_under_a_file_is_a_user_error(tmp_path: Path, capsys):
    # Before: "error: NotADirectoryError: [Errno 20] Not a directory: 'afile/sub'
    # (traceback in /tmp/qurate-error-*.log)", exit 1.
    folder = _inputs(tmp_path)
    afile = tmp_path / "afile"
    afile.write_text("x")
    line = one_line_error(*run_cli(["curate", str(folder), "-o", str(afile / "sub")], capsys))
    assert "afile/sub: Not a directory" in line


def test_the_curate_library_refuses_an_output_inside_its_input_folder(tmp_path: Path):
    from qurate.curate.config import CurateConfig
    from qurate.curate.pipeline import curate
    from qurate.errors import BadInputError

    folder = _inputs(tmp_path)
    with pytest.raises(BadInputError, match="inside the input"):
        curate([folder], folder / "out", CurateConfig(), progress=False)
