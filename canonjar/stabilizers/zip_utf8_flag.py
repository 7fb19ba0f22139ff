"""zip-utf8-flag: general-purpose flag bit 11 (names are UTF-8).

Removes: the flag only; name bytes are kept exactly, so two different names stay different. Safe because
the JVM's ``ZipFile``/``JarFile`` decode names as UTF-8 whether or not the flag is set.
"""

from __future__ import annotations

from ..model import Entry
from ..pipeline import Context, Scope, Stabilizer
from ..taxonomy import Category
from ..zipfmt import FLAG_UTF8


def _apply(entry: Entry, ctx: Context) -> Entry:
    return entry.replace(flags=entry.flags & ~FLAG_UTF8)


STABILIZER = Stabilizer(
    name="zip-utf8-flag",
    scope=Scope.ENTRY,
    category=Category.FILESYSTEM,
    removes="the UTF-8 file-name flag (bit 11); name bytes are kept",
    reason="the JVM decodes entry names as UTF-8 regardless of the flag",
    apply=_apply,
)
