"""Hostile-input builders and a sandboxed runner for the real command line (shared by the hardening tests).

:func:`run_cli` runs ``canonjar.cli.main`` (the function behind the ``canonjar`` console script and
``python -m canonjar``) in a forked child process with an address-space limit, a wall-clock timeout, its own
stdout/stderr files, an empty working directory and a private ``TMPDIR``, so a test can check exit code,
output, memory and time bounds, and which files appeared where. :func:`run_subprocess` does the same through a
fresh ``python -m canonjar`` process, for the cases where the whole interpreter start matters.

The archive builders edit the bytes of real JARs with a tiny independent zip packer (never canonjar's own
reader or writer), so a reader bug cannot hide in a fixture.
"""

from __future__ import annotations

import functools
import io
import os
import resource
import signal
import struct
import subprocess
import sys
import time
import traceback
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import canonjar.cli  # imported here so that forked children start with it loaded
from canonjar.pipeline import all_stabilizers

__all__ = [
    "AS_LIMIT",
    "CliResult",
    "Raw",
    "files_under",
    "pack",
    "real_small_jar",
    "run_cli",
    "run_subprocess",
    "stored_zip",
]

#: Address-space limit of every child: a bomb that is not refused by the limits runs out of memory here.
AS_LIMIT = 1024 * 1024 * 1024
LOC = struct.Struct("<4sHHHHHIIIHH")
CEN = struct.Struct("<4sHHHHHHIIIHHHHHII")
EOCD = struct.Struct("<4sHHHHIIH")
Z64_EOCD = struct.Struct("<4sQHHIIQQQQ")
Z64_LOC = struct.Struct("<4sIQI")


@dataclass
class CliResult:
    """What one run of the command line did."""

    code: int
    stdout: str
    stderr: str
    seconds: float


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (AS_LIMIT, AS_LIMIT))


def _child(argv: Sequence[str], cwd: Path, out: Path, err: Path, tmpdir: Path) -> None:  # pragma: no cover - child
    code = 99
    try:
        _limit_memory()
        os.chdir(cwd)
        os.environ["TMPDIR"] = str(tmpdir)
        os.environ.pop("CANONJAR_DEBUG", None)
        import tempfile

        tempfile.tempdir = None
        fo = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        fe = os.open(err, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(fo, 1)
        os.dup2(fe, 2)
        sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), encoding="utf-8", write_through=True)
        sys.stderr = io.TextIOWrapper(io.FileIO(2, "w", closefd=False), encoding="utf-8", write_through=True)
        code = canonjar.cli.main(list(argv))
    except BaseException:  # anything escaping main() is a contract violation: show it to the test
        traceback.print_exc()
        code = 99
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def run_cli(argv: Sequence[str], cwd: Path, timeout: float = 60.0) -> CliResult:
    """Run the command line ``canonjar ARGV`` in a forked, memory-limited child; kill it after ``timeout``.

    ``cwd`` is the child's working directory; its ``TMPDIR`` is ``cwd/.tmp`` (created here, empty), so a test
    sees every temporary file too. A timeout is reported as exit code -9.
    """
    all_stabilizers()  # discover plugins once, in the parent (cached), not in every child
    tmpdir = cwd / ".tmp"
    tmpdir.mkdir(exist_ok=True)
    io_dir = cwd.parent / f".io-{cwd.name}"
    io_dir.mkdir(exist_ok=True)
    out, err = io_dir / "stdout", io_dir / "stderr"
    sys.stdout.flush()
    sys.stderr.flush()
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        _child(argv, cwd, out, err, tmpdir)
    code = -9
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            code = os.waitstatus_to_exitcode(status)
            break
        if time.monotonic() - start > timeout:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            break
        time.sleep(0.005)
    seconds = time.monotonic() - start
    return CliResult(code, out.read_text(errors="replace"), err.read_text(errors="replace"), seconds)


def run_subprocess(argv: Sequence[str], cwd: Path, timeout: float = 60.0) -> CliResult:
    """Run ``python -m canonjar ARGV`` as a new process with the same memory limit and a timeout."""
    env = dict(os.environ)
    env.pop("CANONJAR_DEBUG", None)
    env["TMPDIR"] = str(cwd / ".tmp")
    (cwd / ".tmp").mkdir(exist_ok=True)
    root = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    start = time.monotonic()
    try:
        res = subprocess.run([sys.executable, "-m", "canonjar", *argv], cwd=cwd, env=env, capture_output=True,
                             text=True, timeout=timeout, preexec_fn=_limit_memory, check=False)
    except subprocess.TimeoutExpired as exc:
        return CliResult(-9, str(exc.stdout or ""), str(exc.stderr or ""), time.monotonic() - start)
    return CliResult(res.returncode, res.stdout, res.stderr, time.monotonic() - start)


def files_under(root: Path) -> dict[str, str]:
    """Every path under ``root`` (relative) with its kind: ``file``, ``dir`` or ``symlink``."""
    found: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        for name in [*dirnames, *filenames]:
            p = Path(dirpath) / name
            kind = "symlink" if p.is_symlink() else "dir" if p.is_dir() else "file"
            found[str(p.relative_to(root))] = kind
    return found


# ------------------------------------------------------------------------------------------- raw zip packing


