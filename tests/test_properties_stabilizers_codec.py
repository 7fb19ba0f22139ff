"""The ``.properties`` codec (canonjar.formats.properties): table tests of ``Properties.load`` semantics, hypothesis
properties (only PropertiesError, byte-exact items, dropping items keeps the rest, agreement with a line-by-line
port of the JDK 17 ``LineReader``), and a cross-check against the real ``java.util.Properties`` when a JDK is
installed.
"""

from __future__ import annotations

import contextlib
import json
import random
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from canonjar.errors import CanonjarError, StabilizerSkip
from canonjar.formats.properties import (
    ItemKind,
    PropertiesError,
    PropertiesFile,
    is_store_date,
    parse,
    render,
    unescape,
)
from canonjar.stabilizers.git_properties import _json_without, _scan_object, parse_pom, targets_from_pom
from tests.helpers import jdk_tool

# --------------------------------------------------------------------------------------------- oracle


def java_load(data: bytes) -> dict[str, str] | None:
    """A literal port of JDK 17 ``Properties.load(InputStream)`` (LineReader.readLine, load0, loadConvert);
    None where Java throws IllegalArgumentException."""
    s = data.decode("latin-1")
    n = len(s)
    off = 0

    def read_line() -> list[str] | None:
        nonlocal off
        buf: list[str] = []
        skip_ws, appended, pb = True, False, False
        while True:
            if off >= n:
                if not buf:
                    return None
                return buf[:-1] if pb else buf
            c = s[off]
            off += 1
            if skip_ws:
                if c in " \t\f":
                    continue
                if not appended and c in "\r\n":
                    continue
                skip_ws = appended = False
            if not buf and c in "#!":
                while off < n:
                    off += 1
                    if s[off - 1] in "\r\n":
                        break
                skip_ws = True
                continue
            if c not in "\r\n":
                buf.append(c)
                pb = (not pb) if c == "\\" else False
                continue
            if not buf:
                skip_ws = True
                continue
            if off >= n:
                return buf[:-1] if pb else buf
            if not pb:
                return buf
            buf.pop()
            skip_ws, appended, pb = True, True, False
            if c == "\r" and s[off] == "\n":
                off += 1

    def convert(chars: list[str]) -> str | None:
        out: list[str] = []
        i = 0
        while i < len(chars):
            c = chars[i]
            i += 1
            if c != "\\":
                out.append(c)
                continue
            c = chars[i]
            i += 1
            if c == "u":
                if i > len(chars) - 4:
                    return None
                try:
                    out.append(chr(int("".join(chars[i:i + 4]), 16)))
                except ValueError:
                    return None
                if not all(ch in "0123456789abcdefABCDEF" for ch in chars[i:i + 4]):
                    return None
                i += 4
            else:
                out.append({"t": "\t", "r": "\r", "n": "\n", "f": "\f"}.get(c, c))
        return "".join(out)

    result: dict[str, str] = {}
    while (line := read_line()) is not None:
        limit = len(line)
        key_len, value_start, has_sep, pb = 0, limit, False, False
        while key_len < limit:
            c = line[key_len]
            if c in "=:" and not pb:
                value_start, has_sep = key_len + 1, True
                break
            if c in " \t\f" and not pb:
                value_start = key_len + 1
                break
            pb = (not pb) if c == "\\" else False
            key_len += 1
        while value_start < limit:
            c = line[value_start]
            if c not in " \t\f":
                if not has_sep and c in "=:":
                    has_sep = True
                else:
                    break
            value_start += 1
        key, value = convert(line[:key_len]), convert(line[value_start:])
        if key is None or value is None:
            return None
        result[key] = value
    return result


def utf16(s: str) -> bytes:
    return s.encode("utf-16-be", "surrogatepass")


def loaded(pf: PropertiesFile) -> dict[bytes, bytes]:
    """The winners as Java strings (UTF-16 code units)."""
    return {utf16(k): utf16(v.value or "") for k, v in pf.winners().items()}


# --------------------------------------------------------------------------------------------- tables

