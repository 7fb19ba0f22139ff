"""zip-extra-fields: every remaining extra field.

Removes: extra fields left after the timestamp and ownership stabilizers, for example the JAR magic 0xCAFE,
zip64 extended information (0x0001), alignment padding (0xD935, 0xA220) and unknown vendor fields. Each
removal is recorded with the old bytes in the trace. Safe because the JVM's zip reader uses only the zip64
field to find sizes, which canonjar has already resolved, and ignores all others.
"""

from __future__ import annotations

from ..model import Entry
from ..pipeline import Context, Scope, Stabilizer
from ..taxonomy import Category


def _apply(entry: Entry, ctx: Context) -> Entry:
    return entry.replace(extra_local=b"", extra_central=b"")


STABILIZER = Stabilizer(
    name="zip-extra-fields",
    scope=Scope.ENTRY,
    category=Category.FILESYSTEM,
    removes="all remaining extra fields in local and central headers (recorded in the trace)",
    reason="extra fields carry writer-specific metadata (JAR magic, alignment, vendor data) the JVM ignores",
    apply=_apply,
)
