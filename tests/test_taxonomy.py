"""The taxonomy: root-cause table, classification rules (each reachable), trace attribution, and real pairs."""

from __future__ import annotations

import json
import re
import struct
import subprocess
import zipfile
from collections.abc import Sequence
from pathlib import Path

import pytest

from canonjar import compare_bytes
from canonjar.outcome import Difference, DifferenceKind, Evidence, FieldChange, Outcome, TraceStep, Verdict
from canonjar.pipeline import select_stabilizers
from canonjar.render import render_text
from canonjar.stabilizers import BUILTIN
from canonjar.taxonomy import (
    CATEGORY_DESCRIPTIONS,
    CATEGORY_GUIDANCE,
    ROOT_CAUSES,
    Category,
    Mitigation,
    classify,
    root_cause,
)
from canonjar.taxonomy.classfile import explain_class_difference, parse_class
from canonjar.taxonomy.rules import (
    CHECKS,
    DIFFERENCE_RULES,
    EVIDENCE_FACTS,
    STEP_CAUSES,
    Facts,
    classify_difference,
    first_rule,
    noise_summary,
    step_causes,
)

from .helpers import Item, jdk_tool, make_zip

IDS = {rc.id for rc in ROOT_CAUSES}

# ------------------------------------------------------------------------------------------------ the table


def test_root_cause_table_is_complete() -> None:
    assert len(IDS) == len(ROOT_CAUSES), "root cause ids are unique"
    for rc in ROOT_CAUSES:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", rc.id), rc.id
        assert rc.description.strip() and rc.hint.strip(), rc.id
        assert isinstance(rc.mitigation, Mitigation) and isinstance(rc.category, Category)
        assert (rc.category is Category.UNKNOWN) == (rc.id == "unknown")
    assert root_cause("no-such-cause").id == "unknown"
    required = {
        "built-by", "build-jdk", "jdk-vendor", "build-tool-version", "os-version", "scm-revision",
        "manifest-attribute-order", "osgi-value-order", "pom-properties-order", "pom-properties-timestamp",
        "pom-properties-m2e", "sbom-serial-number", "sbom-timestamp", "sbom-hash-algorithms", "sbom-component-set",
        "umask-permissions", "ownership", "file-order", "absolute-paths", "missing-files", "constant-pool-order",
        "member-order", "lambda-naming", "jdk-idioms", "debug-info", "embedded-commit", "git-properties-keys",
        "properties-timestamp", "javadoc-timestamp", "script-timestamp", "bytecode-timestamp", "notice-timestamp",
        "servlet-timestamp", "newline-style", "bundled-javascript", "index-files", "uuids", "os-specific-binaries",
        "version-ranges", "zip-timestamps", "zip-compression", "zip-extra-fields", "jar-signature", "unknown",
    }
    assert required <= IDS, required - IDS


def test_every_category_has_description_mitigation_hint_and_causes() -> None:
    for cat in Category:
        assert CATEGORY_DESCRIPTIONS[cat].strip()
        mitigation, hint = CATEGORY_GUIDANCE[cat]
        assert isinstance(mitigation, Mitigation) and hint.strip()
        assert any(rc.category is cat for rc in ROOT_CAUSES), cat
    assert {m.value for m in Mitigation} >= {"fix-build", "fix-rebuild", "canonicalize-in-rebuilder"}


def test_rules_are_well_formed() -> None:
    ids = [r.id for r in DIFFERENCE_RULES]
    assert len(ids) == len(set(ids))
    for r in DIFFERENCE_RULES:
        assert r.cause in IDS and r.cause != "unknown", r.id
        assert r.explain, r.id
        assert not r.check or r.check in CHECKS, r.id
        assert all(f in EVIDENCE_FACTS for f in r.evidence), r.id
        for pattern in (r.path, r.note, r.changed):
            re.compile(pattern)
        assert set(r.kinds) <= {k.value for k in DifferenceKind}, r.id


# ------------------------------------------------------------------------------------------------ reachability


def udiff(removed: Sequence[str], added: Sequence[str], name: str = "x") -> str:
    body = [f"-{x}" for x in removed] + [f"+{x}" for x in added]
    return f"--- reference/{name}\n+++ rebuild/{name}\n@@ -1 +1 @@\n" + "\n".join(body) + "\n"


def D(path: str, kind: str = "changed", aspect: str = "content", note: str = "", diff: str | None = None,
      left: str | None = None, right: str | None = None) -> Difference:
    return Difference(path, DifferenceKind(kind), aspect, "unknown", left, right, diff=diff, note=note)


def ev(key: str, ref: str, reb: str) -> list[Evidence]:
    return [Evidence("reference", "s", key, ref), Evidence("rebuild", "s", key, reb)]


def M(removed: Sequence[str], added: Sequence[str]) -> Difference:
    return D("META-INF/MANIFEST.MF", diff=udiff([x + "\r" for x in removed], [x + "\r" for x in added]))


POM = "META-INF/maven/g/a/pom.properties"
GIT = "BOOT-INF/classes/git.properties"
BOM = "META-INF/sbom/bom.json"
CLASS = "com/example/A.class"
DATE = "#Sat Nov 23 01:09:00 UTC 2026"
DATE2 = "#Sun Nov 24 01:09:00 UTC 2026"

