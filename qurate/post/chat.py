"""Chat rows: the checks a conversation must pass, its text rendering, and the chat schema.

A chat stage directory keeps every document column (so ``qurate stats``, language ID, dedup
and decontamination read it unchanged) and adds ``messages`` (a list of role/content structs:
a type DuckDB, pyarrow, polars and ``datasets`` all read), ``capability``,
``n_prompt_tokens`` and ``n_response_tokens``. ``text`` is a plain role-tagged rendering
(``user: ...`` blocks), not a chat template, so token counts and n-grams see the words.

A conversation is an optional system turn, then user and assistant turns alternating, the
first a user turn; contents are non-empty strings. :func:`check_messages` names the first
rule a row breaks (``bad_roles``, ``no_assistant``, ``empty_turn``) instead of raising, so a
bad row becomes a recorded reject, never a crash.
"""

from __future__ import annotations

import json
from typing import Any

import pyarrow as pa

from qurate.contract.schema import DOC_FIELDS, REJECT_FIELDS, SCHEMA_VERSION_KEY, rows_to_table
from qurate.contract.schema import SCHEMA_VERSION as _V

ROLES = ("system", "user", "assistant")
MESSAGE = pa.struct([pa.field("role", pa.string()), pa.field("content", pa.large_string())])
MESSAGES = pa.list_(MESSAGE)
CHAT_FIELDS = [
    pa.field("messages", MESSAGES),
    pa.field("capability", pa.string()),
    pa.field("n_prompt_tokens", pa.int64()),
    pa.field("n_response_tokens", pa.int64()),
]
_META = {SCHEMA_VERSION_KEY: _V.encode()}
CHAT_SCHEMA = pa.schema(DOC_FIELDS + CHAT_FIELDS, metadata=_META)
CHAT_REJECT_SCHEMA = pa.schema(DOC_FIELDS + REJECT_FIELDS + CHAT_FIELDS, metadata=_META)
# Tokens a turn adds around its content in the Qwen2.5 template: <|im_start|>, role, "\n",
# <|im_end|>, "\n". Used to bound a row's length before a trainer's tokenizer is known.
TURN_OVERHEAD = 5


def check_messages(messages: Any) -> tuple[str, str] | None:
    """``(reason, detail)`` for the first rule ``messages`` breaks, or None when it is fine."""
    if not isinstance(messages, list) or not messages:
        return "bad_roles", f"messages must be a non-empty list, got {type(messages).__name__}"
    for i, m in enumerate(messages):
        if not isinstance(m, dict) or not isinstance(m.get("role"), str):
            return "bad_roles", f"turn {i}: expected {{role, content}}, got {str(m)[:80]}"
        if m["role"] not in ROLES:
            return "bad_roles", f"turn {i}: role {m['role']!r} is not one of {', '.join(ROLES)}"
        if not isinstance(m.get("content"), str):
            return "bad_roles", f"turn {i}: content is {type(m.get('content')).__name__}, not text"
    roles = [m["role"] for m in messages]
    body = roles[1:] if roles[0] == "system" else roles
    if "system" in body:
        return "bad_roles", "a system turn may only come first"
    if "assistant" not in body:
        return "no_assistant", "no assistant turn"
    for i, r in enumerate(body):
        if r != ("user" if i % 2 == 0 else "assistant"):
            return "bad_roles", f"turns must alternate user/assistant from a user turn: {roles}"
    if body[-1] != "assistant":
        return "no_assistant", "the last turn is not an assistant turn (nothing to learn after it)"
    for i, m in enumerate(messages):
        if not m["content"].strip():
            return "empty_turn", f"turn {i} ({m['role']}) is empty"
    return None


def clean_messages(messages: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Only role and content (extra keys such as ``name`` are not part of the row)."""
    return [{"role": m["role"], "content": m["content"]} for m in messages]


def render_text(messages: Any) -> str:
    """The role-tagged plain rendering stored in ``text`` (anything renders; never raises)."""
    if not isinstance(messages, list):
        return json.dumps(messages, default=str, ensure_ascii=False)
    parts = []
    for m in messages:
        if isinstance(m, dict):
            parts.append(f"{m.get('role')}: {m.get('content')}")
        else:
            parts.append(str(m))
    return "\n\n".join(parts)


def user_text(messages: list[dict[str, str]]) -> str:
    """The user turns, joined: what dedup and decontamination compare."""
    return "\n\n".join(m["content"] for m in messages if m["role"] == "user")


def chat_table(rows: list[dict[str, Any]], *, rejects: bool = False) -> pa.Table:
    """Rows -> a table with the pinned chat schema (document columns first)."""
    base = rows_to_table(rows, rejects=rejects)
    schema = CHAT_REJECT_SCHEMA if rejects else CHAT_SCHEMA
    cols = {f.name: base.column(f.name) for f in base.schema}
    for f in CHAT_FIELDS:
        values = [r.get(f.name) for r in rows]
        if f.name == "messages":
            values = [v if _valid_struct_list(v) else None for v in values]
        cols[f.name] = pa.array(values, type=f.type)
    return pa.Table.from_pydict({f.name: cols[f.name] for f in schema}, schema=schema)


def _valid_struct_list(v: Any) -> bool:
    return isinstance(v, list) and all(
        isinstance(m, dict) and isinstance(m.get("role"), str) and isinstance(m.get("content"), str)
        for m in v
    )


__all__ = [
    "CHAT_FIELDS",
    "CHAT_REJECT_SCHEMA",
    "CHAT_SCHEMA",
    "MESSAGES",
    "ROLES",
    "TURN_OVERHEAD",
    "chat_table",
    "check_messages",
    "clean_messages",
    "render_text",
    "user_text",
]
