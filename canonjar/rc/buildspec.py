"""Buildspec parsing: Bash variable assignments read as data, never executed.

A Reproducible Central ``.buildspec`` is a Bash fragment that upstream ``source``s. Sourcing it here would run
whatever ``$(...)`` or backticks it holds (some run ``git ls-remote`` or ``sed``), so this module implements the
small part of Bash's grammar those files use and nothing else:

- ``key=value`` statements (also ``key+=value``, several on one line, ``;`` between them), leading blanks;
- single quotes (literal), double quotes (backslash escapes only ``$ ` " \\`` and newline, as Bash), backslash
  escapes outside quotes, ``$'...'`` ANSI-C strings, quoted values spanning several lines, ``\\``-newline
  continuations;
- ``${name}`` / ``$name`` expanded from keys assigned earlier in the same file. An unknown name expands to ``""``
  as Bash does for an unset variable (the process environment is never read) and the key is listed in
  ``Buildspec.unresolved``. Positional parameters (``$1``) are unset, so empty, likewise;
- ``#`` starts a comment only at the start of a word (``jdk=17 # note`` gives ``17``, ``a#b`` and quoted ``#``
  are kept), exactly as Bash;
- ``$(...)``, backticks, ``$((...))``, special parameters (``$$``, ``$@``...) and any other ``${...}`` form are
  kept verbatim as unevaluated text and the key is flagged in ``Buildspec.unevaluated``.

Decisions where Bash would do something this parser will not: a statement that is not an assignment (a stray
command, ``export``, a function, an array ``a=(...)``, a redirection, ``a=1 cmd``) raises :class:`RcParseError`
naming the file and line, so nothing a buildspec asks to *run* is silently dropped. ``\\r\\n`` line ends are read
as ``\\n``; a tilde is kept literally (no home-directory expansion). Values are bounded (``MAX_VALUE_CHARS`` per
value, ``MAX_TOTAL_CHARS`` over the file) so that self-referencing expansions cannot exhaust memory.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from canonjar.rc.model import Buildspec, RcParseError

__all__ = [
    "MAX_TEXT_CHARS",
    "MAX_TOTAL_CHARS",
    "MAX_VALUE_CHARS",
    "ShellAssignment",
    "ShellComment",
    "ShellScript",
    "parse_buildspec",
    "parse_shell_assignments",
    "shell_quote",
]

MAX_TEXT_CHARS = 1024 * 1024  # real buildspecs are a few KiB, .buildcompare files tens of KiB
MAX_VALUE_CHARS = 1024 * 1024
MAX_TOTAL_CHARS = 32 * 1024 * 1024

_ASSIGN_RE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(\+?)=")
_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SIMPLE_RE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)=([^\s$\\'\"`;&|<>()#]*)(?=\n|\Z)")
_WORD_END = frozenset(" \t\n;&|<>()")
_BLANKS = frozenset(" \t")
_DOUBLE_QUOTE_ESCAPES = frozenset('$`"\\')
_SPECIAL_PARAMS = frozenset("@*#?$!-")
_DIGITS = frozenset("0123456789")
_ANSI_C_ESCAPES = {
    "n": "\n",
    "t": "\t",
    "r": "\r",
    "a": "\a",
    "b": "\b",
    "e": "\x1b",
    "E": "\x1b",
    "f": "\f",
    "v": "\v",
    "\\": "\\",
    "'": "'",
    '"': '"',
    "?": "?",
}


@dataclass(frozen=True)
class ShellAssignment:
    """One ``key=value`` as read: value after quote removal and expansion."""

    key: str
    value: str
    line: int
    unevaluated: bool  # holds $(...), backticks or another form kept as text
    unresolved: bool  # referenced a variable not assigned earlier (expanded to "")


@dataclass(frozen=True)
class ShellComment:
    """A ``#`` comment: ``text`` is what follows ``#`` up to the end of the line; ``whole_line`` if it starts one."""

    line: int
    text: str
    whole_line: bool


@dataclass(frozen=True)
class ShellScript:
    assignments: tuple[ShellAssignment, ...]
    comments: tuple[ShellComment, ...]


