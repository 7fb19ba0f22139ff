"""The stabilizer pipeline and its registry: selection, failure handling, per-side runs, nesting, plugins."""

from __future__ import annotations

import dataclasses
import io
import json
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

from canonjar import (
    Archive,
    Category,
    DifferenceKind,
    Entry,
    EntryDataError,
    LimitExceeded,
    Outcome,
    Scope,
    Stabilizer,
    StabilizerSkip,
    UsageError,
    Verdict,
    all_stabilizers,
    canonicalize_bytes,
    compare_bytes,
    pipeline,
    select_stabilizers,
)
from canonjar.limits import Budget
from canonjar.model import Payload, archive_from_zip
from canonjar.pipeline import Context, Side, TraceStep, run_pipeline
from canonjar.stabilizers import BUILTIN
from canonjar.stabilizers.zip_timestamps import CANONICAL_DOS_DATE, CANONICAL_DOS_TIME
from canonjar.zipfmt import read_zip
from tests.helpers import Item, make_zip

BUILTIN_NAMES = [s.name for s in BUILTIN]
DEFAULT_NAMES = [s.name for s in BUILTIN if s.enabled_by_default]
FIXTURE = Path(__file__).parent / "fixtures" / "plugin"


def names(stabs: tuple[Stabilizer, ...]) -> list[str]:
    return [s.name for s in stabs]


def stab(name: str, apply: Callable[..., object], scope: Scope = Scope.ENTRY,
         applies_to: Callable[[Entry], bool] | None = None) -> Stabilizer:
    extra = {"applies_to": applies_to} if applies_to is not None else {}
    return Stabilizer(name=name, scope=scope, category=Category.MISCELLANEOUS, removes="test", reason="test",
                      apply=apply, **extra)  # type: ignore[arg-type]


def jar(*items: Item, streamed: bool = False) -> bytes:
    return make_zip(items, streamed=streamed)


SAMPLE = jar(Item("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\r\n\r\n"),
             Item("com/example/A.class", b"\xca\xfe\xba\xbe" + bytes(64)),
             Item("com/example/bad.txt", b"bad\n"),
             Item("com/example/c.txt", b"c\n", mode=0o600))


def run(data: bytes, stabs: list[Stabilizer], side: Side = Side.REFERENCE) -> tuple[Archive, Archive, list[TraceStep]]:
    original = archive_from_zip(read_zip(data))
    ctx = Context(side=side, budget=Budget())
    out = run_pipeline(original, stabs, ctx)
    return original, out, ctx.trace


# ------------------------------------------------------------------------------------ selection


def test_default_selection_is_every_stabilizer_in_registry_order() -> None:
    assert names(select_stabilizers(available=BUILTIN)) == DEFAULT_NAMES
    assert names(select_stabilizers()) == [s.name for s in all_stabilizers() if s.enabled_by_default]
    assert names(all_stabilizers(include_plugins=False)) == BUILTIN_NAMES
    assert len(set(BUILTIN_NAMES)) == len(BUILTIN_NAMES)
    assert {n for n in BUILTIN_NAMES if n.startswith("zip-")} == {
        "zip-directory-entries", "zip-entry-order", "zip-timestamps", "zip-ownership", "zip-permissions",
        "zip-host-version", "zip-extra-fields", "zip-compression", "zip-data-descriptor", "zip-utf8-flag",
        "zip-comments"}


def test_opt_in_stabilizers_run_only_when_enabled() -> None:
    extra = dataclasses.replace(BUILTIN[0], name="an-opt-in-one", enabled_by_default=False)
    avail = (*BUILTIN, extra)
    assert "an-opt-in-one" not in names(select_stabilizers(available=avail))
    chosen = names(select_stabilizers(enable=["an-opt-in-one"], available=avail))
    assert "an-opt-in-one" in chosen and set(DEFAULT_NAMES) <= set(chosen)
    assert "an-opt-in-one" in names(select_stabilizers(enable=["all"], available=avail))
    assert set(BUILTIN_NAMES) - set(DEFAULT_NAMES) == {"class-lambda-names", "class-member-order"}


def test_disable_one_and_comma_lists() -> None:
    assert names(select_stabilizers(disable=["zip-timestamps"], available=BUILTIN)) == [
        n for n in DEFAULT_NAMES if n != "zip-timestamps"]
    both = select_stabilizers(disable=[" zip-permissions , zip-timestamps,,"], available=BUILTIN)
    assert names(both) == [n for n in DEFAULT_NAMES if n not in ("zip-timestamps", "zip-permissions")]
    repeated = select_stabilizers(disable=["zip-permissions", "zip-timestamps"], available=BUILTIN)
    assert names(repeated) == names(both)


