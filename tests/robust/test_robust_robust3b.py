"""Third sweep, model side: `train`, `eval`, `ablate`, `post` and the `synth` code sandbox,
driven as a hostile user would (empty or wrong-typed data, flags at their limits, folders
that are not models or runs, chat rows of the wrong shape, solutions that try to forge the
sandbox's verdict). Each bad input ends in one clean line and exit 2, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from qurate.contract.files import write_manifest
from tests.robust.test_robust_cli import one_line_error, run_cli
from tests.robust.test_robust_train_small import _small_mix

TINY = ["--preset", "tiny", "--max-steps", "1", "--seq-len", "32", "--micro-batch-size", "1"]


def _stage(path: Path, table: pa.Table) -> Path:
    path.mkdir(parents=True)
    pq.write_table(table, path / "part-00000.parquet")
    n = table.num_rows
    write_manifest(
        path, stage="mix", config_hash="x", inputs=[], n_in=n, n_kept=n, rejected_by_reason={}
    )
    return path


def test_train_on_only_empty_texts_says_there_is_no_text(tmp_path: Path, capsys):
    # Before: "error: --tokens must be positive", naming a flag the user never gave.
    empty = _stage(tmp_path / "empty", pa.table({"id": ["a", "b"], "text": ["", ""]}))
    args = ["train", "--data", str(empty), "-o", str(tmp_path / "run"), *TINY]
    line = one_line_error(*run_cli(args, capsys))
    assert "no text to train on" in line and "--tokens" not in line


def test_train_on_a_few_characters_of_text_is_not_called_empty(tmp_path: Path):
    from qurate.train.data import estimate_tokens, list_shards

    short = _stage(tmp_path / "short", pa.table({"id": ["a"], "text": ["abc"]}))
    assert estimate_tokens(list_shards(short)) == 1


def test_train_plan_refuses_a_sequence_length_below_one(capsys):
    # Before: exit 0 and a table of complex numbers ("batch 4,264,789+7,063,688j tokens")
    # for --seq-len -100000000; 0 and -3 printed a plan as if they were lengths.
    for bad in ("0", "-100000000"):
        args = ["train", "plan", "--params", "7B", "--tokens", "1e9", "--seq-len", bad]
        line = one_line_error(*run_cli(args, capsys))
        assert "--seq-len must be a positive" in line


def tiny_run(base: Path, steps: int, **update) -> Path:
    """A finished tiny run of ``steps`` steps in ``base/run`` on 56 small documents (each
    checkpoint is also a HF model directory); ``update``: train config fields."""
    from qurate.train.api import load_config, train_config

    data = _small_mix(base / "mixed", 56)
    cfg = load_config(
        None,
        data=str(data),
        out=str(base / "run"),
        preset="tiny",
        max_steps=steps,
        seq_len=32,
        micro_batch_size=1,
    )
    train_config(cfg.model_copy(update=update))
    return base / "run"


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    """A finished one-step tiny run (its checkpoint is also a HF model directory)."""
    return tiny_run(tmp_path_factory.mktemp("run"), 1)


def _damaged_copy(run_dir: Path, tmp_path: Path, name: str, body: bytes | None) -> Path:
    import shutil

    run = tmp_path / "run"
    shutil.copytree(run_dir, run)
    target = run / "checkpoints" / "step-00000001" / name
    if body is None:
        target.unlink()
    else:
        target.write_bytes(body)
    return run


@pytest.mark.parametrize(
    ("name", "body"),
    [
        ("optim.pt", b"garbage\n"),  # was ValueError: invalid literal for int() ...
        ("optim.pt", b"PK\x03\x04cut"),  # was RuntimeError: PytorchStreamReader failed ...
        ("trainer-rank0.pt", None),  # was FileNotFoundError
        ("train.json", b"{"),  # was JSONDecodeError
        ("train.json", b"[]"),  # was TypeError: list indices must be integers
        ("train.json", b'{"step": 1, "tokens": 32, "stage": 0}'),  # was KeyError: 'config'
    ],
)
def test_resume_from_a_damaged_checkpoint_names_the_file(
    run_dir: Path, tmp_path: Path, capsys, name: str, body: bytes | None
):
    # Before: each was "error: <Exception>: ... (traceback in /tmp/qurate-error-*.log)", exit 1.
    run = _damaged_copy(run_dir, tmp_path, name, body)
    args = ["train", "-o", str(run), "--max-steps", "2", "--resume"]
    line = one_line_error(*run_cli(args, capsys))
    assert f"{name} is missing or damaged" in line and "--overwrite" in line


class _Touch:
    """Unpickling it creates a file: what a booby-trapped checkpoint would do instead."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_resume_refuses_a_checkpoint_whose_pickle_would_run_code(
    run_dir: Path, tmp_path: Path, capsys
):
    # Before: torch.load(weights_only=False) unpickled anything, so a checkpoint copied from
    # elsewhere ran its code on --resume (here: created a file).
    import torch

    run = _damaged_copy(run_dir, tmp_path, "trainer-rank0.pt", b"")
    marker = tmp_path / "ran"
    torch.save({"rng": _Touch(marker)}, run / "checkpoints" / "step-00000001" / "trainer-rank0.pt")
    args = ["train", "-o", str(run), "--max-steps", "2", "--resume"]
    line = one_line_error(*run_cli(args, capsys))
    assert "trainer-rank0.pt holds objects other than tensors" in line
    assert not marker.exists()


