"""End to end through ``compare_bytes``: JARs of one source compiled in different ways, as a rebuilder sees them.

- ``-g`` vs ``-g:none``: different, every class classified debug-info only (root cause ``debug-info``), the
  structural diff shows debug lines and no instruction;
- javac vs ecj: different, root cause ``java-compiler`` with the evidence of both sides;
- ``--release 8`` vs ``--release 17``: different, the class version and the idioms named (indy string
  concatenation, nest-mates, Buffer return types);
- members reordered and constant pool permuted by a bytecode rewrite: "equivalent" with the class stabilizers
  ``class-member-order,class-constant-pool-order``, "different" without (classified as order, the structural
  diff without instruction differences);
- a changed constant or instruction: different, root cause ``bytecode-change`` (a code change, never debug-info),
  also when the debug information differs too.
"""

from __future__ import annotations

import pytest

from canonjar.api import compare_bytes
from canonjar.outcome import Difference, Outcome, Verdict
from canonjar.pipeline import select_stabilizers
from canonjar.report.html import render_html
from canonjar.report.markdown import render_markdown
from canonjar.report.text import render_text
from tests.helpers import Item, make_zip
from tests.test_classdiff import (
    SAMPLE,
    Variants,
    change_string,
    compile_variants,
    patch_bipush,
    permute_pool,
    reverse_members,
)

CLASS_ORDER = "class-member-order,class-constant-pool-order"


@pytest.fixture(scope="module")
def variants(tmp_path_factory: pytest.TempPathFactory) -> Variants:
    return compile_variants(tmp_path_factory.mktemp("pairs"))


def jar(classes: dict[str, bytes]) -> bytes:
    return make_zip([Item(name, data) for name, data in sorted(classes.items())])


def compare(ref: dict[str, bytes], reb: dict[str, bytes], enable: str = "") -> Outcome:
    stabs = select_stabilizers(enable=[enable] if enable else [])
    return compare_bytes(jar(ref), jar(reb), "reference.jar", "rebuild.jar", stabs)


def class_diffs(o: Outcome) -> dict[str, Difference]:
    return {d.path: d for d in o.differences if d.path.endswith(".class")}


def test_debug_flag_pair_is_different_and_debug_info_only(variants: Variants) -> None:
    for enable in ("", CLASS_ORDER):
        o = compare(variants.classes["g"], variants.classes["gnone"], enable)
        assert o.verdict is Verdict.DIFFERENT
        diffs = class_diffs(o)
        assert set(diffs) == set(variants.classes["g"])  # every class differs, none is hidden
        for d in diffs.values():
            assert d.root_cause == "debug-info", (d.path, d.note)
            assert "debug-info only, the code is the same" in d.note
            assert d.diff is not None and "debug information" in d.diff
            assert not [ln for ln in d.diff.splitlines() if ln.startswith(("-  ", "+  "))]
    text = render_text(o)
    assert "debug-info only" in text and "-LineNumberTable:" in text
    assert "debug-info only" in render_markdown(o) and "LineNumberTable" in render_html(o)
    assert Outcome.from_json(o.to_json()) == o


def test_javac_vs_ecj_is_the_compiler(variants: Variants) -> None:
    if "ecj" not in variants.classes:
        pytest.skip("ecj is not installed")
    o = compare(variants.classes["g"], variants.classes["ecj"])
    assert o.verdict is Verdict.DIFFERENT
    diffs = class_diffs(o)
    sample = diffs[SAMPLE]
    assert sample.root_cause == "java-compiler", sample.note
    assert "compiler differs: reference javac" in sample.note and "rebuild ecj ($SWITCH_TABLE$" in sample.note
    assert "enum-switch-map: reference uses $SwitchMap$" in sample.note
    assert diffs["p/Sample$Color.class"].root_cause == "java-compiler"
    # javac's switch-map class exists only in the reference: a file present on one side, reported as such
    assert any(d.path == "p/Sample$1.class" and d.kind.value == "removed" for d in o.differences)
    # classes without markers of their own get the compiler seen in the other classes of the artifact
    inner = diffs["p/Sample$Inner.class"]
    assert inner.root_cause == "java-compiler" and "seen in other classes" in inner.note


