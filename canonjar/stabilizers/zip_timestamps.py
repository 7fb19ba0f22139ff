"""zip-timestamps: modification times in the DOS fields and in timestamp extra fields.

Removes: the DOS date/time of every entry (set to 1980-01-01 12:01, which stays a valid date in every time
zone) and the extended-timestamp (0x5455), NTFS (0x000a) and Info-ZIP Unix type 1 (0x5855) extra fields.
Safe because the JVM never reads entry times to load classes or resources; they only record when the build
ran. Code that calls ``ZipEntry.getTime()`` on its own JAR is vanishingly rare and would be reading noise.
"""

from __future__ import annotations

from ..model import Entry
from ..pipeline import Context, Scope, Stabilizer
from ..taxonomy import Category
from ._extra import drop_extra_ids

#: 1980-01-01 12:01:00 as DOS date and time (strip-nondeterminism's safe epoch).
CANONICAL_DOS_DATE = (0 << 9) | (1 << 5) | 1
CANONICAL_DOS_TIME = (12 << 11) | (1 << 5) | 0
TIMESTAMP_EXTRA_IDS = frozenset({0x5455, 0x000A, 0x5855})


def _apply(entry: Entry, ctx: Context) -> Entry:
    return drop_extra_ids(entry, TIMESTAMP_EXTRA_IDS).replace(mtime=CANONICAL_DOS_TIME,
                                                                mdate=CANONICAL_DOS_DATE)


STABILIZER = Stabilizer(
    name="zip-timestamps",
    scope=Scope.ENTRY,
    category=Category.FILESYSTEM,
    removes="entry modification times: DOS date/time and the 0x5455, 0x000a and 0x5855 extra fields",
    reason="entry times record when the build ran; the JVM never uses them to load code or resources",
    apply=_apply,
)
