"""The HTML report: ONE self-contained file. A pure function ``Outcome -> str``.

No network: no external script, style, font or image; the CSS and the JavaScript are inline, and a
Content-Security-Policy allows nothing else (the script is allowed by its hash, so an injected script would not
run even if escaping failed). The outcome is embedded as JSON in a ``<script type="application/json">`` with
``<``, ``>`` and ``&`` written as ``\\u003c``... (so ``</script>`` cannot end it). Every value is escaped with
:func:`html.escape`. Diffs are computed here with diff-match-patch and emitted as escaped spans.

The page works without JavaScript; with it, the table of differences and the per-entry details can be filtered
by category (buttons, bar chart, or the URL hash ``#category=filesystem``). The script records what it did
in the DOM: ``data-js="ready"`` and ``data-filter`` on ``<html>``, ``data-visible-rows`` on the table.
"""

from __future__ import annotations

import base64
import hashlib
from html import escape

from ..outcome import Difference, Outcome, Verdict
from ..taxonomy import Category, root_cause
from .common import (
    SIDES,
    category_description,
    category_order,
    evidence_table,
    grouped,
    human_size,
    kind_counts,
    prepared,
    short_digest,
    size,
    verdict_summary,
)
from .diffing import inline_html, side_by_side_html

__all__ = ["DETAIL_ENTRIES", "TABLE_ROWS", "TRACE_ROWS", "embedded_json", "render_html"]

#: At most this many rows in the table of differences ...
TABLE_ROWS = 5000
#: ... this many per-entry detail blocks ...
DETAIL_ENTRIES = 1000
#: ... and this many trace rows.
TRACE_ROWS = 5000

CATEGORY_COLORS = {
    "build-manifests": "#4e79a7",
    "sbom": "#59a14f",
    "filesystem": "#f28e2b",
    "jvm-bytecode": "#e15759",
    "versioning-properties": "#76b7b2",
    "timestamps": "#b8860b",
    "miscellaneous": "#b07aa1",
    "unknown": "#7f7f7f",
}

