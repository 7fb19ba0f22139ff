"""The loader and scorer of the paper's per-artifact result files (canonjar.paper), on small JSON fixtures
written in the published shape and in the variants the loader accepts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from canonjar.outcome import Verdict
from canonjar.paper import (
    Comparison,
    PaperFormatError,
    PaperOutcome,
    key_from_diffoscope_path,
    load_results,
    parse_results,
    score,
)

WOOD = "com.fasterxml.woodstox:woodstox-core:6.6.1"
KARAF = "org.apache.karaf:karaf:4.3.7"


def entry(tool_key: str, gav: str, file: str) -> dict[str, str]:
    g, a, v = gav.split(":")
    return {"diffoscope_diff": f"results/{g}/{a}/{v}/{file}.diffoscope.json",
            f"{tool_key}_diff": f"results/{g}/{a}/{v}/{tool_key.replace('_', '-')}/{file}.diff"}


def published(tool_key: str) -> dict[str, dict[str, list[dict[str, str]]]]:
    """A result file in the shape of the paper's replication repository."""
    return {
        "successful_normalization": {WOOD: [entry(tool_key, WOOD, "woodstox-core-6.6.1.jar")]},
        "failed_normalization": {KARAF: [entry(tool_key, KARAF, "karaf-kar-archetype-4.3.7.jar"),
                                         entry(tool_key, KARAF, "karaf-bundle-archetype-4.3.7.jar")]},
        "error_in_normalization": {"io.wcm:io.wcm.handler.link:2.0.0":
                                   [entry(tool_key, "io.wcm:io.wcm.handler.link:2.0.0",
                                          "io.wcm.handler.link-2.0.0-bundle.jar")]},
    }


def write(tmp_path: Path, name: str, data: object) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_load_published_shape(tmp_path: Path) -> None:
    res = load_results(write(tmp_path, "oss_rebuild_result.json", published("oss_rebuild")))
    assert res.tool == "oss-rebuild"
    assert res.display_name == "OSS-Rebuild"
    assert len(res.records) == 4
    rec = res.get(WOOD, "woodstox-core-6.6.1.jar")
    assert rec is not None and rec.outcome is PaperOutcome.SUCCESSFUL
    assert rec.tool_diff_path is not None and rec.tool_diff_path.endswith("oss-rebuild/woodstox-core-6.6.1.jar.diff")
    assert res.get(KARAF, "karaf-kar-archetype-4.3.7.jar") is not None
    assert res.get(KARAF, "karaf-kar-archetype-4.3.7.jar").outcome is PaperOutcome.FAILED  # type: ignore[union-attr]
    assert res.counts() == {PaperOutcome.SUCCESSFUL: 1, PaperOutcome.FAILED: 2, PaperOutcome.ERROR: 1}
    assert res.get(WOOD, "other.jar") is None


def test_chains_rebuild_tool_name_is_inferred_and_overridable() -> None:
    res = parse_results(published("oss_rebuild_improved_2"))
    assert res.tool == "oss-rebuild-improved-2"
    assert res.display_name == "Chains-Rebuild"
    assert parse_results(published("oss_rebuild_improved"), tool="chains").tool == "chains"


def test_accepted_variants() -> None:
    data = {
        "successful_normalizations": {WOOD: "results/com.fasterxml.woodstox/woodstox-core/6.6.1/w.jar.diffoscope.json"},
        "failed": {KARAF: {"file": "k.jar"}},
        "error": {"a:b:1": [{"jnorm_diff": "results/a/b/1/jnorm/x-1.jar.diff"}]},
        "SUCCESSFUL_NORMALIZATION_COUNT": 3,  # counters beside the outcomes are ignored
    }
    res = parse_results(data)
    assert {r.key: r.outcome for r in res.records} == {
        (WOOD, "w.jar"): PaperOutcome.SUCCESSFUL,
        (KARAF, "k.jar"): PaperOutcome.FAILED,
        ("a:b:1", "x-1.jar"): PaperOutcome.ERROR,
    }
    assert res.tool == "jnorm"


