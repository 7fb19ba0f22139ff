"""Table tests for the eleven zip stabilizers, one stabilizer at a time, and for the whole pipeline.

Every table row is a pair (reference, rebuild) of small in-memory archives and two expectations:

* ``noise``: the aspects of the differences that the stabilizer under test removes. With no stabilizer at
  all the pair must differ in exactly ``noise`` plus the residual aspects, which proves the row exercises
  the stabilizer.
* ``residual``: the differences, as (path, kind, aspect), that must remain with only that stabilizer
  enabled. Empty means the pair must be EQUIVALENT.

Archives are built with :func:`tests.helpers.make_zip` (Python's zipfile) or with :func:`raw_zip`, a small
writer defined here that sets every header field by hand (version made by, flags, extra fields in the local
and central headers separately, data descriptors, internal attributes) for what zipfile cannot express.
"""

from __future__ import annotations

import io
import itertools
import struct
import subprocess
import zipfile
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from canonjar.api import canonicalize_bytes, compare_bytes, stabilize
from canonjar.limits import Budget
from canonjar.outcome import Outcome, Verdict
from canonjar.pipeline import Context, Scope, Side, Stabilizer, run_pipeline, select_stabilizers
from canonjar.stabilizers import BUILTIN
from tests.helpers import Item, jdk_tool, make_zip

#: The zip-container stabilizers this file tests (content stabilizers have their own test files).
ZIP_ONLY = tuple(s for s in BUILTIN if s.name.startswith("zip-"))

ALL_NAMES = (
    "zip-directory-entries", "zip-entry-order", "zip-timestamps", "zip-ownership", "zip-permissions",
    "zip-host-version", "zip-extra-fields", "zip-compression", "zip-data-descriptor", "zip-utf8-flag",
    "zip-comments",
)

# The canonical values, pinned here independently of the stabilizer modules.
CANON_TIME = (12 << 11) | (1 << 5)  # 12:01:00
CANON_DATE = (0 << 9) | (1 << 5) | 1  # 1980-01-01
CANON_MADE = 0x0314  # Unix, zip 2.0
FILE_0644 = 0o100644 << 16
FILE_0755 = 0o100755 << 16
DIR_0755 = (0o040755 << 16) | 0x10

MF = b"Manifest-Version: 1.0\r\nCreated-By: canonjar tests\r\n\r\n"
CLS = bytes.fromhex("cafebabe00000041") + b"\x00\x0d" + bytes(range(64))
TXT = b"".join(b"line %d: the quick brown fox %d jumps\n" % (i, i * i % 97) for i in range(200))


# --------------------------------------------------------------------------------------------- builders

@dataclass
class Raw:
    """One entry for :func:`raw_zip`; the defaults are the canonical form of the whole pipeline."""

    name: str | bytes
    data: bytes = b""
    method: int = 8
    level: int = 9
    wbits: int = -15
    strategy: int = zlib.Z_DEFAULT_STRATEGY
    flags: int = 0
    mtime: int = CANON_TIME
    mdate: int = CANON_DATE
    version_made: int = CANON_MADE
    version_needed: int = 20
    internal_attr: int = 0
    external_attr: int | None = None  # None: 0644 file / 0755 directory
    extra_local: bytes = b""
    extra_central: bytes | None = None  # None: same as extra_local
    comment: bytes = b""
    descriptor: str = ""  # "", "signed" (PK\7\8 signature) or "unsigned"
    stream: bytes | None = None  # the stored (compressed) bytes; None: computed from data
    usize: int | None = None  # declared uncompressed size; None: len(data)
    crc: int | None = None  # declared CRC-32; None: crc32(data)


def _deflate(data: bytes, level: int = 9, wbits: int = -15, strategy: int = zlib.Z_DEFAULT_STRATEGY) -> bytes:
    c = zlib.compressobj(level, zlib.DEFLATED, wbits, 8, strategy)
    return c.compress(data) + c.flush()


def raw_zip(entries: Iterable[Raw], comment: bytes = b"") -> bytes:
    """A zip with every header field set by hand, local and central headers consistent."""
    out = bytearray()
    cd = bytearray()
    count = 0
    for e in entries:
        count += 1
        name = e.name.encode() if isinstance(e.name, str) else e.name
        if e.stream is not None:
            comp = e.stream
        elif e.method == 0:
            comp = e.data
        else:
            comp = _deflate(e.data, e.level, e.wbits, e.strategy)
        crc = zlib.crc32(e.data) if e.crc is None else e.crc
        usize = len(e.data) if e.usize is None else e.usize
        ext = e.external_attr
        if ext is None:
            ext = DIR_0755 if name.endswith(b"/") else FILE_0644
        flags = e.flags | (0x08 if e.descriptor else 0)
        cextra = e.extra_local if e.extra_central is None else e.extra_central
        lcrc, lcs, lus = (0, 0, 0) if e.descriptor else (crc, len(comp), usize)
        offset = len(out)
        out += struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", e.version_needed, flags, e.method, e.mtime, e.mdate,
                           lcrc, lcs, lus, len(name), len(e.extra_local)) + name + e.extra_local + comp
        if e.descriptor:
            sig = b"PK\x07\x08" if e.descriptor == "signed" else b""
            out += sig + struct.pack("<III", crc, len(comp), usize)
        cd += struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", e.version_made, e.version_needed, flags,
                          e.method, e.mtime, e.mdate, crc, len(comp), usize, len(name), len(cextra),
                          len(e.comment), 0, e.internal_attr, ext, offset) + name + cextra + e.comment
    cd_offset = len(out)
    out += cd + struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, count, count, len(cd), cd_offset,
                            len(comment)) + comment
    return bytes(out)


def rz(*entries: Raw, comment: bytes = b"") -> bytes:
    return raw_zip(entries, comment)


def mz(*items: Item, comment: bytes = b"", streamed: bool = False) -> bytes:
    return make_zip(items, comment=comment, streamed=streamed)


def xf(header_id: int, data: bytes) -> bytes:
    """One extra-field block."""
    return struct.pack("<HH", header_id, len(data)) + data


