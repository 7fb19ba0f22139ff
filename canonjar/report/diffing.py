"""Character-level diffs with diff-match-patch, rendered as escaped HTML spans, and side-by-side tables built
from the unified diffs stored in an outcome. Pure functions; no JavaScript library is needed in the page."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html import escape

from diff_match_patch import diff_match_patch  # type: ignore[import-untyped]

__all__ = ["CHAR_DIFF_MAX", "Hunk", "char_diff", "inline_html", "parse_unified", "side_by_side_html"]

#: Lines (or values) longer than this are shown as wholly changed, without a character diff.
CHAR_DIFF_MAX = 1000
#: At most this many lines of one diff are rendered.
HTML_DIFF_LINES = 400

DELETE, EQUAL, INSERT = -1, 0, 1


_TOKEN = re.compile(r"\w+|\s+|[^\w\s]")


def char_diff(a: str, b: str) -> list[tuple[int, str]]:
    """The diff of ``a`` and ``b`` (operations ``-1`` delete, ``0`` equal, ``1`` insert) by words: every word,
    run of spaces or punctuation character is one symbol for diff-match-patch (its lines-to-chars technique
    applied to words), so ``2020-01-02`` -> ``2024-05-06`` reads as three changed numbers, not as scattered
    digits. Deterministic: no time limit (inputs are capped at :data:`CHAR_DIFF_MAX` characters)."""
    if len(a) > CHAR_DIFF_MAX or len(b) > CHAR_DIFF_MAX:
        return [op for op in ((DELETE, a), (INSERT, b)) if op[1]]
    table: dict[str, str] = {}
    words: list[str] = []

    def encode(text: str) -> str:
        out = []
        for tok in _TOKEN.findall(text):
            if tok not in table:
                table[tok] = chr(0xE000 + len(words))  # one symbol per distinct token (at most 2000)
                words.append(tok)
            out.append(table[tok])
        return "".join(out)

    dmp = diff_match_patch()
    dmp.Diff_Timeout = 0
    diffs = dmp.diff_main(encode(a), encode(b), False)
    dmp.diff_cleanupSemantic(diffs)
    merged: list[tuple[int, str]] = []
    for op, text in diffs:
        decoded = "".join(words[ord(ch) - 0xE000] for ch in text)
        if merged and merged[-1][0] == op:
            merged[-1] = (op, merged[-1][1] + decoded)
        elif decoded:
            merged.append((int(op), decoded))
    return merged


def _spans(diffs: list[tuple[int, str]], side: int) -> str:
    """The ``side`` (DELETE: reference, INSERT: rebuild) of a character diff, as escaped HTML."""
    cls = "del" if side == DELETE else "ins"
    out = []
    for op, text in diffs:
        if op == EQUAL:
            out.append(escape(text))
        elif op == side:
            out.append(f'<span class="{cls}">{escape(text)}</span>')
    return "".join(out)


def inline_html(a: str, b: str) -> tuple[str, str]:
    """``a`` and ``b`` as escaped HTML, with what differs wrapped in ``<span class="del">``/``"ins"``."""
    diffs = char_diff(a, b)
    return _spans(diffs, DELETE), _spans(diffs, INSERT)


@dataclass
class Hunk:
    header: str
    old_start: int
    new_start: int
    lines: list[tuple[str, str]] = field(default_factory=list)  # (" ", "-", "+" or "\\", text)


_HUNK = re.compile(r"^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@(.*)$")


def parse_unified(diff: str) -> list[Hunk]:
    """The hunks of a unified diff (file header lines are skipped); [] when it has none."""
    hunks: list[Hunk] = []
    for line in diff.split("\n"):
        m = _HUNK.match(line)
        if m:
            hunks.append(Hunk(line, int(m.group(1)), int(m.group(2))))
        elif hunks and line[:1] in (" ", "-", "+", "\\"):
            hunks[-1].lines.append((line[:1], line[1:]))
        elif hunks and line == "":
            continue
    return hunks


def _row(cls: str, old_no: str, old: str, new_no: str, new: str) -> str:
    return (f'<tr class="{cls}"><td class="ln">{old_no}</td><td class="code old">{old}</td>'
            f'<td class="ln">{new_no}</td><td class="code new">{new}</td></tr>')


def side_by_side_html(diff: str, max_lines: int = HTML_DIFF_LINES) -> tuple[str, int]:
    """A side-by-side table (reference left, rebuild right) of a unified diff, with the changed characters of
    paired lines marked by diff-match-patch; and how many diff lines were left out (``max_lines``)."""
    hunks = parse_unified(diff)
    if not hunks:
        return f'<pre class="rawdiff">{escape(diff)}</pre>', 0
    rows: list[str] = []
    shown = total = consumed = 0
    for h in hunks:
        total += len(h.lines)
        if shown >= max_lines:
            continue
        rows.append(f'<tr class="hunk"><td colspan="4">{escape(h.header)}</td></tr>')
        old_no, new_no = h.old_start, h.new_start
        i = 0
        lines = h.lines
        while i < len(lines) and shown < max_lines:
            tag, text = lines[i]
            if tag == " ":
                esc = escape(text)
                rows.append(_row("ctx", str(old_no), esc, str(new_no), esc))
                old_no += 1
                new_no += 1
                i += 1
                shown += 1
                consumed += 1
                continue
            if tag == "\\":
                rows.append(f'<tr class="meta"><td colspan="4">{escape(tag + text)}</td></tr>')
                i += 1
                shown += 1
                consumed += 1
                continue
            dels: list[str] = []
            adds: list[str] = []
            while i < len(lines) and lines[i][0] == "-":
                dels.append(lines[i][1])
                i += 1
            while i < len(lines) and lines[i][0] == "+":
                adds.append(lines[i][1])
                i += 1
            for k in range(max(len(dels), len(adds))):
                if shown >= max_lines:
                    break
                shown += 1
                consumed += 1
                if k < len(dels) and k < len(adds):
                    left, right = inline_html(dels[k], adds[k])
                    rows.append(_row("chg", str(old_no), left, str(new_no), right))
                    consumed += 1
                    old_no += 1
                    new_no += 1
                elif k < len(dels):
                    rows.append(_row("rem", str(old_no), f'<span class="del">{escape(dels[k])}</span>', "", ""))
                    old_no += 1
                else:
                    rows.append(_row("add", "", "", str(new_no), f'<span class="ins">{escape(adds[k])}</span>'))
                    new_no += 1
    table = ('<table class="sbs"><colgroup><col class="ln"><col class="code"><col class="ln"><col class="code">'
             '</colgroup><thead><tr><th colspan="2">reference</th><th colspan="2">rebuild</th></tr></thead><tbody>'
             + "".join(rows) + "</tbody></table>")
    return table, max(0, total - consumed)
