"""The library entry points: compare two artifacts, canonicalize one."""

from __future__ import annotations

import contextlib
import gc
import hashlib
import os
import stat
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from .canonical import write_canonical
from .compare import compare_archives
from .errors import CanonjarError, UsageError
from .limits import DEFAULT_LIMITS, Budget, Limits
from .model import Archive, archive_from_zip
from .outcome import ArtifactInfo, Difference, DifferenceKind, Evidence, Outcome, OutcomeFinding, TraceStep, Verdict
from .pipeline import Context, Side, Stabilizer, run_deferred, run_pipeline, select_stabilizers
from .taxonomy import classify
from .taxonomy.classfile import annotate_differences
from .zipfmt import FileSource, Finding, ZipArchive, read_zip

__all__ = ["SideResult", "canonicalize_bytes", "canonicalize_file", "compare_bytes", "compare_files",
           "stabilize"]


@dataclass(frozen=True)
class SideResult:
    """One side after the pipeline: its canonical archive, trace and budget."""

    info: ArtifactInfo
    raw: bytes | FileSource
    original: Archive
    canonical: Archive
    trace: tuple[TraceStep, ...]
    budget: Budget
    stabilizer_findings: tuple[Finding, ...] = ()
    evidence: tuple[Evidence, ...] = ()

    def findings(self, side: str) -> list[OutcomeFinding]:
        """Structural findings of the archive (nested ones included), then those the stabilizers reported."""
        found: list[OutcomeFinding] = []
        _collect_findings(self.canonical, side, found)
        found.extend(OutcomeFinding(side, f.code, f.path, f.message) for f in self.stabilizer_findings)
        return found


def _collect_findings(arc: Archive, side: str, out: list[OutcomeFinding]) -> None:
    out.extend(OutcomeFinding(side, f.code, f.path, f.message) for f in arc.findings)
    for e in arc.entries:
        if e.nested is not None:
            _collect_findings(e.nested, side, out)


@contextlib.contextmanager
def _input_errors(p: Path) -> Iterator[None]:
    """Turn the ways opening an input can fail into one-line usage errors naming the file."""
    try:
        yield
    except FileNotFoundError:
        raise UsageError(f"{p}: no such file") from None
    except PermissionError:
        raise UsageError(f"{p}: permission denied") from None
    except IsADirectoryError:
        raise UsageError(f"{p}: is a directory, not an archive") from None
    except OSError as exc:
        raise UsageError(f"{p}: cannot read ({exc.strerror or exc})") from None


def _stat_input(p: Path, limits: Limits) -> os.stat_result:
    with _input_errors(p):
        if p.is_dir():
            raise UsageError(f"{p}: is a directory, not an archive")
        st = p.stat()
    if st.st_size > limits.max_archive_size:
        raise UsageError(f"{p}: {st.st_size} bytes exceeds the archive size limit of {limits.max_archive_size} "
                         "(raise it with --max-archive-size)")
    return st


def read_input(path: str | os.PathLike[str], limits: Limits) -> bytes:
    p = Path(path)
    _stat_input(p, limits)
    chunks: list[bytes] = []
    total = 0
    with _input_errors(p), p.open("rb") as fh:
        # Bounded even for a pipe, whose size stat cannot tell; read in pieces (read(n) allocates n bytes).
        while total <= limits.max_archive_size and (chunk := fh.read(1 << 20)):
            chunks.append(chunk)
            total += len(chunk)
    if total > limits.max_archive_size:
        raise UsageError(f"{p}: more than {limits.max_archive_size} bytes exceeds the archive size limit "
                         "(raise it with --max-archive-size)")
    data = b"".join(chunks)
    if data[:4] == b"JM\x01\x00":  # JDK jmod: a zip behind a 4-byte header
        return data[4:]
    return data


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while building the (acyclic) entry and trace objects.

    A comparison allocates a few objects per entry and stabilizer; with the collector running, Python scans
    them again and again (about a quarter of the run time on large JARs). Reference counting still frees
    everything; the collector's previous state is restored afterwards.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _read(data: bytes | FileSource, name: str, limits: Limits) -> ZipArchive:
    try:
        return read_zip(data, limits)
    except CanonjarError as exc:
        raise type(exc)(f"{name}: {exc}") from None