def test_all_and_none() -> None:
    assert select_stabilizers(disable=["all"], available=BUILTIN) == ()
    assert select_stabilizers(enable=["none"], available=BUILTIN) == ()
    assert names(select_stabilizers(disable=["none"], available=BUILTIN)) == DEFAULT_NAMES
    assert names(select_stabilizers(disable=["all"], enable=["all"], available=BUILTIN)) == BUILTIN_NAMES
    # disable all, then enable a comma list: only those, in registry order whatever the order given
    only = select_stabilizers(disable=["all"], enable=["zip-utf8-flag,zip-entry-order"], available=BUILTIN)
    assert names(only) == ["zip-entry-order", "zip-utf8-flag"]
    assert names(select_stabilizers(disable=["all,zip-comments"], available=BUILTIN)) == []


def test_enable_wins_over_disable() -> None:
    chosen = select_stabilizers(enable=["zip-timestamps"], disable=["zip-timestamps", "zip-comments"],
                                available=BUILTIN)
    assert names(chosen) == [n for n in DEFAULT_NAMES if n != "zip-comments"]


@pytest.mark.parametrize("where", ["enable", "disable"])
def test_unknown_name_lists_known_names(where: str) -> None:
    with pytest.raises(UsageError) as info:
        select_stabilizers(**{where: ["zip-timestamps,zip-timestamp"]}, available=BUILTIN)  # type: ignore[arg-type]
    msg = str(info.value)
    assert "'zip-timestamp'" in msg and "\n" not in msg
    known = msg.split("known:", 1)[1]
    assert [n.strip() for n in known.split(",")] == sorted(BUILTIN_NAMES)


def test_selection_uses_the_given_registry() -> None:
    mine = stab("my-stab", lambda e, ctx: e)
    assert names(select_stabilizers(available=[*BUILTIN, mine])) == [*DEFAULT_NAMES, "my-stab"]
    with pytest.raises(UsageError, match="my-stab"):
        select_stabilizers(enable=["my-stab"], available=BUILTIN)


@pytest.mark.parametrize("bad", ["Zip_Times", "zip--x", "-x", "x-", "", "a b", "ZIP"])
def test_stabilizer_names_must_be_kebab_case(bad: str) -> None:
    with pytest.raises(UsageError):
        stab(bad, lambda e, ctx: e)


# ------------------------------------------------------------------------------------ registry and plugins (in process)

DUP_OF_BUILTIN = stab("zip-timestamps", lambda e, ctx: e)
EXTRA = stab("extra-one", lambda e, ctx: e)


@pytest.fixture(autouse=True)
def _fresh_plugin_discovery() -> object:
    """Plugin discovery is cached per process; these tests fake the installed entry points."""
    pipeline._plugins.cache_clear()
    yield
    pipeline._plugins.cache_clear()


def _fake_entry_points(monkeypatch: pytest.MonkeyPatch, *eps: tuple[str, str]) -> None:
    found = [EntryPoint(name=n, value=v, group=pipeline.ENTRY_POINT_GROUP) for n, v in eps]
    monkeypatch.setattr(pipeline, "entry_points", lambda group: [e for e in found if e.group == group])


