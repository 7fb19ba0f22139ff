"""End to end, one pair per root cause: real JARs in, the right category and root cause out.

Every root cause of :mod:`canonjar.taxonomy.causes` has at least one case below (or an exemption with its
reason, checked by :func:`test_every_root_cause_has_an_e2e_case`). A case builds a (reference, rebuild) pair of
real JAR bytes -- packed by the JDK's ``jar`` tool, Python's ``zipfile`` or Info-ZIP, classes compiled by
``javac`` (``--release``, ``-g``/``-g:none``) or ``ecj``, signed by ``jarsigner``, pages written by ``javadoc``
-- runs the whole comparison (stabilizers, compare, class analysis, taxonomy) and checks one of two views:

* ``noise``: the pair differs only in what the selected stabilizers canonicalize, so the verdict is
  "equivalent" and the noise summary (what the stabilizers removed, by root cause) names the cause, with its
  category, on the side(s) where the noise was put;
* ``residual``: something is left after canonicalization, so the verdict is "different" and *every* residual
  difference is classified with the expected category and root cause (so a rule that fires too early or too
  late fails the case). Causes that a stabilizer canonicalizes also get a residual case with that stabilizer
  disabled, which exercises the difference rules on the same noise.

Compiled classes are built once per session (the javac runs in parallel); the other tools run only for the
cases that use them.
"""

from __future__ import annotations

import functools
import io
import json
import os
import re
import shutil
import subprocess
import zipfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from canonjar import Verdict, compare_bytes, select_stabilizers
from canonjar.cli import main as cli_main
from canonjar.outcome import Outcome
from canonjar.taxonomy import ROOT_CAUSES, Category, classify

from .helpers import Item, java_home, jdk_tool, make_zip

# ------------------------------------------------------------------------------------------------ sources

ORDER_A = """\
package demo;

import java.util.function.Supplier;

public class Order {
    private int count;
    private String name;

    public Supplier<String> first() { return () -> "first" + count; }

    public Supplier<String> second() { return () -> "second" + name; }
}
"""

# The same class with its fields and methods written in the other order: javac then also numbers the lambdas
# the other way round (lambda$second$0) and fills the constant pool in another order.
ORDER_B = """\
package demo;

import java.util.function.Supplier;

public class Order {
    private String name;
    private int count;

    public Supplier<String> second() { return () -> "second" + name; }

    public Supplier<String> first() { return () -> "first" + count; }
}
"""

HELLO = """\
package demo;

public class Hello {
    public static String greet(String who) { return "Hello, " + who + "!"; }

    public static void main(String[] args) { System.out.println(greet(args.length > 0 ? args[0] : "world")); }
}
"""

BUILD_INFO = """\
package demo;

public final class BuildInfo {
    public static final String BUILT = "@BUILT@";

    public static String built() { return BUILT; }
}
"""

ORIGIN = """\
package demo;

public final class Origin {
    public static String sourceRoot() { return "@ROOT@/src/main/java"; }
}
"""

# What Jasper writes for a precompiled JSP: the last-modified times of the files it depends on.
INDEX_JSP = """\
package org.apache.jsp;

import java.util.HashMap;
import java.util.Map;

public final class index_jsp {{
    private static final Map<String, Long> _jspx_dependants = new HashMap<>();

    static {{ _jspx_dependants.put("/WEB-INF/tags/layout.tag", Long.valueOf({modified}L)); }}

    public static Map<String, Long> getDependants() {{ return _jspx_dependants; }}
}}
"""

SIDE_SOURCES: dict[str, dict[str, str]] = {
    "a": {
        "demo/Order.java": ORDER_A,
        "demo/Hello.java": HELLO,
        "demo/BuildInfo.java": BUILD_INFO.replace("@BUILT@", "2024-03-02T10:15:00Z"),
        "demo/Origin.java": ORIGIN.replace("@ROOT@", "/home/alice/work/demo"),
        "org/apache/jsp/index_jsp.java": INDEX_JSP.format(modified=1709374500000),
    },
    "b": {
        "demo/Order.java": ORDER_B,
        "demo/Hello.java": HELLO.replace('"Hello, " + who', '"Hello, " + who.trim()'),  # a real code change
        "demo/BuildInfo.java": BUILD_INFO.replace("@BUILT@", "2024-11-12T08:01:58Z"),
        "demo/Origin.java": ORIGIN.replace("@ROOT@", "/home/bob/src/demo"),
        "org/apache/jsp/index_jsp.java": INDEX_JSP.format(modified=1731398518000),
    },
}

#: javac variants: name -> (sources from SIDE_SOURCES["a"] or ["b"], javac options).
JAVAC_VARIANTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "a": ("a", ("--release", "17", "-g:none")),
    "b": ("b", ("--release", "17", "-g:none")),
    "debug": ("a", ("--release", "17", "-g")),
    "release8": ("a", ("--release", "8", "-g:none")),
    "inline-concat": ("a", ("--release", "17", "-g:none", "-XDstringConcat=inline")),
    "parameters": ("a", ("--release", "17", "-g:none", "-parameters")),
}

JAVADOC_SOURCE = """\
package demo;

/** Greets people. */
public class Greeter {
    /** @return a greeting */
    public String greet() { return "hi"; }
}
"""

# ------------------------------------------------------------------------------------------------ the kit

Pair = tuple[bytes, bytes]

#: Options for the JDK's short-lived tools (C1 only, serial GC): about 40% less CPU, same output.
FAST_JVM = ("-J-XX:TieredStopAtLevel=1", "-J-XX:+UseSerialGC")


def _run(cmd: list[str], cwd: Path | None = None) -> None:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=180, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {proc.stderr.strip()[:2000]}")


def _write_tree(root: Path, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        p = root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)


def _read_tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _jdk_vendor(home: Path) -> str:
    try:
        text = (home / "release").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    m = re.search(r'^IMPLEMENTOR="?([^"\n]*)"?', text, re.MULTILINE)
    return m.group(1) if m else ""


