"""What every report format shares: classification of an unclassified outcome, grouping and small formatters.

Everything here is pure and only reads the :class:`~canonjar.outcome.Outcome` it is given.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from ..outcome import Difference, Outcome, Verdict
from ..taxonomy import CATEGORY_DESCRIPTIONS, Category, classify, root_cause

__all__ = [
    "SIDES",
    "CauseGroup",
    "category_description",
    "category_order",
    "evidence_table",
    "grouped",
    "human_size",
    "kind_counts",
    "needs_classification",
    "prepared",
    "short_digest",
    "size",
    "verdict_summary",
]

SIDES = ("reference", "rebuild")


def needs_classification(outcome: Outcome) -> bool:
    """True for an outcome nobody classified (e.g. loaded from the JSON of an older canonjar)."""
    return (any(not d.mitigation for d in outcome.differences)
            or (not outcome.noise and any(t.action != "skipped" for t in outcome.trace)))


def prepared(outcome: Outcome) -> Outcome:
    """``outcome``, classified when nobody classified it yet."""
    return classify(outcome) if needs_classification(outcome) else outcome


def size(n: int | None) -> str:
    return "-" if n is None else f"{n} B"


def human_size(n: int | None) -> str:
    """``2520 B`` below 10 KiB, else ``12.3 KiB`` / ``4.5 MiB`` with the exact count in bytes."""
    if n is None:
        return "-"
    if n < 10 * 1024:
        return f"{n} B"
    value = float(n)
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        value /= 1024
        if value < 1024 or unit == "TiB":
            return f"{value:.1f} {unit} ({n} B)"
    raise AssertionError("unreachable")


def short_digest(h: str | None, n: int = 16) -> str:
    return "-" if h is None else h[:n]


def category_order(category: str) -> int:
    values = [c.value for c in Category]
    return values.index(category) if category in values else len(values)


def category_description(category: str) -> str:
    try:
        return CATEGORY_DESCRIPTIONS.get(Category(category), "")
    except ValueError:
        return ""


@dataclass(frozen=True)
class CauseGroup:
    """The residual differences of one root cause in one category, with the cause's mitigation and hint."""

    category: str
    root_cause: str
    description: str
    mitigation: str
    hint: str
    differences: tuple[Difference, ...]


def grouped(outcome: Outcome) -> list[tuple[str, list[CauseGroup]]]:
    """Differences by category (taxonomy order), then by root cause (order of first appearance)."""
    out: list[tuple[str, list[CauseGroup]]] = []
    cats = sorted({d.category for d in outcome.differences}, key=lambda c: (category_order(c), c))
    for cat in cats:
        in_cat = [d for d in outcome.differences if d.category == cat]
        causes: list[str] = []
        for d in in_cat:
            if d.root_cause not in causes:
                causes.append(d.root_cause)
        groups = []
        for cause in causes:
            ds = tuple(d for d in in_cat if d.root_cause == cause)
            rc = root_cause(cause)
            groups.append(CauseGroup(cat, cause, rc.description, ds[0].mitigation or rc.mitigation.value,
                                     ds[0].hint or rc.hint, ds))
        out.append((cat, groups))
    return out


def kind_counts(outcome: Outcome) -> list[tuple[str, int]]:
    counts = Counter(d.kind.value for d in outcome.differences)
    return sorted(counts.items())


def evidence_table(outcome: Outcome) -> list[tuple[str, dict[str, list[str]]]]:
    """Evidence by key, then side: the distinct values, in order of appearance."""
    by_key: dict[str, dict[str, list[str]]] = {}
    for ev in outcome.evidence:
        values = by_key.setdefault(ev.key, {}).setdefault(ev.side, [])
        if ev.value not in values:
            values.append(ev.value)
    return list(by_key.items())


def verdict_summary(outcome: Outcome) -> str:
    v = outcome.verdict
    if v is Verdict.ERROR:
        return f"error: {outcome.error}"
    return {
        Verdict.IDENTICAL: "the files are byte for byte identical",
        Verdict.EQUIVALENT: "the canonical forms are equal",
        Verdict.DIFFERENT: f"{len(outcome.differences)} difference(s), {len(outcome.findings)} finding(s)",
    }[v]
