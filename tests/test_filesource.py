"""Archives read from their files by offset (bounded memory) give exactly what reading their bytes gives."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import pytest

import canonjar
from canonjar.errors import ArchiveError
from canonjar.zipfmt import FileSource, FileSpan, read_zip
from tests.helpers import Item, make_zip, real_jars


def _noisy(data: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(buf, "w") as out:
        for n, info in enumerate(reversed(src.infolist())):
            zi = zipfile.ZipInfo(info.filename, (2025, 1, 2, 3, 4, 6))
            zi.compress_type = zipfile.ZIP_DEFLATED
            out.writestr(zi, src.read(info), compresslevel=1 if n % 2 else 9)
    return buf.getvalue()


def test_read_zip_from_file_is_byte_faithful(tmp_path: Path) -> None:
    data = make_zip([Item("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\r\n\r\n"),
                     Item("a/B.class", b"\xca\xfe\xba\xbe" + bytes(range(256)) * 40), Item("c.txt", b"x" * 9000)])
    path = tmp_path / "a.jar"
    path.write_bytes(data)
    with FileSource(path) as src:
        z = read_zip(src)
        assert all(isinstance(m.local.data, FileSpan) for m in z.members)
        assert z.to_bytes() == data  # the faithful writer reads every span back from the file
        mem = read_zip(data)
        assert [m.name for m in z.members] == [m.name for m in mem.members]
        assert [bytes(m.local.data) for m in z.members] == [bytes(m.local.data) for m in mem.members]
        assert z.findings == mem.findings


def test_compare_files_agrees_with_compare_bytes(tmp_path: Path) -> None:
    jars = [p for p in real_jars() if p.suffix == ".jar" and 10_000 < p.stat().st_size < 400_000]
    if not jars:
        pytest.skip("no small real JAR on this machine")
    data = jars[0].read_bytes()
    noisy = _noisy(data)
    with zipfile.ZipFile(io.BytesIO(noisy)) as zf:
        first = next(i for i in zf.infolist() if not i.is_dir())
        body = zf.read(first)
    tampered_buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(noisy)) as src, zipfile.ZipFile(tampered_buf, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            out.writestr(info, src.read(info) if info.filename != first.filename else body + b"!")
    for name, other in (("noisy", noisy), ("tampered", tampered_buf.getvalue()), ("same", data)):
        a, b = tmp_path / "ref.jar", tmp_path / f"{name}.jar"
        a.write_bytes(data)
        b.write_bytes(other)
        by_file = canonjar.compare_files(a, b)
        by_bytes = canonjar.compare_bytes(data, other, str(a), str(b))
        assert by_file.verdict == by_bytes.verdict, name
        assert by_file.differences == by_bytes.differences
        assert by_file.findings == by_bytes.findings
        assert by_file.reference == by_bytes.reference and by_file.rebuild == by_bytes.rebuild  # sizes, digests
    assert canonjar.compare_files(tmp_path / "ref.jar", tmp_path / "tampered.jar").verdict.value == "different"


def test_jmod_header_is_skipped_when_read_from_file(tmp_path: Path) -> None:
    data = make_zip([Item("classes/a.txt", b"hello")])
    jmod = tmp_path / "a.jmod"
    jmod.write_bytes(b"JM\x01\x00" + data)
    plain = tmp_path / "a.zip"
    plain.write_bytes(data)
    out = canonjar.compare_files(jmod, plain)
    assert out.verdict.value == "identical", out.error


def test_a_file_that_shrinks_while_read_is_an_error(tmp_path: Path) -> None:
    # Incompressible entries larger than the read-ahead window, so the middle one is read from the file.
    data = make_zip([Item(f"{c}.bin", os.urandom(3 * FileSource.WINDOW // 2)) for c in "abc"])
    path = tmp_path / "a.jar"
    path.write_bytes(data)
    with FileSource(path) as src:
        z = read_zip(src)
        os.truncate(path, 100)
        with pytest.raises(ArchiveError, match="shorter"):
            bytes(z.members[1].local.data)
