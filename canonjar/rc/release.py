"""A Reproducible Central release: a buildspec, the .buildinfo/.buildcompare files found for it, and one
:class:`ArtifactJob` per declared output.

File names are resolved in the buildspec's own directory, as upstream's summary does:

- ``.buildinfo``: the basename of each word of ``buildinfo=`` (a glob when it holds ``*``, ``?`` or ``[``; sbt
  buildspecs list two patterns); if none exists, ``<buildspec name>.buildinfo`` then
  ``<artifactId>-<version>.buildinfo``.
- ``.buildcompare``: the basename of ``buildinfo=`` with ``.buildinfo`` -> ``.buildcompare``; then
  ``<buildspec name>.buildcompare``; then ``<artifactId>-<version>.buildcompare``; then the glob of
  ``buildinfo=`` (a glob matching several files is an error: the verdict would be ambiguous).

Only names inside that directory are ever looked at (basenames, matched against a listing), so a buildspec cannot
point the loader elsewhere. Files are read with a size limit and must be UTF-8. Every problem with one release is
an :class:`RcParseError` (``line`` 0 when it concerns a whole file); :func:`load_releases` yields it in place of
the release so a batch can go on with the next one.
"""

from __future__ import annotations

import fnmatch
import os
import posixpath
from collections.abc import Iterable, Iterator
from pathlib import Path

from canonjar.rc.buildcompare import parse_buildcompare
from canonjar.rc.buildinfo import parse_buildinfo
from canonjar.rc.buildspec import parse_buildspec
from canonjar.rc.model import (
    ArtifactJob,
    Buildcompare,
    Buildinfo,
    BuildinfoOutput,
    Buildspec,
    DiffoscopeLine,
    RcParseError,
    Release,
    UpstreamStatus,
)

__all__ = [
    "MAX_FILE_BYTES",
    "artifact_jobs",
    "iter_buildspecs",
    "load_release",
    "load_releases",
    "read_text",
    "release_id_for",
    "resolve_names",
]

MAX_FILE_BYTES = 16 * 1024 * 1024
_GLOB_CHARS = frozenset("*?[")


def read_text(path: Path, source: str) -> str:
    """Read a UTF-8 text file of at most ``MAX_FILE_BYTES``; any failure is an :class:`RcParseError`."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise RcParseError(source, 0, f"cannot read: {exc.strerror or exc}") from None
    if len(data) > MAX_FILE_BYTES:
        raise RcParseError(source, 0, f"larger than {MAX_FILE_BYTES} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise RcParseError(source, line, "not UTF-8 text") from None


def release_id_for(buildspec_path: Path, content_root: Path | None = None) -> str:
    """Buildspec path relative to the upstream repository root, e.g. ``content/org/ow2/asm/asm-9.7.1.buildspec``.

    With ``content_root`` the path is taken relative to it; otherwise relative to the parent of the nearest
    ancestor directory named ``content``; otherwise the path as given.
    """
    if content_root is not None:
        try:
            return buildspec_path.absolute().relative_to(content_root.absolute()).as_posix()
        except ValueError:
            return buildspec_path.as_posix()
    absolute = buildspec_path.absolute()
    for parent in absolute.parents:
        if parent.name == "content":
            return absolute.relative_to(parent.parent).as_posix()
    return buildspec_path.as_posix()


def _is_glob(name: str) -> bool:
    return any(c in _GLOB_CHARS for c in name)


def _listing(directory: Path, source: str) -> list[str]:
    try:
        return sorted(name for name in os.listdir(directory) if (directory / name).is_file())
    except OSError as exc:
        raise RcParseError(source, 0, f"cannot list {directory.name or '.'}: {exc.strerror or exc}") from None


def _dedupe(names: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(names))


def resolve_names(buildspec_path: Path, buildspec: Buildspec, listing: list[str]) -> tuple[tuple[str, ...], str | None]:
    """(buildinfo names, buildcompare name) present in ``listing`` (the buildspec directory), in upstream's order."""
    present = set(listing)
    stem = buildspec_path.name.removesuffix(".buildspec")
    coordinates = f"{buildspec.artifact_id}-{buildspec.version}"
    bases = [posixpath.basename(p) for p in buildspec.buildinfo_patterns]

    buildinfos: list[str] = []
    for base in bases:
        if _is_glob(base):
            buildinfos.extend(n for n in listing if n.endswith(".buildinfo") and fnmatch.fnmatchcase(n, base))
        elif base in present:
            buildinfos.append(base)
    if not buildinfos:
        buildinfos.extend(n for n in (f"{stem}.buildinfo", f"{coordinates}.buildinfo") if n in present)

    def compare_name(base: str) -> str:
        return base.removesuffix(".buildinfo") + ".buildcompare"

    candidates = [compare_name(b) for b in bases if not _is_glob(b)]
    candidates += [f"{stem}.buildcompare", f"{coordinates}.buildcompare"]
    buildcompare = next((n for n in candidates if n in present), None)
    if buildcompare is None:
        globbed = _dedupe(n for b in bases if _is_glob(b) for n in listing if fnmatch.fnmatchcase(n, compare_name(b)))
        if len(globbed) > 1:
            raise RcParseError(
                buildspec.source,
                buildspec.lines.get("buildinfo", 0),
                f"buildinfo= glob matches several .buildcompare files: {' '.join(globbed)}",
            )
        buildcompare = globbed[0] if globbed else None
    return _dedupe(buildinfos), buildcompare


