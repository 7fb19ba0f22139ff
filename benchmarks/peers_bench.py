#!/usr/bin/env python3
"""canonjar next to the floor and its peers, on real JARs of every size, with the targets as PASS/FAIL.

    python benchmarks/peers_bench.py [--runs 3] [--sets small,medium,large,many,cross,classes]
                                     [--peers diffoscope,strip-nondeterminism] [--out r.json] [--md r.md]

Inputs are real archives of this machine (a Debian ``/usr/share/java`` JAR closest to 50 KB, the largest
1-5 MB one, the largest real zip of 50-100 MB a JDK ships (``lib/src.zip``), the JDK ``lib/ct.sym`` with the
most entries (over 10,000)). Each is paired with a noise-only rebuild: re-zipped in another order with other
times, permissions and compression levels, no directory entries, and ``Built-By``/``Build-Jdk``/``Created-By``
changed in the manifest. Two more pairs: ``cross`` (the medium JAR against the same files packed again by
the JDK's ``jar`` tool) and ``classes`` (the medium noise-only rebuild with ``--changed-classes`` class files
changed: one character of a string constant), which gives the cost of each differing class.

Each measurement runs in a fresh child process; its peak RSS is that child's own ``VmHWM`` (canonjar, floor)
or the largest ``ru_maxrss`` of its children (external tools):

* ``canonjar``: ``canonjar.compare_files(ref, rebuild)`` with every default stabilizer;
* ``floor``: inflate every entry of both archives with :mod:`zipfile` (CRC checked) and SHA-256 it;
* ``diffoscope``: ``diffoscope --text - ref rebuild`` (capped by ``--peer-timeout``; reported as ">timeout");
* ``strip-nondeterminism``: copy both files, normalize both with ``strip-nondeterminism``, then ``cmp``.

Ratios are taken within one run, so a loaded machine slows both sides of a ratio alike.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(HERE.parent))  # run from a checkout: the package next to benchmarks/

from compare_bench import JMOD_MAGIC, java_home, peak_rss_kib, usable  # noqa: E402

SETS = ("small", "medium", "large", "many", "cross", "classes")
PEERS = ("diffoscope", "strip-nondeterminism")
TARGET_FLOOR_RATIO = 1.5
TARGET_DIFFOSCOPE = {"medium": 25.0, "many": 60.0}
TARGET_MS_PER_CLASS = 5.0
TARGET_RSS_MIB = 150.0


# ----------------------------------------------------------------------------------------------- inputs

def jdk_homes() -> list[Path]:
    """JDK installations of this machine: JAVA_HOME, the one of ``javac`` on PATH, the system's JVM directory."""
    homes: list[Path] = []
    for cand in (os.environ.get("JAVA_HOME"), java_home()):
        if cand:
            homes.append(Path(cand))
    jvm = Path("/usr/lib/jvm")
    if jvm.is_dir():
        homes += sorted(p for p in jvm.iterdir() if p.is_dir())
    out: list[Path] = []
    for h in homes:
        r = h.resolve()
        if r not in out and (r / "lib").is_dir():
            out.append(r)
    return out


def _files(paths: list[Path]) -> list[Path]:
    seen: list[Path] = []
    for p in paths:
        r = p.resolve()
        if r.is_file() and r not in seen:
            seen.append(r)
    return seen


def _entries(path: Path) -> int:
    try:
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
    except (zipfile.BadZipFile, OSError):
        return 0
    return len(names) if len(names) == len(set(names)) else 0


def pick_inputs() -> dict[str, Path]:
    """One real archive per size class (missing classes are left out)."""
    debian = [p for p in _files(sorted(Path("/usr/share/java").glob("*.jar"))) if _entries(p)]
    jdk_lib = _files([p for h in jdk_homes() for p in sorted((h / "lib").glob("*")) if p.suffix in
                      (".jar", ".zip", ".sym")])
    jdk_lib = [p for p in jdk_lib if p.read_bytes()[:4] != JMOD_MAGIC and _entries(p)]
    every = debian + jdk_lib
    picked: dict[str, Path] = {}
    small = [p for p in debian if 20_000 <= p.stat().st_size <= 100_000]
    if small:
        picked["small"] = min(small, key=lambda p: abs(p.stat().st_size - 50_000))
    medium = [p for p in every if 1_000_000 <= p.stat().st_size <= 5_000_000]
    if medium:
        picked["medium"] = max(medium, key=lambda p: p.stat().st_size)
    large = [p for p in every if 50 * 2**20 <= p.stat().st_size <= 100 * 2**20]
    if large:
        picked["large"] = max(large, key=lambda p: p.stat().st_size)
    many = [p for p in every if _entries(p) > 10_000 and p.stat().st_size < 50 * 2**20]
    if many:
        picked["many"] = max(many, key=_entries)
    return picked


