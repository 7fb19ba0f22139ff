"""SQLite results store of ``canonjar batch``: one row per release, one row per artifact comparison.

The schema is a contract with readers of the database (research reports): columns are only ever added,
never renamed or removed, and :data:`STORE_SCHEMA_VERSION` (table ``meta``, key ``schema_version``) is raised
when a column is added.

Tables::

    meta(key TEXT PRIMARY KEY, value TEXT)
        schema_version              -- STORE_SCHEMA_VERSION as text

    releases(
        release_id TEXT PRIMARY KEY,   -- buildspec path relative to the content root (content/org/.../x.buildspec)
        buildspec_path TEXT,           -- the path the batch read it from
        group_id, artifact_id, version TEXT,  -- from the buildspec ('' when the release could not be parsed)
        artifacts INTEGER,             -- number of artifacts (outputs of the .buildinfo) the release declares
        parse_error TEXT,              -- 'file:line: message' when the release is malformed, else NULL
        updated_at TEXT)               -- UTC ISO-8601 time of the last batch that saw the release

    results(
        id INTEGER PRIMARY KEY,
        release_id TEXT,               -- releases.release_id
        group_id, artifact_id, version, filename TEXT,  -- the artifact (GAV + file name from the .buildinfo)
        verdict TEXT,                  -- identical | equivalent | different | missing-reference |
                                       -- missing-rebuild | ignored | error
        upstream TEXT,                 -- upstream's word in the .buildcompare: ok | ko | ignored | missing | unknown
        upstream_stabilize TEXT,       -- same for the stabilize_* keys (unknown when absent)
        agrees_upstream INTEGER,       -- 1/0: our verdict (identical/equivalent = ok, different = ko) agrees with
                                       -- upstream ok/ko; NULL when either side has no ok/ko word
        agrees_upstream_stabilize INTEGER,  -- same against upstream's stabilize_ok/ko
        effective_reference TEXT,      -- JSON list: stabilizers that changed something on the reference side
        effective_rebuild TEXT,        -- JSON list: same on the rebuild side
        differences INTEGER,           -- number of residual differences after canonicalization
        findings INTEGER,              -- number of structural findings (both sides)
        categories TEXT,               -- JSON object {category: count} of the residual differences
        root_causes TEXT,              -- JSON object {root_cause: count} of the residual differences
        reference_url TEXT,            -- where the reference was downloaded from
        reference_sha256 TEXT,         -- digests of the inputs actually compared (NULL when absent)
        rebuild_sha256 TEXT,
        rebuild_path TEXT,             -- the rebuild file that was compared
        rebuild_sha512_ok INTEGER,     -- 1/0: rebuild sha512 equals the .buildinfo's; NULL when not checked.
                                       -- A mismatch does not change the verdict (the rebuild on disk is what was
                                       -- compared) but is also listed in `error` when the verdict is not `error`
        error TEXT,                    -- why the verdict is error / missing-*, or a note such as the sha512 mismatch
        outcome_json BLOB,             -- the whole canonjar Outcome (docs/outcome.md) as zlib-compressed UTF-8
                                       -- JSON (guava's noise-only pair: 3.0 MB of JSON, 84 KB compressed);
                                       -- NULL when nothing compared. ResultRow.outcome_json is the JSON text.
        canonjar_version TEXT,         -- canonjar.__version__ that produced the row
        stabilizers TEXT,              -- the stabilizer selection, comma-separated names in registry order
        work_key TEXT,                 -- sha256 of reference_sha256, rebuild_sha256, canonjar_version, stabilizers
        elapsed REAL,                  -- seconds spent comparing
        created_at TEXT)               -- UTC ISO-8601
        UNIQUE (release_id, group_id, artifact_id, version, filename, canonjar_version, stabilizers): a re-run
        replaces the row (one release can hold the same file name under two groupIds).

Re-running skips a comparison whose ``work_key`` already has a compared row (verdict identical, equivalent,
different or a comparison error); missing and download errors are tried again. Each row is committed alone,
so an interrupted batch loses nothing finished. The database is in WAL mode with a busy timeout so several
processes can share it.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ..errors import UsageError

__all__ = [
    "COMPARED_VERDICTS",
    "STORE_SCHEMA_VERSION",
    "VERDICTS",
    "ResultRow",
    "ResultStore",
    "connect",
    "iter_releases",
    "iter_results",
    "work_key",
]

STORE_SCHEMA_VERSION = 2  # 2: outcome_json is zlib-compressed

VERDICTS = ("identical", "equivalent", "different", "missing-reference", "missing-rebuild", "ignored", "error")
#: Verdicts of rows whose inputs were compared: their work_key makes a re-run skip the pair.
COMPARED_VERDICTS = ("identical", "equivalent", "different", "error")

BUSY_TIMEOUT_MS = 60_000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS releases (
    release_id TEXT PRIMARY KEY,
    buildspec_path TEXT NOT NULL,
    group_id TEXT NOT NULL DEFAULT '',
    artifact_id TEXT NOT NULL DEFAULT '',
    version TEXT NOT NULL DEFAULT '',
    artifacts INTEGER NOT NULL DEFAULT 0,
    parse_error TEXT,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS results (
    id INTEGER PRIMARY KEY,
    release_id TEXT NOT NULL,
    group_id TEXT NOT NULL,
    artifact_id TEXT NOT NULL,
    version TEXT NOT NULL,
    filename TEXT NOT NULL,
    verdict TEXT NOT NULL,
    upstream TEXT NOT NULL,
    upstream_stabilize TEXT NOT NULL,
    agrees_upstream INTEGER,
    agrees_upstream_stabilize INTEGER,
    effective_reference TEXT NOT NULL DEFAULT '[]',
    effective_rebuild TEXT NOT NULL DEFAULT '[]',
    differences INTEGER NOT NULL DEFAULT 0,
    findings INTEGER NOT NULL DEFAULT 0,
    categories TEXT NOT NULL DEFAULT '{}',
    root_causes TEXT NOT NULL DEFAULT '{}',
    reference_url TEXT,
    reference_sha256 TEXT,
    rebuild_sha256 TEXT,
    rebuild_path TEXT,
    rebuild_sha512_ok INTEGER,
    error TEXT,
    outcome_json BLOB,
    canonjar_version TEXT NOT NULL,
    stabilizers TEXT NOT NULL,
    work_key TEXT,
    elapsed REAL NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    UNIQUE (release_id, group_id, artifact_id, version, filename, canonjar_version, stabilizers)
);
CREATE INDEX IF NOT EXISTS results_work_key ON results (work_key);
CREATE INDEX IF NOT EXISTS results_verdict ON results (verdict);
"""

