"""Run a batch: for every artifact of every release, find both files, compare them, store one row.

The main process reads releases (streamed), finds each rebuild, downloads each reference (a few threads,
through the cache), hashes both and asks the store whether that exact comparison is already done; only new
pairs go to the executor, in chunks. Rows are written by the main process only, one commit per artifact,
as soon as the artifact is finished.

Verdicts: ``identical``, ``equivalent``, ``different`` and ``error`` come from the comparison (``error`` also
for a download that failed: checksum mismatch, size limit, retries exhausted); ``missing-rebuild`` when no
rebuild file is found (the reference is then not downloaded); ``missing-reference`` when the repository does
not have the file (404); ``ignored`` when upstream's .buildcompare lists the file as ignored (not compared).
A rebuild whose SHA-512 differs from the .buildinfo's is still compared (the file on disk is what is judged),
and flagged with ``rebuild_sha512_ok = 0`` and a note in ``error``.

Skipping: a row of the same artifact with the same work key (both digests, canonjar version, stabilizers) is
kept as it is (its upstream columns refreshed if the .buildcompare changed); the same pair already compared
for another release is not compared again either: its outcome is copied (the paths inside that outcome JSON
are those of the first comparison; the digests are the same by construction).
"""

from __future__ import annotations

import collections
import concurrent.futures as cf
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .. import __version__
from ..limits import Limits
from ..rc.model import ArtifactJob, RcParseError, Release, UpstreamStatus
from .executors import ChunkExecutor, make_executor
from .progress import BatchStats, Progress
from .rebuilds import RebuildFinder, file_digests
from .repo import FetchStatus, ReferenceRepo
from .store import ResultRow, ResultStore, _now, work_key
from .work import Compared, CompareTask

__all__ = ["BatchConfig", "agreement", "run_batch"]

_OURS = {"identical": "ok", "equivalent": "ok", "different": "ko"}


@dataclass(frozen=True)
class BatchConfig:
    repo: ReferenceRepo
    rebuild_dir: Path
    db_path: Path
    stabilizers: tuple[str, ...]
    limits: Limits
    jobs: int = 1
    executor: str | None = None
    chunk_size: int = 4
    download_threads: int = 4
    progress: bool = False


@dataclass(frozen=True)
class _Pending:
    """A job whose two files are known and hashed, waiting for its comparison."""

    job: ArtifactJob
    reference: Path
    rebuild: Path
    url: str
    ref_sha256: str
    rebuild_sha256: str
    sha512_ok: bool | None
    note: str | None
    key: str
    size: int


def agreement(verdict: str, upstream: str) -> bool | None:
    """Does our verdict (identical/equivalent = ok, different = ko) agree with upstream's ok/ko word?"""
    ours = _OURS.get(verdict)
    theirs = upstream if upstream in (UpstreamStatus.OK.value, UpstreamStatus.KO.value) else None
    return None if ours is None or theirs is None else ours == theirs


