"""class-lambda-names: the numbering of synthetic lambda implementation methods in class files.

Removes: the numbers in the names of lambda implementation methods -- javac's ``lambda$<method>$<n>`` and ecj's
``lambda$<n>`` -- which follow the order in which the compiler happened to visit the lambdas (javac counts over
the whole class, so adding, removing or moving a lambda in one method renumbers those of the others). The
lambdas of each ``<method>`` group are renumbered 0, 1, 2... in a canonical order: the order of first reference
in a walk of the code that starts from the class's other methods sorted by (name, descriptor), follows each
instruction in order and enters a lambda's own code (nested lambdas) as soon as it is first referenced. The walk
resolves constants through the pool, so it does not depend on the constant-pool order.

How: the name is held by one CONSTANT_Utf8; rewriting its contents renames the definition (the method's
``name_index``) and every reference (NameAndType -> Methodref -> MethodHandle) together. The new names are a
permutation/renumbering applied to the contents of those Utf8 constants, checked to create no duplicate.

Why it is safe: lambda implementation methods are private synthetic methods. They are reached only through
the bootstrap arguments of the ``invokedynamic`` call sites in the same class (MethodHandle constants that
point at a Methodref of this class); the JVM links them by name and descriptor, so a consistent rename within
the class changes nothing observable but a stack-trace frame name.

Refused (skipped with a reason), never rewritten:

- a class with a ``$deserializeLambda$`` method: serializable lambdas find their implementation by *name*
  (``SerializedLambda.getImplMethodName``), across serialized data;
- a class that declares local or anonymous classes: their EnclosingMethod attribute (in *another* class file)
  may name a lambda method (ecj does this for classes declared inside a lambda body);
- a lambda name whose Utf8 constant is used for anything but the name of a lambda method or of the NameAndType
  of a Methodref of this class (a String value, a descriptor, a field name, an EnclosingMethod, an annotation,
  a local-variable name, a call site name...); attributes whose layout is not parsed here are scanned for the
  constant's index at every offset, so a possible use also refuses;
- a ``lambda$...`` method that is not private and synthetic, two lambda methods with the same name, a lambda
  not reached from the class's code, a new name already present in the pool, unknown attributes, and any
  malformed class.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Iterator

from ..classfile import (
    Attribute,
    BootstrapMethod,
    ClassFile,
    ClassFormatError,
    Constant,
    Member,
    iter_instructions,
    parse_code,
    parse_record,
    read_class,
    write_class,
)
from ..classfile.bytecode import CP_INDEX_WIDTH
from ..classfile.constants import (
    CONSTANT_NAMES,
    TAG_CLASS,
    TAG_DYNAMIC,
    TAG_INTERFACE_METHODREF,
    TAG_INVOKE_DYNAMIC,
    TAG_METHOD_HANDLE,
    TAG_METHOD_TYPE,
    TAG_METHODREF,
    TAG_MODULE,
    TAG_NAME_AND_TYPE,
    TAG_PACKAGE,
    TAG_STRING,
    TAG_UTF8,
)
from ..errors import StabilizerSkip
from ..model import Entry, Payload
from ..pipeline import Context, Scope, Stabilizer
from ..taxonomy import Category
from .class_member_order import is_class_entry, load_class

__all__ = ["LAMBDA_NAME", "STABILIZER", "canonical_lambda_names"]

#: javac: ``lambda$<enclosing method>$<n>`` (``lambda$static$0``, ``lambda$new$0``, ``lambda$null$0`` in javac 8);
#: ecj: ``lambda$<n>``. Group 1 is the enclosing method (None for ecj), group 2 the number.
LAMBDA_NAME = re.compile(rb"lambda\$(?:(.+)\$)?(\d+)", re.DOTALL)
ACC_PRIVATE = 0x0002
ACC_SYNTHETIC = 0x1000
_MAX_NESTING = 200
_U2 = struct.Struct(">H")

#: Attributes that hold no Utf8 index at all (their constant-pool indices point to other kinds), apart from
#: their own name. Code is handled separately (instructions never refer to a Utf8 constant).
_NO_UTF8 = frozenset({
    b"StackMapTable", b"LineNumberTable", b"Exceptions", b"NestHost", b"NestMembers", b"PermittedSubclasses",
    b"BootstrapMethods", b"ConstantValue", b"Synthetic", b"Deprecated", b"SourceDebugExtension",
    b"ModuleMainClass", b"ModulePackages",
})


def _u2s(info: bytes, start: int, stride: int, offsets: tuple[int, ...], count_size: int = 2) -> Iterator[int]:
    """The u2 values at ``offsets`` of each ``stride``-byte row of a table whose count precedes it."""
    if len(info) < count_size:
        raise ClassFormatError("attribute truncated")
    count = info[0] if count_size == 1 else _U2.unpack_from(info, 0)[0]
    if len(info) != start + stride * count:
        raise ClassFormatError(f"attribute length {len(info)} does not match {count} rows")
    for k in range(count):
        for off in offsets:
            yield _U2.unpack_from(info, start + stride * k + off)[0]


class _Uses:
    """Finds whether Utf8 constants are used for anything other than lambda method names."""

    def __init__(self, cf: ClassFile, watched: set[int]) -> None:
        self.cf = cf
        self.watched = watched  # Utf8 indices holding a lambda name
        self.lambda_nats: set[int] = set()
        self.problems: list[str] = []

    def bad(self, index: int, what: str) -> None:
        if index in self.watched:
            self.problems.append(f"{self.cf.constant_pool.text(index)!r} is also used as {what}")

    def scan(self, lambda_methods: set[int]) -> list[str]:
        cf = self.cf
        pool = cf.constant_pool
        this_name = pool.class_name(cf.this_class)
        for i, c in pool:
            if c.tag == TAG_NAME_AND_TYPE:
                name, desc = c.fields
                if name in self.watched:
                    self.lambda_nats.add(i)
                self.bad(desc, "a descriptor")
            elif c.tag in (TAG_CLASS, TAG_STRING, TAG_METHOD_TYPE, TAG_MODULE, TAG_PACKAGE):
                self.bad(c.fields[0], f"the value of a {CONSTANT_NAMES[c.tag]} constant")
        for i, c in pool:
            if c.tag in (TAG_METHODREF, TAG_INTERFACE_METHODREF) and c.fields[1] in self.lambda_nats:
                if pool.class_name(c.fields[0]) != this_name:
                    self.problems.append(f"constant #{i} refers to a method of that name in another class")
            elif c.tag not in (TAG_UTF8, TAG_NAME_AND_TYPE) and any(r in self.lambda_nats for r in c.refs):
                self.problems.append(f"constant #{i} (a field, call site or dynamic constant) uses a lambda name")
        for f in cf.fields:
            self.bad(f.name_index, "a field name")
            self.bad(f.descriptor_index, "a field descriptor")
            self.attributes(f.attributes)
        for k, m in enumerate(cf.methods):
            if k not in lambda_methods:
                self.bad(m.name_index, "the name of a method that is not a lambda")
            self.bad(m.descriptor_index, "a method descriptor")
            self.attributes(m.attributes)
        self.attributes(cf.attributes)
        return self.problems

    def attributes(self, attrs: list[Attribute]) -> None:
        pool = self.cf.constant_pool
        for a in attrs:
            self.bad(a.name_index, "an attribute name")
            name = pool.utf8(a.name_index, "attribute name")
            info = a.info
            if name in _NO_UTF8:
                continue
            if name == b"Code":
                self.attributes(parse_code(info, pool, self.cf.is_old_code_format).attributes)
            elif name in (b"SourceFile", b"Signature"):
                if len(info) != 2:
                    raise ClassFormatError(f"{name.decode()}: length {len(info)} is not 2")
                self.bad(_U2.unpack_from(info, 0)[0], f"a {name.decode()}")
            elif name in (b"LocalVariableTable", b"LocalVariableTypeTable"):
                for index in _u2s(info, 2, 10, (4, 6)):
                    self.bad(index, "a local variable name or descriptor")
            elif name == b"MethodParameters":
                for index in _u2s(info, 1, 4, (0,), count_size=1):
                    self.bad(index, "a parameter name")
            elif name == b"InnerClasses":
                for index in _u2s(info, 2, 8, (4,)):
                    self.bad(index, "an inner class name")
            elif name == b"EnclosingMethod":
                if len(info) != 4:
                    raise ClassFormatError(f"EnclosingMethod: length {len(info)} is not 4")
                if _U2.unpack_from(info, 2)[0] in self.lambda_nats:
                    self.problems.append("EnclosingMethod names a method called like a lambda")
            elif name == b"Record":
                for comp in parse_record(info, pool):
                    self.bad(comp.name_index, "a record component name")
                    self.bad(comp.descriptor_index, "a record component descriptor")
                    self.attributes(comp.attributes)
            else:  # annotations, Module...: not parsed here, so any matching u2 anywhere counts as a use
                for index in self.watched:
                    if _U2.pack(index) in info:
                        self.problems.append(f"{pool.text(index)!r} may be used inside a {name.decode()} attribute")


def _lambda_order(cf: ClassFile, lambdas: dict[bytes, Member]) -> list[bytes]:
    """Lambda names in the order of first reference of the canonical walk (see the module documentation)."""
    pool = cf.constant_pool
    this_name = pool.class_name(cf.this_class)
    bsms: list[BootstrapMethod] = cf.bootstrap_methods() or []
    order: list[bytes] = []
    seen: set[bytes] = set()

    def targets(index: int, depth: int) -> Iterator[bytes]:
        if depth > 16:
            raise ClassFormatError("constants nest too deeply")
        c = pool[index]
        if c.tag in (TAG_INVOKE_DYNAMIC, TAG_DYNAMIC):
            bsm_index = c.fields[0]
            if bsm_index >= len(bsms):
                raise ClassFormatError(f"constant #{index} uses a missing bootstrap method")
            bsm = bsms[bsm_index]
            for arg in (bsm.method_ref, *bsm.arguments):
                yield from targets(arg, depth + 1)
        elif c.tag == TAG_METHOD_HANDLE:
            yield from targets(c.fields[1], depth + 1)
        elif c.tag in (TAG_METHODREF, TAG_INTERFACE_METHODREF):
            cls, nat = c.fields
            name = pool.utf8(pool.get(nat, TAG_NAME_AND_TYPE).fields[0])
            if name in lambdas and pool.class_name(cls) == this_name:
                yield name

    def walk(method: Member, depth: int) -> None:
        if depth > _MAX_NESTING:
            raise StabilizerSkip("lambdas nest too deeply")
        code = cf.code(method)
        if code is None:
            return
        for insn in iter_instructions(code.code):
            if insn.opcode not in CP_INDEX_WIDTH:
                continue
            for name in targets(insn.operands[0], 0):
                if name not in seen:
                    seen.add(name)
                    order.append(name)
                    walk(lambdas[name], depth + 1)

    roots = [m for m in cf.methods if pool.utf8(m.name_index) not in lambdas]
    roots.sort(key=lambda m: (pool.utf8(m.name_index), pool.utf8(m.descriptor_index)))
    for m in roots:
        walk(m, 0)
    missing = sorted(set(lambdas) - seen)
    if missing:
        raise StabilizerSkip(f"lambda method {missing[0].decode(errors='replace')} is not reached from the code "
                             "of the class")
    return order


def canonical_lambda_names(cf: ClassFile) -> bool:
    """Renumber the lambda methods of ``cf`` (parsed deeply, without unknown attributes) in place. Returns whether
    anything changed; raises :class:`StabilizerSkip` when the class must be left alone."""
    pool = cf.constant_pool
    lambdas: dict[bytes, Member] = {}
    lambda_methods: set[int] = set()
    for k, m in enumerate(cf.methods):
        name = pool.utf8(m.name_index)
        if name == b"$deserializeLambda$":
            raise StabilizerSkip("the class has $deserializeLambda$: serializable lambdas are found by name")
        if LAMBDA_NAME.fullmatch(name) is None:
            continue
        if m.access_flags & (ACC_PRIVATE | ACC_SYNTHETIC) != ACC_PRIVATE | ACC_SYNTHETIC:
            raise StabilizerSkip(f"method {name.decode(errors='replace')} is named like a lambda but is not "
                                 "private synthetic")
        if name in lambdas:
            raise StabilizerSkip(f"two lambda methods are named {name.decode(errors='replace')}")
        lambdas[name] = m
        lambda_methods.add(k)
    if not lambdas:
        return False
    inner = cf.find_attribute(cf.attributes, b"InnerClasses")
    if inner is not None:
        rows = list(_u2s(inner.info, 2, 8, (0, 2)))
        for inner_index, outer_index in zip(rows[::2], rows[1::2], strict=True):
            if outer_index == 0 and pool.class_name(inner_index) != pool.class_name(cf.this_class):
                raise StabilizerSkip("the class declares local or anonymous classes, whose EnclosingMethod may name "
                                     "a lambda method")

    order = _lambda_order(cf, lambdas)
    rank: dict[bytes | None, int] = {}
    rename: dict[bytes, bytes] = {}
    for name in order:
        match = LAMBDA_NAME.fullmatch(name)
        assert match is not None
        group = match.group(1)
        n = rank.get(group, 0)
        rank[group] = n + 1
        rename[name] = b"lambda$" + (group + b"$" if group is not None else b"") + str(n).encode()
    rename = {old: new for old, new in rename.items() if old != new}
    if not rename:
        return False

    watched = {i for i, c in pool if c.tag == TAG_UTF8 and c.value in lambdas}
    problems = _Uses(cf, watched).scan(lambda_methods)
    if problems:
        raise StabilizerSkip(f"cannot rename lambda methods: {problems[0]}")
    targets = set(rename.values()) - set(rename)
    clash = [c.value for _, c in pool if c.tag == TAG_UTF8 and c.value in targets]
    if clash:
        raise StabilizerSkip(f"new lambda name {clash[0].decode(errors='replace')} is already in the constant pool")
    entries = pool.entries
    for i in watched:
        c = pool[i]
        new = rename.get(c.value)
        if new is not None:
            entries[i] = Constant.utf8(new)
    return True


def _apply(entry: Entry, ctx: Context) -> Entry:
    data = ctx.content(entry)
    cf = load_class(entry, ctx, data)
    try:
        if not canonical_lambda_names(cf):
            return entry
        new = write_class(cf)
        read_class(new, deep=True)
    except ClassFormatError as exc:
        raise StabilizerSkip(f"cannot rename lambda methods: {exc}") from None
    if new == data:
        return entry
    return entry.replace(payload=Payload.of_bytes(new, entry.payload.what))


STABILIZER = Stabilizer(
    name="class-lambda-names",
    scope=Scope.ENTRY,
    category=Category.JVM_BYTECODE,
    removes="the numbering of synthetic lambda methods (lambda$<method>$<n>, lambda$<n>) in class files",
    reason="lambda methods are private synthetic methods reached only through the invokedynamic bootstrap "
           "arguments of the same class; renaming their one Utf8 name constant renames definition and uses together",
    apply=_apply,
    applies_to=is_class_entry,
    enabled_by_default=False,  # lambda method names are visible in stack traces and to reflection
    deferred=True,
)
