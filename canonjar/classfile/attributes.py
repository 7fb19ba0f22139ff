"""Attributes: kept as (name index, raw info bytes), with parsed views of Code, BootstrapMethods and Record.

The codec KNOWS the attributes of :data:`KNOWN_ATTRIBUTES` (every attribute of Java SE 25, JVMS 4.7): a later
constant-pool remapper knows where their constant-pool indices are and must refuse a class carrying any other
attribute (see :func:`canonjar.classfile.codec.ClassFile.unknown_attributes`), since it cannot know whether
such an attribute's bytes hold indices.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

from .bytecode import Instruction, iter_instructions
from .constants import LOADABLE_TAGS, TAG_CLASS, TAG_METHOD_HANDLE, TAG_UTF8, ConstantPool
from .errors import ClassFormatError

__all__ = [
    "KNOWN_ATTRIBUTES",
    "KNOWN_ATTRIBUTE_NAMES",
    "Attribute",
    "BootstrapMethod",
    "Code",
    "ExceptionHandler",
    "RecordComponent",
    "find_attribute",
    "parse_bootstrap_methods",
    "parse_code",
    "parse_record",
    "read_attributes",
    "write_attributes",
    "write_bootstrap_methods",
    "write_record",
]

#: Every attribute the codec knows (JVMS 4.7, Java SE 25).
KNOWN_ATTRIBUTES: frozenset[str] = frozenset({
    "ConstantValue", "Code", "StackMapTable", "Exceptions", "InnerClasses", "EnclosingMethod", "Synthetic",
    "Signature", "SourceFile", "SourceDebugExtension", "LineNumberTable", "LocalVariableTable",
    "LocalVariableTypeTable", "Deprecated", "RuntimeVisibleAnnotations", "RuntimeInvisibleAnnotations",
    "RuntimeVisibleParameterAnnotations", "RuntimeInvisibleParameterAnnotations", "RuntimeVisibleTypeAnnotations",
    "RuntimeInvisibleTypeAnnotations", "AnnotationDefault", "BootstrapMethods", "MethodParameters", "Module",
    "ModulePackages", "ModuleMainClass", "NestHost", "NestMembers", "Record", "PermittedSubclasses",
})
#: :data:`KNOWN_ATTRIBUTES` as the raw bytes of their names (all ASCII) as they appear in Utf8 constants.
KNOWN_ATTRIBUTE_NAMES: frozenset[bytes] = frozenset(n.encode("ascii") for n in KNOWN_ATTRIBUTES)

_U2 = struct.Struct(">H")
_ATTR_HEADER = struct.Struct(">HI")
_CODE_HEADER = struct.Struct(">HHI")
_CODE_HEADER_OLD = struct.Struct(">BBH")  # class files 45.0-45.2 (JDK 1.0.2), as the JVM still reads them
_HANDLER = struct.Struct(">HHHH")


class Attribute(NamedTuple):
    """One attribute: the index of its name (a Utf8 constant) and its info bytes, untouched."""

    name_index: int
    info: bytes

    def to_bytes(self) -> bytes:
        return _ATTR_HEADER.pack(self.name_index, len(self.info)) + self.info


def read_attributes(data: bytes, pos: int, end: int, pool: ConstantPool | None,
                    where: str) -> tuple[list[Attribute], int]:
    """Parse ``attributes_count`` and the attributes in ``data[pos:end]``; returns them and the offset after.

    With a ``pool``, every name index must be a Utf8 constant."""
    if pos + 2 > end:
        raise ClassFormatError(f"{where}: truncated before attributes_count", pos)
    count = data[pos] << 8 | data[pos + 1]
    pos += 2
    if count * 6 > end - pos:
        raise ClassFormatError(f"{where}: attributes_count {count} is larger than the bytes left allow", pos - 2)
    attrs: list[Attribute] = []
    entries = pool.entries if pool is not None else None
    npool = len(entries) if entries is not None else 0
    for _ in range(count):
        if pos + 6 > end:
            raise ClassFormatError(f"{where}: truncated in an attribute header", pos)
        name_index, length = _ATTR_HEADER.unpack_from(data, pos)
        if entries is not None:
            c = entries[name_index] if name_index < npool else None
            if c is None or c.tag != TAG_UTF8:
                raise ClassFormatError(f"{where}: attribute name index {name_index} is not a Utf8 constant", pos)
        pos += 6
        if length > end - pos:
            raise ClassFormatError(f"{where}: attribute length {length} is larger than the bytes left", pos - 4)
        attrs.append(Attribute(name_index, data[pos:pos + length]))
        pos += length
    return attrs, pos


def write_attributes(attrs: list[Attribute]) -> bytes:
    """``attributes_count`` and the attributes, as in a class file."""
    try:
        parts = [_U2.pack(len(attrs))]
        for a in attrs:
            parts.append(_ATTR_HEADER.pack(a.name_index, len(a.info)))
            parts.append(a.info)
    except struct.error as exc:
        raise ClassFormatError(f"cannot write attributes: {exc}") from None
    return b"".join(parts)


def find_attribute(attrs: list[Attribute], pool: ConstantPool, name: str | bytes) -> Attribute | None:
    """The first attribute of ``attrs`` called ``name``, or None."""
    want = name.encode("ascii") if isinstance(name, str) else name
    for a in attrs:
        if pool.utf8(a.name_index, "attribute name") == want:
            return a
    return None


class ExceptionHandler(NamedTuple):
    """One entry of a Code attribute's exception table (``catch_type`` 0 catches everything)."""

    start_pc: int
    end_pc: int
    handler_pc: int
    catch_type: int


