"""The datasets vireid reads, by name, and the one entry point that scans any of them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from vireid.datasets import custom, llcm, regdb, sysu
from vireid.datasets.layout import Scan
from vireid.errors import DatasetError


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    title: str
    scan: Callable[[Path, int | None], Scan]
    needs_trial: bool  # RegDB: one index (and one model) per trial


DATASETS: dict[str, DatasetSpec] = {
    "sysu": DatasetSpec("sysu", "SYSU-MM01", sysu.scan, needs_trial=False),
    "regdb": DatasetSpec("regdb", "RegDB", regdb.scan, needs_trial=True),
    "llcm": DatasetSpec("llcm", "LLCM", llcm.scan, needs_trial=False),
    "custom": DatasetSpec("custom", "custom dataset (index.csv / index.parquet)", custom.scan,
                          needs_trial=False),
}


def get_spec(dataset: str) -> DatasetSpec:
    try:
        return DATASETS[dataset]
    except KeyError:
        raise DatasetError(f"unknown dataset {dataset!r}; choose from {', '.join(DATASETS)}") from None


def scan_dataset(dataset: str, root: str | Path, trial: int | None = None) -> Scan:
    """Scan ``root`` as ``dataset``; a missing root is reported as the scan's only problem."""
    spec = get_spec(dataset)
    if spec.needs_trial:
        regdb.check_trial(trial)
    elif trial is not None:
        raise DatasetError(f"{dataset}: --trial applies to regdb only")
    root = Path(root)
    if not root.is_dir():
        result = Scan()
        result.problem(root, "is a file, not a dataset folder; give --root the folder that holds it"
                       if root.exists() else "dataset root folder not found")
        return result
    return spec.scan(root, trial)
