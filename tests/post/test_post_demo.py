"""The demo's post step and the report figure of post-training losses."""

from __future__ import annotations

import pytest

from qurate.post.demo import run_demo
from qurate.post.policy import END_OF_TURN, prepare_tokenizer

pytest.importorskip("trl")


def test_post_demo_trains_sft_and_dpo_and_the_report_plots_them(
    synth_dir, tiny_chat, tmp_path, capfd
):
    import datasets
    from transformers.utils import logging as hf_logging

    from qurate.report.page import render_report

    s = run_demo(synth_dir, tmp_path / "post", model=tiny_chat, steps=2)
    # no transformers / datasets bars in the demo's output, and they are back on after it
    err = capfd.readouterr().err
    assert "Tokenizing train dataset" not in err and "Loading weights" not in err, err[-500:]
    assert hf_logging.is_progress_bar_enabled() and datasets.is_progress_bar_enabled()
    assert s["pairs"]["pairs"] == 6 and s["data"]["kept"] > 0
    assert len(s["sft"]["losses"]) == 2 and len(s["dpo"]["losses"]) == 2
    page = render_report(tmp_path, tmp_path / "report.html").read_text()
    assert (
        'id="post-losses"' in page
        and "sft (post\\u002fsft-run)" in page
        and "dpo (post\\u002fdpo-run)" in page
    )


def test_an_exported_tokenizer_gets_im_end_as_eos(tiny_chat):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_chat)
    tok.eos_token = tok.pad_token = "<|endoftext|>"  # what `qurate train export` writes
    tok.chat_template = None
    prepare_tokenizer(tok)
    assert tok.eos_token == END_OF_TURN and tok.pad_token == "<|endoftext|>"
    text = tok.apply_chat_template(
        [{"role": "user", "content": "hi"}], tokenize=False, add_generation_prompt=True
    )
    assert text.endswith("<|im_start|>assistant\n") and "You are Qwen" in text


def test_post_demo_on_a_qurate_trained_run(synth_dir, tmp_path):
    """The demo path: `qurate train` output -> export -> post data/pairs -> SFT -> DPO."""
    import random

    import pyarrow as pa
    import pyarrow.parquet as pq
    from transformers import AutoTokenizer

    from qurate.contract.stagedir import write_manifest
    from qurate.train.api import train

    shards = tmp_path / "mixed"
    shards.mkdir()
    rng = random.Random(0)
    words = "what is two plus five seven boxed answer the sum of numbers is".split()
    for s in range(2):
        texts = [" ".join(rng.choice(words) for _ in range(40)) for _ in range(120)]
        ids = [f"{s}-{i}" for i in range(120)]
        table = pa.table({"id": ids, "text": pa.array(texts, pa.large_string())})
        pq.write_table(table, shards / f"part-{s:05d}.parquet")
    # a finished stage directory: the trainer refuses one without a manifest
    write_manifest(
        shards,
        stage="test",
        config_hash="t",
        inputs=[],
        n_in=240,
        n_kept=240,
        rejected_by_reason={},
    )
    train(shards, tmp_path / "train", preset="tiny", max_steps=1, seq_len=64, micro_batch_size=2)
    s = run_demo(synth_dir, tmp_path / "post", train_run=tmp_path / "train", steps=1)
    assert len(s["sft"]["losses"]) == 1 and len(s["dpo"]["losses"]) == 1
    tok = AutoTokenizer.from_pretrained(tmp_path / "post" / "dpo-run" / "final")
    assert tok.eos_token == END_OF_TURN
