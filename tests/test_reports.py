"""Report formats: text, JSON (and its JSON Schema), Markdown and HTML (checked in a real headless browser)."""

from __future__ import annotations

import json
import os
import re
import shutil
import struct
import subprocess
import sys
import typing
from dataclasses import fields
from enum import Enum
from html import unescape as html_unescape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from canonjar import compare_bytes
from canonjar.cli import OutputFormat
from canonjar.outcome import (
    SCHEMA_VERSION,
    ArtifactInfo,
    Difference,
    DifferenceKind,
    Evidence,
    FieldChange,
    NoiseSummary,
    Outcome,
    OutcomeFinding,
    TraceStep,
    Verdict,
)
from canonjar.pipeline import Side
from canonjar.render import RENDERERS, ReportFormat, render, render_html, render_markdown, render_text
from canonjar.report.html import SCRIPT, embedded_json
from canonjar.report.markdown import DIFF_LINES_PER_ENTRY, escape
from canonjar.taxonomy import ROOT_CAUSES, Category, Mitigation
from tests.helpers import Item, make_zip

REPO = Path(__file__).resolve().parent.parent
SCHEMA_PATH = REPO / "docs" / "outcome.schema.json"

HOSTILE = "<script>alert(1)</script>.txt"
# Would mark the page if it ran: as a script, as an event handler, or as a link in Markdown.
PWN_SCRIPT = "<script>document.documentElement.setAttribute('data-pwned','script')</script>.txt"
PWN_IMG = "<img src=x onerror=\"document.documentElement.setAttribute('data-pwned','img')\">.txt"
MD_HOSTILE = "[click](http://evil.example/) *bold* `code` | cell ![i](x.png) <b>b</b> &amp; $x$.txt"

MANIFEST_17 = (b"Manifest-Version: 1.0\r\nCreated-By: Maven JAR Plugin 3.3.0\r\nBuild-Jdk-Spec: 17\r\n"
               b"Build-Jdk: 17.0.2\r\nBuilt-By: alice\r\nMain-Class: a.B\r\n\r\n")
MANIFEST_21 = (b"Manifest-Version: 1.0\r\nCreated-By: Maven JAR Plugin 3.3.0\r\nBuild-Jdk-Spec: 21\r\n"
               b"Build-Jdk: 21.0.1\r\nBuilt-By: bob\r\nMain-Class: a.B\r\n\r\n")
TEXT = b"".join(b"line %d of the resource\n" % i for i in range(30))


# ------------------------------------------------------------------------------------------------ outcomes


def _all_kinds() -> Outcome:
    """No stabilizers: every kind of difference (added, removed, changed, moved, metadata, archive)."""
    ref = [Item("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\r\n\r\n"),
           Item("a/first.txt", b"first\n"), Item("a/second.txt", b"second\n"),
           Item("a/res.txt", TEXT), Item("a/gone.txt", b"only in the reference\n"),
           Item(HOSTILE, b"alert\n"), Item(PWN_SCRIPT, b"x\n"), Item(PWN_IMG, b"y\n"), Item(MD_HOSTILE, b"z\n"),
           Item("a/backticks.md", b"```\ncode\n```\n")]
    reb = [Item("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\r\n\r\n"),
           Item("a/second.txt", b"second\n"), Item("a/first.txt", b"first\n", date_time=(2024, 5, 6, 7, 8, 10)),
           Item("a/res.txt", TEXT.replace(b"line 7 of", b"line SEVEN of").replace(b"line 20", b"line twenty")),
           Item("a/new.txt", b"only in the rebuild\n"),
           Item(HOSTILE, b"alert(2)\n"), Item(PWN_SCRIPT, b"x2\n"), Item(PWN_IMG, b"y2\n"), Item(MD_HOSTILE, b"z2\n"),
           Item("a/backticks.md", b"```\ncode 2\n````\n")]
    return compare_bytes(make_zip(ref, comment=b"built by ci"), make_zip(reb, comment=b"built <b>by</b> me"),
                         "ref.jar", "rebuild.jar", stabilizers=())