def test_resume_reads_its_own_checkpoint_with_the_safe_loader(run_dir: Path, tmp_path: Path):
    # numpy's RNG state is the one non-tensor object a checkpoint holds; it must still load.
    import numpy as np

    from qurate.train.checkpoint import load_state

    step = run_dir / "checkpoints" / "step-00000001"
    state = load_state(step / "trainer-rank0.pt")
    assert isinstance(state["rng"]["numpy"][1], np.ndarray)
    assert isinstance(load_state(step / "optim.pt"), dict)


def test_a_run_config_that_is_not_yaml_is_reported_on_one_line(
    run_dir: Path, tmp_path: Path, capsys
):
    # Before: YAML's message ran over five lines ("while parsing a block mapping\n...").
    import shutil

    run = tmp_path / "run"
    shutil.copytree(run_dir, run)
    (run / "train.yaml").write_text(": [\n")
    line = one_line_error(*run_cli(["train", "-o", str(run), "--resume"], capsys))
    assert "train.yaml is not a train config" in line


def test_eval_into_a_directory_is_refused_before_it_evaluates(
    run_dir: Path, tmp_path: Path, capsys
):
    # Before: every eval ran, then "error: IsADirectoryError: [Errno 21] Is a directory:
    # '.out.123.tmp' -> 'out' (traceback in ...)", exit 1, and the metrics were lost.
    texts = tmp_path / "t.jsonl"
    texts.write_text('{"text": "hello world, a held-out text"}\n')
    (tmp_path / "out").mkdir()
    args = ["eval", str(run_dir), "--eval", f"x={texts}", "-o", str(tmp_path / "out")]
    line = one_line_error(*run_cli(args, capsys))
    assert "is a directory" in line and "-o" in line


def test_eval_says_which_rows_it_did_not_score(run_dir: Path, tmp_path: Path, capsys):
    # Before: the table said "rows 1" and nothing of the two rows it had set aside.
    rows = tmp_path / "mc.jsonl"
    rows.write_text(
        '{"question": "q", "choices": ["a", "b"], "answer": 1}\n'
        '{"question": "q", "choices": "ab", "answer": 0}\n'
        '{"question": 5, "choices": ["a", "b"], "answer": 0}\n'
    )
    code, err = run_cli(["eval", str(run_dir), "--eval", f"mc={rows}"], capsys)
    assert code in (0, None)
    assert "mc: 2 rows not scored (bad_choices: 1, no_question: 1)" in err


