"""Helpers for stabilizers that edit zip extra fields."""

from __future__ import annotations

import struct
from collections.abc import Container

from ..model import Entry
from ..zipfmt import iter_extra

__all__ = ["drop_extra_ids"]


def _drop(extra: bytes, ids: Container[int]) -> bytes:
    if not extra:
        return extra
    kept = bytearray()
    dropped = False
    for hid, data in iter_extra(extra):
        if hid == -1:  # malformed tail: keep it, it stays visible as a difference
            kept += data
        elif hid in ids:
            dropped = True
        else:
            kept += struct.pack("<HH", hid, len(data)) + data
    return bytes(kept) if dropped else extra


def drop_extra_ids(entry: Entry, ids: Container[int]) -> Entry:
    """``entry`` without the extra-field blocks whose header id is in ``ids`` (local and central)."""
    return entry.replace(extra_local=_drop(entry.extra_local, ids), extra_central=_drop(entry.extra_central, ids))
