"""Table tests for the manifest stabilizers and jar-signature, one stabilizer at a time, plus the protected
attributes (with every stabilizer enabled), JDK evidence and a really signed JAR.

Every table row is a pair of MANIFEST.MF contents put into otherwise identical in-memory JARs. ``expect`` is
empty when the pair must be EQUIVALENT with only the stabilizer under test, else the (path, kind, aspect)
differences that must remain. Every row also differs with no stabilizer at all, which proves it exercises
the stabilizer.
"""

from __future__ import annotations

import io
import random
import subprocess
import zipfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs

from canonjar.api import compare_bytes
from canonjar.formats.manifest import parse
from canonjar.limits import DEFAULT_LIMITS, Budget
from canonjar.model import Entry, Payload
from canonjar.outcome import Outcome, Verdict
from canonjar.pipeline import Context, Side, Stabilizer
from canonjar.stabilizers import (
    BUILTIN,
    jar_signature,
    manifest_attribute_order,
    manifest_build_metadata,
    manifest_layout,
    manifest_value_order,
    zip_compression,
)
from tests.helpers import Item, jdk_tool, make_zip

MF = "META-INF/MANIFEST.MF"
CONTENT = (MF, "changed", "content")
CLS = bytes.fromhex("cafebabe00000037") + bytes(range(40))

LAYOUT = manifest_layout.STABILIZER
ATTR_ORDER = manifest_attribute_order.STABILIZER
VALUE_ORDER = manifest_value_order.STABILIZER
BUILD_META = manifest_build_metadata.STABILIZER
SIGNATURE = jar_signature.STABILIZER
#: The only zip stabilizer used in the table tests: it stops comparing compressed streams, so that a content
#: difference is reported once (as content) and not also as different compressed bytes.
COMPRESSION = zip_compression.STABILIZER
MINE = (BUILD_META, VALUE_ORDER, ATTR_ORDER, LAYOUT, SIGNATURE)
#: Every built-in stabilizer plus these (once each, whether or not they are registered yet).
EVERYTHING = (*BUILTIN, *(s for s in MINE if s.name not in {b.name for b in BUILTIN}))


def jar(manifest: bytes, *extra: Item, name: str = MF) -> bytes:
    return make_zip([Item(name, manifest), Item("demo/Main.class", CLS), *extra])


def diffs(o: Outcome) -> list[tuple[str, str, str]]:
    return [(d.path, d.kind.value, d.aspect) for d in o.differences]


def crlf(text: str) -> bytes:
    return text.replace("\n", "\r\n").encode()


def check_row(st: Stabilizer, ref: bytes, reb: bytes, expect: list[tuple[str, str, str]]) -> Outcome:
    a, b = jar(ref), jar(reb)
    raw = compare_bytes(a, b, stabilizers=[COMPRESSION])
    assert raw.verdict is Verdict.DIFFERENT and diffs(raw) == [CONTENT], "row does not differ to start with"
    o = compare_bytes(a, b, stabilizers=[COMPRESSION, st])
    assert o.verdict is not Verdict.ERROR, o.error
    assert diffs(o) == expect
    assert o.verdict is (Verdict.DIFFERENT if expect else Verdict.EQUIVALENT)
    assert not o.findings
    return o


def ctx() -> Context:
    return Context(side=Side.REFERENCE, budget=Budget(DEFAULT_LIMITS, label="t"))


def entry(data: bytes, name: bytes = MF.encode()) -> Entry:
    return Entry(name=name, payload=Payload.of_bytes(data, name.decode()))


def apply(st: Stabilizer, data: bytes) -> bytes:
    e = entry(data)
    new = st.apply(e, ctx())  # type: ignore[arg-type]
    assert isinstance(new, Entry)
    return new.payload.content(Budget()) if new is not e else data


MAVEN_BASE = crlf("Manifest-Version: 1.0\nCreated-By: Maven JAR Plugin 3.3.0\nBuild-Jdk-Spec: 17\n"
                  "Implementation-Title: demo\nImplementation-Version: 1.0.0\nMain-Class: demo.Main\n\n")


# --------------------------------------------------------------------------------------------- manifest-layout

LAYOUT_ROWS = {
    "lf-vs-crlf": (MAVEN_BASE, MAVEN_BASE.replace(b"\r\n", b"\n"), []),
    "cr-vs-crlf": (MAVEN_BASE, MAVEN_BASE.replace(b"\r\n", b"\r"), []),
    "no-trailing-blank-line": (MAVEN_BASE, MAVEN_BASE[:-2], []),
    "extra-blank-lines-between-sections": (
        MAVEN_BASE + crlf("Name: demo/\nSealed: true\n\n"),
        MAVEN_BASE + crlf("\n\nName: demo/\nSealed: true\n"), []),
    "jdk8-utf8-splitting-vs-byte-safe": (
        b"Manifest-Version: 1.0\r\nBundle-Name: " + ("\u00e9" * 29).encode()[:57] + b"\r\n "
        + ("\u00e9" * 29).encode()[57:] + b"\r\n\r\n",
        b"Manifest-Version: 1.0\r\nBundle-Name: " + ("\u00e9" * 29).encode() + b"\r\n\r\n", []),
    "wrapped-vs-unwrapped-long-line": (
        crlf("Manifest-Version: 1.0\nClass-Path: " + "lib/dependency-number.jar " * 6 + "\n\n"),
        crlf("Manifest-Version: 1.0\nClass-Path: " + "lib/dependency-number.jar " * 3 + "\n " +
             "lib/dependency-number.jar " * 3 + "\n\n"), []),
    "value-change-stays": (MAVEN_BASE, MAVEN_BASE.replace(b"demo.Main", b"demo.Other").replace(b"\r\n", b"\n"),
                           [CONTENT]),
    "attribute-order-stays": (
        crlf("Manifest-Version: 1.0\nA: 1\nB: 2\n\n"), crlf("Manifest-Version: 1.0\nB: 2\nA: 1\n").replace(
            b"\r\n", b"\n"), [CONTENT]),
    "unterminated-last-line-stays": (
        MAVEN_BASE[:-2], MAVEN_BASE[:-4], [CONTENT]),
}


