"""The class-constant-pool-order stabilizer and the constant-pool remapper (canonjar.classfile.remap).

- java.base: every class canonicalizes, still parses deep, canonicalizing again changes nothing, and a class
  whose pool was randomly permuted canonicalizes to the same bytes as the original (order independence);
- the JVM verifier (-Xverify:all, classes linked by ``getDeclaredMethods``) accepts every canonicalized class of
  a Debian library JAR and of classes compiled here (javac --release 8 and 17, ecj), and rejects a class whose
  pool was renumbered without remapping one bytecode operand; ``javap -v`` shows the same class apart from the
  numbering; a real program prints the same from the canonicalized classes;
- soundness: a change of an instruction, a constant, a flag, a descriptor, a signature or an annotation value
  still gives a different canonical class;
- a class with an unknown attribute is skipped with the reason.
"""

from __future__ import annotations

import random
import re
import shutil
import subprocess
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from canonjar.classfile import (
    Attribute,
    ClassFile,
    ClassFormatError,
    Code,
    Constant,
    parse_code,
    read_class,
    write_class,
)
from canonjar.classfile.constants import TAG_INTEGER, TAG_METHODREF, TAG_STRING, TAG_UTF8
from canonjar.classfile.remap import (
    RemapError,
    UnknownAttributeError,
    canonical_order,
    canonicalize,
    cp_locations,
    renumber,
)
from canonjar.errors import StabilizerSkip
from canonjar.limits import Budget
from canonjar.model import Entry, Payload
from canonjar.pipeline import Context, Side
from canonjar.stabilizers.class_constant_pool_order import STABILIZER
from canonjar.taxonomy import Category
from tests.helpers import jdk_tool
from tests.test_classfile_codec import java_base_classes

# --------------------------------------------------------------------------------------------- helpers


def canon(data: bytes) -> bytes:
    return write_class(canonicalize(read_class(data)))


def ldc_targets(cf: ClassFile) -> list[int]:
    data = write_class(cf)
    _, _, locs = cp_locations(data)
    return list(dict.fromkeys(data[p] for p, w in locs if w == 1))


def random_order(cf: ClassFile, rng: random.Random) -> list[int]:
    """A random permutation of the pool that keeps every ldc target at an index <= 255."""
    pool = cf.constant_pool
    ldc = ldc_targets(cf)
    seen = set(ldc)
    others = [i for i, _ in pool if i not in seen]
    rng.shuffle(ldc)
    rng.shuffle(others)
    out: list[int] = []
    slot = 1
    while ldc or others:
        room = 256 - slot - len(ldc)  # slots that non-ldc constants may still take before the ldc targets
        i = ldc.pop() if ldc and (not others or room <= 2 or rng.random() < 0.5) else others.pop()
        out.append(i)
        slot += pool[i].slots
    return out


def check_class(name: str, data: bytes, rng: random.Random) -> str | None:
    """None when ``data`` canonicalizes soundly; else what went wrong. Classes the remapper refuses (unknown
    attributes) return None after checking the refusal is typed."""
    cf = read_class(data)
    try:
        first = canonicalize(cf)
    except UnknownAttributeError:
        assert cf.unknown_attributes(), name
        return None
    out = write_class(first)
    if len(out) != len(data):
        return f"{name}: size changed {len(data)} -> {len(out)}"
    again = read_class(out, deep=True)  # (a) still parses deep
    if write_class(canonicalize(again)) != out:  # (b) idempotent
        return f"{name}: not idempotent"
    if canonical_order(again) != [i for i, _ in again.constant_pool]:
        return f"{name}: canonical order of the canonical class is not the identity"
    permuted = renumber(cf, random_order(cf, rng))  # (c) order independence
    if write_class(canonicalize(permuted)) != out:
        return f"{name}: a permuted pool canonicalizes differently"
    return None


JAVA_BASE = java_base_classes()
NO_JDK = "no JDK with jmods/java.base.jmod"


@pytest.mark.skipif(not JAVA_BASE, reason=NO_JDK)
def test_java_base_sample() -> None:
    rng = random.Random(7)
    sample = JAVA_BASE[::10]
    failures = [f for name, data in sample if (f := check_class(name, data, rng))]
    assert not failures, failures[:10]


@pytest.mark.slow
@pytest.mark.skipif(not JAVA_BASE, reason=NO_JDK)
def test_java_base_every_class() -> None:
    rng = random.Random(11)
    failures = [f for name, data in JAVA_BASE if (f := check_class(name, data, rng))]
    assert not failures, failures[:10]
    refused = [name for name, data in JAVA_BASE if read_class(data).unknown_attributes()]
    assert refused == ["classes/module-info.class"]  # ModuleHashes/ModuleTarget: JDK-internal attributes


# --------------------------------------------------------------------------------------------- compiled code

