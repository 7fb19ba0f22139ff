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


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_batch_example_is_up_to_date(tmp_path: Path) -> None:
    """examples/batch/ is exactly what make_batch_example.py makes from the example JARs."""
    out = tmp_path / "batch"
    subprocess.run([sys.executable, str(EXAMPLES / "make_batch_example.py"), "--out", str(out)], check=True,
                   capture_output=True)
    assert _tree(out) == _tree(EXAMPLES / "batch")


def test_batch_example_as_the_readme_runs_it(tmp_path: Path) -> None:
    from canonjar.batch import iter_results
    from canonjar.cli import main

    batch = EXAMPLES / "batch"
    db = tmp_path / "results.sqlite"
    code = main(["batch", str(batch / "content"), "--reference-repo", (batch / "repo").as_uri(),
                 "--rebuild-dir", str(batch / "rebuild"), "--db", str(db), "--cache", str(tmp_path / "cache"),
                 "--jobs", "1"])
    assert code == 0
    rows = {r.filename: r for r in iter_results(db)}
    assert {n: r.verdict for n, r in rows.items()} == {"hello-1.0.jar": "equivalent",
                                                       "hello-tools-1.0.jar": "different"}
    assert rows["hello-1.0.jar"].rebuild_sha512_ok and rows["hello-tools-1.0.jar"].rebuild_sha512_ok
    # upstream said ko for both: we disagree on the noise-only one and agree on the tampered one
    assert (rows["hello-1.0.jar"].agrees_upstream, rows["hello-tools-1.0.jar"].agrees_upstream) == (False, True)
    md = tmp_path / "report.md"
    assert main(["report", "--db", str(db), "--format", "markdown", "-o", str(md)]) == 0
    assert "| verdict equivalent | 1 |" in md.read_text()
