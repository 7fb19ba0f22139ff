"""Report formats of an :class:`~canonjar.outcome.Outcome`: pure functions ``Outcome -> str``.

* ``text`` (:func:`render_text`): for a terminal; verdict first, differences by category and root cause.
* ``json``: :meth:`Outcome.to_json`, the versioned schema of ``docs/outcome.schema.json``.
* ``markdown`` (:func:`render_markdown`): for an issue or a Reproducible Central README; everything escaped.
* ``html`` (:func:`render_html`): one self-contained page (no network) with a chart, filters and diffs.

:data:`RENDERERS` maps every :class:`ReportFormat` to its renderer; :func:`render` is the one dispatch point.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import assert_never

from ..outcome import Outcome
from .html import render_html
from .markdown import render_markdown
from .text import render_text

__all__ = ["RENDERERS", "ReportFormat", "render", "render_html", "render_json", "render_markdown", "render_text"]


class ReportFormat(StrEnum):
    text = "text"
    json = "json"
    markdown = "markdown"
    html = "html"


def render_json(outcome: Outcome) -> str:
    """The outcome as JSON (schema ``docs/outcome.schema.json``), with a final newline."""
    return outcome.to_json() + "\n"


def _text(outcome: Outcome) -> str:
    return render_text(outcome)


#: The renderer of every format, with default options.
RENDERERS: Mapping[ReportFormat, Callable[[Outcome], str]] = MappingProxyType({
    ReportFormat.text: _text,
    ReportFormat.json: render_json,
    ReportFormat.markdown: render_markdown,
    ReportFormat.html: render_html,
})


def render(outcome: Outcome, fmt: ReportFormat, *, show_noise: bool = False, color: bool = False) -> str:
    """``outcome`` in format ``fmt``. ``show_noise`` adds the trace to text and Markdown (JSON and HTML always
    carry it); ``color`` is for text on a terminal."""
    match fmt:
        case ReportFormat.text:
            return render_text(outcome, show_noise=show_noise, color=color)
        case ReportFormat.json:
            return render_json(outcome)
        case ReportFormat.markdown:
            return render_markdown(outcome, show_noise=show_noise)
        case ReportFormat.html:
            return render_html(outcome)
        case _:
            assert_never(fmt)
