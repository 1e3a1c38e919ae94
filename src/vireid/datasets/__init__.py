"""Datasets: real layouts (SYSU-MM01, RegDB, LLCM) -> image index, layout checks, and a
synthetic cross-modality benchmark (:mod:`vireid.datasets.synth`).

``build_index(dataset, root, trial=..., val_ids=..., seed=...)`` is what other stages call;
``check_dataset`` is what a user runs first (``vireid data check``).
"""

from vireid.lazy import lazy_package

_EXPORTS = {
    "CheckReport": "check",
    "check_dataset": "check",
    "build_index": "index",
    "default_val_count": "index",
    "index_metadata": "index",
    "select_val_ids": "index",
    "DATASETS": "registry",
    "DatasetSpec": "registry",
    "get_spec": "registry",
    "scan_dataset": "registry",
}
lazy_package(__name__, _EXPORTS)
