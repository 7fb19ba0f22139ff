"""Renderers of a :class:`~canonjar.research.ResearchReport`: Markdown, CSV, JSON and self-contained HTML.

All four are pure functions of the report and deterministic (no timestamps; the rows are already in a stable
order). Markdown, CSV and HTML render the same :class:`Table` values built by :func:`tables`, so the formats
cannot disagree; JSON is the report's dataclasses as plain values. The HTML page loads nothing (a
Content-Security-Policy allows no script, no network), escapes every value and draws its bar charts as
inline SVG; each bar carries ``data-chart``, ``data-label``, ``data-series`` and ``data-value`` attributes.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from html import escape as html_escape
from types import MappingProxyType
from typing import Any

from ..report.common import category_description
from ..report.markdown import escape as md_escape
from ..taxonomy import root_cause
from .report import ResearchFormat, ResearchReport

__all__ = ["RENDERERS", "RESEARCH_SCHEMA_VERSION", "Table", "render_csv", "render_html", "render_json",
           "render_markdown", "tables"]

#: Version of the JSON and CSV layout of the research report.
RESEARCH_SCHEMA_VERSION = 1

Cell = str | int | float


@dataclass(frozen=True)
class Table:
    """One table of the report: an id (CSV ``table`` column, HTML anchor), a title, what it counts, a header
    and rows. ``numeric`` names the right-aligned columns."""

    id: str
    title: str
    description: str
    header: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    numeric: frozenset[int] = frozenset()


def _pct(n: int, d: int) -> str:
    return f"{100 * n / d:.1f}%" if d else "-"


def _yes(b: bool) -> str:
    return "yes" if b else "no"


def _cause_table(report: ResearchReport, by_cause: bool) -> Table:
    u = report.summary.unreproducible
    rows = report.root_causes if by_cause else report.categories
    head = ("root cause", "category") if by_cause else ("category",)
    body: tuple[tuple[Cell, ...], ...] = tuple(
        ((r.key, r.category) if by_cause else (r.key,))
        + (r.showing, _pct(r.showing, u), r.noise, r.residual, r.only, r.only_residual) for r in rows)
    k = len(head)
    what = "root cause" if by_cause else "category"
    return Table(
        "root-causes" if by_cause else "categories",
        f"Unreproducible artifacts per {what}",
        f"Of the {u} unreproducible artifacts (compared, not byte for byte identical), how many show each {what}: "
        "as noise the stabilizers removed and that differed between the two sides, or as a residual difference. "
        "Multi-label: an artifact "
        f"counts once per {what} it shows. \"only\" counts artifacts showing this {what} and no other; "
        f"\"only (residual)\" those whose residual differences are all of this {what}.",
        (*head, "artifacts", "% of unreproducible", "removed as noise", "residual", "only", "only (residual)"),
        body, frozenset(range(k, k + 6)))


def _family_table(report: ResearchReport) -> Table:
    rows = tuple((f.family, len(f.stabilizers), f.equivalent, f.unreproducible, _pct(f.equivalent, f.unreproducible),
                  f.gain, ("lower bound: the run did not select " + ", ".join(f.missing)) if f.missing else "")
                 for f in report.families)
    return Table(
        "families", "Canonicalization success per stabilizer family",
        "Unreproducible artifacts made equivalent with only the stabilizers of each family (`zip-*` stabilizers; "
        "+ manifest, properties, SBOM, javadoc, sources and signature ones; + class-file ones), derived from the "
        "trace of the run: an artifact equivalent in the run counts for a family when every stabilizer whose "
        "changes differed between its two sides belongs to the family. \"gain\" is what the family adds to "
        "the previous one.",
        ("family", "stabilizers", "made equivalent", "unreproducible", "success", "gain", "note"), rows,
        frozenset({1, 2, 3, 4, 5}))


def _stabilizer_table(report: ResearchReport) -> Table:
    return Table(
        "stabilizers", "Stabilizers",
        "Per stabilizer: unreproducible artifacts where it changed something (either side), and equivalent "
        "artifacts that needed it (its changes differed between the two sides).",
        ("stabilizer", "family", "changed something", "needed for equivalence"),
        tuple((s.name, s.family, s.changed, s.needed) for s in report.stabilizers), frozenset({2, 3}))


def _upstream_tables(report: ResearchReport) -> list[Table]:
    out = []
    for tid, title, matrix in (("upstream", "Agreement with upstream ok/ko", report.summary.upstream_matrix),
                               ("upstream-stabilize", "Agreement with upstream stabilize ok/ko",
                                report.summary.stabilize_matrix)):
        rows = tuple((ours, theirs, n, _agree_word(ours, theirs)) for ours, theirs, n in matrix)
        out.append(Table(tid, title, "Compared artifacts by canonjar's word (ok: identical or equivalent; ko: "
                         "different) and upstream's word in the .buildcompare (unknown: not listed).",
                         ("canonjar", "upstream", "artifacts", "agreement"), rows, frozenset({2})))
    return out


def _agree_word(ours: str, theirs: str) -> str:
    if theirs not in ("ok", "ko"):
        return "n/a"
    if ours == theirs:
        return "agree"
    return "canonjar ok, upstream ko" if ours == "ok" else "canonjar ko, upstream ok"


def _release_table(report: ResearchReport) -> Table:
    rows = tuple((r.release_id, r.artifacts, r.identical, r.equivalent, r.different, r.other, _yes(r.reproducible),
                  _yes(r.after_canonicalization), r.agree, r.disagree, r.agree_stabilize, r.disagree_stabilize,
                  r.note) for r in report.releases)
    return Table(
        "releases", "Releases",
        "Per release: its artifacts by verdict (other: missing, ignored, error), whether every artifact is "
        "identical (reproducible) or identical or equivalent (fully reproducible after canonicalization), and "
        "how many verdicts agree or disagree with upstream's ok/ko and `stabilize_ok`/`ko`.",
        ("release", "artifacts", "identical", "equivalent", "different", "other", "reproducible",
         "after canonicalization", "agree", "disagree", "agree (stabilize)", "disagree (stabilize)", "note"),
        rows, frozenset({1, 2, 3, 4, 5, 8, 9, 10, 11}))


def _summary_table(report: ResearchReport) -> Table:
    s = report.summary
    rows: list[tuple[Cell, ...]] = [("releases", s.releases),
                                    ("releases reproducible (all identical)", s.releases_reproducible),
                                    ("releases fully reproducible after canonicalization",
                                     s.releases_after_canonicalization),
                                    ("artifacts", s.artifacts)]
    rows += [(f"verdict {v}", n) for v, n in s.verdicts]
    rows += [("unreproducible (equivalent or different)", s.unreproducible),
             ("unreproducible with structural findings", s.with_findings)]
    return Table("summary", "Summary", "Totals of the database (the latest row of each artifact).",
                 ("measure", "count"), tuple(rows), frozenset({1}))


def _score_tables(report: ResearchReport) -> list[Table]:
    if not report.scored:
        return []
    return [
        Table("scores", "Scoring against the paper's results",
              "Per tool of the paper (one result file each): artifacts where canonjar ranks higher (better: "
              "identical or equivalent where the tool failed or erred, different where it erred), lower (worse) "
              "or the same, and artifacts only one side has a result for. A \"better\" that is an equivalent "
              "against the tool's failure deserves a look at its trace before it counts as a win.",
              ("tool", "results", "better", "worse", "same", "only canonjar", "only the tool"),
              tuple((s.tool, s.results, s.better, s.worse, s.same, s.only_canonjar, s.only_tool)
                    for s in report.scores), frozenset({2, 3, 4, 5, 6})),
        Table("score-details", "Artifacts where canonjar and a tool disagree", "Artifact by artifact.",
              ("tool", "GAV", "file", "canonjar verdict", "tool outcome", "canonjar does"),
              tuple((d.tool, d.gav, d.filename, d.ours, d.theirs, d.outcome) for d in report.score_details)),
    ]


def tables(report: ResearchReport) -> list[Table]:
    """Every table of the report, in the order the formats show them."""
    return [_summary_table(report), _cause_table(report, False), _cause_table(report, True), _family_table(report),
            _stabilizer_table(report), *_upstream_tables(report), _release_table(report), *_score_tables(report)]


# ------------------------------------------------------------------------------------------------ markdown

def _md_cell(c: Cell) -> str:
    return str(c) if isinstance(c, int | float) else md_escape(c) if c else " "


def render_markdown(report: ResearchReport) -> str:
    lines = ["# canonjar research report", ""]
    for t in tables(report):
        lines += [f"## {t.title}", "", t.description, ""]  # our own text: no data in it
        if not t.rows:
            lines += ["None.", ""]
            continue
        lines.append("| " + " | ".join(t.header) + " |")
        lines.append("| " + " | ".join("---:" if i in t.numeric else "---" for i in range(len(t.header))) + " |")
        lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in t.rows]
        lines.append("")
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------------ csv

def render_csv(report: ResearchReport) -> str:
    """One long table, ``table,row,column,value``: every cell of every table, rows numbered from 1."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(("table", "row", "column", "value"))
    for t in tables(report):
        for i, row in enumerate(t.rows, 1):
            for h, c in zip(t.header, row, strict=True):
                w.writerow((t.id, i, h, c))
    return buf.getvalue()


