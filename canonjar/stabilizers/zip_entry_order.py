"""zip-entry-order: the order of entries in the archive.

Removes: the order in which the build tool wrote the entries (file-system enumeration order, parallel
packaging). Safe because the JVM and every zip reader look entries up by name through the central
directory; order carries no meaning except that META-INF/ and META-INF/MANIFEST.MF come first for
``JarInputStream``, which the canonical order keeps. Duplicate names keep their relative order (and are
reported as findings anyway).
"""

from __future__ import annotations

from ..model import Archive, Entry
from ..pipeline import Context, Scope, Stabilizer
from ..taxonomy import Category


def _rank(e: Entry) -> tuple[int, bytes]:
    upper = e.name.upper()
    if upper == b"META-INF/":
        return (0, b"")
    if upper == b"META-INF/MANIFEST.MF":
        return (1, b"")
    return (2, e.name)


def canonical_order(entries: tuple[Entry, ...]) -> tuple[Entry, ...]:
    return tuple(sorted(entries, key=_rank))


def _apply(arc: Archive, ctx: Context) -> Archive:
    ordered = canonical_order(arc.entries)
    if all(a is b for a, b in zip(ordered, arc.entries, strict=True)):
        return arc
    return arc.replace(entries=ordered)


STABILIZER = Stabilizer(
    name="zip-entry-order",
    scope=Scope.ARCHIVE,
    category=Category.FILESYSTEM,
    removes="the order of entries (META-INF/ and META-INF/MANIFEST.MF first, then byte order of names)",
    reason="entries are looked up by name through the central directory; order has no meaning to the JVM",
    apply=_apply,
)