@pytest.mark.parametrize("row", LAYOUT_ROWS, ids=list(LAYOUT_ROWS))
def test_layout_table(row: str) -> None:
    ref, reb, expect = LAYOUT_ROWS[row]
    check_row(LAYOUT, ref, reb, expect)


def test_layout_output_is_the_jdk_format_and_idempotent() -> None:
    src = MAVEN_BASE.replace(b"\r\n", b"\n")
    out = apply(LAYOUT, src)
    assert out == MAVEN_BASE
    assert apply(LAYOUT, out) == out
    e = entry(MAVEN_BASE)
    assert LAYOUT.apply(e, ctx()) is e  # type: ignore[arg-type]


def test_layout_keeps_the_unterminated_line_ignored() -> None:
    out = apply(LAYOUT, b"Manifest-Version: 1.0\nMain-Class: demo.Main")
    assert out == b"Manifest-Version: 1.0\r\nMain-Class: demo.Main"
    assert parse(out).main.get("Main-Class") is None


# --------------------------------------------------------------------------------------------- attribute order

ATTR_ROWS = {
    "main-section-order": (
        crlf("Manifest-Version: 1.0\nMain-Class: demo.Main\nCreated-By: x\nImplementation-Title: demo\n\n"),
        crlf("Manifest-Version: 1.0\nImplementation-Title: demo\nCreated-By: x\nMain-Class: demo.Main\n\n"), []),
    "manifest-version-not-first": (
        crlf("Created-By: x\nManifest-Version: 1.0\n\n"), crlf("Manifest-Version: 1.0\nCreated-By: x\n\n"), []),
    "case-insensitive-names": (
        crlf("Manifest-Version: 1.0\nb-attr: 1\nA-attr: 2\n\n"), crlf("Manifest-Version: 1.0\nA-attr: 2\n"
                                                                       "b-attr: 1\n\n"), []),
    "section-order": (
        crlf("Manifest-Version: 1.0\n\nName: b/\nSealed: true\n\nName: a/\nSealed: false\n\n"),
        crlf("Manifest-Version: 1.0\n\nName: a/\nSealed: false\n\nName: b/\nSealed: true\n\n"), []),
    "order-within-a-section": (
        crlf("Manifest-Version: 1.0\n\nName: a/\nSpecification-Title: s\nSealed: true\n\n"),
        crlf("Manifest-Version: 1.0\n\nName: a/\nSealed: true\nSpecification-Title: s\n\n"), []),
    "last-section-without-blank-line-moves": (
        crlf("Manifest-Version: 1.0\n\nName: b/\nSealed: true\n\nName: a/\nSealed: false\n"),
        crlf("Manifest-Version: 1.0\n\nName: a/\nSealed: false\n\nName: b/\nSealed: true\n"), []),
    "duplicates-keep-their-relative-order": (
        crlf("Manifest-Version: 1.0\nMain-Class: a.A\nX: 1\nmain-class: b.B\n\n"),
        crlf("Manifest-Version: 1.0\nX: 1\nmain-class: b.B\nMain-Class: a.A\n\n"), [CONTENT]),
    "value-change-stays": (
        crlf("Manifest-Version: 1.0\nMain-Class: a.A\nX: 1\n\n"), crlf("Manifest-Version: 1.0\nX: 1\n"
                                                                       "Main-Class: a.B\n\n"), [CONTENT]),
    "layout-stays": (
        crlf("Manifest-Version: 1.0\nA: 1\nB: 2\n\n"), b"Manifest-Version: 1.0\nB: 2\nA: 1\n\n", [CONTENT]),
}


@pytest.mark.parametrize("row", ATTR_ROWS, ids=list(ATTR_ROWS))
def test_attribute_order_table(row: str) -> None:
    ref, reb, expect = ATTR_ROWS[row]
    check_row(ATTR_ORDER, ref, reb, expect)


def test_attribute_order_output_and_idempotence() -> None:
    src = crlf("Main-Class: demo.Main\nManifest-Version: 1.0\nBuilt-By: x\n\nName: z/\nB: 1\nA: 2\n\nName: a/\n"
               "C: 3\n")
    out = apply(ATTR_ORDER, src)
    assert out == crlf("Manifest-Version: 1.0\nBuilt-By: x\nMain-Class: demo.Main\n\nName: a/\nC: 3\n\nName: z/\n"
                       "A: 2\nB: 1\n")
    assert parse(out).main.get("Main-Class") == "demo.Main"
    assert apply(ATTR_ORDER, out) == out
    e = entry(out)
    assert ATTR_ORDER.apply(e, ctx()) is e  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------- value order

def bnd(header: str, value: str) -> bytes:
    from canonjar.formats.manifest import make_attribute

    return (b"Manifest-Version: 1.0\r\nBundle-SymbolicName: org.example\r\n" + make_attribute(header, value).raw
            + b"\r\n")


