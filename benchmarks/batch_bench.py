#!/usr/bin/env python3
"""Throughput of ``canonjar batch``: artifacts per minute and MB/s on N realistic pairs.

    python benchmarks/batch_bench.py [--pairs 40] [--jobs 2] [--out benchmarks/results/batch.json]

Inputs are real library JARs of this machine (``/usr/share/java``, else the JDK's ``lib/*.jar``), up to
``--max-size`` bytes each. For pair i the reference is such a JAR with one small resource naming i appended
(so no two pairs are the same bytes and nothing is skipped as already done); the rebuild is the same files
zipped again with only noise changed (reversed entry order, other timestamps, permissions and compression
level, no directory entries), so every verdict must be ``equivalent``. The references are laid out as a
Maven repository served through ``file://``, the rebuilds as a Reproducible Central ``buildcache/`` tree,
and one buildspec/.buildinfo describes them all.

Three runs of the real command line, each timed from the outside (wall clock), and one in-process floor:

* ``cold``: empty cache and database (downloads through ``file://`` with checksum verification);
* ``warm``: cache filled, new database (the comparison work alone, plus reading and hashing);
* ``resume``: same database again: every pair is already done (the cost of skipping);
* ``direct``: for scale, ``canonjar.api.compare_files`` on every pair, one after the other, in the
  benchmark's own process (one core, no batch machinery, no process start).

Prints a Markdown table and writes JSON to ``--out`` (``benchmarks/results/`` is not committed).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GROUP, ARTIFACT, VERSION = "org.bench", "bench", "1.0"


def find_jars(max_size: int) -> list[Path]:
    """Real JARs that are plain files under ``max_size`` bytes, sorted by name (stable across runs)."""
    dirs = [Path("/usr/share/java")]
    javac = shutil.which("javac")
    if javac:
        dirs.append(Path(os.path.realpath(javac)).parent.parent / "lib")
    found = []
    for d in dirs:
        if d.is_dir():
            found += sorted(p for p in d.glob("*.jar") if p.is_file() and not p.is_symlink()
                            and 0 < p.stat().st_size <= max_size and zipfile.is_zipfile(p))
    return found


def reference_bytes(src: Path, tag: int, dest: Path) -> bytes:
    """``src`` with one resource appended (the original entries' bytes untouched)."""
    shutil.copyfile(src, dest)
    with zipfile.ZipFile(dest, "a") as zf:
        zf.writestr(f"META-INF/canonjar-bench/pair-{tag}.txt", f"pair {tag}\n")
    return dest.read_bytes()


def noisy_rebuild(ref: Path, dest: Path) -> None:
    """The same files zipped again: reversed order, other times/modes/level, no directory entries.

    The owner-execute bit is kept (canonjar rightly reports a lost one, e.g. on native libraries)."""
    with zipfile.ZipFile(ref) as zin, zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zout:
        for info in reversed(zin.infolist()):
            if info.is_dir():
                continue
            out = zipfile.ZipInfo(info.filename, (2031, 3, 4, 5, 6, 8))
            out.compress_type = zipfile.ZIP_DEFLATED
            executable = (info.external_attr >> 16) & 0o100  # kept: the owner-execute bit is not noise
            out.external_attr = (0o100664 | (0o111 if executable else 0)) << 16
            out.create_system = 3
            zout.writestr(out, zin.read(info))


def build(root: Path, jars: list[Path], pairs: int) -> int:
    """Write the mirror, the buildcache and the release files; returns the bytes of all pairs."""
    repo_dir = root / "mirror" / GROUP.replace(".", "/") / ARTIFACT / VERSION
    target = root / "buildcache" / ARTIFACT / "target"
    content = root / "content" / GROUP.replace(".", "/")
    for d in (repo_dir, target, content):
        d.mkdir(parents=True)
    lines = ["buildinfo.version=1.0-SNAPSHOT", f"group-id={GROUP}", f"artifact-id={ARTIFACT}", f"version={VERSION}",
             ""]
    total = 0
    for i in range(pairs):
        src = jars[i % len(jars)]
        name = f"{ARTIFACT}-{VERSION}-p{i:03d}-{src.stem}.jar"
        ref = reference_bytes(src, i, repo_dir / name)
        (repo_dir / (name + ".sha512")).write_text(hashlib.sha512(ref).hexdigest() + "\n")
        noisy_rebuild(repo_dir / name, target / name)
        reb = (target / name).read_bytes()
        total += len(ref) + len(reb)
        lines += [f"outputs.{i}.groupId={GROUP}", f"outputs.{i}.filename={name}", f"outputs.{i}.length={len(reb)}",
                  f"outputs.{i}.checksums.sha512={hashlib.sha512(reb).hexdigest()}", ""]
    (content / f"{ARTIFACT}-{VERSION}.buildspec").write_text(
        f"groupId={GROUP}\nartifactId={ARTIFACT}\nversion={VERSION}\ntool=mvn\njdk=17\nnewline=lf\n"
        "buildinfo=target/${artifactId}-${version}.buildinfo\n")
    (content / f"{ARTIFACT}-{VERSION}.buildinfo").write_text("\n".join(lines))
    return total


def run_batch(root: Path, db: Path, jobs: int) -> tuple[float, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    cmd = [sys.executable, "-m", "canonjar", "batch", str(root / "content"), "--rebuild-dir",
           str(root / "buildcache"), "--reference-repo", (root / "mirror").as_uri(), "--cache", str(root / "cache"),
           "--db", str(db), "--jobs", str(jobs)]
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"batch failed ({proc.returncode}): {proc.stderr.strip()}")
    return wall, proc.stdout.strip()


def verdicts(db: Path) -> tuple[dict[str, int], float]:
    """Verdict counts and the sum of the per-pair comparison times measured in the workers."""
    conn = sqlite3.connect(db)
    try:
        counts = dict(conn.execute("SELECT verdict, count(*) FROM results GROUP BY verdict").fetchall())
        busy = float(conn.execute("SELECT coalesce(sum(elapsed), 0) FROM results").fetchone()[0])
        return counts, busy
    finally:
        conn.close()


def direct(root: Path) -> dict[str, object]:
    """The floor: ``canonjar.api.compare_files`` on every pair in this one process (no batch machinery)."""
    sys.path.insert(0, str(ROOT))
    from canonjar.api import compare_files

    repo_dir = root / "mirror" / GROUP.replace(".", "/") / ARTIFACT / VERSION
    target = root / "buildcache" / ARTIFACT / "target"
    counts: dict[str, int] = {}
    start = time.perf_counter()
    for rebuild in sorted(target.glob("*.jar")):
        verdict = compare_files(repo_dir / rebuild.name, rebuild).verdict.value
        counts[verdict] = counts.get(verdict, 0) + 1
    wall = time.perf_counter() - start
    return {"wall_s": wall, "summary": "compare_files in one process", "verdicts": counts, "compare_s": wall}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--pairs", type=int, default=40, help="number of (reference, rebuild) pairs")
    ap.add_argument("--jobs", type=int, default=2, help="worker processes (--jobs of canonjar batch)")
    ap.add_argument("--max-size", type=int, default=3_000_000, help="largest source JAR, in bytes")
    ap.add_argument("--out", type=Path, default=None, help="write the numbers as JSON here")
    args = ap.parse_args(argv)
    jars = find_jars(args.max_size)
    if not jars:
        sys.stderr.write("batch_bench: no library JARs on this machine\n")
        return 2
    with tempfile.TemporaryDirectory(prefix="canonjar-batch-bench-") as tmp:
        root = Path(tmp)
        total_bytes = build(root, jars, args.pairs)
        runs = {}
        for label, db in (("cold", "cold.sqlite"), ("warm", "warm.sqlite"), ("resume", "warm.sqlite")):
            wall, summary = run_batch(root, root / db, args.jobs)
            counts, busy = verdicts(root / db)
            runs[label] = {"wall_s": wall, "summary": summary, "verdicts": counts, "compare_s": busy}
        runs["direct"] = direct(root)
        for label in ("cold", "warm"):
            if runs[label]["verdicts"] != {"equivalent": args.pairs}:
                raise SystemExit(f"unexpected verdicts in the {label} run: {runs[label]['verdicts']}")
    rows = []
    for label, r in runs.items():
        wall = float(r["wall_s"])  # type: ignore[arg-type]
        busy = float(r["compare_s"]) if label not in ("resume", "direct") else 0.0  # type: ignore[arg-type]
        rows.append((label, wall, args.pairs / wall * 60, total_bytes / wall / 1e6, busy))
    print(f"canonjar batch: {args.pairs} pairs from {len(jars)} real JARs, {total_bytes / 1e6:.1f} MB in all, "
          f"--jobs {args.jobs}, {os.cpu_count()} CPU(s), load average {os.getloadavg()[0]:.1f}\n")
    print("| run | wall time (s) | artifacts/min | MB/s | comparing, summed over workers (s) |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for label, wall, apm, mbs, busy in rows:
        print(f"| {label} | {wall:.1f} | {apm:.0f} | {mbs:.2f} | {busy:.1f} |")
    doc = {"date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "python": platform.python_version(),
           "pairs": args.pairs, "jobs": args.jobs, "bytes": total_bytes, "sources": [p.name for p in jars],
           "runs": runs}
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(doc, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
