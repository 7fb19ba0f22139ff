"""Compare two canonical archives and list every residual difference; decide the verdict."""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field

from .errors import EntryDataError
from .formats.javasrc import java_tokens_equal
from .limits import Budget
from .model import Archive, Entry, entry_keys
from .outcome import Difference, DifferenceKind
from .taxonomy import Category
from .zipfmt import FLAG_DATA_DESCRIPTOR, FLAG_UTF8

__all__ = ["DIFF_LINE_CAP", "compare_archives", "dos_datetime"]

DIFF_LINE_CAP = 200
TEXT_DIFF_MAX_BYTES = 4 * 1024 * 1024
TEXT_DIFF_MAX_LINES = 20_000  # keeps the line diff's time bounded
_FS = Category.FILESYSTEM.value
_UNKNOWN = Category.UNKNOWN.value


def dos_datetime(mdate: int, mtime: int) -> str:
    y, mo, d = 1980 + (mdate >> 9), (mdate >> 5) & 0xF, mdate & 0x1F
    h, mi, s = mtime >> 11, (mtime >> 5) & 0x3F, (mtime & 0x1F) * 2
    return f"{y:04d}-{mo:02d}-{d:02d} {h:02d}:{mi:02d}:{s:02d}"


@dataclass
class _Digests:
    budget: Budget
    cache: dict[int, tuple[int, str | None, str]] = field(default_factory=dict)

    def content(self, e: Entry) -> tuple[bytes | None, str]:
        """The uncompressed content, or None and the reason it cannot be read."""
        try:
            return e.payload.content(self.budget), ""
        except EntryDataError as exc:
            self.cache[id(e)] = (e.payload.size, None, str(exc))
            return None, str(exc)

    def get(self, e: Entry, data: bytes | None = None) -> tuple[int, str | None, str]:
        """(size, sha256, error) of an entry, computed once; ``data`` saves inflating it again."""
        hit = self.cache.get(id(e))
        if hit is not None:
            return hit
        if data is None:
            data, _err = self.content(e)
            if data is None:
                return self.cache[id(e)]
        res = (len(data), hashlib.sha256(data).hexdigest(), "")
        self.cache[id(e)] = res
        return res




def _is_text(data: bytes) -> bool:
    if len(data) > TEXT_DIFF_MAX_BYTES or b"\x00" in data:
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def unified_diff(a: bytes, b: bytes, name: str, cap: int = DIFF_LINE_CAP) -> tuple[str, int]:
    lines = list(difflib.unified_diff(a.decode("utf-8").splitlines(keepends=True),
                                      b.decode("utf-8").splitlines(keepends=True),
                                      fromfile="reference/" + name, tofile="rebuild/" + name, n=3))
    omitted = max(0, len(lines) - cap)
    text = "".join(line if line.endswith("\n") else line + "\n" for line in lines[:cap])
    return text, omitted


