"""class-constant-pool-order: the order of the constants in the constant pool of every class file.

Removes: the numbering of the constant pool. Compilers number constants in the order their internals happen
to create them (javac and ecj differ, and so do javac versions for the same source), so two builds of the same
code can have the same constants under different indices, and every instruction and attribute that names a
constant then differs too. Every class is renumbered into a canonical order that depends only on its content:
the constants loaded by one-byte ``ldc`` first, then every constant in order of first use in a walk of the class
in file order, then the constants nothing refers to, sorted by content (none is ever dropped).

Safe because an index is only a name for a constant: the constants stay exactly the same bytes and every
reference to them is remapped -- between constants, in the class header, member names and descriptors,
attribute names, bytecode operands, exception tables, StackMapTable frames, local-variable tables, signatures,
inner classes, annotations, bootstrap methods, module descriptors, records and every other attribute of JVMS
4.7 (:mod:`canonjar.classfile.remap`). Indices are fixed-size fields and ``ldc`` targets stay below 256, so no
instruction changes size and no code offset, branch, exception range or StackMapTable offset moves. A class
with an attribute the remapper does not know (whose bytes might hold indices) or a malformed class is left
untouched and the skip is recorded with the reason.
"""

from __future__ import annotations

from ..classfile import ClassFormatError, read_class, unknown_attributes_of
from ..classfile.remap import RemapError, canonical_bytes
from ..errors import StabilizerSkip
from ..model import Entry, Payload
from ..pipeline import Context, Scope, Stabilizer
from ..taxonomy import Category


def _is_class(entry: Entry) -> bool:
    return entry.name.endswith(b".class") and not entry.is_dir


def _apply(entry: Entry, ctx: Context) -> Entry:
    data = ctx.content(entry)
    try:
        cf = read_class(data, deep=True)
        unknown = unknown_attributes_of(data, cf)
        if unknown:
            where, name = unknown[0]
            raise StabilizerSkip(f"unknown attribute {name!r} in {where}: its constant-pool indices cannot be "
                                 f"remapped")
        out = canonical_bytes(cf, data)  # cf was read from data, unchanged: write_class(cf) == data
    except (ClassFormatError, RemapError) as exc:
        raise StabilizerSkip(str(exc)) from None
    if out is None or out == data:
        return entry
    return entry.replace(payload=Payload.of_bytes(out, entry.payload.what))


STABILIZER = Stabilizer(
    name="class-constant-pool-order",
    scope=Scope.ENTRY,
    category=Category.JVM_BYTECODE,
    removes="the numbering of class-file constant pools (constants renumbered into a canonical order, every "
            "reference remapped)",
    reason="constant-pool order is an artifact of compiler internals; indices only name the same constants, "
           "every reference is remapped and ldc targets stay one byte, so no instruction or offset changes",
    apply=_apply,
    applies_to=_is_class,
    # On by default: deferred, so compare runs it only on classes whose bytes still differ.
    deferred=True,
)
