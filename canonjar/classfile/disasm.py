"""A javap-like, constant-pool-independent disassembly of a parsed class file (no JDK needed).

:func:`view_class` turns a :class:`~canonjar.classfile.ClassFile` into a :class:`ClassView`: the class header,
the class attributes, every field and method with its attributes and, for methods, the instructions. Every
constant-pool operand is shown *symbolically* (``invokevirtual Method java/io/PrintStream.println:(I)V``), so
two classes whose pools hold the same constants in another order give the same lines; branch targets and
exception ranges are labels (``L3``), so an instruction inserted before a label does not renumber the rest.
``ldc_w`` is shown as ``ldc`` and ``wide`` is left out when it is only an encoding of the same operation.

Debug information (LineNumberTable, LocalVariableTable, LocalVariableTypeTable, SourceFile,
SourceDebugExtension, and MethodParameters, which ``-parameters`` adds) is kept apart in ``debug`` lines, and
annotations in ``annotations`` lines, so that :mod:`canonjar.classfile.classdiff` can tell a debug-only
difference from a code difference. :func:`disassemble` renders the whole view as text.

The rendering is exact enough to compare: numbers are shown with their exact value (NaN payloads included),
strings are quoted and escaped when they are not plain printable text, and the attributes the view does not
render in detail are shown as their bytes with every constant-pool index replaced by the constant it names.
"""

from __future__ import annotations

import hashlib
import math
import struct
from dataclasses import dataclass, field

from .attributes import Attribute, Code, parse_bootstrap_methods, parse_code
from .bytecode import OPCODE_NAMES, Instruction, iter_instructions
from .codec import ClassFile, Member
from .constants import (
    TAG_CLASS,
    TAG_DOUBLE,
    TAG_DYNAMIC,
    TAG_FIELDREF,
    TAG_FLOAT,
    TAG_INTEGER,
    TAG_INTERFACE_METHODREF,
    TAG_INVOKE_DYNAMIC,
    TAG_LONG,
    TAG_METHOD_HANDLE,
    TAG_METHOD_TYPE,
    TAG_METHODREF,
    TAG_MODULE,
    TAG_NAME_AND_TYPE,
    TAG_PACKAGE,
    TAG_STRING,
    TAG_UTF8,
    ConstantPool,
)
from .errors import ClassFormatError
from .layout import ATTRIBUTE_LAYOUTS, IndexCursor, walk_record
from .mutf8 import decode_mutf8

__all__ = [
    "DEBUG_ATTRIBUTES",
    "ClassView",
    "MemberView",
    "Symbols",
    "disassemble",
    "flags_text",
    "java_version",
    "view_class",
]

#: Attributes that only carry debug information (``javac -g``, ``-parameters``, JSR-45 SMAP).
DEBUG_ATTRIBUTES: frozenset[str] = frozenset({
    "LineNumberTable", "LocalVariableTable", "LocalVariableTypeTable", "SourceFile", "SourceDebugExtension",
    "MethodParameters",
})
_ANNOTATION_ATTRIBUTES = frozenset({
    "RuntimeVisibleAnnotations", "RuntimeInvisibleAnnotations", "RuntimeVisibleParameterAnnotations",
    "RuntimeInvisibleParameterAnnotations", "RuntimeVisibleTypeAnnotations", "RuntimeInvisibleTypeAnnotations",
    "AnnotationDefault",
})
_MAX_ATTR_TEXT = 240  # longer generic attribute renderings are cut and end with a digest of the whole
_MAX_CONST = 400  # likewise for a constant (bootstrap arguments nest constants in constants)
_MAX_DEPTH = 24  # nesting of constants through bootstrap arguments that is rendered

_CLASS_FLAGS = ((0x0001, "public"), (0x0010, "final"), (0x0020, "super"), (0x0200, "interface"),
                (0x0400, "abstract"), (0x1000, "synthetic"), (0x2000, "annotation"), (0x4000, "enum"),
                (0x8000, "module"))