def test_plugin_entry_points_are_appended(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_entry_points(monkeypatch, ("extra", f"{__name__}:EXTRA"))
    assert names(all_stabilizers()) == [*BUILTIN_NAMES, "extra-one"]
    assert names(select_stabilizers(disable=["extra-one"])) == DEFAULT_NAMES


def test_duplicate_names_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_entry_points(monkeypatch, ("dup", f"{__name__}:DUP_OF_BUILTIN"))
    for call in (all_stabilizers, select_stabilizers):
        with pytest.raises(UsageError, match="two stabilizers are named 'zip-timestamps'"):
            call()
    assert names(all_stabilizers(include_plugins=False)) == BUILTIN_NAMES


def test_two_plugins_with_one_name_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_entry_points(monkeypatch, ("a", f"{__name__}:EXTRA"), ("b", f"{__name__}:EXTRA"))
    with pytest.raises(UsageError, match="'extra-one'"):
        all_stabilizers()


def test_broken_plugins_are_usage_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_entry_points(monkeypatch, ("gone", "no_such_module_for_canonjar:X"))
    with pytest.raises(UsageError, match="failed to load"):
        all_stabilizers()
    _fake_entry_points(monkeypatch, ("wrong", f"{__name__}:BUILTIN_NAMES"))
    with pytest.raises(UsageError, match="not a Stabilizer"):
        all_stabilizers()


def test_compare_bytes_reports_registry_errors_as_an_error_outcome(monkeypatch: pytest.MonkeyPatch) -> None:
    """compare_bytes promises: errors become an ``error`` outcome, never an exception."""
    _fake_entry_points(monkeypatch, ("dup", f"{__name__}:DUP_OF_BUILTIN"))
    out = compare_bytes(SAMPLE, SAMPLE)
    assert out.verdict is Verdict.ERROR
    assert out.error is not None and "two stabilizers are named" in out.error


# ------------------------------------------------------------------------------------ failure handling


def _raiser(exc: Exception, only: bytes | None = None) -> Callable[[Entry, Context], Entry]:
    def apply(entry: Entry, ctx: Context) -> Entry:
        if only is None or entry.name == only:
            raise exc
        return entry.replace(mtime=0)
    return apply


@pytest.mark.parametrize(("exc", "reason"), [
    (StabilizerSkip("cannot parse this file"), "cannot parse this file"),
    (EntryDataError("corrupt   thing\nsecond line"), "corrupt thing second line"),
    (ValueError("boom"), "stabilizer failed: ValueError: boom"),
    (KeyError("k"), "stabilizer failed: KeyError: 'k'"),
])
def test_entry_stabilizer_failure_is_a_skipped_step(exc: Exception, reason: str) -> None:
    failing = stab("fails-on-bad", _raiser(exc, only=b"com/example/bad.txt"))
    original, out, trace = run(SAMPLE, [failing])
    skipped = [t for t in trace if t.action == "skipped"]
    assert skipped == [TraceStep("reference", "fails-on-bad", "com/example/bad.txt", "skipped", reason=reason)]
    by_name = {e.name: e for e in out.entries}
    # the failing entry is untouched, the others were changed as usual
    assert by_name[b"com/example/bad.txt"] is original.entries[2]
    assert all(e.mtime == 0 for n, e in by_name.items() if n != b"com/example/bad.txt")
    assert sorted(t.path for t in trace if t.action == "changed") == sorted(
        e.path for e in original.entries if e.name != b"com/example/bad.txt")


def test_later_stabilizers_still_run_after_a_skip() -> None:
    failing = stab("always-fails", _raiser(RuntimeError("no")))
    _original, out, trace = run(SAMPLE, [failing, BUILTIN[BUILTIN_NAMES.index("zip-timestamps")]])
    assert len([t for t in trace if t.action == "skipped"]) == 4
    assert all((e.mtime, e.mdate) == (CANONICAL_DOS_TIME, CANONICAL_DOS_DATE) for e in out.entries)


@pytest.mark.parametrize("exc", [StabilizerSkip("not for me"), ZeroDivisionError("division by zero")])
def test_archive_stabilizer_failure_is_a_skipped_step(exc: Exception) -> None:
    def apply(arc: Archive, ctx: Context) -> Archive:
        raise exc

    original, out, trace = run(SAMPLE, [stab("archive-fails", apply, scope=Scope.ARCHIVE)])
    assert out is original
    assert len(trace) == 1 and trace[0].action == "skipped" and trace[0].stabilizer == "archive-fails"
    assert trace[0].path == ""
    assert str(exc) in trace[0].reason


def test_limit_exceeded_in_a_stabilizer_is_not_swallowed() -> None:
    def apply(entry: Entry, ctx: Context) -> Entry:
        raise LimitExceeded("budget gone")

    with pytest.raises(LimitExceeded):
        run(SAMPLE, [stab("greedy", apply)])
    out = compare_bytes(SAMPLE, SAMPLE + b"\0", stabilizers=[stab("greedy", apply)])
    assert out.verdict is Verdict.ERROR and out.error is not None and "budget gone" in out.error


def test_corrupt_content_in_a_stabilizer_is_a_skip() -> None:
    """Context.content turns corrupt data into StabilizerSkip: the entry stays as it was."""
    good = jar(Item("r.txt", b"line\n" * 10))
    bad = bytearray(good)
    pos = bad.find(b"PK\x01\x02") + 16  # CRC in the central header
    bad[pos] ^= 0xFF
    loc = 14  # CRC in the local header
    bad[loc] ^= 0xFF

    def apply(entry: Entry, ctx: Context) -> Entry:
        return entry.replace(comment=ctx.content(entry)[:4])

    original, out, trace = run(bytes(bad), [stab("reads-content", apply)])
    assert out is original
    assert [t.action for t in trace] == ["skipped"] and "CRC-32" in trace[0].reason


def test_identity_records_nothing() -> None:
    identity = stab("identity", lambda e, ctx: e)
    same_value = stab("same-value", lambda e, ctx: e.replace(mtime=e.mtime, comment=bytes(e.comment)))
    arc_identity = stab("arc-identity", lambda a, ctx: a, scope=Scope.ARCHIVE)
    arc_same = stab("arc-same", lambda a, ctx: a.replace(entries=tuple(a.entries), comment=bytes(a.comment)),
                    scope=Scope.ARCHIVE)
    for s in (identity, same_value, arc_identity, arc_same):
        original, out, trace = run(SAMPLE, [s])
        assert trace == [], s.name
        assert out is original, s.name
    # A new but equal object is no change either: nothing in the trace, every field as it was.
    for s in (stab("equal-copy", lambda e, ctx: dataclasses.replace(e)),
              stab("arc-copy", lambda a, ctx: dataclasses.replace(a), scope=Scope.ARCHIVE)):
        original, out, trace = run(SAMPLE, [s])
        assert trace == [], s.name
        assert [e.__dict__ for e in out.entries] == [e.__dict__ for e in original.entries], s.name


@pytest.mark.parametrize("scope", [Scope.ENTRY, Scope.ARCHIVE])
@pytest.mark.parametrize("result", [None, "not an entry"])
def test_stabilizer_returning_garbage_is_a_skipped_step(scope: Scope, result: object) -> None:
    """A plugin bug that returns the wrong type is handled like one that raises: skipped, input kept."""
    bad = stab("returns-garbage", lambda x, ctx: result, scope=scope)
    original, out, trace = run(SAMPLE, [bad])
    assert out is original
    assert trace and all(t.action == "skipped" and t.stabilizer == "returns-garbage" for t in trace)
    outcome = compare_bytes(SAMPLE, SAMPLE + b"x", stabilizers=[bad])
    assert outcome.verdict is Verdict.DIFFERENT


def test_failing_applies_to_is_a_skipped_step() -> None:
    """A plugin whose applies_to raises is a stabilizer failure too: skipped, entries kept."""
    def applies_to(entry: Entry) -> bool:
        raise ZeroDivisionError("division by zero")

    bad = stab("bad-filter", lambda e, ctx: e.replace(mtime=0), applies_to=applies_to)
    original, out, trace = run(SAMPLE, [bad])
    assert out is original
    assert trace and all(t.action == "skipped" and "ZeroDivisionError" in t.reason for t in trace)
    outcome = compare_bytes(SAMPLE, SAMPLE + b"x", stabilizers=[bad])
    assert outcome.verdict is Verdict.DIFFERENT


def test_applies_to_limits_the_entries() -> None:
    seen: list[bytes] = []

    def apply(entry: Entry, ctx: Context) -> Entry:
        seen.append(entry.name)
        return entry.replace(comment=b"seen")

    s = stab("only-txt", apply, applies_to=lambda e: e.name.endswith(b".txt"))
    _original, out, trace = run(SAMPLE, [s])
    assert seen == [b"com/example/bad.txt", b"com/example/c.txt"]
    assert [e.comment for e in out.entries] == [b"", b"", b"seen", b"seen"]
    assert [t.path for t in trace] == ["com/example/bad.txt", "com/example/c.txt"]


def test_archive_stabilizer_that_adds_an_entry_is_discarded() -> None:
    def add(arc: Archive, ctx: Context) -> Archive:
        extra = dataclasses.replace(arc.entries[0], name=b"invented.txt")
        return arc.replace(entries=(*arc.entries, extra), comment=b"changed too")

    original, out, trace = run(SAMPLE, [stab("adds", add, scope=Scope.ARCHIVE)])
    assert out is original
    assert [(t.action, t.path) for t in trace] == [("skipped", "invented.txt")]
    assert "add an entry" in trace[0].reason


def test_discarded_change_leaves_no_removal_in_the_trace() -> None:
    """A stabilizer that swaps an entry for an invented one is discarded as a whole: no 'removed' step."""
    def swap(arc: Archive, ctx: Context) -> Archive:
        first = dataclasses.replace(arc.entries[0], name=b"invented.txt")
        return arc.replace(entries=(first, *arc.entries[1:]))

    original, out, trace = run(SAMPLE, [stab("swaps", swap, scope=Scope.ARCHIVE)])
    assert out is original
    assert [t.action for t in trace] == ["skipped"]


def test_archive_stabilizer_removal_reorder_and_findings() -> None:
    data = jar(Item("b.txt", b"b"), Item("a.txt", b"a"), Item("c.txt", b"c")) + b"trailing"

    def drop_and_reverse(arc: Archive, ctx: Context) -> Archive:
        kept = tuple(e for e in arc.entries if e.name != b"c.txt")
        return arc.replace(entries=tuple(reversed(kept)), findings=())

    original, out, trace = run(data, [stab("drop-reverse", drop_and_reverse, scope=Scope.ARCHIVE)])
    assert [e.name for e in out.entries] == [b"a.txt", b"b.txt"]
    assert {(t.action, t.path) for t in trace} == {("removed", "c.txt"), ("reordered", "")}
    # findings are facts about the input: a stabilizer cannot drop them
    assert out.findings == original.findings and [f.code for f in out.findings] == ["trailing-data"]


# ------------------------------------------------------------------------------------ per-side independence

REFERENCE = jar(Item("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\r\n\r\n"),
                Item("com/", b""), Item("com/x/B.class", b"\xca\xfe" + bytes(30), mode=0o755),
                Item("com/x/A.class", b"\xca\xfe" + bytes(20), comment=b"hi"),
                Item("lib/dep.jar", jar(Item("d.txt", b"dep\n")), method=zipfile.ZIP_STORED))

REBUILDS = {
    "same": REFERENCE,
    "streamed": jar(Item("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\r\n\r\n"),
                    Item("com/x/A.class", b"\xca\xfe" + bytes(20)), streamed=True),
    "other-content": jar(Item("com/x/A.class", b"different", date_time=(2030, 5, 5, 5, 5, 6)),
                         Item("zz.txt", b"new")),
    "empty": jar(),
    "anomalous": REFERENCE + b"junk",
}


def test_reference_trace_does_not_depend_on_the_rebuild() -> None:
    """Each side's trace is that file's own. Deferred stabilizers are the documented exception: compare runs
    them only on entries whose content differs (a function of one entry's content, so the verdict and the
    residual differences are those of running them everywhere), and their steps name only such entries."""
    stabs = select_stabilizers()
    deferred = {s.name for s in stabs if s.deferred}

    def eager(trace: tuple[TraceStep, ...]) -> tuple[TraceStep, ...]:
        return tuple(t for t in trace if t.stabilizer not in deferred)

    alone = eager(canonicalize_bytes(REFERENCE, stabilizers=stabs)[1].trace)
    assert alone  # there is something to canonicalize
    for name, reb in REBUILDS.items():
        out = compare_bytes(REFERENCE, reb, stabilizers=stabs)
        if reb == REFERENCE:  # identical bytes: nothing was canonicalized on either side
            assert out.verdict is Verdict.IDENTICAL and out.trace == ()
            continue
        assert eager(tuple(t for t in out.trace if t.side == "reference")) == alone, name
        # and the rebuild side's trace is the trace of that file alone, relabelled
        reb_alone = eager(canonicalize_bytes(reb, stabilizers=stabs)[1].trace)
        assert eager(tuple(t for t in out.trace if t.side == "rebuild")) == tuple(
            dataclasses.replace(t, side="rebuild") for t in reb_alone), name
        swapped = compare_bytes(reb, REFERENCE, stabilizers=stabs)
        assert tuple(dataclasses.replace(t, side="reference") for t in eager(swapped.trace) if t.side == "rebuild") \
            == alone, name
        # deferred steps only where the content differs, and the same verdict as running them everywhere
        differing = {d.path for d in compare_bytes(REFERENCE, reb, stabilizers=[s for s in stabs
                                                                                if not s.deferred]).differences}
        assert {t.path for t in out.trace if t.stabilizer in deferred} <= differing, name
        everywhere = [dataclasses.replace(s, deferred=False) for s in stabs]
        full = compare_bytes(REFERENCE, reb, stabilizers=everywhere)
        assert (full.verdict, [(d.path, d.aspect) for d in full.differences]) == \
            (out.verdict, [(d.path, d.aspect) for d in out.differences]), name


# ------------------------------------------------------------------------------------ nested archives

INNER = [Item("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\r\n\r\n"),
         Item("com/lib/Util.class", b"\xca\xfe\xba\xbe util v1"),
         Item("com/lib/res.txt", b"resource\n")]


def boot_jar(inner: bytes, when: tuple[int, int, int, int, int, int] = (2020, 1, 2, 3, 4, 6)) -> bytes:
    return jar(Item("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\r\nMain-Class: x\r\n\r\n", date_time=when),
               Item("BOOT-INF/classes/App.class", b"\xca\xfe\xba\xbe app", date_time=when),
               Item("BOOT-INF/lib/inner.jar", inner, method=zipfile.ZIP_STORED, date_time=when))


def test_nested_noise_is_canonicalized_recursively() -> None:
    inner_a = jar(*INNER)
    inner_b = jar(*[dataclasses.replace(i, date_time=(2024, 2, 2, 2, 2, 2), mode=0o664)
                    for i in reversed(INNER)], streamed=True)
    assert inner_a != inner_b
    out = compare_bytes(boot_jar(inner_a), boot_jar(inner_b, when=(2024, 2, 2, 2, 2, 2)))
    assert out.verdict is Verdict.EQUIVALENT, out.differences
    inner_steps = {(t.side, t.stabilizer) for t in out.trace
                   if t.path.startswith("BOOT-INF/lib/inner.jar!/") or t.path == "BOOT-INF/lib/inner.jar"}
    assert ("rebuild", "zip-entry-order") in inner_steps and ("rebuild", "zip-data-descriptor") in inner_steps
    assert ("reference", "zip-timestamps") in inner_steps
    _canon, res = canonicalize_bytes(boot_jar(inner_b))
    nested = {e.path: e for e in res.canonical.entries}["BOOT-INF/lib/inner.jar"].nested
    assert nested is not None and nested.prefix == "BOOT-INF/lib/inner.jar!/"
    assert [e.name for e in nested.entries] == [b"META-INF/MANIFEST.MF", b"com/lib/Util.class", b"com/lib/res.txt"]
    assert all((e.mtime, e.mdate) == (CANONICAL_DOS_TIME, CANONICAL_DOS_DATE) for e in nested.entries)


def test_nested_content_change_is_reported_inside() -> None:
    changed = [*INNER[:1], Item("com/lib/Util.class", b"\xca\xfe\xba\xbe util v2"), *INNER[2:],
               Item("com/lib/added.txt", b"new\n")]
    out = compare_bytes(boot_jar(jar(*INNER)), boot_jar(jar(*changed)))
    assert out.verdict is Verdict.DIFFERENT
    got = sorted((d.path, d.kind, d.aspect) for d in out.differences)
    assert got == [("BOOT-INF/lib/inner.jar!/com/lib/Util.class", DifferenceKind.CHANGED, "content"),
                   ("BOOT-INF/lib/inner.jar!/com/lib/added.txt", DifferenceKind.ADDED, "presence")]


def test_doubly_nested_path() -> None:
    def war(util: bytes) -> bytes:
        lib = jar(Item("p/Q.class", util))
        return jar(Item("WEB-INF/lib/x.jar", lib, method=zipfile.ZIP_STORED))

    def ear(util: bytes) -> bytes:
        return jar(Item("app.war", war(util), method=zipfile.ZIP_DEFLATED))

    out = compare_bytes(ear(b"one"), ear(b"two"))
    assert [(d.path, d.aspect) for d in out.differences] == [("app.war!/WEB-INF/lib/x.jar!/p/Q.class", "content")]


def test_nested_findings_carry_the_nested_path() -> None:
    with pytest.warns(UserWarning):
        dup_inner = jar(*INNER, Item("com/lib/res.txt", b"again\n"))
    out = compare_bytes(boot_jar(jar(*INNER)), boot_jar(dup_inner + b"tail"))
    assert out.verdict is Verdict.DIFFERENT
    assert {(f.side, f.code, f.path) for f in out.findings} == {
        ("rebuild", "duplicate-name", "BOOT-INF/lib/inner.jar!/com/lib/res.txt"),
        ("rebuild", "trailing-data", "BOOT-INF/lib/inner.jar")}


def test_unreadable_nested_archive_is_compared_as_bytes() -> None:
    out = compare_bytes(boot_jar(b"not a zip, v1"), boot_jar(b"not a zip, v2"))
    assert [(d.path, d.aspect) for d in out.differences] == [("BOOT-INF/lib/inner.jar", "content")]
    skipped = [t for t in out.trace if t.action == "skipped"]
    assert {(t.side, t.stabilizer, t.path) for t in skipped} == {
        ("reference", "nested-archives", "BOOT-INF/lib/inner.jar"),
        ("rebuild", "nested-archives", "BOOT-INF/lib/inner.jar")}
    assert all("not a readable archive" in t.reason for t in skipped)


# ------------------------------------------------------------------------------------ third-party plugin (subprocess)


def _pip_install(src: Path, target: Path) -> None:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-index",
                           "--disable-pip-version-check", "--quiet", "--target", str(target), str(src)],
                          capture_output=True, text=True, env=env, timeout=300, check=False)
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        pytest.skip(f"pip cannot build the plugin fixture offline: {tail}")


