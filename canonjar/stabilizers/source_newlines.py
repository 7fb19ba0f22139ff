"""source-newlines: CRLF and lone-CR line endings of Java, Kotlin, Groovy and Scala source files.

Removes: the difference between CRLF, CR and LF line terminators in entries named ``*.java``, ``*.kt``,
``*.kts``, ``*.groovy`` and ``*.scala`` (in ``-sources.jar`` files and anywhere else), the Reproducible Central
``newline=crlf`` case: a source JAR built from a Windows checkout (``core.autocrlf``) has CRLF where the
reference has LF. The canonical form is LF: every CRLF becomes LF and every lone CR becomes LF, so the number of
line terminators, hence every line number (the ones in a class file's ``LineNumberTable`` and a debugger's view),
is unchanged, and no byte other than CR is touched.

Only valid UTF-8 (ASCII included) text without NUL bytes is changed; anything else is skipped with a reason.

Why this cannot change behaviour:

* Java: CR, LF and CRLF are the same line terminator (JLS 3.4). A string or character literal cannot contain a
  raw line terminator (JLS 3.10.5), and a text block normalizes every line terminator of its content to LF
  (JLS 3.10.6), so no value of a compiled program depends on the source's line endings; comments are ignored.
* Kotlin, Groovy and Scala also treat the three terminators alike, but their multi-line literals may keep the
  source's terminators in the string value (Kotlin and Scala raw strings ``\"\"\"...\"\"\"``, Groovy
  ``'''...'''``, ``\"\"\"...\"\"\"``, slashy ``/.../`` and dollar-slashy ``$/.../$`` strings, Scala XML
  literals), so the file is changed only when none of them can contain a line break. The check
  over-approximates instead of lexing: all text from the first to the last possible delimiter counts as
  literal, wherever it is (comments included), and a file is skipped if that span holds a CR or LF. For Groovy
  every ``/`` may close a slashy string and every ``/`` may open one except the comment marks ``//``, ``/*``
  and a ``*/`` after a ``/*`` (so ``a / b`` followed by any later ``/`` on another line makes the file
  skipped); for Scala any ``<`` that could open an XML literal (after whitespace, ``(``, ``{`` or ``>``,
  before a letter, ``_``, ``!`` or ``?``), even in a comment, makes the file skipped.

The module also provides :func:`java_tokens_equal`, used to annotate (never to hide) a content difference of
two ``.java`` files: it tells "same Java tokens, only whitespace or comments differ" from "the code differs".
"""

from __future__ import annotations

import re

from ..errors import StabilizerSkip
from ..formats.javasrc import java_tokens_equal
from ..model import Entry, Payload
from ..pipeline import Context, Scope, Stabilizer
from ..taxonomy import Category

__all__ = ["SOURCE_SUFFIXES", "STABILIZER", "canonical_newlines", "java_tokens_equal", "multiline_literal_reason"]

SOURCE_SUFFIXES = (".java", ".kt", ".kts", ".groovy", ".scala")
_NEWLINE_RE = re.compile(rb"\r\n?")
_LINE_BREAK = re.compile(r"[\r\n]")
#: A ``<`` that the Scala scanner may read as the start of an XML literal, over-approximated: scalac starts one
#: at ``<`` after a space, tab, LF, ``{``, ``(`` or ``>`` and before an XML name start (a letter or ``_``), ``!``
#: or ``?``. Any whitespace counts here (a CR before ``<`` does not start a literal but an LF does, so the
#: newline style itself could change the lexing), and ``[^\W\d]`` is a superset of the letters.
_SCALA_XML_RE = re.compile(r"(?:^|[\s({>])<(?:[^\W\d]|[!?])")


def canonical_newlines(data: bytes) -> bytes:
    """``data`` with every CRLF and every lone CR replaced by LF (``data`` itself when it has no CR)."""
    if b"\r" not in data:
        return data
    return _NEWLINE_RE.sub(b"\n", data)


