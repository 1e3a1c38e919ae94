"""Generate a complete synthetic benchmark folder: images, split files, captions, config."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
from PIL import Image

from vireid.atomic import write_json
from vireid.datasets.synth import layout as layouts
from vireid.datasets.synth.attributes import Identity, sample_identities
from vireid.datasets.synth.captions import infrared_caption, observed_caption, visible_caption
from vireid.datasets.synth.config import LAYOUTS, MIN_IDS, SynthConfig
from vireid.datasets.synth.render import camera_style, render_infrared, render_visible
from vireid.datasets.synth.views import Framing, framing
from vireid.config import from_dict
from vireid.errors import ConfigError, DatasetError, storage_error
from vireid.manifests import to_table, write_manifest
from vireid.owned import OWNED_NAME, files_in, move_files, read_owned, remove_empty_dirs, write_owned
from vireid.tokenizer import token_counts, is_truncated

CAPTION_SOURCE = "synthetic-reference"
CAPTIONS_FILE = "reference_captions.parquet"
CONFIG_FILE = "synth.json"


def _created_at(seed: int) -> datetime:
    # A fixed instant derived from the seed keeps the caption manifest byte-identical
    # between runs with the same seed (the clock would not).
    return datetime(2024, 1, 1, tzinfo=timezone.utc) + timedelta(seconds=int(seed) % 10**8)


def _save_jpeg(path: Path, pixels: np.ndarray, quality: int) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(pixels).save(path, format="JPEG", quality=quality)
    except OSError as exc:  # PIL's error does not name the file: name it (full disk, read-only)
        translated = storage_error(exc, path)
        if translated is None:
            raise
        raise translated from exc


def _check_out(out: Path, force: bool) -> None:
    if out.exists() and not out.is_dir():
        raise DatasetError(f"{out}: output path exists and is not a folder")
    if not out.is_dir() or not any(out.iterdir()):
        return
    if not force:
        raise DatasetError(f"{out}: output folder is not empty (pass --force to replace it)")
    if not (out / CONFIG_FILE).is_file():
        # --force replaces an earlier benchmark's files: never write a benchmark into a folder
        # that is something else (a real dataset, a run).
        raise DatasetError(f"{out}: not empty and not a synthetic benchmark (no {CONFIG_FILE}); "
                           "refusing to replace it with --force")


def _previous_files(out: Path) -> set[str]:
    """The files an earlier ``generate`` wrote into ``out``: its ``.vireid-owned.json`` list,
    or for a benchmark written before the list existed, the files its recorded options give."""
    listed = read_owned(out)
    if listed is not None:
        return listed
    meta = read_config(out)
    try:
        options = meta["config"]
        # A missing version is version 1 (see SynthConfig.metadata).
        config = from_dict(SynthConfig, {"version": 1, **options})
        layout = meta["layout"]
        if layout not in LAYOUTS:
            raise KeyError(layout)
    except (KeyError, TypeError, ConfigError):
        raise DatasetError(f"{out / CONFIG_FILE}: cannot tell which files of {out} an earlier "
                           f"benchmark wrote; move your own files out and delete the folder, or "
                           f"choose another --out") from None
    with tempfile.TemporaryDirectory() as tmp:
        specs = _write_splits(Path(tmp), layout, config)
        return files_in(tmp) | {spec.relpath for spec in specs} | {CAPTIONS_FILE, CONFIG_FILE}


def generate(out: str | Path, layout: str = "sysu", config: SynthConfig | None = None,
             *, force: bool = False) -> Path:
    """Write a synthetic benchmark in ``layout`` ("sysu", "regdb", "llcm" or "custom") under ``out``.

    The benchmark is generated in a temporary sibling folder and swapped in only once
    complete: ``force`` replaces every file the earlier benchmark wrote (no old images stay
    mixed in; ``.vireid-owned.json`` lists them) and leaves any other file in ``out`` alone,
    and a failed run leaves ``out`` as it was. The same config (seed included)
    gives byte-identical files. Returns ``out``.
    """
    config = config or SynthConfig()
    if layout not in LAYOUTS:
        raise DatasetError(f"unknown synthetic layout {layout!r}; choose from {', '.join(LAYOUTS)}")
    # Every other field first (the layout's minimum is computed from them), then the identity
    # count against the layout's own minimum: one message with the number that works.
    dataclasses.replace(config, ids=max(config.ids, MIN_IDS)).validate()
    layouts.check_ids(layout, config)
    config.validate()
    out = Path(out)
    _check_out(out, force)
    previous = _previous_files(out) if out.is_dir() and (out / CONFIG_FILE).is_file() else set()
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.synth-", suffix=".tmp", dir=out.parent))
    except OSError as exc:
        raise (storage_error(exc, out.parent) or exc) from exc
    try:
        _write_benchmark(staging, layout, config)
        write_owned(staging, files_in(staging))
        _swap_in(staging, out, previous)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out


def _swap_in(staging: Path, out: Path, previous: set[str]) -> None:
    """Put the finished benchmark in ``staging`` at ``out``, replacing the ``previous``
    benchmark's files there; any other file in ``out`` (the user's) stays where it is."""
    umask = os.umask(0)
    os.umask(umask)
    staging.chmod(0o777 & ~umask)  # mkdtemp makes 0700; give a plain mkdir's permissions
    if not out.exists():
        os.replace(staging, out)
        return
    new = files_in(staging) | {OWNED_NAME}
    clash = sorted((files_in(out) - previous) & new)
    if clash:
        raise DatasetError(f"{out / clash[0]}: not written by the earlier benchmark, but the new one "
                           f"would overwrite it; move it away and retry")
    old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", suffix=".tmp", dir=out.parent))
    moved_old = move_files(out, old, previous | {OWNED_NAME})
    remove_empty_dirs(out, previous)
    try:
        move_files(staging, out, new)
    except BaseException:  # put everything back as it was
        move_files(out, staging, new)
        remove_empty_dirs(out, new)
        move_files(old, out, moved_old)
        shutil.rmtree(old, ignore_errors=True)
        raise
    shutil.rmtree(old, ignore_errors=True)
    shutil.rmtree(staging, ignore_errors=True)  # only its emptied folders are left


def _write_splits(out: Path, layout: str, config: SynthConfig) -> list[layouts.ImageSpec]:
    """Write ``layout``'s split files under ``out``; returns its images."""
    if layout == "sysu":
        layouts.write_sysu_splits(out, config)
        return layouts.sysu_images(config)
    if layout == "regdb":
        specs = layouts.regdb_images(config)
        layouts.write_regdb_trials(out, config, specs)
        return specs
    if layout == "custom":
        specs = layouts.custom_images(config)
        layouts.write_custom_index(out, config, specs)
        return specs
    specs = layouts.llcm_images(config)
    layouts.write_llcm_splits(out, config, specs)
    return specs


