"""The benchmark scripts keep working (a tiny run each; the real measurements are run by hand)."""

from __future__ import annotations

import json
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
