"""The ``canonjar batch`` command behind the option parsing: check the input, then run the batch.

Bad input (a PATH that does not exist, no rebuild directory, a bad URL or executor, jobs < 1) is a
:class:`~canonjar.errors.UsageError`: one line on stderr and exit code 2. Once the batch runs, the exit
code is 0 whatever the verdicts are: they are in the database.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

from ..errors import UsageError
from ..limits import Limits
from ..rc.model import RcParseError, Release
from .repo import ReferenceRepo, default_cache_dir
from .runner import BatchConfig, run_batch

__all__ = ["default_db_path", "load_items", "run_batch_command"]


def default_db_path() -> Path:
    """``$XDG_DATA_HOME/canonjar/results.sqlite`` or ``~/.local/share/canonjar/results.sqlite``."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "canonjar" / "results.sqlite"


def load_items(paths: Iterable[Path]) -> Iterator[Release | RcParseError]:
    """Releases (or their parse errors) of buildspec files, directory trees and list files, streamed."""
    from ..rc.release import load_releases

    yield from load_releases(list(paths))


def run_batch_command(paths: list[Path], *, rebuild_dir: Path, reference_repo: str, cache: Path | None,
                      db: Path | None, jobs: int | None, executor: str | None, retries: int, timeout: float,
                      chunk_size: int, stabilizers: tuple[str, ...], limits: Limits) -> str:
    """Validate, run, and return the one-line summary."""
    for p in paths:
        if not p.exists():
            raise UsageError(f"{p}: no such file or directory")
    if not rebuild_dir.is_dir():
        raise UsageError(f"--rebuild-dir {rebuild_dir}: not a directory")
    if jobs is not None and jobs < 1:
        raise UsageError("--jobs must be at least 1")
    if chunk_size < 1:
        raise UsageError("--chunk-size must be at least 1")
    if timeout <= 0:
        raise UsageError("--timeout must be positive")
    repo = ReferenceRepo(reference_repo, cache or default_cache_dir(), max_size=limits.max_archive_size,
                         attempts=retries, timeout=timeout)
    config = BatchConfig(repo=repo, rebuild_dir=rebuild_dir, db_path=db or default_db_path(),
                         stabilizers=stabilizers, limits=limits, jobs=jobs or os.cpu_count() or 1,
                         executor=executor, chunk_size=chunk_size, progress=sys.stderr.isatty())
    stats = run_batch(load_items(paths), config)
    return f"{stats.summary()}; results in {config.db_path}"
