#!/usr/bin/env python3
"""How fast is ``canonjar.compare_bytes`` on a noise-only pair, next to the floor of reading both JARs?

    python benchmarks/compare_bench.py [--runs 5] [--out benchmarks/results/compare.json]

Inputs are real JARs of this machine: the largest of the JDK's ``jmods/*.jmod`` and ``lib/*.jar`` and of
``/usr/share/java``, plus a synthetic many-entry JAR made of the entries of many of them. For each one a
"rebuild" copy is re-zipped with only zip noise changed: another entry order, other timestamps, another
compression level, other permissions (owner-execute bit kept), the directory entries left out.

Two measurements per pair, each in a fresh subprocess so that its peak RSS is its own:

* ``canonjar``: ``canonjar.compare_bytes(ref, rebuild)`` with every built-in stabilizer (the verdict must
  be "equivalent");
* ``floor``: what any reader must at least do: inflate every entry of both JARs with :mod:`zipfile` (CRC
  checked) and SHA-256 it.

The ratio canonjar/floor of the median times is the figure of merit; the target is 1.5x or less.
Results are printed as a Markdown table and written as JSON (``benchmarks/results/`` is not committed).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import io
import json
import os
import platform
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
JMOD_MAGIC = b"JM\x01\x00"
TARGET_RATIO = 1.5


# ----------------------------------------------------------------------------------------------- inputs

def java_home() -> Path | None:
    javac = shutil.which("javac")
    return Path(os.path.realpath(javac)).parent.parent if javac else None


def zip_bytes(path: Path) -> bytes:
    """The zip inside ``path`` (a jmod is a zip behind a 4-byte header)."""
    data = path.read_bytes()
    return data[4:] if data[:4] == JMOD_MAGIC else data


def usable(data: bytes) -> bool:
    """A readable zip without duplicate names (a duplicate is a finding, never 'equivalent')."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = zf.namelist()
    except (zipfile.BadZipFile, OSError):
        return False
    return len(names) == len(set(names)) and len(names) > 0


def candidates(per_source: int) -> list[Path]:
    """The ``per_source`` largest distinct archives of each source on this machine."""
    sources: list[list[Path]] = []
    home = java_home()
    if home is not None:
        sources.append(sorted((home / "jmods").glob("*.jmod")))
        sources.append(sorted((home / "lib").glob("*.jar")))
    sources.append(sorted(Path("/usr/share/java").glob("*.jar")))
    chosen: list[Path] = []
    seen: set[Path] = set()
    for paths in sources:
        real = []
        for p in paths:
            r = p.resolve()
            if r.is_file() and r not in seen:
                seen.add(r)
                real.append(r)
        real.sort(key=lambda p: p.stat().st_size, reverse=True)
        chosen += real[:per_source]
    return chosen


def synthetic(pool: list[Path], min_entries: int) -> bytes:
    """One JAR with at least ``min_entries`` files taken from the archives in ``pool`` (as a jar tool would)."""
    buf = io.BytesIO()
    count = 0
    when = (2024, 1, 1, 0, 0, 0)
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as out:
        out.writestr(zipfile.ZipInfo("META-INF/MANIFEST.MF", when), b"Manifest-Version: 1.0\r\n\r\n")
        for k, src in enumerate(pool):
            data = zip_bytes(src)
            if not usable(data):
                continue
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                for info in zf.infolist():
                    if info.is_dir() or info.filename.upper().startswith("META-INF/"):
                        continue
                    zi = zipfile.ZipInfo(f"{k:03d}-{src.stem}/{info.filename}", when)
                    zi.compress_type = zipfile.ZIP_DEFLATED
                    out.writestr(zi, zf.read(info))
                    count += 1
            if count >= min_entries:
                break
    return buf.getvalue()


def rebuild_of(data: bytes, seed: int) -> bytes:
    """``data`` re-zipped with noise only: order, times, compression level, modes, no directory entries."""
    rng = random.Random(seed)
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(buf, "w") as out:
        infos = [i for i in src.infolist() if not i.is_dir()]
        rng.shuffle(infos)
        for n, info in enumerate(infos):
            zi = zipfile.ZipInfo(info.filename, (2025, 6, 1 + n % 28, n % 24, n % 60, (2 * n) % 60))
            old_mode = (info.external_attr >> 16) if info.create_system == 3 else 0
            if old_mode & 0o170000 == 0o120000:  # keep a symlink as it is: canonjar reports, never hides it
                zi.create_system, zi.external_attr = info.create_system, info.external_attr
            else:
                zi.create_system = 3
                zi.external_attr = (0o100000 | 0o664 | (old_mode & 0o100)) << 16
            zi.compress_type = zipfile.ZIP_DEFLATED
            out.writestr(zi, src.read(info), compresslevel=1 if n % 3 else 9)
    return buf.getvalue()


# ----------------------------------------------------------------------------------------------- worker

def _floor(ref: bytes, rebuild: bytes) -> int:
    n = 0
    for data in (ref, rebuild):
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            for info in zf.infolist():
                hashlib.sha256(zf.read(info)).digest()
                n += 1
    return n


def _canonjar(ref: bytes, rebuild: bytes) -> int:
    import canonjar

    outcome = canonjar.compare_bytes(ref, rebuild)
    if outcome.verdict.value != "equivalent":
        first = outcome.error or "; ".join(f"{d.kind.value} {d.path} [{d.aspect}]" for d in
                                          outcome.differences[:5])
        raise SystemExit(f"expected 'equivalent', got {outcome.verdict.value!r}: {first}")
    return len(outcome.differences)


