"""class-member-order and class-lambda-names: on classes compiled here by javac (--release 8 and 17) and ecj, on a
Debian library JAR, and under the JVM verifier (``java -Xverify:all``, classes linked one by one)."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from canonjar.classfile import (
    Attribute,
    ClassFile,
    Constant,
    iter_instructions,
    parse_code,
    parse_record,
    read_class,
    write_bootstrap_methods,
    write_class,
)
from canonjar.classfile.constants import TAG_DYNAMIC, TAG_INVOKE_DYNAMIC
from canonjar.errors import StabilizerSkip
from canonjar.limits import Budget
from canonjar.model import Entry, Payload, archive_from_zip
from canonjar.pipeline import Context, Side, Stabilizer, run_pipeline
from canonjar.stabilizers import class_lambda_names, class_member_order
from canonjar.stabilizers.class_lambda_names import LAMBDA_NAME, canonical_lambda_names
from canonjar.stabilizers.class_member_order import bootstrap_key
from canonjar.zipfmt import read_zip
from tests.helpers import jdk_tool

STABILIZERS = (class_lambda_names.STABILIZER, class_member_order.STABILIZER)

MEMBERS_A = """package demo;
import java.util.function.Supplier;
public class Members {
    public static final int ZED = 1;
    private String name = "n";
    protected long count;
    static class Inner { int v; }
    class Second { }
    interface Third { void run(); }
    public Members() { }
    public Members(String n) { name = n; }
    public String getName() { return name; }
    public void setName(String n) { if (n == null) { throw new IllegalArgumentException(); } name = n; }
    int add(int a, int b) { return a + b; }
    long add(long a, long b) { return a + b; }
    @Deprecated static void old() { }
    static Supplier<String> sup() { return () -> "s"; }
    static { System.getProperty("x"); }
}
"""
MEMBERS_B = """package demo;
import java.util.function.Supplier;
public class Members {
    static { System.getProperty("x"); }
    static Supplier<String> sup() { return () -> "s"; }
    @Deprecated static void old() { }
    long add(long a, long b) { return a + b; }
    int add(int a, int b) { return a + b; }
    public void setName(String n) { if (n == null) { throw new IllegalArgumentException(); } name = n; }
    public String getName() { return name; }
    public Members(String n) { name = n; }
    public Members() { }
    interface Third { void run(); }
    class Second { }
    static class Inner { int v; }
    protected long count;
    private String name = "n";
    public static final int ZED = 1;
}
"""
LAMBDA_ALPHA = """    static List<String> alpha(List<String> in) {
        List<String> out = new ArrayList<>();
        in.forEach(s -> out.add(s.toUpperCase()));
        Supplier<Function<Integer, Integer>> f = () -> x -> x + 1;
        out.add(String.valueOf(f.get().apply(41)));
        return out;
    }
"""
LAMBDA_BETA = """    static int beta(int k) {
        IntUnaryOperator op = x -> x * k;
        Runnable r = () -> System.out.print("");
        r.run();
        return op.applyAsInt(3);
    }
