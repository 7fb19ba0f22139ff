"""Shared helpers for the tests: build real JARs in memory and find the JDK."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Item", "StreamSink", "java_home", "jdk_tool", "make_zip", "real_jars", "run_java"]


@dataclass
class Item:
    """One entry to write with :func:`make_zip`."""

    name: str
    data: bytes = b""
    date_time: tuple[int, int, int, int, int, int] = (2020, 1, 2, 3, 4, 6)
    mode: int | None = 0o644  # unix permission bits (file type added automatically); None: no unix mode
    method: int = zipfile.ZIP_DEFLATED
    level: int | None = None
    extra: bytes = b""
    comment: bytes = b""


class StreamSink(io.RawIOBase):
    """A write-only, non-seekable stream: zipfile then writes data descriptors (flag bit 3)."""

    def __init__(self) -> None:
        self.buf = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, b: bytes) -> int:  # type: ignore[override]
        self.buf += b
        return len(b)


def make_zip(items: Iterable[Item], comment: bytes = b"", streamed: bool = False) -> bytes:
    """A zip built by Python's zipfile with exactly the given entries, in the given order.

    ``streamed`` writes to a non-seekable stream, so entries get data descriptors (flag bit 3).
    """
    sink: io.BytesIO | StreamSink = StreamSink() if streamed else io.BytesIO()
    with zipfile.ZipFile(sink, "w") as zf:  # type: ignore[arg-type]
        for it in items:
            zi = zipfile.ZipInfo(it.name, it.date_time)
            zi.compress_type = it.method
            if it.level is not None:
                # Python 3.13 names it compress_level; 3.11/3.12 read the private _compresslevel.
                attr = "compress_level" if "compress_level" in zipfile.ZipInfo.__slots__ else "_compresslevel"
                setattr(zi, attr, it.level)
            if it.mode is not None:
                ftype = 0o040000 if it.name.endswith("/") else 0o100000
                zi.external_attr = (ftype | it.mode) << 16
                if it.name.endswith("/"):
                    zi.external_attr |= 0x10
                zi.create_system = 3
            else:
                zi.create_system = 0
            zi.extra = it.extra
            zi.comment = it.comment
            if streamed:
                with zf.open(zi, "w") as fh:
                    fh.write(it.data)
            else:
                zf.writestr(zi, it.data)
        zf.comment = comment
    return bytes(sink.buf) if isinstance(sink, StreamSink) else sink.getvalue()


def java_home() -> Path | None:
    """The JDK home of the ``javac`` on PATH, or None."""
    javac = shutil.which("javac")
    if javac is None:
        return None
    return Path(os.path.realpath(javac)).parent.parent


def jdk_tool(name: str) -> str | None:
    home = java_home()
    if home is not None and (home / "bin" / name).exists():
        return str(home / "bin" / name)
    return shutil.which(name)


def run_java(args: Sequence[str], cwd: Path | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    java = jdk_tool("java") or "java"
    return subprocess.run([java, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False)


def real_jars(limit: int | None = None) -> list[Path]:
    """Real JARs on this machine: the JDK's lib/*.jar and jmods/*.jmod and Debian's /usr/share/java."""
    found: list[Path] = []
    home = java_home()
    if home is not None:
        found += sorted((home / "lib").glob("*.jar")) + sorted((home / "jmods").glob("*.jmod"))
    debian = Path("/usr/share/java")
    if debian.is_dir():
        found += sorted(p for p in debian.glob("*.jar") if not p.is_symlink())
    return found[:limit] if limit else found
