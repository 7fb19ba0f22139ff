"""The archive layer: byte-faithful round trips, one finding per structural anomaly, clean errors.

Anomalous archives are built by editing the bytes of zipfile-made archives with the small, independent zip
splitter below (it never uses canonjar's reader, so a reader bug cannot hide in the fixture).
"""

from __future__ import annotations

import copy
import io
import struct
import subprocess
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from canonjar import ArchiveError, CanonjarError, Verdict, compare_bytes, select_stabilizers
from canonjar.zipfmt import read_zip
from tests.helpers import Item, StreamSink, jdk_tool, make_zip, real_jars

STABS = select_stabilizers()

# ------------------------------------------------------------------------------------ independent zip splitter

LOC = struct.Struct("<4sHHHHHIIIHH")
CEN = struct.Struct("<4sHHHHHHIIIHHHHHII")
EOCD = struct.Struct("<4sHHHHIIH")
Z64_EOCD = struct.Struct("<4sQHHIIQQQQ")
Z64_LOC = struct.Struct("<4sIQI")

# Field indexes (after the signature) of local and central headers.
L_FLAGS, L_METHOD, L_CRC, L_CSIZE, L_USIZE = 1, 2, 5, 6, 7
C_VMADE, C_FLAGS, C_METHOD, C_CRC, C_CSIZE, C_USIZE, C_EATTR, C_OFFSET = 0, 2, 3, 6, 7, 8, 14, 15


@dataclass
class Cen:
    """One central header: its 16 numeric fields (lengths are recomputed on packing) and its strings."""

    fields: list[int]
    name: bytes
    extra: bytes
    comment: bytes

    def pack(self) -> bytes:
        f = list(self.fields)
        f[9], f[10], f[11] = len(self.name), len(self.extra), len(self.comment)
        return CEN.pack(b"PK\x01\x02", *f) + self.name + self.extra + self.comment


@dataclass
class Split:
    """A plain (non-zip64) zip cut into: everything before the central directory, the headers, the comment."""

    body: bytearray
    cens: list[Cen]
    comment: bytes

    def local_field(self, i: int, index: int) -> int:
        return LOC.unpack_from(self.body, self.cens[i].fields[C_OFFSET])[1 + index]

    def set_local(self, i: int, index: int, value: int) -> None:
        at = self.cens[i].fields[C_OFFSET]
        f = list(LOC.unpack_from(self.body, at))
        f[1 + index] = value
        self.body[at:at + LOC.size] = LOC.pack(*f)

    def local_name_span(self, i: int) -> tuple[int, int]:
        at = self.cens[i].fields[C_OFFSET]
        nlen = LOC.unpack_from(self.body, at)[9]
        return at + LOC.size, at + LOC.size + nlen

    def data_span(self, i: int) -> tuple[int, int]:
        at = self.cens[i].fields[C_OFFSET]
        f = LOC.unpack_from(self.body, at)
        start = at + LOC.size + f[9] + f[10]
        return start, start + self.cens[i].fields[C_CSIZE]

    def insert(self, at: int, junk: bytes) -> None:
        """Insert raw bytes into the body, moving every local header at or after ``at``."""
        self.body[at:at] = junk
        for c in self.cens:
            if c.fields[C_OFFSET] >= at:
                c.fields[C_OFFSET] += len(junk)

    def join(self, count: int | None = None, zip64: bool = False, z64_count: int | None = None) -> bytes:
        cd = b"".join(c.pack() for c in self.cens)
        n = len(self.cens) if count is None else count
        out = bytearray(self.body)
        cd_off = len(out)
        out += cd
        if zip64:
            z64_at = len(out)
            zn = len(self.cens) if z64_count is None else z64_count
            out += Z64_EOCD.pack(b"PK\x06\x06", 44, 45, 45, 0, 0, zn, zn, len(cd), cd_off)
            out += Z64_LOC.pack(b"PK\x06\x07", 0, z64_at, 1)
            out += EOCD.pack(b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, len(self.comment))
        else:
            out += EOCD.pack(b"PK\x05\x06", 0, 0, n, n, len(cd), cd_off, len(self.comment))
        return bytes(out + self.comment)


