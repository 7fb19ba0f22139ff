"""Property tests for every parser of untrusted input: it parses, or it raises the project's own typed error.

Inputs are random bytes and structure-aware mutations of real files (a Debian library JAR, its classes,
manifests and pom.properties). When a parser accepts an input it must also give it back byte for byte where
the format promises that (zip, class file, manifest, properties). Every built-in stabilizer, called directly
on random content under a name it applies to, must return an entry or archive or raise a
:class:`canonjar.CanonjarError` (anything else would be a crash hidden as a "stabilizer failed" skip).
"""

from __future__ import annotations

import contextlib
import functools
import io
import struct
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from canonjar import CanonjarError, Verdict, compare_bytes
from canonjar.classfile import ClassFormatError, read_class, write_class
from canonjar.errors import ArchiveError, LimitExceeded, StabilizerSkip
from canonjar.formats import manifest as mf
from canonjar.formats import properties as props
from canonjar.formats import sbom
from canonjar.formats.javasrc import java_tokens_equal
from canonjar.limits import Budget, Limits
from canonjar.model import Archive, Entry, Payload
from canonjar.pipeline import Context, Scope, Side
from canonjar.stabilizers import BUILTIN
from canonjar.stabilizers.git_properties import parse_pom
from canonjar.zipfmt import read_zip
from tests.hostile import real_small_jar

REAL = real_small_jar()
pytestmark = pytest.mark.skipif(REAL is None, reason="no small real library JAR (commons-cli, aopalliance...)")
FAST = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
LIMITS = Limits(max_entry_size=8 * 1024 * 1024, max_total_size=64 * 1024 * 1024)


@functools.cache
def real_jar() -> bytes:
    assert REAL is not None
    return REAL.read_bytes()


@functools.cache
def real_members() -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(real_jar())) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist() if not i.is_dir()}


@functools.cache
def debian_files(suffix: str, limit: int = 12) -> tuple[bytes, ...]:
    """Files ending in ``suffix`` from a few Debian JARs (manifests, pom.properties...), as mutation seeds."""
    found: list[bytes] = []
    for jar in sorted(Path("/usr/share/java").glob("*.jar"))[:40]:
        if jar.is_symlink():
            continue
        try:
            with zipfile.ZipFile(jar) as zf:
                found += [zf.read(n) for n in zf.namelist() if n.endswith(suffix)][:2]
        except (zipfile.BadZipFile, OSError):
            continue
        if len(found) >= limit:
            break
    return tuple(found) or tuple(d for n, d in real_members().items() if n.endswith(suffix))


@functools.cache
def real_classes() -> tuple[bytes, ...]:
    return tuple(d for n, d in sorted(real_members().items()) if n.endswith(".class"))


@functools.cache
def zip_field_offsets() -> tuple[int, ...]:
    """Offsets of every header field of the real JAR (local and central headers, end record), to aim at."""
    data = real_jar()
    offs: list[int] = []
    eocd = data.rfind(b"PK\x05\x06")
    offs += [eocd + k for k in (4, 6, 8, 10, 12, 16, 20)]
    cd_off = struct.unpack_from("<I", data, eocd + 16)[0]
    pos = cd_off
    while data[pos:pos + 4] == b"PK\x01\x02":
        offs += [pos + k for k in (4, 6, 8, 10, 16, 20, 24, 28, 30, 32, 34, 38, 42)]
        loff = struct.unpack_from("<I", data, pos + 42)[0]
        offs += [loff + k for k in (4, 6, 8, 14, 18, 22, 26, 28)]
        nlen, elen, clen = struct.unpack_from("<HHH", data, pos + 28)
        pos += 46 + nlen + elen + clen
    return tuple(offs)


