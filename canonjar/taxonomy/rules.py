"""Classification rules as data, and :func:`classify`.

Two tables:

* :data:`DIFFERENCE_RULES`: ordered rules over a residual :class:`~canonjar.outcome.Difference` (kind, aspect,
  path pattern, note pattern, pattern over the changed lines of its diff, evidence that differs between the
  sides, and a few named checks). The first rule that matches gives the root cause; a difference no rule
  matches gets the ``unknown`` root cause and says so.

  A benign cause must explain *every* change of a text difference: the difference is split into its changes
  (manifest attributes compared parsed, properties keys, changed lines; :func:`split_changes`) and each is
  classified on its own. When one is not build noise (a Main-Class next to a Built-By, a code line next to a
  date), the difference gets that change's functional cause (:data:`FUNCTIONAL_CAUSES`) or ``unknown``, and
  its explanation lists the benign and the other changes: a benign change never masks another one. Rules that
  read no lines (evidence, path or class-analysis rules) explain the file as a whole and are not split.
* :data:`STEP_CAUSES` and :data:`EVIDENCE_CAUSES`: what each stabilizer's trace steps removed, by root cause.
  ``manifest-build-metadata`` steps are split by the attributes recorded as evidence for the same entry
  (``built-by`` -> built-by, ``build-jdk`` -> build-jdk, ``created-by`` -> build tool or JDK...), and the
  ``pom-properties`` and SBOM steps by what they say they removed (``pom-properties-removed=date-comment`` ->
  pom-properties-timestamp, ``sbom-removed=serial-number`` -> sbom-serial-number...).

Everything here is pure: :func:`classify` maps an Outcome to an Outcome, so an outcome loaded from JSON can be
classified again.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

from ..formats.manifest import ManifestError
from ..formats.manifest import parse as parse_manifest
from ..formats.properties import ItemKind, PropertiesError
from ..formats.properties import parse as parse_properties
from ..outcome import Difference, Evidence, NoiseSummary, Outcome, TraceStep, Verdict
from .causes import ROOT_CAUSES, UNKNOWN, root_cause

__all__ = [
    "DIFFERENCE_RULES",
    "EVIDENCE_CAUSES",
    "EVIDENCE_FACTS",
    "FUNCTIONAL_CAUSES",
    "STEP_CAUSES",
    "Change",
    "Facts",
    "Rule",
    "classify",
    "classify_difference",
    "first_rule",
    "is_benign",
    "noise_summary",
    "split_changes",
    "step_causes",
]


@dataclass(frozen=True)
class Rule:
    """One classification rule. Every condition given must hold; an empty condition always holds.

    ``path``, ``note`` and ``changed`` are regular expressions (searched, case-insensitive; ``changed`` runs in
    multi-line mode over the ``-``/``+`` lines of the difference's diff). ``evidence`` names facts (see
    :data:`EVIDENCE_FACTS`) of which at least one must have values on both sides that differ. ``check`` names
    a function in :data:`CHECKS`.
    """

    id: str
    cause: str
    explain: str
    kinds: tuple[str, ...] = ()
    aspects: tuple[str, ...] = ()
    path: str = ""
    note: str = ""
    changed: str = ""
    evidence: tuple[str, ...] = ()
    check: str = ""


# ------------------------------------------------------------------------------------------------ evidence

_JDK_LIKE = r"^\s*\d[\w.+\-]*\s*(\(.*\))?\s*$"  # "17.0.2", "1.8.0_292 (Oracle Corporation)"

#: Derived facts, per side: fact name -> the evidence keys it is read from (``created-by`` is split by value).
EVIDENCE_FACTS: dict[str, tuple[str, ...]] = {
    "jdk-version": ("build-jdk", "build-jdk-spec", "build-java-version", "built-jdk", "created-by-jdk"),
    "jdk-vendor": ("build-jdk-vendor", "build-java-vendor", "created-by-vendor"),
    "build-tool": ("created-by-tool", "archiver-version", "maven-version", "tool", "ant-version", "gradle-version",
                   "leiningen-version", "build-tool", "build-tool-version"),
    "gav": ("gav",),
    "git-commit": ("git-commit",),
    "git-dirty": ("git-dirty",),
    "sbom-hash-algorithms": ("sbom-hash-algorithms",),
    "sbom-tool-version": ("sbom-tool-version",),
    "javadoc-jdk": ("javadoc-jdk",),
}


class Facts:
    """The evidence of an outcome, indexed per side and key, with the derived facts."""

    def __init__(self, evidence: Sequence[Evidence], differences: Sequence[Difference] = ()) -> None:
        self.raw: dict[str, dict[str, list[str]]] = {"reference": {}, "rebuild": {}}
        for ev in evidence:
            side = self.raw.setdefault(ev.side, {})
            for key, value in _expand(ev.key.lower(), ev.value):
                values = side.setdefault(key, [])
                if value not in values:
                    values.append(value)
        self.presence: dict[str, set[str]] = {"added": set(), "removed": set()}
        for d in differences:
            if d.aspect == "presence":
                self.presence.setdefault(d.kind.value, set()).add(d.path)

    def values(self, side: str, fact: str) -> list[str]:
        out: list[str] = []
        for key in EVIDENCE_FACTS.get(fact, (fact,)):
            out.extend(v for v in self.raw.get(side, {}).get(key, []) if v not in out)
        return out

    def differing(self, facts: Iterable[str]) -> str:
        """'' when none of ``facts`` differs between the sides, else a quote of the first that does."""
        for fact in facts:
            a, b = self.values("reference", fact), self.values("rebuild", fact)
            if a and b and set(a) != set(b):
                return f"{fact}: reference {', '.join(a)}; rebuild {', '.join(b)}"
        return ""


def _expand(key: str, value: str) -> list[tuple[str, str]]:
    out = [(key, value)]
    if key == "created-by":
        m = re.match(r"^\s*(\d[\w.+\-]*)\s*(?:\((.*)\))?\s*$", value)
        if m:
            out.append(("created-by-jdk", m.group(1)))
            if m.group(2):
                out.append(("created-by-vendor", m.group(2)))
        else:
            out.append(("created-by-tool", value))
    return out


# ------------------------------------------------------------------------------------------------ named checks

def _changed_lines(d: Difference, sign: str) -> list[str]:
    if not d.diff:
        return []
    return [ln[1:] for ln in d.diff.split("\n")
            if ln.startswith(sign) and not ln.startswith(("---", "+++"))]


def _reordered_lines(d: Difference, _facts: Facts) -> bool:
    a, b = _changed_lines(d, "-"), _changed_lines(d, "+")
    return bool(a) and Counter(x.rstrip("\r") for x in a) == Counter(x.rstrip("\r") for x in b)


def _line_endings_only(d: Difference, _facts: Facts) -> bool:
    a, b = _changed_lines(d, "-"), _changed_lines(d, "+")
    return bool(a or b) and a != b and [x.rstrip("\r") for x in a] == [x.rstrip("\r") for x in b]


def _logical(lines: list[str]) -> list[str]:
    """Manifest lines with continuation lines joined."""
    out: list[str] = []
    for ln in (x.rstrip("\r") for x in lines):
        if ln.startswith(" ") and out:
            out[-1] += ln[1:]
        else:
            out.append(ln)
    return out


def _rewrapped(d: Difference, _facts: Facts) -> bool:
    a, b = _changed_lines(d, "-"), _changed_lines(d, "+")
    return bool(a or b) and a != b and "".join(_logical(a)) == "".join(_logical(b))


def _split_outside_quotes(text: str, sep: str) -> list[str]:
    parts: list[str] = []
    cur: list[str] = []
    quoted = False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        if ch == sep and not quoted:
            parts.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur).strip())
    return parts


_OSGI = re.compile(r"^(export-package|import-package|provide-capability|require-capability|private-package|"
                   r"ignore-package|include-resource|conditional-package|embedded-artifacts|embed-dependency|"
                   r"export-service|import-service)\s*:(.*)$", re.IGNORECASE)


def _osgi_normal(line: str) -> str:
    m = _OSGI.match(line)
    if not m:
        return line
    clauses = [";".join(sorted(_split_outside_quotes(c, ";"))) for c in _split_outside_quotes(m.group(2), ",")]
    return m.group(1).lower() + ":" + ",".join(sorted(clauses))


def _osgi_reordered(d: Difference, _facts: Facts) -> bool:
    a, b = _logical(_changed_lines(d, "-")), _logical(_changed_lines(d, "+"))
    if not a or not any(_OSGI.match(x) for x in a):
        return False
    return Counter(_osgi_normal(x) for x in a) == Counter(_osgi_normal(x) for x in b)


def _created_by(d: Difference, sign: str) -> list[tuple[str, str]]:
    out = []
    for ln in _logical(_changed_lines(d, sign)):
        m = re.match(r"(?i)^created-by\s*:\s*(\d[\w.+\-]*)\s*(?:\((.*)\))?\s*$", ln)
        if m:
            out.append((m.group(1), m.group(2) or ""))
    return out


def _created_by_vendor(d: Difference, _facts: Facts) -> bool:
    a, b = _created_by(d, "-"), _created_by(d, "+")
    return bool(a and b) and {v for _, v in a} != {v for _, v in b}


def _created_by_jdk(d: Difference, _facts: Facts) -> bool:
    a, b = _created_by(d, "-"), _created_by(d, "+")
    return bool(a or b) and {j for j, _ in a} != {j for j, _ in b}


_TIMESTAMP_IDS = {0x5455, 0x000A, 0x5855}
_OWNERSHIP_IDS = {0x7875, 0x7855}


def _extra_ids(text: str | None) -> dict[int, bytes]:
    """Extra-field id -> data, from compare's "local 0x..., central 0x..." rendering (both headers)."""
    out: dict[int, bytes] = {}
    for i, m in enumerate(re.finditer(r"0x([0-9a-f]+|-)", text or "")):
        raw = b"" if m.group(1) == "-" else bytes.fromhex(m.group(1)) if len(m.group(1)) % 2 == 0 else b""
        pos = 0
        while pos + 4 <= len(raw):
            fid, size = int.from_bytes(raw[pos:pos + 2], "little"), int.from_bytes(raw[pos + 2:pos + 4], "little")
            out[fid + (i << 16)] = raw[pos + 4:pos + 4 + size]
            pos += 4 + size
    return out