def _evidence_and_findings() -> Outcome:
    """Default stabilizers: manifest evidence that differs (Build-Jdk), findings (a traversal name, trailing data)
    and a changed pom.properties."""
    pom_ref = b"#Created by Apache Maven 3.8.1\ngroupId=org.example\nartifactId=demo\nversion=1.0\n"
    pom_reb = b"#Created by Apache Maven 3.9.6\ngroupId=org.example\nartifactId=demo\nversion=1.0.1\n"
    ref = [Item("META-INF/MANIFEST.MF", MANIFEST_17), Item("a/B.class", b"\xca\xfe\xba\xbe" + bytes(40)),
           Item("META-INF/maven/org.example/demo/pom.properties", pom_ref), Item("../evil.txt", b"up\n"),
           Item(HOSTILE, b"same\n")]
    reb = [Item("META-INF/MANIFEST.MF", MANIFEST_21, date_time=(2024, 1, 1, 0, 0, 0), mode=0o664),
           Item("a/B.class", b"\xca\xfe\xba\xbe" + bytes(40)),
           Item("META-INF/maven/org.example/demo/pom.properties", pom_reb), Item("../evil.txt", b"up\n"),
           Item(HOSTILE, b"same\n")]
    return compare_bytes(make_zip(ref), make_zip(reb) + b"trailing junk", "ref.jar", "rebuild.jar")


def _equivalent() -> Outcome:
    items = [Item("META-INF/MANIFEST.MF", MANIFEST_17), Item("a/", b""), Item("a/res.txt", TEXT)]
    noisy = [Item(i.name, i.data, date_time=(2024, 5, 6, 7, 8, 10), mode=0o664, level=1) for i in reversed(items)]
    return compare_bytes(make_zip(items), make_zip(noisy), "ref.jar", "rebuild.jar")


def _identical() -> Outcome:
    data = make_zip([Item("a.txt", b"a\n")])
    return compare_bytes(data, data, "ref.jar", "rebuild.jar")


def _error() -> Outcome:
    return compare_bytes(b"not a zip", b"not a zip either", "ref.jar", "rebuild.jar")


@pytest.fixture(scope="module")
def outcomes() -> dict[str, Outcome]:
    made = {"identical": _identical(), "equivalent": _equivalent(), "all-kinds": _all_kinds(),
            "evidence": _evidence_and_findings(), "error": _error()}
    # and the same outcomes as loaded back from their JSON
    made.update({f"{k}-reloaded": Outcome.from_json(o.to_json()) for k, o in list(made.items())})
    return made


def test_the_outcomes_cover_what_the_reports_must_show(outcomes: dict[str, Outcome]) -> None:
    assert outcomes["identical"].verdict is Verdict.IDENTICAL
    assert outcomes["equivalent"].verdict is Verdict.EQUIVALENT and outcomes["equivalent"].noise
    assert outcomes["error"].verdict is Verdict.ERROR and outcomes["error"].error
    kinds = {d.kind for d in outcomes["all-kinds"].differences}
    assert kinds == set(DifferenceKind), kinds
    ev = outcomes["evidence"]
    assert ev.verdict is Verdict.DIFFERENT and ev.findings and ev.evidence and ev.noise and ev.trace
    assert {f.code for f in ev.findings} >= {"traversal-name", "trailing-data"}
    assert any(d.diff for d in outcomes["all-kinds"].differences)


# ------------------------------------------------------------------------------------------------ formats


def test_every_format_choice_has_a_renderer(outcomes: dict[str, Outcome]) -> None:
    assert OutputFormat is ReportFormat
    assert set(RENDERERS) == set(ReportFormat), "a --format choice without a renderer (or the reverse)"
    for fmt in ReportFormat:
        for name, outcome in outcomes.items():
            out = RENDERERS[fmt](outcome)
            assert isinstance(out, str) and out.endswith("\n") and out.strip(), (fmt, name)
            assert render(outcome, fmt) == out, (fmt, name)
            assert RENDERERS[fmt](outcome) == out, f"{fmt} is not deterministic"


