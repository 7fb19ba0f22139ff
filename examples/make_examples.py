#!/usr/bin/env python3
"""Build the example JARs of canonjar from the tiny Java program in examples/src/.

    python examples/make_examples.py

Needs ``javac`` and ``jar`` on PATH (JDK 17 or later). The program is compiled once; its classes are then
packaged three times:

* ``reference.jar``: made by the JDK's ``jar`` tool, as a build would publish it.
* ``rebuild.jar``: the same classes, resource and manifest re-zipped with Python's ``zipfile``: another entry
  order, other timestamps (plus extended-timestamp extra fields), other permissions, another compression
  level (one entry stored), other directory entries. Noise only: ``canonjar compare`` says "equivalent".
* ``tampered.jar``: like ``rebuild.jar``, but ``Greeter.class`` is recompiled from a copy of its source with
  one string constant changed: ``canonjar compare`` says "different".

Every input is fixed (the ``jar --date`` timestamp comes from SOURCE_DATE_EPOCH when it is set), so running
the script again with the same JDK writes the same bytes.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SRC = HERE / "src"
MANIFEST = SRC / "META-INF" / "MANIFEST.MF"
JAVAC_FLAGS = ["--release", "11", "-encoding", "UTF-8", "-nowarn"]

#: The one change between the rebuild and the tampered JAR.
TAMPER_CLASS = "com/example/hello/Greeter"
TAMPER_FROM = '"! (from the canonjar example)"'
TAMPER_TO = '"! (from a tampered rebuild)"'

#: Default timestamp of the reference JAR when SOURCE_DATE_EPOCH is not set: 2024-01-01T00:00:00Z.
DEFAULT_EPOCH = 1704067200


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        sys.exit(f"make_examples: '{name}' is not on PATH; install a JDK (17 or later)")
    return path


def run(cmd: list[str], cwd: Path | None = None) -> None:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        sys.exit(f"make_examples: {' '.join(cmd)} failed:\n{proc.stdout}{proc.stderr}")


def compile_sources(src: Path, out: Path, classpath: Path | None = None) -> None:
    sources = sorted(str(p.relative_to(src)) for p in src.rglob("*.java"))
    cmd = [tool("javac"), *JAVAC_FLAGS, "-d", str(out)]
    if classpath is not None:
        cmd += ["-cp", str(classpath)]
    run([*cmd, *sources], cwd=src)


def copy_resources(src: Path, out: Path) -> None:
    for p in sorted(src.rglob("*")):
        rel = p.relative_to(src)
        if p.is_file() and p.suffix != ".java" and rel.parts[0] != "META-INF":
            (out / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(p, out / rel)


def files_of(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` by its archive name."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def make_reference(classes: Path, dest: Path) -> None:
    epoch = int(os.environ.get("SOURCE_DATE_EPOCH", DEFAULT_EPOCH))
    date = dt.datetime.fromtimestamp(max(epoch, 315532802), dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    dest.unlink(missing_ok=True)
    top = sorted(p.name for p in classes.iterdir())
    run([tool("jar"), "--create", "--file", str(dest), "--manifest", str(MANIFEST), f"--date={date}",
         "-C", str(classes), *top])


def extended_timestamp(when: dt.datetime) -> bytes:
    """An 0x5455 extra field carrying the modification time, as Info-ZIP writes it."""
    return struct.pack("<HHBI", 0x5455, 5, 1, int(when.timestamp()))


def make_rezip(files: dict[str, bytes], dest: Path) -> None:
    """Re-zip ``files`` with Python's zipfile: only zip metadata differs from what the jar tool writes."""
    base = dt.datetime(2025, 11, 2, 17, 45, 10, tzinfo=dt.UTC)
    # Reverse name order (manifest last), then only two of the four directory entries, at the end.
    names = sorted(files, reverse=True)
    with zipfile.ZipFile(dest, "w") as zf:
        for i, name in enumerate(names):
            when = base + dt.timedelta(minutes=i)
            zi = zipfile.ZipInfo(name, when.timetuple()[:6])
            zi.create_system = 3
            zi.external_attr = (0o100000 | (0o640 if i % 2 else 0o664)) << 16
            zi.extra = extended_timestamp(when)
            if name.endswith(".properties"):
                zi.compress_type = zipfile.ZIP_STORED
                zf.writestr(zi, files[name])
            else:
                zi.compress_type = zipfile.ZIP_DEFLATED
                zf.writestr(zi, files[name], compresslevel=9)
        for name in ("com/example/hello/", "com/example/"):
            zi = zipfile.ZipInfo(name, base.timetuple()[:6])
            zi.create_system = 3
            zi.external_attr = ((0o040000 | 0o775) << 16) | 0x10
            zf.writestr(zi, b"")


def main(argv: list[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(description="Build the example JARs of canonjar.")
    parser.add_argument("--out", type=Path, default=HERE, help="directory to write the JARs to (default: examples/)")
    out = parser.parse_args(argv).out
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="canonjar-examples-") as tmp:
        work = Path(tmp)
        classes = work / "classes"
        compile_sources(SRC, classes)
        copy_resources(SRC, classes)

        reference = out / "reference.jar"
        make_reference(classes, reference)

        # The jar tool rewrites the manifest (it adds Created-By): the rebuild carries the one it wrote.
        with zipfile.ZipFile(reference) as zf:
            manifest = zf.read("META-INF/MANIFEST.MF")
        files = {"META-INF/MANIFEST.MF": manifest, **files_of(classes)}
        make_rezip(files, out / "rebuild.jar")

        # Tampered: one class recompiled from a source with one string constant changed.
        java = SRC / (TAMPER_CLASS + ".java")
        text = java.read_text(encoding="utf-8")
        if text.count(TAMPER_FROM) != 1:
            sys.exit(f"make_examples: {java} must contain {TAMPER_FROM} exactly once")
        alt_src = work / "tampered-src"
        (alt_src / java.relative_to(SRC)).parent.mkdir(parents=True)
        (alt_src / java.relative_to(SRC)).write_text(text.replace(TAMPER_FROM, TAMPER_TO), encoding="utf-8")
        alt_classes = work / "tampered-classes"
        compile_sources(alt_src, alt_classes, classpath=classes)
        tampered = dict(files)
        tampered[TAMPER_CLASS + ".class"] = (alt_classes / (TAMPER_CLASS + ".class")).read_bytes()
        make_rezip(tampered, out / "tampered.jar")

    for name in ("reference.jar", "rebuild.jar", "tampered.jar"):
        print(f"wrote {out / name} ({(out / name).stat().st_size} bytes)")


if __name__ == "__main__":
    main()