#: rule id -> (a difference that rule classifies, the evidence, the other differences of the outcome)
SAMPLES: dict[str, tuple[Difference, list[Evidence], list[Difference]]] = {
    "zip-time": (D("a", "metadata", "time"), [], []),
    "zip-mode": (D("a", "metadata", "mode"), [], []),
    "zip-version": (D("a", "metadata", "zip-version"), [], []),
    "zip-extra-timestamps": (D("a", "metadata", "extra-fields", left="local 0x555405000100000000, central 0x-",
                               right="local 0x-, central 0x-"), [], []),
    "zip-extra-ownership": (D("a", "metadata", "extra-fields", left="local 0x75780b000104e803000004e8030000, "
                              "central 0x-", right="local 0x-, central 0x-"), [], []),
    "zip-extra": (D("a", "metadata", "extra-fields", left="local 0xfeca0000, central 0x-",
                    right="local 0x-, central 0x-"), [], []),
    "zip-compression": (D("a", "metadata", "compressed-bytes"), [], []),
    "zip-descriptor": (D("a", "metadata", "data-descriptor"), [], []),
    "zip-utf8": (D("a", "metadata", "utf8-flag"), [], []),
    "zip-comment": (D("", "archive", "archive-comment"), [], []),
    "zip-order": (D("a", "moved", "order"), [], []),
    "presence-directory": (D("a/", "added", "presence"), [], []),
    "presence-signature": (D("META-INF/RELEASE.SF", "removed", "presence"), [], []),
    "presence-index": (D("META-INF/jandex.idx", "added", "presence"), [], []),
    "presence-native": (D("lib/libx.so", "added", "presence"), [], []),
    "presence-versioned": (D("lib/foo-1.2.jar", "removed", "presence"), [],
                           [D("lib/foo-1.3.jar", "added", "presence")]),
    "presence": (D("a.txt", "removed", "presence"), [], []),
    "manifest-wrapping": (M(["Export-Package: a,b,c,dddd"], ["Export-Package: a,b,c,d", " ddd"]), [], []),
    "manifest-order": (M(["A: 1", "B: 2"], ["B: 2", "A: 1"]), [], []),
    "manifest-osgi-order": (M(["Export-Package: a;version=1,b"], ["Export-Package: b,a;version=1"]), [], []),
    "manifest-digests": (M(["SHA-256-Digest: x"], ["SHA-256-Digest: y"]), [], []),
    "manifest-build-jdk": (M(["Build-Jdk: 17.0.2"], ["Build-Jdk: 21.0.1"]), [], []),
    "manifest-jdk-vendor": (M(["Build-Jdk-Vendor: Oracle"], ["Build-Jdk-Vendor: Azul"]), [], []),
    "manifest-created-by-vendor": (M(["Created-By: 17.0.2 (Oracle Corporation)"],
                                     ["Created-By: 17.0.2 (Eclipse Adoptium)"]), [], []),
    "manifest-created-by-jdk": (M(["Created-By: 17.0.2 (Oracle Corporation)"],
                                  ["Created-By: 21.0.1 (Oracle Corporation)"]), [], []),
    "manifest-build-tool": (M(["Created-By: Apache Maven 3.9.6"], ["Created-By: Apache Maven 3.8.1"]), [], []),
    "manifest-built-by": (M(["Built-By: alice"], ["Built-By: bob"]), [], []),
    "manifest-os": (M(["Build-Os: Linux"], ["Build-Os: Mac OS X"]), [], []),
    "manifest-scm": (M(["SCM-Revision: 4f1c2ab"], ["SCM-Revision: 99aa00b"]), [], []),
    "manifest-build-time": (M(["Bnd-LastModified: 1700000000000"], ["Bnd-LastModified: 1700000000001"]), [], []),
    "manifest-environment": (M(["Build-Host: ci-1"], ["Build-Host: laptop"]), [], []),
    "manifest-version-ranges": (M(['Import-Package: a;version="[1,2)"'], ['Import-Package: a;version="[1,3)"']),
                                [], []),
    "manifest-other": (M(["Implementation-Version: 1.0"], ["Implementation-Version: 1.1"]), [], []),
    "pom-gav": (D(POM, diff=udiff(["version=1.0"], ["version=1.1"])), ev("gav", "g:a:1.0", "g:a:1.1"), []),
    "pom-m2e": (D(POM, diff=udiff(["m2e.projectName=a"], ["m2e.projectName=b"])), [], []),
    "pom-maven-version": (D(POM, diff=udiff(["#Created by Apache Maven 3.9.6"], ["#Created by Apache Maven 3.8.1"])),
                          [], []),
    "pom-timestamp": (D(POM, diff=udiff([DATE], [DATE2])), [], []),
    "pom-order": (D(POM, diff=udiff(["artifactId=a", "groupId=g"], ["groupId=g", "artifactId=a"])), [], []),
    "pom-version-line": (D(POM, diff=udiff(["version=1.0"], ["version=1.1"])), [], []),
    "git-commit": (D(GIT, diff=udiff(["git.commit.id=aaa"], ["git.commit.id=bbb"])),
                   ev("git-commit", "aaa", "bbb"), []),
    "git-keys": (D(GIT, diff=udiff(["git.build.host=ci"], ["git.build.host=laptop"])), [], []),
    "git-commit-keys": (D(GIT, diff=udiff(["git.commit.id.describe=v1"], ["git.commit.id.describe=v1-2-g1"])),
                        [], []),
    "git-comment": (D(GIT, diff=udiff([DATE], [DATE2])), [], []),
    "sbom-hash-algorithms": (D(BOM, diff=udiff(['    {', '      "alg": "SHA3-256",', '      "content": "0818930d"',
                                                '    },'], [])),
                             ev("sbom-hash-algorithms", "SHA-256,SHA3-256", "SHA-256"), []),
    "sbom-serial": (D(BOM, diff=udiff(['"serialNumber": "urn:uuid:0f8fad5b-d9cb-469f-a165-70867728950e"'],
                                      ['"serialNumber": "urn:uuid:7c9e6679-7425-40de-944b-e07fc1f90ae7"'])), [], []),
    "sbom-timestamp": (D(BOM, diff=udiff(['"timestamp": "2024-03-02T10:15:01Z"'],
                                         ['"timestamp": "2025-11-12T07:02:00Z"'])), [], []),
    "sbom-tool": (D(BOM, diff=udiff(['"name": "x"'], ['"name": "y"'])), ev("sbom-tool-version", "x 2.7.9", "y 2.8.0"),
                  []),
    "sbom-components": (D(BOM, diff=udiff(['"version": "1.0"'], ['"version": "1.1"'])), [], []),
    "java-layout": (D("A.java", note="Java source differs only in whitespace and comments (same tokens)",
                      diff=udiff(["int a;"], ["int  a;"])), [], []),
    "line-endings": (D("a.txt", diff=udiff(["x\r"], ["x"])), [], []),
    "class-jsp": (D("org/apache/jsp/index_jsp.class"), [], []),
    "class-debug-only": (D(CLASS, note="class analysis: debug information differs (nothing vs 'SourceFile') and "
                               "nothing else: debug-info only, the code is the same"), [], []),
    "class-compiler": (D(CLASS, note="class analysis: compiler differs: reference javac ($VALUES field), rebuild "
                             "ecj (ENUM$VALUES field)"), [], []),
    "class-version": (D(CLASS, note="class analysis: class file version differs (major 52.0 vs 61.0)"), [], []),
    "class-idiom": (D(CLASS, note="class analysis: JDK idiom differs: indy string concatenation"), [], []),
    "class-jdk-evidence": (D(CLASS), ev("build-jdk", "17.0.2", "21.0.1"), []),
    "class-debug": (D(CLASS, note="class analysis: debug information differs ('SourceFile' vs nothing)"), [], []),
    "class-lambda": (D(CLASS, note="class analysis: lambda method names differ"), [], []),
    "class-timestamp": (D(CLASS, note="class analysis: timestamp-like constants differ"), [], []),
    "class-path": (D(CLASS, note="class analysis: absolute path constants differ"), [], []),
    "class-uuid": (D(CLASS, note="class analysis: UUID constants differ"), [], []),
    "class-cp-order": (D(CLASS, note="class analysis: same constant pool in a different order"), [], []),
    "class-member-order": (D(CLASS, note="class analysis: same methods in a different order"), [], []),
    "class-code": (D(CLASS, note="class analysis: code differs in 1 method(s) (main ([Ljava/lang/String;)V)"), [],
                   []),
    "index-content": (D("META-INF/jandex.idx"), [], []),
    "javadoc-jdk": (D("a/B.html", diff=udiff(["<p>x"], ["<p>y"])), ev("javadoc-jdk", "17", "21"), []),
    "javadoc-timestamp": (D("a/B.html", diff=udiff(["<!-- Generated by javadoc (17) on Sat Mar 02 10:15:00 UTC 2024"],
                                                   ["<!-- Generated by javadoc (17) on Tue Nov 12 08:01:59 CET 2024"])),
                          [], []),
    "web-assets": (D("static/app.js"), [], []),
    "native-content": (D("x64/native.dll"), [], []),
    "properties-timestamp": (D("build.properties", diff=udiff(["build.date=2024-01-02"], ["build.date=2025-01-02"])),
                             [], []),
    "script-timestamp": (D("bin/run.sh", diff=udiff(["# 2024-01-02 10:00"], ["# 2025-01-02 10:00"])), [], []),
    "notice-timestamp": (D("META-INF/NOTICE", diff=udiff(["Copyright 2023 X"], ["Copyright 2024 X"])), [], []),
    "text-uuid": (D("id.txt", diff=udiff(["0f8fad5b-d9cb-469f-a165-70867728950e"],
                                         ["7c9e6679-7425-40de-944b-e07fc1f90ae7"])), [], []),
    "text-path": (D("paths.txt", diff=udiff(["src=/home/alice/p"], ["src=/home/bob/p"])), [], []),
    "text-timestamp": (D("version.txt", diff=udiff(["built 2024-01-02"], ["built 2025-01-02"])), [], []),
}


