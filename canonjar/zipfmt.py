"""Byte-faithful, strict zip reader and writer.

:func:`read_zip` parses the end-of-central-directory record (zip64 too), the whole central directory and every
local header, and records every structural anomaly as a :class:`Finding` instead of normalizing it.
:meth:`ZipArchive.to_bytes` serializes the parsed structures field by field; for every input that
:func:`read_zip` accepts, ``read_zip(b).to_bytes() == b``. Bytes that belong to no structure (prefix,
gaps, trailing data, overlaps) are kept as raw :class:`Gap` segments and reported.

Entry names are bytes; they are never used as filesystem paths.
"""

from __future__ import annotations

import hashlib
import os
import stat
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field

from .errors import ArchiveError, LimitExceeded
from .limits import DEFAULT_LIMITS, Limits, check_archive_ratio

__all__ = [
    "CentralHeader",
    "EndRecord",
    "FileSource",
    "FileSpan",
    "Finding",
    "Gap",
    "LocalRecord",
    "Zip64End",
    "Zip64Locator",
    "ZipArchive",
    "ZipMember",
    "decode_name",
    "iter_extra",
    "read_zip",
]

LOCAL_SIG = b"PK\x03\x04"
CENTRAL_SIG = b"PK\x01\x02"
EOCD_SIG = b"PK\x05\x06"
Z64_EOCD_SIG = b"PK\x06\x06"
Z64_LOC_SIG = b"PK\x06\x07"
DD_SIG = b"PK\x07\x08"

_LOCAL = struct.Struct("<4sHHHHHIIIHH")
_CENTRAL = struct.Struct("<4sHHHHHHIIIHHHHHII")
_EOCD = struct.Struct("<4sHHHHIIH")
_Z64_EOCD = struct.Struct("<4sQHHIIQQQQ")
_Z64_LOC = struct.Struct("<4sIQI")

FLAG_ENCRYPTED = 0x0001
FLAG_DATA_DESCRIPTOR = 0x0008
FLAG_STRONG_ENCRYPTION = 0x0040
FLAG_UTF8 = 0x0800
SUPPORTED_METHODS = frozenset({0, 8})


@dataclass(frozen=True)
class Finding:
    """A structural anomaly of one archive: never silently normalized, always reported."""

    code: str
    path: str
    message: str


class FileSource:
    """An archive read from an open file by offset, never loaded whole.

    Keeps memory bounded by the largest entry instead of the archive (``read_bytes`` or an mmap whose pages
    all get touched would make the peak RSS the size of both archives). Slicing returns ``bytes``: small reads
    (headers, the central directory) come from one read-ahead window, larger ones straight from the file.
    :meth:`span` is an entry's data, read only when it is needed. ``start`` skips a prefix that is not part
    of the zip (the 4-byte header of a jmod). The file must not change while it is read: a short read is an
    :class:`ArchiveError`, and every entry's CRC is checked when it is inflated.
    """

    WINDOW = 256 * 1024

    def __init__(self, path: str | os.PathLike[str], start: int = 0) -> None:
        self._fh = open(path, "rb", buffering=0)  # noqa: SIM115 - closed by close() or the context manager
        self._start = start
        self.size = max(0, os.fstat(self._fh.fileno()).st_size - start)
        self._win_at = 0
        self._win = b""
        self._digest: str | None = None

    def __enter__(self) -> FileSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._fh.close()
        self._win = b""

    def __len__(self) -> int:
        return self.size

    def read(self, pos: int, n: int, ahead: bool = True) -> bytes:
        """``n`` bytes at ``pos`` (fewer only past the end of the archive). With ``ahead`` a small read fills
        the read-ahead window (headers are read in file order); entry data is read without it."""
        n = max(0, min(n, self.size - pos))
        if n == 0 or pos < 0:
            return b""
        w = pos - self._win_at
        if w >= 0 and w + n <= len(self._win):
            return self._win[w:w + n]
        if ahead and n <= self.WINDOW // 4:
            self._win = self._pread(pos, min(self.WINDOW, self.size - pos))
            self._win_at = pos
            return self._win[:n]
        return self._pread(pos, n)

    def _pread(self, pos: int, n: int) -> bytes:
        parts: list[bytes] = []
        got = 0
        while got < n:
            try:
                if hasattr(os, "pread"):
                    chunk = os.pread(self._fh.fileno(), n - got, self._start + pos + got)
                else:  # pragma: no cover - platforms without pread
                    self._fh.seek(self._start + pos + got)
                    chunk = self._fh.read(n - got) or b""
            except OSError as exc:
                raise ArchiveError(f"cannot read the file at offset {pos + got} ({exc.strerror or exc})") from None
            if not chunk:
                raise ArchiveError(f"the file became shorter while it was read (at offset {pos + got})")
            parts.append(chunk)
            got += len(chunk)
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def __getitem__(self, key: slice) -> bytes:
        start, stop, step = key.indices(self.size)
        if step != 1:
            raise ValueError("FileSource slices have no step")
        return self.read(start, stop - start)

    def startswith(self, prefix: bytes, pos: int = 0) -> bool:
        return self.read(pos, len(prefix)) == prefix

    def span(self, start: int, stop: int) -> FileSpan:
        return FileSpan(self, start, stop - start)

    def chunks(self, size: int = 1 << 20) -> Iterator[bytes]:
        """The archive's bytes in order, ``size`` bytes at a time."""
        for pos in range(0, self.size, size):
            yield self._pread(pos, min(size, self.size - pos))

    def sha256(self) -> str:
        """SHA-256 of the archive's bytes, read in chunks (computed once)."""
        if self._digest is None:
            h = hashlib.sha256()
            for chunk in self.chunks():
                h.update(chunk)
            self._digest = h.hexdigest()
        return self._digest