def test_release_8_vs_17_names_the_idioms(variants: Variants) -> None:
    o = compare(variants.classes["r8"], variants.classes["g"])
    assert o.verdict is Verdict.DIFFERENT
    diffs = class_diffs(o)
    sample = diffs[SAMPLE]
    assert sample.root_cause == "jdk-version-bytecode"
    for phrase in ("class file version differs (major 52.0 vs 61.0)",
                   "indy-string-concat: reference uses StringBuilder chains",
                   "rebuild uses invokedynamic makeConcatWithConstants",
                   "nestmates: reference access$NNN accessors", "buffer-covariant-returns"):
        assert phrase in sample.note, phrase
    assert sample.diff is not None and "+    invokedynamic makeConcatWithConstants" in sample.diff
    assert "nestmates" in diffs["p/Sample$Inner.class"].note


def _rewritten(classes: dict[str, bytes]) -> dict[str, bytes]:
    return {name: permute_pool(reverse_members(data), seed=len(name)) for name, data in classes.items()}


def test_reordered_members_and_permuted_pool(variants: Variants) -> None:
    ref = variants.classes["g"]
    reb = _rewritten(ref)
    assert all(reb[n] != ref[n] for n in ref)
    o = compare(ref, reb, CLASS_ORDER)
    assert o.verdict is Verdict.EQUIVALENT, [(d.path, d.note) for d in o.differences]
    plain = compare(ref, reb)
    assert plain.verdict is Verdict.DIFFERENT
    diffs = class_diffs(plain)
    assert set(diffs) == set(ref)
    for d in diffs.values():
        assert d.root_cause in ("constant-pool-order", "member-order"), (d.path, d.note)
        assert d.diff is not None and "no structural difference" in d.diff
        assert "code differs" not in d.note and "debug" not in d.note
    pool_only = compare(ref, {n: permute_pool(data) for n, data in ref.items()})
    for d in class_diffs(pool_only).values():
        assert d.root_cause == "constant-pool-order" and d.diff is not None
        assert not [ln for ln in d.diff.splitlines() if ln.startswith(("-  ", "+  "))]


def test_code_change_is_named_and_never_debug_info(variants: Variants) -> None:
    ref = variants.classes["g"]
    for base, what in ((ref, "same flags"), (variants.classes["gnone"], "and -g:none")):
        reb = dict(base)
        reb[SAMPLE] = patch_bipush(base[SAMPLE], "<init>", 42, 43)
        o = compare(ref, reb, CLASS_ORDER)
        assert o.verdict is Verdict.DIFFERENT
        d = class_diffs(o)[SAMPLE]
        assert d.root_cause == "bytecode-change", (what, d.note)
        assert "code differs in 1 method(s) (<init> ()V)" in d.note and "debug-info only" not in d.note
        assert d.diff is not None and "-    bipush 42" in d.diff and "+    bipush 43" in d.diff
    reb = dict(ref)
    reb[SAMPLE] = change_string(ref[SAMPLE], b"other", b"OTHER")
    d = class_diffs(compare(ref, reb))[SAMPLE]
    assert d.root_cause == "bytecode-change" and d.diff is not None and '+    ldc String "OTHER"' in d.diff


def test_equal_classes_are_not_parsed(variants: Variants, monkeypatch: pytest.MonkeyPatch) -> None:
    """Only differing classes are analysed: with one class changed, one class is viewed (per side)."""
    import canonjar.taxonomy.classfile as tc

    seen: list[int] = []
    real = tc.view_class  # type: ignore[attr-defined]

    def counting(cf: object) -> object:
        seen.append(1)
        return real(cf)  # type: ignore[arg-type]

    monkeypatch.setattr(tc, "view_class", counting)
    ref = variants.classes["g"]
    reb = dict(ref)
    reb[SAMPLE] = patch_bipush(ref[SAMPLE], "<init>", 42, 43)
    o = compare(ref, reb)
    assert [d.path for d in o.differences] == [SAMPLE] and len(seen) == 2


def test_report_shows_the_structural_diff(variants: Variants) -> None:
    o = compare(variants.classes["r8"], variants.classes["g"])
    text = render_text(o)
    assert any(ln.strip().startswith("@@ ") and ln.endswith("@@ method flipIt (Ljava/nio/ByteBuffer;)I")
               for ln in text.splitlines())
    assert "-    invokevirtual Method java/nio/ByteBuffer.flip:()Ljava/nio/Buffer;" in text
    assert "-version 52.0 (Java 8)" in render_markdown(o)
    html = render_html(o)
    assert "method flipIt (Ljava/nio/ByteBuffer;)I" in html and "Ljava/nio/Buffer;" in html
