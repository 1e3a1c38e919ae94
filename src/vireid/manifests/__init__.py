"""Parquet manifests: the contract between the pipeline's stages."""

from vireid.manifests.io import read_manifest, read_metadata, to_table, write_manifest
from vireid.manifests.schema import (
    CAPTION_SCHEMA,
    IMAGE_INDEX_SCHEMA,
    MODALITIES,
    SCHEMA_VERSION,
    SPLITS,
)

__all__ = [
    "CAPTION_SCHEMA",
    "IMAGE_INDEX_SCHEMA",
    "MODALITIES",
    "SCHEMA_VERSION",
    "SPLITS",
    "read_manifest",
    "read_metadata",
    "to_table",
    "write_manifest",
]