def split(data: bytes) -> Split:
    at = data.rfind(b"PK\x05\x06")
    assert at >= 0
    _sig, _d, _cd, _de, total, cd_size, cd_off, clen = EOCD.unpack_from(data, at)
    assert cd_off + cd_size == at, "split() handles plain zips without prefix only"
    cens = []
    pos = cd_off
    for _ in range(total):
        f = list(CEN.unpack_from(data, pos))[1:]
        p = pos + CEN.size
        name = data[p:p + f[9]]
        extra = data[p + f[9]:p + f[9] + f[10]]
        comment = data[p + f[9] + f[10]:p + f[9] + f[10] + f[11]]
        cens.append(Cen(f, name, extra, comment))
        pos = p + f[9] + f[10] + f[11]
    return Split(bytearray(data[:cd_off]), cens, data[at + EOCD.size:at + EOCD.size + clen])


# ------------------------------------------------------------------------------------ fixtures

def base_items() -> list[Item]:
    return [
        Item("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\r\nCreated-By: test\r\n\r\n"),
        Item("com/example/A.class", b"\xca\xfe\xba\xbe\x00\x00\x00\x37" + bytes(range(256)) * 4),
        Item("com/example/b.txt", b"hello world\n" * 20, method=zipfile.ZIP_STORED),
    ]


GOOD = make_zip(base_items())
STREAMED = make_zip(base_items(), streamed=True)


def codes(data: bytes) -> list[str]:
    return [f.code for f in read_zip(data).findings]


def test_fixtures_are_clean() -> None:
    assert read_zip(GOOD).findings == []
    assert read_zip(STREAMED).findings == []
    assert all(m.local.descriptor for m in read_zip(STREAMED).members)


# ------------------------------------------------------------------------------------ round trips: real JARs

REAL = real_jars()


def _zip_bytes(path: Path) -> bytes:
    data = path.read_bytes()
    return data[4:] if data[:4] == b"JM\x01\x00" else data


@pytest.mark.slow
@pytest.mark.parametrize(
    "path",
    [pytest.param(p, id=p.name) for p in REAL]
    or [pytest.param(None, marks=pytest.mark.skip(reason="no real JARs: no JDK lib/jmods and no /usr/share/java"))],
)
def test_real_jar_round_trip_without_findings(path: Path) -> None:
    data = _zip_bytes(path)
    z = read_zip(data)
    assert z.to_bytes() == data
    assert z.findings == []
    # The reader saw every entry zipfile sees, in the same order.
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert [m.name for m in z.members] == [i.orig_filename.encode("utf-8") if i.flag_bits & 0x800
                                                 else i.orig_filename.encode("cp437") for i in zf.infolist()]


def _jar_tool_jars(tmp: Path) -> list[Path]:
    javac, jar = jdk_tool("javac"), jdk_tool("jar")
    if javac is None or jar is None:
        pytest.skip("no JDK (javac/jar) installed")
    src = tmp / "src" / "p"
    src.mkdir(parents=True)
    (src / "Hello.java").write_text("package p;\npublic class Hello {\n"
                                    "  public static void main(String[] a) { System.out.println(\"hi\"); }\n}\n")
    classes = tmp / "classes"
    subprocess.run([javac, "-d", str(classes), str(src / "Hello.java")], check=True, capture_output=True)
    (classes / "p" / "res.txt").write_text("resource\n" * 50)
    outs = []
    for name, opts in (("plain.jar", []), ("stored.jar", ["--no-compress"]), ("nomanifest.jar", ["-M"])):
        out = tmp / name
        subprocess.run([jar, "--create", "--file", str(out), *opts, "-C", str(classes), "."],
                       check=True, capture_output=True)
        outs.append(out)
    return outs


def test_jar_tool_round_trip(tmp_path: Path, hello_jar: Path) -> None:
    for path in [hello_jar, *_jar_tool_jars(tmp_path)]:
        data = path.read_bytes()
        z = read_zip(data)
        assert z.to_bytes() == data, path.name
        assert z.findings == [], path.name
        assert any(m.name in {b"p/Hello.class", b"demo/Main.class"} for m in z.members)