@pytest.mark.parametrize("data, message", [
    ([], "JSON object"),
    ({"counts": 1}, "no successful_normalization"),
    ({"successful_normalization": []}, "expected an object"),
    ({"successful_normalization": {"not-a-gav": []}}, "group:artifact:version"),
    ({"successful_normalization": {"a:b:1": [42]}}, "neither an object nor a path"),
    ({"successful_normalization": {"a:b:1": [{"note": "x"}]}}, "names no file"),
    ({"successful_normalization": {"a:b:1": ["r/a/b/1/x.jar.diffoscope.json"]},
      "failed_normalization": {"a:b:1": ["r/a/b/1/x.jar.diffoscope.json"]}}, "both"),
])
def test_bad_shapes_are_one_line_errors(data: object, message: str) -> None:
    with pytest.raises(PaperFormatError, match=message) as info:
        parse_results(data)
    assert "\n" not in str(info.value)


def test_load_errors(tmp_path: Path) -> None:
    with pytest.raises(PaperFormatError, match="cannot read"):
        load_results(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(PaperFormatError, match="not JSON"):
        load_results(bad)


def test_key_from_diffoscope_path() -> None:
    assert key_from_diffoscope_path("results/org.a/b-c/1.0/b-c-1.0.jar.diffoscope.json") == ("org.a:b-c:1.0",
                                                                                             "b-c-1.0.jar")
    with pytest.raises(PaperFormatError):
        key_from_diffoscope_path("x.jar.diffoscope.json")


def test_score_against_two_tools() -> None:
    oss = parse_results(published("oss_rebuild"))
    chains = parse_results({
        "successful_normalization": {WOOD: [entry("oss_rebuild_improved", WOOD, "woodstox-core-6.6.1.jar")],
                                     KARAF: [entry("oss_rebuild_improved", KARAF, "karaf-kar-archetype-4.3.7.jar")]},
        "failed_normalization": {KARAF: [entry("oss_rebuild_improved", KARAF, "karaf-bundle-archetype-4.3.7.jar")]},
    })
    ours = {
        (WOOD, "woodstox-core-6.6.1.jar"): Verdict.DIFFERENT,          # they normalized it, we did not
        (KARAF, "karaf-kar-archetype-4.3.7.jar"): Verdict.EQUIVALENT,  # they failed (OSS), succeeded (Chains)
        (KARAF, "karaf-bundle-archetype-4.3.7.jar"): "different",      # both failed
        ("x:y:1", "y-1.jar"): Verdict.IDENTICAL,                       # not in their data
    }
    board = score(ours, oss, chains)
    assert board.where("oss-rebuild", Comparison.WORSE) == [(WOOD, "woodstox-core-6.6.1.jar")]
    assert board.where("oss-rebuild", Comparison.BETTER) == [(KARAF, "karaf-kar-archetype-4.3.7.jar")]
    assert board.where("oss-rebuild", Comparison.SAME) == [(KARAF, "karaf-bundle-archetype-4.3.7.jar")]
    assert board.where("oss-rebuild", Comparison.ONLY_OURS) == [("x:y:1", "y-1.jar")]
    assert board.where("oss-rebuild", Comparison.ONLY_THEIRS) == [("io.wcm:io.wcm.handler.link:2.0.0",
                                                                   "io.wcm.handler.link-2.0.0-bundle.jar")]
    counts = board.counts("oss-rebuild-improved")
    assert counts[Comparison.SAME] == 2 and counts[Comparison.WORSE] == 1 and counts[Comparison.BETTER] == 0
    doc = board.to_dict()
    assert doc["oss-rebuild-improved"]["name"] == "Chains-Rebuild"
    assert doc["oss-rebuild"]["counts"]["better"] == 1
    json.dumps(doc)  # serializable


def test_error_verdict_ranks_below_a_failed_normalization() -> None:
    oss = parse_results(published("oss_rebuild"))
    board = score({(KARAF, "karaf-kar-archetype-4.3.7.jar"): Verdict.ERROR,
                   ("io.wcm:io.wcm.handler.link:2.0.0", "io.wcm.handler.link-2.0.0-bundle.jar"): Verdict.DIFFERENT},
                  oss)
    assert board.where("oss-rebuild", Comparison.WORSE) == [(KARAF, "karaf-kar-archetype-4.3.7.jar")]
    assert board.where("oss-rebuild", Comparison.BETTER) == [("io.wcm:io.wcm.handler.link:2.0.0",
                                                              "io.wcm.handler.link-2.0.0-bundle.jar")]
    with pytest.raises(PaperFormatError, match="unknown verdict"):
        score({("a:b:1", "b.jar"): "maybe"}, oss)
