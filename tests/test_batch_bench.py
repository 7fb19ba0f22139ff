"""The batch benchmark keeps working (a tiny run; the real measurements are run by hand)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "benchmarks" / "batch_bench.py"


@pytest.mark.slow
def test_batch_bench_small_run(tmp_path: Path) -> None:
    out = tmp_path / "b.json"
    res = subprocess.run([sys.executable, str(BENCH), "--pairs", "3", "--jobs", "2", "--max-size", "200000",
                          "--out", str(out)], capture_output=True, text=True, timeout=600, check=False)
    if res.returncode == 2 and "no library JARs" in res.stderr:
        pytest.skip("no library JARs on this machine")
    assert res.returncode == 0, res.stderr
    assert "| run | wall time (s) | artifacts/min | MB/s |" in res.stdout and "| cold |" in res.stdout
    doc = json.loads(out.read_text())
    assert doc["runs"]["cold"]["verdicts"] == {"equivalent": 3}
    assert "3 already done; 0 compared" in doc["runs"]["resume"]["summary"]