def stabilize(data: bytes | FileSource, name: str, side: Side, stabilizers: Sequence[Stabilizer],
              limits: Limits = DEFAULT_LIMITS) -> SideResult:
    """Read one artifact and run the pipeline over it. Never looks at any other artifact."""
    budget = Budget(limits, label=name)
    original = archive_from_zip(_read(data, name, limits))
    ctx = Context(side=side, budget=budget)
    canonical = run_pipeline(original, stabilizers, ctx)
    info = ArtifactInfo(name, len(data), _digest(data))
    return SideResult(info, data, original, canonical, tuple(ctx.trace), budget, tuple(ctx.findings),
                      tuple(ctx.evidence))


def _run_deferred(left: SideResult, right: SideResult, deferred: Sequence[Stabilizer],
                  diffs: Sequence[Difference]) -> tuple[SideResult, SideResult] | None:
    """Run the deferred stabilizers on each side, on its own, for the entries whose content still differs.

    A deferred stabilizer is a function of one entry's content only, so on entries whose content is equal
    on both sides it would give equal results: skipping them changes neither the verdict nor the residual
    differences (see :attr:`Stabilizer.deferred`). Returns None when nothing was run."""
    paths = frozenset(d.path for d in diffs if d.kind is DifferenceKind.CHANGED)
    if not deferred or not paths:
        return None
    out = []
    for res, side in ((left, Side.REFERENCE), (right, Side.REBUILD)):
        ctx = Context(side=side, budget=res.budget)
        canonical = run_deferred(res.canonical, deferred, ctx, paths)
        out.append(replace(res, canonical=canonical, trace=res.trace + tuple(ctx.trace),
                           stabilizer_findings=res.stabilizer_findings + tuple(ctx.findings),
                           evidence=res.evidence + tuple(ctx.evidence)))
    return out[0], out[1]


def _effective(trace: Sequence[TraceStep], side: str) -> tuple[str, ...]:
    names: list[str] = []
    for step in trace:
        if step.side == side and step.action != "skipped" and step.stabilizer not in names:
            names.append(step.stabilizer)
    return tuple(names)


def compare_bytes(ref: bytes, rebuild: bytes, ref_name: str = "reference", rebuild_name: str = "rebuild",
                  stabilizers: Sequence[Stabilizer] | None = None, limits: Limits = DEFAULT_LIMITS) -> Outcome:
    """Compare two artifacts given as bytes. Errors become an ``error`` outcome, never an exception."""
    with _gc_paused():
        return _compare_bytes(ref, rebuild, ref_name, rebuild_name, stabilizers, limits)


def _digest(data: bytes | FileSource) -> str:
    return data.sha256() if isinstance(data, FileSource) else hashlib.sha256(data).hexdigest()


def _same_bytes(a: bytes | FileSource, b: bytes | FileSource) -> bool:
    """Whether two inputs hold the same bytes (files compared chunk by chunk, never loaded whole)."""
    if isinstance(a, bytes) and isinstance(b, bytes):
        return a == b
    if len(a) != len(b):
        return False
    return all(x == y for x, y in zip(_chunks(a), _chunks(b), strict=True))


def _chunks(data: bytes | FileSource, size: int = 1 << 20) -> Iterator[bytes | memoryview]:
    if isinstance(data, FileSource):
        yield from data.chunks(size)
    else:
        view = memoryview(data)
        for pos in range(0, len(data), size):
            yield view[pos:pos + size]


def open_input(path: str | os.PathLike[str], limits: Limits) -> bytes | FileSource:
    """``path`` opened for reading by offset (a jmod's 4-byte header skipped), with :func:`read_input`'s checks
    and messages; the caller closes it. What is not a regular file (a pipe) is read whole, as before."""
    p = Path(path)
    st = _stat_input(p, limits)
    if not stat.S_ISREG(st.st_mode):
        return read_input(p, limits)
    with _input_errors(p):
        src = FileSource(p)
        if src.read(0, 4) == b"JM\x01\x00":  # JDK jmod: a zip behind a 4-byte header
            src.close()
            src = FileSource(p, start=4)
    return src


