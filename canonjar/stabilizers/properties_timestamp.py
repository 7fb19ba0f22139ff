"""properties-timestamp: the date comment ``java.util.Properties.store`` writes into ``*.properties`` files.

Removes: in any entry whose name ends in ``.properties``, every comment line before the first property that is
exactly a ``Properties.store`` date line: ``#`` + ``Date.toString()`` in its fixed English format
``EEE MMM dd HH:mm:ss zzz yyyy`` (``#Sat Nov 23 01:09:00 UTC 2026``, any zone abbreviation or offset such as
``GMT+01:00``), starting in the first column and followed by a line terminator or the end of the file.
``store`` writes it as the first comment line, or right after the caller's own header comment lines. Nothing
else is touched: every other byte of the file is kept.

Safe because ``Properties.load`` (and ``PropertyResourceBundle``) skips comment lines: removing one cannot
change any key or value. The line only records when the build ran. A file ``Properties.load`` cannot read (a
malformed ``\\uXXXX`` escape) is skipped and left as it is.
"""

from __future__ import annotations

from ..errors import StabilizerSkip
from ..formats.properties import PropertiesError, drop, is_store_date, parse
from ..model import Entry, Payload
from ..pipeline import Context, Scope, Stabilizer
from ..taxonomy import Category


def _applies(entry: Entry) -> bool:
    return entry.name.endswith(b".properties") and not entry.is_dir


def _apply(entry: Entry, ctx: Context) -> Entry:
    data = ctx.content(entry)
    if b"#" not in data:
        return entry
    try:
        pf = parse(data)
    except PropertiesError as exc:
        raise StabilizerSkip(f"not a readable properties file: {exc}") from None
    dates = [c for c in pf.leading_comments() if is_store_date(c)]
    if not dates:
        return entry
    try:
        new = drop(pf, dates)
    except PropertiesError as exc:  # pragma: no cover - dropping keeps the order, so render cannot fail
        raise StabilizerSkip(str(exc)) from None
    return entry.replace(payload=Payload.of_bytes(new, entry.payload.what))


STABILIZER = Stabilizer(
    name="properties-timestamp",
    scope=Scope.ENTRY,
    category=Category.TIMESTAMPS,
    removes="the Properties.store date comment line (#EEE MMM dd HH:mm:ss zzz yyyy) before the first property "
            "of *.properties files",
    reason="Properties.load skips comment lines, so the build time recorded there cannot change any key or value",
    apply=_apply,
    applies_to=_applies,
)