# ------------------------------------------------------------------------------------ round trips: zipfile

def _zip64_forced(streamed: bool) -> bytes:
    sink: io.BytesIO | StreamSink = StreamSink() if streamed else io.BytesIO()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as zf:  # type: ignore[arg-type]
        for i in range(3):
            with zf.open(f"dir/f{i}.bin", "w", force_zip64=True) as fh:
                fh.write(bytes([i]) * 5000 + b"tail")
    return bytes(sink.buf) if isinstance(sink, StreamSink) else sink.getvalue()


ZIPFILE_CASES: dict[str, Callable[[], bytes]] = {
    "stored": lambda: make_zip([Item("a.txt", b"abc" * 100, method=zipfile.ZIP_STORED), Item("d/", b"")]),
    "deflated": lambda: make_zip([Item("a.txt", b"abc" * 100), Item("b.bin", bytes(range(256)), level=1)]),
    "empty-archive": lambda: make_zip([]),
    "empty-entry": lambda: make_zip([Item("empty.txt", b""), Item("empty-stored", b"", method=0)]),
    "streamed": lambda: STREAMED,
    "streamed-stored": lambda: make_zip([Item("s", b"x" * 99, method=zipfile.ZIP_STORED)], streamed=True),
    "zip64-forced": lambda: _zip64_forced(False),
    "zip64-forced-streamed": lambda: _zip64_forced(True),
    "zip64-end-record": lambda: split(GOOD).join(zip64=True),
    "comments": lambda: make_zip([Item("a", b"1", comment=b"entry comment"), Item("b", b"2", comment=b"x" * 300)],
                                 comment=b"archive comment \xff"),
    "long-archive-comment": lambda: make_zip([Item("a", b"1")], comment=b"c" * (0xFFFF - 64)),
    "extra-fields": lambda: make_zip([Item("a", b"1", extra=b"\xfe\xca\x00\x00"),
                                      Item("b", b"2", extra=struct.pack("<HHBI", 0x5455, 5, 1, 1234567))]),
    "no-unix-mode": lambda: make_zip([Item("a", b"1", mode=None)]),
    "utf8-name": lambda: make_zip([Item("r\u00e9sum\u00e9/\u65e5\u672c.txt", b"1")]),
}

JUNK_CASES: dict[str, tuple[bytes, bytes, set[str]]] = {
    "none": (b"", b"", set()),
    "prefix": (b"#!/bin/sh\nexec java -jar \"$0\" \"$@\"\n", b"", {"prefix-data"}),
    "trailing": (b"", b"trailing junk\n", {"trailing-data"}),
    "both": (b"MZ" + bytes(100), b"\x00" * 7, {"prefix-data", "trailing-data"}),
}


@pytest.mark.parametrize("junk", sorted(JUNK_CASES))
@pytest.mark.parametrize("case", sorted(ZIPFILE_CASES))
def test_zipfile_round_trip(case: str, junk: str) -> None:
    prefix, trailing, expected_codes = JUNK_CASES[junk]
    expected = set(expected_codes)
    inner = ZIPFILE_CASES[case]()
    data = prefix + inner + trailing
    z = read_zip(data)
    assert z.to_bytes() == data
    if case == "zip64-end-record" and prefix:
        # The locator's absolute offset is shifted like every other offset: reported on top of prefix-data.
        expected.add("zip64-offset-mismatch")
    assert {f.code for f in z.findings} == expected
    with zipfile.ZipFile(io.BytesIO(inner)) as zf:
        infos = zf.infolist()
    assert len(z.members) == len(infos)
    for m, info in zip(z.members, infos, strict=True):
        assert m.central.crc == info.CRC
        assert m.central.usize == info.file_size
        assert m.central.csize == info.compress_size
        assert len(m.local.data) == info.compress_size
    assert z.comment == zipfile.ZipFile(io.BytesIO(inner)).comment
    assert z.shift == len(prefix)


