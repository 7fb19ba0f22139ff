"""sbom-cyclonedx: per-build identifiers and tool versions in CycloneDX SBOMs (JSON and XML).

Applies to CycloneDX documents anywhere in the archive, recognized by name (``META-INF/sbom/*.json|*.xml``,
``bom.json``, ``bom.xml``, ``*.cdx.json``, ``*.cdx.xml``) and by content (any other ``.json`` with
``"bomFormat": "CycloneDX"``, any other ``.xml`` whose root is ``bom`` in a ``http://cyclonedx.org/schema/bom/``
namespace). A named file that parses but is not CycloneDX is left alone.

Removes:

* ``serialNumber`` when it is a random ``urn:uuid:`` (new for every run of the build);
* ``metadata.timestamp`` (when the SBOM was written);
* the version of each tool that wrote the SBOM (``metadata.tools``: legacy ``tool`` list and the 1.5+
  ``{components, services}`` form), together with what merely restates that version: the tool's own
  ``hashes`` (digests of the plugin JAR), the version in its ``purl`` and in a ``bom-ref`` equal to that
  purl. Tool names and vendors stay; each removed version is recorded as ``sbom-tool-version`` evidence.

Canonical form: JSON is re-serialized with sorted keys and two-space indentation; XML is re-indented and
written as C14N. The ``components`` lists (nested ones too) are sorted by ``bom-ref``, then ``purl``, then
whole content; ``dependencies`` by ``ref`` with each ``dependsOn``/``provides`` list (XML: child
``dependency`` elements) sorted; each ``hashes`` list by algorithm and value. CycloneDX gives no meaning to
the order of these lists (they are sets of components, of dependency edges and of digests), and key order,
whitespace and attribute order carry none in JSON and XML.

Kept and compared: every component (name, group, version, purl, hashes, licenses...), the dependency graph,
``metadata.component``, and everything else. Hash algorithm lists are never trimmed: the set of algorithms
used for component hashes (which depends on the JDK's security providers) is recorded per side as
``sbom-hash-algorithms`` evidence so the taxonomy can attribute a difference to the JDK vendor; a different
component version or digest stays a difference.

Each kind of removed value is also recorded as ``sbom-removed`` evidence (``serial-number``, ``timestamp``,
``order``; tool versions are ``sbom-tool-version``), so the noise summary names the specific root cause.

Why this cannot change behaviour: the SBOM describes the artifact, nothing in the JVM reads it, and the
removed values describe the run of the SBOM generator, not the software.

Malformed JSON/XML is skipped (compared as is). XML with a DOCTYPE is skipped unparsed, and one that declares
entities or references an external DTD is also reported as a ``malformed-sbom`` finding (hostile input).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from ..formats.sbom import (
    URN_UUID,
    SbomError,
    SbomNotes,
    dump_json,
    dump_xml,
    json_key,
    parse_json,
    parse_xml,
    sorted_noting_order,
    strip_purl_version,
)
from ..model import Entry
from ..pipeline import Context, Scope, Stabilizer
from ..taxonomy import Category
from ._sbom import record_and_replace

__all__ = ["CDX_NAMESPACE_PREFIX", "STABILIZER", "canonicalize"]

CDX_NAMESPACE_PREFIX = "http://cyclonedx.org/schema/bom/"
_NS_MARKERS = tuple("cyclonedx.org/schema/bom".encode(enc) for enc in ("utf-8", "utf-16-le", "utf-16-be"))
_JSON_MARKER = b'"bomFormat"'


@dataclass
class Notes(SbomNotes):
    """What canonicalization removed or observed, for the evidence (plus the hash algorithms seen)."""

    hash_algorithms: set[str] = field(default_factory=set)


_sorted = sorted_noting_order


# --------------------------------------------------------------------------------------------- names

def is_sbom_name(path: str) -> bool:
    """Names under which a CycloneDX SBOM is expected (the content decides for every other .json/.xml)."""
    low = path.lower()
    base = low.rsplit("/", 1)[-1]
    if "/" in low and low.rsplit("/", 1)[0].endswith("meta-inf/sbom") and base.endswith((".json", ".xml")):
        return True
    return base in ("bom.json", "bom.xml") or base.endswith((".cdx.json", ".cdx.xml"))


def _applies(entry: Entry) -> bool:
    return not entry.is_dir and entry.name.lower().endswith((b".json", b".xml"))


# --------------------------------------------------------------------------------------------- JSON

def _tool_label(tool: dict[str, Any]) -> str:
    parts = [tool.get(k) for k in ("vendor", "author", "group", "name")]
    return " ".join(p for p in parts if isinstance(p, str) and p) or "unnamed tool"


def _json_tool(tool: Any, notes: Notes) -> Any:
    if not isinstance(tool, dict) or "version" not in tool:
        return tool
    out = dict(tool)
    version = out.pop("version")
    shown = version if isinstance(version, str) else json.dumps(version, sort_keys=True)
    notes.tool_versions.append(f"{_tool_label(tool)} {shown}".strip())
    out.pop("hashes", None)
    purl = out.get("purl")
    if isinstance(purl, str):
        out["purl"] = strip_purl_version(purl)
        if out.get("bom-ref") == purl:
            out["bom-ref"] = out["purl"]
    return out


def _json_hashes(hashes: Any, notes: Notes) -> Any:
    if not isinstance(hashes, list):
        return hashes
    for h in hashes:
        if isinstance(h, dict) and isinstance(h.get("alg"), str):
            notes.hash_algorithms.add(h["alg"])
    return _sorted(hashes, lambda h: json_key(h, "alg", "content"), notes)


def _json_component(comp: Any, notes: Notes) -> Any:
    if not isinstance(comp, dict):
        return comp
    out = dict(comp)
    if "hashes" in out:
        out["hashes"] = _json_hashes(out["hashes"], notes)
    if isinstance(out.get("components"), list):
        out["components"] = _json_components(out["components"], notes)
    return out


def _json_components(comps: list[Any], notes: Notes) -> list[Any]:
    done = [_json_component(c, notes) for c in comps]
    return _sorted(done, lambda c: json_key(c, "bom-ref", "purl"), notes)


def _json_dependency(dep: Any, notes: Notes) -> Any:
    if not isinstance(dep, dict):
        return dep
    out = dict(dep)
    for k in ("dependsOn", "provides"):
        refs = out.get(k)
        if isinstance(refs, list):
            out[k] = _sorted(refs, json_key, notes)
    return out


def canonical_json(doc: dict[str, Any], notes: Notes) -> dict[str, Any]:
    """The canonical CycloneDX JSON document (a new object; ``doc`` is not modified)."""
    out = dict(doc)
    sn = out.get("serialNumber")
    if isinstance(sn, str) and URN_UUID.fullmatch(sn):
        del out["serialNumber"]
        notes.remove("serial-number")
    meta = out.get("metadata")
    if isinstance(meta, dict):
        meta = dict(meta)
        if meta.pop("timestamp", None) is not None:
            notes.remove("timestamp")
        tools = meta.get("tools")
        if isinstance(tools, list):
            meta["tools"] = [_json_tool(t, notes) for t in tools]
        elif isinstance(tools, dict):
            tools = dict(tools)
            for k in ("components", "services"):
                if isinstance(tools.get(k), list):
                    tools[k] = [_json_tool(t, notes) for t in tools[k]]
            meta["tools"] = tools
        if "component" in meta:
            meta["component"] = _json_component(meta["component"], notes)
        out["metadata"] = meta
    if isinstance(out.get("components"), list):
        out["components"] = _json_components(out["components"], notes)
    deps = out.get("dependencies")
    if isinstance(deps, list):
        out["dependencies"] = _sorted([_json_dependency(d, notes) for d in deps], lambda d: json_key(d, "ref"), notes)
    return out


def _is_cdx_json(doc: Any) -> bool:
    return isinstance(doc, dict) and doc.get("bomFormat") == "CycloneDX"


# --------------------------------------------------------------------------------------------- XML

class _Xml:
    def __init__(self, ns: str, notes: Notes) -> None:
        self.ns = ns
        self.notes = notes

    def q(self, local: str) -> str:
        return f"{{{self.ns}}}{local}"

    def kids(self, el: etree._Element, local: str) -> list[etree._Element]:
        return [c for c in el if isinstance(c.tag, str) and c.tag == self.q(local)]

    @staticmethod
    def text(el: etree._Element | None) -> str:
        return (el.text or "") if el is not None else ""

    @staticmethod
    def key(el: etree._Element, *parts: str) -> tuple[str, ...]:
        return (*parts, etree.tostring(el, encoding="unicode", with_tail=False))

    def sort_children(self, parent: etree._Element, local: str, key: Any) -> None:
        """Sort the ``local`` children of ``parent`` in place; other nodes (comments) keep their positions."""
        children = list(parent)
        slots = [i for i, c in enumerate(children) if isinstance(c.tag, str) and c.tag == self.q(local)]
        ordered = sorted((children[i] for i in slots), key=key)
        if all(children[i] is o for i, o in zip(slots, ordered, strict=True)):
            return
        self.notes.remove("order")
        # Whitespace after each element stays at its position (indentation), only the elements move.
        tails = [children[i].tail for i in slots]
        for i, o, t in zip(slots, ordered, tails, strict=True):
            children[i] = o
            o.tail = t
        parent[:] = children

    def tool(self, tool: etree._Element) -> None:
        versions = self.kids(tool, "version")
        if not versions:
            return
        label = " ".join(t for t in (self.text(next(iter(self.kids(tool, k)), None)).strip()
                                     for k in ("vendor", "author", "group", "name")) if t) or "unnamed tool"
        for v in versions:
            self.notes.tool_versions.append(f"{label} {self.text(v).strip()}".strip())
            tool.remove(v)
        for h in self.kids(tool, "hashes"):
            tool.remove(h)
        for p in self.kids(tool, "purl"):
            old = self.text(p)
            p.text = strip_purl_version(old)
            if tool.get("bom-ref") == old:
                tool.set("bom-ref", p.text)

    def hashes(self, comp: etree._Element) -> None:
        for hs in self.kids(comp, "hashes"):
            for h in self.kids(hs, "hash"):
                alg = h.get("alg")
                if alg is not None:
                    self.notes.hash_algorithms.add(alg)
            self.sort_children(hs, "hash", lambda h: self.key(h, h.get("alg") or "", self.text(h)))

    def component(self, comp: etree._Element) -> None:
        self.hashes(comp)
        for sub in self.kids(comp, "components"):
            self.components(sub)

    def components(self, container: etree._Element) -> None:
        for c in self.kids(container, "component"):
            self.component(c)
        self.sort_children(container, "component", lambda c: self.key(
            c, c.get("bom-ref") or "", self.text(next(iter(self.kids(c, "purl")), None))))

    def dependencies(self, container: etree._Element) -> None:
        for d in self.kids(container, "dependency"):
            self.dependencies(d)
        self.sort_children(container, "dependency", lambda d: self.key(d, d.get("ref") or ""))

    def run(self, root: etree._Element) -> None:
        sn = root.get("serialNumber")
        if sn is not None and URN_UUID.fullmatch(sn):
            del root.attrib["serialNumber"]
            self.notes.remove("serial-number")
        for meta in self.kids(root, "metadata"):
            for ts in self.kids(meta, "timestamp"):
                meta.remove(ts)
                self.notes.remove("timestamp")
            for tools in self.kids(meta, "tools"):
                for t in self.kids(tools, "tool"):
                    self.tool(t)
                for group, item in (("components", "component"), ("services", "service")):
                    for g in self.kids(tools, group):
                        for t in self.kids(g, item):
                            self.tool(t)
            for comp in self.kids(meta, "component"):
                self.component(comp)
        for comps in self.kids(root, "components"):
            self.components(comps)
        for deps in self.kids(root, "dependencies"):
            self.dependencies(deps)


def _cdx_namespace(root: etree._Element) -> str | None:
    if not isinstance(root.tag, str):
        return None
    qn = etree.QName(root)
    if qn.localname == "bom" and (qn.namespace or "").startswith(CDX_NAMESPACE_PREFIX):
        return qn.namespace
    return None


# --------------------------------------------------------------------------------------------- entry point

def canonicalize(data: bytes, xml: bool, notes: Notes) -> bytes | None:
    """The canonical form of a CycloneDX document, or None when ``data`` is well-formed but not CycloneDX.
    Raises :class:`SbomError` when it cannot be parsed (``hostile`` set for entity declarations)."""
    try:
        if xml:
            tree = parse_xml(data)
            root = tree.getroot()
            ns = _cdx_namespace(root)
            if ns is None:
                return None
            # Normalize indentation first so the whole-element tie-break keys do not depend on the input's
            # formatting (that keeps the sort, and so the whole canonicalization, idempotent).
            etree.indent(root, space="  ")
            _Xml(ns, notes).run(root)
            return dump_xml(tree)
        doc = parse_json(data)
        if not _is_cdx_json(doc):
            return None
        return dump_json(canonical_json(doc, notes))
    except RecursionError:
        raise SbomError("SBOM nested too deeply") from None


def _looks_like_cdx(data: bytes, xml: bool) -> bool:
    if xml:
        return any(m in data for m in _NS_MARKERS)
    return _JSON_MARKER in data


def _apply(entry: Entry, ctx: Context) -> Entry:
    xml = entry.name.lower().endswith(b".xml")
    data = ctx.content(entry)
    if not is_sbom_name(entry.path) and not _looks_like_cdx(data, xml):
        return entry
    notes = Notes()
    try:
        new = canonicalize(data, xml, notes)
    except SbomError as exc:
        if exc.hostile:
            ctx.finding("malformed-sbom", entry, str(exc))
        raise
    if new is None:
        return entry
    algorithms = [("sbom-hash-algorithms", ",".join(sorted(notes.hash_algorithms)))] if notes.hash_algorithms else []
    return record_and_replace(entry, ctx, data, new, notes, algorithms)


STABILIZER = Stabilizer(
    name="sbom-cyclonedx",
    scope=Scope.ENTRY,
    category=Category.SBOM,
    removes="CycloneDX serialNumber, metadata.timestamp and tool versions (with the tools' own hashes), "
            "and the order of components, dependencies and hashes, in a canonical JSON/XML serialization",
    reason="these record the run of the SBOM generator, not the software, and CycloneDX gives these lists no "
           "order; components, versions, purls, hashes, licenses and dependencies are kept and compared",
    apply=_apply,
    applies_to=_applies,
)