class _Batch:
    def __init__(self, config: BatchConfig, store: ResultStore, executor: ChunkExecutor, stats: BatchStats,
                 progress: Progress) -> None:
        self.cfg = config
        self.store = store
        self.executor = executor
        self.stats = stats
        self.progress = progress
        self.finder = RebuildFinder(config.rebuild_dir)
        self.selection = ",".join(config.stabilizers)
        self.waiting: dict[int, _Pending] = {}
        #: work key -> pendings of other rows waiting for the comparison of that key already under way
        self.followers: dict[str, list[_Pending]] = {}
        self.chunk: list[CompareTask] = []
        self.next_id = 0

    # ------------------------------------------------------------------ rows
    def _row(self, job: ArtifactJob, verdict: str, **kw: object) -> ResultRow:
        fields: dict[str, object] = {
            "effective_reference": (), "effective_rebuild": (), "differences": 0, "findings": 0,
            "categories": {}, "root_causes": {}, "reference_url": None, "reference_sha256": None,
            "rebuild_sha256": None, "rebuild_path": None, "rebuild_sha512_ok": None, "error": None,
            "outcome_json": None, "work_key": None, "elapsed": 0.0}
        fields.update(kw)
        return ResultRow(release_id=job.release_id, group_id=job.group_id, artifact_id=job.artifact_id,
                         version=job.version, filename=job.filename, verdict=verdict,
                         upstream=job.upstream.value, upstream_stabilize=job.upstream_stabilize.value,
                         agrees_upstream=agreement(verdict, job.upstream.value),
                         agrees_upstream_stabilize=agreement(verdict, job.upstream_stabilize.value),
                         canonjar_version=__version__, stabilizers=self.selection, created_at=_now(),
                         **fields)  # type: ignore[arg-type]

    def _write(self, row: ResultRow, compared_bytes: int = 0) -> None:
        self.store.put_result(row)
        self.stats.verdicts[row.verdict] += 1
        if compared_bytes:
            self.stats.compared += 1
            self.stats.bytes_compared += compared_bytes
        self.progress.refresh()

    # ------------------------------------------------------------------ prepare (threads)
    def prepare(self, job: ArtifactJob, project: str) -> ResultRow | _Pending:
        """Find, fetch and hash both files of ``job`` (runs in a download thread; touches no database)."""
        if job.upstream is UpstreamStatus.IGNORED:
            return self._row(job, "ignored", error="upstream ignores this file (.buildcompare ignoredFiles)")
        rebuild = self.finder.find(job, project)
        if rebuild is None:
            return self._row(job, "missing-rebuild", error=f"no rebuild of {job.filename} under "
                             f"{self.cfg.rebuild_dir}")
        fetched = self.cfg.repo.fetch(job.repo_path)
        if fetched.status is FetchStatus.MISSING:
            return self._row(job, "missing-reference", reference_url=fetched.url, rebuild_path=str(rebuild),
                             error=fetched.error)
        if fetched.status is FetchStatus.ERROR or fetched.path is None:
            return self._row(job, "error", reference_url=fetched.url, rebuild_path=str(rebuild),
                             error=fetched.error or "download failed")
        try:
            ref_sha256, _ = file_digests(fetched.path, sha512=False)
            reb_sha256, reb_sha512 = file_digests(rebuild, sha512=bool(job.sha512))
            size = fetched.path.stat().st_size + rebuild.stat().st_size
        except OSError as exc:
            return self._row(job, "error", reference_url=fetched.url, rebuild_path=str(rebuild),
                             error=f"cannot read: {exc.strerror or exc}")
        sha512_ok: bool | None = None
        note = None
        if job.sha512:
            sha512_ok = reb_sha512 == job.sha512.lower()
            if not sha512_ok:
                note = (f"rebuild sha512 {reb_sha512[:16]}... differs from the .buildinfo's "
                        f"{job.sha512[:16]}...: the rebuild on disk is not the one upstream recorded")
        key = work_key(ref_sha256, reb_sha256, __version__, self.selection)
        return _Pending(job, fetched.path, rebuild, fetched.url, ref_sha256, reb_sha256, sha512_ok, note, key, size)

    # ------------------------------------------------------------------ main thread
    def handle(self, prepared: ResultRow | _Pending) -> None:
        if isinstance(prepared, ResultRow):
            self._write(prepared)
            return
        p = prepared
        existing = self.store.existing(p.job.release_id, (p.job.group_id, p.job.artifact_id, p.job.version),
                                      p.job.filename, __version__, self.selection)
        if existing is not None and existing.work_key == p.key and existing.outcome_json is not None:
            self.stats.skipped += 1
            fresh = self._row(p.job, existing.verdict, **self._pending_fields(p), **_reused_fields(existing, p.note))
            if (fresh.upstream, fresh.upstream_stabilize, fresh.rebuild_sha512_ok) != \
                    (existing.upstream, existing.upstream_stabilize, existing.rebuild_sha512_ok):
                self._write(fresh)  # upstream's word changed since: same comparison, new agreement columns
                return
            self.stats.verdicts[existing.verdict] += 1
            self.progress.refresh()
            return
        earlier = self.store.done(p.key)
        if earlier is not None:  # same pair compared for another release: reuse its outcome
            self.stats.skipped += 1
            row = self._row(p.job, earlier.verdict, **self._pending_fields(p), **_reused_fields(earlier, p.note))
            self._write(row)
            return
        if p.key in self.followers:  # the same pair is being compared for another artifact row right now
            self.followers[p.key].append(p)
            return
        self.followers[p.key] = []
        task = CompareTask(self.next_id, str(p.reference), str(p.rebuild), p.job.filename)
        self.waiting[self.next_id] = p
        self.next_id += 1
        self.chunk.append(task)
        if len(self.chunk) >= self.cfg.chunk_size:
            self.flush()

    def _pending_fields(self, p: _Pending) -> dict[str, object]:
        return {"reference_url": p.url, "reference_sha256": p.ref_sha256, "rebuild_sha256": p.rebuild_sha256,
                "rebuild_path": str(p.rebuild), "rebuild_sha512_ok": p.sha512_ok, "work_key": p.key}

    def flush(self) -> None:
        if self.chunk:
            self.executor.submit(self.chunk)
            self.chunk = []
        while self.executor.pending() >= 2 * self.executor.workers:
            self.drain_some()

    def drain_some(self, block: bool = True) -> None:
        """Write the rows of every finished chunk (waiting for one first when ``block``)."""
        for results in self.executor.completed(block):
            for c in results:
                self.finish(c)

    def finish(self, c: Compared) -> None:
        p = self.waiting.pop(c.task_id)
        error = _join(c.error, p.note)
        row = self._row(p.job, c.verdict, **self._pending_fields(p), effective_reference=c.effective_reference,
                        effective_rebuild=c.effective_rebuild, differences=c.differences, findings=c.findings,
                        categories=c.categories, root_causes=c.root_causes, error=error,
                        outcome_json=c.outcome_json, elapsed=c.elapsed)
        self._write(row, compared_bytes=p.size)
        for twin in self.followers.pop(p.key, []):
            self.stats.skipped += 1
            fields = _compared_fields(row)
            fields["error"] = _join(c.error, twin.note)
            self._write(self._row(twin.job, c.verdict, **self._pending_fields(twin), **fields))

    def finish_all(self) -> None:
        self.flush()
        while self.executor.pending():
            self.drain_some()


