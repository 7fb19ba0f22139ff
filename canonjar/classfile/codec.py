"""Byte-exact class-file codec (JVMS chapter 4, every version up to Java 25 / major 69).

:func:`read_class` parses a class file into a :class:`ClassFile`; :func:`write_class` serializes it. For every
input that :func:`read_class` accepts, ``write_class(read_class(b)) == b``: constants and attributes are kept as
raw bytes, only the structure around them is typed.

``read_class`` checks what it resolves: the magic, the version (major >= 45), every constant tag, that no count
or length exceeds the bytes left (before anything is allocated for it), that the references between constants
and from the header, the members and the attribute names point to entries of the right kind, and that nothing
follows the class. ``deep=True`` also parses every Code attribute and decodes its instructions (checking their
constant-pool operands), the BootstrapMethods attribute (checking the bootstrap indices of Dynamic and
InvokeDynamic constants against it) and the Record attribute. Every problem is a :class:`ClassFormatError`.
"""

from __future__ import annotations

import hashlib
import struct
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from .attributes import (
    KNOWN_ATTRIBUTE_NAMES,
    Attribute,
    BootstrapMethod,
    Code,
    find_attribute,
    parse_bootstrap_methods,
    parse_code,
    parse_record,
    read_attributes,
    write_attributes,
)
from .bytecode import CP_OPERAND_TAGS, iter_instructions, scan_cp_operands
from .constants import (
    CONSTANT_NAMES,
    TAG_CLASS,
    TAG_DYNAMIC,
    TAG_INVOKE_DYNAMIC,
    TAG_UTF8,
    ConstantPool,
    read_constant_pool,
)
from .errors import ClassFormatError
from .mutf8 import display_mutf8

__all__ = [
    "CHECKED_CLASSES",
    "MAGIC",
    "MAX_KNOWN_MAJOR",
    "RECENT_CLASSES",
    "ClassFile",
    "Member",
    "read_class",
    "unknown_attributes_of",
    "write_class",
]

MAGIC = 0xCAFEBABE
#: The newest class-file version the codec was written for (Java 25). Newer versions are read as well: the
#: format of the constants and attributes the codec knows has not changed, and new attributes stay raw.
MAX_KNOWN_MAJOR = 69

_HEADER = struct.Struct(">IHH")
_MEMBER = struct.Struct(">HHHH")
_ATTR_HEADER = struct.Struct(">HI")
_U2x3 = struct.Struct(">HHH")
#: The tags each opcode's constant-pool operand may point to, by opcode (empty for opcodes without one).
_OPERAND_TAGS: list[frozenset[int]] = [CP_OPERAND_TAGS.get(op, frozenset()) for op in range(256)]


@dataclass(slots=True)
class Member:
    """A field or a method: access flags, name and descriptor indices (Utf8 constants), attributes."""

    access_flags: int
    name_index: int
    descriptor_index: int
    attributes: list[Attribute] = field(default_factory=list)


