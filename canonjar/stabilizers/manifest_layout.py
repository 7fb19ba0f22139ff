"""manifest-layout: line wrapping and line endings of ``META-INF/MANIFEST.MF``.

Removes: the physical layout of the manifest, by re-writing it in the canonical layout of
:func:`canonjar.formats.manifest.serialize`: CRLF line endings, one blank line after every section (as
``java.util.jar.Manifest.write`` does), runs of blank lines between sections collapsed, and 72-byte lines
wrapped without splitting UTF-8 characters. Builds differ here because of the tool (the JDK before 11 split
UTF-8 characters, bnd and Gradle wrap their own way, hand-written manifests use LF) and the OS.

Safe because ``java.util.jar.Manifest`` joins continuation lines and accepts every line ending, so the
names, values, their order and the sections the JVM sees are exactly the same before and after. Values are
never changed, attributes never moved or dropped (that is other stabilizers' work). An unterminated last
line, which the JDK ignores, stays unterminated and in its place, so it can never become effective.
"""

from __future__ import annotations

from ..formats.manifest import is_manifest_name, load_for_stabilizer, serialize
from ..model import Entry, Payload
from ..pipeline import Context, Scope, Stabilizer
from ..taxonomy import Category


def _applies(entry: Entry) -> bool:
    return is_manifest_name(entry.name)


def _apply(entry: Entry, ctx: Context) -> Entry:
    data, manifest = load_for_stabilizer(entry, ctx)
    out = serialize(manifest)
    if out == data:
        return entry
    return entry.replace(payload=Payload.of_bytes(out, entry.payload.what))


STABILIZER = Stabilizer(
    name="manifest-layout",
    scope=Scope.ENTRY,
    category=Category.BUILD_MANIFESTS,
    removes="the manifest's line endings, blank-line runs and 72-byte line wrapping (rewritten canonically)",
    reason="the JDK joins continuation lines and accepts every line ending, so names, values and sections stay "
           "the same",
    apply=_apply,
    applies_to=_applies,
)