def _mutate(draw: st.DrawFn, data: bytearray, offsets: tuple[int, ...] = ()) -> bytes:
    """1-4 mutations: bit flips, byte and 16/32-bit field overwrites (aimed at ``offsets`` when given),
    inserts, deletes and truncation."""
    for _ in range(draw(st.integers(1, 4))):
        aimed: bool = draw(st.booleans())
        anywhere = st.integers(0, max(len(data) - 1, 0))
        pos = draw(st.sampled_from(offsets) if offsets and aimed else anywhere)
        kind = draw(st.sampled_from(["flip", "u16", "u32", "insert", "delete", "truncate"]))
        if kind == "flip" and data:
            data[pos % len(data)] ^= 1 << draw(st.integers(0, 7))
        elif kind == "u16":
            v = draw(st.sampled_from([0, 1, 0x7FFF, 0xFFFF]) | st.integers(0, 0xFFFF))
            data[pos:pos + 2] = v.to_bytes(2, "little")
        elif kind == "u32":
            v = draw(st.sampled_from([0, 0x7FFFFFFF, 0xFFFFFFFF]) | st.integers(0, 2**32 - 1))
            data[pos:pos + 4] = v.to_bytes(4, "little")
        elif kind == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=16))
        elif kind == "delete":
            del data[pos:pos + draw(st.integers(1, 64))]
        else:
            del data[pos:]
    return bytes(data)


@st.composite
def mutated_jar(draw: st.DrawFn) -> bytes:
    return _mutate(draw, bytearray(real_jar()), zip_field_offsets())


@st.composite
def mutated_class(draw: st.DrawFn) -> bytes:
    seed = draw(st.sampled_from(real_classes()))
    # class files are big-endian: aim 16-bit overwrites at the counts and indices after the header too
    return _mutate(draw, bytearray(seed), (8, 10, len(seed) - 2, len(seed) - 6))


@st.composite
def mutated_text(draw: st.DrawFn, suffix: str) -> bytes:
    seed = draw(st.sampled_from(debian_files(suffix)))
    return _mutate(draw, bytearray(seed))


# ------------------------------------------------------------------------------------------ zip


def check_zip(data: bytes) -> None:
    try:
        z = read_zip(data, LIMITS)
    except (ArchiveError, LimitExceeded) as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    assert z.to_bytes() == data
    for f in z.findings:
        assert "\n" not in f.path and "\n" not in f.message


@FAST
@given(mutated_jar())
def test_zip_reader_on_mutated_real_jar(data: bytes) -> None:
    check_zip(data)


@FAST
@given(st.binary(max_size=600) | st.binary(max_size=200).map(lambda b: b + b"PK\x05\x06" + bytes(18)))
def test_zip_reader_on_random_bytes(data: bytes) -> None:
    check_zip(data)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(mutated_jar())
def test_compare_of_mutated_real_jar_is_an_outcome(data: bytes) -> None:
    """The whole comparison (reader, stabilizers, comparison, taxonomy) on a damaged real JAR: an outcome, never
    an exception; any change that survives reading is "different" or an error, never "equivalent"."""
    out = compare_bytes(real_jar(), data, limits=LIMITS)
    assert out.verdict in (Verdict.DIFFERENT, Verdict.ERROR, Verdict.IDENTICAL, Verdict.EQUIVALENT)
    if out.verdict is Verdict.ERROR:
        assert out.error and "\n" not in out.error
    if data == real_jar():
        assert out.verdict is Verdict.IDENTICAL


# ------------------------------------------------------------------------------------------ class files


def check_class(data: bytes) -> None:
    try:
        cf = read_class(data)
    except ClassFormatError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    assert write_class(cf) == data
    with contextlib.suppress(ClassFormatError):
        cf.check_deep()


@FAST
@given(mutated_class())
def test_class_reader_on_mutated_real_classes(data: bytes) -> None:
    check_class(data)


@FAST
@given(st.binary(max_size=300).map(lambda b: b"\xca\xfe\xba\xbe\x00\x00\x00\x34" + b))
def test_class_reader_on_random_bytes_after_the_magic(data: bytes) -> None:
    check_class(data)


# ------------------------------------------------------------------------------------------ text formats


@FAST
@given(mutated_text("MANIFEST.MF") | st.binary(max_size=300))
def test_manifest_parser(data: bytes) -> None:
    try:
        m = mf.parse(data)
    except mf.ManifestError as exc:
        assert "\n" not in str(exc)
        return
    assert m.to_bytes() == data


@FAST
@given(mutated_text("pom.properties") | st.binary(max_size=300), st.sampled_from(props.ENCODINGS))
def test_properties_parser(data: bytes, encoding: str) -> None:
    try:
        pf = props.parse(data, encoding)
    except props.PropertiesError as exc:
        assert "\n" not in str(exc)
        return
    assert props.render(pf.items) == data
    assert b"".join(i.raw for i in pf.items) == data