def _changed_extra_ids(d: Difference) -> set[int]:
    a, b = _extra_ids(d.left), _extra_ids(d.right)
    return {k & 0xFFFF for k in set(a) | set(b) if a.get(k) != b.get(k)}


def _extra_timestamps(d: Difference, _facts: Facts) -> bool:
    return bool(_changed_extra_ids(d) & _TIMESTAMP_IDS)


def _extra_ownership(d: Difference, _facts: Facts) -> bool:
    return bool(_changed_extra_ids(d) & _OWNERSHIP_IDS)


_VERSIONED_JAR = re.compile(r"^(.*?)-(\d[\w.]*(?:-[\w.]+)*)\.(jar|war|zip)$", re.IGNORECASE)


def _versioned_pair(d: Difference, facts: Facts) -> bool:
    m = _VERSIONED_JAR.match(d.path)
    if not m:
        return False
    other = facts.presence.get("added" if d.kind.value == "removed" else "removed", set())
    for p in other:
        o = _VERSIONED_JAR.match(p)
        if o and o.group(1) == m.group(1) and o.group(2) != m.group(2):
            return True
    return False


def _masked_equal(d: Difference, mask: str, flags: int = 0) -> bool:
    """True when the changed lines become equal, line for line, once every ``mask`` match is blanked: only such
    values (dates, UUIDs, paths) changed. A line that also changed elsewhere ("2024-03-02: fixed bug X" vs "...Y")
    is not explained by the value it happens to hold."""
    a, b = _changed_lines(d, "-"), _changed_lines(d, "+")
    if not a or not b:
        return False
    rx = _rx(mask, flags)
    return [rx.sub("\x00", x.rstrip("\r")) for x in a] == [rx.sub("\x00", x.rstrip("\r")) for x in b]


def _dates_only(d: Difference, _facts: Facts) -> bool:
    return _masked_equal(d, _DATE_VALUE)


def _dates_or_years_only(d: Difference, _facts: Facts) -> bool:
    return _masked_equal(d, _DATE_VALUE + "|" + _YEAR)


def _uuids_only(d: Difference, _facts: Facts) -> bool:
    return _masked_equal(d, _UUID, re.IGNORECASE)


def _paths_only(d: Difference, _facts: Facts) -> bool:
    return _masked_equal(d, _PATH_VALUE, re.IGNORECASE)


_HASH_LINE = re.compile(r'^\s*(?:"alg"\s*:\s*"(?P<alg>[^"]+)"|"content"\s*:\s*"[0-9a-fA-F]+"|'
                        r'<hash\s+alg="(?P<xalg>[^"]+)"\s*>\s*[0-9a-fA-F]*\s*</hash>)\s*,?\s*$')
_HASH_STRUCTURE = re.compile(r'^\s*(?:[\[\]{},]*|"hashes"\s*:\s*\[|</?hashes>)\s*$')


def _hash_algorithms_only(d: Difference, _facts: Facts) -> bool:
    """Only whole hash entries were added or removed, of algorithms the other side does not list at that place:
    no digest of an algorithm both sides list changed, and no other line changed."""
    algs: dict[str, list[str]] = {"-": [], "+": []}
    contents = {"-": 0, "+": 0}
    for sign in ("-", "+"):
        for ln in _changed_lines(d, sign):
            m = _HASH_LINE.match(ln)
            if m is None:
                if not _HASH_STRUCTURE.match(ln):
                    return False
                continue
            if m.group("xalg"):
                algs[sign].append(m.group("xalg"))
            elif m.group("alg"):
                algs[sign].append(m.group("alg"))
            else:
                contents[sign] += 1
    json_algs = {s: sum(1 for ln in _changed_lines(d, s) if '"alg"' in ln) for s in ("-", "+")}
    return (bool(algs["-"] or algs["+"]) and not set(algs["-"]) & set(algs["+"])
            and contents == json_algs)


_TOOL_FIELD = re.compile(r'^\s*(?:"(?:name|vendor|group|author|version)"\s*:\s*"(?P<json>[^"]*)"\s*,?|'
                         r'<(?P<tag>name|vendor|group|author|version)>(?P<xml>[^<]*)</(?P=tag)>|'
                         r'Creator:\s*Tool:\s*(?P<spdx>.*?))\s*$')
