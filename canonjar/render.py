"""Render an :class:`Outcome` for people. Pure functions ``Outcome -> str``; the formats live in
:mod:`canonjar.report` (this module re-exports them)."""

from __future__ import annotations

from .report import RENDERERS, ReportFormat, render, render_html, render_json, render_markdown, render_text

__all__ = ["RENDERERS", "ReportFormat", "render", "render_html", "render_json", "render_markdown", "render_text"]