class Kit:
    """Builds the pairs' ingredients with real tools, each at most once per session."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._memo: dict[str, object] = {}
        self._classes: dict[str, dict[str, bytes]] | None = None
        self._pairs: dict[str, Pair] = {}

    def pair(self, key: str, build: Callable[[], Pair]) -> Pair:
        """``build()``, run once per session for ``key`` (the packaging tools are slow; pairs are shared)."""
        if key not in self._pairs:
            self._pairs[key] = build()
        return self._pairs[key]

    def tool(self, name: str) -> str:
        path = jdk_tool(name)
        if path is None:
            pytest.skip(f"no JDK tool {name!r} on PATH")
        return path

    def _dir(self, name: str) -> Path:
        d = self.root / name
        n = 0
        while d.exists():
            n += 1
            d = self.root / f"{name}-{n}"
        d.mkdir(parents=True)
        return d

    # ------------------------------------------------------------------ compilers

    def classes(self, variant: str) -> dict[str, bytes]:
        """The class files (path -> bytes) of a javac variant; all variants are compiled together, once."""
        if self._classes is None:
            javac = self.tool("javac")
            jobs = []
            for name, (side, options) in JAVAC_VARIANTS.items():
                src, out = self._dir(f"src-{name}"), self._dir(f"classes-{name}")
                _write_tree(src, {k: v.encode() for k, v in SIDE_SOURCES[side].items()})
                sources = sorted(str(p) for p in src.rglob("*.java"))
                jobs.append((name, [javac, *FAST_JVM, *options, "-d", str(out), *sources], out))
            with ThreadPoolExecutor(max_workers=2) as pool:
                list(pool.map(lambda job: _run(job[1]), jobs))
            self._classes = {name: _read_tree(out) for name, _cmd, out in jobs}
        return self._classes[variant]

    def cls(self, variant: str, name: str) -> bytes:
        return self.classes(variant)[name]

    def ecj(self, name: str) -> bytes:
        """A class of the "a" sources compiled by the Eclipse compiler (same options as the javac variant "a")."""
        if "ecj" not in self._memo:
            ecj = shutil.which("ecj")
            if ecj is None:
                pytest.skip("ecj (Eclipse compiler for Java) is not installed")
            src, out = self._dir("src-ecj"), self._dir("classes-ecj")
            _write_tree(src, {k: v.encode() for k, v in SIDE_SOURCES["a"].items()})
            try:
                _run([ecj, "-17", "-proc:none", "-g:none", "-d", str(out),
                      *sorted(str(p) for p in src.rglob("*.java"))])
            except RuntimeError as exc:
                pytest.skip(f"this ecj cannot compile for Java 17: {exc}")
            self._memo["ecj"] = _read_tree(out)
        classes = self._memo["ecj"]
        assert isinstance(classes, dict)
        data = classes[name]
        assert isinstance(data, bytes)
        return data

    # ------------------------------------------------------------------ other JDKs

    def second_jdk(self) -> Path:
        """Another installed JDK than the one on PATH (other version and vendor), or skip."""
        home = java_home()
        if home is not None:
            base = Path(os.path.realpath(home))
            for cand in sorted(base.parent.iterdir()):  # the JDKs installed next to it (e.g. by the distribution)
                real = Path(os.path.realpath(cand))
                if real == base or not (real / "bin" / "jar").exists() or not (real / "bin" / "javadoc").exists():
                    continue
                if _jdk_vendor(real) and _jdk_vendor(real) != _jdk_vendor(base):
                    return real
        pytest.skip("needs a second JDK of another vendor (none installed next to the default one)")

    # ------------------------------------------------------------------ packagers

    def jar_tool(self, files: dict[str, bytes], *options: str, jdk: Path | None = None) -> bytes:
        """A JAR made by the JDK's ``jar`` tool from ``files`` (META-INF/MANIFEST.MF given as --manifest)."""
        jar = str(jdk / "bin" / "jar") if jdk is not None else self.tool("jar")
        tree = self._dir("jar-tree")
        _write_tree(tree, files)
        out = tree.parent / f"{tree.name}.jar"
        names = sorted({n.split("/", 1)[0] for n in files if n != "META-INF/MANIFEST.MF"})
        manifest = ["--manifest", "META-INF/MANIFEST.MF"] if "META-INF/MANIFEST.MF" in files else []
        _run([jar, *FAST_JVM, "--create", "--file", str(out), *options, *manifest, *names], cwd=tree)
        return out.read_bytes()

    def plain_jar(self) -> bytes:
        """BASE plus demo/Hello.class, packed by the jar tool (the reference of several pairs)."""
        return self.pair("plain-jar", lambda: (self.jar_tool(hello_files(self)), b""))[0]

    def jar_index(self, jar_bytes: bytes) -> bytes:
        """``jar_bytes`` with a META-INF/INDEX.LIST added by ``jar -i``."""
        d = self._dir("jar-index")
        path = d / "indexed.jar"
        path.write_bytes(jar_bytes)
        _run([self.tool("jar"), *FAST_JVM, "-i", str(path)])
        return path.read_bytes()

    def info_zip(self, files: dict[str, bytes]) -> bytes:
        """A JAR packed by Info-ZIP's ``zip`` (which records the Unix uid/gid and extended timestamps)."""
        zip_cmd = shutil.which("zip")
        if zip_cmd is None:
            pytest.skip("Info-ZIP zip is not installed")
        tree = self._dir("zip-tree")
        _write_tree(tree, files)
        out = tree.parent / f"{tree.name}.zip"
        _run([zip_cmd, "-q", "-r", str(out), "META-INF/MANIFEST.MF", "."], cwd=tree)
        return out.read_bytes()

    def signed(self, jar_bytes: bytes) -> bytes:
        """``jar_bytes`` signed by ``jarsigner`` with a throw-away EC key."""
        keytool, jarsigner = self.tool("keytool"), self.tool("jarsigner")
        d = self._dir("sign")
        store = d / "keys.p12"
        _run([keytool, *FAST_JVM, "-genkeypair", "-keystore", str(store), "-storetype", "PKCS12", "-storepass",
              "changeit", "-keypass", "changeit", "-alias", "release", "-keyalg", "EC", "-dname", "CN=canonjar test",
              "-validity", "2"])
        path = d / "signed.jar"
        path.write_bytes(jar_bytes)
        _run([jarsigner, *FAST_JVM, "-keystore", str(store), "-storepass", "changeit", str(path), "release"])
        return path.read_bytes()

    def javadoc_page(self, jdk: Path | None = None) -> bytes:
        """demo/Greeter.html as the ``javadoc`` tool of ``jdk`` (default: the one on PATH) writes it."""
        key = f"javadoc:{jdk}"
        if key not in self._memo:
            javadoc = str(jdk / "bin" / "javadoc") if jdk is not None else self.tool("javadoc")
            src, out = self._dir("javadoc-src"), self._dir("javadoc-out")
            _write_tree(src, {"demo/Greeter.java": JAVADOC_SOURCE.encode()})
            _run([javadoc, *FAST_JVM, "-quiet", "-d", str(out), str(src / "demo" / "Greeter.java")])
            self._memo[key] = (out / "demo" / "Greeter.html").read_bytes()
        value = self._memo[key]
        assert isinstance(value, bytes)
        return value