def test_every_rule_has_a_sample() -> None:
    assert set(SAMPLES) == {r.id for r in DIFFERENCE_RULES}


@pytest.mark.parametrize("rule_id", [r.id for r in DIFFERENCE_RULES])
def test_every_rule_is_reachable(rule_id: str) -> None:
    """The sample is classified by this rule, so no earlier rule catches it."""
    d, evidence, others = SAMPLES[rule_id]
    facts = Facts(evidence, [d, *others])
    hit = first_rule(d, facts)
    assert hit is not None and hit[0].id == rule_id, (rule_id, hit and hit[0].id)
    rule = hit[0]
    out = classify_difference(d, facts)
    rc = root_cause(rule.cause)
    assert (out.category, out.root_cause, out.mitigation, out.hint) == (rc.category.value, rc.id,
                                                                        rc.mitigation.value, rc.hint)
    if rule.evidence:
        assert "reference" in out.explanation and "rebuild" in out.explanation, out.explanation


def test_unknown_fallback_is_reported_never_dropped() -> None:
    d = D("data.bin", left=None)
    out = classify_difference(d, Facts([]))
    assert (out.category, out.root_cause, out.mitigation) == ("unknown", "unknown", "investigate")
    assert "no taxonomy rule" in out.explanation and out.hint
    weird = classify_difference(D("a", "metadata", "flags"), Facts([]))
    assert weird.root_cause == "unknown"
    o = classify(Outcome(Verdict.DIFFERENT, differences=(d, D("a", "metadata", "time"))))
    assert [x.root_cause for x in o.differences] == ["unknown", "zip-timestamps"]


def test_evidence_must_differ_on_both_sides() -> None:
    one_side = [Evidence("reference", "s", "build-jdk", "17")]
    assert classify_difference(D(CLASS), Facts(one_side)).root_cause == "unknown"
    same = ev("build-jdk", "17", "17")
    assert classify_difference(D(CLASS), Facts(same)).root_cause == "unknown"
    created = ev("created-by", "17.0.2 (Oracle Corporation)", "21.0.1 (Oracle Corporation)")
    out = classify_difference(D(CLASS), Facts(created))
    assert out.root_cause == "jdk-version-bytecode" and "17.0.2" in out.explanation and "21.0.1" in out.explanation


