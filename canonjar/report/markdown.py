"""The Markdown report: for pasting into an issue or a Reproducible Central README. A pure function
``Outcome -> str``.

Every value that comes from an artifact or an outcome file (entry names, attribute values, messages) goes
through :func:`escape`: punctuation that Markdown gives a meaning to is backslash-escaped, ``&``, ``<`` and ``>``
become character references (so no raw HTML, autolink or entity gets through) and control characters are shown
as ``\\n``, ``\\x1b``... . Diffs go into fenced code blocks whose fence is longer than any backtick run inside.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..outcome import Difference, Outcome, Verdict
from ..taxonomy import root_cause
from .common import (
    SIDES,
    category_description,
    evidence_table,
    grouped,
    human_size,
    kind_counts,
    prepared,
    short_digest,
    size,
    verdict_summary,
)

__all__ = ["DIFF_LINES_PER_ENTRY", "DIFF_LINES_TOTAL", "TRACE_LINES", "escape", "render_markdown"]

#: At most this many lines of one difference's diff are shown ...
DIFF_LINES_PER_ENTRY = 40
#: ... and at most this many diff lines in the whole report.
DIFF_LINES_TOTAL = 400
#: At most this many rows of the trace (``show_noise``).
TRACE_LINES = 300
#: At most this many rows in the table of differences.
DIFFERENCE_ROWS = 500

_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
# CommonMark lets any ASCII punctuation be backslash-escaped. These can start markup anywhere in a line:
# emphasis, code, links and images ("[" and "]"), tables, strikethrough, headings' closing "#", math ("$"),
# emoji shortcodes (":"), GitHub mentions ("@"). ("!" and "(" only mean something after "[" or "]", which are
# escaped.)
_PUNCT = set("\\`*_[]|~#$:@")
# These only at the start of a line: list items, setext underlines, block quotes (">" is always an entity).
_LEADING = set("-+=")
_ORDERED = re.compile(r"^(\d{1,9})([.)])(?=\s|$)")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_NAMED_CONTROLS = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _visible(text: str, keep_tabs: bool = False) -> str:
    """Control characters as visible escapes (``\\n``, ``\\x1b``); tabs kept with ``keep_tabs``."""

    def sub(m: re.Match[str]) -> str:
        ch = m.group()
        if keep_tabs and ch == "\t":
            return ch
        if ch in _NAMED_CONTROLS:
            return _NAMED_CONTROLS[ch]
        return f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}"

    return _CONTROL.sub(sub, text)


def escape(text: str | None) -> str:
    """``text`` as inert Markdown: shows literally, on one line, in a paragraph or a table cell."""
    if text is None:
        return "-"
    shown = _visible(text)
    # Unicode spaces at the edges (NBSP, ideographic space...) would be trimmed from a table cell: write them
    # as character references so they stay visible. Plain spaces and tabs are trimmed, as for any cell.
    core = shown.strip()
    lead = len(shown) - len(shown.lstrip())
    tail = len(shown) - len(shown.rstrip()) if core else 0
    edge = set(range(lead)) | set(range(len(shown) - tail, len(shown)))
    out = []
    for i, ch in enumerate(shown):
        if i in edge and ch not in " \t":
            out.append(f"&#x{ord(ch):X};")
        elif ch in _ENTITIES:
            out.append(_ENTITIES[ch])
        elif ch in _PUNCT or (i == 0 and ch in _LEADING):
            out.append("\\" + ch)
        else:
            out.append(ch)
    escaped = "".join(out)
    return _ORDERED.sub(lambda m: m.group(1) + "\\" + m.group(2), escaped)


def _code(text: str) -> str:
    """A code span for trusted-shape values (hex digests, enum values): escaped text when it is not plain."""
    return f"`{text}`" if re.fullmatch(r"[0-9A-Za-z._\-]+", text) else escape(text)


def _row(*cells: str) -> str:
    return "| " + " | ".join(c if c else " " for c in cells) + " |"


def _table(header: tuple[str, ...], rows: Sequence[tuple[str, ...]], right: tuple[int, ...] = ()) -> list[str]:
    align = tuple("---:" if i in right else "---" for i in range(len(header)))
    return [_row(*header), _row(*align), *(_row(*r) for r in rows)]


def _fence(body: str) -> tuple[str, str]:
    longest = max((len(m) for m in re.findall(r"`+", body)), default=0)
    fence = "`" * max(3, longest + 1)
    return fence, fence


def _diff_block(d: Difference, budget: int) -> tuple[list[str], int]:
    """The fenced diff of ``d`` (at most ``budget`` lines) and how many lines it used."""
    assert d.diff is not None
    lines = [_visible(ln, keep_tabs=True) for ln in d.diff.rstrip("\n").split("\n")]
    cap = min(DIFF_LINES_PER_ENTRY, budget)
    shown, left_out = lines[:cap], len(lines) - min(cap, len(lines)) + d.diff_omitted_lines
    opening, closing = _fence("\n".join(shown))
    out = [f"{opening}diff", *shown, closing]
    if left_out:
        out.append(f"*{left_out} more diff line(s) left out*")
    return out, len(shown)


def _artifacts(outcome: Outcome) -> list[str]:
    ref, reb = outcome.reference, outcome.rebuild
    rows: list[tuple[str, ...]] = [
        ("file", escape(ref.path) if ref else "-", escape(reb.path) if reb else "-"),
        ("size", escape(human_size(ref.size)) if ref else "-", escape(human_size(reb.size)) if reb else "-"),
        ("sha256", _code(ref.sha256) if ref else "-", _code(reb.sha256) if reb else "-"),
    ]
    eff = [", ".join(escape(n) for n in outcome.effective_for(side)) or "nothing" for side in SIDES]
    if outcome.verdict is not Verdict.IDENTICAL:
        rows.append(("canonicalized by", eff[0], eff[1]))
    return _table(("", "reference", "rebuild"), rows)


def _summary(outcome: Outcome) -> list[str]:
    rows: list[tuple[str, ...]] = []
    for cat, groups in grouped(outcome):
        for g in groups:
            rows.append((_code(cat), _code(g.root_cause), str(len(g.differences)), _code(g.mitigation),
                         escape(g.hint)))
    out = ["### Summary by category and root cause", ""]
    out += _table(("Category", "Root cause", "Count", "Mitigation", "Hint"), rows, right=(2,))
    descs = [(cat, category_description(cat)) for cat, _ in grouped(outcome)]
    out.append("")
    out += [f"- **{escape(cat)}**: {escape(desc)}" for cat, desc in descs if desc]
    return out


def _differences(outcome: Outcome) -> list[str]:
    out = ["### Differences", ""]
    rows: list[tuple[str, ...]] = []
    for d in outcome.differences[:DIFFERENCE_ROWS]:
        values = "" if d.left is None and d.right is None else f"{escape(d.left)} → {escape(d.right)}"
        sizes = "" if d.left_size is None and d.right_size is None else \
            f"{escape(size(d.left_size))} → {escape(size(d.right_size))}"
        digests = "" if d.left_sha256 is None and d.right_sha256 is None else \
            f"{_code(short_digest(d.left_sha256, 12))} → {_code(short_digest(d.right_sha256, 12))}"
        rows.append((escape(d.path), _code(d.kind.value), _code(d.aspect), _code(d.root_cause), values, sizes,
                     digests))
    out += _table(("Path", "Kind", "Aspect", "Root cause", "Reference → rebuild", "Size", "SHA-256"), rows)
    if len(outcome.differences) > DIFFERENCE_ROWS:
        out += ["", f"*{len(outcome.differences) - DIFFERENCE_ROWS} more difference(s) left out; see the JSON "
                    "outcome*"]
    notes = [d for d in outcome.differences[:DIFFERENCE_ROWS] if d.note or d.explanation or d.diff]
    budget = DIFF_LINES_TOTAL
    skipped_diffs = 0
    for d in notes:
        out += ["", f"#### {escape(d.path)}", ""]
        if d.explanation:
            out.append(f"- why: {escape(d.explanation)}")
        if d.note:
            out.append(f"- note: {escape(d.note)}")
        if d.diff:
            if budget <= 0:
                skipped_diffs += 1
                continue
            block, used = _diff_block(d, budget)
            budget -= used
            out += ["", *block]
    if skipped_diffs:
        out += ["", f"*{skipped_diffs} more diff(s) left out (the report shows at most {DIFF_LINES_TOTAL} diff "
                    "lines)*"]
    return out


def _findings(outcome: Outcome) -> list[str]:
    rows = [(_code(f.side), _code(f.code), escape(f.path) if f.path else "", escape(f.message))
            for f in outcome.findings]
    return ["### Findings", "", "Structural anomalies, never normalized:", "",
            *_table(("Side", "Code", "Path", "Message"), rows)]


def _evidence(outcome: Outcome) -> list[str]:
    rows = []
    for key, sides in evidence_table(outcome):
        ref, reb = sides.get("reference", []), sides.get("rebuild", [])
        mark = " ≠" if ref and reb and set(ref) != set(reb) else ""
        rows.append((escape(key) + mark, "; ".join(escape(v) for v in ref) or "-",
                     "; ".join(escape(v) for v in reb) or "-"))
    return ["### Evidence", "", "Values the stabilizers verified or removed (≠: the sides differ):", "",
            *_table(("Key", "Reference", "Rebuild"), rows)]


def _noise(outcome: Outcome) -> list[str]:
    out = ["### Noise removed", ""]
    if not outcome.noise:
        return [*out, "Nothing was canonicalized."]
    rows = []
    for n in outcome.noise:
        rc = root_cause(n.root_cause)
        rows.append((_code(n.side), _code(n.category), _code(n.root_cause), str(n.steps),
                     ", ".join(escape(s) for s in n.stabilizers), "; ".join(escape(v) for v in n.values),
                     _code(rc.mitigation.value)))
    return out + _table(("Side", "Category", "Root cause", "Steps", "Stabilizers", "Values", "Mitigation"), rows,
                        right=(3,))


def _trace(outcome: Outcome) -> list[str]:
    out = ["", "<details><summary>Stabilization trace "
               f"({len(outcome.trace)} step(s))</summary>", ""]
    rows = []
    for t in outcome.trace[:TRACE_LINES]:
        detail = escape(t.reason) if t.action == "skipped" else "; ".join(
            f"{escape(c.field)}: {escape(c.old)} → {escape(c.new)}" for c in t.changes)
        rows.append((_code(t.side), _code(t.stabilizer), _code(t.action), escape(t.path or "(archive)"), detail))
    out += _table(("Side", "Stabilizer", "Action", "Path", "Detail"), rows)
    if len(outcome.trace) > TRACE_LINES:
        out += ["", f"*{len(outcome.trace) - TRACE_LINES} more step(s) left out*"]
    return [*out, "", "</details>"]


def render_markdown(outcome: Outcome, show_noise: bool = False) -> str:
    """Verdict line, artifacts, summary table by category and root cause, differences (with capped fenced
    diffs), findings, evidence and the noise summary (and, with ``show_noise``, the trace in a ``<details>``)."""
    outcome = prepared(outcome)
    v = outcome.verdict
    icon = {Verdict.IDENTICAL: "✅", Verdict.EQUIVALENT: "✅", Verdict.DIFFERENT: "❌", Verdict.ERROR: "⚠️"}[v]
    out = [f"## canonjar: {icon} **{v.value.upper()}**: {escape(verdict_summary(outcome))}", ""]
    if v is Verdict.ERROR and outcome.reference is None and outcome.rebuild is None:
        return "\n".join(out).rstrip("\n") + "\n"
    out += _artifacts(outcome)
    for side in SIDES:
        signed = [ev.value for ev in outcome.evidence if ev.side == side and ev.key == "signature-removed"]
        if signed:
            out += ["", f"Signature removed on the {side} side ({', '.join(escape(s) for s in signed)}): "
                        "signatures were not compared."]
    if outcome.differences:
        counts = ", ".join(f"{n} {k}" for k, n in kind_counts(outcome))
        out += ["", f"{len(outcome.differences)} difference(s) after canonicalization ({counts}).", ""]
        out += _summary(outcome)
        out += ["", *_differences(outcome)]
    if outcome.findings:
        out += ["", *_findings(outcome)]
    if outcome.evidence:
        out += ["", *_evidence(outcome)]
    out += ["", *_noise(outcome)]
    if show_noise and outcome.trace:
        out += _trace(outcome)
    out += ["", f"<sub>canonjar outcome schema {outcome.schema_version}</sub>"]
    return "\n".join(out) + "\n"