@dataclass(slots=True)
class Code:
    """Parsed view of a Code attribute (JVMS 4.7.3). ``to_bytes()`` gives the info bytes back exactly."""

    max_stack: int
    max_locals: int
    code: bytes
    exception_table: list[ExceptionHandler] = field(default_factory=list)
    attributes: list[Attribute] = field(default_factory=list)
    #: The u1/u1/u2 header of class files 45.0-45.2 instead of u2/u2/u4.
    old_format: bool = False

    def instructions(self) -> Iterator[Instruction]:
        """The decoded instructions of :attr:`code` (see :func:`canonjar.classfile.bytecode.iter_instructions`)."""
        return iter_instructions(self.code)

    def to_bytes(self) -> bytes:
        try:
            head = (_CODE_HEADER_OLD if self.old_format else _CODE_HEADER).pack(
                self.max_stack, self.max_locals, len(self.code))
            table = [_U2.pack(len(self.exception_table))]
            table += [_HANDLER.pack(*h) for h in self.exception_table]
        except struct.error as exc:
            raise ClassFormatError(f"cannot write Code attribute: {exc}") from None
        return b"".join([head, self.code, *table, write_attributes(self.attributes)])


def parse_code(info: bytes, pool: ConstantPool | None = None, old_format: bool = False) -> Code:
    """Parse the info bytes of a Code attribute. With a ``pool``, catch types and nested attribute names are
    checked. ``old_format`` reads the header of class files 45.0-45.2 (see :meth:`ClassFile.is_old_code_format`).
    The bytecode itself is not decoded here (see :meth:`Code.instructions`)."""
    n = len(info)
    head = _CODE_HEADER_OLD if old_format else _CODE_HEADER
    if n < head.size:
        raise ClassFormatError("Code: truncated header", 0)
    max_stack, max_locals, code_length = head.unpack_from(info, 0)
    pos = head.size
    if code_length == 0 or code_length > 0xFFFF:
        raise ClassFormatError(f"Code: code_length {code_length} is not in 1..65535", pos - 4)
    if code_length > n - pos:
        raise ClassFormatError(f"Code: code_length {code_length} is larger than the bytes left", pos - 4)
    code = info[pos:pos + code_length]
    pos += code_length
    if pos + 2 > n:
        raise ClassFormatError("Code: truncated before exception_table_length", pos)
    count = info[pos] << 8 | info[pos + 1]
    pos += 2
    if count * 8 > n - pos:
        raise ClassFormatError(f"Code: exception_table_length {count} is larger than the bytes left", pos - 2)
    table = [ExceptionHandler(*_HANDLER.unpack_from(info, pos + 8 * k)) for k in range(count)]
    pos += 8 * count
    if pool is not None:
        for h in table:
            if h.catch_type:
                pool.get(h.catch_type, TAG_CLASS, "Code: exception catch_type")
    attrs, pos = read_attributes(info, pos, n, pool, "Code")
    if pos != n:
        raise ClassFormatError(f"Code: {n - pos} bytes after the nested attributes", pos)
    return Code(max_stack, max_locals, code, table, attrs, old_format)