_RESULT_COLUMNS = (
    "release_id", "group_id", "artifact_id", "version", "filename", "verdict", "upstream", "upstream_stabilize",
    "agrees_upstream", "agrees_upstream_stabilize", "effective_reference", "effective_rebuild", "differences",
    "findings", "categories", "root_causes", "reference_url", "reference_sha256", "rebuild_sha256",
    "rebuild_path", "rebuild_sha512_ok", "error", "outcome_json", "canonjar_version", "stabilizers", "work_key",
    "elapsed", "created_at",
)


def work_key(reference_sha256: str, rebuild_sha256: str, canonjar_version: str, stabilizers: str) -> str:
    """The identity of one comparison: same inputs, same canonjar, same stabilizers give the same result."""
    text = "\0".join((reference_sha256, rebuild_sha256, canonjar_version, stabilizers))
    return hashlib.sha256(text.encode()).hexdigest()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class ResultRow:
    """One artifact result, as stored (JSON columns already decoded). Field names are the column names."""

    release_id: str
    group_id: str
    artifact_id: str
    version: str
    filename: str
    verdict: str
    upstream: str
    upstream_stabilize: str
    agrees_upstream: bool | None
    agrees_upstream_stabilize: bool | None
    effective_reference: tuple[str, ...]
    effective_rebuild: tuple[str, ...]
    differences: int
    findings: int
    categories: dict[str, int]
    root_causes: dict[str, int]
    reference_url: str | None
    reference_sha256: str | None
    rebuild_sha256: str | None
    rebuild_path: str | None
    rebuild_sha512_ok: bool | None
    error: str | None
    outcome_json: str | None
    canonjar_version: str
    stabilizers: str
    work_key: str | None
    elapsed: float
    created_at: str

    @property
    def gav(self) -> str:
        """``group:artifact:version``."""
        return f"{self.group_id}:{self.artifact_id}:{self.version}"

    @property
    def stabilizer_names(self) -> tuple[str, ...]:
        return tuple(n for n in self.stabilizers.split(",") if n)


def _opt_bool(value: object) -> bool | None:
    return None if value is None else bool(value)


def _outcome_text(value: bytes | str | None) -> str | None:
    """The outcome JSON of a row: stored zlib-compressed (schema 2); plain text from schema 1 is accepted."""
    if value is None or isinstance(value, str):
        return value
    return zlib.decompress(value).decode("utf-8")


def _row_from_sql(r: sqlite3.Row) -> ResultRow:
    return ResultRow(
        release_id=r["release_id"], group_id=r["group_id"], artifact_id=r["artifact_id"], version=r["version"],
        filename=r["filename"], verdict=r["verdict"], upstream=r["upstream"],
        upstream_stabilize=r["upstream_stabilize"], agrees_upstream=_opt_bool(r["agrees_upstream"]),
        agrees_upstream_stabilize=_opt_bool(r["agrees_upstream_stabilize"]),
        effective_reference=tuple(json.loads(r["effective_reference"])),
        effective_rebuild=tuple(json.loads(r["effective_rebuild"])), differences=int(r["differences"]),
        findings=int(r["findings"]), categories=dict(json.loads(r["categories"])),
        root_causes=dict(json.loads(r["root_causes"])), reference_url=r["reference_url"],
        reference_sha256=r["reference_sha256"], rebuild_sha256=r["rebuild_sha256"], rebuild_path=r["rebuild_path"],
        rebuild_sha512_ok=_opt_bool(r["rebuild_sha512_ok"]), error=r["error"],
        outcome_json=_outcome_text(r["outcome_json"]),
        canonjar_version=r["canonjar_version"], stabilizers=r["stabilizers"], work_key=r["work_key"],
        elapsed=float(r["elapsed"]), created_at=r["created_at"])