def _span_has_break(text: str, starts: list[int], ends: list[int]) -> bool:
    """True when a line break lies between the first start and the last end of a possible literal."""
    if not starts or not ends:
        return False
    first, last = min(starts), max(ends)
    return last > first and _LINE_BREAK.search(text, first, last) is not None


def _all(text: str, needle: str) -> list[int]:
    return [m.start() for m in re.finditer(re.escape(needle), text)]


def _groovy_slashes(text: str) -> tuple[list[int], list[int]]:
    """Positions of ``/`` characters that could open, and that could close, a Groovy slashy string.

    Any ``/`` may close one. An opener is never followed by ``/`` or ``*`` (``//`` and ``/*`` open comments),
    is not the second slash of ``//``, and is not the slash of a ``*/`` once a ``/*`` was seen.
    """
    opens: list[int] = []
    closes: list[int] = []
    seen_block = False
    i, n = 0, len(text)
    while True:
        i = text.find("/", i)
        if i < 0:
            break
        closes.append(i)
        nxt = text[i + 1] if i + 1 < n else ""
        prev = text[i - 1] if i > 0 else ""
        if nxt == "*":
            seen_block = True
        elif nxt != "/" and prev != "/" and not (prev == "*" and seen_block):
            opens.append(i)
        i += 1
    return opens, closes


def multiline_literal_reason(text: str, suffix: str) -> str | None:
    """Why normalizing the line endings of ``text`` (a ``suffix`` source) could change a string value, or None.

    None means no literal of the language that keeps line terminators can contain a line break (see the module
    docstring for the over-approximation); Java always gives None.
    """
    if suffix == ".java":
        return None
    quotes = ['"""']
    if suffix == ".groovy":
        quotes.append("'''")
    for q in quotes:
        pos = _all(text, q)
        if _span_has_break(text, pos, [p + 3 for p in pos]):
            return f"a {q}...{q} string literal may span lines and keep the source's line terminators"
    if suffix == ".groovy":
        opens, closes = _all(text, "$/"), _all(text, "/$")
        if _span_has_break(text, opens, [p + 2 for p in closes]):
            return "a dollar-slashy $/.../$ string may span lines and keep the source's line terminators"
        starts, ends = _groovy_slashes(text)
        if _span_has_break(text, starts, [p + 1 for p in ends]):
            return "a slashy /.../ string may span lines and keep the source's line terminators"
    if suffix == ".scala" and _SCALA_XML_RE.search(text):
        return "the file may contain an XML literal, whose text keeps the source's line terminators"
    return None


def _suffix(entry: Entry) -> str | None:
    for s in SOURCE_SUFFIXES:
        if entry.name.endswith(s.encode()):
            return s
    return None


def _applies(entry: Entry) -> bool:
    return not entry.is_dir and _suffix(entry) is not None


def _apply(entry: Entry, ctx: Context) -> Entry:
    data = ctx.content(entry)
    if b"\r" not in data:
        return entry
    if b"\x00" in data:
        raise StabilizerSkip("contains NUL bytes: not a text source file; line endings left as they are")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise StabilizerSkip(f"not valid UTF-8 (byte {exc.start}); line endings left as they are") from None
    suffix = _suffix(entry)
    assert suffix is not None
    reason = multiline_literal_reason(text, suffix)
    if reason is not None:
        raise StabilizerSkip(reason + "; line endings left as they are")
    return entry.replace(payload=Payload.of_bytes(canonical_newlines(data), entry.payload.what))


STABILIZER = Stabilizer(
    name="source-newlines",
    scope=Scope.ENTRY,
    category=Category.MISCELLANEOUS,
    removes="CRLF and lone-CR line endings of .java, .kt, .kts, .groovy and .scala sources (canonical form: LF)",
    reason="the languages treat CR, LF and CRLF alike and line numbers are kept; files whose multi-line "
           "string literals could keep the terminators are skipped",
    apply=_apply,
    applies_to=_applies,
)
