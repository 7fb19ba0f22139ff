"""What the metadata stabilizers cost on a JAR with many manifests: a fat JAR of nested library JARs.

    python benchmarks/metadata_bench.py [--runs 5] [--libs 60] [--out results.json]

The fat JAR is built from real library JARs of this machine (Debian's /usr/share/java, else the JDK's
lib/*.jar), each stored under BOOT-INF/lib/ as Spring Boot does. The "rebuild" re-zips every nested JAR and
the fat JAR with other entry order and timestamps, and rewrites every nested MANIFEST.MF with other
Built-By/Build-Jdk/Created-By values and a reordered Export-Package (noise only). In one run it times:

- ``zip-only``: ``compare_bytes`` with only the zip-container stabilizers (the pair is then "different",
  the manifests differ);
- ``all``: ``compare_bytes`` with every built-in stabilizer (the pair must be "equivalent");
- ``floor``: inflating and hashing every entry of both fat JARs and of every nested JAR.

It prints a Markdown table with medians and writes JSON (to ``benchmarks/results/`` by default).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import random
import shutil
import statistics
import sys
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from canonjar import Verdict, compare_bytes, select_stabilizers


def library_jars(limit: int) -> list[Path]:
    debian = sorted(p for p in Path("/usr/share/java").glob("*.jar") if not p.is_symlink())
    javac = shutil.which("javac")
    jdk = sorted((Path(os.path.realpath(javac)).parent.parent / "lib").glob("*.jar")) if javac else []
    return (debian + jdk)[:limit]


def noisy_manifest(data: bytes, rng: random.Random) -> bytes:
    text = data.decode("utf-8", errors="surrogateescape").replace("\r\n", "\n")
    lines = [ln for ln in text.split("\n\n", 1)[0].split("\n") if ln]
    out = []
    for ln in lines:  # unwrap continuation lines
        if ln.startswith(" ") and out:
            out[-1] += ln[1:]
        else:
            out.append(ln)
    attrs = [a for a in out if not a.lower().startswith(("built-by:", "build-jdk:", "created-by:"))]
    for i, a in enumerate(attrs):
        if a.startswith("Export-Package:"):
            clauses = a[len("Export-Package: "):].split(",")
            if all('"' not in c for c in clauses):  # only simple lists: quoted ones need a real parser
                rng.shuffle(clauses)
                attrs[i] = "Export-Package: " + ",".join(clauses)
    attrs[1:1] = [f"Built-By: builder{rng.randrange(100)}", "Build-Jdk: 21.0.1", "Created-By: Maven JAR Plugin 3.4.1"]
    body = "\r\n".join(attrs) + "\r\n\r\n"
    rest = text.split("\n\n", 1)[1] if "\n\n" in text else ""
    wrapped = []
    for line in (body + rest.replace("\n", "\r\n")).split("\r\n"):
        b = line.encode("utf-8", errors="surrogateescape")
        while len(b) > 72:
            wrapped.append(b[:72])
            b = b" " + b[72:]
        wrapped.append(b)
    return b"\r\n".join(wrapped)


def rezip(data: bytes, rng: random.Random, edit: Callable[[str, bytes], bytes] | None = None,
          stored_suffix: str | None = None) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as zin:
        items = [(i, zin.read(i)) for i in zin.infolist()]
    rng.shuffle(items)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for info, raw in items:
            body = edit(info.filename, raw) if edit is not None else raw
            zi = zipfile.ZipInfo(info.filename, (2024, 11, 12, 8, 2, 0))
            zi.external_attr = info.external_attr
            stored = stored_suffix is not None and info.filename.endswith(stored_suffix)
            zi.compress_type = zipfile.ZIP_STORED if stored or info.is_dir() else zipfile.ZIP_DEFLATED
            zf.writestr(zi, body)
    return out.getvalue()


def build_pair(libs: list[Path], seed: int = 7) -> tuple[bytes, bytes, int]:
    rng = random.Random(seed)
    ref = io.BytesIO()
    nested_reb: dict[str, bytes] = {}
    with zipfile.ZipFile(ref, "w") as zf:
        zf.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\r\nMain-Class: org.springframework.boot.loader."
                    "JarLauncher\r\nStart-Class: demo.App\r\n\r\n")
        for lib in libs:
            name = f"BOOT-INF/lib/{lib.name}"
            data = lib.read_bytes()
            zi = zipfile.ZipInfo(name, (2024, 3, 2, 10, 15, 0))
            zi.compress_type = zipfile.ZIP_STORED
            zf.writestr(zi, data)

            def edit(entry: str, body: bytes) -> bytes:
                return noisy_manifest(body, rng) if entry.upper() == "META-INF/MANIFEST.MF" else body

            nested_reb[name] = rezip(data, rng, edit)
    ref_bytes = ref.getvalue()

    def swap(entry: str, body: bytes) -> bytes:
        return nested_reb.get(entry, body)

    return ref_bytes, rezip(ref_bytes, rng, swap, stored_suffix=".jar"), len(libs)


def floor(data: bytes) -> int:
    n = 0
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for info in zf.infolist():
            body = zf.read(info)
            hashlib.sha256(body).digest()
            n += 1
            if info.filename.endswith(".jar"):
                n += floor(body)
    return n


def timed(fn: Callable[[], object], runs: int) -> list[float]:
    fn()  # warm-up
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--libs", type=int, default=60, help="nested library JARs in the fat JAR")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)
    libs = library_jars(args.libs)
    if not libs:
        print("no library JARs found on this machine", file=sys.stderr)
        return 2
    ref, reb, n = build_pair(libs)
    zip_only = tuple(s for s in select_stabilizers() if s.name.startswith("zip-"))
    everything = select_stabilizers()
    full = compare_bytes(ref, reb, stabilizers=everything)
    if full.verdict is not Verdict.EQUIVALENT:
        print("the noise-only pair is not equivalent:", [(d.path, d.aspect) for d in full.differences[:10]],
              file=sys.stderr)
        return 1
    partial = compare_bytes(ref, reb, stabilizers=zip_only)
    manifests_left = sum(1 for d in partial.differences if d.path.upper().endswith("META-INF/MANIFEST.MF"))
    results = {
        "zip-only": timed(lambda: compare_bytes(ref, reb, stabilizers=zip_only), args.runs),
        "all": timed(lambda: compare_bytes(ref, reb, stabilizers=everything), args.runs),
        "floor": timed(lambda: (floor(ref), floor(reb)), args.runs),
    }
    med = {k: statistics.median(v) for k, v in results.items()}
    entries = floor(ref)
    print(f"fat JAR: {n} nested JARs, {entries} entries in all, {len(ref) / 2**20:.1f} MiB; "
          f"{args.runs} runs, median seconds (min-max)\n")
    print("| measurement | time | vs floor |")
    print("| --- | --- | ---: |")
    for k, v in results.items():
        print(f"| {k} | {med[k]:.3f} ({min(v):.3f}-{max(v):.3f}) | {med[k] / med['floor']:.2f}x |")
    print(f"\nmetadata stabilizers add {med['all'] - med['zip-only']:.3f} s "
          f"({(med['all'] / med['zip-only'] - 1) * 100:.0f}% over zip-only); with zip-only the pair is "
          f"{partial.verdict.value} ({manifests_left} manifests differ), with all it is {full.verdict.value}")
    doc = {"nested_jars": n, "entries": entries, "size": len(ref), "runs": results, "median": med,
           "manifests_differing_zip_only": manifests_left}
    out = args.out or Path(__file__).parent / "results" / f"metadata-{time.strftime('%Y%m%dT%H%M%S')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=2))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
