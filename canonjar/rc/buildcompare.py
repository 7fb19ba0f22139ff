""".buildcompare parsing: upstream's per-file verdict (ok/ko/ignored/missing), before and after its own
stabilization, plus the ``# diffoscope <reference> <rebuild>`` and ``# wget <url>`` hint lines.

The file is written by upstream's compare scripts as Bash assignments (``okFiles="a.jar b.pom"``) and comment
lines, so it is read with the same never-executing reader as a buildspec, with ``$`` kept literally (nothing to
expand here). Counts must be decimal numbers (an empty value reads as absent); file lists are split on blanks.

Diffoscope sides are told apart by path prefix, not by position: the reference (the file published on Maven
Central) lives under ``target/reference/`` (Maven: ``target/reference/<groupId>/<file>``, older files without the
group folder), ``central/`` (``compareOutput.sh``: ``central/<group path>/<artifact>/<version>/<file>``) or
``reference/``; the other path is the rebuild (``target/...``, ``<module>/target/...``, ``repository/...``).
"""

from __future__ import annotations

import re

from canonjar.rc.buildspec import ShellComment, parse_shell_assignments
from canonjar.rc.model import Buildcompare, DiffoscopeLine, RcParseError

__all__ = ["REFERENCE_PREFIXES", "is_reference_path", "parse_buildcompare", "parse_diffoscope_comment"]

REFERENCE_PREFIXES = ("target/reference/", "central/", "reference/")
_COUNT_RE = re.compile(r"[0-9]{1,12}")
_DIFFOSCOPE_RE = re.compile(r"\s*diffoscope\s+(\S+)\s+(\S+)\s*")
_WGET_RE = re.compile(r"\s*wget\s+([^\s;]+)")
_COUNT_KEYS = ("ok", "ko", "ignored", "missing", "stabilize_ok", "stabilize_ko", "stabilize_ignored")


def is_reference_path(path: str) -> bool:
    """True when ``path`` names the reference (Central) side in upstream's layouts."""
    path = path.removeprefix("./")
    return path.startswith(REFERENCE_PREFIXES) or "/target/reference/" in path


def parse_diffoscope_comment(text: str, line: int = 0) -> DiffoscopeLine | None:
    """``diffoscope <a> <b>`` (comment text without ``#``) -> sides by prefix; None if not that form."""
    match = _DIFFOSCOPE_RE.fullmatch(text)
    if match is None:
        return None
    first, second = match.group(1), match.group(2)
    first_ref, second_ref = is_reference_path(first), is_reference_path(second)
    if first_ref and not second_ref:
        return DiffoscopeLine(first, second, line, "prefix")
    if second_ref and not first_ref:
        return DiffoscopeLine(second, first, line, "prefix")
    return DiffoscopeLine(first, second, line, "position")


def _count(values: dict[str, str], lines: dict[str, int], key: str, source: str) -> int | None:
    value = values.get(key)
    if value is None or value == "":
        return None
    if not _COUNT_RE.fullmatch(value):
        raise RcParseError(source, lines[key], f"{key} is not a decimal count: {value[:40]!r}")
    return int(value)


def _files(values: dict[str, str], key: str) -> tuple[str, ...]:
    return tuple(values.get(key, "").split())


def _hints(comments: tuple[ShellComment, ...]) -> tuple[list[DiffoscopeLine], list[str], list[str]]:
    diffoscope: list[DiffoscopeLine] = []
    wget: list[str] = []
    other: list[str] = []
    for comment in comments:
        parsed = parse_diffoscope_comment(comment.text, comment.line) if comment.whole_line else None
        wget_match = _WGET_RE.match(comment.text) if comment.whole_line else None
        if parsed is not None:
            diffoscope.append(parsed)
        elif wget_match is not None:
            wget.append(wget_match.group(1))
        else:
            other.append(comment.text)
    return diffoscope, wget, other


def parse_buildcompare(text: str, source: str) -> Buildcompare:
    """Parse .buildcompare text; ``source`` names the file in error messages. Raises :class:`RcParseError`."""
    script = parse_shell_assignments(text, source, expand=False)
    values: dict[str, str] = {}
    lines: dict[str, int] = {}
    for a in script.assignments:
        values[a.key] = a.value
        lines[a.key] = a.line
    counts = {key: _count(values, lines, key, source) for key in _COUNT_KEYS}
    has_stabilize = any(key.startswith("stabilize_") for key in values)

    def stabilize_files(key: str) -> tuple[str, ...] | None:
        return _files(values, key) if has_stabilize else None

    diffoscope, wget, other = _hints(script.comments)
    return Buildcompare(
        source=source,
        properties=values,
        ok=counts["ok"],
        ko=counts["ko"],
        ignored=counts["ignored"],
        ok_files=_files(values, "okFiles"),
        ko_files=_files(values, "koFiles"),
        ignored_files=_files(values, "ignoredFiles"),
        missing_files=_files(values, "missingFiles"),
        stabilize_ok_files=stabilize_files("stabilize_okFiles"),
        stabilize_ko_files=stabilize_files("stabilize_koFiles"),
        stabilize_ignored_files=stabilize_files("stabilize_ignoredFiles"),
        diffoscope=tuple(diffoscope),
        wget=tuple(wget),
        missing=counts["missing"],
        stabilize_ok=counts["stabilize_ok"],
        stabilize_ko=counts["stabilize_ko"],
        stabilize_ignored=counts["stabilize_ignored"],
        comments=tuple(other),
        lines=lines,
    )