VALUE_ROWS = {
    "export-package-clauses": (
        bnd("Export-Package", 'org.ex.b;version="1.0",org.ex.a;version="1.0"'),
        bnd("Export-Package", 'org.ex.a;version="1.0",org.ex.b;version="1.0"'), []),
    "export-package-directives-and-uses": (
        bnd("Export-Package", 'org.ex.a;version="1.0";uses:="org.ex.z,org.ex.b"'),
        bnd("Export-Package", 'org.ex.a;uses:="org.ex.b,org.ex.z";version="1.0"'), []),
    "long-wrapped-export-package": (
        bnd("Export-Package", ",".join(f'org.example.p{i};version="2.{i}"' for i in range(30))),
        bnd("Export-Package", ",".join(f'org.example.p{i};version="2.{i}"' for i in reversed(range(30)))), []),
    "import-package-quoted-ranges": (
        bnd("Import-Package", 'org.slf4j;version="[1.7,3)",javax.inject;resolution:=optional;version="[1,2)"'),
        bnd("Import-Package", 'javax.inject;version="[1,2)";resolution:=optional,org.slf4j;version="[1.7,3)"'),
        []),
    "require-capability-filters": (
        bnd("Require-Capability", 'osgi.extender;filter:="(osgi.extender=osgi.component)",osgi.ee;filter:="('
                                  '&(osgi.ee=JavaSE)(version=11))"'),
        bnd("Require-Capability", 'osgi.ee;filter:="(&(osgi.ee=JavaSE)(version=11))",osgi.extender;filter:="('
                                  'osgi.extender=osgi.component)"'), []),
    "provide-capability": (
        bnd("Provide-Capability", 'osgi.service;objectClass:List<String>="a.B",osgi.serviceloader;osgi.serviceloa'
                                  'der="x.Y"'),
        bnd("Provide-Capability", 'osgi.serviceloader;osgi.serviceloader="x.Y",osgi.service;objectClass:List<Stri'
                                  'ng>="a.B"'), []),
    "private-package-and-include-resource": (
        bnd("Private-Package", "org.ex.internal.b,org.ex.internal.a"),
        bnd("Private-Package", "org.ex.internal.a,org.ex.internal.b"), []),
    "embedded-artifacts": (
        bnd("Embedded-Artifacts", 'lib/b.jar;g="org.b";a="b";v="1",lib/a.jar;g="org.a";a="a";v="2"'),
        bnd("Embedded-Artifacts", 'lib/a.jar;g="org.a";a="a";v="2",lib/b.jar;g="org.b";a="b";v="1"'), []),
    "bundle-classpath-order-is-kept": (
        bnd("Bundle-ClassPath", ".,lib/b.jar,lib/a.jar"), bnd("Bundle-ClassPath", ".,lib/a.jar,lib/b.jar"),
        [CONTENT]),
    "dynamicimport-package-order-is-kept": (
        bnd("DynamicImport-Package", 'org.ex.*;version="2",*'), bnd("DynamicImport-Package", '*,org.ex.*;version="2"'),
        [CONTENT]),
    "require-bundle-order-is-kept": (
        bnd("Require-Bundle", "org.b,org.a"), bnd("Require-Bundle", "org.a,org.b"), [CONTENT]),
    "bundle-nativecode-order-is-kept": (
        bnd("Bundle-NativeCode", "lib/a.so;osname=Linux,lib/b.dll;osname=Win32"),
        bnd("Bundle-NativeCode", "lib/b.dll;osname=Win32,lib/a.so;osname=Linux"), [CONTENT]),
    "class-path-order-is-kept": (
        bnd("Class-Path", "b.jar a.jar"), bnd("Class-Path", "a.jar b.jar"), [CONTENT]),
    "version-change-stays": (
        bnd("Export-Package", 'org.ex.b;version="1.0",org.ex.a;version="1.0"'),
        bnd("Export-Package", 'org.ex.a;version="1.1",org.ex.b;version="1.0"'), [CONTENT]),
    "missing-package-stays": (
        bnd("Import-Package", "org.b,org.a,org.c"), bnd("Import-Package", "org.a,org.b"), [CONTENT]),
    "duplicate-parameter-is-left-alone": (
        bnd("Import-Package", "org.b;version=1;version=2,org.a"), bnd("Import-Package", "org.a,org.b;version=1;"
                                                                                       "version=2"), [CONTENT]),
    "unbalanced-quote-is-left-alone": (
        bnd("Import-Package", 'org.b;version="1,org.a'), bnd("Import-Package", 'org.a,org.b;version="1'),
        [CONTENT]),
}


@pytest.mark.parametrize("row", VALUE_ROWS, ids=list(VALUE_ROWS))
def test_value_order_table(row: str) -> None:
    ref, reb, expect = VALUE_ROWS[row]
    check_row(VALUE_ORDER, ref, reb, expect)


def test_value_order_output_idempotence_and_untouched_canonical_values() -> None:
    src = bnd("Export-Package", 'b;version="1";uses:="z,y",a;x=1;b=2')
    out = apply(VALUE_ORDER, src)
    assert parse(out).main.get("Export-Package") == 'a;b=2;x=1,b;uses:="y,z";version="1"'
    assert apply(VALUE_ORDER, out) == out
    # Already in canonical order, whitespace and all: not rewritten.
    keep = bnd("Import-Package", "a, b;version=1")
    e = entry(keep)
    assert VALUE_ORDER.apply(e, ctx()) is e  # type: ignore[arg-type]
    # Only the main section is touched.
    sec = crlf("Manifest-Version: 1.0\n\nName: x/\nExport-Package: b,a\n\n")
    e2 = entry(sec)
    assert VALUE_ORDER.apply(e2, ctx()) is e2  # type: ignore[arg-type]


def test_value_order_never_sorts_order_sensitive_headers() -> None:
    assert not manifest_value_order.ORDER_FREE_HEADERS & manifest_value_order.ORDER_SENSITIVE_HEADERS
    for header in ("Bundle-ClassPath", "Class-Path", "DynamicImport-Package", "Require-Bundle",
                   "Bundle-NativeCode", "Fragment-Host"):
        e = entry(bnd(header, "b,a"))
        assert VALUE_ORDER.apply(e, ctx()) is e, header  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------- build metadata

