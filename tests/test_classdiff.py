"""The symbolic disassembly, the structural class diff and the idiom recognizer on classes compiled here.

One source (string concatenation, an enum switch, an inner class reading a private field, try-with-resources,
ByteBuffer.flip(), a lambda) is compiled by javac 17 with ``-g``, ``-g:none`` and ``--release 8``, and by ecj
when it is installed. The tests check what the diff and the idioms say about real pairs, that a permuted
constant pool or member order is no structural difference, and that a changed instruction or constant is a
code difference even when debug information differs as well.
"""

from __future__ import annotations

import random
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from canonjar.classfile import Attribute, ClassFile, Constant, parse_code, read_class, write_class
from canonjar.classfile.classdiff import diff_classes
from canonjar.classfile.disasm import disassemble, view_class
from canonjar.classfile.idioms import compare_idioms, compiler_of
from canonjar.classfile.remap import renumber
from tests.helpers import jdk_tool
from tests.test_class_constant_pool_order import random_order

SOURCE = """\
package p;

import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;

public class Sample {
    enum Color { RED, GREEN, BLUE }
    private int secret = 42;
    class Inner { int peek() { return secret; } }
    static String describe(Color c, int n) {
        switch (c) {
            case RED: return "red " + n;
            case GREEN: return "green" + n + c;
            default: return "other";
        }
    }
    static int flipIt(ByteBuffer b) { b.flip(); return b.remaining(); }
    static String read(String p) throws IOException {
        try (Reader r = new StringReader(p)) { return String.valueOf((char) r.read()); }
    }
    static int hash(List<String> l) { return l.hashCode() + l.toString().length(); }
    public static void main(String[] args) throws Exception {
        Runnable run = () -> System.out.println("lambda " + args.length);
        run.run();
        System.out.println(describe(Color.GREEN, 3) + new Sample().new Inner().peek()
            + flipIt(ByteBuffer.allocate(4)));
        System.out.println(read("xyz") + hash(Arrays.asList("a")));
    }
}
"""

SAMPLE = "p/Sample.class"


@dataclass
class Variants:
    """Class files by variant (``g``, ``gnone``, ``r8``, ``ecj``) and path."""

    classes: dict[str, dict[str, bytes]]

    def get(self, variant: str, path: str = SAMPLE) -> bytes:
        if variant not in self.classes:
            pytest.skip(f"variant {variant} was not compiled (compiler missing)")
        return self.classes[variant][path]


def compile_variants(root: Path) -> Variants:
    """Compile :data:`SOURCE` with javac (-g, -g:none, --release 8) and ecj (if on PATH)."""
    javac = jdk_tool("javac")
    if javac is None:
        pytest.skip("no javac on PATH")
    src = root / "src" / "p" / "Sample.java"
    src.parent.mkdir(parents=True, exist_ok=True)
    src.write_text(SOURCE)
    jobs = {
        "g": [javac, "-g", "--release", "17"],
        "gnone": [javac, "-g:none", "--release", "17"],
        "r8": [javac, "-g", "--release", "8", "-nowarn"],
    }
    ecj = shutil.which("ecj")
    if ecj is not None:
        jobs["ecj"] = [ecj, "-17", "-g", "-proc:none", "-nowarn"]
    out: dict[str, dict[str, bytes]] = {}
    for name, cmd in jobs.items():
        dest = root / name
        res = subprocess.run([*cmd, "-d", str(dest), str(src)], capture_output=True, text=True, timeout=300,
                             check=False)
        if res.returncode != 0:
            if name == "ecj":
                continue
            pytest.skip(f"{name}: compiler failed: {res.stderr.strip()[:300]}")
        out[name] = {str(p.relative_to(dest)): p.read_bytes() for p in sorted(dest.rglob("*.class"))}
    return Variants(out)


@pytest.fixture(scope="module")
def variants(tmp_path_factory: pytest.TempPathFactory) -> Variants:
    return compile_variants(tmp_path_factory.mktemp("classdiff"))


# ------------------------------------------------------------------------------------------------ rewrites

def permute_pool(data: bytes, seed: int = 7) -> bytes:
    """The class with its constant pool randomly renumbered (every index remapped, ldc targets kept <= 255)."""
    cf = read_class(data)
    out = write_class(renumber(cf, random_order(cf, random.Random(seed))))
    assert out != data
    return out