_FIELD_FLAGS = ((0x0001, "public"), (0x0002, "private"), (0x0004, "protected"), (0x0008, "static"),
                (0x0010, "final"), (0x0040, "volatile"), (0x0080, "transient"), (0x1000, "synthetic"),
                (0x4000, "enum"))
_METHOD_FLAGS = ((0x0001, "public"), (0x0002, "private"), (0x0004, "protected"), (0x0008, "static"),
                 (0x0010, "final"), (0x0020, "synchronized"), (0x0040, "bridge"), (0x0080, "varargs"),
                 (0x0100, "native"), (0x0400, "abstract"), (0x0800, "strict"), (0x1000, "synthetic"))
_FLAG_TABLES = {"class": _CLASS_FLAGS, "field": _FIELD_FLAGS, "method": _METHOD_FLAGS}
_HANDLE_KINDS = {1: "getField", 2: "getStatic", 3: "putField", 4: "putStatic", 5: "invokeVirtual",
                 6: "invokeStatic", 7: "invokeSpecial", 8: "newInvokeSpecial", 9: "invokeInterface"}


def flags_text(flags: int, kind: str) -> str:
    """Access flags as words (``public static``); bits without a name for ``kind`` as ``0x...``."""
    table = _FLAG_TABLES[kind]
    words = [name for bit, name in table if flags & bit]
    rest = flags & ~sum(bit for bit, _ in table)
    if rest:
        words.append(f"0x{rest:04x}")
    return " ".join(words) if words else "-"


def java_version(major: int) -> str:
    """The Java release of a class-file major version (``52`` -> ``Java 8``)."""
    if major >= 49:
        return f"Java {major - 44}"
    return {45: "Java 1.1", 46: "Java 1.2", 47: "Java 1.3", 48: "Java 1.4"}.get(major, f"major {major}")


def _plain(raw: bytes) -> str:
    """Text of a name: itself when it is printable without backslashes, else an escaped, quoted form."""
    try:
        text = decode_mutf8(raw)
    except ClassFormatError:
        return "b'" + raw.hex() + "'"
    if text.isprintable() and "\\" not in text and not text.startswith(("'", "b'")):
        return text
    return repr(text)


def _quoted(raw: bytes) -> str:
    """A string constant, quoted and escaped (injective: equal texts mean equal bytes)."""
    try:
        text = decode_mutf8(raw)
    except ClassFormatError:
        return "b'" + raw.hex() + "'"
    if text.isprintable():
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return repr(text)