# ------------------------------------------------------------------------------------------------ json

def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, float):
        return round(value, 6)
    return value


def render_json(report: ResearchReport) -> str:
    data = _plain(asdict(report))
    data["summary"]["verdicts"] = dict(report.summary.verdicts)
    for f, row in zip(report.families, data["families"], strict=True):
        row["rate"] = round(f.rate, 6)
    for row in data["root_causes"]:
        row["description"] = root_cause(row["key"]).description
    for row in data["categories"]:
        row["description"] = category_description(row["key"])
    out = {"schema": "canonjar-research", "schema_version": RESEARCH_SCHEMA_VERSION, **data}
    return json.dumps(out, indent=2, ensure_ascii=False, sort_keys=False) + "\n"


# ------------------------------------------------------------------------------------------------ html

CSS = """
:root { --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --bg2: #f6f8fa; }
body { margin: 0; font: 15px/1.5 system-ui, "DejaVu Sans", sans-serif; color: var(--fg); background: #fff; }
main { max-width: 1240px; margin: 0 auto; padding: 24px 28px 64px; }
h1 { font-size: 26px; margin: 0 0 8px; }
h2 { font-size: 20px; margin: 32px 0 8px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
p.desc { color: var(--muted); margin: 4px 0 10px; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 12px; }
th, td { text-align: left; vertical-align: top; padding: 5px 10px; border-bottom: 1px solid var(--line); }
th { background: var(--bg2); font-weight: 600; font-size: 13px; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td { overflow-wrap: anywhere; }
svg.chart { display: block; margin: 8px 0 16px; }
svg.chart text { font: 13px system-ui, "DejaVu Sans", sans-serif; fill: var(--fg); }
.legend span { display: inline-block; width: 12px; height: 12px; border-radius: 2px; margin: 0 4px 0 12px;
  vertical-align: -1px; }
"""

