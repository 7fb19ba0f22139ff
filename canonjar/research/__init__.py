"""Research reports over a ``canonjar batch`` database: the paper's tables from our own data.

:func:`build_report` reads the SQLite store (:mod:`canonjar.batch.store`) and computes, with the pure
functions of :mod:`canonjar.research.tables`:

* per category and per root cause, the unreproducible artifacts showing it (removed as noise, residual) and
  showing only it (multi-label);
* canonicalization success per stabilizer family (zip only, +metadata, +class files), derived from the trace
  of one run (:func:`~canonjar.research.tables.derived_equivalent` explains how);
* per stabilizer, how often it changed something and how often an equivalence needed it;
* per release, the verdicts, "fully reproducible after canonicalization" and agreement with upstream ok/ko;
* optionally, a score against the per-artifact lists published with the paper
  (:mod:`canonjar.research.scoring`).

:func:`render_research` writes it as Markdown, CSV (one long table: ``table,key,column,value``), JSON or one
self-contained HTML page with inline SVG bar charts. Output is deterministic: no timestamps, stable orders.
"""

from __future__ import annotations

from .render import RENDERERS, render_csv, render_html, render_json, render_markdown
from .report import ResearchFormat, ResearchReport, build_report, compute_report

__all__ = ["RENDERERS", "ResearchFormat", "ResearchReport", "build_report", "compute_report", "render_csv",
           "render_html", "render_json", "render_markdown", "render_research"]


def render_research(report: ResearchReport, fmt: ResearchFormat) -> str:
    """``report`` in format ``fmt`` (pure; the same report always gives the same text)."""
    return RENDERERS[fmt](report)
