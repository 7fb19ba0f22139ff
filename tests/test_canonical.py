"""The canonical JAR: valid, runnable, idempotent, with the documented fixed layout."""

from __future__ import annotations

import io
import subprocess
import zipfile
from pathlib import Path

import pytest

from canonjar import Verdict, canonicalize_bytes, compare_bytes, select_stabilizers
from canonjar.zipfmt import read_zip
from tests.helpers import Item, jdk_tool, make_zip, real_jars, run_java

JAR_READER = """\
import java.io.FileInputStream;
import java.util.jar.JarEntry;
import java.util.jar.JarInputStream;

public class ReadJar {
    public static void main(String[] args) throws Exception {
        try (JarInputStream in = new JarInputStream(new FileInputStream(args[0]))) {
            System.out.println("main=" + in.getManifest().getMainAttributes().getValue("Main-Class"));
            int n = 0;
            for (JarEntry e = in.getNextJarEntry(); e != null; e = in.getNextJarEntry()) {
                n++;
            }
            System.out.println("entries=" + n);
        }
    }
}
"""


def test_canonical_jar_runs_the_same(hello_jar: Path, tmp_path: Path) -> None:
    original = run_java(["-jar", str(hello_jar)])
    assert original.returncode == 0, original.stderr
    assert "hello, canonjar" in original.stdout
    data, _res = canonicalize_bytes(hello_jar.read_bytes())
    canon = tmp_path / "canon.jar"
    canon.write_bytes(data)
    assert data != hello_jar.read_bytes()
    ran = run_java(["-jar", str(canon)])
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout == original.stdout
    via_cp = run_java(["-cp", str(canon), "demo.Main"])
    assert via_cp.stdout == original.stdout


def test_jar_input_stream_reads_the_canonical_jar(hello_jar: Path, tmp_path: Path) -> None:
    javac = jdk_tool("javac")
    assert javac is not None
    (tmp_path / "ReadJar.java").write_text(JAR_READER)
    subprocess.run([javac, "-d", str(tmp_path), str(tmp_path / "ReadJar.java")], check=True, capture_output=True)
    data, _res = canonicalize_bytes(hello_jar.read_bytes())
    canon = tmp_path / "canon.jar"
    canon.write_bytes(data)
    out = run_java(["-cp", str(tmp_path), "ReadJar", str(canon)])
    assert out.returncode == 0, out.stderr
    assert "main=demo.Main" in out.stdout  # the manifest is found: it comes first
    with zipfile.ZipFile(canon) as zf:
        files = [i for i in zf.infolist() if i.filename.upper() != "META-INF/MANIFEST.MF"]
    assert f"entries={len(files)}" in out.stdout


def test_canonical_layout(hello_jar: Path) -> None:
    data, _res = canonicalize_bytes(hello_jar.read_bytes())
    z = read_zip(data)
    assert z.findings == []
    names = [m.name for m in z.members]
    assert names[0] == b"META-INF/MANIFEST.MF"
    assert names[1:] == sorted(names[1:])
    for m in z.members:
        c = m.central
        assert (c.mdate, c.mtime) == ((1 << 5) | 1, (12 << 11) | (1 << 5))  # 1980-01-01 12:01
        assert c.extra == b"" and m.local.extra == b"" and c.comment == b""
        assert c.method == 8
        assert (c.external_attr >> 16) in (0o100644, 0o100755)
        assert c.version_made == 0x0314
        assert not c.flags & 0x0808
    assert z.comment == b""


def test_canonical_keeps_meta_inf_directory_first_when_directories_are_kept() -> None:
    jar = make_zip([Item("b.txt", b"b"), Item("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\r\n\r\n"),
                    Item("a/", b""), Item("META-INF/", b"")])
    data, _res = canonicalize_bytes(jar, stabilizers=select_stabilizers(disable=["zip-directory-entries"]))
    names = [m.name for m in read_zip(data).members]
    assert names == [b"META-INF/", b"META-INF/MANIFEST.MF", b"a/", b"b.txt"]


@pytest.mark.parametrize("jar", real_jars(limit=None)[::9] or [None], ids=lambda p: p.name if p else "none")
def test_canonicalization_is_idempotent_on_real_jars(jar: Path | None) -> None:
    if jar is None:
        pytest.skip("no real JARs on this machine")
    raw = jar.read_bytes()
    if raw[:4] == b"JM\x01\x00":
        raw = raw[4:]
    once, _ = canonicalize_bytes(raw)
    twice, res2 = canonicalize_bytes(once)
    assert once == twice
    # The second pass finds nothing left to change.
    assert [t for t in res2.trace if t.action != "skipped"] == []
    # And the canonical JAR is equivalent to its source.
    assert compare_bytes(raw, once).verdict is Verdict.EQUIVALENT


def test_nested_archives_are_stored_and_canonical() -> None:
    inner = make_zip([Item("x/B.class", b"\xca\xfe\xba\xbe inner"), Item("x/", b"")])
    outer = make_zip([Item("BOOT-INF/lib/inner.jar", inner, method=zipfile.ZIP_STORED),
                      Item("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\r\n\r\n")])
    data, _res = canonicalize_bytes(outer)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        info = zf.getinfo("BOOT-INF/lib/inner.jar")
        assert info.compress_type == zipfile.ZIP_STORED
        nested = zf.read(info)
    inner_canon, _ = canonicalize_bytes(inner)
    assert nested == inner_canon
