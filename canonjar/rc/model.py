"""Typed values for Reproducible Central inputs: buildspec, .buildinfo, .buildcompare, and a release.

These are the contract between the parsers (``canonjar.rc.buildspec``, ``.buildinfo``, ``.buildcompare``,
``.release``) and the batch runner (``canonjar.batch``). Parsers never execute anything: a buildspec is
shell-variable text, read as data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

__all__ = [
    "STABILIZED_SUFFIX",
    "ArtifactJob",
    "Buildcompare",
    "Buildinfo",
    "BuildinfoOutput",
    "BuildinfoShape",
    "Buildspec",
    "DiffoscopeLine",
    "RcParseError",
    "Release",
    "UpstreamStatus",
]


class RcParseError(ValueError):
    """A malformed Reproducible Central file: names the file and the 1-based line."""

    def __init__(self, source: str, line: int, message: str) -> None:
        self.source = source
        self.line = line
        self.message = message
        super().__init__(f"{source}:{line}: {message}")


@dataclass(frozen=True)
class Buildspec:
    """A parsed buildspec.

    ``values`` holds every key after ``${var}``/``$var`` expansion from earlier keys (trailing comments and
    quotes removed); ``unevaluated`` names the keys whose value contains ``$(...)`` or backticks, kept as
    text and never run. The typed properties are the keys upstream uses.
    """

    source: str
    values: dict[str, str]
    unevaluated: frozenset[str] = frozenset()
    lines: dict[str, int] = field(default_factory=dict)  # key -> line where it was (last) assigned
    # keys whose value referenced a variable not assigned earlier in the file (expanded to "", as bash does
    # for an unset variable; the environment is never consulted)
    unresolved: frozenset[str] = frozenset()

    def get(self, key: str, default: str = "") -> str:
        return self.values.get(key, default)

    @property
    def buildinfo_patterns(self) -> tuple[str, ...]:
        """``buildinfo=`` split into words as bash splits an unquoted ``$buildinfo`` (several when sbt)."""
        return tuple(self.get("buildinfo").split())

    @property
    def group_id(self) -> str:
        return self.get("groupId")

    @property
    def artifact_id(self) -> str:
        return self.get("artifactId")

    @property
    def version(self) -> str:
        return self.get("version")

    @property
    def tool(self) -> str:
        return self.get("tool")

    @property
    def jdk(self) -> str:
        return self.get("jdk")

    @property
    def newline(self) -> str:
        return self.get("newline")

    @property
    def buildinfo(self) -> str:
        return self.get("buildinfo")

    @property
    def display(self) -> str:
        return self.get("display")

    @property
    def git_repo(self) -> str:
        return self.get("gitRepo")

    @property
    def git_tag(self) -> str:
        return self.get("gitTag")

    @property
    def command(self) -> str:
        return self.get("command")

    @property
    def diffoscope(self) -> str:
        return self.get("diffoscope")

    @property
    def issue(self) -> str:
        return self.get("issue")

    @property
    def toolchains(self) -> str:
        return self.get("toolchains")

    @property
    def umask(self) -> str:
        return self.get("umask")

    @property
    def timezone(self) -> str:
        return self.get("timezone")

    @property
    def locale(self) -> str:
        return self.get("locale")

    @property
    def newline_git(self) -> str:
        return self.get("newlineGit")

    @property
    def exec_before(self) -> str:
        return self.get("execBefore")

    @property
    def exec_after(self) -> str:
        return self.get("execAfter")

    @property
    def source_distribution(self) -> str:
        return self.get("sourceDistribution")

    @property
    def source_path(self) -> str:
        return self.get("sourcePath")

    @property
    def source_rm_files(self) -> str:
        return self.get("sourceRmFiles")

    @property
    def workdir(self) -> str:
        return self.get("workdir")

    @property
    def os(self) -> str:
        return self.get("os")

    @property
    def arch(self) -> str:
        return self.get("arch")

    @property
    def jdk_force_azul(self) -> str:
        return self.get("jdkForceAzul")

    @property
    def build_number(self) -> str:
        return self.get("buildNumber")

    @property
    def timestamp(self) -> str:
        return self.get("timestamp")


class BuildinfoShape(StrEnum):
    MAVEN_FLAT = "maven-flat"  # buildinfo.version=1.0-SNAPSHOT, outputs.N.*
    MAVEN_MULTI = "maven-multi-module"  # outputs.N.coordinates + outputs.N.M.*
    GRADLE = "gradle"  # no buildinfo.version (compareOutput.sh form)
    SBT = "sbt"  # buildinfo.version=0.1-SNAPSHOT


@dataclass(frozen=True)
class BuildinfoOutput:
    """One output file of a rebuild, as the .buildinfo declares it."""

    group_id: str
    artifact_id: str
    version: str
    filename: str
    length: int | None
    sha512: str | None  # lower-case hex


@dataclass(frozen=True)
class Buildinfo:
    source: str
    shape: BuildinfoShape
    properties: dict[str, str]  # every key=value of the file (outputs.* included), as written
    outputs: tuple[BuildinfoOutput, ...]  # ordered by output index (N, then M), not by line


@dataclass(frozen=True)
class DiffoscopeLine:
    """``# diffoscope <reference> <rebuild>``: sides identified by path prefix, not by position."""

    reference: str
    rebuild: str
    line: int = 0  # 1-based line in the .buildcompare
    # "prefix": sides told apart by path prefix (target/reference/, central/ ... vs the rest);
    # "position": neither or both paths looked like a reference, upstream's order (reference first) was kept
    sides_from: str = "prefix"

    @property
    def reference_name(self) -> str:
        """File name of the reference side (the name published on Maven Central)."""
        return self.reference.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class Buildcompare:
    source: str
    properties: dict[str, str]
    ok: int | None
    ko: int | None
    ignored: int | None
    ok_files: tuple[str, ...]
    ko_files: tuple[str, ...]
    ignored_files: tuple[str, ...]
    missing_files: tuple[str, ...]
    stabilize_ok_files: tuple[str, ...] | None  # None: no stabilize_* keys at all
    stabilize_ko_files: tuple[str, ...] | None
    stabilize_ignored_files: tuple[str, ...] | None
    diffoscope: tuple[DiffoscopeLine, ...]
    wget: tuple[str, ...]
    missing: int | None = None
    stabilize_ok: int | None = None
    stabilize_ko: int | None = None
    stabilize_ignored: int | None = None
    comments: tuple[str, ...] = ()  # other comment lines, text after "#", kept so nothing is hidden
    lines: dict[str, int] = field(default_factory=dict)  # key -> line where it was (last) assigned

    @property
    def version(self) -> str:
        return self.properties.get("version", "")

    def status_of(self, filename: str) -> UpstreamStatus:
        """Upstream's verdict for one file name; a name in several lists gets the least favourable one."""
        return _status_in(filename, self.ko_files, self.missing_files, self.ignored_files, self.ok_files)

    def stabilize_status_of(self, filename: str) -> UpstreamStatus:
        """Upstream's verdict after its own stabilization; list names may carry a ``.stabilized`` suffix."""
        if self.stabilize_ok_files is None:
            return UpstreamStatus.UNKNOWN

        def strip(names: tuple[str, ...] | None) -> tuple[str, ...]:
            return tuple(n.removesuffix(STABILIZED_SUFFIX) for n in names or ())

        return _status_in(
            filename,
            strip(self.stabilize_ko_files),
            (),
            strip(self.stabilize_ignored_files),
            strip(self.stabilize_ok_files),
        )