def maven(jdk: str, extra: str = "") -> bytes:
    return crlf(f"Manifest-Version: 1.0\nCreated-By: Maven JAR Plugin 3.3.0\nBuilt-By: {jdk}-user\n"
                f"Build-Jdk-Spec: {jdk.split('.', maxsplit=1)[0]}\nBuild-Jdk: {jdk}\n{extra}"
                "Implementation-Title: demo\nImplementation-Version: 1.0.0\nMain-Class: demo.Main\n\n")


BUILD_ROWS = {
    "maven-archiver": (maven("17.0.2"), maven("21.0.1"), []),
    "bnd": (
        crlf("Manifest-Version: 1.0\nBnd-LastModified: 1700000000000\nBundle-Version: 1.0.0\nCreated-By: 17.0.9 "
             "(Eclipse Adoptium)\nTool: Bnd-6.4.0.202211291949\n\n"),
        crlf("Manifest-Version: 1.0\nBnd-LastModified: 1700000999999\nBundle-Version: 1.0.0\nCreated-By: 21.0.1 "
             "(Oracle Corporation)\nTool: Bnd-7.0.0.202310060912\n\n"), []),
    "gradle-nebula": (
        crlf("Manifest-Version: 1.0\nBuild-Host: ci-7\nBuild-Job: release\nBuild-Number: 41\nBuild-Id: 41\n"
             "Build-Date: 2023-01-01_10:00:00\nBuilt-OS: Linux\nBuilt-Status: release\nGradle-Version: 8.5\n"
             "Change: 4f1c2ab9\nImplementation-Version: 2.0\n\n"),
        crlf("Manifest-Version: 1.0\nBuild-Host: laptop\nBuild-Job: local\nBuild-Number: LOCAL\nBuild-Id: LOCAL\n"
             "Build-Date: 2024-05-05_11:11:11\nBuilt-OS: Mac OS X\nBuilt-Status: integration\nGradle-Version: 8.6\n"
             "Change: 4f1c2ab9\nImplementation-Version: 2.0\n\n"), []),
    "ant-and-ci": (
        crlf("Manifest-Version: 1.0\nAnt-Version: Apache Ant 1.10.12\nCI-Pipeline-Id: 77\nJenkins-Build-Number: 5\n"
             "Os-Name: Linux\nOs-Arch: amd64\nOs-Version: 6.1\nBuild-Time: 10:00\n\n"),
        crlf("Manifest-Version: 1.0\nAnt-Version: Apache Ant 1.10.14\nCI-Pipeline-Id: 78\nJenkins-Build-Number: 6\n"
             "Os-Name: Windows 11\nOs-Arch: x86\nOs-Version: 10.0\nBuild-Time: 11:00\n\n"), []),
    "case-insensitive-and-duplicates": (
        crlf("Manifest-Version: 1.0\nbuilt-by: alice\nBUILT-BY: alice2\nMain-Class: demo.Main\n\n"),
        crlf("Manifest-Version: 1.0\nBuilt-By: bob\nMain-Class: demo.Main\n\n"), []),
    "commit-id-is-kept-and-compared": (
        crlf("Manifest-Version: 1.0\nSCM-Revision: 4f1c2ab9d0\nGit-Commit-Id: 4f1c2ab9d0\nBuilt-By: a\n\n"),
        crlf("Manifest-Version: 1.0\nSCM-Revision: 99aa00bb11\nGit-Commit-Id: 4f1c2ab9d0\nBuilt-By: b\n\n"),
        [CONTENT]),
    "commit-like-implementation-build-is-kept": (
        crlf("Manifest-Version: 1.0\nImplementation-Build: 4f1c2ab\n\n"),
        crlf("Manifest-Version: 1.0\nImplementation-Build: 9e8d7c6\n\n"), [CONTENT]),
    "numeric-implementation-build-is-removed": (
        crlf("Manifest-Version: 1.0\nImplementation-Build: 1234\n\n"),
        crlf("Manifest-Version: 1.0\nImplementation-Build: 1240\n\n"), []),
    "per-entry-sections-are-not-touched": (
        crlf("Manifest-Version: 1.0\n\nName: demo/\nBuilt-By: alice\n\n"),
        crlf("Manifest-Version: 1.0\n\nName: demo/\nBuilt-By: bob\n\n"), [CONTENT]),
    "jenkins-plugin-core-version-is-kept": (
        crlf("Manifest-Version: 1.0\nJenkins-Version: 2.361.4\nBuilt-By: a\n\n"),
        crlf("Manifest-Version: 1.0\nJenkins-Version: 2.401.1\nBuilt-By: b\n\n"), [CONTENT]),
    "compile-target-is-kept": (
        crlf("Manifest-Version: 1.0\nX-Compile-Target-JDK: 11\n\n"),
        crlf("Manifest-Version: 1.0\nX-Compile-Target-JDK: 17\n\n"), [CONTENT]),
    "layout-stays": (maven("17.0.2"), maven("17.0.2").replace(b"\r\n", b"\n"), [CONTENT]),
}


@pytest.mark.parametrize("row", BUILD_ROWS, ids=list(BUILD_ROWS))
def test_build_metadata_table(row: str) -> None:
    ref, reb, expect = BUILD_ROWS[row]
    check_row(BUILD_META, ref, reb, expect)


def test_build_metadata_list_is_large_and_disjoint_from_protected() -> None:
    names = manifest_build_metadata.BUILD_ENVIRONMENT_ATTRIBUTES
    assert len(names) >= 60
    assert all(n == n.lower() for n in names)
    assert not names & manifest_build_metadata.PROTECTED
    assert not any(n.startswith("spring-boot-") for n in names)