class BootstrapMethod(NamedTuple):
    """One entry of the BootstrapMethods attribute: a MethodHandle index and its static argument indices."""

    method_ref: int
    arguments: tuple[int, ...]


def parse_bootstrap_methods(info: bytes, pool: ConstantPool | None = None) -> list[BootstrapMethod]:
    """Parse the info bytes of a BootstrapMethods attribute (JVMS 4.7.23). With a ``pool``, every method
    reference must be a MethodHandle and every argument a loadable constant."""
    n = len(info)
    if n < 2:
        raise ClassFormatError("BootstrapMethods: truncated", 0)
    count = info[0] << 8 | info[1]
    pos = 2
    if count * 4 > n - pos:
        raise ClassFormatError(f"BootstrapMethods: {count} methods is more than the bytes left allow", 0)
    out: list[BootstrapMethod] = []
    for k in range(count):
        if pos + 4 > n:
            raise ClassFormatError(f"BootstrapMethods: truncated in method {k}", pos)
        ref = info[pos] << 8 | info[pos + 1]
        nargs = info[pos + 2] << 8 | info[pos + 3]
        pos += 4
        if 2 * nargs > n - pos:
            raise ClassFormatError(f"BootstrapMethods: method {k} has {nargs} arguments, more than the bytes left",
                                   pos - 2)
        args = struct.unpack_from(f">{nargs}H", info, pos)
        pos += 2 * nargs
        if pool is not None:
            pool.get(ref, TAG_METHOD_HANDLE, f"BootstrapMethods: method {k}")
            for a in args:
                pool.get(a, LOADABLE_TAGS, f"BootstrapMethods: argument of method {k}")
        out.append(BootstrapMethod(ref, args))
    if pos != n:
        raise ClassFormatError(f"BootstrapMethods: {n - pos} trailing bytes", pos)
    return out


def write_bootstrap_methods(methods: list[BootstrapMethod]) -> bytes:
    """The info bytes of a BootstrapMethods attribute."""
    try:
        parts = [_U2.pack(len(methods))]
        for m in methods:
            parts.append(struct.pack(f">HH{len(m.arguments)}H", m.method_ref, len(m.arguments), *m.arguments))
    except struct.error as exc:
        raise ClassFormatError(f"cannot write BootstrapMethods: {exc}") from None
    return b"".join(parts)


class RecordComponent(NamedTuple):
    """One component of a Record attribute (JVMS 4.7.30); it has attributes of its own."""

    name_index: int
    descriptor_index: int
    attributes: list[Attribute]


def parse_record(info: bytes, pool: ConstantPool | None = None) -> list[RecordComponent]:
    """Parse the info bytes of a Record attribute."""
    n = len(info)
    if n < 2:
        raise ClassFormatError("Record: truncated", 0)
    count = info[0] << 8 | info[1]
    pos = 2
    if count * 6 > n - pos:
        raise ClassFormatError(f"Record: {count} components is more than the bytes left allow", 0)
    out: list[RecordComponent] = []
    for k in range(count):
        if pos + 4 > n:
            raise ClassFormatError(f"Record: truncated in component {k}", pos)
        name, desc = struct.unpack_from(">HH", info, pos)
        if pool is not None:
            pool.get(name, TAG_UTF8, f"Record: name of component {k}")
            pool.get(desc, TAG_UTF8, f"Record: descriptor of component {k}")
        attrs, pos = read_attributes(info, pos + 4, n, pool, f"Record component {k}")
        out.append(RecordComponent(name, desc, attrs))
    if pos != n:
        raise ClassFormatError(f"Record: {n - pos} trailing bytes", pos)
    return out


def write_record(components: list[RecordComponent]) -> bytes:
    """The info bytes of a Record attribute."""
    try:
        parts = [_U2.pack(len(components))]
        for c in components:
            parts.append(struct.pack(">HH", c.name_index, c.descriptor_index))
            parts.append(write_attributes(c.attributes))
    except struct.error as exc:
        raise ClassFormatError(f"cannot write Record: {exc}") from None
    return b"".join(parts)

