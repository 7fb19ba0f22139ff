"""The command line end to end: exit codes, JSON that loads back, output paths, one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from canonjar import Outcome, Verdict
from canonjar.outcome import SCHEMA_VERSION
from tests.helpers import Item, make_zip

REPO = Path(__file__).resolve().parent.parent


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.pop("CANONJAR_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "canonjar", *args], capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=120, check=False)


@pytest.fixture
def pair(tmp_path: Path) -> tuple[Path, Path, Path]:
    items = [Item("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\r\nMain-Class: a.B\r\n\r\n"),
             Item("a/B.class", b"\xca\xfe\xba\xbe" + bytes(range(50))), Item("a/res.txt", b"one\ntwo\nthree\n")]
    ref = tmp_path / "ref.jar"
    ref.write_bytes(make_zip(items))
    noisy = [Item(i.name, i.data, date_time=(2024, 5, 6, 7, 8, 10), mode=0o664, level=1) for i in reversed(items)]
    reb = tmp_path / "rebuild.jar"
    reb.write_bytes(make_zip(noisy))
    changed = [Item(i.name, i.data.replace(b"two", b"TWO")) for i in items]
    bad = tmp_path / "tampered.jar"
    bad.write_bytes(make_zip(changed))
    return ref, reb, bad


def test_exit_codes(pair: tuple[Path, Path, Path]) -> None:
    ref, reb, bad = pair
    same = run("compare", str(ref), str(ref))
    assert same.returncode == 0 and same.stdout.startswith("IDENTICAL")
    eq = run("compare", str(ref), str(reb))
    assert eq.returncode == 0 and eq.stdout.startswith("EQUIVALENT"), eq.stdout + eq.stderr
    diff = run("compare", str(ref), str(bad))
    assert diff.returncode == 1 and diff.stdout.startswith("DIFFERENT")
    assert "a/res.txt" in diff.stdout and "+TWO" in diff.stdout and "-two" in diff.stdout


def test_json_loads_back_into_the_same_outcome(pair: tuple[Path, Path, Path], tmp_path: Path) -> None:
    ref, _reb, bad = pair
    res = run("compare", "--format", "json", str(ref), str(bad))
    assert res.returncode == 1
    doc = json.loads(res.stdout)
    assert doc["schema_version"] == SCHEMA_VERSION and doc["verdict"] == "different"
    assert [d["path"] for d in doc["differences"]] == ["a/res.txt"]
    d = doc["differences"][0]
    assert d["left_sha256"] != d["right_sha256"] and d["left_size"] == d["right_size"]
    assert doc["trace"], "the JSON always carries the stabilization trace"
    outcome = Outcome.from_json(res.stdout)
    assert outcome.verdict is Verdict.DIFFERENT
    assert Outcome.from_json(outcome.to_json()) == outcome
    assert json.loads(outcome.to_json()) == doc
    # -o writes the same document to the file, nothing on stdout
    out = tmp_path / "out.json"
    res2 = run("compare", "-f", "json", "-o", str(out), str(ref), str(bad))
    assert res2.returncode == 1 and res2.stdout == ""
    assert Outcome.from_json(out.read_text()).differences == outcome.differences
    # a saved outcome re-renders without the JARs
    rep = run("report", str(out))
    assert rep.returncode == 1 and rep.stdout.startswith("DIFFERENT") and "a/res.txt" in rep.stdout


def test_show_noise_lists_the_trace(pair: tuple[Path, Path, Path]) -> None:
    ref, reb, _bad = pair
    res = run("compare", "--show-noise", str(ref), str(reb))
    assert res.returncode == 0
    assert "[rebuild] zip-timestamps changed a/B.class" in res.stdout
    assert "[rebuild] zip-entry-order reordered" in res.stdout


def test_enable_disable(pair: tuple[Path, Path, Path]) -> None:
    ref, reb, _bad = pair
    res = run("compare", "--disable", "zip-timestamps", str(ref), str(reb))
    assert res.returncode == 1 and "[time]" in res.stdout
    res = run("compare", "--disable", "all", "--enable", "zip-timestamps", str(ref), str(reb))
    assert res.returncode == 1 and "[time]" not in res.stdout and "[order]" in res.stdout
    res = run("compare", "--disable", "none", str(ref), str(reb))
    assert res.returncode == 0
    res = run("compare", "--disable", "no-such-thing", str(ref), str(reb))
    assert res.returncode == 2
    assert res.stderr.count("\n") == 1 and "unknown stabilizer 'no-such-thing'" in res.stderr
    assert "zip-timestamps" in res.stderr  # the known names are listed
    listing = run("stabilizers", "--disable", "zip-comments")
    assert listing.returncode == 0
    assert "zip-comments [off]" in listing.stdout and "zip-timestamps [on ]" in listing.stdout
    assert listing.stdout.count("safe because:") == listing.stdout.count("removes:") >= 11


@pytest.mark.parametrize("content", [b"", b"not a zip at all", b"PK\x03\x04" + b"\x00" * 40])
def test_bad_input_is_one_line_exit_2(tmp_path: Path, pair: tuple[Path, Path, Path], content: bytes) -> None:
    ref, _reb, _bad = pair
    bad = tmp_path / "bad.jar"
    bad.write_bytes(content)
    res = run("compare", str(ref), str(bad))
    assert res.returncode == 2
    assert res.stdout == ""
    assert res.stderr.count("\n") == 1 and res.stderr.startswith("canonjar: error: ")
    assert "Traceback" not in res.stderr
    js = run("compare", "-f", "json", str(ref), str(bad))
    assert js.returncode == 2 and json.loads(js.stdout)["verdict"] == "error"


def test_missing_file_and_usage_errors(tmp_path: Path) -> None:
    res = run("compare", str(tmp_path / "nope.jar"), str(tmp_path / "nope2.jar"))
    assert res.returncode == 2 and "no such file" in res.stderr and res.stderr.count("\n") == 1
    res = run("compare", str(tmp_path))
    assert res.returncode == 2 and res.stderr.count("\n") == 1
    res = run("compare", str(tmp_path), str(tmp_path))
    assert res.returncode == 2 and "directory" in res.stderr
    res = run("compare", "--format", "xml", "a", "b")
    assert res.returncode == 2 and res.stderr.startswith("canonjar: error:")


def test_canonicalize_writes_only_the_output(pair: tuple[Path, Path, Path], tmp_path: Path) -> None:
    ref, reb, _bad = pair
    work = tmp_path / "work"
    work.mkdir()
    before = set(work.iterdir())
    out = work / "canon.jar"
    res = run("canonicalize", str(reb), "-o", str(out), cwd=work)
    assert res.returncode == 0, res.stderr
    assert set(work.iterdir()) - before == {out}
    assert run("compare", str(ref), str(out)).returncode == 0
    # refuses to overwrite its input
    res = run("canonicalize", str(reb), "-o", str(reb))
    assert res.returncode == 2 and "overwrite" in res.stderr
    # an unreadable input writes nothing
    junk = work / "junk.jar"
    junk.write_bytes(b"junk")
    res = run("canonicalize", str(junk), "-o", str(work / "x.jar"))
    assert res.returncode == 2 and not (work / "x.jar").exists()


def test_limits_are_options(tmp_path: Path) -> None:
    big = make_zip([Item("zeros.bin", b"\x00" * (3 * 1024 * 1024))])
    a = tmp_path / "a.jar"
    a.write_bytes(big)
    b = tmp_path / "b.jar"
    b.write_bytes(make_zip([Item("zeros.bin", b"\x00" * (3 * 1024 * 1024), level=1)]))
    res = run("compare", str(a), str(b))
    assert res.returncode == 2 and "ratio" in res.stderr and "--max-ratio" in res.stderr
    assert res.stderr.startswith(f"canonjar: error: {a}: zeros.bin: ")  # which file, which entry
    res = run("compare", "--max-ratio", "5000", str(a), str(b))
    assert res.returncode == 0, res.stderr
    res = run("compare", "--max-ratio", "5000", "--max-entry-size", "1000", str(a), str(b))
    assert res.returncode == 2 and "--max-entry-size" in res.stderr


def test_console_script_matches_module(pair: tuple[Path, Path, Path]) -> None:
    import shutil

    exe = shutil.which("canonjar")
    if exe is None:
        pytest.skip("canonjar console script not on PATH (package not installed)")
    ref, _reb, bad = pair
    res = subprocess.run([exe, "compare", str(ref), str(bad)], capture_output=True, text=True, check=False)
    assert res.returncode == 1 and res.stdout == run("compare", str(ref), str(bad)).stdout


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
def test_endless_non_regular_input_is_bounded(tmp_path: Path) -> None:
    """A device or pipe has no size to check first: reading it stops at --max-archive-size."""
    other = tmp_path / "b.jar"
    other.write_bytes(make_zip([Item("a.txt", b"x")]))
    res = run("compare", "/dev/zero", str(other), "--max-archive-size", "5000000")
    assert res.returncode == 2 and res.stderr.count("\n") == 1
    assert "exceeds the archive size limit" in res.stderr and "Traceback" not in res.stderr
