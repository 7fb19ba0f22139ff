"""Tests of the byte-exact class-file codec (:mod:`canonjar.classfile`).

Round trips every class of every jmod of the JDK on PATH (and of a JDK >= 25 when one is installed), classes
compiled here by javac (--release 8/11/17, -g and -g:none, and a JDK 25 javac) and ecj from a feature-rich source
set, spot-checks decoded facts against ``javap -v``, and feeds random and mutated bytes to every parser.
"""

from __future__ import annotations

import contextlib
import functools
import io
import os
import re
import shutil
import struct
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from canonjar.classfile import (
    CP_INDEX_WIDTH,
    KNOWN_ATTRIBUTES,
    OPCODE_NAMES,
    Attribute,
    BootstrapMethod,
    ClassFile,
    ClassFormatError,
    Code,
    Constant,
    ConstantPool,
    ExceptionHandler,
    Member,
    RecordComponent,
    cp_references,
    decode_mutf8,
    display_mutf8,
    encode_mutf8,
    iter_instructions,
    parse_bootstrap_methods,
    parse_code,
    parse_record,
    read_class,
    write_bootstrap_methods,
    write_class,
    write_record,
)
from canonjar.errors import CanonjarError
from tests.helpers import java_home, jdk_tool

ROOT = Path(__file__).resolve().parent.parent

# --------------------------------------------------------------------------------------------------------------
# Where the class files come from
# --------------------------------------------------------------------------------------------------------------


def jmods_dir() -> Path | None:
    home = java_home()
    if home is None or not (home / "jmods" / "java.base.jmod").is_file():
        return None
    return home / "jmods"


def read_jmod(path: Path) -> list[tuple[str, bytes]]:
    """(name, bytes) of every class of a jmod (a zip behind a 4-byte ``JM\\x01\\x00`` header)."""
    data = path.read_bytes()
    assert data[:4] == b"JM\x01\x00", path
    with zipfile.ZipFile(io.BytesIO(data[4:])) as zf:
        return [(i.filename, zf.read(i)) for i in zf.infolist() if i.filename.endswith(".class")]


@functools.lru_cache(maxsize=1)
def java_base_classes() -> tuple[tuple[str, bytes], ...]:
    d = jmods_dir()
    return tuple(read_jmod(d / "java.base.jmod")) if d else ()


def jdk25_home() -> Path | None:
    """An installed JDK of version 25 or newer with javac and jimage (optional), else None."""
    for release in sorted(Path("/usr/lib/jvm").glob("*/release")):
        m = re.search(r'^JAVA_VERSION="(\d+)', release.read_text(errors="replace"), re.M)
        home = release.parent
        if m and int(m.group(1)) >= 25 and (home / "bin" / "javac").exists() and (home / "lib" / "modules").exists():
            return home
    return None


JMODS = sorted(jmods_dir().glob("*.jmod")) if jmods_dir() else []  # type: ignore[union-attr]
NO_JDK = "no JDK with jmods/ found via javac on PATH"


def first_difference(a: bytes, b: bytes) -> int:
    return next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))


def round_trip_failures(classes: list[tuple[str, bytes]] | tuple[tuple[str, bytes], ...]) -> list[str]:
    failures = []
    for name, data in classes:
        try:
            out = write_class(read_class(data))
        except ClassFormatError as exc:
            failures.append(f"{name}: {exc}")
            continue
        if out != data:
            failures.append(f"{name}: differs at byte {first_difference(out, data)} ({len(out)} vs {len(data)} bytes)")
    return failures


def walk_code(code: bytes) -> list[tuple[int, str]]:
    """Decode ``code`` checking that instructions are contiguous and end exactly at the end of the code."""
    out = []
    expected = 0
    for insn in iter_instructions(code):
        assert insn.offset == expected
        expected += insn.length
        out.append((insn.offset, insn.mnemonic + ("_w" if insn.wide else "")))
    assert expected == len(code)
    return out


def walk_opcodes(code: bytes, seen: set[int]) -> None:
    """Like :func:`walk_code`, cheaper: collects opcodes (+0x100 when widened) into ``seen``."""
    expected = 0
    for offset, opcode, _, length, wide in iter_instructions(code):
        assert offset == expected
        expected += length
        seen.add(opcode | 0x100 if wide else opcode)
    assert expected == len(code)


def all_attribute_names(cf: ClassFile) -> set[str]:
    names: set[str] = set()
    pool = cf.constant_pool

    def scan(attrs: list[Attribute]) -> None:
        for a in attrs:
            name = cf.attribute_name(a).decode()
            names.add(name)
            if name == "Code":
                scan(parse_code(a.info, pool).attributes)
            elif name == "Record":
                for comp in parse_record(a.info, pool):
                    scan(comp.attributes)

    scan(cf.attributes)
    for m in cf.fields + cf.methods:
        scan(m.attributes)
    return names


# --------------------------------------------------------------------------------------------------------------
# A feature-rich Java source set, compiled in the test
# --------------------------------------------------------------------------------------------------------------
FEATURES = r'''
package demo;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.function.IntFunction;
import java.util.function.Supplier;

@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.TYPE, ElementType.METHOD, ElementType.FIELD, ElementType.PARAMETER})
@interface Marker {
    String value() default "x";
    int[] nums() default {1, 2};
    Class<?> type() default Object.class;
    ElementType kind() default ElementType.TYPE;
}

@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.TYPE_USE, ElementType.TYPE_PARAMETER})
@interface Tag {}

@Retention(RetentionPolicy.CLASS)
@interface Hidden {}

enum Color {
    RED, GREEN, BLUE;
    Color next() { return values()[(ordinal() + 1) % 3]; }
}

interface Greeter {
    String name();
    default String greet() { return "hello " + name(); }
    static Greeter of(final String n) { return new Greeter() { public String name() { return n; } }; }
}

@Marker(value = "features", nums = {3}, type = String.class, kind = ElementType.FIELD)
@Hidden
public class Features<@Tag T extends Comparable<T>> implements Comparator<T> {
    public static final long BIG = 0x123456789ABCDEFL;
    public static final double PI = 3.141592653589793;
    public static final float NAN_F = Float.NaN;
    public static final int MAX = Integer.MAX_VALUE;
    public static final String WEIRD = "nul:\0 astral:\uD83D\uDE00 lone:\uD800 e\u0301 \u00e9\u4e2d";
    private final List<@Tag T> items = new ArrayList<@Tag T>();
    @Marker private int counter;
    @Deprecated public int old;
    volatile transient Object lock = new Object();

    public int compare(T a, T b) { return a.compareTo(b); }

    public String describe(Color c) {
        switch (c) {
            case RED: return "red";
            case GREEN: return "green";
            default: return "other";
        }
    }

    public int dense(int k) {
        switch (k) { case 0: return 10; case 1: return 11; case 2: return 12; case 3: return 13; default: return -1; }
    }

    public int sparse(int k) {
        switch (k) { case -1000: return 1; case 7: return 2; case 100000: return 3; default: return 0; }
    }

    public int strings(String s) {
        switch (s) {
            case "alpha": return 1; case "beta": return 2; case "Aa": return 3; case "BB": return 4; default: return 0;
        }
    }

    public String read(@Marker("param") byte[] data, @Hidden int unused) throws IOException {
        try (InputStream in = new ByteArrayInputStream(data); InputStream in2 = new ByteArrayInputStream(data)) {
            return in.read() + ":" + in2.read();
        } catch (IllegalStateException | IllegalArgumentException e) {
            return "bad";
        } finally {
            counter++;
        }
    }

    public List<String> lambdas(List<String> in) {
        final Function<String, String> up = String::toUpperCase;
        Supplier<List<String>> mk = ArrayList::new;
        final List<String> out = mk.get();
        final int base = counter;
        for (String s : in) {
            out.add(up.apply(s) + base);
        }
        Runnable r = () -> counter++;
        r.run();
        IntFunction<int[]> arr = int[]::new;
        out.add(String.valueOf(arr.apply(3).length));
        Comparator<String> cmp = (a, b) -> b.compareTo(a);
        out.sort(cmp);
        return out;
    }

    public Object anonymousAndLocal() {
        class Local { int v = counter; }
        final Local l = new Local();
        return new Object() { @Override public String toString() { return "anon" + l.v; } };
    }

    public int[][] grid(long seed, double scale, float f, char ch, short sh, byte by, boolean flag) {
        int[][] g = new int[3][4];
        Object o = g;
        if (o instanceof int[][] && flag) {
            g = (int[][]) o;
        }
        synchronized (lock) {
            g[0][0] = (int) (seed * scale + f + ch + sh + by);
        }
        long l = seed >>> 3;
        char c2 = (char) seed;
        short s2 = (short) (c2 + 1);
        byte b2 = (byte) s2;
        g[2][2] = c2 + s2 + b2;
        g[1][1] = (int) (l ^ BIG) + (int) Math.round(scale / 3.0);
        if (g[1][1] < 0) throw new IllegalStateException("neg");
        return g;
    }

    class Inner { int get() { return counter; } }

    static class Nested<K extends Comparable<K>, V extends Number> {
        Map<K, V> map = new TreeMap<K, V>();
        <R> R fold(R zero, Function<? super V, ? extends R> f) {
            return map.isEmpty() ? zero : f.apply(map.values().iterator().next());
        }
    }
}
'''

