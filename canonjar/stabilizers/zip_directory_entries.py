"""zip-directory-entries: presence of explicit, empty directory entries.

Removes: entries whose name ends in ``/`` and that carry no data (some tools write one per directory,
others none). Safe because class and resource loading of files never depends on them; only
``getResource`` of a directory name does, which builds do not control consistently. A directory entry that
declares or stores any data is kept (it is a finding): only entries whose stored bytes are empty, or an
empty deflate stream, are removed.
"""

from __future__ import annotations

import zlib

from ..model import Archive, Entry
from ..pipeline import Context, Scope, Stabilizer
from ..taxonomy import Category
from ..zipfmt import as_buffer


def is_empty_directory(e: Entry) -> bool:
    """A directory entry that declares no data AND stores no data (an empty deflate stream at most)."""
    if not e.is_dir or e.payload.size != 0 or e.payload.literal:
        return False
    stream = e.payload.stream
    if stream is None or len(stream) == 0:
        return True
    if e.payload.method != 8 or len(stream) > 16:
        return False
    d = zlib.decompressobj(-15)
    try:
        out = d.decompress(as_buffer(stream), 1)
    except zlib.error:
        return False
    return out == b"" and d.eof and not d.unused_data and not d.unconsumed_tail


def _apply(arc: Archive, ctx: Context) -> Archive:
    kept = tuple(e for e in arc.entries if not is_empty_directory(e))
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
