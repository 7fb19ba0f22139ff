"""Taxonomy of reproducibility differences: the categories of the paper "Canonicalization for Unreproducible
Builds in Java", each with a description. Root causes and classification rules grow here."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["CATEGORY_DESCRIPTIONS", "Category"]


class Category(StrEnum):
    BUILD_MANIFESTS = "build-manifests"
    SBOM = "sbom"
    FILESYSTEM = "filesystem"
    JVM_BYTECODE = "jvm-bytecode"
    VERSIONING_PROPERTIES = "versioning-properties"
    TIMESTAMPS = "timestamps"
    MISCELLANEOUS = "miscellaneous"
    UNKNOWN = "unknown"


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
