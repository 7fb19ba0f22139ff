"""The research tables of a batch database, computed from our own results (no re-comparison).

Every function here is pure: it reads :class:`Artifact` values (one per compared or attempted artifact, loaded
from the SQLite store of ``canonjar batch`` by :func:`load_artifacts`) and returns frozen rows in a stable
order, so two reports of the same database are byte for byte the same.

Terms used in every table:

* an **unreproducible** artifact is one that was compared and is not byte for byte identical: verdict
  ``equivalent`` or ``different`` (missing, ignored and error rows were not compared and are counted apart);
* a **cause** is a root cause of the taxonomy (:mod:`canonjar.taxonomy.causes`) with its category; an artifact
  *shows* a cause when a residual difference has it (column "residual") or when the stabilizers removed noise of
  that cause that differed between the two sides (column "removed as noise": the noise summary of the trace
  steps not matched by the same step on the other side, :func:`differing_noise`; a ``Created-By`` removed from
  both manifests alike is not why the artifacts differ). The tables are multi-label: an artifact counts once
  for each cause it shows, and "only" counts the artifacts whose causes (noise and residual together) are
  exactly that one.
"""

from __future__ import annotations

import functools
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from pathlib import Path

from ..batch.store import ResultRow, iter_releases, iter_results
from ..errors import CanonjarError, UsageError
from ..outcome import (
    SCHEMA_VERSION,
    Difference,
    DifferenceKind,
    Evidence,
    FieldChange,
    NoiseSummary,
    Outcome,
    OutcomeFinding,
    TraceStep,
    Verdict,
)
from ..taxonomy import Category
from ..taxonomy.rules import noise_summary

__all__ = [
    "UNREPRODUCIBLE",
    "Artifact",
    "CauseRow",
    "Family",
    "FamilyRow",
    "ReleaseInfo",
    "ReleaseRow",
    "StabilizerRow",
    "Summary",
    "asymmetric_steps",
    "category_rows",
    "derived_equivalent",
    "differing_noise",
    "family_of",
    "family_rows",
    "family_stabilizers",
    "load_artifacts",
    "load_releases",
    "needed_stabilizers",
    "release_rows",
    "root_cause_rows",
    "slim_outcome",
    "stabilizer_rows",
    "summary",
]

#: Verdicts of compared artifacts that are not byte for byte identical.
UNREPRODUCIBLE = (Verdict.EQUIVALENT.value, Verdict.DIFFERENT.value)
_OK = ("identical", "equivalent")


Label = tuple[str, str]  # (root cause, category)


@dataclass(frozen=True)
class Artifact:
    """One artifact of the batch: who it is, our verdict, upstream's word, and the facts the tables need from
    its outcome (computed once by :meth:`of`, so a report over a million rows never holds their outcomes)."""

    release_id: str
    gav: str
    filename: str
    verdict: str
    upstream: str = "unknown"
    upstream_stabilize: str = "unknown"
    #: The stabilizer selection of the run that produced this row, in registry order.
    stabilizers: tuple[str, ...] = ()
    #: True when an outcome of a comparison was saved.
    compared: bool = False
    #: Stabilizers that changed something on either side.
    changed: frozenset[str] = frozenset()
    #: Stabilizers whose changes differed between the sides (:func:`needed_stabilizers`).
    needed: frozenset[str] = frozenset()
    #: Causes of the noise removed that differed between the sides (:func:`differing_noise`).
    noise: frozenset[Label] = frozenset()
    #: Causes of the residual differences.
    residual: frozenset[Label] = frozenset()
    findings: int = 0

    @property
    def unreproducible(self) -> bool:
        return self.verdict in UNREPRODUCIBLE and self.compared

    @staticmethod
    def of(release_id: str, gav: str, filename: str, verdict: str, upstream: str = "unknown",
           upstream_stabilize: str = "unknown", outcome: Outcome | None = None, stabilizers: tuple[str, ...] = (),
           effective: tuple[str, ...] = ()) -> Artifact:
        """An artifact with its facts computed from ``outcome`` (and the stored effective lists)."""
        if outcome is None:
            return Artifact(release_id, gav, filename, verdict, upstream, upstream_stabilize, stabilizers,
                            changed=frozenset(effective), needed=frozenset(effective))
        changed = frozenset(effective) | {n for _side, ns in outcome.effective for n in ns}
        asym = asymmetric_steps(outcome)
        return Artifact(release_id, gav, filename, verdict, upstream, upstream_stabilize, stabilizers, True,
                        changed, _needed(outcome, changed, asym), frozenset(_differing_noise(outcome, asym)),
                        frozenset((d.root_cause, d.category) for d in outcome.differences), len(outcome.findings))

    @staticmethod
    def from_row(row: ResultRow) -> Artifact:
        """The artifact of one store row; a malformed outcome JSON is an error naming the row."""
        outcome = None
        if row.outcome_json:
            try:
                outcome = slim_outcome(row.outcome_json)
            except CanonjarError as exc:
                raise UsageError(f"result {row.release_id} {row.filename}: {exc}") from None
        effective = tuple(dict.fromkeys(row.effective_reference + row.effective_rebuild))
        return Artifact.of(row.release_id, row.gav, row.filename, row.verdict, row.upstream, row.upstream_stabilize,
                           outcome, row.stabilizer_names, effective)


