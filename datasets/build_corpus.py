#!/usr/bin/env python3
"""Build the local corpus of real reference/rebuild JAR pairs that ``pytest -m corpus`` and the benchmarks use.

Two kinds of pairs:

* **cross-builder**: a JAR published on Maven Central, taken unmodified from inside a pinned PyPI distribution
  (the ``pyspark`` sdist keeps its dependency JARs under ``deps/jars/``), paired with the same
  group:artifact:version rebuilt by Debian (``lib*-java`` packages, JARs under ``usr/share/java``). Identities
  are read from ``META-INF/maven/**/pom.properties`` and, for Debian, from the ``.pom`` files of
  ``usr/share/maven-repo``; the MANIFEST versions are recorded as evidence. File names are never trusted.
* **self-rebuild**: a real library (the ``org.jpype`` Java sources inside the pinned JPype1 sdist) compiled and
  packaged twice with exactly one controlled variation each (packaging tool, zip order/times, TZ, locale,
  umask, file owner, manifest noise, pom.properties noise, SBOM noise, javac vs ecj, ``--release`` 8 vs 17).

Every download is pinned by version and sha256 in ``datasets/pins.json`` and cached; a download whose digest
differs is refused. The manifest (``datasets/manifest.json``) lists every pair with both origins, sizes,
digests and the labels of ``datasets/labels.json`` (what really differs, verified by inspection).

Usage (from the repository root)::

    python datasets/build_corpus.py --cache datasets/cache --out datasets/corpus

Needs ``pip``, ``apt-get`` and ``dpkg-deb`` (Debian/Ubuntu), a JDK 17 (``javac``, ``jar``, ``java``) and
optionally Info-ZIP ``zip`` (for the file-owner pair). Nothing is installed system-wide.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import io
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

HERE = Path(__file__).resolve().parent
DEFAULT_PINS = HERE / "pins.json"
DEFAULT_LABELS = HERE / "labels.json"
DEFAULT_MANIFEST = HERE / "manifest.json"
MANIFEST_SCHEMA = 1
#: Fixed time of every self-rebuild input (2023-11-14T22:13:20Z), so that builds are repeatable.
EPOCH = 1_700_000_000
COMMAND_TIMEOUT = 900


class CorpusError(Exception):
    """A step of the corpus build failed (bad pin, download refused, tool missing); printed as one line."""


# --------------------------------------------------------------------------------------------- pins, cache
def sha256_file(path: Path) -> str:
    """The hex SHA-256 of a file, read in chunks."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def check_digest(path: Path, expected: str) -> None:
    """Refuse ``path`` unless its SHA-256 is ``expected`` (the pin)."""
    actual = sha256_file(path)
    if actual != expected.lower():
        raise CorpusError(f"refusing {path.name}: sha256 {actual} differs from the pinned {expected}")


def load_pins(path: Path) -> dict[str, Any]:
    """Read and validate the pins file: every entry needs a version and a 64-hex sha256."""
    try:
        pins = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise CorpusError(f"cannot read pins {path}: {exc}") from None
    for section in ("pypi", "debian", "tools"):
        for pin in pins.get(section, []):
            if not re.fullmatch(r"[0-9a-f]{64}", str(pin.get("sha256", ""))) or not pin.get("version"):
                raise CorpusError(f"pin without version or sha256 in {section}: {pin}")
    return dict(pins)


def deb_filename(package: str, version: str, arch: str = "all") -> str:
    """The file name ``apt-get download`` gives a package version (an epoch ``1:`` becomes ``1%3a``)."""
    return f"{package}_{version.replace(':', '%3a')}_{arch}.deb"


def run(cmd: Sequence[str], cwd: Path | None = None, env: dict[str, str] | None = None,
        timeout: int = COMMAND_TIMEOUT) -> subprocess.CompletedProcess[str]:
    """Run a command, raising :class:`CorpusError` with its last stderr line when it fails."""
    try:
        proc = subprocess.run(list(cmd), cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout,
                              check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise CorpusError(f"{cmd[0]} failed: {exc}") from None
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or proc.stdout.strip().splitlines() or ["?"])[-1]
        raise CorpusError(f"{' '.join(cmd[:4])} ... exited {proc.returncode}: {tail}")
    return proc


def fetch_pypi(pin: dict[str, Any], cache: Path) -> Path:
    """The pinned PyPI file, from the cache or downloaded with pip (which checks the hash itself too)."""
    dest = cache / "pypi" / pin["file"]
    if dest.is_file():
        check_digest(dest, pin["sha256"])
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        req = Path(tmp) / "requirements.txt"
        req.write_text(f"{pin['name']}=={pin['version']} --hash=sha256:{pin['sha256']}\n", encoding="utf-8")
        binary = ["--no-binary", ":all:"] if pin.get("kind", "sdist") == "sdist" else ["--only-binary", ":all:"]
        run([sys.executable, "-m", "pip", "download", "--no-deps", *binary, "-d", tmp, "-r", str(req)])
        got = Path(tmp) / pin["file"]
        if not got.is_file():
            raise CorpusError(f"pip did not produce {pin['file']}")
        check_digest(got, pin["sha256"])
        shutil.move(str(got), dest)
    return dest


def fetch_deb(pin: dict[str, Any], cache: Path) -> Path:
    """The pinned Debian package, from the cache or fetched with ``apt-get download`` (never installed)."""
    name = deb_filename(pin["package"], pin["version"], pin.get("arch", "all"))
    dest = cache / "debian" / name
    if dest.is_file():
        check_digest(dest, pin["sha256"])
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        os.chmod(tmp, 0o755)  # apt's unprivileged downloader must be able to write here
        run(["apt-get", "download", f"{pin['package']}={pin['version']}"], cwd=Path(tmp))
        got = Path(tmp) / name
        if not got.is_file():
            raise CorpusError(f"apt-get did not produce {name}")
        check_digest(got, pin["sha256"])
        shutil.move(str(got), dest)
    return dest