class Symbols:
    """Symbolic rendering of constant-pool entries (cached per index)."""

    __slots__ = ("_bsm_args", "_bsms", "_busy", "_cache", "_classes", "_names", "pool", "used")

    def __init__(self, cf: ClassFile) -> None:
        self.pool: ConstantPool = cf.constant_pool
        self._cache: dict[int, str] = {}
        self._names: dict[int, str] = {}
        self._classes: dict[int, str] = {}
        self._bsm_args: dict[int, str] = {}
        self._busy: set[int] = set()
        #: Every pool index rendered so far (directly or through another constant).
        self.used: set[int] = set()
        try:
            self._bsms = cf.bootstrap_methods() or []
        except ClassFormatError:
            self._bsms = []

    def name(self, index: int) -> str:
        """A Utf8 constant as a name (unquoted when plain)."""
        hit = self._names.get(index)
        if hit is not None:
            return hit
        if index == 0:
            return "-"
        self.used.add(index)
        try:
            hit = _plain(self.pool.utf8(index))
        except ClassFormatError:
            return f"<bad #{index}>"
        self._names[index] = hit
        return hit

    def class_name(self, index: int) -> str:
        """A Class constant as the class's internal name."""
        hit = self._classes.get(index)
        if hit is not None:
            return hit
        hit = self._class_name(index)
        self._classes[index] = hit
        return hit

    def _class_name(self, index: int) -> str:
        if index == 0:
            return "-"
        self.used.add(index)
        try:
            c = self.pool[index]
            if c.tag == TAG_CLASS:
                self.used.add(c.fields[0])
            return _plain(self.pool.class_name(index))
        except ClassFormatError:
            return f"<bad #{index}>"

    def const(self, index: int, depth: int = 0) -> str:
        """The constant at ``index`` with its kind and references resolved (cached; a rendering longer than
        :data:`_MAX_CONST` is cut and ends with a digest of the whole, so nesting cannot blow up)."""
        hit = self._cache.get(index)
        if hit is not None:
            return hit
        if index in self._busy or depth > _MAX_DEPTH:
            return "<...>"  # a cycle (invalid) or absurd nesting through bootstrap arguments
        self._busy.add(index)
        try:
            hit = _cap(self._render(index, depth))
        finally:
            self._busy.discard(index)
        self._cache[index] = hit
        return hit

    def _render(self, index: int, depth: int) -> str:
        if index == 0:
            return "-"
        self.used.add(index)
        try:
            c = self.pool[index]
        except ClassFormatError:
            return f"<bad #{index}>"
        tag, f = c.tag, (c.fields if c.tag != TAG_UTF8 else ())
        if tag == TAG_UTF8:
            return _quoted(c.raw[3:])
        if tag == TAG_INTEGER:
            return f"int {f[0]}"
        if tag == TAG_LONG:
            return f"long {f[0]}"
        if tag in (TAG_FLOAT, TAG_DOUBLE):
            value = struct.unpack(">f" if tag == TAG_FLOAT else ">d", c.raw[1:])[0]
            kind = "float" if tag == TAG_FLOAT else "double"
            return f"{kind} {value!r}" + (f" (bits {c.raw[1:].hex()})" if math.isnan(value) else "")
        if tag in (TAG_CLASS, TAG_MODULE, TAG_PACKAGE):
            return {TAG_CLASS: "class ", TAG_MODULE: "module ", TAG_PACKAGE: "package "}[tag] + self.name(f[0])
        if tag == TAG_STRING:
            return "String " + self._utf8_quoted(f[0])
        if tag == TAG_METHOD_TYPE:
            return "MethodType " + self.name(f[0])
        if tag == TAG_NAME_AND_TYPE:
            return self.name(f[0]) + ":" + self.name(f[1])
        if tag in (TAG_FIELDREF, TAG_METHODREF, TAG_INTERFACE_METHODREF):
            kind = {TAG_FIELDREF: "Field", TAG_METHODREF: "Method", TAG_INTERFACE_METHODREF: "InterfaceMethod"}[tag]
            return f"{kind} {self.class_name(f[0])}.{self._nat(f[1])}"
        if tag == TAG_METHOD_HANDLE:
            ref = self.const(f[1], depth + 1)
            return f"MethodHandle {_HANDLE_KINDS.get(f[0], f[0])} {ref}"
        # Dynamic, InvokeDynamic: name and type, then the bootstrap method they use
        kind = "Dynamic" if tag == TAG_DYNAMIC else "InvokeDynamic"
        return f"{kind} {self._nat(f[1])} {self.bootstrap(f[0], depth + 1)}"

    def _utf8_quoted(self, index: int) -> str:
        self.used.add(index)
        try:
            return _quoted(self.pool.utf8(index))
        except ClassFormatError:
            return f"<bad #{index}>"

    def _nat(self, index: int) -> str:
        self.used.add(index)
        try:
            f = self.pool.get(index, TAG_NAME_AND_TYPE).fields
        except ClassFormatError:
            return f"<bad #{index}>"
        return self.name(f[0]) + ":" + self.name(f[1])

    def indy(self, index: int) -> str:
        """An InvokeDynamic constant in short form: name and type, bootstrap method owner and name, arguments
        (the bootstrap method's full descriptor is in the BootstrapMethods lines)."""
        try:
            c = self.pool.get(index, TAG_INVOKE_DYNAMIC)
        except ClassFormatError:
            return self.const(index)
        self.used.add(index)
        k, nat = c.fields
        if k >= len(self._bsms):
            return self.const(index)
        bsm = self._bsms[k]
        try:
            handle = self.pool.get(bsm.method_ref, TAG_METHOD_HANDLE).fields[1]
            owner_index, nat_index = self.pool[handle].fields
            self.used.update((bsm.method_ref, handle, nat_index))
            target = f"{self.class_name(owner_index)}.{self.name(self.pool[nat_index].fields[0])}"
        except (ClassFormatError, ValueError):
            target = self.const(bsm.method_ref)
        return f"{self._nat(nat)} bsm {target} [{self.bootstrap_arguments(k)}]"

    def bootstrap(self, k: int, depth: int = 0) -> str:
        """Bootstrap method ``k`` of the BootstrapMethods attribute: its handle and static arguments."""
        if k >= len(self._bsms):
            return f"bsm <#{k}>"
        return f"bsm {self.const(self._bsms[k].method_ref, depth + 1)} [{self.bootstrap_arguments(k, depth)}]"

    def bootstrap_arguments(self, k: int, depth: int = 0) -> str:
        """The static arguments of bootstrap method ``k``, rendered (cached, capped like constants)."""
        hit = self._bsm_args.get(k)
        if hit is None:
            hit = _cap(", ".join(self.const(a, depth + 1) for a in self._bsms[k].arguments))
            self._bsm_args[k] = hit
        return hit