_MANIFEST_NOISE = (b"Built-By", b"Build-Jdk", b"Created-By")


def noisy_manifest(data: bytes, rng: random.Random) -> bytes:
    """The manifest with its build-environment attributes set to other values (added when missing)."""
    eol = b"\r\n" if b"\r\n" in data else b"\n"
    head, sep, rest = data.partition(eol + eol)
    lines = [ln for ln in head.split(eol) if ln.split(b":", 1)[0] not in _MANIFEST_NOISE]
    lines += [b"Built-By: builder" + str(rng.randrange(1000)).encode(),
              b"Build-Jdk: 17.0." + str(rng.randrange(20)).encode(),
              b"Created-By: Apache Maven 3." + str(rng.randrange(10)).encode()]
    return eol.join(lines) + (sep + rest if sep else eol)


def rezip(data: bytes, seed: int, edit: Callable[[str, bytes], bytes] | None = None) -> bytes:
    """``data`` re-zipped with noise only: order, times, modes, compression level, no directory entries,
    build-environment manifest attributes; ``edit`` may change entry contents (the changed-classes pair)."""
    rng = random.Random(seed)
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(buf, "w") as out:
        infos = [i for i in src.infolist() if not i.is_dir()]
        rng.shuffle(infos)
        for n, info in enumerate(infos):
            zi = zipfile.ZipInfo(info.filename, (2025, 6, 1 + n % 28, n % 24, n % 60, (2 * n) % 60))
            old_mode = (info.external_attr >> 16) if info.create_system == 3 else 0
            zi.create_system = 3
            zi.external_attr = (0o100000 | 0o664 | (old_mode & 0o100)) << 16
            zi.compress_type = zipfile.ZIP_DEFLATED
            body = src.read(info)
            if info.filename.upper() == "META-INF/MANIFEST.MF":
                body = noisy_manifest(body, rng)
            if edit is not None:
                body = edit(info.filename, body)
            out.writestr(zi, body, compresslevel=1 if n % 3 else 9)
    return buf.getvalue()


def change_classes(count: int) -> tuple[Callable[[str, bytes], bytes], list[str]]:
    """An edit that changes one character of a string constant (the ``SourceFile`` name) in ``count`` classes."""
    changed: list[str] = []

    def edit(name: str, body: bytes) -> bytes:
        if len(changed) >= count or not name.endswith(".class") or body[:4] != b"\xca\xfe\xba\xbe":
            return body
        at = body.find(b".java")
        if at < 1:
            return body
        changed.append(name)
        flipped = b"Q" if body[at - 1:at] != b"Q" else b"R"
        return body[:at - 1] + flipped + body[at:]

    return edit, changed


def jar_tool_repack(src: Path, dest: Path, tmp: Path) -> bool:
    """``src`` extracted and packed again by the JDK's ``jar`` tool (its own manifest handling, order, times)."""
    jar = shutil.which("jar")
    if jar is None:
        return False
    root = tmp / "extracted"
    with zipfile.ZipFile(src) as zf:
        for info in zf.infolist():
            if ".." in Path(info.filename).parts or info.filename.startswith("/"):
                return False
        zf.extractall(root)
    manifest = root / "META-INF" / "MANIFEST.MF"
    cmd = [jar, "--create", "--file", str(dest)]
    if manifest.is_file():
        cmd += ["--manifest", str(manifest)]
        moved = tmp / "MANIFEST.MF"
        manifest.rename(moved)
        cmd[-1] = str(moved)
    else:
        cmd.append("--no-manifest")
    cmd += ["-C", str(root), "."]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    shutil.rmtree(root, ignore_errors=True)
    return proc.returncode == 0


# ----------------------------------------------------------------------------------------------- workers

def _floor(ref: str, rebuild: str) -> str:
    import hashlib

    for path in (ref, rebuild):
        with zipfile.ZipFile(path) as zf:
            for info in zf.infolist():
                hashlib.sha256(zf.read(info)).digest()
    return "read"


def _canonjar(ref: str, rebuild: str) -> str:
    import canonjar

    outcome = canonjar.compare_files(ref, rebuild)
    if outcome.verdict.value == "error":
        raise SystemExit(f"canonjar error: {outcome.error}")
    return f"{outcome.verdict.value} ({len(outcome.differences)} differences)"