class FileSpan:
    """An entry's stored bytes in a :class:`FileSource`, read on demand (``bytes(span)``)."""

    __slots__ = ("length", "offset", "source")

    def __init__(self, source: FileSource, offset: int, length: int) -> None:
        self.source = source
        self.offset = offset
        self.length = length

    def __len__(self) -> int:
        return self.length

    def __bytes__(self) -> bytes:
        return self.source.read(self.offset, self.length, ahead=False)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, FileSpan | memoryview | bytes):
            return self.length == len(other) and bytes(self) == bytes(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]


#: Where zip structures are read from: the bytes of the archive, or the archive file itself.
Buffer = memoryview | FileSource
#: An entry's stored (compressed) bytes: a slice of the archive's bytes, or a span of its file.
Stream = memoryview | FileSpan


def as_buffer(stream: Stream) -> memoryview | bytes:
    """The bytes of ``stream`` as something :mod:`zlib` and ``bytearray`` take."""
    return stream if isinstance(stream, memoryview) else bytes(stream)


_CONTROL = {c: f"\\x{c:02x}" for c in [*range(0x20), 0x7F]}


def decode_name(raw: bytes) -> str:
    """Display form of an entry name: UTF-8 (as the JVM reads it), invalid bytes and control characters
    (NUL, newlines...) escaped as ``\\xNN`` so a name can never forge a line of a report."""
    text = raw.decode("utf-8", errors="backslashreplace")
    return text.translate(_CONTROL) if not text.isprintable() else text


def iter_extra(extra: bytes) -> Iterator[tuple[int, bytes]]:
    """Yield (header id, data) of each extra-field block; a malformed tail is yielded as id -1."""
    pos = 0
    n = len(extra)
    while pos < n:
        if pos + 4 > n:
            yield -1, extra[pos:]
            return
        hid, size = struct.unpack_from("<HH", extra, pos)
        if pos + 4 + size > n:
            yield -1, extra[pos:]
            return
        yield hid, extra[pos + 4: pos + 4 + size]
        pos += 4 + size


@dataclass
class LocalRecord:
    """A local file header, its data and (optional) data descriptor, exactly as stored."""

    offset: int
    version_needed: int
    flags: int
    method: int
    mtime: int
    mdate: int
    crc: int
    csize: int
    usize: int
    name: bytes
    extra: bytes
    data: Stream
    descriptor: bytes = b""

    @property
    def header_size(self) -> int:
        return _LOCAL.size + len(self.name) + len(self.extra)

    @property
    def end(self) -> int:
        return self.offset + self.header_size + len(self.data) + len(self.descriptor)

    def header_bytes(self) -> bytes:
        return _LOCAL.pack(LOCAL_SIG, self.version_needed, self.flags, self.method, self.mtime, self.mdate,
                           self.crc, self.csize, self.usize, len(self.name), len(self.extra)) + self.name + self.extra

    def write_to(self, out: bytearray) -> None:
        out += self.header_bytes()
        out += as_buffer(self.data)
        out += self.descriptor


