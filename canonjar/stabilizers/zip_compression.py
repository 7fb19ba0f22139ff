"""zip-compression: compression method and level.

Removes: whether and how strongly an entry was compressed (stored vs deflate, deflate level hints in flag
bits 1-2, the compressed bytes of different deflater implementations). The comparison then looks at the
uncompressed content, which is CRC-checked. Safe because the JVM inflates entries transparently; the
canonical method is deflate for files and stored for directories and nested archives (Spring Boot's
loader requires nested JARs to be stored).
"""

from __future__ import annotations

from ..model import Entry
from ..pipeline import Context, Scope, Stabilizer, is_nested_archive_name
from ..taxonomy import Category

LEVEL_FLAGS = 0x0006


def canonical_method(entry: Entry) -> int:
    if entry.is_dir or is_nested_archive_name(entry.name):
        return 0
    return 8


def _apply(entry: Entry, ctx: Context) -> Entry:
    return entry.replace(method=canonical_method(entry), flags=entry.flags & ~LEVEL_FLAGS, compare_stream=False)


STABILIZER = Stabilizer(
    name="zip-compression",
    scope=Scope.ENTRY,
    category=Category.FILESYSTEM,
    removes="compression method, level flags and compressed bytes (uncompressed content is compared)",
    reason="entries are inflated transparently by the JVM; only the uncompressed, CRC-checked content matters",
    apply=_apply,
)
