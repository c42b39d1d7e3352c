"""Synthesis tasks as versioned YAML prompt templates, and the parsers of teacher outputs.

A template (``qurate/synth/templates/<name>_v<version>.yaml``, or a user's directory given
with ``--templates``) names its ``task`` (math | code | knowledge), the taxonomy ``domain``
its documents get, the seed fields it ``requires``, a ``system`` and a ``user`` prompt with
``{{field}}`` placeholders (plain substitution, so LaTeX braces need no escaping), and how
its ``output`` is read:

- ``answer``: the whole output is the response; the prompt is the seed's ``prompt_field``;
- ``problem_solution``: ``Problem:`` ... ``Solution:`` sections become prompt and response;
- ``code``: the first fenced block is the solution, a second one (or the seed's
  ``tests_field``) the tests; the prompt is the seed's ``prompt_field``;
- ``instruction_code``: an ``Instruction:`` section, then blocks as in ``code``;
- ``document``: the whole output is the response and the training document (knowledge).

A math response must carry a ``\\boxed{}`` final answer and a code response a solution block
and tests; an output that does not is ``malformed_output``, an empty one ``empty_output``.
A template is named ``<name>_v<version>`` everywhere (provenance, cache keys, flags).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from qurate.errors import BadInputError, ConfigError
from qurate.synth.verify_math import extract_boxed

TEMPLATE_DIR = Path(__file__).parent / "templates"
Task = Literal["math", "code", "knowledge"]
TASKS: tuple[str, ...] = ("math", "code", "knowledge")
# The taxonomy domain of a task's documents when the sample's provenance names none.
TASK_DOMAIN = {"math": "math", "code": "code", "knowledge": "education"}
# Default template per task, by the seed field present (first match wins).
DEFAULTS: dict[str, list[tuple[str, str]]] = {
    "math": [("problem", "math_solve_v1"), ("text", "math_synth_v1")],
    "code": [("instruction", "code_solve_v1"), ("text", "code_synth_v1")],
    "knowledge": [("text", "knowledge_rewrite_v1")],
}
_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[^\n]*\n(.*?)```", re.S)


class Template(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    version: int = Field(ge=1)
    task: Task
    domain: str
    requires: list[str] = Field(min_length=1)
    output: Literal["answer", "problem_solution", "code", "instruction_code", "document"]
    system: str = ""
    user: str
    prompt_field: str | None = None
    reference_field: str | None = None
    tests_field: str | None = None
    description: str = ""

    @property
    def id(self) -> str:
        return f"{self.name}_v{self.version}"

    def missing(self, seed: dict[str, Any]) -> list[str]:
        return [f for f in self.requires if not isinstance(seed.get(f), str) or not seed[f].strip()]

    def not_text(self, seed: dict[str, Any]) -> list[str]:
        """:func:`not_text` for the template's required fields."""
        return not_text(seed, self.requires)

    def render(self, seed: dict[str, Any]) -> list[dict[str, str]]:
        """Chat messages for one seed (``requires`` must hold)."""
        user = _PLACEHOLDER.sub(lambda m: str(seed.get(m.group(1)) or ""), self.user).strip()
        msgs = [{"role": "system", "content": self.system.strip()}] if self.system.strip() else []
        return [*msgs, {"role": "user", "content": user}]


