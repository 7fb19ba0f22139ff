"""Batch runs as real processes: killed mid-run and resumed, two at once on one database, and on Dask."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from canonjar.batch import iter_results
from canonjar.batch.repo import ReferenceRepo
from canonjar.batch.runner import BatchConfig, run_batch
from canonjar.batch.store import ResultRow
from canonjar.cli import main
from canonjar.limits import DEFAULT_LIMITS
from canonjar.pipeline import select_stabilizers
from canonjar.rc.release import load_releases
from tests.test_batch_support import EXPECTED, Scenario, build_many, build_scenario

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_NAMES = tuple(s.name for s in select_stabilizers())


def _batch_cmd(sc: Scenario, db: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "canonjar", "batch", str(sc.content), "--rebuild-dir", str(sc.rebuild),
            "--reference-repo", sc.mirror_url, "--cache", str(sc.root / "cache"), "--db", str(db), *extra]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO_ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _count(db: Path) -> int:
    if not db.exists():
        return 0
    conn = sqlite3.connect(db, timeout=30)
    try:
        return int(conn.execute("SELECT count(*) FROM results").fetchone()[0])
    except sqlite3.OperationalError:  # table not created yet
        return 0
    finally:
        conn.close()


@pytest.mark.slow
def test_sigkill_mid_run_then_resume(tmp_path: Path) -> None:
    total = 30
    sc = build_many(tmp_path, total, 300)
    db = tmp_path / "r.sqlite"
    proc = subprocess.Popen(_batch_cmd(sc, db, "--jobs", "1", "--chunk-size", "1"), env=_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 240
    while _count(db) < 3 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.kill()  # SIGKILL: no handler runs, nothing is flushed by canonjar
    proc.communicate(timeout=60)
    done = _count(db)
    assert 0 < done < total, f"kill did not land mid-run ({done} of {total} rows)"
    before = {r.filename: r for r in iter_results(db)}
    assert all(r.verdict == "equivalent" and r.outcome_json for r in before.values())
    resumed = subprocess.run(_batch_cmd(sc, db, "--jobs", "2"), env=_env(), capture_output=True, text=True,
                             timeout=600, check=False)
    assert resumed.returncode == 0, resumed.stderr
    assert f"{done} already done; {total - done} compared" in resumed.stdout, resumed.stdout
    after = {r.filename: r for r in iter_results(db)}
    assert len(after) == total and all(r.verdict == "equivalent" for r in after.values())
    assert all(after[n].created_at == r.created_at for n, r in before.items())  # finished rows kept as they were
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()


@pytest.mark.slow
def test_two_processes_share_one_database(tmp_path: Path) -> None:
    total = 12
    sc = build_many(tmp_path, total, 150)
    db = tmp_path / "shared.sqlite"
    procs = [subprocess.Popen(_batch_cmd(sc, db, "--jobs", "1", *extra), env=_env(), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
             for extra in ((), ("--disable", "zip-entry-order"), ())]
    for p in procs:
        out, err = p.communicate(timeout=600)
        assert p.returncode == 0, err
        assert "artifact(s)" in out
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    per_selection = dict(conn.execute("SELECT stabilizers, count(*) FROM results GROUP BY stabilizers").fetchall())
    conn.close()
    assert sorted(per_selection.values()) == [total, total]
    rows = list(iter_results(db))
    default = [r for r in rows if r.stabilizer_names == DEFAULT_NAMES]
    other = [r for r in rows if "zip-entry-order" not in r.stabilizer_names]
    assert all(r.verdict == "equivalent" for r in default)
    assert all(r.verdict == "different" for r in other)  # reversed entry order is left as a difference


def _key(r: ResultRow) -> tuple[object, ...]:
    return (r.filename, r.verdict, r.upstream, r.upstream_stabilize, r.agrees_upstream, r.agrees_upstream_stabilize,
            r.effective_reference, r.effective_rebuild, r.differences, r.categories, r.root_causes,
            r.reference_sha256, r.rebuild_sha256, r.rebuild_sha512_ok, r.outcome_json, r.stabilizers, r.work_key)


@pytest.mark.slow
def test_dask_local_cluster_matches_local_pool(tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed", reason="Dask distributed is not installed (canonjar[dask])")
    sc = build_scenario(tmp_path)
    repo = ReferenceRepo(sc.mirror_url, tmp_path / "cache", DEFAULT_LIMITS.max_archive_size)

    def run(db: Path, executor: str | None, jobs: int) -> list[ResultRow]:
        cfg = BatchConfig(repo, sc.rebuild, db, DEFAULT_NAMES, DEFAULT_LIMITS, jobs=jobs, executor=executor,
                          chunk_size=2)
        run_batch(load_releases([sc.content]), cfg)
        return sorted(iter_results(db), key=lambda r: r.filename)

    local = run(tmp_path / "local.sqlite", None, 2)
    dask = pytest.importorskip("dask")
    scratch = {"temporary-directory": str(tmp_path / "dask")}  # nothing written outside the test's directory
    with dask.config.set(scratch), distributed.LocalCluster(
            n_workers=1, threads_per_worker=2, processes=False, protocol="tcp", host="127.0.0.1",
            dashboard_address=None, local_directory=str(tmp_path / "dask")) as cluster:
        host, port = cluster.scheduler_address.removeprefix("tcp://").rsplit(":", 1)
        remote = run(tmp_path / "dask.sqlite", f"dask://{host}:{port}", 2)
        # the command line reaches the same cluster through --executor
        argv = ["batch", str(sc.content), "--rebuild-dir", str(sc.rebuild), "--reference-repo", sc.mirror_url,
                "--cache", str(tmp_path / "cache"), "--db", str(tmp_path / "cli.sqlite"), "--executor",
                f"dask://{host}:{port}"]
        assert main(argv) == 0
        via_cli = sorted(iter_results(tmp_path / "cli.sqlite"), key=lambda r: r.filename)
    assert [_key(r) for r in local] == [_key(r) for r in remote] == [_key(r) for r in via_cli]
    assert {r.filename: r.verdict for r in remote}["demo-1.0-tampered.jar"] == EXPECTED["demo-1.0-tampered.jar"][0]
    assert sum(1 for r in remote if r.outcome_json) == 6


@pytest.mark.slow
def test_ctrl_c_keeps_finished_rows_and_stops_quietly(tmp_path: Path) -> None:
    total = 30
    sc = build_many(tmp_path, total, 300)
    db = tmp_path / "r.sqlite"
    proc = subprocess.Popen(_batch_cmd(sc, db, "--jobs", "2", "--chunk-size", "1"), env=_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 240
    while _count(db) < 2 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    done = _count(db)
    assert 0 < done < total, f"Ctrl-C did not land mid-run ({done} of {total} rows)"
    assert proc.returncode == 130, err
    assert err == "canonjar: batch interrupted; every finished artifact is kept in the database\n", err
    assert all(r.verdict == "equivalent" for r in iter_results(db))


@pytest.mark.slow
def test_dead_worker_costs_its_chunk_an_error_row_not_the_batch(tmp_path: Path) -> None:
    from canonjar.batch.executors import PoolExecutor
    from canonjar.batch.work import CompareTask

    sc = build_many(tmp_path, 2, 3000)
    names = [n for n in sc.references]
    ref_dir = sc.mirror / "org" / "many" / "many" / "1.0"
    tasks = [CompareTask(i, str(ref_dir / n), str(sc.rebuild / "many" / "target" / n), n) for i, n in enumerate(names)]
    pool = PoolExecutor(1, DEFAULT_NAMES, DEFAULT_LIMITS)
    try:
        pool.submit([tasks[0]])
        deadline = time.monotonic() + 60
        while not getattr(pool.pool, "_processes", None) and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.3)  # the worker has started comparing the 3000-entry pair
        for proc in list(pool.pool._processes.values()):
            assert proc.pid is not None
            os.kill(proc.pid, 9)  # a worker process this test started
        lost = [c for chunk in pool.completed() for c in chunk]
        assert [(c.task_id, c.verdict) for c in lost] == [(0, "error")]
        assert "worker failed" in (lost[0].error or "")
        pool.submit([tasks[1]])  # a new pool takes over
        done = []
        while pool.pending():
            done += [c for chunk in pool.completed() for c in chunk]
        assert [(c.task_id, c.verdict) for c in done] == [(1, "equivalent")]
    finally:
        pool.close()