"""
LAMBDA_GAMMA = """    Object gamma() { return (Supplier<Object>) () -> this; }
"""
LAMBDA_HEAD = """package demo;
import java.util.*;
import java.util.function.*;
public class Lambdas {
"""
LAMBDAS_A = LAMBDA_HEAD + LAMBDA_ALPHA + LAMBDA_BETA + LAMBDA_GAMMA + "}\n"
LAMBDAS_B = LAMBDA_HEAD + LAMBDA_GAMMA + LAMBDA_BETA + LAMBDA_ALPHA + "}\n"
# The lambda names also appear as String constants (sharing their Utf8 constant): renaming must be refused.
SHARED = """package demo;
public class Shared {
    static Runnable b() { return () -> System.out.print("b"); }
    static Runnable a() { return () -> System.out.print("a"); }
    static String[] names() { return new String[] {"lambda$a$1", "lambda$1"}; }
}
"""
SER = """package demo;
import java.io.Serializable;
public class Ser {
    static Runnable b() { return (Runnable & Serializable) () -> System.out.print("b"); }
    static Runnable a() { return (Runnable & Serializable) () -> System.out.print("a"); }
}
"""
ANON = """package demo;
import java.util.function.Supplier;
public class Anon {
    static Runnable b() { return () -> System.out.print("b"); }
    static Supplier<Object> a() { return () -> new Object() { }; }
}
"""
PROG = """package demo;
import java.util.*;
import java.util.function.*;
import java.util.stream.*;
public class Prog {
    enum Color { ZULU, ALPHA, MIKE; int code() { return name().length() * 7 + ordinal(); } }
    static String zeta(List<Integer> xs) {
        return xs.stream().map(x -> x * 3).filter(x -> x % 2 == 1).map(String::valueOf)
                 .collect(Collectors.joining(","));
    }
    static int alpha(int k) {
        IntBinaryOperator op = (a, b) -> a * k - b;
        Function<Integer, Supplier<Integer>> curry = a -> () -> a + k;
        return op.applyAsInt(5, 2) + curry.apply(10).get();
    }
    static String mid() {
        StringBuilder sb = new StringBuilder();
        for (Color c : Color.values()) {
            Runnable r = () -> sb.append(c).append('=').append(c.code()).append(' ');
            r.run();
        }
        Comparator<String> cmp = Comparator.comparing(s -> s.length());
        List<String> words = new ArrayList<>(Arrays.asList("ccc", "a", "bb"));
        words.sort(cmp.thenComparing(Comparator.reverseOrder()));
        return sb.toString().trim() + " " + words;
    }
    public static void main(String[] args) {
        System.out.println(Arrays.toString(Color.values()));
        System.out.println(Color.valueOf("MIKE").ordinal());
        System.out.println(zeta(Arrays.asList(1, 2, 3, 4, 5)));
        System.out.println(alpha(4));
        System.out.println(mid());
    }
}
"""
REC = """package demo;
public record Rec(int zulu, String alpha, long mike) {
    public Rec { if (zulu < 0) { throw new IllegalArgumentException(); } }
    static Rec of() { return new Rec(1, "a", 2L); }
}
"""
SEALED_A = """package demo;
public sealed interface Sealed permits Sealed.Square, Sealed.Circle, Sealed.Blob {
    final class Square implements Sealed { }
    final class Circle implements Sealed { }
    non-sealed class Blob implements Sealed { }
}
"""
SEALED_B = """package demo;
public sealed interface Sealed permits Sealed.Blob, Sealed.Circle, Sealed.Square {
    non-sealed class Blob implements Sealed { }
    final class Circle implements Sealed { }
    final class Square implements Sealed { }
}
"""
BROKEN = """package demo;
public class Broken {
    static int pick(int a) { if (a > 3) { return 1; } return 2; }
}
"""
# Loads every class of each JAR given (one class loader per JAR) and forces it to be LINKED, hence verified:
# Class.forName(name, false, loader) only loads; getDeclaredMethods() links the class first (HotSpot's
# JVM_GetClassDeclaredMethods calls link_class), which runs the verifier, without running static initializers.
VERIFY = """import java.io.File;
import java.net.URL;
import java.net.URLClassLoader;
import java.util.Enumeration;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;

public class Verify {
    public static void main(String[] args) throws Exception {
        for (int k = 0; k < args.length; k++) {
            File f = new File(args[k]);
            int ok = 0;
            try (URLClassLoader cl = new URLClassLoader(new URL[] {f.toURI().toURL()}, Verify.class.getClassLoader());
                 JarFile jf = new JarFile(f)) {
                for (Enumeration<JarEntry> e = jf.entries(); e.hasMoreElements();) {
                    String n = e.nextElement().getName();
                    if (!n.endsWith(".class") || n.startsWith("META-INF/") || n.endsWith("module-info.class")) {
                        continue;
                    }
                    String cn = n.substring(0, n.length() - 6).replace('/', '.');
                    try {
                        Class<?> c = Class.forName(cn, false, cl);
                        c.getDeclaredMethods();
                        ok++;
                    } catch (VerifyError | ClassFormatError x) {
                        System.out.println(k + " VERIFY " + cn + " " + x);
                    } catch (LinkageError x) {
                        System.out.println(k + " LINK " + cn + " " + x.getClass().getName());
                    }
                }
            }
            System.out.println(k + " OK " + ok);
        }
    }
}
"""
MULTI_JAVAC = """import java.util.ArrayList;
import java.util.List;
import javax.tools.ToolProvider;

public class MultiJavac {
    public static void main(String[] args) {
        var javac = ToolProvider.getSystemJavaCompiler();
        List<String> group = new ArrayList<>();
        for (int i = 0; i <= args.length; i++) {
            if (i == args.length || args[i].equals("--next--")) {
                System.out.println("@@rc " + javac.run(null, System.out, System.out, group.toArray(new String[0])));
                group.clear();
            } else {
                group.add(args[i]);
            }
        }
    }
}
"""
FAST_JVM = ["-XX:TieredStopAtLevel=1", "-Xshare:auto"]

COMMON = {"demo/Shared.java": SHARED, "demo/Ser.java": SER, "demo/Anon.java": ANON, "demo/Prog.java": PROG,
          "demo/Broken.java": BROKEN}
VARIANTS = {"A": {"demo/Members.java": MEMBERS_A, "demo/Lambdas.java": LAMBDAS_A, **COMMON},
            "B": {"demo/Members.java": MEMBERS_B, "demo/Lambdas.java": LAMBDAS_B, **COMMON}}
LEVEL17 = {"A": {"demo/Rec.java": REC, "demo/Sealed.java": SEALED_A},
           "B": {"demo/Rec.java": REC, "demo/Sealed.java": SEALED_B}}
COMPILERS = ("javac8", "javac17", "ecj8", "ecj17")


@dataclass
class Build:
    root: Path
    classes: dict[str, dict[str, dict[str, bytes]]]  # compiler -> variant -> class path -> bytes
    verify_dir: Path | None


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> Build:
    java, javac = jdk_tool("java"), jdk_tool("javac")
    if java is None or javac is None:
        pytest.skip("no JDK installed")
    root = tmp_path_factory.mktemp("members")
    ecj = shutil.which("ecj")
    jobs: list[tuple[str, str, list[str]]] = []  # compiler, variant, args
    for comp in COMPILERS:
        if comp.startswith("ecj") and ecj is None:
            continue
        level = int(comp.removeprefix("javac").removeprefix("ecj"))
        for var, files in VARIANTS.items():
            sources = {**files, **(LEVEL17[var] if level >= 17 else {})}
            src = root / comp / var / "src"
            paths = []
            for rel, text in sources.items():
                (src / rel).parent.mkdir(parents=True, exist_ok=True)
                (src / rel).write_text(text)
                paths.append(str(src / rel))
            out = str(src.parent / "out")
            flags = ([f"-{level}", "-proc:none", "-nowarn", "-g"] if comp.startswith("ecj")
                     else ["--release", str(level), "-Xlint:none", "-g"])
            jobs.append((comp, var, [*flags, "-encoding", "UTF-8", "-d", out, *paths]))
    (root / "tools").mkdir()
    (root / "tools" / "Verify.java").write_text(VERIFY)
    (root / "MultiJavac.java").write_text(MULTI_JAVAC)
    cmd = [java, *FAST_JVM, str(root / "MultiJavac.java")]
    for k, (_, _, args) in enumerate(j for j in jobs if j[0].startswith("javac")):
        cmd += (["--next--"] if k else []) + args
    cmd += ["--next--", "--release", "17", "-d", str(root / "tools"), str(root / "tools" / "Verify.java")]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)]
    for _, _, args in (j for j in jobs if j[0].startswith("ecj")):
        assert ecj is not None
        procs.append(subprocess.Popen([ecj, *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                      env={**os.environ, "JAVA_ARGS": " ".join(FAST_JVM)}))
    for p in procs:
        out, _ = p.communicate(timeout=300)
        assert p.returncode == 0 and b"@@rc 1" not in out, out.decode(errors="replace")
    classes: dict[str, dict[str, dict[str, bytes]]] = {}
    for comp, var, _ in jobs:
        out_dir = root / comp / var / "out"
        classes.setdefault(comp, {})[var] = {str(p.relative_to(out_dir)): p.read_bytes()
                                             for p in sorted(out_dir.rglob("*.class"))}
    verify_dir = root / "tools" if (root / "tools" / "Verify.class").exists() else None
    return Build(root, classes, verify_dir)


# --------------------------------------------------------------------------------------------- helpers

def jar_bytes(classes: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in sorted(classes.items()):
            zf.writestr(name, data)
    return buf.getvalue()


def canonicalize(classes: dict[str, bytes]) -> tuple[dict[str, bytes], list[str]]:
    """Both stabilizers through the real pipeline; returns the classes and the trace's skip reasons."""
    ctx = Context(Side.REBUILD, Budget())
    arc = run_pipeline(archive_from_zip(read_zip(jar_bytes(classes))), STABILIZERS, ctx)
    out = {e.name.decode(): ctx.content(e) for e in arc.entries}
    skips = [f"{t.stabilizer} {t.path}: {t.reason}" for t in ctx.trace if t.action == "skipped"]
    return out, skips


def apply(st: Stabilizer, name: str, data: bytes) -> bytes:
    """One stabilizer on one class; raises StabilizerSkip."""
    entry = Entry(name=name.encode(), payload=Payload.of_bytes(data))
    ctx = Context(Side.REBUILD, Budget())
    new = st.apply(entry, ctx)
    return ctx.content(new)


def view(cf: ClassFile) -> dict[str, object]:
    """Pool-order independent structural view of a class."""
    pool = cf.constant_pool