def _cap(text: str) -> str:
    if len(text) <= _MAX_CONST:
        return text
    digest = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()
    return f"{text[:_MAX_CONST]}... ({len(text)} chars, digest {digest})"


@dataclass
class MemberView:
    """One field or method: its declaration, attributes, annotations, code and debug lines."""

    kind: str
    key: str
    decl: str
    attributes: list[str] = field(default_factory=list)
    annotations: list[str] = field(default_factory=list)
    code: list[str] = field(default_factory=list)
    debug: list[str] = field(default_factory=list)
    attribute_names: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.key.split(" ", 1)[0]

    def lines(self, debug: bool = True) -> list[str]:
        """The member as indented disassembly lines."""
        out = [f"{self.kind} {self.decl}"]
        out += ["  " + x for x in self.annotations + self.attributes + self.code]
        if debug:
            out += ["  " + x for x in self.debug]
        return out


@dataclass
class ClassView:
    """The symbolic view of one class (see the module documentation)."""

    name: str
    major: int
    minor: int
    header: list[str] = field(default_factory=list)
    attributes: list[str] = field(default_factory=list)
    annotations: list[str] = field(default_factory=list)
    debug: list[str] = field(default_factory=list)
    attribute_names: tuple[str, ...] = ()
    fields: list[MemberView] = field(default_factory=list)
    methods: list[MemberView] = field(default_factory=list)
    #: Constants no part of the class refers to (sorted), or None when they could not be found.
    unreferenced: list[str] | None = None
    #: Attributes the view could not render symbolically (unknown to the codec), as ``where: name``.
    unknown: list[str] = field(default_factory=list)


# ------------------------------------------------------------------------------------------------ rendering

