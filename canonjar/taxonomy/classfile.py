"""Tell why two class files differ, for the taxonomy: class file version, JDK idioms, debug information, lambda
naming, constant-pool and member order, and timestamp/path/UUID constants.

:func:`explain_class_difference` compares two class files and returns short, stable phrases (the taxonomy rules
match them in a difference's note). :func:`annotate_differences` adds them, as ``class analysis: ...``, to the
note of every changed ``.class`` entry of a comparison. Parsing is defensive: a class file that cannot be read
yields no phrase, never an error.
"""

from __future__ import annotations

import re
import struct
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace

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


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise ValueError("truncated class file")
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return b

    def u1(self) -> int:
        return self.take(1)[0]

    def u2(self) -> int:
        return int(struct.unpack(">H", self.take(2))[0])

    def u4(self) -> int:
        return int(struct.unpack(">I", self.take(4))[0])


_FIXED = {3: 4, 4: 4, 5: 8, 6: 8, 7: 2, 8: 2, 9: 4, 10: 4, 11: 4, 12: 4, 15: 3, 16: 2, 17: 4, 18: 4, 19: 2, 20: 2}


def parse_class(data: bytes) -> ClassInfo | None:
    """The parts of a class file the taxonomy compares, or None when it is not a readable class file."""
    try:
        return _parse(data)
    except (ValueError, struct.error, IndexError, KeyError, RecursionError):
        return None


def _parse(data: bytes) -> ClassInfo | None:
    r = _Reader(data)
    if r.u4() != 0xCAFEBABE:
        return None
    minor, major = r.u2(), r.u2()
    count = r.u2()
    raw: dict[int, tuple[int, bytes]] = {}
    i = 1
    while i < count:
        tag = r.u1()
        if tag == 1:
            raw[i] = (1, r.take(r.u2()))
        elif tag in _FIXED:
            raw[i] = (tag, r.take(_FIXED[tag]))
        else:
            raise ValueError(f"constant tag {tag}")
        i += 2 if tag in (5, 6) else 1
    resolved: dict[int, object] = {}

    def res(idx: int, depth: int = 0) -> object:
        if idx in resolved:
            return resolved[idx]
        if depth > 8:
            raise ValueError("constant pool too deep")
        tag, body = raw[idx]
        out: object
        if tag == 1:
            out = body.decode("utf-8", errors="surrogateescape")
        elif tag in (3, 4, 5, 6, 15):
            out = (tag, body) if tag != 15 else (tag, body[0], res(struct.unpack(">H", body[1:])[0], depth + 1))
        elif len(body) == 2:
            out = (tag, res(struct.unpack(">H", body)[0], depth + 1))
        else:
            a, b = struct.unpack(">HH", body)
            # InvokeDynamic/Dynamic: the first index is a bootstrap method index, not a constant.
            out = (tag, a if tag in (17, 18) else res(a, depth + 1), res(b, depth + 1))
        resolved[idx] = out
        return out

    constants = tuple(res(k) for k in sorted(raw))
    strings = frozenset(v.decode("utf-8", errors="surrogateescape") for t, v in raw.values() if t == 1)

    def utf8(idx: int) -> str:
        v = res(idx)
        if not isinstance(v, str):
            raise ValueError("not a Utf8 constant")
        return v

    attrs: set[str] = set()

    def attributes(rd: _Reader) -> None:
        for _ in range(rd.u2()):
            name = utf8(rd.u2())
            body = rd.take(rd.u4())
            attrs.add(name)
            if name == "Code":
                cr = _Reader(body)
                cr.take(4)
                cr.take(cr.u4())
                cr.take(8 * cr.u2())
                attributes(cr)

    r.take(6)
    r.take(2 * r.u2())
    members: list[list[tuple[str, str]]] = []
    for _ in range(2):
        group: list[tuple[str, str]] = []
        for _ in range(r.u2()):
            r.u2()
            group.append((utf8(r.u2()), utf8(r.u2())))
            attributes(r)
        members.append(group)
    attributes(r)
    return ClassInfo(major, minor, constants, strings, tuple(members[0]), tuple(members[1]), frozenset(attrs))


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


def _find(arc: Archive, path: str) -> Entry | None:
    """The entry at display path ``path`` (``outer.jar!/inner/A.class``), looking into nested archives."""
    for e in arc.entries:
        full = arc.path_of(e)
        if full == path:
            return e
        if e.nested is not None and path.startswith(full + "!/"):
            return _find(e.nested, path)
    return None


def annotate_differences(diffs: Sequence[Difference], left: Archive, right: Archive, left_budget: Budget,
                         right_budget: Budget) -> tuple[Difference, ...]:
    """``diffs`` with a ``class analysis: ...`` note added to each changed ``.class`` entry that it explains."""
    out: list[Difference] = []
    done = 0
    for d in diffs:
        if (d.kind is DifferenceKind.CHANGED and d.aspect == "content" and d.path.endswith(".class")
                and done < MAX_ANNOTATED):
            done += 1
            a, b = _find(left, d.path), _find(right, d.path)
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