_COLORS = {"removed as noise": "#76b7b2", "residual": "#e15759", "artifacts": "#4e79a7", "success": "#59a14f",
           "identical": "#1a7f37", "equivalent": "#59a14f", "different": "#cf222e", "better": "#1a7f37",
           "worse": "#cf222e", "same": "#8c959f"}
_DEFAULT_COLOR = "#7f7f7f"


@dataclass(frozen=True)
class _Bar:
    label: str
    values: tuple[tuple[str, float, str], ...]  # (series, value, shown text)


def _chart(chart_id: str, title: str, bars: Sequence[_Bar], top: float | None = None) -> str:
    """A horizontal bar chart as inline SVG: one group of bars (one per series) per label."""
    if not bars:
        return ""
    series = list(dict.fromkeys(s for b in bars for s, _v, _t in b.values))
    biggest = top if top is not None else max((v for b in bars for _s, v, _t in b.values), default=0.0)
    biggest = biggest or 1.0
    label_w, bar_w, bar_h, gap = 260, 520, 16, 10
    group_h = bar_h * len(series) + gap
    height = group_h * len(bars) + 10
    width = label_w + bar_w + 90
    parts = [f'<svg class="chart" id="chart-{chart_id}" role="img" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" aria-labelledby="chart-{chart_id}-title">',
             f'<title id="chart-{chart_id}-title">{html_escape(title)}</title>']
    for i, bar in enumerate(bars):
        y0 = 5 + i * group_h
        label = bar.label if len(bar.label) <= 38 else bar.label[:37] + "…"
        parts.append(f'<text x="{label_w - 10}" y="{y0 + bar_h * len(series) / 2 + 4:.0f}" text-anchor="end">'
                     f"{html_escape(label)}</text>")
        for j, (name, value, shown) in enumerate(bar.values):
            y = y0 + j * bar_h
            w = round(bar_w * value / biggest)
            color = _COLORS.get(name, _DEFAULT_COLOR)
            parts.append(f'<rect class="bar" x="{label_w}" y="{y + 2}" width="{max(w, 1)}" height="{bar_h - 3}" '
                         f'rx="2" fill="{color}" data-chart="{html_escape(chart_id)}" '
                         f'data-label="{html_escape(bar.label)}" data-series="{html_escape(name)}" '
                         f'data-value="{html_escape(shown)}"><title>{html_escape(bar.label)} — '
                         f"{html_escape(name)}: {html_escape(shown)}</title></rect>"
                         f'<text x="{label_w + max(w, 1) + 6}" y="{y + bar_h - 4}">{html_escape(shown)}</text>')
    parts.append("</svg>")
    legend = "".join(f'<span style="background:{_COLORS.get(s, _DEFAULT_COLOR)}"></span>{html_escape(s)}'
                     for s in series)
    return f'<div class="legend">{legend}</div>' + "".join(parts) if len(series) > 1 else "".join(parts)


