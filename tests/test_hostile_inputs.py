"""Hostile and malformed inputs through the real command line: never a crash, always bounded, never a stray file.

Every case runs ``canonjar compare`` (JSON report written with ``-o`` into a fresh directory) and
``canonjar canonicalize -o`` in a child process limited to 1 GiB of address space and a timeout, with an empty
working directory and private ``TMPDIR``. An unreadable input or a bomb must give exit code 2 and exactly one
line on stderr (naming the limit to raise, never "out of memory"); a readable but suspicious archive must give
verdict "different" with a finding that names it (and ``canonicalize`` must list the finding). In every case no
traceback appears, and the only files written are the ones named by ``-o``: no symlink, no path taken from an
entry name, no temporary file left behind.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import struct
import subprocess
import sys
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pytest

from canonjar import LimitExceeded, Limits
from canonjar.zipfmt import read_zip
from tests import hostile
from tests.helpers import Item, make_zip
from tests.hostile import (
    CEN,
    EOCD,
    LOC,
    CliResult,
    Raw,
    deflate,
    deflated_zeros,
    files_under,
    pack,
    real_small_jar,
    run_cli,
    run_subprocess,
    stored_zip,
    zeros_crc,
)

REAL = real_small_jar()
pytestmark = pytest.mark.skipif(REAL is None, reason="no small real library JAR (commons-cli, aopalliance...)")
MiB = 1024 * 1024
#: Wall-clock bound of one command on a hostile input (the machine may be shared and slow).
TIME_LIMIT = 20.0
MANIFEST = b"Manifest-Version: 1.0\r\nCreated-By: test\r\n\r\n"


@cache
def real_bytes() -> bytes:
    assert REAL is not None
    return REAL.read_bytes()


# ------------------------------------------------------------------------------------------ structure of the JAR


@dataclass(frozen=True)
class Layout:
    """Where the structures of a plain zip lie (found without canonjar's reader)."""

    locals: tuple[tuple[int, int, int], ...]  # (header offset, data start, data end) per entry, CD order
    cd_offset: int
    cd_size: int
    eocd: int


@cache
def layout() -> Layout:
    data = real_bytes()
    eocd = data.rfind(b"PK\x05\x06")
    _s, _d, _c, _n, total, cd_size, cd_offset, _cl = EOCD.unpack_from(data, eocd)
    assert cd_offset + cd_size == eocd, "the real JAR must be a plain zip without prefix"
    locs = []
    pos = cd_offset
    for _ in range(total):
        f = CEN.unpack_from(data, pos)
        csize, nlen, elen, clen, loff = f[8], f[10], f[11], f[12], f[16]
        lf = LOC.unpack_from(data, loff)
        start = loff + LOC.size + lf[9] + lf[10]
        locs.append((loff, start, start + csize))
        pos += CEN.size + nlen + elen + clen
    return Layout(tuple(locs), cd_offset, cd_size, eocd)


def truncation_points() -> dict[str, int]:
    """Interesting offsets to cut the real JAR at: inside a local header, its name, entry data, the central
    directory (first header, middle, last byte) and the end record."""
    if REAL is None:
        return {}
    lay = layout()
    mid = lay.locals[len(lay.locals) // 2]
    biggest = max(lay.locals, key=lambda t: t[2] - t[1])
    return {
        "first-local-header": 10,
        "first-local-name": LOC.size + 2,
        "middle-local-header": mid[0] + 7,
        "middle-entry-data": (mid[1] + mid[2]) // 2,
        "largest-entry-data": (biggest[1] + biggest[2]) // 2,
        "last-data-byte": lay.cd_offset - 1,
        "central-directory-start": lay.cd_offset + 1,
        "central-directory-middle": lay.cd_offset + lay.cd_size // 2,
        "central-directory-end": lay.eocd - 1,
        "end-record-signature": lay.eocd + 2,
        "end-record-counts": lay.eocd + 10,
        "end-record-last-byte": lay.eocd + EOCD.size - 1,
    }


def _set_eocd(data: bytes, index: int, value: int) -> bytes:
    out = bytearray(data)
    at = out.rfind(b"PK\x05\x06")
    f = list(EOCD.unpack_from(out, at))
    f[index] = value
    EOCD.pack_into(out, at, *f)
    return bytes(out)


def _set_central(data: bytes, entry: int, index: int, value: int) -> bytes:
    """Set field ``index`` (of the unpacked tuple, signature = 0) of the ``entry``-th central header."""
    out = bytearray(data)
    lay = layout()
    pos = lay.cd_offset
    for _ in range(entry):
        f = CEN.unpack_from(out, pos)
        pos += CEN.size + f[10] + f[11] + f[12]
    f2 = list(CEN.unpack_from(out, pos))
    f2[index] = value
    CEN.pack_into(out, pos, *f2)
    return bytes(out)


# ------------------------------------------------------------------------------------------ the cases


@dataclass
class Expect:
    """What one command must do. ``kind``: ``error`` (exit 2, one line containing every word), ``finding``
    (compare: exit 1 with these finding codes on the hostile side; canonicalize: exit 0 listing them),
    ``different`` (exit 1, no finding required) or ``ok`` (canonicalize: exit 0)."""

    kind: str
    words: tuple[str, ...] = ()


@dataclass
class Case:
    build: Callable[[], bytes]
    compare: Expect
    canonicalize: Expect
    args: tuple[str, ...] = ()
    #: Files that must not exist after the run (relative to the test's tmp_path): names an entry could forge.
    forbidden: tuple[str, ...] = field(default_factory=tuple)


def error(*words: str) -> Expect:
    return Expect("error", words)


def finding(*codes: str) -> Expect:
    return Expect("finding", codes)


def _manifest_entry() -> Raw:
    return Raw(b"META-INF/MANIFEST.MF", MANIFEST)


def _with(*extra: Raw, count: int | None = None) -> Callable[[], bytes]:
    return lambda: pack([_manifest_entry(), Raw(b"a/A.txt", b"hello\n"), *extra], count=count)


def _zeros_entry(name: bytes, n: int, data: bytes | None = None) -> Raw:
    return Raw(name, data if data is not None else deflated_zeros(n), usize=n, crc=zeros_crc(n), method=8)


def _small_entries_bomb() -> bytes:
    """1500 separate entries of 1 MiB of zeros each (each below the per-entry ratio floor): 1.5 GiB from ~2 MB."""
    kern = deflated_zeros(MiB)
    return pack([_manifest_entry(), *(_zeros_entry(f"z/{i:05d}.bin".encode(), MiB, kern) for i in range(1500))])


def _shared_stream_bomb() -> bytes:
    """3000 central headers sharing one local record of 1 MiB of zeros (overlapping entries): 3 GiB from 200 KB."""
    kern = deflated_zeros(MiB)
    first = _zeros_entry(b"k/00000.bin", MiB, kern)
    return pack([first, *(Raw(f"k/{i:05d}.bin".encode(), kern, usize=MiB, crc=first.crc, method=8, share_with=0)
                          for i in range(1, 3000))])


def _many_entries() -> bytes:
    return pack([Raw(f"e/{i}".encode(), b"") for i in range(20_000)])


def _nested_wide(width: int = 8, depth: int = 3, leaf: int = MiB) -> bytes:
    """A JAR of ``width`` JARs of ``width`` JARs ... whose leaves hold ``width`` entries of ``leaf`` zeros."""
    kern = deflated_zeros(leaf)
    level = pack([_zeros_entry(f"z{i}.bin".encode(), leaf, kern) for i in range(width)])
    for d in range(depth):
        level = pack([Raw(f"lib{d}/j{i}.jar".encode(), level) for i in range(width)])
    return level


def _nested_deep(depth: int = 12, payload: bytes = b"\xca\xfe\xba\xbe\x00\x00\x00\x34") -> bytes:
    level = pack([_manifest_entry(), Raw(b"evil/Payload.class", payload)])
    for d in range(depth):
        level = pack([_manifest_entry(), Raw(f"lib/level{d}.jar".encode(), level)])
    return level


def _prepended() -> bytes:
    return b"#!/bin/sh\nexec java -jar \"$0\" \"$@\"\n" + real_bytes()


def _overlapping() -> bytes:
    return pack([_manifest_entry(), Raw(b"a/Good.class", b"\xca\xfe\xba\xbe payload"),
                 Raw(b"a/Other.class", b"\xca\xfe\xba\xbe payload", share_with=1)])


def _duplicate() -> bytes:
    return pack([_manifest_entry(), Raw(b"a/A.class", b"\xca\xfe\xba\xbe first"),
                 Raw(b"a/A.class", b"\xca\xfe\xba\xbe second, different")])


def _zip64_records(count: int) -> Callable[[], bytes]:
    return lambda: pack([_manifest_entry(), Raw(b"a/A.txt", b"hello\n")], zip64_count=count)


def _zip64_offset_lies() -> bytes:
    data = bytearray(_zip64_records(2)())
    rec = data.rfind(b"PK\x06\x06")
    struct.pack_into("<Q", data, rec + 48, 0x7FFFFFFF)  # zip64 central directory offset
    return bytes(data)


def _zip64_locator_nowhere() -> bytes:
    data = bytearray(_zip64_records(2)())
    loc = data.rfind(b"PK\x06\x07")
    rec = data.rfind(b"PK\x06\x06")
    struct.pack_into("<Q", data, loc + 8, 0x7FFFFFFF00)
    data[rec:rec + 4] = b"XXXX"
    return bytes(data)


def _lying_small_declared() -> bytes:
    """Declares 1000 bytes, inflates to 40 MiB: inflation must stop at the declared size."""
    n = 40 * MiB
    return pack([_manifest_entry(), Raw(b"z.bin", deflated_zeros(n), usize=1000, crc=0, method=8)])


CASES: dict[str, Case] = {
    # ---- not a zip at all
    "empty": Case(lambda: b"", error("not a zip"), error("not a zip")),
    "text": Case(lambda: b"this is not a zip archive\n" * 20, error("not a zip"), error("not a zip")),
    "random-binary": Case(lambda: bytes((i * 7919 + 13) % 251 for i in range(5000)), error(), error()),
    "local-header-only": Case(lambda: b"PK\x03\x04" + bytes(100), error(), error()),
    # ---- wrong offsets, sizes and counts
    "cd-offset-past-end": Case(lambda: _set_eocd(real_bytes(), 6, len(real_bytes()) + 10), error(), error()),
    "cd-offset-max": Case(lambda: _set_eocd(real_bytes(), 6, 0xFFFFFFFF), error(), error()),
    "cd-size-huge": Case(lambda: _set_eocd(real_bytes(), 5, 0xFFFFFFF0), error(), error()),
    "cd-size-too-small": Case(lambda: _set_eocd(real_bytes(), 5, layout().cd_size - 9), error(), error()),
    "local-offset-wrong": Case(lambda: _set_central(real_bytes(), 3, 16, layout().locals[3][0] + 3),
                               error("no local file header"), error("no local file header")),
    "local-offset-max": Case(lambda: _set_central(real_bytes(), 3, 16, 0xFFFFFF00), error(), error()),
    "csize-past-end": Case(lambda: _set_central(real_bytes(), 1, 8, 0x7FFFFFF0), error(), error()),
    "entry-count-more": Case(_with(count=7), finding("entry-count-mismatch"), finding("entry-count-mismatch")),
    "entry-count-fewer": Case(_with(count=1), finding("entry-count-mismatch"), finding("entry-count-mismatch")),
    "entry-count-zero": Case(_with(count=0), finding("entry-count-mismatch"), finding("entry-count-mismatch")),
    # ---- zip64 records that lie
    "zip64-count-disagrees": Case(_zip64_records(5), finding("entry-count-mismatch"),
                                  finding("entry-count-mismatch")),
    "zip64-count-huge": Case(_zip64_records(2**40), error("--max-entries"), error("--max-entries")),
    "zip64-cd-offset-lies": Case(_zip64_offset_lies, error(), error()),
    "zip64-locator-nowhere": Case(_zip64_locator_nowhere, error("zip64"), error("zip64")),
    # ---- bombs
    "bomb-declared-size": Case(_with(Raw(b"z.bin", deflate(b"abc"), usize=0xFFFFFFF0, crc=zlib.crc32(b"abc"),
                                         method=8)), error("--max-entry-size"), error("--max-entry-size")),
    "bomb-ratio": Case(lambda: pack([_manifest_entry(), _zeros_entry(b"z.bin", 64 * MiB)]), error("--max-ratio"),
                       error("--max-ratio")),
    "bomb-lying-small-size": Case(_lying_small_declared, Expect("different"), error("declared size 1000")),
    "bomb-many-small-entries": Case(_small_entries_bomb, error("--max-ratio"), error("--max-ratio")),
    "bomb-shared-stream": Case(_shared_stream_bomb, error("--max-ratio"), error("--max-ratio")),
    "bomb-entry-count": Case(_many_entries, error("--max-entries"), error("--max-entries"),
                             args=("--max-entries", "5000")),
    "bomb-nested-wide": Case(_nested_wide, Expect("different"), error("--max-total-size"),
                             args=("--max-total-size", str(64 * MiB), "--max-ratio", "100000")),
    "bomb-nested-wide-ratio": Case(_nested_wide, error("--max-ratio"), error("--max-ratio")),
    "bomb-nested-deep": Case(_nested_deep, Expect("different"), Expect("ok")),
    # ---- readable but suspicious: findings
    "prepended-data": Case(_prepended, finding("prefix-data"), finding("prefix-data")),
    "appended-data": Case(lambda: real_bytes() + b"\n#appended payload\n", finding("trailing-data"),
                          finding("trailing-data")),
    "overlapping-entries": Case(_overlapping, finding("overlapping-entries"), finding("overlapping-entries")),
    "duplicate-names": Case(_duplicate, finding("duplicate-name"), finding("duplicate-name")),
    "local-central-name-mismatch": Case(_with(Raw(b"a/B.class", b"\xca\xfe", local_name=b"a/C.class")),
                                        finding("local-central-mismatch"), finding("local-central-mismatch")),
    "local-central-crc-mismatch": Case(_with(Raw(b"a/B.txt", b"text", local_crc=1)),
                                       finding("local-central-mismatch"), finding("local-central-mismatch")),
    "crc-wrong-in-both-headers": Case(
        lambda: pack([_manifest_entry(), Raw(b"a/A.txt", b"text", crc=1)]), Expect("different"), error("CRC-32")),
    "traversal-dotdot": Case(_with(Raw(b"../../evil.sh", b"#!/bin/sh\n")), finding("traversal-name"),
                             finding("traversal-name"), forbidden=("evil.sh", "../evil.sh")),
    "traversal-absolute": Case(_with(Raw(b"/tmp/canonjar-evil-absolute.sh", b"#!/bin/sh\n")),
                               finding("absolute-name"), finding("absolute-name")),
    "traversal-backslash": Case(_with(Raw(b"..\\..\\evil.bat", b"@echo off\r\n")),
                                finding("backslash-name", "traversal-name"),
                                finding("backslash-name", "traversal-name"), forbidden=("evil.bat", "../evil.bat")),
    "traversal-nul": Case(_with(Raw(b"a/harmless.txt\x00../../evil.sh", b"x")), finding("nul-name", "traversal-name"),
                          finding("nul-name"), forbidden=("evil.sh", "../evil.sh", "work/a")),
    "symlink-outside": Case(_with(Raw(b"a/link", b"../../../../../../etc/passwd", mode=0o120777)),
                            finding("symlink-entry"), finding("symlink-entry")),
    "symlink-absolute": Case(_with(Raw(b"a/passwd", b"/etc/passwd", mode=0o120777)), finding("symlink-entry"),
                             finding("symlink-entry")),
    "encrypted-entry": Case(_with(Raw(b"a/secret.txt", b"\x13\x37" * 20, flags=0x0001)), finding("encrypted-entry"),
                            finding("encrypted-entry")),
    "unknown-method": Case(_with(Raw(b"a/packed.bin", b"\x00" * 30, method=14)), finding("unknown-method"),
                           error("unsupported compression method 14")),
}
for _name, _at in truncation_points().items():
    CASES[f"truncated-{_name}"] = Case(lambda at=_at: real_bytes()[:at], error(), error())  # type: ignore[misc]

#: Cases that take more than a second or two to build or run (still bounded), and the variants of a case kept
#: in the default run: marked slow.
SLOW = {"bomb-many-small-entries", "bomb-shared-stream", "bomb-nested-wide", "bomb-nested-wide-ratio",
        "bomb-entry-count", "bomb-lying-small-size", "bomb-ratio", "cd-offset-max", "local-offset-max",
        "entry-count-zero", "random-binary", "symlink-absolute", "text", "crc-wrong-in-both-headers",
        *(f"truncated-{n}" for n in truncation_points()
          if n not in ("first-local-name", "middle-entry-data", "central-directory-middle", "end-record-counts"))}


def slow_unless(default: set[str], names: list[str]) -> list[object]:
    """``names`` as parameters, all but ``default`` marked slow."""
    return [n if n in default else pytest.param(n, marks=pytest.mark.slow) for n in names]


def _params() -> list[object]:
    return slow_unless(set(CASES) - SLOW, sorted(CASES))


# ------------------------------------------------------------------------------------------ checks


def check_clean_run(res: CliResult, what: str) -> None:
    assert res.code != 99, f"{what}: an exception escaped main():\n{res.stderr}"
    assert res.code != -9, f"{what}: killed after the timeout"
    assert "Traceback" not in res.stderr + res.stdout, f"{what}: {res.stderr}"
    assert res.seconds < TIME_LIMIT, f"{what}: took {res.seconds:.1f} s"


def check_error(res: CliResult, words: tuple[str, ...], what: str) -> None:
    assert res.code == 2, f"{what}: exit {res.code}, stderr {res.stderr!r}"
    lines = res.stderr.splitlines()
    assert len(lines) == 1 and res.stderr.endswith("\n"), f"{what}: stderr must be one line: {res.stderr!r}"
    assert lines[0].startswith("canonjar: error: "), lines[0]
    assert "out of memory" not in lines[0] and "internal error" not in lines[0], lines[0]
    for w in words:
        assert w in lines[0], (w, lines[0])


@dataclass
class Sandbox:
    """Input, working and output directories of one case, and a snapshot to compare against."""

    root: Path
    inputs: Path
    work: Path
    out: Path
    before: dict[str, str]

    @staticmethod
    def make(root: Path, hostile: bytes, **others: bytes) -> Sandbox:
        inputs, work, out = root / "in", root / "work", root / "out"
        for d in (inputs, work, out):
            d.mkdir()
        (inputs / "hostile.jar").write_bytes(hostile)
        for name, data in others.items():
            (inputs / f"{name}.jar").write_bytes(data)
        assert REAL is not None
        shutil.copyfile(REAL, inputs / "reference.jar")
        return Sandbox(root, inputs, work, out, files_under(inputs))

    def check_files(self, allowed_out: set[str], forbidden: tuple[str, ...]) -> None:
        assert files_under(self.inputs) == self.before, "inputs changed"
        assert files_under(self.work) == {".tmp": "dir"}, f"files written to the working directory: " \
                                                          f"{files_under(self.work)}"
        assert set(files_under(self.out)) <= allowed_out, files_under(self.out)
        everything = files_under(self.root)
        assert "symlink" not in everything.values(), everything
        for f in forbidden:
            assert not (self.work / f).exists() and not (self.out / f).exists(), f


@pytest.mark.parametrize("name", _params())
def test_hostile_input_through_the_cli(name: str, tmp_path: Path) -> None:
    case = CASES[name]
    hostile = case.build()
    box = Sandbox.make(tmp_path, hostile)
    cwd = os.getcwd()
    report = box.out / "report.json"
    res = run_cli(["compare", str(box.inputs / "reference.jar"), str(box.inputs / "hostile.jar"), "-f", "json",
                   "-o", str(report), *case.args], box.work)
    check_clean_run(res, "compare")
    exp = case.compare
    doc = json.loads(report.read_text(encoding="utf-8"))
    if exp.kind == "error":
        check_error(res, exp.words, "compare")
        assert doc["verdict"] == "error" and doc["error"] and "\n" not in doc["error"]
    else:
        assert res.code == 1 and res.stderr == "", (res.code, res.stderr)
        assert doc["verdict"] == "different", doc["error"]
        codes = {f["code"] for f in doc["findings"] if f["side"] == "rebuild"}
        if exp.kind == "finding":
            assert set(exp.words) <= codes, codes
            assert not any(f["side"] == "reference" for f in doc["findings"])

    canon = box.out / "canonical.jar"
    res = run_cli(["canonicalize", str(box.inputs / "hostile.jar"), "-o", str(canon), *case.args], box.work)
    check_clean_run(res, "canonicalize")
    exp = case.canonicalize
    if exp.kind == "error":
        check_error(res, exp.words, "canonicalize")
        assert not canon.exists(), "an error must not leave a partial output"
    else:
        assert res.code == 0 and res.stderr == "", (res.code, res.stderr)
        assert res.stdout.startswith(f"wrote {canon} ")
        listed = {ln.split()[1] for ln in res.stdout.splitlines() if ln.startswith("finding: ")}
        if exp.kind == "finding":
            assert set(exp.words) <= listed, res.stdout
        assert canon.is_file() and not canon.is_symlink()
        read_zip(canon.read_bytes())  # the output is a readable zip
    box.check_files({"report.json", "canonical.jar"}, case.forbidden)
    assert os.getcwd() == cwd
    assert not Path("/tmp/canonjar-evil-absolute.sh").exists()


def test_every_truncation_region_is_covered() -> None:
    """The truncation cases really cut inside each kind of structure of the real JAR."""
    pts = truncation_points()
    lay = layout()
    first_data = lay.locals[0][1]
    assert 0 < pts["first-local-header"] < LOC.size < pts["first-local-name"] < first_data
    assert any(s < pts["middle-entry-data"] < e for _h, s, e in lay.locals)
    assert lay.cd_offset < pts["central-directory-middle"] < lay.eocd
    assert lay.eocd < pts["end-record-counts"] < lay.eocd + EOCD.size


def test_nested_deep_bomb_stops_at_the_depth_limit(tmp_path: Path) -> None:
    """A JAR in a JAR in a JAR... deeper than --max-depth: the levels below the limit are compared as bytes,
    the trace says so, and a change at the bottom still makes the verdict "different" at the deepest open path."""
    box = Sandbox.make(tmp_path, _nested_deep(), other=_nested_deep(payload=b"\xca\xfe\xba\xbe\x00\x00\x00\x35"))
    report = box.out / "r.json"
    res = run_cli(["compare", str(box.inputs / "hostile.jar"), str(box.inputs / "other.jar"), "-f", "json", "-o",
                   str(report), "--max-depth", "3"], box.work)
    check_clean_run(res, "compare")
    doc = json.loads(report.read_text())
    assert res.code == 1 and doc["verdict"] == "different"
    deepest = "lib/level11.jar!/lib/level10.jar!/lib/level9.jar!/lib/level8.jar"
    assert [d["path"] for d in doc["differences"]] == [deepest]
    skips = [t for t in doc["trace"] if t["action"] == "skipped" and "depth limit 3" in t["reason"]]
    assert {t["side"] for t in skips} == {"reference", "rebuild"}
    box.check_files({"r.json"}, ())


@pytest.mark.parametrize("name", slow_unless({"bomb-declared-size"}, [
    "empty", "bomb-declared-size", "traversal-dotdot", "symlink-outside", "truncated-central-directory-middle"]))
def test_real_process_with_memory_limit(name: str, tmp_path: Path) -> None:
    """The same contract through a new ``python -m canonjar`` process (interpreter start under the 1 GiB limit)."""
    case = CASES[name]
    box = Sandbox.make(tmp_path, case.build())
    res = run_subprocess(["canonicalize", str(box.inputs / "hostile.jar"), "-o", str(box.out / "c.jar")], box.work)
    check_clean_run(res, "canonicalize")
    if case.canonicalize.kind == "error":
        check_error(res, case.canonicalize.words, "canonicalize")
    else:
        assert res.code == 0, res.stderr
        assert all(f"finding: {c} " in res.stdout for c in case.canonicalize.words), res.stdout
    res = run_subprocess(["compare", str(box.inputs / "reference.jar"), str(box.inputs / "hostile.jar")], box.work)
    check_clean_run(res, "compare")
    assert res.code == (2 if case.compare.kind == "error" else 1), res.stderr
    box.check_files({"c.jar"}, case.forbidden)


def test_canonical_output_of_hostile_names_is_only_the_output_file(tmp_path: Path) -> None:
    """Entry names are never used as paths: a JAR full of traversal names and symlinks canonicalizes into one file,
    and that file still carries the hostile entries (verify, do not delete), each reported."""
    names = [b"../../evil.sh", b"/tmp/canonjar-evil-absolute.sh", b"..\\evil.bat", b"a/\x00evil", b"a/link"]
    hostile = pack([_manifest_entry(), *(Raw(n, b"payload " + n, mode=0o120777 if n == b"a/link" else 0o100644)
                                         for n in names)])
    box = Sandbox.make(tmp_path, hostile)
    canon = box.out / "canonical.jar"
    res = run_cli(["canonicalize", str(box.inputs / "hostile.jar"), "-o", str(canon)], box.work)
    check_clean_run(res, "canonicalize")
    assert res.code == 0, res.stderr
    kept = {m.name for m in read_zip(canon.read_bytes()).members}
    assert set(names) <= kept
    box.check_files({"canonical.jar"}, ("evil.sh", "../evil.sh", "evil.bat"))
    assert not (tmp_path.parent / "evil.sh").exists()


def test_stored_zip_helper_round_trips() -> None:
    """The fixture packer makes archives the strict reader accepts without findings."""
    data = stored_zip({"META-INF/MANIFEST.MF": MANIFEST, "a/b.txt": b"x" * 100})
    z = read_zip(data)
    assert z.findings == [] and z.to_bytes() == data
    assert [m.name for m in z.members] == [b"META-INF/MANIFEST.MF", b"a/b.txt"]


# ------------------------------------------------------------------------------------------ malformed class files

CLASS = "org/apache/commons/cli/Util.class"
_CP_SIZES = {1: -1, 3: 4, 4: 4, 5: 8, 6: 8, 7: 2, 8: 2, 9: 4, 10: 4, 11: 4, 12: 4, 15: 3, 16: 2, 17: 4, 18: 4,
             19: 2, 20: 2}


def _pool_end(data: bytes) -> int:
    """Offset just after the constant pool (an independent walk of the tags)."""
    count = int.from_bytes(data[8:10], "big")
    pos, i = 10, 1
    while i < count:
        tag = data[pos]
        size = _CP_SIZES[tag]
        pos += 1 + (2 + int.from_bytes(data[pos + 1:pos + 3], "big") if size < 0 else size)
        i += 2 if tag in (5, 6) else 1
    return pos


def _first_class_constant(data: bytes) -> tuple[int, int]:
    """Offset and index of the first CONSTANT_Class of the pool."""
    pos, i = 10, 1
    while data[pos] != 7:
        tag = data[pos]
        size = _CP_SIZES[tag]
        pos += 1 + (2 + int.from_bytes(data[pos + 1:pos + 3], "big") if size < 0 else size)
        i += 2 if tag in (5, 6) else 1
    return pos, i


def _real_files() -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(real_bytes())) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist() if not i.is_dir()}