CSS = """
:root { color-scheme: light; --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --bg2: #f6f8fa;
  --ok: #1a7f37; --bad: #cf222e; --warn: #9a6700; }
* { box-sizing: border-box; }
[hidden] { display: none !important; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "DejaVu Sans",
  sans-serif; color: var(--fg); background: #fff; }
main { max-width: 1240px; margin: 0 auto; padding: 24px 28px 64px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 20px; margin: 36px 0 10px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 16px; margin: 20px 0 8px; }
code, .mono, td.code, pre { font-family: ui-monospace, "SFMono-Regular", "DejaVu Sans Mono", Menlo, Consolas,
  monospace; font-size: 13px; }
.muted { color: var(--muted); }
.verdict { display: flex; align-items: center; gap: 14px; padding: 14px 18px; border-radius: 8px;
  border: 1px solid var(--line); background: var(--bg2); margin: 12px 0 18px; }
.badge { font-weight: 700; letter-spacing: .04em; padding: 4px 12px; border-radius: 6px; color: #fff; }
.v-identical .badge, .v-equivalent .badge { background: var(--ok); }
.v-different .badge { background: var(--bad); }
.v-error .badge { background: var(--warn); }
.verdict .text { font-size: 17px; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 12px; }
th, td { text-align: left; vertical-align: top; padding: 6px 10px; border-bottom: 1px solid var(--line); }
th { background: var(--bg2); font-weight: 600; font-size: 13px; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.artifacts td.path { min-width: 12em; }
table.differences td.hash { white-space: nowrap; }
table.differences td.path { min-width: 10em; }
table.differences td.values { min-width: 16em; }
td.hash { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12.5px; word-break: break-all; }
td.path { word-break: break-all; }
td.wrap { overflow-wrap: anywhere; }
.cat { white-space: nowrap; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin: 12px 0; }
.card { flex: 1 1 140px; border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; }
.card .n { font-size: 24px; font-weight: 700; }
.card .l { color: var(--muted); font-size: 13px; }
.chip { display: inline-block; padding: 0 8px; border-radius: 10px; font-size: 12.5px; color: #fff;
  white-space: nowrap; }
.kind { display: inline-block; padding: 0 6px; border-radius: 4px; font-size: 12.5px; background: #eaeef2;
  font-family: ui-monospace, "DejaVu Sans Mono", monospace; }
.k-added { background: #dafbe1; } .k-removed { background: #ffebe9; } .k-changed { background: #fff8c5; }
.filters { display: flex; flex-wrap: wrap; gap: 6px; margin: 8px 0; align-items: center; }
.filters button { font: inherit; font-size: 13px; padding: 3px 10px; border: 1px solid var(--line);
  border-radius: 14px; background: #fff; cursor: pointer; }
.filters button[aria-pressed="true"] { background: var(--fg); color: #fff; border-color: var(--fg); }
#filter-status { color: var(--muted); font-size: 13px; margin-left: 8px; }
svg.chart text { font: 13px system-ui, "DejaVu Sans", sans-serif; fill: var(--fg); }
svg.chart a:hover rect.bar { opacity: .8; }
details { margin: 8px 0; }
details > summary { cursor: pointer; }
details.entry { border: 1px solid var(--line); border-radius: 8px; padding: 6px 12px; }
details.entry[open] { padding-bottom: 12px; }
details.entry > summary { font-weight: 600; word-break: break-all; }
details.section { border: 1px solid var(--line); border-radius: 8px; padding: 8px 14px; }
details.section > summary { font-weight: 600; font-size: 16px; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 8px 0; }
dl.facts dt { color: var(--muted); } dl.facts dd { margin: 0; word-break: break-word; }
table.sbs { table-layout: fixed; border: 1px solid var(--line); }
table.sbs col.ln { width: 3.5em; }
table.sbs td { padding: 1px 6px; border-bottom: none; }
table.sbs td.ln { color: var(--muted); text-align: right; font-family: ui-monospace, "DejaVu Sans Mono",
  monospace; font-size: 12px; background: var(--bg2); user-select: none; }
table.sbs td.code { white-space: pre-wrap; word-break: break-all; }
table.sbs tr.hunk td, table.sbs tr.meta td { background: #ddf4ff; color: var(--muted);
  font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12px; }
tr.chg td.old, tr.rem td.old { background: #fff0f0; }
tr.chg td.new, tr.add td.new { background: #edfff1; }
span.del { background: #ffc1c0; text-decoration: line-through; text-decoration-color: #cf222e88; }
span.ins { background: #abf2bc; }
.values td.code { white-space: pre-wrap; word-break: break-all; font-family: ui-monospace, "DejaVu Sans Mono",
  monospace; font-size: 13px; }
tr.differs td:first-child { font-weight: 600; }
tr.differs { background: #fff8c5; }
pre.rawdiff, pre.error { background: var(--bg2); padding: 10px; overflow-x: auto; white-space: pre-wrap;
  word-break: break-all; }
footer { margin-top: 40px; color: var(--muted); font-size: 13px; }
"""