@pytest.fixture(scope="session")
def kit(tmp_path_factory: pytest.TempPathFactory) -> Kit:
    return Kit(tmp_path_factory.mktemp("root-causes"))


# ------------------------------------------------------------------------------------------------ pair helpers

Files = dict[str, bytes]


def mf(*attributes: str) -> bytes:
    """A manifest as maven-archiver writes it (CRLF, Manifest-Version first, short lines)."""
    return ("\r\n".join(("Manifest-Version: 1.0", *attributes)) + "\r\n\r\n").encode()


BASE: Files = {
    "META-INF/MANIFEST.MF": mf("Implementation-Title: demo", "Implementation-Version: 1.0"),
    "demo/data.txt": b"hello\n",
}


def files(**changes: bytes) -> Files:
    """BASE with entries added or replaced (``files(**{"demo/A.class": data})``)."""
    return {**BASE, **changes}


def zjar(content: Files, **item: object) -> bytes:
    """``content`` packed by Python's zipfile, entries in the given order (Item fields as keywords)."""
    return make_zip([Item(name, data, **item) for name, data in content.items()])  # type: ignore[arg-type]


def zpair(ref: Files, rebuild: Files) -> Pair:
    """Both sides packed the same way by zipfile: only the contents differ."""
    return zjar(ref), zjar(rebuild)


def with_entry(name: str, ref: bytes | None, rebuild: bytes | None) -> Pair:
    """BASE plus ``name`` with per-side contents (None: absent on that side)."""
    a, b = dict(BASE), dict(BASE)
    if ref is not None:
        a[name] = ref
    if rebuild is not None:
        b[name] = rebuild
    return zpair(a, b)


def read_entry(jar: bytes, name: str) -> bytes:
    with zipfile.ZipFile(io.BytesIO(jar)) as zf:
        return zf.read(name)


def pom_properties(version: str = "1.4.2", date: str = "Sat Mar 02 10:15:00 UTC 2024",
                   order: tuple[str, ...] = ("artifactId", "groupId", "version"), maven: str = "",
                   m2e: bool = False) -> bytes:
    values = {"groupId": "org.example", "artifactId": "demo", "version": version}
    head = (f"#Created by Apache Maven {maven}\n" if maven else "#Generated by Maven\n") + f"#{date}\n"
    body = "".join(f"{k}={values[k]}\n" for k in order)
    if m2e:
        body += "m2e.projectLocation=/home/alice/workspace/demo\nm2e.projectName=demo\n"
    return (head + body).encode()


POM = "META-INF/maven/org.example/demo/pom.properties"
COMMIT = "3f2c9a1b7e5d4c3b2a19087f6e5d4c3b2a190876"


def git_properties(build_time: str = "2024-03-02T10:15:00+0000", host: str = "ci-1", commit: str = COMMIT) -> bytes:
    props = {"git.branch": "main", "git.build.host": host, "git.build.time": build_time,
             "git.commit.id": commit, "git.commit.id.abbrev": commit[:7], "git.dirty": "false"}
    return ("#Generated by Git-Commit-Id-Plugin\n" + "".join(f"{k}={v}\n" for k, v in props.items())).encode()


def cyclonedx(serial: str = "6b1a9c2e-0f3d-4c53-9d0e-1e2f3a4b5c6d", timestamp: str = "2024-03-02T10:15:01Z",
              tool: str = "2.7.9", dep: str = "2.11.0", algorithms: tuple[str, ...] = ("SHA-256",),
              extra: str = "") -> bytes:
    """A CycloneDX 1.4 JSON SBOM; ``extra`` "first"/"last" lists a second component before/after commons-io."""
    digests = {"SHA-256": "961b2f6d87dbacc5d54abf45ab7a6e2495f89b75598962d8c723cea9bc210908",
               "SHA3-256": "0818930dc8d7debb403204611691da58e49d42c50b6ffcfdce02dadb7c3c2b6c"}
    doc = {
        "bomFormat": "CycloneDX", "specVersion": "1.4", "serialNumber": f"urn:uuid:{serial}", "version": 1,
        "metadata": {"timestamp": timestamp,
                     "tools": [{"vendor": "OWASP Foundation", "name": "CycloneDX Maven plugin", "version": tool}],
                     "component": {"type": "library", "group": "org.example", "name": "demo", "version": "1.4.2"}},
        "components": [{"type": "library", "group": "commons-io", "name": "commons-io", "version": dep,
                        "purl": f"pkg:maven/commons-io/commons-io@{dep}?type=jar",
                        "hashes": [{"alg": a, "content": digests[a]} for a in algorithms]}],
    }
    if extra:
        lang = {"type": "library", "group": "org.apache.commons", "name": "commons-lang3", "version": "3.14.0",
                "purl": "pkg:maven/org.apache.commons/commons-lang3@3.14.0?type=jar"}
        comps = doc["components"]
        assert isinstance(comps, list)
        doc["components"] = [lang, *comps] if extra == "first" else [*comps, lang]
    return json.dumps(doc, indent=2).encode()


SBOM = "META-INF/sbom/bom.json"
SPDX = "META-INF/sbom/demo.spdx"


def spdx(namespace: str = "6b1a9c2e-0f3d-4c53-9d0e-1e2f3a4b5c6d", created: str = "2024-03-02T10:15:01Z") -> bytes:
    """A minimal SPDX 2.3 tag-value document."""
    return (f"SPDXVersion: SPDX-2.3\nDataLicense: CC0-1.0\nSPDXID: SPDXRef-DOCUMENT\nDocumentName: demo\n"
            f"DocumentNamespace: https://example.org/spdxdocs/demo-{namespace}\nCreator: Organization: Example\n"
            f"Created: {created}\n\nPackageName: commons-io\nSPDXID: SPDXRef-commons-io\nPackageVersion: 2.11.0\n"
            ).encode()


def nested_jar(name: str) -> bytes:
    return make_zip([Item("META-INF/MANIFEST.MF", mf(f"Implementation-Title: {name}")),
                     Item(f"org/example/{name}/Lib.class", b"\xca\xfe\xba\xbe" + name.encode())])


# ------------------------------------------------------------------------------------------------ builders

def shared(fn: Callable[[Kit], Pair]) -> Callable[[Kit], Pair]:
    """A builder whose pair is made once per session (several cases look at the same pair)."""
    def build(kit: Kit) -> Pair:
        return kit.pair(fn.__name__, lambda: fn(kit))
    build.__name__ = fn.__name__
    return build