@dataclass
class CentralHeader:
    """One central-directory file header, field by field."""

    offset: int
    version_made: int
    version_needed: int
    flags: int
    method: int
    mtime: int
    mdate: int
    crc: int
    csize32: int
    usize32: int
    disk_start: int
    internal_attr: int
    external_attr: int
    local_offset32: int
    name: bytes
    extra: bytes
    comment: bytes
    # resolved values (zip64 extra applied)
    csize: int = 0
    usize: int = 0
    local_offset: int = 0

    @property
    def size(self) -> int:
        return _CENTRAL.size + len(self.name) + len(self.extra) + len(self.comment)

    def to_bytes(self) -> bytes:
        return _CENTRAL.pack(CENTRAL_SIG, self.version_made, self.version_needed, self.flags, self.method,
                             self.mtime, self.mdate, self.crc, self.csize32, self.usize32, len(self.name),
                             len(self.extra), len(self.comment), self.disk_start, self.internal_attr,
                             self.external_attr, self.local_offset32) + self.name + self.extra + self.comment

    def write_to(self, out: bytearray) -> None:
        out += self.to_bytes()

    @property
    def end(self) -> int:
        return self.offset + self.size

    @property
    def unix_mode(self) -> int | None:
        """Unix mode from the external attributes when the creator host is Unix (3), else None."""
        if (self.version_made >> 8) == 3:
            return (self.external_attr >> 16) & 0xFFFF
        return None


@dataclass
class Zip64End:
    offset: int
    record_size: int
    version_made: int
    version_needed: int
    disk: int
    cd_disk: int
    disk_entries: int
    total_entries: int
    cd_size: int
    cd_offset: int
    extensible: bytes

    @property
    def end(self) -> int:
        return self.offset + 12 + self.record_size

    def write_to(self, out: bytearray) -> None:
        out += _Z64_EOCD.pack(Z64_EOCD_SIG, self.record_size, self.version_made, self.version_needed,
                              self.disk, self.cd_disk, self.disk_entries, self.total_entries, self.cd_size,
                              self.cd_offset) + self.extensible


@dataclass
class Zip64Locator:
    offset: int
    disk: int
    z64_offset: int
    total_disks: int

    @property
    def end(self) -> int:
        return self.offset + _Z64_LOC.size

    def write_to(self, out: bytearray) -> None:
        out += _Z64_LOC.pack(Z64_LOC_SIG, self.disk, self.z64_offset, self.total_disks)


@dataclass
class EndRecord:
    offset: int
    disk: int
    cd_disk: int
    disk_entries: int
    total_entries: int
    cd_size: int
    cd_offset: int
    comment: bytes

    @property
    def end(self) -> int:
        return self.offset + _EOCD.size + len(self.comment)

    def write_to(self, out: bytearray) -> None:
        out += _EOCD.pack(EOCD_SIG, self.disk, self.cd_disk, self.disk_entries, self.total_entries,
                          self.cd_size, self.cd_offset, len(self.comment)) + self.comment


@dataclass
class Gap:
    """Raw bytes that belong to no zip structure (prefix, between entries, trailing, overlap tails)."""

    offset: int
    data: bytes

    @property
    def end(self) -> int:
        return self.offset + len(self.data)

    def write_to(self, out: bytearray) -> None:
        out += self.data


Segment = LocalRecord | CentralHeader | Zip64End | Zip64Locator | EndRecord | Gap


@dataclass
class ZipMember:
    """One entry as listed by the central directory, with its local record."""

    index: int
    central: CentralHeader
    local: LocalRecord

    @property
    def name(self) -> bytes:
        return self.central.name

    @property
    def display_name(self) -> str:
        return decode_name(self.central.name)

    @property
    def is_dir(self) -> bool:
        return self.central.name.endswith(b"/")


