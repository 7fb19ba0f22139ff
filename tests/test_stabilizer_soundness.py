"""Every built-in stabilizer is sound: the noise it removes never hides a functional change next to it.

For each stabilizer there is one case: a reference JAR, a "noisy" JAR that differs from it only by the noise
that stabilizer removes, and a "tampered" JAR that carries the same noise plus one functional change in an entry
right next to (usually inside) the noise. Each case checks three things:

1. with only that stabilizer (plus the few it needs, ``extra``) the noisy JAR is equivalent: the case really
   exercises the stabilizer;
2. without it, the noisy JAR is different: the noise really is the kind that stabilizer removes;
3. with that stabilizer, and again with every stabilizer on, the tampered JAR is different and the only residual
   difference is the tampered entry.

``test_every_builtin_has_a_case`` fails when a built-in stabilizer is added without a case here.
"""

from __future__ import annotations

import json
import struct
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from canonjar import Verdict, compare_bytes, select_stabilizers
from canonjar.stabilizers import BUILTIN
from tests.helpers import Item, jdk_tool, make_zip
from tests.hostile import CEN, LOC, compile_variants

MF = b"Manifest-Version: 1.0\r\nMain-Class: a.Main\r\nImplementation-Version: 1.0\r\n\r\n"
CLASS = b"\xca\xfe\xba\xbe\x00\x00\x00\x37" + bytes(range(256)) * 3
TEXT = b"".join(b"line %d: the quick brown fox jumps over the lazy dog\n" % i for i in range(400))
RES = "a/res.txt"


@dataclass(frozen=True)
class Sound:
    reference: bytes
    noisy: bytes
    tampered: bytes
    path: str  # the tampered entry
    extra: tuple[str, ...] = ()  # other stabilizers the noise-only equivalence needs


def base(res: bytes = TEXT, **kw: object) -> list[Item]:
    """The files of the test JAR, each Item built with ``kw``."""
    return [Item("META-INF/MANIFEST.MF", MF, **kw),  # type: ignore[arg-type]
            Item("a/Main.class", CLASS, **kw),  # type: ignore[arg-type]
            Item(RES, res, **kw)]  # type: ignore[arg-type]


CHANGED = TEXT.replace(b"line 200: the quick", b"line 200: the QUICK")


def zip_case(noise: Callable[[list[Item]], bytes], path: str = RES) -> Sound:
    """A zip-container case: ``noise`` builds a JAR from the items with its noise; the tampered JAR changes one
    line of ``a/res.txt`` under the same noise."""
    return Sound(make_zip(base()), noise(base()), noise(base(CHANGED)), path)


def with_kw(**kw: object) -> Callable[[list[Item]], bytes]:
    def build(items: list[Item]) -> bytes:
        for it in items:
            for k, v in kw.items():
                setattr(it, k, v)
        return make_zip(items)
    return build


def _walk_central(data: bytearray) -> list[int]:
    eocd = data.rfind(b"PK\x05\x06")
    cd_off = struct.unpack_from("<I", data, eocd + 16)[0]
    out = []
    pos = cd_off
    while data[pos:pos + 4] == b"PK\x01\x02":
        out.append(pos)
        f = CEN.unpack_from(data, pos)
        pos += CEN.size + f[10] + f[11] + f[12]
    return out


def patched(fn: Callable[[list[Item]], bytes], central: dict[int, Callable[[int], int]],
            local: dict[int, Callable[[int], int]], only: bytes | None = None) -> Callable[[list[Item]], bytes]:
    """``fn`` then set fields (index in the unpacked header, signature = 0) of central and local headers of every
    entry (or of the one named ``only``)."""
    def build(items: list[Item]) -> bytes:
        data = bytearray(fn(items))
        for pos in _walk_central(data):
            f = list(CEN.unpack_from(data, pos))
            name = bytes(data[pos + CEN.size:pos + CEN.size + f[10]])
            if only is not None and name != only:
                continue
            for i, g in central.items():
                f[i] = g(f[i])
            CEN.pack_into(data, pos, *f)
            lf = list(LOC.unpack_from(data, f[16]))
            for i, g in local.items():
                lf[i] = g(lf[i])
            LOC.pack_into(data, f[16], *lf)
        return bytes(data)
    return build


