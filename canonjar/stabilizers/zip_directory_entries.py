"""zip-directory-entries: presence of explicit, empty directory entries.

Removes: entries whose name ends in ``/`` and that carry no data (some tools write one per directory,
others none). Safe because class and resource loading of files never depends on them; only
``getResource`` of a directory name does, which builds do not control consistently. A directory entry that
carries data is kept (it is a finding).
"""

from __future__ import annotations

from ..model import Archive
from ..pipeline import Context, Scope, Stabilizer
from ..taxonomy import Category


def _apply(arc: Archive, ctx: Context) -> Archive:
    kept = tuple(e for e in arc.entries if not (e.is_dir and e.payload.size == 0))
    if len(kept) == len(arc.entries):
        return arc
    return arc.replace(entries=kept)


STABILIZER = Stabilizer(
    name="zip-directory-entries",
    scope=Scope.ARCHIVE,
    category=Category.FILESYSTEM,
    removes="explicit empty directory entries (name ending in '/')",
    reason="files are found by their full names; whether a directory has its own entry does not change loading",
    apply=_apply,
)
