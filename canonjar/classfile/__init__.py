"""Byte-exact class-file codec: ``write_class(read_class(b)) == b`` for every class file it accepts.

Constants and attributes are kept as raw bytes; typed views cover the class header, fields and methods,
attributes as (name index, info), the Code attribute (:func:`parse_code`), its instructions
(:func:`iter_instructions`), BootstrapMethods and Record. Every malformed input raises
:class:`ClassFormatError`. :data:`KNOWN_ATTRIBUTES` lists the attributes the codec knows.
"""

from __future__ import annotations

from .attributes import (
    KNOWN_ATTRIBUTE_NAMES,
    KNOWN_ATTRIBUTES,
    Attribute,
    BootstrapMethod,
    Code,
    ExceptionHandler,
    RecordComponent,
    find_attribute,
    parse_bootstrap_methods,
    parse_code,
    parse_record,
    read_attributes,
    write_attributes,
    write_bootstrap_methods,
    write_record,
)
from .bytecode import CP_INDEX_WIDTH, CP_OPERAND_TAGS, OPCODE_NAMES, Instruction, cp_references, iter_instructions
from .codec import MAGIC, MAX_KNOWN_MAJOR, ClassFile, Member, read_class, unknown_attributes_of, write_class
from .constants import CONSTANT_NAMES, LOADABLE_TAGS, Constant, ConstantPool, read_constant_pool
from .errors import ClassFormatError
from .mutf8 import decode_mutf8, display_mutf8, encode_mutf8

__all__ = [
    "CONSTANT_NAMES",
    "CP_INDEX_WIDTH",
    "CP_OPERAND_TAGS",
    "KNOWN_ATTRIBUTES",
    "KNOWN_ATTRIBUTE_NAMES",
    "LOADABLE_TAGS",
    "MAGIC",
    "MAX_KNOWN_MAJOR",
    "OPCODE_NAMES",
    "Attribute",
    "BootstrapMethod",
    "ClassFile",
    "ClassFormatError",
    "Code",
    "Constant",
    "ConstantPool",
    "ExceptionHandler",
    "Instruction",
    "Member",
    "RecordComponent",
    "cp_references",
    "decode_mutf8",
    "display_mutf8",
    "encode_mutf8",
    "find_attribute",
    "iter_instructions",
    "parse_bootstrap_methods",
    "parse_code",
    "parse_record",
    "read_attributes",
    "read_class",
    "read_constant_pool",
    "unknown_attributes_of",
    "write_attributes",
    "write_bootstrap_methods",
    "write_class",
    "write_record",
]