def extract_deb(deb: Path, cache: Path) -> Path:
    """Unpack a .deb with ``dpkg-deb -x`` into the cache (once); returns the root of its file tree."""
    root = cache / "extract" / deb.stem
    done = root / ".complete"
    if done.is_file():
        return root
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    run(["dpkg-deb", "-x", str(deb), str(root)])
    done.write_text(sha256_file(deb), encoding="utf-8")
    return root


# ------------------------------------------------------------------------------------------ identities
@dataclasses.dataclass(frozen=True, order=True)
class Gav:
    """A Maven coordinate."""

    group: str
    artifact: str
    version: str

    def __str__(self) -> str:
        return f"{self.group}:{self.artifact}:{self.version}"


@dataclasses.dataclass(frozen=True)
class JarIdentity:
    """What a JAR says about itself: its pom.properties coordinates and the MANIFEST's version headers."""

    poms: tuple[Gav, ...]
    manifest: dict[str, str]


def parse_manifest(data: bytes) -> dict[str, str]:
    """The main section of a JAR manifest as a dict (continuation lines joined, CRLF/CR/LF accepted)."""
    text = data.decode("utf-8", "replace").replace("\r\n", "\n").replace("\r", "\n")
    attrs: dict[str, str] = {}
    last = None
    for line in text.split("\n"):
        if not line:
            if attrs:
                break  # end of the main section
            continue
        if line.startswith(" ") and last is not None:
            attrs[last] += line[1:]
            continue
        key, sep, value = line.partition(":")
        if sep:
            last = key.strip()
            attrs[last] = value.strip()
    return attrs


def parse_pom_properties(data: bytes) -> Gav | None:
    """groupId/artifactId/version of a Maven ``pom.properties`` (None when one is missing)."""
    values: dict[str, str] = {}
    for raw in data.decode("latin-1").splitlines():
        line = raw.strip()
        if not line or line[0] in "#!":
            continue
        m = re.match(r"([^=:\s]+)\s*[=:]\s*(.*)$", line)
        if m:
            values[m.group(1)] = m.group(2).strip()
    try:
        return Gav(values["groupId"], values["artifactId"], values["version"])
    except KeyError:
        return None


def jar_identity(data: bytes) -> JarIdentity:
    """Read the identity of a JAR given as bytes (unreadable archives have an empty identity)."""
    poms: list[Gav] = []
    manifest: dict[str, str] = {}
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            for info in zf.infolist():
                name = info.filename
                if name.startswith("META-INF/maven/") and name.endswith("/pom.properties"):
                    gav = parse_pom_properties(zf.read(info))
                    if gav is not None:
                        poms.append(gav)
                elif name == "META-INF/MANIFEST.MF":
                    manifest = parse_manifest(zf.read(info))
    except (zipfile.BadZipFile, OSError, ValueError):
        return JarIdentity((), {})
    return JarIdentity(tuple(sorted(set(poms))), manifest)


def versions_agree(pom_version: str, stated: str) -> bool:
    """Whether a MANIFEST version (``1.15.0``, ``2.0.8 Sun, 08 Sep 2019``) states the same release as a Maven
    version (``1.15``): the first word, split on dots and dashes, trailing zero parts ignored."""
    def parts(v: str) -> list[str]:
        items = re.split(r"[.-]", (v.split() or [""])[0].lower())
        while len(items) > 1 and items[-1] in ("0", ""):
            items.pop()
        return items

    return bool(stated.strip()) and parts(pom_version) == parts(stated)


def own_gav(ident: JarIdentity, declared: Iterable[Gav] = ()) -> tuple[Gav | None, str]:
    """The coordinate a JAR is the artifact of, and where it was read.

    A JAR may embed the pom.properties of what it shades, so a pom.properties alone is not trusted when the
    MANIFEST contradicts it. Rules, in order: a pom.properties coordinate that Debian's maven-repo also declares
    for this file; a single pom.properties that the MANIFEST does not contradict (no version stated, the same
    version, or a Bundle-SymbolicName naming the artifact); among several, the one the Bundle-SymbolicName names;
    with no pom.properties, the maven-repo ``.pom`` (several: the one whose version the MANIFEST states).
    Otherwise unknown, with the reason."""
    declared = tuple(sorted(set(declared)))
    stated = manifest_version(ident.manifest)
    bsn = ident.manifest.get("Bundle-SymbolicName", "").split(";")[0].strip()

    def named(g: Gav) -> bool:
        return bool(bsn) and (bsn == g.artifact or bsn.endswith("." + g.artifact))

    for gav in ident.poms:
        if gav in declared:
            return gav, "pom.properties+maven-repo"
    if len(ident.poms) == 1:
        gav = ident.poms[0]
        if not stated or versions_agree(gav.version, stated) or named(gav):
            return gav, "pom.properties"
        return None, f"conflict: pom.properties says {gav}, MANIFEST says {stated}"
    if ident.poms:
        fits = [g for g in ident.poms if named(g)]
        if len(fits) == 1:
            return fits[0], "pom.properties+Bundle-SymbolicName"
        return None, f"ambiguous: {len(ident.poms)} pom.properties"
    if len(declared) == 1:
        return declared[0], "maven-repo pom"
    fits = [g for g in declared if versions_agree(g.version, stated)]
    if len(fits) == 1:
        return fits[0], "maven-repo pom+MANIFEST version"
    return None, "no pom.properties" if not declared else f"ambiguous: {len(declared)} maven-repo poms"


