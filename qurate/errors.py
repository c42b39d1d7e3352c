"""The error hierarchy every layer raises; the CLI turns each into a one-line message.

- ``ConfigError``: the user's config or flags are wrong (names the key).
- ``BadInputError``: an input file or record cannot be used (names the file and line).
- ``EngineError``: an inference engine failed; ``retryable`` says whether to try again.
- ``MissingExtraError``: an optional dependency is not installed (names the pip extra).
- ``DivergedError``: training (``qurate train``, ``post sft|dpo|grpo``) went non-finite.
"""

from __future__ import annotations


def one_line(text: object) -> str:
    """``text`` (an exception, a description, None) on one line: its whitespace runs, line
    breaks included, become single spaces (YAML's, pydantic's and transformers' messages run
    over several lines)."""
    return " ".join(str(text or "").split())


class QurateError(Exception):
    """Base class: a user-facing error with a one-line message."""


class ConfigError(QurateError):
    """A config key or command-line flag has a bad value."""


class BadInputError(QurateError):
    """An input path or record cannot be read or used."""


class DivergedError(QurateError):
    """A training loss or gradient norm became NaN or infinite."""


class EngineError(QurateError):
    """An inference engine failed."""

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable


class MissingExtraError(QurateError):
    """An optional dependency is missing; the message names the extra to install."""

    def __init__(self, module: str, extra: str) -> None:
        super().__init__(
            f"this needs the optional dependency '{module}': pip install 'qurate[{extra}]'"
        )