ELEVEN = r'''
package demo;

import java.util.List;
import java.util.function.BiFunction;

interface Helper {
    private int secret() { return 42; }
    default int open() { return secret(); }
}

public class Eleven implements Helper {
    private int hidden = 1;

    class Peer { int peek() { return hidden; } }

    public int use() {
        BiFunction<Integer, Integer, Integer> add = (var a, var b) -> a + b;
        var list = List.of(1, 2, 3);
        return add.apply(list.get(0), new Peer().peek()) + open();
    }
}
'''

TASK = r'''
package demo;

public class Task implements Runnable {
    public Task() {}
    public void run() { System.out.println("task"); }
}
'''

MODULE_INFO = r'''
module demo.features {
    requires java.logging;
    requires transitive java.sql;
    exports demo;
    opens demo to java.logging;
    uses java.lang.Runnable;
    provides java.lang.Runnable with demo.Task;
}
'''

SEVENTEEN = r'''
package demo;

import java.util.Objects;

sealed interface Shape permits Circle, Square, Rect {}

record Circle(double radius) implements Shape {}

record Square(@Marker("side") double side) implements Shape {}

final class Rect implements Shape { final double w = 1, h = 2; }

public class Seventeen {
    static final String BLOCK = """
        Hello,
          text block\tdone \
        joined
        """;

    public static double area(Shape s) {
        if (s instanceof Circle c) return Math.PI * c.radius() * c.radius();
        if (s instanceof Square sq && sq.side() > 0) return sq.side() * sq.side();
        return 2.0;
    }

    public static int kind(Color c) {
        return switch (c) {
            case RED -> 1;
            case GREEN -> 2;
            default -> { int x = c.ordinal(); yield x * 10; }
        };
    }

    public static String name(String s) {
        return switch (s) { case "a", "b" -> "ab"; case "c" -> "c"; default -> BLOCK; };
    }

    public record Pair<A, B>(A first, B second) {
        public Pair { Objects.requireNonNull(first); }
    }
}
'''

TWENTY_FIVE = r'''
package demo;

public class TwentyFive {
    static String show(Object o) {
        return switch (o) {
            case Circle(double r) when r > 10 -> "big circle";
            case Circle c -> "circle";
            case Square(var side) -> "square " + side;
            case Color.GREEN -> "green";
            case Color col when col == Color.RED -> "red";
            case Seventeen.Pair(String a, var _) -> a;
            case String s -> s;
            case null -> "null";
            default -> "other";
        };
    }

    static int sealedSwitch(Shape s) {
        return switch (s) {
            case Circle c -> 1;
            case Square q -> 2;
            case Rect r -> 3;
        };
    }
}
'''


def wide_source() -> str:
    """A class with more than 256 local slots (wide iload/istore/iinc) and more than 256 constants (ldc_w)."""
    decls = "\n".join(f"        int v{k} = k + {k};" for k in range(300))
    strings = ", ".join(f'"s{k}"' for k in range(300))
    return f"""
package demo;

public class Wide {{
    public static int locals(int k) {{
{decls}
        v299 += 1000;
        v298++;
        return v299 + v298 + v0;
    }}

    public static String[] many() {{
        return new String[] {{{strings}}};
    }}

    public static float[] numbers() {{
        return new float[] {{1.5f, 2.5f, 1e30f, -0.0f}};
    }}
}}
"""


SOURCES_BY_LEVEL: dict[int, dict[str, str]] = {}
SOURCES_BY_LEVEL[8] = {"demo/Features.java": FEATURES, "demo/Wide.java": wide_source()}
SOURCES_BY_LEVEL[11] = {**SOURCES_BY_LEVEL[8], "demo/Eleven.java": ELEVEN, "demo/Task.java": TASK,
                        "module-info.java": MODULE_INFO}
SOURCES_BY_LEVEL[17] = {**SOURCES_BY_LEVEL[11], "demo/Seventeen.java": SEVENTEEN}
SOURCES_BY_LEVEL[25] = {**SOURCES_BY_LEVEL[17], "demo/TwentyFive.java": TWENTY_FIVE}
MAJOR = {8: 52, 11: 55, 17: 61, 25: 69}
WEIRD = "nul:\0 astral:\U0001F600 lone:\ud800 e\u0301 \u00e9\u4e2d"


@dataclass(frozen=True)
class Config:
    name: str
    tool: str  # javac (the JDK on PATH), javac25 (a JDK >= 25), ecj
    level: int
    debug: bool

    def flags(self) -> list[str]:
        if self.tool == "ecj":
            return [f"-{self.level}", "-proc:none", "-nowarn", *(["-g", "-parameters"] if self.debug else ["-g:none"])]
        return ["--release", str(self.level), "-Xlint:none", *(["-g", "-parameters"] if self.debug else ["-g:none"])]


CONFIGS = [
    *(Config(f"javac-{lvl}-{'g' if g else 'g:none'}", "javac", lvl, g) for lvl in (8, 11, 17) for g in (True, False)),
    Config("ecj-8", "ecj", 8, True),
    Config("ecj-11-g:none", "ecj", 11, False),
    Config("ecj-17", "ecj", 17, True),
    Config("javac25-25-g", "javac25", 25, True),
]

# Runs several javac compilations in one JVM (javac's start-up dominates the cost of compiling a few files).
MULTI_JAVAC = """
import java.util.ArrayList;
import java.util.List;
import javax.tools.ToolProvider;

public class MultiJavac {
    public static void main(String[] args) {
        var javac = ToolProvider.getSystemJavaCompiler();
        List<String> group = new ArrayList<>();
        for (int i = 0; i <= args.length; i++) {
            if (i == args.length || args[i].equals("--next--")) {
                int rc = javac.run(null, System.out, System.out, group.toArray(new String[0]));
                System.out.println("@@rc " + rc);
                group.clear();
            } else {
                group.add(args[i]);
            }
        }
    }
}
"""
FAST_JVM = ["-XX:TieredStopAtLevel=1", "-Xshare:auto"]  # C1 only: much faster for short-lived compilers


