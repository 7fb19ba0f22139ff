"""Structural diff of two parsed class files, on their symbolic views (:mod:`canonjar.classfile.disasm`).

:func:`diff_classes` compares the class version, access flags, super class and interfaces, the class
attributes and annotations, the fields and methods (added, removed, changed: flags, attributes, annotations
and, per method, the symbolic instructions), and the constants nothing refers to. Constant-pool indices never
show: a permuted pool is no difference, nor is another member or attribute order (reported apart, as order).

Debug information (LineNumberTable, LocalVariableTable/TypeTable, SourceFile, SourceDebugExtension,
MethodParameters) is compared in a separate section: :attr:`ClassDiff.debug_only` says that the classes differ
in debug information and in nothing else -- a different ``-g`` setting, a build-configuration cause, which a
caller must still report as a difference. It is only claimed when both views are complete (every attribute
known, the unreferenced constants known).

:attr:`ClassDiff.text` is a unified diff of the sections that differ (hunk headers name the member), capped.
"""

from __future__ import annotations

import difflib
from collections import Counter
from dataclasses import dataclass, field

from .codec import ClassFile
from .disasm import DEBUG_ATTRIBUTES, ClassView, MemberView, view_class

__all__ = ["DIFF_LINE_CAP", "ClassDiff", "diff_classes", "diff_views"]

#: Lines of :attr:`ClassDiff.text` at most (the rest is counted in :attr:`ClassDiff.omitted`).
DIFF_LINE_CAP = 200
_DIFFLIB_MAX = 4_000_000  # sections with more line pairs are diffed by common head and tail only


@dataclass
class ClassDiff:
    """What differs between two classes (reference, rebuild); see the module documentation."""

    name: str
    #: Non-debug differences, one short phrase each (``method foo()V: code differs``).
    changes: list[str] = field(default_factory=list)
    #: ``name descriptor`` of the methods whose instructions, exception table or max stack/locals differ.
    code_changed: list[str] = field(default_factory=list)
    #: Where annotations differ (``class``, ``method foo ()V``...).
    annotations_changed: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    #: Debug-information differences (``method foo ()V: LineNumberTable``...).
    debug: list[str] = field(default_factory=list)
    #: Order-only differences (``methods in another order``); not structural.
    order: list[str] = field(default_factory=list)
    #: Both views symbolic throughout (no unknown attribute; unreferenced constants known).
    complete: bool = True
    text: str = ""
    omitted: int = 0
    reference: ClassView | None = None
    rebuild: ClassView | None = None

    @property
    def structural_equal(self) -> bool:
        """No difference outside debug information and order."""
        return not self.changes

    @property
    def debug_only(self) -> bool:
        """The classes differ in debug information and in nothing else (both views complete)."""
        return self.complete and not self.changes and bool(self.debug)

    @property
    def debug_attributes(self) -> list[str]:
        """The names of the debug attributes that differ, sorted."""
        return sorted({d.rsplit(": ", 1)[-1] for d in self.debug})


def _names(lines: list[str]) -> list[str]:
    """Attribute names of rendered attribute lines (the text before the first colon)."""
    return sorted({ln.split(":", 1)[0].split(" (", 1)[0] for ln in lines})


def _multiset_diff(a: list[str], b: list[str]) -> list[str]:
    ca, cb = Counter(a), Counter(b)
    return _names(list((ca - cb).elements()) + list((cb - ca).elements()))


def _by_key(members: list[MemberView]) -> dict[str, list[MemberView]]:
    out: dict[str, list[MemberView]] = {}
    for m in members:
        out.setdefault(m.key, []).append(m)
    return out


def _debug_names(a: list[str], b: list[str]) -> list[str]:
    return _multiset_diff(a, b) if Counter(a) != Counter(b) else []


def _compare_members(kind: str, ma: list[MemberView], mb: list[MemberView], out: ClassDiff) -> None:
    ka, kb = _by_key(ma), _by_key(mb)
    for key in ka:
        if key not in kb:
            out.removed.append(f"{kind} {key}")
            out.changes.append(f"{kind} {key} only in the reference")
    for key in kb:
        if key not in ka:
            out.added.append(f"{kind} {key}")
            out.changes.append(f"{kind} {key} only in the rebuild")
    common = [k for k in ka if k in kb]
    for key in common:
        la, lb = ka[key], kb[key]
        if len(la) != len(lb):
            out.changes.append(f"{kind} {key} declared {len(la)} vs {len(lb)} times")
        for a, b in zip(la, lb, strict=False):
            where = f"{kind} {key}"
            if a.decl != b.decl:
                out.changes.append(f"{where}: access flags differ ({a.decl.split(' ' + a.name)[0]} vs "
                                   f"{b.decl.split(' ' + b.name)[0]})")
            if Counter(a.attributes) != Counter(b.attributes):
                names = ", ".join(_multiset_diff(a.attributes, b.attributes))
                out.changes.append(f"{where}: attributes differ ({names})")
            if Counter(a.annotations) != Counter(b.annotations):
                out.annotations_changed.append(where)
                out.changes.append(f"{where}: annotations differ")
            if a.code != b.code:
                out.code_changed.append(key)
                out.changes.append(f"{where}: code differs")
            for name in _debug_names(a.debug, b.debug):
                out.debug.append(f"{where}: {name}")
    order_a = [k for k in dict.fromkeys(m.key for m in ma) if k in kb]
    order_b = [k for k in dict.fromkeys(m.key for m in mb) if k in ka]
    if order_a != order_b:
        out.order.append(f"{kind}s in another order")