SCRIPT = """
(function () {
  "use strict";
  var root = document.documentElement;
  var data = JSON.parse(document.getElementById("canonjar-outcome").textContent);
  var table = document.getElementById("differences");
  var rows = table ? Array.prototype.slice.call(table.querySelectorAll("tbody tr")) : [];
  var entries = Array.prototype.slice.call(document.querySelectorAll("details.entry"));
  var buttons = Array.prototype.slice.call(document.querySelectorAll("button[data-filter]"));
  var status = document.getElementById("filter-status");
  var toolbar = document.getElementById("filters");
  if (toolbar) { toolbar.hidden = false; }
  function wanted() {
    var m = /^#category=([A-Za-z0-9_.-]*)$/.exec(window.location.hash);
    return m ? m[1] : null;
  }
  function apply(category) {
    var visible = 0;
    rows.forEach(function (row) {
      var show = !category || row.getAttribute("data-category") === category;
      row.hidden = !show;
      if (show) { visible += 1; }
    });
    entries.forEach(function (entry) {
      entry.hidden = !!category && entry.getAttribute("data-category") !== category;
    });
    buttons.forEach(function (button) {
      button.setAttribute("aria-pressed", button.getAttribute("data-filter") === category ? "true" : "false");
    });
    if (table) { table.setAttribute("data-visible-rows", String(visible)); }
    root.setAttribute("data-filter", category || "all");
    if (status) {
      status.textContent = category ? visible + " of " + rows.length + " shown (" + category + ")"
                                    : rows.length + " shown";
    }
  }
  function openEntry() {
    var m = /^#(entry-[0-9]+)$/.exec(window.location.hash);
    var el = m ? document.getElementById(m[1]) : null;
    if (el) { el.open = true; el.hidden = false; }
  }
  buttons.forEach(function (button) {
    button.addEventListener("click", function () {
      window.location.hash = "category=" + button.getAttribute("data-filter");
    });
  });
  window.addEventListener("hashchange", function () {
    var category = wanted();
    if (category !== null) { apply(category); } else { openEntry(); }
  });
  apply(wanted() || "");
  openEntry();
  root.setAttribute("data-differences", String(data.differences.length));
  root.setAttribute("data-js", "ready");
})();
"""


