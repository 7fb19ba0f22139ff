"""canonjar: tell whether a rebuilt Java artifact is the same software as the published one, and if not, why.

The public API is small: :func:`compare_files` / :func:`compare_bytes` return an :class:`Outcome`;
:func:`canonicalize_file` writes a canonical JAR; :class:`Stabilizer` is what plugins provide through the
``canonjar.stabilizers`` entry-point group.
"""

from __future__ import annotations

from .api import canonicalize_bytes, canonicalize_file, compare_bytes, compare_files
from .errors import ArchiveError, CanonjarError, EntryDataError, LimitExceeded, StabilizerSkip, UsageError
from .limits import DEFAULT_LIMITS, Limits
from .model import Archive, Entry, Payload
from .outcome import SCHEMA_VERSION, Difference, DifferenceKind, Outcome, Verdict
from .pipeline import Context, Scope, Stabilizer, all_stabilizers, select_stabilizers
from .taxonomy import Category

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_LIMITS",
    "SCHEMA_VERSION",
    "Archive",
    "ArchiveError",
    "CanonjarError",
    "Category",
    "Context",
    "Difference",
    "DifferenceKind",
    "Entry",
    "EntryDataError",
    "LimitExceeded",
    "Limits",
    "Outcome",
    "Payload",
    "Scope",
    "Stabilizer",
    "StabilizerSkip",
    "UsageError",
    "Verdict",
    "all_stabilizers",
    "canonicalize_bytes",
    "canonicalize_file",
    "compare_bytes",
    "compare_files",
    "select_stabilizers",
]