def test_ablate_leakage_check_takes_evaluations_shorter_than_its_ngram(tmp_path: Path):
    # Before: an eval set whose texts together had fewer words than leakage_ngram (13)
    # crashed every ablation after its arms were prepared: "error: ValueError: operands
    # could not be broadcast together with shapes (4,) (0,) (4,) (traceback in ...)".
    from qurate.ablate.leakage import leakage_table

    arm = ["the river rises in the hills and runs west to the sea through farmland " * 3]
    table = leakage_table({"a": arm}, {"x": ["the river rises"]}, ngram=13, jaccard=0.7)
    assert table["a"]["x"]["ngram"] == 0 and table["a"]["x"]["docs"] == 1


def test_ablate_refuses_an_output_that_is_one_of_its_arms(tmp_path: Path, capsys):
    # Before: `qurate ablate a=mixed b=other -o mixed --overwrite` cleared the arm's shards
    # and manifest (data lost), then wrote the ablation in their place.
    arm = _small_mix(tmp_path / "mixed", 20)
    other = _small_mix(tmp_path / "other", 20)
    texts = tmp_path / "t.jsonl"
    texts.write_text('{"text": "a held-out text"}\n')
    args = ["ablate", f"a={arm}", f"b={other}", "--eval", f"x={texts}", "-o", str(arm)]
    line = one_line_error(*run_cli([*args, "--overwrite"], capsys))
    assert "inside the input" in line
    assert (arm / "part-00000.parquet").is_file() and (arm / "manifest.json").is_file()


def test_ablate_config_arm_and_eval_names_are_folder_names(tmp_path: Path, capsys):
    # Before: the flags checked names, a config did not: arm `a/b` trained into OUT/a/b and
    # `..` wrote its data and runs beside the output directory, outside it.
    for name, key in (("a/b", "arms"), ("..", "arms"), ("../x", "evals")):
        cfg = tmp_path / "c.yaml"
        cfg.write_text(f'ablate:\n  {key}: {{"{name}": {tmp_path}}}\n')
        line = one_line_error(
            *run_cli(["ablate", "-c", str(cfg), "-o", str(tmp_path / "o")], capsys)
        )
        assert f"ablate.{key}" in line and "names a folder" in line


def test_train_refuses_to_write_its_run_into_a_stage_directory(tmp_path: Path, capsys):
    # Before: `qurate train --data mixed -o mixed` trained and wrote checkpoints/, tokenizer/,
    # train.yaml and metrics among the mix's shards (exit 0); export already refused this.
    data = _small_mix(tmp_path / "mixed", 20)
    before = sorted(p.name for p in data.iterdir())
    line = one_line_error(*run_cli(["train", "--data", str(data), "-o", str(data), *TINY], capsys))
    assert "stage directory" in line
    assert sorted(p.name for p in data.iterdir()) == before


@pytest.mark.parametrize(
    ("edit", "said"),
    [
        ({"num_hidden_layers": -1}, "num_hidden_layers must be a positive integer"),
        ({"hidden_size": "64"}, "hidden_size must be a positive integer"),
        ({"rope_parameters": [1]}, "config.json"),
        (None, "not a JSON object"),
    ],
)
def test_a_checkpoint_config_with_impossible_sizes_is_named(
    run_dir: Path, tmp_path: Path, capsys, edit: dict | None, said: str
):
    # Before: num_hidden_layers -1 made `train --init-from` fail on "int() argument must be
    # ... not 'complex'" and `eval` on "unexpected" weights; a JSON list was an
    # AttributeError; each a traceback (exit 1) or a message about the wrong thing.
    import json
    import shutil

    model = tmp_path / "model"
    shutil.copytree(run_dir / "checkpoints" / "step-00000001", model)
    hf = json.loads((model / "config.json").read_text())
    (model / "config.json").write_text(json.dumps([hf] if edit is None else {**hf, **edit}))
    texts = tmp_path / "t.jsonl"
    texts.write_text('{"text": "a held-out text"}\n')
    line = one_line_error(*run_cli(["eval", str(model), "--eval", f"x={texts}"], capsys))
    assert said in line and "config.json" in line