@dataclass
class Compiled:
    returncode: int
    output: str
    classes: dict[str, bytes]


@pytest.fixture(scope="session")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Compiled | None]:
    """Every configuration compiled (all compilers run in parallel); None where the compiler is not installed."""
    base = tmp_path_factory.mktemp("javasrc")
    outs: dict[str, Path] = {}
    args: dict[str, list[str]] = {}
    for cfg in CONFIGS:
        src = base / cfg.name.replace(":", "_") / "src"
        outs[cfg.name] = src.parent / "out"
        files = []
        for rel, text in SOURCES_BY_LEVEL[cfg.level].items():
            (src / rel).parent.mkdir(parents=True, exist_ok=True)
            (src / rel).write_text(text, encoding="utf-8")
            files.append(str(src / rel))
        args[cfg.name] = [*cfg.flags(), "-encoding", "UTF-8", "-d", str(outs[cfg.name]), *files]
    procs: list[tuple[list[str], subprocess.Popen[bytes]]] = []

    def start(names: list[str], cmd: list[str], env: dict[str, str] | None = None) -> None:
        procs.append((names, subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)))

    java = jdk_tool("java")
    batch = [c.name for c in CONFIGS if c.tool == "javac"]
    if java and jdk_tool("javac"):
        (base / "MultiJavac.java").write_text(MULTI_JAVAC)
        cmd = [java, *FAST_JVM, str(base / "MultiJavac.java")]
        for k, name in enumerate(batch):
            cmd += (["--next--"] if k else []) + args[name]
        start(batch, cmd)
    home25 = jdk25_home()
    ecj = shutil.which("ecj")
    for cfg in CONFIGS:
        if cfg.tool == "javac25" and home25:
            start([cfg.name], [str(home25 / "bin" / "javac"), *(f"-J{o}" for o in FAST_JVM), *args[cfg.name]])
        elif cfg.tool == "ecj" and ecj:
            start([cfg.name], [ecj, *args[cfg.name]], env={**os.environ, "JAVA_ARGS": " ".join(FAST_JVM)})
    results: dict[str, Compiled | None] = {c.name: None for c in CONFIGS}
    for names, proc in procs:
        stdout, _ = proc.communicate(timeout=300)
        text = stdout.decode(errors="replace")
        codes = [int(c) for c in re.findall(r"^@@rc (-?\d+)$", text, re.M)] if len(names) > 1 else [proc.returncode]
        codes += [proc.returncode or -1] * (len(names) - len(codes))
        for name, rc in zip(names, codes, strict=False):
            out = outs[name]
            found = sorted(out.rglob("*.class")) if out.is_dir() else []
            results[name] = Compiled(rc, text, {str(p.relative_to(out)): p.read_bytes() for p in found})
    return results


def compiled_or_skip(compiled: dict[str, Compiled | None], name: str) -> dict[str, bytes]:
    res = compiled[name]
    if res is None:
        pytest.skip(f"{name}: compiler not installed")
    assert res.returncode == 0, res.output
    assert res.classes, res.output
    return res.classes


# --------------------------------------------------------------------------------------------------------------
# A synthetic class holding every constant tag, built through the API
# --------------------------------------------------------------------------------------------------------------


@dataclass
class Synth:
    cf: ClassFile
    code_name: int
    dyn: int
    utf8_any: int
    bsm_attr: int


def build_synthetic(major: int = 61) -> Synth:
    pool = ConstantPool()

    def u(s: str) -> int:
        return pool.append(Constant.utf8(encode_mutf8(s)))

    def cls(name: str) -> int:
        return pool.append(Constant.make(7, u(name)))

    def nat(name: str, desc: str) -> int:
        return pool.append(Constant.make(12, u(name), u(desc)))

    this, obj = cls("demo/Synth"), cls("java/lang/Object")
    code_name = u("Code")
    k_int = pool.append(Constant.make(3, -5))
    k_float = pool.append(Constant.make(4, 0x7FC00001))  # a NaN with a payload: kept bit-exact
    k_long = pool.append(Constant.make(5, -(2**63)))
    k_double = pool.append(Constant.make(6, 0x7FF8000000000001))
    k_str = pool.append(Constant.make(8, u("nul\0 astral\U0001F600")))
    init = pool.append(Constant.make(10, obj, nat("<init>", "()V")))
    fld = pool.append(Constant.make(9, this, nat("x", "I")))
    runnable = cls("java/lang/Runnable")
    run = pool.append(Constant.make(11, runnable, nat("run", "()V")))
    bsm_desc = "(Ljava/lang/invoke/MethodHandles$Lookup;Ljava/lang/String;Ljava/lang/Class;)Ljava/lang/Object;"
    bsm_ref = pool.append(Constant.make(10, this, nat("bsm", bsm_desc)))
    handle = pool.append(Constant.make(15, 6, bsm_ref))
    mtype = pool.append(Constant.make(16, u("()V")))
    dyn = pool.append(Constant.make(17, 0, nat("c", "I")))
    indy = pool.append(Constant.make(18, 0, nat("r", "()Ljava/lang/Runnable;")))
    pool.append(Constant.make(19, u("demo.mod")))
    pool.append(Constant.make(20, u("demo")))
    assert dyn < 256
    code = bytes([
        0x2A, 0xB7, *init.to_bytes(2, "big"),  # aload_0; invokespecial Object.<init>
        0x12, dyn, 0x57,  # ldc Dynamic; pop
        0xBA, *indy.to_bytes(2, "big"), 0, 0, 0x57,  # invokedynamic; pop
        0x14, *k_long.to_bytes(2, "big"), 0x58,  # ldc2_w Long; pop2
        0x13, *k_str.to_bytes(2, "big"), 0x57,  # ldc_w String; pop
        0x2A, 0xB4, *fld.to_bytes(2, "big"), 0x57,  # aload_0; getfield x; pop
        0x2A, 0xC0, *runnable.to_bytes(2, "big"), 0xB9, *run.to_bytes(2, "big"), 1, 0,  # checkcast; invokeinterface
        0xB1,  # return
    ])
    line_numbers = Attribute(u("LineNumberTable"), struct.pack(">HHH", 1, 0, 7))
    init_code = Code(2, 1, code, [ExceptionHandler(0, 4, 4, 0)], [line_numbers])
    bsm_code = Code(1, 3, bytes([0x01, 0xB0]))  # aconst_null; areturn
    methods = [Member(0x0001, u("<init>"), u("()V"), [Attribute(code_name, init_code.to_bytes())]),
               Member(0x0009, u("bsm"), u(bsm_desc), [Attribute(code_name, bsm_code.to_bytes())])]
    fields = [Member(0x0000, u("x"), u("I")),
              Member(0x0019, u("K"), u("I"), [Attribute(u("ConstantValue"), k_int.to_bytes(2, "big"))])]
    bsms = [BootstrapMethod(handle, (k_int, k_str, mtype, k_float, k_double)), BootstrapMethod(handle, ())]
    bsm_attr = u("BootstrapMethods")
    attrs = [Attribute(u("SourceFile"), u("Synth.java").to_bytes(2, "big")),
             Attribute(bsm_attr, write_bootstrap_methods(bsms)),
             Attribute(u("Custom"), b"\x00\x01\x02")]
    cf = ClassFile(0, major, pool, 0x0021, this, obj, [], fields, methods, attrs)
    return Synth(cf, code_name, dyn, u("anything"), bsm_attr)