def test_prefix_with_adjusted_offsets_round_trips() -> None:
    """A prefix that the offsets account for (zipfile writing into a non-empty file) is still reported."""
    buf = io.BytesIO()
    buf.write(b"PREFIX" * 10)
    with zipfile.ZipFile(buf, "a") as zf:
        zf.writestr("a.txt", b"abc")
    data = buf.getvalue()
    z = read_zip(data)
    assert z.to_bytes() == data
    assert [f.code for f in z.findings] == ["prefix-data"]


# ------------------------------------------------------------------------------------ round trips: property



def no_p(max_size: int) -> st.SearchStrategy[bytes]:
    """Binary data without 'P': it cannot spell a zip signature, so the archive stays unambiguous."""
    return st.binary(max_size=max_size).map(lambda b: b.replace(b"P", b"Q"))


NAME = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABC0123456789_-./$", min_size=1, max_size=40)
ITEM = st.builds(
    Item,
    name=NAME,
    data=st.one_of(no_p(600), st.sampled_from([b"", b"\x00" * 5000, b"text\n" * 300])),
    date_time=st.tuples(st.integers(1980, 2107), st.integers(1, 12), st.integers(1, 28),
                        st.integers(0, 23), st.integers(0, 59), st.integers(0, 59)),
    mode=st.sampled_from([None, 0o644, 0o755, 0o600, 0o777]),
    method=st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED]),
    level=st.one_of(st.none(), st.integers(0, 9)),
    extra=st.sampled_from([b"", b"\xfe\xca\x00\x00", struct.pack("<HHBI", 0x5455, 5, 1, 1577836800),
                           struct.pack("<HH3s", 0x6666, 3, b"abc")]),
    comment=no_p(20),
)
JUNK = no_p(300)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(items=st.lists(ITEM, max_size=8), comment=no_p(40),
       streamed=st.booleans(), prefix=JUNK, trailing=JUNK)
def test_round_trip_property(items: list[Item], comment: bytes, streamed: bool, prefix: bytes,
                             trailing: bytes) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate names
        inner = make_zip(items, comment=comment, streamed=streamed)
    data = prefix + inner + trailing
    z = read_zip(data)
    assert z.to_bytes() == data
    assert [m.name for m in z.members] == [it.name.encode() for it in items]
    assert z.comment == comment
    expected = set()
    if prefix:
        expected.add("prefix-data")
    if trailing:
        expected.add("trailing-data")
    if len({it.name for it in items}) != len(items):
        expected.add("duplicate-name")
    if any(".." in it.name.split("/") for it in items):
        expected.add("traversal-name")
    if any(it.name.startswith("/") for it in items):
        expected.add("absolute-name")
    if any(it.name.endswith("/") and it.data for it in items):
        expected.add("directory-with-data")
    assert {f.code for f in z.findings} == expected


# ------------------------------------------------------------------------------------ anomalies


def _dup_name() -> bytes:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return make_zip([*base_items(), Item("com/example/b.txt", b"second copy")])


def _local(index: int, xor: int = 0, value: int | None = None, entry: int = 1) -> Callable[[], bytes]:
    def build() -> bytes:
        s = split(GOOD)
        old = s.local_field(entry, index)
        s.set_local(entry, index, value if value is not None else old ^ xor)
        return s.join()
    return build


def _local_name() -> bytes:
    s = split(GOOD)
    a, b = s.local_name_span(1)
    assert s.body[a:b] == b"com/example/A.class"
    s.body[a:b] = b"com/example/Z.class"
    return s.join()


def _both(entry: int, central_index: int, local_index: int, fn: Callable[[int], int]) -> Callable[[], bytes]:
    def build() -> bytes:
        s = split(GOOD)
        s.cens[entry].fields[central_index] = fn(s.cens[entry].fields[central_index])
        s.set_local(entry, local_index, fn(s.local_field(entry, local_index)))
        return s.join()
    return build


def _prefix_shifted() -> bytes:
    return b"#!/bin/sh\n" + GOOD


def _hidden() -> bytes:
    s = split(GOOD)
    s.insert(s.cens[1].fields[C_OFFSET], b"hidden payload between entries")
    return s.join()


def _hidden_before_cd() -> bytes:
    s = split(GOOD)
    s.body += b"hidden before the central directory"
    return s.join()


