"""Tests for the two text stabilizers: ``source-newlines`` and ``javadoc-timestamp``.

Every table row is a pair (reference, rebuild) of in-memory JARs built the way the real tools lay them out
(maven-source-plugin ``-sources.jar``, maven-javadoc-plugin ``-javadoc.jar``), compared with exactly one
stabilizer enabled. Rows that must become EQUIVALENT first prove they differ without the stabilizer; rows that
must stay DIFFERENT assert the exact residual (path, kind, aspect). The javadoc tests also run the real javadoc
tool of the installed JDK, so they fail if the regular expressions stop matching what javadoc writes.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from canonjar.api import canonicalize_bytes, compare_bytes
from canonjar.outcome import DifferenceKind, Outcome, Verdict
from canonjar.pipeline import Stabilizer
from canonjar.stabilizers import javadoc_timestamp, source_newlines
from canonjar.stabilizers.javadoc_timestamp import canonicalize_html
from canonjar.stabilizers.source_newlines import canonical_newlines, java_tokens_equal, multiline_literal_reason
from tests.helpers import Item, jdk_tool, make_zip

NL = source_newlines.STABILIZER
JD = javadoc_timestamp.STABILIZER

SOURCES_MF = (b"Manifest-Version: 1.0\r\nCreated-By: Maven JAR Plugin 3.3.0\r\n"
              b"Build-Jdk-Spec: 17\r\n\r\n")
JAVADOC_MF = SOURCES_MF


def jar(files: dict[str, bytes], manifest: bytes = SOURCES_MF) -> bytes:
    """A JAR as maven-source-plugin / maven-javadoc-plugin lay it out: directories, then the files."""
    items = [Item("META-INF/", b""), Item("META-INF/MANIFEST.MF", manifest)]
    dirs: list[str] = []
    for name in files:
        parts = name.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            d = "/".join(parts[:i]) + "/"
            if d not in dirs:
                dirs.append(d)
    items += [Item(d, b"") for d in dirs]
    items += [Item(n, data) for n, data in files.items()]
    return make_zip(items)


def residual(out: Outcome) -> list[tuple[str, DifferenceKind, str]]:
    return [(d.path, d.kind, d.aspect) for d in out.differences]


def untouched(path: str) -> list[tuple[str, DifferenceKind, str]]:
    """The residual of an entry that differs and that no stabilizer rewrote on either side: its stored
    streams differ too (only the zip-compression stabilizer removes that aspect)."""
    return [(path, DifferenceKind.METADATA, "compressed-bytes"), (path, DifferenceKind.CHANGED, "content")]


def crlf(text: str) -> bytes:
    return text.replace("\n", "\r\n").encode()


def lf(text: str) -> bytes:
    return text.encode()


# --------------------------------------------------------------------------------------------- sources

JAVA_MAIN = """\
/*
 * Copyright 2024 Example Corp.
 * Licensed under the Apache License, Version 2.0.
 */
package com.example.app;

import java.util.List;

/** Entry point. */
public final class Main {
    private static final String GREETING = "hello, world";

    public static void main(String[] args) {
        List<String> names = List.of(args);
        names.forEach(n -> System.out.println(GREETING + " " + n));
    }
}
"""

JAVA_TEXT_BLOCK = '''\
package com.example.app;

final class Sql {
    static final String QUERY = """
        SELECT id, name
          FROM users
         WHERE active = 1
        """;
}
'''

KOTLIN_PLAIN = """\
package com.example.app

data class User(val id: Long, val name: String)

fun greet(u: User): String = "hello, ${u.name}"
"""

KOTLIN_ONE_LINE_RAW = """\
package com.example.app

