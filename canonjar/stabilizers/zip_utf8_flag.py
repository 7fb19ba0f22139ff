"""zip-utf8-flag: general-purpose flag bit 11 (names are UTF-8).

Removes: whether the writer set the flag; name bytes are kept exactly, so two different names stay
different. The canonical value is "set" exactly when the name has non-ASCII bytes, so other zip tools read
such names as UTF-8 too. Safe because the JVM's ``ZipFile``/``JarFile`` decode names as UTF-8 whether or
not the flag is set.
"""

from __future__ import annotations

from ..model import Entry
from ..pipeline import Context, Scope, Stabilizer
from ..taxonomy import Category
from ..zipfmt import FLAG_UTF8


def _apply(entry: Entry, ctx: Context) -> Entry:
    flag = 0 if entry.name.isascii() else FLAG_UTF8
    return entry.replace(flags=(entry.flags & ~FLAG_UTF8) | flag)


STABILIZER = Stabilizer(
    name="zip-utf8-flag",
    scope=Scope.ENTRY,
    category=Category.FILESYSTEM,
    removes="the UTF-8 file-name flag (bit 11), set canonically for non-ASCII names; name bytes are kept",
    reason="the JVM decodes entry names as UTF-8 regardless of the flag",
    apply=_apply,
)
