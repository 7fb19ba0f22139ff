"""manifest-value-order: the order of clauses inside OSGi/bnd list headers of ``META-INF/MANIFEST.MF``.

Removes: the order in which bnd, maven-bundle-plugin or a hand-written manifest lists the comma-separated
clauses of the headers in :data:`ORDER_FREE_HEADERS` (main section only), the order of the paths and of the
parameters (``attribute=value``, ``directive:=value``) within each clause, and the order of the package
names inside ``uses:=`` and ``mandatory:=`` lists. Splitting is quote-aware: commas and semicolons inside
double quotes (filters, version ranges, quoted lists) never split. bnd's output order follows hash maps and
the class-path scan, so it changes with the JDK and the file system.

Why each header's order carries no meaning (OSGi Core, chapter 3, and bnd):

* ``Export-Package``: each clause declares an independent export; the framework keeps them as a set of
  capabilities (``osgi.wiring.package``).
* ``Import-Package``: each clause is an independent requirement; a package may be imported once, and the
  resolver wires each requirement on its own.
* ``Provide-Capability`` / ``Require-Capability``: sets of generic capabilities and requirements, each
  resolved on its own.
* ``uses:=``: the set of packages whose class space must be consistent; ``mandatory:=``: the set of
  attributes an importer must match. Both are sets.
* Within a clause, the paths share the same parameters (``a;b;version=1`` is ``a;version=1,b;version=1``)
  and parameters are looked up by name.
* ``Private-Package``, ``Ignore-Package``, ``Include-Resource``, ``Conditional-Package``, ``Embedded-Artifacts``,
  ``Embed-Dependency``, ``Export-Service`` and ``Import-Service``: informational headers written by bnd and
  maven-bundle-plugin (or deprecated ones); no framework acts on their order.

Deliberately NOT sorted, because order changes behaviour: ``Bundle-ClassPath`` and ``Class-Path`` (class
loading searches them in order), ``DynamicImport-Package`` (dynamic imports are searched in the order
specified, which matters with wildcards), ``Require-Bundle`` (required bundles are searched in order),
``Bundle-NativeCode`` (the first matching clause is selected), ``Fragment-Host`` and every other header.

A header whose syntax this module does not fully understand (unbalanced quotes, empty clauses, a path after
a parameter, a parameter given twice in one clause) is left exactly as it is, and its order difference stays
visible. A value whose order is already canonical is left untouched (whitespace included); a reordered value
is written with the whitespace around separators removed, which OSGi parsers ignore.
"""

from __future__ import annotations

from ..formats.manifest import Attribute, Section, is_manifest_name, load_for_stabilizer, make_attribute
from ..model import Entry, Payload
from ..pipeline import Context, Scope, Stabilizer
from ..taxonomy import Category

#: Headers (lower case) whose comma-separated clauses form a set. See the module docstring for why.
ORDER_FREE_HEADERS = frozenset({
    "export-package",
    "import-package",
    "provide-capability",
    "require-capability",
    "private-package",
    "ignore-package",
    "include-resource",
    "conditional-package",
    "embedded-artifacts",
    "embed-dependency",
    "export-service",
    "import-service",
})

#: Headers whose order carries meaning; listed so that tests can prove they are never sorted.
ORDER_SENSITIVE_HEADERS = frozenset({
    "bundle-classpath", "class-path", "dynamicimport-package", "require-bundle", "bundle-nativecode",
    "fragment-host",
})

#: Directives whose (quoted) value is a comma-separated set.
SET_DIRECTIVES = frozenset({"uses", "mandatory"})


def split_quoted(text: str, sep: str) -> list[str] | None:
    """``text`` split at ``sep`` outside double quotes (backslash escapes inside quotes); None when a quote
    is left open."""
    parts: list[str] = []
    buf: list[str] = []
    quoted = escaped = False
    for ch in text:
        if quoted:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                quoted = False
        elif ch == '"':
            quoted = True
        elif ch == sep:
            parts.append("".join(buf))
            buf = []
            continue
        buf.append(ch)
    if quoted:
        return None
    parts.append("".join(buf))
    return parts