@dataclass
class ZipArchive:
    """A parsed zip archive: members in central-directory order plus the file as a list of segments."""

    size: int
    members: list[ZipMember]
    end: EndRecord
    zip64_end: Zip64End | None
    zip64_locator: Zip64Locator | None
    segments: list[Segment]
    findings: list[Finding] = field(default_factory=list)
    shift: int = 0

    @property
    def comment(self) -> bytes:
        return self.end.comment

    def to_bytes(self) -> bytes:
        """Serialize every segment field by field: the faithful writer."""
        out = bytearray()
        for seg in self.segments:
            seg.write_to(out)
        return bytes(out)


def _u16(buf: Buffer, pos: int) -> int:
    return int.from_bytes(buf[pos:pos + 2], "little")


def _find_end(buf: Buffer) -> tuple[EndRecord, list[int]]:
    """The end record, and the offsets of other plausible end records (checked later against the layout)."""
    n = len(buf)
    if n < _EOCD.size:
        raise ArchiveError(f"not a zip archive: {n} bytes is too short for an end-of-central-directory record")
    lo = max(0, n - _EOCD.size - 0xFFFF)
    tail = bytes(buf[lo:])
    candidates: list[int] = []
    pos = tail.rfind(EOCD_SIG)
    while pos >= 0:
        absolute = lo + pos
        if absolute + _EOCD.size <= n:
            clen = _u16(buf, absolute + 20)
            if absolute + _EOCD.size + clen <= n:
                candidates.append(absolute)
        pos = tail.rfind(EOCD_SIG, 0, pos)
    if not candidates:
        raise ArchiveError("not a zip archive: no end-of-central-directory record found")
    # Prefer the record whose comment ends exactly at the end of the file (what a zip writer produces);
    # otherwise the last plausible one, and the bytes after it are reported as trailing data.
    exact = [c for c in candidates if c + _EOCD.size + _u16(buf, c + 20) == n]
    at = exact[0] if exact else candidates[0]
    sig, disk, cd_disk, disk_entries, total, cd_size, cd_offset, clen = _EOCD.unpack(buf[at:at + _EOCD.size])
    del sig
    rec = EndRecord(at, disk, cd_disk, disk_entries, total, cd_size, cd_offset,
                    bytes(buf[at + _EOCD.size: at + _EOCD.size + clen]))
    return rec, [c for c in candidates if c != at and _plausible_end(buf, c)]


def _plausible_end(buf: Buffer, at: int) -> bool:
    """Whether an end record at ``at`` describes a central directory that really starts where it says."""
    cd_size = int.from_bytes(buf[at + 12:at + 16], "little")
    total = _u16(buf, at + 10)
    start = at - cd_size
    if start < 0:
        return False
    if cd_size == 0:
        return total == 0
    return bytes(buf[start:start + 4]) == CENTRAL_SIG


def _zip64_extra(extra: bytes, want_usize: bool, want_csize: bool, want_offset: bool,
                 want_disk: bool) -> tuple[int | None, int | None, int | None, bool]:
    """Values from the zip64 extended-information extra field (0x0001); last item: malformed."""
    for hid, data in iter_extra(extra):
        if hid != 0x0001:
            continue
        vals: list[int | None] = []
        pos = 0
        bad = False
        for want in (want_usize, want_csize, want_offset):
            if want:
                if pos + 8 > len(data):
                    bad = True
                    vals.append(None)
                    continue
                vals.append(int.from_bytes(data[pos:pos + 8], "little"))
                pos += 8
            else:
                vals.append(None)
        if want_disk and pos + 4 > len(data):
            bad = True
        return vals[0], vals[1], vals[2], bad
    return None, None, None, want_usize or want_csize or want_offset


def _check_name(name: bytes, path: str, findings: list[Finding]) -> None:
    if (name and name[:1] != b"/" and name[1:2] != b":" and b"\\" not in name and b"\x00" not in name
            and b".." not in name):
        return  # the common case, decided without splitting the name: none of the checks below can fire
    if name.startswith(b"/") or (len(name) > 1 and name[1:2] == b":" and name[:1].isalpha()):
        findings.append(Finding("absolute-name", path, "entry name is an absolute path"))
    if b"\\" in name:
        findings.append(Finding("backslash-name", path, "entry name contains a backslash"))
    if b"\x00" in name:
        findings.append(Finding("nul-name", path, "entry name contains a NUL byte"))
    parts = name.replace(b"\\", b"/").split(b"/")
    if b".." in parts:
        findings.append(Finding("traversal-name", path, "entry name contains a '..' component"))
    if not name:
        findings.append(Finding("empty-name", path, "entry name is empty"))