def _pom_text(elem: ElementTree.Element, tag: str) -> str | None:
    for child in elem:
        if child.tag.rsplit("}", 1)[-1] == tag:
            return (child.text or "").strip() or None
    return None


def parse_pom_xml(data: bytes) -> Gav | None:
    """groupId (or the parent's), artifactId and version (or the parent's) of a Maven POM."""
    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError:
        return None
    parent = next((c for c in root if c.tag.rsplit("}", 1)[-1] == "parent"), None)
    group = _pom_text(root, "groupId") or (_pom_text(parent, "groupId") if parent is not None else None)
    version = _pom_text(root, "version") or (_pom_text(parent, "version") if parent is not None else None)
    artifact = _pom_text(root, "artifactId")
    if not (group and artifact and version):
        return None
    return Gav(group, artifact, version)


def debian_declared(root: Path) -> dict[Path, list[Gav]]:
    """Map each real JAR file of an extracted .deb to the coordinates its ``usr/share/maven-repo`` POMs declare.

    Debian links ``maven-repo/<group>/<artifact>/<version>/<artifact>-<version>.jar`` to the JAR in
    ``usr/share/java`` and keeps the POM beside it; the ``debian`` pseudo-version is skipped."""
    out: dict[Path, list[Gav]] = {}
    repo = root / "usr" / "share" / "maven-repo"
    if not repo.is_dir():
        return out
    for pom in sorted(repo.rglob("*.pom")):
        if pom.parent.name == "debian":
            continue
        jar = pom.with_suffix(".jar")
        gav = parse_pom_xml(pom.read_bytes())
        if gav is None or not jar.exists():
            continue
        real = jar.resolve()
        if real.is_file() and root.resolve() in real.parents:
            out.setdefault(real, []).append(gav)
    return out


@dataclasses.dataclass
class Located:
    """One JAR of one origin, with its identity. ``data`` is kept only for JARs read from inside archives."""

    origin: dict[str, str]
    gav: Gav | None
    gav_source: str
    manifest_version: str
    size: int
    sha256: str
    file: Path | None = None
    data: bytes | None = None
    bsn: str = ""


def symbolic_name(manifest: dict[str, str]) -> str:
    """The OSGi Bundle-SymbolicName of a MANIFEST, without its directives."""
    return manifest.get("Bundle-SymbolicName", "").split(";")[0].strip()


def manifest_version(manifest: dict[str, str]) -> str:
    """The version a MANIFEST states (Implementation-Version, else Bundle-Version), for the record."""
    return manifest.get("Implementation-Version") or manifest.get("Bundle-Version") or ""


def debian_jars(root: Path, pin: dict[str, Any]) -> list[Located]:
    """Every real JAR under ``usr/share/java`` and ``usr/share/maven-repo`` of an extracted package."""
    declared = debian_declared(root)
    found: dict[Path, Located] = {}
    for sub in ("usr/share/java", "usr/share/maven-repo"):
        base = root / sub
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*.jar")):
            real = path.resolve()
            if real in found or not real.is_file() or root.resolve() not in real.parents:
                continue
            data = real.read_bytes()
            ident = jar_identity(data)
            gav, source = own_gav(ident, declared.get(real, ()))
            found[real] = Located(
                origin={"registry": "debian", "package": pin["package"], "version": pin["version"],
                        "path": str(real.relative_to(root.resolve()))},
                gav=gav, gav_source=source, manifest_version=manifest_version(ident.manifest),
                size=len(data), sha256=hashlib.sha256(data).hexdigest(), file=real,
                bsn=symbolic_name(ident.manifest))
    return list(found.values())


def sdist_jars(archive: Path, pin: dict[str, Any], wanted: Callable[[Gav], bool],
               wanted_bsn: Iterable[str] = ()) -> tuple[list[Located], int]:
    """The JARs inside a PyPI sdist/wheel whose coordinate ``wanted`` accepts, or that have no coordinate but a
    Bundle-SymbolicName in ``wanted_bsn`` (bytes kept), and how many JARs were read in all. The archive is
    streamed; nothing is unpacked to disk."""
    bsns = set(wanted_bsn)
    out: list[Located] = []
    total = 0
    for name, data in _archive_jars(archive):
        total += 1
        ident = jar_identity(data)
        gav, source = own_gav(ident)
        bsn = symbolic_name(ident.manifest)
        if not (wanted(gav) if gav is not None else bool(ident.poms == () and bsn and bsn in bsns)):
            continue
        out.append(Located(
            origin={"registry": "pypi", "package": pin["name"], "version": pin["version"], "file": pin["file"],
                    "path": name},
            gav=gav, gav_source=source, manifest_version=manifest_version(ident.manifest), size=len(data),
            sha256=hashlib.sha256(data).hexdigest(), data=data, bsn=bsn))
    return out, total


def _archive_jars(archive: Path) -> Iterator[tuple[str, bytes]]:
    if archive.name.endswith((".whl", ".zip")):
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                if info.filename.endswith(".jar") and not info.is_dir():
                    yield info.filename, zf.read(info)
        return
    with tarfile.open(archive, "r:*") as tf:
        for member in tf:
            if member.isfile() and member.name.endswith(".jar"):
                fh = tf.extractfile(member)
                if fh is not None:
                    yield member.name, fh.read()


