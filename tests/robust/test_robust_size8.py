"""Eighth sweep: inputs that are valid but of pathological size or shape.

Probed through the CLI (figures in the sweep's report): a 200 MB document, a 200 MB text file
without a newline, a 20 MB word, 200k one-character documents, 20k small files, a folder 200
levels deep, 5k shards, 50k exact and 50k near duplicates, a line repeated 1M times, mix
budgets of 1 and 10^15, ``max_steps`` 10^9, ``seq_len`` past the model, Parquet with one
row group of 500k rows, 10k row groups of one row, ``large_string`` and dictionary-encoded
text, a 0-row file among others, and a folder tree 1,200 levels deep.

What it found: ``train`` on a stage holding one 20 MB word ran BPE training for over 15
minutes, deaf to Ctrl-C (training rescans a whole pre-token per merge, and a run of letters
is one pre-token); a mix budget far above the inputs that ``max_epochs`` allows passed the plan
and wrote until the disk was full (4 GB of scratch in 40 s for 10^11 tokens from 1 MB); the
Parquet reader turned a whole row group into Python dicts at once (one group of 500k rows:
1.2 GB instead of 0.3 GB); a folder tree about 1,000 levels deep was a RecursionError
traceback in ``curate`` and ``augment ingest`` (Python 3.11's ``os.walk`` and ``rglob``
recurse per level). Each test scales the input down to what still shows the bug.
"""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from tests.mixers.mix_builders import make_docs, write_stage
from tests.robust.test_robust_cli import one_line_error, run_cli


def test_bpe_training_cuts_a_giant_word_instead_of_scanning_it_per_merge():
    # Before: the 20k-character word stayed one pre-token, and BPE learnt ever longer tokens
    # of it (an 81,920-character token from 200k characters, 25 s; a 20 MB word: hours).
    from qurate.train.tokenizer import train_bpe

    tok = train_bpe(iter(["abcdefghij" * 2_000, "the cat sat on the mat. " * 50]), 300)
    longest = max(len(t) for t in tok.get_vocab())
    assert longest <= 1000, longest  # MAX_TRAIN_RUN
    # the text around it still trains as usual
    assert tok.encode("the cat sat").tokens


def test_bpe_cut_leaves_ordinary_text_alone():
    from qurate.train.tokenizer import MAX_TRAIN_RUN, cut_long_runs

    text = "Ordinary words, a URL https://example.com/a/b and 中文句子没有空格。"
    assert cut_long_runs(text) == text
    run = "x" * (2 * MAX_TRAIN_RUN + 5)
    pieces = cut_long_runs(f"a {run} b").split()
    assert pieces[0] == "a" and pieces[-1] == "b"
    assert [len(p) for p in pieces[1:-1]] == [MAX_TRAIN_RUN, MAX_TRAIN_RUN, 5]


def test_mix_far_past_the_free_disk_is_refused_before_writing(tmp_path: Path, capsys):
    # Before: the plan passed (max_epochs allows 10^12 repeats) and the mix started writing
    # the shuffle's scratch, ~4 PB for this budget, until the disk filled (or DuckDB ran out
    # of memory allocating the repeats).
    stage = write_stage(tmp_path / "in", make_docs(60, domains={"science": 1.0}))
    cfg = tmp_path / "mix.yaml"
    cfg.write_text("budget_tokens: 1000000000000000\nmax_epochs: 1000000000000\n")
    out = tmp_path / "mixed"
    line = one_line_error(*run_cli(["mix", str(stage), "-o", str(out), "-c", str(cfg)], capsys))
    assert "GB free" in line and "lower budget_tokens" in line, line
    assert not out.exists()  # nothing written, no trace left


def test_mix_checks_room_against_the_disk_it_writes_to(tmp_path: Path, capsys, monkeypatch):
    # The same refusal for an ordinary budget when the disk is nearly full (before: the mix ran
    # and failed on a full disk after writing what it could). A small, fast mix shows it.
    import shutil

    from qurate.mixers import mixer

    stage = write_stage(tmp_path / "in", make_docs(60, domains={"science": 1.0}))
    cfg = tmp_path / "mix.yaml"
    cfg.write_text("budget_tokens: 20000\nmax_epochs: 4\n")
    out = tmp_path / "mixed"
    real = shutil.disk_usage

    def nearly_full(path):
        u = real(path)
        return type(u)(u.total, u.total - 1000, 1000)

    monkeypatch.setattr(mixer.shutil, "disk_usage", nearly_full)
    line = one_line_error(*run_cli(["mix", str(stage), "-o", str(out), "-c", str(cfg)], capsys))
    assert "0.0 GB free" in line, line
    monkeypatch.setattr(mixer.shutil, "disk_usage", real)
    code, err = run_cli(["mix", str(stage), "-o", str(out), "-c", str(cfg)], capsys)
    assert code in (0, None), err


