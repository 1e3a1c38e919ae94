"""``vireid embed``: features of an image collection into one Parquet file, resumable and sharded.

Layout while running (next to ``--out FEATS.parquet``)::

    FEATS.parquet.work/run.json              inputs fingerprint + the full image list
    FEATS.parquet.work/parts/part-*.parquet  rows, one file every --flush-every batches

A killed run leaves whole part files only (:mod:`vireid.manifests.parts`); the same command
resumes after them. ``--num-shards N --shard-index K`` embeds the images whose path hashes to
shard K (:mod:`vireid.shards`), so N processes (or machines sharing a folder) split the work;
whichever finishes last merges every part into ``FEATS.parquet`` and removes the work folder.
An unreadable image is a row with ``error`` set and no feature, never a crash.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import torch
from torch.utils.data import DataLoader, Dataset

from vireid.atomic import write_json
from vireid.errors import ManifestError, VireidError
from vireid.evaluation.features import read_model_input
from vireid.fingerprint import hash_json, hash_strings, provenance
from vireid.inference.api import ReIDModel
from vireid.inference.sources import ImageRow, ImageSource
from vireid.manifests import read_metadata, write_manifest
from vireid.manifests.names import MODALITIES
from vireid.manifests.parts import PARTS_DIR, PartWriter, merge_lock, read_parts
from vireid.progress import Ticker, interactive
from vireid.shards import select_shard, shard_tag

KIND = "embeddings"


def work_dir(out: Path) -> Path:
    return out.with_name(out.name + ".work")


class _Images(Dataset):
    """Decodes and normalises images in DataLoader workers; a bad image is a row's error."""

    def __init__(self, root: Path, rows: Sequence[ImageRow], model: ReIDModel):
        self.root, self.rows = root, list(rows)
        mean, std = model.feature_options.mean_std(model.network)
        self.args = (model.image_size, mean, std, model.feature_options.interpolation)

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, str, int]:
        image, error = read_model_input(self.root / self.rows[i].path, *self.args)
        return image, error, i


def run_fingerprint(model: ReIDModel, source: ImageSource) -> str:
    """Parts of another checkpoint, feature options, root or image list are never merged."""
    return hash_json({"checkpoint": model.fingerprint, "options": model.feature_options.record(),
                      "root": str(source.root.resolve()),
                      "images": hash_strings(f"{r.path}\t{r.modality}" for r in source.rows)})


@dataclass
class EmbedResult:
    out: Path
    embedded: int          # rows this call wrote (0 when every image was already done)
    failed: int            # of which unreadable images
    merged: bool           # FEATS.parquet written (every shard done)
    missing: int           # images of the run without a row yet (other shards still running)
    seconds: float


def _row(item: ImageRow, feature: list[float] | None, error: str | None) -> dict[str, Any]:
    return {"image_id": item.path, "path": item.path, "modality": item.modality, "pid": item.pid,
            "camera": item.camera, "feature": feature, "error": error or None}


