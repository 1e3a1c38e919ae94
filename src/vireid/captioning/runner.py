"""One captioning run: select images, skip what is done, caption the rest, merge."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from vireid.atomic import write_json
from vireid.captioning import writer
from vireid.captioning.config import CaptionConfig
from vireid.captioning.data import CaptionImages, make_loader, plan_batches
from vireid.captioning.generate import generate_batch
from vireid.captioning.model_loading import LoadedModel, load_captioner, resolve_model
from vireid.captioning.prompts import build_prompt
from vireid.shards import resolve_shards, select_shard, shard_tag
from vireid.captioning.summary import manifest_summary
from vireid.errors import VireidError
from vireid.fingerprint import canonical_json, hash_json, hash_strings, provenance
from vireid.manifests import IMAGE_INDEX_SCHEMA
from vireid.progress import Bar
from vireid.tokenizer import token_count, is_truncated

Log = Callable[[str], None]


def _stderr(message: str) -> None:
    print(message, file=sys.stderr)


def select_images(index: pa.Table, splits: Sequence[str], limit: int | None,
                  modalities: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Rows of the image index in the chosen splits (and ``modalities``, None = all), in index
    order, first ``limit`` only.

    Only training images need captions (the trainer pairs them with images); test images
    are never captioned unless asked for with ``splits``.
    """
    missing = [c for c in IMAGE_INDEX_SCHEMA.names if c not in index.column_names and c != "trial"]
    if missing:
        raise VireidError(f"image index lacks column(s) {', '.join(missing)}")
    chosen = index.filter(pc.is_in(index.column("split"), value_set=pa.array(list(splits))))
    if modalities is not None:
        chosen = chosen.filter(pc.is_in(chosen.column("modality"), value_set=pa.array(list(modalities))))
    rows = chosen.to_pylist()
    if limit is not None:
        rows = rows[:limit]
    if not rows:
        where = f" and modality(ies) {','.join(modalities)}" if modalities is not None else ""
        raise VireidError(f"image index has no images in split(s) {','.join(splits)}{where}")
    ids = [r["image_id"] for r in rows]
    if len(set(ids)) != len(ids):
        raise VireidError("image index has duplicate image_id values; rebuild it")
    return rows


def run_inputs(config: CaptionConfig, image_ids: Sequence[str], revision: str | None) -> dict[str, Any]:
    """What the result depends on: a change in any of these invalidates a finished manifest."""
    return {
        "image_list": hash_strings(image_ids),
        "num_images": len(image_ids),
        "model": config.model,
        "model_revision": revision,
        "prompt_visible": config.prompt_visible,
        "prompt_infrared": config.prompt_infrared,
        "generation": config.generation_params(),
        "quantization": config.quantization,
        "dtype": config.dtype if config.quantization == "none" else None,
    }


def _clear_for_force(out: Path, index: int, shards: int) -> None:
    # Remove the old manifest and the parts this shard (or another sharding) wrote; parts of
    # sibling shards of the same layout may be fresh output of a concurrent --force run.
    writer.manifest_path(out).unlink(missing_ok=True)
    mine = shard_tag(index, shards)
    for part in (out / writer.PARTS_DIR).glob("part-*.parquet"):
        tag = part.name.split("-")[1]
        if tag == mine or not tag.endswith(f"of{shards}"):
            part.unlink(missing_ok=True)


