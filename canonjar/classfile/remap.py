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
from collections.abc import Callable

from ..errors import CanonjarError
from .attributes import KNOWN_ATTRIBUTE_NAMES
from .bytecode import cp_references
from .codec import ClassFile, read_class, write_class
from .constants import CONSTANT_REF_TAGS, TAG_DOUBLE, TAG_LONG, Constant, ConstantPool, read_constant_pool
from .errors import ClassFormatError

__all__ = [
    "Location",
    "RemapError",
    "UnknownAttributeError",
    "canonical_order",
    "canonicalize",
    "cp_locations",
    "renumber",
]


class RemapError(CanonjarError):
    """The constant pool of a class cannot be renumbered (an ``ldc`` target would move above 255, a bad
    order...)."""


class UnknownAttributeError(RemapError):
    """The class carries an attribute the remapper does not know, so it cannot find all its indices."""


#: One constant-pool index in the class file: (byte offset in the class file, width 1 or 2).
Location = tuple[int, int]

_U2 = struct.Struct(">H")
_U4 = struct.Struct(">I")


class _Cursor:
    """Bounds-checked reader over ``data[pos:end]`` that reports the positions of constant-pool indices."""

    __slots__ = ("data", "end", "out", "pool", "pos", "where")

    def __init__(self, data: bytes, pos: int, end: int, out: list[Location], where: str,
                 pool: ConstantPool) -> None:
        self.data, self.pos, self.end, self.out, self.where, self.pool = data, pos, end, out, where, pool

    def need(self, n: int) -> None:
        if self.pos + n > self.end:
            raise ClassFormatError(f"{self.where}: truncated", self.pos)

    def u1(self) -> int:
        self.need(1)
        v = self.data[self.pos]
        self.pos += 1
        return v

    def u2(self) -> int:
        self.need(2)
        v: int = _U2.unpack_from(self.data, self.pos)[0]
        self.pos += 2
        return v

    def u4(self) -> int:
        self.need(4)
        v: int = _U4.unpack_from(self.data, self.pos)[0]
        self.pos += 4
        return v

    def skip(self, n: int) -> None:
        self.need(n)
        self.pos += n

    def cp(self) -> None:
        """A u2 constant-pool index (0 is kept as "none" where the format allows it)."""
        self.need(2)
        self.out.append((self.pos, 2))
        self.pos += 2

    def cps(self) -> None:
        """A u2 count followed by that many u2 constant-pool indices."""
        for _ in range(self.u2()):
            self.cp()

    def done(self) -> None:
        if self.pos != self.end:
            raise ClassFormatError(f"{self.where}: {self.end - self.pos} unexpected trailing bytes", self.pos)


# ----------------------------------------------------------------------------------------- attribute bodies

def _element_value(c: _Cursor) -> None:
    tag = c.u1()
    if tag in b"BCDFIJSZsc":
        c.cp()
    elif tag == ord("e"):
        c.cp()
        c.cp()
    elif tag == ord("@"):
        _annotation(c)
    elif tag == ord("["):
        for _ in range(c.u2()):
            _element_value(c)
    else:
        raise ClassFormatError(f"{c.where}: bad element_value tag {tag}", c.pos - 1)


def _annotation(c: _Cursor) -> None:
    c.cp()  # type_index
    for _ in range(c.u2()):
        c.cp()  # element_name_index
        _element_value(c)


def _annotations(c: _Cursor) -> None:
    for _ in range(c.u2()):
        _annotation(c)


def _parameter_annotations(c: _Cursor) -> None:
    for _ in range(c.u1()):
        _annotations(c)