def json_type(value: Any) -> str:
    """The JSON name of a value's type, with its article: ``a number``, ``null``, ``a list``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return f"a {type(value).__name__}"


def not_text(seed: dict[str, Any], fields: Iterable[str]) -> list[str]:
    """``'field' is a number`` for each of ``fields`` the seed has but not as a string (null
    included): "missing" would send the user looking for a field that is there."""
    return [
        f"'{f}' is {json_type(seed[f])}"
        for f in fields
        if f in seed and not isinstance(seed[f], str)
    ]


def load_templates(extra_dir: str | Path | None = None) -> dict[str, Template]:
    """Built-in templates plus a user's directory of YAML files (same id -> the user's wins)."""
    dirs = [TEMPLATE_DIR] + ([Path(extra_dir)] if extra_dir else [])
    out: dict[str, Template] = {}
    for d in dirs:
        if not d.is_dir():
            raise ConfigError(f"templates directory {d} not found")
        for path in sorted(d.glob("*.yaml")) + sorted(d.glob("*.yml")):
            try:
                t = Template.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
            except (yaml.YAMLError, ValidationError) as e:
                first = str(e).splitlines()
                raise ConfigError(f"template {path}: {' '.join(first[:3])}") from None
            out[t.id] = t
    return out


def pick_template(
    task: str,
    seeds: list[dict[str, Any]],
    name: str | None,
    templates: dict[str, Template],
    where: str | None = None,
) -> Template:
    """The template ``name`` (checked against ``task``), else the task's default for these
    seeds. ``where`` (``file:line``) names the first seed in an error."""
    if task not in TASKS:
        raise ConfigError(f"unknown task {task!r}; choose one of {', '.join(TASKS)}")
    if name:
        if name not in templates:
            raise ConfigError(f"unknown template {name!r}; known: {', '.join(sorted(templates))}")
        t = templates[name]
        if t.task != task:
            raise ConfigError(f"template {name} is for task {t.task}, not {task}")
        return t
    first = seeds[0] if seeds else {}
    for field, tid in DEFAULTS[task]:
        if isinstance(first.get(field), str):
            return templates[tid]
    need = " or ".join(repr(f) for f, _ in DEFAULTS[task])
    wrong = not_text(first, [f for f, _ in DEFAULTS[task]])
    if wrong:
        at = f" ({where})" if where else ""
        raise BadInputError(
            f"seeds for task {task} need a text field {need}; in the first seed{at} "
            f"{' and '.join(wrong)}, not text"
        )
    raise BadInputError(
        f"seeds for task {task} need a field {need} (first seed has {sorted(first)})"
    )


@dataclass
class Parsed:
    """One teacher output read by its template; ``reason`` set when it is unusable."""

    prompt: str = ""
    response: str = ""
    tests: str | None = None
    reason: str | None = None
    detail: str | None = None


def code_blocks(text: str) -> list[str]:
    """Fenced code blocks (any language tag), in order."""
    return [m.group(2).strip("\n") for m in _FENCE.finditer(text)]


def extract_code(response: str) -> str:
    """The code under test: the response's first fenced block, or the whole response."""
    blocks = code_blocks(response)
    return blocks[0] if blocks else response


def _section(text: str, name: str, until: str | None) -> str | None:
    head = rf"(?:^|\n)\s*(?:[#*]+\s*)?{name}\s*(?:\*\*)?\s*:\s*(?:\*\*)?"
    m = re.search(head, text, re.I)
    if not m:
        return None
    rest = text[m.end() :]
    if until:
        e = re.search(rf"(?:^|\n)\s*(?:[#*]+\s*)?{until}\s*(?:\*\*)?\s*:", rest, re.I)
        if e:
            rest = rest[: e.start()]
    return rest.strip() or None


def parse_output(t: Template, seed: dict[str, Any], output: str) -> Parsed:
    """Read one teacher output into (prompt, response, tests), or say why it cannot be."""
    if not output or not output.strip():
        return Parsed(reason="empty_output", detail="the teacher returned no text")
    out = output.strip()
    p = Parsed()
    if t.output == "answer" or t.output == "document":
        # Without a prompt field the prompt is the instruction the teacher saw (a rewrite's
        # source passage): it groups the n samples of a seed for best-of-n.
        p.prompt = (
            str(seed.get(t.prompt_field) or "") if t.prompt_field else t.render(seed)[-1]["content"]
        )
        p.response = out
    elif t.output == "problem_solution":
        prob, sol = _section(out, "problem", "solution"), _section(out, "solution", None)
        if not prob or not sol:
            return Parsed(
                reason="malformed_output", detail="no 'Problem:' and 'Solution:' sections"
            )
        p.prompt, p.response = prob, sol
    else:  # code, instruction_code
        body = out
        if t.output == "instruction_code":
            instr = _section(out, "instruction", None)
            if not instr or "```" not in out:
                return Parsed(reason="malformed_output", detail="no 'Instruction:' and code block")
            instr = instr.split("```")[0].strip()
            if not instr:
                return Parsed(reason="malformed_output", detail="empty instruction")
            p.prompt = instr
            body = out[out.index("```") :]
        else:
            p.prompt = str(seed.get(t.prompt_field or "", "") or "")
        matches = list(_FENCE.finditer(body))
        if not matches:
            return Parsed(reason="malformed_output", detail="no fenced code block")
        seed_tests = seed.get(t.tests_field) if t.tests_field else None
        p.tests = seed_tests if isinstance(seed_tests, str) and seed_tests.strip() else None
        if p.tests is None:
            if len(matches) < 2:
                return Parsed(reason="malformed_output", detail="no tests block")
            p.tests = matches[1].group(2).strip("\n")
        # The response ends with the solution block: the tests are kept apart.
        p.response = body[: matches[0].end()].strip()
    if t.task == "math" and extract_boxed(p.response) is None:
        return Parsed(reason="malformed_output", detail="no \\boxed{} final answer")
    return p
