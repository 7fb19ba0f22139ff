"""Constant-pool renumbering: rebuild the pool in a new order and remap every constant-pool index of the class.

:func:`cp_locations` finds every constant-pool index of a class file outside the pool itself, in file order:
this/super class, interfaces, member names and descriptors, every attribute name (nested ones too) and every
index inside the bodies of the attributes of :data:`~canonjar.classfile.KNOWN_ATTRIBUTES` (bytecode operands,
exception catch types, StackMapTable verification types, local-variable tables, signatures, inner classes,
annotations of every kind, bootstrap methods, module descriptors, records...). A class with any other attribute
is refused with :class:`UnknownAttributeError`: its bytes may hold indices nobody can find.

:func:`renumber` moves every constant to its new slot and rewrites every location (and every reference between
constants). Indices are fixed-size fields, so nothing else moves; ``ldc`` has a one-byte operand, so every
``ldc`` target must stay at an index <= 255 (:class:`RemapError` otherwise). :func:`canonical_order` gives an
order that depends only on the content of the class, never on its original numbering, and
:func:`canonicalize` applies it.
"""

from __future__ import annotations

import struct

from .codec import ClassFile, read_class, write_class
from .constants import CONSTANT_REF_TAGS, TAG_DOUBLE, TAG_LONG, Constant, ConstantPool, read_constant_pool
from .errors import ClassFormatError
from .layout import IndexCursor, Location, RemapError, UnknownAttributeError, walk_attributes

_U2 = struct.Struct(">H")

__all__ = [
    "Location",
    "RemapError",
    "UnknownAttributeError",
    "canonical_bytes",
    "canonical_order",
    "canonicalize",
    "cp_locations",
    "renumber",
]


def cp_locations(data: bytes, pool: ConstantPool | None = None) -> tuple[ConstantPool, int, list[Location]]:
    """The pool of class file ``data``, the offset where the pool ends and every constant-pool index after it
    (``(offset, width)``, in file order). ``pool``: the pool ``data`` holds, when the caller has it parsed
    (``data`` was written from it). Raises :class:`ClassFormatError` on malformed data and
    :class:`UnknownAttributeError` on an attribute the remapper does not know."""
    if len(data) < 10 or data[:4] != b"\xca\xfe\xba\xbe":
        raise ClassFormatError("not a class file", 0)
    minor, major = struct.unpack_from(">HH", data, 4)
    old = major == 45 and minor < 3
    if pool is None:
        pool, pool_end = read_constant_pool(data, 8)
    else:
        pool_end = 10 + sum(len(c.raw) for c in pool.entries if c is not None)
    out: list[Location] = []
    c = IndexCursor(data, pool_end, len(data), out, "class", pool)
    c.skip(2)  # access_flags
    c.cp()  # this_class
    c.cp()  # super_class (0: none)
    c.cps()  # interfaces
    for kind in ("field", "method"):
        for k in range(c.u2()):
            c.skip(2)
            c.cp()
            c.cp()
            c.where = f"{kind} {k}"
            walk_attributes(c, old)
    c.where = "class"
    walk_attributes(c, old)
    c.done()
    return pool, pool_end, out


def _read(data: bytes, loc: Location) -> int:
    pos, width = loc
    return data[pos] if width == 1 else data[pos] << 8 | data[pos + 1]


# ----------------------------------------------------------------------------------------- renumbering

def _renumber_bytes(data: bytes, order: list[int],
                    located: tuple[ConstantPool, int, list[Location]] | None = None) -> bytes:
    """``data`` renumbered into ``order``; ``located`` is ``cp_locations(data)`` when the caller has it."""
    pool, pool_end, locations = cp_locations(data) if located is None else located
    entries = pool.entries
    present = [i for i, _ in pool]
    if sorted(order) != present:
        raise RemapError("the new order is not a permutation of the constant-pool entries")
    mapping = [0] * len(entries)
    new_entries: list[Constant | None] = [None]
    for old in order:
        mapping[old] = len(new_entries)
        c = entries[old]
        assert c is not None
        new_entries.append(c)
        if c.tag in (TAG_LONG, TAG_DOUBLE):
            new_entries.append(None)
    for k, c in enumerate(new_entries):
        if c is None or not CONSTANT_REF_TAGS[c.tag]:
            continue
        fields = list(c.fields)
        for pos, _ in CONSTANT_REF_TAGS[c.tag]:
            fields[pos] = mapping[fields[pos]]
        new_entries[k] = Constant.make(c.tag, *fields)
    out = bytearray(data[:8]) + ConstantPool(new_entries).to_bytes()
    shift = len(out) - pool_end  # 0: the pool keeps its size, but be explicit
    out += data[pool_end:]
    for pos, width in locations:
        old = _read(data, (pos, width))
        if old == 0:
            continue  # "none" where the format allows it (super_class, catch_type, outer class...)
        if old >= len(mapping) or mapping[old] == 0:
            raise ClassFormatError(f"constant-pool index {old} at offset {pos} is not a valid entry")
        new = mapping[old]
        if width == 1:
            if new > 0xFF:
                raise RemapError(f"ldc target #{old} would move to #{new}, beyond the one-byte operand of ldc")
            out[pos + shift] = new
        else:
            _U2.pack_into(out, pos + shift, new)
    return bytes(out)


