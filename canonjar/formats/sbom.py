"""Shared codecs for software bills of materials (CycloneDX, SPDX): strict JSON, hardened XML, SPDX tag-value.

* :func:`parse_json` / :func:`dump_json`: strict JSON (UTF-8, no duplicate keys, no NaN/Infinity, finite
  numbers) and its canonical serialization (sorted keys, two-space indentation, UTF-8, final newline).
  ``dump_json(parse_json(dump_json(x))) == dump_json(x)``: the canonical form is a fixed point.
* :func:`parse_xml` / :func:`dump_xml`: XML parsed only with a hardened lxml parser (no entity resolution, no
  DTD loading, no network, no huge trees). Documents that declare entities or reference an external DTD are
  refused *before* parsing as hostile (billion laughs, XXE); any other DOCTYPE is refused as well, since no
  SBOM has one. The canonical serialization is C14N 1.0 (sorted attributes, no XML declaration) of the tree
  re-indented with two spaces (only whitespace between elements is touched; text content never).
* :func:`parse_tag_value`: SPDX tag-value split into fields (a ``Tag: value`` line plus the continuation
  lines of a ``<text>...</text>`` block), with a byte-exact round trip through :func:`join_tag_value`.

Every parse failure raises :class:`SbomError`, a :class:`~canonjar.errors.StabilizerSkip`, so a stabilizer
that lets it propagate turns it into a recorded skip.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from ..errors import StabilizerSkip

__all__ = [
    "URN_UUID",
    "SbomError",
    "SbomNotes",
    "TagValueField",
    "dump_json",
    "dump_xml",
    "join_tag_value",
    "json_key",
    "parse_json",
    "parse_tag_value",
    "parse_xml",
    "sorted_noting_order",
    "split_tool_version",
    "strip_purl_version",
]

#: A CycloneDX serial number: ``urn:uuid:`` followed by an RFC 4122 UUID (any version).
URN_UUID = re.compile(r"urn:uuid:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


class SbomError(StabilizerSkip):
    """An SBOM that cannot be parsed safely. ``hostile`` marks XML that declares entities or an external DTD."""

    def __init__(self, message: str, hostile: bool = False) -> None:
        super().__init__(message)
        self.hostile = hostile


# --------------------------------------------------------------------------------------------- JSON

@dataclass
class SbomNotes:
    """What an SBOM stabilizer removed or observed, for the evidence."""

    tool_versions: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)  # serial-number, timestamp, order (once each)

    def remove(self, what: str) -> None:
        """Note that a kind of per-run value (``serial-number``, ``timestamp``, ``order``) was removed."""
        if what not in self.removed:
            self.removed.append(what)


def sorted_noting_order(items: list[Any], key: Any, notes: SbomNotes) -> list[Any]:
    """``items`` sorted by ``key``, noting an ``order`` removal when that moved anything."""
    out = sorted(items, key=key)
    if any(a is not b for a, b in zip(out, items, strict=True)):
        notes.remove("order")
    return out


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            # Readers disagree on which duplicate wins; re-serializing would silently pick one.
            raise SbomError(f"malformed JSON: duplicate key {k[:80]!r}")
        out[k] = v
    return out


def _reject_constant(name: str) -> Any:
    raise SbomError(f"malformed JSON: {name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise SbomError(f"malformed JSON: number {text[:40]} overflows")
    return value


def parse_json(data: bytes) -> Any:
    """Strictly parse UTF-8 JSON (a leading BOM is tolerated). Raises :class:`SbomError`."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SbomError(f"malformed JSON: not UTF-8 ({exc.reason} at byte {exc.start})") from None
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_reject_constant,
                          parse_float=_finite_float)
    except SbomError:
        raise
    except RecursionError:
        raise SbomError("malformed JSON: nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError, and int() of a number with too many digits
        raise SbomError(f"malformed JSON: {exc}") from None


def dump_json(value: Any) -> bytes:
    """The canonical serialization: sorted keys, two-space indentation, UTF-8, one final newline."""
    try:
        text = json.dumps(value, sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False)
        return (text + "\n").encode("utf-8")
    except RecursionError:
        raise SbomError("malformed JSON: nested too deeply") from None
    except UnicodeEncodeError:
        raise SbomError("malformed JSON: string with an unpaired surrogate escape") from None
    except ValueError as exc:
        raise SbomError(f"cannot serialize JSON: {exc}") from None


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def json_key(item: Any, *fields: str) -> tuple[str, ...]:
    """A total sort key for a list element: the named string fields (when ``item`` is an object), then its
    whole canonical serialization as the tie-break, so equal keys never depend on the input order."""
    whole = json.dumps(item, sort_keys=True, ensure_ascii=True)
    if isinstance(item, dict):
        return (*(_as_text(item.get(f, "")) for f in fields), whole)
    return (*("" for _ in fields), whole)


# --------------------------------------------------------------------------------------------- XML

_ENTITY_MARKERS = tuple("<!ENTITY".encode(enc) for enc in ("utf-8", "utf-16-le", "utf-16-be"))
_DOCTYPE_MARKERS = tuple("<!DOCTYPE".encode(enc) for enc in ("utf-8", "utf-16-le", "utf-16-be"))
_EXTERNAL_DTD = re.compile(rb"<!DOCTYPE[^>\[]*\b(?:SYSTEM|PUBLIC)\b")


def _parser() -> etree.XMLParser:
    # A new parser per document: lxml parsers keep state and are not thread-safe.
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                           dtd_validation=False, collect_ids=False, remove_blank_text=False)


