"""manifest-attribute-order: the order of attributes within manifest sections and of the per-entry sections.

Removes: the order in which the build tool wrote the attributes of each section of
``META-INF/MANIFEST.MF`` (hash-map iteration order in older JDKs, plugin order in Maven, bnd and Gradle)
and the order of the per-entry (``Name:``) sections. The canonical order is: in the main section
``Manifest-Version`` first (the specification requires it first), then the other attributes by
case-insensitive name; in a per-entry section its ``Name`` header first, then the attributes by
case-insensitive name; the per-entry sections by their ``Name`` value.

Safe because ``java.util.jar.Manifest`` stores attributes in a map keyed by case-insensitive name and
per-entry sections in a map keyed by name, so order carries no meaning. The one case where order does
matter is kept: both sorts are stable, so duplicate attributes (the JDK keeps the last value) and duplicate
sections (the JDK merges them, later values winning) keep their relative order. Nothing else changes: the
attributes keep their bytes, and the blank lines between sections stay in place, so the last section (which
may end the file without a blank line) can never end up merged with another one.
"""

from __future__ import annotations

from ..formats.manifest import Attribute, Section, is_manifest_name, load_for_stabilizer
from ..model import Entry, Payload
from ..pipeline import Context, Scope, Stabilizer
from ..taxonomy import Category


def _applies(entry: Entry) -> bool:
    return is_manifest_name(entry.name)


def _main_key(a: Attribute) -> tuple[int, str]:
    return (0 if a.key == "manifest-version" else 1, a.key)


def _sorted_main(attrs: tuple[Attribute, ...]) -> tuple[Attribute, ...]:
    return tuple(sorted(attrs, key=_main_key))


def _sorted_entry(attrs: tuple[Attribute, ...]) -> tuple[Attribute, ...]:
    return attrs[:1] + tuple(sorted(attrs[1:], key=lambda a: a.key))


def _apply(entry: Entry, ctx: Context) -> Entry:
    data, manifest = load_for_stabilizer(entry, ctx)
    main = manifest.main
    bodies = [_sorted_main(main.attributes)]
    entries = sorted((_sorted_entry(s.attributes) for s in manifest.entries), key=lambda attrs: attrs[0].value)
    bodies += entries
    # Separators belong to positions, not to sections.
    sections = tuple(Section(body, s.separator) for body, s in zip(bodies, manifest.sections, strict=True))
    out = manifest.with_sections(sections).to_bytes()
    if out == data:
        return entry
    return entry.replace(payload=Payload.of_bytes(out, entry.payload.what))


STABILIZER = Stabilizer(
    name="manifest-attribute-order",
    scope=Scope.ENTRY,
    category=Category.BUILD_MANIFESTS,
    removes="the order of manifest attributes within each section and of the per-entry Name sections",
    reason="the JDK keeps attributes and sections in maps keyed by name; stable sorting keeps duplicates' "
           "last-wins order",
    apply=_apply,
    applies_to=_applies,
)
