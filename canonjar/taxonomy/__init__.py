"""Taxonomy of reproducibility differences, on two levels.

* :class:`Category`: the categories of Table 1 of the paper "Canonicalization for Unreproducible Builds in Java"
  (build manifests, SBOM, filesystem, JVM bytecode, versioning properties, timestamps, miscellaneous), each with
  a description, the usual mitigation and a hint.
* :class:`RootCause` (in :mod:`canonjar.taxonomy.causes`): one concrete cause inside a category (``build-jdk``,
  ``zip-timestamps``, ``lambda-naming``...), with the paper's mitigation kind and a concrete hint.

:func:`classify` (rules in :mod:`canonjar.taxonomy.rules`) fills both levels into an
:class:`~canonjar.outcome.Outcome`: every residual difference gets a root cause (``unknown`` when no rule
explains it; it is never dropped) and the trace is summarized as the noise removed, per side and root cause.
The paper classified regexes over diffoscope text; canonjar classifies the structured differences, the trace
and the evidence the stabilizers recorded.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "CATEGORY_DESCRIPTIONS",
    "CATEGORY_GUIDANCE",
    "ROOT_CAUSES",
    "Category",
    "Mitigation",
    "RootCause",
    "classify",
    "root_cause",
]


class Category(StrEnum):
    BUILD_MANIFESTS = "build-manifests"
    SBOM = "sbom"
    FILESYSTEM = "filesystem"
    JVM_BYTECODE = "jvm-bytecode"
    VERSIONING_PROPERTIES = "versioning-properties"
    TIMESTAMPS = "timestamps"
    MISCELLANEOUS = "miscellaneous"
    UNKNOWN = "unknown"


class Mitigation(StrEnum):
    """The paper's three ways to remove a cause of unreproducibility (plus ``investigate`` for unknowns)."""

    FIX_BUILD = "fix-build"                    # change the project's build so it is reproducible
    FIX_REBUILD = "fix-rebuild"                # rebuild in the reference's environment (JDK, tool versions)
    CANONICALIZE = "canonicalize-in-rebuilder"  # harmless noise: canonicalize it away when comparing
    INVESTIGATE = "investigate"                # no known cause: look at the difference by hand


CATEGORY_DESCRIPTIONS: dict[Category, str] = {
    Category.BUILD_MANIFESTS: "MANIFEST.MF attributes and layout written by the build tool and its plugins.",
    Category.SBOM: "Software bills of materials (CycloneDX, SPDX) embedded in the artifact.",
    Category.FILESYSTEM: "Zip container metadata: entry order, timestamps, permissions, ownership, extra "
                         "fields, compression, directory entries.",
    Category.JVM_BYTECODE: "Class files: constant-pool and member order, lambda naming, compiler and JDK "
                           "version idioms, debug information.",
    Category.VERSIONING_PROPERTIES: "pom.properties, git.properties and similar files that record versions, "
                                    "commits and build environments.",
    Category.TIMESTAMPS: "Build times embedded in file contents.",
    Category.MISCELLANEOUS: "Other known sources of non-determinism (newlines, index files, generated code).",
    Category.UNKNOWN: "A difference no rule explains; it is reported, never dropped.",
}

#: The usual mitigation of each category and a one-line hint (each root cause has its own, more precise one).
CATEGORY_GUIDANCE: dict[Category, tuple[Mitigation, str]] = {
    Category.BUILD_MANIFESTS: (Mitigation.FIX_REBUILD, "rebuild with the JDK and build tool versions the "
                               "reference's manifest records, or let the rebuilder drop build-environment "
                               "attributes"),
    Category.SBOM: (Mitigation.CANONICALIZE, "canonicalize per-run SBOM values; pin the SBOM plugin version and "
                    "the JDK vendor"),
    Category.FILESYSTEM: (Mitigation.FIX_BUILD, "set project.build.outputTimestamp (Maven) or "
                          "preserveFileTimestamps=false / reproducibleFileOrder=true (Gradle)"),
    Category.JVM_BYTECODE: (Mitigation.FIX_REBUILD, "rebuild with the exact JDK (version and vendor) and compiler "
                            "flags of the reference"),
    Category.VERSIONING_PROPERTIES: (Mitigation.FIX_BUILD, "keep only the commit in generated version files, or "
                                     "rebuild from the exact tagged commit"),
    Category.TIMESTAMPS: (Mitigation.FIX_BUILD, "derive every embedded date from project.build.outputTimestamp / "
                          "SOURCE_DATE_EPOCH"),
    Category.MISCELLANEOUS: (Mitigation.FIX_BUILD, "make generated files deterministic (sorted indexes, fixed "
                             "newline style, pinned versions)"),
    Category.UNKNOWN: (Mitigation.INVESTIGATE, "look at the difference by hand; if it is noise, write a "
                       "stabilizer or a taxonomy rule for it"),
}

from .causes import ROOT_CAUSES, RootCause, root_cause  # noqa: E402  (they use Category and Mitigation)
from .rules import classify  # noqa: E402
