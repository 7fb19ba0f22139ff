"""sbom-spdx: creation time, document namespace and tool versions in SPDX SBOMs (JSON and tag-value).

Applies to SPDX JSON (``*.spdx.json``, or any other ``.json`` whose top level has ``"spdxVersion"``) and SPDX
tag-value (``*.spdx`` with an ``SPDXVersion:`` tag). A named file that is not SPDX is left alone.

Removes:

* ``creationInfo.created`` / ``Created:`` (when the SBOM was written);
* ``documentNamespace`` / ``DocumentNamespace:``, the document's URI, which generators make unique per run by
  embedding a random UUID (SPDX Maven plugin, syft);
* the version of each creating tool (``Tool: syft-0.84.1`` becomes ``Tool: syft``), recorded as
  ``sbom-tool-version`` evidence; organization and person creators stay.

JSON is re-serialized canonically (sorted keys, two-space indentation) with ``packages``, ``files`` and
``snippets`` sorted by ``SPDXID``, ``relationships`` by (element, type, related element) and each
``checksums`` list by algorithm: SPDX gives these lists no order. Tag-value keeps every other line byte for
byte. Packages, files, relationships, checksums, licenses, versions and the license list version are kept
and compared.

Why this cannot change behaviour: the SBOM describes the artifact, nothing in the JVM reads it, and the
removed values describe the run of the SBOM generator, not the software.

Each kind of removed value is also recorded as ``sbom-removed`` evidence (``serial-number`` for the document
namespace, ``timestamp``, ``order``; tool versions are ``sbom-tool-version``), so the noise summary names the
specific root cause.

Malformed JSON or tag-value (not UTF-8, duplicate keys, an unterminated ``<text>`` block...) is skipped and
compared as is.
"""

from __future__ import annotations

import re
from typing import Any

from ..formats.sbom import (
    SbomError,
    SbomNotes,
    TagValueField,
    dump_json,
    join_tag_value,
    json_key,
    parse_json,
    parse_tag_value,
    sorted_noting_order,
    split_tool_version,
)
from ..model import Entry
from ..pipeline import Context, Scope, Stabilizer
from ..taxonomy import Category
from ._sbom import record_and_replace

__all__ = ["STABILIZER", "canonical_json", "canonical_tag_value"]

_JSON_MARKER = b'"spdxVersion"'
_TOOL = re.compile(r"(?P<head>\s*Tool:\s*)(?P<tool>.*?)\s*\Z", re.DOTALL)


Notes = SbomNotes
_sorted = sorted_noting_order


def _creator(text: Any, notes: Notes) -> Any:
    """``Tool: name-1.2.3`` -> ``Tool: name`` (the removed ``name-1.2.3`` noted); anything else unchanged."""
    if not isinstance(text, str):
        return text
    m = _TOOL.fullmatch(text)
    if m is None:
        return text
    name, version = split_tool_version(m["tool"])
    if version is None:
        return text
    notes.tool_versions.append(m["tool"].strip())
    return m["head"] + name


# --------------------------------------------------------------------------------------------- JSON

def canonical_json(doc: dict[str, Any], notes: Notes) -> dict[str, Any]:
    """The canonical SPDX JSON document (a new object; ``doc`` is not modified)."""
    out = dict(doc)
    if isinstance(out.get("documentNamespace"), str):
        del out["documentNamespace"]
        notes.remove("serial-number")
    info = out.get("creationInfo")
    if isinstance(info, dict):
        info = dict(info)
        if info.pop("created", None) is not None:
            notes.remove("timestamp")
        creators = info.get("creators")
        if isinstance(creators, list):
            info["creators"] = [_creator(c, notes) for c in creators]
        out["creationInfo"] = info
    for k in ("packages", "files", "snippets"):
        items = out.get(k)
        if isinstance(items, list):
            out[k] = _sorted([_element(x, notes) for x in items], lambda x: json_key(x, "SPDXID"), notes)
    rels = out.get("relationships")
    if isinstance(rels, list):
        out["relationships"] = _sorted(rels, lambda r: json_key(r, "spdxElementId", "relationshipType",
                                                                "relatedSpdxElement"), notes)
    return out


def _element(item: Any, notes: Notes) -> Any:
    if not isinstance(item, dict) or not isinstance(item.get("checksums"), list):
        return item
    out = dict(item)
    out["checksums"] = _sorted(item["checksums"], lambda c: json_key(c, "algorithm", "checksumValue"), notes)
    return out


# --------------------------------------------------------------------------------------------- tag-value

def canonical_tag_value(text: str, notes: Notes) -> str:
    """``text`` without its ``Created:`` and ``DocumentNamespace:`` fields and with tool versions removed from
    ``Creator: Tool:`` fields; every other byte unchanged. Raises :class:`SbomError` when malformed."""
    fields = parse_tag_value(text)
    if not any(f.tag == "SPDXVersion" for f in fields):
        raise SbomError("not an SPDX tag-value document: no SPDXVersion tag")
    out: list[TagValueField] = []
    for f in fields:
        if f.tag in ("Created", "DocumentNamespace"):
            notes.remove("timestamp" if f.tag == "Created" else "serial-number")
            continue
        if f.tag == "Creator" and "\n" not in f.value:
            new = _creator(f.value, notes)
            if new != f.value:
                eol = f.raw[len(f.raw.rstrip("\r\n")):]
                head = f.raw[:f.raw.index(":") + 1]
                out.append(TagValueField(f.tag, new, f"{head} {new.strip()}{eol}"))
                continue
        out.append(f)
    return join_tag_value(out)


# --------------------------------------------------------------------------------------------- entry point

def _applies(entry: Entry) -> bool:
    return not entry.is_dir and entry.name.lower().endswith((b".json", b".spdx"))


def canonicalize(data: bytes, tag_value: bool, notes: Notes) -> bytes | None:
    """The canonical form of an SPDX document, or None when ``data`` is well-formed JSON but not SPDX."""
    try:
        if tag_value:
            try:
                text = data.decode("utf-8-sig")
            except UnicodeDecodeError as exc:
                raise SbomError(f"malformed SPDX tag-value: not UTF-8 ({exc.reason} at byte {exc.start})") from None
            return canonical_tag_value(text, notes).encode("utf-8")
        doc = parse_json(data)
        if not isinstance(doc, dict) or "spdxVersion" not in doc:
            return None
        return dump_json(canonical_json(doc, notes))
    except RecursionError:
        raise SbomError("SBOM nested too deeply") from None


def _apply(entry: Entry, ctx: Context) -> Entry:
    low = entry.name.lower()
    tag_value = low.endswith(b".spdx")
    data = ctx.content(entry)
    if not tag_value and not low.endswith(b".spdx.json") and _JSON_MARKER not in data:
        return entry
    notes = Notes()
    new = canonicalize(data, tag_value, notes)  # SbomError is a StabilizerSkip: a recorded skip
    if new is None:
        return entry
    return record_and_replace(entry, ctx, data, new, notes)


STABILIZER = Stabilizer(
    name="sbom-spdx",
    scope=Scope.ENTRY,
    category=Category.SBOM,
    removes="SPDX creationInfo.created/Created:, documentNamespace/DocumentNamespace: and creator tool versions, "
            "and the order of packages, files, relationships and checksums in canonical JSON",
    reason="these record the run of the SBOM generator, not the software, and SPDX gives these lists no order; "
           "packages, versions, checksums, licenses and relationships are kept and compared",
    apply=_apply,
    applies_to=_applies,
)
