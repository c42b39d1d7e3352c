"""The progress bar of a training run (`qurate train`, and each proxy run of `qurate ablate`)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn


class TrainView:
    """A rich progress bar fed by the trainer's events (``train_config(on_event=...)``;
    main process only): steps, loss, tokens/s, eval loss, ETA. ``label`` names the run."""

    def __init__(self, console: Console, label: str = "train") -> None:
        self.console = console
        self.progress = Progress(
            TextColumn(f"[bold]{escape(label)}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[info]}"),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        )
        self.task: Any = None

    def __call__(self, kind: str, data: dict[str, Any]) -> None:
        if kind == "finished":
            self.console.print(
                f"{data['path']} already finished this config at step {data['step']}; "
                "nothing to do (--overwrite trains it again)"
            )
        elif kind == "start":
            c = self.console
            if data["start_step"]:
                c.print(f"resuming from step {data['start_step']}")
            if data.get("note"):
                c.print(data["note"])
            c.print(
                f"{data['params'] / 1e6:.2f}M params on {data['device']} x{data['world']}, "
                f"batch {data['batch_tokens']} tokens, peak lr {data['lr']:.3g}"
                + (f" (plan: {data['plan']['law']})" if data["plan"] else "")
            )
            self.progress.start()
            self.task = self.progress.add_task(
                "train", total=data["total_steps"], completed=data["start_step"], info=""
            )
        elif kind == "step":
            info = f"loss {data['loss']:.4f}  {data['tokens_per_s']:.0f} tok/s"
            if data.get("eval_loss") is not None:
                info += f"  eval {data['eval_loss']:.4f}"
            self.progress.update(self.task, completed=data["step"], info=info)

    def stop(self) -> None:
        self.progress.stop()
