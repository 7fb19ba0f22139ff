"""Load the per-artifact result files published with "Canonicalization for Unreproducible Builds in Java" and
score canonjar's verdicts against them, artifact by artifact.

The paper's replication repository keeps one JSON file per tool (``oss_rebuild_result.json`` for Google's
OSS-Rebuild, ``oss_rebuild_improved_result.json`` / ``oss_rebuild_improved_2_result.json`` for the paper's
Chains-Rebuild, ``jnorm_result.json`` for jNorm). Each maps an outcome to the artifacts it applies to::

    {
      "successful_normalization": {
        "com.fasterxml.woodstox:woodstox-core:6.6.1": [
          {"diffoscope_diff": "results/com.fasterxml.woodstox/woodstox-core/6.6.1/<file>.diffoscope.json",
           "oss_rebuild_diff": "results/com.fasterxml.woodstox/woodstox-core/6.6.1/oss-rebuild/<file>.diff"}
        ]
      },
      "failed_normalization": {...},
      "error_in_normalization": {...}
    }

The key is the project's group:artifact:version (a multi-module release lists several files under one key);
the file an entry is about (``<file>``, e.g. ``woodstox-core-6.6.1.jar``) is the name of its diffoscope report
less ``.diffoscope.json``. Accepted variants:
an entry given as a bare path string, a single entry instead of a list, plural outcome names
(``successful_normalizations``) or the short ones (``success``, ``failed``, ``error``), and an explicit
``file``/``filename``/``artifact`` key. Anything else is a :class:`PaperFormatError` (one line, no traceback).

Scoring ranks each side's result: equivalent (or identical) over different over error, and the paper's
successful over failed over error. Where canonjar ranks higher it does *better*; a "better" that is an
``equivalent`` against the tool's ``failed`` claims more noise than the tool removed, so its trace deserves a
look before it is counted as a win.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import PurePosixPath
from typing import Any

from .errors import CanonjarError
from .outcome import Verdict

__all__ = [
    "TOOL_ALIASES",
    "ArtifactScore",
    "Comparison",
    "PaperFormatError",
    "PaperOutcome",
    "PaperRecord",
    "PaperResults",
    "Scoreboard",
    "key_from_diffoscope_path",
    "load_results",
    "parse_results",
    "score",
]

#: Names used in the paper for the tools whose results the replication repository publishes.
TOOL_ALIASES: dict[str, str] = {
    "oss-rebuild": "OSS-Rebuild",
    "oss-rebuild-improved": "Chains-Rebuild",
    "oss-rebuild-improved-2": "Chains-Rebuild",
    "jnorm": "jNorm",
}

DIFFOSCOPE_SUFFIXES = (".diffoscope.json", ".diffoscope")
MAX_RESULT_BYTES = 512 * 1024 * 1024


class PaperFormatError(CanonjarError):
    """A result file does not have the shape this loader knows."""


class PaperOutcome(StrEnum):
    """What a tool's canonicalization achieved on one artifact."""

    SUCCESSFUL = "successful_normalization"
    FAILED = "failed_normalization"
    ERROR = "error_in_normalization"

    @property
    def rank(self) -> int:
        return {"successful_normalization": 2, "failed_normalization": 1, "error_in_normalization": 0}[self.value]


_OUTCOME_NAMES: dict[str, PaperOutcome] = {}
for _outcome, _names in (
    (PaperOutcome.SUCCESSFUL, ("successful_normalization", "successful_normalizations", "successful", "success")),
    (PaperOutcome.FAILED, ("failed_normalization", "failed_normalizations", "failed", "failure")),
    (PaperOutcome.ERROR, ("error_in_normalization", "errors_in_normalization", "error", "errors")),
):
    for _name in _names:
        _OUTCOME_NAMES[_name] = _outcome


class Comparison(StrEnum):
    """How canonjar's result on one artifact compares with one tool's."""

    BETTER = "better"
    WORSE = "worse"
    SAME = "same"
    ONLY_OURS = "only-ours"      # we have a verdict, the tool's file does not list the artifact
    ONLY_THEIRS = "only-theirs"  # the tool's file lists it, we have no verdict


@dataclass(frozen=True)
class PaperRecord:
    """One artifact of one result file."""

    gav: str
    filename: str
    outcome: PaperOutcome
    diffoscope_path: str | None = None
    tool_diff_path: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.gav, self.filename)


