"""manifest-build-metadata: build-environment attributes in the main section of ``META-INF/MANIFEST.MF``.

Removes: from the MAIN section only, the attributes in :data:`BUILD_ENVIRONMENT_ATTRIBUTES` (matched
case-insensitively, every duplicate included) and those whose name starts with a prefix in
:data:`BUILD_ENVIRONMENT_PREFIXES`: who built the artifact, on which machine, OS and JDK, with which tool
version, when, and under which CI job number. maven-archiver, bnd/maven-bundle-plugin, Gradle (and the
Nebula info plugins), Ant, Leiningen, Spring Boot builds, git-commit-id-maven-plugin, buildnumber-maven-plugin
and CI servers write them. Every removed value is first recorded as evidence (key: the attribute name in lower
case, e.g. ``build-jdk`` = ``17.0.2``, ``created-by`` = ``Apache Maven 3.9.6``), so a report still shows
"JDK 17.0.2 vs 21.0.1".

Safe because neither the JVM, nor ``java -jar``, nor the module system, nor OSGi frameworks, nor Spring Boot's
launcher read any of these attributes: they only describe the build environment. Kept (and compared):

* Everything outside the main section (per-entry ``Name:`` sections are never touched).
* Launch, module and security attributes: ``Main-Class``, ``Class-Path``, ``Premain-Class``, ``Agent-Class``,
  ``Launcher-Agent-Class``, ``Add-Opens``, ``Add-Exports``, ``Enable-Native-Access``, ``Multi-Release``,
  ``Automatic-Module-Name``, ``Sealed``, ``Start-Class``, ``Spring-Boot-*`` (see :data:`PROTECTED`).
* Identity and version attributes: ``Implementation-*``/``Specification-*`` title, version and vendor,
  ``Bundle-*``, ``Export-Package``/``Import-Package``, ``Jenkins-Version``/``Hudson-Version`` (the core a
  Jenkins plugin needs), ``X-Compile-Source-JDK``/``X-Compile-Target-JDK`` (build configuration).
* Values that can be verified: commit ids (``SCM-Revision``, ``Git-Commit-Id``, ``Implementation-SCM-Revision``,
  ``Change``, ``Eclipse-SourceReferences``...) are not listed, so they are compared. A listed attribute whose
  value looks like a commit id (7 to 64 hex digits with at least one letter, e.g. buildnumber-maven-plugin's
  ``Implementation-Build: 4f1c2ab``) is kept too.
"""

from __future__ import annotations

import re

from ..formats.manifest import Attribute, Section, is_manifest_name, load_for_stabilizer
from ..model import Entry, Payload
from ..pipeline import Context, Scope, Stabilizer
from ..taxonomy import Category

#: Lower-case names of main-section attributes that only describe the build environment.
BUILD_ENVIRONMENT_ATTRIBUTES = frozenset({
    # maven-archiver / maven-jar-plugin / Plexus archiver
    "created-by",           # "Apache Maven 3.9.6", "Maven JAR Plugin 3.3.0", "17.0.2 (Oracle Corporation)"
    "built-by",             # the user name of whoever ran the build
    "build-jdk",            # "1.8.0_292", "17.0.2"
    "build-jdk-spec",       # "17"
    "archiver-version",     # "Plexus Archiver"
    "maven-version",
    # bnd / maven-bundle-plugin / bnd-maven-plugin / Tycho
    "bnd-lastmodified",     # milliseconds since the epoch of the build
    "tool",                 # "Bnd-6.4.0.202211291949"
    "originally-created-by",  # the wrapped JAR's Created-By, kept by bnd
    # Ant and Leiningen
    "ant-version",          # "Apache Ant 1.10.12"
    "leiningen-version",
    # Gradle and the Nebula gradle-info plugins
    "gradle-version",
    "build-java-version",
    "build-host",
    "build-job",
    "build-number",
    "build-id",
    "build-url",
    "built-status",
    "built-os",
    "build-date",
    "build-timezone",
    # generic build-time, machine, user and tool names used by many builds
    "build-time",
    "build-timestamp",
    "build-datetime",
    "built-date",
    "built-time",
    "built-at",
    "built-on",
    "build-os",
    "build-os-version",
    "build-arch",
    "build-hostname",
    "build-machine",
    "build-node",
    "build-agent",
    "build-user",
    "build-user-email",
    "build-by",
    "built-jdk",
    "build-jdk-vendor",
    "build-java-vendor",
    "build-tool",
    "build-tool-version",
    "build-tag",
    "build-branch",
    "os-name",
    "os-version",
    "os-arch",
    # Implementation-Build* (buildnumber-maven-plugin, Kotlin, many Ant builds); kept when commit-like
    "implementation-build",
    "implementation-build-date",
    "implementation-build-time",
    "implementation-build-number",
    "implementation-build-id",
    # git-commit-id-maven-plugin properties copied into the manifest (the commit id itself is kept)
    "git-build-time",
    "git-build-host",
    "git-build-user-name",
    "git-build-user-email",
    "git-branch",
    "scm-git-branch",
    "scm-branch",
    "implementation-scm-branch",
    # CI servers
    "jenkins-build-number",
    "jenkins-build-id",
    "jenkins-build-url",
    "jenkins-build-tag",
    "jenkins-job-name",
    "jenkins-node-name",
    "hudson-build-number",
    "travis-build-number",
    "teamcity-build-number",
    "bamboo-build-number",
    "github-run-id",
    "github-run-number",
})

