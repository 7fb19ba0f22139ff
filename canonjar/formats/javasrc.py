"""Java source helpers: tell a layout-only change of a Java source from a change of its code (javalang)."""

from __future__ import annotations

import re

__all__ = ["java_tokens_equal"]

#: Whitespace Java allows between tokens (JLS 3.6, 3.4); anything else Python calls space is not Java whitespace.
_JAVA_SPACE = frozenset(" \t\f\r\n")
#: A Unicode escape (JLS 3.3): a backslash preceded by an even number of backslashes, one or more ``u``, then
#: what must be four hex digits (javalang's ``int(..., 16)`` would also accept ``+1_f`` or spaces).
_UNICODE_ESCAPE_RE = re.compile(r"(?<!\\)(?:\\\\)*\\u+(.{0,4})", re.DOTALL)
_HEX4_RE = re.compile(r"[0-9A-Fa-f]{4}")


def java_tokens_equal(a: bytes, b: bytes) -> bool | None:
    """Whether two Java sources have the same token sequence, judged with javalang's tokenizer.

    True: they differ at most in whitespace (line endings included), comments (javadoc included) and the
    spelling of Unicode escapes, none of which changes the compiled code (line numbers may move). False: the
    tokens differ (a literal, an identifier, an operator...); note ``>>`` and ``> >`` are different tokens, so
    False means "not shown to be layout-only". None: at least one side cannot be tokenized: not UTF-8, a
    character javalang does not know, whitespace Java does not allow (javalang would skip it), or a ``\"\"\"``
    text block (Java 15+), which javalang would split into ordinary string tokens.
    """
    ta, tb = _java_tokens(a), _java_tokens(b)
    if ta is None or tb is None:
        return None
    return ta == tb


def _java_tokens(data: bytes) -> list[tuple[str, str]] | None:
    import javalang.tokenizer

    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if '"""' in text:
        return None
    if any(c.isspace() and c not in _JAVA_SPACE for c in text):
        return None
    if any(not _HEX4_RE.fullmatch(m.group(1)) for m in _UNICODE_ESCAPE_RE.finditer(text)):
        return None
    try:
        return [(type(t).__name__, str(t.value)) for t in javalang.tokenizer.tokenize(text)]
    except Exception:  # LexerError, and the IndexError/ValueError javalang raises on some malformed input
        return None