COMMON = {
    "demo/Main.java": """\
package demo;

import java.lang.annotation.*;
import java.lang.reflect.*;
import java.util.*;
import java.util.function.*;

@Tag(value = "main", n = 42, kinds = {Kind.A, Kind.C}, type = String.class, inner = @Inner(d = 2.5), chars = {'x'})
public class Main<T extends Comparable<T>> implements Supplier<List<T>> {
    static final long BIG = 1234567890123L;
    static final double PI = 3.14159;
    static final String GREETING = "hello";
    static final int SMALL = 7;
    private final List<T> items = new ArrayList<>();
    @Tag("field") private int count;

    public Main(@Tag("param") T first) { items.add(first); }

    @Override public List<T> get() { return items; }

    public <U extends Number> double sum(List<U> xs) throws IllegalStateException {
        double s = 0;
        for (U x : xs) { s += x.doubleValue(); }
        return s;
    }

    static String describe(Kind k) {
        switch (k) {
            case A: return "a";
            case B: return "b";
            default: return "other";
        }
    }

    static int code(String s) {
        switch (s) {
            case "one": return 1;
            case "two": return 2;
            default: return -1;
        }
    }

    static String risky(int n) {
        try {
            if (n < 0) { throw new IllegalArgumentException("negative " + n); }
            return Integer.toString(100 / n);
        } catch (ArithmeticException | IllegalArgumentException e) {
            return "caught " + e.getClass().getSimpleName();
        } finally {
            COUNTER[0]++;
        }
    }

    static final int[] COUNTER = new int[1];

    interface Greeter { String greet(String who); }

    class InnerCounter { int next() { return ++count; } }

    public static void main(String[] args) throws Exception {
        Function<Integer, Integer> twice = x -> x * 2;
        BiFunction<String, Integer, String> rep = (s, n) -> {
            StringBuilder b = new StringBuilder();
            for (int i = 0; i < n; i++) { b.append(s); }
            return b.toString();
        };
        Supplier<Long> big = () -> BIG + 1;
        Greeter g = new Greeter() { public String greet(String who) { return GREETING + ", " + who; } };
        System.out.println(twice.apply(21) + " " + rep.apply("ab", 3) + " " + big.get() + " " + g.greet("you"));
        System.out.println(describe(Kind.A) + describe(Kind.B) + describe(Kind.C) + " " + code("two") + code("x"));
        System.out.println(risky(0) + " " + risky(-1) + " " + risky(5) + " " + COUNTER[0]);
        Main<String> m = new Main<>("z");
        m.items.add("a");
        Collections.sort(m.items);
        System.out.println(m.get() + " " + m.sum(Arrays.asList(1, 2.5, 3L)) + " " + m.new InnerCounter().next());
        Tag t = Main.class.getAnnotation(Tag.class);
        System.out.println(t.value() + " " + t.n() + " " + Arrays.toString(t.kinds()) + " " + t.type().getName()
                           + " " + t.inner().d() + " " + Arrays.toString(t.chars()) + " " + t.flag());
        Method sum = Main.class.getMethod("sum", List.class);
        System.out.println(sum.toGenericString() + " " + Main.class.getGenericInterfaces()[0]);
        System.out.println(Main.class.getDeclaredField("count").getAnnotation(Tag.class).value() + " "
                           + Main.class.getConstructors()[0].getParameterAnnotations()[0].length);
        Object o = PI;
        Runnable r = Main::hello;
        r.run();
        System.out.println(o + " " + SMALL + " " + Kind.valueOf("C").ordinal() + " " + Kind.B.label()
                           + " " + Main.class.getDeclaredClasses().length + " " + Holder.VALUE);
        int[][] grid = new int[3][4];
        grid[2][3] = 9;
        System.out.println(grid[2][3] + " " + (char) ('a' + 2) + " " + (byte) 300 + " " + 'x' + " " + 1.5f);
    }

    static void hello() { System.out.println("method ref " + Optional.of("ok").map(String::toUpperCase).get()); }
}
""",
    "demo/Kind.java": """\
package demo;

public enum Kind {
    A("alpha"), B("beta") { @Override String label() { return "BETA"; } }, C("gamma");
    private final String text;
    Kind(String text) { this.text = text; }
    String label() { return text; }
}
""",
    "demo/Tag.java": """\
package demo;

import java.lang.annotation.*;

@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.TYPE, ElementType.FIELD, ElementType.PARAMETER, ElementType.METHOD})
public @interface Tag {
    String value() default "none";
    int n() default -1;
    Kind[] kinds() default {};
    Class<?> type() default Object.class;
    Inner inner() default @Inner(d = 1.0);
    char[] chars() default {'a', 'b'};
    boolean flag() default true;
    long big() default 99L;
}
""",
    "demo/Inner.java": """\
package demo;

import java.lang.annotation.*;

@Retention(RetentionPolicy.RUNTIME)
public @interface Inner { double d(); float f() default 0.5f; byte b() default 1; short s() default 2; }
""",
    "demo/Holder.java": """\
package demo;

import java.lang.annotation.*;
import java.util.*;

public class Holder {
    public static final String VALUE = "holder";
    @Retention(RetentionPolicy.RUNTIME) @Target(ElementType.TYPE_USE) @interface NotNull { String why() default ""; }
    @Retention(RetentionPolicy.CLASS) @interface Hidden { int level() default 1; }
    @Retention(RetentionPolicy.CLASS) @Target(ElementType.TYPE_USE) @interface HiddenUse { String v(); }
    @Hidden(level = 3) static void hidden(@Hidden int a, @HiddenUse(v = "p") String b) {
        @HiddenUse(v = "local") String c = b + a;
        System.out.println(c);
    }
    @Deprecated public static @NotNull(why = "x") List<@NotNull String> names(@NotNull String @NotNull [] in)
            throws java.io.IOException {
        @NotNull List<@NotNull String> out = new ArrayList<@NotNull String>();
        for (@NotNull String s : in) { out.add(s); }
        try { out.add((@NotNull String) in[0]); } catch (@NotNull RuntimeException e) { out.add("e"); }
        return out;
    }
}
""",
}