def match_pairs(references: Sequence[Located], rebuilds: Sequence[Located]) -> list[tuple[Located, Located]]:
    """Pair references and rebuilds that have the same group:artifact:version (exact match only).

    A coordinate present more than once on one side is skipped (it is ambiguous which file is the artifact)."""
    def index(items: Sequence[Located]) -> dict[Gav, Located]:
        seen: dict[Gav, list[Located]] = {}
        for item in items:
            if item.gav is not None:
                seen.setdefault(item.gav, []).append(item)
        return {gav: lst[0] for gav, lst in seen.items() if len(lst) == 1}

    refs, rebs = index(references), index(rebuilds)
    return [(refs[g], rebs[g]) for g in sorted(refs.keys() & rebs.keys())]


def match_by_manifest(references: Sequence[Located], rebuilds: Sequence[Located],
                      taken: Iterable[Gav] = ()) -> list[tuple[Located, Located]]:
    """Pair references that have no pom.properties through their MANIFEST: the same Bundle-SymbolicName as
    exactly one rebuild whose coordinate the MANIFEST's version agrees with. The reference then takes that
    coordinate (``gav_source`` says so). Coordinates in ``taken`` are already paired and skipped."""
    used = set(taken)
    pairs: list[tuple[Located, Located]] = []
    for ref in references:
        if ref.gav is not None or not ref.bsn or not ref.manifest_version:
            continue
        fits = [r for r in rebuilds if r.gav is not None and r.bsn == ref.bsn and r.gav not in used
                and versions_agree(r.gav.version, ref.manifest_version)]
        if len(fits) != 1:
            continue
        reb = fits[0]
        assert reb.gav is not None
        used.add(reb.gav)
        pairs.append((dataclasses.replace(ref, gav=reb.gav, gav_source="MANIFEST Bundle-SymbolicName+version"),
                      reb))
    return pairs


def pair_id(prefix: str, gav: Gav) -> str:
    """A stable, file-system-safe pair id, e.g. ``cross-commons-io-2.11.0``."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", f"{prefix}-{gav.artifact}-{gav.version}")


# ------------------------------------------------------------------------------------------ self-rebuilds
@dataclasses.dataclass(frozen=True)
class Tools:
    javac: str
    jar: str
    java: str
    ecj_jar: Path | None
    zip: str | None


def find_tools(ecj_jar: Path | None) -> Tools:
    """The JDK tools (JAVA_HOME first, then PATH) and the optional ones."""
    home = os.environ.get("JAVA_HOME")
    found: dict[str, str] = {}
    for tool in ("javac", "jar", "java"):
        cand = Path(home, "bin", tool) if home else None
        path = str(cand) if cand is not None and cand.is_file() else shutil.which(tool)
        if path is None:
            raise CorpusError(f"{tool} not found: install a JDK 17 or set JAVA_HOME")
        found[tool] = path
    return Tools(found["javac"], found["jar"], found["java"], ecj_jar, shutil.which("zip"))


def clean_env(**extra: str) -> dict[str, str]:
    """A small fixed environment for builds, so that only the variation under test changes."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/root"),
           "LC_ALL": "C.UTF-8", "TZ": "UTC"}
    if "JAVA_HOME" in os.environ:
        env["JAVA_HOME"] = os.environ["JAVA_HOME"]
    env.update(extra)
    return env


def set_tree_mtime(root: Path, when: int = EPOCH) -> None:
    """Give every file and directory of a tree the same modification time."""
    for path in [*root.rglob("*"), root]:
        os.utime(path, (when, when), follow_symlinks=False)


def unpack_sources(sdist: Path, dest: Path, prefix: str) -> list[Path]:
    """Extract the ``.java`` files under ``prefix`` of an sdist into ``dest``; returns them sorted."""
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    with tarfile.open(sdist, "r:*") as tf:
        for member in tf:
            parts = member.name.split("/", 1)
            if len(parts) < 2 or not member.isfile() or not parts[1].startswith(prefix):
                continue
            if not member.name.endswith(".java") or ".." in Path(parts[1]).parts:
                continue
            target = dest / parts[1][len(prefix):].lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            fh = tf.extractfile(member)
            if fh is not None:
                target.write_bytes(fh.read())
    sources = sorted(dest.rglob("*.java"))
    if not sources:
        raise CorpusError(f"no Java sources under {prefix} in {sdist.name}")
    set_tree_mtime(dest)
    return sources


def compile_sources(tools: Tools, sources: Sequence[Path], out: Path, compiler: str, release: int) -> Path:
    """Compile with javac or ecj into ``out`` (fresh); file times are then fixed to :data:`EPOCH`."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    args = [str(s) for s in sources]
    if compiler == "javac":
        cmd = [tools.javac, "--release", str(release), "-encoding", "UTF-8", "-nowarn", "-d", str(out), *args]
    elif compiler == "ecj":
        if tools.ecj_jar is None:
            raise CorpusError("ecj is not available")
        cmd = [tools.java, "-cp", str(tools.ecj_jar), "org.eclipse.jdt.internal.compiler.batch.Main", "-proc:none",
               "--release", str(release), "-encoding", "UTF-8", "-nowarn", "-d", str(out), *args]
    else:
        raise CorpusError(f"unknown compiler {compiler}")
    run(cmd, env=clean_env())
    set_tree_mtime(out)
    return out


BASE_MANIFEST = ("Manifest-Version: 1.0\nImplementation-Title: org.jpype\nImplementation-Version: 1.5.0\n"
                 "Implementation-Vendor: JPype\n")
POM_PROPERTIES = "artifactId=jpype\ngroupId=org.jpype\nversion=1.5.0\n"


def tree_files(root: Path) -> list[tuple[str, bytes]]:
    """The files of a tree as (zip name, bytes), in byte order of names."""
    items = [(p.relative_to(root).as_posix(), p.read_bytes()) for p in root.rglob("*") if p.is_file()]
    return sorted(items, key=lambda kv: kv[0].encode())


def write_zip(dest: Path, files: Sequence[tuple[str, bytes]], when: tuple[int, int, int, int, int, int],
              mode: int = 0o644, compression: int = zipfile.ZIP_DEFLATED) -> Path:
    """Write the given entries, in the given order, with Python's zipfile (one timestamp and mode for all)."""
    with zipfile.ZipFile(dest, "w", compression) as zf:
        for name, data in files:
            info = zipfile.ZipInfo(name, date_time=when)
            info.compress_type = compression
            info.external_attr = (0o100000 | mode) << 16
            info.create_system = 3
            zf.writestr(info, data)
    return dest