def _diffoscope_for(output: BuildinfoOutput, lines: tuple[DiffoscopeLine, ...]) -> DiffoscopeLine | None:
    """The hint line whose reference side is this output: full repository path, then group folder, then name."""
    repo_path = "/".join((output.group_id.replace(".", "/"), output.artifact_id, output.version, output.filename))
    best: tuple[int, DiffoscopeLine] | None = None
    for line in lines:
        if line.reference_name != output.filename:
            continue
        parent = posixpath.basename(posixpath.dirname(line.reference))
        score = 2 if line.reference.endswith("/" + repo_path) else 1 if parent == output.group_id else 0
        if best is None or score > best[0]:
            best = (score, line)
    return best[1] if best else None


def artifact_jobs(
    release_id: str, buildinfos: Iterable[Buildinfo], buildcompare: Buildcompare | None
) -> tuple[ArtifactJob, ...]:
    """One job per distinct declared output (identical duplicates, e.g. a twice-attached sources JAR, once)."""
    seen: set[BuildinfoOutput] = set()
    jobs = []
    for buildinfo in buildinfos:
        for output in buildinfo.outputs:
            if output in seen:
                continue
            seen.add(output)
            upstream = buildcompare.status_of(output.filename) if buildcompare else UpstreamStatus.UNKNOWN
            stabilize = buildcompare.stabilize_status_of(output.filename) if buildcompare else UpstreamStatus.UNKNOWN
            diffoscope = _diffoscope_for(output, buildcompare.diffoscope) if buildcompare else None
            jobs.append(
                ArtifactJob(
                    release_id=release_id,
                    group_id=output.group_id,
                    artifact_id=output.artifact_id,
                    version=output.version,
                    filename=output.filename,
                    length=output.length,
                    sha512=output.sha512,
                    upstream=upstream,
                    upstream_stabilize=stabilize,
                    diffoscope=diffoscope,
                )
            )
    return tuple(jobs)


def load_release(buildspec_path: Path | str, content_root: Path | str | None = None) -> Release:
    """Parse a buildspec and the files it names; raises :class:`RcParseError` (never executes anything)."""
    path = Path(buildspec_path)
    root = Path(content_root) if content_root is not None else None
    release_id = release_id_for(path, root)
    release_dir = posixpath.dirname(release_id)

    def source(name: str) -> str:
        return posixpath.join(release_dir, name)

    buildspec = parse_buildspec(read_text(path, release_id), release_id)
    buildinfo_names, buildcompare_name = resolve_names(path, buildspec, _listing(path.parent, release_id))
    buildinfos = tuple(
        parse_buildinfo(read_text(path.parent / name, source(name)), source(name), default_version=buildspec.version)
        for name in buildinfo_names
    )
    buildcompare = (
        parse_buildcompare(
            read_text(path.parent / buildcompare_name, source(buildcompare_name)), source(buildcompare_name)
        )
        if buildcompare_name
        else None
    )
    return Release(
        buildspec_path=path,
        release_id=release_id,
        buildspec=buildspec,
        buildinfos=buildinfos,
        buildcompare=buildcompare,
        artifacts=artifact_jobs(release_id, buildinfos, buildcompare),
        buildinfo_names=buildinfo_names,
        buildcompare_name=buildcompare_name,
    )


def _sorted_tree(directory: Path) -> list[Path]:
    return sorted((p for p in directory.rglob("*.buildspec") if p.is_file()), key=lambda p: p.as_posix())


def _list_file_entries(list_file: Path) -> Iterator[Path]:
    """Paths named in a list file, one a line (``#`` starts a comment line); relative to the list's folder."""
    text = read_text(list_file, list_file.as_posix())
    for raw in text.splitlines():
        entry = raw.strip()
        if entry and not entry.startswith("#"):
            yield list_file.parent / entry


def iter_buildspecs(paths: Iterable[Path | str]) -> Iterator[Path]:
    """Buildspec paths from buildspec files, directory trees (all ``*.buildspec``, sorted) and list files.

    A listed entry may be a buildspec or a directory (not another list). Paths that do not exist are yielded
    as they are, so that :func:`load_release` reports them; each buildspec is yielded once.
    """
    seen: set[Path] = set()

    def expand(path: Path, from_list: bool) -> Iterator[Path]:
        if path.is_dir():
            yield from _sorted_tree(path)
        elif path.suffix == ".buildspec" or from_list or not path.exists():
            yield path
        else:
            for entry in _list_file_entries(path):
                yield from expand(entry, from_list=True)

    for given in paths:
        for found in expand(Path(given), from_list=False):
            key = found.absolute()
            if key not in seen:
                seen.add(key)
                yield found


def load_releases(
    paths: Iterable[Path | str], content_root: Path | str | None = None
) -> Iterator[Release | RcParseError]:
    """Load every buildspec :func:`iter_buildspecs` finds; a malformed release is yielded as its error."""
    for path in iter_buildspecs(paths):
        try:
            yield load_release(path, content_root)
        except RcParseError as exc:
            yield exc
