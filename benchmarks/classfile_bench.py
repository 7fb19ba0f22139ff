"""Speed and fidelity of the class-file codec on the JDK's java.base, next to jawa 2.2.0.

    python benchmarks/classfile_bench.py [--runs 3] [--limit N] [--jmod PATH] [--out results.json]

Takes every class of ``java.base.jmod`` of the JDK on PATH (or ``--jmod``; ``--limit`` keeps the first N) and
measures, median of ``--runs`` timed runs:

- ``floor``: inflating the classes from the jmod with ``zipfile`` (CRC checked), the least any reader must do;
- ``canonjar read_class`` / ``write_class`` / ``read_class(deep=True)`` (deep: also parses every Code attribute and
  decodes every instruction, BootstrapMethods, Record);
- ``canonicalize``: the three class stabilizers (class-lambda-names, class-member-order,
  class-constant-pool-order) applied to every class as the pipeline applies them (each reads and writes it);
- ``structural diff``: :func:`canonjar.classfile.classdiff.diff_classes` of every class with its canonical form
  (what a differing class costs in a comparison: two symbolic views, the diff and its text).

Then, once, what jawa (the PyPI class-file library) does with the same classes: how many it reads, how many it
writes back byte for byte, and why the others fail; plus whether it reads a class holding a CONSTANT_Dynamic.
Prints Markdown tables and writes the numbers as JSON (to ``benchmarks/results/`` by default).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import io
import json
import os
import shutil
import statistics
import sys
import time
import traceback
import zipfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from canonjar.classfile import (
    ClassFile,
    ClassFormatError,
    Constant,
    ConstantPool,
    read_class,
    write_class,
)
from canonjar.classfile.classdiff import diff_classes
from canonjar.classfile.codec import CHECKED_CLASSES, RECENT_CLASSES
from canonjar.classfile.constants import read_constant_pool
from canonjar.errors import CanonjarError
from canonjar.limits import Budget
from canonjar.model import Entry, Payload
from canonjar.pipeline import Context, Side, select_stabilizers

CLASS_STABILIZERS = "class-lambda-names,class-member-order,class-constant-pool-order"


def default_jmod() -> Path | None:
    javac = shutil.which("javac")
    if javac is None:
        return None
    path = Path(os.path.realpath(javac)).parent.parent / "jmods" / "java.base.jmod"
    return path if path.is_file() else None


def open_jmod(path: Path) -> zipfile.ZipFile:
    data = path.read_bytes()
    if data[:4] != b"JM\x01\x00":
        raise SystemExit(f"{path}: not a jmod (no JM\\x01\\x00 header)")
    return zipfile.ZipFile(io.BytesIO(data[4:]))


def forget_classes() -> None:
    """Empty the codec's memory of checked and recently parsed classes, so that every timed run starts cold
    (within a run, the stabilizers share it as they do in a comparison)."""
    CHECKED_CLASSES.clear()
    RECENT_CLASSES.clear()


def timed(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    """Median wall-clock and median CPU seconds of ``runs`` calls, each from a cold class memory (on a shared
    machine the wall clock also counts the time spent waiting for a CPU; the process time does not)."""
    times = []
    cpu = []
    for _ in range(runs):
        gc.collect()
        forget_classes()
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return statistics.median(times), statistics.median(cpu)


def speed(classes: list[bytes], zf: zipfile.ZipFile, infos: list[zipfile.ZipInfo],
          runs: int) -> tuple[dict[str, float], dict[str, float]]:
    """Median wall-clock and CPU seconds per step, and (in the first dict) how many classes canonicalize
    changed (``canonical_changed``)."""
    def floor() -> None:
        for info in infos:
            zf.read(info)

    def read() -> None:
        for b in classes:
            read_class(b)

    def deep() -> None:
        for b in classes:
            read_class(b, deep=True)

    parsed = [read_class(b) for b in classes]
    if [write_class(cf) for cf in parsed] != classes:
        raise SystemExit("canonjar: a class does not round-trip; the benchmark stops")

    def write() -> None:
        for cf in parsed:
            write_class(cf)

    stabs = select_stabilizers(disable=["all"], enable=[CLASS_STABILIZERS])
    canonical: list[bytes] = []

    def canonicalize() -> None:
        canonical.clear()
        for b in classes:
            entry = Entry(name=b"C.class", payload=Payload.of_bytes(b))
            ctx = Context(Side.REBUILD, Budget())
            for st in stabs:
                fn: Callable[[Entry, Context], Entry] = st.apply  # type: ignore[assignment]  # entry scope
                with contextlib.suppress(CanonjarError):  # skipped (unknown attribute...): class unchanged
                    entry = fn(entry, ctx)
            canonical.append(ctx.content(entry))

    out: dict[str, float] = {}
    cpu: dict[str, float] = {}
    for name, fn in (("floor", floor), ("read", read), ("write", write), ("deep", deep),
                     ("canonicalize", canonicalize)):
        out[name], cpu[name] = timed(fn, runs)
    pairs = [(read_class(a), read_class(b)) for a, b in zip(classes, canonical, strict=True)]

    def structural() -> None:
        for a, b in pairs:
            diff_classes(a, b)

    out["structural_diff"], cpu["structural_diff"] = timed(structural, runs)
    out["canonical_changed"] = float(sum(a != b for a, b in zip(classes, canonical, strict=True)))
    return out, cpu


def _where(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    last = frames[-1] if frames else None
    at = f" in {Path(last.filename).name}:{last.name}" if last else ""
    return f"{type(exc).__name__}{at}"


def _diff_cause(ours: ClassFile, original: bytes, written: bytes) -> str:
    """Which structure jawa's output first differs in, in our parse of the original."""
    at = next((i for i, (x, y) in enumerate(zip(original, written, strict=False)) if x != y),
              min(len(original), len(written)))
    _, cp_end = read_constant_pool(original, 8)
    if at >= cp_end:
        return "differs after the constant pool"
    pos = 10
    for _, c in ours.constant_pool:
        if pos + len(c.raw) > at:
            if c.tag == 1:
                v = c.value
                kind = "NUL (C0 80)" if b"\xc0\x80" in v else "surrogates" if b"\xed" in v else "non-ASCII" if (
                    not v.isascii()) else "ASCII"
                return f"re-encodes a Utf8 constant holding {kind}"
            return f"differs in a constant of tag {c.tag}"
        pos += len(c.raw)
    return "differs in the constant pool"