def dos(y: int, mo: int, d: int, h: int, mi: int, s: int) -> tuple[int, int]:
    """(mtime, mdate) DOS fields."""
    return (h << 11) | (mi << 5) | (s // 2), ((y - 1980) << 9) | (mo << 5) | d


T2020 = dos(2020, 5, 17, 9, 30, 12)
T2024 = dos(2024, 11, 2, 23, 59, 58)

# Timestamp extra fields (local and central forms differ, as real writers do).
UT_L = xf(0x5455, b"\x03" + struct.pack("<II", 1_600_000_000, 1_600_000_100))  # flags, mtime, atime
UT_C = xf(0x5455, b"\x01" + struct.pack("<I", 1_600_000_000))
UT_L2 = xf(0x5455, b"\x03" + struct.pack("<II", 1_700_000_000, 1_700_000_100))
UT_C2 = xf(0x5455, b"\x01" + struct.pack("<I", 1_700_000_000))
NTFS = xf(0x000A, b"\x00" * 4 + struct.pack("<HH", 1, 24) + struct.pack("<QQQ", 132_000_000_000_000_000,
                                                                         132_000_000_000_000_001,
                                                                         132_000_000_000_000_002))
UX1_L = xf(0x5855, struct.pack("<IIHH", 1_600_000_100, 1_600_000_000, 1000, 1000))  # atime, mtime, uid, gid
UX1_C = xf(0x5855, struct.pack("<II", 1_600_000_100, 1_600_000_000))
# Ownership extra fields.
UX3_1000 = xf(0x7875, b"\x01\x04" + struct.pack("<I", 1000) + b"\x04" + struct.pack("<I", 1000))
UX3_0 = xf(0x7875, b"\x01\x04" + struct.pack("<I", 0) + b"\x04" + struct.pack("<I", 0))
UX2_L = xf(0x7855, struct.pack("<HH", 1000, 100))
UX2_C = xf(0x7855, b"")
# Other extra fields.
CAFE = xf(0xCAFE, b"")
VENDOR = xf(0x1234, b"\x01vendor\xff")
ALIGN4 = xf(0xD935, b"\x04\x00" + b"\x00" * 2)
ALIGN8 = xf(0xD935, b"\x08\x00" + b"\x00" * 6)


def only(name: str) -> tuple[Stabilizer, ...]:
    return select_stabilizers(disable=["all"], enable=[name])


def compare(ref: bytes, rebuild: bytes, stabilizers: Sequence[Stabilizer]) -> Outcome:
    out = compare_bytes(ref, rebuild, stabilizers=stabilizers)
    assert out.verdict is not Verdict.ERROR, out.error
    return out


def diffs(out: Outcome) -> set[tuple[str, str, str]]:
    return {(d.path, d.kind.value, d.aspect) for d in out.differences}


def aspects(out: Outcome) -> set[str]:
    return {d.aspect for d in out.differences}


def shown_as(text: str, raw: bytes) -> bool:
    """True when a trace value is ``raw``, printed as text or as 0x-hex."""
    return text in ("0x" + raw.hex(), raw.decode("latin-1"))


def names(data: bytes) -> list[str]:
    """Entry names as the JVM reads them (UTF-8, whether or not flag bit 11 is set; zipfile would use
    CP437 without the flag)."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return [i.orig_filename if i.flag_bits & 0x800 else i.orig_filename.encode("cp437").decode("utf-8")
                for i in zf.infolist()]


# --------------------------------------------------------------------------------------------- sanity

def test_every_builtin_stabilizer_has_a_table() -> None:
    assert tuple(s.name for s in BUILTIN if s.name.startswith("zip-")) == ALL_NAMES
    assert {p.values[0] for p in ROWS} == set(ALL_NAMES)  # type: ignore[attr-defined]
    assert {p.values[0] for p in TRACE_ROWS} | {"zip-compression"} == set(ALL_NAMES)  # type: ignore[attr-defined]


def test_only_selects_exactly_one_stabilizer() -> None:
    for name in ALL_NAMES:
        assert [s.name for s in only(name)] == [name]


def test_raw_writer_produces_clean_archives() -> None:
    data = rz(Raw("META-INF/"), Raw("META-INF/MANIFEST.MF", MF), Raw("a/B.class", CLS, method=0),
              Raw("c.txt", TXT, descriptor="signed", extra_local=UT_L, extra_central=UT_C, comment=b"hi"),
              comment=b"archive")
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert zf.testzip() is None
        assert zf.read("c.txt") == TXT
        assert zf.comment == b"archive"
    res = stabilize(data, "raw", Side.REFERENCE, ())
    assert res.canonical.findings == ()


# --------------------------------------------------------------------------------------------- the tables

def content_change(path: str) -> set[tuple[str, str, str]]:
    """The residual of a content change in a deflated entry when zip-compression is not enabled: the
    content and, necessarily, the compressed bytes."""
    return {(path, "changed", "content"), (path, "metadata", "compressed-bytes")}


def row(name: str, label: str, ref: bytes, rebuild: bytes, noise: Iterable[str],
        residual: Iterable[tuple[str, str, str]] = ()) -> object:
    return pytest.param(name, ref, rebuild, frozenset(noise), frozenset(residual), id=f"{name}:{label}")


def _dirs_rows() -> list[object]:
    n = "zip-directory-entries"
    return [
        row(n, "dirs-vs-none",
            mz(Item("META-INF/", mode=0o755), Item("META-INF/MANIFEST.MF", MF), Item("com/", mode=0o755),
               Item("com/A.class", CLS)),
            mz(Item("META-INF/MANIFEST.MF", MF), Item("com/A.class", CLS)), {"presence"}),
        row(n, "different-dirs", mz(Item("a/", mode=0o755), Item("f", TXT)),
            mz(Item("b/", mode=0o755), Item("b/c/", mode=0o755), Item("f", TXT)), {"presence"}),
        row(n, "deflated-empty-dir-vs-none", rz(Raw("d/", method=8), Raw("f", TXT)), rz(Raw("f", TXT)),
            {"presence"}),
        row(n, "dirs-differing-in-metadata",
            mz(Item("d/", mode=0o755, method=zipfile.ZIP_STORED), Item("f", TXT)),
            mz(Item("d/", mode=0o700, date_time=(2024, 1, 1, 0, 0, 0)), Item("f", TXT)),
            {"time", "mode", "compression"}),
        row(n, "dirs+content-changed",
            mz(Item("com/", mode=0o755), Item("com/A.class", CLS)),
            mz(Item("com/A.class", CLS[:-1] + b"\x00")), {"presence"},
            content_change("com/A.class")),
        row(n, "dirs+file-added",
            mz(Item("com/", mode=0o755), Item("com/A.class", CLS)),
            mz(Item("com/A.class", CLS), Item("com/B.class", CLS)), {"presence"},
            {("com/B.class", "added", "presence")}),
        row(n, "empty-file-is-not-a-directory", mz(Item("empty"), Item("f", TXT)), mz(Item("f", TXT)),
            set(), {("empty", "removed", "presence")}),
        row(n, "dirs+time", mz(Item("d/", mode=0o755), Item("f", TXT)),
            mz(Item("f", TXT, date_time=(2024, 1, 1, 0, 0, 0))), {"presence"}, {("f", "metadata", "time")}),
    ]


def _order_rows() -> list[object]:
    n = "zip-entry-order"
    a, b, c = Item("a.txt", b"A"), Item("b.txt", b"B"), Item("c/d.txt", b"D")
    m, mdir = Item("META-INF/MANIFEST.MF", MF), Item("META-INF/", mode=0o755)
    return [
        row(n, "reversed", mz(a, b, c), mz(c, b, a), {"order"}),
        row(n, "rotated", mz(a, b, c), mz(b, c, a), {"order"}),
        row(n, "manifest-last", mz(m, a, b), mz(a, b, m), {"order"}),
        row(n, "meta-inf-dir-after-manifest", mz(mdir, m, a), mz(m, mdir, a), {"order"}),
        row(n, "reordered+content-changed", mz(a, b, c), mz(c, Item("b.txt", b"b"), a), {"order"},
            content_change("b.txt")),
        row(n, "reordered+entry-added", mz(a, b), mz(c, b, a), {"order"}, {("c/d.txt", "added", "presence")}),
        row(n, "reordered+entry-removed", mz(a, b, c), mz(b, a), {"order"},
            {("c/d.txt", "removed", "presence")}),
        row(n, "reordered+time", mz(a, b), mz(b, Item("a.txt", b"A", date_time=(2024, 1, 1, 0, 0, 0))),
            {"order"}, {("a.txt", "metadata", "time")}),
    ]


def _timestamps_rows() -> list[object]:
    n = "zip-timestamps"
    t20, t24 = (2020, 5, 17, 9, 30, 12), (2024, 11, 2, 23, 59, 58)
    return [
        row(n, "dos-time", mz(Item("a", TXT, date_time=t20)), mz(Item("a", TXT, date_time=t24)), {"time"}),
        row(n, "dos-seconds-only", mz(Item("a", TXT, date_time=(2020, 1, 1, 0, 0, 0))),
            mz(Item("a", TXT, date_time=(2020, 1, 1, 0, 0, 2))), {"time"}),
        row(n, "0x5455-one-side", rz(Raw("a", TXT, extra_local=UT_L, extra_central=UT_C)), rz(Raw("a", TXT)),
            {"extra-fields"}),
        row(n, "0x5455-different-values", rz(Raw("a", TXT, extra_local=UT_L, extra_central=UT_C)),
            rz(Raw("a", TXT, extra_local=UT_L2, extra_central=UT_C2)), {"extra-fields"}),
        row(n, "0x000a-ntfs-one-side", rz(Raw("a", TXT)), rz(Raw("a", TXT, extra_local=NTFS)), {"extra-fields"}),
        row(n, "0x5855-one-side", rz(Raw("a", TXT, extra_local=UX1_L, extra_central=UX1_C)), rz(Raw("a", TXT)),
            {"extra-fields"}),
        row(n, "all-three+dos-time",
            rz(Raw("a", TXT, mtime=T2020[0], mdate=T2020[1], extra_local=UT_L + NTFS + UX1_L,
                   extra_central=UT_C + NTFS + UX1_C)),
            rz(Raw("a", TXT, mtime=T2024[0], mdate=T2024[1])), {"time", "extra-fields"}),
        row(n, "0x5455-next-to-kept-0xcafe", rz(Raw("a", TXT, extra_local=UT_L + CAFE, extra_central=UT_C + CAFE)),
            rz(Raw("a", TXT, extra_local=CAFE)), {"extra-fields"}),
        row(n, "0x5455-before-vs-after-0xcafe", rz(Raw("a", TXT, extra_local=UT_L + CAFE)),
            rz(Raw("a", TXT, extra_local=CAFE + UT_L2)), {"extra-fields"}),
        row(n, "time+mode", mz(Item("a", TXT, date_time=t20)), mz(Item("a", TXT, date_time=t24, mode=0o600)),
            {"time"}, {("a", "metadata", "mode")}),
        row(n, "0x5455+0xcafe-one-side", rz(Raw("a", TXT, extra_local=UT_L)), rz(Raw("a", TXT, extra_local=CAFE)),
            {"extra-fields"}, {("a", "metadata", "extra-fields")}),
        row(n, "0x5455+ownership", rz(Raw("a", TXT, extra_local=UT_L)), rz(Raw("a", TXT, extra_local=UX3_1000)),
            {"extra-fields"}, {("a", "metadata", "extra-fields")}),
        row(n, "time+content", mz(Item("a", TXT, date_time=t20)), mz(Item("a", TXT + b"!", date_time=t24)),
            {"time"}, content_change("a")),
    ]


def _ownership_rows() -> list[object]:
    n = "zip-ownership"
    return [
        row(n, "0x7875-different-uid", rz(Raw("a", TXT, extra_local=UX3_1000)), rz(Raw("a", TXT, extra_local=UX3_0)),
            {"extra-fields"}),
        row(n, "0x7875-one-side", rz(Raw("a", TXT, extra_local=UX3_1000)), rz(Raw("a", TXT)), {"extra-fields"}),
        row(n, "0x7855-one-side", rz(Raw("a", TXT)), rz(Raw("a", TXT, extra_local=UX2_L, extra_central=UX2_C)),
            {"extra-fields"}),
        row(n, "0x7875-next-to-kept-0xcafe", rz(Raw("a", TXT, extra_local=CAFE + UX3_1000)),
            rz(Raw("a", TXT, extra_local=UX3_0 + CAFE)), {"extra-fields"}),
        row(n, "0x7875+0x5455", rz(Raw("a", TXT, extra_local=UX3_1000 + UT_L)), rz(Raw("a", TXT)),
            {"extra-fields"}, {("a", "metadata", "extra-fields")}),
        row(n, "0x7875+time", rz(Raw("a", TXT, extra_local=UX3_1000)),
            rz(Raw("a", TXT, mtime=T2024[0], mdate=T2024[1])), {"extra-fields"}, {("a", "metadata", "time")}),
        row(n, "0x7875+content", rz(Raw("a", TXT, extra_local=UX3_1000)), rz(Raw("a", CLS)),
            {"extra-fields"}, content_change("a")),
    ]


def _permissions_rows() -> list[object]:
    n = "zip-permissions"
    return [
        row(n, "0644-vs-0600", mz(Item("a", TXT)), mz(Item("a", TXT, mode=0o600)), {"mode"}),
        row(n, "0644-vs-0664", mz(Item("a", TXT)), mz(Item("a", TXT, mode=0o664)), {"mode"}),
        row(n, "0644-vs-0444", mz(Item("a", TXT)), mz(Item("a", TXT, mode=0o444)), {"mode"}),
        row(n, "0755-vs-0700", mz(Item("run.sh", TXT, mode=0o755)), mz(Item("run.sh", TXT, mode=0o700)),
            {"mode"}),
        row(n, "0755-vs-0775", mz(Item("run.sh", TXT, mode=0o755)), mz(Item("run.sh", TXT, mode=0o775)),
            {"mode"}),
        row(n, "dir-0755-vs-0700", mz(Item("d/", mode=0o755), Item("d/a", TXT)),
            mz(Item("d/", mode=0o700), Item("d/a", TXT)), {"mode"}),
        row(n, "dir-without-msdos-dir-bit", rz(Raw("d/", external_attr=0o040755 << 16)), rz(Raw("d/")), {"mode"}),
        row(n, "internal-attr-text-hint", rz(Raw("a", TXT, internal_attr=1)), rz(Raw("a", TXT)), {"mode"}),
        row(n, "msdos-readonly-bit", rz(Raw("a", TXT, external_attr=(0o100444 << 16) | 0x01)), rz(Raw("a", TXT)),
            {"mode"}),
        row(n, "unix-host-without-mode-bits", rz(Raw("a", TXT, external_attr=0)), rz(Raw("a", TXT)), {"mode"}),
        row(n, "owner-exec-kept-0755-vs-0644", mz(Item("run.sh", TXT, mode=0o755)), mz(Item("run.sh", TXT)),
            set(), {("run.sh", "metadata", "mode")}),
        row(n, "owner-exec-kept-0744-vs-0600", mz(Item("run.sh", TXT, mode=0o744)),
            mz(Item("run.sh", TXT, mode=0o600)), {"mode"}, {("run.sh", "metadata", "mode")}),
        row(n, "mode+time", mz(Item("a", TXT)), mz(Item("a", TXT, mode=0o600, date_time=(2024, 1, 1, 0, 0, 0))),
            {"mode"}, {("a", "metadata", "time")}),
        row(n, "mode+content", mz(Item("a", TXT)), mz(Item("a", TXT[1:], mode=0o600)),
            {"mode"}, content_change("a")),
    ]


def _host_version_rows() -> list[object]:
    n = "zip-host-version"
    return [
        row(n, "msdos-host-vs-unix-host", rz(Raw("a", TXT, version_made=0x0014)), rz(Raw("a", TXT)),
            {"zip-version"}),
        row(n, "version-needed-10-vs-20", rz(Raw("d/", method=0, version_needed=10)), rz(Raw("d/", method=0)),
            {"zip-version"}),
        row(n, "infozip-3.0-vs-2.0", rz(Raw("a", TXT, version_made=0x031E)), rz(Raw("a", TXT)),
            {"zip-version"}),
        row(n, "ntfs-host+zip-4.5", rz(Raw("a", TXT, version_made=0x0A2D, version_needed=45)), rz(Raw("a", TXT)),
            {"zip-version"}),
        row(n, "host-does-not-canonicalize-modes", rz(Raw("a", TXT, version_made=0x0014, external_attr=0)),
            rz(Raw("a", TXT)), {"zip-version"}, {("a", "metadata", "mode")}),
        row(n, "version+content", rz(Raw("a", TXT, version_made=0x0014)), rz(Raw("a", TXT + b"\n")),
            {"zip-version"}, content_change("a")),
        row(n, "version+utf8-flag", rz(Raw("a", TXT, version_made=0x0014)), rz(Raw("a", TXT, flags=0x0800)),
            {"zip-version"}, {("a", "metadata", "utf8-flag")}),
    ]


def _extra_fields_rows() -> list[object]:
    n = "zip-extra-fields"
    return [
        row(n, "jar-magic-0xcafe-one-side",
            rz(Raw("META-INF/", extra_local=CAFE), Raw("META-INF/MANIFEST.MF", MF)),
            rz(Raw("META-INF/"), Raw("META-INF/MANIFEST.MF", MF)), {"extra-fields"}),
        row(n, "unknown-vendor-id", rz(Raw("a", TXT)), rz(Raw("a", TXT, extra_local=VENDOR)), {"extra-fields"}),
        row(n, "alignment-padding-4-vs-8", rz(Raw("a", TXT, method=0, extra_local=ALIGN4, extra_central=b"")),
            rz(Raw("a", TXT, method=0, extra_local=ALIGN8, extra_central=b"")), {"extra-fields"}),
        row(n, "local-only-vs-none", rz(Raw("a", TXT, extra_local=CAFE + VENDOR, extra_central=b"")),
            rz(Raw("a", TXT)), {"extra-fields"}),
        row(n, "central-only-vs-none", rz(Raw("a", TXT, extra_local=b"", extra_central=VENDOR)),
            rz(Raw("a", TXT)), {"extra-fields"}),
        row(n, "unused-zip64-field", rz(Raw("a", TXT, extra_local=xf(0x0001, struct.pack("<QQ", 0, 0)))),
            rz(Raw("a", TXT)), {"extra-fields"}),
        row(n, "timestamps-and-owners-too", rz(Raw("a", TXT, extra_local=UT_L + UX3_1000, extra_central=UT_C)),
            rz(Raw("a", TXT, extra_local=UT_L2 + UX3_0, extra_central=UT_C2)), {"extra-fields"}),
        row(n, "0xcafe+time", rz(Raw("META-INF/", extra_local=CAFE)),
            rz(Raw("META-INF/", mtime=T2020[0], mdate=T2020[1])), {"extra-fields"},
            {("META-INF/", "metadata", "time")}),
        row(n, "vendor+mode", rz(Raw("a", TXT, extra_local=VENDOR)), rz(Raw("a", TXT, external_attr=FILE_0755)),
            {"extra-fields"}, {("a", "metadata", "mode")}),
        row(n, "vendor+content", rz(Raw("a", TXT, extra_local=VENDOR)), rz(Raw("a", TXT.upper())),
            {"extra-fields"}, content_change("a")),
    ]


def _compression_rows() -> list[object]:
    n = "zip-compression"
    stored, deflated = zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED
    inner = mz(Item("x.txt", TXT))
    changed = TXT[:100] + b"#" + TXT[101:]
    return [
        row(n, "stored-vs-deflated", mz(Item("a", TXT, method=stored)), mz(Item("a", TXT, method=deflated)),
            {"compression"}),
        row(n, "deflate-level-1-vs-9", mz(Item("a", TXT, level=1)), mz(Item("a", TXT, level=9)),
            {"compressed-bytes"}),
        row(n, "stored-vs-level-1", mz(Item("a", TXT, method=stored)), mz(Item("a", TXT, level=1)),
            {"compression"}),
        row(n, "stored-vs-level-9", mz(Item("a", TXT, method=stored)), mz(Item("a", TXT, level=9)),
            {"compression"}),
        row(n, "level-flag-bits", rz(Raw("a", TXT, flags=0x0002)), rz(Raw("a", TXT)), {"compression"}),
        row(n, "other-deflater-settings", rz(Raw("a", TXT, wbits=-9, strategy=zlib.Z_HUFFMAN_ONLY)),
            rz(Raw("a", TXT)), {"compressed-bytes"}),
        row(n, "directory-stored-vs-deflated", rz(Raw("d/", method=0)), rz(Raw("d/", method=8)), {"compression"}),
        row(n, "nested-jar-stored-vs-deflated", rz(Raw("lib/x.jar", inner, method=0)),
            rz(Raw("lib/x.jar", inner, method=8)), {"compression"}),
        row(n, "stored-vs-deflated+one-byte-changed", mz(Item("a", TXT, method=stored)),
            mz(Item("a", changed, method=deflated)), {"compression"}, {("a", "changed", "content")}),
        row(n, "level-1-vs-9+one-byte-changed", mz(Item("a", TXT, level=1)), mz(Item("a", changed, level=9)),
            {"compressed-bytes"}, {("a", "changed", "content")}),
        row(n, "stored-vs-deflated+time", mz(Item("a", TXT, method=stored)),
            mz(Item("a", TXT, date_time=(2024, 1, 1, 0, 0, 0))), {"compression"}, {("a", "metadata", "time")}),
    ]


def _data_descriptor_rows() -> list[object]:
    n = "zip-data-descriptor"
    items = (Item("META-INF/MANIFEST.MF", MF), Item("d/", mode=0o755), Item("d/a", TXT))
    return [
        row(n, "streamed-vs-seekable", mz(*items), mz(*items, streamed=True), {"data-descriptor"}),
        row(n, "signed-descriptor-vs-none", rz(Raw("a", TXT, descriptor="signed")), rz(Raw("a", TXT)),
            {"data-descriptor"}),
        row(n, "unsigned-vs-signed-descriptor", rz(Raw("a", TXT, descriptor="unsigned")),
            rz(Raw("a", TXT, descriptor="signed")), {"data-descriptor"}),
        row(n, "streamed+content", mz(*items), mz(*items[:2], Item("d/a", CLS), streamed=True),
            {"data-descriptor"}, content_change("d/a")),
        row(n, "streamed+time", mz(*items),
            mz(*items[:2], Item("d/a", TXT, date_time=(2024, 1, 1, 0, 0, 0)), streamed=True),
            {"data-descriptor"}, {("d/a", "metadata", "time")}),
    ]


def _utf8_rows() -> list[object]:
    n = "zip-utf8-flag"
    nfc, nfd = "caf\u00e9.txt", "cafe\u0301.txt"
    return [
        row(n, "ascii-name-with-flag", rz(Raw("a.txt", TXT, flags=0x0800)), rz(Raw("a.txt", TXT)), {"utf8-flag"}),
        row(n, "utf8-name-with-and-without-flag", rz(Raw(nfc, TXT)), rz(Raw(nfc, TXT, flags=0x0800)),
            {"utf8-flag"}),
        row(n, "zipfile-utf8-name", mz(Item(nfc, TXT)),
            rz(Raw(nfc, TXT, mtime=dos(2020, 1, 2, 3, 4, 6)[0], mdate=dos(2020, 1, 2, 3, 4, 6)[1], level=6)),
            {"utf8-flag"}),
        row(n, "nfc-vs-nfd-names-stay-different", rz(Raw(nfc, TXT, flags=0x0800)), rz(Raw(nfd, TXT)), set(),
            {(nfc, "removed", "presence"), (nfd, "added", "presence")}),
        row(n, "utf8-vs-latin1-name-bytes", rz(Raw(nfc, TXT, flags=0x0800)),
            rz(Raw(nfc.encode("latin-1"), TXT)), set(),
            {(nfc, "removed", "presence"), ("caf\\xe9.txt", "added", "presence")}),
        row(n, "flag+other-flag-bit", rz(Raw("a", TXT, flags=0x0800)), rz(Raw("a", TXT, flags=0x0010)),
            {"utf8-flag"}, {("a", "metadata", "flags")}),
        row(n, "flag+content", rz(Raw(nfc, TXT, flags=0x0800)), rz(Raw(nfc, TXT * 2)),
            {"utf8-flag"}, content_change(nfc)),
    ]


def _comments_rows() -> list[object]:
    n = "zip-comments"
    return [
        row(n, "archive-comment", mz(Item("a", TXT), comment=b"built on host42"), mz(Item("a", TXT)),
            {"archive-comment"}),
        row(n, "entry-comment", mz(Item("a", TXT)), mz(Item("a", TXT, comment=b"from /home/me/a")),
            {"entry-comment"}),
        row(n, "both-different", mz(Item("a", TXT, comment=b"x"), Item("b", TXT), comment=b"one"),
            mz(Item("a", TXT, comment=b"y"), Item("b", TXT, comment=b"z"), comment=b"two"),
            {"entry-comment", "archive-comment"}),
        row(n, "comments+content", mz(Item("a", TXT, comment=b"x"), comment=b"c"), mz(Item("a", TXT[::-1])),
            {"entry-comment", "archive-comment"}, content_change("a")),
        row(n, "comment+time", mz(Item("a", TXT, comment=b"x")),
            mz(Item("a", TXT, date_time=(2024, 1, 1, 0, 0, 0))), {"entry-comment"},
            {("a", "metadata", "time")}),
    ]


ROWS = [*_dirs_rows(), *_order_rows(), *_timestamps_rows(), *_ownership_rows(), *_permissions_rows(),
        *_host_version_rows(), *_extra_fields_rows(), *_compression_rows(), *_data_descriptor_rows(),
        *_utf8_rows(), *_comments_rows()]


@pytest.mark.parametrize(("name", "ref", "rebuild", "noise", "residual"), ROWS)
def test_single_stabilizer_table(name: str, ref: bytes, rebuild: bytes, noise: frozenset[str],
                                 residual: frozenset[tuple[str, str, str]]) -> None:
    assert noise or residual, "a row must contain something to remove or to keep"
    # Without any stabilizer: exactly the noise plus the residual differences.
    bare = compare(ref, rebuild, ())
    assert bare.verdict is Verdict.DIFFERENT
    assert bare.findings == ()
    assert aspects(bare) == noise | {aspect for _path, _kind, aspect in residual}
    # With only the stabilizer under test: exactly the residual differences.
    out = compare(ref, rebuild, only(name))
    assert out.findings == ()
    assert diffs(out) == residual
    assert out.verdict is (Verdict.DIFFERENT if residual else Verdict.EQUIVALENT)
    if noise - {"compressed-bytes"}:  # dropping the stream from the comparison is a mode, not a traced change
        assert name in out.effective_for("reference") + out.effective_for("rebuild")
    # Every trace step belongs to the stabilizer under test.
    assert {step.stabilizer for step in out.trace} <= {name}
    assert all(step.action != "skipped" for step in out.trace)


# --------------------------------------------------------------------------------------------- traces
# The reference is already canonical for the stabilizer, so every step must be on the rebuild side.

def trow(name: str, label: str, ref: bytes, rebuild: bytes,
         steps: list[tuple[str, str, dict[str, tuple[str | bytes, str | bytes]]]], also: Sequence[str] = ()) -> object:
    """``also``: stabilizers enabled besides ``name`` that must have nothing to record."""
    return pytest.param(name, ref, rebuild, steps, tuple(also), id=f"{name}:{label}")


TRACE_ROWS = [
    trow("zip-directory-entries", "removed", rz(Raw("a", TXT)), rz(Raw("d/"), Raw("a", TXT)),
         [("d/", "removed", {"entry": ("0 bytes crc32:00000000", "(removed)")})]),
    trow("zip-entry-order", "reordered", rz(Raw("a", TXT), Raw("b", TXT)), rz(Raw("b", TXT), Raw("a", TXT)),
         [("", "reordered", {"order": ("2 entries out of canonical order", "canonical order")})]),
    trow("zip-timestamps", "dos-and-extras", rz(Raw("a", TXT, extra_local=CAFE, extra_central=b""), Raw("b", TXT)),
         rz(Raw("a", TXT, mtime=T2024[0], mdate=T2024[1], extra_local=UT_L + CAFE, extra_central=UT_C),
            Raw("b", TXT)),
         [("a", "changed", {"mtime": (str(T2024[0]), str(CANON_TIME)), "mdate": (str(T2024[1]), str(CANON_DATE)),
                            "extra_local": (UT_L + CAFE, CAFE), "extra_central": (UT_C, b"")})]),
    trow("zip-timestamps", "nested-archive-path",
         rz(Raw("lib/in.jar", rz(Raw("x", TXT)), method=0)),
         rz(Raw("lib/in.jar", rz(Raw("x", TXT, extra_local=NTFS, extra_central=b"")), method=0)),
         [("lib/in.jar!/x", "changed", {"extra_local": (NTFS, b"")})],
         also=["zip-compression"]),  # the outer stored bytes differ; the nested archives are compared
    trow("zip-ownership", "0x7875-and-0x7855", rz(Raw("a", TXT, extra_local=VENDOR, extra_central=b"")),
         rz(Raw("a", TXT, extra_local=UX3_1000 + UX2_L + VENDOR, extra_central=UX2_C)),
         [("a", "changed", {"extra_local": (UX3_1000 + UX2_L + VENDOR, VENDOR), "extra_central": (UX2_C, b"")})]),
    trow("zip-permissions", "mode-and-internal", rz(Raw("a", TXT), Raw("d/")),
         rz(Raw("a", TXT, external_attr=0o100600 << 16, internal_attr=1), Raw("d/", external_attr=0o40700 << 16)),
         [("a", "changed", {"external_attr": ("0x81800000", "0x81a40000"), "internal_attr": ("0x0001", "0x0000")}),
          ("d/", "changed", {"external_attr": ("0x41c00000", "0x41ed0010")})]),
    trow("zip-host-version", "made-and-needed", rz(Raw("a", TXT)),
         rz(Raw("a", TXT, version_made=0x0014, version_needed=10)),
         [("a", "changed", {"version_made": ("0x0014", "0x0314"), "version_needed": ("10", "20")})]),
    trow("zip-extra-fields", "cafe-and-unknown-ids", rz(Raw("META-INF/"), Raw("a", TXT)),
         rz(Raw("META-INF/", extra_local=CAFE), Raw("a", TXT, extra_local=VENDOR + ALIGN4, extra_central=VENDOR)),
         [("META-INF/", "changed", {"extra_local": (CAFE, b""), "extra_central": (CAFE, b"")}),
          ("a", "changed", {"extra_local": (VENDOR + ALIGN4, b""), "extra_central": (VENDOR, b"")})]),
    trow("zip-data-descriptor", "descriptor", rz(Raw("a", TXT)), rz(Raw("a", TXT, descriptor="signed")),
         [("a", "changed", {"flags": ("0x0008", "0x0000"),
                            "descriptor": (b"PK\x07\x08" + struct.pack("<III", zlib.crc32(TXT), len(_deflate(TXT)),
                                                                       len(TXT)), b"")})]),
    trow("zip-utf8-flag", "flag", rz(Raw("caf\u00e9", TXT, flags=0x0800)), rz(Raw("caf\u00e9", TXT)),
         [("caf\u00e9", "changed", {"flags": ("0x0000", "0x0800")})]),
    trow("zip-utf8-flag", "ascii-flag", rz(Raw("cafe", TXT)), rz(Raw("cafe", TXT, flags=0x0800)),
         [("cafe", "changed", {"flags": ("0x0800", "0x0000")})]),
    trow("zip-comments", "entry-and-archive", rz(Raw("a", TXT), Raw("b", TXT)),
         rz(Raw("a", TXT), Raw("b", TXT, comment=b"note"), comment=b"built by me"),
         [("b", "changed", {"comment": ("note", "")}), ("", "changed", {"archive comment": ("built by me", "")})]),
]


@pytest.mark.parametrize(("name", "ref", "rebuild", "steps", "also"), TRACE_ROWS)
def test_trace_records_old_and_new_values_on_the_changed_side(
        name: str, ref: bytes, rebuild: bytes,
        steps: list[tuple[str, str, dict[str, tuple[str | bytes, str | bytes]]]], also: tuple[str, ...]) -> None:
    out = compare(ref, rebuild, select_stabilizers(disable=["all"], enable=[name, *also]))
    assert out.verdict is Verdict.EQUIVALENT
    assert out.effective_for("reference") == ()
    assert out.effective_for("rebuild") == (name,)
    assert all(s.side == "rebuild" and s.stabilizer == name for s in out.trace)
    assert [(s.path, s.action) for s in out.trace] == [(p, a) for p, a, _ in steps]
    for step, (_path, _action, want) in zip(out.trace, steps, strict=True):
        got = {c.field: (c.old, c.new) for c in step.changes}
        assert set(got) == set(want), step
        for fld, (old, new) in want.items():
            for text, expect in zip(got[fld], (old, new), strict=True):
                if isinstance(expect, bytes):
                    assert shown_as(text, expect), (fld, text, expect)
                else:
                    assert text == expect, (fld, text, expect)


def test_trace_of_compression_on_both_sides() -> None:
    """zip-compression drops the compressed stream from the comparison on every entry of both sides (a
    comparison mode, not traced); what it records is the method and level-flag changes."""
    ref = rz(Raw("a", TXT), Raw("b", TXT))
    rebuild = rz(Raw("a", TXT, method=0), Raw("b", TXT, flags=0x0004))
    out = compare(ref, rebuild, only("zip-compression"))
    assert out.verdict is Verdict.EQUIVALENT
    by = {(s.side, s.path): {c.field: (c.old, c.new) for c in s.changes} for s in out.trace}
    assert by == {("rebuild", "a"): {"method": ("0", "8")}, ("rebuild", "b"): {"flags": ("0x0004", "0x0000")}}
    assert {s.stabilizer for s in out.trace} == {"zip-compression"}


# --------------------------------------------------------------------------------------------- nothing to do

CANONICAL = rz(Raw("META-INF/MANIFEST.MF", MF), Raw("a/B.class", CLS), Raw("run.sh", TXT, external_attr=FILE_0755),
               Raw("z.txt", TXT))
CANONICAL_ZIPFILE = mz(Item("META-INF/MANIFEST.MF", MF, date_time=(1980, 1, 1, 12, 1, 0)),
                       Item("a/B.class", CLS, date_time=(1980, 1, 1, 12, 1, 0)),
                       Item("run.sh", TXT, mode=0o755, date_time=(1980, 1, 1, 12, 1, 0)))


@pytest.mark.parametrize("data", [CANONICAL, CANONICAL_ZIPFILE], ids=["raw", "zipfile"])
@pytest.mark.parametrize("name", [n for n in ALL_NAMES if n != "zip-compression"])
def test_stabilizer_with_nothing_to_do_records_nothing_and_returns_its_input(name: str, data: bytes) -> None:
    res = stabilize(data, "canonical.jar", Side.REBUILD, only(name))
    assert res.trace == ()
    assert res.canonical is res.original
    (st,) = only(name)
    ctx = Context(Side.REBUILD, Budget())
    arc = res.canonical
    if st.scope is Scope.ARCHIVE:
        assert st.apply(arc, ctx) is arc  # type: ignore[arg-type]
    else:
        for e in arc.entries:
            assert st.apply(e, ctx) is e  # type: ignore[arg-type]
    assert run_pipeline(arc, (st,), ctx) is arc
    assert ctx.trace == []


@pytest.mark.parametrize("data", [CANONICAL, CANONICAL_ZIPFILE], ids=["raw", "zipfile"])
def test_pipeline_without_compression_on_canonical_input_is_a_no_op(data: bytes) -> None:
    zip_only = select_stabilizers(available=ZIP_ONLY, disable=["zip-compression"])
    res = stabilize(data, "canonical.jar", Side.REBUILD, zip_only)
    assert res.trace == ()
    assert res.canonical is res.original
    out, _ = canonicalize_bytes(data, stabilizers=ZIP_ONLY)
    assert names(out) == names(data)


@pytest.mark.parametrize("data", [CANONICAL, CANONICAL_ZIPFILE], ids=["raw", "zipfile"])
def test_compression_on_canonical_input_records_nothing(data: bytes) -> None:
    """zip-compression always switches the comparison to uncompressed content (so it cannot return the very
    same entries), but on entries already deflated without level flags it records no change."""
    res = stabilize(data, "canonical.jar", Side.REBUILD, only("zip-compression"))
    assert res.trace == ()
    for old, new in zip(res.original.entries, res.canonical.entries, strict=True):
        assert (new.name, new.method, new.flags, new.payload) == (old.name, old.method, old.flags, old.payload)
        assert (old.compare_stream, new.compare_stream) == (True, False)


def test_compression_is_idempotent() -> None:
    (st,) = only("zip-compression")
    res = stabilize(rz(Raw("a", TXT, method=0, flags=0x0002), Raw("d/", method=8)), "x", Side.REFERENCE, (st,))
    ctx = Context(Side.REFERENCE, Budget())
    for e in res.canonical.entries:
        assert st.apply(e, ctx) is e  # type: ignore[arg-type]
    assert run_pipeline(res.canonical, (st,), ctx) is res.canonical
    assert ctx.trace == []
    assert [(e.method, e.flags, e.compare_stream) for e in res.canonical.entries] == [(8, 0, False), (0, 0, False)]


# --------------------------------------------------------------------------------------------- soundness

SYMLINK = 0o120777 << 16


def test_permissions_never_touch_a_symlink() -> None:
    link = rz(Raw("lib/current", b"v1.2/", external_attr=SYMLINK, internal_attr=1), Raw("a", TXT,
                                                                                   external_attr=0o100600 << 16))
    res = stabilize(link, "x", Side.REFERENCE, only("zip-permissions"))
    sym, plain = res.canonical.entries
    assert sym is res.original.entries[0]
    assert (sym.external_attr, sym.internal_attr) == (SYMLINK, 1)
    assert plain.external_attr == FILE_0644
    assert [s.path for s in res.trace] == ["a"]
    assert "symlink-entry" in {f.code for f in res.canonical.findings}


@pytest.mark.parametrize("other", [FILE_0644, 0o100777 << 16, (0o120755 << 16)], ids=["0644", "0777", "link-0755"])
def test_symlink_vs_other_mode_stays_different(other: int) -> None:
    ref = rz(Raw("lib/current", b"v1.2/", external_attr=SYMLINK))
    rebuild = rz(Raw("lib/current", b"v1.2/", external_attr=other))
    for stabs in (only("zip-permissions"), select_stabilizers()):
        out = compare(ref, rebuild, stabs)
        assert out.verdict is Verdict.DIFFERENT
        assert ("lib/current", "metadata", "mode") in diffs(out)
        assert "symlink-entry" in {f.code for f in out.findings}


def test_permissions_keep_the_owner_exec_bit_in_the_whole_pipeline() -> None:
    out = compare(mz(Item("bin/run", TXT, mode=0o755)), mz(Item("bin/run", TXT, mode=0o644)), select_stabilizers())
    assert out.verdict is Verdict.DIFFERENT
    assert diffs(out) == {("bin/run", "metadata", "mode")}
    (d,) = out.differences
    assert "755" in (d.left or "") and "644" in (d.right or "")


def test_directory_entry_with_data_is_kept() -> None:
    data = rz(Raw("d/", b"payload"), Raw("f", TXT))
    res = stabilize(data, "x", Side.REFERENCE, only("zip-directory-entries"))
    assert res.canonical is res.original
    assert [e.name for e in res.canonical.entries] == [b"d/", b"f"]
    assert res.trace == ()
    out = compare(data, rz(Raw("f", TXT)), select_stabilizers())
    assert out.verdict is Verdict.DIFFERENT
    assert ("d/", "removed", "presence") in diffs(out)
    assert "directory-with-data" in {f.code for f in out.findings}


def test_directory_entry_with_stored_bytes_but_declared_size_zero_is_kept() -> None:
    """A stored directory entry that declares 0 uncompressed bytes but stores 5: the JVM's
    ``ZipFile.getInputStream`` returns those 5 bytes (it reads the compressed size of a stored entry), so
    the entry carries data and must not disappear as "an empty directory entry"."""
    hidden = rz(Raw("d/", b"hello", method=0, usize=0, crc=0), Raw("f", TXT))
    res = stabilize(hidden, "x", Side.REFERENCE, only("zip-directory-entries"))
    assert [e.name for e in res.canonical.entries] == [b"d/", b"f"], "the stored bytes of d/ were dropped"
    out = compare(hidden, rz(Raw("f", TXT)), select_stabilizers())
    assert out.verdict is Verdict.DIFFERENT


def test_utf8_flag_keeps_name_bytes() -> None:
    nfc, nfd = "caf\u00e9", "cafe\u0301"
    res = stabilize(rz(Raw(nfc, TXT, flags=0x0800), Raw(nfd, TXT, flags=0x0800)), "x", Side.REFERENCE,
                    only("zip-utf8-flag"))
    assert [e.name for e in res.canonical.entries] == [nfc.encode(), nfd.encode()]
    assert [e.flags for e in res.canonical.entries] == [0x0800, 0x0800]  # canonical: set for non-ASCII names


def test_compression_variants_of_the_same_content_are_equivalent_and_a_byte_change_is_not() -> None:
    variants = {
        "stored": mz(Item("a", TXT, method=zipfile.ZIP_STORED)),
        "deflated": mz(Item("a", TXT)),
        "level-1": mz(Item("a", TXT, level=1)),
        "level-9": mz(Item("a", TXT, level=9)),
    }
    assert len(set(variants.values())) == 4
    for (ka, a), (kb, b) in itertools.combinations(variants.items(), 2):
        assert compare(a, b, only("zip-compression")).verdict is Verdict.EQUIVALENT, (ka, kb)
        assert compare(a, b, ()).verdict is Verdict.DIFFERENT, (ka, kb)
    for pos in (0, len(TXT) // 2, len(TXT) - 1):
        changed = TXT[:pos] + bytes([TXT[pos] ^ 1]) + TXT[pos + 1:]
        for key, ref in variants.items():
            for level in (1, 9):
                out = compare(ref, mz(Item("a", changed, level=level)), only("zip-compression"))
                assert out.verdict is Verdict.DIFFERENT, (key, level, pos)
                assert diffs(out) == {("a", "changed", "content")}


def test_timestamps_keep_other_extra_fields_in_place() -> None:
    res = stabilize(rz(Raw("a", TXT, extra_local=VENDOR + UT_L + CAFE + NTFS + UX1_L + ALIGN4,
                           extra_central=UT_C + VENDOR)), "x", Side.REFERENCE, only("zip-timestamps"))
    (e,) = res.canonical.entries
    assert (e.extra_local, e.extra_central) == (VENDOR + CAFE + ALIGN4, VENDOR)
    assert (e.mtime, e.mdate) == (CANON_TIME, CANON_DATE)


def test_ownership_keeps_other_extra_fields_in_place() -> None:
    res = stabilize(rz(Raw("a", TXT, extra_local=UT_L + UX3_1000 + CAFE + UX2_L, extra_central=UX2_C + UT_C)),
                    "x", Side.REFERENCE, only("zip-ownership"))
    (e,) = res.canonical.entries
    assert (e.extra_local, e.extra_central) == (UT_L + CAFE, UT_C)


# --------------------------------------------------------------------------------------------- canonical order

ORDER_NAMES = ["z.txt", "META-INF/maven/x.pom", "META-INF/MANIFEST.MF", "A.class", "META-INF/", "com/",
               "com/B.class", "\u00e9.txt"]
ORDER_EXPECTED = ["META-INF/", "META-INF/MANIFEST.MF", "A.class", "META-INF/maven/x.pom", "com/", "com/B.class",
                  "z.txt", "\u00e9.txt"]


def _order_input(order: Sequence[str]) -> bytes:
    return mz(*(Item(n, b"" if n.endswith("/") else n.encode() * 3, mode=0o755 if n.endswith("/") else 0o644)
                for n in order))


@pytest.mark.parametrize("perm", [0, 1, 2, 3], ids=["as-listed", "reversed", "sorted", "rotated"])
def test_entry_order_puts_meta_inf_then_manifest_first(perm: int) -> None:
    order = [ORDER_NAMES, ORDER_NAMES[::-1], sorted(ORDER_NAMES), ORDER_NAMES[3:] + ORDER_NAMES[:3]][perm]
    data = _order_input(order)
    stabs = only("zip-entry-order")
    res = stabilize(data, "x", Side.REFERENCE, stabs)
    assert [e.path for e in res.canonical.entries] == ORDER_EXPECTED
    out, _ = canonicalize_bytes(data, stabilizers=stabs)
    assert names(out) == ORDER_EXPECTED
    with zipfile.ZipFile(io.BytesIO(out)) as zf:
        assert zf.testzip() is None
        assert all(zf.read(n) == n.encode() * 3 for n in ORDER_EXPECTED if not n.endswith("/"))
    full, _ = canonicalize_bytes(data)
    assert names(full) == [n for n in ORDER_EXPECTED if not n.endswith("/")]
    assert full == canonicalize_bytes(_order_input(ORDER_NAMES))[0]


def test_entry_order_ranks_a_lowercase_manifest_first() -> None:
    data = mz(Item("a.txt", b"a"), Item("meta-inf/manifest.mf", MF), Item("meta-inf/", mode=0o755))
    res = stabilize(data, "x", Side.REFERENCE, only("zip-entry-order"))
    assert [e.path for e in res.canonical.entries] == ["meta-inf/", "meta-inf/manifest.mf", "a.txt"]


# --------------------------------------------------------------------------------------------- whole pipeline

FILES = {"META-INF/MANIFEST.MF": MF, "com/ex/A.class": CLS, "com/ex/res.txt": TXT, "run.sh": b"#!/bin/sh\n"}


def _zipfile_variant(files: dict[str, bytes], order: Sequence[str] | None = None, *, streamed: bool = False,
                     comment: bytes = b"", dirs: Sequence[str] = (), mode: int = 0o644, exec_mode: int = 0o755,
                     date_time: tuple[int, int, int, int, int, int] = (2020, 1, 2, 3, 4, 6),
                     method: int = zipfile.ZIP_DEFLATED, level: int | None = None, extra: bytes = b"",
                     entry_comment: bytes = b"") -> bytes:
    """``files`` zipped by zipfile with the given (stabilizable) choices; ``run.sh`` gets ``exec_mode``."""
    items = [Item(d, mode=0o755, date_time=date_time) for d in dirs]
    items += [Item(n, files[n], mode=exec_mode if n == "run.sh" else mode, date_time=date_time, method=method,
                   level=level, extra=extra, comment=entry_comment) for n in (order or list(files))]
    return make_zip(items, comment=comment, streamed=streamed)


BASE = _zipfile_variant(FILES)
NOISY = [
    ("reordered", _zipfile_variant(FILES, order=list(FILES)[::-1])),
    ("timestamps", _zipfile_variant(FILES, date_time=(2024, 12, 31, 23, 59, 58), extra=UT_L)),
    ("permissions", _zipfile_variant(FILES, mode=0o600, exec_mode=0o700)),
    ("stored", _zipfile_variant(FILES, method=zipfile.ZIP_STORED)),
    ("level-1", _zipfile_variant(FILES, level=1)),
    ("everything", _zipfile_variant(FILES, order=sorted(FILES, reverse=True), streamed=True, comment=b"c",
                                    dirs=("META-INF/", "com/", "com/ex/"), mode=0o664, level=9,
                                    date_time=(2001, 2, 3, 4, 5, 6), extra=UX3_1000 + CAFE, entry_comment=b"e")),
    ("raw-writer", raw_zip([Raw("com/ex/", version_made=0x000A, version_needed=10, method=0, external_attr=0x10),
                            *(Raw(n, d, flags=0x0802, version_made=0x031E if n == "run.sh" else 0x0014,
                                  external_attr=0o100775 << 16 if n == "run.sh" else 0, descriptor="signed",
                                  extra_local=CAFE + NTFS) for n, d in FILES.items())])),
]


@pytest.mark.parametrize("variant", [v for _, v in NOISY], ids=[k for k, _ in NOISY])
def test_whole_pipeline_same_content_is_equivalent(variant: bytes) -> None:
    assert compare(BASE, variant, ()).verdict is Verdict.DIFFERENT
    out = compare(BASE, variant, select_stabilizers())
    assert (out.verdict, out.differences, out.findings) == (Verdict.EQUIVALENT, (), ())
    assert canonicalize_bytes(BASE)[0] == canonicalize_bytes(variant)[0]


def _edit(files: dict[str, bytes], *, drop: str = "", add: dict[str, bytes] | None = None,
          rename: tuple[str, str] | None = None, change: str = "") -> dict[str, bytes]:
    out = {n: d for n, d in files.items() if n != drop}
    if change:
        data = out[change]
        out[change] = data[:-1] + bytes([data[-1] ^ 0x01])
    if rename:
        out = {(rename[1] if n == rename[0] else n): d for n, d in out.items()}
    out.update(add or {})
    return out


def whole_rows(files: dict[str, bytes], cls: str, res: str) -> list[object]:
    return [
        pytest.param(_edit(files, change=cls), {(cls, "changed", "content")}, id="content-byte-changed"),
        pytest.param(_edit(files, add={"com/ex/new.txt": b"new"}), {("com/ex/new.txt", "added", "presence")},
                     id="entry-added"),
        pytest.param(_edit(files, drop=res), {(res, "removed", "presence")}, id="entry-removed"),
        pytest.param(_edit(files, rename=(res, res + ".bak")),
                     {(res, "removed", "presence"), (res + ".bak", "added", "presence")}, id="name-changed"),
    ]


@pytest.mark.parametrize(("edited", "expected"), whole_rows(FILES, "com/ex/A.class", "com/ex/res.txt"))
def test_whole_pipeline_real_changes_are_different(edited: dict[str, bytes],
                                                   expected: set[tuple[str, str, str]]) -> None:
    # The edited side is also noisy in every stabilized way, so only the real change may remain.
    noisy = _zipfile_variant(edited, order=sorted(edited, reverse=True), streamed=True, mode=0o600,
                             exec_mode=0o700, method=zipfile.ZIP_STORED, date_time=(2030, 1, 1, 0, 0, 0),
                             extra=UT_L + CAFE, comment=b"x", dirs=("com/",))
    out = compare(BASE, noisy, select_stabilizers())
    assert out.verdict is Verdict.DIFFERENT
    assert diffs(out) == expected
    assert out.findings == ()


# --- with the JDK's jar tool

JAVA_SRC = """package com.ex;
public class Hello { public static void main(String[] a) { System.out.println("hi"); } }
"""


@dataclass(frozen=True)
class JarBuild:
    jar: bytes  # jar cf
    jar_stored_reordered: bytes  # jar --no-compress --date, files listed in another order, no directories
    files: dict[str, bytes]


@pytest.fixture(scope="module")
def jar_build(tmp_path_factory: pytest.TempPathFactory) -> JarBuild:
    javac, jar = jdk_tool("javac"), jdk_tool("jar")
    if javac is None or jar is None:
        pytest.skip("no JDK (javac and jar) on PATH")
    root = tmp_path_factory.mktemp("jdk")
    (root / "src" / "com" / "ex").mkdir(parents=True)
    (root / "src" / "com" / "ex" / "Hello.java").write_text(JAVA_SRC)
    classes = root / "classes"

    def run(*args: str) -> None:
        proc = subprocess.run(args, cwd=root, capture_output=True, text=True, timeout=120, check=False)
        assert proc.returncode == 0, proc.stderr

    run(javac, "-d", str(classes), "src/com/ex/Hello.java")
    (classes / "com" / "ex" / "res.txt").write_bytes(b"resource\n")
    run(jar, "cf", "a.jar", "-C", "classes", ".")
    files_in_other_order = ("-C", "classes", "com/ex/res.txt", "-C", "classes", "com/ex/Hello.class")
    dated = subprocess.run([jar, "--create", "--file", "b.jar", "--no-compress", "--date", "2001-02-03T04:05:06Z",
                            *files_in_other_order], cwd=root, capture_output=True, timeout=120, check=False)
    if dated.returncode != 0:  # --date needs JDK 17+; the DOS times still differ from a.jar's
        run(jar, "--create", "--file", "b.jar", "--no-compress", *files_in_other_order)
    a = Path(root / "a.jar").read_bytes()
    with zipfile.ZipFile(io.BytesIO(a)) as zf:
        files = {n: zf.read(n) for n in zf.namelist() if not n.endswith("/")}
    assert set(files) == {"META-INF/MANIFEST.MF", "com/ex/Hello.class", "com/ex/res.txt"}
    return JarBuild(a, Path(root / "b.jar").read_bytes(), files)


def test_jar_tool_output_vs_zipfile_is_equivalent(jar_build: JarBuild) -> None:
    files = jar_build.files
    variants = [
        _zipfile_variant(files),
        _zipfile_variant(files, order=sorted(files, reverse=True), method=zipfile.ZIP_STORED, mode=0o600,
                         date_time=(2024, 6, 1, 12, 0, 0), streamed=True, extra=UX3_1000),
        _zipfile_variant(files, dirs=("META-INF/", "com/", "com/ex/"), level=1, comment=b"zipfile"),
        _zipfile_variant(files, level=9),
    ]
    for v in variants:
        assert compare(jar_build.jar, v, ()).verdict is Verdict.DIFFERENT
        out = compare(jar_build.jar, v, select_stabilizers())
        assert (out.verdict, out.differences, out.findings) == (Verdict.EQUIVALENT, (), ())


def test_jar_tool_runs_with_other_options_are_equivalent_when_manifests_match(jar_build: JarBuild) -> None:
    """Two runs of the jar tool over the same classes: ``jar cf`` (deflated, directory entries, data
    descriptors, 0xCAFE) vs ``--no-compress --date`` with the files listed in another order and no
    directory entries. Both write the same manifest text, so the whole archives are equivalent."""
    other = jar_build.jar_stored_reordered
    with zipfile.ZipFile(io.BytesIO(other)) as zf:
        assert zf.read("META-INF/MANIFEST.MF") == jar_build.files["META-INF/MANIFEST.MF"]
        assert [n for n in zf.namelist() if not n.startswith("META-INF")] == ["com/ex/res.txt",
                                                                                "com/ex/Hello.class"]
    assert compare(jar_build.jar, other, ()).verdict is Verdict.DIFFERENT
    out = compare(jar_build.jar, other, select_stabilizers())
    assert (out.verdict, out.differences, out.findings) == (Verdict.EQUIVALENT, (), ())


@pytest.mark.parametrize("edit", ["content-byte-changed", "entry-added", "entry-removed", "name-changed"])
def test_jar_tool_output_vs_real_changes_is_different(jar_build: JarBuild, edit: str) -> None:
    rows = {p.id: p.values for p in whole_rows(jar_build.files, "com/ex/Hello.class",  # type: ignore[attr-defined]
                                               "com/ex/res.txt")}
    edited, expected = rows[edit]
    out = compare(jar_build.jar, _zipfile_variant(edited, method=zipfile.ZIP_STORED, mode=0o600),
                  select_stabilizers())
    assert out.verdict is Verdict.DIFFERENT
    assert diffs(out) == expected
    assert out.findings == ()


def test_canonical_jar_of_jar_tool_output_reads_back(jar_build: JarBuild) -> None:
    out, res = canonicalize_bytes(jar_build.jar, stabilizers=ZIP_ONLY)  # content stabilizers would edit the manifest
    assert res.canonical.findings == ()
    with zipfile.ZipFile(io.BytesIO(out)) as zf:
        assert zf.testzip() is None
        assert zf.namelist() == ["META-INF/MANIFEST.MF", "com/ex/Hello.class", "com/ex/res.txt"]
        assert {n: zf.read(n) for n in zf.namelist()} == jar_build.files
        for info in zf.infolist():
            assert info.date_time == (1980, 1, 1, 12, 1, 0)
            assert info.external_attr == FILE_0644
            assert (info.extra, info.comment, info.flag_bits) == (b"", b"", 0)
    assert out[:4] == b"PK\x03\x04"  # a plain zip, no prefix
