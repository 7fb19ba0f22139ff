"""``canonjar report --db``: argument checks and the call into the research report (the CLI stays thin)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..errors import UsageError
from .render import RENDERERS
from .report import ResearchFormat, build_report

__all__ = ["research_report"]


def research_report(db: Path | None, outcome_file: Path | None, fmt: str | None, paper_results: Sequence[Path],
                    show_noise: bool = False) -> str:
    """The research report of ``db`` in ``fmt`` (default markdown); bad combinations are usage errors."""
    if db is None:
        raise UsageError("--paper-results needs --db DATABASE")
    if outcome_file is not None:
        raise UsageError("give either OUTCOME or --db, not both")
    if show_noise:
        raise UsageError("--show-noise is for OUTCOME reports, not --db")
    choices = ", ".join(f.value for f in ResearchFormat)
    try:
        chosen = ResearchFormat(fmt or ResearchFormat.markdown.value)
    except ValueError:
        raise UsageError(f"--format {fmt} is not a research report format (use {choices})") from None
    for p in paper_results:
        if not p.is_file():
            raise UsageError(f"{p}: no such paper-results file")
    return RENDERERS[chosen](build_report(db, paper_results))
