"""Stage commands fed hostile rows: each bad row is a reject with a reason, the rest goes on."""

from __future__ import annotations

import json
from pathlib import Path

from qurate.contract.shards import iter_rows
from qurate.post.data import build_chat_data

CHAT = {
    "messages": [
        {"role": "user", "content": "What is the capital of France?"},
        {"role": "assistant", "content": "Paris is the capital of France."},
    ]
}


def test_post_data_keeps_a_file_with_a_line_that_is_not_an_object(tmp_path: Path):
    # Before: "chats.jsonl:1: a row must be a JSON object" refused the whole file.
    f = tmp_path / "chats.jsonl"
    f.write_text("[1, 2]\n" + json.dumps(CHAT) + "\nnot json\n" + '{"text": null}\n')
    r = build_chat_data([f], tmp_path / "sft")
    assert (r.n_in, r.kept) == (4, 1)
    assert r.rejected == {"malformed_row": 2, "bad_roles": 1}
    rejects = {x["reject_detail"] for x in iter_rows(tmp_path / "sft", rejects=True)}
    assert any(d.endswith("chats.jsonl:1: a row must be a JSON object") for d in rejects)
    assert "no messages (or prompt/response) field" in rejects