def test_the_cli_offers_every_format() -> None:
    res = subprocess.run([sys.executable, "-m", "canonjar", "compare", "--help"], capture_output=True, text=True,
                         check=False, env={**os.environ, "COLUMNS": "200"})
    choices = re.search(r"--format <([a-z|]+)>", res.stdout)
    assert choices is not None, res.stdout
    assert choices.group(1).split("|") == [f.value for f in ReportFormat]


def test_text_report_is_unchanged_by_the_split(outcomes: dict[str, Outcome]) -> None:
    out = render_text(outcomes["all-kinds"])
    assert out.startswith("DIFFERENT: ")
    assert "differences after canonicalization" in out and "root cause" in out
    assert render_text(outcomes["error"]).startswith("canonjar: error: ")
    assert "noise removed, by root cause" in render(outcomes["equivalent"], ReportFormat.text, show_noise=True)


def test_json_renderer_is_the_outcome_json(outcomes: dict[str, Outcome]) -> None:
    for outcome in outcomes.values():
        out = render(outcome, ReportFormat.json)
        assert Outcome.from_json(out) == outcome
        assert json.loads(out) == outcome.to_dict()


# ------------------------------------------------------------------------------------------------ JSON Schema


def _schema() -> dict[str, Any]:
    doc = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    assert isinstance(doc, dict)
    return doc


def test_real_outcomes_validate_against_the_schema(outcomes: dict[str, Outcome]) -> None:
    import jsonschema
    schema = _schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    for name, outcome in outcomes.items():
        errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(
            json.loads(outcome.to_json()))]
        assert not errors, (name, errors)


def test_the_schema_rejects_what_canonjar_never_writes(outcomes: dict[str, Outcome]) -> None:
    import jsonschema
    validator = jsonschema.Draft202012Validator(_schema())
    good = outcomes["all-kinds"].to_dict()
    rich = outcomes["evidence"].to_dict()
    assert validator.is_valid(good) and validator.is_valid(rich)

    def broken(change: typing.Callable[[dict[str, Any]], None], base: dict[str, Any] = good) -> dict[str, Any]:
        doc = json.loads(json.dumps(base))
        change(doc)
        return doc

    bad = [
        broken(lambda d: d.update(verdict="maybe")),
        broken(lambda d: d.update(schema_version=2)),
        broken(lambda d: d.update(surprise=1)),
        broken(lambda d: d.pop("noise")),
        broken(lambda d: d["differences"][0].update(kind="renamed")),
        broken(lambda d: d["differences"][0].update(category="weather")),
        broken(lambda d: d["differences"][0].update(root_cause="gremlins")),
        broken(lambda d: d["differences"][0].update(left_size=-1)),
        broken(lambda d: d["differences"][0].pop("aspect")),
        broken(lambda d: d["reference"].update(sha256="xyz")),
        broken(lambda d: d["effective"].update(elsewhere=[])),
        broken(lambda d: d["trace"][0].update(side="left"), rich),
        broken(lambda d: d["trace"][0].update(action="deleted"), rich),
        broken(lambda d: d["findings"][0].pop("code"), rich),
        broken(lambda d: d["evidence"][0].update(extra="x"), rich),
        broken(lambda d: d["noise"][0].update(steps="1"), rich),
        broken(lambda d: d.update(verdict="equivalent"), rich),  # an equivalent outcome has no differences
        broken(lambda d: d.update(error="boom")),  # only an error outcome has an error message
    ]
    for i, doc in enumerate(bad):
        assert not validator.is_valid(doc), i


def _python_type(tp: Any) -> Any:
    args = [a for a in typing.get_args(tp) if a is not type(None)]
    return args[0] if typing.get_origin(tp) in (typing.Union, __import__("types").UnionType) else tp


