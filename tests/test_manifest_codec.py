"""Tests of the MANIFEST.MF codec (canonjar.formats.manifest) on the layouts real tools write, on malformed
input, with hypothesis properties, and against java.util.jar.Manifest itself when a JDK is installed."""

from __future__ import annotations

import base64
import contextlib
import io
import random
import subprocess
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from canonjar.errors import CanonjarError
from canonjar.formats.manifest import (
    MAX_LINE,
    Attribute,
    Manifest,
    ManifestError,
    Section,
    make_attribute,
    parse,
    serialize,
    wrap_line,
)
from tests.helpers import jdk_tool


def jdk_wrap(header: bytes, newline: bytes = b"\r\n") -> bytes:
    """72-byte wrapping as java.util.jar.Manifest (JDK 11+), bnd and Gradle do it: plain byte cuts."""
    out = header[:72] + newline
    rest = header[72:]
    while rest:
        out += b" " + rest[:71] + newline
        rest = rest[71:]
    return out


def physical_lines(data: bytes) -> list[bytes]:
    return data.replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n")


BND_EXPORT = ",".join(
    f'org.example.lib.{p};version="2.7.1";uses:="org.example.lib.api,org.example.lib.spi.{p}"'
    for p in ("api", "core", "impl.internal", "spi", "util.collections"))
BND_MANIFEST = b"".join([
    b"Manifest-Version: 1.0\r\n",
    b"Bnd-LastModified: 1700000000000\r\n",
    b"Bundle-ManifestVersion: 2\r\n",
    b"Bundle-Name: Example Library\r\n",
    b"Bundle-SymbolicName: org.example.lib\r\n",
    b"Bundle-Version: 2.7.1\r\n",
    b"Created-By: 17.0.9 (Eclipse Adoptium)\r\n",
    jdk_wrap(b"Export-Package: " + BND_EXPORT.encode()),
    jdk_wrap(b'Import-Package: org.slf4j;version="[1.7,3)",javax.annotation;resolution:=optional'),
    jdk_wrap(b'Require-Capability: osgi.ee;filter:="(&(osgi.ee=JavaSE)(version=11))"'),
    b"Tool: Bnd-6.4.0.202211291949\r\n",
    b"\r\n",
])

GRADLE_MANIFEST = (b"Manifest-Version: 1.0\r\n"
                   b"Implementation-Title: example-app\r\n"
                   b"Implementation-Version: 3.1.0\r\n"
                   b"Automatic-Module-Name: org.example.app\r\n"
                   b"Main-Class: org.example.app.Main\r\n"
                   + jdk_wrap(b"Class-Path: lib/guava-32.1.2-jre.jar lib/failureaccess-1.0.1.jar "
                              b"lib/slf4j-api-2.0.9.jar")
                   + b"\r\n")


# --------------------------------------------------------------------------------------------- real layouts

def test_jdk_jar_tool_manifest(tmp_path: Path) -> None:
    jar = jdk_tool("jar")
    if jar is None:
        pytest.skip("no JDK jar tool")
    (tmp_path / "in.mf").write_bytes("Main-Class: demo.Main\nImplementation-Title: Démo ünïcode "
                                     "title that is long enough to need a continuation line\n".encode())
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "x.txt").write_text("x")
    out = tmp_path / "t.jar"
    subprocess.run([jar, "--create", "--file", str(out), "--manifest", str(tmp_path / "in.mf"),
                    "-C", str(tmp_path / "c"), "."], check=True, capture_output=True, timeout=60)
    data = zipfile.ZipFile(out).read("META-INF/MANIFEST.MF")
    m = parse(data)
    assert m.to_bytes() == data
    assert m.main.attributes[0].name == "Manifest-Version"
    assert m.main.get("main-class") == "demo.Main"
    assert m.main.get("Implementation-Title", ).startswith("Démo ünïcode title")  # type: ignore[union-attr]
    assert m.main.get("Created-By")
    assert all(len(line) <= MAX_LINE for line in physical_lines(data))
    assert parse(serialize(m)).logical() == m.logical()
    assert m.notes == ()


def test_bnd_layout_long_export_package_wrapped() -> None:
    m = parse(BND_MANIFEST)
    assert m.to_bytes() == BND_MANIFEST
    assert m.main.get("Export-Package") == BND_EXPORT
    assert m.main.get("require-capability") == 'osgi.ee;filter:="(&(osgi.ee=JavaSE)(version=11))"'
    assert [a.name for a in m.main.attributes][:3] == ["Manifest-Version", "Bnd-LastModified",
                                                       "Bundle-ManifestVersion"]
    assert all(len(line) <= MAX_LINE for line in physical_lines(BND_MANIFEST))
    assert serialize(m) == BND_MANIFEST  # ASCII, CRLF, 72-byte wrapping: already the canonical layout
    assert m.entries == ()


