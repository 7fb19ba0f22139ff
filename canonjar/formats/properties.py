"""A byte-faithful codec of ``.properties`` files, read exactly as ``java.util.Properties.load`` reads them.

:func:`parse` splits a file into consecutive :class:`PropItem` spans (blank lines, comment lines and property
lines, a property spanning all of its continuation lines) whose raw bytes concatenate back to the input, so a
stabilizer can drop or reorder whole items and keep every other byte exactly. Each property carries its key
and value as ``Properties.load`` would produce them (escapes decoded, Java UTF-16 string semantics).

Semantics follow the JDK 9+ ``Properties.LineReader`` and ``loadConvert``:

* the input is ISO-8859-1 (``load(InputStream)``); ``encoding="utf-8"`` decodes keys and values as UTF-8
  instead (``load(Reader)``, ``PropertyResourceBundle``). The structure is the same either way because every
  structural character is ASCII.
* line terminators ``\\r\\n``, ``\\n`` and ``\\r``; leading spaces, tabs and form feeds are skipped; a line whose
  first other character is ``#`` or ``!`` is a comment (never continued); a line ending in an odd number of
  backslashes continues on the next line, whose leading whitespace is dropped;
* the key ends at the first unescaped ``=``, ``:`` or whitespace; whitespace and at most one ``=``/``:``
  follow before the value; ``\\uXXXX``, ``\\t``, ``\\n``, ``\\r``, ``\\f`` and ``\\x`` (any other x) are unescaped.

Inputs that ``Properties.load`` rejects (a malformed ``\\uXXXX``) raise :class:`PropertiesError`, as does the one
input where JDK 8 and JDK 9+ disagree (a line that is a lone continuation backslash followed by a line starting
with ``#`` or ``!``: a comment for JDK 9+, part of a key for JDK 8). Duplicate keys are all kept as items;
``Properties.load`` keeps the last one, which :meth:`PropertiesFile.winners` tells.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from ..errors import CanonjarError

__all__ = [
    "ItemKind",
    "PropItem",
    "PropertiesError",
    "PropertiesFile",
    "drop",
    "is_store_date",
    "parse",
    "render",
]


class PropertiesError(CanonjarError):
    """The bytes are not a properties file ``java.util.Properties.load`` reads unambiguously."""


class ItemKind(StrEnum):
    BLANK = "blank"  # loads nothing: whitespace-only lines (and lone continuation backslashes before them)
    COMMENT = "comment"
    PROPERTY = "property"


_WS = " \t\f"
_HEX = frozenset("0123456789abcdefABCDEF")
_EOL = re.compile(r"\r\n?|\n")
_ESCAPES = {"t": "\t", "r": "\r", "n": "\n", "f": "\f"}
ENCODINGS = ("iso-8859-1", "utf-8")


@dataclass(frozen=True)
class PropItem:
    """One item of a properties file: the byte span ``data[start:end]`` (terminators included)."""

    kind: ItemKind
    start: int
    end: int
    raw: bytes
    #: Key and value as ``Properties.load`` produces them (properties only).
    key: str | None = None
    value: str | None = None
    #: True when the item ends with a line terminator that closes it: it can be followed by any other item
    #: without changing how either is read. False for an unterminated last line and for a property whose
    #: last line ends in a continuation backslash right before the end of the file.
    closed: bool = True
    #: The comment text after ``#``/``!`` without the terminator (comments only), decoded like values.
    text: str | None = None


@dataclass(frozen=True)
class PropertiesFile:
    data: bytes
    items: tuple[PropItem, ...]
    encoding: str = "iso-8859-1"

    @property
    def properties(self) -> tuple[PropItem, ...]:
        return tuple(i for i in self.items if i.kind is ItemKind.PROPERTY)

    @property
    def comments(self) -> tuple[PropItem, ...]:
        return tuple(i for i in self.items if i.kind is ItemKind.COMMENT)

    def winners(self) -> dict[str, PropItem]:
        """For each key, the item whose value ``Properties.load`` keeps (the last one)."""
        out: dict[str, PropItem] = {}
        for it in self.properties:
            assert it.key is not None
            out[it.key] = it
        return out

    def get(self, key: str) -> str | None:
        it = self.winners().get(key)
        return None if it is None else it.value

    def is_winner(self, item: PropItem) -> bool:
        return item.key is not None and self.winners().get(item.key) is item

    def conflicting_keys(self) -> list[str]:
        """Keys that appear more than once with different values (the winner depends on line order)."""
        values: dict[str, set[str]] = {}
        for it in self.properties:
            assert it.key is not None and it.value is not None
            values.setdefault(it.key, set()).add(it.value)
        return [k for k, v in values.items() if len(v) > 1]

    def leading_comments(self) -> tuple[PropItem, ...]:
        """The comment items before the first property (where ``Properties.store`` writes its header)."""
        out: list[PropItem] = []
        for it in self.items:
            if it.kind is ItemKind.PROPERTY:
                break
            if it.kind is ItemKind.COMMENT:
                out.append(it)
        return tuple(out)


def render(items: Sequence[PropItem]) -> bytes:
    """The bytes of ``items`` in the given order. Raises :class:`PropertiesError` when an item that is not
    closed (see :attr:`PropItem.closed`) would be followed by another one, which would change how they read."""
    for it in items[:-1]:
        if not it.closed:
            raise PropertiesError("an unterminated last line cannot be followed by other lines")
    return b"".join(it.raw for it in items)


# --------------------------------------------------------------------------------------------- parsing

def _line(s: str, pos: int) -> tuple[int, int]:
    """(end of content, start of the next line) of the physical line starting at ``pos``."""
    m = _EOL.search(s, pos)
    if m is None:
        return len(s), len(s)
    return m.start(), m.end()


def _skip_ws(s: str, i: int, end: int) -> int:
    while i < end and s[i] in _WS:
        i += 1
    return i


def _split(line: str) -> tuple[str, str]:
    """Key and value text of a logical line (``Properties.load0``), still escaped."""
    limit = len(line)
    key_len = 0
    value_start = limit
    has_sep = False
    preceding_backslash = False
    while key_len < limit:
        c = line[key_len]
        if c in "=:" and not preceding_backslash:
            value_start = key_len + 1
            has_sep = True
            break
        if c in _WS and not preceding_backslash:
            value_start = key_len + 1
            break
        preceding_backslash = (not preceding_backslash) if c == "\\" else False
        key_len += 1
    while value_start < limit:
        c = line[value_start]
        if c not in _WS:
            if not has_sep and c in "=:":
                has_sep = True
            else:
                break
        value_start += 1
    return line[:key_len], line[value_start:]


def _java_string(s: str) -> str:
    """Combine UTF-16 surrogate pairs (from ``\\uXXXX`` escapes) so strings compare as Java strings do."""
    if any("\ud800" <= ch <= "\udfff" for ch in s):
        return s.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")
    return s


def unescape(text: str) -> str:
    """``Properties.loadConvert``: decode the escapes of a key or value."""
    if "\\" not in text:
        return _java_string(text)
    out: list[str] = []
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        i += 1
        if c != "\\":
            out.append(c)
            continue
        if i >= n:  # cannot happen for text cut by _split (trailing backslashes are even); kept for safety
            raise PropertiesError("backslash at the end of a key or value")
        c = text[i]
        i += 1
        if c == "u":
            digits = text[i:i + 4]
            if len(digits) < 4 or not all(d in _HEX for d in digits):
                raise PropertiesError(f"malformed \\uxxxx encoding: \\u{digits[:4]!s}")
            out.append(chr(int(digits, 16)))
            i += 4
        else:
            out.append(_ESCAPES.get(c, c))
    return _java_string("".join(out))


def _decode(text: str, encoding: str) -> str:
    """``text`` holds bytes as ISO-8859-1 characters; re-decode them in ``encoding``."""
    if encoding == "iso-8859-1" or text.isascii():
        return text
    try:
        return text.encode("latin-1").decode("utf-8")
    except UnicodeDecodeError as exc:  # pragma: no cover - whole input was checked; cuts are at ASCII bytes
        raise PropertiesError(f"not valid UTF-8: {exc.reason}") from None


def parse(data: bytes, encoding: str = "iso-8859-1") -> PropertiesFile:
    """Split ``data`` into items as ``Properties.load`` reads it. Raises :class:`PropertiesError`."""
    if encoding not in ENCODINGS:
        raise PropertiesError(f"unsupported encoding {encoding!r}; use one of {', '.join(ENCODINGS)}")
    if encoding == "utf-8":
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise PropertiesError(f"not valid UTF-8 at byte {exc.start}") from None
    s = data.decode("latin-1")  # one character per byte: offsets are byte offsets
    n = len(s)
    items: list[PropItem] = []
    pos = 0
    while pos < n:
        start = pos
        cend, nxt = _line(s, pos)
        i = _skip_ws(s, pos, cend)
        if i == cend:
            items.append(PropItem(ItemKind.BLANK, start, nxt, data[start:nxt], closed=nxt > cend))
            pos = nxt
            continue
        if s[i] in "#!":
            items.append(PropItem(ItemKind.COMMENT, start, nxt, data[start:nxt], closed=nxt > cend,
                                  text=_decode(s[i + 1:cend], encoding)))
            pos = nxt
            continue
        parts: list[str] = []
        seg = i
        kind = ItemKind.PROPERTY
        while True:
            text = s[seg:cend]
            backslashes = len(text) - len(text.rstrip("\\"))
            if backslashes % 2 == 0:
                parts.append(text)
                end, closed = nxt, nxt > cend
                break
            parts.append(text[:-1])
            if nxt >= n:  # continuation at the end of the input: Java ends the line here
                end, closed = nxt, False
                if nxt - cend == 2 and not any(parts):
                    # After "\\\r\n" Java also consumes the "\n" before seeing the end: an empty line loads
                    # nothing (after "\\\n", "\\\r" or a bare "\\" it loads the empty key).
                    kind = ItemKind.BLANK
                break
            cend2, nxt2 = _line(s, nxt)
            j = _skip_ws(s, nxt, cend2)
            have = any(parts)
            if j == cend2:  # an empty continuation line ends the logical line
                end, closed = nxt2, nxt2 > cend2
                if not have:  # Java saw an empty logical line (or end of input in whitespace): nothing loads
                    kind = ItemKind.BLANK
                break
            if not have and s[j] in "#!":
                raise PropertiesError(f"line at byte {start} is a lone continuation backslash followed by a "
                                      "comment marker: JDK 8 and JDK 9+ read it differently")
            seg, cend, nxt = j, cend2, nxt2
        if kind is ItemKind.BLANK:
            items.append(PropItem(kind, start, end, data[start:end], closed=closed))
        else:
            key_text, value_text = _split("".join(parts))
            key = unescape(_decode(key_text, encoding))
            value = unescape(_decode(value_text, encoding))
            items.append(PropItem(kind, start, end, data[start:end], key=key, value=value, closed=closed))
        pos = end
    return PropertiesFile(data, tuple(items), encoding)


# --------------------------------------------------------------------------------------------- Properties.store

_DAYS = "Sun|Mon|Tue|Wed|Thu|Fri|Sat"
_MONTHS = "Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec"
_ZONE = r"(?:[A-Za-z]{2,6}|(?:GMT|UTC)?[+-]\d{1,2}(?::?\d{2})?)"
#: The line ``Properties.store`` writes: ``#`` + ``Date.toString()`` (``EEE MMM dd HH:mm:ss zzz yyyy``, always
#: in English) + a line separator.
STORE_DATE_RE = re.compile(
    rb"#(?:" + _DAYS.encode() + rb") (?:" + _MONTHS.encode() + rb") (?:0[1-9]|[12]\d|3[01]) "
    rb"(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d " + _ZONE.encode() + rb" \d{4}(?:\r\n|\n|\r)?")


def is_store_date(item: PropItem) -> bool:
    """True for a comment line that is exactly a ``Properties.store`` date line (``#Sat Nov 23 01:09:00 UTC
    2026``), starting in the first column."""
    return item.kind is ItemKind.COMMENT and STORE_DATE_RE.fullmatch(item.raw) is not None


def drop(pf: PropertiesFile, remove: Iterable[PropItem]) -> bytes:
    """The bytes of ``pf`` without the items in ``remove`` (compared by identity); order is kept."""
    gone = {id(i) for i in remove}
    return render([i for i in pf.items if id(i) not in gone])