def _external(kind: str, ref: str, rebuild: str, timeout: float) -> str:
    if kind == "diffoscope":
        proc = subprocess.run(["diffoscope", "--no-progress", "--text", os.devnull, ref, rebuild],
                              capture_output=True, timeout=timeout, check=False)
        if proc.returncode not in (0, 1):
            raise SystemExit(f"diffoscope failed: {proc.stderr.decode(errors='replace')[-300:]}")
        return "identical" if proc.returncode == 0 else "different"
    with tempfile.TemporaryDirectory(prefix="canonjar-sn-") as tmp:
        a, b = Path(tmp) / "a.jar", Path(tmp) / "b.jar"
        shutil.copyfile(ref, a)
        shutil.copyfile(rebuild, b)
        for p in (a, b):
            subprocess.run(["strip-nondeterminism", "-t", "jar", str(p)], capture_output=True,
                           timeout=timeout, check=True)
        same = subprocess.run(["cmp", "-s", str(a), str(b)], check=False).returncode == 0
    return "identical" if same else "different"


def worker(kind: str, ref: str, rebuild: str, runs: int, warmup: int, timeout: float) -> None:
    """Run one measurement ``warmup + runs`` times and print its JSON on stdout."""
    if kind == "canonjar":
        import canonjar  # noqa: F401 - imported before timing, like zipfile for the floor
    times: list[float] = []
    result = ""
    timed_out = False
    for i in range(warmup + runs):
        t0 = time.perf_counter()
        try:
            if kind == "canonjar":
                result = _canonjar(ref, rebuild)
            elif kind == "floor":
                result = _floor(ref, rebuild)
            else:
                result = _external(kind, ref, rebuild, timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            times.append(time.perf_counter() - t0)
            break
        if i >= warmup:
            times.append(time.perf_counter() - t0)
    rss = peak_rss_kib() if kind in ("canonjar", "floor") else \
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    json.dump({"times": times, "peak_rss_kib": rss, "result": result, "timeout": timed_out}, sys.stdout)


def measure(kind: str, ref: Path, rebuild: Path, runs: int, warmup: int, timeout: float) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", kind, str(ref), str(rebuild),
           "--runs", str(runs), "--warmup", str(warmup), "--peer-timeout", str(timeout)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"{kind} on {ref.name}: {proc.stderr.strip()[-500:] or proc.stdout.strip()}")
    res: dict[str, Any] = json.loads(proc.stdout)
    t = res["times"]
    res.update(median_s=statistics.median(t), min_s=min(t), max_s=max(t))
    return res


# ----------------------------------------------------------------------------------------------- report

def _cell(m: dict[str, Any] | None) -> str:
    if m is None:
        return "-"
    if m["timeout"]:
        return f">{m['max_s']:.0f} (timeout)"
    if len(m["times"]) == 1:
        return f"{m['median_s']:.3f}"
    return f"{m['median_s']:.3f} ({m['min_s']:.3f}-{m['max_s']:.3f})"


def _rss(m: dict[str, Any] | None) -> str:
    return "-" if m is None else f"{m['peak_rss_kib'] / 1024:.0f}"


def table(rows: list[dict[str, Any]]) -> str:
    out = ["| pair | archive | entries | MiB | canonjar s | floor s | canonjar/floor | diffoscope s "
           "| diffoscope/canonjar | strip-nondeterminism+cmp s | RSS MiB canonjar / floor / diffoscope "
           "| canonjar verdict |",
           "| --- | --- | ---: | ---: | --- | --- | ---: | --- | ---: | --- | --- | --- |"]
    for r in rows:
        m = r["measurements"]
        c, f, d, s = m.get("canonjar"), m.get("floor"), m.get("diffoscope"), m.get("strip-nondeterminism")
        ratio = f"{c['median_s'] / f['median_s']:.2f}x" if c and f else "-"
        dratio = "-"
        if c and d:
            dratio = f"{'>' if d['timeout'] else ''}{d['median_s'] / c['median_s']:.0f}x"
        sn = "-" if s is None else _cell(s) if s["timeout"] else f"{_cell(s)} ({s['result']})"
        out.append(f"| {r['pair']} | {r['archive']} | {r['entries']} | {r['bytes'] / 2**20:.2f} | {_cell(c)} "
                   f"| {_cell(f)} | {ratio} | {_cell(d)} | {dratio} | {sn} "
                   f"| {_rss(c)} / {_rss(f)} / {_rss(d)} | {c['result'] if c else '-'} |")
    return "\n".join(out)