def dynamic_class() -> bytes:
    """A minimal class whose pool holds a CONSTANT_Dynamic (tag 17), built with the codec."""
    pool = ConstantPool()

    def u(s: str) -> int:
        return pool.append(Constant.utf8(s.encode()))

    this = pool.append(Constant.make(7, u("Dyn")))
    sup = pool.append(Constant.make(7, u("java/lang/Object")))
    pool.append(Constant.make(17, 0, pool.append(Constant.make(12, u("c"), u("I")))))
    return write_class(ClassFile(0, 61, pool, 0x21, this, sup))


def jawa_measure(names: list[str], classes: list[bytes]) -> dict[str, Any] | None:
    try:
        import jawa  # type: ignore[import-untyped]
        from jawa.cf import ClassFile as JawaClass  # type: ignore[import-untyped]
    except ImportError:
        return None
    reads = exact = 0
    failures: Counter[tuple[str, str]] = Counter()
    examples: dict[tuple[str, str], str] = {}
    read_time = write_time = 0.0
    for name, data in zip(names, classes, strict=True):
        t0 = time.perf_counter()
        try:
            jc = JawaClass(io.BytesIO(data))
        except Exception as exc:  # jawa raises whatever its parser hits
            read_time += time.perf_counter() - t0
            tags = {c.tag for _, c in read_class(data).constant_pool} & {17, 19, 20}
            key = ("read", _where(exc) + (f" (class has constant tags {sorted(tags)})" if tags else ""))
            failures[key] += 1
            examples.setdefault(key, name)
            continue
        read_time += time.perf_counter() - t0
        reads += 1
        buf = io.BytesIO()
        t0 = time.perf_counter()
        try:
            jc.save(buf)
        except Exception as exc:
            write_time += time.perf_counter() - t0
            key = ("write", "raises " + _where(exc))
            failures[key] += 1
            examples.setdefault(key, name)
            continue
        write_time += time.perf_counter() - t0
        if buf.getvalue() == data:
            exact += 1
        else:
            key = ("write", _diff_cause(read_class(data), data, buf.getvalue()))
            failures[key] += 1
            examples.setdefault(key, name)
    try:
        JawaClass(io.BytesIO(dynamic_class()))
        dynamic = "yes"
    except Exception as exc:
        dynamic = f"no ({_where(exc)})"
    return {
        "version": getattr(jawa, "__version__", "2.2.0"), "classes": len(classes), "reads": reads, "exact": exact,
        "read_seconds": read_time, "write_seconds": write_time, "reads_dynamic_constant": dynamic,
        "failures": [{"stage": s, "failure": f, "classes": n, "example": examples[(s, f)]}
                     for (s, f), n in failures.most_common()],
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--limit", type=int, default=0, help="only the first N classes (0: all)")
    ap.add_argument("--jmod", type=Path, default=None)
    ap.add_argument("--no-jawa", action="store_true")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)
    jmod = args.jmod or default_jmod()
    if jmod is None:
        print("no java.base.jmod: put a JDK's javac on PATH or pass --jmod", file=sys.stderr)
        return 2
    zf = open_jmod(jmod)
    infos = [i for i in zf.infolist() if i.filename.endswith(".class")]
    if args.limit:
        infos = infos[:args.limit]
    names = [i.filename for i in infos]
    classes = [zf.read(i) for i in infos]
    failures = 0
    for b in classes:
        try:
            if write_class(read_class(b)) != b:
                failures += 1
        except ClassFormatError:
            failures += 1
    t, cpu_t = speed(classes, zf, infos, args.runs)
    jw = None if args.no_jawa else jawa_measure(names, classes)

    n = len(classes)
    mib = sum(map(len, classes)) / 2**20
    print(f"# Class-file codec on {jmod} ({n} classes, {mib:.1f} MiB), median of {args.runs} runs\n")
    print("| step | seconds | classes/s | vs floor | CPU seconds | classes/s of CPU |")
    print("|---|---:|---:|---:|---:|---:|")
    rows: list[tuple[str, float, float | None]] = [
        ("floor: inflate from the jmod (zipfile, CRC)", t["floor"], cpu_t["floor"]),
        ("canonjar read_class", t["read"], cpu_t["read"]),
        ("canonjar write_class", t["write"], cpu_t["write"]),
        ("canonjar read_class(deep=True)", t["deep"], cpu_t["deep"]),
        ("canonjar canonicalize (3 class stabilizers, read+write each)", t["canonicalize"], cpu_t["canonicalize"]),
        ("canonjar structural diff (class vs its canonical form)", t["structural_diff"], cpu_t["structural_diff"])]
    if jw:
        rows += [("jawa ClassFile() read (1 run)", jw["read_seconds"], None),
                 ("jawa save() where it does not raise (1 run)", jw["write_seconds"], None)]
    for label, sec, cpu in rows:
        cpu_cols = f"{cpu:.3f} | {n / cpu if cpu else 0:,.0f}" if cpu is not None else "- | -"
        print(f"| {label} | {sec:.3f} | {n / sec if sec else 0:,.0f} | {sec / t['floor']:.1f}x | {cpu_cols} |")
    changed = int(t.pop("canonical_changed"))
    diff_cpu = cpu_t["structural_diff"]
    print(f"\ncanonicalize changed {changed}/{n} classes; structural diff: "
          f"{1000 * t['structural_diff'] / n if n else 0:.2f} ms per class pair "
          f"({1000 * diff_cpu / n if n else 0:.2f} ms of CPU)\n")
    print("\n| codec | reads | writes back byte-exact |")
    print("|---|---:|---:|")
    print(f"| canonjar | {n - failures}/{n} | {n - failures}/{n} |")
    if jw:
        print(f"| jawa {jw['version']} | {jw['reads']}/{n} | {jw['exact']}/{n} |")
        print(f"\njawa reads a class holding a CONSTANT_Dynamic (tag 17): {jw['reads_dynamic_constant']}\n")
        print("| jawa stage | failure | classes | example |")
        print("|---|---|---:|---|")
        for f in jw["failures"]:
            print(f"| {f['stage']} | {f['failure']} | {f['classes']} | `{f['example']}` |")
    else:
        print("\njawa is not installed: no comparison")
    doc = {"jmod": str(jmod), "classes": n, "bytes": sum(map(len, classes)), "runs": args.runs,
           "median_seconds": t, "median_cpu_seconds": cpu_t, "canonjar_failures": failures, "jawa": jw}
    out = args.out or Path(__file__).resolve().parent / "results" / "classfile.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=2) + "\n")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