def _generic(name: str, info: bytes, sym: Symbols, old_format: bool) -> str:
    """``name: ...`` with the info bytes in hex and every constant-pool index replaced by its constant."""
    out: list[tuple[int, int]] = []
    cursor = IndexCursor(info, 0, len(info), out, name, sym.pool)
    try:
        if name == "Record":
            walk_record(cursor, old_format)
        else:
            ATTRIBUTE_LAYOUTS[name.encode("ascii")](cursor)
        cursor.done()
    except (ClassFormatError, KeyError, UnicodeEncodeError):
        out = []
    parts: list[str] = []
    pos = 0
    for at, width in out:
        if at > pos:
            parts.append(info[pos:at].hex())
        index = info[at] if width == 1 else info[at] << 8 | info[at + 1]
        parts.append("{" + sym.const(index) + "}")
        pos = at + width
    if pos < len(info):
        parts.append(info[pos:].hex())
    text = f"{name}: " + " ".join(parts)
    if len(text) > _MAX_ATTR_TEXT:
        digest = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()
        text = text[:_MAX_ATTR_TEXT] + f"... ({len(info)} bytes, digest {digest})"
    return text


class _Reader:
    """Minimal bounds-checked reader for the annotation structures."""

    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def u1(self) -> int:
        if self.pos + 1 > len(self.data):
            raise ClassFormatError("annotation: truncated", self.pos)
        self.pos += 1
        return self.data[self.pos - 1]

    def u2(self) -> int:
        if self.pos + 2 > len(self.data):
            raise ClassFormatError("annotation: truncated", self.pos)
        self.pos += 2
        return self.data[self.pos - 2] << 8 | self.data[self.pos - 1]


def _element(r: _Reader, sym: Symbols, depth: int) -> str:
    if depth > 32:
        raise ClassFormatError("annotation nested too deep")
    tag = chr(r.u1())
    if tag in "BCDFIJSZ":
        return sym.const(r.u2())
    if tag == "s":
        return sym.const(r.u2())
    if tag == "e":
        t = sym.name(r.u2())
        return f"{t}.{sym.name(r.u2())}"
    if tag == "c":
        return f"{sym.name(r.u2())}.class"
    if tag == "@":
        return _annotation(r, sym, depth + 1)
    if tag == "[":
        return "{" + ", ".join(_element(r, sym, depth + 1) for _ in range(r.u2())) + "}"
    raise ClassFormatError(f"annotation: bad element_value tag {tag!r}")


def _annotation(r: _Reader, sym: Symbols, depth: int = 0) -> str:
    type_name = sym.name(r.u2())
    pairs = [f"{sym.name(r.u2())}={_element(r, sym, depth)}" for _ in range(r.u2())]
    return f"@{type_name}(" + ", ".join(pairs) + ")"


def _annotation_lines(name: str, info: bytes, sym: Symbols, old_format: bool) -> list[str]:
    """One line per annotation (per parameter for parameter annotations)."""
    r = _Reader(info)
    try:
        if name in ("RuntimeVisibleAnnotations", "RuntimeInvisibleAnnotations"):
            lines = [f"{name}: {_annotation(r, sym)}" for _ in range(r.u2())]
        elif name.endswith("ParameterAnnotations"):
            lines = []
            for p in range(r.u1()):
                lines += [f"{name}: parameter {p}: {_annotation(r, sym)}" for _ in range(r.u2())]
        elif name == "AnnotationDefault":
            lines = [f"{name}: {_element(r, sym, 0)}"]
        else:
            return [_generic(name, info, sym, old_format)]
        if r.pos != len(info):
            raise ClassFormatError("annotation: trailing bytes")
        return lines
    except ClassFormatError:
        return [_generic(name, info, sym, old_format)]


def _u2_list(info: bytes) -> list[int]:
    if len(info) < 2:
        return []
    n = info[0] << 8 | info[1]
    return list(struct.unpack_from(f">{n}H", info, 2)) if len(info) == 2 + 2 * n else []