_STRUCTURE = re.compile(r"^\s*(?:[\[\]{},]*|</?(?:tool|tools|component|components|service|services)>)\s*$")


def _tool_lines_only(d: Difference, facts: Facts) -> bool:
    """Every changed line is a tool's name, vendor, group, author or version that the recorded SBOM tool labels
    (``sbom-tool-version`` evidence, either side) name as a whole word, or JSON/XML structure: the change is in
    the tool list, not in a component that happens to sit in the same file."""
    labels = [v for side in ("reference", "rebuild") for v in facts.values(side, "sbom-tool-version")]
    seen = False
    for ln in _changed_lines(d, "-") + _changed_lines(d, "+"):
        m = _TOOL_FIELD.match(ln)
        if m is None:
            if not _STRUCTURE.match(ln):
                return False
            continue
        value = (m.group("json") or m.group("xml") or m.group("spdx") or "").strip()
        word = _rx(r"(?<![\w.\-])" + re.escape(value) + r"(?![\w.\-])", 0)
        if not value or not any(word.search(label) for label in labels):
            return False
        seen = True
    return seen


CHECKS: dict[str, Callable[[Difference, Facts], bool]] = {
    "dates-only": _dates_only,
    "dates-or-years-only": _dates_or_years_only,
    "uuids-only": _uuids_only,
    "paths-only": _paths_only,
    "reordered-lines": _reordered_lines,
    "line-endings-only": _line_endings_only,
    "manifest-rewrapped": _rewrapped,
    "osgi-reordered": _osgi_reordered,
    "created-by-vendor": _created_by_vendor,
    "created-by-jdk": _created_by_jdk,
    "extra-timestamps": _extra_timestamps,
    "extra-ownership": _extra_ownership,
    "versioned-pair": _versioned_pair,
    "hash-algorithms-only": _hash_algorithms_only,
    "tool-lines-only": _tool_lines_only,
}

#: Checks that verify every changed line themselves, on lines that only make sense together (a JSON hash entry
#: spans four lines): differences their rules match are not split into single changes.
WHOLE_CHECKS = frozenset({"hash-algorithms-only", "tool-lines-only"})

# ------------------------------------------------------------------------------------------------ the rules

_PRESENCE = ("added", "removed")
_CONTENT = ("changed",)
_MF = r"(^|!/)META-INF/MANIFEST\.MF$"
_POM_PROPS = r"(^|!/)META-INF/maven/.+/pom\.properties$"
_GIT = r"(^|/)([\w.\-]*git\.properties|git\.json)$"
_SBOM = r"(^|/)(bom\.(json|xml)|[^/]+\.cdx\.(json|xml)|[^/]+\.spdx(\.json)?)$|(^|!/)META-INF/sbom/"
_INDEX = (r"(^|/)(jandex\.idx|INDEX\.LIST|[^/]+\.idx)$|(^|!/)META-INF/(sisu/javax\.inject\.Named|plexus/components"
          r"\.xml|annotations/|spring\.components$|spring-autoconfigure-metadata\.properties$)")
_NATIVE = (r"\.(so|so\.\d+|dll|dylib|jnilib|exe|a|lib)$|(^|/)(natives?|lib)/(linux|windows|win32|win64|darwin|"
           r"osx|macos|freebsd)[\w\-]*/")
_CLASS = r"\.class$"
_HTML = r"\.html?$"
_WEB = r"\.(js|mjs|cjs|css|map)$|(^|!/)META-INF/resources/webjars/"
_SCRIPT = r"\.(sh|bash|bat|cmd|ps1|py|pl|rb)$|(^|/)bin/[^/.]+$"
_NOTICE = r"(^|/)(NOTICE|LICENSE|LICENCE|README|COPYRIGHT|DEPENDENCIES)([.\-_][^/]*)?$"
_JSP = r"_jspx?\.(class|java)$|(^|/)org/apache/jsp/"
_DATE = (r"\b(19|20)\d\d-[01]\d-[0-3]\d([T ][0-2]\d:[0-5]\d)?|"
         r"\b(Mon|Tue|Wed|Thu|Fri|Sat|Sun) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ 0-3]\d "
         r"[0-2]\d:[0-5]\d:[0-5]\d\b|\b1[0-9]{12}\b")
_STORE_DATE = (r"^[-+]#(Mon|Tue|Wed|Thu|Fri|Sat|Sun) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ 0-3]\d "
               r"[0-2]\d:[0-5]\d:[0-5]\d ")
_UUID = r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"
_ABSPATH = r"(^[-+]|[\s\"'=:(])(/home/|/Users/|/tmp/|/var/lib/|/builds?/|/workspace/|[A-Za-z]:\\\\?)"
#: Whole values, for the masks of the "...-only" checks: a date with its seconds, fraction, zone and year
#: (Date.toString: "Sat Mar 02 10:15:00 UTC 2024"; ISO: "2024-03-02T10:15:00.000+01:00"), a year, a path.
_DATE_VALUE = (r"(?:" + _DATE + r")(?::[0-5]\d)?(?:[.,]\d+)?(?:\s?(?:Z|[+-][0-2]\d:?[0-5]\d|[A-Z]{2,5}"
               r"(?:[+-]\d\d?(?::?\d\d)?)?))?(?:\s(?:19|20)\d\d)?")
_YEAR = r"\b(?:19|20)\d\d\b"
_PATH_VALUE = r"(?:/home/|/Users/|/tmp/|/var/lib/|/builds?/|/workspace/|\b[A-Za-z]:\\)[^\s\"'<>,;|]*"


def _attr(*names: str) -> str:
    """Changed-lines pattern for manifest attributes (case-insensitive names)."""
    return r"^[-+](" + "|".join(names) + r")\s*:"


