"""Typed errors of canonjar. Every error a user can cause is a :class:`CanonjarError`."""

from __future__ import annotations

__all__ = [
    "ArchiveError",
    "CanonjarError",
    "EntryDataError",
    "LimitExceeded",
    "StabilizerSkip",
    "UsageError",
]


class CanonjarError(Exception):
    """Base of all errors canonjar raises on purpose. ``str(err)`` is one line for the user."""

    def __str__(self) -> str:
        text = super().__str__()
        return " ".join(text.split())  # always one line


class UsageError(CanonjarError):
    """The user asked for something that cannot be done (unknown stabilizer, bad option...)."""


class ArchiveError(CanonjarError):
    """The file cannot be read as a zip archive at all."""


class LimitExceeded(CanonjarError):
    """A decompression or size limit was exceeded (zip bomb protection)."""


class EntryDataError(CanonjarError):
    """One entry's data cannot be decoded (corrupt deflate stream, CRC or size mismatch)."""


class StabilizerSkip(CanonjarError):
    """Raised by a stabilizer that cannot handle its input; the pipeline records the reason and moves on."""