class UpstreamStatus(StrEnum):
    OK = "ok"
    KO = "ko"
    IGNORED = "ignored"
    MISSING = "missing"
    UNKNOWN = "unknown"  # no .buildcompare, or the file is not listed in it


STABILIZED_SUFFIX = ".stabilized"


def _status_in(
    filename: str,
    ko: tuple[str, ...],
    missing: tuple[str, ...],
    ignored: tuple[str, ...],
    ok: tuple[str, ...],
) -> UpstreamStatus:
    """First list (ko, missing, ignored, ok) naming ``filename``: a conflict never reads as ok."""
    for names, status in (
        (ko, UpstreamStatus.KO),
        (missing, UpstreamStatus.MISSING),
        (ignored, UpstreamStatus.IGNORED),
        (ok, UpstreamStatus.OK),
    ):
        if filename in names:
            return status
    return UpstreamStatus.UNKNOWN


@dataclass(frozen=True)
class ArtifactJob:
    """One artifact of a release to compare: what the reference and rebuild should be, and upstream's word."""

    release_id: str  # buildspec path relative to the content root, e.g. content/org/ow2/asm/asm-9.7.1.buildspec
    group_id: str
    artifact_id: str
    version: str
    filename: str
    length: int | None
    sha512: str | None
    upstream: UpstreamStatus
    upstream_stabilize: UpstreamStatus  # UNKNOWN when the buildcompare has no stabilize_* keys
    diffoscope: DiffoscopeLine | None = None

    @property
    def repo_path(self) -> str:
        """Path of the file in a Maven repository layout (group dots -> slashes)."""
        group = self.group_id.replace(".", "/")
        return f"{group}/{self.artifact_id}/{self.version}/{self.filename}"


@dataclass(frozen=True)
class Release:
    """A buildspec with the buildinfo and buildcompare files found for it (names resolved as in the README)."""

    buildspec_path: Path
    release_id: str
    buildspec: Buildspec
    buildinfos: tuple[Buildinfo, ...]
    buildcompare: Buildcompare | None
    artifacts: tuple[ArtifactJob, ...]
    # file names (same directory as the buildspec) the buildinfos/buildcompare were read from, in order
    buildinfo_names: tuple[str, ...] = ()
    buildcompare_name: str | None = None