def slim_outcome(text: str) -> Outcome:
    """The parts of a saved outcome JSON the tables read: verdict, effective lists, the whole trace, evidence,
    noise summary, and each difference's kind, category and root cause and each finding (values left out).

    Built directly rather than with :meth:`Outcome.from_json`, which resolves type hints for every nested
    value and costs several milliseconds per outcome: too slow for a million rows. Raises
    :class:`CanonjarError` for JSON that is not a canonjar outcome of this schema version.
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CanonjarError(f"not JSON: {exc}") from None
    if not isinstance(data, dict) or data.get("schema_version") != SCHEMA_VERSION:
        raise CanonjarError(f"not a canonjar outcome of schema_version {SCHEMA_VERSION}")
    try:
        trace = tuple(TraceStep(t["side"], t["stabilizer"], t["path"], t["action"],
                                tuple(FieldChange(c["field"], c["old"], c["new"]) for c in t.get("changes", ())),
                                t.get("reason", "")) for t in data.get("trace", ()))
        evidence = tuple(Evidence(e["side"], e["stabilizer"], e["key"], e["value"], e.get("path", ""))
                         for e in data.get("evidence", ()))
        noise = tuple(NoiseSummary(n["side"], n["root_cause"], n["category"], n["steps"], tuple(n["stabilizers"]),
                                   tuple(n["values"])) for n in data.get("noise", ()))
        diffs = tuple(Difference(d["path"], DifferenceKind(d["kind"]), d["aspect"], d["category"],
                                 root_cause=d.get("root_cause", "unknown")) for d in data.get("differences", ()))
        findings = tuple(OutcomeFinding(f["side"], f["code"], f["path"], f["message"])
                         for f in data.get("findings", ()))
        effective = tuple((side, tuple(names)) for side, names in data.get("effective", {}).items())
        return Outcome(Verdict(data["verdict"]), effective=effective, differences=diffs, findings=findings,
                       trace=trace, evidence=evidence, noise=noise)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise CanonjarError(f"malformed canonjar outcome: {exc!r}") from None


@dataclass(frozen=True)
class ReleaseInfo:
    release_id: str
    parse_error: str | None = None


def _check_db(db_path: str | Path) -> Path:
    path = Path(db_path)
    if not path.is_file():
        raise UsageError(f"{path}: no such database")
    return path


def _artifact_key(row: ResultRow) -> tuple[str, str, str, str, str]:
    return row.release_id, row.group_id, row.artifact_id, row.version, row.filename


def load_artifacts(db_path: str | Path) -> list[Artifact]:
    """Every artifact of the database, one per (release, group, artifact, version, file name).

    A database may hold several rows of one artifact (runs with other canonjar versions or stabilizer
    selections); the row written last (highest row id) is the one used.
    """
    import sqlite3

    path = _check_db(db_path)
    out: list[Artifact] = []
    previous: ResultRow | None = None
    try:
        # The rows of one artifact are adjacent (iter_results orders them by artifact, then id): the last wins.
        # One release may hold one file name under two groupIds, so the key is the whole coordinate.
        for row in iter_results(path):
            if previous is not None and _artifact_key(previous) != _artifact_key(row):
                out.append(Artifact.from_row(previous))
            previous = row
    except (sqlite3.Error, ValueError, KeyError) as exc:
        raise UsageError(f"{path}: not a canonjar batch database ({exc})") from None
    if previous is not None:
        out.append(Artifact.from_row(previous))
    return out


def load_releases(db_path: str | Path) -> list[ReleaseInfo]:
    """Every release the batch saw (including those that failed to parse), ordered by release id."""
    import sqlite3

    path = _check_db(db_path)
    try:
        return [ReleaseInfo(rid, err) for rid, _p, err in iter_releases(path)]
    except sqlite3.Error as exc:
        raise UsageError(f"{path}: not a canonjar batch database ({exc})") from None


# ------------------------------------------------------------------------------------------------ causes

@dataclass(frozen=True)
class CauseRow:
    """How many unreproducible artifacts show one category (or root cause)."""

    key: str  # the category, or the root cause id
    category: str  # the category (same as key for category rows)
    showing: int  # artifacts showing it, as noise or residual
    noise: int  # artifacts where the stabilizers removed it and it differed between the sides
    residual: int  # artifacts with a residual difference of it
    only: int  # artifacts showing it and nothing else
    only_residual: int  # artifacts whose residual differences are all of it (and that have some)


def _labels(a: Artifact, level: str) -> tuple[frozenset[Label], frozenset[Label]]:
    """(noise labels, residual labels) of an artifact; a label is (key, category)."""
    noise, residual = a.noise, a.residual
    if level == "category":
        return frozenset((c, c) for _k, c in noise), frozenset((c, c) for _k, c in residual)
    return noise, residual


def _cause_rows(artifacts: Iterable[Artifact], level: str) -> list[CauseRow]:
    showing: Counter[tuple[str, str]] = Counter()
    noise_n: Counter[tuple[str, str]] = Counter()
    residual_n: Counter[tuple[str, str]] = Counter()
    only: Counter[tuple[str, str]] = Counter()
    only_res: Counter[tuple[str, str]] = Counter()
    for a in artifacts:
        if not a.unreproducible:
            continue
        noise, residual = _labels(a, level)
        both = noise | residual
        showing.update(both)
        noise_n.update(noise)
        residual_n.update(residual)
        if len(both) == 1:
            only.update(both)
        if len(residual) == 1:
            only_res.update(residual)
    rows = [CauseRow(k, c, showing[(k, c)], noise_n[(k, c)], residual_n[(k, c)], only[(k, c)],
                     only_res[(k, c)]) for k, c in showing]
    return sorted(rows, key=lambda r: (-r.showing, r.key, r.category))


def category_rows(artifacts: Iterable[Artifact]) -> list[CauseRow]:
    """Per category: unreproducible artifacts showing it (noise, residual), showing only it. Most shown first."""
    return _cause_rows(artifacts, "category")


def root_cause_rows(artifacts: Iterable[Artifact]) -> list[CauseRow]:
    """Per root cause: unreproducible artifacts showing it (noise, residual), showing only it."""
    return _cause_rows(artifacts, "root_cause")


# ------------------------------------------------------------------------------------------------ families

class Family(IntEnum):
    """Stabilizer families, each containing the previous one: zip only, +metadata, +class files."""

    ZIP = 0
    METADATA = 1
    CLASS = 2

    @property
    def label(self) -> str:
        return {0: "zip only", 1: "+metadata", 2: "+class files"}[self.value]


#: Categories of the stabilizers of the metadata family (manifest, pom/git properties, timestamps in
#: properties and javadoc, SBOM, source newlines, JAR signature).
_METADATA_CATEGORIES = frozenset({Category.BUILD_MANIFESTS.value, Category.VERSIONING_PROPERTIES.value,
                                  Category.SBOM.value, Category.TIMESTAMPS.value, Category.MISCELLANEOUS.value,
                                  Category.FILESYSTEM.value})


@functools.cache
def _registry_categories() -> dict[str, str]:
    from ..pipeline import all_stabilizers

    try:
        return {s.name: s.category.value for s in all_stabilizers()}
    except CanonjarError:  # a broken plugin: fall back to the built-in stabilizers
        return {s.name: s.category.value for s in all_stabilizers(include_plugins=False)}


def family_of(name: str, category: str | None = None) -> Family:
    """The smallest family a stabilizer belongs to: THE one place where family membership is decided.

    ``zip-*`` names are the zip family; ``class-*`` names and the ``jvm-bytecode`` category are the class-file
    family; other stabilizers whose category (given, or looked up in the registry) is a metadata category
    (manifests, versioning properties, SBOM, timestamps, miscellaneous) are the metadata family. A name the
    registry does not know (a plugin not installed here) goes to the widest family, so it never makes the
    smaller families look better than they are.
    """
    if name.startswith("zip-"):
        return Family.ZIP
    cat = category if category is not None else _registry_categories().get(name)
    if name.startswith("class-") or cat is None or cat == Category.JVM_BYTECODE.value:
        return Family.CLASS
    return Family.METADATA if cat in _METADATA_CATEGORIES else Family.CLASS


def family_stabilizers(family: Family) -> tuple[str, ...]:
    """The names of every registered stabilizer in ``family`` (opt-in ones included), in registry order."""
    return tuple(n for n, c in _registry_categories().items() if family_of(n, c) <= family)


_StepKey = tuple[str, str, str, tuple[tuple[str, str, str], ...]]


def _step_key(step: TraceStep) -> _StepKey:
    return step.stabilizer, step.path, step.action, tuple((c.field, c.old, c.new) for c in step.changes)


def asymmetric_steps(outcome: Outcome) -> list[TraceStep]:
    """The trace steps that are not matched by the same step on the other side.

    Two steps match when they have the same stabilizer, path, action and field changes (old and new values):
    the stabilizer then turned the same values into the same values on both sides, which removed nothing that
    differed between them (for example an identical ``Created-By`` removed from both manifests). Steps are
    matched as multisets; skipped steps changed nothing and are left out.
    """
    keyed = [(t, _step_key(t)) for t in outcome.trace if t.action != "skipped"]
    counts: dict[str, Counter[_StepKey]] = {"reference": Counter(), "rebuild": Counter()}
    for t, k in keyed:
        counts.setdefault(t.side, Counter())[k] += 1
    empty: Counter[_StepKey] = Counter()
    budget = {side: {k: min(n, counts.get(_OTHER.get(side, ""), empty)[k]) for k, n in c.items()}
              for side, c in counts.items()}
    out = []
    for t, k in keyed:
        left = budget[t.side]
        if left.get(k, 0) > 0:
            left[k] -= 1
        else:
            out.append(t)
    return out


_OTHER = {"reference": "rebuild", "rebuild": "reference"}


def needed_stabilizers(outcome: Outcome, changed: frozenset[str] = frozenset()) -> frozenset[str]:
    """The stabilizers whose changes made a difference between the two sides of a comparison.

    A stabilizer is *needed* when some of its trace steps are not matched by the same step on the other side
    (:func:`asymmetric_steps`). A stabilizer that changed the same values in the same way on both sides (for
    example ``manifest-build-metadata`` removing an identical ``Created-By`` from both manifests) is not
    needed: without it, both sides keep the same (unchanged) values there. Without a saved trace, every
    stabilizer that changed something on either side (``changed`` and the outcome's effective lists) counts.
    """
    return _needed(outcome, changed, None)


def _needed(outcome: Outcome, changed: frozenset[str], asym: Sequence[TraceStep] | None) -> frozenset[str]:
    if not outcome.trace and (outcome.effective or changed):
        return frozenset(changed) | {n for _side, ns in outcome.effective for n in ns}
    return frozenset(t.stabilizer for t in (asymmetric_steps(outcome) if asym is None else asym))


def differing_noise(outcome: Outcome) -> set[tuple[str, str]]:
    """(root cause, category) of the noise that differed between the two sides and was removed.

    The noise summary (:func:`canonjar.taxonomy.rules.noise_summary`) of the :func:`asymmetric_steps`, taken
    per stabilizer and path. When such a step is split into several causes by the evidence it recorded (a
    manifest rewrite removing ``Built-By`` and ``Created-By``), the causes whose evidence values are the same
    on both sides are left out as long as another cause of the step explains the difference: an identical
    ``Created-By`` is not why the manifests differ when the ``Built-By`` values do. Without a trace: the
    outcome's noise summary.
    """
    return _differing_noise(outcome, None)


def _differing_noise(outcome: Outcome, asym: Sequence[TraceStep] | None) -> set[tuple[str, str]]:
    if not outcome.trace:
        return {(n.root_cause, n.category) for n in outcome.noise}
    groups: dict[tuple[str, str], list[TraceStep]] = {}
    for t in asymmetric_steps(outcome) if asym is None else asym:
        groups.setdefault((t.stabilizer, t.path), []).append(t)
    out: set[tuple[str, str]] = set()
    for steps in groups.values():
        values: dict[Label, dict[str, set[str]]] = {}
        for n in noise_summary(steps, outcome.evidence):
            values.setdefault((n.root_cause, n.category), {})[n.side] = set(n.values)
        same = {label for label, sides in values.items()
                if sides.get("reference") and sides.get("reference") == sides.get("rebuild")}
        out |= (set(values) - same) or set(values)
    return out


def derived_equivalent(artifact: Artifact, family: Family) -> bool:
    """Whether ``artifact`` is equivalent with only the stabilizers of ``family``, derived from ONE run.

    The derivation: the artifact was equivalent with the run's full selection, and every stabilizer it
    *needed* (:func:`needed_stabilizers`) lies within the family. The pipeline runs stabilizers in a fixed
    order and a stabilizer that changed nothing returns its input unchanged, so dropping the stabilizers that
    changed nothing leaves every other step with exactly the same input and the same canonical forms; dropping
    one that changed both sides identically leaves both sides with the same original values at the places it
    touched. (Deferred stabilizers, such as the class-file ones, only run on entries whose content still
    differs, so their steps are already limited to what the comparison needed.) The numbers are therefore
    those of a separate run with the family's stabilizers (the tests check this against real separate runs),
    with two caveats: a family stabilizer the run did not select is not credited (the table says which were
    missing, the number is then a lower bound), and an artifact made ``different`` in the run only by a
    finding a stabilizer outside the family reported is not counted.
    Trace values are shortened (unmodified contents are described by size and CRC-32), so this is a
    statistic, never a verdict on one artifact.
    """
    if artifact.verdict != Verdict.EQUIVALENT.value or not artifact.compared:
        return False
    return all(family_of(name) <= family for name in artifact.needed)


@dataclass(frozen=True)
class FamilyRow:
    family: str  # zip only, +metadata, +class files
    stabilizers: tuple[str, ...]  # the family's stabilizers (registry order)
    equivalent: int  # unreproducible artifacts made equivalent with only this family
    unreproducible: int
    gain: int  # equivalent minus the previous family's
    missing: tuple[str, ...] = ()  # family stabilizers some run did not select (the count is a lower bound)

    @property
    def rate(self) -> float:
        return self.equivalent / self.unreproducible if self.unreproducible else 0.0


def family_rows(artifacts: Sequence[Artifact]) -> list[FamilyRow]:
    """Canonicalization success (artifacts made equivalent / unreproducible artifacts) per stabilizer family."""
    unrep = [a for a in artifacts if a.unreproducible]
    selected: set[str] | None = None
    for a in unrep:
        if a.stabilizers:  # rows that recorded their selection
            selected = set(a.stabilizers) if selected is None else selected & set(a.stabilizers)
    rows: list[FamilyRow] = []
    previous = 0
    for fam in Family:
        names = family_stabilizers(fam)
        n = sum(1 for a in unrep if derived_equivalent(a, fam))
        missing = tuple(x for x in names if selected is not None and x not in selected)
        rows.append(FamilyRow(fam.label, names, n, len(unrep), n - previous, missing))
        previous = n
    return rows


@dataclass(frozen=True)
class StabilizerRow:
    name: str
    family: str
    changed: int  # unreproducible artifacts where it changed something (either side)
    needed: int  # equivalent artifacts that needed it (its changes differed between the sides)


def stabilizer_rows(artifacts: Sequence[Artifact]) -> list[StabilizerRow]:
    """Per stabilizer: how often it changed something, and how often an equivalence needed it."""
    changed: Counter[str] = Counter()
    needed: Counter[str] = Counter()
    for a in artifacts:
        if not a.unreproducible:
            continue
        changed.update(a.changed)
        if a.verdict == Verdict.EQUIVALENT.value:
            needed.update(a.needed)
    rows = [StabilizerRow(n, family_of(n).label, changed[n], needed[n]) for n in set(changed) | set(needed)]
    return sorted(rows, key=lambda r: (-r.needed, -r.changed, r.name))


# ------------------------------------------------------------------------------------------------ releases

@dataclass(frozen=True)
class ReleaseRow:
    release_id: str
    artifacts: int
    identical: int
    equivalent: int
    different: int
    other: int  # missing-reference, missing-rebuild, ignored, error
    reproducible: bool  # every artifact identical (and at least one)
    after_canonicalization: bool  # every artifact identical or equivalent (and at least one)
    agree: int  # artifacts whose verdict agrees with upstream ok/ko
    disagree: int
    agree_stabilize: int  # same against upstream's stabilize_ok/ko
    disagree_stabilize: int
    note: str = ""  # the parse error of a malformed release


def _agreement(verdict: str, upstream: str) -> bool | None:
    if upstream not in ("ok", "ko") or verdict not in ("identical", "equivalent", "different"):
        return None
    return (verdict in _OK) == (upstream == "ok")


def release_rows(artifacts: Sequence[Artifact], releases: Sequence[ReleaseInfo] = ()) -> list[ReleaseRow]:
    """One row per release (artifact rows and releases the batch recorded), ordered by release id."""
    by_release: dict[str, list[Artifact]] = {r.release_id: [] for r in releases}
    for a in artifacts:
        by_release.setdefault(a.release_id, []).append(a)
    errors = {r.release_id: r.parse_error or "" for r in releases}
    rows = []
    for rid in sorted(by_release):
        arts = by_release[rid]
        v = Counter(a.verdict for a in arts)
        agree = [_agreement(a.verdict, a.upstream) for a in arts]
        agree_s = [_agreement(a.verdict, a.upstream_stabilize) for a in arts]
        n = len(arts)
        rows.append(ReleaseRow(
            rid, n, v["identical"], v["equivalent"], v["different"],
            n - v["identical"] - v["equivalent"] - v["different"],
            n > 0 and v["identical"] == n, n > 0 and v["identical"] + v["equivalent"] == n,
            agree.count(True), agree.count(False), agree_s.count(True), agree_s.count(False),
            errors.get(rid, "")))
    return rows


# ------------------------------------------------------------------------------------------------ summary

@dataclass(frozen=True)
class Summary:
    releases: int
    artifacts: int
    verdicts: tuple[tuple[str, int], ...]  # every verdict, in the store's order, then unknown ones sorted
    unreproducible: int
    with_findings: int  # unreproducible artifacts with structural findings
    releases_reproducible: int
    releases_after_canonicalization: int
    #: (our word, upstream word) -> artifacts; our word is ok (identical/equivalent) or ko (different).
    upstream_matrix: tuple[tuple[str, str, int], ...] = field(default=())
    stabilize_matrix: tuple[tuple[str, str, int], ...] = field(default=())


def _matrix(artifacts: Sequence[Artifact], attr: str) -> tuple[tuple[str, str, int], ...]:
    counts: Counter[tuple[str, str]] = Counter()
    for a in artifacts:
        if a.verdict in ("identical", "equivalent", "different"):
            counts[("ok" if a.verdict in _OK else "ko", str(getattr(a, attr)))] += 1
    return tuple((ours, theirs, counts[(ours, theirs)]) for ours, theirs in sorted(counts))


def summary(artifacts: Sequence[Artifact], releases: Sequence[ReleaseRow]) -> Summary:
    from ..batch.store import VERDICTS

    v = Counter(a.verdict for a in artifacts)
    order = list(VERDICTS) + sorted(set(v) - set(VERDICTS))
    unrep = [a for a in artifacts if a.unreproducible]
    return Summary(
        len(releases), len(artifacts), tuple((k, v[k]) for k in order), len(unrep),
        sum(1 for a in unrep if a.findings),
        sum(1 for r in releases if r.reproducible), sum(1 for r in releases if r.after_canonicalization),
        _matrix(artifacts, "upstream"), _matrix(artifacts, "upstream_stabilize"))