def _reordered(items: list[Item]) -> bytes:
    return make_zip(list(reversed(items)))


def _with_directories(items: list[Item]) -> bytes:
    return make_zip([*items, Item("a/", b""), Item("META-INF/", b"")])


def _utf8_case() -> Sound:
    name = "a/r\u00e9sum\u00e9.txt"

    def items(res: bytes) -> list[Item]:
        return [Item("META-INF/MANIFEST.MF", MF), Item(name, res)]

    clear = patched(make_zip, {3: lambda v: v & ~0x0800}, {2: lambda v: v & ~0x0800}, only=name.encode())
    return Sound(make_zip(items(TEXT)), clear(items(TEXT)), clear(items(CHANGED)), name)


UID_GID = struct.pack("<HHBBIBI", 0x7875, 11, 1, 4, 1000, 4, 1000)


def jar(files: dict[str, bytes]) -> bytes:
    return make_zip([Item(n, d) for n, d in files.items()])


def content_case(path: str, ref: bytes, noisy: bytes, tampered: bytes, extra: tuple[str, ...] = ()) -> Sound:
    """A content case: ``path`` holds ``ref``/``noisy``/``tampered`` next to the base files."""
    others = {"META-INF/MANIFEST.MF": MF, "a/Main.class": CLASS}
    def build(data: bytes) -> bytes:
        return jar({**others, path: data})
    assert noisy not in (ref, tampered)
    return Sound(build(ref), build(noisy), build(tampered), path, extra)


def manifest_case(ref: bytes, noisy: bytes, tampered: bytes, extra: tuple[str, ...] = ()) -> Sound:
    def build(mf: bytes) -> bytes:
        return jar({"META-INF/MANIFEST.MF": mf, "a/Main.class": CLASS})
    assert noisy not in (ref, tampered)
    return Sound(build(ref), build(noisy), build(tampered), "META-INF/MANIFEST.MF", extra)


def _signature() -> Sound:
    sections = b"Name: a/Main.class\r\nSHA-256-Digest: 3q2+7w==\r\n\r\n"
    signed_mf = MF + sections
    sigs = {"META-INF/SIGNER.SF": b"Signature-Version: 1.0\r\nSHA-256-Digest-Manifest: AAAA\r\n\r\n",
            "META-INF/SIGNER.EC": bytes(range(200))}
    ref = jar({"META-INF/MANIFEST.MF": MF, "a/Main.class": CLASS})
    noisy = jar({"META-INF/MANIFEST.MF": signed_mf, **sigs, "a/Main.class": CLASS})
    tampered = jar({"META-INF/MANIFEST.MF": signed_mf, **sigs, "a/Main.class": CLASS[:-1] + b"\x00"})
    return Sound(ref, noisy, tampered, "a/Main.class")


def _pom(date: str, order: tuple[str, ...], version: str = "1.0") -> bytes:
    kv = {"groupId": "g", "artifactId": "a", "version": version}
    return (f"#Generated by Maven\n#{date}\n" + "".join(f"{k}={kv[k]}\n" for k in order)).encode()


def _git(time: str, host: str, commit: str) -> bytes:
    return (f"#Generated by Git-Commit-Id-Plugin\ngit.build.time={time}\ngit.build.host={host}\n"
            f"git.commit.id={commit}\ngit.commit.id.abbrev={commit[:7]}\n").encode()