@dataclass(slots=True)
class ClassFile:
    """A parsed class file. Indices refer to :attr:`constant_pool`; ``super_class`` is 0 for
    ``java/lang/Object`` and ``module-info``."""

    minor_version: int
    major_version: int
    constant_pool: ConstantPool
    access_flags: int
    this_class: int
    super_class: int
    interfaces: list[int] = field(default_factory=list)
    fields: list[Member] = field(default_factory=list)
    methods: list[Member] = field(default_factory=list)
    attributes: list[Attribute] = field(default_factory=list)
    magic: int = MAGIC

    @staticmethod
    def from_bytes(data: bytes | bytearray | memoryview, *, deep: bool = False) -> ClassFile:
        return read_class(data, deep=deep)

    def to_bytes(self) -> bytes:
        return write_class(self)

    def copy(self) -> ClassFile:
        """An independent copy: new lists and members (constants and attributes are immutable, so shared)."""
        return ClassFile(self.minor_version, self.major_version, ConstantPool(list(self.constant_pool.entries)),
                         self.access_flags, self.this_class, self.super_class, list(self.interfaces),
                         [Member(m.access_flags, m.name_index, m.descriptor_index, list(m.attributes))
                          for m in self.fields],
                         [Member(m.access_flags, m.name_index, m.descriptor_index, list(m.attributes))
                          for m in self.methods],
                         list(self.attributes), self.magic)

    # -- typed views -----------------------------------------------------------------------------------------

    @property
    def name(self) -> str:
        """Display form of this class's internal name (``java/lang/String``)."""
        return display_mutf8(self.constant_pool.class_name(self.this_class))

    @property
    def is_old_code_format(self) -> bool:
        """Versions 45.0-45.2 use u1 max_stack/max_locals and a u2 code_length in Code attributes."""
        return self.major_version == 45 and self.minor_version < 3

    def attribute_name(self, attr: Attribute) -> bytes:
        """The raw name of ``attr`` (modified UTF-8; attribute names the codec knows are ASCII)."""
        return self.constant_pool.utf8(attr.name_index, "attribute name")

    def member_name(self, member: Member) -> str:
        return self.constant_pool.text(member.name_index)

    def member_descriptor(self, member: Member) -> str:
        return self.constant_pool.text(member.descriptor_index)

    def find_attribute(self, attrs: list[Attribute], name: str | bytes) -> Attribute | None:
        return find_attribute(attrs, self.constant_pool, name)

    def code(self, method: Member) -> Code | None:
        """The parsed Code attribute of ``method``, or None (abstract and native methods)."""
        attr = find_attribute(method.attributes, self.constant_pool, b"Code")
        if attr is None:
            return None
        return parse_code(attr.info, self.constant_pool, self.is_old_code_format)

    def bootstrap_methods(self) -> list[BootstrapMethod] | None:
        """The parsed BootstrapMethods attribute, or None."""
        attr = find_attribute(self.attributes, self.constant_pool, b"BootstrapMethods")
        return None if attr is None else parse_bootstrap_methods(attr.info, self.constant_pool)

    def unknown_attributes(self) -> list[tuple[str, str]]:
        """``(where, name)`` of every attribute not in :data:`KNOWN_ATTRIBUTES`, looking into the class, every
        field, method, Code attribute and record component. A remapper must refuse a class where this is not
        empty."""
        pool = self.constant_pool
        found: list[tuple[str, str]] = []

        def scan(attrs: list[Attribute], where: str) -> None:
            for a in attrs:
                raw = pool.utf8(a.name_index, "attribute name")
                if raw not in KNOWN_ATTRIBUTE_NAMES:
                    found.append((where, display_mutf8(raw)))
                elif raw == b"Code":
                    scan(parse_code(a.info, pool, self.is_old_code_format).attributes, f"{where} Code")
                elif raw == b"Record":
                    for comp in parse_record(a.info, pool):
                        scan(comp.attributes, f"record component {pool.text(comp.name_index)}")

        scan(self.attributes, "class")
        for f in self.fields:
            scan(f.attributes, f"field {pool.text(f.name_index)}")
        for m in self.methods:
            scan(m.attributes, f"method {pool.text(m.name_index)}{pool.text(m.descriptor_index)}")
        return found

    def check_deep(self) -> None:
        """The checks of ``read_class(..., deep=True)``: parse every Code attribute and decode its instructions
        (constant-pool operands must be of the right kind), parse BootstrapMethods (every Dynamic/InvokeDynamic
        bootstrap index must be in range) and Record.

        A fast path checks the instructions with :func:`scan_cp_operands`; on any problem the full check runs
        again to raise exactly the error it always raised."""
        try:
            if self._check_deep_fast():
                return
        except ClassFormatError:
            pass
        self._check_deep_full()

    def _check_deep_fast(self) -> bool:
        """The deep checks with the instruction walk by length tables; False (or an error) when the class does
        not pass them, and then :meth:`_check_deep_full` must tell why."""
        pool = self.constant_pool
        entries = pool.entries
        npool = len(entries)
        old = self.is_old_code_format
        allowed_tags = _OPERAND_TAGS
        for m in self.methods:
            for a in m.attributes:
                if pool.utf8(a.name_index) != b"Code":
                    continue
                code = parse_code(a.info, pool, old).code
                found = scan_cp_operands(code)
                if found is None:
                    return False
                for at, width, op in found:
                    index = code[at] if width == 1 else code[at] << 8 | code[at + 1]
                    c = entries[index] if 0 < index < npool else None
                    if c is None or c.tag not in allowed_tags[op]:
                        return False
        self._check_bootstrap_and_record()
        return True

    def _check_bootstrap_and_record(self) -> None:
        pool = self.constant_pool
        bsms = self.bootstrap_methods()
        nbsm = 0 if bsms is None else len(bsms)
        for i, c in pool:
            if c.tag in (TAG_DYNAMIC, TAG_INVOKE_DYNAMIC):
                bsm = c.raw[1] << 8 | c.raw[2]
                if bsm >= nbsm:
                    raise ClassFormatError(f"constant #{i} uses bootstrap method {bsm}, the class has {nbsm}")
        record = find_attribute(self.attributes, pool, b"Record")
        if record is not None:
            parse_record(record.info, pool)

    def _check_deep_full(self) -> None:
        pool = self.constant_pool
        entries = pool.entries
        npool = len(entries)
        old = self.is_old_code_format
        for m in self.methods:
            for a in m.attributes:
                if pool.utf8(a.name_index) != b"Code":
                    continue
                code = parse_code(a.info, pool, old)
                for insn in iter_instructions(code.code):
                    allowed = CP_OPERAND_TAGS.get(insn.opcode)
                    if allowed is None:
                        continue
                    index = insn.operands[0]
                    c = entries[index] if 0 < index < npool else None
                    if c is None or c.tag not in allowed:
                        kind = "missing" if c is None else CONSTANT_NAMES[c.tag]
                        raise ClassFormatError(
                            f"method {pool.text(m.name_index)}: {insn.mnemonic} at {insn.offset} refers to constant "
                            f"#{index}, which is {kind}")
        self._check_bootstrap_and_record()


