"""End-to-end tests of ``canonjar batch``: real JARs, a file:// mirror, a loopback HTTP repository, SQLite rows."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from canonjar import __version__
from canonjar.api import compare_files
from canonjar.batch import iter_results
from canonjar.batch.rebuilds import RebuildFinder
from canonjar.batch.repo import FetchStatus, ReferenceRepo
from canonjar.batch.runner import BatchConfig, agreement, run_batch
from canonjar.batch.store import ResultRow, iter_releases
from canonjar.cli import main
from canonjar.limits import DEFAULT_LIMITS
from canonjar.outcome import Outcome
from canonjar.pipeline import select_stabilizers
from canonjar.rc.model import ArtifactJob, DiffoscopeLine, UpstreamStatus
from tests.test_batch_support import EXPECTED, Scenario, build_scenario, serve

DEFAULT_NAMES = tuple(s.name for s in select_stabilizers())


@pytest.fixture
def scenario(tmp_path: Path) -> Scenario:
    return build_scenario(tmp_path)


def _cli(sc: Scenario, *extra: str, repo: str | None = None, db: str = "results.sqlite") -> int:
    return main(["batch", str(sc.content), "--rebuild-dir", str(sc.rebuild), "--reference-repo",
                 repo or sc.mirror_url, "--cache", str(sc.root / "cache"), "--db", str(sc.root / db), *extra])


def _rows(db: Path) -> dict[str, ResultRow]:
    return {r.filename: r for r in iter_results(db)}


def _cached(sc: Scenario, row: ResultRow) -> Path:
    """The cached reference file of a row (the one path the outcome names as the reference)."""
    found = [p for p in (sc.root / "cache").rglob(row.filename) if p.is_file()]
    assert len(found) == 1
    return found[0]


def _check_verdicts(rows: dict[str, ResultRow]) -> None:
    for name, (verdict, up, up_stab) in EXPECTED.items():
        row = rows[name]
        assert row.verdict == verdict, (name, row.verdict, row.error)
        assert (row.upstream, row.upstream_stabilize) == (up, up_stab), name
        assert row.agrees_upstream == agreement(verdict, up)
        assert row.agrees_upstream_stabilize == agreement(verdict, up_stab)
        assert row.gav == "com.example:demo:1.0"
        assert row.canonjar_version == __version__


def test_file_mirror_end_to_end(scenario: Scenario, capsys: pytest.CaptureFixture[str]) -> None:
    assert _cli(scenario, "--jobs", "2") == 0
    out = capsys.readouterr().out
    assert "2 release(s) (1 malformed), 11 artifact(s)" in out
    rows = _rows(scenario.root / "results.sqlite")
    _check_verdicts(rows)
    # agreement columns: noise-only rebuild is ok for us and after upstream's stabilization, ko byte for byte
    eq = rows["demo-1.0.jar"]
    assert (eq.agrees_upstream, eq.agrees_upstream_stabilize) == (False, True)
    assert "zip-entry-order" in eq.effective_rebuild and "zip-timestamps" in eq.effective_reference
    assert eq.differences == 0 and eq.stabilizers == ",".join(DEFAULT_NAMES)
    outcome = Outcome.from_json(eq.outcome_json or "")
    assert outcome.verdict.value == "equivalent"
    assert outcome.reference is not None and outcome.reference.sha256 == eq.reference_sha256
    assert eq.reference_sha256 == hashlib.sha256(scenario.references["demo-1.0.jar"]).hexdigest()
    assert eq.rebuild_sha256 == hashlib.sha256(scenario.rebuilds["demo-1.0.jar"]).hexdigest()
    # the tampered class is a residual difference with a category and root cause, found via the diffoscope line
    diff = rows["demo-1.0-tampered.jar"]
    assert diff.differences >= 1 and sum(diff.categories.values()) == diff.differences
    assert sum(diff.root_causes.values()) == diff.differences
    assert diff.rebuild_path is not None and diff.rebuild_path.endswith("demo/target/demo-1.0-tampered.jar")
    tampered = Outcome.from_json(diff.outcome_json or "")
    assert any(d.path == "com/example/hello/Greeter.class" for d in tampered.differences)
    # the stored outcome is exactly what compare_files gives for the same two files
    for row in (eq, diff):
        assert row.outcome_json == compare_files(_cached(scenario, row), row.rebuild_path or "").to_json(indent=None)
    # sha512 check against the .buildinfo: a distinct flag, the verdict stays the comparison's
    assert rows["demo-1.0-sha.jar"].rebuild_sha512_ok is False
    assert "differs from the .buildinfo" in (rows["demo-1.0-sha.jar"].error or "")
    assert eq.rebuild_sha512_ok is True
    # checksum mismatch: error, and the bad file is not kept in the cache
    assert "sha512 mismatch" in (rows["demo-1.0-badsum.jar"].error or "")
    cached = {p.name for p in (scenario.root / "cache").rglob("*") if p.is_file()}
    assert "demo-1.0-badsum.jar" not in cached and "demo-1.0.jar" in cached
    assert not any(n.startswith(".part-") for n in cached)
    # the malformed release: an error row and a release row naming file and line
    bad = rows["bad-1.0.buildspec"]
    assert bad.verdict == "error" and "bad-1.0.buildspec:3:" in (bad.error or "")
    releases = {rid: err for rid, _, err in iter_releases(scenario.root / "results.sqlite")}
    assert releases["content/com/example/demo-1.0.buildspec"] is None
    assert "bad-1.0.buildspec:3" in (releases["content/com/example/bad-1.0.buildspec"] or "")


def test_model_releases_without_parsers(scenario: Scenario) -> None:
    """The runner on releases built from the model directly (the parsers are not involved)."""
    repo = ReferenceRepo(scenario.mirror_url, scenario.root / "cache", DEFAULT_LIMITS.max_archive_size)
    cfg = BatchConfig(repo, scenario.rebuild, scenario.root / "m.sqlite", DEFAULT_NAMES, DEFAULT_LIMITS, jobs=1)
    stats = run_batch(scenario.releases(), cfg)
    assert stats.malformed == 1 and stats.artifacts == len(EXPECTED) + 1
    _check_verdicts(_rows(scenario.root / "m.sqlite"))


def test_http_repository_retries_and_checksums(scenario: Scenario) -> None:
    flaky_path = "/com/example/demo/1.0/demo-1.0-flaky.jar"
    with serve(scenario.mirror, {flaky_path}) as (url, hits):
        assert _cli(scenario, "--jobs", "1", repo=url) == 0
        rows = _rows(scenario.root / "results.sqlite")
        _check_verdicts(rows)
        assert hits.count(flaky_path) == 2  # 503, then 200
        assert rows["demo-1.0-flaky.jar"].reference_url == url + flaky_path
        # the pom has only a .sha1: fetched after the .sha512 404
        assert "/com/example/demo/1.0/demo-1.0.pom.sha1" in hits
        # downloaded once: a second run asks the repository only for what it did not keep (404, bad checksum)
        hits.clear()
        assert _cli(scenario, "--jobs", "1", repo=url) == 0
        assert {h.rsplit("/", 1)[1].split(".jar")[0] for h in hits} == {"demo-1.0-absent", "demo-1.0-badsum"}


def test_resume_skips_done_pairs(scenario: Scenario, capsys: pytest.CaptureFixture[str]) -> None:
    assert _cli(scenario, "--jobs", "1") == 0
    first = _rows(scenario.root / "results.sqlite")
    capsys.readouterr()
    assert _cli(scenario, "--jobs", "1") == 0
    out = capsys.readouterr().out
    assert "6 already done; 0 compared" in out, out
    second = _rows(scenario.root / "results.sqlite")
    assert {n: r.created_at for n, r in first.items() if r.outcome_json} == \
        {n: r.created_at for n, r in second.items() if r.outcome_json}
    # upstream changes its word: the same comparison is not run again, the agreement columns follow
    cmp_file = scenario.content / "com" / "example" / "demo-1.0.buildcompare"
    text = cmp_file.read_text()
    assert 'koFiles="demo-1.0.jar ' in text
    text = text.replace('koFiles="demo-1.0.jar ', 'koFiles="').replace('okFiles="', 'okFiles="demo-1.0.jar ')
    cmp_file.write_text(text)
    assert _cli(scenario, "--jobs", "1") == 0
    assert "6 already done; 0 compared" in capsys.readouterr().out
    flipped = _rows(scenario.root / "results.sqlite")["demo-1.0.jar"]
    assert (flipped.upstream, flipped.agrees_upstream, flipped.verdict) == ("ok", True, "equivalent")
    # another stabilizer selection is another row set, recorded per row
    assert _cli(scenario, "--jobs", "1", "--disable", "zip-entry-order") == 0
    conn = sqlite3.connect(scenario.root / "results.sqlite")
    selections = {s for (s,) in conn.execute("SELECT DISTINCT stabilizers FROM results")}
    conn.close()
    assert len(selections) == 2
    without = [r for r in iter_results(scenario.root / "results.sqlite")
               if r.filename == "demo-1.0.jar" and "zip-entry-order" not in r.stabilizer_names]
    assert without[0].verdict == "different"  # the order noise is now a residual difference


def test_bad_input_exit_2_one_line(scenario: Scenario, capsys: pytest.CaptureFixture[str]) -> None:
    cases = [
        ["batch", str(scenario.root / "nope"), "--rebuild-dir", str(scenario.rebuild)],
        ["batch", str(scenario.content), "--rebuild-dir", str(scenario.root / "nope")],
        ["batch", str(scenario.content), "--rebuild-dir", str(scenario.rebuild), "--reference-repo", "ftp://x"],
        ["batch", str(scenario.content), "--rebuild-dir", str(scenario.rebuild), "--jobs", "0"],
        ["batch", str(scenario.content), "--rebuild-dir", str(scenario.rebuild), "--executor", "spark://x"],
        ["batch", str(scenario.content), "--rebuild-dir", str(scenario.rebuild), "--enable", "no-such"],
        ["batch", str(scenario.content)],
    ]
    for argv in cases:
        argv += ["--db", str(scenario.root / "x.sqlite"), "--cache", str(scenario.root / "c")]
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "Traceback" not in err, (argv, err)


def test_cli_subprocess_exit_code_and_no_tty_output(scenario: Scenario) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "canonjar", "batch", str(scenario.buildspec), "--rebuild-dir", str(scenario.rebuild),
         "--reference-repo", scenario.mirror_url, "--cache", str(scenario.root / "cache"), "--db",
         str(scenario.root / "s.sqlite"), "--jobs", "2"], capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr  # "different" verdicts do not change the exit code
    assert proc.stderr == ""  # no progress bar when not on a terminal
    assert proc.stdout.startswith("batch: 1 release(s) (0 malformed), 10 artifact(s)")


# ---------------------------------------------------------------------------------------- units


def _job(filename: str, diffoscope: DiffoscopeLine | None = None, sha512: str | None = None) -> ArtifactJob:
    return ArtifactJob("r", "org.acme", "lib", "2.0", filename, None, sha512, UpstreamStatus.UNKNOWN,
                       UpstreamStatus.UNKNOWN, diffoscope)


def test_rebuild_layouts(tmp_path: Path) -> None:
    maven = tmp_path / "m" / "org" / "acme" / "lib" / "2.0"
    maven.mkdir(parents=True)
    (maven / "lib-2.0.jar").write_bytes(b"m")
    assert RebuildFinder(tmp_path / "m").find(_job("lib-2.0.jar"), "proj") == maven / "lib-2.0.jar"
    flat = tmp_path / "f"
    flat.mkdir()
    (flat / "lib-2.0.jar").write_bytes(b"f")
    assert RebuildFinder(flat).find(_job("lib-2.0.jar"), "proj") == flat / "lib-2.0.jar"
    assert RebuildFinder(flat).find(_job("other.jar"), "proj") is None
    # buildcache: two candidates, the one with the .buildinfo's sha512 wins
    bc = tmp_path / "bc" / "proj"
    (bc / "a" / "target").mkdir(parents=True)
    (bc / "b" / "target").mkdir(parents=True)
    (bc / "a" / "target" / "lib-2.0.jar").write_bytes(b"one")
    (bc / "b" / "target" / "lib-2.0.jar").write_bytes(b"two")
    job = _job("lib-2.0.jar", sha512=hashlib.sha512(b"two").hexdigest())
    assert RebuildFinder(tmp_path / "bc").find(job, "proj") == bc / "b" / "target" / "lib-2.0.jar"
    # a diffoscope line never leads outside the rebuild directory
    (tmp_path / "secret.jar").write_bytes(b"s")
    evil = _job("x.jar", DiffoscopeLine("target/reference/x.jar", "../../secret.jar"))
    assert RebuildFinder(tmp_path / "bc").find(evil, "proj") is None
    (bc / "link.jar").symlink_to(tmp_path / "secret.jar")
    linked = _job("y.jar", DiffoscopeLine("target/reference/y.jar", "link.jar"))
    assert RebuildFinder(tmp_path / "bc").find(linked, "proj") is None


def test_repo_backoff_missing_and_size_limit(tmp_path: Path) -> None:
    mirror = tmp_path / "mirror" / "a" / "b" / "1"
    mirror.mkdir(parents=True)
    (mirror / "b-1.jar").write_bytes(b"x" * 100)
    slept: list[float] = []
    path = "/a/b/1/b-1.jar"
    with serve(tmp_path / "mirror", {path}) as (url, _):
        repo = ReferenceRepo(url, tmp_path / "cache", max_size=1000, attempts=3, backoff=0.25, sleep=slept.append)
        res = repo.fetch("a/b/1/b-1.jar")
        assert res.status is FetchStatus.OK and res.checksum == "" and slept == [0.25]
        assert res.path is not None and res.path.read_bytes() == b"x" * 100
        assert repo.fetch("a/b/1/none.jar").status is FetchStatus.MISSING
        small = ReferenceRepo(url, tmp_path / "cache2", max_size=10)
        too_big = small.fetch("a/b/1/b-1.jar")
        assert too_big.status is FetchStatus.ERROR and "limit" in too_big.error
        assert not any(p.is_file() for p in (tmp_path / "cache2").rglob("*"))
        assert repo.fetch("a/../../etc/passwd").status is FetchStatus.ERROR
    # a server that is gone: bounded attempts with exponential backoff, then an error, never an exception
    slept.clear()
    gone = ReferenceRepo(url, tmp_path / "cache3", 1000, attempts=4, backoff=0.5, timeout=2, sleep=slept.append)
    res = gone.fetch("a/b/1/b-1.jar")
    assert res.status is FetchStatus.ERROR and "4 attempt(s)" in res.error
    assert slept == [0.5, 1.0, 2.0]


def test_store_schema_is_documented(scenario: Scenario) -> None:
    """Every column of ``results`` is a ResultRow field and named in the store docstring."""
    from canonjar.batch import store

    assert _cli(scenario, "--jobs", "1") == 0
    conn = sqlite3.connect(scenario.root / "results.sqlite")
    cols = [r[1] for r in conn.execute("PRAGMA table_info(results)")]
    mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
    conn.close()
    assert mode == "wal"
    fields = set(ResultRow.__dataclass_fields__)
    doc = store.__doc__ or ""
    for col in cols:
        if col != "id":
            assert col in fields and col in doc, col
    row = next(iter(iter_results(scenario.root / "results.sqlite")))
    json.dumps(row.categories)


def test_progress_shows_counts_only_when_enabled() -> None:
    import io

    from canonjar.batch.progress import BatchStats, Progress

    stats = BatchStats(releases=3, artifacts=5, compared=2, bytes_compared=4_000_000)
    stats.verdicts.update({"equivalent": 2, "different": 1})
    quiet = io.StringIO()
    off = Progress(stats, enabled=False, stream=quiet)
    off.refresh()
    off.close()
    assert quiet.getvalue() == ""
    shown = io.StringIO()
    on = Progress(stats, enabled=True, stream=shown)
    on.refresh()
    on.close()
    text = shown.getvalue()
    assert "equivalent=2" in text and "different=1" in text and "releases 3" in text and "3/5" in text
    assert "3 release(s)" in stats.summary() and "equivalent 2, different 1" in stats.summary()


def test_list_file_and_single_buildspec(scenario: Scenario, capsys: pytest.CaptureFixture[str]) -> None:
    listing = scenario.root / "releases.txt"
    listing.write_text("# the demo release only\ncontent/com/example/demo-1.0.buildspec\n")
    assert main(["batch", str(listing), "--rebuild-dir", str(scenario.rebuild), "--reference-repo",
                 scenario.mirror_url, "--cache", str(scenario.root / "cache"), "--db",
                 str(scenario.root / "l.sqlite"), "--jobs", "1"]) == 0
    assert "1 release(s) (0 malformed), 10 artifact(s)" in capsys.readouterr().out
    _check_verdicts(_rows(scenario.root / "l.sqlite"))


def test_same_pair_in_two_releases_is_compared_once(scenario: Scenario, capsys: pytest.CaptureFixture[str]) -> None:
    twin = scenario.buildspec.with_name("twin-1.0.buildspec")
    twin.write_text(scenario.buildspec.read_text())  # same buildinfo/buildcompare, another release id
    scenario.bad_buildspec.unlink()
    assert _cli(scenario, "--jobs", "1") == 0
    assert "6 already done; 6 compared" in capsys.readouterr().out
    rows = list(iter_results(scenario.root / "results.sqlite"))
    by_release: dict[str, dict[str, ResultRow]] = {}
    for r in rows:
        by_release.setdefault(r.release_id, {})[r.filename] = r
    a, b = by_release["content/com/example/demo-1.0.buildspec"], by_release["content/com/example/twin-1.0.buildspec"]
    assert set(a) == set(b) == set(EXPECTED)
    for name in EXPECTED:
        assert (a[name].verdict, a[name].outcome_json, a[name].work_key) == \
            (b[name].verdict, b[name].outcome_json, b[name].work_key)


def test_progress_bar_on_a_terminal(scenario: Scenario) -> None:
    import os
    import pty

    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "canonjar", "batch", str(scenario.buildspec), "--rebuild-dir",
             str(scenario.rebuild), "--reference-repo", scenario.mirror_url, "--cache", str(scenario.root / "cache"),
             "--db", str(scenario.root / "tty.sqlite"), "--jobs", "1"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave, text=True)
        os.close(slave)
        chunks = []
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:  # the terminal closed: the process is gone
                break
            if not data:
                break
            chunks.append(data)
        out, _ = proc.communicate(timeout=300)
    finally:
        os.close(master)
    assert proc.returncode == 0
    screen = b"".join(chunks).decode("utf-8", "replace")
    assert "artifacts" in screen and "releases 1" in screen and "equivalent=3" in screen, screen
    assert "10/10" in screen
    assert out.startswith("batch: 1 release(s)")  # the summary still goes to stdout


def test_outcome_json_is_stored_compressed(tmp_path: Path) -> None:
    """The outcome column holds zlib-compressed JSON; readers get the JSON text back unchanged."""
    import zlib

    from canonjar.batch.store import ResultStore

    text = json.dumps({"schema_version": 1, "verdict": "equivalent", "trace": ["x" * 50] * 2000})
    db = tmp_path / "r.sqlite"
    with ResultStore(db) as store:
        store.put_release("content/a.buildspec", "content/a.buildspec", "g", "a", "1", 1)
        store.put_result(ResultRow(
            release_id="content/a.buildspec", group_id="g", artifact_id="a", version="1", filename="a-1.jar",
            verdict="equivalent", upstream="ok", upstream_stabilize="unknown", agrees_upstream=True,
            agrees_upstream_stabilize=None, effective_reference=(), effective_rebuild=(), differences=0, findings=0,
            categories={}, root_causes={}, reference_url=None, reference_sha256=None, rebuild_sha256=None,
            rebuild_path=None, rebuild_sha512_ok=None, error=None, outcome_json=text, canonjar_version=__version__,
            stabilizers="zip-timestamps", work_key=None, elapsed=0.0, created_at="2026-01-01T00:00:00+00:00"))
    raw = sqlite3.connect(db).execute("SELECT outcome_json FROM results").fetchone()[0]
    assert isinstance(raw, bytes) and len(raw) < len(text) // 10
    assert zlib.decompress(raw).decode() == text
    assert [r.outcome_json for r in iter_results(db)] == [text]
