"""Datasets: real layouts (SYSU-MM01, RegDB, LLCM) -> image index, layout checks, and a
synthetic cross-modality benchmark (:mod:`vireid.datasets.synth`).

``build_index(dataset, root, trial=..., val_ids=..., seed=...)`` is what other stages call;
``check_dataset`` is what a user runs first (``vireid data check``).
"""

from vireid.datasets.check import CheckReport, check_dataset
from vireid.datasets.index import build_index, default_val_count, index_metadata, select_val_ids
from vireid.datasets.registry import DATASETS, DatasetSpec, get_spec, scan_dataset

__all__ = [
    "DATASETS",
    "CheckReport",
    "DatasetSpec",
    "build_index",
    "check_dataset",
    "default_val_count",
    "get_spec",
    "index_metadata",
    "scan_dataset",
    "select_val_ids",
]