DIFFERENCE_RULES: tuple[Rule, ...] = (
    # -------------------------------------------------------------- zip metadata (filesystem)
    Rule("zip-time", "zip-timestamps", "zip entry modification times differ", aspects=("time",)),
    Rule("zip-mode", "umask-permissions", "file modes differ (build machine umask)", aspects=("mode",)),
    Rule("zip-version", "zip-host-version", "'version made by' / 'version needed' differ (another zip writer "
         "or OS)", aspects=("zip-version",)),
    Rule("zip-extra-timestamps", "zip-timestamps", "timestamp extra fields (0x5455, 0x000a, 0x5855) differ",
         aspects=("extra-fields",), check="extra-timestamps"),
    Rule("zip-extra-ownership", "ownership", "Unix uid/gid extra fields (0x7875, 0x7855) differ",
         aspects=("extra-fields",), check="extra-ownership"),
    Rule("zip-extra", "zip-extra-fields", "zip extra fields differ", aspects=("extra-fields",)),
    Rule("zip-compression", "zip-compression", "compression method, level or compressed bytes differ",
         aspects=("compression", "compressed-bytes")),
    Rule("zip-descriptor", "zip-data-descriptor", "data descriptor use differs (streamed writer)",
         aspects=("data-descriptor",)),
    Rule("zip-utf8", "zip-utf8-flag", "the UTF-8 name flag differs", aspects=("utf8-flag",)),
    Rule("zip-comment", "zip-comments", "zip comments differ", aspects=("entry-comment", "archive-comment")),
    Rule("zip-order", "file-order", "entries are in another order", aspects=("order",)),
    # -------------------------------------------------------------- presence
    Rule("presence-directory", "directory-entries", "a directory entry exists on one side only",
         kinds=_PRESENCE, aspects=("presence",), path=r"/$"),
    Rule("presence-signature", "jar-signature", "a signature file exists on one side only", kinds=_PRESENCE,
         aspects=("presence",), path=r"(^|!/)META-INF/([^/]+\.(SF|RSA|DSA|EC)|SIG-[^/]+)$"),
    Rule("presence-index", "index-files", "a generated index file exists on one side only", kinds=_PRESENCE,
         aspects=("presence",), path=_INDEX),
    Rule("presence-native", "os-specific-binaries", "an OS-specific binary exists on one side only",
         kinds=_PRESENCE, aspects=("presence",), path=_NATIVE),
    Rule("presence-versioned", "version-ranges", "the same library is bundled in another version",
         kinds=_PRESENCE, aspects=("presence",), check="versioned-pair"),
    Rule("presence", "missing-files", "a file exists on one side only", kinds=_PRESENCE, aspects=("presence",)),
    # -------------------------------------------------------------- MANIFEST.MF
    Rule("manifest-wrapping", "manifest-line-wrapping", "only the manifest's line wrapping or line endings "
         "differ", kinds=_CONTENT, path=_MF, check="manifest-rewrapped"),
    Rule("manifest-order", "manifest-attribute-order", "the same manifest lines in another order",
         kinds=_CONTENT, path=_MF, check="reordered-lines"),
    Rule("manifest-osgi-order", "osgi-value-order", "the same OSGi header clauses in another order",
         kinds=_CONTENT, path=_MF, check="osgi-reordered"),
    Rule("manifest-digests", "jar-signature", "per-entry signature digests differ", kinds=_CONTENT, path=_MF,
         changed=r"^[-+][\w-]+-Digest(-Manifest)?\s*:"),
    Rule("manifest-build-jdk", "build-jdk", "Build-Jdk differs", kinds=_CONTENT, path=_MF,
         changed=_attr("build-jdk", "build-jdk-spec", "build-java-version", "built-jdk")),
    Rule("manifest-jdk-vendor", "jdk-vendor", "the JDK vendor attribute differs", kinds=_CONTENT, path=_MF,
         changed=_attr("build-jdk-vendor", "build-java-vendor")),
    Rule("manifest-created-by-vendor", "jdk-vendor", "Created-By names another JDK vendor", kinds=_CONTENT,
         path=_MF, check="created-by-vendor"),
    Rule("manifest-created-by-jdk", "build-jdk", "Created-By names another JDK version", kinds=_CONTENT,
         path=_MF, check="created-by-jdk"),
    Rule("manifest-build-tool", "build-tool-version", "the build tool version attribute differs",
         kinds=_CONTENT, path=_MF,
         changed=_attr("created-by", "tool", "ant-version", "gradle-version", "archiver-version", "maven-version",
                       "leiningen-version", "build-tool", "build-tool-version", "originally-created-by")),
    Rule("manifest-built-by", "built-by", "Built-By differs", kinds=_CONTENT, path=_MF,
         changed=_attr("built-by", "build-user", "build-user-email", "build-by", "git-build-user-name",
                       "git-build-user-email")),
    Rule("manifest-os", "os-version", "the build OS attribute differs", kinds=_CONTENT, path=_MF,
         changed=_attr("build-os", "build-os-version", "os-name", "os-version", "os-arch", "build-arch",
                       "built-os")),
    Rule("manifest-scm", "scm-revision", "the SCM revision or branch attribute differs", kinds=_CONTENT,
         path=_MF, changed=_attr("scm-revision", "git-commit-id", "implementation-scm-revision", "scm-branch",
                                 "git-branch", "scm-git-branch", "implementation-scm-branch", "build-branch",
                                 "change", "eclipse-sourcereferences", "implementation-build", "git-commit")),
    Rule("manifest-build-time", "manifest-build-time", "a build date attribute differs", kinds=_CONTENT,
         path=_MF, changed=_attr("bnd-lastmodified", "build-time", "build-date", "build-timestamp",
                                 "build-datetime", "built-date", "built-time", "built-at", "built-on",
                                 "build-timezone", "implementation-build-date", "implementation-build-time",
                                 "git-build-time")),
    Rule("manifest-environment", "build-environment", "a build host or CI attribute differs", kinds=_CONTENT,
         path=_MF, changed=_attr("build-host", "build-hostname", "build-machine", "build-node", "build-agent",
                                 "build-job", "build-number", "build-id", "build-url", "built-status",
                                 "build-tag", "implementation-build-number", "implementation-build-id",
                                 "git-build-host", r"(jenkins|hudson)-(build|job|node)[\w-]*",
                                 r"(travis|teamcity|bamboo)-build-number", r"github-run-[\w-]+", r"ci-[\w-]+")),
    Rule("manifest-version-ranges", "version-ranges", "OSGi version ranges or bundle versions differ",
         kinds=_CONTENT, path=_MF, changed=r"version\s*=|bundle-version\s*="),
    Rule("manifest-other", "manifest-attribute-value", "another manifest attribute differs", kinds=_CONTENT,
         path=_MF),
    # -------------------------------------------------------------- pom.properties / pom.xml
    Rule("pom-gav", "version-mismatch", "the project version differs", kinds=_CONTENT,
         path=r"(^|!/)META-INF/maven/.+/pom\.(properties|xml)$", evidence=("gav",)),
    Rule("pom-m2e", "pom-properties-m2e", "Eclipse m2e keys differ", kinds=_CONTENT, path=_POM_PROPS,
         changed=r"^[-+]m2e\."),
    Rule("pom-maven-version", "pom-properties-maven-version", "the '#Created by Apache Maven' comment differs",
         kinds=_CONTENT, path=_POM_PROPS, changed=r"^[-+]#Created by Apache Maven"),
    Rule("pom-timestamp", "pom-properties-timestamp", "the Properties.store date comment differs",
         kinds=_CONTENT, path=_POM_PROPS, changed=_STORE_DATE),
    Rule("pom-order", "pom-properties-order", "the same pom.properties lines in another order", kinds=_CONTENT,
         path=_POM_PROPS, check="reordered-lines"),
    Rule("pom-version-line", "version-mismatch", "groupId, artifactId or version differs", kinds=_CONTENT,
         path=_POM_PROPS, changed=r"^[-+](groupId|artifactId|version)\s*[=:]"),
    # -------------------------------------------------------------- git.properties
    Rule("git-commit", "embedded-commit", "the embedded commit or dirty flag differs", kinds=_CONTENT, path=_GIT,
         evidence=("git-commit", "git-dirty")),
    Rule("git-keys", "git-properties-keys", "git.properties build keys differ", kinds=_CONTENT, path=_GIT,
         changed=r"^[-+]\s*\"?(?:[\w\-]+\.)?(build\.(time|host|user\.name|user\.email|number(\.unique)?)|branch|"
                 r"tags|dirty|remote\.origin\.url|closest\.tag\.commit\.count|total\.commit\.count|"
                 r"local\.branch\.(ahead|behind)|commit\.((author|committer)\.)?time)\"?\s*[=:]"),
    Rule("git-commit-keys", "embedded-commit", "the commit id or describe string differs", kinds=_CONTENT,
         path=_GIT, changed=r"commit\.id|describe|closest\.tag\.name"),
    Rule("git-comment", "git-properties-keys", "the git.properties date comment differs", kinds=_CONTENT,
         path=_GIT, changed=r"^[-+]#"),
    # -------------------------------------------------------------- SBOM
    Rule("sbom-hash-algorithms", "sbom-hash-algorithms", "the SBOM hash algorithms differ (JDK vendor)",
         kinds=_CONTENT, path=_SBOM, evidence=("sbom-hash-algorithms",), check="hash-algorithms-only"),
    Rule("sbom-serial", "sbom-serial-number", "the SBOM serial number / document namespace differs",
         kinds=_CONTENT, path=_SBOM, changed=r"serialNumber|documentNamespace", check="uuids-only"),
    Rule("sbom-timestamp", "sbom-timestamp", "the SBOM timestamp differs", kinds=_CONTENT, path=_SBOM,
         changed=r"\"timestamp\"|<timestamp>|\"created\"|^[-+]Created:", check="dates-only"),
    Rule("sbom-tool", "sbom-tool-version", "the SBOM tool version differs", kinds=_CONTENT, path=_SBOM,
         evidence=("sbom-tool-version",), check="tool-lines-only"),
    Rule("sbom-components", "sbom-component-set", "the SBOM lists other components", kinds=_CONTENT,
         path=_SBOM),
    # -------------------------------------------------------------- sources and line endings
    Rule("java-layout", "newline-style", "Java source differs only in whitespace and comments", kinds=_CONTENT,
         path=r"\.java$", note=r"only in whitespace and comments"),
    Rule("line-endings", "newline-style", "only line endings differ", kinds=_CONTENT, check="line-endings-only"),
    # -------------------------------------------------------------- class files
    Rule("class-jsp", "servlet-timestamp", "a servlet precompiled from a JSP differs", kinds=_CONTENT,
         path=_JSP),
    Rule("class-compiler", "java-compiler", "the classes were compiled by another Java compiler", kinds=_CONTENT,
         path=_CLASS, note=r"compiler differs"),
    Rule("class-debug-only", "debug-info", "only debug information differs (another -g setting); the code is "
         "the same", kinds=_CONTENT, path=_CLASS, note=r"debug-info only"),
    Rule("class-version", "jdk-version-bytecode", "the class file version differs", kinds=_CONTENT,
         path=_CLASS, note=r"class file version differs"),
    Rule("class-idiom", "jdk-idioms", "a JDK-version idiom differs", kinds=_CONTENT, path=_CLASS,
         note=r"JDK idiom differs"),
    Rule("class-jdk-evidence", "jdk-version-bytecode", "class differs while the sides were built with another "
         "JDK", kinds=_CONTENT, path=_CLASS, evidence=("jdk-version",)),
    Rule("class-debug", "debug-info", "debug information differs", kinds=_CONTENT, path=_CLASS,
         note=r"debug information differs"),
    Rule("class-lambda", "lambda-naming", "lambda method names differ", kinds=_CONTENT, path=_CLASS,
         note=r"lambda method names differ"),
    Rule("class-timestamp", "bytecode-timestamp", "timestamp constants differ", kinds=_CONTENT, path=_CLASS,
         note=r"timestamp-like constants differ"),
    Rule("class-path", "absolute-paths", "absolute path constants differ", kinds=_CONTENT, path=_CLASS,
         note=r"absolute path constants differ"),
    Rule("class-uuid", "uuids", "UUID constants differ", kinds=_CONTENT, path=_CLASS,
         note=r"UUID constants differ"),
    Rule("class-member-order", "member-order", "the same fields or methods in another order", kinds=_CONTENT,
         path=_CLASS, note=r"same (fields|methods) in a different order"),
    Rule("class-cp-order", "constant-pool-order", "the same constant pool in another order", kinds=_CONTENT,
         path=_CLASS, note=r"same constant pool in a different order"),
    Rule("class-code", "bytecode-change", "the code or structure of the class differs", kinds=_CONTENT,
         path=_CLASS, note=r"code differs in \d+ method|class structure differs"),
    # -------------------------------------------------------------- other files
    Rule("index-content", "index-files", "a generated index file differs", kinds=_CONTENT, path=_INDEX),
    Rule("javadoc-jdk", "javadoc-jdk", "javadoc pages generated by another JDK", kinds=_CONTENT, path=_HTML,
         evidence=("javadoc-jdk",)),
    Rule("javadoc-timestamp", "javadoc-timestamp", "the javadoc generation date differs", kinds=_CONTENT,
         path=_HTML, changed=r"Generated by javadoc|name=\"date\"|name=\"dc\.created\"", check="dates-only"),
    Rule("web-assets", "bundled-javascript", "bundled JavaScript or CSS differs", kinds=_CONTENT, path=_WEB),
    Rule("native-content", "os-specific-binaries", "a native binary differs", kinds=_CONTENT, path=_NATIVE),
    Rule("properties-timestamp", "properties-timestamp", "a date in a .properties file differs",
         kinds=_CONTENT, path=r"\.properties$", changed=_DATE, check="dates-only"),
    Rule("script-timestamp", "script-timestamp", "a date in a script differs", kinds=_CONTENT, path=_SCRIPT,
         changed=_DATE, check="dates-only"),
    Rule("notice-timestamp", "notice-timestamp", "a date or year in a NOTICE/LICENSE file differs",
         kinds=_CONTENT, path=_NOTICE, changed=_DATE + r"|\b(19|20)\d\d\b", check="dates-or-years-only"),
    Rule("text-uuid", "uuids", "a UUID differs", kinds=_CONTENT, changed=_UUID, check="uuids-only"),
    Rule("text-path", "absolute-paths", "an absolute build path differs", kinds=_CONTENT, changed=_ABSPATH,
         check="paths-only"),
    Rule("text-timestamp", "resource-timestamp", "a date in a generated resource differs", kinds=_CONTENT,
         changed=_DATE, check="dates-only"),
)

