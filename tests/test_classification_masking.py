"""A benign difference never masks another one: the label of a mixed difference is never "build noise".

The taxonomy gives each residual difference one root cause. When a file differs both in build noise (Built-By,
a date comment, a UUID...) and in something that changes the software (Main-Class, a version key, a code line),
the difference must come out with the functional cause (or ``unknown``), and its explanation must say what is
benign and what is not. Checked two ways:

* real pairs (JARs packed by ``zipfile``) that mix every benign manifest, properties and text cause with a
  functional change, compared with the default stabilizers and with none;
* a property of the rule table: for every benign rule that reads the changed lines, appending an unrelated
  functional change to the sample it classifies makes it no longer classify it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

import pytest

from canonjar import Verdict, compare_bytes, select_stabilizers
from canonjar.outcome import Difference, DifferenceKind, Evidence, Outcome
from canonjar.pipeline import Stabilizer
from canonjar.taxonomy.rules import DIFFERENCE_RULES, Facts, classify_difference, is_benign, split_changes

from .helpers import Item, make_zip
from .test_taxonomy import SAMPLES

MF = "META-INF/MANIFEST.MF"
POM = "META-INF/maven/org.example/demo/pom.properties"
CHANGES = "META-INF/CHANGES.txt"

ON: tuple[Stabilizer, ...] = select_stabilizers()
OFF: tuple[Stabilizer, ...] = select_stabilizers(disable=["all"])
MODES = [pytest.param(ON, id="stabilizers-on"), pytest.param(OFF, id="stabilizers-off")]


def jar(entries: dict[str, bytes]) -> bytes:
    return make_zip([Item(name, data) for name, data in entries.items()])


def mf(*attributes: str) -> bytes:
    """A manifest as maven-archiver writes it (CRLF, Manifest-Version first)."""
    return ("\r\n".join(("Manifest-Version: 1.0", *attributes)) + "\r\n\r\n").encode()


def compare(name: str, ref: bytes, rebuild: bytes, stabilizers: Sequence[Stabilizer]) -> Outcome:
    common = {"demo/data.txt": b"hello\n"}
    return compare_bytes(jar({**common, name: ref}), jar({**common, name: rebuild}), stabilizers=stabilizers)


def the_difference(out: Outcome, path: str) -> Difference:
    """The one content difference of ``path`` (the pair differs in nothing else that matters here)."""
    assert out.verdict is Verdict.DIFFERENT, out.verdict
    found = [d for d in out.differences if d.path == path and d.aspect == "content"]
    assert len(found) == 1, [(d.path, d.aspect, d.root_cause) for d in out.differences]
    return found[0]


def assert_not_masked(d: Difference, benign: str) -> None:
    assert d.root_cause != benign, (d.root_cause, d.explanation)
    assert not is_benign(d.root_cause), (d.root_cause, d.explanation)


# ------------------------------------------------------------------------------------------------ manifests

#: benign cause -> (reference attribute, rebuild attribute)
BENIGN_ATTRIBUTES: dict[str, tuple[str, str]] = {
    "built-by": ("Built-By: alice", "Built-By: bob"),
    "build-jdk": ("Build-Jdk: 17.0.2", "Build-Jdk: 21.0.1"),
    "jdk-vendor": ("Build-Jdk-Vendor: Eclipse Adoptium", "Build-Jdk-Vendor: Azul Systems"),
    "build-tool-version": ("Created-By: Apache Maven 3.8.1", "Created-By: Apache Maven 3.9.6"),
    "os-version": ("Build-OS: Linux", "Build-OS: Windows 10"),
    "build-environment": ("Build-Host: ci-1", "Build-Host: laptop"),
    "manifest-build-time": ("Bnd-LastModified: 1709374500000", "Bnd-LastModified: 1731398518000"),
    "scm-revision": ("SCM-Revision: 3f2c9a1b7e5d", "SCM-Revision: 99aa00b1c2d3"),
    "jar-signature": ("SHA-256-Digest: AAAA", "SHA-256-Digest: BBBB"),
}

#: attributes the JVM reads: a change is never build noise
FUNCTIONAL_ATTRIBUTES: dict[str, tuple[str, str]] = {
    "Main-Class": ("Main-Class: demo.Hello", "Main-Class: demo.Evil"),
    "Class-Path": ("Class-Path: lib/a.jar", "Class-Path: lib/a.jar http://evil.example/x.jar"),
    "Premain-Class": ("Premain-Class: demo.Agent", "Premain-Class: demo.EvilAgent"),
    "Agent-Class": ("Agent-Class: demo.Agent", "Agent-Class: demo.EvilAgent"),
    "Add-Opens": ("Add-Opens: java.base/java.lang", "Add-Opens: java.base/java.lang java.base/sun.misc"),
}


def _manifest_pair(benign: str, functional: str) -> tuple[bytes, bytes]:
    (b_ref, b_reb), (f_ref, f_reb) = BENIGN_ATTRIBUTES[benign], FUNCTIONAL_ATTRIBUTES[functional]
    if benign == "jar-signature":  # per-entry digests live in the entry's section
        return (mf("Implementation-Title: demo", f_ref) + f"Name: demo/data.txt\r\n{b_ref}\r\n\r\n".encode(),
                mf("Implementation-Title: demo", f_reb) + f"Name: demo/data.txt\r\n{b_reb}\r\n\r\n".encode())
    return mf("Implementation-Title: demo", b_ref, f_ref), mf("Implementation-Title: demo", b_reb, f_reb)


@pytest.mark.parametrize("stabilizers", MODES)
@pytest.mark.parametrize("functional", list(FUNCTIONAL_ATTRIBUTES))
@pytest.mark.parametrize("benign", list(BENIGN_ATTRIBUTES))
def test_benign_manifest_attribute_never_masks_a_functional_one(benign: str, functional: str,
                                                               stabilizers: Sequence[Stabilizer]) -> None:
    ref, reb = _manifest_pair(benign, functional)
    d = the_difference(compare(MF, ref, reb, stabilizers), MF)
    assert_not_masked(d, benign)
    assert d.root_cause == "manifest-attribute-value", (d.root_cause, d.explanation)
    assert functional in d.explanation, d.explanation
    if stabilizers is OFF:  # nothing removed the benign attribute: the explanation names it as benign too
        assert "benign: " in d.explanation and f"[{benign}]" in d.explanation, d.explanation


@pytest.mark.parametrize("benign", list(BENIGN_ATTRIBUTES))
def test_benign_manifest_attribute_alone_keeps_its_cause(benign: str) -> None:
    """The control: without the functional change, stabilizers off, the benign cause is named."""
    b_ref, b_reb = BENIGN_ATTRIBUTES[benign]
    if benign == "jar-signature":
        ref = mf("Implementation-Title: demo") + f"Name: demo/data.txt\r\n{b_ref}\r\n\r\n".encode()
        reb = mf("Implementation-Title: demo") + f"Name: demo/data.txt\r\n{b_reb}\r\n\r\n".encode()
    else:
        ref, reb = mf("Implementation-Title: demo", b_ref), mf("Implementation-Title: demo", b_reb)
    d = the_difference(compare(MF, ref, reb, OFF), MF)
    assert d.root_cause == benign, (d.root_cause, d.explanation)


def test_two_benign_attributes_stay_benign_and_are_both_named() -> None:
    ref = mf("Built-By: alice", "Build-Jdk: 17.0.2", "Main-Class: demo.Hello")
    reb = mf("Built-By: bob", "Build-Jdk: 21.0.1", "Main-Class: demo.Hello")
    d = the_difference(compare(MF, ref, reb, OFF), MF)
    assert d.root_cause == "build-jdk" and "[built-by]" in d.explanation and "[build-jdk]" in d.explanation


@pytest.mark.parametrize("stabilizers", MODES)
@pytest.mark.parametrize("layout", ["order", "wrapping", "osgi-order"])
def test_manifest_layout_noise_never_masks_a_functional_attribute(layout: str,
                                                                  stabilizers: Sequence[Stabilizer]) -> None:
    long_value = "Export-Package: " + ",".join(f"org.example.pkg{i}" for i in range(8))
    if layout == "order":
        ref = mf("Built-By: alice", "Implementation-Title: demo", "Main-Class: demo.Hello")
        reb = mf("Main-Class: demo.Evil", "Implementation-Title: demo", "Built-By: alice")
    elif layout == "wrapping":
        wrapped = long_value[:70] + "\r\n " + long_value[70:]
        ref = mf(long_value, "Main-Class: demo.Hello")
        reb = mf(wrapped, "Main-Class: demo.Evil")
    else:
        ref = mf("Export-Package: a;version=1,b", "Main-Class: demo.Hello")
        reb = mf("Export-Package: b,a;version=1", "Main-Class: demo.Evil")
    d = the_difference(compare(MF, ref, reb, stabilizers), MF)
    assert_not_masked(d, {"order": "manifest-attribute-order", "wrapping": "manifest-line-wrapping",
                          "osgi-order": "osgi-value-order"}[layout])
    assert "Main-Class" in d.explanation, d.explanation


def test_an_attribute_moved_into_another_section_is_not_an_order_change() -> None:
    """The same lines in another order, but Main-Class now belongs to a per-entry section: not the same."""
    ref = mf("Main-Class: demo.Hello", "Implementation-Title: demo") + b"Name: demo/\r\nSealed: true\r\n\r\n"
    reb = mf("Implementation-Title: demo") + b"Name: demo/\r\nSealed: true\r\nMain-Class: demo.Hello\r\n\r\n"
    d = the_difference(compare(MF, ref, reb, OFF), MF)
    assert_not_masked(d, "manifest-attribute-order")
    assert "Main-Class" in d.explanation, d.explanation


def test_a_section_on_one_side_only_is_not_explained_by_its_name_alone() -> None:
    """An added per-entry section with a functional attribute next to a changed digest is not "signature"."""
    ref = mf("Implementation-Title: demo") + b"Name: demo/data.txt\r\nSHA-256-Digest: AAAA\r\n\r\n"
    reb = mf("Implementation-Title: demo") + b"Name: demo/data.txt\r\nSHA-256-Digest: BBBB\r\n\r\n" + \
        b"Name: demo/\r\nSealed: false\r\n\r\n"
    d = the_difference(compare(MF, ref, reb, OFF), MF)
    assert_not_masked(d, "jar-signature")
    assert "Sealed" in d.explanation, d.explanation


# ------------------------------------------------------------------------------------------------ properties

def pom(version: str = "1.4.2", date: str = "Sat Mar 02 10:15:00 UTC 2024", maven: str = "",
        order: tuple[str, ...] = ("artifactId", "groupId", "version"), m2e: bool = False) -> bytes:
    values = {"groupId": "org.example", "artifactId": "demo", "version": version}
    head = (f"#Created by Apache Maven {maven}\n" if maven else "#Generated by Maven\n") + f"#{date}\n"
    body = "".join(f"{k}={values[k]}\n" for k in order)
    if m2e:
        body += "m2e.projectLocation=/home/alice/workspace/demo\nm2e.projectName=demo\n"
    return (head + body).encode()


LATER = "Tue Nov 12 08:01:59 CET 2024"

#: benign cause -> the rebuild's pom.properties (the reference is pom()); each also changes the version
POM_MIXES: dict[str, bytes] = {
    "pom-properties-timestamp": pom(version="1.4.3", date=LATER),
    "pom-properties-order": pom(version="1.4.3", order=("version", "groupId", "artifactId")),
    "pom-properties-m2e": pom(version="1.4.3", m2e=True),
    "pom-properties-maven-version": pom(version="1.4.3", maven="3.9.6"),
}


@pytest.mark.parametrize("stabilizers", MODES)
@pytest.mark.parametrize("benign", list(POM_MIXES))
def test_benign_pom_properties_noise_never_masks_a_version_change(benign: str,
                                                                 stabilizers: Sequence[Stabilizer]) -> None:
    ref = pom(maven="3.8.1") if benign == "pom-properties-maven-version" else pom()
    d = the_difference(compare(POM, ref, POM_MIXES[benign], stabilizers), POM)
    assert_not_masked(d, benign)
    assert d.root_cause == "version-mismatch", (d.root_cause, d.explanation)


#: (path, benign cause, reference, rebuild): a benign line next to a functional one in other properties files
PROPERTIES_MIXES: list[tuple[str, str, bytes, bytes]] = [
    ("demo/build.properties", "properties-timestamp",
     b"build.date=2024-03-02T10:15:00Z\nfeature.check=enabled\n",
     b"build.date=2024-11-12T08:01:58Z\nfeature.check=disabled\n"),
    ("demo/build.properties", "properties-timestamp",  # the date and the functional change on one line
     b"build.date=2024-03-02T10:15:00Z mode=safe\n", b"build.date=2024-11-12T08:01:58Z mode=unsafe\n"),
    ("demo/app.properties", "absolute-paths",
     b"basedir=/home/alice/work/demo\nendpoint=https://api.example.org\n",
     b"basedir=/home/bob/src/demo\nendpoint=https://evil.example.org\n"),
    ("demo/app.properties", "uuids",
     b"build.id=0f8fad5b-d9cb-469f-a165-70867728950e\nadmin.enabled=false\n",
     b"build.id=7c9e6679-7425-40de-944b-e07fc1f90ae7\nadmin.enabled=true\n"),
    ("git.properties", "git-properties-keys",
     b"git.build.host=ci-1\ngit.commit.id=3f2c9a1b7e5d4c3b2a19087f6e5d4c3b2a190876\napp.mode=safe\n",
     b"git.build.host=laptop\ngit.commit.id=3f2c9a1b7e5d4c3b2a19087f6e5d4c3b2a190876\napp.mode=unsafe\n"),
]


@pytest.mark.parametrize("stabilizers", MODES)
@pytest.mark.parametrize(("path", "benign", "ref", "reb"), PROPERTIES_MIXES,
                         ids=[f"{m[1]}-{i}" for i, m in enumerate(PROPERTIES_MIXES)])
def test_benign_properties_line_never_masks_a_functional_key(path: str, benign: str, ref: bytes, reb: bytes,
                                                             stabilizers: Sequence[Stabilizer]) -> None:
    d = the_difference(compare(path, ref, reb, stabilizers), path)
    assert_not_masked(d, benign)


# ------------------------------------------------------------------------------------------------ text

CDX = ('{"bomFormat": "CycloneDX", "specVersion": "1.4", "serialNumber": "urn:uuid:%s", "version": 1,\n'
       ' "metadata": {"timestamp": "%s"},\n'
       ' "components": [{"type": "library", "name": "commons-io", "version": "%s"}]}\n')

#: (path, benign cause, reference, rebuild): a benign line next to a code or content change
TEXT_MIXES: list[tuple[str, str, bytes, bytes]] = [
    ("META-INF/version.txt", "resource-timestamp", b"built 2024-03-02 10:15\nmode=safe\n",
     b"built 2024-11-12 08:01\nmode=unsafe\n"),
    ("bin/run.sh", "script-timestamp", b"# generated 2024-03-02 10:15\nexec java -jar app.jar --safe\n",
     b"# generated 2024-11-12 08:01\nexec java -jar app.jar --unsafe\n"),
    ("bin/run.sh", "script-timestamp", b"# generated 2024-03-02 10:15\n--safe-mode\nexec java -jar app.jar\n",
     b"# generated 2024-11-12 08:01\nexec java -jar app.jar\n"),  # a removed line that looks like a diff header
    ("META-INF/version.txt", "resource-timestamp", b"built 2024-03-02 10:15\n}\n", b"built 2024-11-12 08:01\n"),
    ("META-INF/NOTICE", "notice-timestamp", b"Copyright 2023 Example\nLicensed under Apache-2.0\n",
     b"Copyright 2024 Example\nLicensed under a proprietary license\n"),
    ("META-INF/ids.txt", "uuids", b"0f8fad5b-d9cb-469f-a165-70867728950e\nallow=none\n",
     b"7c9e6679-7425-40de-944b-e07fc1f90ae7\nallow=all\n"),
    ("META-INF/paths.txt", "absolute-paths", b"src=/home/alice/p\ntrust=none\n", b"src=/home/bob/p\ntrust=all\n"),
    ("demo/script.txt", "newline-style", b"line one\r\nrm -i file\r\n", b"line one\nrm -rf /\n"),
    ("docs/api/demo/Hello.html",
     "javadoc-timestamp", b"<!-- Generated by javadoc (17) on Sat Mar 02 10:15:00 UTC 2024 -->\n<p>Safe.</p>\n",
     b"<!-- Generated by javadoc (17) on Tue Nov 12 08:01:59 CET 2024 -->\n<p>Unsafe.</p>\n"),
    ("META-INF/sbom/bom.json", "sbom-serial-number",
     (CDX % ("6b1a9c2e-0f3d-4c53-9d0e-1e2f3a4b5c6d", "2024-03-02T10:15:01Z", "2.11.0")).encode(),
     (CDX % ("d3adb33f-1111-4222-8333-944455556666", "2024-03-02T10:15:01Z", "2.12.0")).encode()),
    ("META-INF/sbom/bom.min.json", "sbom-serial-number",  # minified: the serial and the component on one line
     b'{"serialNumber": "urn:uuid:6b1a9c2e-0f3d-4c53-9d0e-1e2f3a4b5c6d", "components": [{"version": "2.11.0"}]}',
     b'{"serialNumber": "urn:uuid:d3adb33f-1111-4222-8333-944455556666", "components": [{"version": "2.12.0"}]}'),
    ("docs/api/demo/Hello.html", "javadoc-timestamp",  # the date comment and other markup on one line
     b"<!-- Generated by javadoc (17) on Sat Mar 02 10:15:00 UTC 2024 --><p>Safe.</p>\n",
     b"<!-- Generated by javadoc (17) on Tue Nov 12 08:01:59 CET 2024 --><p>Unsafe.</p>\n"),
    ("META-INF/sbom/bom.json", "sbom-timestamp",
     (CDX % ("6b1a9c2e-0f3d-4c53-9d0e-1e2f3a4b5c6d", "2024-03-02T10:15:01Z", "2.11.0")).encode(),
     (CDX % ("6b1a9c2e-0f3d-4c53-9d0e-1e2f3a4b5c6d", "2024-11-12T07:02:00Z", "2.12.0")).encode()),
]


@pytest.mark.parametrize("stabilizers", MODES)
@pytest.mark.parametrize(("path", "benign", "ref", "reb"), TEXT_MIXES,
                         ids=[f"{m[1]}-{i}" for i, m in enumerate(TEXT_MIXES)])
def test_benign_text_line_never_masks_a_content_change(path: str, benign: str, ref: bytes, reb: bytes,
                                                       stabilizers: Sequence[Stabilizer]) -> None:
    d = the_difference(compare(path, ref, reb, stabilizers), path)
    assert_not_masked(d, benign)


def test_text_benign_control_and_explanation_lists_both_parts() -> None:
    """Alone, the date line is build noise; next to a code line the explanation names both."""
    path = "META-INF/version.txt"
    alone = the_difference(compare(path, b"built 2024-03-02 10:15\nmode=safe\n",
                                   b"built 2024-11-12 08:01\nmode=safe\n", OFF), path)
    assert alone.root_cause == "resource-timestamp", alone.explanation
    mixed = the_difference(compare(path, b"built 2024-03-02 10:15\nmode=safe\n",
                                   b"built 2024-11-12 08:01\nmode=unsafe\n", OFF), path)
    assert mixed.root_cause == "unknown"
    assert "not only build noise" in mixed.explanation and "mode=" in mixed.explanation
    assert "benign: " in mixed.explanation and "[resource-timestamp]" in mixed.explanation


def test_truncated_diff_is_not_called_noise() -> None:
    """Lines the diff does not show cannot be verified, so a line-reading rule cannot call them noise."""
    d, evidence, others = SAMPLES["text-timestamp"]
    cut = replace(d, diff_omitted_lines=40)
    out = classify_difference(cut, Facts(evidence, [cut, *others]))
    assert out.root_cause == "unknown" and "not shown" in out.explanation, out.explanation


# ------------------------------------------------------------------------------------------------ the rule table

def test_hash_algorithms_never_mask_a_digest_or_component_change() -> None:
    """Another JDK vendor lists other hash algorithms; a changed digest or version is not explained by that."""
    evidence = Facts([Evidence("reference", "sbom-cyclonedx", "sbom-hash-algorithms", "SHA-256,SHA3-256"),
                      Evidence("rebuild", "sbom-cyclonedx", "sbom-hash-algorithms", "SHA-256")])
    block = ['        {', '          "alg": "SHA3-256",', '          "content": "0818930d"', '        },']
    alone = udiff(block, [])
    digest = udiff([*block, '          "content": "961b2f6d"'], ['          "content": "00000000"'])
    version = udiff([*block, '      "version": "2.11.0",'], ['      "version": "2.12.0",'])
    path = "META-INF/sbom/bom.json"
    assert classify_difference(D(path, alone), evidence).root_cause == "sbom-hash-algorithms"
    for diff in (digest, version):
        out = classify_difference(D(path, diff), evidence)
        assert_not_masked(out, "sbom-hash-algorithms")


def test_sbom_tool_versions_never_mask_a_component_change() -> None:
    """The SBOM tools differ (recorded by the stabilizer): a tool entry is explained, a component is not."""
    evidence = Facts([Evidence("reference", "sbom-cyclonedx", "sbom-tool-version", "OWASP Foundation cyclonedx 2.7.9"),
                      Evidence("rebuild", "sbom-cyclonedx", "sbom-tool-version", "OWASP Foundation makebom 2.9.1")])
    path = "META-INF/sbom/bom.json"
    tool = udiff(['        "name": "cyclonedx"'], ['        "name": "makebom"'])
    assert classify_difference(D(path, tool), evidence).root_cause == "sbom-tool-version"
    for extra in (['      "version": "2.11.0",'], ['      "name": "commons-io",']):
        mixed = udiff(['        "name": "cyclonedx"', *extra], ['        "name": "makebom"', '      "version": "9"'])
        assert_not_masked(classify_difference(D(path, mixed), evidence), "sbom-tool-version")


def udiff(removed: list[str], added: list[str]) -> str:
    body = [f"-{x}" for x in removed] + [f"+{x}" for x in added]
    return "--- reference/x\n+++ rebuild/x\n@@ -1 +1 @@\n" + "\n".join(body) + "\n"


def D(path: str, diff: str) -> Difference:
    return Difference(path, DifferenceKind.CHANGED, "content", "unknown", diff=diff)


#: Benign content rules that do not read the changed lines: they explain a difference by the file it is in, by
#: evidence about the whole build or by an analysis note of the whole file, so appending a line cannot be
#: seen by them. Each with the reason (see the module docstring of canonjar.taxonomy.rules).
CONTEXT_RULES: dict[str, str] = {
    "java-layout": "note: compare tokenized the whole source and found the same tokens",
    "class-jsp": "path: a servlet compiled from a JSP (class file, no line diff)",
    "class-compiler": "class analysis note", "class-debug-only": "class analysis note",
    "class-version": "class analysis note", "class-idiom": "class analysis note",
    "class-jdk-evidence": "evidence: the JDK versions differ (class file, no line diff)",
    "class-debug": "class analysis note", "class-lambda": "class analysis note",
    "class-timestamp": "class analysis note", "class-path": "class analysis note",
    "class-uuid": "class analysis note", "class-member-order": "class analysis note",
    "class-cp-order": "class analysis note",
    "index-content": "path: a generated index (binary, no line diff)",
    "javadoc-jdk": "evidence: the javadoc pages were generated by another JDK",
    "web-assets": "path: bundled JavaScript/CSS", "native-content": "path: a native binary",
}

#: A functional change per kind of file: it matches no benign rule of that file.
FUNCTIONAL_LINES: list[tuple[str, tuple[str, str]]] = [
    (r"MANIFEST\.MF$", ("Main-Class: demo.Hello\r", "Main-Class: demo.Evil\r")),
    (r"\.properties$", ("mode=safe", "mode=unsafe")),
    (r"", ("    return check(user);", "    return true;")),
]


def _benign_line_rules() -> list[str]:
    return [r.id for r in DIFFERENCE_RULES if is_benign(r.cause) and "changed" in r.kinds and r.id not in
            CONTEXT_RULES]


def test_context_rules_are_exactly_the_benign_content_rules_that_read_no_lines() -> None:
    blind = {r.id for r in DIFFERENCE_RULES if is_benign(r.cause) and "changed" in r.kinds
             and not (r.changed or r.check)}
    assert blind == set(CONTEXT_RULES), (sorted(blind - set(CONTEXT_RULES)), sorted(set(CONTEXT_RULES) - blind))


def _with_functional_change(d: Difference) -> Difference:
    removed, added = next(lines for pattern, lines in FUNCTIONAL_LINES if re.search(pattern, d.path))
    assert d.diff is not None
    return replace(d, diff=d.diff.rstrip("\n") + f"\n-{removed}\n+{added}\n")


@pytest.mark.parametrize("rule_id", _benign_line_rules())
def test_appending_a_functional_change_unmatches_every_benign_rule(rule_id: str) -> None:
    d, evidence, others = SAMPLES[rule_id]
    rule = next(r for r in DIFFERENCE_RULES if r.id == rule_id)
    facts = Facts(evidence, [d, *others])
    assert classify_difference(d, facts).root_cause == rule.cause  # the control: the sample is this rule's
    mixed = _with_functional_change(d)
    out = classify_difference(mixed, Facts(evidence, [mixed, *others]))
    assert out.root_cause != rule.cause and not is_benign(out.root_cause), (rule_id, out.root_cause,
                                                                            out.explanation)
    shown = (mixed.diff or "").replace("mode=", "key mode")
    token = next(t for t in ("Main-Class", "key mode", "return check") if t in shown)
    assert token in out.explanation, out.explanation  # the explanation names the functional change
    assert len(split_changes(mixed)) > len(split_changes(d)), "the functional change is a change of its own"