def _class_pair(ref_variant: str, rebuild_variant: str, name: str) -> Callable[[Kit], Pair]:
    def build(kit: Kit) -> Pair:
        return with_entry(name, kit.cls(ref_variant, name), kit.cls(rebuild_variant, name))
    return build


def _ecj_vs_javac(name: str) -> Callable[[Kit], Pair]:
    def build(kit: Kit) -> Pair:
        return with_entry(name, kit.cls("a", name), kit.ecj(name))
    return build


def hello_files(kit: Kit) -> Files:
    return files(**{"demo/Hello.class": kit.cls("a", "demo/Hello.class")})


@shared
def _jar_vs_zipfile(kit: Kit) -> Pair:
    """The same files packed by the jar tool (reference) and by zipfile (rebuild): another zip writer."""
    content = hello_files(kit)
    ref = kit.plain_jar()
    written = dict(content, **{"META-INF/MANIFEST.MF": read_entry(ref, "META-INF/MANIFEST.MF")})
    return ref, zjar(dict(sorted(written.items(), reverse=True)), date_time=(2024, 11, 12, 8, 2, 0), mode=0o664,
                     level=1)


@shared
def _jar_stored_vs_deflated(kit: Kit) -> Pair:
    return kit.plain_jar(), kit.jar_tool(hello_files(kit), "--no-compress")


@shared
def _info_zip_vs_jar(kit: Kit) -> Pair:
    content = hello_files(kit)
    ref = kit.plain_jar()
    written = dict(content, **{"META-INF/MANIFEST.MF": read_entry(ref, "META-INF/MANIFEST.MF")})
    return ref, kit.info_zip(written)


@shared
def _jar_two_jdks(kit: Kit) -> Pair:
    """The same files packed by the jar tools of two JDKs (Created-By: '17.0.x (Debian)' vs '25 (Vendor)')."""
    return kit.plain_jar(), kit.jar_tool(hello_files(kit), jdk=kit.second_jdk())


@shared
def _jar_index(kit: Kit) -> Pair:
    plain = kit.plain_jar()
    return kit.jar_index(plain), plain


@shared
def _signed(kit: Kit) -> Pair:
    plain = kit.plain_jar()
    return kit.signed(plain), plain


@shared
def _manifest_rewrapped(kit: Kit) -> Pair:
    """The jar tool wraps the manifest at 72 bytes with CRLF; the rebuild's packager wrote LF, wrapped at 60."""
    cp = " ".join(f"lib/dependency-number-{i}-1.0.0.jar" for i in range(4))
    ref = kit.jar_tool(files(**{"META-INF/MANIFEST.MF": f"Manifest-Version: 1.0\nClass-Path: {cp}\n\n".encode()}))
    text = read_entry(ref, "META-INF/MANIFEST.MF").decode().replace("\r\n ", "").replace("\r\n", "\n")
    lines = []
    for logical in text.split("\n"):
        rest = logical
        while len(rest) > 60:
            lines.append(rest[:60])
            rest = " " + rest[60:]
        lines.append(rest)
    return ref, zjar(files(**{"META-INF/MANIFEST.MF": "\n".join(lines).encode()}))


def _javadoc(version: str = "", second_jdk: bool = False) -> Callable[[Kit], Pair]:
    """A real javadoc page against the same page generated a day later (and, with ``version``, by another JDK
    version), or against the page the javadoc of a second JDK writes."""
    def build(kit: Kit) -> Pair:
        page = kit.javadoc_page()
        if second_jdk:
            return with_entry("docs/demo/Greeter.html", page, kit.javadoc_page(kit.second_jdk()))
        m = re.search(rb"<!-- Generated by javadoc \((?P<ver>[^)]*)\) on (?P<date>[^>]*?) -->", page)
        assert m is not None, page[:400]
        later = b"<!-- Generated by javadoc (" + (version.encode() or m.group("ver")) + b") on Tue Nov 12 08:01:59 " \
            b"CET 2024 -->"
        other = re.sub(rb'(name="dc\.created" content=")[0-9-]+', rb"\g<1>2024-11-12", page.replace(m.group(0), later))
        assert other != page
        return with_entry("docs/demo/Greeter.html", page, other)
    return build


def _entry(name: str, ref: bytes | None, rebuild: bytes | None) -> Callable[[Kit], Pair]:
    return lambda _kit: with_entry(name, ref, rebuild)


def _manifests(ref: bytes, rebuild: bytes) -> Callable[[Kit], Pair]:
    return _entry("META-INF/MANIFEST.MF", ref, rebuild)


def _zip_items(ref: dict[str, object], rebuild: dict[str, object]) -> Callable[[Kit], Pair]:
    """BASE packed by zipfile on both sides with other Item settings (times, modes, extra fields...)."""
    return lambda _kit: (zjar(BASE, **ref), zjar(BASE, **rebuild))


# ------------------------------------------------------------------------------------------------ the table

NOISE, RESIDUAL = "noise", "residual"
REF, REB, BOTH = ("reference",), ("rebuild",), ("reference", "rebuild")
CLASS_STABILIZERS = ("class-lambda-names", "class-member-order", "class-constant-pool-order")


@dataclass(frozen=True)
class Case:
    """One pair and what the comparison must say about it."""

    cause: str
    category: Category
    view: str
    build: Callable[[Kit], Pair]
    enable: tuple[str, ...] = ()
    disable: tuple[str, ...] = ()
    sides: tuple[str, ...] = BOTH      # noise view: where the noise was put
    value: str = ""                    # noise view: an evidence value the summary must quote
    says: str = ""                     # residual view: what every difference's note or explanation must name
    label: str = ""
    marks: tuple[pytest.MarkDecorator, ...] = field(default=())

    @property
    def id(self) -> str:
        return f"{self.cause}-{self.view}" + (f"-{self.label}" if self.label else "")


_BM, _SB, _FS = Category.BUILD_MANIFESTS, Category.SBOM, Category.FILESYSTEM
_JB, _VP, _TS = Category.JVM_BYTECODE, Category.VERSIONING_PROPERTIES, Category.TIMESTAMPS
_MI, _UN = Category.MISCELLANEOUS, Category.UNKNOWN
_MBM = ("manifest-build-metadata",)
SLOW = (pytest.mark.slow,)