def _param_key(param: str) -> tuple[str, bool] | None:
    """(``version``, False) for ``version="1.0"``, (``uses``, True) for the directive ``uses:="a,b"``;
    None for a path."""
    eq = split_quoted(param, "=")
    if eq is None or len(eq) < 2:
        return None
    head = eq[0].rstrip()
    return head.removesuffix(":").strip(), head.endswith(":")


def _sorted_set_directive(param: str) -> str:
    """``uses:="b,a"`` -> ``uses:="a,b"`` (unquoted or unusual values unchanged)."""
    head, _, value = param.partition(":=")
    value = value.strip()
    if len(value) < 2 or value[0] != '"' or value[-1] != '"' or "\\" in value or '"' in value[1:-1]:
        return param
    items = [x.strip() for x in value[1:-1].split(",")]
    if any(not x for x in items):
        return param
    return f'{head.strip()}:="{",".join(sorted(items))}"'


def _clause(clause: str, canonical: bool) -> str | None:
    elems = split_quoted(clause, ";")
    if elems is None:
        return None
    elems = [e.strip() for e in elems]
    if any(not e for e in elems):
        return None
    paths: list[str] = []
    params: list[tuple[str, str]] = []
    for e in elems:
        parsed = _param_key(e)
        if parsed is None:
            if params:  # a path after a parameter: not the OSGi syntax
                return None
            paths.append(e)
        else:
            key, directive = parsed
            if not key:
                return None
            params.append((key, _sorted_set_directive(e) if canonical and directive and key in SET_DIRECTIVES
                           else e))
    if len({k for k, _ in params}) != len(params):
        return None  # a parameter given twice: which one a framework uses is unclear, leave it
    if canonical:
        paths.sort()
        params.sort()
    return ";".join(paths + [p for _, p in params])


def canonical_value(value: str) -> str | None:
    """The canonical order of a list header's value, or None when it is already canonical or cannot be
    parsed safely."""
    clauses = split_quoted(value, ",")
    if clauses is None:
        return None
    plain: list[str] = []
    canon: list[str] = []
    for c in clauses:
        p = _clause(c, canonical=False)
        k = _clause(c, canonical=True)
        if p is None or k is None:
            return None
        plain.append(p)
        canon.append(k)
    canon.sort()
    if canon == plain:
        return None  # order already canonical: keep the value (and its whitespace) as it is
    return ",".join(canon)


def _sorted_attribute(a: Attribute) -> Attribute:
    if a.key not in ORDER_FREE_HEADERS:
        return a
    new = canonical_value(a.value)
    if new is None or new == a.value:
        return a
    return make_attribute(a.name, new, a.newline())


def _applies(entry: Entry) -> bool:
    return is_manifest_name(entry.name)


def _apply(entry: Entry, ctx: Context) -> Entry:
    data, manifest = load_for_stabilizer(entry, ctx)
    main = manifest.main
    attrs = tuple(_sorted_attribute(a) for a in main.attributes)
    if all(a is b for a, b in zip(attrs, main.attributes, strict=True)):
        return entry
    sections = (Section(attrs, main.separator), *manifest.entries)
    out = manifest.with_sections(sections).to_bytes()
    if out == data:
        return entry
    return entry.replace(payload=Payload.of_bytes(out, entry.payload.what))


STABILIZER = Stabilizer(
    name="manifest-value-order",
    scope=Scope.ENTRY,
    category=Category.BUILD_MANIFESTS,
    removes="the order of clauses, paths, parameters and uses:= lists in Export-Package, Import-Package, "
            "capability and bnd informational headers",
    reason="those clauses are sets to the OSGi framework; order-sensitive headers like Bundle-ClassPath and "
           "DynamicImport-Package are never sorted",
    apply=_apply,
    applies_to=_applies,
)
