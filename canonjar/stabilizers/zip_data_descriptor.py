"""zip-data-descriptor: the data-descriptor flag (bit 3) and the descriptor record after the data.

Removes: whether the writer streamed the entry (sizes and CRC after the data) or seeked back (sizes in the
local header). Safe because the values are the same CRC and sizes the central directory holds, which the
reader has checked against the descriptor; a disagreement is a finding that this stabilizer cannot hide.
"""

from __future__ import annotations

from ..model import Entry
from ..pipeline import Context, Scope, Stabilizer
from ..taxonomy import Category
from ..zipfmt import FLAG_DATA_DESCRIPTOR


def _apply(entry: Entry, ctx: Context) -> Entry:
    return entry.replace(flags=entry.flags & ~FLAG_DATA_DESCRIPTOR, descriptor=b"")


STABILIZER = Stabilizer(
    name="zip-data-descriptor",
    scope=Scope.ENTRY,
    category=Category.FILESYSTEM,
    removes="the data-descriptor flag and record (streamed vs seekable writers)",
    reason="a descriptor repeats the CRC and sizes of the central directory; it carries no content",
    apply=_apply,
)
