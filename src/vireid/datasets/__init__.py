"""Datasets: real layouts (SYSU-MM01, RegDB, LLCM) -> image index, layout checks, and a
synthetic cross-modality benchmark (:mod:`vireid.datasets.synth`)."""

from vireid.datasets.index import build_index, default_val_count, index_metadata, select_val_ids
from vireid.datasets.registry import DATASETS, DatasetSpec, get_spec, scan_dataset

__all__ = [
    "DATASETS",
    "DatasetSpec",
    "build_index",
    "default_val_count",
    "get_spec",
    "index_metadata",
    "scan_dataset",
    "select_val_ids",
]