# ------------------------------------------------------------------------------------------------ trace steps


def test_every_builtin_stabilizer_maps_to_a_known_cause() -> None:
    for st in BUILTIN:
        assert STEP_CAUSES.get(st.name, "unknown") != "unknown", st.name
        causes = step_causes(TraceStep("rebuild", st.name, "x", "changed"))
        assert causes and all(c != "unknown" and c in IDS for c, _ in causes), st.name
        assert root_cause(causes[0][0]).category is st.category or st.name in {"jar-signature"}, st.name


def test_manifest_build_metadata_steps_split_by_attribute() -> None:
    mf = "META-INF/MANIFEST.MF"
    step = TraceStep("rebuild", "manifest-build-metadata", mf, "changed", (FieldChange("content", "a", "b"),))
    evidence = [Evidence("rebuild", "manifest-build-metadata", k, v, mf) for k, v in (
        ("built-by", "alice"), ("build-jdk", "17.0.2"), ("created-by", "Apache Maven 3.9.6"),
        ("build-os", "Linux"), ("bnd-lastmodified", "1"), ("build-host", "h"), ("git-branch", "main"),
        ("ci-pipeline-id", "7"), ("build-jdk-vendor", "Azul"))]
    causes = dict(step_causes(step, evidence))
    assert set(causes) == {"built-by", "build-jdk", "build-tool-version", "os-version", "manifest-build-time",
                           "build-environment", "scm-revision", "jdk-vendor"}
    assert causes["build-jdk"] == ("build-jdk=17.0.2",)
    jdk_created = [Evidence("rebuild", "manifest-build-metadata", "created-by", "17 (Oracle)", mf)]
    assert dict(step_causes(step, jdk_created)) == {"build-jdk": ("created-by=17 (Oracle)",)}
    # evidence of another side, stabilizer or entry does not count
    other = [Evidence("reference", "manifest-build-metadata", "built-by", "x", mf),
             Evidence("rebuild", "manifest-build-metadata", "built-by", "x", "lib/a.jar!/" + mf)]
    assert dict(step_causes(step, other)) == {"build-environment": ()}
    pom = TraceStep("reference", "pom-properties", POM, "changed")
    pom_ev = [Evidence("reference", "pom-properties", "maven-version", "3.9.6", POM),
              Evidence("reference", "pom-properties", "gav", "g:a:1", POM)]
    assert [c for c, _ in step_causes(pom, pom_ev)] == ["pom-properties-maven-version"]
    # what the pom-properties and SBOM stabilizers say they removed names the specific cause
    removed = [Evidence("reference", "pom-properties", "pom-properties-removed", v, POM)
               for v in ("date-comment", "key-order", "m2e-keys", "generated-comment")]
    assert [c for c, _ in step_causes(pom, removed)] == ["pom-properties-timestamp", "pom-properties-order",
                                                         "pom-properties-m2e", "pom-properties-generated"]
    assert [c for c, _ in step_causes(pom, pom_ev[1:])] == ["pom-properties-generated"]  # kept evidence only
    bom = TraceStep("rebuild", "sbom-cyclonedx", BOM, "changed")
    bom_ev = [Evidence("rebuild", "sbom-cyclonedx", "sbom-removed", v, BOM)
              for v in ("serial-number", "timestamp", "order")]
    bom_ev.append(Evidence("rebuild", "sbom-cyclonedx", "sbom-tool-version", "x 1.0", BOM))
    assert [c for c, _ in step_causes(bom, bom_ev)] == ["sbom-serial-number", "sbom-timestamp", "sbom-run-metadata",
                                                        "sbom-tool-version"]
    assert [c for c, _ in step_causes(bom, [])] == ["sbom-run-metadata"]


def test_noise_summary_counts_per_side_and_cause() -> None:
    trace = [TraceStep("reference", "zip-timestamps", "a", "changed"),
             TraceStep("reference", "zip-timestamps", "b", "changed"),
             TraceStep("rebuild", "zip-timestamps", "a", "changed"),
             TraceStep("rebuild", "zip-compression", "a", "skipped", reason="x"),
             TraceStep("rebuild", "my-plugin", "a", "changed")]
    summary = noise_summary(trace)
    assert [(n.side, n.root_cause, n.steps, n.stabilizers) for n in summary] == [
        ("reference", "zip-timestamps", 2, ("zip-timestamps",)),
        ("rebuild", "zip-timestamps", 1, ("zip-timestamps",)),
        ("rebuild", "unknown", 1, ("my-plugin",))]
    assert summary[0].category == "filesystem"


def test_json_round_trip_and_old_json_loads() -> None:
    o = classify(Outcome(Verdict.DIFFERENT, differences=(D("a", "metadata", "time"),),
                         trace=(TraceStep("rebuild", "zip-timestamps", "a", "changed"),)))
    assert o.noise and o.differences[0].root_cause == "zip-timestamps"
    assert Outcome.from_json(o.to_json()) == o
    old = json.loads(o.to_json())
    del old["noise"]
    for d in old["differences"]:
        for key in ("root_cause", "mitigation", "hint", "explanation"):
            del d[key]
    loaded = Outcome.from_json(json.dumps(old))
    assert loaded.differences[0].root_cause == "unknown" and loaded.noise == ()
    assert classify(loaded) == o
    assert classify(o) == o  # idempotent
    text = render_text(loaded, show_noise=True)  # the report classifies an unclassified outcome
    assert "root cause zip-timestamps" in text and "[rebuild] filesystem / zip-timestamps: 1 step(s)" in text


def test_error_outcome_is_left_alone() -> None:
    err = Outcome(Verdict.ERROR, error="boom")
    assert classify(err) is err


# ------------------------------------------------------------------------------------------------ class files