def reverse_members(data: bytes) -> bytes:
    """The class with its fields, methods and class attributes in reverse order."""
    cf = read_class(data)
    cf.fields.reverse()
    cf.methods.reverse()
    cf.attributes.reverse()
    out = write_class(cf)
    assert out != data
    return out


def patch_bipush(data: bytes, method: str, old: int, new: int) -> bytes:
    """The class with ``bipush old`` in ``method`` changed to ``bipush new`` (one byte of code)."""
    cf = read_class(data)
    pool = cf.constant_pool
    for m in cf.methods:
        if cf.member_name(m) != method:
            continue
        for k, a in enumerate(m.attributes):
            if pool.utf8(a.name_index) != b"Code":
                continue
            code = parse_code(a.info, pool)
            insn = next(i for i in code.instructions() if i.mnemonic == "bipush" and i.operands == (old,))
            body = bytearray(code.code)
            body[insn.offset + 1] = new
            code.code = bytes(body)
            m.attributes[k] = Attribute(a.name_index, code.to_bytes())
            return write_class(cf)
    raise AssertionError(f"no bipush {old} in {method}")


def change_string(data: bytes, old: bytes, new: bytes) -> bytes:
    """The class with the Utf8 constant ``old`` replaced by ``new`` (a changed string literal)."""
    cf = read_class(data)
    entries = cf.constant_pool.entries
    index = next(i for i, c in enumerate(entries) if c is not None and c.tag == 1 and c.value == old)
    entries[index] = Constant.utf8(new)
    return write_class(cf)


def add_unused_constant(data: bytes) -> bytes:
    cf = read_class(data)
    cf.constant_pool.append(Constant.utf8(b"payload nobody references"))
    return write_class(cf)


def diff(a: bytes, b: bytes) -> object:
    return diff_classes(read_class(a), read_class(b), "Sample.class")


# ------------------------------------------------------------------------------------------------ disassembly

def test_disassembly_is_symbolic_and_javap_like(variants: Variants) -> None:
    text = disassemble(read_class(variants.get("g")))
    assert "version 61.0 (Java 17)" in text and "this p/Sample" in text and "super java/lang/Object" in text
    assert "field private secret I" in text
    assert "method static flipIt(Ljava/nio/ByteBuffer;)I" in text
    assert "invokevirtual Method java/nio/ByteBuffer.flip:()Ljava/nio/ByteBuffer;" in text
    assert "bipush 42" in text and 'ldc String "other"' in text
    assert "invokedynamic makeConcatWithConstants:(I)Ljava/lang/String; bsm " \
           "java/lang/invoke/StringConcatFactory.makeConcatWithConstants" in text
    assert "try L0-L1 -> L2 catch java/lang/Throwable" in text  # try-with-resources, labels not offsets
    assert "lookupswitch {1: L0, 2: L1; default: L2}" in text
    assert "LineNumberTable:" in text and "SourceFile: Sample.java" in text
    assert "#" not in "".join(ln for ln in text.splitlines() if ln.strip().startswith("invoke"))  # no indices
    old = disassemble(read_class(variants.get("r8")))
    assert "version 52.0 (Java 8)" in old
    assert "invokevirtual Method java/nio/ByteBuffer.flip:()Ljava/nio/Buffer;" in old
    assert "method static synthetic access$000(Lp/Sample;)I" in old


def test_disassembly_does_not_depend_on_pool_or_member_order(variants: Variants) -> None:
    for path, data in variants.classes["g"].items():
        view = view_class(read_class(data))
        permuted = view_class(read_class(permute_pool(data)))
        assert (view.header, view.attributes, view.methods, view.fields, view.unreferenced) == (
            permuted.header, permuted.attributes, permuted.methods, permuted.fields, permuted.unreferenced), path


# ------------------------------------------------------------------------------------------------ the diff

def test_permuted_pool_and_members_are_no_structural_difference(variants: Variants) -> None:
    data = variants.get("g")
    for other in (permute_pool(data), reverse_members(data), permute_pool(reverse_members(data), seed=3)):
        d = diff_classes(read_class(data), read_class(other))
        assert d.changes == [] and d.code_changed == [] and d.debug == [], d.changes
        assert d.complete and not d.debug_only
        assert "no structural difference" in d.text
    d = diff_classes(read_class(data), read_class(reverse_members(data)))
    assert "methods in another order" in d.order and "fields in another order" not in d.order  # one field