def test_build_metadata_jdk_17_vs_21_evidence_for_both_sides() -> None:
    o = compare_bytes(jar(maven("17.0.2")), jar(maven("21.0.1")), stabilizers=[COMPRESSION, BUILD_META])
    assert o.verdict is Verdict.EQUIVALENT
    ev = {(e.side, e.key): e.value for e in o.evidence}
    assert ev[("reference", "build-jdk")] == "17.0.2"
    assert ev[("rebuild", "build-jdk")] == "21.0.1"
    assert ev[("reference", "build-jdk-spec")] == "17"
    assert ev[("rebuild", "build-jdk-spec")] == "21"
    assert ev[("reference", "created-by")] == ev[("rebuild", "created-by")] == "Maven JAR Plugin 3.3.0"
    assert ev[("rebuild", "built-by")] == "21.0.1-user"
    assert {e.path for e in o.evidence} == {MF}
    assert {e.stabilizer for e in o.evidence} == {"manifest-build-metadata"}


def test_build_metadata_keeps_bytes_of_what_it_keeps_and_is_idempotent() -> None:
    src = maven("17.0.2").replace(b"\r\n", b"\n")
    out = apply(BUILD_META, src)
    assert out == (b"Manifest-Version: 1.0\nImplementation-Title: demo\nImplementation-Version: 1.0.0\n"
                   b"Main-Class: demo.Main\n\n")
    assert apply(BUILD_META, out) == out


# --------------------------------------------------------------------------------------------- shared behaviour

MALFORMED = b"Manifest-Version: 1.0\r\nthis line has no colon\r\n\r\n"


@pytest.mark.parametrize("st", [LAYOUT, ATTR_ORDER, VALUE_ORDER, BUILD_META], ids=lambda s: s.name)
def test_malformed_manifest_is_a_finding_and_a_skip(st: Stabilizer) -> None:
    o = compare_bytes(jar(MALFORMED), jar(MALFORMED + b"Created-By: x\r\n"), stabilizers=[st])
    assert o.verdict is Verdict.DIFFERENT
    found = [(f.side, f.code, f.path) for f in o.findings]
    assert found == [("reference", "malformed-manifest", MF), ("rebuild", "malformed-manifest", MF)]
    assert "no ':'" in o.findings[0].message
    skips = [t for t in o.trace if t.action == "skipped"]
    assert [(t.side, t.stabilizer, t.path) for t in skips] == [("reference", st.name, MF), ("rebuild", st.name, MF)]
    assert "malformed manifest" in skips[0].reason


def test_malformed_manifest_is_reported_once_per_side_with_all_stabilizers() -> None:
    o = compare_bytes(jar(MALFORMED), jar(MALFORMED + b"X: y\r\n"), stabilizers=EVERYTHING)
    assert [(f.side, f.code) for f in o.findings] == [("reference", "malformed-manifest"),
                                                      ("rebuild", "malformed-manifest")]


@pytest.mark.parametrize("st", [LAYOUT, ATTR_ORDER, VALUE_ORDER, BUILD_META], ids=lambda s: s.name)
def test_trace_records_old_and_new_content(st: Stabilizer) -> None:
    noisy = crlf("Main-Class: demo.Main\nManifest-Version: 1.0\nBuilt-By: me\n"
                 "Export-Package: b,a\n").replace(b"\r\n", b"\n")
    o = compare_bytes(jar(noisy), jar(MAVEN_BASE), stabilizers=[st])
    steps = [t for t in o.trace if t.stabilizer == st.name and t.side == "reference"]
    assert len(steps) == 1 and steps[0].action == "changed" and steps[0].path == MF
    (change,) = steps[0].changes
    assert change.field == "content" and change.old.startswith(f"{len(noisy)} bytes") and change.new != change.old


@pytest.mark.parametrize("name", ["META-INF/MANIFEST.MF", "meta-inf/manifest.mf", "META-INF/Manifest.MF"])
def test_manifest_name_is_matched_case_insensitively(name: str) -> None:
    for st in (LAYOUT, ATTR_ORDER, VALUE_ORDER, BUILD_META):
        assert st.applies_to(entry(b"", name.encode()))
    assert not LAYOUT.applies_to(entry(b"", b"META-INF/MANIFEST.MF.bak"))
    assert not LAYOUT.applies_to(entry(b"", b"sub/META-INF/MANIFEST.MF"))


def test_nested_jar_manifests_are_stabilized() -> None:
    inner_a = jar(maven("17.0.2"))
    inner_b = jar(maven("21.0.1").replace(b"\r\n", b"\n"))
    o = compare_bytes(jar(MAVEN_BASE, Item("lib/inner.jar", inner_a)), jar(MAVEN_BASE, Item("lib/inner.jar",
                                                                                           inner_b)),
                      stabilizers=[COMPRESSION, BUILD_META, LAYOUT])
    assert o.verdict is Verdict.EQUIVALENT, diffs(o)
    assert {(e.side, e.key, e.value, e.path) for e in o.evidence if e.key == "build-jdk"} == {
        ("reference", "build-jdk", "17.0.2", "lib/inner.jar!/" + MF),
        ("rebuild", "build-jdk", "21.0.1", "lib/inner.jar!/" + MF)}


def test_each_stabilizer_does_only_its_own_thing() -> None:
    """A pair with every kind of manifest noise: every stabilizer but one leaves exactly the manifest diff."""
    ref = crlf("Manifest-Version: 1.0\nBuilt-By: alice\nExport-Package: a,b\nMain-Class: demo.Main\n\n")
    reb = b"Manifest-Version: 1.0\nMain-Class: demo.Main\nExport-Package: b,a\nBuilt-By: bob\n\n"
    stabs = [BUILD_META, VALUE_ORDER, ATTR_ORDER, LAYOUT]
    assert compare_bytes(jar(ref), jar(reb), stabilizers=[COMPRESSION, *stabs]).verdict is Verdict.EQUIVALENT
    for st in stabs:
        o = compare_bytes(jar(ref), jar(reb), stabilizers=[COMPRESSION, *(s for s in stabs if s is not st)])
        assert diffs(o) == [CONTENT], st.name


