"""The benchmark scripts keep working (a tiny run each; the real measurements are run by hand)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import real_jars

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"


def test_metadata_bench_small_run(tmp_path: Path) -> None:
    out = tmp_path / "m.json"
    res = subprocess.run([sys.executable, str(BENCH / "metadata_bench.py"), "--runs", "1", "--libs", "4",
                          "--out", str(out)], capture_output=True, text=True, timeout=300, check=False)
    if res.returncode == 2 and "no library JARs" in res.stderr:
        pytest.skip("no library JARs on this machine")
    assert res.returncode == 0, res.stderr
    doc = json.loads(out.read_text())
    assert doc["nested_jars"] >= 1 and set(doc["median"]) == {"zip-only", "all", "floor"}
    assert doc["manifests_differing_zip_only"] >= 1  # the noise is real: zip stabilizers alone do not hide it


def test_compare_bench_small_run(tmp_path: Path) -> None:
    if not real_jars():
        pytest.skip("no real JARs on this machine")
    out = tmp_path / "c.json"
    res = subprocess.run([sys.executable, str(BENCH / "compare_bench.py"), "--runs", "1", "--warmup", "0",
                          "--per-source", "1", "--synthetic-entries", "0", "--out", str(out)],
                         capture_output=True, text=True, timeout=600, check=False)
    assert res.returncode == 0, res.stderr
    assert "| artifact |" in res.stdout and out.exists()


def _small_real_jar(min_classes: int) -> Path | None:
    """The smallest real JAR of the machine with at least ``min_classes`` classes naming a .java source."""
    import zipfile

    jars = sorted((p for p in real_jars() if p.suffix == ".jar"), key=lambda p: p.stat().st_size)
    for jar in jars:
        try:
            with zipfile.ZipFile(jar) as zf:
                n = sum(1 for i in zf.infolist() if i.filename.endswith(".class") and b".java" in zf.read(i))
        except (zipfile.BadZipFile, OSError):
            continue
        if n >= min_classes:
            return jar
    return None


def test_peers_bench_noise_pair_and_changed_classes(tmp_path: Path) -> None:
    jar = _small_real_jar(3)
    if jar is None:
        pytest.skip("no real JAR with class files on this machine")
    out, md = tmp_path / "p.json", tmp_path / "p.md"
    res = subprocess.run([sys.executable, str(BENCH / "peers_bench.py"), "--jar", str(jar), "--sets",
                          "small,medium,classes", "--changed-classes", "3", "--runs", "1", "--warmup", "0",
                          "--peers", "none", "--out", str(out), "--md", str(md)],
                         capture_output=True, text=True, timeout=600, check=False)
    assert res.returncode == 0, res.stderr
    doc = json.loads(out.read_text())
    rows = {r["pair"]: r for r in doc["results"]}
    assert set(rows) == {"small", "medium", "classes"}
    # The noise-only re-zip really differs in its bytes, and canonjar still finds it equivalent.
    assert rows["small"]["measurements"]["canonjar"]["result"].startswith("equivalent")
    # Three changed classes: three differences, and a per-class cost derived from the same run.
    assert rows["classes"]["changed_classes"] == 3
    assert rows["classes"]["measurements"]["canonjar"]["result"] == "different (3 differences)"
    assert doc["ms_per_differing_class"] is not None and doc["ms_per_differing_class"] >= 0
    for pair in rows.values():
        for m in pair["measurements"].values():
            assert m["peak_rss_kib"] > 1024 and m["min_s"] <= m["median_s"] <= m["max_s"]
    names = [t["target"] for t in doc["targets"]]
    assert any("floor" in n for n in names) and any("RSS" in n for n in names)
    assert all(t["pass"] in (True, False) for t in doc["targets"] if "diffoscope" not in t["target"])
    assert all(t["pass"] is None for t in doc["targets"] if "diffoscope" in t["target"])  # not run: n/a
    text = md.read_text()
    assert "| pair | archive |" in text and ("PASS" in text or "FAIL" in text)


def test_peers_bench_rezip_is_noise_only() -> None:
    import io
    import zipfile

    sys.path.insert(0, str(BENCH))
    try:
        import peers_bench
    finally:
        sys.path.remove(str(BENCH))
    jar = _small_real_jar(1)
    if jar is None:
        pytest.skip("no real JAR with class files on this machine")
    data = jar.read_bytes()
    noisy = peers_bench.rezip(data, seed=1)
    assert noisy != data
    with zipfile.ZipFile(io.BytesIO(data)) as a, zipfile.ZipFile(io.BytesIO(noisy)) as b:
        files = {i.filename: a.read(i) for i in a.infolist() if not i.is_dir()}
        rebuilt = {i.filename: b.read(i) for i in b.infolist()}
    assert set(files) == set(rebuilt)
    for name, body in files.items():
        if name.upper() == "META-INF/MANIFEST.MF":
            assert b"Built-By: builder" in rebuilt[name] and rebuilt[name] != body
        else:
            assert rebuilt[name] == body  # contents untouched: only zip and manifest noise
    edit, changed = peers_bench.change_classes(1)
    one = peers_bench.rezip(data, seed=1, edit=edit)
    with zipfile.ZipFile(io.BytesIO(one)) as b:
        assert b.read(changed[0]) != files[changed[0]] and len(b.read(changed[0])) == len(files[changed[0]])


@pytest.mark.skipif(not (shutil.which("diffoscope") or shutil.which("strip-nondeterminism")),
                    reason="neither diffoscope nor strip-nondeterminism is installed")
def test_peers_bench_runs_the_peer_tools(tmp_path: Path) -> None:
    jar = _small_real_jar(1)
    if jar is None:
        pytest.skip("no real JAR with class files on this machine")
    out = tmp_path / "p.json"
    res = subprocess.run([sys.executable, str(BENCH / "peers_bench.py"), "--jar", str(jar), "--sets", "small",
                          "--runs", "1", "--warmup", "0", "--peer-timeout", "300", "--out", str(out)],
                         capture_output=True, text=True, timeout=900, check=False)
    assert res.returncode == 0, res.stderr
    m = json.loads(out.read_text())["results"][0]["measurements"]
    for peer, tool in (("diffoscope", "diffoscope"), ("strip-nondeterminism", "strip-nondeterminism")):
        if shutil.which(tool):
            # The noise-only pair differs byte for byte: diffoscope must say so.
            assert m[peer]["result"] in ("different", "identical") or m[peer]["timeout"]
    if shutil.which("diffoscope"):
        assert m["diffoscope"]["timeout"] or m["diffoscope"]["result"] == "different"
