"""Tests of the Reproducible Central parsers (canonjar.rc): every real sample file, the upstream summary.csv
reproduced from the sample's own files, each shell-syntax case (checked against Bash itself when it is installed),
each .buildinfo shape, .buildcompare side detection, name resolution, and error line numbers."""

from __future__ import annotations

import csv
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from canonjar.rc.buildcompare import is_reference_path, parse_buildcompare, parse_diffoscope_comment
from canonjar.rc.buildinfo import parse_buildinfo
from canonjar.rc.buildspec import MAX_VALUE_CHARS, parse_buildspec, parse_shell_assignments
from canonjar.rc.model import BuildinfoShape, RcParseError, Release, UpstreamStatus
from canonjar.rc.release import iter_buildspecs, load_release, load_releases

DATASET = Path(__file__).resolve().parent.parent / "datasets" / "reproducible-central"
CONTENT = DATASET / "content"
BASH = shutil.which("bash")


def _rows(name: str) -> list[dict[str, str]]:
    with (DATASET / name).open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


SAMPLE = _rows("sample.csv")
SUMMARY = {row["path"]: row for row in _rows("summary.csv")}


def _count(value: int | None) -> str:
    return "" if value is None else str(value)


@pytest.fixture(scope="module")
def releases() -> dict[str, Release]:
    loaded: dict[str, Release] = {}
    for item in load_releases([CONTENT], content_root=DATASET):
        assert isinstance(item, Release), f"sample file failed to parse: {item}"
        loaded[item.release_id] = item
    return loaded


# -- the real sample ------------------------------------------------------------------------------------------


def test_every_sample_buildspec_is_found_and_loads(releases: dict[str, Release]) -> None:
    assert len(SAMPLE) == 31
    assert sorted(releases) == sorted(row["buildspec"] for row in SAMPLE)


@pytest.mark.parametrize("row", SAMPLE, ids=[r["buildspec"].rsplit("/", 1)[-1] for r in SAMPLE])
def test_sample_row_matches_summary_csv(row: dict[str, str], releases: dict[str, Release]) -> None:
    release = releases[row["buildspec"]]
    expected = SUMMARY[row["buildspec"]]
    spec, compare = release.buildspec, release.buildcompare
    got = {
        "groupId": spec.group_id,
        "artifactId": spec.artifact_id,
        "version": spec.version,
        "tool": spec.tool,
        "jdk": spec.jdk,
        "newline": spec.newline,
        "ok_count": _count(compare.ok) if compare else "",
        "ko_count": _count(compare.ko) if compare else "",
        "ignored_count": _count(compare.ignored) if compare else "",
        "buildinfo": " ".join(release.buildinfo_names),
        "buildcompare": release.buildcompare_name or "",
    }
    assert got == {key: expected[key] for key in got}


@pytest.mark.parametrize("row", SAMPLE, ids=[r["buildspec"].rsplit("/", 1)[-1] for r in SAMPLE])
def test_sample_row_matches_sample_csv(row: dict[str, str], releases: dict[str, Release]) -> None:
    release = releases[row["buildspec"]]
    folder = row["buildspec"].rsplit("/", 1)[0]
    compare = release.buildcompare
    assert " ".join(f"{folder}/{n}" for n in release.buildinfo_names) == row["buildinfo"]
    assert (f"{folder}/{release.buildcompare_name}" if release.buildcompare_name else "") == row["buildcompare"]
    assert (release.buildspec.tool, release.buildspec.jdk, release.buildspec.newline) == (
        row["tool"],
        row["jdk"],
        row["newline"],
    )
    assert _count(compare.ok if compare else None) == row["ok"]
    assert _count(compare.ko if compare else None) == row["ko"]
    assert _count(compare.ignored if compare else None) == row["ignored"]
    assert _count(compare.missing if compare else None) == row["missing"]
    nested = any(b.shape in (BuildinfoShape.MAVEN_MULTI, BuildinfoShape.GRADLE) for b in release.buildinfos)
    assert str(nested).lower() == row["multi_module"]
    if row["diffoscope"]:  # the buildspec's diffoscope= names the committed report
        assert f"{folder}/{release.buildspec.diffoscope.rsplit('/', 1)[-1]}" == row["diffoscope"]


def test_sample_totals_reproduce_summary_and_sample_csv(releases: dict[str, Release]) -> None:
    ours: Counter[str] = Counter()
    summary: Counter[str] = Counter()
    sample: Counter[str] = Counter()
    for row in SAMPLE:
        compare = releases[row["buildspec"]].buildcompare
        for key in ("ok", "ko", "ignored"):
            ours[key] += (getattr(compare, key) or 0) if compare else 0
            summary[key] += int(SUMMARY[row["buildspec"]][f"{key}_count"] or 0)
            sample[key] += int(row[key] or 0)
    assert ours == summary == sample
    assert min(ours["ok"], ours["ko"], ours["ignored"]) > 0  # the sample is not trivially empty