def run_captioning(index: pa.Table, root: str | Path, out: str | Path, config: CaptionConfig,
                   *, log: Log = _stderr, progress: bool = True,
                   on_batch: Callable[[int], None] | None = None,
                   captioner: LoadedModel | None = None) -> dict[str, Any]:
    """Caption the selected images of ``index`` (paths relative to ``root``) into ``out``.

    Returns the summary dict (also saved as ``captions.summary.json`` once the manifest is
    complete). ``on_batch(n)`` is called after the n-th batch's results are queued.
    ``captioner`` reuses an already loaded model of ``config.model`` (several runs in one
    process: benchmarks, tests) instead of loading it again.
    """
    root, out = Path(root), Path(out)
    rows = select_images(index, config.splits, config.limit, config.modalities)
    image_ids = [r["image_id"] for r in rows]
    if captioner is not None:
        if (captioner.source.name, captioner.quantization) != (config.model, config.quantization):
            raise ValueError("captioner was loaded for a different model or quantization")
        source = captioner.source
    else:
        source = resolve_model(config.model)
    inputs = run_inputs(config, image_ids, source.revision)
    fingerprint = hash_json(inputs)
    shard_index, num_shards = resolve_shards(config.num_shards, config.shard_index)

    if not config.force and writer.manifest_is_complete(out, fingerprint):
        log(f"captions up to date: {writer.manifest_path(out)} (inputs unchanged; --force to redo)")
        summary = manifest_summary(writer.manifest_path(out))
        return {**summary, "cached": True}

    out.mkdir(parents=True, exist_ok=True)
    if config.force:
        _clear_for_force(out, shard_index, num_shards)
    stale = writer.remove_stale(out, fingerprint)
    if stale:
        log(f"removed {stale} part file(s) of a run with different inputs")
    writer.write_run_file(out, fingerprint, inputs, image_ids)

    done = writer.done_ids(out, fingerprint)
    mine = select_shard(image_ids, shard_index, num_shards)
    pending = [rows[i] for i in mine if rows[i]["image_id"] not in done]
    if len(pending) < len(mine):
        log(f"resuming: {len(mine) - len(pending)} of {len(mine)} images already done")

    started = time.perf_counter()
    written = 0
    if pending:
        loaded = captioner or load_captioner(source, config.quantization, config.dtype,
                                             config.device)
        written = _caption(pending, root, out, config, loaded, fingerprint,
                           shard_tag(shard_index, num_shards), progress, on_batch)
    wall = time.perf_counter() - started
    run_stats = {"images_this_run": written, "wall_s": round(wall, 3),
                 "images_per_s": round(written / wall, 3) if wall > 0 and written else 0.0,
                 "shard_index": shard_index, "num_shards": num_shards}

    finished = writer.done_ids(out, fingerprint)
    if not set(image_ids) <= finished:
        left = len(set(image_ids) - finished)
        log(f"shard {shard_index + 1}/{num_shards} done; {left} image(s) of other shards still "
            f"missing. The last shard to finish merges (or run `vireid captions merge {out}`).")
        return {"complete": False, "missing": left, **run_stats}

    result = writer.merge(out, metadata=provenance({"run": run_stats}))
    summary = {**manifest_summary(result.path), "run": run_stats, "cached": False}
    write_json(out / writer.SUMMARY_NAME, summary)
    return summary


def _caption(pending: list[dict[str, Any]], root: Path, out: Path, config: CaptionConfig,
             loaded: LoadedModel, fingerprint: str, tag: str, progress: bool,
             on_batch: Callable[[int], None] | None) -> int:
    source = loaded.source
    processor = loaded.processor
    prompts = {m: build_prompt(processor, config.prompt_for(m)) for m in ("visible", "infrared")}
    generation = config.generation_params()
    generation_json = canonical_json(generation)

    dataset = CaptionImages([root / r["path"] for r in pending],
                            [prompts[r["modality"]] for r in pending], processor)
    batches = plan_batches([r["modality"] for r in pending], config.batch_size)
    loader = make_loader(dataset, batches, config.workers, processor.tokenizer.pad_token_id)
    parts = writer.PartWriter(out, fingerprint, tag)

    def row(i: int, caption: str | None, error: str | None) -> dict[str, Any]:
        r = pending[i]
        tokens = None if caption is None else token_count(caption)
        return {"image_id": r["image_id"], "dataset": r["dataset"], "path": r["path"],
                "modality": r["modality"], "pid": r["pid"], "camera": r["camera"],
                "caption": caption, "num_tokens": tokens, "truncated": is_truncated(tokens),
                "model": config.model, "model_revision": source.revision,
                "prompt": prompts[r["modality"]], "generation": generation_json,
                "quantization": config.quantization, "source": "llava",
                "created_at": datetime.now(timezone.utc), "error": error}

    bar = Bar("captioning", len(pending), "img", enabled=progress)
    try:
        for n, batch in enumerate(loader, start=1):
            captions = generate_batch(loaded.model, processor, batch, generation, loaded.device)
            parts.add([row(i, c, None) for i, c in zip(batch.indices, captions)])
            parts.add([row(i, None, e) for i, e in batch.errors])
            bar.update(len(batch.indices) + len(batch.errors))
            if n % config.flush_every == 0:
                parts.flush()
            if on_batch is not None:
                on_batch(n)
    finally:
        # Keep finished work even when generation fails or the user interrupts.
        parts.flush()
        bar.close()
    return parts.written