def targets(rows: list[dict[str, Any]], per_class_ms: float | None) -> list[tuple[str, bool | None, str]]:
    """(target, passed or None when not measured, measured value)."""
    res: list[tuple[str, bool | None, str]] = []
    by = {r["pair"]: r["measurements"] for r in rows}
    for pair in ("small", "medium", "large", "many"):
        m = by.get(pair)
        if m and "canonjar" in m and "floor" in m:
            ratio = m["canonjar"]["median_s"] / m["floor"]["median_s"]
            res.append((f"{pair}: noise-only compare <= {TARGET_FLOOR_RATIO}x floor", ratio <= TARGET_FLOOR_RATIO,
                        f"{ratio:.2f}x"))
    for pair, want in TARGET_DIFFOSCOPE.items():
        m = by.get(pair)
        if m and "canonjar" in m and "diffoscope" in m:
            d = m["diffoscope"]
            ratio = d["median_s"] / m["canonjar"]["median_s"]
            # A timed-out diffoscope gives a lower bound: it passes if even that bound meets the target,
            # otherwise the target is undecided (None), never a FAIL the measurement cannot support.
            ok: bool | None = ratio >= want
            if d["timeout"] and not ok:
                ok = None
            res.append((f"{pair}: >= {want:.0f}x faster than diffoscope", ok,
                        f"{'>' if d['timeout'] else ''}{ratio:.0f}x"))
        elif m and "canonjar" in m:
            res.append((f"{pair}: >= {want:.0f}x faster than diffoscope", None, "diffoscope not measured"))
    if per_class_ms is not None:
        res.append((f"each differing class <= {TARGET_MS_PER_CLASS} ms", per_class_ms <= TARGET_MS_PER_CLASS,
                    f"{per_class_ms:.2f} ms"))
    worst = max((r["measurements"]["canonjar"]["peak_rss_kib"] / 1024, r["pair"]) for r in rows
                if "canonjar" in r["measurements"])
    res.append((f"canonjar peak RSS <= {TARGET_RSS_MIB:.0f} MiB on every pair", worst[0] <= TARGET_RSS_MIB,
                f"{worst[0]:.0f} MiB max ({worst[1]})"))
    return res