def klass(methods: Sequence[str] = ("run",), fields: Sequence[str] = (), strings: Sequence[str] = (),
          major: int = 61, reverse_pool: bool = False, source_file: bool = False) -> bytes:
    """A minimal valid class file ``T`` (no code) with the given members and extra Utf8 constants."""
    utf8: list[str] = []
    for s in [*methods, "()V", *fields, "I", *strings, *(("SourceFile", "T.java") if source_file else ())]:
        if s not in utf8:
            utf8.append(s)
    if reverse_pool:
        utf8.reverse()
    pool = [b"\x01" + struct.pack(">H", 1) + b"T", b"\x07" + struct.pack(">H", 1),
            b"\x01" + struct.pack(">H", 16) + b"java/lang/Object", b"\x07" + struct.pack(">H", 3)]
    pool += [b"\x01" + struct.pack(">H", len(s.encode())) + s.encode() for s in utf8]

    def idx(s: str) -> int:
        return 5 + utf8.index(s)

    out = struct.pack(">IHHH", 0xCAFEBABE, 0, major, len(pool) + 1) + b"".join(pool)
    out += struct.pack(">HHHH", 0x21, 2, 4, 0)
    out += struct.pack(">H", len(fields)) + b"".join(struct.pack(">HHHH", 1, idx(f), idx("I"), 0) for f in fields)
    out += struct.pack(">H", len(methods)) + b"".join(struct.pack(">HHHH", 1, idx(m), idx("()V"), 0)
                                                      for m in methods)
    if source_file:
        out += struct.pack(">HHIH", 1, idx("SourceFile"), 2, idx("T.java"))
    else:
        out += struct.pack(">H", 0)
    return out


def test_class_analysis_phrases() -> None:
    base = klass(("a", "b"))
    assert parse_class(base) is not None and parse_class(b"not a class") is None
    assert explain_class_difference(base, b"junk") == ()
    assert explain_class_difference(base, klass(("a", "b"), major=52)) == (
        "class file version differs (major 61.0 vs 52.0)",)
    assert explain_class_difference(base, klass(("a", "b"), reverse_pool=True)) == (
        "same constant pool in a different order",)
    assert "same methods in a different order" in explain_class_difference(base, klass(("b", "a")))
    lam = explain_class_difference(klass(("lambda$main$0",)), klass(("lambda$main$1",)))
    assert lam and lam[0].startswith("lambda method names differ")
    dbg = explain_class_difference(base, klass(("a", "b"), source_file=True))
    assert dbg[0].startswith("debug information differs")
    idiom = explain_class_difference(base, klass(("a", "b"), strings=("makeConcatWithConstants",)))
    assert idiom[0] == "JDK idiom differs: indy string concatenation (only in rebuild)"


# ------------------------------------------------------------------------------------------------ end to end

NOT_SIGNED = "Manifest-Version: 1.0\r\n"


def mf(*attrs: str) -> Item:
    return Item("META-INF/MANIFEST.MF", (NOT_SIGNED + "".join(a + "\r\n" for a in attrs) + "\r\n").encode())


def cdx(algs: Sequence[str], serial: str = "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79",
        version: str = "1.0") -> bytes:
    return json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.5", "serialNumber": serial, "version": 1,
                       "metadata": {"timestamp": "2024-01-02T03:04:05Z"},
                       "components": [{"bom-ref": "pkg:maven/g/a@" + version, "name": "a", "version": version,
                                       "hashes": [{"alg": a, "content": "00" * 32} for a in algs]}]}).encode()


CLS = b"\xca\xfe\xba\xbe not really a class"
GIT_REF = b"git.commit.id=4f1c2ab4f1c2ab4f1c2ab4f1c2ab4f1c2ab4f1c2\ngit.build.host=ci\n"
GIT_REB = b"git.commit.id=99aa00b99aa00b99aa00b99aa00b99aa00b99aa00b\ngit.build.host=laptop\n"
DIR = Item("a/", mode=0o755)