def stage(classes: Path, work: Path, manifest: str = BASE_MANIFEST, pom: str = POM_PROPERTIES,
          extra: Sequence[tuple[str, bytes]] = ()) -> Path:
    """A staging tree: the classes, META-INF/maven/org.jpype/jpype/pom.properties and extra files.
    The manifest is written beside it (``<work>.MF``) for the jar tool."""
    if work.exists():
        shutil.rmtree(work)
    shutil.copytree(classes, work)
    props = work / "META-INF" / "maven" / "org.jpype" / "jpype" / "pom.properties"
    props.parent.mkdir(parents=True, exist_ok=True)
    props.write_text(pom, encoding="utf-8")
    for name, data in extra:
        target = work / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    work.with_suffix(".MF").write_text(manifest, encoding="utf-8")
    set_tree_mtime(work)
    return work


def jar_tool(tools: Tools, tree: Path, dest: Path, env: dict[str, str]) -> Path:
    """Package a staging tree with the JDK's ``jar``; ``--date`` fixes every entry time (without it the manifest
    the tool writes gets the current time, and the others their mtimes in local time)."""
    dest.unlink(missing_ok=True)
    cmd = [tools.jar, "--create", "--file", str(dest), "--manifest", str(tree.with_suffix(".MF")),
           "--date=2023-11-14T22:13:20Z"]
    run([*cmd, "-C", str(tree), "."], env=env)
    return dest


def zip_tree_files(tree: Path) -> list[tuple[str, bytes]]:
    """The entries a JAR of ``tree`` holds, manifest first, as the jar tool would write them."""
    mf = tree.with_suffix(".MF").read_bytes()
    return [("META-INF/MANIFEST.MF", mf), *[kv for kv in tree_files(tree) if kv[0] != "META-INF/MANIFEST.MF"]]


SBOM_TEMPLATE = {
    "bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,
    "metadata": {
        "component": {"type": "library", "bom-ref": "pkg:maven/org.jpype/jpype@1.5.0?type=jar", "group": "org.jpype",
                      "name": "jpype", "version": "1.5.0", "purl": "pkg:maven/org.jpype/jpype@1.5.0?type=jar"},
    },
    "components": [], "dependencies": [{"ref": "pkg:maven/org.jpype/jpype@1.5.0?type=jar", "dependsOn": []}],
}


def sbom(serial: str, timestamp: str, tool_version: str) -> bytes:
    """A CycloneDX SBOM of the library, as cyclonedx-maven-plugin writes it, with the given build noise."""
    doc = json.loads(json.dumps(SBOM_TEMPLATE))
    doc["serialNumber"] = f"urn:uuid:{serial}"
    doc["metadata"]["timestamp"] = timestamp
    doc["metadata"]["tools"] = {"components": [{"type": "application", "group": "org.cyclonedx",
                                                "name": "cyclonedx-maven-plugin", "version": tool_version}]}
    return json.dumps(doc, indent=2).encode() + b"\n"


@dataclasses.dataclass(frozen=True)
class SelfPair:
    """A self-rebuild pair: ids, the one variation, and how each side was built."""

    id: str
    variation: str
    reference_build: str
    rebuild_build: str