@dataclass(frozen=True)
class PaperResults:
    """The records of one tool's result file, looked up by (group:artifact:version, file name)."""

    tool: str
    records: tuple[PaperRecord, ...]
    _index: dict[tuple[str, str], PaperRecord] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        for rec in self.records:
            old = self._index.get(rec.key)
            if old is not None and old.outcome != rec.outcome:
                raise PaperFormatError(f"{self.tool}: {rec.gav} {rec.filename} is listed as both "
                                       f"{old.outcome.value} and {rec.outcome.value}")
            self._index[rec.key] = rec

    @property
    def display_name(self) -> str:
        return TOOL_ALIASES.get(self.tool, self.tool)

    def get(self, gav: str, filename: str) -> PaperRecord | None:
        return self._index.get((gav, filename))

    def keys(self) -> set[tuple[str, str]]:
        return set(self._index)

    def counts(self) -> dict[PaperOutcome, int]:
        out = dict.fromkeys(PaperOutcome, 0)
        for rec in self._index.values():
            out[rec.outcome] += 1
        return out


def key_from_diffoscope_path(path: str) -> tuple[str, str]:
    """(group:artifact:version, file name) of a path ``.../<group>/<artifact>/<version>/<file>.diffoscope.json``."""
    parts = PurePosixPath(path.replace("\\", "/")).parts
    if len(parts) < 4:
        raise PaperFormatError(f"cannot read group/artifact/version from {path!r}")
    group, artifact, version, name = parts[-4:]
    return f"{group}:{artifact}:{version}", _strip_suffix(name, DIFFOSCOPE_SUFFIXES)


def _strip_suffix(name: str, suffixes: Iterable[str]) -> str:
    for suffix in suffixes:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def _check_gav(gav: object) -> str:
    if not isinstance(gav, str):
        raise PaperFormatError(f"artifact key {gav!r} is not a string")
    parts = gav.split(":")
    if len(parts) != 3 or not all(p.strip() for p in parts):
        raise PaperFormatError(f"artifact key {gav!r} is not group:artifact:version")
    return gav


def _entry_record(gav: str, entry: object, outcome: PaperOutcome, tools: set[str]) -> PaperRecord:
    if isinstance(entry, str):
        entry = {"diffoscope_diff": entry}
    if not isinstance(entry, Mapping):
        raise PaperFormatError(f"{gav}: entry {entry!r} is neither an object nor a path")
    diffoscope = entry.get("diffoscope_diff")
    tool_keys = sorted(k for k in entry if isinstance(k, str) and k.endswith("_diff") and k != "diffoscope_diff")
    tool_path = entry.get(tool_keys[0]) if tool_keys else None
    for key in tool_keys:
        tools.add(key[: -len("_diff")].replace("_", "-"))
    name = entry.get("file") or entry.get("filename") or entry.get("artifact")
    if name is None and isinstance(diffoscope, str):
        name = PurePosixPath(diffoscope.replace("\\", "/")).name
        name = _strip_suffix(name, DIFFOSCOPE_SUFFIXES)
    if name is None and isinstance(tool_path, str):
        name = _strip_suffix(PurePosixPath(tool_path.replace("\\", "/")).name, (".diff", ".json"))
    if not isinstance(name, str) or not name:
        raise PaperFormatError(f"{gav}: entry names no file (no diffoscope_diff, file or *_diff path)")
    for value in (diffoscope, tool_path):
        if value is not None and not isinstance(value, str):
            raise PaperFormatError(f"{gav}: path {value!r} is not a string")
    return PaperRecord(gav, name, outcome, diffoscope if isinstance(diffoscope, str) else None,
                       tool_path if isinstance(tool_path, str) else None)


def parse_results(data: object, tool: str | None = None) -> PaperResults:
    """Records from an already parsed result file. ``tool`` names the tool; by default it is read from the
    entries' ``<tool>_diff`` key (``oss_rebuild_diff`` -> ``oss-rebuild``)."""
    if not isinstance(data, Mapping):
        raise PaperFormatError("a result file is a JSON object of outcomes")
    records: list[PaperRecord] = []
    tools: set[str] = set()
    known = 0
    for raw_outcome, artifacts in data.items():
        outcome = _OUTCOME_NAMES.get(str(raw_outcome).strip().lower())
        if outcome is None:
            continue  # counters or notes next to the outcomes
        known += 1
        if not isinstance(artifacts, Mapping):
            raise PaperFormatError(f"{raw_outcome}: expected an object mapping group:artifact:version to files")
        for gav, entries in artifacts.items():
            _check_gav(gav)
            items = entries if isinstance(entries, list) else [entries]
            records.extend(_entry_record(gav, entry, outcome, tools) for entry in items)
    if known == 0:
        raise PaperFormatError("no successful_normalization / failed_normalization / error_in_normalization key")
    if tool is None:
        tool = tools.pop() if len(tools) == 1 else "unknown"
    return PaperResults(tool, tuple(records))


