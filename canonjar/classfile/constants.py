"""The constant pool, kept as raw bytes (JVMS 4.4).

Every entry is a :class:`Constant`: its tag and its *raw* bytes (tag byte included, and for Utf8 the u2 length),
exactly as read. Writing a pool joins the raw bytes, so it is byte-exact by construction; Modified UTF-8 is
never re-encoded. Typed views (:attr:`Constant.fields`, :attr:`Constant.refs`, :meth:`ConstantPool.describe`)
decode on demand.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import NamedTuple

from .errors import ClassFormatError
from .mutf8 import display_mutf8

__all__ = [
    "CONSTANT_NAMES",
    "CONSTANT_REF_TAGS",
    "LOADABLE_TAGS",
    "TAG_CLASS",
    "TAG_DOUBLE",
    "TAG_DYNAMIC",
    "TAG_FIELDREF",
    "TAG_FLOAT",
    "TAG_INTEGER",
    "TAG_INTERFACE_METHODREF",
    "TAG_INVOKE_DYNAMIC",
    "TAG_LONG",
    "TAG_METHODREF",
    "TAG_METHOD_HANDLE",
    "TAG_METHOD_TYPE",
    "TAG_MODULE",
    "TAG_NAME_AND_TYPE",
    "TAG_PACKAGE",
    "TAG_STRING",
    "TAG_UTF8",
    "Constant",
    "ConstantPool",
    "read_constant_pool",
]

TAG_UTF8 = 1
TAG_INTEGER = 3
TAG_FLOAT = 4
TAG_LONG = 5
TAG_DOUBLE = 6
TAG_CLASS = 7
TAG_STRING = 8
TAG_FIELDREF = 9
TAG_METHODREF = 10
TAG_INTERFACE_METHODREF = 11
TAG_NAME_AND_TYPE = 12
TAG_METHOD_HANDLE = 15
TAG_METHOD_TYPE = 16
TAG_DYNAMIC = 17
TAG_INVOKE_DYNAMIC = 18
TAG_MODULE = 19
TAG_PACKAGE = 20

CONSTANT_NAMES: dict[int, str] = {
    TAG_UTF8: "Utf8", TAG_INTEGER: "Integer", TAG_FLOAT: "Float", TAG_LONG: "Long", TAG_DOUBLE: "Double",
    TAG_CLASS: "Class", TAG_STRING: "String", TAG_FIELDREF: "Fieldref", TAG_METHODREF: "Methodref",
    TAG_INTERFACE_METHODREF: "InterfaceMethodref", TAG_NAME_AND_TYPE: "NameAndType",
    TAG_METHOD_HANDLE: "MethodHandle", TAG_METHOD_TYPE: "MethodType", TAG_DYNAMIC: "Dynamic",
    TAG_INVOKE_DYNAMIC: "InvokeDynamic", TAG_MODULE: "Module", TAG_PACKAGE: "Package",
}

#: struct format of the fields after the tag, for every tag but Utf8.
_FORMATS: dict[int, struct.Struct] = {
    TAG_INTEGER: struct.Struct(">i"), TAG_FLOAT: struct.Struct(">I"), TAG_LONG: struct.Struct(">q"),
    TAG_DOUBLE: struct.Struct(">Q"), TAG_CLASS: struct.Struct(">H"), TAG_STRING: struct.Struct(">H"),
    TAG_FIELDREF: struct.Struct(">HH"), TAG_METHODREF: struct.Struct(">HH"),
    TAG_INTERFACE_METHODREF: struct.Struct(">HH"), TAG_NAME_AND_TYPE: struct.Struct(">HH"),
    TAG_METHOD_HANDLE: struct.Struct(">BH"), TAG_METHOD_TYPE: struct.Struct(">H"),
    TAG_DYNAMIC: struct.Struct(">HH"), TAG_INVOKE_DYNAMIC: struct.Struct(">HH"), TAG_MODULE: struct.Struct(">H"),
    TAG_PACKAGE: struct.Struct(">H"),
}
#: total size in bytes (tag included) of every fixed-size entry.
_SIZES: dict[int, int] = {tag: 1 + fmt.size for tag, fmt in _FORMATS.items()}

#: For every tag, which of its fields are constant-pool indices and which tags they must point to.
#: (A MethodHandle's reference depends on its kind; see :data:`_HANDLE_TARGETS`. The bootstrap-method index
#: of Dynamic/InvokeDynamic is an index into the BootstrapMethods attribute, not into the pool.)
CONSTANT_REF_TAGS: dict[int, tuple[tuple[int, frozenset[int]], ...]] = {
    TAG_UTF8: (), TAG_INTEGER: (), TAG_FLOAT: (), TAG_LONG: (), TAG_DOUBLE: (),
    TAG_CLASS: ((0, frozenset({TAG_UTF8})),),
    TAG_STRING: ((0, frozenset({TAG_UTF8})),),
    TAG_FIELDREF: ((0, frozenset({TAG_CLASS})), (1, frozenset({TAG_NAME_AND_TYPE}))),
    TAG_METHODREF: ((0, frozenset({TAG_CLASS})), (1, frozenset({TAG_NAME_AND_TYPE}))),
    TAG_INTERFACE_METHODREF: ((0, frozenset({TAG_CLASS})), (1, frozenset({TAG_NAME_AND_TYPE}))),
    TAG_NAME_AND_TYPE: ((0, frozenset({TAG_UTF8})), (1, frozenset({TAG_UTF8}))),
    TAG_METHOD_HANDLE: ((1, frozenset({TAG_FIELDREF, TAG_METHODREF, TAG_INTERFACE_METHODREF})),),
    TAG_METHOD_TYPE: ((0, frozenset({TAG_UTF8})),),
    TAG_DYNAMIC: ((1, frozenset({TAG_NAME_AND_TYPE})),),
    TAG_INVOKE_DYNAMIC: ((1, frozenset({TAG_NAME_AND_TYPE})),),
    TAG_MODULE: ((0, frozenset({TAG_UTF8})),),
    TAG_PACKAGE: ((0, frozenset({TAG_UTF8})),),
}
_HANDLE_TARGETS: dict[int, frozenset[int]] = {
    1: frozenset({TAG_FIELDREF}), 2: frozenset({TAG_FIELDREF}), 3: frozenset({TAG_FIELDREF}),
    4: frozenset({TAG_FIELDREF}), 5: frozenset({TAG_METHODREF}),
    6: frozenset({TAG_METHODREF, TAG_INTERFACE_METHODREF}), 7: frozenset({TAG_METHODREF, TAG_INTERFACE_METHODREF}),
    8: frozenset({TAG_METHODREF}), 9: frozenset({TAG_INTERFACE_METHODREF}),
}
#: Tags an ``ldc``/``ldc_w`` or a bootstrap argument may load (JVMS 4.4, table 4.4-C).
LOADABLE_TAGS = frozenset({TAG_INTEGER, TAG_FLOAT, TAG_LONG, TAG_DOUBLE, TAG_CLASS, TAG_STRING,
                           TAG_METHOD_HANDLE, TAG_METHOD_TYPE, TAG_DYNAMIC})
_REF_TABLE: list[tuple[tuple[int, frozenset[int]], ...] | None] = [CONSTANT_REF_TAGS.get(t) for t in range(256)]


class Constant(NamedTuple):
    """One constant-pool entry: ``raw`` is the whole entry as it appears in the class file (tag byte first)."""

    tag: int
    raw: bytes

    @property
    def body(self) -> bytes:
        """The bytes after the tag (for Utf8: the u2 length, then the modified UTF-8 bytes)."""
        return self.raw[1:]

    @property
    def value(self) -> bytes:
        """The modified UTF-8 bytes of a Utf8 constant (without the length)."""
        if self.tag != TAG_UTF8:
            raise ClassFormatError(f"{CONSTANT_NAMES.get(self.tag, self.tag)} constant has no string value")
        return self.raw[3:]

    @property
    def fields(self) -> tuple[int, ...]:
        """The numeric fields after the tag: indices, a MethodHandle's (kind, reference), a number's value
        (Float/Double as their IEEE bit pattern so that NaNs stay exact). Utf8 gives ``(length,)``."""
        if self.tag == TAG_UTF8:
            return (len(self.raw) - 3,)
        return tuple(_FORMATS[self.tag].unpack_from(self.raw, 1))

    @property
    def refs(self) -> tuple[int, ...]:
        """The constant-pool indices this constant refers to (in field order)."""
        spec = CONSTANT_REF_TAGS[self.tag]
        if not spec:
            return ()
        f = self.fields
        return tuple(f[i] for i, _ in spec)

    @property
    def slots(self) -> int:
        """How many pool slots the entry takes: 2 for Long and Double, else 1."""
        return 2 if self.tag in (TAG_LONG, TAG_DOUBLE) else 1

    @staticmethod
    def utf8(value: bytes) -> Constant:
        """A Utf8 constant holding the modified UTF-8 bytes ``value`` (see :func:`encode_mutf8`)."""
        if len(value) > 0xFFFF:
            raise ClassFormatError(f"Utf8 constant of {len(value)} bytes exceeds 65535")
        return Constant(TAG_UTF8, bytes((TAG_UTF8, len(value) >> 8, len(value) & 0xFF)) + value)

    @staticmethod
    def make(tag: int, *fields: int) -> Constant:
        """A non-Utf8 constant from its fields, in the order of :attr:`fields`."""
        fmt = _FORMATS.get(tag)
        if fmt is None:
            raise ClassFormatError(f"cannot build a constant with tag {tag}")
        try:
            return Constant(tag, bytes((tag,)) + fmt.pack(*fields))
        except struct.error as exc:
            raise ClassFormatError(f"bad fields for a {CONSTANT_NAMES[tag]} constant: {exc}") from None


class ConstantPool:
    """The constant pool: ``entries[i]`` is the constant at index ``i``; ``entries[0]`` and the slot after a
    Long or Double are ``None``. ``len(pool)`` is the class file's ``constant_pool_count``."""

    __slots__ = ("entries",)

    def __init__(self, entries: list[Constant | None] | None = None) -> None:
        self.entries: list[Constant | None] = entries if entries is not None else [None]

    def __len__(self) -> int:
        return len(self.entries)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ConstantPool) and self.entries == other.entries

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"ConstantPool({len(self.entries)} slots)"

    def __iter__(self) -> Iterator[tuple[int, Constant]]:
        """(index, constant) of every entry, in index order."""
        for i, c in enumerate(self.entries):
            if c is not None:
                yield i, c

    def __getitem__(self, index: int) -> Constant:
        entries = self.entries
        if 0 < index < len(entries):
            c = entries[index]
            if c is not None:
                return c
        raise ClassFormatError(f"constant-pool index {index} is not a valid entry (pool count {len(entries)})")

    def get(self, index: int, tags: frozenset[int] | int, what: str = "reference") -> Constant:
        """The constant at ``index``, which must have one of ``tags``; else :class:`ClassFormatError`."""
        c = self[index]
        if c.tag == tags if isinstance(tags, int) else c.tag in tags:
            return c
        want = CONSTANT_NAMES.get(tags, str(tags)) if isinstance(tags, int) else "/".join(
            sorted(CONSTANT_NAMES.get(t, str(t)) for t in tags))
        raise ClassFormatError(f"{what}: constant #{index} is {CONSTANT_NAMES.get(c.tag, c.tag)}, expected {want}")

    def utf8(self, index: int, what: str = "name") -> bytes:
        """The modified UTF-8 bytes of the Utf8 constant at ``index``."""
        entries = self.entries
        if 0 < index < len(entries):  # the common case without the two calls of get()
            c = entries[index]
            if c is not None and c.tag == TAG_UTF8:
                return c.raw[3:]
        return self.get(index, TAG_UTF8, what).raw[3:]

    def text(self, index: int) -> str:
        """Display text of the Utf8 constant at ``index`` (see :func:`display_mutf8`)."""
        return display_mutf8(self.utf8(index))

    def class_name(self, index: int) -> bytes:
        """The internal name (modified UTF-8) of the Class constant at ``index``."""
        return self.utf8(self.get(index, TAG_CLASS, "class reference").fields[0], "class name")

    def append(self, constant: Constant) -> int:
        """Add ``constant`` at the end; returns its index."""
        index = len(self.entries)
        if index + constant.slots > 0xFFFF:
            raise ClassFormatError("constant pool is full (65535 slots)")
        self.entries.append(constant)
        if constant.slots == 2:
            self.entries.append(None)
        return index

    def describe(self, index: int) -> str:
        """One-line, javap-like rendering of the constant at ``index`` with its references resolved."""
        return _describe(self, index, 0)

    def check_references(self) -> None:
        """Check that every reference between constants points to an entry of the right kind."""
        entries = self.entries
        count = len(entries)
        table = _REF_TABLE
        for i in range(1, count):
            c = entries[i]
            if c is None:
                continue
            spec = table[c.tag]
            if not spec:
                continue
            fields = _FORMATS[c.tag].unpack_from(c.raw, 1)
            for pos, tags in spec:
                target = fields[pos]
                allowed = tags
                if c.tag == TAG_METHOD_HANDLE:
                    allowed = _HANDLE_TARGETS.get(fields[0], frozenset())
                    if not allowed:
                        raise ClassFormatError(f"constant #{i}: bad MethodHandle reference kind {fields[0]}")
                t = entries[target] if 0 < target < count else None
                if t is None or t.tag not in allowed:
                    kind = "missing" if t is None else CONSTANT_NAMES[t.tag]
                    raise ClassFormatError(
                        f"constant #{i} ({CONSTANT_NAMES[c.tag]}) refers to #{target}, which is {kind}")

    def to_bytes(self) -> bytes:
        """``constant_pool_count`` and the entries, as in a class file."""
        entries = self.entries
        if not entries or entries[0] is not None:
            raise ClassFormatError("constant pool slot 0 must be empty")
        count = len(entries)
        if count > 0xFFFF:
            raise ClassFormatError(f"constant pool of {count} slots exceeds 65535")
        parts = [count.to_bytes(2, "big")]
        i = 1
        while i < count:
            c = entries[i]
            if c is None:
                raise ClassFormatError(f"constant pool slot {i} is empty but does not follow a Long or Double")
            parts.append(c.raw)
            if c.tag in (TAG_LONG, TAG_DOUBLE):
                if i + 1 >= count or entries[i + 1] is not None:
                    raise ClassFormatError(f"the slot after the {CONSTANT_NAMES[c.tag]} at #{i} must be empty")
                i += 2
            else:
                i += 1
        return b"".join(parts)