def _reused_fields(row: ResultRow, note: str | None) -> dict[str, object]:
    """The comparison columns of ``row`` for another row of the same pair (whose own note may differ)."""
    fields = _compared_fields(row)
    outcome_error = json.loads(row.outcome_json).get("error") if row.outcome_json else None
    fields["error"] = _join(outcome_error if isinstance(outcome_error, str) else None, note)
    return fields


def _join(error: str | None, note: str | None) -> str | None:
    """The comparison's error and this row's own note (sha512 mismatch), either of which may be absent."""
    return "; ".join(x for x in (error, note) if x) or None


def _compared_fields(row: ResultRow) -> dict[str, object]:
    return {"effective_reference": row.effective_reference, "effective_rebuild": row.effective_rebuild,
            "differences": row.differences, "findings": row.findings, "categories": row.categories,
            "root_causes": row.root_causes, "error": row.error, "outcome_json": row.outcome_json,
            "elapsed": row.elapsed}


def _jobs(items: Iterable[Release | RcParseError], batch: _Batch) -> Iterator[tuple[ArtifactJob, str]]:
    """Record each release (or its parse error) and yield its artifact jobs."""
    for item in items:
        batch.stats.releases += 1
        if isinstance(item, RcParseError):
            batch.stats.malformed += 1
            batch.store.put_release(item.source, item.source, parse_error=str(item))
            job = ArtifactJob(item.source, "", "", "", Path(item.source).name, None, None,
                              UpstreamStatus.UNKNOWN, UpstreamStatus.UNKNOWN)
            batch.stats.artifacts += 1
            batch._write(batch._row(job, "error", error=f"malformed release: {item}"))
            continue
        spec = item.buildspec
        batch.store.put_release(item.release_id, str(item.buildspec_path), spec.group_id, spec.artifact_id,
                                spec.version, len(item.artifacts))
        batch.stats.artifacts += len(item.artifacts)
        batch.progress.refresh()
        for job in item.artifacts:
            yield job, spec.artifact_id


def run_batch(items: Iterable[Release | RcParseError], config: BatchConfig) -> BatchStats:
    """Compare every artifact of ``items`` and store the rows; returns the counts of this run."""
    stats = BatchStats()
    executor = make_executor(config.executor, config.jobs, config.stabilizers, config.limits)
    try:
        store = ResultStore(config.db_path)
    except BaseException:
        executor.close(abort=True)
        raise
    progress = Progress(stats, config.progress)
    batch = _Batch(config, store, executor, stats, progress)
    threads = cf.ThreadPoolExecutor(max_workers=max(1, config.download_threads))
    aborted = True
    try:
        window: collections.deque[cf.Future[ResultRow | _Pending]] = collections.deque()
        limit = max(4, config.download_threads * 4)
        for job, project in _jobs(items, batch):
            window.append(threads.submit(batch.prepare, job, project))
            while len(window) >= limit or (window and window[0].done()):
                batch.handle(window.popleft().result())
                batch.drain_some(block=False)  # finished comparisons are committed at once
        while window:
            batch.handle(window.popleft().result())
            batch.drain_some(block=False)
        batch.finish_all()
        aborted = False
    finally:
        threads.shutdown(wait=not aborted, cancel_futures=True)
        executor.close(abort=aborted)
        progress.close()
        store.close()
    return stats