def test_parquet_reader_holds_a_batch_not_the_whole_row_group(tmp_path: Path):
    # Before: read_row_group(...).to_pylist() built every row of a group as Python objects
    # before the first document came out; one group of 500k rows took 1.2 GB (0.3 GB now).
    from qurate.readers.inputs import InputReader, scan_inputs

    n = 20_000
    text = "word " * 40  # 200 characters
    path = tmp_path / "one_group.parquet"
    table = pa.table({"id": [f"r{i}" for i in range(n)], "text": [f"{text}{i}" for i in range(n)]})
    pq.write_table(table, path, row_group_size=n)
    (f,) = scan_inputs([path]).files
    reader = InputReader([f])
    tracemalloc.start()
    try:
        docs = reader.read_parquet(f)
        first = next(docs)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert first.id == "r0"
    group_text_bytes = n * len(text)  # 4 MB of text as Python strings, before any dict
    assert peak < group_text_bytes / 4, f"{peak:,} bytes traced to yield one document"
    assert sum(1 for _ in docs) == n - 1  # and nothing lost


def test_parquet_shapes_read_whole(tmp_path: Path):
    # 1-row row groups, large_string, dictionary-encoded text and a 0-row file among others:
    # every row arrives, in order.
    from qurate.readers.inputs import InputReader, scan_inputs

    texts = [f"document number {i} about nothing" for i in range(30)]
    base = pa.table({"id": [f"r{i}" for i in range(30)], "text": texts})
    d = tmp_path / "in"
    d.mkdir()
    pq.write_table(base, d / "a_rg1.parquet", row_group_size=1)
    pq.write_table(base.cast(pa.schema([("id", pa.string()), ("text", pa.large_string())])),
                   d / "b_large.parquet")  # fmt: skip
    pq.write_table(pa.table({"id": base["id"], "text": base["text"].dictionary_encode()}),
                   d / "c_dict.parquet")  # fmt: skip
    pq.write_table(base.slice(0, 0), d / "d_empty.parquet")
    files = scan_inputs([d]).files
    reader = InputReader(files)
    got = [doc.text for f in files for doc in reader.read_parquet(f)]
    assert got == texts * 3


def _deep_tree(root: Path, depth: int, text: str) -> None:
    """``depth`` nested folders with one text file at the bottom and one at the top, made a
    level at a time from inside (``os.makedirs`` itself recurses per level)."""
    import os

    root.mkdir()
    (root / "top.txt").write_text(text)
    fd = os.open(root, os.O_RDONLY)
    try:
        for _ in range(depth):
            os.mkdir("d", dir_fd=fd)
            nxt = os.open("d", os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = nxt
        leaf = os.open("leaf.txt", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
        os.write(leaf, text.encode())
        os.close(leaf)
    finally:
        os.close(fd)


def _remove_deep_tree(root: Path) -> None:
    """Remove a ``_deep_tree`` bottom-up by its full paths (under PATH_MAX): pytest's own
    clean-up of its temp folders (``shutil.rmtree``) recurses per level and failed the whole
    run with a RecursionError after every test had passed."""
    leaf = root
    while (leaf / "d").is_dir():
        leaf = leaf / "d"
    while True:
        for f in leaf.iterdir():
            if f.is_file():
                f.unlink()
        leaf.rmdir()
        if leaf == root:
            return
        leaf = leaf.parent


def test_a_folder_tree_deeper_than_the_recursion_limit_is_read(tmp_path: Path):
    # Before: Python 3.11's os.walk (curate's listing) and Path.rglob plus a parent lookup
    # (augment ingest) recursed once per level: "RecursionError: maximum recursion depth
    # exceeded", exit 1, from a folder tree 1,100 levels deep (3,300 characters of path).
    from qurate.augment.ingest import plan_inputs
    from qurate.readers.listing import scan_inputs

    _deep_tree(tmp_path / "in", 1_100, "A plain sentence of English words, deep down.")
    try:
        files = scan_inputs([tmp_path / "in"]).files
        assert [f.rel.rsplit("/", 1)[-1] for f in files] == ["leaf.txt", "top.txt"]
        assert files[0].rel.count("/d") == 1_100
        corpora = plan_inputs([tmp_path / "in"], "math")[0]
        assert sorted(Path(f.path).name for f in corpora) == ["leaf.txt", "top.txt"]
    finally:
        _remove_deep_tree(tmp_path / "in")
    assert not (tmp_path / "in").exists()


def test_the_other_folder_walks_take_a_tree_deeper_than_the_recursion_limit(tmp_path: Path):
    # Before: three more places listed a folder with Path.rglob, which recursed once per level
    # on Python 3.11: `score distill --reference DIR` (load_reference), a stage's run
    # fingerprint over a folder input (stagedir._input_facts) and the demo's check of whether
    # a trained run is newer than its export. Each was a RecursionError on a tree 1,100 deep.
    from qurate.contract.stagedir import fingerprint
    from qurate.post.demo import _export_once
    from qurate.score.reference import load_reference

    _deep_tree(tmp_path / "in", 1_100, "A plain sentence of English words, deep down.")
    try:
        texts, sources = load_reference([str(tmp_path / "in")])
        assert [Path(s).name for s in sources] == ["leaf.txt", "top.txt"]
        assert texts
        assert fingerprint({}, [tmp_path / "in"]) != fingerprint({}, [tmp_path])
        (tmp_path / "hf").mkdir()
        (tmp_path / "hf" / "config.json").write_text("{}")  # newer than every file below
        assert _export_once(tmp_path / "in", tmp_path / "hf") == tmp_path / "hf"
    finally:
        _remove_deep_tree(tmp_path / "in")
    assert not (tmp_path / "in").exists()