def _parse_descriptor(buf: Buffer, at: int, limit: int, central: CentralHeader,
                      zip64: bool) -> bytes | None:
    """Return the raw data descriptor at ``at`` that matches ``central``, or None."""
    fmt_sizes = [8, 4] if zip64 else [4, 8]
    for signed in (True, False):
        for width in fmt_sizes:
            total = (4 if signed else 0) + 4 + 2 * width
            if at + total > limit:
                continue
            raw = bytes(buf[at:at + total])
            body = raw
            if signed:
                if raw[:4] != DD_SIG:
                    continue
                body = raw[4:]
            crc = int.from_bytes(body[:4], "little")
            cs = int.from_bytes(body[4:4 + width], "little")
            us = int.from_bytes(body[4 + width:4 + 2 * width], "little")
            if crc == central.crc and cs == central.csize and us == central.usize:
                return raw
    return None


def read_zip(data: bytes | bytearray | memoryview | FileSource, limits: Limits = DEFAULT_LIMITS) -> ZipArchive:
    """Parse ``data`` strictly. Raises :class:`ArchiveError` when it cannot be read at all.

    From a :class:`FileSource` only the structures are read (every header, local ones included, and the
    data descriptors); entry data stays in the file as :class:`FileSpan` until something needs it."""
    raw: bytes | FileSource
    buf: Buffer
    if isinstance(data, FileSource):
        raw = buf = data
    else:
        raw = data if isinstance(data, bytes) else bytes(data)
        buf = memoryview(raw)  # zero-copy slices for entry data; ``raw`` for small header fields
    n = len(buf)
    if n > limits.max_archive_size:
        raise LimitExceeded(f"archive size {n} exceeds the limit of {limits.max_archive_size} bytes "
                            "(raise it with --max-archive-size)")
    findings: list[Finding] = []
    end, other_ends = _find_end(buf)
    if end.disk not in (0, 0xFFFF) or end.cd_disk not in (0, 0xFFFF):
        raise ArchiveError("multi-disk (spanned) zip archives are not supported")
    if end.disk_entries != end.total_entries:
        findings.append(Finding("entry-count-mismatch", "", f"end record declares {end.disk_entries} entries on "
                                f"this disk but {end.total_entries} in total"))

    zip64_end: Zip64End | None = None
    zip64_loc: Zip64Locator | None = None
    cd_size = end.cd_size
    cd_offset = end.cd_offset
    total_entries = end.total_entries
    cd_region_end = end.offset
    loc_at = end.offset - _Z64_LOC.size
    if loc_at >= 0 and bytes(buf[loc_at:loc_at + 4]) == Z64_LOC_SIG:
        _s, ldisk, z64_off, tdisks = _Z64_LOC.unpack(buf[loc_at:loc_at + _Z64_LOC.size])
        zip64_loc = Zip64Locator(loc_at, ldisk, z64_off, tdisks)
        # Locate the zip64 end record: at its declared offset, or (with prepended data) just before the locator.
        z64_at = None
        if z64_off >= 0 and z64_off + 56 <= loc_at and bytes(buf[z64_off:z64_off + 4]) == Z64_EOCD_SIG:
            z64_at = z64_off
        else:
            p = bytes(buf[max(0, loc_at - 56 - 0xFFFF):loc_at]).rfind(Z64_EOCD_SIG)
            if p >= 0:
                z64_at = max(0, loc_at - 56 - 0xFFFF) + p
        if z64_at is None:
            raise ArchiveError("zip64 end-of-central-directory locator points at no zip64 record")
        (_s2, rsize, vmade, vneed, zdisk, zcd_disk, zde, zte, zcs, zco) = _Z64_EOCD.unpack(
            buf[z64_at:z64_at + _Z64_EOCD.size])
        if rsize < 44 or z64_at + 12 + rsize > loc_at:
            raise ArchiveError(f"zip64 end-of-central-directory record has an impossible size {rsize}")
        zip64_end = Zip64End(z64_at, rsize, vmade, vneed, zdisk, zcd_disk, zde, zte, zcs, zco,
                             bytes(buf[z64_at + 56: z64_at + 12 + rsize]))
        if zip64_end.end != loc_at:
            findings.append(Finding("zip64-gap", "", "bytes between the zip64 end record and its locator"))
        cd_size, cd_offset, total_entries = zcs, zco, zte
        cd_region_end = z64_at
        if z64_off != z64_at:
            findings.append(Finding("zip64-offset-mismatch", "", f"zip64 locator says {z64_off}, "
                                    f"record found at {z64_at}"))
    elif 0xFFFFFFFF in (end.cd_size, end.cd_offset) or end.total_entries == 0xFFFF:
        # Only a real problem if the values do not make sense as 32-bit values.
        pass

    cd_start = cd_region_end - cd_size
    if cd_start < 0:
        raise ArchiveError(f"central directory size {cd_size} is larger than the file allows")
    shift = cd_start - cd_offset
    if shift < 0:
        raise ArchiveError(f"central directory offset {cd_offset} points past where the directory can be")
    if total_entries > limits.max_entries:
        raise LimitExceeded(f"archive declares {total_entries} entries, more than the limit of "
                            f"{limits.max_entries} (raise it with --max-entries)")

    centrals: list[CentralHeader] = []
    # The central directory is read in one piece, from a file too: it is all metadata and is parsed whole.
    cd_raw = raw if isinstance(raw, bytes) else raw.read(cd_start, cd_region_end - cd_start)
    base = 0 if isinstance(raw, bytes) else cd_start
    pos = cd_start
    while pos < cd_region_end:
        if pos + _CENTRAL.size > cd_region_end or not cd_raw.startswith(CENTRAL_SIG, pos - base):
            raise ArchiveError(f"corrupt central directory at offset {pos}: no central file header signature")
        f = _CENTRAL.unpack_from(cd_raw, pos - base)
        (_sig, vmade, vneed, flags, method, mtime, mdate, crc, cs, us, nlen, elen, clen, dstart, iattr,
         eattr, loff) = f
        hend = pos + _CENTRAL.size + nlen + elen + clen
        if hend > cd_region_end:
            raise ArchiveError(f"corrupt central directory at offset {pos}: header runs past the directory")
        p = pos + _CENTRAL.size - base
        name = cd_raw[p:p + nlen]
        extra = cd_raw[p + nlen:p + nlen + elen]
        comment = cd_raw[p + nlen + elen:hend - base]
        ch = CentralHeader(pos, vmade, vneed, flags, method, mtime, mdate, crc, cs, us, dstart, iattr, eattr,
                           loff, name, extra, comment, cs, us, loff)
        if 0xFFFFFFFF in (us, cs, loff) or dstart == 0xFFFF:
            zu, zc, zo, bad = _zip64_extra(extra, us == 0xFFFFFFFF, cs == 0xFFFFFFFF, loff == 0xFFFFFFFF,
                                           dstart == 0xFFFF)
            if zu is not None:
                ch.usize = zu
            if zc is not None:
                ch.csize = zc
            if zo is not None:
                ch.local_offset = zo
            if bad:
                findings.append(Finding("zip64-extra-missing", decode_name(name),
                                        "a 32-bit field is 0xFFFFFFFF but the zip64 extra field does not give "
                                        "its value"))
        centrals.append(ch)
        if len(centrals) > limits.max_entries:
            raise LimitExceeded(f"archive has more than {limits.max_entries} entries "
                                "(raise it with --max-entries)")
        pos = hend

    # Many small entries (or many headers sharing one stream) must not add up to a bomb.
    check_archive_ratio(sum(c.usize for c in centrals if c.usize <= limits.ratio_floor), n, limits)
    if len(centrals) != total_entries:
        findings.append(Finding("entry-count-mismatch", "", f"end record declares {total_entries} entries, "
                                f"the central directory has {len(centrals)}"))
    if zip64_end is None and end.total_entries != len(centrals) and end.total_entries != 0xFFFF:
        pass  # already reported above
    if zip64_end is not None and end.total_entries not in (0xFFFF, len(centrals) & 0xFFFF):
        findings.append(Finding("entry-count-mismatch", "", "end record and zip64 end record disagree on the "
                                "number of entries"))

    # Local records.
    members: list[ZipMember] = []
    locals_by_offset: dict[int, LocalRecord] = {}
    for idx, ch in enumerate(centrals):
        path = decode_name(ch.name)
        at = ch.local_offset + shift
        rec = locals_by_offset.get(at)
        if rec is None:
            # One read for the header and (usually) its name and extra field, of the lengths the central
            # directory gives; the local lengths decide, and a longer local part is read again.
            head = raw[at:at + _LOCAL.size + len(ch.name) + len(ch.extra)] if at >= 0 else b""
            if at < 0 or at + _LOCAL.size > cd_start or not head.startswith(LOCAL_SIG):
                raise ArchiveError(f"entry {path!r}: no local file header at offset {at}")
            (_s, lvneed, lflags, lmethod, lmtime, lmdate, lcrc, lcs, lus, lnlen,
             lelen) = _LOCAL.unpack_from(head)
            p = at + _LOCAL.size
            if p + lnlen + lelen > n:
                raise ArchiveError(f"entry {path!r}: local header runs past the end of the file")
            if _LOCAL.size + lnlen + lelen <= len(head):
                fields = head[_LOCAL.size:_LOCAL.size + lnlen + lelen]
            else:
                fields = raw[p:p + lnlen + lelen]
            lname = fields[:lnlen]
            lextra = fields[lnlen:]
            dstart = p + lnlen + lelen
            dend = dstart + ch.csize
            if dend > n:
                raise ArchiveError(f"entry {path!r}: data runs past the end of the file")
            rec = LocalRecord(at, lvneed, lflags, lmethod, lmtime, lmdate, lcrc, lcs, lus, lname, lextra,
                              buf[dstart:dend] if isinstance(buf, memoryview) else buf.span(dstart, dend))
            if ch.flags & FLAG_DATA_DESCRIPTOR or lflags & FLAG_DATA_DESCRIPTOR:
                z64 = any(h == 1 for h, _ in iter_extra(lextra))
                desc = _parse_descriptor(buf, dend, n, ch, z64)
                if desc is None:
                    findings.append(Finding("descriptor-mismatch", path, "data descriptor flag is set but no "
                                            "matching data descriptor follows the data"))
                else:
                    rec.descriptor = desc
            locals_by_offset[at] = rec
        else:
            findings.append(Finding("overlapping-entries", path, f"shares its local header at offset {at} "
                                    "with another entry"))
        members.append(ZipMember(idx, ch, rec))
        _compare_local(ch, rec, path, findings)
        _check_member(ch, path, findings)

    # Duplicate names.
    seen: dict[bytes, int] = {}
    for m in members:
        seen[m.name] = seen.get(m.name, 0) + 1
    for nm, count in seen.items():
        if count > 1:
            findings.append(Finding("duplicate-name", decode_name(nm), f"entry name appears {count} times"))

    # Layout: order, overlaps, gaps.
    ordered = sorted(locals_by_offset.values(), key=lambda r: r.offset)
    cd_order = []
    seen_off: set[int] = set()
    for m in members:
        if m.local.offset not in seen_off:
            seen_off.add(m.local.offset)
            cd_order.append(m.local.offset)
    if cd_order != [r.offset for r in ordered]:
        findings.append(Finding("out-of-order-entries", "", "central directory order differs from the order "
                                "of the local headers in the file"))
    structs: list[Segment] = [*ordered, *centrals]
    if zip64_end is not None:
        structs.append(zip64_end)
    if zip64_loc is not None:
        structs.append(zip64_loc)
    structs.append(end)
    segments: list[Segment] = []
    cursor = 0
    for s in structs:  # already in file order: locals (sorted), central directory, zip64 records, end
        if s.offset < cursor:
            if isinstance(s, LocalRecord):
                findings.append(Finding("overlapping-entries", decode_name(s.name),
                                        f"local record at offset {s.offset} overlaps the previous entry"))
            else:
                raise ArchiveError(f"zip structures overlap at offset {s.offset}")
            if s.end > cursor:
                segments.append(Gap(cursor, bytes(buf[cursor:s.end])))
                cursor = s.end
            continue
        if s.offset > cursor:
            gap = bytes(buf[cursor:s.offset])
            segments.append(Gap(cursor, gap))
            if cursor == 0:
                findings.append(Finding("prefix-data", "", f"{len(gap)} bytes before the first zip entry"))
            else:
                findings.append(Finding("hidden-data", "", f"{len(gap)} bytes between zip structures at offset "
                                        f"{cursor}"))
        segments.append(s)
        cursor = s.end
    if cursor < n:
        segments.append(Gap(cursor, bytes(buf[cursor:])))
        findings.append(Finding("trailing-data", "", f"{n - cursor} bytes after the end of the archive"))
    # Another end record outside every structure (not inside a stored nested JAR, not in a comment) means a
    # second archive is hidden in this file and zip readers may disagree on what it contains.
    spans = [(seg.offset, seg.end) for seg in segments if not isinstance(seg, Gap)]
    for c in other_ends:
        if not any(lo <= c < hi for lo, hi in spans):
            findings.append(Finding("multiple-end-records", "", f"another plausible end-of-central-directory "
                                    f"record at offset {c}; zip readers may disagree on the contents"))
            break
    if shift and not any(f.code == "prefix-data" for f in findings):
        findings.append(Finding("prefix-data", "", f"archive offsets are shifted by {shift} bytes"))
    return ZipArchive(n, members, end, zip64_end, zip64_loc, segments, findings, shift)


