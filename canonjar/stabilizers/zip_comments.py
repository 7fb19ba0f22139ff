"""zip-comments: the archive comment and per-entry comments.

Removes: free-text comments some zip writers add. Safe because neither the JVM nor Java build tools read
zip comments to load code or resources (``ZipFile.getComment`` is informational only).
"""

from __future__ import annotations

from ..model import Archive
from ..pipeline import Context, Scope, Stabilizer
from ..taxonomy import Category


def _apply(arc: Archive, ctx: Context) -> Archive:
    entries = tuple(e.replace(comment=b"") for e in arc.entries)
    changed = any(a is not b for a, b in zip(entries, arc.entries, strict=True))
    return arc.replace(entries=entries if changed else arc.entries, comment=b"")


STABILIZER = Stabilizer(
    name="zip-comments",
    scope=Scope.ARCHIVE,
    category=Category.FILESYSTEM,
    removes="the archive comment and entry comments",
    reason="zip comments are informational text; no class loader or resource lookup reads them",
    apply=_apply,
)