def peak_rss_kib() -> int:
    """This process's peak resident set size in KiB.

    Linux's VmHWM starts afresh at exec; ``ru_maxrss`` would include the parent's peak from before the fork.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def worker(kind: str, ref_path: str, rebuild_path: str, runs: int, warmup: int) -> None:
    """Run one measurement and print its JSON on stdout."""
    if kind == "canonjar":
        import canonjar  # noqa: F401 - imported before the baseline, like the floor's zipfile
    fn = _canonjar if kind == "canonjar" else _floor
    ref = Path(ref_path).read_bytes()
    rebuild = Path(rebuild_path).read_bytes()
    baseline = peak_rss_kib()
    times = []
    for i in range(warmup + runs):
        t0 = time.perf_counter()
        fn(ref, rebuild)
        t = time.perf_counter() - t0
        if i >= warmup:
            times.append(t)
    peak = peak_rss_kib()
    json.dump({"times": times, "baseline_rss_kib": baseline, "peak_rss_kib": peak}, sys.stdout)


def measure(kind: str, ref: Path, rebuild: Path, runs: int, warmup: int) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", kind, str(ref), str(rebuild),
           "--runs", str(runs), "--warmup", str(warmup)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"{kind} on {ref.name}: {proc.stderr.strip() or proc.stdout.strip()}")
    res: dict[str, Any] = json.loads(proc.stdout)
    times = res["times"]
    res["median_s"] = statistics.median(times)
    res["min_s"] = min(times)
    res["max_s"] = max(times)
    return res


# ----------------------------------------------------------------------------------------------- main

def _mib(kib: int) -> float:
    return kib / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--runs", type=int, default=5, help="timed runs per measurement (default 5)")
    ap.add_argument("--warmup", type=int, default=1, help="untimed runs first (default 1)")
    ap.add_argument("--per-source", type=int, default=2,
                    help="largest archives taken from each of jmods/, lib/ and /usr/share/java (default 2)")
    ap.add_argument("--synthetic-entries", type=int, default=40000,
                    help="files in the synthetic many-entry JAR; 0 leaves it out (default 40000)")
    ap.add_argument("--out", type=Path, default=None,
                    help="JSON file to write (default benchmarks/results/compare-<time>.json)")
    ap.add_argument("--worker", nargs=3, metavar=("KIND", "REF", "REBUILD"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args.worker[0], args.worker[1], args.worker[2], args.runs, args.warmup)
        return
    if args.runs < 1:
        ap.error("--runs must be at least 1")

    import canonjar

    pairs: list[tuple[str, bytes]] = []
    for p in candidates(args.per_source):
        data = zip_bytes(p)
        if usable(data):
            pairs.append((p.name, data))
    if args.synthetic_entries > 0:
        pool = sorted(candidates(10_000), key=lambda p: p.stat().st_size)
        data = synthetic(pool, args.synthetic_entries)
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            pairs.append((f"synthetic-{len(zf.infolist())}-entries.jar", data))
    if not pairs:
        raise SystemExit("no JARs found: install a JDK (jmods/) or Debian's Java libraries (/usr/share/java)")

    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="canonjar-bench-") as tmp:
        for i, (name, data) in enumerate(pairs):
            ref_p = Path(tmp) / f"{i}-ref.zip"
            reb_p = Path(tmp) / f"{i}-rebuild.zip"
            ref_p.write_bytes(data)
            reb_p.write_bytes(rebuild_of(data, seed=i))
            with zipfile.ZipFile(ref_p) as zf:
                infos = zf.infolist()
            print(f"measuring {name} ...", file=sys.stderr, flush=True)
            floor = measure("floor", ref_p, reb_p, args.runs, args.warmup)
            canon = measure("canonjar", ref_p, reb_p, args.runs, args.warmup)
            ratio = canon["median_s"] / floor["median_s"]
            rows.append({
                "artifact": name, "entries": len(infos), "bytes": len(data),
                "uncompressed_bytes": sum(x.file_size for x in infos),
                "canonjar": canon, "floor": floor, "ratio": ratio,
            })

    print(f"\ncanonjar {canonjar.__version__}, Python {platform.python_version()}, {args.runs} runs "
          f"(+{args.warmup} warm-up) each, times in seconds: median (min-max); RSS peak in MiB\n")
    print("| artifact | entries | MiB | canonjar | floor | ratio | canonjar RSS | floor RSS |")
    print("| --- | ---: | ---: | --- | --- | ---: | ---: | ---: |")
    for r in rows:
        c, f = r["canonjar"], r["floor"]
        print(f"| {r['artifact']} | {r['entries']} | {r['bytes'] / 2**20:.1f} "
              f"| {c['median_s']:.3f} ({c['min_s']:.3f}-{c['max_s']:.3f}) "
              f"| {f['median_s']:.3f} ({f['min_s']:.3f}-{f['max_s']:.3f}) "
              f"| {r['ratio']:.2f}x | {_mib(c['peak_rss_kib']):.0f} | {_mib(f['peak_rss_kib']):.0f} |")
    worst = max(r["ratio"] for r in rows)
    verdict = "met" if worst <= TARGET_RATIO else "NOT met"
    print(f"\nworst ratio {worst:.2f}x; target {TARGET_RATIO}x {verdict}")

    out = args.out or HERE / "results" / f"compare-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({
        "canonjar_version": canonjar.__version__, "python": platform.python_version(),
        "machine": platform.machine(), "cpus": os.cpu_count(), "runs": args.runs, "warmup": args.warmup,
        "target_ratio": TARGET_RATIO, "worst_ratio": worst, "results": rows,
    }, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