def _cyclonedx(serial: str, timestamp: str, version: str, tool: str) -> bytes:
    return json.dumps({
        "bomFormat": "CycloneDX", "specVersion": "1.5", "serialNumber": f"urn:uuid:{serial}", "version": 1,
        "metadata": {"timestamp": timestamp, "tools": [{"vendor": "CycloneDX", "name": "cyclonedx-maven-plugin",
                                                        "version": tool}]},
        "components": [{"type": "library", "group": "g", "name": "x", "version": version,
                        "purl": f"pkg:maven/g/x@{version}"}],
    }, indent=2).encode()


def _spdx(created: str, namespace: str, checksum: str) -> bytes:
    return json.dumps({
        "spdxVersion": "SPDX-2.3", "dataLicense": "CC0-1.0", "SPDXID": "SPDXRef-DOCUMENT", "name": "x",
        "documentNamespace": namespace, "creationInfo": {"created": created, "creators": ["Tool: spdx-maven-1.0"]},
        "packages": [{"SPDXID": "SPDXRef-p", "name": "p", "versionInfo": "1.0", "downloadLocation": "NOASSERTION",
                      "checksums": [{"algorithm": "SHA256", "checksumValue": checksum}]}],
    }, indent=2).encode()


def _javadoc(jdk: str, date: str, iso: str, body: str) -> bytes:
    return (f"<!DOCTYPE HTML>\n<!-- Generated by javadoc ({jdk}) on {date} -->\n<html lang=\"en\"><head>\n"
            f"<meta name=\"dc.created\" content=\"{iso}\">\n<title>API</title></head>\n<body>{body}</body></html>\n"
            ).encode()


JAVA = "package a;\n\npublic class Main {\n    public static void main(String[] args) {\n" \
       "        System.out.println(\"hello\");\n    }\n}\n"
ONE_LINE_CLASS = ("package p;\npublic class L {\n"
                  "    public Runnable first() { return () -> System.out.println(\"one\"); }\n"
                  "    public Runnable second() { return () -> System.out.println(\"two\"); }\n}\n")
CLASS_STABS = ("class-lambda-names", "class-member-order", "class-constant-pool-order")


def _swap_methods(src: str) -> str:
    lines = src.split("\n")
    lines[2], lines[3] = lines[3], lines[2]
    return "\n".join(lines)


_class_cache: dict[str, bytes] = {}


def _class_case(name: str, tmp: Path) -> Sound:
    """javac (without debug information, so source line numbers do not matter) compiles the class with its two
    lambda-holding methods in source order, swapped (lambda numbering, member and constant-pool order all
    differ), and swapped with one string constant changed."""
    if jdk_tool("javac") is None:
        pytest.skip("no javac")
    if not _class_cache:
        swapped = _swap_methods(ONE_LINE_CLASS)
        dirs = compile_variants(tmp, {"ref": {"p/L.java": ONE_LINE_CLASS}, "noisy": {"p/L.java": swapped},
                                      "tampered": {"p/L.java": swapped.replace('"two"', '"twO"')}}, ["-g:none"])
        _class_cache.update({k: (d / "p" / "L.class").read_bytes() for k, d in dirs.items()})
    extra = tuple(s for s in CLASS_STABS if s != name)

    def build(data: bytes) -> bytes:
        return jar({"META-INF/MANIFEST.MF": MF, "p/L.class": data})
    return Sound(build(_class_cache["ref"]), build(_class_cache["noisy"]), build(_class_cache["tampered"]),
                 "p/L.class", extra)


