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

    def get(self, key: str, default: str = "") -> str:
        return self.values.get(key, default)

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
    properties: dict[str, str]
    outputs: tuple[BuildinfoOutput, ...]


@dataclass(frozen=True)
class DiffoscopeLine:
    """``# diffoscope <reference> <rebuild>``: sides identified by path prefix, not by position."""

    reference: str
    rebuild: str


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


class UpstreamStatus(StrEnum):
    OK = "ok"
    KO = "ko"
    IGNORED = "ignored"
    MISSING = "missing"
    UNKNOWN = "unknown"  # no .buildcompare, or the file is not listed in it


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