def test_every_sample_data_file_is_read_by_some_release(releases: dict[str, Release]) -> None:
    read = {f"{r.release_id.rsplit('/', 1)[0]}/{n}" for r in releases.values() for n in r.buildinfo_names}
    read |= {f"{r.release_id.rsplit('/', 1)[0]}/{r.buildcompare_name}" for r in releases.values() if r.buildcompare}
    on_disk = {
        p.relative_to(DATASET).as_posix() for p in CONTENT.rglob("*") if p.suffix in (".buildinfo", ".buildcompare")
    }
    assert len(on_disk) == 41 + 30
    assert read == on_disk


def test_sample_jobs_carry_upstream_verdicts(releases: dict[str, Release]) -> None:
    checked = 0
    for release in releases.values():
        compare = release.buildcompare
        if compare is None or release.buildspec.tool == "sbt":  # the sbt buildcompare lists 0.1.5 names upstream
            continue
        by_status: dict[UpstreamStatus, set[str]] = {}
        for job in release.artifacts:
            by_status.setdefault(job.upstream, set()).add(job.filename)
            assert job.release_id == release.release_id
            assert job.sha512 is not None and len(job.sha512) == 128
        assert by_status.get(UpstreamStatus.OK, set()) == set(compare.ok_files)
        assert by_status.get(UpstreamStatus.KO, set()) == set(compare.ko_files)
        assert by_status.get(UpstreamStatus.MISSING, set()) == set(compare.missing_files)
        assert UpstreamStatus.UNKNOWN not in by_status
        # each diffoscope line is attached to the job whose reference it names
        attached = {job.diffoscope for job in release.artifacts if job.diffoscope is not None}
        assert attached == set(compare.diffoscope)
        checked += 1
    assert checked == 29


def test_sample_diffoscope_lines_are_told_apart_by_prefix(releases: dict[str, Release]) -> None:
    lines = [d for r in releases.values() if r.buildcompare for d in r.buildcompare.diffoscope]
    raw = sum(p.read_text().count("\n# diffoscope ") for p in CONTENT.rglob("*.buildcompare"))
    assert len(lines) == raw > 0
    assert all(d.sides_from == "prefix" and is_reference_path(d.reference) for d in lines)
    assert not any(is_reference_path(d.rebuild) for d in lines)
    asm = releases["content/org/ow2/asm/asm-9.7.1.buildspec"]
    assert asm.buildcompare is not None
    assert all(
        d.reference.startswith("central/") and d.rebuild.startswith("repository/") for d in asm.buildcompare.diffoscope
    )


def test_sample_stabilize_status(releases: dict[str, Release]) -> None:
    asm = releases["content/org/ow2/asm/asm-9.7.1.buildspec"]
    jar = next(j for j in asm.artifacts if j.filename == "asm-9.7.1.jar")
    assert (jar.upstream, jar.upstream_stabilize) == (UpstreamStatus.KO, UpstreamStatus.KO)
    athena = releases["content/io/github/gls-athena/athena-0.0.9.buildspec"]
    bean = next(j for j in athena.artifacts if j.filename == "athena-common-bean-0.0.9.jar")
    assert (bean.upstream, bean.upstream_stabilize) == (UpstreamStatus.KO, UpstreamStatus.OK)
    phoebus = releases["content/org/phoebus/phoebus-5.0.4.buildspec"]
    tgz = next(j for j in phoebus.artifacts if j.filename == "service-alarm-logger-5.0.4.tar.gz")
    assert (tgz.upstream, tgz.upstream_stabilize) == (UpstreamStatus.KO, UpstreamStatus.IGNORED)  # no suffix here
    guava = releases["content/com/google/guava/guava-32.0.1-jre.buildspec"]
    assert {j.upstream_stabilize for j in guava.artifacts} == {UpstreamStatus.UNKNOWN}  # no stabilize_* keys
    assert guava.buildcompare is not None and guava.buildcompare.stabilize_ok_files is None