def test_export_into_a_run_directory_is_refused(run_dir: Path, tmp_path: Path, capsys):
    # Before: `train export RUN -o RUN` put config.json + model.safetensors in the run
    # directory, which then read as a checkpoint itself: after more training, `eval RUN`
    # silently scored the old export instead of the latest checkpoint.
    import shutil

    run = tmp_path / "run"
    shutil.copytree(run_dir, run)
    line = one_line_error(*run_cli(["train", "export", str(run), "-o", str(run)], capsys))
    assert "holds a training run" in line
    assert not (run / "model.safetensors").exists()


def test_ablate_arm_rows_without_text_are_counted_not_lost(tmp_path: Path):
    # Before: rows with an empty, missing or non-string `text` left the arm unseen: the
    # arm's manifest said in == kept + not_sampled over the rows that had text, so
    # in == kept + rejected held while 3 of the user's 43 documents were gone.
    import json

    import qurate
    from qurate.ablate.arms import arm_texts, prepare_arm
    from qurate.ablate.config import AblateConfig
    from qurate.train.tokenizer import load_tokenizer

    arm = tmp_path / "arm.jsonl"
    good = [{"text": f"The river rises in the hills, note {i}. " * 3} for i in range(40)]
    bad = [{"text": ""}, {"text": 7}, {"id": "no-text"}]
    arm.write_text("".join(json.dumps(r) + "\n" for r in good + bad))
    rows, facts = arm_texts("a", str(arm))
    assert len(rows) == 40 and facts["no_text"] == 3
    cfg = AblateConfig(tokens=200, seq_len=32, batch_tokens=64)
    tok = load_tokenizer(Path(qurate.__file__).parent / "data" / "tokenizer.json")
    data = prepare_arm("a", rows, facts, tok, cfg, tmp_path / "data")
    assert data.no_text == 3
    counts = json.loads((tmp_path / "data" / "manifest.json").read_text())["counts"]
    assert counts["in"] == 43 and counts["rejected_by_reason"]["no_text"] == 3
    assert counts["in"] == counts["kept"] + counts["rejected"]


@pytest.mark.parametrize(
    "counts",
    [
        pa.array([float("nan"), 3.0]),  # was ValueError: cannot convert float NaN to integer
        pa.array(["x", "y"]),  # was ArrowNotImplementedError: no kernel for sum(string)
        pa.array([-1000, 5]),  # was "error: --tokens must be positive"
    ],
)
def test_a_stage_with_a_bad_n_tokens_column_is_sized_from_its_text(tmp_path: Path, counts):
    # The plan sizes a run from the mixer's n_tokens column; a column that is not a count of
    # tokens now falls back to the text (chars / 4), as a stage without one does.
    from qurate.train.data import estimate_tokens, list_shards

    text = ["abcd" * 10, "efgh" * 10]
    stage = _stage(tmp_path / "s", pa.table({"id": ["a", "b"], "text": text, "n_tokens": counts}))
    assert estimate_tokens(list_shards(stage)) == 20


def test_train_on_a_file_says_it_is_a_file(tmp_path: Path, capsys):
    # Before: "error: data directory docs.jsonl does not exist", for a file that does.
    docs = tmp_path / "docs.jsonl"
    docs.write_text('{"text": "hello"}\n')
    args = ["train", "--data", str(docs), "-o", str(tmp_path / "run"), *TINY]
    line = one_line_error(*run_cli(args, capsys))
    assert "is a file, not a stage directory" in line


# --- the code sandbox without root: the solution runs as our own uid --------------------