def test_gradle_layout() -> None:
    m = parse(GRADLE_MANIFEST)
    assert m.main.get("Class-Path") == ("lib/guava-32.1.2-jre.jar lib/failureaccess-1.0.1.jar "
                                        "lib/slf4j-api-2.0.9.jar")
    assert serialize(m) == GRADLE_MANIFEST
    assert m.to_bytes() == GRADLE_MANIFEST


def test_cr_only_line_endings() -> None:
    data = b"Manifest-Version: 1.0\rMain-Class: a.B\rLong: " + b"x" * 80 + b"\r yz\r\rName: a/B.class\rX: 1\r\r"
    m = parse(data)
    assert m.to_bytes() == data
    assert m.main.get("Long") == "x" * 80 + "yz"
    assert [s.name for s in m.entries] == ["a/B.class"]
    assert m.entries[0].get("x") == "1"
    canon = serialize(m)
    assert b"\r\n" in canon and b"\r\r" not in canon
    assert parse(canon).logical() == m.logical()


def test_lf_only_and_mixed_line_endings() -> None:
    data = b"Manifest-Version: 1.0\nA: 1\r\nB: 2\r\n\nName: x\rC: 3\n"
    m = parse(data)
    assert m.logical() == ((("Manifest-Version", "1.0"), ("A", "1"), ("B", "2")), (("Name", "x"), ("C", "3")))
    assert any("mixed line endings" in n for n in m.notes)
    assert m.to_bytes() == data


def test_missing_final_newline_is_kept_apart_like_the_jdk() -> None:
    # java.util.jar.Manifest ignores an unterminated last line: Main-Class is NOT set here.
    data = b"Manifest-Version: 1.0\r\nMain-Class: demo.Main"
    m = parse(data)
    assert m.main.get("Main-Class") is None
    assert m.tail == b"Main-Class: demo.Main"
    assert any("no line terminator" in n for n in m.notes)
    assert m.to_bytes() == data
    assert serialize(m) == data  # the tail stays unterminated, so it stays ignored
    # The whole logical line goes, continuation included.
    m2 = parse(b"Manifest-Version: 1.0\nClass-Path: a.jar\n b.jar")
    assert m2.main.get("Class-Path") is None and m2.tail == b"Class-Path: a.jar\n b.jar"
    # An unterminated Name line never opens its section.
    m3 = parse(b"Manifest-Version: 1.0\n\nName: x")
    assert m3.entries == () and m3.tail == b"Name: x"
    assert serialize(m3) == b"Manifest-Version: 1.0\r\n\r\nName: x"


def test_utf8_split_across_continuation_is_joined_before_decoding() -> None:
    value = "Pr\u00e9sentation des donn\u00e9es \u00e0 l'\u00e9cran \u2014 biblioth\u00e8que \u00e9l\u00e9gante"
    header = b"Implementation-Title: " + value.encode()
    cut = next(i for i in range(60, 80) if (header[i] & 0xC0) == 0x80)  # a cut inside a character
    data = b"Manifest-Version: 1.0\r\n" + header[:cut] + b"\r\n " + header[cut:] + b"\r\n\r\n"
    with pytest.raises(UnicodeDecodeError):
        header[:cut].decode()
    m = parse(data)
    assert m.main.get("Implementation-Title") == value
    canon = serialize(m)
    for line in physical_lines(canon):
        assert len(line) <= MAX_LINE
        line.decode("utf-8")  # every physical line is valid UTF-8 on its own: no character was split
    assert parse(canon).main.get("Implementation-Title") == value


def test_jdk8_style_utf8_split_at_byte_72() -> None:
    value = "\u00e9" * 60
    data = b"Manifest-Version: 1.0\r\n" + jdk_wrap(b"Bundle-Name: " + value.encode()) + b"\r\n"
    m = parse(data)
    assert m.main.get("Bundle-Name") == value
    assert serialize(m) != data  # the canonical writer never splits a character
    assert parse(serialize(m)).logical() == m.logical()