def machine() -> dict[str, Any]:
    cpu = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            cpu = next((ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name")), "")
    except OSError:
        pass
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    return {"nproc": os.cpu_count(), "cpu": cpu, "python": platform.python_version(),
            "system": f"{platform.system()} {platform.release()}", "loadavg_at_start": [round(x, 2) for x in load]}


# ----------------------------------------------------------------------------------------------- main

def _tool_available(peer: str) -> bool:
    return shutil.which("diffoscope" if peer == "diffoscope" else "strip-nondeterminism") is not None


def build_pairs(sets: list[str], tmp: Path, changed: int, jar: Path | None) -> list[dict[str, Any]]:
    inputs = pick_inputs()
    if jar is not None:
        inputs = {"small": jar.resolve(), "medium": jar.resolve()}
    pairs: list[dict[str, Any]] = []
    for n, pair in enumerate(sets):
        base = "medium" if pair in ("cross", "classes") else pair
        src = inputs.get(base)
        if src is None:
            print(f"no real archive for '{pair}' on this machine; left out", file=sys.stderr)
            continue
        data = src.read_bytes()
        if not usable(data):
            continue
        ref, reb = tmp / f"{pair}-ref.zip", tmp / f"{pair}-rebuild.zip"
        shutil.copyfile(src, ref)
        note = "noise-only re-zip"
        extra: dict[str, Any] = {}
        if pair == "cross":
            if not jar_tool_repack(src, reb, tmp):
                print("no usable 'jar' tool; cross pair left out", file=sys.stderr)
                continue
            note = "same files packed again by the JDK jar tool"
        elif pair == "classes":
            edit, names = change_classes(changed)
            reb.write_bytes(rezip(data, seed=n, edit=edit))
            extra["changed_classes"] = len(names)
            note = f"noise-only re-zip with {len(names)} classes changed"
        else:
            reb.write_bytes(rezip(data, seed=n))
        pairs.append({"pair": pair, "archive": src.name, "source": str(src), "ref": ref, "rebuild": reb,
                      "note": note, "entries": _entries(src), "bytes": src.stat().st_size, **extra})
    return pairs


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=3, help="timed runs of canonjar and the floor (default 3)")
    ap.add_argument("--warmup", type=int, default=1, help="untimed runs first (default 1)")
    ap.add_argument("--peer-runs", type=int, default=1, help="timed runs of each peer tool (default 1)")
    ap.add_argument("--peer-timeout", type=float, default=600.0, help="seconds per peer run (default 600)")
    ap.add_argument("--sets", default=",".join(SETS), help=f"pairs to measure (default {','.join(SETS)})")
    ap.add_argument("--peers", default=",".join(PEERS), help="peer tools to run, or 'none'")
    ap.add_argument("--peer-sets", default="small,medium,many,large",
                    help="pairs on which the peers run (default small,medium,many,large)")
    ap.add_argument("--changed-classes", type=int, default=200, help="classes changed in the 'classes' pair")
    ap.add_argument("--jar", type=Path, default=None, help="use this archive as the small and medium input")
    ap.add_argument("--out", type=Path, default=None, help="JSON file (default benchmarks/results/peers-<t>.json)")
    ap.add_argument("--md", type=Path, default=None, help="also write the Markdown report to this file")
    ap.add_argument("--worker", nargs=3, metavar=("KIND", "REF", "REBUILD"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args.worker[0], args.worker[1], args.worker[2], args.runs, args.warmup, args.peer_timeout)
        return
    if args.runs < 1 or args.peer_runs < 1:
        ap.error("--runs and --peer-runs must be at least 1")
    sets = [s for s in args.sets.split(",") if s]
    unknown = [s for s in sets if s not in SETS]
    if unknown:
        ap.error(f"unknown set(s) {unknown}; known: {', '.join(SETS)}")
    peers = [] if args.peers == "none" else [p for p in args.peers.split(",") if p]
    if any(p not in PEERS for p in peers):
        ap.error(f"--peers: known peers are {', '.join(PEERS)} or 'none'")
    peers = [p for p in peers if _tool_available(p)]
    peer_sets = set(args.peer_sets.split(","))
    info = machine()
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())

    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="canonjar-peers-") as tmp_s:
        tmp = Path(tmp_s)
        pairs = build_pairs(sets, tmp, args.changed_classes, args.jar)
        if not pairs:
            raise SystemExit("no real archives found: install a JDK or Debian's Java libraries")
        for p in pairs:
            print(f"measuring {p['pair']} ({p['archive']}) ...", file=sys.stderr, flush=True)
            m: dict[str, Any] = {}
            m["floor"] = measure("floor", p["ref"], p["rebuild"], args.runs, args.warmup, args.peer_timeout)
            m["canonjar"] = measure("canonjar", p["ref"], p["rebuild"], args.runs, args.warmup, args.peer_timeout)
            if p["pair"] in peer_sets:
                for peer in peers:
                    m[peer] = measure(peer, p["ref"], p["rebuild"], args.peer_runs, 0, args.peer_timeout)
            row = {k: v for k, v in p.items() if k not in ("ref", "rebuild")}
            row["measurements"] = m
            rows.append(row)

    per_class_ms = None
    by = {r["pair"]: r for r in rows}
    if "classes" in by and "medium" in by and by["classes"].get("changed_classes"):
        extra = by["classes"]["measurements"]["canonjar"]["median_s"] - by["medium"]["measurements"]["canonjar"][
            "median_s"]
        per_class_ms = max(extra, 0.0) * 1000 / by["classes"]["changed_classes"]
    checks = targets(rows, per_class_ms)
    load_end = [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else []

    import canonjar

    lines = [f"canonjar {canonjar.__version__}; {info['nproc']} CPUs ({info['cpu']}); Python {info['python']}; "
             f"{info['system']}; load average {info['loadavg_at_start']} at start, {load_end} at the end; "
             f"{args.runs} runs (+{args.warmup} warm-up) of canonjar and the floor, {args.peer_runs} of each peer; "
             f"started {started}.", "", "Times in seconds: median (min-max).", "", table(rows), ""]
    if per_class_ms is not None:
        lines.append(f"Each differing class: (classes pair - medium pair) / {by['classes']['changed_classes']} "
                     f"classes = {per_class_ms:.2f} ms.")
        lines.append("")
    lines.append("| target | result | measured |")
    lines.append("| --- | --- | --- |")
    for name, ok, value in checks:
        lines.append(f"| {name} | {'undecided' if ok is None else 'PASS' if ok else 'FAIL'} | {value} |")
    report = "\n".join(lines)
    print(report)
    doc = {"machine": info, "loadavg_at_end": load_end, "started": started, "runs": args.runs,
           "warmup": args.warmup, "peer_runs": args.peer_runs, "peer_timeout_s": args.peer_timeout,
           "canonjar_version": canonjar.__version__, "results": rows, "ms_per_differing_class": per_class_ms,
           "targets": [{"target": n, "pass": ok, "measured": v} for n, ok, v in checks]}
    out = args.out or HERE / "results" / f"peers-{re.sub(r'[-:]', '', started)}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    if args.md is not None:
        args.md.write_text(report + "\n", encoding="utf-8")
    print(f"\nwrote {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