def parse_xml(data: bytes) -> etree._ElementTree:
    """Parse ``data`` with the hardened parser. DOCTYPE and entity declarations are refused (``hostile`` for
    entity declarations and external DTDs) before any parsing. Raises :class:`SbomError`."""
    upper = data.upper()
    if any(m in upper for m in _ENTITY_MARKERS):
        raise SbomError("XML declares entities (<!ENTITY>): refused unparsed as hostile (XXE, entity expansion)",
                        hostile=True)
    if _EXTERNAL_DTD.search(upper):
        raise SbomError("XML references an external DTD: refused unparsed as hostile (XXE)", hostile=True)
    if any(m in upper for m in _DOCTYPE_MARKERS):
        raise SbomError("XML has a DOCTYPE declaration, which no SBOM has: refused unparsed")
    try:
        root = etree.fromstring(data, _parser())
    except (etree.LxmlError, ValueError) as exc:
        raise SbomError(f"malformed XML: {' '.join(str(exc).split())[:300]}") from None
    tree = root.getroottree()
    info: Any = tree.docinfo  # lxml-stubs lack doctype, system_url and DTD.iterentities
    # Belt and braces for encodings the byte scan above cannot see (UTF-32, EBCDIC...).
    dtd: Any = info.internalDTD
    if dtd is not None or info.doctype:
        if (dtd is not None and any(True for _ in dtd.iterentities())) or info.system_url or info.public_id:
            raise SbomError("XML declares entities or an external DTD: refused as hostile (XXE, entity "
                            "expansion)", hostile=True)
        raise SbomError("XML has a DOCTYPE declaration, which no SBOM has: refused")
    return tree


def dump_xml(tree: etree._ElementTree) -> bytes:
    """Canonical XML: whitespace between elements re-indented (in place), then C14N 1.0, comments kept."""
    etree.indent(tree.getroot(), space="  ")
    try:
        out: bytes = etree.tostring(tree, method="c14n", with_comments=True)
    except (etree.LxmlError, ValueError) as exc:
        raise SbomError(f"cannot serialize XML: {exc}") from None
    return out + b"\n"


# --------------------------------------------------------------------------------------------- tools, purls

_TOOL_VERSION = re.compile(r"^(?P<name>.*?[^\s_@-])[\s_@-]+v?(?P<version>\d+(?:\.\d+)+(?:[-+.~][0-9A-Za-z.+~-]*)?)$")


def split_tool_version(text: str) -> tuple[str, str | None]:
    """``"syft-0.84.1"`` -> ``("syft", "0.84.1")``; text without a trailing dotted version is returned whole."""
    m = _TOOL_VERSION.match(text.strip())
    if m is None:
        return text, None
    return m["name"], m["version"]


def strip_purl_version(purl: str) -> str:
    """``pkg:maven/g/a@1.2?type=jar`` -> ``pkg:maven/g/a?type=jar`` (the version of a package URL removed)."""
    return re.sub(r"@[^?#]*", "", purl, count=1)


# --------------------------------------------------------------------------------------------- SPDX tag-value

@dataclass(frozen=True)
class TagValueField:
    """One field of an SPDX tag-value document: ``tag`` and ``value`` of a ``Tag: value`` line (the value runs
    to the end of a ``<text>`` block when it opens one), or ``tag`` None for blank and comment lines. ``raw`` is
    the exact text, line endings included."""

    tag: str | None
    value: str
    raw: str


_LINE = re.compile(r"[^\n]*\n|[^\n]+\Z")
_TAG = re.compile(r"([A-Za-z][A-Za-z0-9_.-]*):[ \t]?(.*)\Z", re.DOTALL)


def _strip_eol(line: str) -> str:
    return line.removesuffix("\n").removesuffix("\r")


def parse_tag_value(text: str) -> list[TagValueField]:
    """Split an SPDX tag-value document into fields. ``"".join(f.raw for f in fields) == text`` always holds.
    Raises :class:`SbomError` for a line that is neither a field, a comment nor blank, and for an unterminated
    ``<text>`` block."""
    fields: list[TagValueField] = []
    lines = _LINE.findall(text)
    i = 0
    while i < len(lines):
        line = lines[i]
        bare = _strip_eol(line)
        if not bare.strip() or bare.lstrip().startswith("#"):
            fields.append(TagValueField(None, bare, line))
            i += 1
            continue
        m = _TAG.match(bare)
        if m is None:
            raise SbomError(f"malformed SPDX tag-value: line {i + 1} is not 'Tag: value'")
        tag, value = m[1], m[2]
        raw = line
        i += 1
        start = value.find("<text>")
        if start >= 0 and value.find("</text>", start) < 0:
            parts = [value]
            while True:
                if i >= len(lines):
                    raise SbomError(f"malformed SPDX tag-value: <text> of {tag} is never closed")
                raw += lines[i]
                parts.append(_strip_eol(lines[i]))
                i += 1
                if "</text>" in parts[-1]:
                    break
            value = "\n".join(parts)
        fields.append(TagValueField(tag, value, raw))
    return fields


def join_tag_value(fields: Iterable[TagValueField]) -> str:
    return "".join(f.raw for f in fields)
