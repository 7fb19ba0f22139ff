"""Decompression bounds: zip bombs, lying sizes, corrupt data and deep nesting are bounded and reported."""

from __future__ import annotations

import struct
import tracemalloc
import zipfile
import zlib
from collections.abc import Iterator

import pytest

from canonjar import (
    DEFAULT_LIMITS,
    EntryDataError,
    LimitExceeded,
    Limits,
    Outcome,
    Verdict,
    compare_bytes,
    select_stabilizers,
)
from canonjar.limits import Budget, inflate
from canonjar.zipfmt import read_zip
from tests.helpers import Item, make_zip

STABS = select_stabilizers()
MiB = 1024 * 1024
BOMB_SIZE = 50 * MiB

LOC = struct.Struct("<4sHHHHHIIIHH")
CEN = struct.Struct("<4sHHHHHHIIIHHHHHII")


def deflate(data: bytes, level: int = 9) -> bytes:
    c = zlib.compressobj(level, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


def patch_entry(data: bytes, name: bytes, crc: int | None = None, usize: int | None = None,
                method: int | None = None) -> bytes:
    """Set the CRC, uncompressed size and/or method of entry ``name`` in both its local and central header."""
    out = bytearray(data)
    pos = out.find(b"PK\x01\x02")
    hits = 0
    while pos >= 0:
        f = list(CEN.unpack_from(out, pos))
        if out[pos + CEN.size:pos + CEN.size + f[10]] == name:
            loff = f[16]
            lf = list(LOC.unpack_from(out, loff))
            if crc is not None:
                f[7] = lf[6] = crc
            if usize is not None:
                f[9] = lf[8] = usize
            if method is not None:
                f[4] = lf[3] = method
            CEN.pack_into(out, pos, *f)
            LOC.pack_into(out, loff, *lf)
            hits += 1
        pos = out.find(b"PK\x01\x02", pos + CEN.size)
    assert hits == 1
    return bytes(out)


def one_line_error(out: Outcome) -> str:
    assert out.verdict is Verdict.ERROR
    assert out.error is not None and out.error and "\n" not in out.error
    assert out.differences == () and out.reference is None
    return out.error


@pytest.fixture(scope="module")
def bombs() -> Iterator[tuple[bytes, bytes]]:
    """The same 50 MiB of zeros deflated at two levels (ratio > 200:1 at both), with a small neighbour."""
    zeros = bytes(BOMB_SIZE)
    small = Item("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\r\n\r\n")
    ref = make_zip([small, Item("zeros.bin", zeros, level=9)])
    reb = make_zip([small, Item("zeros.bin", zeros, level=1)])
    yield ref, reb


# ------------------------------------------------------------------------------------ per-entry size


def test_declared_size_over_entry_limit() -> None:
    data = bytes(range(256)) * 16  # 4096 bytes, barely compressible
    ref = make_zip([Item("big.bin", data, level=9)])
    reb = make_zip([Item("big.bin", data, method=zipfile.ZIP_STORED)])
    err = one_line_error(compare_bytes(ref, reb, stabilizers=STABS, limits=Limits(max_entry_size=4000)))
    assert "big.bin" in err and "4096" in err and "per-entry limit of 4000" in err and "--max-entry-size" in err
    ok = compare_bytes(ref, reb, stabilizers=STABS, limits=Limits(max_entry_size=4096))
    assert ok.verdict is Verdict.EQUIVALENT


def test_declared_size_over_entry_limit_is_refused_before_inflating() -> None:
    """A header claiming 600 MiB is refused from the declared size alone, with the default limits."""
    ref = make_zip([Item("a.txt", b"small content\n" * 10)])
    bad = patch_entry(ref, b"a.txt", usize=600 * MiB)
    tracemalloc.start()
    try:
        out = compare_bytes(ref, bad, stabilizers=STABS)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    err = one_line_error(out)
    assert str(600 * MiB) in err and f"per-entry limit of {DEFAULT_LIMITS.max_entry_size}" in err
    assert peak < 16 * MiB


def test_inflate_refuses_declared_size_over_limit() -> None:
    budget = Budget(Limits(max_entry_size=100))
    with pytest.raises(LimitExceeded, match="per-entry limit of 100"):
        inflate(0, b"x" * 101, 101, zlib.crc32(b"x" * 101), "e", budget)
    assert budget.inflated == 0
    assert inflate(0, b"x" * 100, 100, zlib.crc32(b"x" * 100), "e", budget) == b"x" * 100
    assert budget.inflated == 100


# ------------------------------------------------------------------------------------ ratio (zip bombs)


def test_deflate_bomb_is_an_error_with_default_limits(bombs: tuple[bytes, bytes]) -> None:
    ref, reb = bombs
    ratio_ref = BOMB_SIZE / len(read_zip(ref).members[1].local.data)
    assert ratio_ref > DEFAULT_LIMITS.max_ratio  # it really is a bomb for the default limit
    err = one_line_error(compare_bytes(ref, reb, stabilizers=STABS))
    assert "zeros.bin" in err and "compression ratio" in err
    assert f"limit of {DEFAULT_LIMITS.max_ratio:g}:1" in err and "--max-ratio" in err


def test_raising_the_ratio_limit_lets_the_bomb_through(bombs: tuple[bytes, bytes]) -> None:
    ref, reb = bombs
    out = compare_bytes(ref, reb, stabilizers=STABS, limits=Limits(max_ratio=5000))
    assert out.verdict is Verdict.EQUIVALENT, out.error
    # and a real content change behind the bomb is still found once it is allowed through
    changed = make_zip([Item("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\r\n\r\n"),
                        Item("zeros.bin", bytes(BOMB_SIZE - 1) + b"\x01", level=1)])
    out = compare_bytes(ref, changed, stabilizers=STABS, limits=Limits(max_ratio=5000))
    assert out.verdict is Verdict.DIFFERENT
    assert [(d.path, d.aspect) for d in out.differences] == [("zeros.bin", "content")]


def test_small_entries_may_compress_well() -> None:
    """The ratio limit applies only above ratio_floor: 512 KiB of zeros (about 1000:1) is fine."""
    zeros = bytes(512 * 1024)
    ref = make_zip([Item("z.bin", zeros, level=9)])
    reb = make_zip([Item("z.bin", zeros, level=1)])
    assert compare_bytes(ref, reb, stabilizers=STABS).verdict is Verdict.EQUIVALENT
    low_floor = Limits(ratio_floor=1024)
    err = one_line_error(compare_bytes(ref, reb, stabilizers=STABS, limits=low_floor))
    assert "compression ratio" in err


def test_bomb_inside_a_nested_archive_is_bounded(bombs: tuple[bytes, bytes]) -> None:
    ref_inner, reb_inner = bombs
    ref = make_zip([Item("BOOT-INF/lib/inner.jar", ref_inner, method=zipfile.ZIP_STORED)])
    reb = make_zip([Item("BOOT-INF/lib/inner.jar", reb_inner, method=zipfile.ZIP_STORED)])
    err = one_line_error(compare_bytes(ref, reb, stabilizers=STABS))
    assert "BOOT-INF/lib/inner.jar!/zeros.bin" in err and "compression ratio" in err


# ------------------------------------------------------------------------------------ total size


def _many(method: int) -> bytes:
    return make_zip([Item(f"res/r{i:02d}.bin", bytes([i]) * 1000 + bytes(range(256)) * 250, method=method)
                     for i in range(30)])  # 30 x 65 000 bytes, about 1.9 MB


def test_total_size_limit_across_many_entries() -> None:
    ref, reb = _many(zipfile.ZIP_DEFLATED), _many(zipfile.ZIP_STORED)
    per_entry = 1000 + 256 * 250
    limits = Limits(max_total_size=MiB)
    assert per_entry < limits.max_entry_size and 30 * per_entry > limits.max_total_size
    err = one_line_error(compare_bytes(ref, reb, stabilizers=STABS, limits=limits))
    assert f"total uncompressed size exceeds the limit of {MiB} bytes" in err and "--max-total-size" in err
    ok = compare_bytes(ref, reb, stabilizers=STABS, limits=Limits(max_total_size=30 * per_entry))
    assert ok.verdict is Verdict.EQUIVALENT, ok.error


def test_total_size_is_shared_with_nested_archives() -> None:
    inner_a = _many(zipfile.ZIP_DEFLATED)
    inner_b = _many(zipfile.ZIP_STORED)
    ref = make_zip([Item("lib/a.jar", inner_a, method=zipfile.ZIP_STORED),
                    Item("lib/b.jar", inner_a, method=zipfile.ZIP_STORED)])
    reb = make_zip([Item("lib/a.jar", inner_b, method=zipfile.ZIP_STORED),
                    Item("lib/b.jar", inner_b, method=zipfile.ZIP_STORED)])
    roomy = Limits(max_total_size=64 * MiB)
    assert compare_bytes(ref, reb, stabilizers=STABS, limits=roomy).verdict is Verdict.EQUIVALENT
    # Each nested archive alone fits in 3 MB, both together do not.
    tight = Limits(max_total_size=3_000_000 + len(inner_a) + len(inner_b))
    err = one_line_error(compare_bytes(ref, reb, stabilizers=STABS, limits=tight))
    assert "total uncompressed size" in err
    one_ref = make_zip([Item("lib/a.jar", inner_a, method=zipfile.ZIP_STORED)])
    one_reb = make_zip([Item("lib/a.jar", inner_b, method=zipfile.ZIP_STORED)])
    assert compare_bytes(one_ref, one_reb, stabilizers=STABS, limits=tight).verdict is Verdict.EQUIVALENT


def test_budget_charges_every_inflation() -> None:
    budget = Budget(Limits(max_total_size=250))
    data = b"y" * 100
    for _ in range(2):
        inflate(8, deflate(data), 100, zlib.crc32(data), "e", budget)
    assert budget.inflated == 200
    with pytest.raises(LimitExceeded, match="total uncompressed size"):
        inflate(8, deflate(data), 100, zlib.crc32(data), "e", budget)


# ------------------------------------------------------------------------------------ lying sizes, corrupt data


def test_inflate_with_a_lying_size_stops_at_the_declared_size() -> None:
    stream = deflate(bytes(BOMB_SIZE))
    tracemalloc.start()
    try:
        with pytest.raises(EntryDataError, match="more than the declared size 100"):
            inflate(8, stream, 100, 0, "liar.bin", Budget())
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 * MiB  # inflating it all would take 50 MiB


def test_lying_size_in_an_archive_is_corrupt_data_not_memory() -> None:
    """50 MiB of zeros declared as 1000 bytes: below ratio_floor, so only the inflate cap stops it."""
    liar = make_zip([Item("a.txt", b"keep\n"), Item("liar.bin", bytes(BOMB_SIZE), level=9)])
    liar = patch_entry(liar, b"liar.bin", usize=1000)
    assert read_zip(liar).findings == []  # headers agree with each other: only the data can tell
    honest = make_zip([Item("a.txt", b"keep\n"), Item("liar.bin", bytes(1000))])
    for ref, reb in ((honest, liar), (liar, honest)):
        tracemalloc.start()
        try:
            out = compare_bytes(ref, reb, stabilizers=STABS)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert out.verdict is Verdict.DIFFERENT, out.error
        corrupt = [d for d in out.differences if d.aspect == "corrupt-data"]
        assert [d.path for d in corrupt] == ["liar.bin"]
        assert "more than the declared size 1000" in corrupt[0].note
        assert peak < 8 * MiB  # inflating it all would take 50 MiB


@pytest.mark.parametrize("method", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
@pytest.mark.parametrize("delta", [-1, +1])
def test_wrong_declared_size_is_corrupt_data(method: int, delta: int) -> None:
    payload = b"some class bytes\n" * 64
    good = make_zip([Item("x/Y.class", payload, method=method)])
    bad = patch_entry(good, b"x/Y.class", usize=len(payload) + delta)
    out = compare_bytes(good, bad, stabilizers=STABS)
    assert out.verdict is Verdict.DIFFERENT
    corrupt = [d for d in out.differences if d.aspect == "corrupt-data"]
    assert len(corrupt) == 1 and corrupt[0].path == "x/Y.class"
    assert "declared size" in corrupt[0].note


@pytest.mark.parametrize("method", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_crc_mismatch_is_corrupt_data(method: int) -> None:
    payload = b"resource line\n" * 40
    good = make_zip([Item("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\r\n\r\n"),
                     Item("r.txt", payload, method=method)])
    bad = patch_entry(good, b"r.txt", crc=zlib.crc32(payload) ^ 0x5A5A)
    assert read_zip(bad).findings == []
    for ref, reb in ((good, bad), (bad, good)):
        out = compare_bytes(ref, reb, stabilizers=STABS)
        assert out.verdict is Verdict.DIFFERENT
        assert out.findings == ()
        corrupt = [d for d in out.differences if d.aspect == "corrupt-data"]
        assert len(corrupt) == 1 and corrupt[0].path == "r.txt"
        assert "CRC-32" in corrupt[0].note


def test_corrupt_deflate_stream_is_corrupt_data() -> None:
    payload = bytes(range(256)) * 40
    good = make_zip([Item("c.bin", payload, level=6)])
    z = read_zip(good)
    start = z.members[0].local.offset + z.members[0].local.header_size
    bad = bytearray(good)
    for i in range(start, start + len(z.members[0].local.data), 7):
        bad[i] ^= 0xFF
    out = compare_bytes(good, bytes(bad), stabilizers=STABS)
    assert out.verdict is Verdict.DIFFERENT
    corrupt = [d for d in out.differences if d.aspect == "corrupt-data"]
    assert [d.path for d in corrupt] == ["c.bin"] and corrupt[0].note


def deflated_with_tail(name: str, content: bytes, tail: bytes) -> bytes:
    """A zip whose entry holds a complete deflate stream of ``content`` followed by ``tail``."""
    stored = make_zip([Item(name, deflate(content) + tail, method=zipfile.ZIP_STORED)])
    return patch_entry(stored, name.encode(), crc=zlib.crc32(content), usize=len(content), method=8)


def test_inflate_rejects_bytes_after_the_deflate_stream() -> None:
    content = b"hello world\n" * 50
    with pytest.raises(EntryDataError):
        inflate(8, deflate(content) + b"HIDDEN PAYLOAD", len(content), zlib.crc32(content), "x", Budget())


def test_bytes_after_the_deflate_stream_make_the_verdict_different() -> None:
    """Data hidden after the end of an entry's deflate stream is reported, like data hidden between entries."""
    content = b"hello world\n" * 50
    good = deflated_with_tail("a.txt", content, b"")
    bad = deflated_with_tail("a.txt", content, b"HIDDEN PAYLOAD")
    assert read_zip(good).members[0].local.data.tobytes() == deflate(content)
    out = compare_bytes(good, bad, stabilizers=STABS)
    assert out.verdict is Verdict.DIFFERENT


@pytest.mark.parametrize("cut", [1, 5, 50])
def test_inflate_truncated_stream(cut: int) -> None:
    data = bytes(range(256)) * 40
    stream = deflate(data)
    with pytest.raises(EntryDataError):
        inflate(8, stream[:-cut], len(data), zlib.crc32(data), "t", Budget())


def test_inflate_unknown_method() -> None:
    with pytest.raises(EntryDataError, match="unsupported compression method 12"):
        inflate(12, b"abc", 3, zlib.crc32(b"abc"), "u", Budget())


# ------------------------------------------------------------------------------------ archive-level limits


def test_max_entries_and_archive_size() -> None:
    data = make_zip([Item(f"e{i}", b"") for i in range(5)])
    with pytest.raises(LimitExceeded, match="--max-entries"):
        read_zip(data, Limits(max_entries=4))
    assert len(read_zip(data, Limits(max_entries=5)).members) == 5
    with pytest.raises(LimitExceeded, match="--max-archive-size"):
        read_zip(data, Limits(max_archive_size=len(data) - 1))
    err = one_line_error(compare_bytes(data, data, stabilizers=STABS, limits=Limits(max_entries=4)))
    assert "--max-entries" in err


# ------------------------------------------------------------------------------------ nesting depth


def nest(levels: int, leaf: bytes) -> bytes:
    """A JAR in a JAR ... ``levels`` archives deep inside the outer one; the innermost holds leaf.txt."""
    data = make_zip([Item("leaf.txt", leaf)])
    for k in range(levels, 0, -1):
        data = make_zip([Item(f"lib/l{k}.jar", data, method=zipfile.ZIP_STORED)])
    return data


def nested_path(levels: int) -> str:
    return "".join(f"lib/l{k}.jar!/" for k in range(1, levels + 1))


def test_nesting_deeper_than_the_limit_is_bounded_and_traced() -> None:
    depth = DEFAULT_LIMITS.max_depth
    levels = depth + 3
    ref, reb = nest(levels, b"one\n"), nest(levels, b"two\n")
    out = compare_bytes(ref, reb, stabilizers=STABS)
    assert out.verdict is Verdict.DIFFERENT
    first_unopened = nested_path(depth + 1).removesuffix("!/")
    skipped = [t for t in out.trace if t.action == "skipped"]
    assert {(t.side, t.stabilizer, t.path) for t in skipped} == {
        ("reference", "nested-archives", first_unopened), ("rebuild", "nested-archives", first_unopened)}
    assert all(f"depth limit {depth}" in t.reason for t in skipped)
    # Nothing deeper was opened: no trace step and no difference below the limit.
    assert max(t.path.count("!/") for t in out.trace) <= depth
    assert [(d.path, d.aspect) for d in out.differences] == [(first_unopened, "content")]


def test_raising_the_depth_limit_opens_every_level() -> None:
    levels = DEFAULT_LIMITS.max_depth + 3
    ref, reb = nest(levels, b"one\n"), nest(levels, b"two\n")
    out = compare_bytes(ref, reb, stabilizers=STABS, limits=Limits(max_depth=levels))
    assert not [t for t in out.trace if t.action == "skipped"]
    assert [(d.path, d.aspect) for d in out.differences] == [(nested_path(levels) + "leaf.txt", "content")]


def test_depth_zero_opens_no_nested_archive() -> None:
    ref, reb = nest(2, b"one\n"), nest(2, b"two\n")
    out = compare_bytes(ref, reb, stabilizers=STABS, limits=Limits(max_depth=0))
    assert [(t.path, t.action) for t in out.trace if t.stabilizer == "nested-archives"] == [
        ("lib/l1.jar", "skipped"), ("lib/l1.jar", "skipped")]
    assert [d.path for d in out.differences] == ["lib/l1.jar"]


def test_deep_nesting_equal_content_is_equivalent_within_limit() -> None:
    """Timestamps differing at every level are canonicalized at every opened level."""
    levels = DEFAULT_LIMITS.max_depth

    def build(when: tuple[int, int, int, int, int, int]) -> bytes:
        data = make_zip([Item("leaf.txt", b"same\n", date_time=when)])
        for k in range(levels, 0, -1):
            data = make_zip([Item(f"lib/l{k}.jar", data, method=zipfile.ZIP_STORED, date_time=when)])
        return data

    out = compare_bytes(build((2020, 1, 1, 0, 0, 0)), build((2024, 6, 6, 6, 6, 6)), stabilizers=STABS)
    assert out.verdict is Verdict.EQUIVALENT
    assert any(t.path == nested_path(levels) + "leaf.txt" and t.stabilizer == "zip-timestamps"
               for t in out.trace)
