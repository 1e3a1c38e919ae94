"""Explicit pyarrow schemas of the manifests that connect the pipeline's stages.

Three kinds of manifest exist:

* **image index** (``kind = "image-index"``): one row per image of a dataset, written by
  :mod:`vireid.datasets`, read by captioning, training and evaluation.
* **embeddings** (``kind = "embeddings"``): one row per embedded image, written by
  ``vireid embed`` (:mod:`vireid.inference`), read by ``vireid search``; its metadata names the
  checkpoint fingerprint and the feature options.
* **captions** (``kind = "captions"``): one row per captioned image, written by
  :mod:`vireid.captioning` (``source = "llava"``) and by the synthetic benchmark
  (``source = "synthetic-reference"``), read by training.

Each Parquet file carries ``vireid.kind`` and ``vireid.schema_version`` in its key-value
metadata. Bump the version whenever a column changes meaning or type.
"""

from __future__ import annotations

import pyarrow as pa

SCHEMA_VERSION = 1

KIND_KEY = b"vireid.kind"
VERSION_KEY = b"vireid.schema_version"
EXTRA_KEY = b"vireid.metadata"  # JSON: fingerprints, seeds, options of the writing run

from vireid.manifests.names import MODALITIES, MODALITY_INDEX, SPLITS  # noqa: F401 - re-exported

IMAGE_INDEX_SCHEMA = pa.schema(
    [
        pa.field("image_id", pa.string(), nullable=False),  # "<dataset>:<path>", stable
        pa.field("dataset", pa.string(), nullable=False),  # sysu | regdb | llcm | custom
        pa.field("path", pa.string(), nullable=False),  # POSIX path relative to the root
        pa.field("modality", pa.string(), nullable=False),  # visible | infrared
        pa.field("pid", pa.int32(), nullable=False),  # identity as in the dataset
        pa.field("label", pa.int32(), nullable=False),  # 0..N-1 over split=train ids, else -1
        pa.field("camera", pa.int16(), nullable=False),  # 1-based camera number
        pa.field("split", pa.string(), nullable=False),  # train | val | test
        pa.field("trial", pa.int16(), nullable=True),  # RegDB trial 1..10, else null
    ]
)

CAPTION_SCHEMA = pa.schema(
    [
        pa.field("image_id", pa.string(), nullable=False),
        pa.field("dataset", pa.string(), nullable=False),
        pa.field("path", pa.string(), nullable=False),
        pa.field("modality", pa.string(), nullable=False),
        pa.field("pid", pa.int32(), nullable=False),
        pa.field("camera", pa.int16(), nullable=False),
        pa.field("caption", pa.string(), nullable=True),  # null when error is set
        pa.field("num_tokens", pa.int32(), nullable=True),  # CLIP BPE tokens incl. SOT/EOT
        pa.field("truncated", pa.bool_(), nullable=True),  # num_tokens > 77
        pa.field("model", pa.string(), nullable=False),  # hub id or local path
        pa.field("model_revision", pa.string(), nullable=True),  # commit hash / weights hash
        pa.field("prompt", pa.string(), nullable=False),  # the full prompt given to the model
        pa.field("generation", pa.string(), nullable=False),  # JSON of generation parameters
        pa.field("quantization", pa.string(), nullable=False),  # 4bit | 8bit | none
        pa.field("source", pa.string(), nullable=False),  # llava | synthetic-reference
        pa.field("created_at", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("error", pa.string(), nullable=True),  # null on success
    ]
)

EMBEDDING_SCHEMA = pa.schema(
    [
        pa.field("image_id", pa.string(), nullable=False),  # the path as listed (unique key)
        pa.field("path", pa.string(), nullable=False),  # as listed, or relative to --images DIR
        pa.field("modality", pa.string(), nullable=False),  # visible | infrared
        pa.field("pid", pa.int32(), nullable=True),  # identity when the input names one
        pa.field("camera", pa.int16(), nullable=True),  # camera when the input names one
        pa.field("feature", pa.list_(pa.float32()), nullable=True),  # unit-norm; null when error is set
        pa.field("error", pa.string(), nullable=True),  # null on success
    ]
)

SCHEMAS: dict[str, pa.Schema] = {
    "image-index": IMAGE_INDEX_SCHEMA,
    "captions": CAPTION_SCHEMA,
    "embeddings": EMBEDDING_SCHEMA,
}

CLIP_CONTEXT_LENGTH = 77
