"""The stabilizer pipeline: stabilizers as values, the registry, selection, and the per-side run with its trace."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from dataclasses import fields as dataclass_fields
from enum import StrEnum
from importlib.metadata import entry_points
from typing import Union

from .errors import CanonjarError, EntryDataError, LimitExceeded, StabilizerSkip, UsageError
from .limits import Budget
from .model import COMPARED_FIELDS, NESTED_SUFFIXES, Archive, Entry, Payload, archive_from_zip, entry_keys
from .outcome import Evidence, FieldChange, TraceStep
from .taxonomy import Category
from .zipfmt import Finding, read_zip

__all__ = [
    "ENTRY_POINT_GROUP",
    "Context",
    "FieldChange",
    "Scope",
    "Side",
    "Stabilizer",
    "TraceStep",
    "all_stabilizers",
    "run_deferred",
    "run_pipeline",
    "select_stabilizers",
]

ENTRY_POINT_GROUP = "canonjar.stabilizers"
_NAME_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


class Scope(StrEnum):
    ARCHIVE = "archive"
    ENTRY = "entry"


class Side(StrEnum):
    REFERENCE = "reference"
    REBUILD = "rebuild"


def _always(entry: Entry) -> bool:
    return True


EntryFn = Callable[[Entry, "Context"], Entry]
ArchiveFn = Callable[[Archive, "Context"], Archive]


@dataclass(frozen=True)
class Stabilizer:
    """A named, documented, pure transformation of one side's archive or of one entry.

    ``apply`` returns its input object unchanged when there is nothing to do. It raises
    :class:`StabilizerSkip` when it cannot handle its input; the pipeline then records the reason and keeps
    the input untouched.
    """

    name: str
    scope: Scope
    category: Category
    removes: str
    reason: str
    apply: Union[EntryFn, ArchiveFn]  # noqa: UP007 - a runtime-evaluated alias
    applies_to: Callable[[Entry], bool] = _always
    #: False for stabilizers that only run when asked for (``--enable NAME`` or ``--enable all``), for
    #: example because they are slow on large archives.
    enabled_by_default: bool = True
    #: True for an entry-scope stabilizer that changes only an entry's content, as a function of that content
    #: alone (no evidence, no findings, no other field). ``compare`` then runs it only on the entries whose
    #: content still differs after the other stabilizers, on each side on its own: on equal content both
    #: sides would produce equal results, so the verdict and the residual differences are the same as when it
    #: runs everywhere, at a fraction of the cost. ``canonicalize`` runs it on every entry.
    deferred: bool = False

    def __post_init__(self) -> None:
        if not _NAME_RE.match(self.name):
            raise UsageError(f"stabilizer name {self.name!r} is not kebab-case")
        if self.deferred and self.scope is not Scope.ENTRY:
            raise UsageError(f"stabilizer {self.name!r}: only entry-scope stabilizers can be deferred")


#: Trace values shared between equal changes: (field, old, new) triples -> their :class:`FieldChange` tuple.
ChangeCache = dict[tuple[tuple[str, object, object], ...], tuple[FieldChange, ...]]


@dataclass
class Context:
    """What a stabilizer may use: which side it runs on (for the trace only) and bounded content access."""

    side: Side
    budget: Budget
    trace: list[TraceStep] = field(default_factory=list)
    #: Values a stabilizer verified, or removed but that a report should still show (Build-Jdk, commit id).
    evidence: list[Evidence] = field(default_factory=list)
    #: Anomalies a stabilizer found in an entry (a malformed manifest): they make the verdict "different".
    findings: list[Finding] = field(default_factory=list)
    #: Set by the pipeline: the running stabilizer and the path prefix of the archive being processed.
    stabilizer: str = ""
    prefix: str = ""
    #: Shared values for the trace: one display path string per entry and one tuple of field changes per
    #: distinct change (most entries change the same way), instead of a copy in every trace step.
    _paths: dict[str, dict[bytes, str]] = field(default_factory=dict, repr=False)
    _changes: ChangeCache = field(default_factory=dict, repr=False)

    def display_path(self, arc: Archive, entry: Entry) -> str:
        """``arc.path_of(entry)``, the same string object every time it is asked for the same entry name."""
        paths = self._paths.get(arc.prefix)
        if paths is None:
            paths = self._paths[arc.prefix] = {}
        path = paths.get(entry.name)
        if path is None:
            path = paths[entry.name] = arc.path_of(entry)
        return path

    def content(self, entry: Entry) -> bytes:
        """The uncompressed content of ``entry`` (bounded by the limits)."""
        try:
            return entry.payload.content(self.budget)
        except EntryDataError as exc:
            raise StabilizerSkip(str(exc)) from None

    def path(self, entry: Entry) -> str:
        """The full display path of ``entry`` (``outer.jar!/inner/path`` inside nested archives)."""
        return self.prefix + entry.path

    def record(self, key: str, value: str, entry: Entry | None = None) -> None:
        """Keep ``value`` as evidence under ``key`` (for example ``build-jdk`` = ``17.0.2``)."""
        where = self.path(entry) if entry is not None else self.prefix.removesuffix("!/")
        self.evidence.append(Evidence(self.side.value, self.stabilizer, key, value, where))

    def finding(self, code: str, entry: Entry | None, message: str) -> None:
        """Report an anomaly found while stabilizing (it makes the verdict "different")."""
        where = self.path(entry) if entry is not None else self.prefix.removesuffix("!/")
        self.findings.append(Finding(code, where, message))


# --------------------------------------------------------------------------------------------- registry

def _builtin() -> tuple[Stabilizer, ...]:
    from .stabilizers import BUILTIN

    return BUILTIN


@functools.cache
def _plugins() -> tuple[Stabilizer, ...]:
    """Stabilizers from installed plugins (discovered once per process)."""
    found: list[Stabilizer] = []
    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        try:
            obj = ep.load()
        except Exception as exc:  # a broken plugin is a clear error, not a traceback
            raise UsageError(f"stabilizer plugin {ep.name!r} ({ep.value}) failed to load: {exc}") from None
        items = obj() if callable(obj) and not isinstance(obj, Stabilizer) else obj
        if isinstance(items, Stabilizer):
            items = [items]
        for st in items:
            if not isinstance(st, Stabilizer):
                raise UsageError(f"stabilizer plugin {ep.name!r} provides {type(st).__name__}, not a Stabilizer")
            found.append(st)
    return tuple(found)


def all_stabilizers(include_plugins: bool = True) -> tuple[Stabilizer, ...]:
    """Built-in stabilizers in their fixed order, then plugins sorted by entry-point name."""
    stabs = list(_builtin())
    if include_plugins:
        stabs += _plugins()
    seen: dict[str, Stabilizer] = {}
    for st in stabs:
        if st.name in seen:
            raise UsageError(f"two stabilizers are named {st.name!r}")
        seen[st.name] = st
    return tuple(stabs)


def select_stabilizers(enable: Iterable[str] = (), disable: Iterable[str] = (),
                       available: Sequence[Stabilizer] | None = None) -> tuple[Stabilizer, ...]:
    """The default stabilizers minus ``disable`` plus ``enable`` (``all``/``none`` allowed), in registry order.

    The default set is every stabilizer with ``enabled_by_default``; ``--enable all`` adds the opt-in ones.

    ``--disable all --enable x`` selects only x; ``--enable`` wins over ``--disable`` for the same name.
    """
    avail = tuple(available) if available is not None else all_stabilizers()
    known = {s.name for s in avail}
    if len(known) != len(avail):
        dup = next(s.name for i, s in enumerate(avail) if any(t.name == s.name for t in avail[:i]))
        raise UsageError(f"two stabilizers are named {dup!r}")
    default = {s.name for s in avail if s.enabled_by_default}
    chosen = set(default)

    def check(names: Iterable[str]) -> list[str]:
        out = []
        for raw in names:
            for nm in (x.strip() for x in raw.split(",")):
                if not nm:
                    continue
                if nm not in known and nm not in ("all", "none"):
                    raise UsageError(f"unknown stabilizer {nm!r}; known: {', '.join(sorted(known))}")
                out.append(nm)
        return out

    for nm in check(disable):
        if nm == "all":
            chosen.clear()
        elif nm == "none":
            chosen = set(default)
        else:
            chosen.discard(nm)
    for nm in check(enable):
        if nm == "all":
            chosen = set(known)
        elif nm == "none":
            chosen.clear()
        else:
            chosen.add(nm)
    return tuple(s for s in avail if s.name in chosen)


# --------------------------------------------------------------------------------------------- trace helpers

def _show(value: object, limit: int = 4096) -> str:
    if isinstance(value, bytes):
        text = value.decode("utf-8", errors="backslashreplace") if value.isascii() else "0x" + value.hex()
    elif isinstance(value, int) and not isinstance(value, bool):
        text = str(value)
    else:
        text = str(value)
    if len(text) > limit:
        text = text[:limit] + f"... ({len(text)} chars)"
    return text


_HEX_FIELDS = {"external_attr": "#010x", "flags": "#06x", "version_made": "#06x", "internal_attr": "#06x"}
# ``compare_stream`` is a comparison mode, not data: switching it is not recorded as a change.
_COMPARED = frozenset(COMPARED_FIELDS) - {"compare_stream"}


def _field_change(f: str, a: object, b: object) -> FieldChange:
    if f == "payload":
        return FieldChange("content", a.describe(), b.describe())  # type: ignore[attr-defined]
    spec = _HEX_FIELDS.get(f)
    if spec is not None:
        return FieldChange(f, format(a, spec), format(b, spec))
    return FieldChange(f, _show(a), _show(b))


_CACHED_CHANGES_MAX = 65_536
#: The fields a trace step shows, in the order of the entry's fields.
_TRACED = tuple(f.name for f in dataclass_fields(Entry) if f.name in _COMPARED or f.name in ("payload", "name"))


def entry_changes(old: Entry, new: Entry,
                  cache: ChangeCache | None = None) -> tuple[FieldChange, ...]:
    """Field-by-field difference of two versions of one entry (values shortened for the trace).

    With ``cache``, equal changes (the same field from the same old value to the same new value, as when a
    stabilizer sets every entry's time to one constant) share one tuple of :class:`FieldChange`: less memory
    and no formatting of the same values again.
    """
    od = old.__dict__
    nd = new.__dict__
    found: list[tuple[str, object, object]] = []
    for f in _TRACED:
        a = od[f]
        b = nd[f]
        if a is not b and a != b:
            found.append((f, a, b))
    if not found:
        return ()
    key = tuple(found)
    if cache is None or any(f == "payload" for f, _a, _b in key):
        return tuple(_field_change(f, a, b) for f, a, b in key)
    hit = cache.get(key)
    if hit is None:
        hit = tuple(_field_change(f, a, b) for f, a, b in key)
        if len(cache) < _CACHED_CHANGES_MAX:
            cache[key] = hit
    return hit


# --------------------------------------------------------------------------------------------- running

def _skip_reason(exc: Exception) -> str:
    if isinstance(exc, CanonjarError):
        return str(exc)
    return f"stabilizer failed: {type(exc).__name__}: {exc}"


def _run_entry_stabilizer(st: Stabilizer, arc: Archive, ctx: Context) -> Archive:
    """Apply an entry-scope stabilizer to every entry it applies to. Any failure (including a bad return
    value or a failing predicate) is a recorded skip that leaves the entry exactly as it was."""
    fn: EntryFn = st.apply  # type: ignore[assignment]
    applies = None if st.applies_to is _always else st.applies_to
    side = ctx.side.value
    cache = ctx._changes
    trace = ctx.trace
    changed = False
    out: list[Entry] = []
    for e in arc.entries:
        try:
            if applies is not None and not applies(e):
                out.append(e)
                continue
            new = fn(e, ctx)
            if new is e:
                out.append(e)
                continue
            if not isinstance(new, Entry) or not isinstance(new.payload, Payload):
                raise TypeError(f"returned {type(new).__name__}, not an Entry")
            if new.name != e.name:
                raise StabilizerSkip("an entry-scope stabilizer may not rename entries; change discarded")
            changes = entry_changes(e, new, cache)
        except LimitExceeded:
            raise
        except Exception as exc:  # a stabilizer failure must not hide a difference: keep the entry as it was
            trace.append(TraceStep(side, st.name, ctx.display_path(arc, e), "skipped", reason=_skip_reason(exc)))
            out.append(e)
            continue
        if changes:
            trace.append(TraceStep(side, st.name, ctx.display_path(arc, e), "changed", changes))
        changed = True
        out.append(new)
    return arc.replace(entries=tuple(out)) if changed else arc


def _run_archive_stabilizer(st: Stabilizer, arc: Archive, ctx: Context) -> Archive:
    """Apply an archive-scope stabilizer. It may remove, reorder and change entries and the archive comment;
    it may not add or rename entries, change the nesting or drop findings. A violation or failure discards
    the whole change and records one "skipped" step."""
    fn: ArchiveFn = st.apply  # type: ignore[assignment]
    side = ctx.side.value
    where = arc.prefix.removesuffix("!/")
    steps: list[TraceStep] = []
    skip_path = where
    try:
        new = fn(arc, ctx)
        if new is arc:
            return arc
        if not isinstance(new, Archive) or not all(isinstance(e, Entry) for e in new.entries):
            raise TypeError(f"returned {type(new).__name__}, not an Archive of Entries")
        old_keys = entry_keys(arc.entries)
        new_keys = entry_keys(new.entries)
        old_map = dict(zip(old_keys, arc.entries, strict=True))
        new_map = dict(zip(new_keys, new.entries, strict=True))
        invented = [new_map[k] for k in new_keys if k not in old_map]
        if invented:
            # Stabilizers must not invent (or rename) entries: that could hide a removal on the other side.
            skip_path = arc.path_of(invented[0])
            raise StabilizerSkip("tried to add an entry; change discarded")
        for k, e in old_map.items():
            if k not in new_map:
                steps.append(TraceStep(side, st.name, ctx.display_path(arc, e), "removed",
                                       (FieldChange("entry", e.payload.describe(), "(removed)"),)))
        for k, e in new_map.items():
            old = old_map[k]
            if old is not e:
                changes = entry_changes(old, e, ctx._changes)
                if changes:
                    steps.append(TraceStep(side, st.name, ctx.display_path(arc, e), "changed", changes))
        common_old = [k for k in old_keys if k in new_map]
        if common_old != new_keys:
            moved = sum(1 for a, b in zip(common_old, new_keys, strict=True) if a != b)
            steps.append(TraceStep(side, st.name, where, "reordered",
                                   (FieldChange("order", f"{moved} entries out of canonical order",
                                                "canonical order"),)))
        if arc.comment != new.comment:
            steps.append(TraceStep(side, st.name, where, "changed",
                                   (FieldChange("archive comment", _show(arc.comment), _show(new.comment)),)))
    except LimitExceeded:
        raise
    except Exception as exc:
        ctx.trace.append(TraceStep(side, st.name, skip_path, "skipped", reason=_skip_reason(exc)))
        return arc
    ctx.trace.extend(steps)
    # Findings and nesting are facts about the input; no stabilizer may change them.
    return new.replace(findings=arc.findings, prefix=arc.prefix, depth=arc.depth)


_NESTED_SUFFIXES_B = tuple(s.encode() for s in NESTED_SUFFIXES)


def is_nested_archive_name(name: bytes) -> bool:
    """True for names like ``lib/x.jar`` whose entry is opened as a nested archive."""
    return name[-4:].lower().endswith(_NESTED_SUFFIXES_B)


def _nest(arc: Archive, stabilizers: Sequence[Stabilizer], ctx: Context) -> Archive:
    out: list[Entry] = []
    changed = False
    for e in arc.entries:
        if not is_nested_archive_name(e.name):
            out.append(e)
            continue
        path = arc.path_of(e)
        if arc.depth + 1 > ctx.budget.limits.max_depth:
            ctx.trace.append(TraceStep(ctx.side.value, "nested-archives", path, "skipped",
                                       reason=f"nesting depth limit {ctx.budget.limits.max_depth} reached; "
                                              "compared as plain bytes"))
            out.append(e)
            continue
        try:
            data = e.payload.content(ctx.budget)
            inner = read_zip(data, ctx.budget.limits)
        except LimitExceeded as exc:
            if str(exc).startswith(ctx.budget.name(path)):
                raise
            raise LimitExceeded(ctx.budget.name(f"{path}: {exc}")) from None
        except CanonjarError as exc:
            ctx.trace.append(TraceStep(ctx.side.value, "nested-archives", path, "skipped",
                                       reason=f"not a readable archive ({exc}); compared as plain bytes"))
            out.append(e)
            continue
        nested = archive_from_zip(inner, prefix=path + "!/", depth=arc.depth + 1)
        nested = run_pipeline(nested, stabilizers, ctx)
        out.append(e.replace(nested=nested))
        changed = True
    return arc.replace(entries=tuple(out)) if changed else arc


def _apply_one(st: Stabilizer, arc: Archive, e: Entry, ctx: Context) -> Entry:
    """One entry-scope stabilizer on one entry, with the failure semantics of :func:`_run_entry_stabilizer`
    (which inlines the same steps in its loop: it is the hot path)."""
    ctx.stabilizer = st.name
    try:
        if st.applies_to is not _always and not st.applies_to(e):
            return e
        new = st.apply(e, ctx)  # type: ignore[arg-type]
        if new is e:
            return e
        if not isinstance(new, Entry) or not isinstance(new.payload, Payload):
            raise TypeError(f"returned {type(new).__name__}, not an Entry")
        if new.name != e.name:
            raise StabilizerSkip("an entry-scope stabilizer may not rename entries; change discarded")
        changes = entry_changes(e, new, ctx._changes)
    except LimitExceeded:
        raise
    except Exception as exc:  # a stabilizer failure must not hide a difference: keep the entry as it was
        ctx.trace.append(TraceStep(ctx.side.value, st.name, ctx.display_path(arc, e), "skipped",
                                   reason=_skip_reason(exc)))
        return e
    if changes:
        ctx.trace.append(TraceStep(ctx.side.value, st.name, ctx.display_path(arc, e), "changed", changes))
    return new


def run_deferred(arc: Archive, stabilizers: Sequence[Stabilizer], ctx: Context, paths: frozenset[str]) -> Archive:
    """Run deferred stabilizers on the entries whose full paths are in ``paths``, nested ones included. Used
    by ``compare`` for the entries whose content differs after the other stabilizers.

    Entry by entry, all stabilizers in order on one entry before the next: the result is the same as one
    stabilizer over all entries (each is a function of one entry), and a class parsed by the first is still
    in the codec's small memory of recent classes when the next one reads it."""
    if not paths or not stabilizers:
        return arc
    entries = list(arc.entries)
    changed = False
    outer = ctx.stabilizer, ctx.prefix
    ctx.prefix = arc.prefix
    try:
        for i, entry in enumerate(entries):
            e = entry
            if e.nested is not None:
                inner_prefix = arc.path_of(e) + "!/"
                if any(p.startswith(inner_prefix) for p in paths):
                    inner = run_deferred(e.nested, stabilizers, ctx, paths)
                    ctx.prefix = arc.prefix
                    if inner is not e.nested:
                        e = e.replace(nested=inner)
            if ctx.display_path(arc, e) in paths:
                for st in stabilizers:
                    e = _apply_one(st, arc, e, ctx)
            if e is not entry:
                entries[i] = e
                changed = True
    finally:
        ctx.stabilizer, ctx.prefix = outer
    return arc.replace(entries=tuple(entries)) if changed else arc


def run_pipeline(arc: Archive, stabilizers: Sequence[Stabilizer], ctx: Context) -> Archive:
    """Run ``stabilizers`` in order over one side's archive (and, recursively, its nested archives)."""
    arc = _nest(arc, stabilizers, ctx)
    outer = ctx.stabilizer, ctx.prefix
    ctx.prefix = arc.prefix
    try:
        for st in stabilizers:
            ctx.stabilizer = st.name
            run = _run_entry_stabilizer if st.scope is Scope.ENTRY else _run_archive_stabilizer
            arc = run(st, arc, ctx)
    finally:
        ctx.stabilizer, ctx.prefix = outer
    return arc