def _charts(report: ResearchReport) -> dict[str, str]:
    s = report.summary
    verdicts = [_Bar(v, (("artifacts", float(n), str(n)),)) for v, n in s.verdicts if n]
    cats = [_Bar(r.key, (("removed as noise", float(r.noise), str(r.noise)),
                         ("residual", float(r.residual), str(r.residual)))) for r in report.categories]
    causes = [_Bar(r.key, (("removed as noise", float(r.noise), str(r.noise)),
                           ("residual", float(r.residual), str(r.residual)))) for r in report.root_causes[:20]]
    fams = [_Bar(f.family, (("success", 100 * f.rate, _pct(f.equivalent, f.unreproducible)),))
            for f in report.families]
    scores = [_Bar(f"{r.tool} ({r.results})", (("better", float(r.better), str(r.better)),
                                               ("worse", float(r.worse), str(r.worse)),
                                               ("same", float(r.same), str(r.same)))) for r in report.scores]
    return {
        "scores": _chart("scores", "canonjar against each tool of the paper", scores),
        "summary": _chart("verdicts", "Artifacts per verdict", verdicts),
        "categories": _chart("categories", "Unreproducible artifacts per category", cats),
        "root-causes": _chart("root-causes", "Unreproducible artifacts per root cause (20 most shown)", causes),
        "families": _chart("families", "Canonicalization success per stabilizer family", fams, top=100.0),
    }


def _html_table(t: Table) -> str:
    if not t.rows:
        return "<p>None.</p>"
    head = "".join(f'<th{" class=num" if i in t.numeric else ""}>{html_escape(h)}</th>'
                   for i, h in enumerate(t.header))
    body = "".join("<tr>" + "".join(f'<td{" class=num" if i in t.numeric else ""}>{html_escape(str(c))}</td>'
                                    for i, c in enumerate(row)) + "</tr>" for row in t.rows)
    return f'<table id="table-{t.id}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def render_html(report: ResearchReport) -> str:
    """One self-contained page: no script, nothing loaded from the network, charts as inline SVG."""
    charts = _charts(report)
    csp = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"
    sections = [f'<section id="{t.id}"><h2>{html_escape(t.title)}</h2><p class="desc">'
                f"{html_escape(t.description)}</p>{charts.get(t.id, '')}{_html_table(t)}</section>"
                for t in tables(report)]
    return ("<!DOCTYPE html>\n"
            '<html lang="en"><head><meta charset="utf-8">'
            f'<meta http-equiv="Content-Security-Policy" content="{html_escape(csp)}">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            '<meta name="referrer" content="no-referrer">'
            f"<title>canonjar research report</title><style>{CSS}</style></head>\n<body><main>"
            "<h1>canonjar research report</h1>\n" + "\n".join(sections) + "\n</main></body></html>\n")


#: The renderer of every :class:`~canonjar.research.ResearchFormat`.
RENDERERS: Mapping[ResearchFormat, Callable[[ResearchReport], str]] = MappingProxyType({
    ResearchFormat.markdown: render_markdown,
    ResearchFormat.csv: render_csv,
    ResearchFormat.json: render_json,
    ResearchFormat.html: render_html,
})