# ------------------------------------------------------------------------------------------------ trace steps

#: The root cause of each built-in stabilizer's trace steps (refined by :data:`EVIDENCE_CAUSES`).
STEP_CAUSES: dict[str, str] = {
    "jar-signature": "jar-signature",
    "manifest-build-metadata": "build-environment",
    "manifest-value-order": "osgi-value-order",
    "manifest-attribute-order": "manifest-attribute-order",
    "manifest-layout": "manifest-line-wrapping",
    "pom-properties": "pom-properties-generated",
    "git-properties": "git-properties-keys",
    "properties-timestamp": "properties-timestamp",
    "sbom-cyclonedx": "sbom-run-metadata",
    "sbom-spdx": "sbom-run-metadata",
    "javadoc-timestamp": "javadoc-timestamp",
    "source-newlines": "newline-style",
    "class-lambda-names": "lambda-naming",
    "class-member-order": "member-order",
    "class-constant-pool-order": "constant-pool-order",
    "zip-directory-entries": "directory-entries",
    "zip-entry-order": "file-order",
    "zip-timestamps": "zip-timestamps",
    "zip-ownership": "ownership",
    "zip-permissions": "umask-permissions",
    "zip-host-version": "zip-host-version",
    "zip-extra-fields": "zip-extra-fields",
    "zip-compression": "zip-compression",
    "zip-data-descriptor": "zip-data-descriptor",
    "zip-utf8-flag": "zip-utf8-flag",
    "zip-comments": "zip-comments",
}