@functools.lru_cache(maxsize=1)
def synthetic_bytes() -> bytes:
    return write_class(build_synthetic().cf)


# --------------------------------------------------------------------------------------------------------------
# Basic API and the synthetic class
# --------------------------------------------------------------------------------------------------------------


def test_error_type() -> None:
    assert issubclass(ClassFormatError, CanonjarError)
    err = ClassFormatError("bad\nthing", 12)
    assert err.offset == 12 and str(err) == "bad thing (at offset 12)"


def test_known_attributes() -> None:
    assert len(KNOWN_ATTRIBUTES) == 30
    some = {"Code", "StackMapTable", "BootstrapMethods", "Record", "PermittedSubclasses", "NestHost", "ModuleMainClass",
            "RuntimeInvisibleParameterAnnotations", "RuntimeVisibleTypeAnnotations", "ConstantValue"}
    assert some <= KNOWN_ATTRIBUTES
    assert all(isinstance(n, str) for n in KNOWN_ATTRIBUTES)


def test_synthetic_class_with_every_tag_round_trips() -> None:
    s = build_synthetic()
    data = write_class(s.cf)
    cf = read_class(data, deep=True)
    assert cf == s.cf
    assert write_class(cf) == data
    assert {c.tag for _, c in cf.constant_pool} == {1, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 15, 16, 17, 18, 19, 20}
    pool = cf.constant_pool
    assert cf.name == "demo/Synth"
    assert [cf.member_name(m) for m in cf.methods] == ["<init>", "bsm"]
    assert cf.unknown_attributes() == [("class", "Custom")]
    bsms = cf.bootstrap_methods()
    assert bsms is not None and len(bsms) == 2 and len(bsms[0].arguments) == 5
    code = cf.code(cf.methods[0])
    assert code is not None and code.exception_table == [ExceptionHandler(0, 4, 4, 0)]
    assert code.to_bytes() == cf.methods[0].attributes[0].info
    # typed views of constants
    longs = [c for _, c in pool if c.tag == 5]
    assert longs[0].fields == (-(2**63),) and longs[0].slots == 2
    assert pool.describe(s.dyn) == "#0:c:I"
    assert any(pool.describe(i) == '"nul\\x00 astral\U0001F600"' for i, c in pool if c.tag == 8)
    assert any("REF_6 demo/Synth.bsm" in pool.describe(i) for i, c in pool if c.tag == 15)
    assert pool[s.dyn].refs == (pool[s.dyn].fields[1],)
    # javap reads what the codec writes
    javap = jdk_tool("javap")
    if javap:
        with_path = Path(os.environ.get("TMPDIR", "/tmp")) / f"canonjar-synth-{os.getpid()}" / "Synth.class"
        with_path.parent.mkdir(exist_ok=True)
        with_path.write_bytes(data)
        res = subprocess.run([javap, "-v", "-p", str(with_path)], capture_output=True, text=True, timeout=120,
                             check=False)
        shutil.rmtree(with_path.parent)
        assert res.returncode == 0, res.stderr
        for kind in ("Dynamic", "InvokeDynamic", "MethodHandle", "MethodType", "Module", "Package", "Long", "Double",
                     "Float", "Integer", "InterfaceMethodref", "Fieldref", "NameAndType"):
            assert re.search(rf"#\d+ = {kind}\s", res.stdout), kind
        assert "invokedynamic" in res.stdout and "ldc2_w" in res.stdout


def test_constant_pool_api() -> None:
    pool = ConstantPool()
    a = pool.append(Constant.utf8(b"abc"))
    b = pool.append(Constant.make(6, 1))
    c = pool.append(Constant.make(7, a))
    assert (a, b, c) == (1, 2, 4) and len(pool) == 5 and pool.entries[3] is None
    assert pool.utf8(a) == b"abc" and pool.class_name(c) == b"abc" and pool.text(a) == "abc"
    assert pool.to_bytes() == b"\x00\x05" + b"\x01\x00\x03abc" + b"\x06" + (1).to_bytes(8, "big") + b"\x07\x00\x01"
    with pytest.raises(ClassFormatError, match="expected Class"):
        pool.get(a, 7)
    with pytest.raises(ClassFormatError):
        pool[3]  # the second slot of a Double
    with pytest.raises(ClassFormatError):
        pool.utf8(99)
    with pytest.raises(ClassFormatError):
        Constant.utf8(b"x" * 70000)
    with pytest.raises(ClassFormatError):
        Constant.make(3, 2**40)
    with pytest.raises(ClassFormatError):
        Constant.make(2)
    pool.entries.append(None)
    with pytest.raises(ClassFormatError, match="empty"):
        pool.to_bytes()


def test_writer_refuses_values_that_do_not_fit() -> None:
    cf = build_synthetic().cf
    cf.this_class = 70000
    with pytest.raises(ClassFormatError):
        write_class(cf)
    cf = build_synthetic().cf
    cf.methods[0].attributes.append(Attribute(2**17, b""))
    with pytest.raises(ClassFormatError):
        write_class(cf)


def test_old_code_format_of_45_0() -> None:
    """Class files 45.0-45.2 have u1 max_stack/max_locals and a u2 code_length in Code."""
    s = build_synthetic(major=45)
    cf = s.cf
    cf.minor_version = 0
    old = Code(1, 1, b"\xb1", old_format=True)
    cf.methods[0].attributes = [Attribute(s.code_name, old.to_bytes())]
    data = write_class(cf)
    back = read_class(data)
    assert back.is_old_code_format and back.code(back.methods[0]) == old
    assert old.to_bytes() == b"\x01\x01\x00\x01\xb1\x00\x00\x00\x00"
    assert write_class(back) == data
    back.minor_version = 3  # 45.3 uses the modern header: the same bytes no longer parse
    with pytest.raises(ClassFormatError):
        back.code(back.methods[0])


# --------------------------------------------------------------------------------------------------------------
# Malformed class files
# --------------------------------------------------------------------------------------------------------------


def test_every_truncation_raises() -> None:
    data = synthetic_bytes()
    for k in range(len(data)):
        with pytest.raises(ClassFormatError):
            read_class(data[:k])


def _header_only(cf: ClassFile) -> bytes:
    """The class without members and attributes: ends with fields_count, methods_count, attributes_count."""
    bare = ClassFile(cf.minor_version, cf.major_version, cf.constant_pool, cf.access_flags, cf.this_class,
                     cf.super_class, list(cf.interfaces))
    return write_class(bare)


def _mutated(change: str) -> bytes:
    s = build_synthetic()
    cf = s.cf
    pool = cf.constant_pool
    utf8 = s.utf8_any
    if change == "this-out-of-range":
        cf.this_class = 0xFFFF
    elif change == "this-zero":
        cf.this_class = 0
    elif change == "super-not-class":
        cf.super_class = utf8
    elif change == "interface-not-class":
        cf.interfaces = [utf8]
    elif change == "field-name-not-utf8":
        cf.fields[0].name_index = cf.this_class
    elif change == "method-descriptor-out-of-range":
        cf.methods[0].descriptor_index = len(pool)
    elif change == "attribute-name-not-utf8":
        cf.attributes[0] = Attribute(cf.this_class, cf.attributes[0].info)
    elif change == "class-constant-to-integer":
        pool.entries[cf.this_class] = Constant.make(7, next(i for i, c in pool if c.tag == 3))
    elif change == "method-handle-bad-kind":
        i = next(i for i, c in pool if c.tag == 15)
        pool.entries[i] = Constant.make(15, 10, pool[i].fields[1])
    elif change == "method-handle-kind-mismatch":
        i = next(i for i, c in pool if c.tag == 15)
        pool.entries[i] = Constant.make(15, 1, pool[i].fields[1])  # getfield kind on a Methodref
    elif change == "nat-to-class":
        i = next(i for i, c in pool if c.tag == 10)
        pool.entries[i] = Constant.make(10, cf.this_class, cf.this_class)
    elif change.startswith("tag-"):
        tag = int(change[4:])
        pool.entries[s.utf8_any] = Constant(tag, bytes([tag]) + pool.entries[s.utf8_any].raw[1:])  # type: ignore[union-attr]
    elif change == "major-44":
        cf.major_version = 44
    else:
        raise AssertionError(change)
    return write_class(cf)