def _overlap() -> bytes:
    s = split(GOOD)
    s.cens.append(copy.deepcopy(s.cens[1]))
    return s.join()


def _overlap_renamed() -> bytes:
    """Two differently named central entries share one local header."""
    s = split(GOOD)
    twin = copy.deepcopy(s.cens[2])
    twin.name = b"com/example/c.txt"
    s.cens.append(twin)
    return s.join()


def _overlap_inside_data() -> bytes:
    """A second entry whose local header lies inside the (stored) data of the first: overlapping records."""
    name, payload = b"com/example/inner.txt", b"inner payload\n" * 4
    crc = zipfile.crc32(payload)
    inner = LOC.pack(b"PK\x03\x04", 20, 0, 0, 0, 0, crc, len(payload), len(payload), len(name), 0) + name + payload
    s = split(make_zip([Item("com/example/outer.bin", inner, method=zipfile.ZIP_STORED)]))
    twin = copy.deepcopy(s.cens[0])
    twin.name = name
    twin.fields[C_CRC], twin.fields[C_CSIZE], twin.fields[C_USIZE] = crc, len(payload), len(payload)
    twin.fields[C_OFFSET] = s.data_span(0)[0]
    s.cens.append(twin)
    return s.join()


def _out_of_order() -> bytes:
    s = split(GOOD)
    s.cens.reverse()
    return s.join()


def _symlink() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\r\n\r\n")
        zi = zipfile.ZipInfo("com/example/link", (2020, 1, 2, 3, 4, 6))
        zi.create_system = 3
        zi.external_attr = 0o120777 << 16
        zf.writestr(zi, b"/etc/passwd")
    return buf.getvalue()


def _named(name: str) -> Callable[[], bytes]:
    return lambda: make_zip([*base_items(), Item(name, b"payload")])


def _nul_name() -> bytes:
    data = make_zip([*base_items(), Item("com/example/evil.txtXhidden", b"payload")])
    assert data.count(b"evil.txtX") == 2  # local and central name
    return data.replace(b"evil.txtX", b"evil.txt\x00")


def _count(delta: int) -> Callable[[], bytes]:
    return lambda: split(GOOD).join(count=len(split(GOOD).cens) + delta)


def _zip64_count_disagrees() -> bytes:
    s = split(GOOD)
    return s.join(zip64=True, z64_count=len(s.cens) + 2)


def _bad_descriptor() -> bytes:
    data = bytearray(STREAMED)
    at = data.find(b"PK\x07\x08")
    assert at > 0 and data.count(b"PK\x07\x08") == len(base_items())
    data[at + 4] ^= 0xFF  # CRC in the first data descriptor
    return bytes(data)


def _missing_descriptor() -> bytes:
    """Flag bit 3 set in both headers of a seekable zip: nothing after the data is a descriptor."""
    return _both(1, C_FLAGS, L_FLAGS, lambda v: v | 0x0008)()