def _hash(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")


def embedded_json(outcome: Outcome) -> str:
    """The outcome's JSON, safe inside ``<script type="application/json">``: ``<``, ``>``, ``&`` and the
    JavaScript line separators are written as ``\\u`` escapes (only strings can hold them, so it is the same
    JSON)."""
    text = outcome.to_json(indent=None)
    for ch, rep in (("&", "\\u0026"), ("<", "\\u003c"), (">", "\\u003e"), ("\u2028", "\\u2028"),
                    ("\u2029", "\\u2029")):
        text = text.replace(ch, rep)
    return text


def _chip(category: str) -> str:
    color = CATEGORY_COLORS.get(category, CATEGORY_COLORS["unknown"])
    # the color comes from our own table, never from the outcome: an inline SVG swatch and the escaped name
    return (f'<span class="cat"><svg width="10" height="10" aria-hidden="true"><rect width="10" height="10" rx="2" '
            f'fill="{color}"/></svg> {escape(category)}</span>')


def _kind(kind: str) -> str:
    return f'<span class="kind k-{escape(kind)}">{escape(kind)}</span>'


def _categories(outcome: Outcome) -> list[str]:
    cats = [c.value for c in Category]
    extra = sorted({d.category for d in outcome.differences} - set(cats))
    return cats + extra


def _chart(outcome: Outcome) -> str:
    """A horizontal bar chart (inline SVG) of the residual differences per category; each bar filters."""
    counts = {c: 0 for c in _categories(outcome)}
    for d in outcome.differences:
        counts[d.category] = counts.get(d.category, 0) + 1
    top = max(counts.values(), default=0) or 1
    label_w, bar_w, row_h = 190, 520, 28
    height = row_h * len(counts) + 10
    parts = [f'<svg class="chart" role="img" width="{label_w + bar_w + 60}" height="{height}" '
             f'viewBox="0 0 {label_w + bar_w + 60} {height}" aria-labelledby="chart-title">',
             '<title id="chart-title">Residual differences per category</title>']
    for i, (cat, n) in enumerate(counts.items()):
        y = 5 + i * row_h
        w = round(bar_w * n / top) if n else 0
        color = CATEGORY_COLORS.get(cat, CATEGORY_COLORS["unknown"])
        bar = (f'<rect class="bar" x="{label_w}" y="{y + 4}" width="{max(w, 2)}" height="{row_h - 10}" rx="3" '
               f'fill="{color if n else "#d1d9e0"}"/>')
        parts.append(f'<a href="#category={escape(cat)}"><title>{escape(cat)}: {n} difference(s)</title>'
                     f'<text x="{label_w - 10}" y="{y + row_h / 2 + 4}" text-anchor="end">{escape(cat)}</text>'
                     f'{bar}<text x="{label_w + max(w, 2) + 8}" y="{y + row_h / 2 + 4}">{n}</text></a>')
    parts.append("</svg>")
    return "".join(parts)


def _artifacts(outcome: Outcome) -> str:
    rows = []
    for side, info in (("reference", outcome.reference), ("rebuild", outcome.rebuild)):
        if info is None:
            continue
        eff = outcome.effective_for(side)
        rows.append(f'<tr><th scope="row">{side}</th><td class="path">{escape(info.path)}</td>'
                    f'<td class="num">{escape(human_size(info.size))}</td><td class="hash">{escape(info.sha256)}</td>'
                    f'<td class="wrap">{escape(", ".join(eff)) or "<span class=muted>nothing</span>"}</td></tr>')
    if not rows:
        return ""
    same = (outcome.reference is not None and outcome.rebuild is not None
            and outcome.reference.sha256 == outcome.rebuild.sha256)
    note = '<p class="muted">Both files have the same SHA-256.</p>' if same else ""
    return ('<table class="artifacts"><thead><tr><th></th><th>file</th><th class="num">size</th><th>sha256</th>'
            '<th>canonicalized by</th></tr></thead><tbody>' + "".join(rows) + "</tbody></table>" + note)


def _cards(outcome: Outcome) -> str:
    removed = sum(1 for t in outcome.trace if t.action != "skipped")
    skipped = sum(1 for t in outcome.trace if t.action == "skipped")
    cards = [
        (len(outcome.differences), "residual differences"),
        (len({d.category for d in outcome.differences}), "categories"),
        (len({d.root_cause for d in outcome.differences}), "root causes"),
        (len(outcome.findings), "findings"),
        (len(outcome.evidence), "evidence values"),
        (removed, "noise steps removed"),
        (skipped, "steps skipped"),
    ]
    kinds = ", ".join(f"{n} {escape(k)}" for k, n in kind_counts(outcome))
    out = '<div class="cards">' + "".join(
        f'<div class="card"><div class="n">{n}</div><div class="l">{label}</div></div>' for n, label in cards)
    out += "</div>"
    if kinds:
        out += f'<p class="muted">By kind: {kinds}.</p>'
    return out


def _summary_table(outcome: Outcome) -> str:
    rows = []
    for cat, groups in grouped(outcome):
        for g in groups:
            rows.append(f'<tr data-category="{escape(cat)}"><td>{_chip(cat)}</td><td><code>{escape(g.root_cause)}'
                        f'</code><div class="muted">{escape(g.description)}</div></td>'
                        f'<td class="num">{len(g.differences)}</td><td><code>{escape(g.mitigation)}</code></td>'
                        f"<td>{escape(g.hint)}</td></tr>")
    return ('<table class="summary"><thead><tr><th>category</th><th>root cause</th><th class="num">count</th>'
            "<th>mitigation</th><th>hint</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>")


def _filters(outcome: Outcome) -> str:
    counts: dict[str, int] = {}
    for d in outcome.differences:
        counts[d.category] = counts.get(d.category, 0) + 1
    cats = sorted(counts, key=lambda c: (category_order(c), c))
    buttons = [f'<button type="button" data-filter="">all ({len(outcome.differences)})</button>']
    buttons += [f'<button type="button" data-filter="{escape(c)}" title="{escape(category_description(c))}">'
                f"{escape(c)} ({counts[c]})</button>" for c in cats]
    return ('<div class="filters" id="filters" role="toolbar" aria-label="Filter by category" hidden>'
            '<span class="muted">Category:</span>' + "".join(buttons) + '<span id="filter-status"></span></div>')


def _pair(left: str | None, right: str | None) -> str:
    if left is None and right is None:
        return ""
    if left is not None and right is not None:
        lh, rh = inline_html(left, right)
        return f'<span class="mono">{lh}</span> → <span class="mono">{rh}</span>'
    return f'<span class="mono">{escape(left or "-")}</span> → <span class="mono">{escape(right or "-")}</span>'


def _differences_table(outcome: Outcome) -> str:
    rows = []
    for i, d in enumerate(outcome.differences[:TABLE_ROWS]):
        sizes = "" if d.left_size is None and d.right_size is None else \
            f"{escape(size(d.left_size))}<br>→ {escape(size(d.right_size))}"
        digests = "" if d.left_sha256 is None and d.right_sha256 is None else \
            f"{escape(short_digest(d.left_sha256, 12))}<br>→ {escape(short_digest(d.right_sha256, 12))}"
        link = (f'<a href="#entry-{i}">{escape(d.path)}</a>' if i < DETAIL_ENTRIES else escape(d.path))
        rows.append(f'<tr data-category="{escape(d.category)}"><td class="num">{i + 1}</td><td class="path">{link}'
                    f"</td><td>{_kind(d.kind.value)}</td><td><code>{escape(d.aspect)}</code></td>"
                    f"<td>{_chip(d.category)}</td><td><code>{escape(d.root_cause)}</code></td>"
                    f'<td class="wrap values">{_pair(d.left, d.right)}</td><td class="num">{sizes}</td>'
                    f'<td class="hash">{digests}</td></tr>')
    more = ""
    if len(outcome.differences) > TABLE_ROWS:
        more = (f'<p class="muted">{len(outcome.differences) - TABLE_ROWS} more difference(s) are only in the '
                "embedded JSON.</p>")
    return ('<table id="differences" class="differences"><thead><tr><th class="num">#</th><th>path</th>'
            "<th>kind</th><th>aspect</th><th>category</th><th>root cause</th><th>reference → rebuild</th>"
            '<th class="num">size</th><th>sha256</th></tr></thead><tbody>' + "".join(rows) + "</tbody></table>"
            + more)


def _entry(i: int, d: Difference) -> str:
    facts = [("kind", _kind(d.kind.value)), ("aspect", f"<code>{escape(d.aspect)}</code>"),
             ("category", _chip(d.category)),
             ("root cause", f"<code>{escape(d.root_cause)}</code> — {escape(root_cause(d.root_cause).description)}"),
             ("mitigation", f"<code>{escape(d.mitigation)}</code>: {escape(d.hint)}")]
    if d.explanation:
        facts.append(("why", escape(d.explanation)))
    if d.note:
        facts.append(("note", escape(d.note)))
    if d.left_size is not None or d.right_size is not None:
        facts.append(("size", f"{escape(size(d.left_size))} → {escape(size(d.right_size))}"))
    if d.left_sha256 is not None or d.right_sha256 is not None:
        facts.append(("sha256", f'<span class="mono">{escape(d.left_sha256 or "-")}</span><br>'
                                f'<span class="mono">{escape(d.right_sha256 or "-")}</span>'))
    body = '<dl class="facts">' + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts) + "</dl>"
    if d.left is not None or d.right is not None:
        lh, rh = (inline_html(d.left, d.right) if d.left is not None and d.right is not None
                  else (escape(d.left or "-"), escape(d.right or "-")))
        body += ('<table class="values"><thead><tr><th>reference</th><th>rebuild</th></tr></thead><tbody><tr>'
                 f'<td class="code">{lh}</td><td class="code">{rh}</td></tr></tbody></table>')
    if d.diff:
        table, left_out = side_by_side_html(d.diff)
        body += table
        left_out += d.diff_omitted_lines
        if left_out:
            body += f'<p class="muted">{left_out} more diff line(s) left out.</p>'
    return (f'<details class="entry" id="entry-{i}" data-category="{escape(d.category)}"><summary>'
            f"{_kind(d.kind.value)} {escape(d.path)} <span class=\"muted\">{escape(d.aspect)} · "
            f"{escape(d.root_cause)}</span></summary>{body}</details>")