def _type_annotations(c: _Cursor) -> None:
    for _ in range(c.u2()):
        target = c.u1()
        if target in (0x00, 0x01, 0x16):
            c.skip(1)
        elif target in (0x10, 0x11, 0x12, 0x17, 0x42, 0x43, 0x44, 0x45, 0x46):  # u2, or u1 u1 for bounds
            c.skip(2)
        elif target in (0x13, 0x14, 0x15):
            pass
        elif target in (0x40, 0x41):
            c.skip(6 * c.u2())
        elif 0x47 <= target <= 0x4B:
            c.skip(3)
        else:
            raise ClassFormatError(f"{c.where}: bad type annotation target_type 0x{target:02x}", c.pos - 1)
        c.skip(2 * c.u1())  # type_path
        _annotation(c)


def _verification_types(c: _Cursor, count: int) -> None:
    for _ in range(count):
        tag = c.u1()
        if tag == 7:  # Object_variable_info
            c.cp()
        elif tag == 8:  # Uninitialized_variable_info: an offset
            c.skip(2)
        elif tag > 8:
            raise ClassFormatError(f"{c.where}: bad verification type tag {tag}", c.pos - 1)


def _stack_map_table(c: _Cursor) -> None:
    for _ in range(c.u2()):
        kind = c.u1()
        if kind < 64:  # same_frame
            continue
        if kind < 128:  # same_locals_1_stack_item_frame
            _verification_types(c, 1)
        elif kind < 247:
            raise ClassFormatError(f"{c.where}: reserved frame type {kind}", c.pos - 1)
        elif kind == 247:  # same_locals_1_stack_item_frame_extended
            c.skip(2)
            _verification_types(c, 1)
        elif kind <= 251:  # chop_frame, same_frame_extended
            c.skip(2)
        elif kind <= 254:  # append_frame
            c.skip(2)
            _verification_types(c, kind - 251)
        else:  # full_frame
            c.skip(2)
            _verification_types(c, c.u2())
            _verification_types(c, c.u2())


def _local_variables(c: _Cursor) -> None:
    for _ in range(c.u2()):
        c.skip(4)  # start_pc, length
        c.cp()  # name_index
        c.cp()  # descriptor_index / signature_index
        c.skip(2)  # index


def _code(c: _Cursor, old_format: bool) -> None:
    if old_format:
        c.skip(2)
        length = c.u2()
    else:
        c.skip(4)
        length = c.u4()
    if length == 0 or length > 0xFFFF:
        raise ClassFormatError(f"{c.where}: code_length {length} is not in 1..65535", c.pos - 4)
    c.need(length)
    start = c.pos
    for pos, width, _ in cp_references(c.data[start:start + length]):
        c.out.append((start + pos, width))
    c.pos += length
    for _ in range(c.u2()):
        c.skip(6)
        c.cp()  # catch_type (0: any)
    _attributes(c, old_format)


def _inner_classes(c: _Cursor) -> None:
    for _ in range(c.u2()):
        c.cp()  # inner_class_info
        c.cp()  # outer_class_info (0: none)
        c.cp()  # inner_name (0: anonymous)
        c.skip(2)


def _bootstrap_methods(c: _Cursor) -> None:
    for _ in range(c.u2()):
        c.cp()  # bootstrap_method_ref
        c.cps()  # bootstrap_arguments


def _method_parameters(c: _Cursor) -> None:
    for _ in range(c.u1()):
        c.cp()  # name_index (0: no name)
        c.skip(2)


def _module(c: _Cursor) -> None:
    c.cp()  # module_name
    c.skip(2)  # flags
    c.cp()  # module_version (0: none)
    for _ in range(c.u2()):  # requires
        c.cp()
        c.skip(2)
        c.cp()  # requires_version (0: none)
    for _ in range(2):  # exports, opens
        for _ in range(c.u2()):
            c.cp()
            c.skip(2)
            c.cps()
    c.cps()  # uses
    for _ in range(c.u2()):  # provides
        c.cp()
        c.cps()


def _record(c: _Cursor, old_format: bool) -> None:
    for _ in range(c.u2()):
        c.cp()  # name
        c.cp()  # descriptor
        _attributes(c, old_format)


def _single(c: _Cursor) -> None:
    c.cp()


