"""Tell why two class files differ, for the taxonomy: class file version, JDK idioms, debug information, lambda
naming, constant-pool and member order, and timestamp/path/UUID constants.

:func:`explain_class_difference` compares two class files and returns short, stable phrases (the taxonomy rules
match them in a difference's note). :func:`annotate_differences` adds them, as ``class analysis: ...``, to the
note of every changed ``.class`` entry of a comparison. Parsing is defensive: a class file that cannot be read
yields no phrase, never an error.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace

from ..classfile import Attribute, ClassFormatError, Member, display_mutf8, parse_code, read_class
from ..errors import CanonjarError
from ..limits import Budget
from ..model import Archive, Entry
from ..outcome import Difference, DifferenceKind

__all__ = ["CLASS_NOTE_PREFIX", "annotate_differences", "explain_class_difference", "parse_class"]

CLASS_NOTE_PREFIX = "class analysis: "
MAX_ANNOTATED = 5000  # class differences analysed per comparison (bounds the time on huge rebuild failures)

_DEBUG_ATTRS = ("LineNumberTable", "LocalVariableTable", "LocalVariableTypeTable", "SourceFile",
                "SourceDebugExtension")
_LAMBDA = re.compile(r"^lambda\$.*\$\d+$")
_TIMESTAMP = re.compile(r"\b(19|20)\d\d-[01]\d-[0-3]\d[T ][0-2]\d:[0-5]\d|"
                        r"\b(Mon|Tue|Wed|Thu|Fri|Sat|Sun) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
                        r"[ 0-3]\d [0-2]\d:[0-5]\d:[0-5]\d\b|^1[0-9]{12}$")
_ABS_PATH = re.compile(r"(^|[\s\"'=:])(/home/|/Users/|/tmp/|/var/lib/|/builds?/|/workspace/|/opt/|[A-Za-z]:\\)")
_UUID = re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b")


@dataclass(frozen=True)
class ClassInfo:
    major: int
    minor: int
    constants: tuple[object, ...]          # resolved constant-pool entries, in pool order
    strings: frozenset[str]                 # every Utf8 constant
    fields: tuple[tuple[str, str], ...]     # (name, descriptor) in file order
    methods: tuple[tuple[str, str], ...]
    attributes: frozenset[str]              # class, field, method and Code attribute names


def parse_class(data: bytes) -> ClassInfo | None:
    """The parts of a class file the taxonomy compares, or None when it is not a readable class file."""
    try:
        return _parse(data)
    except ClassFormatError:
        return None


def _parse(data: bytes) -> ClassInfo:
    cf = read_class(data)
    pool = cf.constant_pool
    constants = tuple(pool.describe(i) for i, _c in pool)
    strings = frozenset(display_mutf8(c.raw[3:]) for _i, c in pool if c.tag == 1)
    attrs: set[str] = set()

    def scan(found: list[Attribute]) -> None:
        for attr in found:
            name = display_mutf8(cf.attribute_name(attr))
            attrs.add(name)
            if name == "Code":
                scan(parse_code(attr.info, pool, cf.is_old_code_format).attributes)

    def members(group: list[Member]) -> tuple[tuple[str, str], ...]:
        for m in group:
            scan(m.attributes)
        return tuple((cf.member_name(m), cf.member_descriptor(m)) for m in group)

    fields, methods = members(cf.fields), members(cf.methods)
    scan(cf.attributes)
    return ClassInfo(cf.major_version, cf.minor_version, constants, strings, fields, methods, frozenset(attrs))


def _only(a: frozenset[str] | set[str], b: frozenset[str] | set[str], limit: int = 3) -> str:
    def show(xs: frozenset[str] | set[str]) -> str:
        items = sorted(xs)
        text = ", ".join(repr(x) if len(x) < 60 else repr(x[:57] + "...") for x in items[:limit])
        return text + (f" (+{len(items) - limit})" if len(items) > limit else "") if items else "nothing"
    return f"{show(a - b)} vs {show(b - a)}"


def _side(flag_a: bool) -> str:
    return "reference" if flag_a else "rebuild"


def explain_class_difference(left: bytes, right: bytes) -> tuple[str, ...]:
    """Short phrases saying how two class files differ (empty when either cannot be read)."""
    a, b = parse_class(left), parse_class(right)
    if a is None or b is None:
        return ()
    out: list[str] = []
    if (a.major, a.minor) != (b.major, b.minor):
        out.append(f"class file version differs (major {a.major}.{a.minor} vs {b.major}.{b.minor})")
    idioms = (
        ("indy string concatenation", "makeConcatWithConstants" in a.strings,
         "makeConcatWithConstants" in b.strings),
        ("nest-based access", bool(a.attributes & {"NestHost", "NestMembers"}),
         bool(b.attributes & {"NestHost", "NestMembers"})),
        ("enum $values() helper", any(m[0] == "$values" for m in a.methods),
         any(m[0] == "$values" for m in b.methods)),
        ("Objects.requireNonNull null checks", "requireNonNull" in a.strings and "getClass" not in a.strings,
         "requireNonNull" in b.strings and "getClass" not in b.strings),
    )
    for name, in_a, in_b in idioms:
        if in_a != in_b:
            out.append(f"JDK idiom differs: {name} (only in {_side(in_a)})")
    da, db = a.attributes & set(_DEBUG_ATTRS), b.attributes & set(_DEBUG_ATTRS)
    if da != db:
        out.append(f"debug information differs ({_only(da, db)})")
    la = {m[0] for m in a.methods if _LAMBDA.match(m[0])}
    lb = {m[0] for m in b.methods if _LAMBDA.match(m[0])}
    if la != lb:
        out.append(f"lambda method names differ ({_only(la, lb)})")
    if a.constants != b.constants and Counter(a.constants) == Counter(b.constants):
        out.append("same constant pool in a different order")
    for what, ma, mb in (("fields", a.fields, b.fields), ("methods", a.methods, b.methods)):
        if ma != mb and Counter(ma) == Counter(mb):
            out.append(f"same {what} in a different order")
    sa, sb = a.strings - b.strings, b.strings - a.strings
    for label, pattern in (("timestamp-like", _TIMESTAMP), ("absolute path", _ABS_PATH), ("UUID", _UUID)):
        xa = {s for s in sa if pattern.search(s)}
        xb = {s for s in sb if pattern.search(s)}
        if xa or xb:
            out.append(f"{label} constants differ ({_only(xa, xb)})")
    return tuple(out)


def _index(arc: Archive, out: dict[str, Entry] | None = None) -> dict[str, Entry]:
    """Every entry by display path (``outer.jar!/inner/A.class``), nested archives included; with duplicate
    names the first entry wins. Built once per side instead of scanning the archive for each difference."""
    index: dict[str, Entry] = {} if out is None else out
    for e in arc.entries:
        index.setdefault(arc.path_of(e), e)
        if e.nested is not None:
            _index(e.nested, index)
    return index


def annotate_differences(diffs: Sequence[Difference], left: Archive, right: Archive, left_budget: Budget,
                         right_budget: Budget) -> tuple[Difference, ...]:
    """``diffs`` with a ``class analysis: ...`` note added to each changed ``.class`` entry that it explains."""
    out: list[Difference] = []
    done = 0
    left_index: dict[str, Entry] | None = None
    right_index: dict[str, Entry] | None = None
    for d in diffs:
        if (d.kind is DifferenceKind.CHANGED and d.aspect == "content" and d.path.endswith(".class")
                and done < MAX_ANNOTATED):
            done += 1
            if left_index is None or right_index is None:
                left_index, right_index = _index(left), _index(right)
            a, b = left_index.get(d.path), right_index.get(d.path)
            phrases: tuple[str, ...] = ()
            if a is not None and b is not None:
                try:
                    phrases = explain_class_difference(a.payload.content(left_budget),
                                                       b.payload.content(right_budget))
                except CanonjarError:
                    phrases = ()
            if phrases:
                note = CLASS_NOTE_PREFIX + "; ".join(phrases)
                out.append(replace(d, note="; ".join(x for x in (d.note, note) if x)))
                continue
        out.append(d)
    return tuple(out)
