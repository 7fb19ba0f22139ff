"""The one error of the class-file codec."""

from __future__ import annotations

from ..errors import CanonjarError

__all__ = ["ClassFormatError"]


class ClassFormatError(CanonjarError):
    """A class file (or one of its attributes) is malformed: truncated, bad magic, unknown constant tag,
    a constant-pool index out of range or of the wrong kind, a count larger than the bytes left, trailing
    bytes... ``offset`` is the byte offset where the problem was found, when known (relative to the start
    of the structure being parsed: the class file, or an attribute's info)."""

    def __init__(self, message: str, offset: int | None = None) -> None:
        super().__init__(message if offset is None else f"{message} (at offset {offset})")
        self.offset = offset