def test_sample_details(releases: dict[str, Release]) -> None:
    gem = releases["content/de/gematik/pki/gemLibPki/gemLibPki-3.1.5.buildspec"].buildspec
    assert gem.jdk == "17" and gem.lines["jdk"] == 11
    ldap = releases["content/com/github/ldapchai/ldapchai-0.8.6.buildspec"].buildspec
    assert ldap.git_tag == "v$(echo \"${version}\" | sed -e 's/\\./_/g')"
    assert ldap.unevaluated == frozenset({"gitTag"})
    asm = releases["content/org/ow2/asm/asm-9.7.1.buildspec"]
    assert asm.buildinfos[0].shape is BuildinfoShape.GRADLE
    assert {o.version for o in asm.buildinfos[0].outputs} == {"9.7.1"}  # from the buildspec: no version= there
    assert asm.artifacts[0].repo_path == "org/ow2/asm/asm-analysis/9.7.1/asm-analysis-9.7.1-sources.jar"
    stamina = releases["content/com/scalapenos/stamina/stamina-0.1.6.buildspec"]
    assert {b.shape for b in stamina.buildinfos} == {BuildinfoShape.SBT} and len(stamina.artifacts) == 24
    bcel = releases["content/org/apache/commons/bcel/bcel-6.10.0.buildspec"]
    assert len(bcel.buildinfos[0].outputs) == 8 and len(bcel.artifacts) == 7  # sources JAR declared twice
    phoebus = releases["content/org/phoebus/phoebus-5.0.4.buildspec"].buildcompare
    assert phoebus is not None and phoebus.wget == (
        "https://repo.maven.apache.org/maven2/org/phoebus/service-alarm-logger/5.0.4/service-alarm-logger-5.0.4-spec-open-api.json",
    )
    doxia = releases["content/org/apache/maven/doxia/doxia/doxia-1.9.1.buildspec"].buildcompare
    assert doxia is not None and doxia.version == "" and doxia.ok == 38
    jline = releases["content/org/jline/jline-4.0.13.buildspec"]
    assert (jline.buildinfos, jline.buildcompare, jline.artifacts) == ((), None, ())


# -- buildspec syntax -----------------------------------------------------------------------------------------


def _bash_values(text: str, keys: list[str]) -> dict[str, str | None]:
    """What Bash itself assigns (only used on texts with no command substitution and no commands)."""
    assert BASH is not None
    script = text + "\n" + "".join(f"printf '%s\\0' \"${{{k}-__UNSET__}}\"\n" for k in keys)
    done = subprocess.run(
        [BASH, "--noprofile", "--norc", "-c", script],
        capture_output=True,
        env={"PATH": "/nonexistent"},
        timeout=10,
        check=True,
    )
    values = done.stdout.decode().split("\0")[:-1]
    return {k: (None if v == "__UNSET__" else v) for k, v in zip(keys, values, strict=True)}


SYNTAX_CASES: list[tuple[str, str, dict[str, str]]] = [
    ("plain", "a=1\nb=two", {"a": "1", "b": "two"}),
    ("single quotes", "a='x y $b \\n'", {"a": "x y $b \\n"}),
    ("double quotes", 'a="x y"', {"a": "x y"}),
    ("double-quote escapes", 'a="q\\" d\\$ b\\` s\\\\ n\\n t\\x"', {"a": 'q" d$ b` s\\ n\\n t\\x'}),
    ("unquoted escapes", "a=x\\ y\\#z\\\\", {"a": "x y#z\\"}),
    ("brace expansion", "v=1.0\na=x-${v}-y", {"v": "1.0", "a": "x-1.0-y"}),
    ("bare expansion", "v=1.0\na=$v.jar\nb=$v_x", {"v": "1.0", "a": "1.0.jar", "b": ""}),
    ("expansion in double quotes", 'v=1\na="<$v ${v}>"', {"v": "1", "a": "<1 1>"}),
    ("no expansion in single quotes", "v=1\na='$v'", {"v": "1", "a": "$v"}),
    ("unknown variable is empty", "a=x${nope}y$nope2", {"a": "xy"}),
    ("later key not visible", "a=$b\nb=1", {"a": "", "b": "1"}),
    ("reassignment", "a=1\na=$a$a", {"a": "11"}),
    ("append", "a=1\na+=2", {"a": "12"}),
    ("trailing comment", "jdk=17 # need a patch release", {"jdk": "17"}),
    ("tab before comment", "jdk=17\t# note", {"jdk": "17"}),
    ("hash inside word", "a=a#b\nb=x#", {"a": "a#b", "b": "x#"}),
    ("hash inside quotes", "a=\"x # y\"\nb='# z'", {"a": "x # y", "b": "# z"}),
    ("comment lines", "# top\n  # indented\na=1 #c\n#a=2", {"a": "1"}),
    ("empty values", "a=\nb= # c\nc=''", {"a": "", "b": "", "c": ""}),
    ("leading spaces", "    groupId=g\n\tartifactId=a", {"groupId": "g", "artifactId": "a"}),
    ("multi-line double", 'command="mvn \\\n  clean\n  package"\nb=2', {"command": "mvn   clean\n  package", "b": "2"}),
    ("multi-line single", "a='x\ny'\nb=2", {"a": "x\ny", "b": "2"}),
    ("continuation", "a=x\\\ny", {"a": "xy"}),
    ("several per line", "a=1 b=$a c=2;d=3", {"a": "1", "b": "1", "c": "2", "d": "3"}),
    ("equals in value", "a=-Dx=y=z", {"a": "-Dx=y=z"}),
    ("ansi-c", "a=$'x\\ty\\'z'", {"a": "x\ty'z"}),
    ("dollar alone", 'a=$\nb="$"\nc=x$', {"a": "$", "b": "$", "c": "x$"}),
    ("positional is empty", "a=x$1y", {"a": "xy"}),
    ("mixed quoting", "a=ab'cd'\"ef\"gh", {"a": "abcdefgh"}),
    ("glob chars kept", "a=target/*-0.0.9.buildinfo", {"a": "target/*-0.0.9.buildinfo"}),
    ("crlf", "a=1\r\nb=2\r\n", {"a": "1", "b": "2"}),
    ("empty file", "", {}),
]


