"""The scoring view of the research report: our verdicts against the per-artifact results of the paper's tools.

Reading the result files and ranking the two sides is :mod:`canonjar.paper`'s job (one file per tool; each
artifact is successful, failed or error for the tool, identical/equivalent, different or error for canonjar;
the higher rank does *better*). This module turns its :class:`~canonjar.paper.Scoreboard` into table rows:
per tool, how many artifacts canonjar does better, worse or the same on, how many only one side has a result
for, and, artifact by artifact, where the two disagree. Artifacts of the database that were not compared
(missing, ignored) have no canonjar verdict, so they count as "only the tool".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..outcome import Verdict
from ..paper import Comparison, PaperResults, load_results
from ..paper import score as paper_score
from .tables import Artifact

__all__ = ["ScoreDetail", "ScoreRow", "read_paper_results", "score"]

_VERDICTS = frozenset(v.value for v in Verdict)


@dataclass(frozen=True)
class ScoreRow:
    tool: str  # the tool's name in the paper (OSS-Rebuild, Chains-Rebuild, jNorm...)
    results: str  # the tool id of the result file (oss-rebuild, oss-rebuild-improved...)
    better: int  # canonjar ranks higher (equivalent where the tool failed, ...)
    worse: int
    same: int
    only_canonjar: int  # compared by canonjar, not listed by the tool
    only_tool: int  # listed by the tool, not compared by canonjar


@dataclass(frozen=True)
class ScoreDetail:
    """One artifact where canonjar and a tool disagree."""

    tool: str
    gav: str
    filename: str
    ours: str  # our verdict
    theirs: str  # the tool's outcome (successful_normalization, ...)
    outcome: str  # better or worse


def read_paper_results(path: str | Path) -> list[PaperResults]:
    """The tool results of one paper-results file (:func:`canonjar.paper.load_results`)."""
    return [load_results(path)]


def score(artifacts: Sequence[Artifact], tools: Sequence[PaperResults]) -> tuple[list[ScoreRow], list[ScoreDetail]]:
    """Per tool: better / worse / same counts, and the artifacts where canonjar and the tool disagree."""
    ours = {(a.gav, a.filename): a.verdict for a in artifacts if a.verdict in _VERDICTS}
    board = paper_score(ours, *tools)
    rows: list[ScoreRow] = []
    details: list[ScoreDetail] = []
    for res in sorted(tools, key=lambda r: r.tool):
        counts = board.counts(res.tool)
        rows.append(ScoreRow(res.display_name, res.tool, counts[Comparison.BETTER], counts[Comparison.WORSE],
                             counts[Comparison.SAME], counts[Comparison.ONLY_OURS], counts[Comparison.ONLY_THEIRS]))
        for s in board.for_tool(res.tool):
            if s.comparison in (Comparison.BETTER, Comparison.WORSE):
                details.append(ScoreDetail(res.display_name, s.gav, s.filename, s.ours.value if s.ours else "-",
                                           s.theirs.value if s.theirs else "-", s.comparison.value))
    return rows, details