@pytest.mark.parametrize(("data", "expected"), [
    (b"", []),
    (b"a=b", [("a", "b")]),
    (b"a = b\n", [("a", "b")]),
    (b"a:b\r\n", [("a", "b")]),
    (b"a b\r", [("a", "b")]),
    (b"  \t\fa\t=\t b  \n", [("a", "b  ")]),
    (b"a==b\n", [("a", "=b")]),
    (b"a = :b\n", [("a", ":b")]),
    (b"a\n", [("a", "")]),
    (b"=b\n", [("", "b")]),
    (b"a\\=b=c\n", [("a=b", "c")]),
    (b"a\\ b c\n", [("a b", "c")]),
    (b"a\\:b:c\n", [("a:b", "c")]),
    (b"key=\\u0041\\u00e9\\t\\n\\r\\f\\x\\\\\n", [("key", "A\u00e9\t\n\r\fx\\")]),
    (b"k=\\uD83D\\uDE00\n", [("k", "\U0001f600")]),
    (b"k=caf\xe9\n", [("k", "caf\u00e9")]),
    (b"# comment\n! also\n  # indented comment\nk=v\n", [("k", "v")]),
    (b"k=v # not a comment\n", [("k", "v # not a comment")]),
    (b"#comment ending in backslash \\\nk=v\n", [("k", "v")]),
    (b"k=first \\\n    second\\\n\tthird\n", [("k", "first secondthird")]),
    (b"k=a\\\\\nb=c\n", [("k", "a\\"), ("b", "c")]),
    (b"k=a\\\\\\\n  b\n", [("k", "a\\b")]),
    (b"k=a\\\r\n  b\r\n", [("k", "ab")]),
    (b"k=a\\\n\nb=c\n", [("k", "a"), ("b", "c")]),
    (b"k=a\\\n   \nb=c\n", [("k", "a"), ("b", "c")]),
    (b"k=a\\", [("k", "a")]),
    (b"k=a\\\n", [("k", "a")]),
    (b"k\\\n=v\n", [("k", "v")]),
    (b"\\\n", [("", "")]),
    (b"\\", [("", "")]),
    (b"\\\r\n", []),
    (b"\\\n\nk=v\n", [("k", "v")]),
    (b"k=1\nk=2\n", [("k", "1"), ("k", "2")]),
    (b"\xef\xbb\xbf#x\n", [("\u00ef\u00bb\u00bf#x", "")]),
    (b"a\x0bb=c\n", [("a\x0bb", "c")]),
])
def test_parse_table(data: bytes, expected: list[tuple[str, str]]) -> None:
    pf = parse(data)
    assert [(p.key, p.value) for p in pf.properties] == expected
    assert b"".join(i.raw for i in pf.items) == data
    oracle = java_load(data)
    assert oracle is not None
    assert {utf16(k): utf16(v) for k, v in oracle.items()} == {utf16(k): utf16(v) for k, v in expected}


@pytest.mark.parametrize("data", [b"k=\\u12\n", b"k=\\u12", b"k=\\uZZZZ\n", b"\\u004=v\n", b"k=\\u00g1\n",
                                  b"\\\n#x\n", b"\\\n  !x\n"])
def test_parse_rejects(data: bytes) -> None:
    with pytest.raises(PropertiesError):
        parse(data)


def test_items_kinds_spans_and_text() -> None:
    data = b"#Generated by Maven\r\n\r\n  ! bang\nk=v\\\n  w\nlast"
    pf = parse(data)
    assert [(i.kind, i.raw) for i in pf.items] == [
        (ItemKind.COMMENT, b"#Generated by Maven\r\n"), (ItemKind.BLANK, b"\r\n"), (ItemKind.COMMENT, b"  ! bang\n"),
        (ItemKind.PROPERTY, b"k=v\\\n  w\n"), (ItemKind.PROPERTY, b"last")]
    assert [i.text for i in pf.comments] == ["Generated by Maven", " bang"]
    assert [(i.start, i.end) for i in pf.items] == [(0, 21), (21, 23), (23, 32), (32, 41), (41, 45)]
    assert [i.closed for i in pf.items] == [True, True, True, True, False]
    assert pf.get("k") == "vw" and pf.get("last") == "" and pf.get("nope") is None
    assert [c.raw for c in pf.leading_comments()] == [b"#Generated by Maven\r\n", b"  ! bang\n"]