def _attribute_lines(name: str, info: bytes, sym: Symbols, old_format: bool) -> list[str]:
    """Lines of one attribute (not Code, not the debug attributes, not annotations)."""
    if name in ("Signature", "SourceFile", "ModuleMainClass") and len(info) == 2:
        index = info[0] << 8 | info[1]
        return [f"{name}: " + (sym.name(index) if name != "ModuleMainClass" else sym.class_name(index))]
    if name == "NestHost" and len(info) == 2:
        return [f"NestHost: {sym.class_name(info[0] << 8 | info[1])}"]
    if name == "ConstantValue" and len(info) == 2:
        return [f"ConstantValue: {sym.const(info[0] << 8 | info[1])}"]
    if name in ("Exceptions", "NestMembers", "PermittedSubclasses") and len(info) >= 2:
        items = _u2_list(info)
        if items or len(info) == 2:
            return [f"{name}: " + ", ".join(sym.class_name(i) for i in items)]
    if name == "InnerClasses" and len(info) >= 2:
        n = info[0] << 8 | info[1]
        if len(info) == 2 + 8 * n:
            out = []
            for k in range(n):
                inner, outer, iname, flags = struct.unpack_from(">HHHH", info, 2 + 8 * k)
                out.append(f"InnerClasses: {sym.class_name(inner)} of {sym.class_name(outer)} as "
                           f"{sym.name(iname)} [{flags_text(flags, 'class')}]")
            return out
    if name == "EnclosingMethod" and len(info) == 4:
        cls, meth = struct.unpack(">HH", info)
        return [f"EnclosingMethod: {sym.class_name(cls)} {sym.const(meth) if meth else '-'}"]
    if name == "BootstrapMethods":
        try:
            count = len(parse_bootstrap_methods(info))
        except ClassFormatError:
            return [_generic(name, info, sym, old_format)]
        # In instruction order the bootstrap methods are shown with each invokedynamic; here the set of them,
        # sorted, so that their order (which follows the pool's) is no difference.
        return sorted(f"BootstrapMethods: {sym.bootstrap(k)}" for k in range(count))
    return [_generic(name, info, sym, old_format)]


def _debug_lines(name: str, info: bytes, sym: Symbols) -> list[str]:
    """A summary line of one debug attribute."""
    if name == "LineNumberTable" and len(info) >= 2:
        n = info[0] << 8 | info[1]
        if len(info) == 2 + 4 * n:
            pairs = [struct.unpack_from(">HH", info, 2 + 4 * k) for k in range(n)]
            return [f"LineNumberTable: {n} entries: " + " ".join(f"line {ln}@{pc}" for pc, ln in pairs)]
    if name in ("LocalVariableTable", "LocalVariableTypeTable") and len(info) >= 2:
        n = info[0] << 8 | info[1]
        if len(info) == 2 + 10 * n:
            rows = []
            for k in range(n):
                pc, length, nm, desc, slot = struct.unpack_from(">HHHHH", info, 2 + 10 * k)
                rows.append(f"{sym.name(nm)} {sym.name(desc)} slot {slot} pc {pc}+{length}")
            return [f"{name}: {n} entries: " + ", ".join(rows)]
    if name == "SourceFile" and len(info) == 2:
        return [f"SourceFile: {sym.name(info[0] << 8 | info[1])}"]
    if name == "SourceDebugExtension":
        return [f"SourceDebugExtension: {_quoted(info)}"]
    return [_generic(name, info, sym, False)]


def _labels(insns: list[Instruction], code: Code) -> dict[int, str]:
    targets: set[int] = set()
    branches = _BRANCHES
    for insn in insns:
        if insn.opcode in branches:
            targets.update(insn.targets())
    for h in code.exception_table:
        targets.update((h.start_pc, h.end_pc, h.handler_pc))
    return {off: f"L{k}" for k, off in enumerate(sorted(targets))}


#: Opcodes that branch (their :meth:`Instruction.targets` is not empty): if*, goto, jsr, the switches.
_BRANCHES = frozenset({*range(0x99, 0xAC), 0xC6, 0xC7, 0xC8, 0xC9}) - {0xA9}
#: Opcodes whose one operand is a constant shown as such.
_CONST_OPS = frozenset({0x12, 0x13, 0x14, 0xB2, 0xB3, 0xB4, 0xB5, 0xB6, 0xB7, 0xB8, 0xB9, 0xBB, 0xBD, 0xC0, 0xC1})


