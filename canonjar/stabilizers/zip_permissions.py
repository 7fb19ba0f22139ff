"""zip-permissions: file modes and attributes.

Removes: the umask of the build machine. External attributes become 0644 for files, 0755 for files whose
owner-execute bit is set and for directories (directory bit kept, MS-DOS attribute byte reduced to the
directory flag); internal attributes (the "text file" hint) become 0. Safe because the JVM ignores modes;
the owner-execute bit, the only one an unpacking tool could act on, is kept, and symbolic-link entries are
never touched (they are reported as findings).
"""

from __future__ import annotations

import stat

from ..model import Entry
from ..pipeline import Context, Scope, Stabilizer
from ..taxonomy import Category


def canonical_external_attr(entry: Entry) -> int:
    mode = entry.unix_mode
    is_dir = entry.is_dir or bool(entry.external_attr & 0x10) or (mode is not None and stat.S_ISDIR(mode))
    if is_dir:
        return (0o40755 << 16) | 0x10
    executable = mode is not None and bool(mode & stat.S_IXUSR)
    return (0o100755 if executable else 0o100644) << 16


def _apply(entry: Entry, ctx: Context) -> Entry:
    mode = entry.unix_mode
    if mode is not None and stat.S_ISLNK(mode):
        return entry  # symlinks stay visible
    return entry.replace(external_attr=canonical_external_attr(entry), internal_attr=0)


STABILIZER = Stabilizer(
    name="zip-permissions",
    scope=Scope.ENTRY,
    category=Category.FILESYSTEM,
    removes="file modes and attributes, collapsed to 0644/0755 by the owner-execute bit (directory bit kept)",
    reason="the JVM ignores file modes; umask differences between build machines carry no behaviour",
    apply=_apply,
)
