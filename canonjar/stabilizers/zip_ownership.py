"""zip-ownership: Unix owner and group ids stored in Info-ZIP extra fields.

Removes: the Info-ZIP Unix type 2 (0x7855) and type 3 (0x7875) extra fields, which hold the uid/gid of the
user who ran the build. Safe because the JVM ignores them and a zip reader only uses them to chown extracted
files when run as root.
"""

from __future__ import annotations

from ..model import Entry
from ..pipeline import Context, Scope, Stabilizer
from ..taxonomy import Category
from ._extra import drop_extra_ids

OWNERSHIP_EXTRA_IDS = frozenset({0x7855, 0x7875})


def _apply(entry: Entry, ctx: Context) -> Entry:
    return drop_extra_ids(entry, OWNERSHIP_EXTRA_IDS)


STABILIZER = Stabilizer(
    name="zip-ownership",
    scope=Scope.ENTRY,
    category=Category.FILESYSTEM,
    removes="uid/gid of the build user in the 0x7855 and 0x7875 extra fields",
    reason="file ownership of the build machine has no meaning inside a JAR and is ignored by the JVM",
    apply=_apply,
)
