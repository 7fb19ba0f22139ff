"""Property tests of the whole pipeline: idempotence, order independence, and that content changes are seen."""

from __future__ import annotations

import zipfile

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from canonjar import DifferenceKind, Verdict, canonicalize_bytes, compare_bytes
from canonjar.zipfmt import read_zip
from tests.helpers import Item, make_zip

_name_part = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABC0123456789_-.$", min_size=1, max_size=8).filter(
    lambda s: s not in (".", ".."))
_names = st.lists(_name_part, min_size=1, max_size=3).map("/".join)
_date = st.tuples(st.integers(1980, 2107), st.integers(1, 12), st.integers(1, 28), st.integers(0, 23),
                  st.integers(0, 59), st.integers(0, 29).map(lambda s: s * 2))
_method = st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])


@st.composite
def _contents(draw: st.DrawFn) -> dict[str, bytes]:
    names = draw(st.lists(_names, min_size=1, max_size=8, unique=True))
    # no name may be a directory prefix of another file name with the same spelling plus "/"
    return {n: draw(st.binary(max_size=300)) for n in names}


@st.composite
def _noisy(draw: st.DrawFn, contents: dict[str, bytes]) -> bytes:
    """The same contents with random noise: order, times, modes, compression, streaming, comments."""
    names = draw(st.permutations(sorted(contents)))
    items = [Item(n, contents[n], date_time=draw(_date), mode=draw(st.sampled_from([0o644, 0o664, 0o600, None])),
                  method=draw(_method), level=draw(st.sampled_from([None, 1, 9])),
                  comment=draw(st.binary(max_size=5))) for n in names]
    if draw(st.booleans()):
        items.insert(0, Item("META-INF/", b"", date_time=draw(_date)))
    return make_zip(items, comment=draw(st.binary(max_size=10)), streamed=draw(st.booleans()))


_settings = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_settings
@given(st.data())
def test_noise_only_pairs_are_equivalent(data: st.DataObject) -> None:
    contents = data.draw(_contents())
    a = data.draw(_noisy(contents))
    b = data.draw(_noisy(contents))
    out = compare_bytes(a, b)
    assert out.verdict in (Verdict.EQUIVALENT, Verdict.IDENTICAL), out.differences


@_settings
@given(st.data())
def test_canonicalization_is_idempotent_and_order_independent(data: st.DataObject) -> None:
    contents = data.draw(_contents())
    a = data.draw(_noisy(contents))
    b = data.draw(_noisy(contents))
    ca, _ = canonicalize_bytes(a)
    cb, _ = canonicalize_bytes(b)
    assert ca == cb  # whatever the order and noise, one canonical JAR
    again, _ = canonicalize_bytes(ca)
    assert again == ca
    assert read_zip(ca).to_bytes() == ca


@_settings
@given(st.data())
def test_any_content_byte_change_is_different(data: st.DataObject) -> None:
    contents = data.draw(_contents())
    name = data.draw(st.sampled_from(sorted(contents)))
    body = contents[name]
    if body:
        pos = data.draw(st.integers(0, len(body) - 1))
        new_byte = data.draw(st.integers(0, 255).filter(lambda v: v != body[pos]))
        changed = body[:pos] + bytes([new_byte]) + body[pos + 1:]
    else:
        changed = b"\x00"
    tampered = dict(contents)
    tampered[name] = changed
    a = data.draw(_noisy(contents))
    b = data.draw(_noisy(tampered))
    out = compare_bytes(a, b)
    assert out.verdict is Verdict.DIFFERENT
    hits = [d for d in out.differences if d.path == name]
    assert hits and hits[0].kind is DifferenceKind.CHANGED
    assert hits[0].left_sha256 != hits[0].right_sha256
    assert (hits[0].left_size, hits[0].right_size) == (len(body), len(changed))


@_settings
@given(st.data())
def test_added_or_removed_entries_are_different(data: st.DataObject) -> None:
    contents = data.draw(_contents())
    extra_name = data.draw(_names.filter(lambda n: n not in contents))
    bigger = dict(contents)
    bigger[extra_name] = data.draw(st.binary(max_size=50))
    a = data.draw(_noisy(contents))
    b = data.draw(_noisy(bigger))
    out = compare_bytes(a, b)
    assert out.verdict is Verdict.DIFFERENT
    assert any(d.path == extra_name and d.kind is DifferenceKind.ADDED for d in out.differences)
    back = compare_bytes(b, a)
    assert any(d.path == extra_name and d.kind is DifferenceKind.REMOVED for d in back.differences)