CASES: tuple[Case, ...] = (
    # ------------------------------------------------------------------ build manifests
    Case("built-by", _BM, NOISE, _manifests(mf("Built-By: alice"), mf("Built-By: bob")), value="built-by=bob"),
    Case("built-by", _BM, RESIDUAL, _manifests(mf("Built-By: alice"), mf("Built-By: bob")), disable=_MBM),
    Case("build-jdk", _BM, NOISE, _manifests(mf("Build-Jdk: 17.0.2"), mf("Build-Jdk: 21.0.1")),
         value="build-jdk=21.0.1"),
    Case("build-jdk", _BM, NOISE, _jar_two_jdks, label="jar-tools"),
    Case("build-jdk", _BM, RESIDUAL, _manifests(mf("Build-Jdk: 17.0.2"), mf("Build-Jdk: 21.0.1")), disable=_MBM),
    Case("build-jdk", _BM, RESIDUAL, _manifests(mf("Created-By: 17.0.2 (Debian)"),
                                                mf("Created-By: 17.0.15 (Debian)")), disable=_MBM, label="created-by"),
    Case("jdk-vendor", _BM, NOISE, _manifests(mf("Build-Jdk-Vendor: Eclipse Adoptium"),
                                              mf("Build-Jdk-Vendor: Azul Systems, Inc.")),
         value="build-jdk-vendor=Azul Systems, Inc."),
    Case("jdk-vendor", _BM, RESIDUAL, _jar_two_jdks, disable=_MBM, label="jar-tools"),
    Case("jdk-vendor", _BM, RESIDUAL, _manifests(mf("Created-By: 17.0.2 (Eclipse Adoptium)"),
                                                 mf("Created-By: 17.0.2 (Azul Systems, Inc.)")), disable=_MBM),
    Case("build-tool-version", _BM, NOISE, _manifests(mf("Created-By: Apache Maven 3.8.1"),
                                                      mf("Created-By: Apache Maven 3.9.6")),
         value="created-by=Apache Maven 3.9.6"),
    Case("build-tool-version", _BM, RESIDUAL, _manifests(mf("Created-By: Apache Maven 3.8.1"),
                                                         mf("Created-By: Apache Maven 3.9.6")), disable=_MBM),
    Case("os-version", _BM, NOISE, _manifests(mf("Build-OS: Linux"), mf("Build-OS: Windows 10")),
         value="build-os=Windows 10"),
    Case("os-version", _BM, RESIDUAL, _manifests(mf("Build-OS: Linux"), mf("Build-OS: Windows 10")), disable=_MBM),
    # Build-Host has no evidence pattern of its own: it must still be named next to the Built-By it came with.
    Case("build-environment", _BM, NOISE, _manifests(mf("Built-By: alice", "Build-Host: ci-1"),
                                                     mf("Built-By: bob", "Build-Host: laptop")),
         value="build-host=laptop"),
    Case("build-environment", _BM, RESIDUAL, _manifests(mf("Jenkins-Build-Number: 41"),
                                                        mf("Jenkins-Build-Number: 42")), disable=_MBM),
    Case("manifest-build-time", _BM, NOISE, _manifests(mf("Bnd-LastModified: 1709374500000"),
                                                       mf("Bnd-LastModified: 1731398518000")),
         value="bnd-lastmodified=1731398518000"),
    Case("manifest-build-time", _BM, RESIDUAL, _manifests(mf("Bnd-LastModified: 1709374500000"),
                                                          mf("Bnd-LastModified: 1731398518000")), disable=_MBM),
    Case("scm-revision", _BM, NOISE, _manifests(mf("SCM-Branch: main"), mf("SCM-Branch: release-1.x")),
         value="scm-branch=release-1.x"),
    Case("scm-revision", _BM, RESIDUAL, _manifests(mf(f"SCM-Revision: {COMMIT}"), mf(f"SCM-Revision: {'9' * 40}"))),
    Case("manifest-attribute-order", _BM, NOISE,
         _manifests(mf("Implementation-Title: demo", "Implementation-Version: 1.0"),
                    mf("Implementation-Version: 1.0", "Implementation-Title: demo")), sides=REB),
    Case("manifest-attribute-order", _BM, RESIDUAL,
         _manifests(mf("Implementation-Title: demo", "Implementation-Version: 1.0"),
                    mf("Implementation-Version: 1.0", "Implementation-Title: demo")),
         disable=("manifest-attribute-order",)),
    Case("osgi-value-order", _BM, NOISE,
         _manifests(mf('Export-Package: org.example.a;version="1.0",org.example.b;version="1.0"'),
                    mf('Export-Package: org.example.b;version="1.0",org.example.a;version="1.0"')), sides=REB),
    Case("osgi-value-order", _BM, RESIDUAL,
         _manifests(mf('Export-Package: org.example.a;version="1.0",org.example.b;version="1.0"'),
                    mf('Export-Package: org.example.b;version="1.0",org.example.a;version="1.0"')),
         disable=("manifest-value-order",)),
    Case("manifest-line-wrapping", _BM, NOISE, _manifest_rewrapped, sides=REB),
    Case("manifest-line-wrapping", _BM, RESIDUAL, _manifest_rewrapped, disable=("manifest-layout",)),
    Case("manifest-attribute-value", _BM, RESIDUAL, _manifests(mf("Main-Class: demo.Hello"),
                                                               mf("Main-Class: demo.Evil"))),
    Case("jar-signature", _BM, NOISE, _signed, sides=REF, marks=SLOW),
    Case("jar-signature", _BM, RESIDUAL, _signed, disable=("jar-signature",), marks=SLOW),
    # ------------------------------------------------------------------ SBOM
    # The SBOM and pom.properties stabilizers record what they removed (sbom-removed, pom-properties-removed), so
    # their noise is summarized under the specific cause; the residual view checks the rules on the same noise.
    Case("sbom-serial-number", _SB, NOISE,
         _entry(SBOM, cyclonedx(), cyclonedx(serial="d3adb33f-1111-4222-8333-944455556666")),
         value="sbom-removed=serial-number"),
    Case("sbom-serial-number", _SB, RESIDUAL,
         _entry(SBOM, cyclonedx(), cyclonedx(serial="d3adb33f-1111-4222-8333-944455556666")),
         disable=("sbom-cyclonedx",)),
    Case("sbom-serial-number", _SB, NOISE, _entry(SPDX, spdx(), spdx(namespace="d3adb33f-1111-4222-8333-944455556666")),
         value="sbom-removed=serial-number", label="spdx"),
    Case("sbom-timestamp", _SB, NOISE, _entry(SBOM, cyclonedx(), cyclonedx(timestamp="2024-11-12T07:02:00Z")),
         value="sbom-removed=timestamp"),
    Case("sbom-timestamp", _SB, NOISE, _entry(SPDX, spdx(), spdx(created="2024-11-12T07:02:00Z")),
         value="sbom-removed=timestamp", label="spdx"),
    Case("sbom-timestamp", _SB, RESIDUAL, _entry(SPDX, spdx(), spdx(created="2024-11-12T07:02:00Z")),
         disable=("sbom-spdx",), label="spdx"),
    Case("sbom-timestamp", _SB, RESIDUAL, _entry(SBOM, cyclonedx(), cyclonedx(timestamp="2024-11-12T07:02:00Z")),
         disable=("sbom-cyclonedx",)),
    Case("sbom-tool-version", _SB, NOISE, _entry(SBOM, cyclonedx(), cyclonedx(tool="2.9.1")),
         value="sbom-tool-version=OWASP Foundation CycloneDX Maven plugin 2.9.1"),
    Case("sbom-hash-algorithms", _SB, RESIDUAL,
         _entry(SBOM, cyclonedx(algorithms=("SHA-256", "SHA3-256")), cyclonedx(algorithms=("SHA-256",)))),
    Case("sbom-component-set", _SB, RESIDUAL, _entry(SBOM, cyclonedx(), cyclonedx(dep="2.12.0"))),
    # the generic SBOM cause covers what has no specific one: here the order of the components list
    Case("sbom-run-metadata", _SB, NOISE, _entry(SBOM, cyclonedx(extra="last"), cyclonedx(extra="first")),
         sides=REB, value="sbom-removed=order"),
    # ------------------------------------------------------------------ filesystem
    Case("umask-permissions", _FS, NOISE, _zip_items({"mode": 0o644}, {"mode": 0o664}), sides=REB),
    Case("umask-permissions", _FS, RESIDUAL, _zip_items({"mode": 0o644}, {"mode": 0o664}),
         disable=("zip-permissions",)),
    Case("umask-permissions", _FS, RESIDUAL, _jar_vs_zipfile, disable=("zip-permissions",), label="jar-tool"),
    Case("ownership", _FS, NOISE, _info_zip_vs_jar, sides=REB),
    Case("ownership", _FS, RESIDUAL, _info_zip_vs_jar, disable=("zip-ownership", "zip-extra-fields")),
    Case("file-order", _FS, NOISE, lambda _k: (zjar(BASE), zjar(dict(reversed(BASE.items())))), sides=REB),
    Case("file-order", _FS, RESIDUAL, _jar_vs_zipfile, disable=("zip-entry-order",)),
    Case("directory-entries", _FS, NOISE, _jar_vs_zipfile, sides=REF),
    Case("directory-entries", _FS, RESIDUAL, _jar_vs_zipfile, disable=("zip-directory-entries",)),
    Case("absolute-paths", _FS, RESIDUAL, _class_pair("a", "b", "demo/Origin.class")),
    Case("absolute-paths", _FS, RESIDUAL, _entry("META-INF/build.txt", b"basedir=/home/alice/work/demo\n",
                                                 b"basedir=/home/bob/src/demo\n"), label="text"),
    Case("missing-files", _FS, RESIDUAL, _entry("demo/extra.txt", None, b"only in the rebuild\n")),
    Case("zip-timestamps", _FS, NOISE, _zip_items({"date_time": (2024, 3, 2, 10, 15, 0)},
                                                  {"date_time": (2024, 11, 12, 8, 2, 0)})),
    Case("zip-timestamps", _FS, RESIDUAL, _jar_vs_zipfile, disable=("zip-timestamps",)),
    Case("zip-compression", _FS, NOISE, _jar_stored_vs_deflated, sides=REB),
    Case("zip-compression", _FS, RESIDUAL, _jar_stored_vs_deflated, disable=("zip-compression",)),
    Case("zip-compression", _FS, RESIDUAL, _jar_vs_zipfile, disable=("zip-compression",), label="deflaters"),
    Case("zip-extra-fields", _FS, NOISE, _zip_items({}, {"extra": b"\x35\xd9\x02\x00\x04\x00"}), sides=REB),
    Case("zip-extra-fields", _FS, RESIDUAL, _zip_items({}, {"extra": b"\x35\xd9\x02\x00\x04\x00"}),
         disable=("zip-extra-fields",)),
    Case("zip-host-version", _FS, NOISE, _jar_vs_zipfile, sides=REF),
    Case("zip-host-version", _FS, RESIDUAL, _jar_vs_zipfile, disable=("zip-host-version",)),
    Case("zip-data-descriptor", _FS, NOISE, _jar_vs_zipfile, sides=REF),
    Case("zip-data-descriptor", _FS, RESIDUAL, _jar_vs_zipfile, disable=("zip-data-descriptor",)),
    Case("zip-utf8-flag", _FS, NOISE, _jar_vs_zipfile, sides=REF),
    Case("zip-utf8-flag", _FS, RESIDUAL, _jar_vs_zipfile, disable=("zip-utf8-flag",)),
    Case("zip-comments", _FS, NOISE, lambda _k: (zjar(BASE), make_zip([Item(n, d) for n, d in BASE.items()],
                                                                       comment=b"built by ci-1")), sides=REB),
    Case("zip-comments", _FS, RESIDUAL, lambda _k: (zjar(BASE), make_zip([Item(n, d) for n, d in BASE.items()],
                                                                          comment=b"built by ci-1")),
         disable=("zip-comments",)),
    # ------------------------------------------------------------------ JVM bytecode
    Case("constant-pool-order", _JB, NOISE, _class_pair("a", "b", "demo/Order.class"), enable=CLASS_STABILIZERS),
    Case("constant-pool-order", _JB, RESIDUAL, _class_pair("a", "b", "demo/Order.class"),
         enable=("class-lambda-names", "class-member-order"), disable=("class-constant-pool-order",)),
    Case("member-order", _JB, NOISE, _class_pair("a", "b", "demo/Order.class"), enable=CLASS_STABILIZERS),
    Case("member-order", _JB, RESIDUAL, _class_pair("a", "b", "demo/Order.class"),
         enable=("class-lambda-names", "class-constant-pool-order")),
    Case("lambda-naming", _JB, NOISE, _class_pair("a", "b", "demo/Order.class"), enable=CLASS_STABILIZERS),
    Case("lambda-naming", _JB, RESIDUAL, _class_pair("a", "b", "demo/Order.class"),
         enable=("class-member-order", "class-constant-pool-order")),
    Case("lambda-naming", _JB, RESIDUAL, _class_pair("a", "b", "demo/Order.class"), label="default-stabilizers"),
    Case("jdk-idioms", _JB, RESIDUAL, _class_pair("a", "inline-concat", "demo/Hello.class"),
         says="indy-string-concat"),
    Case("jdk-idioms", _JB, RESIDUAL, _ecj_vs_javac("demo/Hello.class"), label="ecj", says="indy-string-concat"),
    Case("java-compiler", _JB, RESIDUAL, _ecj_vs_javac("demo/Order.class"), says="rebuild ecj"),
    Case("bytecode-change", _JB, RESIDUAL, _class_pair("a", "b", "demo/Hello.class")),
    Case("jdk-version-bytecode", _JB, RESIDUAL, _class_pair("release8", "a", "demo/Hello.class")),
    Case("debug-info", _JB, RESIDUAL, _class_pair("debug", "a", "demo/Hello.class")),
    Case("debug-info", _JB, RESIDUAL, _class_pair("a", "parameters", "demo/Hello.class"), label="parameters"),
    # ------------------------------------------------------------------ versioning properties
    Case("pom-properties-order", _VP, NOISE,
         _entry(POM, pom_properties(), pom_properties(order=("version", "groupId", "artifactId"))), sides=REB,
         value="pom-properties-removed=key-order"),
    Case("pom-properties-order", _VP, RESIDUAL,
         _entry(POM, pom_properties(), pom_properties(order=("version", "groupId", "artifactId"))),
         disable=("pom-properties",)),
    Case("pom-properties-timestamp", _VP, NOISE,
         _entry(POM, pom_properties(), pom_properties(date="Tue Nov 12 08:01:59 CET 2024")),
         value="pom-properties-removed=date-comment"),
    Case("pom-properties-timestamp", _VP, RESIDUAL,
         _entry(POM, pom_properties(), pom_properties(date="Tue Nov 12 08:01:59 CET 2024")),
         disable=("pom-properties", "properties-timestamp")),
    Case("pom-properties-m2e", _VP, NOISE, _entry(POM, pom_properties(), pom_properties(m2e=True)), sides=REB,
         value="pom-properties-removed=m2e-keys"),
    Case("pom-properties-m2e", _VP, RESIDUAL, _entry(POM, pom_properties(), pom_properties(m2e=True)),
         disable=("pom-properties",)),
    Case("pom-properties-maven-version", _VP, NOISE,
         _entry(POM, pom_properties(maven="3.8.1"), pom_properties(maven="3.9.6")), value="maven-version=3.9.6"),
    Case("pom-properties-maven-version", _VP, RESIDUAL,
         _entry(POM, pom_properties(maven="3.8.1"), pom_properties(maven="3.9.6")), disable=("pom-properties",)),
    # the generic cause covers what has no specific one: Maven's "#Generated by Maven" comment
    Case("pom-properties-generated", _VP, NOISE,
         _entry(POM, pom_properties(), pom_properties(date="Tue Nov 12 08:01:59 CET 2024",
                                                      order=("version", "groupId", "artifactId"), m2e=True)),
         value="pom-properties-removed=generated-comment"),
    Case("version-mismatch", _VP, RESIDUAL, _entry(POM, pom_properties(), pom_properties(version="1.4.3"))),
    Case("git-properties-keys", _VP, NOISE,
         _entry("git.properties", git_properties(), git_properties("2024-11-12T08:01:58+0100", "laptop"))),
    Case("git-properties-keys", _VP, RESIDUAL,
         _entry("git.properties", git_properties(), git_properties("2024-11-12T08:01:58+0100", "laptop")),
         disable=("git-properties",)),
    Case("embedded-commit", _VP, RESIDUAL, _entry("git.properties", git_properties(),
                                                  git_properties(commit="9" * 40))),
    # ------------------------------------------------------------------ timestamps
    Case("properties-timestamp", _TS, NOISE,
         _entry("demo/messages.properties", b"#Sat Mar 02 10:15:00 UTC 2024\ngreeting=hello\n",
                b"#Tue Nov 12 08:01:59 CET 2024\ngreeting=hello\n")),
    Case("properties-timestamp", _TS, RESIDUAL,
         _entry("demo/build.properties", b"build.time=2024-03-02T10:15:00Z\n", b"build.time=2024-11-12T08:01:58Z\n")),
    Case("javadoc-timestamp", _TS, NOISE, _javadoc(), marks=SLOW),
    Case("javadoc-timestamp", _TS, RESIDUAL, _javadoc(),
         disable=("javadoc-timestamp",), marks=SLOW),
    Case("script-timestamp", _TS, RESIDUAL, _entry("bin/run.sh", b"#!/bin/sh\n# generated 2024-03-02 10:15\nexec j\n",
                                                   b"#!/bin/sh\n# generated 2024-11-12 08:01\nexec j\n")),
    Case("bytecode-timestamp", _TS, RESIDUAL, _class_pair("a", "b", "demo/BuildInfo.class")),
    Case("notice-timestamp", _TS, RESIDUAL, _entry("META-INF/NOTICE", b"Demo\nCopyright 2002-2023 Example\n",
                                                   b"Demo\nCopyright 2002-2024 Example\n")),
    Case("servlet-timestamp", _TS, RESIDUAL, _class_pair("a", "b", "org/apache/jsp/index_jsp.class")),
    Case("resource-timestamp", _TS, RESIDUAL, _entry("META-INF/build-info.json", b'{"built": "2024-03-02T10:15:00Z"}\n',
                                                     b'{"built": "2024-11-12T08:01:58Z"}\n')),
    # ------------------------------------------------------------------ miscellaneous
    Case("newline-style", _MI, NOISE, _entry("demo/Hello.java", HELLO.encode(), HELLO.replace("\n", "\r\n").encode()),
         sides=REB),
    Case("newline-style", _MI, RESIDUAL, _entry("docs/usage.txt", b"run it\nwith java\n", b"run it\r\nwith java\r\n")),
    Case("bundled-javascript", _MI, RESIDUAL, _entry("META-INF/resources/static/app.js",
                                                     b"function hi(){return 'hi'}\n", b'function hi(){return"hi"}\n')),
    Case("index-files", _MI, RESIDUAL, _jar_index),
    Case("index-files", _MI, RESIDUAL, _entry("META-INF/jandex.idx", b"\xd1\xa5\xc3\x06\x01\x02",
                                              b"\xd1\xa5\xc3\x06\x01\x03"), label="jandex"),
    Case("uuids", _MI, RESIDUAL, _entry("META-INF/build-id.txt", b"id=6b1a9c2e-0f3d-4c53-9d0e-1e2f3a4b5c6d\n",
                                        b"id=d3adb33f-1111-4222-8333-944455556666\n")),
    Case("os-specific-binaries", _MI, RESIDUAL,
         _entry("META-INF/native/linux-x86_64/libdemo.so", None, b"\x7fELF\x02\x01\x01" + bytes(57))),
    Case("version-ranges", _MI, RESIDUAL,
         lambda _k: zpair(files(**{"WEB-INF/lib/commons-io-2.11.0.jar": nested_jar("io")}),
                          files(**{"WEB-INF/lib/commons-io-2.12.0.jar": nested_jar("io")}))),
    Case("version-ranges", _MI, RESIDUAL, _manifests(mf('Import-Package: org.slf4j;version="[1.7,2)"'),
                                                     mf('Import-Package: org.slf4j;version="[2.0,3)"')),
         label="osgi-range"),
    Case("javadoc-jdk", _MI, NOISE, _javadoc("21"), value="javadoc-jdk=21",
         marks=SLOW),
    Case("javadoc-jdk", _MI, RESIDUAL, _javadoc(second_jdk=True), label="two-jdks", marks=SLOW),
    # ------------------------------------------------------------------ unknown
    Case("unknown", _UN, RESIDUAL, _entry("demo/data.bin", b"\x00\x01\x02\x03", b"\x00\x01\x02\x04")),
    # A changed line that merely holds a date, UUID or path (the same on both sides) is not explained by it.
    Case("unknown", _UN, RESIDUAL, _entry("META-INF/CHANGES.txt", b"2024-03-02: fixed the parser\n",
                                          b"2024-03-02: removed the license check\n"), label="dated-line"),
    Case("unknown", _UN, RESIDUAL, _entry("demo/app.properties", b"launcher=/home/ci/app/run --safe\n",
                                          b"launcher=/home/ci/app/run --unsafe\n"), label="path-line"),
)