val PATTERN = Regex(\"\"\"\\d+\\.\\d+\"\"\")
"""

KOTLIN_RAW_MULTILINE = """\
package com.example.app

val BANNER = \"\"\"
    |Example app
    |version 1.0
\"\"\".trimMargin()
"""

KOTLIN_SCRIPT = """\
plugins {
    kotlin("jvm") version "1.9.22"
}

dependencies {
    implementation("org.slf4j:slf4j-api:2.0.9")
}
"""

GROOVY_PLAIN = """\
package com.example.app

/**
 * A Gradle-style helper.
 */
class Helper {
    static String greet(String name) {
        return "hello, $name" // greeting
    }
}
"""

GROOVY_TRIPLE_SINGLE = """\
package com.example.app

class Banner {
    static final String TEXT = '''
        Example app
    '''
}
"""

GROOVY_SLASHY = """\
package com.example.app

class Pattern {
    static final def RE = /first line
second line/
}
"""

SCALA_PLAIN = """\
package com.example.app

object Main {
  def main(args: Array[String]): Unit =
    for (a <- args) println(s"hello, $a")
}
"""

SCALA_TRIPLE = """\
package com.example.app

object Sql {
  val Query = \"\"\"SELECT id
    |FROM users\"\"\".stripMargin
}
"""

SCALA_XML = """\
package com.example.app

object Page {
  val body = <div>
    <p>hello</p>
  </div>
}
"""

SRC = "com/example/app/"


# (id, reference files, rebuild files, residual differences with source-newlines alone)
SOURCE_ROWS: list[tuple[str, dict[str, bytes], dict[str, bytes], list[tuple[str, DifferenceKind, str]]]] = [
    ("java-crlf-vs-lf", {SRC + "Main.java": lf(JAVA_MAIN)}, {SRC + "Main.java": crlf(JAVA_MAIN)}, []),
    ("java-lone-cr-vs-lf", {SRC + "Main.java": lf(JAVA_MAIN)},
     {SRC + "Main.java": JAVA_MAIN.replace("\n", "\r").encode()}, []),
    ("java-mixed-endings-vs-lf", {SRC + "Main.java": lf(JAVA_MAIN)},
     {SRC + "Main.java": lf(JAVA_MAIN).replace(b"\n", b"\r\n", 3).replace(b"{\n", b"{\r")}, []),
    ("java-crlf-on-both-sides", {SRC + "Main.java": crlf(JAVA_MAIN)}, {SRC + "Main.java": lf(JAVA_MAIN)}, []),
    ("java-text-block-crlf", {SRC + "Sql.java": lf(JAVA_TEXT_BLOCK)}, {SRC + "Sql.java": crlf(JAVA_TEXT_BLOCK)}, []),
    ("java-utf8-bom-crlf", {SRC + "Main.java": b"\xef\xbb\xbf" + lf(JAVA_MAIN)},
     {SRC + "Main.java": b"\xef\xbb\xbf" + crlf(JAVA_MAIN)}, []),
    ("kotlin-crlf", {SRC + "User.kt": lf(KOTLIN_PLAIN)}, {SRC + "User.kt": crlf(KOTLIN_PLAIN)}, []),
    ("kotlin-one-line-raw-string-crlf", {SRC + "P.kt": lf(KOTLIN_ONE_LINE_RAW)},
     {SRC + "P.kt": crlf(KOTLIN_ONE_LINE_RAW)}, []),
    ("kotlin-script-crlf", {"build.gradle.kts": lf(KOTLIN_SCRIPT)}, {"build.gradle.kts": crlf(KOTLIN_SCRIPT)}, []),
    ("groovy-crlf", {SRC + "Helper.groovy": lf(GROOVY_PLAIN)}, {SRC + "Helper.groovy": crlf(GROOVY_PLAIN)}, []),
    ("scala-crlf", {SRC + "Main.scala": lf(SCALA_PLAIN)}, {SRC + "Main.scala": crlf(SCALA_PLAIN)}, []),
    ("several-sources-crlf",
     {SRC + "Main.java": lf(JAVA_MAIN), SRC + "User.kt": lf(KOTLIN_PLAIN), SRC + "Main.scala": lf(SCALA_PLAIN)},
     {SRC + "Main.java": crlf(JAVA_MAIN), SRC + "User.kt": crlf(KOTLIN_PLAIN), SRC + "Main.scala": crlf(SCALA_PLAIN)},
     []),
    # A real code change among the newline noise stays, with its path; the other file becomes equal.
    ("java-code-change-among-crlf",
     {SRC + "Main.java": lf(JAVA_MAIN), SRC + "Util.java": lf(JAVA_MAIN.replace("Main", "Util"))},
     {SRC + "Main.java": crlf(JAVA_MAIN.replace('"hello, world"', '"hello, World"')),
      SRC + "Util.java": crlf(JAVA_MAIN.replace("Main", "Util"))},
     [(SRC + "Main.java", DifferenceKind.CHANGED, "content")]),
    ("java-added-line-among-crlf", {SRC + "Main.java": lf(JAVA_MAIN)},
     {SRC + "Main.java": crlf(JAVA_MAIN.replace("package", "\npackage"))},
     [(SRC + "Main.java", DifferenceKind.CHANGED, "content")]),
    ("java-trailing-space-is-not-newline-noise", {SRC + "Main.java": lf(JAVA_MAIN)},
     {SRC + "Main.java": crlf(JAVA_MAIN).replace(b"\r\n", b" \r\n", 1)},
     [(SRC + "Main.java", DifferenceKind.CHANGED, "content")]),
    # Skipped inputs: the difference stays.
    ("binary-java-skipped", {SRC + "Blob.java": b"\xca\xfe\xba\xbe\x00\x00\r\n\x00\x41"},
     {SRC + "Blob.java": b"\xca\xfe\xba\xbe\x00\x00\n\x00\x41"},
     untouched(SRC + "Blob.java")),
    ("latin1-java-skipped", {SRC + "Main.java": lf(JAVA_MAIN).replace(b"Corp.", b"Soci\xe9t\xe9")},
     {SRC + "Main.java": crlf(JAVA_MAIN).replace(b"Corp.", b"Soci\xe9t\xe9")},
     untouched(SRC + "Main.java")),
    ("kotlin-raw-string-spanning-lines-skipped", {SRC + "Banner.kt": lf(KOTLIN_RAW_MULTILINE)},
     {SRC + "Banner.kt": crlf(KOTLIN_RAW_MULTILINE)}, untouched(SRC + "Banner.kt")),
    ("groovy-triple-single-quote-skipped", {SRC + "Banner.groovy": lf(GROOVY_TRIPLE_SINGLE)},
     {SRC + "Banner.groovy": crlf(GROOVY_TRIPLE_SINGLE)},
     untouched(SRC + "Banner.groovy")),
    ("groovy-slashy-string-skipped", {SRC + "Pattern.groovy": lf(GROOVY_SLASHY)},
     {SRC + "Pattern.groovy": crlf(GROOVY_SLASHY)}, untouched(SRC + "Pattern.groovy")),
    ("scala-triple-quote-skipped", {SRC + "Sql.scala": lf(SCALA_TRIPLE)}, {SRC + "Sql.scala": crlf(SCALA_TRIPLE)},
     untouched(SRC + "Sql.scala")),
    ("scala-xml-literal-skipped", {SRC + "Page.scala": lf(SCALA_XML)}, {SRC + "Page.scala": crlf(SCALA_XML)},
     untouched(SRC + "Page.scala")),
    # Not a source file: never touched.
    ("properties-not-touched", {"com/example/app/messages.properties": b"greeting=hello\n"},
     {"com/example/app/messages.properties": b"greeting=hello\r\n"},
     untouched("com/example/app/messages.properties")),
    ("uppercase-suffix-not-a-source", {"README.JAVA": b"a\n"}, {"README.JAVA": b"a\r\n"},
     untouched("README.JAVA")),
]


@pytest.mark.parametrize(("ref_files", "reb_files", "expected"), [r[1:] for r in SOURCE_ROWS],
                         ids=[r[0] for r in SOURCE_ROWS])
def test_source_newlines_table(ref_files: dict[str, bytes], reb_files: dict[str, bytes],
                               expected: list[tuple[str, DifferenceKind, str]]) -> None:
    ref, reb = jar(ref_files), jar(reb_files)
    bare = compare_bytes(ref, reb, stabilizers=[])
    assert bare.verdict is Verdict.DIFFERENT  # the row really has a difference to remove or keep
    out = compare_bytes(ref, reb, stabilizers=[NL])
    assert residual(out) == expected
    assert out.verdict is (Verdict.DIFFERENT if expected else Verdict.EQUIVALENT)


SKIP_ROWS = [
    ("binary", "Blob.java", b"\xca\xfe\xba\xbe\x00\x00\r\n", "NUL"),
    ("latin1", "Main.java", b"// Soci\xe9t\xe9\r\nclass A {}\r\n", "not valid UTF-8"),
    ("kotlin-raw", "Banner.kt", crlf(KOTLIN_RAW_MULTILINE), '"""..."""'),
    ("groovy-triple", "Banner.groovy", crlf(GROOVY_TRIPLE_SINGLE), "'''...'''"),
    ("groovy-dollar-slashy", "D.groovy", b"def re = $/a\r\nb/$\r\n", "dollar-slashy"),
    ("groovy-slashy", "Pattern.groovy", crlf(GROOVY_SLASHY), "slashy"),
    ("scala-xml", "Page.scala", crlf(SCALA_XML), "XML literal"),
]


@pytest.mark.parametrize(("name", "data", "reason"), [r[1:] for r in SKIP_ROWS], ids=[r[0] for r in SKIP_ROWS])
def test_source_newlines_skip_records_a_reason_and_keeps_the_entry(name: str, data: bytes, reason: str) -> None:
    path = SRC + name
    out = compare_bytes(jar({path: data.replace(b"\r\n", b"\n")}), jar({path: data}), stabilizers=[NL])
    assert residual(out) == untouched(path)
    skips = [t for t in out.trace if t.action == "skipped"]
    assert [(t.side, t.stabilizer, t.path) for t in skips] == [("rebuild", "source-newlines", path)]
    assert reason in skips[0].reason
    assert "line endings left as they are" in skips[0].reason
    # The entry is kept untouched: canonicalizing the rebuild alone gives back the same content.
    _, res = canonicalize_bytes(jar({path: data}), stabilizers=[NL])
    assert [t.action for t in res.trace] == ["skipped"]
    assert all(a is b for a, b in zip(res.original.entries, res.canonical.entries, strict=True))


def test_source_newlines_trace_records_old_and_new_content_on_the_changed_side_only() -> None:
    path = SRC + "Main.java"
    old, new = crlf(JAVA_MAIN), lf(JAVA_MAIN)
    out = compare_bytes(jar({path: new}), jar({path: old}), stabilizers=[NL])
    assert out.verdict is Verdict.EQUIVALENT
    assert [(t.side, t.stabilizer, t.path, t.action) for t in out.trace] == [
        ("rebuild", "source-newlines", path, "changed")]
    (change,) = out.trace[0].changes
    assert change.field == "content"
    assert change.old.startswith(f"{len(old)} bytes crc32:")
    assert change.new.startswith(f"{len(new)} bytes sha256:")


def test_source_newlines_is_idempotent_and_returns_the_same_entry_when_nothing_changes() -> None:
    files = {SRC + "Main.java": crlf(JAVA_MAIN), SRC + "User.kt": JAVA_MAIN.replace("\n", "\r").encode(),
             SRC + "Banner.kt": crlf(KOTLIN_RAW_MULTILINE)}
    once, res1 = canonicalize_bytes(jar(files), stabilizers=[NL])
    assert {t.path for t in res1.trace if t.action == "changed"} == {SRC + "Main.java", SRC + "User.kt"}
    twice, res2 = canonicalize_bytes(once, stabilizers=[NL])
    assert twice == once
    assert [t.action for t in res2.trace] == ["skipped"]  # only the Kotlin raw string, again
    # LF input: no trace at all, and the entry objects are the very same.
    _, res3 = canonicalize_bytes(jar({SRC + "Main.java": lf(JAVA_MAIN)}), stabilizers=[NL])
    assert res3.trace == ()
    assert all(a is b for a, b in zip(res3.original.entries, res3.canonical.entries, strict=True))


def test_source_newlines_keeps_line_numbers() -> None:
    for src in (crlf(JAVA_MAIN), JAVA_MAIN.replace("\n", "\r").encode(), b"a\r\r\nb\r\n\r\n\rc"):
        text = src.decode()
        assert canonical_newlines(src).count(b"\n") == len(text.splitlines()) - (not text.endswith(("\r", "\n")))


@pytest.mark.parametrize(("text", "suffix", "skipped"), [
    (JAVA_TEXT_BLOCK, ".java", False),
    (KOTLIN_PLAIN, ".kt", False),
    (KOTLIN_ONE_LINE_RAW, ".kt", False),
    (KOTLIN_RAW_MULTILINE, ".kt", True),
    ('val a = """x"""\nval b = """y"""\n', ".kt", True),  # over-approximation: first to last delimiter
    ('val a = "${"""x"""}"\n', ".kts", False),
    (GROOVY_PLAIN, ".groovy", False),
    (GROOVY_TRIPLE_SINGLE, ".groovy", True),
    ('def s = """a\nb"""\n', ".groovy", True),
    (GROOVY_SLASHY, ".groovy", True),
    ("def x = a / b\n// done\n", ".groovy", True),  # a division could be a slashy string: conservative
    ("def x = a / b // done\n", ".groovy", False),
    ("def s = /one line/\n", ".groovy", False),
    ("def re = $/a\nb/$\n", ".groovy", True),
    ("x = /abc\n//", ".groovy", True),  # a slashy string closed right before a comment
    (SCALA_PLAIN, ".scala", False),
    (SCALA_TRIPLE, ".scala", True),
    (SCALA_XML, ".scala", True),
    ("object A { val lt = 1 <2 }\n", ".scala", False),  # '2' cannot start an XML name
    ("/** <p>Doc</p> */\nobject A\n", ".scala", True),  # HTML in a comment: conservative
    ("object A { def f[T <: AnyRef](x: T) = x }\n", ".scala", False),
    ("object A {\n  val x = (<a/>)\n}\n", ".scala", True),
    ("object A {\n  val x = <a/><b/>\n}\n", ".scala", True),
])
def test_multiline_literal_detection(text: str, suffix: str, skipped: bool) -> None:
    assert (multiline_literal_reason(text, suffix) is not None) is skipped
    # CR and CRLF line breaks are found the same way as LF.
    assert (multiline_literal_reason(text.replace("\n", "\r\n"), suffix) is not None) is skipped
    assert (multiline_literal_reason(text.replace("\n", "\r"), suffix) is not None) is skipped


# --------------------------------------------------------------------------------------------- java_tokens_equal

JAVA_TOKEN_ROWS: list[tuple[str, bytes, bytes, bool | None]] = [
    ("identical", lf(JAVA_MAIN), lf(JAVA_MAIN), True),
    ("crlf", lf(JAVA_MAIN), crlf(JAVA_MAIN), True),
    ("reindented", lf(JAVA_MAIN), lf(JAVA_MAIN.replace("    ", "\t")), True),
    ("comments-changed", lf(JAVA_MAIN),
     lf(JAVA_MAIN.replace("/** Entry point. */", "// the entry point\n/* really */")), True),
    ("license-header-removed", lf(JAVA_MAIN), lf(JAVA_MAIN[JAVA_MAIN.index("package"):]), True),
    ("joined-lines", b"int x = 1;\nint y = 2;\n", b"int x=1;int y=2;", True),
    ("unicode-escape-spelling", b'String s = "\\u0041";', b'String s = "A";', True),
    ("form-feed", b"class A {}\f", b"class A {}", True),
    ("literal-changed", lf(JAVA_MAIN), lf(JAVA_MAIN.replace("hello, world", "hello world")), False),
    ("space-inside-literal", b'String s = "a b";', b'String s = "a  b";', False),
    ("identifier-changed", lf(JAVA_MAIN), lf(JAVA_MAIN.replace("names", "nams")), False),
    ("operator-split", b"x = a - -b;", b"x = a--b;", False),
    ("number-changed", b"long x = 1_000L;", b"long x = 1_000;", False),
    ("token-added", b"class A {}", b"final class A {}", False),
    ("char-literal", b"char c = 'a';", b"char c = 'b';", False),
    ("text-block", lf(JAVA_TEXT_BLOCK), lf(JAVA_TEXT_BLOCK), None),
    ("not-utf8", b"// \xe9\nclass A {}", b"class A {}", None),
    ("unknown-character", b"class A { int x = 1 # 2; }", b"class A {}", None),
    ("backtick", b"class `A` {}", b"class A {}", None),
    ("nbsp-is-not-java-whitespace", "int\u00a0x;".encode(), b"int x;", None),
    ("bad-unicode-escape", b'String s = "\\u1_2f";', b'String s = "\\u012f";', None),
    ("unterminated-string", b'String s = "abc', b'String s = "abc";', None),
]


@pytest.mark.parametrize(("a", "b", "expected"), [r[1:] for r in JAVA_TOKEN_ROWS],
                         ids=[r[0] for r in JAVA_TOKEN_ROWS])
def test_java_tokens_equal(a: bytes, b: bytes, expected: bool | None) -> None:
    assert java_tokens_equal(a, b) is expected
    assert java_tokens_equal(b, a) is expected


def test_java_tokens_equal_is_not_used_by_the_stabilizer() -> None:
    # A comment-only change is still a reported difference: the stabilizer never looks at the other side.
    path = SRC + "Main.java"
    a, b = lf(JAVA_MAIN), lf(JAVA_MAIN.replace("Entry point.", "The entry point."))
    assert java_tokens_equal(a, b) is True
    out = compare_bytes(jar({path: a}), jar({path: b}), stabilizers=[NL])
    assert residual(out) == untouched(path)


_JAVA_TOKENS = ["class", "A", "{", "}", "int", "x", "=", "1", ";", "+", "-", "(", ")", '"s t"', "'c'",
                "return", "0x1F", "1.5e3", "->", "::", "@Override", "\\u0041", "<", ">", ".", ","]
_LAYOUT = st.sampled_from([" ", "  ", "\n", "\r\n", "\r", "\t", " /* c */ ", " // c\n", "\n/** doc */\n"])


@st.composite
def java_layouts(draw: st.DrawFn) -> tuple[list[str], str, str]:
    toks = draw(st.lists(st.sampled_from(_JAVA_TOKENS), max_size=30))

    def lay() -> str:
        return "".join(t + draw(_LAYOUT) for t in toks)

    return toks, lay(), lay()


@settings(max_examples=150, deadline=None)
@given(java_layouts())
def test_java_tokens_equal_ignores_layout_property(case: tuple[list[str], str, str]) -> None:
    _, a, b = case
    ab, bb = a.encode(), b.encode()
    assert java_tokens_equal(ab, ab) is True
    assert java_tokens_equal(ab, bb) is True
    assert java_tokens_equal(bb, ab) is True


@settings(max_examples=150, deadline=None)
@given(java_layouts(), java_layouts())
def test_java_tokens_equal_symmetric_and_reflexive_property(c1: tuple[list[str], str, str],
                                                            c2: tuple[list[str], str, str]) -> None:
    a, b = c1[1].encode(), c2[1].encode()
    assert java_tokens_equal(a, b) is java_tokens_equal(b, a)
    assert java_tokens_equal(a, a) is True
    assert java_tokens_equal(b, b) is True


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=60), st.binary(max_size=60))
def test_java_tokens_equal_on_any_bytes_property(a: bytes, b: bytes) -> None:
    r = java_tokens_equal(a, b)
    assert r in (True, False, None)
    assert java_tokens_equal(b, a) is r
    assert java_tokens_equal(a, a) in (True, None)  # reflexive whenever it can tokenize


_TEXTISH = st.lists(st.sampled_from([b"\r", b"\n", b"\r\n", b"a", b"\xc3\xa9", b" ", b"\x00", b"\"\"\""]),
                    max_size=40).map(b"".join)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.binary(max_size=80), _TEXTISH))
def test_canonical_newlines_property(data: bytes) -> None:
    out = canonical_newlines(data)
    assert b"\r" not in out
    assert canonical_newlines(out) == out  # idempotent
    # Only CR bytes change: the non-newline bytes are the same, in the same order...
    assert out.replace(b"\n", b"") == data.replace(b"\r", b"").replace(b"\n", b"")
    # ...every CRLF loses its CR, every lone CR becomes LF: the number of line terminators is kept.
    assert out.count(b"\n") == data.count(b"\r") + data.count(b"\n") - data.count(b"\r\n")
    assert len(out) == len(data) - data.count(b"\r\n")
    if b"\r" not in data:
        assert out is data


@settings(max_examples=150, deadline=None)
@given(st.sampled_from([".java", ".kt", ".kts", ".groovy", ".scala"]),
       st.lists(st.sampled_from(["a", "/", "*", '"', "'", "$", "<", "b", " ", "\n", "\r", "\r\n", "{"]),
                max_size=40).map("".join))
def test_multiline_literal_reason_ignores_the_newline_style_property(suffix: str, text: str) -> None:
    # Skipping must not depend on which newline style a side uses, or the two sides would be treated apart.
    base = (multiline_literal_reason(text, suffix) is None)
    assert (multiline_literal_reason(canonical_newlines(text.encode()).decode(), suffix) is None) is base
    assert (multiline_literal_reason(text.replace("\r", "\n"), suffix) is None) is base


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(["Main.java", "A.kt", "b.kts", "C.groovy", "D.scala"]), _TEXTISH)
def test_source_newlines_stabilizer_idempotent_property(name: str, data: bytes) -> None:
    once, _ = canonicalize_bytes(jar({name: data}), stabilizers=[NL])
    twice, res2 = canonicalize_bytes(once, stabilizers=[NL])
    assert twice == once
    assert not [t for t in res2.trace if t.action == "changed"]


# --------------------------------------------------------------------------------------------- javadoc

def _page(head_lines: list[str], body: str = "<p>A greeting.</p>") -> bytes:
    return ("\n".join(["<!DOCTYPE HTML>", '<html lang="en">', "<head>", *head_lines, "</head>", "<body>",
                       body, "</body>", "</html>", ""])).encode()


def jdk6(date: str, day: str, body: str = "<P>A greeting.</P>") -> bytes:
    return _page([f"<!-- Generated by javadoc (build 1.6.0_45) on {date} -->", "<TITLE>", "Hello", "</TITLE>",
                  "", f'<META NAME="date" CONTENT="{day}">', ""], body)


def jdk7(date: str, day: str, body: str = "<div class=\"block\">A greeting.</div>") -> bytes:
    return _page([f"<!-- Generated by javadoc (version 1.7.0_80) on {date} -->", "<title>Hello</title>",
                  f'<meta name="date" content="{day}">'], body)


def jdk8(date: str, day: str, body: str = "<div class=\"block\">A greeting.</div>") -> bytes:
    return _page([f"<!-- Generated by javadoc (1.8.0_292) on {date} -->",
                  "<title>Hello (demo 1.0 API)</title>", f'<meta name="date" content="{day}">',
                  '<link rel="stylesheet" type="text/css" href="../stylesheet.css" title="Style">'], body)


def jdk11(date: str, day: str, body: str = "<div class=\"block\">A greeting.</div>") -> bytes:
    return _page([f"<!-- Generated by javadoc (11.0.21) on {date} -->", "<title>Hello (demo 1.0 API)</title>",
                  '<meta http-equiv="Content-Type" content="text/html; charset=UTF-8">',
                  f'<meta name="dc.created" content="{day}">'], body)


def jdk17(date: str, day: str, body: str = "<div class=\"block\">A greeting.</div>") -> bytes:
    return _page([f"<!-- Generated by javadoc (17) on {date} -->", "<title>Hello (demo 1.0 API)</title>",
                  '<meta name="viewport" content="width=device-width, initial-scale=1">',
                  '<meta http-equiv="Content-Type" content="text/html; charset=utf-8">',
                  f'<meta name="dc.created" content="{day}">',
                  '<meta name="description" content="declaration: package: demo, class: Hello">',
                  '<meta name="generator" content="javadoc/ClassWriterImpl">'], body)


def jdk21(date: str, day: str, body: str = "<div class=\"block\">A greeting.</div>") -> bytes:
    return jdk17(date, day, body).replace(b"javadoc (17)", b"javadoc (21)")


D1, DAY1 = "Mon Jan 04 10:00:00 UTC 2021", "2021-01-04"
D2, DAY2 = "Sat Nov 23 01:09:00 CET 2026", "2026-11-23"
D3, DAY3 = "Tue Feb 02 23:59:59 GMT+05:30 2027", "2027-02-03"

PAGE = "demo/Hello.html"
PageFn = Callable[..., bytes]

JAVADOC_ROWS = [
    ("jdk6", jdk6, "1.6.0_45"),
    ("jdk7", jdk7, "1.7.0_80"),
    ("jdk8", jdk8, "1.8.0_292"),
    ("jdk11", jdk11, "11.0.21"),
    ("jdk17", jdk17, "17"),
    ("jdk21", jdk21, "21"),
]


@pytest.mark.parametrize(("page", "version"), [r[1:] for r in JAVADOC_ROWS], ids=[r[0] for r in JAVADOC_ROWS])
@pytest.mark.parametrize(("d_ref", "d_reb"), [((D1, DAY1), (D2, DAY2)), ((D2, DAY2), (D3, DAY3))])
def test_javadoc_two_runs_are_equivalent_with_evidence(page: PageFn, version: str, d_ref: tuple[str, str],
                                                       d_reb: tuple[str, str]) -> None:
    ref = jar({PAGE: page(*d_ref), "index.html": page(*d_ref)}, JAVADOC_MF)
    reb = jar({PAGE: page(*d_reb), "index.html": page(*d_reb)}, JAVADOC_MF)
    assert residual(compare_bytes(ref, reb, stabilizers=[])) == untouched(PAGE) + untouched("index.html")
    out = compare_bytes(ref, reb, stabilizers=[JD])
    assert out.verdict is Verdict.EQUIVALENT, residual(out)
    assert sorted((e.side, e.stabilizer, e.key, e.value, e.path) for e in out.evidence) == sorted(
        (side, "javadoc-timestamp", "javadoc-jdk", version, p)
        for side in ("reference", "rebuild") for p in (PAGE, "index.html"))


@pytest.mark.parametrize(("page", "version"), [r[1:] for r in JAVADOC_ROWS], ids=[r[0] for r in JAVADOC_ROWS])
def test_javadoc_changed_doc_sentence_is_different(page: PageFn, version: str) -> None:
    ref = jar({PAGE: page(D1, DAY1)}, JAVADOC_MF)
    reb = jar({PAGE: page(D2, DAY2, "<div class=\"block\">A salutation.</div>")}, JAVADOC_MF)
    out = compare_bytes(ref, reb, stabilizers=[JD])
    assert residual(out) == [(PAGE, DifferenceKind.CHANGED, "content")]
    d = out.differences[0]
    assert d.diff is not None and "A salutation." in d.diff
    assert "2026" not in d.diff and "2021" not in d.diff  # the date noise is gone from the residual diff
    assert version not in d.diff  # and so is the JDK version of the comment


def test_javadoc_canonical_form_keeps_line_structure_and_everything_else() -> None:
    original = jdk8(D1, DAY1)
    new, versions = canonicalize_html(original)
    assert versions == ["1.8.0_292"]
    assert new.count(b"\n") == original.count(b"\n")
    changed = [(a, b) for a, b in zip(original.split(b"\n"), new.split(b"\n"), strict=True) if a != b]
    assert changed == [
        (b"<!-- Generated by javadoc (1.8.0_292) on Mon Jan 04 10:00:00 UTC 2021 -->",
         b"<!-- Generated by javadoc (removed) on Thu Jan 01 00:00:00 UTC 1970 -->"),
        (b'<meta name="date" content="2021-01-04">', b'<meta name="date" content="1970-01-01">'),
    ]
    again, versions2 = canonicalize_html(new)
    assert again is new and versions2 == []


@pytest.mark.parametrize(("name", "data"), [
    ("notimestamp", _page(["<title>Hello</title>", '<meta name="generator" content="javadoc/ClassWriterImpl">'])),
    ("date-in-body-only", _page(["<title>Hello</title>"],
                                "<!-- Generated by javadoc (17) on Mon Jan 04 10:00:00 UTC 2021 -->\n"
                                '<meta name="date" content="2021-01-04">')),
    ("no-head", b'<!-- Generated by javadoc (17) on Mon Jan 04 10:00:00 UTC 2021 -->\n<p>x</p>\n'),
    ("other-meta", _page(['<meta name="keywords" content="2021-01-04">',
                          '<meta name="date" content="January 4">'])),
    ("hand-written-comment", _page(["<!-- Generated by javadoc some day -->"])),
])
def test_javadoc_leaves_other_html_alone(name: str, data: bytes) -> None:
    _, res = canonicalize_bytes(jar({"doc/page.html": data}), stabilizers=[JD])
    assert res.trace == () and res.evidence == ()
    assert all(a is b for a, b in zip(res.original.entries, res.canonical.entries, strict=True))


def test_javadoc_only_touches_html_entries() -> None:
    page = jdk17(D1, DAY1)
    ref = jar({"demo/Hello.txt": page, "demo/Hello.htm": page, "demo/Hello.HTML": page})
    reb = jar({"demo/Hello.txt": jdk17(D2, DAY2), "demo/Hello.htm": jdk17(D2, DAY2),
               "demo/Hello.HTML": jdk17(D2, DAY2)})
    out = compare_bytes(ref, reb, stabilizers=[JD])
    assert residual(out) == untouched("demo/Hello.txt")


def test_javadoc_different_jdk_versions_stay_visible_as_evidence() -> None:
    ref = jar({PAGE: jdk17(D1, DAY1)})
    reb = jar({PAGE: jdk21(D2, DAY2)})
    out = compare_bytes(ref, reb, stabilizers=[JD])
    assert out.verdict is Verdict.EQUIVALENT
    assert {(e.side, e.value) for e in out.evidence} == {("reference", "17"), ("rebuild", "21")}


def test_javadoc_trace_and_idempotence() -> None:
    data = jar({PAGE: jdk11(D1, DAY1), "index.html": jdk11(D1, DAY1)})
    once, res = canonicalize_bytes(data, stabilizers=[JD])
    assert sorted((t.stabilizer, t.path, t.action) for t in res.trace) == [
        ("javadoc-timestamp", "demo/Hello.html", "changed"), ("javadoc-timestamp", "index.html", "changed")]
    assert all(c.field == "content" for t in res.trace for c in t.changes)
    twice, res2 = canonicalize_bytes(once, stabilizers=[JD])
    assert twice == once and res2.trace == () and res2.evidence == ()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from([
    b"<head>", b"</head>", b"</HEAD >", b"\n", b"<!-- Generated by javadoc (17) on ", b"<!-- Generated by javadoc ",
    b"(build 1.6.0_45) on ", D1.encode(), D3.encode(), b" -->", b"-->", b'<meta name="date" content="',
    b'<META NAME="dc.created" CONTENT="', DAY1.encode(), b'">', b"x", b"\xff",
]), max_size=25).map(b"".join))
def test_canonicalize_html_property(data: bytes) -> None:
    new, _ = canonicalize_html(data)
    again, versions = canonicalize_html(new)
    assert again is new and versions == []  # idempotent, and no evidence from our own placeholders
    assert new.count(b"\n") == data.count(b"\n")
    end = re.search(rb"</head\s*>", data, re.IGNORECASE)
    if end is None:
        assert new is data
    else:
        assert new.endswith(data[end.start():])  # nothing after the head changes


# --------------------------------------------------------------------------------------------- real javadoc

HELLO = """\
package demo;

/**
 * A greeting.
 */
public class Hello {
    /**
     * Says hi.
     *
     * @return the greeting
     */
    public String hi() {
        return "hi";
    }
}
"""


def _javadoc_version(javadoc: str) -> str:
    out = subprocess.run([javadoc, "--version"], capture_output=True, text=True, check=False, timeout=60)
    text = (out.stdout + out.stderr).strip()
    if out.returncode != 0 or not text:  # JDK 8 has no --version; its javadoc writes java.version
        out = subprocess.run([jdk_tool("java") or "java", "-version"], capture_output=True, text=True,
                             check=False, timeout=60)
        text = out.stderr
    m = re.search(r'(\d+(?:[._]\d+)*(?:[-+][\w.]+)?)', text)
    assert m, text
    return m.group(1)


@pytest.fixture(scope="module")
def real_javadoc(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, bytes], str]:
    """Every file javadoc of the installed JDK writes for one small class, and the JDK version."""
    javadoc = jdk_tool("javadoc")
    if javadoc is None:
        pytest.skip("no javadoc tool installed")
    root = tmp_path_factory.mktemp("javadoc")
    (root / "src" / "demo").mkdir(parents=True)
    (root / "src" / "demo" / "Hello.java").write_text(HELLO)
    out = root / "out"
    run = subprocess.run([javadoc, "-quiet", "-Xdoclint:none", "-encoding", "UTF-8", "-d", str(out),
                          "-sourcepath", str(root / "src"), "demo"],
                         capture_output=True, text=True, check=False, timeout=120)
    assert run.returncode == 0, run.stderr
    files = {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}
    return files, _javadoc_version(javadoc)


def _rewrite_dates(data: bytes, date: str, day: str) -> tuple[bytes, int]:
    """Another run of javadoc at another time: only the date strings differ (found without the module's
    regular expressions, by the fixed text javadoc writes around them)."""
    lines = data.split(b"\n")
    n = 0
    for i, line in enumerate(lines):
        if line.startswith(b"<!-- Generated by javadoc ") and b" on " in line:
            head, _, _ = line.partition(b" on ")
            lines[i] = head + b" on " + date.encode() + b" -->"
            n += 1
        elif line.lower().startswith((b'<meta name="date" content="', b'<meta name="dc.created" content="')):
            lines[i] = line[:line.lower().index(b'content="') + 9] + day.encode() + b'">'
            n += 1
    return b"\n".join(lines), n


def test_real_javadoc_two_runs_are_equivalent(real_javadoc: tuple[dict[str, bytes], str]) -> None:
    files, jdk = real_javadoc
    pages = [n for n, d in files.items() if n.endswith(".html") and b"Generated by javadoc" in d]
    assert PAGE in pages and "index.html" in pages
    other: dict[str, bytes] = {}
    for name, data in files.items():
        other[name] = data
        if name in pages:
            other[name], n = _rewrite_dates(data, D3, DAY3)
            assert n == 2, name  # the comment and the meta date: what every javadoc since JDK 6 writes
            assert other[name] != data
    ref, reb = jar(files, JAVADOC_MF), jar(other, JAVADOC_MF)
    assert {d.path for d in compare_bytes(ref, reb, stabilizers=[]).differences} == set(pages)

    out = compare_bytes(ref, reb, stabilizers=[JD])
    assert out.verdict is Verdict.EQUIVALENT, residual(out)
    # The module's regular expressions matched every page javadoc wrote, on both sides.
    changed = {(t.side, t.path) for t in out.trace if t.action == "changed"}
    assert changed == {(side, p) for side in ("reference", "rebuild") for p in pages}
    assert not [t for t in out.trace if t.action == "skipped"]
    # The JDK version is kept as evidence on every page, and it is the one of the JDK that ran.
    values = {e.value for e in out.evidence}
    assert len(values) == 1 and {(e.key, e.stabilizer) for e in out.evidence} == {("javadoc-jdk", "javadoc-timestamp")}
    (value,) = values
    assert jdk.startswith(value), (jdk, value)
    assert len(out.evidence) == 2 * len(pages)


def test_real_javadoc_canonical_pages_have_no_date_left(real_javadoc: tuple[dict[str, bytes], str]) -> None:
    files, _ = real_javadoc
    page = files[PAGE]
    m = re.search(rb'content="(\d{4}-\d\d-\d\d)"', page)
    assert m, "javadoc wrote no date meta value"
    new, versions = canonicalize_html(page)
    assert m.group(1) not in new
    assert b'content="1970-01-01"' in new and b"on Thu Jan 01 00:00:00 UTC 1970 -->" in new
    assert len(versions) == 1
    assert new.count(b"\n") == page.count(b"\n")


def test_real_javadoc_changed_doc_sentence_is_different(real_javadoc: tuple[dict[str, bytes], str]) -> None:
    files, _ = real_javadoc
    other = {n: _rewrite_dates(d, D3, DAY3)[0] if n.endswith(".html") else d for n, d in files.items()}
    assert b"A greeting." in other[PAGE]
    other[PAGE] = other[PAGE].replace(b"A greeting.", b"A salutation.")
    out = compare_bytes(jar(files, JAVADOC_MF), jar(other, JAVADOC_MF), stabilizers=[JD])
    assert residual(out) == [(PAGE, DifferenceKind.CHANGED, "content")]
    assert out.differences[0].diff is not None and "A salutation." in out.differences[0].diff


def test_both_stabilizers_are_well_formed() -> None:
    for s in (NL, JD):
        assert isinstance(s, Stabilizer)
        assert s.removes and s.reason and "." not in s.removes[-1:]
    assert NL.name == "source-newlines" and JD.name == "javadoc-timestamp"