def _u16(data: bytes, at: int, value: int) -> bytes:
    return data[:at] + value.to_bytes(2, "big") + data[at + 2:]


def _malformed_class(kind: str, data: bytes) -> bytes:
    end = _pool_end(data)
    if kind == "bad-magic":
        return b"\xde\xad\xbe\xef" + data[4:]
    if kind == "truncated":
        return data[:len(data) // 2]
    if kind == "pool-index-out-of-range":
        return _u16(data, end + 2, 0xFFF0)  # this_class
    if kind == "pool-index-wrong-kind":
        return _u16(data, end + 2, 1)  # this_class pointing at a non-Class constant (a Methodref)
    if kind == "absurd-pool-count":
        return _u16(data, 8, 0xFFFF)
    if kind == "absurd-interface-count":
        assert data[end + 6:end + 8] == b"\x00\x00"  # interfaces_count of a class without interfaces
        return _u16(data, end + 6, 0xFFFF)
    if kind == "huge-attribute-length":
        assert data[-6:-2] == b"\x00\x00\x00\x02"  # SourceFile, the last attribute
        return data[:-6] + b"\x7f\xff\xff\xff" + data[-2:]
    if kind == "pool-cycle":  # a Class constant whose name is itself
        at, index = _first_class_constant(data)
        return _u16(data, at + 1, index)
    if kind == "trailing-bytes":
        return data + b"\x00" * 16
    raise AssertionError(kind)


CLASS_KINDS = ["bad-magic", "truncated", "pool-index-out-of-range", "pool-index-wrong-kind", "absurd-pool-count",
               "absurd-interface-count", "huge-attribute-length", "pool-cycle", "trailing-bytes"]


def _jar(files: dict[str, bytes], noisy: bool) -> bytes:
    """A JAR of ``files``; ``noisy`` adds build noise (reverse order, other time, mode and level)."""
    items = [Item(n, d, date_time=(2026, 11, 13, 13, 13, 14), mode=0o664, level=1) if noisy else Item(n, d)
             for n, d in files.items()]
    return make_zip(list(reversed(items)) if noisy else items)


def _class_stabilizer_skips(doc: dict[str, object], path: str) -> set[tuple[str, str]]:
    trace = doc["trace"]
    assert isinstance(trace, list)
    return {(t["side"], t["stabilizer"]) for t in trace
            if t["action"] == "skipped" and t["path"] == path and t["stabilizer"].startswith("class-")}


@pytest.mark.parametrize("kind", slow_unless({"bad-magic", "pool-index-out-of-range", "huge-attribute-length"},
                                             CLASS_KINDS))
def test_malformed_class_with_class_stabilizers(kind: str, tmp_path: Path) -> None:
    """A malformed class inside a JAR with every class stabilizer on: each one records a skip for it, the class is
    compared as bytes (so the malformed class is "different" from the real one, and equivalent to itself under
    zip noise), and canonicalize keeps its bytes unchanged."""
    files = _real_files()
    good_class = files[CLASS]
    bad = _malformed_class(kind, good_class)
    assert bad != good_class
    hostile_files = {**files, CLASS: bad}
    box = Sandbox.make(tmp_path, _jar(hostile_files, noisy=True), same=_jar(hostile_files, noisy=False),
                       clean=_jar(files, noisy=False))
    report = box.out / "r.json"
    res = run_cli(["compare", str(box.inputs / "clean.jar"), str(box.inputs / "hostile.jar"), "--enable", "all",
                   "-f", "json", "-o", str(report)], box.work)
    check_clean_run(res, "compare")
    doc = json.loads(report.read_text())
    assert res.code == 1 and doc["verdict"] == "different", (res.stderr, doc["error"])
    assert [d["path"] for d in doc["differences"]] == [CLASS]
    class_stabs = {"class-lambda-names", "class-member-order", "class-constant-pool-order"}
    assert {s for side, s in _class_stabilizer_skips(doc, CLASS) if side == "rebuild"} == class_stabs

    res = run_cli(["compare", str(box.inputs / "same.jar"), str(box.inputs / "hostile.jar"), "--enable", "all",
                   "-f", "json", "-o", str(report)], box.work)
    check_clean_run(res, "compare")
    doc = json.loads(report.read_text())
    assert res.code == 0 and doc["verdict"] == "equivalent", doc["differences"]

    canon = box.out / "c.jar"
    res = run_cli(["canonicalize", str(box.inputs / "hostile.jar"), "--enable", "all", "-o", str(canon)], box.work)
    check_clean_run(res, "canonicalize")
    assert res.code == 0, res.stderr
    with zipfile.ZipFile(canon) as zf:
        assert zf.read(CLASS) == bad
    box.check_files({"r.json", "c.jar"}, ())


def test_malformed_class_fixtures_really_are_malformed() -> None:
    """Each malformed class fixture is really malformed: the codec's deep check rejects it (the real class passes)."""
    from canonjar.classfile import ClassFormatError, read_class

    good = _real_files()[CLASS]
    read_class(good)
    for kind in CLASS_KINDS:
        with pytest.raises(ClassFormatError):
            read_class(_malformed_class(kind, good), deep=True)


# ------------------------------------------------------------------------------------------ malformed metadata

MANIFEST_CASES = {
    "nul-byte": b"Manifest-Version: 1.0\r\nMain-Class: a.B\x00evil\r\n\r\n",
    "line-too-long": b"Manifest-Version: 1.0\r\nX-Long: " + b"a" * 600 + b"\r\n\r\n",
    "invalid-utf8": b"Manifest-Version: 1.0\r\nImplementation-Title: \xff\xfe\r\n\r\n",
    "continuation-first": b" continued\r\nManifest-Version: 1.0\r\n\r\n",
    "no-colon-space": b"Manifest-Version: 1.0\r\nMain-Class:a.B\r\n\r\n",
    "section-without-name": b"Manifest-Version: 1.0\r\n\r\nSealed: true\r\n\r\n",
}


@pytest.mark.parametrize("case", slow_unless({"nul-byte", "line-too-long"}, sorted(MANIFEST_CASES)))
def test_malformed_manifest_is_a_finding_and_kept(case: str, tmp_path: Path) -> None:
    files = _real_files()
    bad = MANIFEST_CASES[case]
    hostile = {**files, "META-INF/MANIFEST.MF": bad}
    box = Sandbox.make(tmp_path, _jar(hostile, noisy=True))
    report = box.out / "r.json"
    res = run_cli(["compare", str(box.inputs / "reference.jar"), str(box.inputs / "hostile.jar"), "-f", "json",
                   "-o", str(report)], box.work)
    check_clean_run(res, "compare")
    doc = json.loads(report.read_text())
    assert res.code == 1 and doc["verdict"] == "different", doc["error"]
    assert [d["path"] for d in doc["differences"]] == ["META-INF/MANIFEST.MF"]
    assert [(f["side"], f["code"]) for f in doc["findings"]] == [("rebuild", "malformed-manifest")]
    canon = box.out / "c.jar"
    res = run_cli(["canonicalize", str(box.inputs / "hostile.jar"), "-o", str(canon)], box.work)
    check_clean_run(res, "canonicalize")
    assert res.code == 0 and "finding: malformed-manifest META-INF/MANIFEST.MF" in res.stdout, res.stdout
    with zipfile.ZipFile(canon) as zf:
        assert zf.read("META-INF/MANIFEST.MF") == bad  # kept byte for byte, not repaired
    box.check_files({"r.json", "c.jar"}, ())


def _billion_laughs() -> bytes:
    ents = ['<!ENTITY lol0 "lol">'] + [f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)]
    return (f'<?xml version="1.0"?>\n<!DOCTYPE bom [{"".join(ents)}]>\n'
            '<bom xmlns="http://cyclonedx.org/schema/bom/1.5" version="1"><metadata><component>'
            '<name>&lol9;</name></component></metadata></bom>\n').encode()


