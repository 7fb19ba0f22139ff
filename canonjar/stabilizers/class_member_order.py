"""class-member-order: the order of fields, methods, attributes and a few attribute tables in class files.

Removes, in every ``*.class`` entry (the constant pool is left exactly as it is):

- the order of the fields, sorted by (name, descriptor) -- except in records (see below);
- the order of the methods, sorted by (name, descriptor);
- the order of the attributes of the class, of every field and method, inside every Code attribute and of every
  record component, sorted by attribute name (stable: attributes of the same name keep their relative order);
- the order of the entries of InnerClasses (by inner class, outer class, simple name, flags), NestMembers and
  PermittedSubclasses (by class name) -- sorted by the *names* the entries refer to, never by pool index;
- the order of the BootstrapMethods entries, sorted by the resolved text of their method handle and static
  arguments; the bootstrap index inside every CONSTANT_InvokeDynamic and CONSTANT_Dynamic is remapped to match.

Why it is safe:

- the JVM links fields and methods by name and descriptor (JVMS 5.4.3.2, 5.4.3.3), never by position, and
  ``Class.getDeclaredFields``/``getDeclaredMethods`` document that their order is unspecified;
- attribute order carries no meaning (JVMS 4.7 defines every attribute by its name); the tables *inside*
  attributes (LineNumberTable, LocalVariableTable, StackMapTable, exception tables...) are not touched;
- InnerClasses, NestMembers and PermittedSubclasses are sets of classes: the JVM checks membership
  (JVMS 5.4.4, 4.7.31); reflection (``getDeclaredClasses``, ``getNestMembers``, ``getPermittedSubclasses``) does
  not specify an order. Sorting by name keeps an enclosing class before the classes nested in it
  (``A$B`` sorts before ``A$B$C``);
- a bootstrap method is referenced only by the ``bootstrap_method_attr_index`` of CONSTANT_Dynamic_info and
  CONSTANT_InvokeDynamic_info (JVMS 4.4.10, 4.7.23): no instruction, attribute or other constant holds an index
  into the BootstrapMethods table, so permuting the table and remapping those two constant kinds is exact;
- the default ``serialVersionUID`` (Java Object Serialization Specification 4.6) is computed from the members
  *sorted by name*, and the serialized form lists fields sorted by name, so neither depends on member order;
- enum constants: ``values()`` returns the ``$VALUES`` array built by ``<clinit>`` bytecode, not the field order.

Conservative choices: the fields of a class with a Record attribute keep their order, and the order of record
components (which defines the canonical constructor and ``getRecordComponents()``) is never changed. A class
with an attribute the codec does not know, two members with the same name and descriptor, or a malformed
structure is refused (skipped), never rewritten.
"""

from __future__ import annotations

import struct

from ..classfile import (
    Attribute,
    BootstrapMethod,
    ClassFile,
    ClassFormatError,
    Constant,
    ConstantPool,
    Member,
    parse_bootstrap_methods,
    parse_code,
    parse_record,
    read_class,
    unknown_attributes_of,
    write_bootstrap_methods,
    write_class,
    write_record,
)
from ..classfile.constants import (
    TAG_DOUBLE,
    TAG_DYNAMIC,
    TAG_FLOAT,
    TAG_INTEGER,
    TAG_INVOKE_DYNAMIC,
    TAG_LONG,
    TAG_UTF8,
)
from ..errors import StabilizerSkip
from ..model import Entry, Payload
from ..pipeline import Context, Scope, Stabilizer
from ..taxonomy import Category

__all__ = ["STABILIZER", "canonical_members", "constant_key", "is_class_entry", "load_class"]

_U2 = struct.Struct(">H")
_INNER = struct.Struct(">HHHH")
#: How deep a constant key may nest (Dynamic arguments can refer to further Dynamic constants).
_MAX_KEY_DEPTH = 16

ConstKey = tuple[object, ...]


def is_class_entry(entry: Entry) -> bool:
    return entry.name.endswith(b".class") and not entry.is_dir


