"""Parquet manifests: the contract between the pipeline's stages (loaded lazily: pyarrow is
imported by the first use, not by ``vireid --help``)."""

from vireid.lazy import lazy_package

_EXPORTS = {
    **{name: "io" for name in ("iter_column", "read_manifest", "read_metadata", "to_table", "write_manifest",
                                 "write_manifest_parts")},
    **{name: "schema" for name in ("CAPTION_SCHEMA", "IMAGE_INDEX_SCHEMA", "SCHEMA_VERSION")},
    **{name: "names" for name in ("MODALITIES", "SPLITS")},
}
lazy_package(__name__, _EXPORTS)
