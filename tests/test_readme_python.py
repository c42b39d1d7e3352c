"""The README's "From Python" block names real entry points with the arguments they take.

Every import in the block is imported, and every call of an imported function or class is
bound against its signature (``inspect.Signature.bind``), so a renamed function, a moved
module or a parameter that changed shape fails here instead of in a user's notebook."""

from __future__ import annotations

import ast
import importlib
import inspect
import re
from pathlib import Path

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def _block() -> str:
    m = re.search(r"## From Python\n.*?```python\n(.*?)```", README, re.S)
    assert m, "the README's From Python block is gone"
    return m.group(1)


def test_every_call_in_the_from_python_block_binds_to_a_real_signature():
    tree = ast.parse(_block())
    names: dict[str, object] = {}
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            module = importlib.import_module(node.module)
            for alias in node.names:
                names[alias.asname or alias.name] = getattr(module, alias.name)
    calls = [
        n
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in names
    ]
    called = {c.func.id for c in calls}
    stages = {"curate", "annotate", "distill", "apply", "recall", "mix", "train", "run_pipeline"}
    assert stages <= called, stages - called
    for call in calls:
        target = names[call.func.id]
        if inspect.isclass(target) and target is Path:
            continue
        sig = inspect.signature(target)
        args = [object()] * len(call.args)
        kwargs = {k.arg: object() for k in call.keywords}
        sig.bind(*args, **kwargs)  # TypeError names the call that no longer fits


def test_the_pipeline_config_example_with_every_lever_validates():
    import yaml

    from qurate.config import parse_config

    m = re.search(r"## Pipeline config\n.*?```yaml\n(.*?)```", README, re.S)
    assert m, "the README's pipeline example is gone"
    cfg = parse_config(yaml.safe_load(m.group(1)), source="README")
    run = cfg.run
    assert [e.domain for e in run.ingest] == ["code"] and [e.domain for e in run.recall] == ["math"]
    assert [e.task for e in run.synth] == ["math"] and run.ablate and cfg.ablate.evals
    assert run.post is not None and run.post.sft and run.post.dpo and cfg.train is not None