def _xxe(secret: Path, root: str = '<bom xmlns="http://cyclonedx.org/schema/bom/1.5" version="1">',
         close: str = "</bom>") -> str:
    return (f'<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY xxe SYSTEM "file://{secret}">]>\n'
            f'{root}<metadata><component><name>&xxe;</name></component></metadata>{close}\n')


def _hostile_metadata(secret: Path) -> dict[str, bytes]:
    pom_root = '<project xmlns="http://maven.apache.org/POM/4.0.0"><!-- git-commit-id -->'
    pom = _xxe(secret, pom_root, "</project>")
    return {
        "META-INF/sbom/bom.xml": _billion_laughs(),
        "META-INF/sbom/app.cdx.xml": _xxe(secret).encode(),
        "META-INF/sbom/utf16.cdx.xml": _xxe(secret).replace('"1.0"?>', '"1.0" encoding="UTF-16"?>').encode("utf-16"),
        "META-INF/sbom/deep.cdx.json": b"[" * 200_000 + b"]" * 200_000,
        "META-INF/sbom/dup.cdx.json": b'{"bomFormat": "CycloneDX", "bomFormat": "Other"}',
        "META-INF/sbom/nan.spdx.json": b'{"spdxVersion": "SPDX-2.3", "x": NaN, "y": 1e999999}',
        "META-INF/sbom/bad-utf8.cdx.json": b'{"bomFormat": "\xff\xfe"}',
        "META-INF/sbom/doc.spdx": b"SPDXVersion: SPDX-2.3\nCreated: <text>never closed\n",
        "META-INF/maven/evil/evil/pom.xml": pom.encode(),
        "META-INF/maven/evil/utf16/pom.xml": pom.replace('"1.0"?>', '"1.0" encoding="UTF-16"?>').encode("utf-16"),
        "git.properties": b"#Mon Nov 23 01:09:00 UTC 2026\ngit.commit.id=\\u12G4\ngit.build.time=\\\n",
        "META-INF/maven/evil/evil/pom.properties": b"#Mon Nov 23 01:09:00 UTC 2026\nversion=\\uZZZZ\n",
        "app/settings.properties": b"#Mon Nov 23 01:09:00 UTC 2026\nkey=\\u00\n",
        "docs/index.html": b"<!-- Generated by javadoc (17) on \xff\xfe -->\n<html>" + b"<" * 10000,
    }