def test_debug_only_difference(variants: Variants) -> None:
    for path, data in variants.classes["g"].items():
        d = diff_classes(read_class(data), read_class(variants.classes["gnone"][path]))
        assert d.debug_only and d.structural_equal and d.code_changed == [], (path, d.changes)
        assert "SourceFile" in d.debug_attributes
    d = diff_classes(read_class(variants.get("g")), read_class(variants.get("gnone")))
    assert {"LineNumberTable", "LocalVariableTable", "LocalVariableTypeTable"} <= set(d.debug_attributes)
    assert "debug information: method describe" in d.text and "-LineNumberTable: 4 entries" in d.text
    assert not [ln for ln in d.text.splitlines() if ln.startswith(("-  ", "+  "))]  # no instruction lines


def test_changed_instruction_is_a_code_difference_even_with_debug_changes(variants: Variants) -> None:
    g, gnone = variants.get("g"), variants.get("gnone")
    for other in (patch_bipush(g, "<init>", 42, 43), patch_bipush(gnone, "<init>", 42, 43)):
        d = diff_classes(read_class(g), read_class(other))
        assert d.code_changed == ["<init> ()V"] and not d.debug_only and not d.structural_equal
        assert "-    bipush 42" in d.text and "+    bipush 43" in d.text
        assert any(ln.startswith("@@ ") and ln.endswith("@@ method <init> ()V") for ln in d.text.splitlines())
    changed = diff_classes(read_class(g), read_class(change_string(g, b"other", b"OTHER")))
    assert changed.code_changed == ["describe (Lp/Sample$Color;I)Ljava/lang/String;"]
    assert '-    ldc String "other"' in changed.text and '+    ldc String "OTHER"' in changed.text


def test_unreferenced_constant_is_a_difference(variants: Variants) -> None:
    g = variants.get("g")
    d = diff_classes(read_class(g), read_class(add_unused_constant(g)))
    assert not d.structural_equal and any("unreferenced constants differ" in c for c in d.changes)
    assert "+payload nobody references" in d.text.replace('"', "")


def test_release_8_vs_17_structure(variants: Variants) -> None:
    d = diff_classes(read_class(variants.get("r8")), read_class(variants.get("g")))
    assert any(c.startswith("version 52.0 (Java 8) vs 61.0 (Java 17)") for c in d.changes)
    assert "method access$000 (Lp/Sample;)I" in d.removed
    assert "flipIt (Ljava/nio/ByteBuffer;)I" in d.code_changed
    assert "-    invokevirtual Method java/nio/ByteBuffer.flip:()Ljava/nio/Buffer;" in d.text


def test_text_is_capped(variants: Variants) -> None:
    d = diff_classes(read_class(variants.get("r8")), read_class(variants.get("ecj") if "ecj" in variants.classes
                                                                 else variants.get("g")), cap=20)
    assert len(d.text.splitlines()) == 20 and d.omitted > 0


# ------------------------------------------------------------------------------------------------ idioms

def test_release_8_vs_17_idioms(variants: Variants) -> None:
    def ids(path: str) -> dict[str, str]:
        a = view_class(read_class(variants.get("r8", path)))
        b = view_class(read_class(variants.get("g", path)))
        return {i.id: i.phrase for i in compare_idioms(a, b)}

    sample = ids(SAMPLE)
    assert {"class-version", "indy-string-concat", "nestmates", "buffer-covariant-returns"} <= set(sample)
    assert "reference uses StringBuilder chains" in sample["indy-string-concat"]
    assert "rebuild uses invokedynamic makeConcatWithConstants" in sample["indy-string-concat"]
    assert "reference access$NNN accessors" in sample["nestmates"]
    assert "52.0 (Java 8)" in sample["class-version"]
    inner = ids("p/Sample$Inner.class")
    assert "nestmates" in inner and "1 called" in inner["nestmates"]
    same = view_class(read_class(variants.get("g")))
    assert compare_idioms(same, view_class(read_class(variants.get("gnone")))) == []