@pytest.mark.parametrize(("text", "expected"), [c[1:] for c in SYNTAX_CASES], ids=[c[0] for c in SYNTAX_CASES])
def test_buildspec_syntax(text: str, expected: dict[str, str]) -> None:
    assert parse_buildspec(text, "t.buildspec").values == expected


@pytest.mark.skipif(BASH is None, reason="bash is not installed")
@pytest.mark.parametrize(
    ("text", "expected"),
    [c[1:] for c in SYNTAX_CASES if c[0] != "crlf"],
    ids=[c[0] for c in SYNTAX_CASES if c[0] != "crlf"],
)
def test_buildspec_syntax_agrees_with_bash(text: str, expected: dict[str, str]) -> None:
    keys = [*expected, "zz_unset"]
    assert _bash_values(text, keys) == {**expected, "zz_unset": None}


def test_unevaluated_kept_and_flagged() -> None:
    spec = parse_buildspec(
        'v=1\ngitTag=v$(echo "${v}" | cut -d - -f 1)\nb=`date`\nc=${v:-x}\nd=$$\ne="p$(( 1 + 2 ))"\nf=$gitTag\ng=$v',
        "t",
    )
    assert spec.values["gitTag"] == 'v$(echo "${v}" | cut -d - -f 1)'
    assert spec.values["b"] == "`date`"
    assert spec.values["c"] == "${v:-x}"
    assert spec.values["d"] == "$$"
    assert spec.values["e"] == "p$(( 1 + 2 ))"
    assert spec.values["f"] == spec.values["gitTag"]  # propagated through expansion, still flagged
    assert spec.unevaluated == frozenset({"gitTag", "b", "c", "d", "e", "f"})
    assert parse_buildspec("a=$(x)\na=1", "t").unevaluated == frozenset()  # reassigned plainly


def test_unresolved_recorded() -> None:
    spec = parse_buildspec("a=${HOME}\nb=$a\nc=ok\nd=$1", "t")
    assert spec.values == {"a": "", "b": "", "c": "ok", "d": ""}
    assert spec.unresolved == frozenset({"a", "d"})


def test_never_executed(tmp_path: Path) -> None:
    marker = tmp_path / "EXECUTED"
    text = f'groupId=g\nx=$(touch {marker})\ny=`touch {marker}`\nz="$(touch {marker})"\nbuildinfo=b.buildinfo\n'
    spec = parse_buildspec(text, "t")
    assert spec.values["x"] == f"$(touch {marker})"
    assert {"x", "y", "z"} <= spec.unevaluated
    (tmp_path / "r-1.buildspec").write_text(text)
    release = load_release(tmp_path / "r-1.buildspec")
    assert release.buildspec.values["y"] == f"`touch {marker}`"
    assert not marker.exists()


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("a=1\ntouch x\n", 2, "not a variable assignment"),
        ("a=1\n\nexport b=2\n", 3, "not a variable assignment"),
        ("a=1 rm -rf x\n", 1, "command after assignment"),
        ("a=1 && b=2\n", 1, "command after assignment"),
        ("a=1 > f\n", 1, "command after assignment"),
        ("a=(1 2)\n", 1, "array"),
        ("f() { a=1; }\n", 1, "not a variable assignment"),
        ('a=1\nb="x\ny\nz\n', 2, "unterminated double quote"),
        ("a=1\n\nb='x\ny\n", 3, "unterminated single quote"),
        ("a=1\nb=$(echo\n", 2, "unterminated $("),
        ("a=`x\n", 1, "unterminated backtick"),
        ("a=${x\n", 1, "unterminated ${"),
        ("a=1\n  =2\n", 2, "not a variable assignment"),
        ("1a=2\n", 1, "not a variable assignment"),
    ],
)
def test_buildspec_errors_name_file_and_line(text: str, line: int, fragment: str) -> None:
    with pytest.raises(RcParseError) as info:
        parse_buildspec(text, "x/y.buildspec")
    assert (info.value.source, info.value.line) == ("x/y.buildspec", line)
    assert fragment in info.value.message
    assert str(info.value).startswith(f"x/y.buildspec:{line}: ")