class _Reader:
    """Single pass over the text; ``pos`` is an index into ``text``. Never evaluates anything."""

    def __init__(self, text: str, source: str, expand: bool) -> None:
        if len(text) > MAX_TEXT_CHARS:
            raise RcParseError(source, 1, f"file too large ({len(text)} characters, limit {MAX_TEXT_CHARS})")
        self.text = text.replace("\r\n", "\n")
        self.source = source
        self.expand = expand
        self.pos = 0
        self._newlines = [i for i, c in enumerate(self.text) if c == "\n"]
        self.vars: dict[str, str] = {}
        self.unevaluated_vars: set[str] = set()
        self.unresolved_vars: set[str] = set()
        self.total = 0
        self.assignments: list[ShellAssignment] = []
        self.comments: list[ShellComment] = []
        # per-word state
        self._word_len = 0
        self._word_unevaluated = False
        self._word_unresolved = False

    # -- helpers -------------------------------------------------------------------------------------------

    def line_at(self, pos: int) -> int:
        return bisect.bisect_left(self._newlines, pos) + 1

    def error(self, pos: int, message: str) -> RcParseError:
        return RcParseError(self.source, self.line_at(pos), message)

    def peek(self, offset: int = 0) -> str:
        i = self.pos + offset
        return self.text[i] if i < len(self.text) else ""

    def emit(self, out: list[str], piece: str) -> None:
        self._word_len += len(piece)
        if self._word_len > MAX_VALUE_CHARS:
            raise self.error(self.pos, f"value longer than {MAX_VALUE_CHARS} characters")
        out.append(piece)

    # -- statements ----------------------------------------------------------------------------------------

    def run(self) -> ShellScript:
        n = len(self.text)
        while True:
            self.skip_blanks(newlines=True)
            if self.pos >= n:
                break
            if self.peek() == "#":
                self.comment(whole_line=True)
                continue
            self.statement()
        return ShellScript(tuple(self.assignments), tuple(self.comments))

    def skip_blanks(self, newlines: bool) -> None:
        """Skip spaces, tabs, backslash-newline continuations (and newlines when ``newlines``)."""
        text, n = self.text, len(self.text)
        while self.pos < n:
            c = text[self.pos]
            if c in _BLANKS or (newlines and c == "\n"):
                self.pos += 1
            elif c == "\\" and self.pos + 1 < n and text[self.pos + 1] == "\n":
                self.pos += 2
            else:
                break

    def comment(self, whole_line: bool) -> None:
        start = self.pos
        end = self.text.find("\n", start)
        end = len(self.text) if end < 0 else end
        line_start = self.text.rfind("\n", 0, start) + 1
        whole_line = whole_line and not self.text[line_start:start].strip(" \t")
        self.comments.append(ShellComment(self.line_at(start), self.text[start + 1 : end], whole_line))
        self.pos = end

    def statement(self) -> None:
        """One or more assignments up to a newline, ``;``, comment or end; anything else is an error."""
        simple = _SIMPLE_RE.match(self.text, self.pos)
        if simple is not None:  # fast path for the common ``key=word`` line: nothing to unquote or expand
            self.store(simple.group(1), simple.group(2), simple.start(), unevaluated=False, unresolved=False)
            self.pos = simple.end()
            return
        match = _ASSIGN_RE.match(self.text, self.pos)
        if match is None:
            raise self.error(self.pos, f"not a variable assignment (never executed): {self.snippet()!r}")
        while match is not None:
            self.assignment(match)
            self.skip_blanks(newlines=False)
            c = self.peek()
            if c in ("", "\n", ";"):
                self.pos += 1 if c else 0
                return
            if c == "#":
                self.comment(whole_line=False)
                return
            match = _ASSIGN_RE.match(self.text, self.pos)
            if match is None:
                raise self.error(self.pos, f"command after assignment (never executed): {self.snippet()!r}")

    def snippet(self) -> str:
        end = self.text.find("\n", self.pos)
        end = len(self.text) if end < 0 else end
        return self.text[self.pos : min(end, self.pos + 60)]

    def assignment(self, match: re.Match[str]) -> None:
        key, append = match.group(1), match.group(2) == "+"
        self.pos = match.end()
        if self.peek() == "(":
            raise self.error(self.pos, "array assignment is not supported")
        value, unevaluated, unresolved = self.word()
        if append:
            value = self.vars.get(key, "") + value
            unevaluated = unevaluated or key in self.unevaluated_vars
            unresolved = unresolved or key in self.unresolved_vars
        self.store(key, value, match.start(), unevaluated=unevaluated, unresolved=unresolved)

    def store(self, key: str, value: str, start: int, *, unevaluated: bool, unresolved: bool) -> None:
        """Record ``key=value`` (assignment text starting at ``start``) within the size limits."""
        if len(value) > MAX_VALUE_CHARS:
            raise self.error(start, f"value longer than {MAX_VALUE_CHARS} characters")
        self.total += len(value)
        if self.total > MAX_TOTAL_CHARS:
            raise self.error(start, f"values longer than {MAX_TOTAL_CHARS} characters in total")
        line = self.line_at(start)
        self.vars[key] = value
        (self.unevaluated_vars.add if unevaluated else self.unevaluated_vars.discard)(key)
        (self.unresolved_vars.add if unresolved else self.unresolved_vars.discard)(key)
        self.assignments.append(ShellAssignment(key, value, line, unevaluated, unresolved))

    # -- words ---------------------------------------------------------------------------------------------

    def word(self) -> tuple[str, bool, bool]:
        """Read one word (the value); returns (text, unevaluated, unresolved)."""
        self._word_len = 0
        self._word_unevaluated = False
        self._word_unresolved = False
        out: list[str] = []
        text, n = self.text, len(self.text)
        while self.pos < n:
            c = text[self.pos]
            if c in _WORD_END:
                break
            if c == "'":
                self.single_quoted(out)
            elif c == '"':
                self.double_quoted(out)
            elif c == "\\":
                nxt = self.peek(1)
                if nxt == "\n":
                    self.pos += 2
                elif nxt:
                    self.emit(out, nxt)
                    self.pos += 2
                else:
                    self.emit(out, "\\")
                    self.pos += 1
            elif c == "$":
                self.dollar(out, quoted=False)
            elif c == "`":
                self.backtick(out)
            else:
                self.emit(out, c)
                self.pos += 1
        return "".join(out), self._word_unevaluated, self._word_unresolved

    def single_quoted(self, out: list[str]) -> None:
        start = self.pos
        end = self.text.find("'", start + 1)
        if end < 0:
            raise self.error(start, "unterminated single quote")
        self.emit(out, self.text[start + 1 : end])
        self.pos = end + 1

    def double_quoted(self, out: list[str]) -> None:
        start = self.pos
        self.pos += 1
        text, n = self.text, len(self.text)
        while True:
            if self.pos >= n:
                raise self.error(start, "unterminated double quote")
            c = text[self.pos]
            if c == '"':
                self.pos += 1
                return
            if c == "\\":
                nxt = self.peek(1)
                if nxt in _DOUBLE_QUOTE_ESCAPES and nxt:
                    self.emit(out, nxt)
                    self.pos += 2
                elif nxt == "\n":
                    self.pos += 2
                else:
                    self.emit(out, "\\")
                    self.pos += 1
            elif c == "$":
                self.dollar(out, quoted=True)
            elif c == "`":
                self.backtick(out)
            else:
                self.emit(out, c)
                self.pos += 1

    def ansi_c_quoted(self, out: list[str]) -> None:
        """``$'...'``: the common backslash escapes decoded, others kept as written."""
        start = self.pos
        self.pos += 2
        text, n = self.text, len(self.text)
        while True:
            if self.pos >= n:
                raise self.error(start, "unterminated $'...' quote")
            c = text[self.pos]
            if c == "'":
                self.pos += 1
                return
            if c == "\\" and self.pos + 1 < n:
                nxt = text[self.pos + 1]
                self.emit(out, _ANSI_C_ESCAPES.get(nxt, "\\" + nxt))
                self.pos += 2
            else:
                self.emit(out, c)
                self.pos += 1

    def keep_unevaluated(self, out: list[str], end: int) -> None:
        self.emit(out, self.text[self.pos : end])
        self._word_unevaluated = True
        self.pos = end

    def dollar(self, out: list[str], quoted: bool) -> None:
        """``$`` in a word: expand ``${name}``/``$name``; keep every other form as unevaluated text."""
        if not self.expand:
            self.emit(out, "$")
            self.pos += 1
            return
        nxt = self.peek(1)
        if nxt == "{":
            end = self.text.find("}", self.pos + 2)
            if end < 0:
                raise self.error(self.pos, "unterminated ${")
            inner = self.text[self.pos + 2 : end]
            if _NAME_RE.fullmatch(inner):
                self.pos = end + 1
                self.expand_name(out, inner)
            else:
                self.keep_unevaluated(out, end + 1)
        elif nxt == "(":
            self.keep_unevaluated(out, self.matching_paren(self.pos + 1))
        elif nxt and _NAME_RE.match(nxt):
            match = _NAME_RE.match(self.text, self.pos + 1)
            assert match is not None
            self.pos = match.end()
            self.expand_name(out, match.group())
        elif nxt in _DIGITS and nxt:
            self.pos += 2  # positional parameter: unset when the file is read as data
            self._word_unresolved = True
        elif nxt in _SPECIAL_PARAMS and nxt:
            self.keep_unevaluated(out, self.pos + 2)
        elif nxt == "'" and not quoted:
            self.ansi_c_quoted(out)
        elif nxt == '"' and not quoted:
            self.pos += 1  # $"..." (locale translation) reads as "..."
            self.double_quoted(out)
        else:
            self.emit(out, "$")
            self.pos += 1

    def expand_name(self, out: list[str], name: str) -> None:
        if name in self.vars:
            self.emit(out, self.vars[name])
            if name in self.unevaluated_vars:
                self._word_unevaluated = True
        else:
            self._word_unresolved = True

    def matching_paren(self, open_pos: int) -> int:
        """Index just after the ``)`` closing the ``(`` at ``open_pos``, skipping quoted text."""
        text, n = self.text, len(self.text)
        depth = 0
        i = open_pos
        while i < n:
            c = text[i]
            if c == "\\":
                i += 2
                continue
            if c == "'":
                j = text.find("'", i + 1)
                if j < 0:
                    break
                i = j + 1
                continue
            if c in ('"', "`"):
                j = self.closing(i, c)
                if j < 0:
                    break
                i = j + 1
                continue
            if c == "(":
                depth += 1
            elif c == ")":
                depth -= 1
                if depth == 0:
                    return i + 1
            i += 1
        raise self.error(open_pos, "unterminated $(")

    def closing(self, start: int, quote: str) -> int:
        """Index of the unescaped ``quote`` closing the one at ``start``, or -1."""
        text, n = self.text, len(self.text)
        i = start + 1
        while i < n:
            c = text[i]
            if c == "\\":
                i += 2
                continue
            if c == quote:
                return i
            i += 1
        return -1

    def backtick(self, out: list[str]) -> None:
        end = self.closing(self.pos, "`")
        if end < 0:
            raise self.error(self.pos, "unterminated backtick")
        self.keep_unevaluated(out, end + 1)


def parse_shell_assignments(text: str, source: str, *, expand: bool = True) -> ShellScript:
    """Read a Bash assignment-only fragment (see the module docstring); ``expand=False`` keeps ``$`` literal."""
    return _Reader(text, source, expand).run()


def parse_buildspec(text: str, source: str) -> Buildspec:
    """Parse buildspec text; ``source`` names the file in error messages. Raises :class:`RcParseError`."""
    script = parse_shell_assignments(text, source)
    values: dict[str, str] = {}
    lines: dict[str, int] = {}
    unevaluated: set[str] = set()
    unresolved: set[str] = set()
    for a in script.assignments:
        values[a.key] = a.value
        lines[a.key] = a.line
        (unevaluated.add if a.unevaluated else unevaluated.discard)(a.key)
        (unresolved.add if a.unresolved else unresolved.discard)(a.key)
    return Buildspec(source, values, frozenset(unevaluated), lines, frozenset(unresolved))


def shell_quote(value: str) -> str:
    """Quote ``value`` so that Bash (and :func:`parse_buildspec`) reads it back unchanged."""
    if value and all(c.isascii() and (c.isalnum() or c in "._-/:@%+,") for c in value):
        return value
    return "'" + value.replace("'", "'\\''") + "'"
