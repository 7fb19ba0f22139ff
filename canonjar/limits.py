"""Resource limits. Every inflation goes through a :class:`Budget` so that a zip bomb is an error, not an outage."""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

from .errors import EntryDataError, LimitExceeded

__all__ = ["DEFAULT_LIMITS", "Budget", "Limits", "check_archive_ratio", "inflate"]

MiB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """Bounds on what reading one side may cost.

    ``max_ratio`` applies to entries whose uncompressed size exceeds ``ratio_floor`` bytes: small entries
    (a file full of zeros, an empty class list) legitimately compress very well.
    """

    max_archive_size: int = 4096 * MiB
    max_entry_size: int = 512 * MiB
    max_total_size: int = 4096 * MiB
    max_ratio: float = 200.0
    ratio_floor: int = 1 * MiB
    max_entries: int = 1_000_000
    max_depth: int = 4


DEFAULT_LIMITS = Limits()


@dataclass
class Budget:
    """Tracks how many bytes one side has inflated so far (shared by nested archives)."""

    limits: Limits = DEFAULT_LIMITS
    inflated: int = field(default=0)
    #: Names the artifact in error messages (errors can surface long after reading, while comparing).
    label: str = ""

    def name(self, what: str) -> str:
        return f"{self.label}: {what}" if self.label else what

    def charge(self, n: int, what: str) -> None:
        self.inflated += n
        if self.inflated > self.limits.max_total_size:
            raise LimitExceeded(
                f"total uncompressed size exceeds the limit of {self.limits.max_total_size} bytes "
                f"while reading {what} (raise it with --max-total-size)"
            )


def _check_declared(declared: int, compressed: int, what: str, limits: Limits) -> None:
    if declared > limits.max_entry_size:
        raise LimitExceeded(
            f"{what}: declared uncompressed size {declared} exceeds the per-entry limit of "
            f"{limits.max_entry_size} bytes (raise it with --max-entry-size)"
        )
    if declared > limits.ratio_floor and declared > limits.max_ratio * max(compressed, 1):
        raise LimitExceeded(
            f"{what}: compression ratio {declared / max(compressed, 1):.0f}:1 exceeds the limit of "
            f"{limits.max_ratio:g}:1 (raise it with --max-ratio)"
        )


def check_archive_ratio(small_declared: int, archive_size: int, limits: Limits) -> None:
    """Refuse an archive whose small entries together declare far more bytes than the whole file holds.

    The per-entry ratio check only sees entries above ``ratio_floor``; many small, highly compressed entries
    (or many central headers sharing one compressed stream) would otherwise inflate gigabytes out of a few
    megabytes. ``small_declared`` is the sum of the declared sizes of the entries at or below the floor.
    """
    if small_declared > limits.ratio_floor and small_declared > limits.max_ratio * max(archive_size, 1):
        raise LimitExceeded(
            f"entries of at most {limits.ratio_floor} bytes declare {small_declared} uncompressed bytes in a "
            f"{archive_size}-byte archive, a compression ratio of {small_declared / max(archive_size, 1):.0f}:1 "
            f"above the limit of {limits.max_ratio:g}:1 (raise it with --max-ratio)"
        )


def inflate(method: int, data: bytes | memoryview, declared_size: int, crc: int, what: str,
            budget: Budget) -> bytes:
    """Decompress one entry's data, bounded by ``budget``, and verify its size and CRC-32.

    Raises :class:`LimitExceeded` when a limit is hit and :class:`EntryDataError` when the data is corrupt
    (bad deflate stream, size or CRC different from what the archive declares).
    """
    limits = budget.limits
    what = budget.name(what)
    if method == 0 and len(data) != declared_size:
        raise EntryDataError(f"{what}: stored entry holds {len(data)} bytes, its declared size is {declared_size}")
    _check_declared(declared_size, len(data), what, limits)
    if method == 0:
        out = bytes(data)
    elif method == 8:
        cap = min(declared_size, limits.max_entry_size) + 1
        d = zlib.decompressobj(-15)
        try:
            out = d.decompress(data, cap)
        except zlib.error as exc:
            raise EntryDataError(f"{what}: corrupt deflate data ({exc})") from None
        if len(out) >= cap or d.unconsumed_tail:
            if len(out) > limits.max_entry_size or declared_size >= limits.max_entry_size:
                raise LimitExceeded(
                    f"{what}: uncompressed size exceeds the per-entry limit of {limits.max_entry_size} "
                    "bytes (raise it with --max-entry-size)"
                )
            raise EntryDataError(f"{what}: inflates to more than the declared size {declared_size}")
        if not d.eof:
            raise EntryDataError(f"{what}: deflate stream is truncated")
        if d.unused_data:
            raise EntryDataError(f"{what}: {len(d.unused_data)} bytes hidden after the end of the deflate stream")
    else:
        raise EntryDataError(f"{what}: unsupported compression method {method}")
    budget.charge(len(out), what)
    if len(out) != declared_size:
        raise EntryDataError(f"{what}: size {len(out)} differs from the declared size {declared_size}")
    actual_crc = zlib.crc32(out)
    if actual_crc != crc:
        raise EntryDataError(f"{what}: CRC-32 {actual_crc:08x} differs from the declared {crc:08x}")
    return out
