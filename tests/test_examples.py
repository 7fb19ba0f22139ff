"""The example pair shipped in examples/ behaves as the README says, and the script that makes it works."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from canonjar import DifferenceKind, Verdict, compare_files
from tests.helpers import jdk_tool, run_java

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _check(folder: Path) -> None:
    eq = compare_files(folder / "reference.jar", folder / "rebuild.jar")
    assert eq.verdict is Verdict.EQUIVALENT, eq.differences
    assert eq.effective_for("rebuild")  # the rebuild really carried noise
    diff = compare_files(folder / "reference.jar", folder / "tampered.jar")
    assert diff.verdict is Verdict.DIFFERENT
    assert [(d.path, d.kind) for d in diff.differences] == [
        ("com/example/hello/Greeter.class", DifferenceKind.CHANGED)]


def test_shipped_examples() -> None:
    _check(EXAMPLES)


def test_shipped_examples_run() -> None:
    if jdk_tool("java") is None:
        pytest.skip("no java")
    ref = run_java(["-jar", str(EXAMPLES / "reference.jar")])
    reb = run_java(["-jar", str(EXAMPLES / "rebuild.jar")])
    bad = run_java(["-jar", str(EXAMPLES / "tampered.jar")])
    assert ref.returncode == 0 and ref.stdout == reb.stdout
    assert bad.stdout != ref.stdout and "tampered" in bad.stdout


def test_make_examples_script(tmp_path: Path) -> None:
    if jdk_tool("javac") is None or jdk_tool("jar") is None:
        pytest.skip("no JDK")
    cmd = [sys.executable, str(EXAMPLES / "make_examples.py"), "--out", str(tmp_path)]
    subprocess.run(cmd, check=True, capture_output=True, timeout=300)
    _check(tmp_path)
    first = {p.name: p.read_bytes() for p in tmp_path.glob("*.jar")}
    subprocess.run(cmd, check=True, capture_output=True, timeout=300)
    assert {p.name: p.read_bytes() for p in tmp_path.glob("*.jar")} == first  # deterministic
