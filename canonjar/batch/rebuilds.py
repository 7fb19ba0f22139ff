"""Find the rebuilt file of an artifact under ``--rebuild-dir``.

Three layouts are understood, tried in this order:

1. a Reproducible Central ``buildcache/`` tree: the rebuild side of the ``# diffoscope <reference> <rebuild>``
   line of the .buildcompare, relative to ``<root>/<buildspec artifactId>/`` (where rebuild.sh checks the
   sources out) or to ``<root>/``; without a diffoscope line, a file of that name anywhere under
   ``<root>/<buildspec artifactId>/`` (one whose SHA-512 equals the .buildinfo's is preferred);
2. a Maven repository layout: ``<root>/<group/as/dirs>/<artifactId>/<version>/<filename>``;
3. a flat directory: ``<root>/<filename>``.

Paths read from the data never escape ``root`` (no ``..``, no absolute paths, symlinks resolved and checked).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path, PurePosixPath

from ..rc.model import ArtifactJob

__all__ = ["RebuildFinder", "file_digests"]

#: Most files indexed under one buildcache project directory (bounded time on huge trees).
MAX_INDEXED_FILES = 200_000
_SKIP_DIRS = frozenset({".git", ".svn", ".hg", "node_modules"})


def file_digests(path: Path, sha512: bool = True) -> tuple[str, str]:
    """``(sha256, sha512)`` of a file, read once in chunks (sha512 is '' when not asked for)."""
    h256 = hashlib.sha256()
    h512 = hashlib.sha512() if sha512 else None
    with path.open("rb") as fh:
        while chunk := fh.read(1024 * 1024):
            h256.update(chunk)
            if h512 is not None:
                h512.update(chunk)
    return h256.hexdigest(), h512.hexdigest() if h512 is not None else ""


def _relative(text: str) -> PurePosixPath | None:
    p = PurePosixPath(text)
    if not text or p.is_absolute() or ".." in p.parts:
        return None
    return p


class RebuildFinder:
    """Locates rebuild files under one root; indexes buildcache project directories lazily, once each."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.real_root = root.resolve()
        self._index: dict[Path, dict[str, list[Path]]] = {}

    def _inside(self, path: Path) -> Path | None:
        try:
            real = path.resolve()
        except OSError:
            return None
        if real.is_relative_to(self.real_root) and real.is_file():
            return path
        return None

    def find(self, job: ArtifactJob, project: str) -> Path | None:
        """The rebuild file of ``job``; ``project`` is the buildspec's artifactId (its buildcache directory)."""
        proj = _relative(project)
        if job.diffoscope is not None:
            rel = _relative(job.diffoscope.rebuild)
            if rel is not None:
                bases = ([self.root / proj] if proj is not None else []) + [self.root]
                for base in bases:
                    found = self._inside(base.joinpath(*rel.parts))
                    if found is not None:
                        return found
        name = _relative(job.filename)
        if name is None or len(name.parts) != 1:
            return None
        repo = _relative(job.repo_path)
        candidates = []
        if proj is not None:
            candidates.extend(self._search(self.root / proj, job))
        if repo is not None:
            candidates.append(self.root.joinpath(*repo.parts))
        candidates.append(self.root / job.filename)
        for cand in candidates:
            found = self._inside(cand)
            if found is not None:
                return found
        return None

    def _search(self, project_dir: Path, job: ArtifactJob) -> list[Path]:
        """Files named like the artifact under a buildcache project: sha512 match first, then target/ paths."""
        if not project_dir.is_dir():
            return []
        if project_dir not in self._index:
            self._index[project_dir] = _index(project_dir)
        found = sorted(self._index[project_dir].get(job.filename, []),
                       key=lambda p: ("target" not in p.parts, len(p.parts), str(p)))
        if len(found) > 1 and job.sha512:
            matching = [p for p in found if file_digests(p)[1] == job.sha512]
            return matching + [p for p in found if p not in matching]
        return found


def _index(top: Path) -> dict[str, list[Path]]:
    index: dict[str, list[Path]] = {}
    count = 0
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS)
        for fn in filenames:
            index.setdefault(fn, []).append(Path(dirpath) / fn)
            count += 1
            if count >= MAX_INDEXED_FILES:
                return index
    return index