@pytest.mark.parametrize("changed", [None, *slow_unless({"META-INF/sbom/app.cdx.xml"}, [
    "META-INF/sbom/app.cdx.xml", "META-INF/sbom/deep.cdx.json", "git.properties",
    "META-INF/maven/evil/utf16/pom.xml"])])
def test_hostile_metadata_never_leaks_and_never_hides(changed: str | None, tmp_path: Path) -> None:
    """Billion laughs, external entities (UTF-8 and UTF-16), absurd JSON and broken properties: the stabilizers
    refuse them (the entity-declaring XML is a finding), no local file content reaches any output, the run is
    bounded, and a change to one of them is still a difference named by its path."""
    secret = tmp_path / "secret.txt"
    token = "CANONJAR-SECRET-7f3a9c"
    secret.write_text(token + "\n")
    files = {**_real_files(), **_hostile_metadata(secret)}
    rebuild = dict(files)
    if changed is not None:
        rebuild[changed] = rebuild[changed].replace(b"0", b"1", 1) if changed.endswith("pom.xml") else \
            rebuild[changed] + b"\n"
    box = Sandbox.make(tmp_path, _jar(rebuild, noisy=True), ref=_jar(files, noisy=False))
    outputs: list[str] = []
    for fmt in ("json", "text", "html"):
        report = box.out / f"r.{fmt}"
        res = run_cli(["compare", str(box.inputs / "ref.jar"), str(box.inputs / "hostile.jar"), "--enable", "all",
                       "--show-noise", "-f", fmt, "-o", str(report)], box.work)
        check_clean_run(res, "compare")
        assert res.code == 1 and res.stderr == "", res.stderr
        outputs += [res.stdout, report.read_text()]
    doc = json.loads((box.out / "r.json").read_text())
    assert doc["verdict"] == "different"
    assert [d["path"] for d in doc["differences"]] == ([] if changed is None else [changed])
    hostile_xml = {"META-INF/sbom/bom.xml", "META-INF/sbom/app.cdx.xml", "META-INF/sbom/utf16.cdx.xml"}
    for side in ("reference", "rebuild"):
        assert {f["path"] for f in doc["findings"] if f["side"] == side and f["code"] == "malformed-sbom"} \
            >= hostile_xml
    canon = box.out / "c.jar"
    res = run_cli(["canonicalize", str(box.inputs / "hostile.jar"), "--enable", "all", "--show-noise", "-o",
                   str(canon)], box.work)
    check_clean_run(res, "canonicalize")
    assert res.code == 0, res.stderr
    outputs += [res.stdout, res.stderr]
    with zipfile.ZipFile(canon) as zf:
        outputs += [zf.read(i).decode("latin-1") for i in zf.infolist()]
        for name in hostile_xml:
            assert zf.read(name) == rebuild[name]  # refused, so kept byte for byte
    assert not any(token in text for text in outputs), "the content of a local file leaked into an output"
    box.check_files({"r.json", "r.text", "r.html", "c.jar"}, ())


