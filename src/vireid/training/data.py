"""Training inputs: the image index (file or built from a dataset folder) joined with captions.

The trainer reads the ``train`` rows (and the ``val`` rows, held-out TRAINING identities, for
model selection; the ``test`` split is never read here). Captions come from one or more
caption manifests joined on ``image_id``; when an image_id appears in several manifests the
LATER manifest wins, so a small manifest of re-captioned images can patch a large one. A
caption row whose ``error`` is set or whose caption is empty counts as missing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from vireid.errors import ConfigError, ManifestError, VireidError
from vireid.fingerprint import hash_file
from vireid.manifests import read_manifest

DEFAULT_TEMPLATE = "a photo of a person"


class MissingCaptionsError(VireidError):
    """Training images have no usable caption and no fallback was asked for."""


@dataclass
class DataConfig:
    # sysu | regdb | llcm | custom; with an index file, the index's own (a conflict is refused)
    dataset: str = "sysu"
    root: str = ""  # dataset folder; image paths in the index are relative to it
    index: str = ""  # image-index manifest; "" = build it from dataset + root
    trial: int = 0  # RegDB / LLCM trial (0 = none); RegDB trains one model per trial
    val_ids: int | None = None  # ids held out as split=val when building the index (None: ~5%)
    captions: list[str] = field(default_factory=list)  # caption manifests; "reference" = synthetic
    missing_captions: Literal["error", "template"] = "error"
    template: str = DEFAULT_TEMPLATE
    cache_dir: str = ""  # "" = $VIREID_CACHE/images or ~/.cache/vireid/images; shared by runs
    workers: int = 4  # image decoding threads (cache build) and batch-gathering threads

    def validate(self) -> None:
        if self.workers < 1:
            raise ConfigError(f"data.workers: must be >= 1, got {self.workers}")
        if self.trial < 0 or (self.val_ids is not None and self.val_ids < 0):
            raise ConfigError("data.trial and data.val_ids must be >= 0")
        if not self.template.strip():
            raise ConfigError("data.template: the fallback caption must not be empty")


@dataclass
class TrainData:
    """Rows the trainer uses, as columns of NumPy arrays / lists (row i = position i)."""

    train: pa.Table  # split=train rows + ``caption`` (str) column, sorted by image_id
    val: pa.Table  # split=val rows (may be empty)
    root: Path
    num_classes: int
    missing_captions: int  # train images that got the template caption
    missing_examples: list[str]
    fingerprints: dict[str, str]
    warnings: list[str] = field(default_factory=list)  # one line each, printed by the trainer

    def paths(self, table: pa.Table) -> list[Path]:
        return [self.root / p for p in table.column("path").to_pylist()]


def caption_paths(cfg: DataConfig) -> list[Path]:
    """Caption manifest paths; ``reference`` means ``<root>/reference_captions.parquet``."""
    out = []
    for item in cfg.captions:
        if item == "reference":
            if not cfg.root:
                raise ConfigError("data.captions: 'reference' needs data.root (--root)")
            from vireid.datasets.synth import CAPTIONS_FILE

            out.append(Path(cfg.root) / CAPTIONS_FILE)
        else:
            out.append(Path(item))
    return out


def index_identity(table: pa.Table, path: str | Path) -> tuple[str, int]:
    """``(dataset, trial)`` an image index was built for (trial 0: none), from its own
    ``dataset`` and ``trial`` columns; an index mixing datasets or trials is refused."""
    datasets = sorted(set(table.column("dataset").to_pylist()) - {None})
    trials = sorted(set(table.column("trial").to_pylist()) - {None})
    if len(datasets) != 1:
        raise ManifestError(f"{path}: the image index holds images of "
                            f"{', '.join(datasets) or 'no dataset'}; one dataset per index")
    if len(trials) > 1:
        raise ManifestError(f"{path}: the image index mixes trials {trials}; one trial per index")
    return datasets[0], int(trials[0]) if trials else 0


def settle_index_identity(cfg: DataConfig, table: pa.Table, *, dataset_given: bool = True,
                          trial_given: bool = True) -> None:
    """Take ``cfg.dataset`` / ``cfg.trial`` from the index ``cfg.index`` describes, or refuse a
    conflict: a run must never record one dataset while it trains on another (its evaluation
    would then test on its own training identities). ``*_given`` say whether the values in
    ``cfg`` were set by the user (else they are defaults and the index's win)."""
    dataset, trial = index_identity(table, cfg.index)
    where = f"{cfg.index}: the image index is of {dataset}" + (f" trial {trial}" if trial else "")
    if dataset_given and cfg.dataset != dataset:
        raise ConfigError(f"{where}, but data.dataset (--dataset or the preset) says {cfg.dataset}; "
                          f"drop --dataset or give --dataset {dataset}")
    if trial_given and cfg.trial and cfg.trial != trial:
        raise ConfigError(f"{where}, but data.trial (--trial) says {cfg.trial}; drop --trial or "
                          f"give the index of trial {cfg.trial}")
    cfg.dataset, cfg.trial = dataset, trial


def load_index(cfg: DataConfig, seed: int) -> tuple[pa.Table, str]:
    """The image index and its fingerprint: read from ``cfg.index`` or built from the root."""
    from vireid.datasets.index import index_fingerprint

    if cfg.index:
        table = read_manifest(cfg.index, "image-index")
        settle_index_identity(cfg, table)
        return table, index_fingerprint(table)
    if not cfg.root:
        raise ConfigError("data: give an image index (--index FILE) or a dataset folder (--root DIR)")
    from vireid.datasets import build_index

    table = build_index(cfg.dataset, cfg.root, trial=cfg.trial or None,
                        val_ids=cfg.val_ids, seed=seed)
    return table, index_fingerprint(table)


def _load_captions(paths: Sequence[Path]) -> tuple[dict[str, str], dict[str, str], dict[str, tuple]]:
    """image_id -> caption (later manifests win; error rows are dropped), fingerprints, and
    image_id -> (dataset, pid, path, manifest) as each caption row describes its image."""
    captions: dict[str, str] = {}
    prints: dict[str, str] = {}
    described: dict[str, tuple] = {}
    for path in paths:
        if not path.is_file():
            raise ManifestError(f"{path}: caption manifest not found")
        table = read_manifest(path, "captions")
        prints[f"captions:{path}"] = hash_file(path)
        ids = table.column("image_id").to_pylist()
        texts = table.column("caption").to_pylist()
        errors = table.column("error").to_pylist()
        facts = zip(table.column("dataset").to_pylist(), table.column("pid").to_pylist(),
                    table.column("path").to_pylist())
        for image_id, text, err, (dataset, pid, rel) in zip(ids, texts, errors, facts):
            if err is None and text is not None and text.strip():
                captions[image_id] = text
                described[image_id] = (dataset, pid, rel, path)
            else:
                captions.pop(image_id, None)
                described.pop(image_id, None)
    return captions, prints, described


def _disagreements(train: pa.Table, described: dict[str, tuple]) -> str | None:
    """One warning line when caption rows describe their image otherwise than the index does
    (another dataset, identity or file: the caption is probably of another image)."""
    rows = zip(train.column("image_id").to_pylist(), train.column("dataset").to_pylist(),
               train.column("pid").to_pylist(), train.column("path").to_pylist())
    bad = [(image_id, (dataset, pid, rel), described[image_id]) for image_id, dataset, pid, rel in rows
           if image_id in described and described[image_id][:3] != (dataset, pid, rel)]
    if not bad:
        return None
    image_id, want, (dataset, pid, rel, manifest) = bad[0]
    what = [f"{name} {got!r} vs {exp!r}" for name, got, exp in
            zip(("dataset", "pid", "path"), (dataset, pid, rel), want) if got != exp]
    return (f"{manifest}: {len(bad)} caption rows describe their image otherwise than the image "
            f"index (e.g. {image_id}: {', '.join(what)}); they are joined on image_id anyway: check "
            f"that the captions belong to this dataset")


def load_train_data(cfg: DataConfig, *, caption_modalities: Sequence[str] = (), seed: int = 0) -> TrainData:
    """Read the index, keep train/val rows, join captions and apply the missing-caption rule.

    ``caption_modalities``: the modalities whose captions the method trains on; their rows
    must have a caption (or get the template when asked), the other rows get the template.
    """
    if not cfg.root:
        raise ConfigError("data.root: the dataset folder is needed to read images (--root DIR)")
    root = Path(cfg.root)
    if not root.is_dir():
        raise ConfigError(f"data.root: {root}: not a directory")
    index, index_print = load_index(cfg, seed)
    train = index.filter(pc.equal(index.column("split"), "train"))
    val = index.filter(pc.equal(index.column("split"), "val"))
    if train.num_rows == 0:
        raise ManifestError(f"{cfg.index or root}: the image index has no split=train rows")
    train = train.sort_by("image_id")
    val = val.sort_by("image_id")
    labels = np.asarray(train.column("label").to_numpy())
    if labels.min() < 0:
        raise ManifestError(f"{cfg.index or root}: split=train rows with label -1")
    num_classes = int(labels.max()) + 1
    unique = np.unique(labels)
    if len(unique) != num_classes:
        raise ManifestError(f"{cfg.index or root}: train labels are not 0..N-1 "
                            f"({len(unique)} distinct, max {num_classes - 1})")
    fingerprints = {"index": index_print}
    ids = train.column("image_id").to_pylist()
    missing: list[str] = []
    warnings: list[str] = []
    if caption_modalities:
        paths = caption_paths(cfg)
        if not paths:
            raise ConfigError("this method trains with captions: give a caption manifest with "
                              "--captions FILE (or --captions reference for synthetic data)")
        captions, prints, described = _load_captions(paths)
        fingerprints.update(prints)
        warnings += [w for w in [_disagreements(train, described)] if w]
        texts = []
        wanted = set(caption_modalities)
        for image_id, modality in zip(ids, train.column("modality").to_pylist()):
            text = captions.get(image_id) if modality in wanted else cfg.template
            if text is None:
                missing.append(image_id)
                text = cfg.template
            texts.append(text)
        if missing and cfg.missing_captions == "error":
            shown = ", ".join(missing[:5]) + (", ..." if len(missing) > 5 else "")
            raise MissingCaptionsError(
                f"{len(missing)} of {len(ids)} training images have no caption in "
                f"{', '.join(map(str, paths))} (e.g. {shown}); caption them, or pass "
                f"--missing-captions template to use {cfg.template!r} for them")
    else:
        texts = [cfg.template] * len(ids)
    train = train.append_column("caption", pa.array(texts, pa.string()))
    return TrainData(train=train, val=val, root=root, num_classes=num_classes,
                     missing_captions=len(missing),
                     missing_examples=missing[:5], fingerprints=fingerprints, warnings=warnings)