def _bad_class_ref(pool: ConstantPool, index: int, what: str, pos: int) -> ClassFormatError:
    c = pool.entries[index] if 0 < index < len(pool) else None
    kind = "missing" if c is None else CONSTANT_NAMES[c.tag]
    return ClassFormatError(f"{what} index {index} is not a Class constant ({kind})", pos)


def read_class(data: bytes | bytearray | memoryview, *, deep: bool = False) -> ClassFile:
    """Parse one class file; see the module documentation for what is checked.

    The digests of the class files that passed the deep checks are remembered (:class:`_CheckedClasses`):
    reading the same bytes deeply again only parses them; and the last few of them are kept parsed
    (:class:`_RecentClasses`), so reading them again, deeply or not, only copies the parse."""
    if not isinstance(data, bytes):
        data = bytes(data)
    key = CHECKED_CLASSES.key(data)
    hit = RECENT_CLASSES.get(key)
    if hit is not None:
        return hit.copy()
    if CHECKED_CLASSES.checked(key):
        cf = _read_class(data, False, trusted=True)
    elif deep:
        cf = _read_class(data, True)
        CHECKED_CLASSES.add(key)
    else:
        return _read_class(data, False)
    RECENT_CLASSES.put(key, cf.copy(), len(data))
    return cf


