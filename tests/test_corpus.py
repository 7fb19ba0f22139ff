"""Opt-in run over the corpus of real pairs (``pytest -m corpus``): canonjar must agree with every hand-verified
label of ``datasets/manifest.json``, with the default stabilizers and with ``--enable all``.

Build the corpus first with ``python datasets/build_corpus.py`` (downloads pinned inputs into
``datasets/cache/`` and writes the pairs into ``datasets/corpus/``); ``CANONJAR_CORPUS`` points elsewhere.
Labels (``datasets/labels.json``) say per mode: the verdict, the number of findings, the categories that must
be reported (real differences), the ones that may be reported too (other real differences whose category is
the taxonomy's call, and noise canonjar does not remove yet, listed in ``known_gaps``), root causes that must
be named, and entries verified by inspection to really differ, which must be reported.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pytest

import canonjar

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = ROOT / "datasets" / "manifest.json"
CORPUS = Path(os.environ.get("CANONJAR_CORPUS", ROOT / "datasets" / "corpus"))

pytestmark = pytest.mark.corpus


def _pairs() -> list[dict[str, Any]]:
    if not MANIFEST.is_file():
        return []
    pairs: list[dict[str, Any]] = json.loads(MANIFEST.read_text(encoding="utf-8"))["pairs"]
    return pairs


@pytest.fixture(autouse=True)
def _opt_in(request: pytest.FixtureRequest) -> None:
    """Skip unless the run selected the corpus marker, and when the corpus was not built."""
    if "corpus" not in (request.config.getoption("-m") or ""):
        pytest.skip("opt-in: run with pytest -m corpus")
    if not CORPUS.is_dir():
        pytest.skip(f"corpus not built: run python datasets/build_corpus.py (looked in {CORPUS})")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("pair", _pairs(), ids=lambda p: p["id"])
def test_pair_matches_its_label(pair: dict[str, Any]) -> None:
    ref, reb = CORPUS / pair["reference"]["corpus_path"], CORPUS / pair["rebuild"]["corpus_path"]
    if not (ref.is_file() and reb.is_file()):
        pytest.skip(f"{pair['id']} missing from the corpus: run python datasets/build_corpus.py")
    if pair["kind"] == "cross-builder":  # pinned, unmodified inputs: the bytes must be the manifest's
        assert _sha256(ref) == pair["reference"]["sha256"]
        assert _sha256(reb) == pair["rebuild"]["sha256"]
    label = pair["label"]
    assert label is not None, f"{pair['id']} has no label in datasets/labels.json"
    for mode, enable in (("default", ()), ("all", ("all",))):
        want = label[mode]
        outcome = canonjar.compare_files(ref, reb, stabilizers=canonjar.select_stabilizers(enable=enable))
        where = f"{pair['id']} [{mode}]"
        assert outcome.error is None, f"{where}: {outcome.error}"
        assert outcome.verdict.value == want["verdict"], where
        assert len(outcome.findings) == want.get("findings", 0), where
        cats = {d.category for d in outcome.differences}
        required = set(want.get("categories", []))
        allowed = required | set(want.get("categories_allowed", []))
        assert required <= cats, f"{where}: missing categories {sorted(required - cats)}"
        assert cats <= allowed, f"{where}: unexpected categories {sorted(cats - allowed)}"
        causes = {d.root_cause for d in outcome.differences}
        assert set(want.get("root_causes", [])) <= causes, f"{where}: missing root causes"
        paths = {d.path for d in outcome.differences}
        missing = set(want.get("paths_required", [])) - paths
        assert not missing, f"{where}: verified differences not reported: {sorted(missing)}"