    def attrs(lst: list[Attribute]) -> list[str]:
        out = []
        for a in lst:
            name = pool.text(a.name_index)
            if name == "Code":
                code = parse_code(a.info, pool)
                out.append("Code[" + ",".join(pool.text(x.name_index) for x in code.attributes) + "]")
            elif name in ("NestMembers", "PermittedSubclasses"):
                n = int.from_bytes(a.info[:2], "big")
                idx = [int.from_bytes(a.info[2 + 2 * k:4 + 2 * k], "big") for k in range(n)]
                out.append(name + "[" + ",".join(pool.class_name(i).decode() for i in idx) + "]")
            elif name == "InnerClasses":
                n = int.from_bytes(a.info[:2], "big")
                idx = [int.from_bytes(a.info[2 + 8 * k:4 + 8 * k], "big") for k in range(n)]
                out.append(name + "[" + ",".join(pool.class_name(i).decode() for i in idx) + "]")
            else:
                out.append(name)
        return out

    def members(lst: list[object]) -> list[tuple[str, str, int, list[str]]]:
        return [(pool.text(m.name_index), pool.text(m.descriptor_index), m.access_flags, attrs(m.attributes))
                for m in lst]  # type: ignore[attr-defined]

    return {"fields": members(cf.fields), "methods": members(cf.methods), "attrs": attrs(cf.attributes)}  # type: ignore[arg-type]


def lambda_bodies(cf: ClassFile) -> dict[str, tuple[str, list[str]]]:
    """name -> (descriptor, instructions with constant operands resolved) of every lambda method."""
    pool = cf.constant_pool
    out = {}
    for m in cf.methods:
        name = pool.text(m.name_index)
        if LAMBDA_NAME.fullmatch(name.encode()):
            code = cf.code(m)
            assert code is not None
            ins = [i.mnemonic + (" " + pool.describe(i.operands[0]) if i.cp_index is not None else "")
                   for i in iter_instructions(code.code)]
            out[name] = (pool.text(m.descriptor_index), ins)
    return out


def compilers(build: Build) -> list[str]:
    return sorted(build.classes)


# --------------------------------------------------------------------------------------------- member order

def test_permuted_members_give_the_same_canonical_structure(build: Build) -> None:
    checked = 0
    for comp in compilers(build):
        a, b = build.classes[comp]["A"], build.classes[comp]["B"]
        for path in sorted(a):
            if not path.startswith(("demo/Members", "demo/Sealed")):
                continue
            ca = read_class(apply(class_member_order.STABILIZER, path, a[path]), deep=True)
            cb = read_class(apply(class_member_order.STABILIZER, path, b[path]), deep=True)
            assert view(ca) == view(cb), (comp, path)
            for cf in (ca, cb):
                pool = cf.constant_pool
                for lst in (cf.fields, cf.methods):
                    keys = [(pool.utf8(m.name_index), pool.utf8(m.descriptor_index)) for m in lst]
                    assert keys == sorted(keys)
            checked += 1
        # The test means something: before the stabilizer the sources' order shows.
        ra, rb = read_class(a["demo/Members.class"]), read_class(b["demo/Members.class"])
        assert view(ra) != view(rb)
    assert checked >= 10


def test_sealed_and_nest_tables_are_sorted_by_name(build: Build) -> None:
    if "javac17" not in build.classes:
        pytest.skip("no javac")
    for var in ("A", "B"):
        cf = read_class(apply(class_member_order.STABILIZER, "demo/Sealed.class",
                              build.classes["javac17"][var]["demo/Sealed.class"]))
        v = view(cf)
        assert "PermittedSubclasses[demo/Sealed$Blob,demo/Sealed$Circle,demo/Sealed$Square]" in v["attrs"]
        assert "NestMembers[demo/Sealed$Blob,demo/Sealed$Circle,demo/Sealed$Square]" in v["attrs"]


def test_output_is_idempotent_and_reparses(build: Build) -> None:
    for comp in compilers(build):
        for var in ("A", "B"):
            for path, data in build.classes[comp][var].items():
                for st in STABILIZERS:
                    try:
                        once = apply(st, path, data)
                    except StabilizerSkip:
                        continue
                    read_class(once, deep=True)
                    entry = Entry(name=path.encode(), payload=Payload.of_bytes(once))
                    assert st.apply(entry, Context(Side.REBUILD, Budget())) is entry, (comp, path, st.name)


def test_record_fields_and_components_keep_their_order(build: Build) -> None:
    for comp in ("javac17", "ecj17"):
        if comp not in build.classes:
            continue
        cf = read_class(apply(class_member_order.STABILIZER, "demo/Rec.class",
                              build.classes[comp]["A"]["demo/Rec.class"]), deep=True)
        pool = cf.constant_pool
        assert [pool.text(f.name_index) for f in cf.fields] == ["zulu", "alpha", "mike"]
        rec = cf.find_attribute(cf.attributes, "Record")
        assert rec is not None
        assert [pool.text(c.name_index) for c in parse_record(rec.info, pool)] == ["zulu", "alpha", "mike"]
        names = [pool.text(m.name_index) for m in cf.methods]
        assert names == sorted(names)


def _permute_bootstrap_methods(data: bytes) -> bytes:
    """Reverse the BootstrapMethods table and remap the Dynamic/InvokeDynamic constants by hand."""
    cf = read_class(data, deep=True)
    bsms = cf.bootstrap_methods()
    assert bsms is not None and len(bsms) > 1
    n = len(bsms)
    for i, c in cf.constant_pool:
        if c.tag in (TAG_DYNAMIC, TAG_INVOKE_DYNAMIC):
            bsm, nat = c.fields
            cf.constant_pool.entries[i] = Constant.make(c.tag, n - 1 - bsm, nat)
    k = next(k for k, a in enumerate(cf.attributes) if cf.attribute_name(a) == b"BootstrapMethods")
    cf.attributes[k] = Attribute(cf.attributes[k].name_index, write_bootstrap_methods(bsms[::-1]))
    return write_class(cf)


def test_bootstrap_methods_are_sorted_and_remapped(build: Build) -> None:
    for comp in compilers(build):
        data = build.classes[comp]["A"]["demo/Prog.class"]
        permuted = _permute_bootstrap_methods(data)
        assert permuted != data
        a = apply(class_member_order.STABILIZER, "p.class", data)
        b = apply(class_member_order.STABILIZER, "p.class", permuted)
        assert a == b, comp
        cf = read_class(a, deep=True)
        bsms = cf.bootstrap_methods()
        assert bsms is not None
        keys = [bootstrap_key(cf.constant_pool, x, bsms) for x in bsms]
        assert keys == sorted(keys)


def test_unknown_attribute_and_duplicate_members_are_refused(build: Build) -> None:
    comp = compilers(build)[0]
    cf = read_class(build.classes[comp]["A"]["demo/Members.class"])
    name = cf.constant_pool.append(Constant.utf8(b"com.example.Opaque"))
    cf.attributes.append(Attribute(name, b"\x00\x01"))
    for st in STABILIZERS:
        with pytest.raises(StabilizerSkip, match="unknown attribute"):
            apply(st, "x.class", write_class(cf))
    cf = read_class(build.classes[comp]["A"]["demo/Members.class"])
    cf.methods.append(cf.methods[0])
    with pytest.raises(StabilizerSkip, match="same name and descriptor"):
        apply(class_member_order.STABILIZER, "x.class", write_class(cf))
    with pytest.raises(StabilizerSkip, match="not a readable class"):
        apply(class_member_order.STABILIZER, "x.class", b"\xca\xfe\xba\xbe\x00")


def _mutations(data: bytes) -> dict[str, bytes]:
    """Semantic changes to Members: a method body, an access flag, a descriptor."""
    out = {}
    cf = read_class(data)
    pool = cf.constant_pool
    for m in cf.methods:
        if pool.text(m.name_index) == "add" and pool.text(m.descriptor_index) == "(II)I":
            k = next(k for k, a in enumerate(m.attributes) if cf.attribute_name(a) == b"Code")
            code = parse_code(m.attributes[k].info, pool)
            pos = code.code.index(0x60)  # iadd -> isub
            code.code = code.code[:pos] + b"\x64" + code.code[pos + 1:]
            m.attributes[k] = Attribute(m.attributes[k].name_index, code.to_bytes())
    out["body"] = write_class(cf)
    cf = read_class(data)
    cf.methods[1].access_flags ^= 0x0010  # final
    out["flag"] = write_class(cf)
    cf = read_class(data)
    for m in cf.methods:
        if cf.constant_pool.text(m.name_index) == "old":
            m.descriptor_index = cf.constant_pool.append(Constant.utf8(b"(I)V"))
            k = next(k for k, a in enumerate(m.attributes) if cf.attribute_name(a) == b"Code")
            code = parse_code(m.attributes[k].info, cf.constant_pool)
            code.max_locals = 1
            code.attributes = []
            m.attributes[k] = Attribute(m.attributes[k].name_index, code.to_bytes())
    out["descriptor"] = write_class(cf)
    return out


def test_semantic_changes_stay_visible(build: Build) -> None:
    for comp in compilers(build):
        data = build.classes[comp]["A"]["demo/Members.class"]
        base, _ = canonicalize({"demo/Members.class": data})
        for what, mutated in _mutations(data).items():
            assert mutated != data, what
            out, skips = canonicalize({"demo/Members.class": mutated})
            assert not skips, skips
            assert out != base, (comp, what)
        # A changed lambda body: x * k becomes x + k.
        lam = build.classes[comp]["A"]["demo/Lambdas.class"]
        assert lam.count(b"\x68") >= 1
        cf = read_class(lam)
        for m in cf.methods:
            code = cf.code(m)
            if code is not None and LAMBDA_NAME.fullmatch(cf.constant_pool.utf8(m.name_index)) and 0x68 in [
                    i.opcode for i in iter_instructions(code.code)]:
                pos = next(i.offset for i in iter_instructions(code.code) if i.opcode == 0x68)
                code.code = code.code[:pos] + b"\x60" + code.code[pos + 1:]
                k = next(k for k, a in enumerate(m.attributes) if cf.attribute_name(a) == b"Code")
                m.attributes[k] = Attribute(m.attributes[k].name_index, code.to_bytes())
        a, _ = canonicalize({"demo/Lambdas.class": lam})
        b, _ = canonicalize({"demo/Lambdas.class": write_class(cf)})
        assert a != b


# --------------------------------------------------------------------------------------------- lambda names

def test_lambda_numbering_is_canonical(build: Build) -> None:
    for comp in compilers(build):
        a = build.classes[comp]["A"]["demo/Lambdas.class"]
        b = build.classes[comp]["B"]["demo/Lambdas.class"]
        before_a, before_b = lambda_bodies(read_class(a)), lambda_bodies(read_class(b))
        assert len(before_a) == 6
        assert before_a != before_b, comp  # the compiler numbered them differently
        ca = read_class(apply(class_lambda_names.STABILIZER, "l.class", a), deep=True)
        cb = read_class(apply(class_lambda_names.STABILIZER, "l.class", b), deep=True)
        assert lambda_bodies(ca) == lambda_bodies(cb), comp
        names = sorted(lambda_bodies(ca))
        if comp.startswith("javac"):
            assert names == ["lambda$alpha$0", "lambda$alpha$1", "lambda$alpha$2", "lambda$beta$0",
                             "lambda$beta$1", "lambda$gamma$0"]
        else:
            assert names == [f"lambda${k}" for k in range(6)]
        # Both stabilizers together: same structure for both textual orders.
        ma, _ = canonicalize({"demo/Lambdas.class": a})
        mb, _ = canonicalize({"demo/Lambdas.class": b})
        va, vb = (view(read_class(x["demo/Lambdas.class"])) for x in (ma, mb))
        assert va == vb


def test_lambda_renaming_is_refused_when_unsafe(build: Build) -> None:
    for comp in compilers(build):
        classes = build.classes[comp]["A"]
        with pytest.raises(StabilizerSkip, match=r"\$deserializeLambda\$"):
            apply(class_lambda_names.STABILIZER, "s.class", classes["demo/Ser.class"])
        with pytest.raises(StabilizerSkip, match="local or anonymous classes"):
            apply(class_lambda_names.STABILIZER, "a.class", classes["demo/Anon.class"])
        with pytest.raises(StabilizerSkip, match="also used as"):
            apply(class_lambda_names.STABILIZER, "s.class", classes["demo/Shared.class"])


def test_lambda_rename_is_a_consistent_utf8_permutation(build: Build) -> None:
    for comp in compilers(build):
        data = build.classes[comp]["B"]["demo/Lambdas.class"]
        cf = read_class(data, deep=True)
        before = [c.value for _, c in cf.constant_pool if c.tag == 1]
        assert canonical_lambda_names(cf)
        after = [c.value for _, c in cf.constant_pool if c.tag == 1]
        assert len(after) == len(before) and len(set(after)) == len(set(before))
        changed = [(x, y) for x, y in zip(before, after, strict=True) if x != y]
        assert changed and all(LAMBDA_NAME.fullmatch(x) and LAMBDA_NAME.fullmatch(y) for x, y in changed)


# --------------------------------------------------------------------------------------------- JVM

def _run_verify(build: Build, jars: list[Path]) -> list[str]:
    java = jdk_tool("java")
    assert java is not None and build.verify_dir is not None
    res = subprocess.run([java, "-Xverify:all", *FAST_JVM, "-cp", str(build.verify_dir), "Verify",
                          *map(str, jars)], capture_output=True, text=True, timeout=300, check=False)
    assert res.returncode == 0, res.stderr
    return res.stdout.splitlines()


def _results(lines: list[str], k: int) -> tuple[int, list[str], list[str]]:
    mine = [ln.split(" ", 1)[1] for ln in lines if ln.startswith(f"{k} ")]
    ok = int(next(ln for ln in mine if ln.startswith("OK ")).split()[1])
    return ok, [ln for ln in mine if ln.startswith("VERIFY")], [ln for ln in mine if ln.startswith("LINK")]


def test_jvm_verifier_accepts_canonical_classes(build: Build, tmp_path: Path) -> None:
    jars: list[Path] = []
    totals = {"changed": 0}
    bsm_reordered = 0