CASES: dict[str, Callable[[Path], Sound]] = {
    "jar-signature": lambda _t: _signature(),
    "manifest-build-metadata": lambda _t: manifest_case(
        MF, MF.replace(b"\r\n\r\n", b"\r\nBuilt-By: mallory\r\nBuild-Jdk: 21.0.1\r\nCreated-By: Maven 3.9\r\n\r\n"),
        MF.replace(b"a.Main", b"a.Evil").replace(b"\r\n\r\n", b"\r\nBuilt-By: mallory\r\nBuild-Jdk: 21.0.1\r\n"
                                                              b"Created-By: Maven 3.9\r\n\r\n")),
    "manifest-value-order": lambda _t: manifest_case(
        MF.replace(b"\r\n\r\n", b'\r\nExport-Package: a.b;version="1.0",a.c;version="1.0"\r\n\r\n'),
        MF.replace(b"\r\n\r\n", b'\r\nExport-Package: a.c;version="1.0",a.b;version="1.0"\r\n\r\n'),
        MF.replace(b"\r\n\r\n", b'\r\nExport-Package: a.c;version="1.1",a.b;version="1.0"\r\n\r\n')),
    "manifest-attribute-order": lambda _t: manifest_case(
        MF, b"Manifest-Version: 1.0\r\nImplementation-Version: 1.0\r\nMain-Class: a.Main\r\n\r\n",
        b"Manifest-Version: 1.0\r\nImplementation-Version: 1.0\r\nMain-Class: a.Evil\r\n\r\n"),
    "manifest-layout": lambda _t: manifest_case(
        MF, MF.replace(b"\r\n", b"\n"), MF.replace(b"\r\n", b"\n").replace(b"a.Main", b"a.Evil")),
    "pom-properties": lambda _t: content_case(
        "META-INF/maven/g/a/pom.properties", _pom("Sun Nov 22 10:00:00 UTC 2026", ("groupId", "artifactId", "version")),
        _pom("Fri Nov 27 23:59:59 CET 2026", ("version", "artifactId", "groupId")),
        _pom("Fri Nov 27 23:59:59 CET 2026", ("version", "artifactId", "groupId"), version="1.1")),
    "git-properties": lambda _t: content_case(
        "git.properties", _git("2026-11-22T10:00:00+0000", "ci-1", "0123456789abcdef"),
        _git("2026-11-27T23:59:59+0100", "laptop", "0123456789abcdef"),
        _git("2026-11-27T23:59:59+0100", "laptop", "fedcba9876543210")),
    "properties-timestamp": lambda _t: content_case(
        "a/app.properties", b"#Sun Nov 22 10:00:00 UTC 2026\nmode=safe\n",
        b"#Fri Nov 27 23:59:59 CET 2026\nmode=safe\n", b"#Fri Nov 27 23:59:59 CET 2026\nmode=unsafe\n"),
    "sbom-cyclonedx": lambda _t: content_case(
        "META-INF/sbom/bom.json",
        _cyclonedx("3e671687-395b-41f5-a30f-a58921a69b79", "2026-11-22T10:00:00Z", "1.0", "2.7.9"),
        _cyclonedx("9f8e7d6c-5b4a-4321-8fed-cba987654321", "2026-11-27T23:59:59Z", "1.0", "2.8.0"),
        _cyclonedx("9f8e7d6c-5b4a-4321-8fed-cba987654321", "2026-11-27T23:59:59Z", "1.0.1", "2.8.0")),
    "sbom-spdx": lambda _t: content_case(
        "META-INF/sbom/x.spdx.json", _spdx("2026-11-22T10:00:00Z", "https://example.com/x-1111", "aa" * 32),
        _spdx("2026-11-27T23:59:59Z", "https://example.com/x-2222", "aa" * 32),
        _spdx("2026-11-27T23:59:59Z", "https://example.com/x-2222", "ab" * 32)),
    "javadoc-timestamp": lambda _t: content_case(
        "docs/index.html", _javadoc("17.0.2", "Sun Nov 22 10:00:00 UTC 2026", "2026-11-22", "Use <code>safe()</code>"),
        _javadoc("21.0.1", "Fri Nov 27 23:59:59 CET 2026", "2026-11-27", "Use <code>safe()</code>"),
        _javadoc("21.0.1", "Fri Nov 27 23:59:59 CET 2026", "2026-11-27", "Use <code>unsafe()</code>")),
    "source-newlines": lambda _t: content_case(
        "src/a/Main.java", JAVA.encode(), JAVA.replace("\n", "\r\n").encode(),
        JAVA.replace("\n", "\r\n").replace("hello", "pwned").encode()),
    "class-lambda-names": lambda t: _class_case("class-lambda-names", t),
    "class-member-order": lambda t: _class_case("class-member-order", t),
    "class-constant-pool-order": lambda t: _class_case("class-constant-pool-order", t),
    "zip-directory-entries": lambda _t: zip_case(_with_directories),
    "zip-entry-order": lambda _t: zip_case(_reordered),
    "zip-timestamps": lambda _t: zip_case(with_kw(date_time=(2026, 11, 27, 23, 59, 58))),
    "zip-ownership": lambda _t: zip_case(with_kw(extra=UID_GID)),
    "zip-permissions": lambda _t: zip_case(with_kw(mode=0o664)),
    "zip-host-version": lambda _t: zip_case(patched(make_zip, {1: lambda v: (v & 0xFF00) | 63, 2: lambda v: 45},
                                                    {1: lambda v: 45})),
    "zip-extra-fields": lambda _t: zip_case(with_kw(extra=b"\xfe\xca\x00\x00")),
    "zip-compression": lambda _t: zip_case(with_kw(level=1)),
    "zip-data-descriptor": lambda _t: zip_case(lambda items: make_zip(items, streamed=True)),
    "zip-utf8-flag": lambda _t: _utf8_case(),
    "zip-comments": lambda _t: zip_case(
        lambda items: make_zip([Item(i.name, i.data, comment=b"built on ci-42") for i in items], comment=b"build 42")),
}