# --------------------------------------------------------------------------------------------- protected values

PROTECTED_BASE = crlf(
    "Manifest-Version: 1.0\n"
    "Created-By: Maven JAR Plugin 3.3.0\nBuild-Jdk-Spec: 17\nBuilt-By: alice\n"
    "Main-Class: demo.Main\nClass-Path: lib/a.jar lib/b.jar\nPremain-Class: demo.Agent\nAgent-Class: demo.Agent\n"
    "Launcher-Agent-Class: demo.Agent\nAdd-Opens: java.base/java.lang\nAdd-Exports: java.base/sun.nio.ch\n"
    "Enable-Native-Access: ALL-UNNAMED\nMulti-Release: true\nAutomatic-Module-Name: org.example.demo\n"
    "Sealed: true\nImplementation-Title: demo\nImplementation-Version: 1.0.0\nImplementation-Vendor: Example\n"
    "Specification-Title: Demo API\nSpecification-Version: 1.0\nSpecification-Vendor: Example\n"
    "\nName: demo/\nSealed: false\n\n")

PROTECTED_CHANGES = {
    "Main-Class": ("Main-Class: demo.Main", "Main-Class: demo.Other"),
    "Class-Path": ("Class-Path: lib/a.jar lib/b.jar", "Class-Path: lib/b.jar lib/a.jar"),
    "Premain-Class": ("Premain-Class: demo.Agent", "Premain-Class: demo.Agent2"),
    "Agent-Class": ("Agent-Class: demo.Agent", "Agent-Class: demo.Agent2"),
    "Launcher-Agent-Class": ("Launcher-Agent-Class: demo.Agent", "Launcher-Agent-Class: demo.Evil"),
    "Add-Opens": ("Add-Opens: java.base/java.lang", "Add-Opens: java.base/java.lang java.base/java.io"),
    "Add-Exports": ("Add-Exports: java.base/sun.nio.ch", "Add-Exports: java.base/sun.security.x509"),
    "Enable-Native-Access": ("Enable-Native-Access: ALL-UNNAMED", "Enable-Native-Access: none"),
    "Multi-Release": ("Multi-Release: true", "Multi-Release: false"),
    "Automatic-Module-Name": ("Automatic-Module-Name: org.example.demo", "Automatic-Module-Name: org.example.x"),
    "Sealed": ("Sealed: true\r\nImpl", "Sealed: false\r\nImpl"),
    "Name-section": ("Name: demo/", "Name: other/"),
    "Name-section-attribute": ("Name: demo/\r\nSealed: false", "Name: demo/\r\nSealed: true"),
    "Implementation-Title": ("Implementation-Title: demo", "Implementation-Title: demo2"),
    "Implementation-Version": ("Implementation-Version: 1.0.0", "Implementation-Version: 1.0.1"),
    "Implementation-Vendor": ("Implementation-Vendor: Example", "Implementation-Vendor: Other"),
    "Specification-Title": ("Specification-Title: Demo API", "Specification-Title: Demo SPI"),
    "Specification-Version": ("Specification-Version: 1.0", "Specification-Version: 1.1"),
    "Specification-Vendor": ("Specification-Vendor: Example", "Specification-Vendor: Other"),
}


@pytest.mark.parametrize("attr", PROTECTED_CHANGES, ids=list(PROTECTED_CHANGES))
def test_protected_attribute_change_is_reported(attr: str) -> None:
    old, new = PROTECTED_CHANGES[attr]
    old_b, new_b = b"\r\n" + old.encode(), b"\r\n" + new.encode()
    assert PROTECTED_BASE.count(old_b) == 1
    changed = PROTECTED_BASE.replace(old_b, new_b)
    # The rebuild also differs in every kind of noise the stabilizers remove.
    noisy = changed.replace(b"Built-By: alice", b"Built-By: bob").replace(b"\r\n", b"\n")
    same = compare_bytes(jar(PROTECTED_BASE), jar(PROTECTED_BASE.replace(b"Built-By: alice", b"Built-By: bob")
                                                  .replace(b"\r\n", b"\n")), stabilizers=EVERYTHING)
    assert same.verdict is Verdict.EQUIVALENT, diffs(same)
    o = compare_bytes(jar(PROTECTED_BASE), jar(noisy), stabilizers=EVERYTHING)
    assert o.verdict is Verdict.DIFFERENT
    assert diffs(o) == [CONTENT]
    changed_line = next(line for line in new.split("\r\n") if line not in old.split("\r\n"))
    assert o.differences[0].diff is not None and "+" + changed_line + "\r\n" in o.differences[0].diff


def test_protected_attribute_removal_is_reported() -> None:
    for line in ("Main-Class: demo.Main\r\n", "Multi-Release: true\r\n", "Launcher-Agent-Class: demo.Agent\r\n"):
        o = compare_bytes(jar(PROTECTED_BASE), jar(PROTECTED_BASE.replace(line.encode(), b"")),
                          stabilizers=EVERYTHING)
        assert diffs(o) == [CONTENT], line


# --------------------------------------------------------------------------------------------- jar-signature

SIGNED_MF = MAVEN_BASE + crlf("Name: demo/Main.class\nSHA-256-Digest: q1w2e3r4t5y6u7i8o9p0a1s2d3f4g5h6j7k8l9z0x1c="
                              "\n\n")
SF = crlf("Signature-Version: 1.0\nSHA-256-Digest-Manifest: abc=\nCreated-By: 17.0.2 (Oracle Corporation)\n\n"
          "Name: demo/Main.class\nSHA-256-Digest: def=\n\n")


