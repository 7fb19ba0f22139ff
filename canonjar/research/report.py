"""The research report value and how it is computed from a batch database (see the package docstring)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from ..paper import PaperResults
from .scoring import ScoreDetail, ScoreRow, read_paper_results, score
from .tables import (
    Artifact,
    CauseRow,
    FamilyRow,
    ReleaseInfo,
    ReleaseRow,
    StabilizerRow,
    Summary,
    category_rows,
    family_rows,
    load_artifacts,
    load_releases,
    release_rows,
    root_cause_rows,
    stabilizer_rows,
    summary,
)

__all__ = ["ResearchFormat", "ResearchReport", "build_report", "compute_report"]


class ResearchFormat(StrEnum):
    markdown = "markdown"
    csv = "csv"
    json = "json"
    html = "html"


@dataclass(frozen=True)
class ResearchReport:
    summary: Summary
    categories: tuple[CauseRow, ...]
    root_causes: tuple[CauseRow, ...]
    families: tuple[FamilyRow, ...]
    stabilizers: tuple[StabilizerRow, ...]
    releases: tuple[ReleaseRow, ...]
    scores: tuple[ScoreRow, ...] = ()
    score_details: tuple[ScoreDetail, ...] = ()
    scored: bool = False  # paper results were given


def compute_report(artifacts: Sequence[Artifact], releases: Sequence[ReleaseInfo] = (),
                   tools: Sequence[PaperResults] | None = None) -> ResearchReport:
    """Every table of the report from artifacts (and the releases the batch recorded)."""
    rel = release_rows(artifacts, releases)
    scores, details = score(artifacts, tools) if tools is not None else ([], [])
    return ResearchReport(summary(artifacts, rel), tuple(category_rows(artifacts)),
                          tuple(root_cause_rows(artifacts)), tuple(family_rows(artifacts)),
                          tuple(stabilizer_rows(artifacts)), tuple(rel), tuple(scores), tuple(details),
                          tools is not None)


def build_report(db_path: str | Path, paper_results: Sequence[str | Path] = ()) -> ResearchReport:
    """The report of a batch database, scored against the given paper-results files when there are any."""
    artifacts = load_artifacts(db_path)
    releases = load_releases(db_path)
    tools: list[PaperResults] | None = None
    if paper_results:
        tools = [t for p in paper_results for t in read_paper_results(p)]
    return compute_report(artifacts, releases, tools)