def load_class(entry: Entry, ctx: Context, data: bytes | None = None) -> ClassFile:
    """Parse (deeply) an entry's class file (``data``: its content, when the caller has it) and refuse it if
    it carries an attribute the codec does not know."""
    if data is None:
        data = ctx.content(entry)
    try:
        cf = read_class(data, deep=True)
    except ClassFormatError as exc:
        raise StabilizerSkip(f"not a readable class file: {exc}") from None
    unknown = unknown_attributes_of(data, cf)  # remembered: the three class stabilizers each ask
    if unknown:
        where, name = unknown[0]
        raise StabilizerSkip(f"unknown attribute {name!r} in {where}: its meaning and contents are not known")
    return cf


def constant_key(pool: ConstantPool, index: int, bsms: list[BootstrapMethod] | None, depth: int = 0) -> ConstKey:
    """A pool-order independent key of the constant at ``index``: its tag and its resolved contents (a Dynamic's
    bootstrap method is resolved as well, not kept as an index)."""
    if depth > _MAX_KEY_DEPTH:
        raise ClassFormatError("constants nest too deeply (a cycle of Dynamic constants?)")
    c = pool[index]
    tag = c.tag
    if tag == TAG_UTF8:
        return (tag, c.value)
    if tag in (TAG_INTEGER, TAG_FLOAT, TAG_LONG, TAG_DOUBLE):
        return (tag, c.raw)
    if tag in (TAG_DYNAMIC, TAG_INVOKE_DYNAMIC):
        bsm_index, nat = c.fields
        if bsms is None or bsm_index >= len(bsms):
            raise ClassFormatError(f"constant #{index} uses a missing bootstrap method {bsm_index}")
        return (tag, bootstrap_key(pool, bsms[bsm_index], bsms, depth + 1), constant_key(pool, nat, bsms, depth + 1))
    f = c.fields
    if tag == 15:  # MethodHandle: (reference kind, reference)
        return (tag, f[0], constant_key(pool, f[1], bsms, depth + 1))
    return (tag, *(constant_key(pool, r, bsms, depth + 1) for r in c.refs))


def bootstrap_key(pool: ConstantPool, bsm: BootstrapMethod, bsms: list[BootstrapMethod] | None,
                  depth: int = 0) -> ConstKey:
    return (constant_key(pool, bsm.method_ref, bsms, depth + 1),
            tuple(constant_key(pool, a, bsms, depth + 1) for a in bsm.arguments))


def _name_or_empty(pool: ConstantPool, index: int, cls: bool) -> bytes:
    if index == 0:
        return b""
    return pool.class_name(index) if cls else pool.utf8(index)


def _sorted_inner_classes(info: bytes, pool: ConstantPool) -> bytes:
    if len(info) < 2:
        raise ClassFormatError("InnerClasses: truncated")
    (count,) = _U2.unpack_from(info, 0)
    if len(info) != 2 + 8 * count:
        raise ClassFormatError(f"InnerClasses: length {len(info)} does not match {count} entries")
    rows = [_INNER.unpack_from(info, 2 + 8 * k) for k in range(count)]

    def key(row: tuple[int, ...]) -> tuple[bytes, bytes, bytes, int]:
        inner, outer, name, flags = row
        return (pool.class_name(inner), _name_or_empty(pool, outer, True), _name_or_empty(pool, name, False), flags)

    rows.sort(key=key)
    return info[:2] + b"".join(_INNER.pack(*r) for r in rows)


def _sorted_class_list(info: bytes, pool: ConstantPool, what: str) -> bytes:
    if len(info) < 2:
        raise ClassFormatError(f"{what}: truncated")
    (count,) = _U2.unpack_from(info, 0)
    if len(info) != 2 + 2 * count:
        raise ClassFormatError(f"{what}: length {len(info)} does not match {count} classes")
    indices = sorted(struct.unpack_from(f">{count}H", info, 2), key=pool.class_name)
    return info[:2] + struct.pack(f">{count}H", *indices)