@pytest.fixture(scope="module")
def plugin_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("plugin")
    src = root / "src"
    shutil.copytree(FIXTURE, src)  # build from a copy: the fixture directory stays untouched
    _pip_install(src, root / "site")
    return root / "site"


@pytest.fixture(scope="module")
def duplicate_plugin_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("dup-plugin")
    src = root / "src"
    shutil.copytree(FIXTURE, src)
    toml = (src / "pyproject.toml").read_text()
    old = 'build-stamp = "canonjar_buildstamp:STABILIZER"'
    assert old in toml
    toml = toml.replace(old, 'timestamps-again = "canonjar_buildstamp:DUPLICATE"')
    (src / "pyproject.toml").write_text(toml.replace('name = "canonjar-buildstamp"', 'name = "canonjar-dup"'))
    _pip_install(src, root / "site")
    return root / "site"


def canonjar_cli(args: list[str], pythonpath: Path | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    return subprocess.run([sys.executable, "-m", "canonjar", *args], capture_output=True, text=True, env=env,
                          timeout=120, check=False)


def stamp_jar(version: str, built_at: str) -> bytes:
    return jar(Item("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\r\n\r\n"),
               Item("META-INF/build-stamp.txt", f"version={version}\nbuilt-at={built_at}\nbranch=main\n".encode()),
               Item("com/x/A.class", b"\xca\xfe\xba\xbe"))


def test_plugin_is_listed(plugin_path: Path) -> None:
    proc = canonjar_cli(["stabilizers"], plugin_path)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    listed = [line.split(" ", 1)[0] for line in lines if not line.startswith(" ")]
    assert listed == [*BUILTIN_NAMES, "build-stamp"]
    assert "build-stamp [on ] scope=entry category=timestamps" in lines
    without = canonjar_cli(["stabilizers"], None)
    assert without.returncode == 0 and "build-stamp" not in without.stdout


def test_plugin_is_used_by_compare(plugin_path: Path, tmp_path: Path) -> None:
    ref, reb = tmp_path / "ref.jar", tmp_path / "reb.jar"
    ref.write_bytes(stamp_jar("1.0", "2020-01-01T00:00:00Z"))
    reb.write_bytes(stamp_jar("1.0", "2024-06-30T12:34:56Z"))
    # Without the plugin the stamp is a real content difference.
    builtin_only = compare_bytes(ref.read_bytes(), reb.read_bytes(), stabilizers=BUILTIN)
    assert [(d.path, d.aspect) for d in builtin_only.differences] == [("META-INF/build-stamp.txt", "content")]

    proc = canonjar_cli(["compare", str(ref), str(reb), "--format", "json"], plugin_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    outcome = json.loads(proc.stdout)
    assert outcome["verdict"] == "equivalent"
    assert outcome["stabilizers"][-1] == "build-stamp"
    assert "build-stamp" in outcome["effective"]["reference"] and "build-stamp" in outcome["effective"]["rebuild"]
    steps = [t for t in outcome["trace"] if t["stabilizer"] == "build-stamp"]
    assert {(t["side"], t["path"], t["action"]) for t in steps} == {
        ("reference", "META-INF/build-stamp.txt", "changed"), ("rebuild", "META-INF/build-stamp.txt", "changed")}

    disabled = canonjar_cli(["compare", str(ref), str(reb), "--disable", "build-stamp"], plugin_path)
    assert disabled.returncode == 1, disabled.stdout + disabled.stderr

    reb.write_bytes(stamp_jar("1.1", "2024-06-30T12:34:56Z"))  # a real change next to the stamp
    changed = canonjar_cli(["compare", str(ref), str(reb), "--format", "json"], plugin_path)
    assert changed.returncode == 1
    diffs = json.loads(changed.stdout)["differences"]
    assert [(d["path"], d["aspect"]) for d in diffs] == [("META-INF/build-stamp.txt", "content")]
    assert "-version=1.0" in diffs[0]["diff"] and "+version=1.1" in diffs[0]["diff"]
    assert "built-at" not in diffs[0]["diff"]


def test_plugin_duplicating_a_builtin_is_a_usage_error(duplicate_plugin_path: Path, tmp_path: Path) -> None:
    ref = tmp_path / "ref.jar"
    ref.write_bytes(stamp_jar("1.0", "x"))
    for args in (["compare", str(ref), str(ref)], ["stabilizers"]):
        proc = canonjar_cli(args, duplicate_plugin_path)
        assert proc.returncode == 2, (args, proc.stdout, proc.stderr)
        assert proc.stderr.count("\n") == 1, proc.stderr
        assert proc.stderr.startswith("canonjar: error: ") and "'zip-timestamps'" in proc.stderr
        assert "Traceback" not in proc.stderr and proc.stdout == ""


def test_entry_stabilizer_may_not_rename_an_entry() -> None:
    def rename(e: Entry, ctx: Context) -> Entry:
        return e.replace(name=b"com/example/good.txt") if e.name == b"com/example/bad.txt" else e

    original, out, trace = run(SAMPLE, [stab("renames", rename)])
    assert [e.name for e in out.entries] == [e.name for e in original.entries]
    assert [(t.action, t.path) for t in trace] == [("skipped", "com/example/bad.txt")]
    assert "rename" in trace[0].reason


def test_select_rejects_duplicate_names_in_an_explicit_list() -> None:
    s = stab("twice", lambda e, ctx: e)
    with pytest.raises(UsageError, match="twice"):
        select_stabilizers(available=[s, s])


def test_stored_size_that_lies_is_a_finding_and_corrupt_data() -> None:
    from tests.test_limits import patch_entry

    payload = b"x" * 100
    good = make_zip([Item("a.bin", payload, method=zipfile.ZIP_STORED)])
    bad = patch_entry(good, b"a.bin", usize=2_000_000)
    assert "stored-size-mismatch" in {f.code for f in read_zip(bad).findings}
    out = compare_bytes(good, bad)
    assert out.verdict is Verdict.DIFFERENT
    assert [d.aspect for d in out.differences] == ["corrupt-data"]  # not a misleading ratio error


def test_stabilizers_record_evidence_and_findings_with_full_paths() -> None:
    def note(e: Entry, ctx: Context) -> Entry:
        if e.name == b"x.txt":
            ctx.record("build-jdk", ctx.content(e).decode().strip(), e)
            ctx.finding("odd-file", e, "x.txt is odd")
        return e

    inner_ref = jar(Item("x.txt", b"17.0.2\n"))
    inner_reb = jar(Item("x.txt", b"21.0.1\n"))
    ref = jar(Item("lib/in.jar", inner_ref, method=zipfile.ZIP_STORED))
    reb = jar(Item("lib/in.jar", inner_reb, method=zipfile.ZIP_STORED))
    out = compare_bytes(ref, reb, stabilizers=[stab("noter", note)])
    assert [(ev.side, ev.stabilizer, ev.key, ev.value, ev.path) for ev in out.evidence] == [
        ("reference", "noter", "build-jdk", "17.0.2", "lib/in.jar!/x.txt"),
        ("rebuild", "noter", "build-jdk", "21.0.1", "lib/in.jar!/x.txt")]
    assert [(f.side, f.code, f.path) for f in out.findings] == [
        ("reference", "odd-file", "lib/in.jar!/x.txt"), ("rebuild", "odd-file", "lib/in.jar!/x.txt")]
    assert out.verdict is Verdict.DIFFERENT
    assert Outcome.from_json(out.to_json()) == out
    from canonjar.render import render_text

    assert "build-jdk: reference 17.0.2; rebuild 21.0.1" in render_text(out)


def test_every_builtin_stabilizer_is_documented_and_tested() -> None:
    """A stabilizer is a small module with a docstring, one-sentence removes/reason, a category and tests."""
    import importlib
    import inspect

    tests_text = "".join(p.read_text() for p in Path(__file__).parent.glob("test_*.py"))
    for st in BUILTIN:
        module = importlib.import_module(st.apply.__module__)
        doc = inspect.getdoc(module) or ""
        assert doc.startswith(f"{st.name}:"), (st.name, "module docstring must start with the name")
        assert any(w in doc.lower() for w in ("safe", "sound", "cannot change", "behaviour", "behavior")), (
            st.name, "say why it is safe")
        assert st.removes and st.reason and st.category in Category
        assert f'"{st.name}"' in tests_text or f"'{st.name}'" in tests_text, (st.name, "no test names it")


# --------------------------------------------------------------------------------------------- deferred

def _upper_txt(calls: list[tuple[str, str]]) -> Stabilizer:
    """A content-only stabilizer: lower-cases ``*.txt`` content, and logs where it ran."""

    def apply(e: Entry, ctx: Context) -> Entry:
        calls.append((ctx.side.value, ctx.path(e)))
        data = ctx.content(e)
        return e if data.lower() == data else e.replace(payload=Payload.of_bytes(data.lower(), e.payload.what))

    return Stabilizer(name="lower-txt", scope=Scope.ENTRY, category=Category.MISCELLANEOUS, removes="case",
                      reason="test", apply=apply, applies_to=lambda e: e.name.endswith(b".txt"), deferred=True)


_ZIPC = next(s for s in BUILTIN if s.name == "zip-compression")  # nested JARs compared by content


def _deferred_pair(inner_ref: bytes, inner_reb: bytes) -> tuple[bytes, bytes]:
    ref = make_zip([Item("a.txt", b"same"), Item("b.txt", b"Case"), Item("c.txt", b"x"),
                    Item("lib/in.jar", inner_ref)])
    reb = make_zip([Item("a.txt", b"same"), Item("b.txt", b"case"), Item("c.txt", b"x"),
                    Item("lib/in.jar", inner_reb)])
    return ref, reb


def test_deferred_stabilizer_runs_only_where_content_differs() -> None:
    inner_ref = make_zip([Item("d.txt", b"Deep"), Item("e.txt", b"e")])
    inner_reb = make_zip([Item("d.txt", b"deep"), Item("e.txt", b"e")])
    ref, reb = _deferred_pair(inner_ref, inner_reb)
    calls: list[tuple[str, str]] = []
    out = compare_bytes(ref, reb, stabilizers=(_upper_txt(calls), _ZIPC))
    assert out.verdict is Verdict.EQUIVALENT, out.differences
    assert sorted(calls) == sorted((side, p) for side in ("reference", "rebuild")
                                   for p in ("b.txt", "lib/in.jar!/d.txt"))
    changed = {(t.side, t.path) for t in out.trace if t.action == "changed" and t.stabilizer == "lower-txt"}
    assert changed == {("reference", "b.txt"), ("reference", "lib/in.jar!/d.txt")}
    # The same stabilizer run everywhere gives the same verdict and differences.
    eager = dataclasses.replace(_upper_txt([]), deferred=False)
    assert compare_bytes(ref, reb, stabilizers=(eager, _ZIPC)).verdict is Verdict.EQUIVALENT


def test_deferred_stabilizer_does_not_hide_a_real_change() -> None:
    inner = make_zip([Item("d.txt", b"d")])
    ref, reb = _deferred_pair(inner, make_zip([Item("d.txt", b"D2")]))
    out = compare_bytes(ref, reb, stabilizers=(_upper_txt([]), _ZIPC))
    assert out.verdict is Verdict.DIFFERENT
    assert [d.path for d in out.differences] == ["lib/in.jar!/d.txt"]


def test_canonicalize_runs_deferred_stabilizers_everywhere() -> None:
    calls: list[tuple[str, str]] = []
    data = make_zip([Item("a.txt", b"ABC"), Item("b.txt", b"x")])
    canon, _ = canonicalize_bytes(data, stabilizers=(_upper_txt(calls),))
    assert {p for _, p in calls} == {"a.txt", "b.txt"}
    with zipfile.ZipFile(io.BytesIO(canon)) as zf:
        assert zf.read("a.txt") == b"abc"


def test_only_entry_scope_stabilizers_can_be_deferred() -> None:
    with pytest.raises(UsageError, match="deferred"):
        Stabilizer(name="x", scope=Scope.ARCHIVE, category=Category.MISCELLANEOUS, removes="", reason="",
                   apply=lambda a, c: a, deferred=True)


def test_class_stabilizers_are_deferred() -> None:
    assert {s.name for s in BUILTIN if s.deferred} == {"class-lambda-names", "class-member-order",
                                                       "class-constant-pool-order"}
