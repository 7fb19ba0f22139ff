"""The fast paths of the class-file codec give exactly what the slow paths give.

- :func:`scan_cp_operands` (instruction walk by length tables) finds the same constant-pool operands as
  :func:`iter_instructions` on every method of java.base, and refuses (None) exactly the code that
  ``iter_instructions`` refuses, on random and on truncated code;
- ``check_deep`` (fast instruction check, full check on any problem) raises the same error as before for
  classes with a bad operand;
- the codec's memory of checked and recently parsed classes (keyed by content) hands out independent copies:
  changing a class read from it changes no later read, and a class that fails the deep checks is never
  remembered as checked; ``unknown_attributes_of`` equals ``ClassFile.unknown_attributes``.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from canonjar.classfile import (
    Attribute,
    ClassFormatError,
    Constant,
    iter_instructions,
    parse_code,
    read_class,
    unknown_attributes_of,
    write_class,
)
from canonjar.classfile.bytecode import CP_INDEX_WIDTH, cp_references, scan_cp_operands
from canonjar.classfile.codec import CHECKED_CLASSES, RECENT_CLASSES
from tests.test_classfile_codec import java_base_classes


def slow_operands(code: bytes) -> list[tuple[int, int, int]] | None:
    """What iter_instructions says: (position of the index, width, opcode), or None when it raises."""
    try:
        return [(i.offset + 1, CP_INDEX_WIDTH[i.opcode], i.opcode) for i in iter_instructions(code)
                if i.opcode in CP_INDEX_WIDTH]
    except ClassFormatError:
        return None


def method_codes(limit: int) -> list[bytes]:
    classes = java_base_classes()
    if not classes:
        pytest.skip("no java.base.jmod in the JDK")
    out: list[bytes] = []
    for _, data in classes[:limit]:
        cf = read_class(data)
        for m in cf.methods:
            attr = cf.find_attribute(m.attributes, "Code")
            if attr is not None:
                out.append(parse_code(attr.info, cf.constant_pool, cf.is_old_code_format).code)
    return out


def test_scan_matches_the_decoder_on_java_base() -> None:
    codes = method_codes(1500)
    assert len(codes) > 5000
    for code in codes:
        assert scan_cp_operands(code) == slow_operands(code)
        assert cp_references(code) == [(at, w, code[at] if w == 1 else code[at] << 8 | code[at + 1])
                                       for at, w, _ in slow_operands(code) or []]


def test_scan_refuses_what_the_decoder_refuses_on_cut_and_mutated_code() -> None:
    rng = random.Random(5)
    codes = method_codes(300)
    refused = 0
    for code in codes[:3000]:
        for cut in {1, len(code) // 2, len(code) - 1} - {0}:
            assert scan_cp_operands(code[:cut]) == slow_operands(code[:cut])
        mutated = bytearray(code)
        for _ in range(3):
            mutated[rng.randrange(len(mutated))] = rng.randrange(256)
        got = scan_cp_operands(bytes(mutated))
        assert got == slow_operands(bytes(mutated))
        refused += got is None
    assert refused > 100  # the mutations did reach the refusals


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=64))
def test_scan_equals_the_decoder_on_any_bytes(code: bytes) -> None:
    assert scan_cp_operands(code) == slow_operands(code)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from([0x00, 0x10, 0x11, 0x12, 0x13, 0x84, 0xAA, 0xAB, 0xB9, 0xBA, 0xC4, 0xC5, 0xC8,
                                 0x15, 0x36, 0xA9, 0x01, 0x7F, 0xFF, 0x02, 0x03]), max_size=40))
def test_scan_equals_the_decoder_on_opcode_soup(ops: list[int]) -> None:
    code = bytes(ops)
    assert scan_cp_operands(code) == slow_operands(code)


def first_invoke_class() -> tuple[bytes, int]:
    """A java.base class and the byte position (in the class file) of an invokevirtual operand."""
    for _, data in java_base_classes()[:200]:
        cf = read_class(data)
        for m in cf.methods:
            attr = cf.find_attribute(m.attributes, "Code")
            if attr is None:
                continue
            code = parse_code(attr.info, cf.constant_pool).code
            for insn in iter_instructions(code):
                if insn.opcode == 0xB6:
                    at = data.find(code)
                    assert at > 0
                    return data, at + insn.offset + 1
    pytest.skip("no invokevirtual found")


def test_bad_operand_raises_the_full_error_and_is_not_remembered() -> None:
    if not java_base_classes():
        pytest.skip("no java.base.jmod in the JDK")
    data, at = first_invoke_class()
    cf = read_class(data)
    utf8 = next(i for i, c in cf.constant_pool if c.tag == 1)
    bad = bytearray(data)
    bad[at:at + 2] = utf8.to_bytes(2, "big")
    bad_bytes = bytes(bad)
    read_class(bad_bytes)  # shallow: fine, instructions are not decoded
    for _ in range(2):  # the second time too: a failed class is not remembered as checked
        with pytest.raises(ClassFormatError, match=r"invokevirtual at \d+ refers to constant #\d+, which is Utf8"):
            read_class(bad_bytes, deep=True)
    assert not CHECKED_CLASSES.checked(CHECKED_CLASSES.key(bad_bytes))


def test_remembered_classes_are_independent_copies() -> None:
    classes = java_base_classes()
    if not classes:
        pytest.skip("no java.base.jmod in the JDK")
    data = next(d for _, d in classes if len(d) > 2000)
    first = read_class(data, deep=True)
    assert RECENT_CLASSES.get(CHECKED_CLASSES.key(data)) is not None
    # change everything a stabilizer may change in place
    first.constant_pool.entries[1] = Constant.utf8(b"changed")
    first.methods.reverse()
    first.methods[0].attributes.clear()
    first.attributes.clear()
    first.interfaces.append(1)
    second = read_class(data, deep=True)
    assert write_class(second) == data
    assert write_class(read_class(data)) == data
    assert second is not first and second.constant_pool is not first.constant_pool
    RECENT_CLASSES.clear()
    third = read_class(data, deep=True)  # checked before: parsed again without the deep checks, same class
    assert write_class(third) == data


def test_unknown_attributes_of_matches_the_method() -> None:
    classes = java_base_classes()
    if not classes:
        pytest.skip("no java.base.jmod in the JDK")
    for _, data in classes[:200]:
        assert unknown_attributes_of(data) == read_class(data, deep=True).unknown_attributes()
        assert unknown_attributes_of(data) == read_class(data, deep=True).unknown_attributes()  # remembered
    # a class with an attribute the codec does not know
    cf = read_class(classes[0][1])
    name = cf.constant_pool.append(Constant.utf8(b"Vendor"))
    cf.attributes.append(Attribute(name, b"\x00\x01"))
    data = write_class(cf)
    assert unknown_attributes_of(data) == [("class", "Vendor")] == read_class(data).unknown_attributes()
