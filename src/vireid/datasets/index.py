"""The image index: every image of a dataset with identity, label, camera and split.

Besides the dataset's own train/test split, a few *training* identities are held out as
``split=val`` for model selection, so no one is tempted to pick the best epoch on the test
gallery. Labels 0..N-1 cover the remaining ``split=train`` identities in sorted pid order.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa

from vireid.datasets.registry import get_spec, scan_dataset
from vireid.errors import DatasetError
from vireid.fingerprint import hash_strings
from vireid.manifests import to_table

VAL_SHARE = 0.05


def default_val_count(n_train_ids: int) -> int:
    """About 5% of the training identities, at least one once there are ten or more.

    SYSU-MM01's 395 training ids give 20, RegDB's 206 per trial give 10, LLCM's 713 give 36.
    """
    if n_train_ids < 10:
        return 0
    return max(1, round(VAL_SHARE * n_train_ids))


def select_val_ids(train_pids: Sequence[int], count: int | None, seed: int) -> set[int]:
    """A deterministic (for ``seed``) sample of ``count`` identities to hold out."""
    pids = sorted(set(train_pids))
    if count is None:
        count = default_val_count(len(pids))
    if count < 0 or (count and count >= len(pids)):
        raise DatasetError(
            f"--val-ids must lie in 0..{max(len(pids) - 1, 0)} (there are {len(pids)} training identities), got {count}")
    return set(random.Random(seed).sample(pids, count))


def build_index(dataset: str, root: str | Path, *, trial: int | None = None,
                val_ids: int | None = None, seed: int = 0) -> pa.Table:
    """Scan ``root`` as ``dataset`` and return its image index (manifest kind ``image-index``).

    Raises :class:`DatasetError` listing every layout problem found (each naming its path).
    """
    spec = get_spec(dataset)
    scan = scan_dataset(dataset, root, trial)
    if scan.problems:
        raise DatasetError(scan.problems)
    if not scan.entries:
        raise DatasetError(f"{root}: no images found for {spec.title}")
    train_pids = sorted({e.pid for e in scan.entries if e.split == "train"})
    held_out = select_val_ids(train_pids, val_ids, seed)
    labels = {pid: i for i, pid in enumerate(p for p in train_pids if p not in held_out)}
    rows: list[dict[str, Any]] = []
    for e in scan.entries:
        split = "val" if e.split == "train" and e.pid in held_out else e.split
        rows.append({
            "image_id": f"{dataset}:{e.path}", "dataset": dataset, "path": e.path,
            "modality": e.modality, "pid": e.pid,
            "label": labels[e.pid] if split == "train" else -1,
            "camera": e.camera, "split": split, "trial": trial if spec.needs_trial else None,
        })
    return to_table(rows, "image-index")


def index_metadata(table: pa.Table, *, dataset: str, root: str | Path, trial: int | None,
                   val_ids: int | None, seed: int) -> dict[str, Any]:
    """What an index file records about how it was made (no clock: reruns are identical)."""
    from vireid import __version__

    splits = table.column("split").to_pylist()
    return {
        "options": {"dataset": dataset, "root": str(Path(root).resolve()), "trial": trial,
                    "val_ids": val_ids},
        "seed": seed,
        "image_list_fingerprint": hash_strings(table.column("image_id").to_pylist()),
        "num_images": table.num_rows,
        "held_out_val_ids": sorted({p for p, s in zip(table.column("pid").to_pylist(), splits) if s == "val"}),
        "vireid_version": __version__,
    }


def index_fingerprint(table) -> str:
    """What downstream stages depend on: every row's id, split, label, modality, pid, camera.

    The one fingerprint of an image index: the pipeline's cache keys and the trainer's
    checkpoint fingerprints both use it, so they agree on when an index has changed.
    """
    cols = [table.column(c).to_pylist() for c in ("image_id", "split", "label", "modality", "pid", "camera")]
    return hash_strings("|".join(map(str, row)) for row in zip(*cols))