def load_results(path: str | os.PathLike[str], tool: str | None = None) -> PaperResults:
    """Read one result file (bounded in size)."""
    try:
        size = os.stat(path).st_size
        if size > MAX_RESULT_BYTES:
            raise PaperFormatError(f"{os.fspath(path)}: {size} bytes is more than a result file can be")
        with open(path, encoding="utf-8") as fh:
            data: Any = json.load(fh)
    except OSError as exc:
        raise PaperFormatError(f"cannot read {os.fspath(path)}: {exc.strerror or exc}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise PaperFormatError(f"{os.fspath(path)} is not JSON: {exc}") from None
    return parse_results(data, tool)


def _verdict(verdict: Verdict | str) -> Verdict:
    try:
        return Verdict(verdict)
    except ValueError:
        raise PaperFormatError(f"unknown verdict {verdict!r}") from None


def _our_rank(verdict: Verdict) -> int:
    return {Verdict.IDENTICAL: 2, Verdict.EQUIVALENT: 2, Verdict.DIFFERENT: 1, Verdict.ERROR: 0}[verdict]


@dataclass(frozen=True)
class ArtifactScore:
    """canonjar's verdict on one artifact next to one tool's outcome."""

    gav: str
    filename: str
    tool: str
    ours: Verdict | None
    theirs: PaperOutcome | None
    comparison: Comparison


@dataclass(frozen=True)
class Scoreboard:
    """Every scored artifact, per tool."""

    scores: tuple[ArtifactScore, ...]

    def for_tool(self, tool: str) -> tuple[ArtifactScore, ...]:
        return tuple(s for s in self.scores if s.tool == tool)

    def counts(self, tool: str) -> dict[Comparison, int]:
        out = dict.fromkeys(Comparison, 0)
        for s in self.for_tool(tool):
            out[s.comparison] += 1
        return out

    def where(self, tool: str, comparison: Comparison) -> list[tuple[str, str]]:
        """The (group:artifact:version, file) keys where the comparison with ``tool`` came out so."""
        return [(s.gav, s.filename) for s in self.for_tool(tool) if s.comparison == comparison]

    def to_dict(self) -> dict[str, Any]:
        tools = sorted({s.tool for s in self.scores})
        return {tool: {"name": TOOL_ALIASES.get(tool, tool),
                       "counts": {c.value: n for c, n in self.counts(tool).items()},
                       "artifacts": [{"gav": s.gav, "file": s.filename,
                                      "ours": s.ours.value if s.ours else None,
                                      "theirs": s.theirs.value if s.theirs else None,
                                      "comparison": s.comparison.value} for s in self.for_tool(tool)]}
                for tool in tools}


def score(ours: Mapping[tuple[str, str], Verdict | str], *results: PaperResults) -> Scoreboard:
    """Compare our verdicts, keyed by (group:artifact:version, file name), with each tool's results."""
    verdicts = {key: _verdict(v) for key, v in ours.items()}
    ranked = {key: (v, _our_rank(v)) for key, v in verdicts.items()}
    scores: list[ArtifactScore] = []
    for res in results:
        for key in sorted(ranked.keys() | res.keys()):
            mine = ranked.get(key)
            rec = res.get(*key)
            if mine is None:
                assert rec is not None
                comp = Comparison.ONLY_THEIRS
            elif rec is None:
                comp = Comparison.ONLY_OURS
            elif mine[1] > rec.outcome.rank:
                comp = Comparison.BETTER
            elif mine[1] < rec.outcome.rank:
                comp = Comparison.WORSE
            else:
                comp = Comparison.SAME
            scores.append(ArtifactScore(key[0], key[1], res.tool, mine[0] if mine else None,
                                        rec.outcome if rec else None, comp))
    return Scoreboard(tuple(scores))
