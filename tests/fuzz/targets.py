"""Fuzz targets: the properties every input must satisfy, as plain functions.

They are shared by the coverage-guided runner (``tests/fuzz/run.py``, atheris) and by the regression test
that replays every input kept under ``tests/fuzz/regressions/`` in the default test run. A target returns
normally for any input that respects the contract and raises ``AssertionError`` (or lets an unexpected
exception escape) when the input exposes a bug.

Contract checked:

- ``zip``: :func:`canonjar.zipfmt.read_zip` either raises a :class:`~canonjar.errors.CanonjarError` or
  returns an archive whose ``to_bytes()`` is the input, byte for byte. ``compare_bytes`` against a fixed
  real JAR, with every stabilizer enabled (class-file ones included), never raises and never says
  ``equivalent``/``identical`` unless the two really are; canonicalization either raises a
  ``CanonjarError`` or gives a readable JAR that canonicalizes to itself (idempotent).
- ``classfile``: :func:`canonjar.classfile.codec.read_class` either raises ``ClassFormatError`` or returns a
  class whose ``write_class`` is the input; the class stabilizers run on it inside a JAR never raise (their
  failures become recorded skips), and their output is idempotent.
"""

from __future__ import annotations

import io
import zipfile
from functools import cache

from canonjar.api import canonicalize_bytes, compare_bytes
from canonjar.classfile.codec import read_class, write_class
from canonjar.classfile.errors import ClassFormatError
from canonjar.errors import CanonjarError
from canonjar.limits import Limits
from canonjar.outcome import Verdict
from canonjar.pipeline import Stabilizer, select_stabilizers
from canonjar.zipfmt import read_zip

__all__ = ["TARGETS", "check_classfile", "check_zip", "fuzz_limits"]


def fuzz_limits() -> Limits:
    """Small limits so that a fuzzed zip bomb fails fast instead of slowing the fuzzer down."""
    return Limits(max_entry_size=4 << 20, max_total_size=16 << 20, max_ratio=200.0, max_depth=3,
                  max_archive_size=8 << 20, max_entries=4096)


@cache
def _all() -> tuple[Stabilizer, ...]:
    return select_stabilizers(enable=["all"])


@cache
def _class_only() -> tuple[Stabilizer, ...]:
    return tuple(s for s in _all() if s.name.startswith("class-"))


@cache
def _anchor() -> bytes:
    """A small real-shaped JAR every fuzzed archive is compared against."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\r\nCreated-By: 17 (fuzz)\r\n\r\n")
        zf.writestr("a/B.txt", "hello\n")
    return buf.getvalue()


def check_zip(data: bytes) -> None:
    """The zip-reader and pipeline contract for one arbitrary input."""
    limits = fuzz_limits()
    try:
        arc = read_zip(data, limits)
    except CanonjarError:
        arc = None
    if arc is not None:
        assert arc.to_bytes() == data, "read_zip(b).to_bytes() != b"
    outcome = compare_bytes(_anchor(), data, stabilizers=_all(), limits=limits)
    if outcome.verdict in (Verdict.IDENTICAL, Verdict.EQUIVALENT):
        assert arc is not None, "an unreadable archive was judged equal"
        if outcome.verdict is Verdict.IDENTICAL:
            assert data == _anchor()
    try:
        canon, _ = canonicalize_bytes(data, stabilizers=_all(), limits=limits)
    except CanonjarError:
        return
    again, _ = canonicalize_bytes(canon, stabilizers=_all(), limits=limits)
    assert again == canon, "canonicalization is not idempotent"


def _jar_of(cls: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("p/C.class", cls)
    return buf.getvalue()


def check_classfile(data: bytes) -> None:
    """The class-file codec and class-stabilizer contract for one arbitrary input."""
    try:
        cf = read_class(data, deep=True)
    except ClassFormatError:
        cf = None
    if cf is not None:
        assert write_class(cf) == data, "write_class(read_class(b)) != b"
    limits = fuzz_limits()
    canon, _ = canonicalize_bytes(_jar_of(data), stabilizers=_class_only(), limits=limits)
    again, _ = canonicalize_bytes(canon, stabilizers=_class_only(), limits=limits)
    assert again == canon, "class stabilizers are not idempotent"


TARGETS = {"zip": check_zip, "classfile": check_classfile}