JSON_BITS = st.sampled_from([b"{", b"}", b"[", b"]", b'"', b":", b",", b"1e999", b"NaN", b"-0", b"true", b"null",
                             b'"\\ud800"', b'"a"', b"\xff", b" ", b'{"a":1,"a":2}'])


@FAST
@given(st.lists(JSON_BITS, max_size=40).map(b"".join) | st.binary(max_size=200))
def test_sbom_json_parser(data: bytes) -> None:
    try:
        value = sbom.parse_json(data)
    except sbom.SbomError:
        return
    with contextlib.suppress(sbom.SbomError):
        sbom.parse_json(sbom.dump_json(value))


XML_BITS = st.sampled_from([b"<a>", b"</a>", b"<b x='1'/>", b"<!DOCTYPE a>", b"<!ENTITY e 'x'>", b"&e;", b"&amp;",
                            b"<![CDATA[x]]>", b"<?xml version='1.0' encoding='UTF-16'?>", b"<!-- c -->", b"\x00",
                            b"\xff\xfe", b"text", b'<bom xmlns="http://cyclonedx.org/schema/bom/1.5">', b"</bom>"])


@FAST
@given(st.lists(XML_BITS, max_size=30).map(b"".join) | st.binary(max_size=200))
def test_sbom_xml_parser(data: bytes) -> None:
    try:
        tree = sbom.parse_xml(data)
    except sbom.SbomError:
        return
    with contextlib.suppress(sbom.SbomError):
        sbom.dump_xml(tree)


@FAST
@given(st.text(max_size=200))
def test_spdx_tag_value_parser(text: str) -> None:
    try:
        fields = sbom.parse_tag_value(text)
    except sbom.SbomError:
        return
    sbom.join_tag_value(fields)


@FAST
@given(st.lists(XML_BITS | st.sampled_from([b"<project>", b"</project>", b"git-commit-id"]), max_size=30)
       .map(b"".join) | st.binary(max_size=200))
def test_pom_parser(data: bytes) -> None:
    with contextlib.suppress(StabilizerSkip):
        parse_pom(data)


@FAST
@given(st.binary(max_size=200), st.binary(max_size=200))
def test_java_token_comparison_never_raises(a: bytes, b: bytes) -> None:
    assert java_tokens_equal(a, b) in (True, False, None)
    if java_tokens_equal(a, a) is not None:
        assert java_tokens_equal(a, a) is True


# ------------------------------------------------------------------------------------------ every stabilizer

#: Names that make each content stabilizer look at an entry.
TRIGGER_NAMES = (
    b"META-INF/MANIFEST.MF", b"META-INF/maven/g/a/pom.properties", b"META-INF/maven/g/a/pom.xml",
    b"git.properties", b"META-INF/git.json", b"app.properties", b"META-INF/sbom/bom.json", b"bom.xml",
    b"x.spdx.json", b"x.spdx", b"docs/index.html", b"src/A.java", b"a/A.class", b"META-INF/SIGNER.SF",
    b"META-INF/SIGNER.RSA",
)
CONTENT = (mutated_class() | mutated_text("MANIFEST.MF") | mutated_text("pom.properties")
           | st.lists(JSON_BITS | XML_BITS, max_size=30).map(b"".join) | st.binary(max_size=300))


def _entry(name: bytes, data: bytes) -> Entry:
    return Entry(name=name, payload=Payload.of_bytes(data, what=name.decode()))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.sampled_from(TRIGGER_NAMES), CONTENT)
def test_every_builtin_stabilizer_returns_or_raises_a_typed_error(name: bytes, data: bytes) -> None:
    entry = _entry(name, data)
    arc = Archive(entries=(_entry(b"META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\r\n\r\n"), entry)
                  if name != b"META-INF/MANIFEST.MF" else (entry,))
    for stab in BUILTIN:
        ctx = Context(side=Side.REFERENCE, budget=Budget(LIMITS))
        ctx.stabilizer = stab.name
        try:
            if stab.scope is Scope.ENTRY:
                if stab.applies_to(entry):
                    assert isinstance(stab.apply(entry, ctx), Entry)  # type: ignore[arg-type]
            else:
                assert isinstance(stab.apply(arc, ctx), Archive)  # type: ignore[arg-type]
        except CanonjarError:
            pass