def test_duplicates_winner_and_conflicts() -> None:
    pf = parse(b"a=1\nb=2\na=3\nb=2\n")
    first_a, first_b, last_a, last_b = pf.properties
    assert pf.winners() == {"a": last_a, "b": last_b}
    assert pf.is_winner(last_a) and not pf.is_winner(first_a) and not pf.is_winner(first_b)
    assert pf.conflicting_keys() == ["a"]
    # keys compare after unescaping, as Java loads them
    assert parse(b"\\u0061=1\na=2\n").conflicting_keys() == ["a"]


def test_utf8_mode() -> None:
    data = "cl\u00e9=caf\u00e9 \u2603\n#\u00e9t\u00e9\n".encode()
    pf = parse(data, "utf-8")
    assert pf.get("cl\u00e9") == "caf\u00e9 \u2603" and pf.comments[0].text == "\u00e9t\u00e9"
    assert parse(data).get("cl\u00c3\u00a9") == "caf\u00c3\u00a9 \u00e2\u0098\u0083"  # ISO-8859-1 reading
    assert parse("k=\U0001f600".encode(), "utf-8").get("k") == parse(b"k=\\uD83D\\uDE00").get("k")
    with pytest.raises(PropertiesError):
        parse(b"k=\xff\n", "utf-8")
    with pytest.raises(PropertiesError):
        parse(b"k=v", "cp1252")


def test_render_refuses_to_join_lines() -> None:
    pf = parse(b"a=1\nb=2\\")
    a, b = pf.items
    assert render([b]) == b"b=2\\"
    with pytest.raises(PropertiesError):
        render([b, a])
    pf = parse(b"#c\nb=2\\\n")  # continuation right before the end: would swallow a following line
    assert not pf.items[-1].closed
    with pytest.raises(PropertiesError):
        render([pf.items[1], pf.items[0]])


@pytest.mark.parametrize(("line", "ok"), [
    (b"#Sat Nov 23 01:09:00 UTC 2026\n", True),
    (b"#Sat Nov 23 01:09:00 UTC 2026", True),
    (b"#Sat Nov 23 01:09:00 UTC 2026\r\n", True),
    (b"#Mon Jan 05 10:00:00 GMT+01:00 2026\n", True),
    (b"#Mon Jan 05 10:00:00 GMT-03:00 2026\n", True),
    (b"#Wed Dec 31 23:59:59 ChST 2025\n", True),
    (b"#Thu Feb 29 00:00:00 +0530 2024\n", True),
    (b"# Sat Nov 23 01:09:00 UTC 2026\n", False),
    (b"!Sat Nov 23 01:09:00 UTC 2026\n", False),
    (b" #Sat Nov 23 01:09:00 UTC 2026\n", False),
    (b"#Sat Nov 23 01:09:00 UTC 2026 \n", False),
    (b"#Sat Nov 32 01:09:00 UTC 2026\n", False),
    (b"#Sat Nov 23 24:09:00 UTC 2026\n", False),
    (b"#Sat Nov 23 01:09 UTC 2026\n", False),
    (b"#Sat November 23 01:09:00 UTC 2026\n", False),
    (b"#Sam Nov 23 01:09:00 UTC 2026\n", False),
    (b"#Sat Nov 23 01:09:00 2026\n", False),
    (b"#Sat Nov 23 01:09:00 UTC 26\n", False),
    (b"#2026-11-23T01:09:00Z\n", False),
])
def test_store_date(line: bytes, ok: bool) -> None:
    (item,) = parse(line).items
    assert is_store_date(item) is ok


# --------------------------------------------------------------------------------------------- properties