JAVA17 = {
    "demo17/Shapes.java": """\
package demo17;

import java.util.*;

public class Shapes {
    sealed interface Shape permits Circle, Square, Rect {}
    record Circle(double r) implements Shape {}
    record Square(@Deprecated double side) implements Shape {}
    record Rect(double w, double h, List<String> tags) implements Shape {
        Rect { tags = List.copyOf(tags); }
    }
    private static int secret = 3;
    class Nested { int peek() { return secret; } }

    static double area(Shape s) {
        if (s instanceof Circle c) { return Math.PI * c.r() * c.r(); }
        if (s instanceof Square q) { return q.side() * q.side(); }
        if (s instanceof Rect r) { return r.w() * r.h(); }
        throw new IllegalStateException();
    }

    static String kind(Object o) {
        return switch (o.getClass().getSimpleName()) {
            case "Circle" -> "round";
            case "Square", "Rect" -> { String t = "angular"; yield t.toUpperCase(); }
            default -> "?";
        };
    }

    public static void main(String[] args) {
        List<Shape> all = List.of(new Circle(1), new Square(2), new Rect(2, 3, new ArrayList<>(List.of("x"))));
        for (Shape s : all) { System.out.println(s + " " + String.format("%.3f", area(s)) + " " + kind(s)); }
        var text = \"\"\"
            text block %d
            \"\"\".formatted(all.size());
        System.out.print(text);
        System.out.println(new Shapes().new Nested().peek() + " " + Shape.class.isSealed()
                           + " " + Rect.class.getRecordComponents().length);
    }
}
""",
    "module-info.java": """\
module demo.mod {
    requires java.base;
    requires transitive java.logging;
    exports demo17;
    opens demo17 to java.logging;
    uses java.util.spi.ToolProvider;
    provides java.lang.Runnable with demo17.Task;
}
""",
    "demo17/Task.java": """\
package demo17;

public class Task implements Runnable { public void run() { System.out.println("task"); } }
""",
}


@dataclass
class Build:
    name: str
    classes: Path
    main: str | None