def _findings(outcome: Outcome) -> str:
    rows = "".join(f"<tr><td>{escape(f.side)}</td><td><code>{escape(f.code)}</code></td>"
                   f'<td class="path">{escape(f.path)}</td><td>{escape(f.message)}</td></tr>'
                   for f in outcome.findings)
    return ('<p class="muted">Structural anomalies found while reading the archives; never normalized.</p>'
            '<table class="findings"><thead><tr><th>side</th><th>code</th><th>path</th><th>message</th></tr>'
            "</thead><tbody>" + rows + "</tbody></table>")


def _evidence(outcome: Outcome) -> str:
    stabs: dict[str, list[str]] = {}
    for ev in outcome.evidence:
        names = stabs.setdefault(ev.key, [])
        if ev.stabilizer not in names:
            names.append(ev.stabilizer)
    rows = []
    for key, sides in evidence_table(outcome):
        ref, reb = sides.get("reference", []), sides.get("rebuild", [])
        differs = bool(ref and reb and set(ref) != set(reb))
        if differs and len(ref) == 1 and len(reb) == 1:
            lh, rh = inline_html(ref[0], reb[0])
        else:
            lh, rh = "; ".join(escape(v) for v in ref) or "-", "; ".join(escape(v) for v in reb) or "-"
        rows.append(f'<tr{" class=differs" if differs else ""}><td><code>{escape(key)}</code></td>'
                    f'<td class="wrap">{lh}</td><td class="wrap">{rh}</td>'
                    f'<td class="muted">{escape(", ".join(stabs.get(key, [])))}</td></tr>')
    return ('<p class="muted">Values the stabilizers verified, or removed but kept for the report; highlighted '
            "rows differ between the sides.</p>"
            '<table class="evidence"><thead><tr><th>key</th><th>reference</th><th>rebuild</th><th>stabilizer</th>'
            "</tr></thead><tbody>" + "".join(rows) + "</tbody></table>")


