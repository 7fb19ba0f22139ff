"""git-properties: build-environment keys in the files git-commit-id-maven-plugin writes (git.properties, git.json).

Applies to every entry whose name ends in ``git.properties`` or ``git.json`` (``BOOT-INF/classes/git.properties``,
``META-INF/git.properties``, ``x-git.properties``) and to the file named by ``<generateGitPropertiesFilename>`` of
``git-commit-id-maven-plugin`` / ``git-commit-id-plugin`` in an embedded ``META-INF/maven/**/pom.xml`` (with its
``<prefix>``; ``${project.build.outputDirectory}`` and simple ``${...}`` project properties resolved), in both
the properties and the flat JSON format.

Removes: the keys ``<prefix>.`` + ``build.time``, ``build.host``, ``build.user.name``, ``build.user.email``,
``build.number``, ``build.number.unique``, ``branch``, ``tags``, ``dirty``, ``remote.origin.url``,
``closest.tag.commit.count``, ``total.commit.count``, ``local.branch.ahead``, ``local.branch.behind``, and the
``Properties.store`` date comment line. They describe when, where and by whom the build ran and the state of
the checkout (branch, clone depth, uncommitted files), not the commit being built. Every other byte is kept.

Kept and compared: the commit (``commit.id``, ``commit.id.abbrev``, ``commit.id.full``), ``commit.id.describe``
and ``describe-short`` (they embed the tag distance and the ``-dirty`` suffix, but applications show them as
their version string, so a different describe is a visible difference), ``closest.tag.name``,
``commit.message.*``, ``commit.user.*``, ``commit.time``, ``commit.author.time``, ``commit.committer.time``
(note: the plugin formats them in the build machine's time zone unless ``dateFormatTimeZone`` is set) and
``build.version`` (the project version). ``commit.id`` is recorded as ``git-commit`` evidence and ``dirty`` as
``git-dirty`` evidence, so a rebuild from another commit or from a modified tree is reported as such.

Safe because no code can depend on these values for its behaviour except to display them. A file that cannot
be read (malformed escape, JSON that is not a flat object, a key written twice in JSON) and a ``pom.xml``
that cannot be parsed safely are skipped (recorded in the trace) and left as they are.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from lxml import etree

from ..errors import LimitExceeded, StabilizerSkip
from ..formats.properties import PropertiesError, PropItem, drop, is_store_date, parse
from ..model import Archive, Entry, Payload
from ..outcome import TraceStep
from ..pipeline import Context, Scope, Stabilizer
from ..taxonomy import Category

VOLATILE_SUFFIXES = (
    "build.time", "build.host", "build.user.name", "build.user.email", "build.number", "build.number.unique",
    "branch", "tags", "dirty", "remote.origin.url", "closest.tag.commit.count", "total.commit.count",
    "local.branch.ahead", "local.branch.behind",
)
PLUGIN_ARTIFACTS = frozenset({"git-commit-id-maven-plugin", "git-commit-id-plugin"})
DEFAULT_PREFIX = "git"
_DEFAULT_SUFFIXES = (b"git.properties", b"git.json")
_OUTPUT_DIRS = ("${project.build.outputDirectory}/", "${project.build.directory}/classes/",
                "${project.basedir}/target/classes/", "${basedir}/target/classes/", "target/classes/")
_VAR_RE = re.compile(r"\$\{([A-Za-z0-9_.-]+)\}")


@dataclass(frozen=True)
class Target:
    """A configured git properties file: its path in the archive (or under a classes directory)."""

    path: bytes
    prefix: str


# --------------------------------------------------------------------------------------------- pom.xml

def _local(el: Any) -> str:
    tag = el.tag
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


def _child_text(el: Any, name: str) -> str | None:
    for c in el:
        if _local(c) == name:
            return (c.text or "").strip()
    return None


def parse_pom(data: bytes) -> Any:
    """Parse a pom.xml with a hardened parser; DOCTYPE and entity declarations are refused."""
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise StabilizerSkip("pom.xml has a DOCTYPE or entity declaration; not parsed")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise StabilizerSkip(f"pom.xml is not well-formed XML: {exc}") from None
    if getattr(root.getroottree().docinfo, "doctype", ""):
        raise StabilizerSkip("pom.xml has a DOCTYPE; not parsed")
    return root


def _variables(root: Any) -> dict[str, str]:
    parent = next((c for c in root if _local(c) == "parent"), None)
    values: dict[str, str] = {}
    for name in ("groupId", "artifactId", "version", "name"):
        v = _child_text(root, name)
        if v is None and parent is not None and name in ("groupId", "version"):
            v = _child_text(parent, name)
        if v is not None:
            values[f"project.{name}"] = v
            values[name] = v
    for c in root:
        if _local(c) == "properties":
            for p in c:
                name = _local(p)
                if name:
                    values.setdefault(name, (p.text or "").strip())
    return values


def _resolve(text: str, values: dict[str, str]) -> str | None:
    for _ in range(8):
        new = _VAR_RE.sub(lambda m: values.get(m.group(1), m.group(0)), text)
        if new == text:
            break
        text = new
    return None if "${" in text else text


def _relative(filename: str, values: dict[str, str]) -> str | None:
    """The path of the generated file relative to the classes directory, or None when unknown."""
    name = filename.strip().replace("\\", "/")
    for prefix in _OUTPUT_DIRS:
        if name.startswith(prefix):
            rel = _resolve(name[len(prefix):], values)
            break
    else:
        resolved = _resolve(name, values)
        if resolved is None or "/classes/" not in resolved:
            return None
        rel = resolved.split("/classes/", 1)[1]
    if not rel or rel.startswith("/") or ".." in rel.split("/"):
        return None
    return rel


def targets_from_pom(root: Any) -> list[Target]:
    """The git properties files a pom.xml configures for git-commit-id-(maven-)plugin."""
    values = _variables(root)
    out: list[Target] = []
    for plugin in root.iter():
        if _local(plugin) != "plugin" or _child_text(plugin, "artifactId") not in PLUGIN_ARTIFACTS:
            continue
        prefix = DEFAULT_PREFIX
        names: list[str] = []
        for el in plugin.iter():
            local = _local(el)
            if local == "prefix" and el.text and el.text.strip():
                prefix = _resolve(el.text.strip(), values) or DEFAULT_PREFIX
            elif local == "generateGitPropertiesFilename" and el.text:
                names.append(el.text)
        for name in names:
            rel = _relative(name, values)
            if rel is not None:
                out.append(Target(rel.encode("utf-8"), prefix))
    return out


# --------------------------------------------------------------------------------------------- JSON

@dataclass(frozen=True)
class _Member:
    start: int  # index of the key's opening quote
    end: int  # index after the value
    key: str
    value: object


def _ws(s: str, i: int) -> int:
    while i < len(s) and s[i] in " \t\r\n":
        i += 1
    return i


def _scan_object(s: str) -> tuple[int, list[_Member], int]:
    """Members of a JSON object that is the whole document: (index after '{', members, index of '}')."""
    dec = json.JSONDecoder()
    i = _ws(s, 0)
    if i >= len(s) or s[i] != "{":
        raise ValueError("not a JSON object")
    open_end = i + 1
    members: list[_Member] = []
    i = _ws(s, open_end)
    if i < len(s) and s[i] == "}":
        close = i
    else:
        while True:
            start = i
            key, i = dec.raw_decode(s, i)
            if not isinstance(key, str):
                raise ValueError("object key is not a string")
            i = _ws(s, i)
            if i >= len(s) or s[i] != ":":
                raise ValueError("missing ':'")
            value, i = dec.raw_decode(s, _ws(s, i + 1))
            members.append(_Member(start, i, key, value))
            i = _ws(s, i)
            if i < len(s) and s[i] == ",":
                i = _ws(s, i + 1)
                continue
            if i < len(s) and s[i] == "}":
                close = i
                break
            raise ValueError("expected ',' or '}'")
    if _ws(s, close + 1) != len(s):
        raise ValueError("data after the JSON object")
    return open_end, members, close


def _json_without(s: str, open_end: int, members: Sequence[_Member], keep: Sequence[bool]) -> str:
    """The JSON text with only the kept members. A kept member keeps the separator and whitespace that preceded
    it (the first kept one takes the whitespace after ``{``); the text after the last member is kept."""
    kept = [i for i, k in enumerate(keep) if k]
    out = [s[:open_end]]
    for n, i in enumerate(kept):
        gap_from = open_end if n == 0 else (members[i - 1].end if i > 0 else open_end)
        gap_to = members[0].start if n == 0 else members[i].start
        out.append(s[gap_from:gap_to] + s[members[i].start:members[i].end])
    out.append(s[members[-1].end:] if members else s[open_end:])
    return "".join(out)


# --------------------------------------------------------------------------------------------- one file

def _record(ctx: Context, entry: Entry, prefix: str, get: dict[str, str]) -> None:
    commit = get.get(f"{prefix}.commit.id") or get.get(f"{prefix}.commit.id.full")
    if commit:
        ctx.record("git-commit", commit, entry)
    dirty = get.get(f"{prefix}.dirty")
    if dirty:
        ctx.record("git-dirty", dirty, entry)


def _stabilize_properties(entry: Entry, data: bytes, ctx: Context, prefix: str) -> Entry:
    try:
        pf = parse(data)
    except PropertiesError as exc:
        raise StabilizerSkip(f"not a readable properties file: {exc}") from None
    winners = {k: it.value for k, it in pf.winners().items() if it.value is not None}
    _record(ctx, entry, prefix, winners)
    volatile = {f"{prefix}.{s}" for s in VOLATILE_SUFFIXES}
    gone: list[PropItem] = [it for it in pf.properties if it.key in volatile]
    gone += [c for c in pf.leading_comments() if is_store_date(c)]
    if not gone:
        return entry
    try:
        new = drop(pf, gone)
    except PropertiesError as exc:  # pragma: no cover - dropping keeps the order, so render cannot fail
        raise StabilizerSkip(str(exc)) from None
    return entry.replace(payload=Payload.of_bytes(new, entry.payload.what))


def _stabilize_json(entry: Entry, text: str, ctx: Context, prefix: str) -> Entry:
    try:
        open_end, members, _close = _scan_object(text)
    except ValueError as exc:  # json.JSONDecodeError is a ValueError
        raise StabilizerSkip(f"not a flat JSON object: {exc}") from None
    keys = [m.key for m in members]
    if len(set(keys)) != len(keys):
        dup = next(k for i, k in enumerate(keys) if k in keys[:i])
        raise StabilizerSkip(f"JSON key {dup!r} appears more than once; which one a reader keeps is undefined")
    _record(ctx, entry, prefix, {m.key: m.value for m in members if isinstance(m.value, str)})
    volatile = {f"{prefix}.{s}" for s in VOLATILE_SUFFIXES}
    keep = [m.key not in volatile for m in members]
    if all(keep):
        return entry
    new = _json_without(text, open_end, members, keep).encode("utf-8")
    return entry.replace(payload=Payload.of_bytes(new, entry.payload.what))


def stabilize_file(entry: Entry, ctx: Context, prefix: str = DEFAULT_PREFIX) -> Entry:
    """Remove the volatile keys from one git properties file (properties or flat JSON format)."""
    data = ctx.content(entry)
    if data.lstrip(b" \t\r\n")[:1] == b"{":
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        if text is not None:
            try:
                return _stabilize_json(entry, text, ctx, prefix)
            except StabilizerSkip:
                if entry.name.endswith(b".json"):
                    raise
    elif entry.name.endswith(b".json"):
        raise StabilizerSkip("not a JSON object")
    return _stabilize_properties(entry, data, ctx, prefix)


# --------------------------------------------------------------------------------------------- archive

def _note_skip(ctx: Context, arc: Archive, entry: Entry, reason: str) -> None:
    ctx.trace.append(TraceStep(ctx.side.value, ctx.stabilizer, arc.path_of(entry), "skipped", reason=reason))


def _configured(arc: Archive, ctx: Context) -> list[Target]:
    found: list[Target] = []
    for e in arc.entries:
        n = e.name
        if not (n.startswith(b"META-INF/maven/") and n.endswith(b"/pom.xml")):
            continue
        try:
            data = ctx.content(e)
            if b"git-commit-id" in data:
                found += targets_from_pom(parse_pom(data))
        except StabilizerSkip as exc:
            _note_skip(ctx, arc, e, f"{exc}; its git-commit-id configuration is not used")
    return found


def _target(name: bytes, targets: Sequence[Target]) -> str | None:
    """The key prefix to use for entry ``name``, or None when it is not a git properties file."""
    for t in targets:
        if name == t.path or name.endswith(b"/" + t.path):
            return t.prefix
    if name.endswith(_DEFAULT_SUFFIXES):
        return DEFAULT_PREFIX
    return None


def _apply(arc: Archive, ctx: Context) -> Archive:
    targets = _configured(arc, ctx)
    out: list[Entry] = []
    changed = False
    for e in arc.entries:
        prefix = None if e.is_dir else _target(e.name, targets)
        if prefix is None:
            out.append(e)
            continue
        try:
            new = stabilize_file(e, ctx, prefix)
        except LimitExceeded:
            raise
        except StabilizerSkip as exc:
            _note_skip(ctx, arc, e, str(exc))
            new = e
        changed = changed or new is not e
        out.append(new)
    return arc.replace(entries=tuple(out)) if changed else arc


STABILIZER = Stabilizer(
    name="git-properties",
    scope=Scope.ARCHIVE,
    category=Category.VERSIONING_PROPERTIES,
    removes="build time, host, user, branch, tags, dirty flag, remote URL, commit counts and the store date "
            "from git.properties/git.json files of git-commit-id-maven-plugin (commit id, describe and message kept)",
    reason="they describe when, where and by whom the build ran and the checkout state, not the commit built",
    apply=_apply,
)