def _sort_attributes(cf: ClassFile, attrs: list[Attribute]) -> list[Attribute]:
    """``attrs`` sorted by name, with the contents of Code, Record and the class tables canonicalized."""
    pool = cf.constant_pool
    out: list[Attribute] = []
    for a in attrs:
        name = pool.utf8(a.name_index, "attribute name")
        info = a.info
        if name == b"Code":
            code = parse_code(info, pool, cf.is_old_code_format)
            nested = _sort_attributes(cf, code.attributes)
            if any(x is not y for x, y in zip(nested, code.attributes, strict=True)):
                code.attributes = nested
                info = code.to_bytes()  # else the same bytes (the codec is byte-exact): not written again
        elif name == b"Record":
            comps = parse_record(info, pool)
            # The component ORDER is semantic (canonical constructor, getRecordComponents()): kept as is.
            info = write_record([c._replace(attributes=_sort_attributes(cf, c.attributes)) for c in comps])
        elif name == b"InnerClasses":
            info = _sorted_inner_classes(info, pool)
        elif name in (b"NestMembers", b"PermittedSubclasses"):
            info = _sorted_class_list(info, pool, name.decode())
        out.append(Attribute(a.name_index, info) if info is not a.info else a)
    out.sort(key=lambda a: pool.utf8(a.name_index))
    return out


def _sort_members(cf: ClassFile, members: list[Member], kind: str, reorder: bool) -> list[Member]:
    pool = cf.constant_pool
    keys = [(pool.utf8(m.name_index), pool.utf8(m.descriptor_index)) for m in members]
    if len(set(keys)) != len(keys):
        raise StabilizerSkip(f"two {kind}s have the same name and descriptor")
    out = [Member(m.access_flags, m.name_index, m.descriptor_index, _sort_attributes(cf, m.attributes))
           for m in members]
    if reorder:
        order = sorted(range(len(out)), key=keys.__getitem__)
        out = [out[i] for i in order]
    return out


def _sort_bootstrap_methods(cf: ClassFile) -> None:
    pool = cf.constant_pool
    pos = next((k for k, a in enumerate(cf.attributes) if pool.utf8(a.name_index) == b"BootstrapMethods"), None)
    if pos is None:
        return
    attr = cf.attributes[pos]
    bsms = parse_bootstrap_methods(attr.info, pool)
    keys = [bootstrap_key(pool, b, bsms) for b in bsms]
    order = sorted(range(len(bsms)), key=keys.__getitem__)
    if order == list(range(len(bsms))):
        return
    new_index = {old: new for new, old in enumerate(order)}
    entries = pool.entries
    for i, c in pool:
        if c.tag in (TAG_DYNAMIC, TAG_INVOKE_DYNAMIC):
            bsm_index, nat = c.fields
            entries[i] = Constant.make(c.tag, new_index[bsm_index], nat)
    cf.attributes[pos] = Attribute(attr.name_index, write_bootstrap_methods([bsms[i] for i in order]))


def canonical_members(cf: ClassFile) -> None:
    """Put ``cf`` (parsed deeply, without unknown attributes) in canonical member order, in place."""
    pool = cf.constant_pool
    is_record = any(pool.utf8(a.name_index) == b"Record" for a in cf.attributes)
    _sort_bootstrap_methods(cf)
    cf.fields = _sort_members(cf, cf.fields, "field", reorder=not is_record)
    cf.methods = _sort_members(cf, cf.methods, "method", reorder=True)
    cf.attributes = _sort_attributes(cf, cf.attributes)


def _apply(entry: Entry, ctx: Context) -> Entry:
    data = ctx.content(entry)
    cf = load_class(entry, ctx, data)
    try:
        canonical_members(cf)
        new = write_class(cf)
        read_class(new, deep=True)  # the result must stay a well-formed class file
    except ClassFormatError as exc:
        raise StabilizerSkip(f"cannot reorder members: {exc}") from None
    if new == data:
        return entry
    return entry.replace(payload=Payload.of_bytes(new, entry.payload.what))


STABILIZER = Stabilizer(
    name="class-member-order",
    scope=Scope.ENTRY,
    category=Category.JVM_BYTECODE,
    removes="the order of fields, methods, attributes, InnerClasses/NestMembers/PermittedSubclasses entries and "
            "bootstrap methods in class files",
    reason="the JVM resolves members by name and descriptor and attributes by name, never by position; "
           "reflection does not specify member order; record component order is kept",
    apply=_apply,
    applies_to=is_class_entry,
    enabled_by_default=False,  # member order is visible to reflection (getDeclaredMethods/Fields)
    deferred=True,
)