def _enclosing_method(c: _Cursor) -> None:
    c.cp()  # class_index
    c.cp()  # method_index (0: not in a method)


def _nothing(c: _Cursor) -> None:
    c.pos = c.end


_BODIES: dict[bytes, Callable[[_Cursor], None]] = {
    b"ConstantValue": _single, b"Signature": _single, b"SourceFile": _single, b"ModuleMainClass": _single,
    b"NestHost": _single, b"Exceptions": _Cursor.cps, b"ModulePackages": _Cursor.cps, b"NestMembers": _Cursor.cps,
    b"PermittedSubclasses": _Cursor.cps, b"StackMapTable": _stack_map_table,
    b"LocalVariableTable": _local_variables, b"LocalVariableTypeTable": _local_variables,
    b"InnerClasses": _inner_classes, b"EnclosingMethod": _enclosing_method,
    b"RuntimeVisibleAnnotations": _annotations, b"RuntimeInvisibleAnnotations": _annotations,
    b"RuntimeVisibleParameterAnnotations": _parameter_annotations,
    b"RuntimeInvisibleParameterAnnotations": _parameter_annotations,
    b"RuntimeVisibleTypeAnnotations": _type_annotations, b"RuntimeInvisibleTypeAnnotations": _type_annotations,
    b"AnnotationDefault": _element_value, b"BootstrapMethods": _bootstrap_methods,
    b"MethodParameters": _method_parameters, b"Module": _module,
    b"LineNumberTable": _nothing, b"SourceDebugExtension": _nothing, b"Deprecated": _nothing,
    b"Synthetic": _nothing,
}
assert set(_BODIES) | {b"Code", b"Record"} == KNOWN_ATTRIBUTE_NAMES


def _attributes(c: _Cursor, old_format: bool) -> None:
    pool = c.pool
    for _ in range(c.u2()):
        name_pos = c.pos
        c.cp()
        length = c.u4()
        c.need(length)
        name = pool.utf8(_U2.unpack_from(c.data, name_pos)[0], "attribute name")
        body = _Cursor(c.data, c.pos, c.pos + length, c.out, f"{c.where} {name.decode('latin-1')}", pool)
        if name == b"Code":
            _code(body, old_format)
        elif name == b"Record":
            _record(body, old_format)
        else:
            fn = _BODIES.get(name)
            if fn is None:
                raise UnknownAttributeError(f"unknown attribute {name.decode('latin-1')!r} in {c.where}")
            fn(body)
        body.done()
        c.pos += length


def cp_locations(data: bytes) -> tuple[ConstantPool, int, list[Location]]:
    """The pool of class file ``data``, the offset where the pool ends and every constant-pool index after it
    (``(offset, width)``, in file order). Raises :class:`ClassFormatError` on malformed data and
    :class:`UnknownAttributeError` on an attribute the remapper does not know."""
    if len(data) < 10 or data[:4] != b"\xca\xfe\xba\xbe":
        raise ClassFormatError("not a class file", 0)
    minor, major = struct.unpack_from(">HH", data, 4)
    old = major == 45 and minor < 3
    pool, pool_end = read_constant_pool(data, 8)
    out: list[Location] = []
    c = _Cursor(data, pool_end, len(data), out, "class", pool)
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
            _attributes(c, old)
    c.where = "class"
    _attributes(c, old)
    c.done()
    return pool, pool_end, out


def _read(data: bytes, loc: Location) -> int:
    pos, width = loc
    return data[pos] if width == 1 else data[pos] << 8 | data[pos + 1]


# ----------------------------------------------------------------------------------------- renumbering

def _renumber_bytes(data: bytes, order: list[int]) -> bytes:
    pool, pool_end, locations = cp_locations(data)
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


def _canonical_order_bytes(data: bytes) -> list[int]:
    pool, _, locations = cp_locations(data)
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
    order = _canonical_order_bytes(data)
    if order == [i for i, _ in cf.constant_pool]:
        return cf
    return read_class(_renumber_bytes(data, order), deep=True)