def test_xxe_fixture_is_a_real_external_entity(tmp_path: Path) -> None:
    """With entity resolution on (what canonjar must never do), the fixture really pulls in the local file: so the
    leak check above can fail."""
    from lxml import etree

    secret = tmp_path / "secret.txt"
    secret.write_text("CANONJAR-SECRET-7f3a9c")
    unsafe = etree.XMLParser(resolve_entities=True, load_dtd=True, no_network=True)
    root = etree.fromstring(_xxe(secret).encode(), unsafe)
    assert "CANONJAR-SECRET-7f3a9c" in etree.tostring(root).decode()


def test_the_memory_limit_of_the_children_is_real(tmp_path: Path) -> None:
    """The 1 GiB address-space limit the commands run under really stops a 2 GiB allocation."""
    res = subprocess.run([sys.executable, "-c", "bytearray(2 << 30)"], capture_output=True, text=True, timeout=60,
                         preexec_fn=hostile._limit_memory, check=False)
    assert res.returncode != 0 and "MemoryError" in res.stderr


@pytest.mark.parametrize("bomb", [_small_entries_bomb, _shared_stream_bomb])
def test_small_entry_bombs_are_refused_while_reading(bomb: Callable[[], bytes]) -> None:
    """Many entries below the per-entry ratio floor (separate, or sharing one stream) add up to gigabytes: refused
    by the reader from the declared sizes, before anything is inflated; a higher --max-ratio lets them be read."""
    data = bomb()
    with pytest.raises(LimitExceeded, match="--max-ratio"):
        read_zip(data)
    z = read_zip(data, Limits(max_ratio=1e9))
    assert len(z.members) > 1000


def test_many_small_ordinary_entries_are_not_a_bomb() -> None:
    """The archive-wide ratio check leaves ordinary archives alone: many small, well compressed text entries."""
    text = b"".join(b"key.%d = some value %d\n" % (i, i) for i in range(2000))
    data = stored_zip({f"res/{i:04d}.properties": text for i in range(40)})
    z = read_zip(data)
    assert z.findings == [] and sum(m.central.usize for m in z.members) > Limits().ratio_floor