TOKENS = [b"a", b"b", b"k", b"=", b":", b" ", b"\t", b"\f", b"\\", b"\\\\", b"\n", b"\r", b"\r\n", b"#", b"!",
          b"\\u0041", b"\\u00e9", b"\\uD83D\\uDE00", b"\\uD800", b"\\u12", b"\\uZZZZ", b"\xe9", b"\\n", b"\\t",
          b"\\ ", b"\\=", b"\\:", b"\\\n", b"\\\r\n", "\u00e9".encode(), b"\x00"]
tricky = st.lists(st.sampled_from(TOKENS), max_size=24).map(b"".join)
anything = st.one_of(tricky, st.binary(max_size=200))
FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(anything, st.sampled_from(["iso-8859-1", "utf-8"]))
def test_parse_only_raises_properties_error_and_items_are_exact(data: bytes, encoding: str) -> None:
    try:
        pf = parse(data, encoding)
    except PropertiesError:
        return
    assert b"".join(i.raw for i in pf.items) == data
    pos = 0
    for it in pf.items:
        assert it.start == pos and data[it.start:it.end] == it.raw and it.raw
        assert (it.key is not None) == (it.kind is ItemKind.PROPERTY)
        pos = it.end
    assert all(it.closed for it in pf.items[:-1])
    assert render(pf.items) == data


@FAST
@given(tricky)
def test_parse_agrees_with_the_jdk_line_reader_port(data: bytes) -> None:
    try:
        pf = parse(data)
    except PropertiesError as exc:
        assume("lone continuation" not in str(exc))  # JDK 8 and 9+ disagree there; the codec refuses
        assert java_load(data) is None
        return
    expected = java_load(data)
    assert expected is not None
    assert loaded(pf) == {utf16(k): utf16(v) for k, v in expected.items()}


@FAST
@given(tricky, st.data())
def test_dropping_items_keeps_the_others_exactly(data: bytes, draw: st.DataObject) -> None:
    try:
        pf = parse(data)
    except PropertiesError:
        return
    keep = [it for it in pf.items if draw.draw(st.booleans())]
    out = render(keep)  # order kept: never refused
    assert out == b"".join(it.raw for it in keep)
    again = parse(out)
    assert [(p.key, p.value) for p in again.properties] == [(p.key, p.value) for p in keep
                                                            if p.kind is ItemKind.PROPERTY]


@FAST
@given(tricky, st.randoms(use_true_random=False))
def test_reordering_closed_items_keeps_every_property(data: bytes, rnd: random.Random) -> None:
    try:
        pf = parse(data)
    except PropertiesError:
        return
    items = list(pf.items)
    rnd.shuffle(items)
    try:
        out = render(items)
    except PropertiesError:
        assert any(not it.closed for it in items[:-1])
        return
    assert sorted((p.key or "", p.value or "") for p in parse(out).properties) == sorted(
        (p.key or "", p.value or "") for p in pf.properties)


@FAST
@given(st.text(max_size=30))
def test_unescape_never_raises_anything_else(text: str) -> None:
    try:
        unescape(text)
    except PropertiesError as exc:
        assert isinstance(exc, CanonjarError)


# --------------------------------------------------------------------------------------------- real JDK

DUMP = """
import java.io.*;
import java.nio.file.*;
import java.util.*;

public class PropDump {
    public static void main(String[] args) throws Exception {
        for (String f : Files.readAllLines(Paths.get(args[0]))) {
            StringBuilder sb = new StringBuilder();
            Properties p = new Properties();
            try (InputStream in = new FileInputStream(f)) {
                p.load(in);
                TreeMap<String, String> m = new TreeMap<>();
                for (String k : p.stringPropertyNames()) m.put(k, p.getProperty(k));
                sb.append("OK");
                for (Map.Entry<String, String> e : m.entrySet())
                    sb.append(' ').append(hex(e.getKey())).append('=').append(hex(e.getValue()));
            } catch (IllegalArgumentException e) {
                sb.append("ERR");
            }
            System.out.println(sb);
        }
    }

    static String hex(String s) {
        StringBuilder b = new StringBuilder("x");
        for (char c : s.toCharArray()) b.append(String.format("%04x", (int) c));
        return b.toString();
    }
}
"""