@pytest.mark.parametrize("change", [
    "this-out-of-range", "this-zero", "super-not-class", "interface-not-class", "field-name-not-utf8",
    "method-descriptor-out-of-range", "attribute-name-not-utf8", "class-constant-to-integer", "method-handle-bad-kind",
    "method-handle-kind-mismatch", "nat-to-class", "tag-0", "tag-2", "tag-13", "tag-14", "tag-21", "tag-255",
    "major-44",
])
def test_malformed_structures_raise(change: str) -> None:
    with pytest.raises(ClassFormatError):
        read_class(_mutated(change))


def test_malformed_bytes_raise() -> None:
    data = synthetic_bytes()
    bare = _header_only(build_synthetic().cf)
    code_name = build_synthetic().code_name
    cases = {
        "empty": b"",
        "magic only": data[:4],
        "bad magic": b"\xca\xfe\xba\xbf" + data[4:],
        "not a class": b"PK\x03\x04" + bytes(40),
        "trailing byte": data + b"\x00",
        "trailing garbage": data + b"\xca\xfe\xba\xbe",
        "cp count 0": data[:8] + b"\x00\x00" + data[10:],
        "huge cp count": data[:8] + b"\xff\xff\x01\x00\x00",
        "long in last slot": data[:8] + b"\x00\x02\x05" + bytes(8) + bytes(14),
        "utf8 longer than data": data[:8] + b"\x00\x02\x01\xff\xff" + bytes(20),
        "huge interfaces_count": bare[:-8] + b"\xff\xff" + bytes(6),
        "huge fields_count": bare[:-6] + b"\xff\xff\x00\x00\x00\x00",
        "huge methods_count": bare[:-4] + b"\xff\xff\x00\x00",
        "huge attributes_count": bare[:-2] + b"\xff\xff" + bytes(12),
        "attribute length 4 GiB": bare[:-2] + b"\x00\x01" + struct.pack(">HI", code_name, 0xFFFFFFFF) + b"abc",
        "member attribute count": bare[:-6] + b"\x00\x01" + struct.pack(">HHHH", 0, code_name, code_name, 0xFFFF)
        + bytes(4),
    }
    for what, bad in cases.items():
        with pytest.raises(ClassFormatError):
            read_class(bad)
            pytest.fail(what)


def test_deep_checks() -> None:
    s = build_synthetic()
    cf = s.cf
    # ldc of a Utf8 constant: the class reads, the deep check refuses it
    code = cf.code(cf.methods[1])
    assert code is not None
    bad = Code(1, 3, bytes([0x12, s.utf8_any, 0xB0]))
    cf.methods[1].attributes = [Attribute(s.code_name, bad.to_bytes())]
    data = write_class(cf)
    read_class(data)
    with pytest.raises(ClassFormatError, match="ldc"):
        read_class(data, deep=True)
    # a Dynamic constant using a bootstrap method the class does not have
    s = build_synthetic()
    s.cf.attributes = [a for a in s.cf.attributes if a.name_index != s.bsm_attr]
    with pytest.raises(ClassFormatError, match="bootstrap"):
        read_class(write_class(s.cf), deep=True)


def test_code_attribute_errors() -> None:
    pool = build_synthetic().cf.constant_pool
    good = Code(1, 1, b"\xb1").to_bytes()
    assert parse_code(good, pool).to_bytes() == good
    for bad in [
        good[:7],
        struct.pack(">HHI", 1, 1, 0) + bytes(4),  # code_length 0
        struct.pack(">HHI", 1, 1, 0x10000) + bytes(0x10000 + 4),  # code_length above 65535
        struct.pack(">HHI", 1, 1, 0xFFFFFFFF) + b"\xb1",
        good[:-4] + b"\xff\xff\x00\x00",  # exception_table_length
        good + b"\x00",  # bytes after the nested attributes
        Code(1, 1, b"\xb1", [ExceptionHandler(0, 1, 0, 9999)]).to_bytes(),  # catch_type out of range
        Code(1, 1, b"\xb1", [], [Attribute(9999, b"")]).to_bytes(),  # nested attribute name out of range
    ]:
        with pytest.raises(ClassFormatError):
            parse_code(bad, pool)


def test_bootstrap_and_record_parsers() -> None:
    s = build_synthetic()
    pool = s.cf.constant_pool
    bsms = s.cf.bootstrap_methods()
    assert bsms is not None
    info = write_bootstrap_methods(bsms)
    assert parse_bootstrap_methods(info, pool) == bsms
    for bad in [info[:-1], info + b"\x00", b"\x00\x01", b"\xff\xff\x00\x00",
                write_bootstrap_methods([BootstrapMethod(s.utf8_any, ())]),
                write_bootstrap_methods([BootstrapMethod(bsms[0].method_ref, (s.utf8_any,))])]:
        with pytest.raises(ClassFormatError):
            parse_bootstrap_methods(bad, pool)
    comps = [RecordComponent(s.utf8_any, s.utf8_any, [Attribute(s.utf8_any, b"xy")])]
    rec = write_record(comps)
    assert parse_record(rec, pool) == comps
    for bad in [rec[:-1], rec + b"\x00", b"\xff\xff", write_record([RecordComponent(s.cf.this_class, s.utf8_any, [])])]:
        with pytest.raises(ClassFormatError):
            parse_record(bad, pool)


# --------------------------------------------------------------------------------------------------------------
# The instruction decoder
# --------------------------------------------------------------------------------------------------------------

# Instruction lengths typed in from JVMS 6.5, independently of the decoder's tables.
LEN2 = {0x10, 0x12, *range(0x15, 0x1A), *range(0x36, 0x3B), 0xA9, 0xBC}
LEN3 = {0x11, 0x13, 0x14, 0x84, *range(0x99, 0xA9), *range(0xB2, 0xB9), 0xBB, 0xBD, 0xC0, 0xC1, 0xC6, 0xC7}
LEN4 = {0xC5}
LEN5 = {0xB9, 0xBA, 0xC8, 0xC9}
VARIABLE = {0xAA, 0xAB, 0xC4}


def test_every_fixed_length_opcode() -> None:
    assert len(OPCODE_NAMES) == 202 and OPCODE_NAMES[0xBA] == "invokedynamic" and OPCODE_NAMES[0xC9] == "jsr_w"
    for op in range(256):
        if op in VARIABLE:
            continue
        if op >= 0xCA:
            with pytest.raises(ClassFormatError, match="opcode"):
                list(iter_instructions(bytes([op])))
            continue
        length = 2 if op in LEN2 else 3 if op in LEN3 else 4 if op in LEN4 else 5 if op in LEN5 else 1
        code = bytes([op]) + bytes(length - 1) + b"\x00"
        assert [(i.offset, i.opcode, i.length) for i in iter_instructions(code)] == [(0, op, length), (length, 0, 1)]
        if length > 1:
            with pytest.raises(ClassFormatError, match="past the end"):
                list(iter_instructions(code[:length - 1]))