def test_buildspec_expansion_is_bounded() -> None:
    text = "a=xxxxxxxxxxxxxxxx\n" + "a=$a$a\n" * 40
    with pytest.raises(RcParseError, match="longer than"):
        parse_buildspec(text, "t")
    assert len(parse_buildspec("a=" + "x" * 100 + "\n" + "a=$a$a\n" * 10, "t").values["a"]) < MAX_VALUE_CHARS


def test_comments_are_reported() -> None:
    script = parse_shell_assignments("# one\na=1 # two\n  # three\n", "t")
    assert [(c.line, c.text, c.whole_line) for c in script.comments] == [
        (1, " one", True),
        (2, " two", False),
        (3, " three", True),
    ]


# -- .buildinfo -----------------------------------------------------------------------------------------------

SHA_A = "ab" * 64
SHA_B = "CD" * 64

MAVEN_FLAT = f"""# https://reproducible-builds.org/docs/jvm/
buildinfo.version=1.0-SNAPSHOT
group-id=org.example
artifact-id=demo
version=1.2

outputs.0.groupId=org.example
outputs.0.filename=demo-1.2.pom
outputs.0.length=10
outputs.0.checksums.sha512={SHA_A}

outputs.1.groupId=org.example
outputs.1.filename=demo-1.2.jar
outputs.1.length=2000
outputs.1.checksums.sha512={SHA_B}
"""

MAVEN_MULTI = f"""buildinfo.version=1.0-SNAPSHOT
group-id=org.example
artifact-id=parent
version=1.2
outputs.1.coordinates=org.example:child
outputs.1.0.groupId=org.example
outputs.1.0.filename=child-1.2.jar
outputs.1.0.length=5
outputs.1.0.checksums.sha512={SHA_A}
outputs.0.coordinates=org.example:parent
outputs.0.0.filename=parent-1.2.pom
outputs.0.0.length=7
outputs.0.0.checksums.sha512={SHA_B}
"""

GRADLE = f"""name=org.example:lib
group-id=org.example
artifact-id=lib

build-tool=gradle
java.version=21
os.name=crlf

outputs.1.coordinates=org.example:lib

outputs.1.0.filename=lib-3.0.jar
outputs.1.0.length=42
outputs.1.0.checksums.sha512={SHA_A}
"""

SBT = f"""buildinfo.version=0.1-SNAPSHOT
name=core
group-id=org.example
artifact-id=core_2.13
version=0.9
build-tool=sbt
outputs.0.filename=core_2.13-0.9.pom
outputs.0.length=3
outputs.0.checksums.sha512={SHA_A}
outputs.1.filename=core_2.13-0.9.jar
outputs.1.length=4
outputs.1.checksums.sha512={SHA_B}
"""


def test_buildinfo_shapes() -> None:
    flat = parse_buildinfo(MAVEN_FLAT, "f")
    assert flat.shape is BuildinfoShape.MAVEN_FLAT
    assert [(o.group_id, o.artifact_id, o.version, o.filename, o.length) for o in flat.outputs] == [
        ("org.example", "demo", "1.2", "demo-1.2.pom", 10),
        ("org.example", "demo", "1.2", "demo-1.2.jar", 2000),
    ]
    assert flat.outputs[1].sha512 == SHA_B.lower()

    multi = parse_buildinfo(MAVEN_MULTI, "m")
    assert multi.shape is BuildinfoShape.MAVEN_MULTI
    assert [(o.artifact_id, o.filename) for o in multi.outputs] == [
        ("parent", "parent-1.2.pom"),
        ("child", "child-1.2.jar"),
    ]

    gradle = parse_buildinfo(GRADLE, "g", default_version="3.0")
    assert gradle.shape is BuildinfoShape.GRADLE and gradle.properties["os.name"] == "crlf"
    assert [(o.group_id, o.artifact_id, o.version, o.length) for o in gradle.outputs] == [
        ("org.example", "lib", "3.0", 42)
    ]

    sbt = parse_buildinfo(SBT, "s", default_version="ignored-when-version-present")
    assert sbt.shape is BuildinfoShape.SBT
    assert [(o.group_id, o.artifact_id, o.version, o.filename) for o in sbt.outputs] == [
        ("org.example", "core_2.13", "0.9", "core_2.13-0.9.pom"),
        ("org.example", "core_2.13", "0.9", "core_2.13-0.9.jar"),
    ]