def _describe(pool: ConstantPool, index: int, depth: int) -> str:
    try:
        c = pool[index]
    except ClassFormatError:
        return f"<bad #{index}>"
    tag = c.tag
    if tag == TAG_UTF8:
        return display_mutf8(c.raw[3:])
    f = c.fields
    name = CONSTANT_NAMES.get(tag, str(tag))
    if tag == TAG_FLOAT:
        return f"{struct.unpack('>f', c.raw[1:5])[0]!r}f"
    if tag == TAG_DOUBLE:
        return f"{struct.unpack('>d', c.raw[1:9])[0]!r}d"
    if tag in (TAG_INTEGER, TAG_LONG):
        return str(f[0]) + ("l" if tag == TAG_LONG else "")
    if depth > 4:
        return f"{name} #{index}"
    if tag in (TAG_CLASS, TAG_MODULE, TAG_PACKAGE, TAG_METHOD_TYPE):
        return _describe(pool, f[0], depth + 1)
    if tag == TAG_STRING:
        return '"' + _describe(pool, f[0], depth + 1) + '"'
    if tag in (TAG_FIELDREF, TAG_METHODREF, TAG_INTERFACE_METHODREF):
        return _describe(pool, f[0], depth + 1) + "." + _describe(pool, f[1], depth + 1)
    if tag == TAG_NAME_AND_TYPE:
        return _describe(pool, f[0], depth + 1) + ":" + _describe(pool, f[1], depth + 1)
    if tag == TAG_METHOD_HANDLE:
        return f"REF_{f[0]} " + _describe(pool, f[1], depth + 1)
    return f"#{f[0]}:" + _describe(pool, f[1], depth + 1)  # Dynamic, InvokeDynamic: bootstrap index