def renumber(cf: ClassFile, order: list[int]) -> ClassFile:
    """``cf`` with its constant pool rebuilt so that the entry at old index ``order[k]`` comes k-th (Long and
    Double keep taking two slots), and every index everywhere remapped. ``order`` must list every entry once.

    Raises :class:`UnknownAttributeError` for a class with an attribute outside ``KNOWN_ATTRIBUTES``,
    :class:`RemapError` when an ``ldc`` target would land above 255, :class:`ClassFormatError` on malformed
    attributes. The result is checked with ``read_class(deep=True)``."""
    return read_class(_renumber_bytes(write_class(cf), order), deep=True)


def _content_key(pool: ConstantPool, index: int) -> tuple[object, ...]:
    """A key of the constant at ``index`` that depends only on its content (references resolved)."""
    c = pool[index]
    spec = CONSTANT_REF_TAGS[c.tag]
    if not spec:
        return (c.tag, c.raw)
    fields: list[object] = list(c.fields)
    for pos, _ in spec:
        fields[pos] = _content_key(pool, c.fields[pos])
    return (c.tag, tuple(fields))


def canonical_order(cf: ClassFile) -> list[int]:
    """The canonical order of ``cf``'s pool, a function of the class's content only: first the ``ldc`` targets
    (in order of first use), then every constant in order of first use in a walk of the class in file order
    (a constant comes before the constants it refers to), then the constants nothing refers to, sorted by
    content. Applying it twice changes nothing."""
    return _canonical_order_bytes(write_class(cf))


def _canonical_order_bytes(data: bytes, located: tuple[ConstantPool, int, list[Location]] | None = None) -> list[int]:
    pool, _, locations = cp_locations(data) if located is None else located
    entries = pool.entries
    order: list[int] = []
    placed = [False] * len(entries)
    expanded = [False] * len(entries)

    def visit(index: int) -> None:
        stack = [index]
        while stack:
            i = stack.pop()
            if not placed[i]:
                placed[i] = True
                order.append(i)
            if expanded[i]:
                continue
            expanded[i] = True
            c = entries[i]
            assert c is not None
            spec = CONSTANT_REF_TAGS[c.tag]
            if spec:
                f = c.fields
                stack.extend(f[pos] for pos, _ in reversed(spec))

    for loc in locations:
        if loc[1] == 1:
            i = _read(data, loc)
            if 0 < i < len(entries) and entries[i] is not None and not placed[i]:
                placed[i] = True
                order.append(i)
    for loc in locations:
        i = _read(data, loc)
        if i == 0:
            continue
        if i >= len(entries) or entries[i] is None:
            raise ClassFormatError(f"constant-pool index {i} at offset {loc[0]} is not a valid entry")
        visit(i)
    rest = sorted((i for i, _ in pool if not placed[i]), key=lambda i: _content_key(pool, i))
    for i in rest:
        visit(i)
    return order


def canonicalize(cf: ClassFile) -> ClassFile:
    """``cf`` renumbered into its :func:`canonical_order` (``cf`` itself when it already is)."""
    data = write_class(cf)
    out = canonical_bytes(cf, data)
    return cf if out is None else read_class(out, deep=True)


def canonical_bytes(cf: ClassFile, data: bytes | None = None) -> bytes | None:
    """The bytes of :func:`canonicalize` ``(cf)``, checked by ``read_class(deep=True)``, or None when ``cf`` is
    already in canonical order. ``data``: ``write_class(cf)`` when the caller has it (the bytes ``cf`` was
    read from, unchanged)."""
    if data is None:
        data = write_class(cf)
    located = cp_locations(data, cf.constant_pool)  # walked once, for the order and the renumbering
    order = _canonical_order_bytes(data, located)
    if order == [i for i, _ in cf.constant_pool]:
        return None
    out = _renumber_bytes(data, order, located)
    read_class(out, deep=True)  # the result must be a well-formed class (remembered: read again for free)
    return out