def test_the_schema_lists_exactly_the_fields_of_the_dataclasses() -> None:
    schema = _schema()
    defs = schema["$defs"]
    pairs: list[tuple[type, dict[str, Any]]] = [(Outcome, schema)]
    named = {ArtifactInfo: "ArtifactInfo", Difference: "Difference", OutcomeFinding: "Finding",
             Evidence: "Evidence", TraceStep: "TraceStep", FieldChange: "FieldChange", NoiseSummary: "NoiseSummary"}
    pairs += [(cls, defs[name]) for cls, name in named.items()]
    for cls, node in pairs:
        names = [f.name for f in fields(cls)]  # type: ignore[arg-type]
        assert set(node["properties"]) == set(names), (cls.__name__, set(node["properties"]) ^ set(names))
        assert set(node["required"]) == set(names), cls.__name__  # to_json always writes every field
        assert node["additionalProperties"] is False, cls.__name__
        for f in fields(cls):  # type: ignore[arg-type]
            assert node["properties"][f.name].get("description"), f"{cls.__name__}.{f.name} is not described"


def _enum(node: dict[str, Any], defs: dict[str, Any]) -> set[Any]:
    if "$ref" in node:
        node = defs[node["$ref"].rsplit("/", 1)[1]]
    return set(node["enum"])


def test_the_schema_enums_are_the_python_enums() -> None:
    schema = _schema()
    defs = schema["$defs"]
    props, dprops = schema["properties"], defs["Difference"]["properties"]

    def values(enum: type[Enum]) -> set[str]:
        return {e.value for e in enum}

    assert props["schema_version"]["const"] == SCHEMA_VERSION
    assert _enum(props["verdict"], defs) == values(Verdict)
    assert _enum(dprops["kind"], defs) == values(DifferenceKind)
    assert _enum(dprops["category"], defs) == values(Category)
    assert _enum(defs["NoiseSummary"]["properties"]["category"], defs) == values(Category)
    assert _enum(dprops["root_cause"], defs) == {rc.id for rc in ROOT_CAUSES}
    assert _enum(defs["NoiseSummary"]["properties"]["root_cause"], defs) == {rc.id for rc in ROOT_CAUSES}
    assert _enum(dprops["mitigation"], defs) == values(Mitigation) | {""}
    for name in ("Finding", "Evidence", "TraceStep", "NoiseSummary"):
        assert _enum(defs[name]["properties"]["side"], defs) == values(Side), name
    assert set(props["effective"]["propertyNames"]["enum"]) == values(Side)


def test_the_markdown_schema_doc_names_every_field() -> None:
    doc = (REPO / "docs" / "outcome.md").read_text(encoding="utf-8")
    for cls in (Outcome, ArtifactInfo, Difference, OutcomeFinding, Evidence, TraceStep, FieldChange, NoiseSummary):
        for f in fields(cls):
            assert f"`{f.name}`" in doc, f"docs/outcome.md does not describe {cls.__name__}.{f.name}"
    for enum in (Verdict, DifferenceKind, Category, Mitigation):
        for e in enum:
            assert f"`{e.value}`" in doc, f"docs/outcome.md does not name {enum.__name__} {e.value}"


# ------------------------------------------------------------------------------------------------ Markdown


def test_markdown_shows_verdict_summary_differences_and_noise(outcomes: dict[str, Outcome]) -> None:
    md = render_markdown(outcomes["all-kinds"])
    assert md.startswith("## canonjar: ") and "**DIFFERENT**" in md.splitlines()[0]
    assert "| Category | Root cause | Count | Mitigation | Hint |" in md
    assert "| Path | Kind | Aspect | Root cause | Reference → rebuild | Size | SHA-256 |" in md
    for kind in DifferenceKind:
        assert f"| `{kind.value}` |" in md, kind
    assert "```diff" in md and "-line 7 of the resource" in md and "+line SEVEN of the resource" in md
    ev = render_markdown(outcomes["evidence"])
    assert "### Findings" in ev and "traversal-name" in ev and "### Evidence" in ev
    assert "| build-jdk ≠ | 17.0.2 | 21.0.1 |" in ev and "| created-by | Maven JAR Plugin 3.3.0 |" in ev
    assert "gav\\: reference org.example\\:demo\\:1.0; rebuild" in ev, "the explanation is shown"
    assert "### Noise removed" in ev and "`zip-timestamps`" in render_markdown(outcomes["equivalent"])
    assert "<details>" not in ev and "<details>" in render_markdown(outcomes["evidence"], show_noise=True)
    assert render_markdown(outcomes["error"]).startswith("## canonjar: ⚠️ **ERROR**: error\\: ref.jar\\: not a zip")


