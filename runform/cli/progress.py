"""A rich progress bar on a terminal, silence when piped; shared by the commands that run the pipeline."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Callable, Iterator


@contextmanager
def stage_progress(enabled: bool | None = None) -> Iterator[Callable[[str, float], None]]:
    """Yield a `progress(stage, fraction)` callback that drives one bar per pipeline stage."""
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        yield lambda stage, frac: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    bars: dict[str, int] = {}
    with Progress(TextColumn("{task.description:>8}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                  TimeElapsedColumn(), console=Console(stderr=True), transient=False) as prog:

        def update(stage: str, frac: float) -> None:
            if stage not in bars:
                bars[stage] = prog.add_task(stage, total=1.0)
            prog.update(bars[stage], completed=max(0.0, min(1.0, float(frac))))

        yield update