def _insn_text(insn: Instruction, sym: Symbols, labels: dict[int, str]) -> str:
    op = insn.opcode
    ops = insn.operands
    if not ops:
        return OPCODE_NAMES[op]
    mnemonic = "ldc" if op == 0x13 else OPCODE_NAMES[op]
    if op in _CONST_OPS:
        return f"{mnemonic} {sym.const(ops[0])}"
    if op == 0xBA:
        return f"{mnemonic} {sym.indy(ops[0])}"
    if op == 0xC5:
        return f"{mnemonic} {sym.const(ops[0])} dim {ops[1]}"
    if op == 0xAA:  # tableswitch: default, low, high, offsets
        cases = ", ".join(f"{ops[1] + k}: {labels.get(insn.offset + o, o)}" for k, o in enumerate(ops[3:]))
        return f"{mnemonic} {{{cases}; default: {labels.get(insn.offset + ops[0], ops[0])}}}"
    if op == 0xAB:  # lookupswitch: default, npairs, match/offset pairs
        pairs = ops[2:]
        cases = ", ".join(f"{pairs[k]}: {labels.get(insn.offset + pairs[k + 1], pairs[k + 1])}"
                          for k in range(0, len(pairs), 2))
        return f"{mnemonic} {{{cases}; default: {labels.get(insn.offset + ops[0], ops[0])}}}"
    if op in _BRANCHES:
        target = insn.offset + ops[0]
        return f"{mnemonic} {labels.get(target, target)}"
    return f"{mnemonic} " + " ".join(str(o) for o in ops)


def code_lines(code: Code, sym: Symbols) -> list[str]:
    """``max_stack``/``max_locals``, the symbolic instructions and the exception table of a Code attribute."""
    insns = list(iter_instructions(code.code))
    labels = _labels(insns, code)
    out = [f"code: stack={code.max_stack} locals={code.max_locals}"]
    for insn in insns:
        label = labels.get(insn.offset)
        if label is not None:
            out.append(f"{label}:")
        out.append("  " + _insn_text(insn, sym, labels))
    end = labels.get(len(code.code))
    if end is not None:
        out.append(f"{end}:")
    for h in code.exception_table:
        catch = sym.class_name(h.catch_type) if h.catch_type else "any"
        out.append(f"try {labels.get(h.start_pc)}-{labels.get(h.end_pc)} -> {labels.get(h.handler_pc)} "
                   f"catch {catch}")
    return out


def _member_view(cf: ClassFile, m: Member, kind: str, sym: Symbols, unknown: list[str]) -> MemberView:
    name, desc = sym.name(m.name_index), sym.name(m.descriptor_index)
    key = f"{name} {desc}"
    view = MemberView(kind, key, f"{flags_text(m.access_flags, kind)} {name}{'' if kind == 'method' else ' '}"
                                 f"{desc}")
    names: list[str] = []
    old = cf.is_old_code_format
    for a in m.attributes:
        aname = sym.name(a.name_index)
        names.append(aname)
        _place(view, aname, a, sym, old, unknown, f"{kind} {key}")
    view.attribute_names = tuple(names)
    return view


