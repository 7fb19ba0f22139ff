"""The one shared layout of the attributes of JVMS 4.7: where every constant-pool index sits inside them.

:class:`IndexCursor` is a bounds-checked reader over an attribute's info bytes that records the position and
width of every constant-pool index it passes; :data:`ATTRIBUTE_LAYOUTS` maps the name of every attribute of
:data:`~canonjar.classfile.KNOWN_ATTRIBUTES` but Code and Record (which nest attributes: :func:`walk_code`,
:func:`walk_record`) to the function that walks its body; :func:`walk_attributes` walks an attributes table
(``attributes_count`` and the attributes) and refuses an attribute it does not know with
:class:`UnknownAttributeError`. The constant-pool remapper (:mod:`canonjar.classfile.remap`) and the symbolic
disassembly (:mod:`canonjar.classfile.disasm`) both read attributes through this module, so there is one place
that knows the layouts.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

from ..errors import CanonjarError
from .attributes import KNOWN_ATTRIBUTE_NAMES
from .bytecode import cp_references
from .constants import ConstantPool
from .errors import ClassFormatError

__all__ = [
    "ATTRIBUTE_LAYOUTS",
    "IndexCursor",
    "Location",
    "RemapError",
    "UnknownAttributeError",
    "walk_attributes",
    "walk_code",
    "walk_record",
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


class IndexCursor:
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

def _element_value(c: IndexCursor) -> None:
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


def _annotation(c: IndexCursor) -> None:
    c.cp()  # type_index
    for _ in range(c.u2()):
        c.cp()  # element_name_index
        _element_value(c)


def _annotations(c: IndexCursor) -> None:
    for _ in range(c.u2()):
        _annotation(c)


def _parameter_annotations(c: IndexCursor) -> None:
    for _ in range(c.u1()):
        _annotations(c)


def _type_annotations(c: IndexCursor) -> None:
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


def _verification_types(c: IndexCursor, count: int) -> None:
    for _ in range(count):
        tag = c.u1()
        if tag == 7:  # Object_variable_info
            c.cp()
        elif tag == 8:  # Uninitialized_variable_info: an offset
            c.skip(2)
        elif tag > 8:
            raise ClassFormatError(f"{c.where}: bad verification type tag {tag}", c.pos - 1)


def _stack_map_table(c: IndexCursor) -> None:
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


def _local_variables(c: IndexCursor) -> None:
    for _ in range(c.u2()):
        c.skip(4)  # start_pc, length
        c.cp()  # name_index
        c.cp()  # descriptor_index / signature_index
        c.skip(2)  # index


def walk_code(c: IndexCursor, old_format: bool) -> None:
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
    walk_attributes(c, old_format)


def _inner_classes(c: IndexCursor) -> None:
    for _ in range(c.u2()):
        c.cp()  # inner_class_info
        c.cp()  # outer_class_info (0: none)
        c.cp()  # inner_name (0: anonymous)
        c.skip(2)


def _bootstrap_methods(c: IndexCursor) -> None:
    for _ in range(c.u2()):
        c.cp()  # bootstrap_method_ref
        c.cps()  # bootstrap_arguments


def _method_parameters(c: IndexCursor) -> None:
    for _ in range(c.u1()):
        c.cp()  # name_index (0: no name)
        c.skip(2)


def _module(c: IndexCursor) -> None:
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


def walk_record(c: IndexCursor, old_format: bool) -> None:
    for _ in range(c.u2()):
        c.cp()  # name
        c.cp()  # descriptor
        walk_attributes(c, old_format)


def _single(c: IndexCursor) -> None:
    c.cp()


def _enclosing_method(c: IndexCursor) -> None:
    c.cp()  # class_index
    c.cp()  # method_index (0: not in a method)


def _nothing(c: IndexCursor) -> None:
    c.pos = c.end


ATTRIBUTE_LAYOUTS: dict[bytes, Callable[[IndexCursor], None]] = {
    b"ConstantValue": _single, b"Signature": _single, b"SourceFile": _single, b"ModuleMainClass": _single,
    b"NestHost": _single, b"Exceptions": IndexCursor.cps, b"ModulePackages": IndexCursor.cps,
    b"NestMembers": IndexCursor.cps, b"PermittedSubclasses": IndexCursor.cps, b"StackMapTable": _stack_map_table,
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
assert set(ATTRIBUTE_LAYOUTS) | {b"Code", b"Record"} == KNOWN_ATTRIBUTE_NAMES


def walk_attributes(c: IndexCursor, old_format: bool) -> None:
    pool = c.pool
    for _ in range(c.u2()):
        name_pos = c.pos
        c.cp()
        length = c.u4()
        c.need(length)
        name = pool.utf8(_U2.unpack_from(c.data, name_pos)[0], "attribute name")
        body = IndexCursor(c.data, c.pos, c.pos + length, c.out, f"{c.where} {name.decode('latin-1')}", pool)
        if name == b"Code":
            walk_code(body, old_format)
        elif name == b"Record":
            walk_record(body, old_format)
        else:
            fn = ATTRIBUTE_LAYOUTS.get(name)
            if fn is None:
                raise UnknownAttributeError(f"unknown attribute {name.decode('latin-1')!r} in {c.where}")
            fn(body)
        body.done()
        c.pos += length