def test_signature_file_names() -> None:
    yes = [b"META-INF/KEY.SF", b"META-INF/key.sf", b"META-INF/KEY.RSA", b"META-INF/KEY.DSA", b"META-INF/KEY.EC",
           b"META-INF/SIG-KEY", b"META-INF/SIG-KEY.P7S", b"meta-inf/sig-x.ab1"]
    no = [b"META-INF/MANIFEST.MF", b"META-INF/sub/KEY.SF", b"META-INF/maven/g/a/pom.xml", b"META-INF/SIG-X.TOOLONG",
          b"META-INF/SIG-X.A-B", b"KEY.SF", b"lib/META-INF/KEY.RSA", b"META-INF/services/x.RSA.txt",
          b"META-INF/", b"META-INF/LICENSE", b"META-INF/INDEX.LIST"]
    assert all(jar_signature.is_signature_file(n) for n in yes)
    assert not any(jar_signature.is_signature_file(n) for n in no)


def test_hand_built_signed_layout_vs_unsigned_is_equivalent() -> None:
    signed = make_zip([Item(MF, SIGNED_MF), Item("META-INF/KEY.SF", SF), Item("META-INF/KEY.RSA", b"\x30\x82sig"),
                       Item("demo/Main.class", CLS)])
    o = compare_bytes(jar(MAVEN_BASE), signed, stabilizers=[COMPRESSION, SIGNATURE])
    assert o.verdict is Verdict.EQUIVALENT, diffs(o)
    assert [(e.side, e.key, e.value, e.path) for e in o.evidence] == [
        ("rebuild", "signature-removed", "META-INF/KEY.RSA, META-INF/KEY.SF", ""),
        ("rebuild", "manifest-digests-removed", "1", MF)]
    removed = [(t.side, t.path, t.action) for t in o.trace if t.action == "removed"]
    assert removed == [("rebuild", "META-INF/KEY.SF", "removed"), ("rebuild", "META-INF/KEY.RSA", "removed")]
    # Without the stabilizer the signature is a difference.
    plain = compare_bytes(jar(MAVEN_BASE), signed, stabilizers=[COMPRESSION])
    assert set(diffs(plain)) == {CONTENT, ("META-INF/KEY.SF", "added", "presence"),
                                 ("META-INF/KEY.RSA", "added", "presence")}


def test_signature_keeps_sections_with_other_attributes_and_other_meta_inf_files() -> None:
    mf = MAVEN_BASE + crlf("Name: demo/\nSealed: true\nSHA-256-Digest: x=\nSHA1-Digest: y=\n\n"
                           "Name: demo/Main.class\nSHA-256-Digest: z=\n\n")
    items = [Item("META-INF/services/x.Y", b"impl\n"), Item("META-INF/sub/OTHER.SF", b"not a signature"),
             Item("META-INF/maven/g/a/pom.properties", b"version=1\n"), Item("META-INF/A.DSA", b"sig")]
    arc_items = [Item(MF, mf), *items, Item("demo/Main.class", CLS)]
    unsigned = make_zip([Item(MF, MAVEN_BASE + crlf("Name: demo/\nSealed: true\n\n")), *items[:3],
                         Item("demo/Main.class", CLS)])
    o = compare_bytes(unsigned, make_zip(arc_items), stabilizers=[COMPRESSION, SIGNATURE])
    assert o.verdict is Verdict.EQUIVALENT, diffs(o)
    # A real content change in a signed entry is still reported.
    tampered = make_zip([Item(MF, mf), *items, Item("demo/Main.class", CLS + b"!")])
    o2 = compare_bytes(unsigned, tampered, stabilizers=[COMPRESSION, SIGNATURE])
    assert diffs(o2) == [("demo/Main.class", "changed", "content")]


def test_signature_on_malformed_manifest_is_a_finding_and_a_skip() -> None:
    signed = make_zip([Item(MF, MALFORMED), Item("META-INF/KEY.SF", SF), Item("demo/Main.class", CLS)])
    o = compare_bytes(jar(MAVEN_BASE), signed, stabilizers=[COMPRESSION, SIGNATURE])
    assert o.verdict is Verdict.DIFFERENT
    assert [(f.side, f.code) for f in o.findings] == [("rebuild", "malformed-manifest")]
    assert ("META-INF/KEY.SF", "added", "presence") in diffs(o)
    assert any(t.action == "skipped" and t.stabilizer == "jar-signature" for t in o.trace)


def test_signature_unchanged_archive_is_returned_as_is() -> None:
    from canonjar.model import archive_from_zip
    from canonjar.zipfmt import read_zip

    arc = archive_from_zip(read_zip(jar(MAVEN_BASE), DEFAULT_LIMITS))
    assert SIGNATURE.apply(arc, ctx()) is arc  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def signed_pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, bytes]:
    """An unsigned JAR built with the jar tool, and the same JAR signed with keytool + jarsigner."""
    jar_tool, keytool, jarsigner, javac = (jdk_tool(t) for t in ("jar", "keytool", "jarsigner", "javac"))
    if None in (jar_tool, keytool, jarsigner, javac):
        pytest.skip("no JDK signing tools")
    assert jar_tool and keytool and jarsigner and javac
    root = tmp_path_factory.mktemp("signed")
    src = root / "src" / "demo"
    src.mkdir(parents=True)
    (src / "Main.java").write_text("package demo; public class Main { public static void main(String[] a) {"
                                   " System.out.println(\"hi\"); } }")
    classes = root / "classes"
    subprocess.run([javac, "-d", str(classes), str(src / "Main.java")], check=True, capture_output=True,
                   timeout=120)
    (root / "m.txt").write_text("Main-Class: demo.Main\nImplementation-Version: 1.0\n")
    unsigned = root / "u.jar"
    subprocess.run([jar_tool, "--create", "--file", str(unsigned), "--manifest", str(root / "m.txt"),
                    "-C", str(classes), "."], check=True, capture_output=True, timeout=120)
    signed = root / "s.jar"
    signed.write_bytes(unsigned.read_bytes())
    ks = root / "ks.p12"
    subprocess.run([keytool, "-genkeypair", "-keystore", str(ks), "-storetype", "PKCS12", "-storepass", "secret",
                    "-keypass", "secret", "-alias", "release", "-keyalg", "EC", "-dname", "CN=canonjar test",
                    "-validity", "2"], check=True, capture_output=True, timeout=120)
    subprocess.run([jarsigner, "-keystore", str(ks), "-storepass", "secret", str(signed), "release"],
                   check=True, capture_output=True, timeout=120)
    with zipfile.ZipFile(signed) as zf:
        assert {"META-INF/RELEASE.SF", "META-INF/RELEASE.EC"} <= set(zf.namelist())
    return unsigned.read_bytes(), signed.read_bytes()