def test_operands_and_constant_pool_indices() -> None:
    code = bytes([
        0x10, 0xFF,  # bipush -1
        0x11, 0x80, 0x00,  # sipush -32768
        0x12, 0xFE,  # ldc #254 (ONE byte)
        0x13, 0x01, 0x02,  # ldc_w #258
        0xB9, 0x03, 0x04, 0x02, 0x00,  # invokeinterface #772, 2
        0xBA, 0x00, 0x07, 0x00, 0x00,  # invokedynamic #7
        0xC5, 0x00, 0x09, 0x03,  # multianewarray #9, 3
        0x84, 0x05, 0xFB,  # iinc 5, -5
        0xC4, 0x84, 0x01, 0x00, 0xFF, 0xFE,  # wide iinc 256, -2
        0xC4, 0x15, 0x01, 0x02,  # wide iload 258
        0xA7, 0xFF, 0xF9,  # goto -7
        0xC8, 0xFF, 0xFF, 0xFF, 0xFB,  # goto_w -5
        0xB1,
    ])
    insns = list(iter_instructions(code))
    got = [(i.offset, i.mnemonic, i.operands, i.wide) for i in insns]
    assert got == [
        (0, "bipush", (-1,), False), (2, "sipush", (-32768,), False), (5, "ldc", (254,), False),
        (7, "ldc_w", (258,), False), (10, "invokeinterface", (772, 2, 0), False), (15, "invokedynamic", (7, 0), False),
        (20, "multianewarray", (9, 3), False), (24, "iinc", (5, -5), False), (27, "iinc", (256, -2), True),
        (33, "iload", (258,), True), (37, "goto", (-7,), False), (40, "goto_w", (-5,), False),
        (45, "return", (), False),
    ]
    assert [i.cp_index for i in insns][:7] == [None, None, 254, 258, 772, 7, 9]
    assert CP_INDEX_WIDTH[0x12] == 1 and CP_INDEX_WIDTH[0x13] == 2 and 0x10 not in CP_INDEX_WIDTH
    assert cp_references(code) == [(6, 1, 254), (8, 2, 258), (11, 2, 772), (16, 2, 7), (21, 2, 9)]
    assert insns[10].targets() == (30,) and insns[11].targets() == (35,)


@pytest.mark.parametrize("lead", [0, 1, 2, 3])
def test_switch_padding(lead: int) -> None:
    pad = (-(lead + 1)) % 4
    table = bytes([0xAA]) + bytes(pad) + struct.pack(">iiiiii", 40, -1, 2, 10, 20, 30, ) + struct.pack(">i", 35)
    lookup = bytes([0xAB]) + bytes((-(lead + len(table) + 1)) % 4) + struct.pack(">iiiiii", 7, 2, -5, 11, 99, 12)
    code = bytes(lead) + table + lookup + b"\xb1"
    insns = list(iter_instructions(code))
    sw = insns[lead]
    assert (sw.offset, sw.mnemonic, sw.length) == (lead, "tableswitch", len(table))
    assert sw.operands == (40, -1, 2, 10, 20, 30, 35)
    assert sw.targets() == tuple(lead + x for x in (40, 10, 20, 30, 35))
    lk = insns[lead + 1]
    assert lk.mnemonic == "lookupswitch" and lk.operands == (7, 2, -5, 11, 99, 12)
    assert lk.targets() == (lk.offset + 7, lk.offset + 11, lk.offset + 12)
    assert insns[-1].offset == len(code) - 1


def test_decoder_errors() -> None:
    for bad in [
        b"\xaa\x00\x00\x00" + struct.pack(">iii", 0, 5, 4),  # high < low
        b"\xaa\x00\x00\x00" + struct.pack(">iii", 0, -(2**31), 2**31 - 1),  # 2**32 offsets, 12 bytes left
        b"\xab\x00\x00\x00" + struct.pack(">ii", 0, -1),  # negative npairs
        b"\xab\x00\x00\x00" + struct.pack(">ii", 0, 2**31 - 1),
        b"\xaa\x00\x00",  # truncated in padding
        b"\xc4\x10\x00\x00",  # wide bipush
        b"\xc4\x84\x00\x01\x00",  # truncated wide iinc
        b"\xc4",
        b"\xca", b"\xfe", b"\xff",  # breakpoint, impdep1, impdep2
    ]:
        with pytest.raises(ClassFormatError):
            list(iter_instructions(bad))


# --------------------------------------------------------------------------------------------------------------
# The JDK's own classes
# --------------------------------------------------------------------------------------------------------------


def test_java_base_round_trips_every_class() -> None:
    classes = java_base_classes()
    if not classes:
        pytest.skip(NO_JDK)
    assert len(classes) > 5000
    assert round_trip_failures(classes) == []


@pytest.mark.parametrize("jmod", [p for p in JMODS if p.name != "java.base.jmod"] or [None],
                         ids=lambda p: p.stem if p else "no-jdk")
def test_jmod_round_trips_every_class(jmod: Path | None) -> None:
    if jmod is None:
        pytest.skip(NO_JDK)
    assert round_trip_failures(read_jmod(jmod)) == []


def test_java_base_every_code_attribute_decodes() -> None:
    """Deep read of java.base: every Code attribute parses, its instructions are contiguous and end exactly at
    the code end, constant-pool operands have the right kind, BootstrapMethods and Record views round-trip."""
    classes = java_base_classes()
    if not classes:
        pytest.skip(NO_JDK)
    seen: set[int] = set()
    methods_with_code = 0
    unknown: set[tuple[str, str]] = set()
    for name, data in classes:
        cf = read_class(data, deep=True)
        pool = cf.constant_pool
        for m in cf.methods:
            for a in m.attributes:
                if cf.attribute_name(a) == b"Code":
                    code = parse_code(a.info, pool)
                    assert code.to_bytes() == a.info
                    walk_opcodes(code.code, seen)
                    methods_with_code += 1
        for a in cf.attributes:
            kind = cf.attribute_name(a)
            if kind == b"BootstrapMethods":
                assert write_bootstrap_methods(parse_bootstrap_methods(a.info, pool)) == a.info
            elif kind == b"Record":
                assert write_record(parse_record(a.info, pool)) == a.info
        unknown.update((name.rsplit("/", 1)[-1], attr) for _, attr in cf.unknown_attributes())
    opcodes = {OPCODE_NAMES[op & 0xFF] + ("_w" if op & 0x100 else "") for op in seen}
    assert methods_with_code > 50000
    assert len(opcodes) > 180, sorted(set(OPCODE_NAMES.values()) - opcodes)
    assert {"tableswitch", "lookupswitch", "invokedynamic", "iinc_w", "multianewarray", "ldc", "ldc_w"} <= opcodes
    # Only the JDK's own module attributes (added by jlink/jmod) are not in the JVMS list.
    assert unknown <= {("module-info.class", n) for n in ("ModuleHashes", "ModuleResolution", "ModuleTarget")}


JDK25_MODULES = ("java.base", "jdk.compiler", "java.xml", "jdk.jfr", "java.net.http", "jdk.jshell", "jdk.httpserver")