def build_self_pairs(tools: Tools, sdist: Path, pin: dict[str, Any], work: Path, out: Path,
                     log: Callable[[str], None]) -> list[dict[str, Any]]:
    """Compile the org.jpype sources and package them in pairs differing by one variation each."""
    src = unpack_sources(sdist, work / "src", "native/java/")
    log(f"self-rebuild: {len(src)} Java sources from {pin['file']}")
    j8 = compile_sources(tools, src, work / "classes-javac-8", "javac", 8)
    j17 = compile_sources(tools, src, work / "classes-javac-17", "javac", 17)
    e8 = compile_sources(tools, src, work / "classes-ecj-8", "ecj", 8) if tools.ecj_jar else None
    base = stage(j8, work / "stage-base")
    day = (2023, 11, 14, 22, 13, 20)
    entries = zip_tree_files(base)
    pairs: list[tuple[SelfPair, Callable[[Path], Path], Callable[[Path], Path]]] = []

    def add(pair: SelfPair, ref: Callable[[Path], Path], reb: Callable[[Path], Path]) -> None:
        pairs.append((pair, ref, reb))

    env = clean_env()
    add(SelfPair("self-control", "none (the same build twice)", "javac 8 + jar --date", "javac 8 + jar --date"),
        lambda d: jar_tool(tools, base, d, env), lambda d: jar_tool(tools, base, d, env))
    add(SelfPair("self-packaging-tool", "packaging tool: JDK jar vs Python zipfile", "jar --date",
                 "zipfile, same entries and manifest bytes, same time"),
        lambda d: jar_tool(tools, base, d, env), lambda d: write_zip(d, entries, day))
    shuffled = entries[:1] + random.Random(7).sample(entries[1:], len(entries) - 1)
    add(SelfPair("self-zip-order-times", "entry order and entry times", "zipfile, sorted, 2023-11-14 22:13:20",
                 "zipfile, shuffled order, 2025-06-30 08:00:00"),
        lambda d: write_zip(d, entries, day), lambda d: write_zip(d, shuffled, (2025, 6, 30, 8, 0, 0)))
    add(SelfPair("self-tz", "time zone (TZ=UTC vs TZ=Asia/Kolkata) when zipping files from disk: DOS times are "
                 "local times", "zipfile from disk, TZ=UTC", "zipfile from disk, TZ=Asia/Kolkata"),
        lambda d: _zip_from_disk(base, work / "tz-a", d, 0o022, tz="UTC"),
        lambda d: _zip_from_disk(base, work / "tz-b", d, 0o022, tz="Asia/Kolkata"))
    add(SelfPair("self-locale", "locale (LC_ALL=C vs LC_ALL=C.UTF-8, LANG=de_DE.UTF-8) of compile and jar",
                 "javac 8 + jar, LC_ALL=C", "javac 8 + jar, LC_ALL=C.UTF-8 LANG=de_DE.UTF-8"),
        lambda d: _locale_build(tools, src, work / "locale-a", d, clean_env(LC_ALL="C")),
        lambda d: _locale_build(tools, src, work / "locale-b", d,
                                clean_env(LC_ALL="C.UTF-8", LANG="de_DE.UTF-8")))
    add(SelfPair("self-umask", "umask of the checkout (022 vs 077), zipped from disk with zipfile",
                 "files 0644 (umask 022)", "files 0600 (umask 077)"),
        lambda d: _zip_from_disk(base, work / "umask-a", d, 0o022),
        lambda d: _zip_from_disk(base, work / "umask-b", d, 0o077))
    if tools.zip and hasattr(os, "geteuid") and os.geteuid() == 0:
        add(SelfPair("self-user", "build user (files owned by uid 0 vs 65534), zipped with Info-ZIP zip",
                     "zip -r, owner 0:0", "zip -r, owner 65534:65534"),
            lambda d: _infozip(tools, base, work / "user-a", d, 0),
            lambda d: _infozip(tools, base, work / "user-b", d, 65534))
    else:
        log("self-rebuild: skipping self-user (needs Info-ZIP zip and root to chown)")
    noisy = (BASE_MANIFEST + "Built-By: alice\nBuild-Jdk-Spec: 17\nCreated-By: Apache Maven 3.9.6\n"
             "Bnd-LastModified: 1700000000000\n")
    noisy2 = (BASE_MANIFEST + "Built-By: bob\nBuild-Jdk-Spec: 21\nCreated-By: Apache Maven 3.8.1\n"
              "Bnd-LastModified: 1751270400000\n")
    add(SelfPair("self-manifest-noise", "manifest build metadata (Built-By, Build-Jdk-Spec, Created-By, "
                 "Bnd-LastModified)", "Built-By alice, JDK 17, Maven 3.9.6", "Built-By bob, JDK 21, Maven 3.8.1"),
        lambda d: write_zip(d, _with(entries, "META-INF/MANIFEST.MF", noisy.encode()), day),
        lambda d: write_zip(d, _with(entries, "META-INF/MANIFEST.MF", noisy2.encode()), day))
    props_a = "#Generated by Maven\n#Tue Nov 14 22:13:20 UTC 2023\n" + POM_PROPERTIES
    props_b = "#Created by Apache Maven 3.8.1\n#Mon Jun 30 08:00:00 CEST 2025\nversion=1.5.0\ngroupId=org.jpype\n" \
              "artifactId=jpype\n"
    pom_name = "META-INF/maven/org.jpype/jpype/pom.properties"
    add(SelfPair("self-properties-noise", "pom.properties comments (tool, date) and key order",
                 "Maven date comment 2023", "other tool comment, 2025 date, keys reordered"),
        lambda d: write_zip(d, _with(entries, pom_name, props_a.encode()), day),
        lambda d: write_zip(d, _with(entries, pom_name, props_b.encode()), day))
    sbom_name = "META-INF/sbom/jpype-1.5.0.cyclonedx.json"
    add(SelfPair("self-sbom-noise", "CycloneDX SBOM serialNumber, timestamp and tool version",
                 "SBOM serial 1, 2023 timestamp, plugin 2.7.9", "SBOM serial 2, 2025 timestamp, plugin 2.9.1"),
        lambda d: write_zip(d, [*entries, (sbom_name, sbom("3e671687-395b-41f5-a30f-a58921a69b79",
                                                          "2023-11-14T22:13:20Z", "2.7.9"))], day),
        lambda d: write_zip(d, [*entries, (sbom_name, sbom("9b6a5f1c-2d1e-4c1b-8f51-1b4a4c3e2f10",
                                                          "2025-06-30T08:00:00Z", "2.9.1"))], day))
    if e8 is not None:
        ecj_tree = stage(e8, work / "stage-ecj")
        add(SelfPair("self-compiler", "compiler: javac 17 vs Eclipse ecj 3.32, both --release 8",
                     "javac --release 8", "ecj --release 8"),
            lambda d: write_zip(d, entries, day), lambda d: write_zip(d, zip_tree_files(ecj_tree), day))
    else:
        log("self-rebuild: skipping self-compiler (no ecj)")
    tree17 = stage(j17, work / "stage-17")
    add(SelfPair("self-release", "target: javac --release 8 vs --release 17", "javac --release 8",
                 "javac --release 17"),
        lambda d: write_zip(d, entries, day), lambda d: write_zip(d, zip_tree_files(tree17), day))

    records = []
    for pair, make_ref, make_reb in pairs:
        folder = out / pair.id
        folder.mkdir(parents=True, exist_ok=True)
        ref, reb = make_ref(folder / "reference.jar"), make_reb(folder / "rebuild.jar")
        source = {"registry": "pypi", "package": pin["name"], "version": pin["version"], "file": pin["file"],
                  "path": "native/java/"}
        records.append({
            "id": pair.id, "kind": "self-rebuild", "variation": pair.variation,
            "reference": {**_side(ref, out), "source": source, "build": pair.reference_build},
            "rebuild": {**_side(reb, out), "source": source, "build": pair.rebuild_build},
        })
    return records