def only(*names: str) -> tuple[object, ...]:
    return select_stabilizers(disable=["all"], enable=list(names))


def test_every_builtin_has_a_case() -> None:
    assert sorted(CASES) == sorted(s.name for s in BUILTIN), "add a soundness case for each new built-in stabilizer"


@pytest.mark.parametrize("name", [s.name for s in BUILTIN])
def test_noise_next_to_a_change_never_hides_it(name: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    case = CASES[name](tmp_path_factory.getbasetemp())
    assert case.noisy not in (case.reference, case.tampered)
    chosen = only(name, *case.extra)
    noise = compare_bytes(case.reference, case.noisy, stabilizers=chosen)  # type: ignore[arg-type]
    assert noise.verdict is Verdict.EQUIVALENT, [(d.path, d.aspect, d.note) for d in noise.differences]
    without = compare_bytes(case.reference, case.noisy, stabilizers=only(*case.extra))  # type: ignore[arg-type]
    assert without.verdict is Verdict.DIFFERENT, f"the noise of this case is not removed by {name}"
    if name != "zip-compression":  # it switches the comparison to the inflated content, which is not a trace step
        assert name in {t.stabilizer for t in noise.trace if t.action != "skipped"}
    for stabs in (chosen, select_stabilizers(enable=["all"])):
        out = compare_bytes(case.reference, case.tampered, stabilizers=stabs)  # type: ignore[arg-type]
        assert out.verdict is Verdict.DIFFERENT, out.error
        # Without zip-compression a content change also shows as different compressed bytes of the same entry.
        assert {d.path for d in out.differences} == {case.path}, [(d.path, d.aspect) for d in out.differences]
        assert "content" in {d.aspect for d in out.differences}
        assert out.findings == ()


def test_zip_fixtures_are_plain_zips() -> None:
    """The zip cases are readable by Python's zipfile with the expected names (the patching kept them valid)."""
    import io

    for name in ("zip-host-version", "zip-utf8-flag", "zip-ownership", "zip-data-descriptor"):
        case = CASES[name](Path("."))
        with zipfile.ZipFile(io.BytesIO(case.tampered)) as zf:
            assert zf.testzip() is None
