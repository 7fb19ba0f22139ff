"""The one result structure of a comparison: frozen, versioned, and loadable back from its JSON."""

from __future__ import annotations

import functools
import json
import types
import typing
from dataclasses import asdict, dataclass, fields, is_dataclass
from enum import Enum, StrEnum
from typing import Any

from .errors import CanonjarError

__all__ = [
    "SCHEMA_VERSION",
    "ArtifactInfo",
    "Difference",
    "DifferenceKind",
    "Evidence",
    "FieldChange",
    "NoiseSummary",
    "Outcome",
    "OutcomeFinding",
    "TraceStep",
    "Verdict",
]

SCHEMA_VERSION = 1


class Verdict(StrEnum):
    IDENTICAL = "identical"
    EQUIVALENT = "equivalent"
    DIFFERENT = "different"
    ERROR = "error"

    @property
    def exit_code(self) -> int:
        return {"identical": 0, "equivalent": 0, "different": 1, "error": 2}[self.value]


class DifferenceKind(StrEnum):
    ADDED = "added"          # only in the rebuild
    REMOVED = "removed"      # only in the reference
    CHANGED = "changed"      # content differs
    MOVED = "moved"          # relative order differs
    METADATA = "metadata"    # zip metadata differs (time, mode, extra fields, compression...)
    ARCHIVE = "archive"      # archive-level field (comment)


@dataclass(frozen=True)
class ArtifactInfo:
    path: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Difference:
    """One residual difference after canonicalization. ``left`` is the reference, ``right`` the rebuild.

    ``category``, ``root_cause``, ``mitigation``, ``hint`` and ``explanation`` are filled by
    :func:`canonjar.taxonomy.classify`: ``explanation`` says why the rule matched, quoting the evidence of
    both sides (for example the two ``build-jdk`` values)."""

    path: str
    kind: DifferenceKind
    aspect: str
    category: str
    left: str | None = None
    right: str | None = None
    left_size: int | None = None
    right_size: int | None = None
    left_sha256: str | None = None
    right_sha256: str | None = None
    diff: str | None = None
    diff_omitted_lines: int = 0
    note: str = ""
    root_cause: str = "unknown"
    mitigation: str = ""
    hint: str = ""
    explanation: str = ""


@dataclass(frozen=True)
class OutcomeFinding:
    """A structural anomaly found while reading one side (duplicate names, hidden data, ...)."""

    side: str
    code: str
    path: str
    message: str


@dataclass(frozen=True)
class Evidence:
    """A value a stabilizer verified, or removed but kept for the report (e.g. Build-Jdk ``17.0.2``)."""

    side: str
    stabilizer: str
    key: str
    value: str
    path: str = ""


@dataclass(frozen=True, slots=True)
class FieldChange:
    field: str
    old: str
    new: str


@dataclass(frozen=True, slots=True)
class TraceStep:
    side: str
    stabilizer: str
    path: str
    action: str
    changes: tuple[FieldChange, ...] = ()
    reason: str = ""


@dataclass(frozen=True)
class NoiseSummary:
    """What the stabilizers removed on one side for one root cause: how many trace steps, by which
    stabilizers, and the evidence values recorded with them (``build-jdk=17.0.2``)."""

    side: str
    root_cause: str
    category: str
    steps: int
    stabilizers: tuple[str, ...] = ()
    values: tuple[str, ...] = ()


@dataclass(frozen=True)
class Outcome:
    verdict: Verdict
    reference: ArtifactInfo | None = None
    rebuild: ArtifactInfo | None = None
    stabilizers: tuple[str, ...] = ()
    #: Names of stabilizers that changed something, per side ("reference", "rebuild").
    effective: tuple[tuple[str, tuple[str, ...]], ...] = ()
    differences: tuple[Difference, ...] = ()
    findings: tuple[OutcomeFinding, ...] = ()
    trace: tuple[TraceStep, ...] = ()
    error: str | None = None
    evidence: tuple[Evidence, ...] = ()
    #: The noise removed, per side and root cause (filled by :func:`canonjar.taxonomy.classify`).
    noise: tuple[NoiseSummary, ...] = ()
    schema_version: int = SCHEMA_VERSION

    @property
    def exit_code(self) -> int:
        return self.verdict.exit_code

    def effective_for(self, side: str) -> tuple[str, ...]:
        return dict(self.effective).get(side, ())

    # ------------------------------------------------------------------ JSON
    def to_dict(self) -> dict[str, Any]:
        d = _plain(asdict(self))
        assert isinstance(d, dict)
        d["effective"] = {side: list(names) for side, names in self.effective}
        ordered = {"schema_version": d.pop("schema_version"), "verdict": d.pop("verdict")}
        ordered.update(d)
        return ordered

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Outcome:
        if not isinstance(data, dict) or "schema_version" not in data:
            raise CanonjarError("not a canonjar outcome: no schema_version")
        version = data["schema_version"]
        if version != SCHEMA_VERSION:
            raise CanonjarError(f"unsupported outcome schema_version {version!r} (this canonjar reads "
                                f"{SCHEMA_VERSION})")
        data = dict(data)
        eff = data.get("effective", {})
        data["effective"] = tuple((side, tuple(names)) for side, names in eff.items())
        try:
            built = _build(cls, data)
        except (TypeError, ValueError, KeyError) as exc:
            raise CanonjarError(f"malformed canonjar outcome: {exc}") from None
        if not isinstance(built, Outcome):
            raise CanonjarError("malformed canonjar outcome")
        return built

    @classmethod
    def from_json(cls, text: str) -> Outcome:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise CanonjarError(f"not JSON: {exc}") from None
        return cls.from_dict(data)


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


@functools.cache
def _hints(tp: type) -> dict[str, Any]:
    """The resolved field types of a dataclass (resolving them is slow: done once per class)."""
    return typing.get_type_hints(tp)


def _build(tp: Any, value: Any) -> Any:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if value is None:
            return None
        return _build(args[0], value)
    if origin is tuple:
        targs = typing.get_args(tp)
        if len(targs) == 2 and targs[1] is Ellipsis:
            return tuple(_build(targs[0], v) for v in value)
        return tuple(_build(a, v) for a, v in zip(targs, value, strict=True))
    if isinstance(tp, type) and issubclass(tp, Enum):
        return tp(value)
    if isinstance(tp, type) and is_dataclass(tp):
        hints = _hints(tp)
        kwargs = {f.name: _build(hints[f.name], value[f.name]) for f in fields(tp) if f.name in value}
        return tp(**kwargs)
    if tp in (int, str, bool) and not isinstance(value, tp):
        raise TypeError(f"expected {tp.__name__}, got {type(value).__name__}")
    return value
