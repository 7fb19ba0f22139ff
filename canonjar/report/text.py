"""The plain-text report: verdict first, then findings and the residual differences grouped by category and root
cause. A pure function ``Outcome -> str``."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from ..outcome import Difference, Outcome, Verdict
from ..taxonomy import CATEGORY_DESCRIPTIONS, Category, root_cause
from .common import prepared

__all__ = ["render_text"]

Style = Callable[[str, str], str]


def _plain(text: str, _style: str) -> str:
    return text


def _size(n: int | None) -> str:
    return "-" if n is None else f"{n} B"


def _digest(h: str | None) -> str:
    return "-" if h is None else h[:16]


def _difference(d: Difference, style: Style) -> list[str]:
    head = f"  {style(d.kind.value, 'kind'):<9} {d.path}  <{d.root_cause}>"
    if d.aspect not in ("content", "presence"):
        head += f"  [{d.aspect}]"
    lines = [head]
    if d.left is not None or d.right is not None:
        lines.append(f"      reference: {d.left}")
        lines.append(f"      rebuild:   {d.right}")
    if d.left_size is not None or d.right_size is not None:
        lines.append(f"      size {_size(d.left_size)} -> {_size(d.right_size)}, "
                     f"sha256 {_digest(d.left_sha256)} -> {_digest(d.right_sha256)}")
    if d.note:
        lines.append(f"      note: {d.note}")
    if d.explanation:
        lines.append(f"      why: {d.explanation}")
    if d.diff:
        lines.extend("      " + ln for ln in d.diff.rstrip("\n").split("\n"))
        if d.diff_omitted_lines:
            lines.append(f"      ... {d.diff_omitted_lines} more diff lines left out")
    return lines


def _category_order(category: str) -> int:
    values = [c.value for c in Category]
    return values.index(category) if category in values else len(values)


def _grouped(outcome: Outcome, style: Style) -> list[str]:
    """Residual differences grouped by category, then by root cause (with its mitigation and hint)."""
    out: list[str] = []
    cats = sorted({d.category for d in outcome.differences}, key=lambda c: (_category_order(c), c))
    for cat in cats:
        in_cat = [d for d in outcome.differences if d.category == cat]
        desc = CATEGORY_DESCRIPTIONS.get(Category(cat)) if cat in Category.__members__.values() else None
        out.append(f" {cat} ({len(in_cat)})" + (f": {desc}" if desc else ""))
        causes: list[str] = []
        for d in in_cat:
            if d.root_cause not in causes:
                causes.append(d.root_cause)
        for cause in causes:
            ds = [d for d in in_cat if d.root_cause == cause]
            first = ds[0]
            out.append(f"  root cause {cause} ({len(ds)}): {root_cause(cause).description}")
            out.append(f"    {first.mitigation or '?'}: {first.hint or '-'}")
            for d in ds:
                out.extend("  " + ln for ln in _difference(d, style))
    return out


def _noise(outcome: Outcome) -> list[str]:
    out = ["noise removed, by root cause (per side: trace steps, stabilizers):"]
    if not outcome.noise:
        out.append("  nothing")
    for n in outcome.noise:
        rc = root_cause(n.root_cause)
        line = f"  [{n.side}] {n.category} / {n.root_cause}: {n.steps} step(s) by {', '.join(n.stabilizers)}"
        if n.values:
            line += f" ({'; '.join(n.values)})"
        out.append(line)
        out.append(f"      {rc.mitigation.value}: {rc.hint}")
    return out


def render_text(outcome: Outcome, show_noise: bool = False, color: bool = False) -> str:
    """Verdict first, then findings, residual differences grouped by category and root cause, and (optionally)
    the noise removed by root cause and the detailed trace."""
    outcome = prepared(outcome)
    colors = {"different": "31", "error": "31", "identical": "32", "equivalent": "32", "kind": "33"}

    def style(text: str, key: str) -> str:
        code = colors.get(key)
        return f"\x1b[{code}m{text}\x1b[0m" if color and code else text

    v = outcome.verdict
    out: list[str] = []
    if v is Verdict.ERROR:
        return f"canonjar: {style('error', 'error')}: {outcome.error}\n"
    ref = outcome.reference.path if outcome.reference else "?"
    reb = outcome.rebuild.path if outcome.rebuild else "?"
    summary = {
        Verdict.IDENTICAL: "the files are byte for byte identical",
        Verdict.EQUIVALENT: "the canonical forms are equal",
        Verdict.DIFFERENT: f"{len(outcome.differences)} difference(s), {len(outcome.findings)} finding(s)",
    }[v]
    out.append(f"{style(v.value.upper(), v.value)}: {summary}")
    out.append(f"  reference: {ref}")
    out.append(f"  rebuild:   {reb}")
    for side in ("reference", "rebuild"):
        eff = outcome.effective_for(side)
        if eff:
            out.append(f"  canonicalized on {side}: {', '.join(eff)}")
    for side in ("reference", "rebuild"):
        signed = [ev.value for ev in outcome.evidence if ev.side == side and ev.key == "signature-removed"]
        if signed:
            out.append(f"  signature removed on {side} side ({', '.join(signed)}): signatures were not compared")
    if outcome.evidence:
        out.append("evidence kept by stabilizers:")
        by_key: dict[str, dict[str, list[str]]] = {}
        for ev in outcome.evidence:
            values = by_key.setdefault(ev.key, {}).setdefault(ev.side, [])
            if ev.value not in values:
                values.append(ev.value)
        for key, sides in by_key.items():
            shown = "; ".join(f"{side} {', '.join(vals)}" for side, vals in sides.items())
            out.append(f"  {key}: {shown}")
    if outcome.findings:
        out.append("findings (structural anomalies, never normalized):")
        for f in outcome.findings:
            where = f" {f.path}" if f.path else ""
            out.append(f"  [{f.side}] {f.code}{where}: {f.message}")
    if outcome.differences:
        counts = Counter(d.kind.value for d in outcome.differences)
        out.append("differences after canonicalization (" +
                   ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) + "), by category and root cause:")
        out.extend(_grouped(outcome, style))
    skipped = [t for t in outcome.trace if t.action == "skipped"]
    if skipped and not show_noise:
        out.append(f"  {len(skipped)} stabilizer step(s) skipped; see --show-noise")
    if show_noise:
        out.extend(_noise(outcome))
        out.append("canonicalized (noise removed), per side:")
        if not outcome.trace:
            out.append("  nothing")
        for t in outcome.trace:
            where = t.path or "(archive)"
            if t.action == "skipped":
                out.append(f"  [{t.side}] {t.stabilizer} skipped {where}: {t.reason}")
                continue
            detail = "; ".join(f"{c.field}: {c.old} -> {c.new}" for c in t.changes)
            out.append(f"  [{t.side}] {t.stabilizer} {t.action} {where}: {detail}")
    return "\n".join(out) + "\n"