def test_javac_vs_ecj_idioms_and_compiler(variants: Variants) -> None:
    javac, ecj = view_class(read_class(variants.get("g"))), view_class(read_class(variants.get("ecj")))
    assert compiler_of(javac) is not None and compiler_of(javac)[0] == "javac"  # type: ignore[index]
    found = compiler_of(ecj)
    assert found is not None and found[0] == "ecj" and "$SWITCH_TABLE$ switch map" in found[1]
    ids = {i.id for i in compare_idioms(javac, ecj)}
    assert "enum-switch-map" in ids
    color = compiler_of(view_class(read_class(variants.get("ecj", "p/Sample$Color.class"))))
    assert color == ("ecj", ["ENUM$VALUES field"])


# ------------------------------------------------------------------------------------------------ cost

def test_diff_cost_per_class_is_small(variants: Variants) -> None:
    """A structural diff of a real pair costs milliseconds (generous bound: the machine may be loaded)."""
    pairs = [(read_class(variants.classes["r8"][p]), read_class(variants.classes["g"][p]))
             for p in variants.classes["g"] if p in variants.classes["r8"]]
    t0 = time.process_time()
    for _ in range(5):
        for a, b in pairs:
            diff_classes(a, b)
    per_class = (time.process_time() - t0) / (5 * len(pairs))
    assert per_class < 0.05, f"{per_class * 1000:.1f} ms per class pair"


def test_unreadable_parts_do_not_raise() -> None:
    # A class whose only method's Code attribute is garbage: the view says so instead of raising.
    from canonjar.classfile import ConstantPool, Member

    pool = ConstantPool()

    def u(s: str) -> int:
        return pool.append(Constant.utf8(s.encode()))

    this = pool.append(Constant.make(7, u("T")))
    sup = pool.append(Constant.make(7, u("java/lang/Object")))
    cf = ClassFile(0, 61, pool, 0x21, this, sup, methods=[Member(1, u("m"), u("()V"), [Attribute(u("Code"),
                                                                                                   b"\x00\x01")])])
    data = write_class(cf)
    text = disassemble(read_class(data))
    assert "code: unreadable" in text
    d = diff_classes(read_class(data), read_class(data))
    assert d.changes == [] and d.debug == []


def nested_condy_class(levels: int, fanout: int) -> bytes:
    """A class whose constant pool nests CONSTANT_Dynamic constants through bootstrap arguments: constant k
    uses bootstrap method k, whose ``fanout`` arguments are all constant k+1 (exponential if rendered naively)."""
    from canonjar.classfile import BootstrapMethod, ConstantPool, write_bootstrap_methods

    pool = ConstantPool()

    def u(s: str) -> int:
        return pool.append(Constant.utf8(s.encode()))

    this = pool.append(Constant.make(7, u("Nest")))
    sup = pool.append(Constant.make(7, u("java/lang/Object")))
    nat = pool.append(Constant.make(12, u("bsm"), u("()V")))
    ref = pool.append(Constant.make(10, sup, nat))
    handle = pool.append(Constant.make(15, 6, ref))
    value = pool.append(Constant.make(12, u("c"), u("I")))
    first = len(pool)
    dyns = [pool.append(Constant.make(17, k, value)) for k in range(levels)]
    assert dyns[0] == first
    leaf = pool.append(Constant.make(3, 7))
    bsms = [BootstrapMethod(handle, tuple([dyns[k + 1] if k + 1 < levels else leaf] * fanout))
            for k in range(levels)]
    attrs = [Attribute(u("BootstrapMethods"), write_bootstrap_methods(bsms))]
    return write_class(ClassFile(0, 61, pool, 0x21, this, sup, attributes=attrs))


def test_nested_bootstrap_arguments_are_bounded() -> None:
    data = nested_condy_class(levels=12, fanout=300)
    t0 = time.process_time()
    text = disassemble(read_class(data))
    assert time.process_time() - t0 < 5.0
    assert "digest" in text and len(text) < 200_000
    other = nested_condy_class(levels=12, fanout=299)
    d = diff_classes(read_class(data), read_class(other))
    assert d.changes and not d.debug_only  # a changed argument count is seen through the cut renderings