def test_markdown_escapes_hostile_names(outcomes: dict[str, Outcome]) -> None:
    md = render_markdown(outcomes["all-kinds"])
    outside_fences = re.sub(r"^(`{3,})diff\n.*?^\1$", "", md, flags=re.S | re.M)
    assert "```" not in outside_fences and "<script>alert(1)" in md, "names in diffs are inside fences"
    assert "<script" not in outside_fences and "<img" not in outside_fences and "<b>" not in outside_fences
    assert "&lt;script&gt;alert\\(1\\)&lt;/script&gt;.txt" in md or "&lt;script&gt;alert(1)&lt;/script&gt;.txt" in md
    assert escape("a|b") == "a\\|b" and escape("x\ny") == "x\\\\ny" and escape("[a](b)") == "\\[a\\](b)"
    assert escape("- item") == "\\- item" and escape("1. item") == "1\\. item" and escape(None) == "-"
    # a Markdown renderer makes no link, image, emphasis, code span or raw HTML out of an entry name
    markdown_it = pytest.importorskip("markdown_it")
    html = markdown_it.MarkdownIt("commonmark", {"html": True}).enable("table").render(md)
    assert "<script" not in html and "<img" not in html and "<a href" not in html and "<b>" not in html
    assert "<em>" not in html and "<strong>bold" not in html and "<code>code</code>" not in html
    # every table row keeps its column count (no "|" from a name splits a cell)
    for block in re.findall(r"<table>.*?</table>", html, re.S):
        head = len(re.findall(r"<th[ >]", block))
        for row in re.findall(r"<tr>(.*?)</tr>", block.split("<tbody>")[-1], re.S):
            assert len(re.findall(r"<td[ >]", row)) == head, row
    assert "&lt;script&gt;alert(1)&lt;/script&gt;.txt" in html


def test_markdown_fences_and_caps_diffs() -> None:
    many = "".join(f"-old {i}\n+new {i}\n" for i in range(100))
    d = Difference("big.txt", DifferenceKind.CHANGED, "content", "unknown", diff="@@ -1,100 +1,100 @@\n" + many,
                   diff_omitted_lines=7)
    ticks = Difference("t.md", DifferenceKind.CHANGED, "content", "unknown", diff="@@ -1 +1 @@\n-````\n+`````\n")
    md = render_markdown(Outcome(Verdict.DIFFERENT, differences=(d, ticks)))
    assert f"*{201 - DIFF_LINES_PER_ENTRY + 7} more diff line(s) left out*" in md
    assert "\n``````diff\n@@ -1 +1 @@\n-````\n+`````\n``````\n" in md, "the fence is longer than any backticks inside"


# ------------------------------------------------------------------------------------------------ HTML