def _compare_local(ch: CentralHeader, rec: LocalRecord, path: str, findings: list[Finding]) -> None:
    diffs = []
    if rec.name != ch.name:
        diffs.append(f"name {decode_name(rec.name)!r}")
    if rec.method != ch.method:
        diffs.append(f"method {rec.method} vs {ch.method}")
    if rec.flags != ch.flags:
        diffs.append(f"flags {rec.flags:#06x} vs {ch.flags:#06x}")
    if rec.flags & FLAG_DATA_DESCRIPTOR and rec.descriptor:
        body = rec.descriptor[4:] if rec.descriptor[:4] == DD_SIG else rec.descriptor
        width = (len(body) - 4) // 2
        crc = int.from_bytes(body[:4], "little")
        cs = int.from_bytes(body[4:4 + width], "little")
        us = int.from_bytes(body[4 + width:], "little")
        # With a descriptor the local header fields may be zero; if they are not, they must still agree.
        if rec.crc not in (0, ch.crc):
            diffs.append("CRC")
        if rec.csize not in (0, ch.csize, 0xFFFFFFFF) or rec.usize not in (0, ch.usize, 0xFFFFFFFF):
            diffs.append("sizes")
        del crc, cs, us
    else:
        if rec.crc != ch.crc:
            diffs.append(f"CRC {rec.crc:08x} vs {ch.crc:08x}")
        lcs, lus = rec.csize, rec.usize
        if 0xFFFFFFFF in (lcs, lus):
            zu, zc, _zo, _bad = _zip64_extra(rec.extra, True, True, False, False)
            lus = zu if zu is not None else lus
            lcs = zc if zc is not None else lcs
        if lcs != ch.csize or lus != ch.usize:
            diffs.append(f"sizes {lcs}/{lus} vs {ch.csize}/{ch.usize}")
    if diffs:
        findings.append(Finding("local-central-mismatch", path, "local header disagrees with the central "
                                "directory: " + ", ".join(diffs)))


def _check_member(ch: CentralHeader, path: str, findings: list[Finding]) -> None:
    _check_name(ch.name, path, findings)
    if ch.flags & (FLAG_ENCRYPTED | FLAG_STRONG_ENCRYPTION):
        findings.append(Finding("encrypted-entry", path, "entry is encrypted"))
    if ch.method not in SUPPORTED_METHODS:
        findings.append(Finding("unknown-method", path, f"compression method {ch.method} is not stored (0) "
                                "or deflate (8), which are all the JVM reads"))
    mode = ch.unix_mode
    if mode is not None and stat.S_ISLNK(mode):
        findings.append(Finding("symlink-entry", path, "entry is a symbolic link (unix mode S_IFLNK)"))
    if ch.method == 0 and ch.csize != ch.usize:
        findings.append(Finding("stored-size-mismatch", path, f"stored entry holds {ch.csize} bytes but declares "
                                f"{ch.usize} uncompressed bytes"))
    if ch.name.endswith(b"/") and (ch.usize or (ch.method == 0 and ch.csize)):
        findings.append(Finding("directory-with-data", path, f"directory entry carries data ({ch.csize} stored "
                                f"bytes, {ch.usize} declared)"))