def _with(entries: Sequence[tuple[str, bytes]], name: str, data: bytes) -> list[tuple[str, bytes]]:
    return [(n, data if n == name else d) for n, d in entries]


def _locale_build(tools: Tools, src: Sequence[Path], work: Path, dest: Path, env: dict[str, str]) -> Path:
    classes = work / "classes"
    if classes.exists():
        shutil.rmtree(classes)
    classes.mkdir(parents=True)
    run([tools.javac, "--release", "8", "-encoding", "UTF-8", "-nowarn", "-d", str(classes), *map(str, src)], env=env)
    set_tree_mtime(classes)
    tree = stage(classes, work / "stage")
    return jar_tool(tools, tree, dest, env)


def _copy_with_umask(tree: Path, work: Path, umask: int) -> Path:
    if work.exists():
        shutil.rmtree(work)
    old = os.umask(umask)
    try:
        work.mkdir(parents=True)
        for rel, data in zip_tree_files(tree):
            target = work / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            with target.open("wb") as fh:
                fh.write(data)
    finally:
        os.umask(old)
    set_tree_mtime(work)
    return work


def _zip_from_disk(tree: Path, work: Path, dest: Path, umask: int, tz: str = "UTC") -> Path:
    """Zip a copy of ``tree`` made under ``umask`` with ``ZipFile.write`` (modes and mtimes from disk; the DOS
    times are the mtimes in the local time of ``tz``)."""
    copy = _copy_with_umask(tree, work, umask)
    dest.unlink(missing_ok=True)
    old_tz = os.environ.get("TZ")
    os.environ["TZ"] = tz
    time.tzset()
    try:
        with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zf:
            for rel, _ in zip_tree_files(tree):
                zf.write(copy / rel, rel)
    finally:
        if old_tz is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = old_tz
        time.tzset()
    return dest


def _infozip(tools: Tools, tree: Path, work: Path, dest: Path, uid: int) -> Path:
    copy = _copy_with_umask(tree, work, 0o022)
    for path in [copy, *copy.rglob("*")]:
        os.chown(path, uid, uid, follow_symlinks=False)
    dest.unlink(missing_ok=True)
    names = [rel for rel, _ in zip_tree_files(tree)]
    assert tools.zip is not None
    run([tools.zip, "-q", str(dest.resolve()), *names], cwd=copy, env=clean_env())
    return dest


def _side(path: Path, out: Path) -> dict[str, Any]:
    return {"corpus_path": path.relative_to(out).as_posix(), "size": path.stat().st_size,
            "sha256": sha256_file(path)}