def _compare_bytes(ref: bytes | FileSource, rebuild: bytes | FileSource, ref_name: str, rebuild_name: str,
                   stabilizers: Sequence[Stabilizer] | None, limits: Limits) -> Outcome:
    names: tuple[str, ...] = ()
    try:
        stabs = tuple(stabilizers) if stabilizers is not None else select_stabilizers()
        names = tuple(s.name for s in stabs)
        if _same_bytes(ref, rebuild):
            # Same bytes: nothing to canonicalize. The structure is still read, and its findings listed.
            z = _read(ref, ref_name, limits)
            digest = _digest(ref)
            found = tuple(OutcomeFinding(side, f.code, f.path, f.message)
                          for side in ("reference", "rebuild") for f in z.findings)
            return Outcome(Verdict.IDENTICAL, ArtifactInfo(ref_name, len(ref), digest),
                           ArtifactInfo(rebuild_name, len(rebuild), digest), names, (), (), found)
        eager = tuple(s for s in stabs if not s.deferred)
        left = stabilize(ref, ref_name, Side.REFERENCE, eager, limits)
        right = stabilize(rebuild, rebuild_name, Side.REBUILD, eager, limits)
        diffs = compare_archives(left.canonical, right.canonical, left.budget, right.budget)
        rerun = _run_deferred(left, right, tuple(s for s in stabs if s.deferred), diffs)
        if rerun is not None:
            left, right = rerun
            diffs = compare_archives(left.canonical, right.canonical, left.budget, right.budget)
        trace = left.trace + right.trace
        findings = tuple(left.findings("reference") + right.findings("rebuild"))
        effective = (("reference", _effective(trace, "reference")), ("rebuild", _effective(trace, "rebuild")))
        # Say how changed class files differ (for the taxonomy), then classify differences and noise.
        diffs = annotate_differences(diffs, left.canonical, right.canonical, left.budget, right.budget)
        verdict = Verdict.DIFFERENT if (diffs or findings) else Verdict.EQUIVALENT
        return classify(Outcome(verdict, left.info, right.info, names, effective, diffs, findings, trace,
                                evidence=left.evidence + right.evidence))
    except CanonjarError as exc:
        return Outcome(Verdict.ERROR, stabilizers=names, error=str(exc))
    except MemoryError:
        return Outcome(Verdict.ERROR, stabilizers=names, error="out of memory (lower the limits)")


def compare_files(ref: str | os.PathLike[str], rebuild: str | os.PathLike[str],
                  stabilizers: Sequence[Stabilizer] | None = None, limits: Limits = DEFAULT_LIMITS) -> Outcome:
    """Compare two artifact files (JAR, WAR, EAR, zip or jmod)."""
    # The files are read by offset, never loaded whole: memory stays bounded by the largest entry.
    with contextlib.ExitStack() as files:
        try:
            a = open_input(ref, limits)
            if isinstance(a, FileSource):
                files.enter_context(a)
            b = open_input(rebuild, limits)
            if isinstance(b, FileSource):
                files.enter_context(b)
        except CanonjarError as exc:
            names = tuple(s.name for s in stabilizers) if stabilizers is not None else ()
            return Outcome(Verdict.ERROR, stabilizers=names, error=str(exc))
        with _gc_paused():
            return _compare_bytes(a, b, str(ref), str(rebuild), stabilizers, limits)


def canonicalize_bytes(data: bytes, name: str = "input", stabilizers: Sequence[Stabilizer] | None = None,
                       limits: Limits = DEFAULT_LIMITS) -> tuple[bytes, SideResult]:
    """The canonical JAR of ``data`` and the side result (trace, findings). Raises CanonjarError."""
    stabs = tuple(stabilizers) if stabilizers is not None else select_stabilizers()
    with _gc_paused():
        res = stabilize(data, name, Side.REFERENCE, stabs, limits)
        return write_canonical(res.canonical, res.budget), res


def canonicalize_file(src: str | os.PathLike[str], dest: str | os.PathLike[str],
                      stabilizers: Sequence[Stabilizer] | None = None,
                      limits: Limits = DEFAULT_LIMITS) -> SideResult:
    """Write the canonical JAR of ``src`` to ``dest`` (and nowhere else)."""
    src_p, dest_p = Path(src), Path(dest)
    data = read_input(src_p, limits)
    try:
        if dest_p.exists() and dest_p.resolve() == src_p.resolve():
            raise UsageError(f"{dest_p}: refusing to overwrite the input")
    except OSError as exc:
        raise UsageError(f"{dest_p}: {exc.strerror or exc}") from None
    out, res = canonicalize_bytes(data, str(src_p), stabilizers, limits)
    try:
        dest_p.write_bytes(out)
    except OSError as exc:
        raise UsageError(f"{dest_p}: cannot write ({exc.strerror or exc})") from None
    return res