# code, builder, words that the finding message must contain
ANOMALIES: dict[str, tuple[str, Callable[[], bytes], tuple[str, ...]]] = {
    "duplicate-name": ("duplicate-name", _dup_name, ("2 times",)),
    "mismatch-name": ("local-central-mismatch", _local_name, ("name", "Z.class")),
    "mismatch-method": ("local-central-mismatch", _local(L_METHOD, value=0), ("method",)),
    "mismatch-crc": ("local-central-mismatch", _local(L_CRC, xor=1), ("CRC",)),
    "mismatch-csize": ("local-central-mismatch", _local(L_CSIZE, xor=4), ("sizes",)),
    "mismatch-usize": ("local-central-mismatch", _local(L_USIZE, xor=4), ("sizes",)),
    "mismatch-flags": ("local-central-mismatch", _local(L_FLAGS, xor=0x0800), ("flags",)),
    "prefix-data": ("prefix-data", _prefix_shifted, ()),
    "trailing-data": ("trailing-data", lambda: GOOD + b"\n# appended\n", ("12 bytes",)),
    "hidden-data": ("hidden-data", _hidden, ("30 bytes",)),
    "hidden-data-before-cd": ("hidden-data", _hidden_before_cd, ()),
    "overlapping-entries": ("overlapping-entries", _overlap, ()),
    "overlapping-entries-renamed": ("overlapping-entries", _overlap_renamed, ()),
    "overlapping-entries-inside-data": ("overlapping-entries", _overlap_inside_data, ("overlaps",)),
    "out-of-order-entries": ("out-of-order-entries", _out_of_order, ()),
    "encrypted-entry": ("encrypted-entry", _both(1, C_FLAGS, L_FLAGS, lambda v: v | 0x0001), ()),
    "strong-encryption": ("encrypted-entry", _both(1, C_FLAGS, L_FLAGS, lambda v: v | 0x0041), ()),
    "unknown-method": ("unknown-method", _both(1, C_METHOD, L_METHOD, lambda v: 12), ("12",)),
    "symlink-entry": ("symlink-entry", _symlink, ()),
    "absolute-name": ("absolute-name", _named("/etc/passwd"), ()),
    "absolute-name-drive": ("absolute-name", _named("C:/Windows/evil.dll"), ()),
    "traversal-name": ("traversal-name", _named("../../evil.sh"), ()),
    "traversal-name-inner": ("traversal-name", _named("com/example/../../../evil.sh"), ()),
    "backslash-name": ("backslash-name", _named("com\\example\\C.class"), ()),
    "backslash-traversal": ("traversal-name", _named("..\\evil.sh"), ()),
    "nul-name": ("nul-name", _nul_name, ()),
    "entry-count-more": ("entry-count-mismatch", _count(+1), ("4", "3")),
    "entry-count-fewer": ("entry-count-mismatch", _count(-1), ("2", "3")),
    "entry-count-zip64": ("entry-count-mismatch", _zip64_count_disagrees, ()),
    "descriptor-mismatch": ("descriptor-mismatch", _bad_descriptor, ()),
    "descriptor-missing": ("descriptor-mismatch", _missing_descriptor, ()),
}


@pytest.mark.parametrize("case", sorted(ANOMALIES))
def test_anomaly_is_a_finding(case: str) -> None:
    code, build, words = ANOMALIES[case]
    bad = build()
    assert bad != GOOD
    z = read_zip(bad)
    assert z.to_bytes() == bad  # anomalies are kept, not normalized
    hits = [f for f in z.findings if f.code == code]
    assert hits, f"expected {code}, got {[f.code for f in z.findings]}"
    for word in words:
        assert any(word in f.message for f in hits), (word, hits)


@pytest.mark.parametrize("case", sorted(ANOMALIES))
def test_anomaly_makes_the_verdict_different(case: str) -> None:
    code, build, _words = ANOMALIES[case]
    bad = build()
    for ref, reb, side in ((GOOD, bad, "rebuild"), (bad, GOOD, "reference")):
        out = compare_bytes(ref, reb, stabilizers=STABS)
        assert out.verdict is Verdict.DIFFERENT, out.error
        assert any(f.code == code and f.side == side for f in out.findings)
        assert not any(f.side != side for f in out.findings)
    same = compare_bytes(bad, bad, stabilizers=STABS)
    assert same.verdict is Verdict.IDENTICAL
    assert {f.side for f in same.findings if f.code == code} == {"reference", "rebuild"}


def test_anomaly_finding_paths_name_the_entry() -> None:
    # control characters are escaped in displayed paths so a name cannot forge report lines
    cases = {"nul-name": "com/example/evil.txt\\x00hidden", "traversal-name": "../../evil.sh",
             "duplicate-name": "com/example/b.txt", "encrypted-entry": "com/example/A.class",
             "unknown-method": "com/example/A.class", "symlink-entry": "com/example/link",
             "mismatch-crc": "com/example/A.class"}
    for case, path in cases.items():
        code, build, _ = ANOMALIES[case]
        assert any(f.code == code and f.path == path for f in read_zip(build()).findings), case