@pytest.mark.parametrize(
    ("old", "new", "line", "fragment"),
    [
        ("outputs.1.length=2000", "outputs.1.length=2k", 14, "length"),
        ("outputs.1.length=2000", "outputs.1.length=-1", 14, "length"),
        (f"outputs.1.checksums.sha512={SHA_B}", f"outputs.1.checksums.sha512={SHA_B[:-1]}g", 15, "sha512"),
        (f"outputs.1.checksums.sha512={SHA_B}", "outputs.1.checksums.sha512=abc", 15, "sha512"),
        ("outputs.1.filename=demo-1.2.jar\n", "", 12, "without filename"),
        ("outputs.1.filename=demo-1.2.jar", "outputs.1.filename=../demo-1.2.jar", 13, "plain file name"),
        ("outputs.1.filename=demo-1.2.jar", "outputs.1.filename=", 13, "plain file name"),
        ("outputs.1.length=2000", "outputs.1.length 2000", 14, "key=value"),
        ("outputs.1.length=2000", "outputs.0.length=2000", 14, "duplicate key"),
        ("outputs.1.length=2000", "outputs.99999999999.length=2000", 14, "unrecognised output key"),
        ("artifact-id=demo\n", "", 6, "artifactId"),  # first line of the output lacking it
        ("artifact-id=demo", "artifact-id=../demo", 4, "artifactId"),
        ("version=1.2", "version=../../1.2", 5, "version"),
        ("outputs.1.groupId=org.example", "outputs.1.groupId=/etc", 12, "groupId"),
        ("outputs.1.groupId=org.example", "outputs.1.groupId=.org.example", 12, "groupId"),
        ("outputs.1.groupId=org.example", "outputs.1.groupId=org..example", 12, "groupId"),
    ],
)
def test_buildinfo_errors_name_the_line(old: str, new: str, line: int, fragment: str) -> None:
    assert old in MAVEN_FLAT
    with pytest.raises(RcParseError) as info:
        parse_buildinfo(MAVEN_FLAT.replace(old, new), "d.buildinfo")
    assert info.value.line == line
    assert fragment in info.value.message


def test_buildinfo_structural_errors() -> None:
    with pytest.raises(RcParseError, match="coordinates") as info:
        parse_buildinfo(MAVEN_MULTI.replace("outputs.1.coordinates=org.example:child\n", ""), "m")
    assert info.value.line == 5
    with pytest.raises(RcParseError, match="disagrees"):
        parse_buildinfo(MAVEN_MULTI.replace("outputs.1.0.groupId=org.example", "outputs.1.0.groupId=evil"), "m")
    with pytest.raises(RcParseError, match="mixed"):
        parse_buildinfo(MAVEN_MULTI + "outputs.2.filename=x.jar\n", "m")
    with pytest.raises(RcParseError, match="groupId:artifactId"):
        parse_buildinfo(GRADLE.replace("org.example:lib\n", "org.example\n"), "g")
    with pytest.raises(RcParseError, match="no outputs"):
        parse_buildinfo("buildinfo.version=1.0-SNAPSHOT\n", "e")
    with pytest.raises(RcParseError, match="version") as info:  # Gradle shape: the caller must supply it
        parse_buildinfo(GRADLE, "g")
    assert info.value.line == 1  # not in the file at all


# -- .buildcompare --------------------------------------------------------------------------------------------


