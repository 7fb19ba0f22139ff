"""Modified UTF-8, the string encoding of class files (JVMS 4.4.7).

It differs from UTF-8 in two ways: NUL is written as the two bytes ``C0 80`` and characters above U+FFFF are
written as a surrogate pair, each surrogate encoded on three bytes (so there are never 4-byte sequences).
The codec never re-encodes strings: constants keep their raw bytes. These helpers exist to display them and
to build new constants.
"""

from __future__ import annotations

import re
import struct

from .errors import ClassFormatError

__all__ = ["decode_mutf8", "display_mutf8", "encode_mutf8"]

_NOT_PLAIN = re.compile(rb"[\x00\xf0-\xff]")


def encode_mutf8(text: str) -> bytes:
    """Modified UTF-8 bytes of ``text`` (which may hold lone surrogates, as Java strings can)."""
    if text.isascii() and "\x00" not in text:
        return text.encode("ascii")
    raw = text.encode("utf-16-be", "surrogatepass")
    out = bytearray()
    for (unit,) in struct.iter_unpack(">H", raw):
        if 0 < unit < 0x80:
            out.append(unit)
        elif unit < 0x800:
            out += bytes((0xC0 | unit >> 6, 0x80 | unit & 0x3F))
        else:
            out += bytes((0xE0 | unit >> 12, 0x80 | unit >> 6 & 0x3F, 0x80 | unit & 0x3F))
    return bytes(out)


def _units(raw: bytes, strict: bool) -> list[int | bytes]:
    """UTF-16 code units of ``raw``; with ``strict=False`` an undecodable byte is kept as ``bytes``."""
    out: list[int | bytes] = []
    i = 0
    n = len(raw)
    while i < n:
        b = raw[i]
        if 0 < b < 0x80:
            out.append(b)
            i += 1
            continue
        if 0xC0 <= b < 0xE0 and i + 1 < n and raw[i + 1] & 0xC0 == 0x80:
            out.append((b & 0x1F) << 6 | raw[i + 1] & 0x3F)
            i += 2
            continue
        if 0xE0 <= b < 0xF0 and i + 2 < n and raw[i + 1] & 0xC0 == 0x80 and raw[i + 2] & 0xC0 == 0x80:
            out.append((b & 0x0F) << 12 | (raw[i + 1] & 0x3F) << 6 | raw[i + 2] & 0x3F)
            i += 3
            continue
        if strict:
            raise ClassFormatError(f"invalid modified UTF-8 byte 0x{b:02x}", i)
        out.append(raw[i:i + 1])
        i += 1
    return out


def _join_units(units: list[int]) -> str:
    # utf-16 with surrogatepass combines valid surrogate pairs and keeps lone surrogates.
    return struct.pack(f">{len(units)}H", *units).decode("utf-16-be", "surrogatepass")


def decode_mutf8(raw: bytes) -> str:
    """The Java string held by modified UTF-8 ``raw``: ``C0 80`` is NUL, surrogate pairs are combined,
    lone surrogates are kept as such. Raises :class:`ClassFormatError` on bytes that are not modified UTF-8
    (a raw NUL, a byte F0-FF, a truncated or broken sequence)."""
    if not _NOT_PLAIN.search(raw):
        try:
            return raw.decode("utf-8")  # valid UTF-8 without NUL and 4-byte forms reads the same
        except UnicodeDecodeError:
            pass
    units = _units(raw, strict=True)
    return _join_units(units)  # type: ignore[arg-type]  # strict: ints only


def _escape(ch: str) -> str:
    cp = ord(ch)
    if 0xD800 <= cp < 0xE000:
        return f"\\u{cp:04x}"
    if ch.isprintable():
        return ch
    if cp < 0x100:
        return f"\\x{cp:02x}"
    return f"\\u{cp:04x}" if cp < 0x10000 else f"\\U{cp:08x}"


def display_mutf8(raw: bytes) -> str:
    """A printable, one-line rendering of modified UTF-8 ``raw`` for reports; never raises.

    Control characters, lone surrogates and undecodable bytes are escaped (``\\x00``, ``\\ud800``, ``\\xff``
    for a byte that is not modified UTF-8)."""
    try:
        return _display(decode_mutf8(raw))
    except ClassFormatError:
        pass
    parts: list[str] = []
    run: list[int] = []
    for u in _units(raw, strict=False):
        if isinstance(u, int):
            run.append(u)
            continue
        if run:
            parts.append(_display(_join_units(run)))
            run = []
        parts.append(f"\\x{u[0]:02x}")
    if run:
        parts.append(_display(_join_units(run)))
    return "".join(parts)


def _display(text: str) -> str:
    if text.isprintable():  # surrogates (category Cs) are not printable
        return text
    return "".join(_escape(c) for c in text)