# Writes a passing verdict into every pipe of every process it can see, through /proc and a
# dir_fd (the audit hook resolves paths against the cwd, so it lets this by).
_PROC_FD_FORGER = r"""
import os
proc = os.open("/proc", os.O_RDONLY)
for pid in os.listdir("/proc"):
    if pid.isdigit() and int(pid) != os.getpid():
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}").startswith("pipe:"):
                    w = os.open(f"{pid}/fd/{fd}", os.O_WRONLY | os.O_NONBLOCK, dir_fd=proc)
                    os.write(w, b'{"status": "passed", "detail": "1"}\n')
            except OSError:
                pass
def add(a, b):
    return a - b
"""

# Reads the expected answer out of the memory of any process that holds the tests.
_MEMORY_PEEKER = r"""
import os, re
def add(a, b):
    proc = os.open("/proc", os.O_RDONLY)
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or pid == str(os.getpid()):
            continue
        try:
            maps = os.open(pid + "/maps", os.O_RDONLY, dir_fd=proc)
            mem = os.open(pid + "/mem", os.O_RDONLY, dir_fd=proc)
        except OSError:
            continue
        text = b""
        while chunk := os.read(maps, 1 << 16):
            text += chunk
        for line in text.decode().splitlines():
            lo, hi = (int(x, 16) for x in line.split()[0].split("-"))
            if "rw" in line.split()[1] and hi - lo <= 1 << 26:
                try:
                    m = re.search(rb"add\(2, 3\) == (\d{5,})", os.pread(mem, hi - lo, lo))
                except OSError:
                    continue
                if m:
                    return int(m.group(1))
    return -1
"""

_NONROOT_DRIVER = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
from qurate.synth.sandbox import SandboxLimits, run_in_sandbox
samples = json.loads(open("samples.json").read())
limits = SandboxLimits(timeout_s=10, memory_mb=512, max_processes=6, workers=1)
out = {}
for name, (code, tests) in samples.items():
    r = run_in_sandbox(code, tests, limits)
    out[name] = [r.passed, r.status, r.detail[:200]]