def test_buildcompare_keys_and_hints() -> None:
    text = """version=1.0
ok=2
ko=1
ignored=1
okFiles="a-1.0.pom a-1.0-sources.jar"
koFiles="a-1.0.jar"
ignoredFiles="a-1.0.module"
missing=1
missingFiles="a-1.0-extra.json"
reference_java_version="21 (from MANIFEST.MF Build-Jdk-Spec)"
# diffoscope target/a-1.0.jar target/reference/org.example/a-1.0.jar
# wget https://repo.example/a-1.0-extra.json; ls -l target/extra.json
# a note
stabilize_ok=0
stabilize_ko=1
stabilize_ignored=0
stabilize_okFiles=""
stabilize_koFiles="a-1.0.jar.stabilized"
stabilize_ignoredFiles=""
"""
    bc = parse_buildcompare(text, "c")
    assert (bc.version, bc.ok, bc.ko, bc.ignored, bc.missing) == ("1.0", 2, 1, 1, 1)
    assert bc.ok_files == ("a-1.0.pom", "a-1.0-sources.jar")
    assert bc.missing_files == ("a-1.0-extra.json",)
    assert bc.properties["reference_java_version"] == "21 (from MANIFEST.MF Build-Jdk-Spec)"
    assert (bc.stabilize_ok, bc.stabilize_ko, bc.stabilize_ignored) == (0, 1, 0)
    assert bc.stabilize_ok_files == () and bc.stabilize_ko_files == ("a-1.0.jar.stabilized",)
    (line,) = bc.diffoscope
    # written rebuild-first here: the reference is still found by its prefix
    assert (line.reference, line.rebuild, line.line, line.sides_from) == (
        "target/reference/org.example/a-1.0.jar",
        "target/a-1.0.jar",
        11,
        "prefix",
    )
    assert bc.wget == ("https://repo.example/a-1.0-extra.json",)
    assert bc.comments == (" a note",)
    assert bc.status_of("a-1.0.jar") is UpstreamStatus.KO
    assert bc.status_of("a-1.0-extra.json") is UpstreamStatus.MISSING
    assert bc.status_of("a-1.0.module") is UpstreamStatus.IGNORED
    assert bc.status_of("other.jar") is UpstreamStatus.UNKNOWN
    assert bc.stabilize_status_of("a-1.0.jar") is UpstreamStatus.KO
    assert bc.stabilize_status_of("a-1.0.pom") is UpstreamStatus.UNKNOWN


@pytest.mark.parametrize(
    ("text", "reference", "rebuild", "how"),
    [
        ("diffoscope target/reference/g/a.jar target/a.jar", "target/reference/g/a.jar", "target/a.jar", "prefix"),
        ("diffoscope target/a.jar target/reference/g/a.jar", "target/reference/g/a.jar", "target/a.jar", "prefix"),
        (
            "diffoscope central/g/a/1/a-1.jar repository/g/a/1/a-1.jar",
            "central/g/a/1/a-1.jar",
            "repository/g/a/1/a-1.jar",
            "prefix",
        ),
        (
            "diffoscope repository/g/a/1/a-1.jar central/g/a/1/a-1.jar",
            "central/g/a/1/a-1.jar",
            "repository/g/a/1/a-1.jar",
            "prefix",
        ),
        ("diffoscope target/reference/a.pom pom.xml", "target/reference/a.pom", "pom.xml", "prefix"),
        (
            "diffoscope java/target/reference/g/a.jar java/x/a.jar",
            "java/target/reference/g/a.jar",
            "java/x/a.jar",
            "prefix",
        ),
        ("diffoscope x/a.jar y/a.jar", "x/a.jar", "y/a.jar", "position"),
    ],
)
def test_diffoscope_sides_by_prefix(text: str, reference: str, rebuild: str, how: str) -> None:
    line = parse_diffoscope_comment(text, 3)
    assert line is not None
    assert (line.reference, line.rebuild, line.sides_from, line.line) == (reference, rebuild, how, 3)


def test_buildcompare_errors_and_absent_keys() -> None:
    with pytest.raises(RcParseError) as info:
        parse_buildcompare("version=1\nok=2\nko=x\n", "c")
    assert info.value.line == 3 and "ko" in info.value.message
    with pytest.raises(RcParseError) as info:
        parse_buildcompare('ok=1\nokFiles="a.jar\n', "c")
    assert info.value.line == 2
    bc = parse_buildcompare('ok=1\nko=0\nokFiles="a$b.jar"\n', "c")
    assert bc.ok_files == ("a$b.jar",)  # nothing to expand in a buildcompare: $ kept
    assert (bc.version, bc.ignored, bc.stabilize_ok_files, bc.diffoscope, bc.wget) == ("", None, None, (), ())


# -- release loading and name resolution ----------------------------------------------------------------------