#: (id, reference items, rebuild items, stabilizers disabled, path, expected root cause)
E2E: list[tuple[str, list[Item], list[Item], tuple[str, ...], str, str]] = [
    ("time", [Item("a.txt", b"x")], [Item("a.txt", b"x", date_time=(2024, 5, 6, 7, 8, 10))], ("zip-timestamps",),
     "a.txt", "zip-timestamps"),
    ("mode", [Item("a.txt", b"x")], [Item("a.txt", b"x", mode=0o664)], ("zip-permissions",), "a.txt",
     "umask-permissions"),
    ("host", [Item("a.txt", b"x")], [Item("a.txt", b"x", mode=None)], ("zip-host-version", "zip-permissions"),
     "a.txt", "zip-host-version"),
    ("order", [Item("a.txt", b"x"), Item("b.txt", b"y")], [Item("b.txt", b"y"), Item("a.txt", b"x")],
     ("zip-entry-order",), "*", "file-order"),
    ("missing", [Item("a.txt", b"x")], [Item("a.txt", b"x"), Item("extra.txt", b"y")], (), "extra.txt",
     "missing-files"),
    ("directory", [DIR, Item("a/x.txt", b"x")], [Item("a/x.txt", b"x")], ("zip-directory-entries",), "a/",
     "directory-entries"),
    ("compression", [Item("a.txt", b"x" * 100)], [Item("a.txt", b"x" * 100, method=zipfile.ZIP_STORED)],
     ("zip-compression",), "a.txt", "zip-compression"),
    ("ownership", [Item("a.txt", b"x")], [Item("a.txt", b"x", extra=bytes.fromhex("75780b000104e803000004e8030000"))],
     ("zip-ownership", "zip-extra-fields"), "a.txt", "ownership"),
    ("extra", [Item("a.txt", b"x")], [Item("a.txt", b"x", extra=bytes.fromhex("feca0000"))], ("zip-extra-fields",),
     "a.txt", "zip-extra-fields"),
    ("comment", [Item("a.txt", b"x")], [Item("a.txt", b"x", comment=b"hi")], ("zip-comments",), "a.txt",
     "zip-comments"),
    ("signature", [mf(), Item("a.txt", b"x")], [mf(), Item("META-INF/R.SF", b"Signature-Version: 1.0\r\n\r\n"),
                                                Item("a.txt", b"x")], ("jar-signature",), "META-INF/R.SF",
     "jar-signature"),
    ("built-by", [mf("Built-By: alice")], [mf("Built-By: bob")], ("manifest-build-metadata",),
     "META-INF/MANIFEST.MF", "built-by"),
    ("build-jdk", [mf("Build-Jdk: 17.0.2")], [mf("Build-Jdk: 21.0.1")], ("manifest-build-metadata",),
     "META-INF/MANIFEST.MF", "build-jdk"),
    ("jdk-vendor", [mf("Created-By: 17.0.2 (Oracle Corporation)")], [mf("Created-By: 17.0.2 (Eclipse Adoptium)")],
     ("manifest-build-metadata",), "META-INF/MANIFEST.MF", "jdk-vendor"),
    ("build-tool", [mf("Created-By: Apache Maven 3.9.6")], [mf("Created-By: Apache Maven 3.8.1")],
     ("manifest-build-metadata",), "META-INF/MANIFEST.MF", "build-tool-version"),
    ("os", [mf("Build-Os: Linux")], [mf("Build-Os: Windows 11")], ("manifest-build-metadata",),
     "META-INF/MANIFEST.MF", "os-version"),
    ("scm", [mf("SCM-Revision: 4f1c2ab")], [mf("SCM-Revision: 99aa00b")], (), "META-INF/MANIFEST.MF",
     "scm-revision"),
    ("attribute-order", [mf("A-One: 1", "B-Two: 2")], [mf("B-Two: 2", "A-One: 1")], ("manifest-attribute-order",),
     "META-INF/MANIFEST.MF", "manifest-attribute-order"),
    ("osgi-order", [mf("Export-Package: com.a,com.b")], [mf("Export-Package: com.b,com.a")],
     ("manifest-value-order",), "META-INF/MANIFEST.MF", "osgi-value-order"),
    ("manifest-value", [mf("Implementation-Version: 1.0")], [mf("Implementation-Version: 1.1")], (),
     "META-INF/MANIFEST.MF", "manifest-attribute-value"),
    ("pom-m2e", [Item(POM, b"groupId=g\nartifactId=a\nversion=1\n")],
     [Item(POM, b"groupId=g\nartifactId=a\nm2e.projectName=a\nversion=1\n")], ("pom-properties",), POM,
     "pom-properties-m2e"),
    ("pom-timestamp", [Item(POM, (DATE + "\nversion=1\n").encode())], [Item(POM, (DATE2 + "\nversion=1\n").encode())],
     ("pom-properties", "properties-timestamp"), POM, "pom-properties-timestamp"),
    ("pom-order", [Item(POM, b"groupId=g\nversion=1\n")], [Item(POM, b"version=1\ngroupId=g\n")], ("pom-properties",),
     POM, "pom-properties-order"),
    ("pom-version", [Item(POM, b"groupId=g\nartifactId=a\nversion=1\n")],
     [Item(POM, b"groupId=g\nartifactId=a\nversion=2\n")], (), POM, "version-mismatch"),
    ("git-commit", [Item(GIT, GIT_REF)], [Item(GIT, GIT_REB)], (), GIT, "embedded-commit"),
    ("git-keys", [Item(GIT, GIT_REF)], [Item(GIT, GIT_REF.replace(b"=ci", b"=laptop"))], ("git-properties",), GIT,
     "git-properties-keys"),
    ("sbom-hash", [Item(BOM, cdx(["SHA-256", "SHA3-256"]))], [Item(BOM, cdx(["SHA-256"]))], (), BOM,
     "sbom-hash-algorithms"),
    ("sbom-serial", [Item(BOM, cdx(["SHA-256"]))],
     [Item(BOM, cdx(["SHA-256"], serial="urn:uuid:7c9e6679-7425-40de-944b-e07fc1f90ae7"))],
     ("sbom-cyclonedx",), BOM, "sbom-serial-number"),
    ("sbom-components", [Item(BOM, cdx(["SHA-256"]))], [Item(BOM, cdx(["SHA-256"], version="1.1"))], (), BOM,
     "sbom-component-set"),
    ("java-layout", [Item("A.java", b"class A { int a; }\n")], [Item("A.java", b"class A {\n  int a; // x\n}\n")], (),
     "A.java", "newline-style"),
    ("newlines", [Item("a.txt", b"one\ntwo\n")], [Item("a.txt", b"one\r\ntwo\r\n")], (), "a.txt", "newline-style"),
    ("class-jdk", [mf("Build-Jdk: 17.0.2"), Item(CLASS, CLS + b"1")],
     [mf("Build-Jdk: 21.0.1"), Item(CLASS, CLS + b"2")], (), CLASS, "jdk-version-bytecode"),
    ("class-version", [Item(CLASS, klass(major=61))], [Item(CLASS, klass(major=65))], (), CLASS,
     "jdk-version-bytecode"),
    ("class-idiom", [Item(CLASS, klass())], [Item(CLASS, klass(strings=("makeConcatWithConstants",)))], (), CLASS,
     "jdk-idioms"),
    ("class-debug", [Item(CLASS, klass())], [Item(CLASS, klass(source_file=True))], (), CLASS, "debug-info"),
    ("class-lambda", [Item(CLASS, klass(("lambda$run$0",)))], [Item(CLASS, klass(("lambda$run$1",)))], (), CLASS,
     "lambda-naming"),
    ("class-cp-order", [Item(CLASS, klass(("a", "b")))], [Item(CLASS, klass(("a", "b"), reverse_pool=True))],
     ("class-constant-pool-order",), CLASS, "constant-pool-order"),
    ("class-member-order", [Item(CLASS, klass(("a", "b")))], [Item(CLASS, klass(("b", "a")))], (), CLASS,
     "member-order"),
    ("class-timestamp", [Item(CLASS, klass(strings=("2024-01-02 03:04:05",)))],
     [Item(CLASS, klass(strings=("2025-01-02 03:04:05",)))], (), CLASS, "bytecode-timestamp"),
    ("class-path", [Item(CLASS, klass(strings=("/home/alice/src",)))], [Item(CLASS, klass(strings=("/home/bob/src",)))],
     (), CLASS, "absolute-paths"),
    ("class-uuid", [Item(CLASS, klass(strings=("0f8fad5b-d9cb-469f-a165-70867728950e",)))],
     [Item(CLASS, klass(strings=("7c9e6679-7425-40de-944b-e07fc1f90ae7",)))], (), CLASS, "uuids"),
    ("jsp", [Item("org/apache/jsp/index_jsp.class", CLS + b"1")], [Item("org/apache/jsp/index_jsp.class", CLS + b"2")],
     (), "org/apache/jsp/index_jsp.class", "servlet-timestamp"),
    ("properties-date", [Item("build.properties", b"build.date=2024-01-02\n")],
     [Item("build.properties", b"build.date=2025-03-04\n")], (), "build.properties", "properties-timestamp"),
    ("javadoc", [Item("a/B.html", b"<html><head>\n<!-- Generated by javadoc (17) on Sat Nov 23 01:09:00 UTC 2026 -->"
                  b"\n</head></html>\n")],
     [Item("a/B.html", b"<html><head>\n<!-- Generated by javadoc (17) on Sun Nov 24 01:09:00 UTC 2026 -->"
           b"\n</head></html>\n")], ("javadoc-timestamp",), "a/B.html", "javadoc-timestamp"),
    ("script", [Item("bin/run.sh", b"# built 2024-01-02 10:00\n")], [Item("bin/run.sh", b"# built 2025-01-02 10:00\n")],
     (), "bin/run.sh", "script-timestamp"),
    ("notice", [Item("META-INF/NOTICE", b"Copyright 2002-2023 X\n")],
     [Item("META-INF/NOTICE", b"Copyright 2002-2024 X\n")], (), "META-INF/NOTICE", "notice-timestamp"),
    ("index", [Item("META-INF/jandex.idx", b"\x01\x02")], [Item("META-INF/jandex.idx", b"\x02\x01")], (),
     "META-INF/jandex.idx", "index-files"),
    ("javascript", [Item("static/app.js", b"var a=1;\n")], [Item("static/app.js", b"var b=1;\n")], (), "static/app.js",
     "bundled-javascript"),
    ("native", [Item("lib/x.txt", b"x")], [Item("lib/x.txt", b"x"), Item("native/libz.so", b"\x7fELF")], (),
     "native/libz.so", "os-specific-binaries"),
    ("version-ranges", [Item("lib/foo-1.2.jar", b"x")], [Item("lib/foo-1.3.jar", b"y")], (), "lib/foo-1.3.jar",
     "version-ranges"),
    ("uuid", [Item("id.txt", b"0f8fad5b-d9cb-469f-a165-70867728950e\n")],
     [Item("id.txt", b"7c9e6679-7425-40de-944b-e07fc1f90ae7\n")], (), "id.txt", "uuids"),
    ("unknown", [Item("data.bin", b"\x00\x01")], [Item("data.bin", b"\x00\x02")], (), "data.bin", "unknown"),
]


