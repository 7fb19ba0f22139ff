"""What the SBOM stabilizers do with a canonicalized document: record the evidence, replace the content."""

from __future__ import annotations

from collections.abc import Sequence

from ..formats.sbom import SbomNotes
from ..model import Entry, Payload
from ..pipeline import Context

__all__ = ["record_and_replace"]


def record_and_replace(entry: Entry, ctx: Context, data: bytes, new: bytes, notes: SbomNotes,
                       extra: Sequence[tuple[str, str]] = ()) -> Entry:
    """Record the tool versions (and ``extra`` evidence), then, when ``new`` differs from ``data``, what was
    removed, and return the entry with the canonical content (the same entry when nothing changed)."""
    for tv in notes.tool_versions:
        ctx.record("sbom-tool-version", tv, entry)
    for key, value in extra:
        ctx.record(key, value, entry)
    if new == data:
        return entry
    for what in notes.removed:
        ctx.record("sbom-removed", what, entry)
    return entry.replace(payload=Payload.of_bytes(new, entry.payload.what))