def test_parse_agrees_with_real_java_util_properties(tmp_path: Path) -> None:
    java = jdk_tool("java")
    if java is None or jdk_tool("javac") is None:
        pytest.skip("no JDK installed")
    rnd = random.Random(20261123)
    cases = [b"k=\\u12\n", b"a\\\n   b=c", b"\\\r\n", b"\\\n", b"k=a\\\\\\\n  b\n", b"\xef\xbb\xbfk=v"]
    cases += [b"".join(rnd.choice(TOKENS) for _ in range(rnd.randint(0, 16))) for _ in range(1500)]
    listing = []
    for i, data in enumerate(cases):
        f = tmp_path / f"{i}.properties"
        f.write_bytes(data)
        listing.append(str(f))
    (tmp_path / "list").write_text("\n".join(listing))
    (tmp_path / "PropDump.java").write_text(DUMP)
    proc = subprocess.run([java, str(tmp_path / "PropDump.java"), str(tmp_path / "list")], capture_output=True,
                          text=True, timeout=120, check=True)
    lines = proc.stdout.splitlines()
    assert len(lines) == len(cases)
    checked = 0
    for data, line in zip(cases, lines, strict=True):
        try:
            pf = parse(data)
        except PropertiesError as exc:
            if "lone continuation" in str(exc):
                continue
            assert line == "ERR", data
            checked += 1
            continue
        mine = "OK" + "".join(f" x{k.hex()}=x{v.hex()}" for k, v in sorted(loaded(pf).items()))
        assert mine == line, data
        checked += 1
    assert checked > 1400


# --------------------------------------------------------------------------------------------- git.json, pom.xml

json_values = st.one_of(st.text(max_size=8), st.integers(), st.booleans(), st.none(),
                        st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=3), st.integers(),
                                                                             max_size=2))


@FAST
@given(st.dictionaries(st.text(max_size=10), json_values, max_size=8), st.sampled_from([None, 0, 2, "\t"]),
       st.sampled_from([(",", ":"), (", ", " : "), (",\n", ": ")]), st.data())
def test_json_member_scanner_round_trips_and_drops_members(obj: dict[str, object], indent: int | str | None,
                                                           seps: tuple[str, str], draw: st.DataObject) -> None:
    text = json.dumps(obj, indent=indent, separators=seps, ensure_ascii=draw.draw(st.booleans()))
    open_end, members, _close = _scan_object(text)
    assert [(m.key, m.value) for m in members] == list(obj.items())
    keep = [draw.draw(st.booleans()) for _ in members]
    assert _json_without(text, open_end, members, [True] * len(members)) == text
    out = _json_without(text, open_end, members, keep)
    assert json.loads(out) == {m.key: m.value for m, k in zip(members, keep, strict=True) if k}
    o2, m2, _ = _scan_object(out)
    assert _json_without(out, o2, m2, [True] * len(m2)) == out


@FAST
@given(st.one_of(st.text(max_size=60), st.lists(st.sampled_from(['{', '}', '"a"', '"b"', ':', ',', ' ', '1', '[',
                                                                 ']', '"\\u00', 'null']), max_size=12).map("".join)))
def test_json_member_scanner_only_raises_value_error(text: str) -> None:
    with contextlib.suppress(ValueError):
        _scan_object(text)


@FAST
@given(st.one_of(st.binary(max_size=300), st.lists(st.sampled_from(
    [b"<project>", b"</project>", b"<plugin>", b"</plugin>", b"<artifactId>git-commit-id-plugin</artifactId>",
     b"<generateGitPropertiesFilename>", b"</generateGitPropertiesFilename>", b"${project.build.outputDirectory}/",
     b"${x}", b"a/../b", b"<!DOCTYPE p>", b"<!ENTITY e 'x'>", b"&e;", b"<?xml version='1.0'?>", b"\xff"]),
    max_size=14).map(b"".join)))
def test_pom_parser_only_skips(data: bytes) -> None:
    try:
        targets = targets_from_pom(parse_pom(data))
    except StabilizerSkip:
        return
    assert all(b".." not in t.path.split(b"/") and not t.path.startswith(b"/") for t in targets)
