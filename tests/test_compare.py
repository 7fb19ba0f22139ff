"""The comparison: fast path, every residual difference listed, capped diffs that say what they left out."""

from __future__ import annotations

import zipfile

import pytest

from canonjar import DifferenceKind, Verdict, compare_bytes, select_stabilizers
from canonjar.api import stabilize
from canonjar.compare import DIFF_LINE_CAP, compare_archives
from canonjar.pipeline import Side
from tests.helpers import Item, make_zip

MANIFEST = Item("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\r\n\r\n")


def _sides(a: bytes, b: bytes) -> tuple[int, int, int]:
    """Bytes each side inflated during the comparison itself (not while stabilizing), and the diff count."""
    stabs = select_stabilizers()
    left = stabilize(a, "a", Side.REFERENCE, stabs)
    right = stabilize(b, "b", Side.REBUILD, stabs)
    before = (left.budget.inflated, right.budget.inflated)
    diffs = compare_archives(left.canonical, right.canonical, left.budget, right.budget)
    return left.budget.inflated - before[0], right.budget.inflated - before[1], len(diffs)


def test_fast_path_does_not_inflate_equal_streams() -> None:
    items = [MANIFEST] + [Item(f"p/C{i}.class", bytes(range(256)) * 40) for i in range(20)]
    a = make_zip(items)
    b = make_zip([Item(i.name, i.data, date_time=(2023, 3, 3, 3, 3, 4), mode=0o600) for i in reversed(items)])
    left, right, ndiff = _sides(a, b)
    assert ndiff == 0
    assert left == 0 and right == 0  # same compressed bytes: nothing inflated


def test_different_compression_is_compared_on_content() -> None:
    items = [MANIFEST, Item("p/data.bin", bytes(range(256)) * 400)]
    a = make_zip(items)
    b = make_zip([Item(i.name, i.data, level=1) for i in items])
    left, right, ndiff = _sides(a, b)
    assert ndiff == 0
    assert left >= 256 * 400 and right >= 256 * 400


def test_every_difference_is_listed_with_sizes_and_digests() -> None:
    a = make_zip([MANIFEST, Item("a.txt", b"same\n"), Item("b.txt", b"old\n"), Item("gone.txt", b"x"),
                  Item("mode.sh", b"#!/bin/sh\n", mode=0o755)])
    b = make_zip([MANIFEST, Item("a.txt", b"same\n"), Item("b.txt", b"new\n"), Item("new.txt", b"y"),
                  Item("mode.sh", b"#!/bin/sh\n", mode=0o644)])
    out = compare_bytes(a, b)
    assert out.verdict is Verdict.DIFFERENT
    got = {(d.path, d.kind, d.aspect) for d in out.differences}
    assert got == {("b.txt", DifferenceKind.CHANGED, "content"), ("gone.txt", DifferenceKind.REMOVED, "presence"),
                   ("new.txt", DifferenceKind.ADDED, "presence"), ("mode.sh", DifferenceKind.METADATA, "mode")}
    for d in out.differences:
        if d.kind in (DifferenceKind.CHANGED, DifferenceKind.METADATA):
            assert d.left_size is not None and d.right_size is not None
            assert d.left_sha256 and d.right_sha256
        if d.kind is DifferenceKind.REMOVED:
            assert d.left_sha256 and d.right_sha256 is None
        if d.kind is DifferenceKind.ADDED:
            assert d.right_sha256 and d.left_sha256 is None
    b_txt = next(d for d in out.differences if d.path == "b.txt")
    assert b_txt.diff is not None and "-old" in b_txt.diff and "+new" in b_txt.diff


def test_benign_noise_never_masks_a_real_change() -> None:
    """Many noise differences plus one content change: the content change is still reported."""
    base = [MANIFEST] + [Item(f"r/{i}.txt", f"line {i}\n".encode()) for i in range(50)]
    a = make_zip(base)
    tampered = [Item(i.name, i.data.replace(b"line 17", b"line 71"), date_time=(2030, 1, 1, 1, 1, 2),
                     mode=0o666, level=9) for i in reversed(base)]
    out = compare_bytes(a, make_zip(tampered))
    assert out.verdict is Verdict.DIFFERENT
    assert [(d.path, d.kind) for d in out.differences] == [("r/17.txt", DifferenceKind.CHANGED)]


def test_unified_diff_is_capped_and_says_how_much_was_left_out() -> None:
    old = "".join(f"line {i}\n" for i in range(1000)).encode()
    new = "".join(f"LINE {i}\n" for i in range(1000)).encode()
    out = compare_bytes(make_zip([Item("big.txt", old)]), make_zip([Item("big.txt", new)]))
    d = out.differences[0]
    assert d.diff is not None
    assert d.diff.count("\n") == DIFF_LINE_CAP
    assert d.diff_omitted_lines == 2000 + 3 - DIFF_LINE_CAP  # 2 header lines, 1 hunk header, 2000 changes


def test_binary_content_has_no_text_diff() -> None:
    out = compare_bytes(make_zip([Item("x.bin", b"\x00\x01\x02")]), make_zip([Item("x.bin", b"\x00\x01\x03")]))
    d = out.differences[0]
    assert d.kind is DifferenceKind.CHANGED and d.diff is None