#: Root causes without an end-to-end case, each with the reason (none today: keep it that way if you can).
EXEMPT: dict[str, str] = {}


# ------------------------------------------------------------------------------------------------ the tests

def _params() -> Iterator[object]:
    for case in CASES:
        yield pytest.param(case, id=case.id, marks=case.marks)


def run_case(case: Case, kit: Kit) -> Outcome:
    ref, rebuild = case.build(kit)
    return compare_bytes(ref, rebuild, stabilizers=select_stabilizers(enable=case.enable, disable=case.disable))


SCHEMA = Path(__file__).resolve().parent.parent / "docs" / "outcome.schema.json"


@functools.cache
def _validator() -> Callable[[object], list[str]]:
    """Errors of a JSON document against the published outcome schema."""
    import jsonschema  # type: ignore[import-untyped,unused-ignore]
    checker = jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text(encoding="utf-8")))
    return lambda doc: [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in checker.iter_errors(doc)]


@pytest.mark.parametrize("case", list(_params()))
def test_pair_is_classified_by_root_cause(case: Case, kit: Kit) -> None:
    out = run_case(case, kit)
    assert not out.findings, out.findings
    assert not _validator()(json.loads(out.to_json()))
    if case.view == NOISE:
        assert out.verdict is Verdict.EQUIVALENT, [(d.path, d.aspect, d.root_cause, d.note) for d in out.differences]
        hits = [n for n in out.noise if n.root_cause == case.cause]
        assert {n.side for n in hits} >= set(case.sides), (case.cause, out.noise)
        assert all(n.category == case.category.value and n.steps > 0 for n in hits), hits
        if case.value:
            assert any(case.value in n.values for n in hits), hits
    else:
        assert out.verdict is Verdict.DIFFERENT
        assert out.differences
        got = [(d.path, d.aspect, d.category, d.root_cause, d.explanation) for d in out.differences]
        assert all(d.root_cause == case.cause and d.category == case.category.value for d in out.differences), got
        assert all(d.hint and d.mitigation for d in out.differences), got
        if case.says:
            assert all(case.says in f"{d.note} {d.explanation}" for d in out.differences), got