# ------------------------------------------------------------------------------------------ cross pairs
def build_cross_pairs(pins: dict[str, Any], cache: Path, out: Path,
                      log: Callable[[str], None]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Download, identify and pair the pinned Debian packages with the JARs of the pinned PyPI distribution."""
    rebuilds: list[Located] = []
    for pin in pins.get("debian", []):
        root = extract_deb(fetch_deb(pin, cache), cache)
        rebuilds.extend(debian_jars(root, pin))
    log(f"cross: {len(rebuilds)} Debian JARs, {sum(1 for r in rebuilds if r.gav)} with a coordinate")
    wanted = {r.gav for r in rebuilds if r.gav is not None}
    # Also keep references with the same group:artifact, to report version mismatches.
    wanted_ga = {(g.group, g.artifact) for g in wanted}
    references: list[Located] = []
    read = 0
    for pin in pins.get("pypi", []):
        if "reference" not in pin.get("role", ""):
            continue
        found, total = sdist_jars(fetch_pypi(pin, cache), pin, lambda g: (g.group, g.artifact) in wanted_ga,
                                  {r.bsn for r in rebuilds if r.bsn})
        references.extend(found)
        read += total
    pairs = match_pairs(references, rebuilds)
    pairs += match_by_manifest(references, rebuilds, {ref.gav for ref, _ in pairs if ref.gav})
    pairs.sort(key=lambda p: str(p[0].gav))
    matched = {ref.gav for ref, _ in pairs}
    near = sorted({f"{ref.gav} (Debian has {', '.join(sorted(str(r.gav.version) for r in rebuilds if r.gav and (r.gav.group, r.gav.artifact) == (ref.gav.group, ref.gav.artifact)))})"  # noqa: E501
                   for ref in references if ref.gav and ref.gav not in matched})
    unidentified = sorted(f"{r.origin['package']}:{r.origin['path']} ({r.gav_source})" for r in rebuilds
                          if r.gav is None)
    unidentified += sorted(f"pypi:{r.origin['path']} ({r.gav_source}, Bundle-SymbolicName {r.bsn})"
                           for r in references if r.gav is None and all(p[0].origin != r.origin for p in pairs))
    log(f"cross: read {read} PyPI JARs, {len(pairs)} pairs by group:artifact:version")
    records = []
    for ref, reb in pairs:
        assert ref.gav is not None
        pid = pair_id("cross", ref.gav)
        folder = out / pid
        folder.mkdir(parents=True, exist_ok=True)
        assert ref.data is not None and reb.file is not None
        (folder / "reference.jar").write_bytes(ref.data)
        shutil.copyfile(reb.file, folder / "rebuild.jar")
        records.append({
            "id": pid, "kind": "cross-builder", "gav": str(ref.gav),
            "reference": {**ref.origin, "gav_source": ref.gav_source, "manifest_version": ref.manifest_version,
                          "corpus_path": f"{pid}/reference.jar", "size": ref.size, "sha256": ref.sha256},
            "rebuild": {**reb.origin, "gav_source": reb.gav_source, "manifest_version": reb.manifest_version,
                        "corpus_path": f"{pid}/rebuild.jar", "size": reb.size, "sha256": reb.sha256},
        })
    report = {"pypi_jars_read": read, "debian_jars": len(rebuilds), "pairs": len(pairs),
              "version_mismatches": near, "unidentified": unidentified}
    return records, report


# ------------------------------------------------------------------------------------------ manifest
def load_labels(path: Path) -> dict[str, Any]:
    """The hand-verified labels, keyed by pair id (empty when the file does not exist)."""
    if not path.is_file():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return {k: v for k, v in data.items() if not k.startswith("_")}


def write_manifest(path: Path, pairs: list[dict[str, Any]], labels: dict[str, Any], pins_path: Path,
                   report: dict[str, Any]) -> dict[str, Any]:
    """Write the manifest: every pair with its origins, sizes, digests and label (``null`` = not labelled)."""
    for pair in pairs:
        pair["label"] = labels.get(pair["id"])
    manifest = {"schema_version": MANIFEST_SCHEMA, "pins": pins_path.name,
                "jdk": _jdk_version(), "cross_builder_report": report, "pairs": pairs}
    path.write_text(json.dumps(manifest, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    return manifest


def _jdk_version() -> str:
    try:
        proc = subprocess.run(["javac", "-version"], capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return (proc.stdout or proc.stderr).strip()


def draft(out: Path, pairs: Sequence[dict[str, Any]], log: Callable[[str], None]) -> None:
    """Print what canonjar finds on each pair (verdict, categories, root causes), to help write labels."""
    if str(HERE.parent) not in sys.path:
        sys.path.insert(0, str(HERE.parent))  # the repository's canonjar, when it is not installed
    try:
        import canonjar
    except ImportError:
        log("draft: canonjar is not importable")
        return
    for pair in pairs:
        ref, reb = out / pair["reference"]["corpus_path"], out / pair["rebuild"]["corpus_path"]
        for mode, enable in (("default", ()), ("all", ("all",))):
            t0 = time.perf_counter()
            o = canonjar.compare_files(ref, reb, stabilizers=canonjar.select_stabilizers(enable=enable))
            cats = sorted({d.category for d in o.differences})
            causes = sorted({d.root_cause for d in o.differences})
            log(f"{pair['id']:40s} {mode:7s} {o.verdict.value:10s} diffs={len(o.differences):4d} "
                f"findings={len(o.findings)} cats={cats} causes={causes} ({time.perf_counter() - t0:.1f}s)")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", type=Path, default=HERE / "cache", help="download cache (default datasets/cache)")
    parser.add_argument("--out", type=Path, default=HERE / "corpus", help="corpus folder (default datasets/corpus)")
    parser.add_argument("--pins", type=Path, default=DEFAULT_PINS)
    parser.add_argument("--labels", type=Path, default=DEFAULT_LABELS)
    parser.add_argument("--manifest", type=Path, default=DEFAULT_MANIFEST)
    parser.add_argument("--skip-cross", action="store_true", help="do not build the cross-builder pairs")
    parser.add_argument("--skip-self", action="store_true", help="do not build the self-rebuild pairs")
    parser.add_argument("--draft-labels", action="store_true", help="print canonjar's view of every pair")
    args = parser.parse_args(argv)
    t_start = time.perf_counter()

    def log(msg: str) -> None:
        print(f"[{time.perf_counter() - t_start:7.1f}s] {msg}", flush=True)

    try:
        pins = load_pins(args.pins)
        args.cache.mkdir(parents=True, exist_ok=True)
        args.out.mkdir(parents=True, exist_ok=True)
        cache, out = args.cache.resolve(), args.out.resolve()
        pairs: list[dict[str, Any]] = []
        report: dict[str, Any] = {}
        if not args.skip_cross:
            cross, report = build_cross_pairs(pins, cache, out, log)
            pairs.extend(cross)
        if not args.skip_self:
            src_pin = next((p for p in pins.get("pypi", []) if "self-rebuild" in p.get("role", "")), None)
            if src_pin is None:
                raise CorpusError("no self-rebuild source in the pins")
            ecj = None
            for tool in pins.get("tools", []):
                root = extract_deb(fetch_deb(tool, cache), cache)
                ecj = root / tool["jar"]
            tools = find_tools(ecj if ecj is not None and ecj.is_file() else None)
            pairs.extend(build_self_pairs(tools, fetch_pypi(src_pin, cache), src_pin, cache / "work", out, log))
        manifest = write_manifest(args.manifest, pairs, load_labels(args.labels), args.pins, report)
        unlabelled = [p["id"] for p in manifest["pairs"] if p["label"] is None]
        log(f"wrote {args.manifest} with {len(pairs)} pairs ({len(unlabelled)} without label: {unlabelled})")
        if args.draft_labels:
            draft(out, pairs, log)
    except CorpusError as exc:
        print(f"build_corpus: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