def connect(db_path: str | Path) -> sqlite3.Connection:
    """Open (creating if needed) the database in WAL mode with a busy timeout; autocommit per statement."""
    path = Path(db_path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        _init(conn)
    except (OSError, sqlite3.Error) as exc:
        raise UsageError(f"--db {path}: cannot open the results database ({exc})") from None
    return conn


def _init(conn: sqlite3.Connection) -> None:
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("BEGIN IMMEDIATE")
    try:
        for stmt in _SCHEMA.split(";"):
            if stmt.strip():
                conn.execute(stmt)
        conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?)",
                     (str(STORE_SCHEMA_VERSION),))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


class ResultStore:
    """Writes releases and artifact rows, one transaction each, and answers "is this pair done?"."""

    def __init__(self, db_path: str | Path) -> None:
        self.path = Path(db_path)
        self.conn = connect(self.path)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def put_release(self, release_id: str, buildspec_path: str, group_id: str = "", artifact_id: str = "",
                    version: str = "", artifacts: int = 0, parse_error: str | None = None) -> None:
        """Record (or refresh) a release; ``parse_error`` names the file and line of a malformed one."""
        self.conn.execute(
            "INSERT INTO releases (release_id, buildspec_path, group_id, artifact_id, version, artifacts, "
            "parse_error, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (release_id) DO UPDATE SET "
            "buildspec_path = excluded.buildspec_path, group_id = excluded.group_id, "
            "artifact_id = excluded.artifact_id, version = excluded.version, artifacts = excluded.artifacts, "
            "parse_error = excluded.parse_error, updated_at = excluded.updated_at",
            (release_id, buildspec_path, group_id, artifact_id, version, artifacts, parse_error, _now()))

    def put_result(self, row: ResultRow) -> None:
        """Insert or replace the row of (release, GAV, filename, canonjar version, stabilizers), committed at once."""
        values = []
        for col in _RESULT_COLUMNS:
            v = getattr(row, col)
            if col in ("effective_reference", "effective_rebuild"):
                v = json.dumps(list(v))
            elif col in ("categories", "root_causes"):
                v = json.dumps(v, sort_keys=True)
            elif isinstance(v, bool):
                v = int(v)
            elif col == "outcome_json" and v is not None:
                v = zlib.compress(v.encode("utf-8"), 6)
            values.append(v)
        cols = ", ".join(_RESULT_COLUMNS)
        marks = ", ".join("?" for _ in _RESULT_COLUMNS)
        self.conn.execute(f"INSERT OR REPLACE INTO results ({cols}) VALUES ({marks})", values)

    def done(self, key: str) -> ResultRow | None:
        """A compared row with this work key (from any release), or None."""
        placeholders = ", ".join("?" for _ in COMPARED_VERDICTS)
        cur = self.conn.execute(
            f"SELECT * FROM results WHERE work_key = ? AND verdict IN ({placeholders}) "
            "AND outcome_json IS NOT NULL ORDER BY id LIMIT 1", (key, *COMPARED_VERDICTS))
        r = cur.fetchone()
        return None if r is None else _row_from_sql(r)

    def existing(self, release_id: str, gav: tuple[str, str, str], filename: str, canonjar_version: str,
                 stabilizers: str) -> ResultRow | None:
        """The row of this artifact of this release for this canonjar version and stabilizer selection."""
        cur = self.conn.execute(
            "SELECT * FROM results WHERE release_id = ? AND group_id = ? AND artifact_id = ? AND version = ? "
            "AND filename = ? AND canonjar_version = ? AND stabilizers = ?",
            (release_id, *gav, filename, canonjar_version, stabilizers))
        r = cur.fetchone()
        return None if r is None else _row_from_sql(r)


def iter_results(db_path: str | Path, release_id: str | None = None) -> Iterator[ResultRow]:
    """Every artifact row of the database (optionally of one release), ordered by release and file name."""
    conn = sqlite3.connect(f"file:{Path(db_path)}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
    conn.row_factory = sqlite3.Row
    try:
        if release_id is None:
            cur = conn.execute("SELECT * FROM results ORDER BY release_id, filename, group_id, artifact_id, id")
        else:
            cur = conn.execute("SELECT * FROM results WHERE release_id = ? "
                               "ORDER BY filename, group_id, artifact_id, id", (release_id,))
        for r in cur:
            yield _row_from_sql(r)
    finally:
        conn.close()


def iter_releases(db_path: str | Path) -> Iterator[tuple[str, str, str | None]]:
    """``(release_id, buildspec_path, parse_error)`` for every release of the database."""
    conn = sqlite3.connect(f"file:{Path(db_path)}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
    try:
        for rid, path, err in conn.execute("SELECT release_id, buildspec_path, parse_error FROM releases "
                                           "ORDER BY release_id"):
            yield str(rid), str(path), err
    finally:
        conn.close()