#: Lower-case name prefixes of CI metadata (``CI-Build-Number``, ``CI-Pipeline-Id``...). Deliberately not
#: ``jenkins-`` or ``hudson-``: ``Jenkins-Version`` and ``Hudson-Version`` say which core a plugin needs.
BUILD_ENVIRONMENT_PREFIXES = ("ci-",)

#: Lower-case names that must never be removed, whatever the lists above say (checked by the tests and at
#: run time).
PROTECTED = frozenset({
    "manifest-version", "main-class", "class-path", "premain-class", "agent-class", "launcher-agent-class",
    "add-opens", "add-exports", "enable-native-access", "multi-release", "automatic-module-name", "sealed",
    "name", "start-class", "implementation-title", "implementation-version", "implementation-vendor",
    "implementation-vendor-id", "specification-title", "specification-version", "specification-vendor",
    "bundle-symbolicname", "bundle-version", "bundle-name", "bundle-manifestversion", "bundle-classpath",
    "bundle-activator", "export-package", "import-package", "dynamicimport-package", "require-bundle",
    "fragment-host", "require-capability", "provide-capability", "jenkins-version", "hudson-version",
    "plugin-version", "scm-revision", "git-commit-id", "implementation-scm-revision", "change",
    "eclipse-sourcereferences", "x-compile-source-jdk", "x-compile-target-jdk", "can-redefine-classes",
    "can-retransform-classes", "can-set-native-method-prefix", "boot-class-path", "trusted-library",
    "trusted-only", "permissions", "codebase", "application-name", "caller-allowlist",
})

_COMMIT_LIKE = re.compile(r"[0-9a-f]{7,64}(-dirty)?", re.IGNORECASE)


def looks_like_commit(value: str) -> bool:
    """True for values like ``4f1c2ab`` or a 40-digit SHA-1 (at least one hex letter, so plain build numbers
    do not match)."""
    v = value.strip()
    return bool(_COMMIT_LIKE.fullmatch(v)) and any(c.isalpha() for c in v.removesuffix("-dirty"))


def is_build_environment(a: Attribute) -> bool:
    """True when ``a`` is removed from the main section."""
    key = a.key
    if key in PROTECTED or key.startswith("spring-boot-"):
        return False
    if key not in BUILD_ENVIRONMENT_ATTRIBUTES and not key.startswith(BUILD_ENVIRONMENT_PREFIXES):
        return False
    return not looks_like_commit(a.value)


def _applies(entry: Entry) -> bool:
    return is_manifest_name(entry.name)


def _apply(entry: Entry, ctx: Context) -> Entry:
    _data, manifest = load_for_stabilizer(entry, ctx)
    main = manifest.main
    kept = tuple(a for a in main.attributes if not is_build_environment(a))
    if len(kept) == len(main.attributes):
        return entry
    for a in main.attributes:
        if is_build_environment(a):
            ctx.record(a.key, a.value, entry)
    out = manifest.with_sections((Section(kept, main.separator), *manifest.entries)).to_bytes()
    return entry.replace(payload=Payload.of_bytes(out, entry.payload.what))


STABILIZER = Stabilizer(
    name="manifest-build-metadata",
    scope=Scope.ENTRY,
    category=Category.BUILD_MANIFESTS,
    removes="build-environment attributes of the manifest's main section (Built-By, Build-Jdk, Created-By, "
            "Bnd-LastModified, build times, hosts, CI job numbers...), recording each value as evidence",
    reason="no JVM, launcher, module system or OSGi framework reads them; they describe only who built the "
           "artifact, where, when and with which tools",
    apply=_apply,
    applies_to=_applies,
)