def _noise(outcome: Outcome) -> str:
    removed = sum(n.steps for n in outcome.noise)
    rows = []
    for n in outcome.noise:
        rc = root_cause(n.root_cause)
        rows.append(f"<tr><td>{escape(n.side)}</td><td>{_chip(n.category)}</td><td><code>{escape(n.root_cause)}"
                    f'</code></td><td class="num">{n.steps}</td><td>{escape(", ".join(n.stabilizers))}</td>'
                    f'<td class="wrap">{escape("; ".join(n.values))}</td><td><code>{escape(rc.mitigation.value)}'
                    f"</code>: {escape(rc.hint)}</td></tr>")
    noise_table = ('<table class="noise"><thead><tr><th>side</th><th>category</th><th>root cause</th>'
                   '<th class="num">steps</th><th>stabilizers</th><th>values</th><th>mitigation</th></tr></thead>'
                   "<tbody>" + "".join(rows) + "</tbody></table>") if rows else "<p>Nothing was canonicalized.</p>"
    trace_rows = []
    for t in outcome.trace[:TRACE_ROWS]:
        detail = escape(t.reason) if t.action == "skipped" else "<br>".join(
            f"{escape(c.field)}: {escape(c.old)} → {escape(c.new)}" for c in t.changes)
        trace_rows.append(f"<tr><td>{escape(t.side)}</td><td>{escape(t.stabilizer)}</td><td>{escape(t.action)}</td>"
                          f'<td class="path">{escape(t.path or "(archive)")}</td><td class="wrap">{detail}</td></tr>')
    more = (f'<p class="muted">{len(outcome.trace) - TRACE_ROWS} more step(s) are only in the embedded JSON.</p>'
            if len(outcome.trace) > TRACE_ROWS else "")
    trace = (f'<details class="trace"><summary>Stabilization trace ({len(outcome.trace)} step(s))</summary>'
             '<table class="trace"><thead><tr><th>side</th><th>stabilizer</th><th>action</th><th>path</th>'
             "<th>detail</th></tr></thead><tbody>" + "".join(trace_rows) + "</tbody></table>" + more + "</details>")
    return ('<p class="muted">What the stabilizers canonicalized away before comparing, so it is not among the '
            f'differences.</p><details class="section" id="noise"><summary>{removed} step(s) removed, in '
            f"{len(outcome.noise)} root cause(s) per side</summary>" + noise_table + trace + "</details>")