def test_other_findings() -> None:
    """Findings outside the main list: directory data, a fake end record in the comment, missing zip64 extra."""
    assert "directory-with-data" in codes(make_zip([Item("dir/", b"data")]))
    # A second end record inside the comment that also ends exactly at the end of the file: ambiguous.
    fake_end = EOCD.pack(b"PK\x05\x06", 0, 0, 0, 0, 0, 0, 4)
    data = make_zip(base_items(), comment=b"note: " + fake_end + b" end")
    z = read_zip(data)
    assert "multiple-end-records" in [f.code for f in z.findings]
    assert z.to_bytes() == data
    assert compare_bytes(GOOD, data, stabilizers=STABS).verdict is Verdict.DIFFERENT
    s = split(GOOD)
    s.cens[1].fields[C_USIZE] = 0xFFFFFFFF
    data = s.join()
    assert "zip64-extra-missing" in codes(data)
    assert read_zip(data).to_bytes() == data


def test_zip64_end_record_without_anomaly() -> None:
    data = split(GOOD).join(zip64=True)
    z = read_zip(data)
    assert z.zip64_end is not None and z.zip64_locator is not None
    assert z.findings == []
    assert z.to_bytes() == data
    assert compare_bytes(GOOD, data, stabilizers=STABS).verdict is Verdict.EQUIVALENT


def test_zip64_locator_with_wrong_offset_is_found_and_reported() -> None:
    data = bytearray(split(GOOD).join(zip64=True))
    loc = data.rfind(b"PK\x06\x07")
    struct.pack_into("<Q", data, loc + 8, 3)  # points into the first local header
    z = read_zip(bytes(data))
    assert "zip64-offset-mismatch" in {f.code for f in z.findings}
    assert z.to_bytes() == bytes(data)


def test_central_directory_comment_and_extra_are_kept() -> None:
    s = split(GOOD)
    s.cens[0].extra = struct.pack("<HH4s", 0x7777, 4, b"abcd")
    s.cens[0].comment = b"a comment"
    data = s.join()
    z = read_zip(data)
    assert z.members[0].central.extra == s.cens[0].extra
    assert z.members[0].central.comment == b"a comment"
    assert z.findings == []
    assert z.to_bytes() == data


# ------------------------------------------------------------------------------------ unreadable inputs


def _assert_unreadable(data: bytes) -> None:
    with pytest.raises(ArchiveError) as info:
        read_zip(data)
    assert "\n" not in str(info.value) and str(info.value)
    out = compare_bytes(GOOD, data, stabilizers=STABS)
    assert out.verdict is Verdict.ERROR
    assert out.error is not None and "\n" not in out.error and out.error.startswith("rebuild: ")
    back = compare_bytes(data, GOOD, stabilizers=STABS)
    assert back.verdict is Verdict.ERROR and back.error is not None and back.error.startswith("reference: ")


@pytest.mark.parametrize("data", [b"", b"PK", b"not a zip archive at all\n" * 40, bytes(range(256)) * 3,
                                  b"PK\x03\x04" + bytes(100), b"PK\x05\x06"],
                         ids=["empty", "two-bytes", "text", "binary", "local-header-only", "bare-signature"])
def test_not_a_zip(data: bytes) -> None:
    _assert_unreadable(data)


def _regions(data: bytes) -> dict[str, list[int]]:
    s = split(data)
    regions: dict[str, list[int]] = {"local-header": [], "data": [], "central-directory": [], "end-record": []}
    for i, c in enumerate(s.cens):
        a = c.fields[C_OFFSET]
        d0, d1 = s.data_span(i)
        regions["local-header"] += range(a + 1, d0)
        regions["data"] += range(d0 + 1, d1)
    cd_start = len(s.body)
    eocd = data.rfind(b"PK\x05\x06")
    regions["central-directory"] += range(cd_start, eocd)
    regions["end-record"] += range(eocd, len(data))
    return regions