def test_duplicate_names_are_kept_and_reported() -> None:
    data = b"Manifest-Version: 1.0\r\nMain-Class: a.A\r\nmain-class: b.B\r\n\r\nName: x\r\nK: 1\r\nK: 2\r\n\r\n"
    m = parse(data)
    assert [a.name for a in m.main.attributes] == ["Manifest-Version", "Main-Class", "main-class"]
    assert m.main.get("MAIN-CLASS") == "b.B"  # the JDK keeps the last value
    assert m.duplicates() == [(None, "main-class"), ("x", "K")]
    assert sum("duplicate attribute" in n for n in m.notes) == 2


def test_duplicate_sections_are_kept_and_reported() -> None:
    m = parse(b"Manifest-Version: 1.0\n\nName: x\nA: 1\n\n\n\nName: x\nB: 2\n")
    assert [s.name for s in m.entries] == ["x", "x"]
    assert m.entries[0].separator == b"\n\n\n"
    assert any("appears 2 times" in n for n in m.notes)


def test_overlong_line_is_tolerated_and_noted() -> None:
    data = b"Manifest-Version: 1.0\r\nClass-Path: " + b"lib/a.jar " * 30 + b"\r\n\r\n"
    m = parse(data)
    assert m.main.get("Class-Path") == "lib/a.jar " * 30
    assert any("bytes long" in n for n in m.notes)
    assert all(len(line) <= MAX_LINE for line in physical_lines(serialize(m)))


def test_empty_values_names_and_files() -> None:
    assert parse(b"").logical() == ((),)
    assert serialize(parse(b"")) == b""
    assert parse(b"\r\n").logical() == ((),)
    m = parse(b"Manifest-Version: 1.0\r\nX: \r\n \r\n\r\nName: only/name\r\n\r\n")
    assert m.main.get("X") == ""
    assert m.entries[0].attributes == (m.entries[0].attributes[0],)
    assert parse(serialize(m)).logical() == m.logical()
    # An empty main section followed by a per-entry section is valid.
    m2 = parse(b"\r\nName: a\r\nB: c\r\n")
    assert m2.main.attributes == () and m2.entries[0].get("B") == "c"


@pytest.mark.parametrize(("data", "message"), [
    (b"Manifest-Version: 1.0\r\nthis line has no colon\r\n", "no ':'"),
    (b" continuation first\r\nManifest-Version: 1.0\r\n", "continuation"),
    (b"Manifest-Version: 1.0\r\n\r\n continuation after a blank line\r\n", "continuation"),
    (b"Manifest-Version: 1.0\r\nMain-Class:demo.Main\r\n", "not followed by a space"),
    (b"Manifest-Version: 1.0\r\nMain.Class: demo.Main\r\n", "invalid attribute name"),
    (b"Manifest-Version: 1.0\r\n" + b"N" * 71 + b": x\r\n", "invalid attribute name"),
    (b"Manifest-Version: 1.0\r\n\r\nMain-Class: demo.Main\r\n", "must start with 'Name:'"),
    (b"\r\nManifest-Version: 1.0\r\n", "must start with 'Name:'"),
    (b"Manifest-Version: 1.0\r\nX: \xff\xfe\r\n", "UTF-8"),
    (b"Manifest-Version: 1.0\r\nX: \xc3\r\n (\r\n", "UTF-8"),
    (b"Manifest-Version: 1.0\r\nX: a\x00b\r\n", "NUL"),
    (b"Manifest-Version: 1.0\r\nX: " + b"y" * 600 + b"\r\n", "at most 512"),
    (b"\x89PNG\r\n\x1a\n\x00\x00", "NUL"),
])
def test_malformed_manifests_raise_manifest_error(data: bytes, message: str) -> None:
    with pytest.raises(ManifestError, match=message) as info:
        parse(data)
    assert isinstance(info.value, CanonjarError)
    assert "\n" not in str(info.value)


def test_writer_wraps_byte_safely() -> None:
    for value in ("a" * 300, "\u00e9" * 100, "\u20ac" * 90, "\U0001f600" * 70, "x" + "\U0001f600" * 70):
        raw = wrap_line(b"K: " + value.encode())
        lines = raw.split(b"\r\n")[:-1]
        assert all(len(line) <= MAX_LINE for line in lines)
        assert all(line.startswith(b" ") for line in lines[1:])
        for line in lines:
            line.decode("utf-8")
        assert parse(raw).main.get("K") == value
    # A 70-character name fills the first line with its header: the value goes to the continuation.
    name = "N" * 70
    attr = make_attribute(name, "v")
    assert attr.raw == name.encode() + b": \r\n v\r\n"
    assert parse(attr.raw).main.get(name) == "v"