def _read_class(data: bytes, deep: bool, trusted: bool = False) -> ClassFile:
    """:func:`read_class` without the memo; ``trusted``: ``data`` passed the checks before, so the references
    between constants (checked all at once, unlike the rest) are not checked again."""
    n = len(data)
    if n < 10 and (n < 4 or data[:4] == b"\xca\xfe\xba\xbe"):
        raise ClassFormatError(f"truncated class file ({n} bytes)", 0)
    if data[:4] != b"\xca\xfe\xba\xbe":
        raise ClassFormatError(f"bad magic {data[:4].hex()} (expected cafebabe)", 0)
    magic, minor, major = _HEADER.unpack_from(data, 0)
    if major < 45:
        raise ClassFormatError(f"unsupported class-file version {major}.{minor}", 4)
    pool, pos = read_constant_pool(data, 8)
    if not trusted:
        pool.check_references()
    entries = pool.entries
    npool = len(entries)

    if pos + 8 > n:
        raise ClassFormatError("truncated in the class header", pos)
    access, this_class, super_class = _U2x3.unpack_from(data, pos)
    c = entries[this_class] if this_class < npool else None
    if c is None or c.tag != TAG_CLASS:
        raise _bad_class_ref(pool, this_class, "this_class", pos + 2)
    if super_class:
        c = entries[super_class] if super_class < npool else None
        if c is None or c.tag != TAG_CLASS:
            raise _bad_class_ref(pool, super_class, "super_class", pos + 4)
    count = data[pos + 6] << 8 | data[pos + 7]
    pos += 8
    if 2 * count > n - pos:
        raise ClassFormatError(f"interfaces_count {count} is larger than the bytes left allow", pos - 2)
    interfaces = list(struct.unpack_from(f">{count}H", data, pos))
    for k, index in enumerate(interfaces):
        c = entries[index] if index < npool else None
        if c is None or c.tag != TAG_CLASS:
            raise _bad_class_ref(pool, index, "interface", pos + 2 * k)
    pos += 2 * count

    members: list[list[Member]] = []
    for kind in ("field", "method"):
        if pos + 2 > n:
            raise ClassFormatError(f"truncated before {kind}s_count", pos)
        count = data[pos] << 8 | data[pos + 1]
        pos += 2
        if 8 * count > n - pos:
            raise ClassFormatError(f"{kind}s_count {count} is larger than the bytes left allow", pos - 2)
        out: list[Member] = []
        for _ in range(count):
            if pos + 8 > n:
                raise ClassFormatError(f"truncated in a {kind}", pos)
            flags, name, desc, nattr = _MEMBER.unpack_from(data, pos)
            for index, what in ((name, "name"), (desc, "descriptor")):
                c = entries[index] if index < npool else None
                if c is None or c.tag != TAG_UTF8:
                    raise ClassFormatError(f"{kind} {what} index {index} is not a Utf8 constant", pos)
            pos += 8
            if 6 * nattr > n - pos:
                raise ClassFormatError(f"{kind} attributes_count {nattr} is larger than the bytes left allow", pos - 2)
            attrs: list[Attribute] = []
            for _ in range(nattr):
                if pos + 6 > n:
                    raise ClassFormatError(f"truncated in a {kind} attribute", pos)
                aname, length = _ATTR_HEADER.unpack_from(data, pos)
                c = entries[aname] if aname < npool else None
                if c is None or c.tag != TAG_UTF8:
                    raise ClassFormatError(f"{kind} attribute name index {aname} is not a Utf8 constant", pos)
                pos += 6
                if length > n - pos:
                    raise ClassFormatError(f"{kind} attribute length {length} is larger than the bytes left", pos - 4)
                attrs.append(Attribute(aname, data[pos:pos + length]))
                pos += length
            out.append(Member(flags, name, desc, attrs))
        members.append(out)
    attributes, pos = read_attributes(data, pos, n, pool, "class")
    if pos != n:
        raise ClassFormatError(f"{n - pos} trailing bytes after the class file", pos)
    cf = ClassFile(minor, major, pool, access, this_class, super_class, interfaces, members[0], members[1],
                   attributes, magic)
    if deep:
        cf.check_deep()
    return cf