def _place(view: MemberView | ClassView, aname: str, a: Attribute, sym: Symbols, old: bool, unknown: list[str],
           where: str) -> None:
    """Render attribute ``a`` into the right list of ``view``."""
    if aname == "Code" and isinstance(view, MemberView):
        try:
            code = parse_code(a.info, sym.pool, old)
            view.code += code_lines(code, sym)
        except ClassFormatError as exc:
            view.code.append(f"code: unreadable ({exc}); {len(a.info)} bytes, digest "
                             f"{hashlib.blake2b(a.info, digest_size=8).hexdigest()}")
            return
        for na in code.attributes:
            nname = sym.name(na.name_index)
            if nname in DEBUG_ATTRIBUTES:
                view.debug += _debug_lines(nname, na.info, sym)
            elif nname.encode("ascii", "replace") in _KNOWN:
                view.code += _attribute_lines(nname, na.info, sym, old)
            else:
                unknown.append(f"{where} Code: {nname}")
                view.code.append(_raw(nname, na.info))
        return
    if aname in DEBUG_ATTRIBUTES:
        view.debug += _debug_lines(aname, a.info, sym)
    elif aname in _ANNOTATION_ATTRIBUTES:
        view.annotations += _annotation_lines(aname, a.info, sym, old)
    elif aname.encode("ascii", "replace") in _KNOWN:
        view.attributes += _attribute_lines(aname, a.info, sym, old)
    else:
        unknown.append(f"{where}: {aname}")
        view.attributes.append(_raw(aname, a.info))


_KNOWN = frozenset(ATTRIBUTE_LAYOUTS) | {b"Code", b"Record"}


def _raw(name: str, info: bytes) -> str:
    """An attribute the codec does not know: its bytes (indices in it cannot be resolved)."""
    if len(info) <= 64:
        return f"{name} (unknown attribute): {info.hex()}"
    return f"{name} (unknown attribute): {len(info)} bytes, digest {hashlib.blake2b(info, digest_size=8).hexdigest()}"


def _unreferenced(cf: ClassFile, sym: Symbols) -> list[str]:
    """The constants nothing in the class refers to (directly or through other constants), sorted. Call it
    after everything else is rendered: :attr:`Symbols.used` holds every index rendered."""
    used = sym.used
    stack = list(used)
    entries = cf.constant_pool.entries
    while stack:  # close over references between constants (rendering may have taken a short form)
        i = stack.pop()
        c = entries[i] if 0 < i < len(entries) else None
        if c is None or c.tag == TAG_UTF8:
            continue
        try:
            refs = c.refs
        except ClassFormatError:
            continue
        for r in refs:
            if r not in used:
                used.add(r)
                stack.append(r)
    unused = [i for i, c in enumerate(entries) if c is not None and i not in used]
    return sorted(sym.const(i) for i in unused)


def view_class(cf: ClassFile) -> ClassView:
    """The symbolic view of ``cf``."""
    sym = Symbols(cf)
    view = ClassView(sym.class_name(cf.this_class), cf.major_version, cf.minor_version)
    view.header = [
        f"version {cf.major_version}.{cf.minor_version} ({java_version(cf.major_version)})",
        f"flags {flags_text(cf.access_flags, 'class')}",
        f"this {view.name}",
        f"super {sym.class_name(cf.super_class)}",
        "interfaces " + (", ".join(sym.class_name(i) for i in cf.interfaces) or "-"),
    ]
    unknown: list[str] = []
    names: list[str] = []
    for a in cf.attributes:
        aname = sym.name(a.name_index)
        names.append(aname)
        _place(view, aname, a, sym, cf.is_old_code_format, unknown, "class")
    view.attribute_names = tuple(names)
    view.fields = [_member_view(cf, m, "field", sym, unknown) for m in cf.fields]
    view.methods = [_member_view(cf, m, "method", sym, unknown) for m in cf.methods]
    view.unknown = unknown
    view.unreferenced = None if unknown else _unreferenced(cf, sym)
    return view


def disassemble(cf: ClassFile) -> str:
    """A javap-like listing of ``cf``: header, class attributes, fields and methods (with their instructions,
    exception tables and attributes) in file order, debug information included."""
    view = view_class(cf)
    lines = [f"class {view.name}"]
    lines += ["  " + x for x in view.header + view.annotations + view.attributes + view.debug]
    for m in view.fields + view.methods:
        lines += m.lines()
    if view.unreferenced:
        lines += ["unreferenced constants:"] + ["  " + x for x in view.unreferenced]
    return "\n".join(lines) + "\n"