def test_really_signed_jar_vs_unsigned_is_equivalent(signed_pair: tuple[bytes, bytes]) -> None:
    unsigned, signed = signed_pair
    o = compare_bytes(unsigned, signed, stabilizers=EVERYTHING)
    assert o.verdict is Verdict.EQUIVALENT, diffs(o)
    sig = [(e.side, e.value) for e in o.evidence if e.key == "signature-removed"]
    assert sig == [("rebuild", "META-INF/RELEASE.EC, META-INF/RELEASE.SF")]
    # Evidence on the signed side only; the JDK that built both is recorded on both sides.
    assert all(e.side == "rebuild" for e in o.evidence if e.stabilizer == "jar-signature")
    assert {e.side for e in o.evidence if e.key == "created-by"} == {"reference", "rebuild"}
    without = compare_bytes(unsigned, signed, stabilizers=[s for s in EVERYTHING if s is not SIGNATURE])
    assert without.verdict is Verdict.DIFFERENT
    assert {d.path for d in without.differences} >= {"META-INF/RELEASE.SF", "META-INF/RELEASE.EC", MF}


def test_really_signed_jar_reverse_direction(signed_pair: tuple[bytes, bytes]) -> None:
    unsigned, signed = signed_pair
    o = compare_bytes(signed, unsigned, stabilizers=EVERYTHING)
    assert o.verdict is Verdict.EQUIVALENT
    assert [e.side for e in o.evidence if e.key == "signature-removed"] == ["reference"]
    from canonjar.render import render_text

    text = render_text(o)
    assert "signature removed on reference side (META-INF/RELEASE.EC, META-INF/RELEASE.SF)" in text
    assert "signature removed on rebuild side" not in text


def test_jar_tool_manifest_layout_is_already_canonical(signed_pair: tuple[bytes, bytes]) -> None:
    unsigned, _ = signed_pair
    data = zipfile.ZipFile(io.BytesIO(unsigned)).read(MF)
    e = entry(data)
    for st in (LAYOUT, VALUE_ORDER):
        assert st.apply(e, ctx()) is e, st.name  # type: ignore[arg-type]
    # The jar tool writes Created-By last (insertion order), so only the attribute order changes.
    out = apply(ATTR_ORDER, data)
    assert out != data and parse(out).main.get("Created-By") == parse(data).main.get("Created-By")


def test_signature_is_idempotent() -> None:
    from canonjar.model import archive_from_zip
    from canonjar.zipfmt import read_zip

    signed = make_zip([Item(MF, SIGNED_MF), Item("META-INF/KEY.SF", SF), Item("META-INF/KEY.RSA", b"sig"),
                       Item("demo/Main.class", CLS)])
    arc = archive_from_zip(read_zip(signed, DEFAULT_LIMITS))
    once = SIGNATURE.apply(arc, ctx())  # type: ignore[arg-type]
    assert once is not arc
    assert SIGNATURE.apply(once, ctx()) is once  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------- OSGi header parser

PKG = hs.sampled_from(["org.a", "org.b", "org.c.d", "javax.inject", "x"])
PARAM = hs.sampled_from(['version="1.0"', 'version="[1.0,2)"', "resolution:=optional", 'uses:="org.b,org.a"',
                         'uses:="org.z, org.a"', "x=1", 'filter:="(&(a=b)(c=d))"', 'mandatory:="x,a"', "y:=1",
                         'objectClass:List<String>="a.B,c.D"'])
CLAUSE = hs.builds(lambda paths, params: ";".join(paths + params), hs.lists(PKG, min_size=1, max_size=2),
                   hs.lists(PARAM, max_size=3, unique=True))
HEADER_VALUE = hs.lists(CLAUSE, min_size=1, max_size=5).map(",".join) | hs.text(
    hs.sampled_from('ab.;,="\\: '), max_size=30)


@settings(max_examples=300, deadline=None)
@given(HEADER_VALUE, hs.randoms(use_true_random=False))
def test_property_value_order_is_canonical_idempotent_and_keeps_clauses(value: str, rnd: random.Random) -> None:
    out = manifest_value_order.canonical_value(value)
    if out is None:
        return
    assert manifest_value_order.canonical_value(out) is None  # idempotent: already canonical
    clauses = manifest_value_order.split_quoted(value, ",")
    assert clauses is not None
    # The same clauses, shuffled, give the same canonical value (order is all that is removed)...
    shuffled = clauses[:]
    rnd.shuffle(shuffled)
    again = manifest_value_order.canonical_value(",".join(shuffled))
    assert (again or ",".join(shuffled)).replace(" ", "") == out.replace(" ", "")
    # ... and nothing but order and whitespace around separators changes.
    assert sorted(out.replace(" ", "")) == sorted(value.replace(" ", ""))


def test_split_quoted() -> None:
    split = manifest_value_order.split_quoted
    assert split('a;b="x,y";c', ",") == ['a;b="x,y";c']
    assert split('a,b="x\\",y",c', ",") == ["a", 'b="x\\",y"', "c"]
    assert split('a,"b', ",") is None