@pytest.fixture(scope="session")
def jdk25_classes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[tuple[str, bytes]]]:
    """Classes of java.base and a few other modules of a JDK >= 25 (extracted from its lib/modules image)."""
    home = jdk25_home()
    if home is None or not (home / "bin" / "jimage").exists():
        pytest.skip("no JDK >= 25 with jimage installed (optional)")
    dest = tmp_path_factory.mktemp("jdk25")
    pattern = "regex:/(" + "|".join(re.escape(m) for m in JDK25_MODULES) + ")/.*"
    subprocess.run([str(home / "bin" / "jimage"), "extract", "--dir", str(dest), "--include", pattern,
                    str(home / "lib" / "modules")], check=True, capture_output=True, timeout=300)
    return {m: [(str(p.relative_to(dest)), p.read_bytes()) for p in sorted((dest / m).rglob("*.class"))]
            for m in JDK25_MODULES}


def test_jdk25_java_base_round_trips(jdk25_classes: dict[str, list[tuple[str, bytes]]]) -> None:
    """Class files of major 69 (Java 25): every class of java.base of a JDK >= 25, deep read and round trip."""
    classes = jdk25_classes["java.base"]
    assert len(classes) > 5000
    majors = []
    for name, data in classes:
        cf = read_class(data, deep=True)
        assert write_class(cf) == data, name
        majors.append(cf.major_version)
    assert majors.count(69) > 5000  # (a few generated classes of the JDK keep an older version)


def test_jdk25_other_modules_round_trip(jdk25_classes: dict[str, list[tuple[str, bytes]]]) -> None:
    classes = [c for m in JDK25_MODULES[1:] for c in jdk25_classes[m]]
    assert len(classes) > 3000
    assert round_trip_failures(classes) == []


# --------------------------------------------------------------------------------------------------------------
# Classes compiled here
# --------------------------------------------------------------------------------------------------------------

COMMON_ATTRIBUTES = {"Code", "StackMapTable", "Exceptions", "InnerClasses", "EnclosingMethod", "Signature",
                     "ConstantValue", "Deprecated", "RuntimeVisibleAnnotations", "RuntimeInvisibleAnnotations",
                     "RuntimeVisibleParameterAnnotations", "RuntimeInvisibleParameterAnnotations",
                     "RuntimeVisibleTypeAnnotations", "AnnotationDefault", "BootstrapMethods"}
DEBUG_ATTRIBUTES = {"SourceFile", "LineNumberTable", "LocalVariableTable", "LocalVariableTypeTable"}
COMMON_TAGS = {1, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 15, 16, 18}
COMMON_OPCODES = {"tableswitch", "lookupswitch", "iinc_w", "ldc", "ldc_w", "ldc2_w", "invokedynamic", "invokeinterface",
                  "invokespecial", "invokestatic", "invokevirtual", "getfield", "putfield", "getstatic",
                  "multianewarray", "newarray", "anewarray", "instanceof", "checkcast", "monitorenter", "monitorexit",
                  "athrow", "new", "lushr", "lxor", "i2c", "i2s", "i2b", "l2i", "d2i", "f2d"}


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: c.name)
def test_compiled_classes_round_trip(config: Config, compiled: dict[str, Compiled | None]) -> None:
    classes = compiled_or_skip(compiled, config.name)
    assert len(classes) >= 10
    attrs: set[str] = set()
    tags: set[int] = set()
    opcodes: set[str] = set()
    strings: set[str] = set()
    for name, data in classes.items():
        cf = read_class(data, deep=True)
        assert write_class(cf) == data, name
        assert cf.major_version == MAJOR[config.level], name
        assert cf.unknown_attributes() == [], name
        attrs |= all_attribute_names(cf)
        for _, c in cf.constant_pool:
            tags.add(c.tag)
            if c.tag == 1:
                strings.add(decode_mutf8(c.value))
        for m in cf.methods:
            code = cf.code(m)
            if code is not None:
                opcodes.update(op for _, op in walk_code(code.code))
        bsms = cf.bootstrap_methods()
        if bsms is not None:
            info = cf.find_attribute(cf.attributes, "BootstrapMethods")
            assert info is not None and write_bootstrap_methods(bsms) == info.info
    want_attrs = set(COMMON_ATTRIBUTES)
    if config.debug:
        want_attrs |= DEBUG_ATTRIBUTES | {"MethodParameters"}
    else:
        absent = DEBUG_ATTRIBUTES - ({"SourceFile"} if config.tool == "ecj" else set())  # ecj -g:none keeps it
        assert not attrs & absent, attrs & absent
    if config.tool == "ecj":
        want_attrs.add("RuntimeInvisibleTypeAnnotations")
    want_tags = set(COMMON_TAGS)
    if config.level >= 11:
        want_attrs |= {"Module", "NestHost", "NestMembers"}
        want_tags |= {19, 20}
    if config.level >= 17:
        want_attrs |= {"Record", "PermittedSubclasses"}
    if config.level >= 25:
        want_tags.add(17)  # javac 21+ loads enum constants of pattern switches with CONSTANT_Dynamic
    assert want_attrs <= attrs, want_attrs - attrs
    assert want_tags <= tags, want_tags - tags
    assert opcodes >= COMMON_OPCODES, COMMON_OPCODES - opcodes
    assert WEIRD in strings  # NUL as C0 80, a surrogate pair and a lone surrogate, decoded as Java does


# --------------------------------------------------------------------------------------------------------------
# Spot checks against javap
# --------------------------------------------------------------------------------------------------------------

_JAVAP_INSN = re.compile(r"^\s+(\d+): ([a-z][a-z0-9_]*)\b", re.M)
_JAVAP_CP = re.compile(r"^\s+#(\d+) = (\w+)", re.M)
_JAVAP_COUNTS = re.compile(r"^\s+interfaces: (\d+), fields: (\d+), methods: (\d+), attributes: (\d+)$", re.M)


def _javap_switches(text: str) -> list[dict[str, int]]:
    out = []
    for m in re.finditer(r"^\s+(\d+): (?:tableswitch|lookupswitch)\s*\{[^\n]*\n(.*?)^\s+\}", text, re.M | re.S):
        out.append({k: int(v) for k, v in re.findall(r"^\s+(-?\d+|default): (\d+)$", m.group(2), re.M)}
                   | {"@": int(m.group(1))})
    return out


def _our_switches(cf: ClassFile) -> list[dict[str, int]]:
    out = []
    for m in cf.methods:
        code = cf.code(m)
        for insn in iter_instructions(code.code) if code else ():
            if insn.mnemonic == "tableswitch":
                default, low, high, *offs = insn.operands
                keys = [str(k) for k in range(low, high + 1)]
            elif insn.mnemonic == "lookupswitch":
                default, _, *pairs = insn.operands
                keys, offs = [str(k) for k in pairs[::2]], pairs[1::2]
            else:
                continue
            d = {k: insn.offset + o for k, o in zip(keys, offs, strict=True)}
            out.append(d | {"default": insn.offset + default, "@": insn.offset})
    return out