_UTF8_HEADER = struct.Struct(">BH")


def read_constant_pool(data: bytes, pos: int) -> tuple[ConstantPool, int]:
    """Parse the pool starting at ``pos`` (at ``constant_pool_count``); returns it and the offset after it.

    References between constants are not checked here (see :meth:`ConstantPool.check_references`)."""
    n = len(data)
    if pos + 2 > n:
        raise ClassFormatError("truncated before constant_pool_count", pos)
    count = data[pos] << 8 | data[pos + 1]
    pos += 2
    if count == 0:
        raise ClassFormatError("constant_pool_count is 0", pos - 2)
    if (count - 1) * 3 > n - pos:  # every entry takes at least 3 bytes
        raise ClassFormatError(f"constant_pool_count {count} is larger than the bytes left allow", pos - 2)
    entries: list[Constant | None] = [None] * count
    sizes = _SIZES
    new = tuple.__new__  # Constant(tag, raw) without the Python-level NamedTuple.__new__
    i = 1
    while i < count:
        if pos >= n:
            raise ClassFormatError(f"truncated in constant #{i}", pos)
        tag = data[pos]
        if tag == TAG_UTF8:
            if pos + 3 > n:
                raise ClassFormatError(f"truncated in Utf8 constant #{i}", pos)
            end = pos + 3 + (data[pos + 1] << 8 | data[pos + 2])
        else:
            size = sizes.get(tag)
            if size is None:
                raise ClassFormatError(f"constant #{i} has an unknown tag {tag}", pos)
            end = pos + size
            if tag in (TAG_LONG, TAG_DOUBLE):
                if i + 1 >= count:
                    raise ClassFormatError(f"{CONSTANT_NAMES[tag]} constant #{i} takes two slots past the pool end",
                                           pos)
                if end > n:
                    raise ClassFormatError(f"truncated in constant #{i}", pos)
                entries[i] = new(Constant, (tag, data[pos:end]))
                pos = end
                i += 2
                continue
        if end > n:
            raise ClassFormatError(f"truncated in constant #{i}", pos)
        entries[i] = new(Constant, (tag, data[pos:end]))
        pos = end
        i += 1
    return ConstantPool(entries), pos