    def add(name: str, classes: dict[str, bytes]) -> None:
        nonlocal bsm_reordered
        canon, _ = canonicalize(classes)
        totals["changed"] += sum(1 for k in classes if canon[k] != classes[k])
        for k, data in classes.items():
            cf = read_class(data)
            bsms = cf.bootstrap_methods()
            if bsms and [bootstrap_key(cf.constant_pool, x, bsms) for x in bsms] != sorted(
                    bootstrap_key(cf.constant_pool, x, bsms) for x in bsms) and canon[k] != data:
                bsm_reordered += 1
        for suffix, content in (("orig", classes), ("canon", canon)):
            p = tmp_path / f"{name}-{suffix}.jar"
            p.write_bytes(jar_bytes(content))
            jars.append(p)

    for comp in compilers(build):
        for var in ("A", "B"):
            classes = dict(build.classes[comp][var])
            if comp == "javac17" and var == "A":
                # A deliberately broken class: a branch into the middle of an instruction.
                classes["demo/Broken.class"] = _break_branch(classes["demo/Broken.class"])
            add(f"{comp}-{var}", classes)
    libs = [p for p in (Path("/usr/share/java/commons-lang3.jar"), Path("/usr/share/java/commons-io.jar"))
            if p.exists()]
    for lib in libs:
        with zipfile.ZipFile(lib) as zf:
            add(lib.stem, {n: zf.read(n) for n in zf.namelist() if n.endswith(".class")})
    assert totals["changed"] > 0 and bsm_reordered > 0
    lines = _run_verify(build, jars)
    for k in range(0, len(jars), 2):
        ok_o, ver_o, link_o = _results(lines, k)
        ok_c, ver_c, link_c = _results(lines, k + 1)
        assert (ok_c, link_c) == (ok_o, link_o), jars[k + 1]
        assert ver_c == ver_o, jars[k + 1]
        if "javac17-A" in jars[k].name:
            # The check catches a broken class (on both sides: the stabilizers do not hide or fix it).
            assert len(ver_o) == 1 and "demo.Broken" in ver_o[0] and "VerifyError" in ver_o[0], ver_o
        else:
            assert not ver_o and ok_o > 0, (jars[k], ver_o)


def _break_branch(data: bytes) -> bytes:
    cf = read_class(data)
    for m in cf.methods:
        code = cf.code(m)
        if code is None:
            continue
        for insn in iter_instructions(code.code):
            if 0x99 <= insn.opcode <= 0xA7:
                at = insn.offset + 1
                code.code = code.code[:at] + (1).to_bytes(2, "big", signed=True) + code.code[at + 2:]
                k = next(k for k, a in enumerate(m.attributes) if cf.attribute_name(a) == b"Code")
                m.attributes[k] = Attribute(m.attributes[k].name_index, code.to_bytes())
                return write_class(cf)
    raise AssertionError("no branch found")


def test_program_runs_the_same_from_the_canonical_jar(build: Build, tmp_path: Path) -> None:
    java = jdk_tool("java")
    assert java is not None
    procs = []
    for comp in compilers(build):
        classes = build.classes[comp]["A"]
        canon, skips = canonicalize(classes)
        assert not [s for s in skips if "Prog" in s], skips
        color = read_class(canon["demo/Prog$Color.class"])
        fields = [color.constant_pool.text(f.name_index) for f in color.fields]
        assert fields.index("ALPHA") < fields.index("ZULU")  # the field order did change...
        assert canon["demo/Prog.class"] != classes["demo/Prog.class"]
        for suffix, content in (("orig", classes), ("canon", canon)):
            p = tmp_path / f"{comp}-{suffix}.jar"
            p.write_bytes(jar_bytes(content))
            procs.append((comp, suffix, subprocess.Popen([java, "-Xverify:all", *FAST_JVM, "-cp", str(p), "demo.Prog"],
                                                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)))
    results = {}
    for comp, suffix, p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        results[comp, suffix] = out
    for comp in compilers(build):
        assert results[comp, "canon"] == results[comp, "orig"]
        assert results[comp, "orig"].splitlines()[0] == "[ZULU, ALPHA, MIKE]"  # ...values() did not


def test_registered_as_opt_in_stabilizers() -> None:
    from canonjar import select_stabilizers

    assert (class_lambda_names.STABILIZER.name, class_member_order.STABILIZER.name) == (
        "class-lambda-names", "class-member-order")
    default = {s.name for s in select_stabilizers()}
    # opt-in: member order is visible to reflection and lambda names to stack traces
    assert not default & {"class-lambda-names", "class-member-order"}
    assert "class-constant-pool-order" in default  # pool numbering is invisible to Java code
    assert class_lambda_names.STABILIZER.deferred and class_member_order.STABILIZER.deferred
    chosen = [s.name for s in select_stabilizers(enable=["class-lambda-names,class-member-order"])]
    assert chosen.index("class-lambda-names") < chosen.index("class-member-order")
