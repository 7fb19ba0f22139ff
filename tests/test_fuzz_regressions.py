"""Replays every input the fuzzers ever found (``tests/fuzz/regressions/<target>/``) and the fuzz seeds.

A kept input is a file that once broke a contract of ``tests/fuzz/targets.py``; it must pass forever.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

FUZZ = Path(__file__).parent / "fuzz"
sys.path.insert(0, str(FUZZ))

import run as fuzz_run  # noqa: E402
from targets import TARGETS  # noqa: E402


def _kept() -> list[tuple[str, Path]]:
    out = []
    for target in sorted(TARGETS):
        for path in sorted((FUZZ / "regressions" / target).glob("*")):
            if path.is_file() and not path.name.startswith("."):
                out.append((target, path))
    return out


@pytest.mark.parametrize(("target", "path"), _kept(), ids=lambda v: v.name if isinstance(v, Path) else v)
def test_kept_input_respects_contract(target: str, path: Path) -> None:
    TARGETS[target](path.read_bytes())


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_seeds_respect_contract(target: str, tmp_path: Path) -> None:
    n = fuzz_run.make_seeds(target, tmp_path)
    assert n >= 5
    for seed in sorted(tmp_path.iterdir()):
        TARGETS[target](seed.read_bytes())


def test_zip_target_catches_a_broken_round_trip(monkeypatch: pytest.MonkeyPatch) -> None:
    """The target is not vacuous: if to_bytes() lost a byte, check_zip would fail."""
    import targets

    seeds = Path(__file__).parent / "fuzz"
    assert seeds.is_dir()
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("a.txt", "x")
    data = buf.getvalue()
    real = targets.read_zip

    class Lossy:
        def __init__(self, arc: object) -> None:
            self.arc = arc

        def to_bytes(self) -> bytes:
            return data[:-1]

    monkeypatch.setattr(targets, "read_zip", lambda b, limits: Lossy(real(b, limits)))
    with pytest.raises(AssertionError, match="to_bytes"):
        targets.check_zip(data)


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_atheris_harness_runs(target: str, tmp_path: Path) -> None:
    """The coverage-guided runner itself works (a few hundred executions; long runs are done by hand)."""
    pytest.importorskip("atheris", reason="atheris not installed (pip install '.[fuzz]')")
    import subprocess

    proc = subprocess.run([sys.executable, str(FUZZ / "run.py"), target, "--workdir", str(tmp_path), "-runs=300"],
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Done 300 runs" in proc.stderr or "Done 300 runs" in proc.stdout
    assert "stat::number_of_executed_units" in proc.stderr