def _check(ref: bytes, reb: bytes, disabled: Sequence[str], path: str, cause: str) -> Outcome:
    stabs = select_stabilizers(disable=disabled, available=BUILTIN)
    o = compare_bytes(ref, reb, stabilizers=stabs)
    assert o.verdict is Verdict.DIFFERENT, o
    hits = [d for d in o.differences if path in ("*", d.path)]
    assert hits, [(d.path, d.aspect) for d in o.differences]
    causes = {d.root_cause for d in hits}
    assert cause in causes, [(d.path, d.aspect, d.root_cause, d.note) for d in o.differences]
    rc = root_cause(cause)
    for d in hits:
        if d.root_cause == cause:
            assert (d.category, d.mitigation, d.hint) == (rc.category.value, rc.mitigation.value, rc.hint)
            assert d.explanation
    return o


@pytest.mark.parametrize(("ref", "reb", "disabled", "path", "cause"),
                         [pytest.param(r, b, dis, p, c, id=i) for i, r, b, dis, p, c in E2E])
def test_end_to_end_pairs(ref: list[Item], reb: list[Item], disabled: tuple[str, ...], path: str,
                          cause: str) -> None:
    o = _check(make_zip(ref), make_zip(reb), disabled, path, cause)
    assert Outcome.from_json(o.to_json()) == o
    assert f"root cause {cause} " in render_text(o)


def test_end_to_end_streamed_and_utf8() -> None:
    items = [Item("a.txt", b"x")]
    _check(make_zip(items), make_zip(items, streamed=True), ("zip-data-descriptor",), "a.txt", "zip-data-descriptor")
    _check(make_zip(items), make_zip(items, comment=b"made by me"), ("zip-comments",), "", "zip-comments")


def test_end_to_end_manifest_wrapping() -> None:
    long = "X-Long: " + "v" * 100
    wrapped = long[:70] + "\r\n " + long[70:]
    ref = make_zip([Item("META-INF/MANIFEST.MF", (NOT_SIGNED + long + "\r\n\r\n").encode())])
    reb = make_zip([Item("META-INF/MANIFEST.MF", (NOT_SIGNED + wrapped + "\r\n\r\n").encode())])
    _check(ref, reb, ("manifest-layout",), "META-INF/MANIFEST.MF", "manifest-line-wrapping")