def _write_benchmark(out: Path, layout: str, config: SynthConfig) -> None:
    rng = np.random.default_rng([config.seed, 1])
    people = {p.pid: p for p in sample_identities(layouts.pids_for(config), rng)}
    specs = _write_splits(out, layout, config)

    styles = {}
    rows = []
    for spec in specs:
        key = (spec.camera, spec.infrared)        # LLCM cameras film both modalities
        style = styles.get(key)
        if style is None:
            style = styles[key] = camera_style(spec.camera, spec.infrared, config.seed)
        person = people[spec.pid]
        # One generator per image: output does not depend on the order of generation.
        stream = [config.seed, spec.pid, spec.camera, spec.shot, 7]
        if layout == "llcm":                       # same camera number in both modalities
            stream.append(int(spec.infrared))
        img_rng = np.random.default_rng(stream)
        frame = image_framing(config, spec)
        render = render_infrared if spec.infrared else render_visible
        pixels = render(person, style, config.height, config.width, img_rng,
                        None if config.version == 1 else frame)
        _save_jpeg(out / spec.relpath, pixels, config.jpeg_quality)
        rows.append(_caption_row(layout, spec, person, frame, config, img_rng))

    counts = token_counts([r["caption"] for r in rows])
    for row, count in zip(rows, counts):
        row["num_tokens"] = count
        row["truncated"] = is_truncated(count)
    meta = {"config": config.metadata(), "layout": layout, "seed": config.seed,
            "vireid_version": _version()}
    write_manifest(to_table(rows, "captions"), out / CAPTIONS_FILE, "captions", metadata=meta)
    write_json(out / CONFIG_FILE, meta)


def image_framing(config: SynthConfig, spec: layouts.ImageSpec) -> Framing:
    """The view and framing of one image of a generated benchmark (version 2; version 1
    has none). Public so that analyses can group images by view without re-rendering."""
    return framing(config, spec.pid, spec.camera, spec.infrared, spec.shot)


def _caption_row(dataset: str, spec: layouts.ImageSpec, person: Identity, frame: Framing,
                 config: SynthConfig, rng: np.random.Generator) -> dict:
    if config.version >= 2:
        text = observed_caption(person, frame, spec.infrared, config, rng)
    elif spec.infrared:
        text = infrared_caption(person, rng, config.ir_color_error_rate)
    else:
        text = visible_caption(person, rng)
    return {
        "image_id": f"{dataset}:{spec.relpath}", "dataset": dataset, "path": spec.relpath,
        "modality": "infrared" if spec.infrared else "visible", "pid": spec.pid,
        "camera": spec.camera, "caption": text, "num_tokens": None, "truncated": None,
        "model": CAPTION_SOURCE, "model_revision": None, "prompt": "",
        "generation": json.dumps({}), "quantization": "none", "source": CAPTION_SOURCE,
        "created_at": _created_at(config.seed), "error": None,
    }


def _version() -> str:
    from vireid import __version__

    return __version__


def read_config(root: str | Path) -> dict:
    """The ``synth.json`` written next to a synthetic benchmark."""
    path = Path(root) / CONFIG_FILE
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise DatasetError(f"{path}: not a synthetic benchmark folder (no {CONFIG_FILE})") from None