@dataclass
class Raw:
    """One entry for :func:`pack`: every header field under the test's control."""

    name: bytes
    data: bytes  # the stored (possibly compressed) bytes
    usize: int | None = None  # declared uncompressed size (default: len(data))
    crc: int | None = None  # declared CRC (default: CRC of data)
    method: int = 0
    flags: int = 0
    mode: int = 0o100644
    local_name: bytes | None = None
    local_crc: int | None = None  # a CRC in the local header that differs from the central one
    #: Central header points at the local header of this earlier entry (index) instead of its own.
    share_with: int | None = None


def deflate(data: bytes, level: int = 9) -> bytes:
    c = zlib.compressobj(level, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


@functools.cache
def deflated_zeros(n: int) -> bytes:
    """A raw deflate stream of ``n`` zero bytes, built in 1 MiB steps (no n-byte buffer)."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk = bytes(1024 * 1024)
    parts = []
    left = n
    while left > 0:
        step = min(left, len(chunk))
        parts.append(c.compress(chunk[:step]))
        left -= step
    parts.append(c.flush())
    return b"".join(parts)


@functools.cache
def zeros_crc(n: int) -> int:
    crc = 0
    chunk = bytes(1024 * 1024)
    left = n
    while left > 0:
        step = min(left, len(chunk))
        crc = zlib.crc32(chunk[:step], crc)
        left -= step
    return crc


def pack(entries: Iterable[Raw], count: int | None = None, prefix: bytes = b"", comment: bytes = b"",
         zip64_count: int | None = None) -> bytes:
    """A plain zip of ``entries`` exactly as described (offsets relative to the start of the zip).

    ``count`` is the entry count the end record declares; ``zip64_count`` adds zip64 end records declaring
    that many entries (and the end record then says 0xFFFF)."""
    body = bytearray()
    central = bytearray()
    offsets: list[int] = []
    items = list(entries)
    for e in items:
        usize = len(e.data) if e.usize is None else e.usize
        crc = zlib.crc32(e.data) if e.crc is None else e.crc
        if e.share_with is not None:
            off = offsets[e.share_with]
        else:
            off = len(body)
            lname = e.name if e.local_name is None else e.local_name
            lcrc = crc if e.local_crc is None else e.local_crc
            body += LOC.pack(b"PK\x03\x04", 20, e.flags, e.method, 0, 0x5021, lcrc, len(e.data), usize,
                             len(lname), 0) + lname + e.data
        offsets.append(off)
        central += CEN.pack(b"PK\x01\x02", 0x0314, 20, e.flags, e.method, 0, 0x5021, crc, len(e.data), usize,
                            len(e.name), 0, 0, 0, 0, e.mode << 16, off) + e.name
    n = len(items) if count is None else count
    z64 = b""
    if zip64_count is not None:
        z64_at = len(body) + len(central)
        z64 = (Z64_EOCD.pack(b"PK\x06\x06", 44, 45, 45, 0, 0, zip64_count, zip64_count, len(central), len(body))
               + Z64_LOC.pack(b"PK\x06\x07", 0, z64_at, 1))
        n = 0xFFFF
    tail = EOCD.pack(b"PK\x05\x06", 0, 0, n, n, len(central), len(body), len(comment)) + comment
    return prefix + bytes(body) + bytes(central) + z64 + tail


def stored_zip(files: dict[str, bytes], deflated: bool = True) -> bytes:
    """A simple zip of ``files`` (deflated unless ``deflated`` is False)."""
    return pack(Raw(n.encode(), deflate(d) if deflated else d, usize=len(d), crc=zlib.crc32(d),
                    method=8 if deflated else 0) for n, d in files.items())


def real_small_jar() -> Path | None:
    """A small real library JAR from the distribution (a plain zip without prefix), or None."""
    for name in ("commons-cli.jar", "aopalliance.jar", "atinject-jsr330-api.jar", "commons-io.jar"):
        p = Path("/usr/share/java") / name
        if p.exists():
            return p.resolve()
    return None


_COMPILER = """import java.nio.file.*;
import java.util.*;
import javax.tools.*;

public class CompileVariants {
    public static void main(String[] args) throws Exception {
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        int failed = 0;
        for (String line : Files.readAllLines(Paths.get(args[0]))) {
            if (line.isEmpty()) continue;
            List<String> argv = Arrays.asList(line.split("\\t"));
            failed += javac.run(null, null, null, argv.toArray(new String[0])) == 0 ? 0 : 1;
        }
        System.exit(failed);
    }
}
"""


def compile_variants(root: Path, variants: dict[str, dict[str, str]], options: Sequence[str] = ()) -> dict[str, Path]:
    """Compile each variant (relative source path -> Java source) into ``root/<variant>/classes``, for Java 11.

    All variants are compiled by one JVM (the JDK compiler API driven by a small source-file program), which is
    several times cheaper than one ``javac`` process per variant. Returns the classes directory of each variant.
    Requires a JDK 11 or later (``java`` with the compiler module)."""
    from tests.helpers import run_java

    lines: list[str] = []
    out: dict[str, Path] = {}
    for name, sources in variants.items():
        src = root / name / "src"
        paths = []
        for rel, text in sources.items():
            p = src / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(text)
            paths.append(str(p))
        out[name] = root / name / "classes"
        lines.append("\t".join(["--release", "11", *options, "-d", str(out[name]), *paths]))
    driver = root / "CompileVariants.java"
    driver.write_text(_COMPILER)
    argfile = root / "variants.txt"
    argfile.write_text("\n".join(lines) + "\n")
    res = run_java([str(driver), str(argfile)], timeout=300)
    assert res.returncode == 0, f"compilation failed: {res.stdout}{res.stderr}"
    return out
