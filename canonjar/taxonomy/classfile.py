"""Tell why two class files differ, for the taxonomy: class file version, compiler (javac vs ecj), JDK idioms
(named with evidence, :mod:`canonjar.classfile.idioms`), debug information (debug-info only or not, from the
structural diff of :mod:`canonjar.classfile.classdiff`), lambda naming, constant-pool and member order,
timestamp/path/UUID constants, and code or structure changes.

:func:`explain_class_difference` compares two class files and returns short, stable phrases (the taxonomy rules
match them in a difference's note); :func:`analyze_class_difference` also gives the structural diff.
:func:`annotate_differences` adds the phrases, as ``class analysis: ...``, to the note of every changed ``.class``
entry of a comparison and the structural diff as its diff. "Debug-info only" is claimed only when the structural
diff finds no other difference; an order phrase only when nothing else differs. Parsing is defensive: a class
file that cannot be read yields no phrase, never an error.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property

from ..classfile import (
    Attribute,
    ClassFile,
    ClassFormatError,
    ConstantPool,
    Member,
    display_mutf8,
    parse_code,
    read_class,
)
from ..classfile.classdiff import DIFF_LINE_CAP, ClassDiff, diff_views
from ..classfile.disasm import view_class
from ..classfile.idioms import Idiom, compare_idioms, compiler_of
from ..errors import CanonjarError
from ..limits import Budget
from ..model import Archive, Entry
from ..outcome import Difference, DifferenceKind

__all__ = [
    "CLASS_NOTE_PREFIX",
    "ClassAnalysis",
    "analyze_class_difference",
    "annotate_differences",
    "compiler_phrase",
    "explain_class_difference",
    "parse_class",
]

CLASS_NOTE_PREFIX = "class analysis: "
MAX_ANNOTATED = 5000  # class differences analysed per comparison (bounds the time on huge rebuild failures)
STRUCTURAL_SECONDS = 30.0  # time for structural views per comparison; later classes get the cheap phrases

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
    pool: ConstantPool = field(compare=False, repr=False)
    strings: frozenset[str]                 # every Utf8 constant
    fields: tuple[tuple[str, str], ...]     # (name, descriptor) in file order
    methods: tuple[tuple[str, str], ...]
    attributes: frozenset[str]              # class, field, method and Code attribute names

    @cached_property
    def constants(self) -> tuple[object, ...]:
        """Resolved constant-pool entries, in pool order (rendered only when an order phrase needs them)."""
        pool = self.pool
        return tuple(pool.describe(i) for i, _c in pool)


def parse_class(data: bytes) -> ClassInfo | None:
    """The parts of a class file the taxonomy compares, or None when it is not a readable class file."""
    try:
        return _info(read_class(data))
    except ClassFormatError:
        return None


def _info(cf: ClassFile, shown: dict[bytes, str] | None = None) -> ClassInfo:
    """``shown``: display texts of Utf8 values already computed (the two sides share most of them)."""
    pool = cf.constant_pool
    shown = {} if shown is None else shown
    texts: list[str] = []
    for _i, c in pool:
        if c.tag == 1:
            raw = c.raw[3:]
            text = shown.get(raw)
            if text is None:
                text = shown[raw] = display_mutf8(raw)
            texts.append(text)
    strings = frozenset(texts)
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
    return ClassInfo(cf.major_version, cf.minor_version, pool, strings, fields, methods, frozenset(attrs))


def _only(a: frozenset[str] | set[str], b: frozenset[str] | set[str], limit: int = 3) -> str:
    def show(xs: frozenset[str] | set[str]) -> str:
        items = sorted(xs)
        text = ", ".join(repr(x) if len(x) < 60 else repr(x[:57] + "...") for x in items[:limit])
        return text + (f" (+{len(items) - limit})" if len(items) > limit else "") if items else "nothing"
    return f"{show(a - b)} vs {show(b - a)}"


def _side(flag_a: bool) -> str:
    return "reference" if flag_a else "rebuild"


def _list(items: Sequence[str], limit: int = 3) -> str:
    text = ", ".join(items[:limit])
    return text + (f" (+{len(items) - limit} more)" if len(items) > limit else "")


@dataclass(frozen=True)
class ClassAnalysis:
    """What the taxonomy learns from one pair of class files: the phrases for the note, the structural diff
    (None when the classes could not be viewed), the named idioms and the compiler each side shows."""

    phrases: tuple[str, ...]
    diff: ClassDiff | None = None
    idioms: tuple[Idiom, ...] = ()
    compilers: tuple[tuple[str, tuple[str, ...]] | None, tuple[str, tuple[str, ...]] | None] = (None, None)


def compiler_phrase(reference: tuple[str, Sequence[str]], rebuild: tuple[str, Sequence[str]],
                    scope: str = "") -> str:
    """``compiler differs: reference javac (evidence), rebuild ecj (evidence)``."""
    return (f"compiler differs{scope}: reference {reference[0]} ({_list(list(reference[1]), 2)}), "
            f"rebuild {rebuild[0]} ({_list(list(rebuild[1]), 2)})")


def _old_idioms(a: ClassInfo, b: ClassInfo) -> tuple[tuple[str, str, bool, bool], ...]:
    """The string-based idiom checks (used when the code-based ones cannot tell): (phrase name, idiom id,
    reference has it, rebuild has it)."""
    return (
        ("indy string concatenation", "indy-string-concat", "makeConcatWithConstants" in a.strings,
         "makeConcatWithConstants" in b.strings),
        ("nest-based access", "nestmates", bool(a.attributes & {"NestHost", "NestMembers"}),
         bool(b.attributes & {"NestHost", "NestMembers"})),
        ("enum $values() helper", "enum-values-helper", any(m[0] == "$values" for m in a.methods),
         any(m[0] == "$values" for m in b.methods)),
        ("Objects.requireNonNull null checks", "null-checks",
         "requireNonNull" in a.strings and "getClass" not in a.strings,
         "requireNonNull" in b.strings and "getClass" not in b.strings),
    )


def _phrases(a: ClassInfo, b: ClassInfo, cd: ClassDiff | None, idioms: Sequence[Idiom],
             compiler: str) -> list[str]:
    out: list[str] = []
    if (a.major, a.minor) != (b.major, b.minor):
        out.append(f"class file version differs (major {a.major}.{a.minor} vs {b.major}.{b.minor})")
    if compiler:
        out.append(compiler)
    covered = {i.id for i in idioms}
    out += [f"JDK idiom differs: {i.phrase}" for i in idioms if i.id != "class-version"]
    for name, ident, in_a, in_b in _old_idioms(a, b):
        if in_a != in_b and ident not in covered:
            out.append(f"JDK idiom differs: {name} (only in {_side(in_a)})")
    da, db = a.attributes & set(_DEBUG_ATTRS), b.attributes & set(_DEBUG_ATTRS)
    if cd is not None and cd.debug_only:
        detail = _only(da, db) if da != db else "in " + ", ".join(cd.debug_attributes)
        out.append(f"debug information differs ({detail}) and nothing else: debug-info only, the code is the same")
    elif da != db or (cd is not None and cd.debug):
        detail = _only(da, db) if da != db else "in " + ", ".join(cd.debug_attributes if cd else [])
        out.append(f"debug information also differs ({detail})")
    la = {m[0] for m in a.methods if _LAMBDA.match(m[0])}
    lb = {m[0] for m in b.methods if _LAMBDA.match(m[0])}
    if la != lb:
        out.append(f"lambda method names differ ({_only(la, lb)})")
    if cd is None or cd.structural_equal:  # order is the explanation only when nothing else differs
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
    if cd is not None and cd.changes:
        if cd.code_changed:
            out.append(f"code differs in {len(cd.code_changed)} method(s) ({_list(cd.code_changed)})")
        others = [c for c in cd.changes if not c.startswith("version ") and not c.endswith(": code differs")]
        if others:
            out.append(f"class structure differs ({_list(others)})")
    return out


def analyze_class_difference(left: bytes, right: bytes, name: str = "", structural: bool = True,
                             cap: int = DIFF_LINE_CAP) -> ClassAnalysis | None:
    """Compare two class files: phrases, structural diff, idioms and compilers (None when either cannot be
    read). ``structural=False`` skips the symbolic views (cheaper; no diff, no idioms, no debug-only claim)."""
    try:
        ca, cb = read_class(left), read_class(right)
        shown: dict[bytes, str] = {}
        a, b = _info(ca, shown), _info(cb, shown)
    except ClassFormatError:
        return None
    if not structural:
        return ClassAnalysis(tuple(_phrases(a, b, None, (), "")))
    try:
        va, vb = view_class(ca), view_class(cb)
    except (ClassFormatError, RecursionError):
        return ClassAnalysis(tuple(_phrases(a, b, None, (), "")))
    cd = diff_views(va, vb, name or va.name + ".class", cap)
    idioms = tuple(compare_idioms(va, vb))
    comp_a, comp_b = compiler_of(va), compiler_of(vb)
    compilers = (None if comp_a is None else (comp_a[0], tuple(comp_a[1])),
                 None if comp_b is None else (comp_b[0], tuple(comp_b[1])))
    compiler = ""
    if comp_a is not None and comp_b is not None and comp_a[0] != comp_b[0]:
        compiler = compiler_phrase(comp_a, comp_b)
    return ClassAnalysis(tuple(_phrases(a, b, cd, idioms, compiler)), cd, idioms, compilers)


def explain_class_difference(left: bytes, right: bytes) -> tuple[str, ...]:
    """Short phrases saying how two class files differ (empty when either cannot be read)."""
    found = analyze_class_difference(left, right)
    return () if found is None else found.phrases


def _index(arc: Archive, out: dict[str, Entry] | None = None) -> dict[str, Entry]:
    """Every entry by display path (``outer.jar!/inner/A.class``), nested archives included; with duplicate
    names the first entry wins. Built once per side instead of scanning the archive for each difference."""
    index: dict[str, Entry] = {} if out is None else out
    for e in arc.entries:
        index.setdefault(arc.path_of(e), e)
        if e.nested is not None:
            _index(e.nested, index)
    return index


def _archive_compilers(analyses: Sequence[ClassAnalysis | None]) -> str:
    """A compiler phrase for the whole comparison when the classes of one side show only one compiler and
    those of the other side only another one (else '')."""
    sides: list[dict[str, list[str]]] = [{}, {}]
    for found in analyses:
        if found is None:
            continue
        for k in (0, 1):
            comp = found.compilers[k]
            if comp is not None:
                evidence = sides[k].setdefault(comp[0], [])
                evidence.extend(e for e in comp[1] if e not in evidence)
    if len(sides[0]) == 1 and len(sides[1]) == 1:
        (ra, ea), = sides[0].items()
        (rb, eb), = sides[1].items()
        if ra != rb:
            return compiler_phrase((ra, ea), (rb, eb), " (seen in other classes of the artifact)")
    return ""


def annotate_differences(diffs: Sequence[Difference], left: Archive, right: Archive, left_budget: Budget,
                         right_budget: Budget) -> tuple[Difference, ...]:
    """``diffs`` with each changed ``.class`` entry explained: a ``class analysis: ...`` note (phrases the
    taxonomy rules match) and, when the entry has no diff yet, the structural class diff as its diff.

    Only classes whose canonical bytes differ get here (equal entries are never parsed). The structural views
    stop after :data:`STRUCTURAL_SECONDS` of work; later classes get the cheaper phrases only."""
    left_index: dict[str, Entry] | None = None
    right_index: dict[str, Entry] | None = None
    analyses: dict[int, ClassAnalysis | None] = {}
    started = time.monotonic()
    done = 0
    for k, d in enumerate(diffs):
        if not (d.kind is DifferenceKind.CHANGED and d.aspect == "content" and d.path.endswith(".class")
                and done < MAX_ANNOTATED):
            continue
        done += 1
        if left_index is None or right_index is None:
            left_index, right_index = _index(left), _index(right)
        a, b = left_index.get(d.path), right_index.get(d.path)
        found: ClassAnalysis | None = None
        if a is not None and b is not None:
            try:
                structural = time.monotonic() - started < STRUCTURAL_SECONDS
                found = analyze_class_difference(a.payload.content(left_budget), b.payload.content(right_budget),
                                                 d.path.rsplit("!/", 1)[-1], structural)
            except CanonjarError:
                found = None
        analyses[k] = found
    archive_compiler = _archive_compilers(list(analyses.values()))
    out: list[Difference] = []
    for k, d in enumerate(diffs):
        found = analyses.get(k)
        if found is None:
            out.append(d)
            continue
        phrases = list(found.phrases)
        if archive_compiler and not any(p.startswith("compiler differs") for p in phrases):
            phrases.insert(1 if phrases and phrases[0].startswith("class file version") else 0, archive_compiler)
        changes: dict[str, object] = {}
        if phrases:
            note = CLASS_NOTE_PREFIX + "; ".join(phrases)
            changes["note"] = "; ".join(x for x in (d.note, note) if x)
        if found.diff is not None and d.diff is None:
            changes["diff"] = found.diff.text
            changes["diff_omitted_lines"] = found.diff.omitted
        out.append(replace(d, **changes) if changes else d)  # type: ignore[arg-type]
    return tuple(out)
