""".buildinfo parsing: the output files a rebuild declares, with their length and SHA-512.

Four shapes are read (see ``BuildinfoShape``):

- Maven flat (``buildinfo.version=1.0-SNAPSHOT``): ``outputs.N.groupId|filename|length|checksums.sha512``, the
  artifactId from the top-level ``artifact-id``;
- Maven multi-module: ``outputs.N.coordinates=groupId:artifactId`` then ``outputs.N.M.*`` (``outputs.N.M.groupId``
  when present must agree with the coordinates);
- Gradle / ``compareOutput.sh``: no ``buildinfo.version``, ``outputs.N.coordinates`` + ``outputs.N.M.*``, and no
  top-level ``version`` (the caller passes the buildspec's version as ``default_version``);
- sbt (``buildinfo.version=0.1-SNAPSHOT``): one file per module, ``outputs.N.filename|length|checksums.sha512``
  with ``group-id``/``artifact-id``/``version`` at top level.

The file is Java-properties-like as the writers emit it: ``key=value`` lines, ``#``/``!`` comments, blank lines,
no escapes. Anything the writers never produce and that would make an output ambiguous is an
:class:`RcParseError` with its line: a line without ``=``, a duplicate key, an output without ``filename``, a
file name with a path separator, a non-decimal ``length``, a ``checksums.sha512`` that is not 128 hex digits,
nested and flat outputs mixed, a file declaring no outputs, a groupId/artifactId/version that could not be a
path component (so that ``ArtifactJob.repo_path`` never leaves the repository layout).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from canonjar.rc.model import Buildinfo, BuildinfoOutput, BuildinfoShape, RcParseError

__all__ = ["is_plain_file_name", "parse_buildinfo"]

_OUTPUT_KEY_RE = re.compile(r"outputs\.([0-9]{1,9})\.(?:([0-9]{1,9})\.)?(.+)")
_LENGTH_RE = re.compile(r"[0-9]{1,19}")
_SHA512_RE = re.compile(r"[0-9a-fA-F]{128}")
_BAD_NAME_CHARS = frozenset("/\\\x00")
# dot- or slash-separated non-empty segments: never absolute, never "..", so ArtifactJob.repo_path stays relative
_GROUP_RE = re.compile(r"[^./\\\s:\x00-\x1f\x7f]+(?:[./][^./\\\s:\x00-\x1f\x7f]+)*")


_Located = tuple[str, int]  # a value and the 1-based line it was read from


@dataclass
class _Entry:
    """Fields of one output (``outputs.N.*`` or ``outputs.N.M.*``) with the line of each."""

    first_line: int
    fields: dict[str, str] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)


def is_plain_file_name(name: str) -> bool:
    """True for a single path component: no separator, not ``.``/``..``, no control character."""
    return (
        bool(name)
        and name not in (".", "..")
        and not any(c in _BAD_NAME_CHARS or ord(c) < 0x20 or ord(c) == 0x7F for c in name)
    )


def _read_properties(text: str, source: str) -> tuple[dict[str, str], dict[str, int]]:
    properties: dict[str, str] = {}
    lines: dict[str, int] = {}
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.strip()
        if not line or line[0] in "#!":
            continue
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not key:
            raise RcParseError(source, number, f"expected key=value: {line[:60]!r}")
        if key in properties:
            raise RcParseError(source, number, f"duplicate key {key!r} (first at line {lines[key]})")
        properties[key] = value.strip()
        lines[key] = number
    return properties, lines


def _collect_outputs(
    properties: dict[str, str], lines: dict[str, int], source: str
) -> tuple[dict[int, _Entry], dict[tuple[int, int], _Entry]]:
    """Group ``outputs.*`` keys: module-level (``outputs.N.x``) and nested (``outputs.N.M.x``)."""
    modules: dict[int, _Entry] = {}
    nested: dict[tuple[int, int], _Entry] = {}
    for key, value in properties.items():
        if not key.startswith("outputs."):
            continue
        match = _OUTPUT_KEY_RE.fullmatch(key)
        if match is None:
            raise RcParseError(source, lines[key], f"unrecognised output key {key!r}")
        n, m, name = int(match.group(1)), match.group(2), match.group(3)
        entry = (
            modules.setdefault(n, _Entry(lines[key]))
            if m is None
            else nested.setdefault((n, int(m)), _Entry(lines[key]))
        )
        entry.fields[name] = value
        entry.lines[name] = lines[key]
    return modules, nested


def _shape(properties: dict[str, str], nested: bool) -> BuildinfoShape:
    version = properties.get("buildinfo.version")
    if version is None:
        return BuildinfoShape.GRADLE
    if version.startswith("0."):
        return BuildinfoShape.SBT
    return BuildinfoShape.MAVEN_MULTI if nested else BuildinfoShape.MAVEN_FLAT


def _coordinates(entry: _Entry, source: str) -> tuple[_Located, _Located] | None:
    value = entry.fields.get("coordinates")
    if value is None:
        return None
    line = entry.lines["coordinates"]
    parts = value.split(":")
    if len(parts) != 2 or not all(parts):
        raise RcParseError(source, line, f"coordinates must be groupId:artifactId: {value!r}")
    return (parts[0], line), (parts[1], line)


def _output(entry: _Entry, group: _Located, artifact: _Located, version: _Located, source: str) -> BuildinfoOutput:
    """One output, checked; a bad group/artifact/version is reported at the line it came from."""
    filename = entry.fields.get("filename")
    if filename is None:
        raise RcParseError(source, entry.first_line, "output without filename")
    if not is_plain_file_name(filename):
        raise RcParseError(source, entry.lines["filename"], f"filename is not a plain file name: {filename!r}")
    length: int | None = None
    if "length" in entry.fields:
        if not _LENGTH_RE.fullmatch(entry.fields["length"]):
            raise RcParseError(
                source, entry.lines["length"], f"length is not a decimal number: {entry.fields['length']!r}"
            )
        length = int(entry.fields["length"])
    sha512: str | None = None
    if "checksums.sha512" in entry.fields:
        if not _SHA512_RE.fullmatch(entry.fields["checksums.sha512"]):
            raise RcParseError(source, entry.lines["checksums.sha512"], "checksums.sha512 is not 128 hex digits")
        sha512 = entry.fields["checksums.sha512"].lower()
    if not _GROUP_RE.fullmatch(group[0]):
        raise RcParseError(source, group[1], f"output without a usable groupId: {group[0]!r}")
    for name, (value, line) in (("artifactId", artifact), ("version", version)):
        if not is_plain_file_name(value):
            raise RcParseError(source, line, f"output without a usable {name}: {value!r}")
    return BuildinfoOutput(group[0], artifact[0], version[0], filename, length, sha512)


def _nested_outputs(
    modules: dict[int, _Entry], nested: dict[tuple[int, int], _Entry], version: _Located, source: str
) -> list[BuildinfoOutput]:
    outputs = []
    for (n, m), entry in sorted(nested.items()):
        module = modules.get(n)
        coordinates = _coordinates(module, source) if module is not None else None
        if coordinates is None:
            raise RcParseError(source, entry.first_line, f"outputs.{n}.{m} has no outputs.{n}.coordinates")
        group, artifact = coordinates
        own_group = entry.fields.get("groupId")
        if own_group is not None and own_group != group[0]:
            raise RcParseError(
                source, entry.lines["groupId"], f"groupId {own_group!r} disagrees with coordinates {group[0]!r}"
            )
        outputs.append(_output(entry, group, artifact, version, source))
    return outputs


def _flat_outputs(
    modules: dict[int, _Entry], properties: dict[str, str], lines: dict[str, int], version: _Located, source: str
) -> list[BuildinfoOutput]:
    def pick(entry: _Entry, own: str, top: str) -> _Located:
        if own in entry.fields:
            return entry.fields[own], entry.lines[own]
        return properties.get(top, ""), lines.get(top, entry.first_line)

    outputs = []
    for _n, entry in sorted(modules.items()):
        group, artifact = _coordinates(entry, source) or (
            pick(entry, "groupId", "group-id"),
            pick(entry, "artifactId", "artifact-id"),
        )
        outputs.append(_output(entry, group, artifact, version, source))
    return outputs


def parse_buildinfo(text: str, source: str, *, default_version: str = "") -> Buildinfo:
    """Parse .buildinfo text; ``default_version`` is used when the file has no ``version=`` (Gradle shape)."""
    properties, lines = _read_properties(text.replace("\r\n", "\n"), source)
    modules, nested = _collect_outputs(properties, lines, source)
    version: _Located = (properties["version"], lines["version"]) if properties.get("version") else (default_version, 1)
    if nested:
        stray = [e for e in modules.values() if set(e.fields) - {"coordinates"}]
        if stray:
            raise RcParseError(source, stray[0].first_line, "flat outputs.N.* keys mixed with outputs.N.M.*")
        outputs = _nested_outputs(modules, nested, version, source)
    else:
        outputs = _flat_outputs(modules, properties, lines, version, source)
    if not outputs:
        raise RcParseError(source, 1, "no outputs.* entries")
    return Buildinfo(source, _shape(properties, bool(nested)), properties, tuple(outputs))