def test_nested_archive_differences_use_bang_paths() -> None:
    def outer(inner_text: bytes, noise: bool) -> bytes:
        inner = make_zip([Item("org/x/Res.txt", inner_text, date_time=(2021, 1, 1, 0, 0, 0) if noise else
                               (2022, 2, 2, 2, 2, 2)), Item("org/x/A.class", b"\xca\xfe\xba\xbe")])
        return make_zip([MANIFEST, Item("BOOT-INF/lib/dep.jar", inner, method=zipfile.ZIP_STORED)])

    eq = compare_bytes(outer(b"v1", True), outer(b"v1", False))
    assert eq.verdict is Verdict.EQUIVALENT
    assert any(t.path.startswith("BOOT-INF/lib/dep.jar!/") for t in eq.trace)
    diff = compare_bytes(outer(b"v1", True), outer(b"v2", False))
    assert diff.verdict is Verdict.DIFFERENT
    assert [d.path for d in diff.differences] == ["BOOT-INF/lib/dep.jar!/org/x/Res.txt"]


def test_findings_make_the_verdict_different_but_identical_stays_identical() -> None:
    a = make_zip([MANIFEST, Item("a.txt", b"x")])
    prefixed = b"#!/bin/sh\nexec java -jar \"$0\" \"$@\"\n" + a
    out = compare_bytes(a, prefixed)
    assert out.verdict is Verdict.DIFFERENT
    assert out.differences == ()
    assert [(f.side, f.code) for f in out.findings] == [("rebuild", "prefix-data")]
    same = compare_bytes(prefixed, prefixed)
    assert same.verdict is Verdict.IDENTICAL
    assert {f.code for f in same.findings} == {"prefix-data"}


@pytest.mark.parametrize("disabled,aspect", [
    ("zip-timestamps", "time"), ("zip-permissions", "mode"), ("zip-entry-order", "order"),
    ("zip-compression", "compression"), ("zip-host-version", "zip-version"), ("zip-comments", "entry-comment"),
])
def test_each_metadata_aspect_is_reported_when_not_stabilized(disabled: str, aspect: str) -> None:
    a = make_zip([MANIFEST, Item("a.txt", b"a" * 100), Item("b.txt", b"b")])
    b_items = [Item("b.txt", b"b", date_time=(2001, 1, 1, 1, 1, 2), mode=None, method=zipfile.ZIP_STORED,
                    comment=b"hi"), MANIFEST, Item("a.txt", b"a" * 100, date_time=(2001, 1, 1, 1, 1, 2),
                                                    mode=None, method=zipfile.ZIP_STORED, comment=b"hi")]
    b = make_zip(b_items)
    assert compare_bytes(a, b).verdict is Verdict.EQUIVALENT
    out = compare_bytes(a, b, stabilizers=select_stabilizers(disable=[disabled]))
    assert out.verdict is Verdict.DIFFERENT
    assert {d.aspect for d in out.differences} == {aspect}


def test_reordering_many_entries_is_fast_and_reports_moves() -> None:
    names = [f"d/{i:05d}.txt" for i in range(5000)]
    a = make_zip([Item(n, b"x") for n in names])
    b = make_zip([Item(n, b"x") for n in reversed(names)])
    out = compare_bytes(a, b, stabilizers=select_stabilizers(disable=["zip-entry-order"]))
    moved = [d for d in out.differences if d.kind is DifferenceKind.MOVED]
    assert len(moved) == len(names) - 1  # one entry can stay; every other one moved
    assert compare_bytes(a, b).verdict is Verdict.EQUIVALENT


def test_huge_text_gets_no_line_diff_but_is_still_reported() -> None:
    a = "".join(f"{i}\n" for i in range(30_000)).encode()
    b = a.replace(b"\n29999\n", b"\nchanged\n")
    out = compare_bytes(make_zip([Item("t.txt", a)]), make_zip([Item("t.txt", b)]))
    d = out.differences[0]
    assert d.kind is DifferenceKind.CHANGED and d.diff is None and "lines" in d.note
    assert d.left_sha256 != d.right_sha256


def test_a_second_archive_hidden_in_the_file_is_a_finding() -> None:
    decoy = make_zip([Item("evil/Payload.class", b"\xca\xfe\xba\xbe evil")])
    real = make_zip([MANIFEST, Item("a.txt", b"x")])
    out = compare_bytes(real, decoy + real)
    codes = {f.code for f in out.findings}
    assert "multiple-end-records" in codes and "prefix-data" in codes
    assert out.verdict is Verdict.DIFFERENT


def test_stored_nested_jars_and_signatures_in_comments_are_not_end_records() -> None:
    inner = make_zip([Item("x.txt", b"x")])
    outer = make_zip([MANIFEST, Item("lib/in.jar", inner, method=zipfile.ZIP_STORED,
                                     comment=b"PK\x05\x06 not an end record")])
    out = compare_bytes(outer, outer)
    assert out.findings == ()


def test_end_record_counts_that_disagree_are_a_finding() -> None:
    import struct

    data = bytearray(make_zip([MANIFEST, Item("a.txt", b"x")]))
    at = data.rfind(b"PK\x05\x06")
    struct.pack_into("<H", data, at + 8, 1)  # entries on this disk: 1, total: 2
    codes = {f.code for f in compare_bytes(bytes(data), bytes(data) + b"").findings}
    assert "entry-count-mismatch" in codes


@pytest.mark.parametrize("new,note", [
    (b"class A {\r\n  // other comment\r\n  int x = 1;\r\n}\r\n", "only in whitespace and comments"),
    (b"class A { int x = 2; }\n", "differs in code"),
])
def test_java_source_differences_say_layout_or_code(new: bytes, note: str) -> None:
    old = b"class A {\n  int x = 1; // one\n}\n"
    out = compare_bytes(make_zip([Item("src/A.java", old)]), make_zip([Item("src/A.java", new)]),
                        stabilizers=select_stabilizers(disable=["source-newlines"]))
    [d] = out.differences
    assert d.kind is DifferenceKind.CHANGED and note in d.note