#: Stabilizers whose steps are attributed by their evidence alone (the default applies only without any): each
#: records what it removed (``built-by``, ``pom-properties-removed=date-comment``, ``sbom-removed=timestamp``...).
SPLIT_BY_EVIDENCE = frozenset({"manifest-build-metadata", "pom-properties", "sbom-cyclonedx", "sbom-spdx"})

#: (evidence key pattern, value pattern, root cause), first match wins: what a removed value says was noise.
EVIDENCE_CAUSES: tuple[tuple[str, str, str], ...] = (
    (r"created-by", _JDK_LIKE, "build-jdk"),
    (r"created-by|tool|ant-version|gradle-version|archiver-version|maven-version|leiningen-version|build-tool|"
     r"build-tool-version|originally-created-by", "", "build-tool-version"),
    (r"build-jdk|build-jdk-spec|build-java-version|built-jdk", "", "build-jdk"),
    (r"build-jdk-vendor|build-java-vendor", "", "jdk-vendor"),
    (r"built-by|build-user|build-user-email|build-by|git-build-user-name|git-build-user-email", "", "built-by"),
    (r"build-os|build-os-version|os-name|os-version|os-arch|build-arch|built-os", "", "os-version"),
    (r"git-branch|scm-git-branch|scm-branch|implementation-scm-branch|build-branch|build-tag", "", "scm-revision"),
    (r"bnd-lastmodified|build-time|build-timestamp|build-datetime|build-date|built-date|built-time|built-at|"
     r"built-on|build-timezone|implementation-build-date|implementation-build-time|git-build-time", "",
     "manifest-build-time"),
    (r"sbom-tool-version", "", "sbom-tool-version"),
    (r"sbom-removed", r"serial-number$", "sbom-serial-number"),
    (r"sbom-removed", r"timestamp$", "sbom-timestamp"),
    (r"sbom-removed", "", "sbom-run-metadata"),
    (r"pom-properties-removed", r"date-comment$", "pom-properties-timestamp"),
    (r"pom-properties-removed", r"key-order$", "pom-properties-order"),
    (r"pom-properties-removed", r"m2e-keys$", "pom-properties-m2e"),
    (r"pom-properties-removed", "", "pom-properties-generated"),
    (r"javadoc-jdk", "", "javadoc-jdk"),
    (r"signature-removed|manifest-digests-removed", "", "jar-signature"),
)

#: Evidence keys that describe what was kept and compared, not removed: never a noise cause.
KEPT_EVIDENCE = frozenset({"gav", "git-commit", "git-dirty", "sbom-hash-algorithms"})


@functools.cache
def _rx(pattern: str, flags: int = re.IGNORECASE) -> re.Pattern[str]:
    return re.compile(pattern, flags)


def _evidence_cause(key: str, value: str, stabilizer: str = "") -> str | None:
    if key in KEPT_EVIDENCE:
        return None
    if key == "maven-version" and stabilizer == "pom-properties":
        return "pom-properties-maven-version"
    for kp, vp, cause in EVIDENCE_CAUSES:
        if _rx(f"^(?:{kp})$").match(key) and (not vp or _rx(vp).match(value)):
            return cause
    if key.startswith("ci-") or _rx(r"^(jenkins|hudson|travis|teamcity|bamboo|github)-").match(key):
        return "build-environment"
    return None


def step_causes(step: TraceStep, evidence: Sequence[Evidence] = ()) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The root causes a trace step removed, each with the evidence values (``key=value``) behind it."""
    found: dict[str, list[str]] = {}
    for ev in evidence:
        if ev.side != step.side or ev.stabilizer != step.stabilizer or (ev.path and ev.path != step.path
                                                                       and step.stabilizer != "jar-signature"):
            continue
        cause = _evidence_cause(ev.key.lower(), ev.value, ev.stabilizer)
        if cause is None and step.stabilizer in SPLIT_BY_EVIDENCE and ev.key.lower() not in KEPT_EVIDENCE:
            # A removed value no evidence pattern names (Build-Host, Build-Number...) still counts, under the
            # stabilizer's own cause: otherwise a step that also removed Built-By would hide it.
            cause = STEP_CAUSES.get(step.stabilizer, UNKNOWN)
        if cause is not None:
            values = found.setdefault(cause, [])
            shown = f"{ev.key}={ev.value}"
            if shown not in values:
                values.append(shown)
    default = STEP_CAUSES.get(step.stabilizer, UNKNOWN)
    if step.stabilizer not in SPLIT_BY_EVIDENCE or not found:
        found = {default: found.pop(default, []), **found}
    return tuple((c, tuple(v)) for c, v in found.items())


_ORDER = {rc.id: i for i, rc in enumerate(ROOT_CAUSES)}
_SIDES = {"reference": 0, "rebuild": 1}


def noise_summary(trace: Sequence[TraceStep], evidence: Sequence[Evidence] = ()) -> tuple[NoiseSummary, ...]:
    """The noise removed, per side and root cause (skipped steps removed nothing and are left out)."""
    by_step: dict[tuple[str, str, str], list[Evidence]] = {}
    for ev in evidence:
        by_step.setdefault((ev.side, ev.stabilizer, ev.path), []).append(ev)
    by_stab: dict[tuple[str, str], list[Evidence]] = {}
    for ev in evidence:
        by_stab.setdefault((ev.side, ev.stabilizer), []).append(ev)
    acc: dict[tuple[str, str], tuple[list[int], list[str], list[str]]] = {}
    for step in trace:
        if step.action == "skipped":
            continue
        evs = (by_stab.get((step.side, step.stabilizer), []) if step.stabilizer == "jar-signature"
               else by_step.get((step.side, step.stabilizer, step.path), []))
        if not evs:  # most steps (zip noise): the stabilizer's own cause, no values; no need to look further
            count, stabs, _vals = acc.setdefault((step.side, STEP_CAUSES.get(step.stabilizer, UNKNOWN)), ([0], [], []))
            count[0] += 1
            if step.stabilizer not in stabs:
                stabs.append(step.stabilizer)
            continue
        for cause, values in step_causes(step, evs):
            count, stabs, vals = acc.setdefault((step.side, cause), ([0], [], []))
            count[0] += 1
            if step.stabilizer not in stabs:
                stabs.append(step.stabilizer)
            vals.extend(v for v in values if v not in vals)
    keys = sorted(acc, key=lambda k: (_SIDES.get(k[0], 2), k[0], _ORDER.get(k[1], len(_ORDER)), k[1]))
    return tuple(NoiseSummary(side, cause, root_cause(cause).category.value, acc[(side, cause)][0][0],
                              tuple(acc[(side, cause)][1]), tuple(acc[(side, cause)][2])) for side, cause in keys)


# ------------------------------------------------------------------------------------------------ differences

def _diff_lines(d: Difference) -> str:
    """The ``-``/``+`` lines of the difference's diff (headers left out), joined."""
    return "\n".join(ln for ln in (d.diff or "").split("\n")
                     if ln[:1] in ("+", "-") and not ln.startswith(("---", "+++")))


