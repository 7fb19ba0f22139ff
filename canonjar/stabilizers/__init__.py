"""Built-in stabilizers, in the fixed order the pipeline runs them.

Each module defines one :class:`~canonjar.pipeline.Stabilizer` named ``STABILIZER`` with a docstring saying
what it removes and why that is safe. Third parties add theirs through the ``canonjar.stabilizers``
entry-point group.
"""

from __future__ import annotations

from ..pipeline import Stabilizer
from . import (
    class_constant_pool_order,
    class_lambda_names,
    class_member_order,
    git_properties,
    jar_signature,
    javadoc_timestamp,
    manifest_attribute_order,
    manifest_build_metadata,
    manifest_layout,
    manifest_value_order,
    pom_properties,
    properties_timestamp,
    sbom_cyclonedx,
    sbom_spdx,
    source_newlines,
    zip_comments,
    zip_compression,
    zip_data_descriptor,
    zip_directory_entries,
    zip_entry_order,
    zip_extra_fields,
    zip_host_version,
    zip_ownership,
    zip_permissions,
    zip_timestamps,
    zip_utf8_flag,
)

__all__ = ["BUILTIN"]

BUILTIN: tuple[Stabilizer, ...] = (
    # Signatures first: they go before the manifest stabilizers look at the remaining Name sections.
    jar_signature.STABILIZER,
    manifest_build_metadata.STABILIZER,
    manifest_value_order.STABILIZER,
    manifest_attribute_order.STABILIZER,
    manifest_layout.STABILIZER,
    # Build and versioning files (content), before the zip container.
    pom_properties.STABILIZER,
    git_properties.STABILIZER,
    properties_timestamp.STABILIZER,
    sbom_cyclonedx.STABILIZER,
    sbom_spdx.STABILIZER,
    javadoc_timestamp.STABILIZER,
    source_newlines.STABILIZER,
    # Class files, opt-in (--enable class-lambda-names,class-member-order,class-constant-pool-order). Lambda
    # renaming rewrites Utf8 contents and member ordering rewrites bootstrap indices, so the constant-pool order
    # runs after both.
    class_lambda_names.STABILIZER,
    class_member_order.STABILIZER,
    class_constant_pool_order.STABILIZER,
    # The zip container.
    zip_directory_entries.STABILIZER,
    zip_entry_order.STABILIZER,
    zip_timestamps.STABILIZER,
    zip_ownership.STABILIZER,
    zip_permissions.STABILIZER,
    zip_host_version.STABILIZER,
    zip_extra_fields.STABILIZER,
    zip_compression.STABILIZER,
    zip_data_descriptor.STABILIZER,
    zip_utf8_flag.STABILIZER,
    zip_comments.STABILIZER,
)