def _write(folder: Path, files: dict[str, str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text)


SPEC = "groupId=org.example\nartifactId=demo\nversion=1.2\ntool=mvn\njdk=17\nnewline=lf\nbuildinfo={bi}\n"
COMPARE = 'version=1.2\nok=1\nko=1\nokFiles="demo-1.2.pom"\nkoFiles="demo-1.2.jar"\n'


@pytest.mark.parametrize(
    ("buildinfo", "files", "want_bi", "want_bc"),
    [
        ("target/demo-parent-${version}.buildinfo", ["demo-parent-1.2"], ["demo-parent-1.2"], "demo-parent-1.2"),
        ("target/other-${version}.buildinfo", ["rel-1.2"], ["rel-1.2"], "rel-1.2"),  # buildspec name
        ("target/other-${version}.buildinfo", ["demo-1.2"], ["demo-1.2"], "demo-1.2"),  # artifactId-version
        ("target/*-1.2.buildinfo", ["x-parent-1.2"], ["x-parent-1.2"], "x-parent-1.2"),  # glob
        ("target/nothing.buildinfo", [], [], None),
    ],
)
def test_name_resolution(
    tmp_path: Path, buildinfo: str, files: list[str], want_bi: list[str], want_bc: str | None
) -> None:
    folder = tmp_path / "content" / "org" / "example"
    _write(folder, {"rel-1.2.buildspec": SPEC.format(bi=buildinfo)})
    for stem in files:
        _write(folder, {f"{stem}.buildinfo": MAVEN_FLAT, f"{stem}.buildcompare": COMPARE})
    release = load_release(folder / "rel-1.2.buildspec")
    assert release.release_id == "content/org/example/rel-1.2.buildspec"
    assert release.buildinfo_names == tuple(f"{s}.buildinfo" for s in want_bi)
    assert release.buildcompare_name == (f"{want_bc}.buildcompare" if want_bc else None)
    if want_bc:
        assert [(j.filename, j.upstream) for j in release.artifacts] == [
            ("demo-1.2.pom", UpstreamStatus.OK),
            ("demo-1.2.jar", UpstreamStatus.KO),
        ]


def test_name_resolution_prefers_buildinfo_basename_over_fallbacks(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "rel-1.2.buildspec": SPEC.format(bi="target/demo-parent-1.2.buildinfo"),
            "demo-parent-1.2.buildinfo": MAVEN_FLAT,
            "demo-parent-1.2.buildcompare": COMPARE,
            "rel-1.2.buildcompare": "ok=0\n",
            "demo-1.2.buildcompare": "ok=0\n",
        },
    )
    release = load_release(tmp_path / "rel-1.2.buildspec", content_root=tmp_path)
    assert release.release_id == "rel-1.2.buildspec"
    assert release.buildcompare_name == "demo-parent-1.2.buildcompare"


def test_glob_matching_several_buildcompares_is_an_error(tmp_path: Path) -> None:
    _write(tmp_path, {"rel-1.2.buildspec": SPEC.format(bi="'t/*-1.2.buildinfo'")})
    for stem in ("a-1.2", "b-1.2"):
        _write(tmp_path, {f"{stem}.buildinfo": MAVEN_FLAT, f"{stem}.buildcompare": COMPARE})
    with pytest.raises(RcParseError, match="several"):
        load_release(tmp_path / "rel-1.2.buildspec")


def test_errors_in_named_files_carry_their_own_name(tmp_path: Path) -> None:
    folder = tmp_path / "content" / "g"
    _write(folder, {"r-1.buildspec": SPEC.format(bi="demo-1.2.buildinfo"), "demo-1.2.buildinfo": "x\n"})
    with pytest.raises(RcParseError) as info:
        load_release(folder / "r-1.buildspec")
    assert (info.value.source, info.value.line) == ("content/g/demo-1.2.buildinfo", 1)
    (folder / "demo-1.2.buildinfo").write_bytes(b"a=1\n\xff\n")
    with pytest.raises(RcParseError, match="UTF-8") as info:
        load_release(folder / "r-1.buildspec")
    assert info.value.line == 2


def test_iter_buildspecs_and_load_releases_go_on_after_errors(tmp_path: Path) -> None:
    good = tmp_path / "content" / "a" / "good-1.buildspec"
    bad = tmp_path / "content" / "b" / "bad-1.buildspec"
    _write(good.parent, {good.name: SPEC.format(bi="none.buildinfo")})
    _write(bad.parent, {bad.name: "groupId=g\nrm -rf /\n"})
    listing = tmp_path / "list.txt"
    listing.write_text(
        "# releases\ncontent/b/bad-1.buildspec\n\ncontent/a\ncontent/missing.buildspec\ncontent/a/good-1.buildspec\n"
    )
    assert list(iter_buildspecs([tmp_path / "content"])) == [good, bad]
    assert list(iter_buildspecs([listing])) == [bad, good, tmp_path / "content" / "missing.buildspec"]
    results = list(load_releases([listing]))
    assert isinstance(results[0], RcParseError) and (results[0].source, results[0].line) == (
        "content/b/bad-1.buildspec",
        2,
    )
    assert isinstance(results[1], Release) and results[1].buildspec.group_id == "org.example"
    assert isinstance(results[2], RcParseError) and results[2].line == 0