def _compile(root: Path, name: str, sources: dict[str, str], cmd: list[str], main: str | None) -> Build:
    src = root / name / "src"
    out = root / name / "classes"
    out.mkdir(parents=True)
    for rel, text in sources.items():
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_text(text)
    files = [str(src / rel) for rel in sources]
    done = subprocess.run([*cmd, "-d", str(out), *files], capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, f"{name}: {done.stdout}\n{done.stderr}"
    return Build(name, out, main)


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> list[Build]:
    javac = jdk_tool("javac")
    if javac is None:
        pytest.skip("no javac")
    root = tmp_path_factory.mktemp("cpo")
    out = [
        _compile(root, "javac8", COMMON, [javac, "--release", "8", "-g", "-parameters", "-nowarn"], "demo.Main"),
        _compile(root, "javac17", {**COMMON, **JAVA17}, [javac, "--release", "17", "-g", "-parameters"],
                 "demo.Main"),
        _compile(root, "javac17-nodebug", JAVA17, [javac, "--release", "17", "-g:none"], "demo17.Shapes"),
    ]
    ecj = shutil.which("ecj")
    if ecj is not None:
        out.append(_compile(root, "ecj8", COMMON, [ecj, "-8", "-g", "-parameters", "-nowarn", "-proc:none"],
                            "demo.Main"))
        out.append(_compile(root, "ecj17", {**COMMON, **{k: v for k, v in JAVA17.items() if "module" not in k}},
                            [ecj, "-17", "-g", "-parameters", "-nowarn", "-proc:none"], "demo17.Shapes"))
    return out


LOADER = """\
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Paths;

/** Loads every class named in args[1] from args[0] and links it: getDeclaredMethods links the class (and so
 * verifies it) without initializing it. Prints one line per failure, then a summary. */
public class LoadAll {
    public static void main(String[] args) throws Exception {
        URLClassLoader loader = new URLClassLoader(new URL[] {Paths.get(args[0]).toUri().toURL()},
                                                   ClassLoader.getPlatformClassLoader());
        int ok = 0;
        int bad = 0;
        for (String name : Files.readAllLines(Paths.get(args[1]))) {
            try {
                Class<?> c = Class.forName(name, false, loader);
                c.getDeclaredMethods();
                c.getDeclaredFields();
                ok++;
            } catch (Throwable t) {
                bad++;
                System.out.println("FAIL " + name + " " + t.toString().split("\\\\R")[0]);
            }
        }
        System.out.println("linked " + ok + " failed " + bad);
    }
}
"""


@pytest.fixture(scope="module")
def loader_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    javac = jdk_tool("javac")
    if javac is None or jdk_tool("java") is None:
        pytest.skip("no JDK")
    d = tmp_path_factory.mktemp("loader")
    (d / "LoadAll.java").write_text(LOADER)
    subprocess.run([javac, "-d", str(d), str(d / "LoadAll.java")], check=True, capture_output=True, timeout=120)
    return d


def link_all(loader: Path, classes: Path, names: list[str]) -> tuple[int, list[str]]:
    """Run LoadAll under -Xverify:all; returns (linked count, failure lines)."""
    java = jdk_tool("java")
    assert java is not None
    listing = classes.parent / (classes.name + ".names")
    listing.write_text("\n".join(names) + "\n")
    done = subprocess.run([java, "-Xverify:all", "-Xshare:off", "-cp", str(loader), "LoadAll", str(classes),
                           str(listing)], capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    m = re.fullmatch(r"linked (\d+) failed (\d+)", lines[-1])
    assert m, done.stdout
    return int(m.group(1)), [ln for ln in lines if ln.startswith("FAIL ")]


def class_files(d: Path) -> dict[str, bytes]:
    return {p.relative_to(d).as_posix(): p.read_bytes() for p in sorted(d.rglob("*.class"))}


def write_tree(d: Path, classes: dict[str, bytes]) -> Path:
    for rel, data in classes.items():
        (d / rel).parent.mkdir(parents=True, exist_ok=True)
        (d / rel).write_bytes(data)
    return d


def binary_names(classes: dict[str, bytes]) -> list[str]:
    return [rel.removesuffix(".class").replace("/", ".") for rel in classes if not rel.endswith("module-info.class")]


def canonical_tree(classes: dict[str, bytes]) -> tuple[dict[str, bytes], int]:
    out: dict[str, bytes] = {}
    changed = 0
    for rel, data in classes.items():
        new = canon(data)
        changed += new != data
        out[rel] = new
    return out, changed


def test_verifier_accepts_canonical_compiled_classes(builds: list[Build], loader_dir: Path,
                                                     tmp_path: Path) -> None:
    java = jdk_tool("java")
    assert java is not None
    for b in builds:
        original = class_files(b.classes)
        canonical, changed = canonical_tree(original)
        assert changed, f"{b.name}: nothing to canonicalize?"
        for rel, data in canonical.items():
            assert canon(data) == data, f"{b.name} {rel}: not idempotent"
        out = write_tree(tmp_path / b.name, canonical)
        linked, failures = link_all(loader_dir, out, binary_names(canonical))
        assert not failures, (b.name, failures)
        assert linked == len(binary_names(canonical))
        if b.main is not None:
            ref = subprocess.run([java, "-Xverify:all", "-cp", str(b.classes), b.main], capture_output=True,
                                 text=True, timeout=120, check=True)
            new = subprocess.run([java, "-Xverify:all", "-cp", str(out), b.main], capture_output=True, text=True,
                                 timeout=120, check=True)
            assert new.stdout == ref.stdout and ref.stdout.count("\n") >= 5, (b.name, ref.stdout, new.stdout)


def test_program_runs_the_same_from_a_canonicalized_modular_jar(builds: list[Build], tmp_path: Path) -> None:
    """A modular JAR made by the jar tool (which adds ModulePackages and ModuleMainClass to module-info), every
    class rewritten by the stabilizer itself: it runs the same, on the class path and as a module."""
    jar, java = jdk_tool("jar"), jdk_tool("java")
    if jar is None or java is None:
        pytest.skip("no jar tool")
    b = builds[1]  # javac --release 17: demo, demo17 and module-info
    ref = tmp_path / "ref.jar"
    subprocess.run([jar, "--create", "--file", str(ref), "--main-class", "demo17.Shapes", "-C", str(b.classes), "."],
                   check=True, capture_output=True, timeout=120)
    out = tmp_path / "canon.jar"
    ctx = _ctx()
    rewritten = 0
    with zipfile.ZipFile(ref) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if STABILIZER.applies_to(_entry(info.filename, data)):
                new = STABILIZER.apply(_entry(info.filename, data), ctx)  # type: ignore[arg-type]
                assert isinstance(new, Entry)
                if new.payload.literal is not None and new.payload.literal != data:
                    rewritten += 1
                    data = new.payload.literal
            zout.writestr(info, data)
    assert rewritten > 10
    with zipfile.ZipFile(ref) as zf:
        module_info = read_class(zf.read("module-info.class"))
    names = {module_info.constant_pool.utf8(a.name_index) for a in module_info.attributes}
    assert {b"Module", b"ModulePackages", b"ModuleMainClass"} <= names
    assert check_class("module-info.class", write_class(module_info), random.Random(4)) is None
    if jdk_tool("javap") is not None:
        with zipfile.ZipFile(out) as zf:
            canonical = zf.read("module-info.class")
        assert canonical != write_class(module_info)
        ref_dir = write_tree(tmp_path / "mi-ref", {"module-info.class": write_class(module_info)})
        new_dir = write_tree(tmp_path / "mi-canon", {"module-info.class": canonical})
        text = javap_text(ref_dir, ["module-info.class"])
        assert "ModulePackages" in text and "ModuleMainClass" in text
        assert javap_text(new_dir, ["module-info.class"]) == text
    for args in (["-cp", "{}", "demo.Main"], ["-p", "{}", "-m", "demo.mod"]):
        runs = [subprocess.run([java, "-Xverify:all", *(a.replace("{}", str(j)) for a in args)], capture_output=True,
                               text=True, timeout=120, check=True).stdout for j in (ref, out)]
        assert runs[0] == runs[1] and runs[0].count("\n") >= 4, runs


_JAVAP_NOISE = re.compile(r"^(Classfile |  Last modified|  SHA-256|  MD5 checksum)")


def javap_text(classes_dir: Path, names: list[str]) -> str:
    """``javap -v -p`` of the class files ``names`` (paths relative to ``classes_dir``) without the constant
    pool, the file header, every ``#n`` index and the alignment that depends on the width of the indices.
    javap resolves every reference (code operands, annotations, signatures, inner classes, bootstrap methods,
    module directives...), so this is an independent check that every location was remapped."""
    javap = jdk_tool("javap")
    assert javap is not None
    done = subprocess.run([javap, "-v", "-p", *names], cwd=classes_dir, capture_output=True, text=True,
                          timeout=600, check=True)
    out: list[str] = []
    in_pool = False
    for line in done.stdout.splitlines():
        if line.startswith("Constant pool:"):
            in_pool = True
            continue
        if in_pool:
            if re.match(r"^\s+#\d+ = ", line):
                continue
            in_pool = False
        if _JAVAP_NOISE.match(line):
            continue
        out.append(" ".join(re.sub(r"#\d+", "#", line).split()))
    return "\n".join(out)


def test_javap_sees_the_same_classes(builds: list[Build], tmp_path: Path) -> None:
    if jdk_tool("javap") is None:
        pytest.skip("no javap")
    for b in builds:
        original = class_files(b.classes)
        canonical, _ = canonical_tree(original)
        out = write_tree(tmp_path / b.name, canonical)
        names = list(original)
        assert javap_text(out, names) == javap_text(b.classes, names), b.name


DEBIAN_JARS = [p for p in (Path("/usr/share/java/commons-io.jar"), Path("/usr/share/java/commons-lang3.jar"))
               if p.exists()]


@pytest.mark.skipif(not DEBIAN_JARS, reason="no Debian commons-io/commons-lang3 JAR")
@pytest.mark.parametrize("jar", DEBIAN_JARS, ids=lambda p: p.name)
def test_verifier_accepts_canonical_debian_jar(jar: Path, loader_dir: Path, tmp_path: Path) -> None:
    with zipfile.ZipFile(jar) as zf:
        original = {n: zf.read(n) for n in zf.namelist() if n.endswith(".class") and not n.startswith("META-INF/")}
    canonical, changed = canonical_tree(original)
    assert changed > len(original) // 2
    ref_dir = write_tree(tmp_path / "ref", original)
    out = write_tree(tmp_path / "canon", canonical)
    names = binary_names(canonical)
    ref_linked, ref_failures = link_all(loader_dir, ref_dir, names)
    linked, failures = link_all(loader_dir, out, names)
    assert (linked, failures) == (ref_linked, ref_failures)
    assert ref_linked == len(names), ref_failures[:5]
    assert javap_text(out, list(original)) == javap_text(ref_dir, list(original))


@pytest.mark.skipif(not JAVA_BASE, reason=NO_JDK)
def test_javap_sees_the_same_java_base_sample(tmp_path: Path) -> None:
    if jdk_tool("javap") is None:
        pytest.skip("no javap")
    sample = {name.removeprefix("classes/"): data for name, data in JAVA_BASE[3::25]
              if not name.endswith("module-info.class")}
    ref_dir = write_tree(tmp_path / "ref", sample)
    out = write_tree(tmp_path / "canon", {rel: canon(data) for rel, data in sample.items()})
    assert javap_text(out, list(sample)) == javap_text(ref_dir, list(sample))


def _break_one_operand(data: bytes) -> bytes:
    """``data`` with its pool renumbered (reversed) but one invoke operand left with its old index."""
    cf = read_class(data)
    ldc = ldc_targets(cf)
    order = ldc + [i for i, _ in reversed(list(cf.constant_pool)) if i not in set(ldc)]
    good = bytearray(write_class(renumber(cf, order)))
    pool, _, locs = cp_locations(data)
    new_pool, _, new_locs = cp_locations(bytes(good))
    for (pos, width), (new_pos, _) in zip(locs, new_locs, strict=True):
        if width == 2 and data[pos - 1] in (0xB6, 0xB7, 0xB8):  # invokevirtual/special/static
            old = data[pos] << 8 | data[pos + 1]
            if new_pool.entries[old] is None or new_pool.entries[old].tag != pool[old].tag:  # type: ignore[union-attr]
                good[new_pos:new_pos + 2] = old.to_bytes(2, "big")
                return bytes(good)
    raise AssertionError("no operand to break")


def test_verifier_check_detects_a_missed_operand(builds: list[Build], loader_dir: Path, tmp_path: Path) -> None:
    b = builds[0]
    original = class_files(b.classes)
    rel = "demo/Kind.class"
    broken = {**original, rel: _break_one_operand(original[rel])}
    read_class(broken[rel])  # the codec still reads it: only the verifier can tell
    out = write_tree(tmp_path / "broken", broken)
    _, failures = link_all(loader_dir, out, ["demo.Kind"])
    assert len(failures) == 1 and "VerifyError" in failures[0], failures
    _, ok = link_all(loader_dir, write_tree(tmp_path / "fine", original), ["demo.Kind"])
    assert not ok


# --------------------------------------------------------------------------------------------- soundness


def _with_code(cf: ClassFile, change: object) -> ClassFile:
    """Apply ``change(code_bytes) -> bytes | None`` to the first method where it returns bytes."""
    pool = cf.constant_pool
    for m in cf.methods:
        for k, a in enumerate(m.attributes):
            if pool.utf8(a.name_index) != b"Code":
                continue
            code = parse_code(a.info, pool)
            new = change(code.code)  # type: ignore[operator]
            if new is not None:
                c = Code(code.max_stack, code.max_locals, new, code.exception_table, code.attributes)
                m.attributes[k] = Attribute(a.name_index, c.to_bytes())
                return cf
    raise AssertionError("no code to change")


def _change_iconst(code: bytes) -> bytes | None:
    for i, op in enumerate(code):
        if 0x03 <= op <= 0x07 and i == 0:
            return bytes([op + 1]) + code[1:]
    return None


def _swap_invokes(code: bytes) -> bytes | None:
    """Swap the operands of the first two invokestatic instructions with different targets."""
    from canonjar.classfile import iter_instructions

    found = [i for i in iter_instructions(code) if i.opcode == 0xB8]
    for a in found:
        for b in found:
            if a.operands[0] != b.operands[0]:
                out = bytearray(code)
                out[a.offset + 1:a.offset + 3] = b.operands[0].to_bytes(2, "big")
                out[b.offset + 1:b.offset + 3] = a.operands[0].to_bytes(2, "big")
                return bytes(out)
    return None


def _replace_utf8(cf: ClassFile, old: bytes, new: bytes) -> ClassFile:
    entries = cf.constant_pool.entries
    for i, c in enumerate(entries):
        if c is not None and c.tag == TAG_UTF8 and c.value == old:
            entries[i] = Constant.utf8(new)
            return cf
    raise AssertionError(f"no Utf8 {old!r}")


def _mutations() -> dict[str, tuple[str, object]]:
    def integer(cf: ClassFile) -> ClassFile:
        entries = cf.constant_pool.entries
        i = next(i for i, c in enumerate(entries) if c is not None and c.tag == TAG_INTEGER)
        entries[i] = Constant.make(TAG_INTEGER, entries[i].fields[0] + 1)  # type: ignore[union-attr]
        return cf

    def string(cf: ClassFile) -> ClassFile:
        pool = cf.constant_pool
        i = next(i for i, c in pool if c.tag == TAG_STRING)
        return _replace_utf8(cf, pool.utf8(pool[i].fields[0]), pool.utf8(pool[i].fields[0]) + b"!")

    def flag(cf: ClassFile) -> ClassFile:
        cf.methods[-1].access_flags ^= 0x0010  # ACC_FINAL
        return cf

    def class_flag(cf: ClassFile) -> ClassFile:
        cf.access_flags ^= 0x1000
        return cf

    def descriptor(cf: ClassFile) -> ClassFile:
        pool = cf.constant_pool
        m = next(m for m in cf.methods if pool.utf8(m.name_index) == b"hello")
        m.descriptor_index = next(i for i, c in pool if c.tag == TAG_UTF8 and c.value == b"(Ljava/lang/String;)I")
        return cf

    def member_swap(cf: ClassFile) -> ClassFile:
        cf.methods[0].name_index, cf.methods[1].name_index = cf.methods[1].name_index, cf.methods[0].name_index
        return cf

    def methodref(cf: ClassFile) -> ClassFile:
        entries = cf.constant_pool.entries
        refs = [(i, c) for i, c in enumerate(entries) if c is not None and c.tag == TAG_METHODREF]
        (i, a), (_, b) = refs[0], next(r for r in refs[1:] if r[1].fields[1] != refs[0][1].fields[1])
        entries[i] = Constant.make(TAG_METHODREF, a.fields[0], b.fields[1])
        return cf

    return {
        "instruction": ("demo/Main.class", lambda cf: _with_code(cf, _change_iconst)),
        "swapped-call-targets": ("demo/Main.class", lambda cf: _with_code(cf, _swap_invokes)),
        "integer-constant": ("demo/Main.class", integer),
        "string-constant": ("demo/Main.class", string),
        "access-flag": ("demo/Main.class", flag),
        "class-access-flag": ("demo/Main.class", class_flag),
        "descriptor": ("demo/Main.class", descriptor),
        "swapped-member-names": ("demo/Main.class", member_swap),
        "methodref-target": ("demo/Main.class", methodref),
        "signature": ("demo/Main.class", lambda cf: _replace_utf8(
            cf, b"<U:Ljava/lang/Number;>(Ljava/util/List<TU;>;)D", b"<U:Ljava/lang/Integer;>(Ljava/util/List<TU;>;)D")),
        "annotation-string": ("demo/Main.class", lambda cf: _replace_utf8(cf, b"main", b"mainx")),
        "annotation-enum": ("demo/Main.class", lambda cf: _replace_utf8(cf, b"C", b"D")),
        "annotation-default": ("demo/Tag.class", lambda cf: _replace_utf8(cf, b"none", b"nonf")),
        "type-annotation": ("demo/Holder.class", lambda cf: _replace_utf8(cf, b"x", b"y")),
    }


MUTATIONS = _mutations()


@pytest.mark.parametrize("what", sorted(MUTATIONS))
def test_a_change_stays_a_difference(what: str, builds: list[Build]) -> None:
    rel, mutate = MUTATIONS[what]
    data = class_files(builds[1].classes)[rel]  # javac --release 17
    changed = write_class(mutate(read_class(data)))  # type: ignore[operator]
    assert changed != data
    assert canon(changed) != canon(data)
    # and the changed class is itself canonicalized consistently (independent of its pool order)
    cf = read_class(changed)
    assert write_class(canonicalize(renumber(cf, random_order(cf, random.Random(3))))) == canon(changed)


def test_reordered_pool_is_the_same_after_canonicalization(builds: list[Build]) -> None:
    rng = random.Random(5)
    for b in builds:
        for rel, data in class_files(b.classes).items():
            assert check_class(f"{b.name}/{rel}", data, rng) is None


def test_javac_and_ecj_differ_in_more_than_the_pool(builds: list[Build]) -> None:
    """Sanity: canonicalization does not make different compilers' output equal by accident."""
    by_name = {b.name: class_files(b.classes) for b in builds}
    if "ecj8" not in by_name:
        pytest.skip("no ecj")
    assert canon(by_name["javac8"]["demo/Main.class"]) != canon(by_name["ecj8"]["demo/Main.class"])


# --------------------------------------------------------------------------------------------- stabilizer


def _ctx() -> Context:
    return Context(side=Side.REFERENCE, budget=Budget())


def _entry(name: str, data: bytes) -> Entry:
    return Entry(name=name.encode(), payload=Payload.of_bytes(data, name))


def test_stabilizer_metadata() -> None:
    assert STABILIZER.name == "class-constant-pool-order"
    assert STABILIZER.category is Category.JVM_BYTECODE
    assert STABILIZER.applies_to(_entry("a/B.class", b""))
    assert STABILIZER.applies_to(_entry("META-INF/versions/17/module-info.class", b""))
    assert not STABILIZER.applies_to(_entry("a/B.txt", b""))
    assert not STABILIZER.applies_to(_entry("a/B.class/", b""))


def test_stabilizer_rewrites_then_keeps(builds: list[Build]) -> None:
    data = class_files(builds[1].classes)["demo/Main.class"]
    cf = read_class(data)
    permuted = write_class(renumber(cf, random_order(cf, random.Random(1))))
    e = _entry("demo/Main.class", permuted)
    out = STABILIZER.apply(e, _ctx())  # type: ignore[arg-type]
    assert isinstance(out, Entry) and out is not e
    assert out.payload.literal == canon(data)
    assert out.payload.what == "demo/Main.class"
    again = STABILIZER.apply(out, _ctx())  # type: ignore[arg-type]
    assert again is out


def test_module_info_is_remapped(builds: list[Build]) -> None:
    data = class_files(builds[1].classes)["module-info.class"]
    cf = read_class(data)
    assert cf.find_attribute(cf.attributes, "Module") is not None
    permuted = renumber(cf, random_order(cf, random.Random(2)))
    assert write_class(canonicalize(permuted)) == canon(data)
    assert write_class(permuted) != data


def test_malformed_class_is_skipped() -> None:
    with pytest.raises(StabilizerSkip, match=r"magic|truncated"):
        STABILIZER.apply(_entry("x/Bad.class", b"\xca\xfe\xba\xbe\x00"), _ctx())  # type: ignore[arg-type]
    with pytest.raises(StabilizerSkip, match="magic"):
        STABILIZER.apply(_entry("x/Bad.class", b"not a class"), _ctx())  # type: ignore[arg-type]


def _with_unknown_attribute(data: bytes, nested: bool) -> bytes:
    cf = read_class(data)
    index = cf.constant_pool.append(Constant.utf8(b"com.example.Custom"))
    attr = Attribute(index, b"\x00\x01")
    if not nested:
        cf.attributes.append(attr)
        return write_class(cf)
    pool = cf.constant_pool
    for m in cf.methods:
        for k, a in enumerate(m.attributes):
            if pool.utf8(a.name_index) == b"Code":
                code = parse_code(a.info, pool)
                code.attributes.append(attr)
                m.attributes[k] = Attribute(a.name_index, code.to_bytes())
                return write_class(cf)
    raise AssertionError("no Code")


@pytest.mark.parametrize("nested", [False, True], ids=["class", "in-code"])
def test_unknown_attribute_is_skipped_with_reason(builds: list[Build], nested: bool) -> None:
    data = _with_unknown_attribute(class_files(builds[0].classes)["demo/Main.class"], nested)
    with pytest.raises(StabilizerSkip, match=r"unknown attribute 'com\.example\.Custom'"):
        STABILIZER.apply(_entry("demo/Main.class", data), _ctx())  # type: ignore[arg-type]
    with pytest.raises(UnknownAttributeError, match=r"com\.example\.Custom"):
        canonicalize(read_class(data))


def test_pipeline_records_the_skip(builds: list[Build]) -> None:
    from canonjar.model import Archive
    from canonjar.pipeline import run_pipeline

    data = _with_unknown_attribute(class_files(builds[0].classes)["demo/Main.class"], False)
    arc = Archive(entries=(_entry("demo/Main.class", data),))
    ctx = _ctx()
    out = run_pipeline(arc, [STABILIZER], ctx)
    assert out.entries[0].payload.content(ctx.budget) == data
    steps = [s for s in ctx.trace if s.stabilizer == STABILIZER.name]
    assert len(steps) == 1 and steps[0].action == "skipped" and "com.example.Custom" in steps[0].reason


def test_renumber_refuses_bad_orders(builds: list[Build]) -> None:
    cf = read_class(class_files(builds[1].classes)["demo/Main.class"])
    present = [i for i, _ in cf.constant_pool]
    with pytest.raises(RemapError, match="permutation"):
        renumber(cf, present[:-1])
    ldc = ldc_targets(cf)
    assert ldc
    # an ldc target pushed beyond 255: the instruction would have to grow, so it is refused
    rest = [i for i in present if i != ldc[0]]
    if len(rest) >= 256:
        with pytest.raises(RemapError, match="ldc"):
            renumber(cf, [*rest, ldc[0]])
    # the result is checked deep: an operand of the wrong kind is caught even by an identity renumbering
    broken = read_class(_break_one_operand(write_class(cf)))
    with pytest.raises(ClassFormatError, match="refers to constant"):
        renumber(broken, [i for i, _ in broken.constant_pool])


def test_registered_on_by_default_after_the_other_class_stabilizers() -> None:
    from canonjar import select_stabilizers

    assert STABILIZER.name == "class-constant-pool-order"
    assert "class-constant-pool-order" in {s.name for s in select_stabilizers()}  # deferred: cheap by default
    assert STABILIZER.deferred
    chosen = [s.name for s in select_stabilizers(enable=["all"])]
    assert chosen.index("class-member-order") < chosen.index("class-constant-pool-order")
    assert chosen.index("class-lambda-names") < chosen.index("class-constant-pool-order")