class _CheckedClasses:
    """The class files that passed the deep checks of ``read_class(deep=True)``, remembered by a SHA-256 of
    their bytes (never the bytes or the parse: the memory stays small however large the classes), with their
    :meth:`ClassFile.unknown_attributes` once asked for. Least recently used first, at most
    :attr:`max_entries`; thread-safe.

    The checks are a function of the bytes only, so bytes with a remembered digest pass them again: reading
    them deeply again only parses them (the class stabilizers and the structural diff read the same bytes
    several times, each stabilizer its input and its output)."""

    def __init__(self, max_entries: int = 32768) -> None:
        self.max_entries = max_entries
        self._items: OrderedDict[bytes, tuple[tuple[str, str], ...] | None] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def key(data: bytes) -> bytes:
        return hashlib.sha256(data).digest()

    def checked(self, key: bytes) -> bool:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return True
            return False

    def unknown(self, key: bytes) -> tuple[tuple[str, str], ...] | None:
        with self._lock:
            return self._items.get(key)

    def add(self, key: bytes, unknown: tuple[tuple[str, str], ...] | None = None) -> None:
        with self._lock:
            if unknown is None and self._items.get(key) is not None:
                return
            self._items[key] = unknown
            self._items.move_to_end(key)
            while len(self._items) > self.max_entries:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


CHECKED_CLASSES = _CheckedClasses()


class _RecentClasses:
    """The parses of the class files that passed the deep checks and were read last, by the digest of their
    bytes, least recently used first: at most :attr:`max_entries` and :attr:`max_bytes` of class-file bytes.
    Only copies are handed out (:meth:`ClassFile.copy`), so a caller changing its class changes no other's.
    Thread-safe."""

    def __init__(self, max_entries: int = 256, max_bytes: int = 4 << 20) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._items: OrderedDict[bytes, tuple[ClassFile, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: bytes) -> ClassFile | None:
        with self._lock:
            hit = self._items.get(key)
            if hit is None:
                return None
            self._items.move_to_end(key)
            return hit[0]

    def put(self, key: bytes, cf: ClassFile, size: int) -> None:
        if size > self.max_bytes // 16:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= old[1]
            self._items[key] = (cf, size)
            self._bytes += size
            while len(self._items) > self.max_entries or self._bytes > self.max_bytes:
                _, (_, dropped) = self._items.popitem(last=False)
                self._bytes -= dropped

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0


RECENT_CLASSES = _RecentClasses()


def unknown_attributes_of(data: bytes, cf: ClassFile | None = None) -> list[tuple[str, str]]:
    """``read_class(data, deep=True).unknown_attributes()``, remembered with the digest of ``data`` (see
    :class:`_CheckedClasses`); ``cf`` is that parse when the caller has it (unmodified). Raises
    :class:`ClassFormatError` as those two do."""
    key = CHECKED_CLASSES.key(data)
    found = CHECKED_CLASSES.unknown(key)
    if found is None:
        if cf is None:
            cf = read_class(data, deep=True)
        found = tuple(cf.unknown_attributes())
        CHECKED_CLASSES.add(key, found)
    return list(found)


def _write_members(members: list[Member], parts: list[bytes]) -> None:
    parts.append(len(members).to_bytes(2, "big"))
    pack_member = _MEMBER.pack
    pack_attr = _ATTR_HEADER.pack
    for m in members:
        attrs = m.attributes
        parts.append(pack_member(m.access_flags, m.name_index, m.descriptor_index, len(attrs)))
        for a in attrs:
            parts.append(pack_attr(a.name_index, len(a.info)))
            parts.append(a.info)


def write_class(cf: ClassFile) -> bytes:
    """Serialize ``cf``. Raises :class:`ClassFormatError` when a value does not fit its field (a count above
    65535, an index above 65535...)."""
    try:
        parts = [_HEADER.pack(cf.magic, cf.minor_version, cf.major_version), cf.constant_pool.to_bytes(),
                 _U2x3.pack(cf.access_flags, cf.this_class, cf.super_class),
                 struct.pack(f">H{len(cf.interfaces)}H", len(cf.interfaces), *cf.interfaces)]
        _write_members(cf.fields, parts)
        _write_members(cf.methods, parts)
    except (struct.error, OverflowError) as exc:
        raise ClassFormatError(f"cannot write class file: {exc}") from None
    parts.append(write_attributes(cf.attributes))
    return b"".join(parts)