print(json.dumps(out))
"""


def test_without_root_a_solution_cannot_reach_the_verdict_or_the_tests():
    # Before: run as a non-root user (no namespaces, one uid for every process), both wrong
    # solutions passed: the forger wrote "passed" into qurate's end of the verdict pipe
    # through /proc/<pid>/fd, the peeker read "== 1234567" out of the memory of qurate (and
    # of the sandbox's supervisor). Both are now not dumpable, so /proc refuses either.
    import json
    import os
    import subprocess
    import tempfile

    from tests.synth.test_sandbox_nonroot import _as_unprivileged

    samples = {
        "right": ("def add(a, b):\n    return a + b\n", "assert add(2, 3) == 5\n"),
        "forger": (_PROC_FD_FORGER, "assert add(2, 3) == 5\n"),
        "peeker": (_MEMORY_PEEKER, "assert add(2, 3) == 1234567\n"),
    }
    with tempfile.TemporaryDirectory(prefix="qurate-robust3b-") as d:
        os.chmod(d, 0o755)  # the unprivileged user reads the driver from here
        for name, body in (("samples.json", json.dumps(samples)), ("driver.py", _NONROOT_DRIVER)):
            (Path(d) / name).write_text(body)
            (Path(d) / name).chmod(0o644)
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}
        cmd = _as_unprivileged(Path(d) / "driver.py")
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=d, env=env)
    assert r.returncode == 0, r.stderr[-2000:]
    res = json.loads(r.stdout.splitlines()[-1])
    assert res["right"][:2] == [True, "passed"], res["right"]
    assert not res["forger"][0] and not res["peeker"][0], res


def test_a_solution_that_raises_stopiteration_does_not_end_the_tests_loop():
    # Before: passed. The StopIteration came back from the call as itself, inside the tests'
    # own map(), and all() took it for the end of an empty (so true) sequence.
    from qurate.synth.sandbox import SandboxLimits, run_in_sandbox

    fast = SandboxLimits(timeout_s=5, memory_mb=256, max_processes=6, workers=1)
    wrong = "def add(a, b):\n    raise StopIteration\n"
    r = run_in_sandbox(wrong, "assert all(map(lambda x: add(x, 1) == x + 1, range(3)))\n", fast)
    assert not r.passed and "StopIteration" in r.detail, (r.status, r.detail)
    # A solution's own iterators still end as Python expects.
    right = "def gen(n):\n    yield from range(n)\n"
    r = run_in_sandbox(right, "assert list(gen(3)) == [0, 1, 2]\n", fast)
    assert r.passed, r.detail


@pytest.mark.parametrize("command", ["post data", "synth filter"])
def test_a_lone_surrogate_escape_is_a_rejected_row_not_a_crash(
    tmp_path: Path, capsys, command: str
):
    # Before: JSON's "\ud800" (valid JSON, no valid text) reached the tokenizer or Parquet:
    # "error: TypeError: TextEncodeInput must be ..." / "UnicodeEncodeError: ... surrogates
    # not allowed" (traceback in ...), exit 1, and nothing written.
    import json

    from qurate.contract.stagedir import read_manifest

    turns = [{"role": "user", "content": "What is 1+1?"}, {"role": "assistant", "content": "2"}]
    sample = {"prompt": "What is 1+1?", "response": "\\boxed{2}", "task": "math", "reference": "2"}
    good = json.dumps({"messages": turns} if command == "post data" else sample)
    bad = good.replace("1+1?", "1+1? \\ud800")  # the escape as it stands in the file
    src = tmp_path / "in.jsonl"
    src.write_text(f"{good}\n{bad}\n")
    out = tmp_path / "out"
    code, err = run_cli([*command.split(), str(src), "-o", str(out)], capsys)
    assert code in (0, None) and "Traceback" not in err, err
    m = read_manifest(out)
    assert (m["counts"]["in"], m["counts"]["kept"]) == (2, 1), m["counts"]
    assert sum(m["counts"]["rejected_by_reason"].values()) == 1


def _finished_stage(path: Path, stage: str, table) -> Path:
    """A finished stage directory of ``stage`` holding ``table`` as one shard."""
    from qurate.contract.stagedir import write_table

    path.mkdir(parents=True)
    write_table(path / "part-00000.parquet", table)
    write_manifest(
        path, stage=stage, config_hash="t", inputs=[], n_in=table.num_rows,
        n_kept=table.num_rows, rejected_by_reason={},
    )  # fmt: skip
    return path


def _pairs_dir(path: Path, rows: list[dict]) -> Path:
    """A finished directory shaped like `post pairs` output, holding ``rows`` as given."""
    from qurate.post.pairs import _table

    return _finished_stage(path, "post_pairs", _table(rows))


def _pair(i: int, chosen: str, rejected: str) -> dict:
    return {
        "id": f"p{i}",
        "text": "t",
        "prompt": [{"role": "user", "content": f"Is {i} a number?"}],
        "chosen": [{"role": "assistant", "content": chosen}],
        "rejected": [{"role": "assistant", "content": rejected}],
    }


def test_dpo_leaves_out_and_counts_pairs_it_cannot_learn_from(tmp_path: Path, capsys):
    # Before: a pair whose two answers were the same trained at a constant loss of ln 2 and
    # was counted as kept; one with an empty prompt died in the chat template (ValueError
    # traceback); bad roles on a side were trained on as they were.
    pytest.importorskip("trl")
    from qurate.contract.stagedir import read_manifest
    from qurate.llm.testing import cached_tiny_chat_model

    model = str(cached_tiny_chat_model())
    capsys.readouterr()  # building it prints progress bars
    same = _pairs_dir(tmp_path / "same", [_pair(i, "Yes.", "Yes.") for i in range(3)])
    args = ["post", "dpo", "--model", model, "--data", str(same), "-o", str(tmp_path / "o1")]
    line = one_line_error(*run_cli([*args, "--max-steps", "1"], capsys))
    assert "no usable pair (identical: 3)" in line

    rows = [_pair(0, "Yes, it is.", "No idea."), _pair(1, "Yes.", "Yes."), _pair(2, "Yes.", "No.")]
    rows[2]["prompt"] = []
    mixed = _pairs_dir(tmp_path / "mixed", rows)
    out = tmp_path / "o2"
    args = ["post", "dpo", "--model", model, "--data", str(mixed), "-o", str(out)]
    code, err = run_cli([*args, "--max-steps", "1"], capsys)
    assert code in (0, None), err
    c = read_manifest(out)["counts"]
    assert (c["in"], c["kept"], c["rejected_by_reason"]) == (3, 1, {"identical": 1, "bad_roles": 1})


@pytest.mark.parametrize(
    ("row", "said"),
    [
        ({"prompt": ["What is 1+1?"]}, "expected {role, content}"),  # was TypeError
        ({"prompt": [{"role": "user"}]}, "content is NoneType"),  # was KeyError: 'content'
        ({"prompt": [{"role": "bot", "content": "hi"}]}, "role 'bot'"),  # was trained on
        ({"prompt": "What is 1+1?", "tests": 5}, "`tests` must be test code"),
    ],
)
def test_grpo_names_a_prompt_row_that_is_not_a_conversation(
    tmp_path: Path, capsys, row: dict, said: str
):
    import json

    from qurate.llm.testing import cached_tiny_chat_model

    pytest.importorskip("trl")
    model = str(cached_tiny_chat_model())
    capsys.readouterr()
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text(json.dumps({**row, "reference": "2"}) + "\n")
    args = ["post", "grpo", "--model", model, "--prompts", str(prompts), "--reward", "math"]
    line = one_line_error(*run_cli([*args, "-o", str(tmp_path / "out")], capsys))
    assert "prompts.jsonl:1" in line and said in line


_GOOD_CHAT = [
    {"role": "user", "content": "What is red?"},
    {"role": "assistant", "content": "A hue."},
]


def _chat_dir(path: Path, conversations: list) -> Path:
    """A finished directory shaped like `post data` output, holding ``conversations``."""
    from qurate.post.chat import chat_table

    rows = [
        {"id": f"r{i}", "text": "t", "messages": m, "capability": "other"}
        for i, m in enumerate(conversations)
    ]
    return _finished_stage(path, "post_data", chat_table(rows))


@pytest.mark.parametrize(
    ("messages", "said"),
    [
        (None, "row r1: bad_roles"),  # was left out silently (in counted 1 row, not 2)
        ([{"role": "user", "content": "Hi?"}], "row r1: no_assistant"),  # TRL RuntimeError
        ([], "row r1: bad_roles"),  # was a chat-template ValueError traceback
    ],
)
def test_sft_names_a_chat_row_that_is_not_a_conversation(
    tmp_path: Path, capsys, messages: list | None, said: str
):
    pytest.importorskip("trl")
    from qurate.llm.testing import cached_tiny_chat_model

    model = str(cached_tiny_chat_model())
    capsys.readouterr()
    chat = _chat_dir(tmp_path / "chat", [_GOOD_CHAT, messages])
    args = ["post", "sft", "--model", model, "--data", str(chat), "-o", str(tmp_path / "out")]
    line = one_line_error(*run_cli([*args, "--max-steps", "1"], capsys))
    assert said in line


@pytest.mark.parametrize(
    ("config", "said"),
    [
        ("[1]", "not a model config"),  # was AttributeError: 'list' object has no attribute
        # was accepted letter by letter, then transformers' message ran over four lines
        ('{"architectures": "Qwen2ForCausalLM"}', "cannot load its tokenizer"),
    ],
)
def test_post_model_that_is_not_a_checkpoint_is_one_line(
    tmp_path: Path, capsys, config: str, said: str
):
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text(config)
    chat = _chat_dir(tmp_path / "chat", [_GOOD_CHAT])
    args = ["post", "sft", "--model", str(model), "--data", str(chat), "-o", str(tmp_path / "o")]
    line = one_line_error(*run_cli(args, capsys))
    assert said in line


@pytest.mark.parametrize(
    "limit",
    [
        "timeout_s: 1.0e+30",  # was OverflowError: timestamp out of range (traceback)
        "memory_mb: 100000000000000",  # was: every sample rejected, the right one too
        "max_processes: 100000000000000000000",
    ],
)
def test_sandbox_limits_out_of_range_are_a_config_error(tmp_path: Path, capsys, limit: str):
    import json

    sample = {
        "prompt": "Write add.",
        "response": "```python\ndef add(a, b):\n    return a + b\n```",
        "task": "code",
        "tests": "assert add(1, 2) == 3\n",
    }
    src = tmp_path / "s.jsonl"
    src.write_text(json.dumps(sample) + "\n")
    cfg = tmp_path / "q.yaml"
    cfg.write_text(f"synth:\n  filter:\n    sandbox:\n      {limit}\n")
    args = ["synth", "filter", str(src), "-o", str(tmp_path / "out"), "-c", str(cfg)]
    line = one_line_error(*run_cli(args, capsys))
    assert f"sandbox.{limit.split(':')[0]}" in line and "less than or equal" in line


def test_a_grpo_reward_timeout_past_a_day_is_a_config_error(tmp_path: Path, capsys):
    # Before: accepted; every reward call then failed in Future.result ("timestamp out of
    # range") and each batch was scored as no reward, so GRPO trained on nothing.
    cfg = tmp_path / "q.yaml"
    cfg.write_text("post:\n  grpo:\n    reward_timeout_s: 1.0e+30\n")
    args = ["post", "grpo", "--model", str(tmp_path), "--prompts", str(tmp_path), "-c", str(cfg)]
    line = one_line_error(*run_cli([*args, "--reward", "math", "-o", str(tmp_path / "o")], capsys))
    assert "reward_timeout_s" in line and "less than or equal" in line


def test_train_plan_refuses_a_count_too_large_to_be_finite(capsys):
    # Before: "1e400" read as infinity and printed a plan of "peak lr 0" and "C = M*D = inf".
    for flag, value in (("--params", "1e400"), ("--tokens", "1e999")):
        args = ["train", "plan", "--params", "7B", "--tokens", "1e9", flag, value]
        line = one_line_error(*run_cli(args, capsys))
        assert f"'{value}' is not a finite count" in line


def test_train_refuses_a_preset_beside_init_from(tmp_path: Path, capsys):
    # Before: --preset 7B --init-from DIR trained the checkpoint's shape and said nothing.
    data = _stage(tmp_path / "d", pa.table({"id": ["a"], "text": ["some text to train on"]}))
    args = ["train", "--data", str(data), "-o", str(tmp_path / "r"), "--preset", "7B"]
    line = one_line_error(*run_cli([*args, "--init-from", str(tmp_path)], capsys))
    assert "--preset and --init-from exclude each other" in line


def test_resume_on_other_data_is_refused_and_on_moved_data_goes_on(
    run_dir: Path, tmp_path: Path, capsys
):
    # Before: `--resume --data OTHER` continued, the loader's saved (shard, batch, row)
    # pointing into shards it had never seen.
    import shutil

    run = tmp_path / "run"
    shutil.copytree(run_dir, run)
    other = _small_mix(tmp_path / "other", 80)
    args = ["train", "-o", str(run), "--max-steps", "2", "--resume"]
    line = one_line_error(*run_cli([*args, "--data", str(other)], capsys))
    assert "the checkpoint was trained on other data" in line and "new -o" in line
    moved = tmp_path / "moved"
    shutil.copytree(run_dir.parent / "mixed", moved)  # the same shards elsewhere
    code, err = run_cli([*args, "--data", str(moved)], capsys)
    assert code == 0 and (run / "checkpoints" / "step-00000002").is_dir(), err