def render_html(outcome: Outcome) -> str:
    """The whole report as one self-contained HTML document."""
    outcome = prepared(outcome)
    v = outcome.verdict
    ref = outcome.reference.path if outcome.reference else "?"
    reb = outcome.rebuild.path if outcome.rebuild else "?"
    title = f"canonjar: {v.value.upper()} — {ref} vs {reb}"
    csp = (f"default-src 'none'; script-src '{_hash(SCRIPT)}'; style-src 'unsafe-inline'; img-src data:; "
           "base-uri 'none'; form-action 'none'")
    body: list[str] = [
        f'<header><h1>canonjar report</h1><p class="muted">{escape(ref)} (reference) vs {escape(reb)} '
        "(rebuild)</p></header>",
        f'<section class="verdict v-{v.value}" id="verdict"><span class="badge">{v.value.upper()}</span>'
        f'<span class="text">{escape(verdict_summary(outcome))}</span></section>',
    ]
    if v is Verdict.ERROR:
        body.append(f'<pre class="error">{escape(outcome.error or "")}</pre>')
    body.append('<section id="summary"><h2>Summary</h2>' + _artifacts(outcome) + _cards(outcome))
    for side in SIDES:
        signed = [ev.value for ev in outcome.evidence if ev.side == side and ev.key == "signature-removed"]
        if signed:
            body.append(f"<p>Signature removed on the {side} side ({escape(', '.join(signed))}): signatures were "
                        "not compared.</p>")
    body.append("</section>")
    if outcome.differences:
        body.append('<section id="categories"><h2>Differences per category</h2>' + _chart(outcome)
                    + "<h3>By category and root cause</h3>" + _summary_table(outcome) + "</section>")
        body.append('<section id="residual"><h2>Residual differences</h2>' + _filters(outcome)
                    + _differences_table(outcome) + "<h3>Details per entry</h3>"
                    + "".join(_entry(i, d) for i, d in enumerate(outcome.differences[:DETAIL_ENTRIES])) + "</section>")
    elif v is not Verdict.ERROR:
        body.append('<section id="residual"><h2>Residual differences</h2><p>None: after canonicalization the '
                    "artifacts are equal.</p></section>")
    if outcome.findings:
        body.append('<section id="findings"><h2>Findings</h2>' + _findings(outcome) + "</section>")
    if outcome.evidence:
        body.append('<section id="evidence"><h2>Evidence</h2>' + _evidence(outcome) + "</section>")
    if outcome.trace or outcome.noise:
        body.append('<section id="noise-section"><h2>Noise removed</h2>' + _noise(outcome) + "</section>")
    body.append(f"<footer>canonjar outcome schema {outcome.schema_version} · {len(outcome.stabilizers)} "
                f"stabilizer(s) selected: {escape(', '.join(outcome.stabilizers))}</footer>")
    return ("<!DOCTYPE html>\n"
            f'<html lang="en"><head><meta charset="utf-8">'
            f'<meta http-equiv="Content-Security-Policy" content="{escape(csp)}">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            '<meta name="referrer" content="no-referrer">'
            f"<title>{escape(title)}</title><style>{CSS}</style></head>\n<body><main>"
            + "\n".join(body)
            + "</main>\n"
            f'<script type="application/json" id="canonjar-outcome">{embedded_json(outcome)}</script>\n'
            f"<script>{SCRIPT}</script>\n</body></html>\n")
