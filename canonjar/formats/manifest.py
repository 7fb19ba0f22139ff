"""A byte-faithful codec for ``META-INF/MANIFEST.MF`` (JAR File Specification, "JAR Manifest").

Reading follows what ``java.util.jar.Manifest`` accepts, so that the model means what the JVM sees:

* Lines end in CRLF, LF or CR (a CR not followed by LF); endings may be mixed within one file.
* A line starting with one space continues the previous header. The bytes of all lines are joined first and
  decoded as UTF-8 afterwards, so a multi-byte character split across a continuation decodes correctly.
* The main section runs up to the first blank line. Every later section starts with ``Name: `` (any case);
  runs of blank lines between sections are skipped, as the JDK does.
* ``name: value``: the colon must be followed by one space; names are 1-70 characters of ``[A-Za-z0-9_-]``
  and compared case-insensitively (the original spelling is kept). A duplicate name is kept and noted; the
  JDK keeps the last value.
* An unterminated last line is **ignored by the JDK** (``Manifest.read`` drops the whole last logical
  line, continuations included). The parser keeps it apart as :attr:`Manifest.tail`, never as an
  attribute, and notes it, so that a stabilizer can never turn an ignored line into an effective one.
* Lines longer than 72 bytes are tolerated and noted; lines the JDK cannot read at all (more than 512 bytes
  with the terminator) are errors, as are NUL bytes, invalid UTF-8, a line without ``": "``, an invalid
  name, a continuation with nothing to continue and a section that does not start with ``Name:``.

The model keeps every physical byte (:attr:`Attribute.raw`, :attr:`Section.separator`,
:attr:`Manifest.tail`): :meth:`Manifest.to_bytes` of a parsed manifest is the input, byte for byte, and
stays so for every section and attribute a stabilizer did not touch. :func:`serialize` writes the canonical
layout instead: the JDK ``Manifest.write`` format (CRLF, a blank line after every section, 72-byte lines)
but wrapped byte-safely, never splitting a UTF-8 character across a continuation line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from ..errors import CanonjarError, StabilizerSkip

if TYPE_CHECKING:
    from ..model import Entry
    from ..pipeline import Context

__all__ = [
    "MANIFEST_NAME",
    "MAX_JDK_LINE",
    "MAX_LINE",
    "Attribute",
    "Manifest",
    "ManifestError",
    "Section",
    "is_manifest_name",
    "line_ending",
    "load_for_stabilizer",
    "make_attribute",
    "parse",
    "serialize",
    "wrap_line",
]

MANIFEST_NAME = b"META-INF/MANIFEST.MF"
#: The specification's limit on a line, in bytes, without the line terminator.
MAX_LINE = 72
#: ``java.util.jar.Manifest`` reads lines into a 512-byte buffer (terminator included) and fails beyond it.
MAX_JDK_LINE = 512
CRLF = b"\r\n"

_NAME_RE = re.compile(r"[A-Za-z0-9_-]{1,70}")


class ManifestError(CanonjarError):
    """The bytes are not a manifest the JDK would read (or a model cannot be written as one)."""


# --------------------------------------------------------------------------------------------- model

@dataclass(frozen=True)
class Attribute:
    """One header: ``name`` keeps its original spelling; ``raw`` is every physical byte it was read from
    (header line, continuation lines and their terminators), or the bytes :func:`make_attribute` wrote."""

    name: str
    value: str
    raw: bytes
    line: int = 0  # 1-based line number of the header line in the parsed input (0: built, not parsed)

    @property
    def key(self) -> str:
        """The case-insensitive identity of the name."""
        return self.name.lower()

    def newline(self) -> bytes:
        """The line terminator this attribute was written with (CRLF when it has none)."""
        return line_ending(self.raw)


@dataclass(frozen=True)
class Section:
    """The main section (first) or a per-entry section (its first attribute is ``Name``).

    ``separator`` holds the blank lines that follow the section in the input. It belongs to the section's
    *position*: reordering sections keeps separators in place, so a section that ended the file without a
    blank line cannot end up in the middle and merge with its successor.
    """

    attributes: tuple[Attribute, ...]
    separator: bytes = b""

    @property
    def name(self) -> str | None:
        """The ``Name`` of a per-entry section (None for an empty main section)."""
        if self.attributes and self.attributes[0].key == "name":
            return self.attributes[0].value
        return None

    def get(self, name: str) -> str | None:
        """The value the JDK sees for ``name`` (case-insensitive; the last duplicate wins)."""
        key = name.lower()
        found = None
        for a in self.attributes:
            if a.key == key:
                found = a.value
        return found


@dataclass(frozen=True)
class Manifest:
    """A parsed manifest. ``sections[0]`` is the main section; ``tail`` is an unterminated last logical
    line, kept verbatim, which the JDK ignores; ``notes`` lists tolerated oddities."""

    sections: tuple[Section, ...]
    tail: bytes = b""
    notes: tuple[str, ...] = ()

    @property
    def main(self) -> Section:
        return self.sections[0]

    @property
    def entries(self) -> tuple[Section, ...]:
        return self.sections[1:]

    def to_bytes(self) -> bytes:
        """The exact bytes of the model: the parsed input when nothing was changed.

        After an edit, a lone-CR line end could meet a blank line written as LF (``"A: 1\r" + "\n"``) and
        read back as one CRLF, losing the blank line that ends the section; such a CR becomes CRLF. This
        never happens for unedited input (the parser would have read that CRLF as one terminator).
        """
        out = bytearray()
        for s in self.sections:
            for piece in (*(a.raw for a in s.attributes), s.separator):
                if piece[:1] == b"\n" and out[-1:] == b"\r":
                    out += b"\n"
                out += piece
        out += self.tail
        return bytes(out)

    def with_sections(self, sections: tuple[Section, ...]) -> Manifest:
        return replace(self, sections=sections)

    def logical(self) -> tuple[tuple[tuple[str, str], ...], ...]:
        """Names and values of every section, in order (what a comparison of meaning looks at)."""
        return tuple(tuple((a.name, a.value) for a in s.attributes) for s in self.sections)

    def duplicates(self) -> list[tuple[str | None, str]]:
        """(section name, attribute name) for every attribute name that occurs more than once in a section."""
        out: list[tuple[str | None, str]] = []
        for i, s in enumerate(self.sections):
            seen: dict[str, int] = {}
            for a in s.attributes[1 if i else 0:]:
                seen[a.key] = seen.get(a.key, 0) + 1
                if seen[a.key] == 2:
                    out.append((s.name if i else None, a.name))
        return out


# --------------------------------------------------------------------------------------------- reading

def _lines(data: bytes) -> Iterator[tuple[bytes, bytes]]:
    """(content, terminator) of every physical line; the last one may have an empty terminator."""
    pos, n = 0, len(data)
    while pos < n:
        cr = data.find(b"\r", pos)
        lf = data.find(b"\n", pos)
        if cr < 0 and lf < 0:
            yield data[pos:], b""
            return
        if cr < 0 or (0 <= lf < cr):
            yield data[pos:lf], b"\n"
            pos = lf + 1
        elif cr + 1 < n and data[cr + 1] == 0x0A:
            yield data[pos:cr], CRLF
            pos = cr + 2
        else:
            yield data[pos:cr], b"\r"
            pos = cr + 1


def _decode(value: bytes, line: int) -> str:
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ManifestError(f"line {line}: value is not valid UTF-8 ({exc.reason} at byte {exc.start})") from None


@dataclass
class _Pending:
    """A logical line being read: its header and the raw bytes of its physical lines."""

    name: str
    value: bytearray
    raw: bytearray
    line: int


def parse(data: bytes) -> Manifest:
    """Parse ``data``; raises :class:`ManifestError` on anything the JDK would refuse."""
    if b"\x00" in data:
        raise ManifestError(f"NUL byte at offset {data.index(0)}")
    notes: list[str] = []
    sections: list[Section] = []
    attrs: list[Attribute] = []
    separator = bytearray()
    in_section = True  # the main section starts at the first line
    pending: _Pending | None = None
    endings: set[bytes] = set()
    tail = b""
    lineno = 0

    def flush() -> None:
        nonlocal pending
        if pending is not None:
            # Like the JDK, the name is validated when its logical line is complete.
            if not _NAME_RE.fullmatch(pending.name):
                raise ManifestError(f"line {pending.line}: invalid attribute name {pending.name[:80]!r}")
            attrs.append(Attribute(pending.name, _decode(bytes(pending.value), pending.line), bytes(pending.raw),
                                   pending.line))
            pending = None

    for content, term in _lines(data):
        lineno += 1
        if term:
            endings.add(term)
        if len(content) + max(len(term), 1) > MAX_JDK_LINE:
            raise ManifestError(f"line {lineno} is {len(content)} bytes long; the JDK reads at most "
                                f"{MAX_JDK_LINE} bytes per line")
        if len(content) > MAX_LINE:
            notes.append(f"line {lineno} is {len(content)} bytes long (the specification allows {MAX_LINE})")
        if not term:
            # Unterminated last line: java.util.jar.Manifest drops the whole logical line it ends, whatever
            # it contains, so it is kept verbatim and never validated or decoded.
            if content[:1] == b" " and pending is not None:
                tail = bytes(pending.raw) + content
                pending = None
            else:
                flush()
                tail = content
            what = tail.decode("utf-8", "backslashreplace")
            what = what if len(what) <= 80 else what[:77] + "..."
            notes.append(f"the last line has no line terminator; the JDK ignores {what!r}")
            break
        if not content:
            if in_section:
                flush()
                in_section = False
            separator += term
            continue
        if content[:1] == b" ":
            if pending is None:
                raise ManifestError(f"line {lineno}: continuation line with no header to continue")
            pending.raw += content + term
            pending.value += content[1:]
            continue
        # A header line.
        flush()
        if not in_section:
            # A new per-entry section: close the previous one (with the blank lines that followed it).
            sections.append(Section(tuple(attrs), bytes(separator)))
            attrs = []
            separator = bytearray()
            in_section = True
            name, value = _header(content, lineno, False)
            pending = _Pending(name, bytearray(value), bytearray(content + term), lineno)
        else:
            name, value = _header(content, lineno, True)
            pending = _Pending(name, bytearray(value), bytearray(content + term), lineno)
    flush()
    sections.append(Section(tuple(attrs), bytes(separator)))
    if len(sections) > 1 and not sections[-1].attributes and tail:
        # The tail was a ``Name:`` line that would have opened a section: the JDK never opens it.
        last = sections.pop()
        sections[-1] = Section(sections[-1].attributes, sections[-1].separator + last.separator)
    if len(endings) > 1:
        notes.append("mixed line endings: " + ", ".join(sorted(repr(e)[2:-1] for e in endings)))
    m = Manifest(tuple(sections), tail, ())
    for sec_name, attr_name in m.duplicates():
        where = "the main section" if sec_name is None else f"section {sec_name!r}"
        notes.append(f"duplicate attribute {attr_name!r} in {where} (the JDK keeps the last value)")
    counts: dict[str, int] = {}
    for s in m.entries:
        if s.name is not None:
            counts[s.name] = counts.get(s.name, 0) + 1
    notes.extend(f"section {n!r} appears {c} times (the JDK merges them)" for n, c in counts.items() if c > 1)
    return replace(m, notes=tuple(notes))


def _header(content: bytes, lineno: int, in_section: bool) -> tuple[str, bytes]:
    """Split ``name: value`` (the name is checked later); a section start (``in_section`` False) must be
    ``Name: ``. Both checks are immediate in the JDK."""
    colon = content.find(b":")
    if colon < 0:
        raise ManifestError(f"line {lineno}: not a header (no ':') and not a continuation line")
    if content[colon + 1:colon + 2] != b" ":
        raise ManifestError(f"line {lineno}: ':' is not followed by a space")
    name = content[:colon].decode("ascii", "replace")
    if not in_section and name.lower() != "name":
        raise ManifestError(f"line {lineno}: a section after a blank line must start with 'Name:', not {name!r}")
    return name, content[colon + 2:]


# --------------------------------------------------------------------------------------------- writing

def _check(name: str, value: str) -> None:
    if not _NAME_RE.fullmatch(name):
        raise ManifestError(f"cannot write invalid attribute name {name[:80]!r}")
    if any(c in value for c in "\r\n\x00"):
        raise ManifestError(f"cannot write a CR, LF or NUL in the value of {name!r}")


def wrap_line(line: bytes, newline: bytes = CRLF) -> bytes:
    """``line`` as physical lines of at most 72 bytes (continuations start with one space), never cutting
    inside a UTF-8 character."""
    out = bytearray()
    limit = MAX_LINE
    pos = 0
    n = len(line)
    while True:
        end = min(n, pos + limit)
        if end < n:
            while end > pos and (line[end] & 0xC0) == 0x80:  # never cut a multi-byte character
                end -= 1
            if end == pos:  # not UTF-8 at all: plain byte cut
                end = min(n, pos + limit)
        out += line[pos:end] + newline
        pos = end
        if pos >= n:
            return bytes(out)
        out += b" "
        limit = MAX_LINE - 1


def make_attribute(name: str, value: str, newline: bytes = CRLF) -> Attribute:
    """A new attribute, written the canonical way (72-byte byte-safe wrapping) with ``newline``."""
    _check(name, value)
    return Attribute(name, value, wrap_line(name.encode("ascii") + b": " + value.encode("utf-8"), newline))


def serialize(m: Manifest) -> bytes:
    """The canonical bytes of ``m``: JDK ``Manifest.write`` layout (CRLF, one blank line after each section)
    with byte-safe 72-byte wrapping; attribute and section order as in the model. An unterminated tail is
    kept verbatim (the JDK ignores it either way), in the same place relative to the last blank line."""
    if not m.entries and not m.main.attributes and not m.tail:
        return b""
    out = bytearray()
    for s in m.sections:
        for a in s.attributes:
            _check(a.name, a.value)
            out += wrap_line(a.name.encode("ascii") + b": " + a.value.encode("utf-8"))
        out += CRLF
    if m.tail:
        if not m.sections[-1].separator:
            del out[-2:]
        out += m.tail
    return bytes(out)


def line_ending(raw: bytes) -> bytes:
    """The terminator of the first line of ``raw`` (CRLF when there is none)."""
    for _content, term in _lines(raw):
        return term or CRLF
    return CRLF


# --------------------------------------------------------------------------------------------- stabilizer glue

def is_manifest_name(name: bytes) -> bool:
    """True for ``META-INF/MANIFEST.MF`` in any case (as ``JarFile`` and ``JarInputStream`` match it)."""
    return name.upper() == MANIFEST_NAME


def load_for_stabilizer(entry: Entry, ctx: Context) -> tuple[bytes, Manifest]:
    """The content and parsed manifest of ``entry``. A malformed manifest is reported once per entry and
    side as a ``malformed-manifest`` finding, then :class:`StabilizerSkip` is raised."""
    data = ctx.content(entry)
    try:
        return data, parse(data)
    except ManifestError as exc:
        path = ctx.path(entry)
        if not any(f.code == "malformed-manifest" and f.path == path for f in ctx.findings):
            ctx.finding("malformed-manifest", entry, str(exc))
        raise StabilizerSkip(f"malformed manifest: {exc}") from None