def test_end_to_end_noise_by_root_cause() -> None:
    """Both views: what made the raw artifacts differ (noise by root cause) and what still differs."""
    ref = make_zip([mf("Built-By: alice", "Build-Jdk: 17.0.2", "Created-By: Apache Maven 3.9.6"),
                    Item(POM, (DATE + "\n#Created by Apache Maven 3.9.6\nversion=1\ngroupId=g\n").encode()),
                    Item(CLASS, CLS + b"1"), DIR, Item("a/b.txt", b"b")])
    reb = make_zip([Item("a/b.txt", b"b", date_time=(2024, 1, 1, 0, 0, 0), mode=0o664),
                    mf("Built-By: bob", "Build-Jdk: 21.0.1", "Created-By: Apache Maven 3.9.9"),
                    Item(POM, (DATE2 + "\n#Created by Apache Maven 3.9.9\ngroupId=g\nversion=1\n").encode()),
                    Item(CLASS, CLS + b"2", method=zipfile.ZIP_STORED)])
    o = compare_bytes(ref, reb)
    noise = {(n.side, n.root_cause): n for n in o.noise}
    for side in ("reference", "rebuild"):
        for cause in ("built-by", "build-jdk", "build-tool-version", "pom-properties-timestamp",
                      "pom-properties-maven-version", "zip-timestamps"):
            assert (side, cause) in noise, (side, cause, sorted(noise))
    # only the reference's pom.properties was out of key order
    assert ("reference", "pom-properties-order") in noise and ("rebuild", "pom-properties-order") not in noise
    assert noise[("rebuild", "build-jdk")].values == ("build-jdk=21.0.1",)
    assert noise[("rebuild", "built-by")].stabilizers == ("manifest-build-metadata",)
    assert ("reference", "directory-entries") in noise and ("rebuild", "umask-permissions") in noise
    assert ("rebuild", "zip-compression") in noise and ("rebuild", "file-order") in noise
    assert all(n.root_cause != "unknown" for n in o.noise)
    (d,) = o.differences
    assert (d.path, d.category, d.root_cause) == (CLASS, "jvm-bytecode", "jdk-version-bytecode")
    assert "17.0.2" in d.explanation and "21.0.1" in d.explanation
    text = render_text(o, show_noise=True)
    assert text.index("noise removed, by root cause") < text.index("canonicalized (noise removed), per side")
    assert "[rebuild] build-manifests / build-jdk: 1 step(s) by manifest-build-metadata (build-jdk=21.0.1)" in text
    assert " jvm-bytecode (1): " in text and "root cause jdk-version-bytecode (1)" in text


def test_every_builtin_stabilizer_noise_is_attributed_end_to_end() -> None:
    """A pair that makes many built-in stabilizers act: none of their steps is attributed to unknown."""
    ref = make_zip([mf("Built-By: a", "Export-Package: b,a", "B-X: 1", "A-X: 2"), DIR,
                    Item(POM, (DATE + "\nversion=1\ngroupId=g\n").encode()), Item(GIT, GIT_REF + b"git.branch=x\n"),
                    Item("x.properties", (DATE + "\na=1\n").encode()), Item(BOM, cdx(["SHA-256"])),
                    Item("A.java", b"class A {}\r\n"),
                    Item("a/B.html", b"<html><head>\n<!-- Generated by javadoc (17) on Sat Nov 23 01:09:00 UTC 2026 -->"
                         b"\n</head></html>\n"),
                    Item("a/c.txt", b"c", extra=bytes.fromhex("75780b000104e803000004e8030000feca0000"),
                         comment=b"x")], comment=b"z", streamed=True)
    reb = make_zip([Item("a/c.txt", b"c", mode=None, method=zipfile.ZIP_STORED), mf("Built-By: b")])
    o = compare_bytes(ref, reb)
    acted = {n.stabilizers[0] for n in o.noise}
    assert len(acted) >= 18, sorted(acted)
    assert all(n.root_cause != "unknown" for n in o.noise), [n for n in o.noise if n.root_cause == "unknown"]


# ------------------------------------------------------------------------------------------------ javac pairs

JAVAC = jdk_tool("javac")
needs_javac = pytest.mark.skipif(JAVAC is None, reason="no javac on this machine")

SOURCE = """package p;
public class Hello {
    private String name = "x";
    public String greet(int n) { return "Hello " + name + n; }
    public Runnable r() { return () -> System.out.println(name); }
}
"""


def _javac(tmp: Path, *flags: str) -> bytes:
    src = tmp / "p" / "Hello.java"
    src.parent.mkdir(parents=True, exist_ok=True)
    src.write_text(SOURCE)
    out = tmp / ("out" + "".join(re.sub(r"\W", "", f) for f in flags))
    assert JAVAC is not None
    res = subprocess.run([JAVAC, "-d", str(out), *flags, str(src)], capture_output=True, text=True, timeout=120,
                         check=False)
    if res.returncode != 0:
        pytest.skip(f"javac {' '.join(flags)} failed: {res.stderr.strip()[:200]}")
    return (out / "p" / "Hello.class").read_bytes()


@needs_javac
@pytest.mark.parametrize(("flags_ref", "flags_reb", "cause"), [
    pytest.param(("-g",), ("-g:none",), "debug-info", id="debug-info"),
    pytest.param(("--release", "11"), ("--release", "11", "-XDstringConcat=inline"), "jdk-idioms", id="indy-concat"),
    pytest.param(("--release", "8"), ("--release", "17"), "jdk-version-bytecode", id="release"),
])
def test_javac_pairs(tmp_path: Path, flags_ref: tuple[str, ...], flags_reb: tuple[str, ...], cause: str) -> None:
    a = _javac(tmp_path / "a", *flags_ref)
    b = _javac(tmp_path / "b", *flags_reb)
    path = "p/Hello.class"
    o = _check(make_zip([Item(path, a)]), make_zip([Item(path, b)]), (), path, cause)
    (d,) = o.differences
    assert d.note.startswith("class analysis: ")
