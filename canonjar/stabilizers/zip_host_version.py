"""zip-host-version: "version made by", host system and "version needed to extract".

Removes: which zip library and operating system wrote the archive (for example 0x0014 from the JDK's jar
tool versus 0x0314 from Info-ZIP on Unix). Safe because the JVM does not read these fields; the host byte
only tells unzip tools how to interpret external attributes, which ``zip-permissions`` makes canonical.
"""

from __future__ import annotations

from ..model import Entry
from ..pipeline import Context, Scope, Stabilizer
from ..taxonomy import Category

CANONICAL_VERSION_MADE = (3 << 8) | 20  # Unix, zip 2.0
CANONICAL_VERSION_NEEDED = 20


def _apply(entry: Entry, ctx: Context) -> Entry:
    return entry.replace(version_made=CANONICAL_VERSION_MADE, version_needed=CANONICAL_VERSION_NEEDED)


STABILIZER = Stabilizer(
    name="zip-host-version",
    scope=Scope.ENTRY,
    category=Category.FILESYSTEM,
    removes="creator version and host system, and the version needed to extract",
    reason="these fields name the zip writer and OS of the build machine; the JVM does not read them",
    apply=_apply,
)