def _matches(rule: Rule, d: Difference, facts: Facts, lines: str | None = None) -> str | None:
    """None when ``rule`` does not match ``d``, else the evidence quote ('' when the rule uses none)."""
    if rule.kinds and d.kind.value not in rule.kinds:
        return None
    if rule.aspects and d.aspect not in rule.aspects:
        return None
    if rule.path and not _rx(rule.path).search(d.path):
        return None
    if rule.note and not _rx(rule.note).search(d.note):
        return None
    if rule.changed:
        if lines is None:
            lines = _diff_lines(d)
        if not lines or not _rx(rule.changed, re.IGNORECASE | re.MULTILINE).search(lines):
            return None
    if rule.check and not CHECKS[rule.check](d, facts):
        return None
    if rule.evidence:
        quote = facts.differing(rule.evidence)
        return quote or None
    return ""


def first_rule(d: Difference, facts: Facts, rules: Sequence[Rule] = DIFFERENCE_RULES) -> tuple[Rule, str] | None:
    """The first of ``rules`` that matches ``d`` and its evidence quote, or None."""
    lines = _diff_lines(d)
    for rule in rules:
        quote = _matches(rule, d, facts, lines)
        if quote is not None:
            return rule, quote
    return None


def _candidates(d: Difference) -> tuple[Rule, ...]:
    """The rules whose kind, aspect, path and note conditions hold for ``d``: the changes of ``d`` share them,
    so only these need to be tried on each change."""
    return tuple(r for r in DIFFERENCE_RULES
                 if (not r.kinds or d.kind.value in r.kinds) and (not r.aspects or d.aspect in r.aspects)
                 and (not r.path or _rx(r.path).search(d.path)) and (not r.note or _rx(r.note).search(d.note)))


def classify_difference(d: Difference, facts: Facts) -> Difference:
    """``d`` with its category, root cause, mitigation, hint and explanation filled in.

    A benign cause must explain every change of the difference: when the first rule names one, the difference
    is split into its changes (:func:`split_changes`) and each is classified on its own. If any change is not
    build noise, the difference gets that change's (functional) cause, or ``unknown``, and the explanation
    lists both what is benign and what is not: a benign change never masks another one.
    """
    hit = first_rule(d, facts)
    rule: Rule | None = None
    if hit is None:
        cause = UNKNOWN
        what = f"{d.kind.value} {d.aspect}"
        explanation = f"no taxonomy rule explains this {what} difference as a whole; it is reported as is"
    else:
        rule, quote = hit
        cause = rule.cause
        explanation = f"{rule.explain} ({quote})" if quote else rule.explain
    if _splittable(d):
        if rule is None or (is_benign(cause) and (rule.changed or rule.check) and rule.check not in WHOLE_CHECKS):
            cause, explanation = _verify_changes(rule, explanation, d, facts)
        elif not is_benign(cause):
            explanation += _list_changes(d)
    rc = root_cause(cause)
    return replace(d, category=rc.category.value, root_cause=rc.id, mitigation=rc.mitigation.value, hint=rc.hint,
                   explanation=explanation)


# ------------------------------------------------------------------------------------------------ every change

#: Causes that mean "the software may differ": never build noise, so they never need their changes verified
#: and a change they claim is never explained away by a benign cause next to it.
FUNCTIONAL_CAUSES = frozenset({UNKNOWN, "manifest-attribute-value", "version-mismatch", "sbom-component-set",
                               "missing-files", "embedded-commit", "version-ranges", "bytecode-change"})


def is_benign(cause: str) -> bool:
    """True when ``cause`` is build noise (it says the software is the same), False for a functional cause."""
    return cause not in FUNCTIONAL_CAUSES


@dataclass(frozen=True)
class Change:
    """One change of a text difference: a manifest attribute, a properties key, the comments of a properties
    file, or a (pair of) changed line(s), with its reference (``removed``) and rebuild (``added``) lines.
    :meth:`as_difference` makes it a difference of its own, whose diff holds only those lines, for the rules."""

    label: str
    removed: tuple[str, ...]
    added: tuple[str, ...]

    def as_difference(self, d: Difference) -> Difference:
        body = [f"-{x}" for x in self.removed] + [f"+{x}" for x in self.added]
        text = f"--- reference/{d.path}\n+++ rebuild/{d.path}\n@@ @@\n" + "\n".join(body) + "\n"
        return replace(d, diff=text, diff_omitted_lines=0)


def _splittable(d: Difference) -> bool:
    """Content differences with a line diff, except class files (their analysis note is already per change).

    Only a benign rule that reads the changed lines (or no rule) has its changes verified one by one: a rule
    that reads no lines (evidence, path) explains the file as a whole, and splitting would only hand every
    change the same answer. A functional rule gets its changes listed in the explanation."""
    return bool(d.diff) and d.kind.value in _CONTENT and not _rx(_CLASS).search(d.path)


def _hunks(d: Difference) -> list[list[str]]:
    """The lines of each hunk of ``d.diff`` (with their `` ``/``-``/``+`` prefix; line ends and headers dropped).
    A diff without ``@@`` lines (hand-made, or edited in a saved outcome) is one hunk: no line is left out."""
    hunks: list[list[str]] = []
    for ln in (d.diff or "").split("\n"):
        if ln.startswith(("---", "+++")) and not hunks:
            continue
        if ln.startswith("@@"):
            hunks.append([])
        elif ln[:1] in (" ", "-", "+"):
            if not hunks:
                hunks.append([])
            hunks[-1].append(ln)
    return hunks


def _side(hunk: list[str], sign: str) -> list[str]:
    return [ln[1:] for ln in hunk if ln[:1] in (" ", sign)]


def _line_changes(d: Difference) -> list[Change]:
    """Each block of changed lines paired line for line; a line left without a partner is a change alone (a
    blank line or a lone brace too: in code it can matter)."""
    out: list[Change] = []

    def flush(a: list[str], b: list[str]) -> None:
        for i in range(max(len(a), len(b))):
            rem = tuple(a[i:i + 1])
            add = tuple(b[i:i + 1])
            out.append(Change(f"line {(rem or add)[0].strip()[:60]!r}", rem, add))
        a.clear()
        b.clear()

    for hunk in _hunks(d):
        a: list[str] = []
        b: list[str] = []
        for ln in hunk:
            if ln[:1] == "-":
                a.append(ln[1:])
            elif ln[:1] == "+":
                b.append(ln[1:])
            else:
                flush(a, b)
        flush(a, b)
    return out


def _manifest_side(lines: list[str]) -> tuple[str, dict[tuple[str, str], list[str]]]:
    """(leading continuation text, attribute -> its logical lines) of one side of a hunk.
    Raises :class:`ManifestError` for a fragment the manifest reader rejects."""
    lines = [x.rstrip("\r") for x in lines]
    lead: list[str] = []
    while lines and lines[0].startswith(" "):
        lead.append(lines.pop(0)[1:])
    while lines and not lines[0].strip():
        lines.pop(0)
    attrs: dict[tuple[str, str], list[str]] = {}
    if lines:
        m = parse_manifest(("\r\n".join(lines) + "\r\n").encode("utf-8"))
        for i, section in enumerate(m.sections):
            where = (section.name or "") if i else ""
            for a in section.attributes:
                attrs.setdefault((where, a.key), []).append(f"{a.name}: {a.value}")
        if m.tail:
            attrs.setdefault(("", "\x00tail"), []).append(m.tail.decode("utf-8", "replace"))
    return "".join(lead), attrs


