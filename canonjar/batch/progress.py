"""Progress of a batch: a live rich bar on a terminal, nothing otherwise; the counts are kept either way."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, TextIO

from .store import VERDICTS

__all__ = ["BatchStats", "Progress"]


@dataclass
class BatchStats:
    """Counters of one batch run (what the final summary line prints)."""

    releases: int = 0
    malformed: int = 0
    artifacts: int = 0
    skipped: int = 0  # compared earlier with the same inputs, canonjar version and stabilizers
    compared: int = 0
    bytes_compared: int = 0
    verdicts: Counter[str] = field(default_factory=Counter)
    started: float = field(default_factory=time.monotonic)

    def elapsed(self) -> float:
        return max(time.monotonic() - self.started, 1e-9)

    def summary(self) -> str:
        counts = ", ".join(f"{v} {self.verdicts[v]}" for v in VERDICTS if self.verdicts[v])
        secs = self.elapsed()
        rate = self.compared / secs * 60
        mbs = self.bytes_compared / secs / 1e6
        return (f"batch: {self.releases} release(s) ({self.malformed} malformed), {self.artifacts} artifact(s): "
                f"{counts or 'nothing to do'}; {self.skipped} already done; {self.compared} compared in "
                f"{secs:.1f} s ({rate:.1f} artifacts/min, {mbs:.2f} MB/s)")


class Progress:
    """Shows ``stats`` live with rich when ``enabled`` (a TTY); otherwise every call is a no-op.

    Two lines: a bar over the artifacts known so far (releases are read as the batch goes, so the total
    grows) with the throughput, and the releases and verdict counts (wrapped, never cut, on a narrow
    terminal)."""

    def __init__(self, stats: BatchStats, enabled: bool, stream: TextIO | None = None) -> None:
        self.stats = stats
        self._live: Any = None
        if enabled:
            from rich.console import Console
            from rich.live import Live
            from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
            from rich.progress import Progress as RichProgress

            self._bar = RichProgress(TextColumn("[bold]artifacts"), BarColumn(), MofNCompleteColumn(),
                                     TimeElapsedColumn(), TextColumn("{task.fields[rate]}"))
            self._task = self._bar.add_task("artifacts", total=None, rate="")
            console = Console(file=stream, stderr=stream is None)
            self._live = Live(self._renderable(), console=console, refresh_per_second=4, transient=False)
            self._live.start()

    def _line(self) -> str:
        s = self.stats
        verdicts = " ".join(f"{v}={s.verdicts[v]}" for v in VERDICTS if s.verdicts[v])
        return f"releases {s.releases} ({s.malformed} malformed) | {verdicts or 'no verdict yet'}"

    def _renderable(self) -> Any:
        from rich.console import Group
        from rich.text import Text

        return Group(self._bar, Text(self._line()))

    def refresh(self) -> None:
        if self._live is None:
            return
        s = self.stats
        done = sum(s.verdicts.values())
        rate = f"{s.compared / s.elapsed() * 60:.0f}/min {s.bytes_compared / s.elapsed() / 1e6:.1f} MB/s"
        self._bar.update(self._task, completed=done, total=max(s.artifacts, done), rate=rate)
        self._live.update(self._renderable())

    def close(self) -> None:
        if self._live is not None:
            self.refresh()
            self._live.stop()
            self._live = None
