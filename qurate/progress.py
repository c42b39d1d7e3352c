"""A rich progress bar with a rate and an ETA for the steps that take minutes.

annotate (the judge), apply and perplexity under a transformer run at a few documents per
second on a CPU, and synth filter's code sandbox and reward models at a few samples per
second, so a run over a few thousand items sits for minutes: the bar says how far it is and
how long is left. Drawn on stderr, so what a command prints on stdout stays parseable; off
when ``enabled`` is false (tests, executor workers).
"""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text


class _Rate(ProgressColumn):
    def __init__(self, unit: str) -> None:
        super().__init__()
        self.unit = unit

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:.1f} {self.unit}/s" if speed else f"? {self.unit}/s")


class Bar:
    """``with Bar("perplexity", total) as bar: bar.advance(n)``."""

    def __init__(self, description: str, total: int | None, *, enabled: bool = True,
                 unit: str = "docs", transient: bool = False) -> None:  # fmt: skip
        """``transient``: the bar is cleared when it stops (a table that follows says the
        result), and nothing is left on a stderr that is not a terminal."""
        self.progress = (
            Progress(
                TextColumn("{task.description:<12}"),
                BarColumn(),
                MofNCompleteColumn(),
                _Rate(unit),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=transient,
            )
            if enabled
            else None
        )
        self.task = self.progress.add_task(description, total=total) if self.progress else None

    def __enter__(self) -> Bar:
        if self.progress is not None:
            self.progress.start()
        return self

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.progress is not None:
            self.progress.stop()

    def advance(self, n: int) -> None:
        if self.progress is not None and self.task is not None:
            self.progress.advance(self.task, n)

    def update(self, done: int, total: int) -> None:
        """Set the position and the total (for work whose size is known only once it starts)."""
        if self.progress is not None and self.task is not None:
            self.progress.update(self.task, completed=done, total=total)