def _manifest_changes(d: Difference) -> list[Change] | None:
    """Each manifest attribute whose values differ (compared parsed: wrapping and order are no change), or None
    when a hunk is no readable manifest fragment."""
    ref: dict[tuple[str, str], list[str]] = {}
    reb: dict[tuple[str, str], list[str]] = {}
    out: list[Change] = []
    for hunk in _hunks(d):
        try:
            lead_a, attrs_a = _manifest_side(_side(hunk, "-"))
            lead_b, attrs_b = _manifest_side(_side(hunk, "+"))
        except (ManifestError, ValueError):
            return None
        if lead_a != lead_b:
            out.append(Change("a continuation line (its attribute is outside the diff)", (lead_a,), (lead_b,)))
        for acc, attrs in ((ref, attrs_a), (reb, attrs_b)):
            for k, v in attrs.items():
                acc.setdefault(k, []).extend(v)
    changed = [k for k in sorted(set(ref) | set(reb)) if sorted(ref.get(k, [])) != sorted(reb.get(k, []))]
    # A per-entry section on one side only: its Name comes and goes with its other attributes (the digests of
    # a signed JAR), which are the changes; a section that holds nothing else stays a change of its own.
    busy = {k[0] for k in changed if k[1] != "name"}
    for key in changed:
        if key[1] == "name" and key[0] in busy:
            continue
        a, b = ref.get(key, []), reb.get(key, [])
        name = (a or b)[0].split(":", 1)[0]
        out.append(Change(f"{name} (section {key[0]})" if key[0] else name, tuple(a), tuple(b)))
    return out


def _properties_side(lines: list[str]) -> tuple[dict[str, list[tuple[str, str]]], list[str]]:
    """(key -> [(value, raw line)], comment lines) of one side of a hunk. Raises :class:`PropertiesError`."""
    pf = parse_properties(("\n".join(lines) + "\n").encode("utf-8"), "utf-8")
    keys: dict[str, list[tuple[str, str]]] = {}
    comments: list[str] = []
    for it in pf.items:
        raw = it.raw.decode("utf-8", "replace").rstrip("\r\n")
        if it.kind is ItemKind.PROPERTY and it.key is not None:
            keys.setdefault(it.key, []).append((it.value or "", raw))
        elif it.kind is ItemKind.COMMENT:
            comments.append(raw)
    return keys, comments


def _properties_changes(d: Difference) -> list[Change] | None:
    """Each key whose values differ, and the comments as one change (key order is no change), or None when a
    hunk is no readable properties fragment."""
    ref: dict[str, list[tuple[str, str]]] = {}
    reb: dict[str, list[tuple[str, str]]] = {}
    com_a: Counter[str] = Counter()
    com_b: Counter[str] = Counter()
    for hunk in _hunks(d):
        try:
            keys_a, comments_a = _properties_side(_side(hunk, "-"))
            keys_b, comments_b = _properties_side(_side(hunk, "+"))
        except (PropertiesError, ValueError):
            return None
        for acc, keys in ((ref, keys_a), (reb, keys_b)):
            for k, v in keys.items():
                acc.setdefault(k, []).extend(v)
        com_a.update(comments_a)
        com_b.update(comments_b)
    out: list[Change] = []
    if com_a != com_b:
        out.append(Change("comments", tuple((com_a - com_b).elements()), tuple((com_b - com_a).elements())))
    for key in sorted(set(ref) | set(reb)):
        a, b = ref.get(key, []), reb.get(key, [])
        if [v for v, _ in a] != [v for v, _ in b]:
            out.append(Change(f"key {key}", tuple(r for _, r in a), tuple(r for _, r in b)))
    return out


def split_changes(d: Difference) -> list[Change]:
    """The changes of a text difference: manifest attributes, properties keys (and comments), or changed lines
    for any other text (and for a manifest or properties fragment that does not parse)."""
    found: list[Change] | None = None
    if _rx(_MF).search(d.path):
        found = _manifest_changes(d)
    elif _rx(r"\.properties$").search(d.path):
        found = _properties_changes(d)
    return _line_changes(d) if found is None else found


def _capped(items: list[str], cap: int = 8) -> str:
    """``"A, B and 3 more"``: a list for an explanation, kept short."""
    more = f" and {len(items) - cap} more" if len(items) > cap else ""
    return ", ".join(items[:cap]) + more


def _list_changes(d: Difference) -> str:
    """``" (changed: A, B and 3 more)"``: the changes of a functional difference, so its explanation names them."""
    labels = [c.label for c in split_changes(d)]
    return " (changed: " + _capped(labels) + ")" if labels else ""


#: Once a change is known not to be noise, classify at most this many changes in all (bounded time per difference).
_ENOUGH = 16


def _verify_changes(rule: Rule | None, explanation: str, d: Difference, facts: Facts) -> tuple[str, str]:
    """(cause, explanation) of ``d``, whose first rule names a benign cause (or no rule matched it as a whole).

    Every change of ``d`` is classified on its own. When all are benign, the cause stays the rule's (without a
    rule: the first change's); else it is the cause of the first change that is not benign (``unknown`` when
    no rule names one), and the explanation says which changes are benign and which are not."""
    benign: list[tuple[str, str]] = []
    other: list[str] = []
    functional = ""
    rules = _candidates(d)
    changes = split_changes(d)
    for n, change in enumerate(changes):
        if other and n >= _ENOUGH:  # the verdict is known: not only noise; the rest would only lengthen the text
            other.append(f"{len(changes) - n} more change(s) not classified")
            break
        hit = first_rule(change.as_difference(d), facts, rules)
        if hit is not None and is_benign(hit[0].cause):
            benign.append((change.label, hit[0].cause))
        else:
            cause = hit[0].cause if hit is not None else UNKNOWN
            other.append(f"{change.label} [{cause}]")
            functional = functional or (cause if cause != UNKNOWN else "")
    if d.diff_omitted_lines and (rule is None or rule.changed or rule.check):
        other.append(f"{d.diff_omitted_lines} diff line(s) not shown, so not verified [{UNKNOWN}]")
    shown = _capped([f"{label} [{cause}]" for label, cause in benign])
    if not other:
        if rule is None and not benign:
            return UNKNOWN, explanation
        if len({cause for _, cause in benign}) > 1 or rule is None:
            explanation = ("" if rule is None else explanation + "; ") + "every change is build noise: " + shown
        return (benign[0][1] if rule is None else rule.cause), explanation
    text = "not only build noise: " + _capped(other)
    if benign:
        text += "; benign: " + shown
    return functional or UNKNOWN, f"{text} ({explanation})" if rule is None else \
        f"{text} (the first rule alone would say: {explanation})"


def classify(outcome: Outcome) -> Outcome:
    """``outcome`` with every residual difference classified and the noise summarized by root cause."""
    if outcome.verdict is Verdict.ERROR:
        return outcome
    facts = Facts(outcome.evidence, outcome.differences)
    diffs = tuple(classify_difference(d, facts) for d in outcome.differences)
    return replace(outcome, differences=diffs, noise=noise_summary(outcome.trace, outcome.evidence))