@pytest.mark.parametrize(("name", "value"), [("A", "x\ny"), ("A", "x\r"), ("A", "\x00"), ("Bad Name", "x"),
                                             ("", "x"), ("\u00e9", "x")])
def test_writer_rejects_what_cannot_be_written(name: str, value: str) -> None:
    with pytest.raises(ManifestError):
        make_attribute(name, value)
    with pytest.raises(ManifestError):
        serialize(Manifest((Section((Attribute(name, value, b""),)),)))


def test_edit_cannot_merge_a_lone_cr_with_a_following_lf_blank_line() -> None:
    m = parse(b"B: 2\rA: 1\n\nName: x\nC: 3\n")
    b, a = m.main.attributes
    swapped = m.with_sections((Section((a, b), m.main.separator), *m.entries))
    assert swapped.to_bytes() == b"A: 1\nB: 2\r\n\nName: x\nC: 3\n"
    assert parse(swapped.to_bytes()).logical() == ((("A", "1"), ("B", "2")), (("Name", "x"), ("C", "3")))


# --------------------------------------------------------------------------------------------- properties

PIECES = [b"Manifest-Version: 1.0", b"Name: a/B.class", b"NAME: x", b"Main-Class: p.Q", b"main-class: r.S",
          b"A: 1", b" cont", b" ", b"", b"X: ", b"V: \xc3\xa9", b" \xc3", b"\xa9 z", b"Long: " + b"x" * 100,
          b"SHA-256-Digest: abc=", b"Bad", b"X:y", b"Foo.Bar: 1"]
ENDINGS = [b"\r\n", b"\n", b"\r"]

manifest_like = st.lists(st.tuples(st.sampled_from(PIECES), st.sampled_from(ENDINGS)), max_size=12).map(
    lambda parts: b"".join(p + e for p, e in parts)) | st.lists(
    st.tuples(st.sampled_from(PIECES), st.sampled_from(ENDINGS)), min_size=1, max_size=12).map(
    lambda parts: b"".join(p + e for p, e in parts)[:-1])

NAME = st.text(st.sampled_from("abcXYZ019_-"), min_size=1, max_size=70)
VALUE = st.text(st.characters(blacklist_characters="\r\n\x00", codec="utf-8"), max_size=160)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_property_parse_raises_only_manifest_error(data: bytes) -> None:
    try:
        m = parse(data)
    except ManifestError:
        return
    assert m.to_bytes() == data


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(manifest_like)
def test_property_round_trip_and_canonical_idempotence(data: bytes) -> None:
    try:
        m = parse(data)
    except ManifestError:
        return
    assert m.to_bytes() == data  # byte-exact
    canon = serialize(m)
    again = parse(canon)
    assert again.logical() == m.logical()
    assert again.tail == m.tail
    assert serialize(again) == canon  # idempotent
    if not m.tail:
        assert all(len(line) <= MAX_LINE for line in physical_lines(canon))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(st.tuples(NAME, VALUE), max_size=4), min_size=1, max_size=3), st.booleans())
def test_property_models_serialize_and_parse_back(sections: list[list[tuple[str, str]]], lf: bool) -> None:
    secs = [Section(tuple(make_attribute(n, v) for n, v in sections[0]))]
    secs += [Section((make_attribute("Name", f"e/{i}"), *(make_attribute(n, v) for n, v in body)))
             for i, body in enumerate(sections[1:])]
    m = Manifest(tuple(secs))
    data = serialize(m)
    back = parse(data)
    expected = m.logical() if any(m.logical()) or len(secs) > 1 else ((),)
    assert back.logical() == expected
    assert serialize(back) == data
    # The writer's raw attributes also parse back when joined (with LF line ends, too).
    nl = b"\n" if lf else b"\r\n"
    joined = b"".join(make_attribute(n, v, nl).raw for n, v in sections[0])
    assert parse(joined).logical()[0] == tuple(sections[0])


# --------------------------------------------------------------------------------------------- against the JDK