def _compare(a: ClassView, b: ClassView, out: ClassDiff) -> None:
    for la, lb in zip(a.header, b.header, strict=True):
        if la != lb:
            out.changes.append(f"{la} vs {lb.split(' ', 1)[1]}")
    if Counter(a.attributes) != Counter(b.attributes):
        out.changes.append(f"class attributes differ ({', '.join(_multiset_diff(a.attributes, b.attributes))})")
    if Counter(a.annotations) != Counter(b.annotations):
        out.annotations_changed.append("class")
        out.changes.append("class annotations differ")
    for name in _debug_names(a.debug, b.debug):
        out.debug.append(f"class: {name}")
    _compare_members("field", a.fields, b.fields, out)
    _compare_members("method", a.methods, b.methods, out)
    if a.unreferenced is None or b.unreferenced is None:
        out.complete = False
    elif a.unreferenced != b.unreferenced:
        ca, cb = Counter(a.unreferenced), Counter(b.unreferenced)
        only_a, only_b = sorted((ca - cb).elements()), sorted((cb - ca).elements())
        out.changes.append(f"unreferenced constants differ ({_show(only_a)} vs {_show(only_b)})")
    if a.unknown or b.unknown:
        out.complete = False
    na = [n for n in a.attribute_names if n not in DEBUG_ATTRIBUTES]
    nb = [n for n in b.attribute_names if n not in DEBUG_ATTRIBUTES]
    if na != nb and Counter(na) == Counter(nb):
        out.order.append("class attributes in another order")


def _show(items: list[str], limit: int = 3) -> str:
    if not items:
        return "nothing"
    text = ", ".join(x if len(x) < 60 else x[:57] + "..." for x in items[:limit])
    return text + (f" (+{len(items) - limit})" if len(items) > limit else "")


# ------------------------------------------------------------------------------------------------ text

def _aligned(ma: list[MemberView], mb: list[MemberView]) -> list[tuple[str, list[str], list[str], list[str],
                                                                        list[str]]]:
    """(title, reference lines, rebuild lines, reference debug, rebuild debug) per member, in the reference's
    order, then the rebuild's new members."""
    kb = _by_key(mb)
    out = []
    seen: set[str] = set()
    for key, group in _by_key(ma).items():
        seen.add(key)
        others = kb.get(key, [])
        title = f"{group[0].kind} {key}"
        out.append((title, [x for m in group for x in m.lines(debug=False)],
                    [x for m in others for x in m.lines(debug=False)],
                    [x for m in group for x in m.debug], [x for m in others for x in m.debug]))
    for key, group in kb.items():
        if key not in seen:
            title = f"{group[0].kind} {key}"
            out.append((title, [], [x for m in group for x in m.lines(debug=False)], [],
                        [x for m in group for x in m.debug]))
    return out


def _sections(a: ClassView, b: ClassView) -> list[tuple[str, list[str], list[str]]]:
    main: list[tuple[str, list[str], list[str]]] = [
        ("class header", a.header, b.header),
        ("class attributes", sorted(a.annotations) + sorted(a.attributes),
         sorted(b.annotations) + sorted(b.attributes)),
    ]
    debug: list[tuple[str, list[str], list[str]]] = [("debug information: class", sorted(a.debug),
                                                      sorted(b.debug))]
    for title, la, lb, da, db in _aligned(a.fields, b.fields) + _aligned(a.methods, b.methods):
        main.append((title, la, lb))
        debug.append((f"debug information: {title}", da, db))
    main.append(("unreferenced constants", a.unreferenced or [], b.unreferenced or []))
    return main + debug


def _section_diff(la: list[str], lb: list[str]) -> list[str]:
    """Unified-diff lines (hunk headers and body) of one section. Sections too large for difflib's quadratic
    matcher get one hunk: the common head and tail are cut, the rest shown as removed and added."""
    if len(la) * len(lb) <= _DIFFLIB_MAX:
        return list(difflib.unified_diff(la, lb, n=2, lineterm=""))[2:]
    head = 0
    while head < min(len(la), len(lb)) and la[head] == lb[head]:
        head += 1
    tail = 0
    while tail < min(len(la), len(lb)) - head and la[-1 - tail] == lb[-1 - tail]:
        tail += 1
    ra, rb = la[head:len(la) - tail], lb[head:len(lb) - tail]
    return [f"@@ -{head + 1},{len(ra)} +{head + 1},{len(rb)} @@", *("-" + x for x in ra), *("+" + x for x in rb)]


def _render(a: ClassView, b: ClassView, name: str, cap: int) -> tuple[str, int]:
    lines = [f"--- reference/{name}", f"+++ rebuild/{name}"]
    for title, la, lb in _sections(a, b):
        if la == lb:
            continue
        for ln in _section_diff(la, lb):
            lines.append(f"{ln} {title}" if ln.startswith("@@") else ln)
    if len(lines) == 2:
        lines.append("# no structural difference (only constant-pool order, member order or encoding differ)")
    omitted = max(0, len(lines) - cap)
    return "\n".join(lines[:cap]) + "\n", omitted


def diff_views(a: ClassView, b: ClassView, name: str = "", cap: int = DIFF_LINE_CAP) -> ClassDiff:
    """The structural diff of two class views (``name`` heads the text; default: the reference's class)."""
    out = ClassDiff(name or a.name + ".class", reference=a, rebuild=b)
    _compare(a, b, out)
    out.text, out.omitted = _render(a, b, out.name, cap)
    return out


def diff_classes(a: ClassFile, b: ClassFile, name: str = "", cap: int = DIFF_LINE_CAP) -> ClassDiff:
    """The structural diff of two parsed classes."""
    return diff_views(view_class(a), view_class(b), name, cap)