def embed_images(model: ReIDModel, source: ImageSource, out: Path, *, batch_size: int = 64,
                 num_workers: int = 2, shard_index: int = 0, num_shards: int = 1, flush_every: int = 20,
                 progress: bool = True, on_merge: Callable[[str], None] | None = None) -> EmbedResult:
    """Embed this shard's images of ``source`` not yet in a part file, then merge if complete."""
    if not 0 <= shard_index < num_shards:
        raise VireidError(f"--shard-index must be in 0..{num_shards - 1}, got {shard_index}")
    if out.exists() and out.is_dir():
        raise VireidError(f"{out}: --out is a folder; give a file name, e.g. {out / 'features.parquet'}")
    start = time.monotonic()
    work = work_dir(out)
    fingerprint = run_fingerprint(model, source)
    paths = [r.path for r in source.rows]
    with merge_lock(work):
        run_file = work / "run.json"
        if not run_file.is_file() or json.loads(run_file.read_text()).get("fingerprint") != fingerprint:
            for part in read_parts(work, KIND, redo="embedded again"):
                if part.fingerprint != fingerprint:
                    part.path.unlink(missing_ok=True)
            write_json(run_file, {"fingerprint": fingerprint, "image_ids": paths})
    done = {i for p in read_parts(work, KIND, redo="embedded again") if p.fingerprint == fingerprint
            for i in p.table.column("image_id").to_pylist()}
    mine = [source.rows[i] for i in select_shard(paths, shard_index, num_shards)]
    todo = [r for r in mine if r.path not in done]
    writer = PartWriter(work, fingerprint, shard_tag(shard_index, num_shards), KIND)
    ticker = Ticker("embedding", len(todo), "img", enabled=progress and not interactive())
    bar = None
    if progress and interactive() and todo:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(todo), desc="embedding", unit="img", leave=False)
    failed = batches = 0
    for modality in MODALITIES:
        rows = [r for r in todo if r.modality == modality]
        if not rows:
            continue
        loader = DataLoader(_Images(source.root, rows, model), batch_size=batch_size, shuffle=False,
                            num_workers=num_workers, pin_memory=model.device.type == "cuda")
        for images, errors, index in loader:
            ok = [k for k, e in enumerate(errors) if not e]
            feats = model.embed_batch(images[ok], modality).cpu().numpy() if ok else None
            by_position = dict(zip(ok, feats if feats is not None else []))
            for k, i in enumerate(index.tolist()):
                if errors[k]:
                    failed += 1
                    writer.add([_row(rows[i], None, errors[k])])
                else:
                    writer.add([_row(rows[i], by_position[k].tolist(), None)])
            batches += 1
            if batches % flush_every == 0:
                writer.flush()
            ticker.update(len(index), failed=failed)
            if bar is not None:
                bar.update(len(index))
    writer.flush()
    if bar is not None:
        bar.close()
    merged, missing = merge(out, model, source, on_merge)
    return EmbedResult(out, writer.written, failed, merged, missing, time.monotonic() - start)


def merge(out: Path, model: ReIDModel, source: ImageSource,
          on_merge: Callable[[str], None] | None = None) -> tuple[bool, int]:
    """``(merged, missing)``: write ``out`` from the parts once every image has a row."""
    work = work_dir(out)
    fingerprint = run_fingerprint(model, source)
    expected = [r.path for r in source.rows]
    with merge_lock(work):
        parts = [p for p in read_parts(work, KIND, redo="embedded again") if p.fingerprint == fingerprint]
        if not parts:
            return out.is_file() and _complete(out, fingerprint), 0
        table = pa.concat_tables([p.table for p in parts])
        # A resumed shard may re-embed an image a killed run had written: keep the last row.
        last = {image_id: k for k, image_id in enumerate(table.column("image_id").to_pylist())}
        missing = len(expected) - len(set(last) & set(expected))
        if missing:
            return False, missing
        table = table.take(pa.array([last[p] for p in expected]))
        dims = pc.list_value_length(table.column("feature")).drop_null().unique().to_pylist()
        failed = len(expected) - table.column("error").null_count
        meta = {"fingerprint": fingerprint, "complete": True, "checkpoint": model.info["checkpoint"],
                "checkpoint_sha256": model.fingerprint, "feature_options": model.feature_options.record(),
                "dim": dims[0] if dims else None, "model": model.info, "root": str(source.root),
                "images": len(expected), "failed": failed, **provenance()}
        write_manifest(table, out, KIND, metadata=meta)
        for part in read_parts(work, KIND):
            part.path.unlink(missing_ok=True)
        for leftover in (work / "run.json", work / ".merge.lock"):
            leftover.unlink(missing_ok=True)
        for folder in (work / PARTS_DIR, work):
            try:
                folder.rmdir()
            except OSError:
                pass  # parts of other inputs (or a shard still writing): left for the user
    if on_merge is not None:
        on_merge(f"merged {len(expected)} rows -> {out}")
    return True, 0


def _complete(out: Path, fingerprint: str) -> bool:
    try:
        return read_metadata(out).get("fingerprint") == fingerprint
    except ManifestError:
        return False


