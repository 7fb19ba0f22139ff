"""The logical view of an archive that stabilizers transform: immutable :class:`Entry` and :class:`Archive`.

An :class:`Entry` carries every field of a zip entry that could differ between two builds. Stabilizers return
new entries (``entry.replace(...)``) or the very same object when they change nothing, so the pipeline can
record exactly what changed.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

from .limits import Budget, inflate
from .zipfmt import Finding, Stream, ZipArchive, ZipMember, as_buffer, decode_name

__all__ = ["NESTED_SUFFIXES", "Archive", "Entry", "Payload", "archive_from_zip", "entry_keys"]

NESTED_SUFFIXES = (".jar", ".war", ".ear", ".zip", ".rar", ".aar", ".hpi", ".jpi", ".kar", ".sar")


@dataclass(frozen=True, eq=False)
class Payload:
    """An entry's content: the stored stream (inflated lazily, bounded) or literal bytes set by a stabilizer."""

    method: int
    crc: int
    size: int
    #: The stored bytes: a slice of the archive in memory, or a span of the archive file read on demand.
    stream: Stream | None = None
    literal: bytes | None = None
    what: str = ""

    @staticmethod
    def of_bytes(data: bytes, what: str = "") -> Payload:
        """Literal content set by a stabilizer that rewrites an entry."""
        return Payload(method=0, crc=zlib.crc32(data), size=len(data), literal=data, what=what)

    @property
    def compressed_size(self) -> int:
        return len(self.stream) if self.stream is not None else self.size

    def content(self, budget: Budget) -> bytes:
        if self.literal is not None:
            return self.literal
        assert self.stream is not None
        return inflate(self.method, as_buffer(self.stream), self.size, self.crc, self.what, budget)

    def same_stream(self, other: Payload) -> bool:
        """True when both are unmodified stored streams with equal method, CRC, sizes and compressed bytes."""
        if self is other:
            return True
        if self.literal is not None and other.literal is not None:
            return self.literal == other.literal
        return (self.stream is not None and other.stream is not None and self.method == other.method
                and self.crc == other.crc and self.size == other.size
                and len(self.stream) == len(other.stream) and self.stream == other.stream)

    def describe(self) -> str:
        if self.literal is not None:
            return f"{self.size} bytes sha256:{hashlib.sha256(self.literal).hexdigest()[:16]}"
        return f"{self.size} bytes crc32:{self.crc:08x}"


@dataclass(frozen=True, eq=False)
class Entry:
    """One archive entry, as the stabilizers and the comparison see it."""

    name: bytes
    payload: Payload
    method: int = 8
    flags: int = 0
    mtime: int = 0
    mdate: int = 0
    version_made: int = 20
    version_needed: int = 20
    internal_attr: int = 0
    external_attr: int = 0
    extra_local: bytes = b""
    extra_central: bytes = b""
    comment: bytes = b""
    descriptor: bytes = b""
    #: When True the compressed stream itself is part of the comparison (compression level, deflater
    #: implementation); the ``zip-compression`` stabilizer sets it to False.
    compare_stream: bool = True
    #: The canonical form of a nested archive stored in this entry, when it is one.
    nested: Archive | None = None

    @property
    def path(self) -> str:
        return decode_name(self.name)

    @property
    def is_dir(self) -> bool:
        return self.name.endswith(b"/")

    @property
    def unix_mode(self) -> int | None:
        if (self.version_made >> 8) == 3:
            return (self.external_attr >> 16) & 0xFFFF
        return None

    def replace(self, **changes: Any) -> Entry:
        """A copy with ``changes``; returns ``self`` when no value actually changes."""
        mine = self.__dict__
        for k, v in changes.items():
            old = mine[k]
            if old is not v and old != v:
                # Same as dataclasses.replace (fields are validated by the first copy) but several times
                # faster; this runs once per entry per stabilizer.
                new = object.__new__(Entry)
                d = new.__dict__
                d.update(mine)
                d.update(changes)
                return new
        return self


COMPARED_FIELDS: tuple[str, ...] = tuple(
    f.name for f in fields(Entry) if f.name not in ("name", "payload", "nested")
)


@dataclass(frozen=True, eq=False)
class Archive:
    """An archive as a sequence of entries plus archive-level fields. ``prefix`` names nested archives."""

    entries: tuple[Entry, ...]
    comment: bytes = b""
    findings: tuple[Finding, ...] = ()
    prefix: str = ""
    depth: int = 0

    def replace(self, **changes: Any) -> Archive:
        for k, v in changes.items():
            old = getattr(self, k)
            if old is not v and old != v:
                return replace(self, **changes)
        return self

    def path_of(self, entry: Entry) -> str:
        return self.prefix + entry.path


def entry_keys(entries: Sequence[Entry]) -> list[tuple[bytes, int]]:
    """Identity of each entry for matching: its name and how many earlier entries have the same name."""
    seen: dict[bytes, int] = {}
    keys = []
    for e in entries:
        k = seen.get(e.name, 0)
        seen[e.name] = k + 1
        keys.append((e.name, k))
    return keys


def _entry_from_member(m: ZipMember, prefix: str) -> Entry:
    c = m.central
    lr = m.local
    payload = Payload(method=c.method, crc=c.crc, size=c.usize, stream=lr.data, what=prefix + m.display_name)
    return Entry(name=c.name, payload=payload, method=c.method, flags=c.flags, mtime=c.mtime, mdate=c.mdate,
                 version_made=c.version_made, version_needed=c.version_needed, internal_attr=c.internal_attr,
                 external_attr=c.external_attr, extra_local=lr.extra, extra_central=c.extra, comment=c.comment,
                 descriptor=lr.descriptor)


def archive_from_zip(z: ZipArchive, prefix: str = "", depth: int = 0) -> Archive:
    """The logical view of a parsed archive. Findings get ``prefix`` in their paths."""
    where = prefix.removesuffix("!/")
    findings = tuple(Finding(f.code, prefix + f.path if f.path else where, f.message) for f in z.findings)
    entries = tuple(_entry_from_member(m, prefix) for m in z.members)
    return Archive(entries=entries, comment=z.comment, findings=findings, prefix=prefix, depth=depth)