def test_every_root_cause_has_an_e2e_case() -> None:
    ids = {rc.id for rc in ROOT_CAUSES}
    covered = {c.cause for c in CASES}
    assert covered <= ids, f"cases for unknown root causes: {sorted(covered - ids)}"
    assert set(EXEMPT) <= ids, f"exemptions for unknown root causes: {sorted(set(EXEMPT) - ids)}"
    assert not covered & set(EXEMPT), f"both covered and exempt: {sorted(covered & set(EXEMPT))}"
    assert all(reason.strip() for reason in EXEMPT.values())
    missing = ids - covered - set(EXEMPT)
    assert not missing, f"root causes without an end-to-end case or a reasoned exemption: {sorted(missing)}"
    for case in CASES:
        cause = next(rc for rc in ROOT_CAUSES if rc.id == case.cause)
        assert cause.category is case.category, (case.id, cause.category, case.category)
    ids_seen = [c.id for c in CASES]
    assert len(ids_seen) == len(set(ids_seen)), "case ids are unique"


RERENDERED = ("debug-info-residual", "built-by-noise", "missing-files-residual", "sbom-hash-algorithms-residual")


@pytest.mark.parametrize("case_id", RERENDERED)
def test_saved_outcome_re_renders(case_id: str, kit: Kit, tmp_path: Path) -> None:
    """A saved JSON outcome renders again as text, markdown and HTML, with its causes, and classifies the same."""
    case = next(c for c in CASES if c.id == case_id)
    out = run_case(case, kit)
    saved = tmp_path / "outcome.json"
    saved.write_text(out.to_json(), encoding="utf-8")
    loaded = Outcome.from_json(saved.read_text(encoding="utf-8"))
    assert [(d.path, d.category, d.root_cause) for d in loaded.differences] == \
           [(d.path, d.category, d.root_cause) for d in out.differences]
    assert loaded.noise == out.noise
    again = classify(loaded)  # the saved trace and evidence are enough to classify it again, without the JARs
    assert [(d.root_cause, d.explanation) for d in again.differences] == \
           [(d.root_cause, d.explanation) for d in out.differences]
    assert again.noise == out.noise
    for fmt in ("text", "markdown", "html"):
        target = tmp_path / f"report.{fmt}"
        code = cli_main(["report", str(saved), "--format", fmt, "--show-noise", "-o", str(target)])
        assert code == out.exit_code, fmt
        text = target.read_text(encoding="utf-8")
        assert case.cause in text, (fmt, case.cause)
        assert case.category.value in text, (fmt, case.category)
        verdict = out.verdict.value
        assert verdict in text.lower(), (fmt, verdict)