def test_javap_agrees(compiled: dict[str, Compiled | None], tmp_path: Path) -> None:
    javap = jdk_tool("javap")
    if javap is None:
        pytest.skip("no javap")
    picks: dict[str, bytes] = {}
    if compiled["javac-17-g"] is not None:
        classes = compiled_or_skip(compiled, "javac-17-g")
        for n in ("demo/Features.class", "demo/Wide.class", "demo/Seventeen.class", "demo/Circle.class"):
            picks[n] = classes[n]
    base = dict(java_base_classes())
    for n in ("java/lang/Character.class", "java/util/HashMap.class", "java/lang/invoke/MethodHandles.class",
              "java/util/concurrent/ConcurrentHashMap.class", "sun/nio/cs/UTF_8.class"):
        if f"classes/{n}" in base:
            picks[n] = base[f"classes/{n}"]
    if not picks:
        pytest.skip("nothing to compare")
    paths = []
    for i, (n, data) in enumerate(picks.items()):
        p = tmp_path / f"c{i}" / n.rsplit("/", 1)[-1]
        p.parent.mkdir()
        p.write_bytes(data)
        paths.append(p)
    res = subprocess.run([javap, "-v", "-p", "-c", *map(str, paths)], capture_output=True, text=True, timeout=300,
                         check=False)
    assert res.returncode == 0, res.stderr
    chunks = re.split(r"^Classfile ", res.stdout, flags=re.M)[1:]
    assert len(chunks) == len(picks)
    switches_seen = 0
    for (name, data), text in zip(picks.items(), chunks, strict=True):
        cf = read_class(data)
        assert f"major version: {cf.major_version}" in text and f"minor version: {cf.minor_version}" in text, name
        cp = _JAVAP_CP.findall(text)
        last, kind = int(cp[-1][0]), cp[-1][1]
        assert len(cf.constant_pool) == last + (2 if kind in ("Long", "Double") else 1), name
        assert [int(i) for i, _ in cp] == [i for i, _ in cf.constant_pool], name
        assert [k for _, k in cp] == [{1: "Utf8"}.get(c.tag, "") or _javap_kind(c.tag) for _, c in cf.constant_pool]
        counts = _JAVAP_COUNTS.search(text)
        assert counts is not None and tuple(map(int, counts.groups())) == (
            len(cf.interfaces), len(cf.fields), len(cf.methods), len(cf.attributes)), name
        descriptors = re.findall(r"^\s+descriptor: (\S+)$", text, re.M)
        ours = [cf.member_descriptor(m) for m in cf.fields + cf.methods]
        assert descriptors[:len(ours)] == ours, name
        insns = [(int(o), op) for o, op in _JAVAP_INSN.findall(text)]
        mine = [pair for m in cf.methods if (c := cf.code(m)) for pair in walk_code(c.code)]
        assert insns == mine, name
        theirs = _javap_switches(text)
        assert theirs == _our_switches(cf), name
        switches_seen += len(theirs)
    assert switches_seen >= 4


def _javap_kind(tag: int) -> str:
    return {3: "Integer", 4: "Float", 5: "Long", 6: "Double", 7: "Class", 8: "String", 9: "Fieldref",
            10: "Methodref", 11: "InterfaceMethodref", 12: "NameAndType", 15: "MethodHandle", 16: "MethodType",
            17: "Dynamic", 18: "InvokeDynamic", 19: "Module", 20: "Package"}[tag]


# --------------------------------------------------------------------------------------------------------------
# Modified UTF-8
# --------------------------------------------------------------------------------------------------------------


def test_mutf8_examples() -> None:
    assert encode_mutf8("a\0b") == b"a\xc0\x80b"
    assert encode_mutf8("\U0001F600") == b"\xed\xa0\xbd\xed\xb8\x80"
    assert encode_mutf8("\ud800") == b"\xed\xa0\x80"
    assert decode_mutf8(b"\xed\xa0\xbd\xed\xb8\x80") == "\U0001F600"
    assert decode_mutf8(b"a\xc0\x80b") == "a\0b"
    for bad in (b"\x00", b"\xf0\x9f\x98\x80", b"\x80", b"\xc3", b"\xe4\xb8"):
        with pytest.raises(ClassFormatError):
            decode_mutf8(bad)
    assert display_mutf8(b"a\xc0\x80\n\xed\xa0\x80\xff") == "a\\x00\\x0a\\ud800\\xff"


def _java_string(s: str) -> str:
    """What Java holds for ``s``: a sequence of UTF-16 units (adjacent surrogates form one character)."""
    return s.encode("utf-16-be", "surrogatepass").decode("utf-16-be", "surrogatepass")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 0x10FFFF), max_size=40).map(lambda cps: "".join(map(chr, cps))))
def test_mutf8_round_trip(text: str) -> None:
    raw = encode_mutf8(text)
    assert 0 not in raw and not any(b >= 0xF0 for b in raw)
    assert decode_mutf8(raw) == _java_string(text)
    if not any(0xD800 <= ord(c) < 0xE000 or c == "\0" or ord(c) > 0xFFFF for c in text):
        assert raw == text.encode("utf-8")


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=60))
def test_display_never_raises(raw: bytes) -> None:
    shown = display_mutf8(raw)
    assert shown.isprintable()


# --------------------------------------------------------------------------------------------------------------
# Random and mutated input: parse and round-trip exactly, or raise ClassFormatError
# --------------------------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def mutation_seeds() -> tuple[bytes, ...]:
    small = sorted((n, d) for n, d in java_base_classes() if 300 < len(d) < 4000)
    return (synthetic_bytes(), *(d for _, d in small[::80]))


def check_any(data: bytes) -> None:
    try:
        cf = read_class(data)
    except ClassFormatError:
        return
    assert write_class(cf) == data
    try:
        cf.check_deep()
        cf.unknown_attributes()
    except ClassFormatError:
        pass
    pool = cf.constant_pool
    for i, _ in pool:
        pool.describe(i)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_random_bytes(data: bytes) -> None:
    check_any(data)
    check_any(b"\xca\xfe\xba\xbe\x00\x00\x00\x3d" + data)


@st.composite
def mutated_classes(draw: st.DrawFn) -> bytes:
    seeds = mutation_seeds()
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 4))):
        pos = draw(st.integers(0, max(len(data) - 1, 0)))
        kind = draw(st.sampled_from(["flip", "byte", "u16", "u32", "insert", "delete", "truncate"]))
        if kind == "flip" and data:
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif kind == "byte" and data:
            data[pos] = draw(st.integers(0, 255))
        elif kind == "u16":
            data[pos:pos + 2] = draw(st.sampled_from([0, 1, 0xFF, 0x7FFF, 0xFFFF]) | st.integers(0, 0xFFFF)).to_bytes(
                2, "big")
        elif kind == "u32":
            data[pos:pos + 4] = draw(st.sampled_from([0, 0x7FFFFFFF, 0xFFFFFFFF]) | st.integers(0, 2**32 - 1)).to_bytes(
                4, "big")
        elif kind == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=8))
        elif kind == "delete":
            del data[pos:pos + draw(st.integers(1, 8))]
        else:
            del data[pos:]
    return bytes(data)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(mutated_classes())
def test_mutated_classes(data: bytes) -> None:
    check_any(data)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200) | st.lists(st.integers(0, 0xC9), max_size=60).map(bytes))
def test_sub_parsers_on_random_bytes(data: bytes) -> None:
    pool = build_synthetic().cf.constant_pool
    try:
        assert parse_code(data).to_bytes() == data
        parse_code(data, pool)
    except ClassFormatError:
        pass
    with contextlib.suppress(ClassFormatError):
        assert write_bootstrap_methods(parse_bootstrap_methods(data)) == data
    with contextlib.suppress(ClassFormatError):
        assert write_record(parse_record(data)) == data
    try:
        insns = list(iter_instructions(data))
    except ClassFormatError:
        return
    assert sum(i.length for i in insns) == len(data)


# --------------------------------------------------------------------------------------------------------------
# The benchmark script keeps working
# --------------------------------------------------------------------------------------------------------------


def test_benchmark_small_run(tmp_path: Path) -> None:
    if jmods_dir() is None:
        pytest.skip(NO_JDK)
    out = tmp_path / "bench.json"
    res = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "classfile_bench.py"), "--limit", "60",
                          "--runs", "1", "--out", str(out)], capture_output=True, text=True, timeout=300, check=False)
    assert res.returncode == 0, res.stderr
    assert "| canonjar read_class |" in res.stdout and "byte-exact" in res.stdout
    assert out.exists()