JAVA_DUMP = r"""
import java.util.*; import java.util.jar.*; import java.nio.file.*; import java.io.*;
public class Dump {
  static String b64(String s) throws Exception { return Base64.getEncoder().encodeToString(s.getBytes("UTF-8")); }
  public static void main(String[] a) throws Exception {
    List<Path> ps = new ArrayList<>();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(Path.of(a[0]), "*.mf")) { ds.forEach(ps::add); }
    Collections.sort(ps);
    for (Path f : ps) {
      StringBuilder sb = new StringBuilder();
      try {
        Manifest m = new Manifest(new ByteArrayInputStream(Files.readAllBytes(f)));
        TreeMap<String, String> main = new TreeMap<>();
        for (var e : m.getMainAttributes().entrySet())
          main.put(e.getKey().toString().toLowerCase(), (String) e.getValue());
        sb.append("OK");
        for (var e : main.entrySet()) sb.append(' ').append(e.getKey()).append('=').append(b64(e.getValue()));
        TreeMap<String, Attributes> ents = new TreeMap<>(m.getEntries());
        for (var en : ents.entrySet()) {
          sb.append(" [").append(b64(en.getKey())).append(']');
          TreeMap<String, String> at = new TreeMap<>();
          for (var e : en.getValue().entrySet()) at.put(e.getKey().toString().toLowerCase(), (String) e.getValue());
          for (var e : at.entrySet()) sb.append(' ').append(e.getKey()).append('=').append(b64(e.getValue()));
        }
      } catch (IOException e) { sb.append("ERR"); }
      System.out.println(f.getFileName() + " " + sb);
    }
  }
}
"""


def _mine(data: bytes) -> str:
    try:
        m = parse(data)
    except ManifestError:
        return "ERR"

    def b64(s: str) -> str:
        return base64.b64encode(s.encode()).decode()

    main: dict[str, str] = {}
    for a in m.main.attributes:
        main[a.key] = a.value
    out = "OK" + "".join(f" {k}={b64(v)}" for k, v in sorted(main.items()))
    ents: dict[str, dict[str, str]] = {}
    for s in m.entries:
        d = ents.setdefault(s.name or "", {})
        for a in s.attributes[1:]:
            d[a.key] = a.value
    for name in sorted(ents, key=lambda n: n.encode("utf-16-be")):
        out += f" [{b64(name)}]" + "".join(f" {k}={b64(v)}" for k, v in sorted(ents[name].items()))
    return out


def test_differential_against_java_util_jar_manifest(tmp_path: Path) -> None:
    """Random manifests (with terminators, continuations, blank lines, bad names, an unterminated tail) and
    their canonical serializations mean to the codec exactly what they mean to the JDK. The codec is stricter
    only on invalid UTF-8 (the JDK substitutes U+FFFD)."""
    javac, java = jdk_tool("javac"), jdk_tool("java")
    if javac is None or java is None:
        pytest.skip("no JDK")
    (tmp_path / "Dump.java").write_text(JAVA_DUMP)
    subprocess.run([javac, "-d", str(tmp_path), str(tmp_path / "Dump.java")], check=True, capture_output=True,
                   timeout=120)
    rng = random.Random(20240607)
    samples: dict[str, bytes] = {}
    for i in range(600):
        data = b"".join(rng.choice(PIECES) + rng.choice(ENDINGS) for _ in range(rng.randint(0, 9)))
        if data and rng.random() < 0.25:
            data = data.rstrip(b"\r\n")
        samples[f"{i:04d}.mf"] = data
        with contextlib.suppress(ManifestError):
            samples[f"{i:04d}c.mf"] = serialize(parse(data))
    mfdir = tmp_path / "mf"
    mfdir.mkdir()
    for name, data in samples.items():
        (mfdir / name).write_bytes(data)
    res = subprocess.run([java, "-cp", str(tmp_path), "Dump", str(mfdir)], capture_output=True, text=True,
                         timeout=120, check=True)
    jdk = dict(line.split(" ", 1) for line in res.stdout.splitlines())
    assert len(jdk) == len(samples)
    mismatches = []
    for name, data in samples.items():
        mine = _mine(data)
        if mine == "ERR" and jdk[name] != "ERR":
            try:
                parse(data)
            except ManifestError as exc:
                if "UTF-8" in str(exc):
                    continue
        if mine != jdk[name]:
            mismatches.append((name, data, jdk[name], mine))
        if name.endswith("c.mf"):
            assert jdk[name] == jdk[name.replace("c.mf", ".mf")], name  # canonical layout: same meaning
    assert not mismatches[:5]
    assert sum(1 for v in jdk.values() if v == "ERR") > 20  # the sample exercises malformed input too


def test_manifest_error_is_typed() -> None:
    assert issubclass(ManifestError, CanonjarError)
    with pytest.raises(CanonjarError):
        parse(io.BytesIO(b"x\r\n").read())