class _Comparer:
    def __init__(self, left_budget: Budget, right_budget: Budget) -> None:
        self.left = _Digests(left_budget)
        self.right = _Digests(right_budget)
        self.out: list[Difference] = []

    def diff(self, path: str, kind: DifferenceKind, aspect: str, a: Entry | None, b: Entry | None,
             left: str | None = None, right: str | None = None, category: str = _FS, note: str = "",
             detail: str | None = None, omitted: int = 0) -> None:
        ls = lh = rs = rh = None
        if a is not None and not a.is_dir:
            ls, lh, err = self.left.get(a)
            note = note or err
        if b is not None and not b.is_dir:
            rs, rh, err = self.right.get(b)
            note = note or err
        self.out.append(Difference(path, kind, aspect, category, left, right, ls, rs, lh, rh, detail, omitted,
                                   note))

    def archives(self, la: Archive, ra: Archive) -> None:
        lkeys, rkeys = entry_keys(la.entries), entry_keys(ra.entries)
        lmap = dict(zip(lkeys, la.entries, strict=True))
        rmap = dict(zip(rkeys, ra.entries, strict=True))
        prefix = la.prefix
        for k in lkeys:
            if k not in rmap:
                e = lmap[k]
                self.diff(prefix + e.path, DifferenceKind.REMOVED, "presence", e, None,
                          category=_UNKNOWN)
        for k in rkeys:
            if k not in lmap:
                e = rmap[k]
                self.diff(prefix + e.path, DifferenceKind.ADDED, "presence", None, e, category=_UNKNOWN)
        common_l = [k for k in lkeys if k in rmap]
        common_r = [k for k in rkeys if k in lmap]
        if common_l != common_r:
            pos_l = {k: i for i, k in enumerate(common_l)}
            pos_r = {k: i for i, k in enumerate(common_r)}
            in_order = _longest_in_order([pos_r[k] for k in common_l])
            for i, k in enumerate(common_l):
                if i not in in_order:
                    e = lmap[k]
                    self.diff(prefix + e.path, DifferenceKind.MOVED, "order", e, rmap[k],
                              left=f"position {pos_l[k]}", right=f"position {pos_r[k]}")
        for k in common_l:
            self.entries(prefix + lmap[k].path, lmap[k], rmap[k])
        if la.comment != ra.comment:
            self.out.append(Difference(prefix.removesuffix("!/"), DifferenceKind.ARCHIVE, "archive-comment",
                                       _FS, _show(la.comment), _show(ra.comment)))

    def entries(self, path: str, a: Entry, b: Entry) -> None:
        md = DifferenceKind.METADATA
        if (a.mtime, a.mdate) != (b.mtime, b.mdate):
            self.diff(path, md, "time", a, b, dos_datetime(a.mdate, a.mtime), dos_datetime(b.mdate, b.mtime))
        if (a.external_attr, a.internal_attr) != (b.external_attr, b.internal_attr):
            self.diff(path, md, "mode", a, b, _attrs(a), _attrs(b))
        if (a.version_made, a.version_needed) != (b.version_made, b.version_needed):
            self.diff(path, md, "zip-version", a, b, f"made by {a.version_made:#06x}, needs {a.version_needed}",
                      f"made by {b.version_made:#06x}, needs {b.version_needed}")
        if a.extra_local != b.extra_local or a.extra_central != b.extra_central:
            self.diff(path, md, "extra-fields", a, b, _extra(a), _extra(b))
        if a.comment != b.comment:
            self.diff(path, md, "entry-comment", a, b, _show(a.comment), _show(b.comment))
        fl = FLAG_DATA_DESCRIPTOR | FLAG_UTF8 | 0x0006
        if (a.flags & ~fl) != (b.flags & ~fl):
            self.diff(path, md, "flags", a, b, f"{a.flags:#06x}", f"{b.flags:#06x}")
        if (a.flags & FLAG_DATA_DESCRIPTOR, a.descriptor) != (b.flags & FLAG_DATA_DESCRIPTOR, b.descriptor):
            self.diff(path, md, "data-descriptor", a, b, _show(a.descriptor) or "none",
                      _show(b.descriptor) or "none")
        if (a.flags & FLAG_UTF8) != (b.flags & FLAG_UTF8):
            self.diff(path, md, "utf8-flag", a, b, str(bool(a.flags & FLAG_UTF8)), str(bool(b.flags & FLAG_UTF8)))
        if (a.method, a.flags & 0x6, a.compare_stream) != (b.method, b.flags & 0x6, b.compare_stream):
            self.diff(path, md, "compression", a, b, f"method {a.method}, level flags {a.flags & 6}",
                      f"method {b.method}, level flags {b.flags & 6}")
        elif (a.compare_stream and b.compare_stream and a.payload.stream is not None
              and b.payload.stream is not None and not a.payload.same_stream(b.payload)
              and a.payload.stream != b.payload.stream):
            self.diff(path, md, "compressed-bytes", a, b, f"{a.payload.compressed_size} compressed bytes",
                      f"{b.payload.compressed_size} compressed bytes")
        self.content(path, a, b)

    def content(self, path: str, a: Entry, b: Entry) -> None:
        if a.payload.same_stream(b.payload):  # fast path: no inflation
            return
        if a.nested is not None and b.nested is not None:
            self.archives(a.nested, b.nested)
            return
        lc, lerr = self.left.content(a)
        rc, rerr = self.right.content(b)
        if lc is not None and lc == rc:  # equal content: nothing to hash or report
            return
        ls, lh, _ = self.left.get(a, lc)
        rs, rh, _ = self.right.get(b, rc)
        if lc is None or rc is None:
            self.out.append(Difference(path, DifferenceKind.CHANGED, "corrupt-data", _UNKNOWN, None, None,
                                       ls, rs, lh, rh, None, 0, "; ".join(x for x in (lerr, rerr) if x)))
            return
        detail, omitted, note = None, 0, ""
        if _is_text(lc) and _is_text(rc):
            if max(lc.count(b"\n"), rc.count(b"\n")) > TEXT_DIFF_MAX_LINES:
                note = f"text has more than {TEXT_DIFF_MAX_LINES} lines; no line diff"
            else:
                detail, omitted = unified_diff(lc, rc, path)
            if path.endswith(".java"):
                same_code = java_tokens_equal(lc, rc)
                note = {True: "Java source differs only in whitespace and comments (same tokens)",
                        False: "Java source differs in code (different tokens)",
                        None: "Java source could not be tokenized to tell layout from code"}[same_code]
        if (a.nested is None) != (b.nested is None):
            note = "; ".join(x for x in (note, "readable as a nested archive on one side only") if x)
        self.out.append(Difference(path, DifferenceKind.CHANGED, "content", _UNKNOWN, None, None, ls, rs, lh, rh,
                                   detail, omitted, note))


def _longest_in_order(seq: Sequence[int]) -> set[int]:
    """Indices of one longest increasing subsequence of ``seq`` (O(n log n)): the entries that kept their
    relative order; every other entry is reported as moved."""
    tails: list[int] = []  # tails[k]: index in seq of the smallest tail of an increasing run of length k+1
    prev = [-1] * len(seq)
    for i, v in enumerate(seq):
        lo, hi = 0, len(tails)
        while lo < hi:
            mid = (lo + hi) // 2
            if seq[tails[mid]] < v:
                lo = mid + 1
            else:
                hi = mid
        if lo > 0:
            prev[i] = tails[lo - 1]
        if lo == len(tails):
            tails.append(i)
        else:
            tails[lo] = i
    keep: set[int] = set()
    i = tails[-1] if tails else -1
    while i >= 0:
        keep.add(i)
        i = prev[i]
    return keep


def _show(value: bytes, limit: int = 200) -> str:
    text = value.decode("utf-8", errors="backslashreplace")
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} chars)"


def _attrs(e: Entry) -> str:
    mode = e.unix_mode
    m = f"mode {mode:o}" if mode is not None else "no unix mode"
    return f"{m}, external {e.external_attr:#010x}, internal {e.internal_attr:#06x}"


def _extra(e: Entry) -> str:
    return f"local 0x{e.extra_local.hex() or '-'}, central 0x{e.extra_central.hex() or '-'}"


def compare_archives(left: Archive, right: Archive, left_budget: Budget,
                     right_budget: Budget) -> tuple[Difference, ...]:
    """Every residual difference between two canonical archives (reference left, rebuild right)."""
    c = _Comparer(left_budget, right_budget)
    c.archives(left, right)
    return tuple(c.out)
