"""Instruction decoder for the bytecode of a Code attribute (JVMS 6.5, every opcode of Java SE 25).

:func:`iter_instructions` yields one :class:`Instruction` per instruction: its offset, opcode, operands and
length. Operands, by instruction format:

- no operand: ``()``; ``bipush``/``sipush``: ``(value,)`` signed;
- local-variable instructions, ``ret``, ``newarray``: ``(index_or_atype,)``; ``iinc``: ``(index, const)``;
- constant-pool instructions: ``(cp_index,)`` -- 1 byte for ``ldc``, 2 bytes otherwise; ``invokeinterface``:
  ``(cp_index, count, 0)``; ``invokedynamic``: ``(cp_index, 0)``; ``multianewarray``: ``(cp_index, dimensions)``;
- branches (``if*``, ``goto``, ``jsr``, ``goto_w``, ``jsr_w``): ``(relative_offset,)``;
- ``tableswitch``: ``(default, low, high, offset_0, ..., offset_n)``; ``lookupswitch``:
  ``(default, npairs, match_0, offset_0, ...)`` -- offsets relative to the switch; padding is skipped;
- ``wide``: the instruction is reported with the *modified* opcode (``iload``, ``iinc``...), ``wide=True``,
  and u2 index (and s2 constant for ``iinc``).

:attr:`Instruction.cp_index` says which operand is a constant-pool index, :data:`CP_INDEX_WIDTH` how wide it is.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import NamedTuple

from .errors import ClassFormatError

__all__ = [
    "CP_INDEX_WIDTH",
    "CP_OPERAND_TAGS",
    "OPCODE_NAMES",
    "WIDE",
    "Instruction",
    "cp_references",
    "iter_instructions",
    "scan_cp_operands",
]

_NAMES = """
nop aconst_null iconst_m1 iconst_0 iconst_1 iconst_2 iconst_3 iconst_4 iconst_5 lconst_0 lconst_1 fconst_0
fconst_1 fconst_2 dconst_0 dconst_1 bipush sipush ldc ldc_w ldc2_w iload lload fload dload aload iload_0 iload_1
iload_2 iload_3 lload_0 lload_1 lload_2 lload_3 fload_0 fload_1 fload_2 fload_3 dload_0 dload_1 dload_2 dload_3
aload_0 aload_1 aload_2 aload_3 iaload laload faload daload aaload baload caload saload istore lstore fstore dstore
astore istore_0 istore_1 istore_2 istore_3 lstore_0 lstore_1 lstore_2 lstore_3 fstore_0 fstore_1 fstore_2 fstore_3
dstore_0 dstore_1 dstore_2 dstore_3 astore_0 astore_1 astore_2 astore_3 iastore lastore fastore dastore aastore
bastore castore sastore pop pop2 dup dup_x1 dup_x2 dup2 dup2_x1 dup2_x2 swap iadd ladd fadd dadd isub lsub fsub dsub
imul lmul fmul dmul idiv ldiv fdiv ddiv irem lrem frem drem ineg lneg fneg dneg ishl lshl ishr lshr iushr lushr iand
land ior lor ixor lxor iinc i2l i2f i2d l2i l2f l2d f2i f2l f2d d2i d2l d2f i2b i2c i2s lcmp fcmpl fcmpg dcmpl dcmpg
ifeq ifne iflt ifge ifgt ifle if_icmpeq if_icmpne if_icmplt if_icmpge if_icmpgt if_icmple if_acmpeq if_acmpne goto
jsr ret tableswitch lookupswitch ireturn lreturn freturn dreturn areturn return getstatic putstatic getfield putfield
invokevirtual invokespecial invokestatic invokeinterface invokedynamic new newarray anewarray arraylength athrow
checkcast instanceof monitorenter monitorexit wide multianewarray ifnull ifnonnull goto_w jsr_w
""".split()  # noqa: SIM905
#: Mnemonic of every defined opcode (0x00-0xc9; 0xca-0xff are reserved and rejected).
OPCODE_NAMES: dict[int, str] = dict(enumerate(_NAMES))
assert len(OPCODE_NAMES) == 0xCA

WIDE = 0xC4
TABLESWITCH = 0xAA
LOOKUPSWITCH = 0xAB
IINC = 0x84

# Instruction formats (the decoder relies on this order).
_NONE, _S1, _U1, _CP1, _S2, _CP2, _BR2, _IINC, _IFACE, _INDY, _MULTI, _BR4, _TABLE, _LOOKUP, _WIDE, _INVALID = range(16)
_KIND = [_INVALID] * 256
for _op in range(0xCA):
    _KIND[_op] = _NONE
_KIND[0x10] = _S1
_KIND[0x11] = _S2
_KIND[0x12] = _CP1
for _op in (0x13, 0x14, 0xB2, 0xB3, 0xB4, 0xB5, 0xB6, 0xB7, 0xB8, 0xBB, 0xBD, 0xC0, 0xC1):
    _KIND[_op] = _CP2
for _op in (*range(0x15, 0x1A), *range(0x36, 0x3B), 0xA9, 0xBC):  # xload, xstore, ret, newarray
    _KIND[_op] = _U1
for _op in (*range(0x99, 0xA9), 0xC6, 0xC7):
    _KIND[_op] = _BR2
_KIND[IINC] = _IINC
_KIND[0xB9] = _IFACE
_KIND[0xBA] = _INDY
_KIND[0xC5] = _MULTI
_KIND[0xC8] = _KIND[0xC9] = _BR4
_KIND[TABLESWITCH] = _TABLE
_KIND[LOOKUPSWITCH] = _LOOKUP
_KIND[WIDE] = _WIDE
_WIDENABLE = frozenset({*range(0x15, 0x1A), *range(0x36, 0x3B), 0xA9, IINC})

#: Opcodes with a constant-pool index as first operand, and the index's width in bytes (``ldc``: 1).
CP_INDEX_WIDTH: dict[int, int] = {op: 1 if k == _CP1 else 2 for op, k in enumerate(_KIND)
                                  if k in (_CP1, _CP2, _IFACE, _INDY, _MULTI)}

_LOADABLE = frozenset({3, 4, 7, 8, 15, 16, 17})
#: Constant tags the constant-pool operand of each opcode may point to (JVMS 6.5).
CP_OPERAND_TAGS: dict[int, frozenset[int]] = {
    0x12: _LOADABLE, 0x13: _LOADABLE, 0x14: frozenset({5, 6, 17}),
    0xB2: frozenset({9}), 0xB3: frozenset({9}), 0xB4: frozenset({9}), 0xB5: frozenset({9}),
    0xB6: frozenset({10}), 0xB7: frozenset({10, 11}), 0xB8: frozenset({10, 11}), 0xB9: frozenset({11}),
    0xBA: frozenset({18}), 0xBB: frozenset({7}), 0xBD: frozenset({7}), 0xC0: frozenset({7}), 0xC1: frozenset({7}),
    0xC5: frozenset({7}),
}


class Instruction(NamedTuple):
    """One decoded instruction (see the module documentation for the operands of each format)."""

    offset: int
    opcode: int
    operands: tuple[int, ...]
    length: int
    wide: bool = False

    @property
    def mnemonic(self) -> str:
        return OPCODE_NAMES[self.opcode]

    @property
    def cp_index(self) -> int | None:
        """The constant-pool index operand, or None (its width is ``CP_INDEX_WIDTH[opcode]``)."""
        return self.operands[0] if self.opcode in CP_INDEX_WIDTH else None

    def targets(self) -> tuple[int, ...]:
        """Absolute offsets this instruction may branch to (switch: default first), else ``()``."""
        kind = _KIND[self.opcode]
        ops = self.operands
        if kind in (_BR2, _BR4):
            return (self.offset + ops[0],)
        if kind == _TABLE:
            return (self.offset + ops[0], *(self.offset + o for o in ops[3:]))
        if kind == _LOOKUP:
            return (self.offset + ops[0], *(self.offset + o for o in ops[3::2]))
        return ()


_S4 = struct.Struct(">i")
_S4x3 = struct.Struct(">iii")
_S4x2 = struct.Struct(">ii")


def iter_instructions(code: bytes) -> Iterator[Instruction]:
    """Decode ``code`` (the bytecode of one Code attribute, offsets relative to its start).

    Raises :class:`ClassFormatError` on a reserved opcode, an instruction running past the end, a bad ``wide``
    or a switch with ``high < low`` or a negative ``npairs``; the last instruction ends exactly at ``len(code)``.
    """
    n = len(code)
    kinds = _KIND
    new = tuple.__new__  # Instruction(...) without the Python-level NamedTuple.__new__
    insn = Instruction
    pos = 0
    while pos < n:
        op = code[pos]
        kind = kinds[op]
        if kind == _NONE:
            yield new(insn, (pos, op, (), 1, False))
            pos += 1
            continue
        if kind <= _CP1:  # _S1, _U1, _CP1: one operand byte
            if pos + 2 > n:
                break
            v = code[pos + 1]
            yield new(insn, (pos, op, (v - 256 if kind == _S1 and v > 127 else v,), 2, False))
            pos += 2
            continue
        if kind <= _BR2:  # _S2, _CP2, _BR2: two operand bytes
            if pos + 3 > n:
                break
            v = code[pos + 1] << 8 | code[pos + 2]
            yield new(insn, (pos, op, (v - 65536 if kind != _CP2 and v > 32767 else v,), 3, False))
            pos += 3
            continue
        if kind == _IINC:
            if pos + 3 > n:
                break
            c = code[pos + 2]
            yield new(insn, (pos, op, (code[pos + 1], c - 256 if c > 127 else c), 3, False))
            pos += 3
            continue
        if kind <= _INDY:  # _IFACE, _INDY
            if pos + 5 > n:
                break
            index = code[pos + 1] << 8 | code[pos + 2]
            if kind == _IFACE:
                yield new(insn, (pos, op, (index, code[pos + 3], code[pos + 4]), 5, False))
            else:
                yield new(insn, (pos, op, (index, code[pos + 3] << 8 | code[pos + 4]), 5, False))
            pos += 5
            continue
        if kind == _MULTI:
            if pos + 4 > n:
                break
            yield new(insn, (pos, op, (code[pos + 1] << 8 | code[pos + 2], code[pos + 3]), 4, False))
            pos += 4
            continue
        if kind == _BR4:
            if pos + 5 > n:
                break
            yield new(insn, (pos, op, _S4.unpack_from(code, pos + 1), 5, False))
            pos += 5
            continue
        if kind == _TABLE:
            p = (pos + 4) & ~3  # skip the 0-3 padding bytes after the opcode
            if p + 12 > n:
                break
            default, low, high = _S4x3.unpack_from(code, p)
            if high < low:
                raise ClassFormatError(f"tableswitch with high {high} < low {low}", pos)
            count = high - low + 1
            if 4 * count > n - p - 12:
                break
            offsets = struct.unpack_from(f">{count}i", code, p + 12)
            end = p + 12 + 4 * count
            yield new(insn, (pos, op, (default, low, high, *offsets), end - pos, False))
            pos = end
            continue
        if kind == _LOOKUP:
            p = (pos + 4) & ~3
            if p + 8 > n:
                break
            default, npairs = _S4x2.unpack_from(code, p)
            if npairs < 0:
                raise ClassFormatError(f"lookupswitch with npairs {npairs} < 0", pos)
            if 8 * npairs > n - p - 8:
                break
            pairs = struct.unpack_from(f">{2 * npairs}i", code, p + 8)
            end = p + 8 + 8 * npairs
            yield new(insn, (pos, op, (default, npairs, *pairs), end - pos, False))
            pos = end
            continue
        if kind == _WIDE:
            if pos + 2 > n:
                break
            real = code[pos + 1]
            if real not in _WIDENABLE:
                raise ClassFormatError(f"wide before opcode 0x{real:02x}, which cannot be widened", pos)
            if real == IINC:
                if pos + 6 > n:
                    break
                c = code[pos + 4] << 8 | code[pos + 5]
                yield new(insn, (pos, real, (code[pos + 2] << 8 | code[pos + 3], c - 65536 if c > 32767 else c),
                                  6, True))
                pos += 6
            else:
                if pos + 4 > n:
                    break
                yield new(insn, (pos, real, (code[pos + 2] << 8 | code[pos + 3],), 4, True))
                pos += 4
            continue
        raise ClassFormatError(f"reserved or undefined opcode 0x{op:02x}", pos)
    if pos != n:
        raise ClassFormatError(f"instruction {OPCODE_NAMES.get(code[pos], code[pos])} runs past the end of the "
                               f"code ({n} bytes)", pos)


#: Length of every fixed-length instruction by opcode; 0 for the switches, ``wide`` and the reserved opcodes.
_FIXED_LENGTH = [{_NONE: 1, _S1: 2, _U1: 2, _CP1: 2, _S2: 3, _CP2: 3, _BR2: 3, _IINC: 3, _IFACE: 5, _INDY: 5,
                  _MULTI: 4, _BR4: 5}.get(k, 0) for k in _KIND]
#: Width of the constant-pool index operand by opcode, 0 for opcodes without one.
_CP_WIDTH = [CP_INDEX_WIDTH.get(op, 0) for op in range(256)]


def scan_cp_operands(code: bytes) -> list[tuple[int, int, int]] | None:
    """Fast path of :func:`cp_references`: ``(position of the index, width, opcode)`` of every constant-pool
    operand of ``code``, or None when ``code`` is not well formed (then :func:`iter_instructions` tells why).

    It walks the instructions with length tables instead of decoding them, and accepts exactly the code that
    :func:`iter_instructions` accepts (same reserved opcodes, ``wide`` forms, switch checks and end)."""
    n = len(code)
    fixed = _FIXED_LENGTH
    widths = _CP_WIDTH
    out: list[tuple[int, int, int]] = []
    append = out.append
    pos = 0
    while pos < n:
        op = code[pos]
        length = fixed[op]
        if length:
            width = widths[op]
            if width:
                append((pos + 1, width, op))
            pos += length
            continue
        if op == TABLESWITCH:
            p = (pos + 4) & ~3
            if p + 12 > n:
                return None
            _, low, high = _S4x3.unpack_from(code, p)
            if high < low or 4 * (high - low + 1) > n - p - 12:
                return None
            pos = p + 12 + 4 * (high - low + 1)
        elif op == LOOKUPSWITCH:
            p = (pos + 4) & ~3
            if p + 8 > n:
                return None
            _, npairs = _S4x2.unpack_from(code, p)
            if npairs < 0 or 8 * npairs > n - p - 8:
                return None
            pos = p + 8 + 8 * npairs
        elif op == WIDE:
            if pos + 2 > n or code[pos + 1] not in _WIDENABLE:
                return None
            pos += 6 if code[pos + 1] == IINC else 4
        else:
            return None
    return out if pos == n else None


def cp_references(code: bytes) -> list[tuple[int, int, int]]:
    """Every constant-pool index held in ``code``: ``(byte position of the index, width 1 or 2, index)``."""
    found = scan_cp_operands(code)
    if found is not None:
        return [(at, width, code[at] if width == 1 else code[at] << 8 | code[at + 1]) for at, width, _ in found]
    width = CP_INDEX_WIDTH
    return [(i.offset + 1, width[i.opcode], i.operands[0]) for i in iter_instructions(code) if i.opcode in width]
