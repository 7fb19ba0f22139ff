"""Recognize and name the JDK-version and compiler idioms that make two compilations of the same source differ.

:func:`markers` counts, in the symbolic view of one class (:mod:`canonjar.classfile.disasm`), the shapes that
javac emits differently by target release, and those that tell javac from Eclipse's ecj:

- ``indy-string-concat``: ``invokedynamic`` to ``StringConcatFactory.makeConcatWithConstants`` (javac, target
  9+) versus ``StringBuilder`` chains (target 8, ecj, ``-XDstringConcat=inline``);
- ``enum-switch-map``: ``$SwitchMap$`` arrays of a synthetic ``$1`` class (javac) versus ``$SWITCH_TABLE$``
  methods (ecj);
- ``nestmates``: NestHost/NestMembers (target 11+) versus ``access$NNN`` accessor methods;
- ``object-methods-on-interfaces``: ``invokeinterface I.toString/hashCode/equals`` versus ``invokevirtual
  java/lang/Object...`` for the same call;
- ``enum-values-helper``: the ``$values()`` method of enums (javac 15+);
- ``try-with-resources``: the ``$closeResource`` helper (javac 9-10) versus inline ``addSuppressed`` code;
- ``buffer-covariant-returns``: ``ByteBuffer.flip()Ljava/nio/Buffer;`` (compiled for JDK 8) versus
  ``ByteBuffer.flip()Ljava/nio/ByteBuffer;`` (JDK 9+ API), likewise clear/position/limit/mark/reset/rewind;
- ``null-checks``: ``Objects.requireNonNull`` (javac 9+) versus ``getClass()`` null checks;
- ``class-version``: the class file major version.

:func:`compare_idioms` names the idioms that differ between a reference and a rebuild class, each with the
evidence of both sides; :func:`compiler_markers` lists what says javac or ecj.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .disasm import ClassView, java_version

__all__ = ["Idiom", "compare_idioms", "compiler_markers", "compiler_of", "markers"]


@dataclass(frozen=True)
class Idiom:
    """One idiom that differs: its id and what each side shows."""

    id: str
    reference: str
    rebuild: str

    @property
    def phrase(self) -> str:
        return f"{self.id}: reference {self.reference}, rebuild {self.rebuild}"


_OBJECT_METHODS = r"(hashCode:\(\)I|equals:\(Ljava/lang/Object;\)Z|toString:\(\)Ljava/lang/String;)"
_IFACE_OBJECT = re.compile(r"^invokeinterface InterfaceMethod (?!java/lang/Object\.)\S+\." + _OBJECT_METHODS + "$")
_VIRTUAL_OBJECT = re.compile(r"^invokevirtual Method java/lang/Object\." + _OBJECT_METHODS + "$")
_BUFFER = re.compile(r"^invokevirtual Method java/nio/(Byte|Char|Short|Int|Long|Float|Double|MappedByte)Buffer\."
                     r"(flip|clear|position|limit|mark|reset|rewind):\([^)]*\)Ljava/nio/(\w*)Buffer;$")
_ACCESSOR = re.compile(r"^access\$\d+$")
_JAVAC_LAMBDA = re.compile(r"^lambda\$.+\$\d+$")
_ECJ_LAMBDA = re.compile(r"^lambda\$\d+$")
_SB_TO_STRING = ("invokevirtual Method java/lang/StringBuilder.toString:()Ljava/lang/String;",
                 "invokevirtual Method java/lang/StringBuffer.toString:()Ljava/lang/String;")
_GETCLASS = "invokevirtual Method java/lang/Object.getClass:()Ljava/lang/Class;"
_REQUIRE_NON_NULL = "invokestatic Method java/util/Objects.requireNonNull:(Ljava/lang/Object;)Ljava/lang/Object;"


def markers(view: ClassView) -> dict[str, int]:
    """Counts of every idiom shape in ``view`` (see the module documentation)."""
    m = dict.fromkeys(("indy-concat", "sb-concat", "switch-map", "switch-table", "nest", "accessor-defs",
                       "accessor-calls", "iface-object", "virtual-object", "values-helper", "close-resource",
                       "add-suppressed", "buffer-8", "buffer-9", "require-non-null", "getclass-check"), 0)
    m["nest"] = int(any(n in ("NestHost", "NestMembers") for n in view.attribute_names))
    for f in view.fields:
        if f.name.startswith("$SwitchMap$"):
            m["switch-map"] += 1
        elif f.name.startswith("$SWITCH_TABLE$"):
            m["switch-table"] += 1
    for meth in view.methods:
        name = meth.name
        if _ACCESSOR.match(name):
            m["accessor-defs"] += 1
        elif name == "$values":
            m["values-helper"] += 1
        elif name == "$closeResource":
            m["close-resource"] += 1
        elif name.startswith("$SWITCH_TABLE$"):
            m["switch-table"] += 1
        previous = ""
        for raw in meth.code:
            line = raw.strip()
            if line.startswith("invokedynamic") and "StringConcatFactory.makeConcat" in line:
                m["indy-concat"] += 1
            elif line in _SB_TO_STRING:
                m["sb-concat"] += 1
            elif "$SwitchMap$" in line and line.startswith("getstatic"):
                m["switch-map"] += 1
            elif "$SWITCH_TABLE$" in line:
                m["switch-table"] += 1
            elif line.startswith("invokestatic") and ".access$" in line:
                m["accessor-calls"] += 1
            elif _IFACE_OBJECT.match(line):
                m["iface-object"] += 1
            elif _VIRTUAL_OBJECT.match(line):
                m["virtual-object"] += 1
            elif "Throwable.addSuppressed" in line:
                m["add-suppressed"] += 1
            elif ".$closeResource:" in line:
                m["close-resource"] += 1
            elif line == "pop" and previous == _GETCLASS:
                m["getclass-check"] += 1
            elif line == "pop" and previous == _REQUIRE_NON_NULL:
                m["require-non-null"] += 1
            else:
                hit = _BUFFER.match(line)
                if hit:
                    m["buffer-8" if hit.group(3) == "" else "buffer-9"] += 1
            previous = line
    return m


def compiler_markers(view: ClassView) -> dict[str, list[str]]:
    """What in ``view`` says it was compiled by javac or by ecj: ``{"javac": [...], "ecj": [...]}``."""
    out: dict[str, list[str]] = {"javac": [], "ecj": []}

    def add(compiler: str, what: str) -> None:
        if what not in out[compiler]:
            out[compiler].append(what)

    for f in view.fields:
        if f.name == "$VALUES":
            add("javac", "$VALUES field")
        elif f.name == "ENUM$VALUES":
            add("ecj", "ENUM$VALUES field")
        elif f.name.startswith("$SWITCH_TABLE$"):
            add("ecj", "$SWITCH_TABLE$ switch map")
    for meth in view.methods:
        if _JAVAC_LAMBDA.match(meth.name):
            add("javac", f"lambda name {meth.name}")
        elif _ECJ_LAMBDA.match(meth.name):
            add("ecj", f"lambda name {meth.name}")
        names = [n for n in meth.attribute_names if n in ("Code", "Exceptions")]
        if names == ["Exceptions", "Code"]:
            add("ecj", "Exceptions attribute before Code")
        if any("$SwitchMap$" in ln for ln in meth.code):
            add("javac", "$SwitchMap$ switch map")
    return out


def compiler_of(view: ClassView) -> tuple[str, list[str]] | None:
    """``("javac"|"ecj", evidence)`` when only one compiler's markers are in ``view``, else None."""
    found = compiler_markers(view)
    if found["javac"] and not found["ecj"]:
        return "javac", found["javac"]
    if found["ecj"] and not found["javac"]:
        return "ecj", found["ecj"]
    return None