class _Scripts(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self._in: dict[str, str | None] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "script":
            self._in = dict(attrs)
            self.scripts.append((self._in, ""))

    def handle_data(self, data: str) -> None:
        if self._in is not None:
            attrs, text = self.scripts[-1]
            self.scripts[-1] = (attrs, text + data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in = None


def test_html_is_self_contained_and_escaped(outcomes: dict[str, Outcome]) -> None:
    page = render_html(outcomes["all-kinds"])
    parser = _Scripts()
    parser.feed(page)
    # exactly two scripts: the data block and our own code; no entry name became a tag
    assert [(a.get("type"), a.get("id")) for a, _ in parser.scripts] == [
        ("application/json", "canonjar-outcome"), (None, None)]
    assert parser.scripts[1][1] == SCRIPT
    assert not any(tag == "img" for tag, _ in parser.tags)
    assert not any(k.startswith("on") for _, attrs in parser.tags for k in attrs)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;.txt" in page
    assert "<b>by</b>" not in page and "&lt;b&gt;by&lt;/b&gt;" in page
    # nothing from the network: no src, no external href, no @import or url()
    assert not any("src" in attrs for _, attrs in parser.tags)
    hrefs = [attrs["href"] for _, attrs in parser.tags if attrs.get("href")]
    assert hrefs and all(h and h.startswith("#") for h in hrefs), hrefs
    style = re.findall(r"<style>(.*?)</style>", page, re.S)
    assert len(style) == 1 and "@import" not in style[0] and "url(" not in style[0] and "@font-face" not in style[0]
    assert "fetch(" not in SCRIPT and "XMLHttpRequest" not in SCRIPT and "import(" not in SCRIPT
    csp = next(a["content"] for t, a in parser.tags if t == "meta" and a.get("http-equiv") ==
               "Content-Security-Policy")
    assert csp is not None and "default-src 'none'" in csp and "script-src 'sha256-" in csp
    # the embedded JSON cannot end its script element and is the outcome
    data = parser.scripts[0][1]
    assert "</" not in data and "<" not in data and data == embedded_json(outcomes["all-kinds"])
    assert json.loads(data) == outcomes["all-kinds"].to_dict()


def test_html_shows_summary_chart_filters_diffs_and_noise(outcomes: dict[str, Outcome]) -> None:
    o = outcomes["evidence"]
    page = render_html(o)
    assert '<section class="verdict v-different"' in page and ">DIFFERENT<" in page
    assert o.reference is not None and o.reference.sha256 in page and o.rebuild is not None
    assert o.rebuild.sha256 in page
    assert '<svg class="chart"' in page and all(f'href="#category={c.value}"' in page for c in Category)
    assert '<table id="differences"' in page and 'button type="button" data-filter=""' in page
    assert page.count('<tr data-category="') >= len(o.differences)
    assert page.count('<details class="entry"') == len(o.differences)
    assert '<section id="findings">' in page and "traversal-name" in page
    assert '<section id="evidence">' in page and "<tr class=differs>" in page
    assert '<details class="section" id="noise">' in page and "Stabilization trace" in page
    # diff-match-patch marks the changed characters of paired lines, side by side
    kinds = render_html(outcomes["all-kinds"])
    assert '<table class="sbs">' in kinds
    assert 'line <span class="del">7</span> of' in kinds and 'line <span class="ins">SEVEN</span> of' in kinds
    assert '<span class="ins">tw' in kinds
    err = render_html(outcomes["error"])
    assert "v-error" in err and '<pre class="error">' in err


# ------------------------------------------------------------------------------------------------ CLI


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.pop("CANONJAR_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "canonjar", *args], capture_output=True, text=True, env=env,
                          timeout=120, check=False)


def test_cli_compare_and_report_in_every_format(tmp_path: Path) -> None:
    ref, reb = tmp_path / "ref.jar", tmp_path / "reb.jar"
    ref.write_bytes(make_zip([Item("a.txt", b"one\ntwo\n"), Item(HOSTILE, b"a\n")]))
    reb.write_bytes(make_zip([Item("a.txt", b"one\nTWO\n"), Item(HOSTILE, b"b\n")]))
    saved = tmp_path / "outcome.json"
    assert _cli("compare", str(ref), str(reb), "-f", "json", "-o", str(saved)).returncode == 1
    for fmt in ReportFormat:
        out = tmp_path / f"compare.{fmt.value}"
        res = _cli("compare", str(ref), str(reb), "--format", fmt.value, "-o", str(out))
        assert res.returncode == 1 and res.stdout == "", res.stderr
        rep = _cli("report", str(saved), "--format", fmt.value)
        assert rep.returncode == 1, rep.stderr
        assert rep.stdout == render(Outcome.from_json(saved.read_text()), fmt)
        if fmt is not ReportFormat.text:  # text paths differ only in nothing; all formats are pure
            assert out.read_text(encoding="utf-8") == rep.stdout
    html = (tmp_path / "compare.html").read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "&lt;script&gt;alert(1)&lt;/script&gt;.txt" in html
    assert (tmp_path / "compare.markdown").read_text().startswith("## canonjar: ❌ **DIFFERENT**")
    bad = _cli("report", str(saved), "--format", "pdf")
    assert bad.returncode == 2 and "pdf" in bad.stderr


# ------------------------------------------------------------------------------------------------ browser

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage", "--hide-scrollbars", "--mute-audio"]


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


@pytest.fixture(scope="module")
def browser() -> str:
    exe = _chromium()
    if exe is None:
        pytest.skip("no headless browser: install Debian's 'chromium' package (.ci/run does) to run these tests")
    return exe


def _run_browser(exe: str, tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    profile = tmp / "profile"
    profile.mkdir(exist_ok=True)
    res = subprocess.run([exe, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args], capture_output=True,
                         text=True, timeout=180, check=False, cwd=tmp)
    assert res.returncode == 0, res.stderr[-2000:]
    return res


def _dump(exe: str, tmp: Path, page: Path, hash_: str = "") -> str:
    return _run_browser(exe, tmp, "--virtual-time-budget=3000", "--dump-dom", page.as_uri() + hash_).stdout


def _html_attrs(dom: str) -> dict[str, str | None]:
    parser = _Scripts()
    parser.feed(dom)
    return next(attrs for tag, attrs in parser.tags if tag == "html")


@pytest.fixture(scope="module")
def report_page(outcomes: dict[str, Outcome], tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Outcome]:
    # the richest outcome: all kinds of differences with hostile names, plus the evidence and findings of another
    a, b = outcomes["all-kinds"], outcomes["evidence"]
    merged = Outcome(Verdict.DIFFERENT, a.reference, a.rebuild, b.stabilizers, b.effective,
                     a.differences + b.differences, b.findings, b.trace, None, b.evidence, b.noise)
    page = tmp_path_factory.mktemp("html") / "report.html"
    page.write_text(render_html(merged), encoding="utf-8")
    return page, merged


def test_browser_runs_the_page_and_filters_by_category(browser: str, report_page: tuple[Path, Outcome],
                                                       tmp_path: Path) -> None:
    page, outcome = report_page
    dom = _dump(browser, tmp_path, page)
    attrs = _html_attrs(dom)
    assert attrs.get("data-js") == "ready", "the page's script did not run"
    assert attrs.get("data-filter") == "all"
    assert attrs.get("data-differences") == str(len(outcome.differences))
    assert "data-pwned" not in attrs, f"an entry name ran as code: {attrs}"
    assert f'data-visible-rows="{len(outcome.differences)}"' in dom
    assert ">DIFFERENT<" in dom and "Residual differences" in dom
    assert "&lt;script&gt;alert(1)&lt;/script&gt;.txt" in dom

    counts: dict[str, int] = {}
    for d in outcome.differences:
        counts[d.category] = counts.get(d.category, 0) + 1
    assert counts.get("filesystem", 0) > 0 and len(counts) > 1
    for category in ("filesystem", "versioning-properties", "unknown", "timestamps"):
        filtered = _dump(browser, tmp_path, page, f"#category={category}")
        fattrs = _html_attrs(filtered)
        assert fattrs.get("data-filter") == category and "data-pwned" not in fattrs
        assert f'data-visible-rows="{counts.get(category, 0)}"' in filtered, category
        table = filtered.split('<table id="differences"', 1)[1].split("</table>", 1)[0]
        rows = re.findall(r"<tr data-category=\"([^\"]*)\"([^>]*)>", table)
        assert len(rows) == len(outcome.differences)
        shown = [cat for cat, rest in rows if "hidden" not in rest]
        assert shown == [category] * counts.get(category, 0), "the rows the browser shows are the filtered ones"
        pressed = re.findall(r'<button type="button" data-filter="([^"]*)"[^>]*aria-pressed="true"', filtered)
        assert pressed == ([category] if counts.get(category) else []), pressed


def test_browser_screenshot(browser: str, report_page: tuple[Path, Outcome], tmp_path: Path) -> None:
    page, _ = report_page
    shot = tmp_path / "report.png"
    _run_browser(browser, tmp_path, f"--screenshot={shot}", "--window-size=1280,2000", page.as_uri())
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (1280, 2000)
    assert len(data) > 50_000, "the screenshot is (nearly) blank"
    keep = os.environ.get("CANONJAR_SCREENSHOT")
    if keep:
        shutil.copyfile(shot, keep)


# ------------------------------------------------------------------------------------------------ properties

_NAMES = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40) | st.sampled_from([
    HOSTILE, PWN_IMG, MD_HOSTILE, "a|b", "`", "```", "\\", "1. x", "- x", "> q", "&lt;", "<!-- c -->", "]]>",
    "</script>", "www.example.com", "a@b.com", "http://x.y/z", ":smile:", "$$x$$", "\u2028", "\x00\x1b[31m"])


def _one(path: str, left: str, right: str) -> Outcome:
    d = Difference(path, DifferenceKind.METADATA, "time", "filesystem", left, right, 1, 2, "a" * 64, "b" * 64,
                   note=path, root_cause="zip-timestamps", mitigation="fix-build", hint="h", explanation=right)
    return Outcome(Verdict.DIFFERENT, ArtifactInfo(path, 1, "c" * 64), ArtifactInfo(left, 2, "d" * 64),
                   differences=(d,), findings=(OutcomeFinding("rebuild", "odd-name", path, left),),
                   evidence=(Evidence("reference", "s", path, left), Evidence("rebuild", "s", path, right)))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_NAMES, _NAMES, _NAMES)
def test_html_escapes_any_name(path: str, left: str, right: str) -> None:
    page = render_html(_one(path, left, right))
    parser = _Scripts()
    parser.feed(page)
    allowed = {"html", "head", "meta", "title", "style", "body", "main", "header", "h1", "h2", "h3", "p", "section",
               "span", "table", "thead", "tbody", "tr", "th", "td", "div", "svg", "rect", "text", "a",
               "button", "code", "details", "summary", "dl", "dt", "dd", "br", "pre", "footer", "script", "colgroup",
               "col"}
    assert {tag for tag, _ in parser.tags} <= allowed
    assert len(parser.scripts) == 2 and parser.scripts[1][1] == SCRIPT
    assert not any(k.startswith("on") or k == "src" for _, attrs in parser.tags for k in attrs)
    assert json.loads(parser.scripts[0][1]) == _one(path, left, right).to_dict()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_NAMES, _NAMES, _NAMES)
@example("\xa0", "0", "0")  # a name of only a non-breaking space must not vanish from its table cell
def test_markdown_escapes_any_name(path: str, left: str, right: str) -> None:
    markdown_it = pytest.importorskip("markdown_it")
    md = render_markdown(_one(path, left, right))
    html = markdown_it.MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"]).render(md)
    tags = set(re.findall(r"<([a-z0-9]+)[ >]", html))
    assert tags <= {"h2", "h3", "h4", "p", "strong", "table", "thead", "tbody", "tr", "th", "td", "code", "ul",
                    "li", "sub"}, tags
    # the path is one cell of the differences table, shown literally (control characters made visible)
    rows = re.findall(r"<tr>\s*<td>(.*?)</td>", html.split("Differences</h3>")[1], re.S)
    expected = re.sub(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]", "?", path).strip(" \t")
    shown = re.sub(r"\\(?:x[0-9a-f]{2}|u[0-9a-f]{4}|[nrt])", "?", html_unescape(rows[0]))
    if "\\" not in path:
        assert shown == expected, (path, rows[0])