@pytest.mark.parametrize("region", ["local-header", "data", "central-directory", "end-record"])
@pytest.mark.parametrize("which", ["plain", "streamed"])
def test_truncated(region: str, which: str) -> None:
    data = GOOD if which == "plain" else STREAMED
    offsets = _regions(data)[region]
    assert offsets
    for k in offsets:
        with pytest.raises(ArchiveError):
            read_zip(data[:k])
    for k in offsets[:: max(1, len(offsets) // 12)]:
        _assert_unreadable(data[:k])


def _eocd_field(data: bytes, index: int, value: int) -> bytes:
    out = bytearray(data)
    at = out.rfind(b"PK\x05\x06")
    f = list(EOCD.unpack_from(out, at))
    f[index] = value
    EOCD.pack_into(out, at, *f)
    return bytes(out)


@pytest.mark.parametrize("case", ["offset-past-end", "offset-max", "offset-too-small", "size-too-big",
                                  "size-too-small", "size-huge"])
def test_central_directory_pointing_nowhere(case: str) -> None:
    s = split(GOOD)
    cd_off, cd_size = len(s.body), sum(len(c.pack()) for c in s.cens)
    data = {
        "offset-past-end": lambda: _eocd_field(GOOD, 6, len(GOOD) + 1000),
        "offset-max": lambda: _eocd_field(GOOD, 6, 0xFFFFFFFF),
        "offset-too-small": lambda: _eocd_field(GOOD, 6, cd_off - 7),
        "size-too-big": lambda: _eocd_field(GOOD, 5, cd_size + 5),
        "size-too-small": lambda: _eocd_field(GOOD, 5, cd_size - 5),
        "size-huge": lambda: _eocd_field(GOOD, 5, 0xFFFFFFF0),
    }[case]()
    _assert_unreadable(data)


def test_local_offset_pointing_nowhere() -> None:
    s = split(GOOD)
    s.cens[1].fields[C_OFFSET] += 3
    _assert_unreadable(s.join())
    s = split(GOOD)
    s.cens[1].fields[C_OFFSET] = 0xFFFFFF00
    _assert_unreadable(s.join())


def test_data_running_past_the_end() -> None:
    s = split(GOOD)
    s.cens[2].fields[C_CSIZE] = 0x7FFFFFFF
    _assert_unreadable(s.join())


@pytest.mark.parametrize("case", ["no-record", "record-damaged", "impossible-size"])
def test_zip64_locator_pointing_nowhere(case: str) -> None:
    data = bytearray(split(GOOD).join(zip64=True))
    loc = data.rfind(b"PK\x06\x07")
    rec = data.rfind(b"PK\x06\x06")
    if case == "no-record":
        struct.pack_into("<Q", data, loc + 8, 0x7FFFFFFF00)
        data[rec:rec + 4] = b"XXXX"
    elif case == "record-damaged":
        struct.pack_into("<Q", data, loc + 8, 0)
        data[rec:rec + 4] = b"PK\x06\x00"
    else:
        struct.pack_into("<Q", data, rec + 4, 0xFFFFFFFFFF)
    _assert_unreadable(bytes(data))


MUTATION = st.one_of(
    st.tuples(st.just("flip"), st.integers(0, 10**6), st.integers(1, 255)),
    st.tuples(st.just("delete"), st.integers(0, 10**6), st.integers(1, 40)),
    st.tuples(st.just("insert"), st.integers(0, 10**6), st.binary(min_size=1, max_size=30)),
)


@settings(max_examples=150, deadline=None)
@given(mutations=st.lists(MUTATION, min_size=1, max_size=4), streamed=st.booleans())
def test_corrupted_archives_never_raise_anything_else(mutations: list[tuple[object, ...]], streamed: bool) -> None:
    data = bytearray(STREAMED if streamed else GOOD)
    for kind, pos, arg in mutations:
        assert isinstance(pos, int)
        at = pos % (len(data) + 1)
        if kind == "flip" and at < len(data):
            assert isinstance(arg, int)
            data[at] ^= arg
        elif kind == "delete":
            assert isinstance(arg, int)
            del data[at:at + arg]
        elif kind == "insert":
            assert isinstance(arg, bytes)
            data[at:at] = arg
    blob = bytes(data)
    try:
        z = read_zip(blob)
    except CanonjarError as exc:
        assert "\n" not in str(exc)
    else:
        assert z.to_bytes() == blob
    out = compare_bytes(GOOD, blob, stabilizers=STABS)
    if out.verdict is Verdict.ERROR:
        assert out.error is not None and "\n" not in out.error
    else:
        assert out.error is None