def _pick(texts: dict[bool, str], flag: bool) -> str:
    return texts[flag]


def compare_idioms(a: ClassView, b: ClassView) -> list[Idiom]:
    """The idioms that differ between reference ``a`` and rebuild ``b``, with evidence (empty when none)."""
    ma, mb = markers(a), markers(b)
    out: list[Idiom] = []
    if a.major != b.major:
        out.append(Idiom("class-version", f"{a.major}.{a.minor} ({java_version(a.major)})",
                         f"{b.major}.{b.minor} ({java_version(b.major)})"))

    def concat(m: dict[str, int]) -> str:
        if m["indy-concat"]:
            return f"uses invokedynamic makeConcatWithConstants ({m['indy-concat']}x: javac, JDK 9+ target)"
        if m["sb-concat"]:
            return f"uses StringBuilder chains ({m['sb-concat']}x: JDK 8 target, ecj or -XDstringConcat=inline)"
        return "has no string concatenation"
    if bool(ma["indy-concat"]) != bool(mb["indy-concat"]):
        out.append(Idiom("indy-string-concat", concat(ma), concat(mb)))

    def switch(m: dict[str, int]) -> str:
        if m["switch-map"] and not m["switch-table"]:
            return "uses $SwitchMap$ arrays of a synthetic $1 class (javac)"
        if m["switch-table"] and not m["switch-map"]:
            return "uses a $SWITCH_TABLE$ method (ecj)"
        return "uses both switch-map shapes" if m["switch-map"] else "has no enum switch map"
    if (bool(ma["switch-map"]), bool(ma["switch-table"])) != (bool(mb["switch-map"]), bool(mb["switch-table"])):
        out.append(Idiom("enum-switch-map", switch(ma), switch(mb)))

    def nest(m: dict[str, int]) -> str:
        parts = []
        if m["nest"]:
            parts.append("NestHost/NestMembers (JDK 11+ target)")
        if m["accessor-defs"] or m["accessor-calls"]:
            parts.append(f"access$NNN accessors ({m['accessor-defs']} defined, {m['accessor-calls']} called: "
                         "JDK 10 or older target)")
        return " and ".join(parts) if parts else "neither nest attributes nor accessors"
    key_a = (bool(ma["nest"]), bool(ma["accessor-defs"] or ma["accessor-calls"]))
    key_b = (bool(mb["nest"]), bool(mb["accessor-defs"] or mb["accessor-calls"]))
    if key_a != key_b:
        out.append(Idiom("nestmates", nest(ma), nest(mb)))

    if (ma["iface-object"] and mb["virtual-object"] and not mb["iface-object"]) or (
            mb["iface-object"] and ma["virtual-object"] and not ma["iface-object"]):
        def obj(m: dict[str, int]) -> str:
            return (f"calls Object methods with invokeinterface ({m['iface-object']}x)" if m["iface-object"]
                    else f"calls Object methods with invokevirtual java/lang/Object ({m['virtual-object']}x)")
        out.append(Idiom("object-methods-on-interfaces", obj(ma), obj(mb)))

    if bool(ma["values-helper"]) != bool(mb["values-helper"]):
        texts = {True: "has the enum $values() helper (javac 15+)", False: "has no $values() helper"}
        out.append(Idiom("enum-values-helper", _pick(texts, bool(ma["values-helper"])),
                         _pick(texts, bool(mb["values-helper"]))))

    def twr(m: dict[str, int]) -> str:
        if m["close-resource"]:
            return "closes resources through a $closeResource helper (javac 9-10)"
        if m["add-suppressed"]:
            return f"closes resources inline with addSuppressed ({m['add-suppressed']}x)"
        return "has no try-with-resources shape"
    if (bool(ma["close-resource"]), bool(ma["add-suppressed"])) != (bool(mb["close-resource"]),
                                                                      bool(mb["add-suppressed"])):
        out.append(Idiom("try-with-resources", twr(ma), twr(mb)))

    def buf(m: dict[str, int]) -> str:
        if m["buffer-8"] and not m["buffer-9"]:
            return f"calls Buffer methods returning java/nio/Buffer ({m['buffer-8']}x: compiled against JDK 8)"
        if m["buffer-9"] and not m["buffer-8"]:
            return f"calls covariant Buffer methods ({m['buffer-9']}x: compiled against the JDK 9+ API)"
        return "mixes both Buffer descriptors" if m["buffer-8"] else "calls no Buffer flip/clear/position..."
    if (bool(ma["buffer-8"]), bool(ma["buffer-9"])) != (bool(mb["buffer-8"]), bool(mb["buffer-9"])):
        out.append(Idiom("buffer-covariant-returns", buf(ma), buf(mb)))

    def null(m: dict[str, int]) -> str:
        if m["require-non-null"]:
            return f"checks nulls with Objects.requireNonNull ({m['require-non-null']}x: javac 9+)"
        if m["getclass-check"]:
            return f"checks nulls with getClass() ({m['getclass-check']}x: javac 8 or older, ecj)"
        return "has no synthetic null check"
    if (bool(ma["require-non-null"]), bool(ma["getclass-check"])) != (bool(mb["require-non-null"]),
                                                                        bool(mb["getclass-check"])):
        out.append(Idiom("null-checks", null(ma), null(mb)))
    return out
