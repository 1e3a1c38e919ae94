"""A uint8 image cache: every training image decoded and resized once, then memory-mapped.

Layout: ``<cache_dir>/<key>.u8`` holds a C-ordered ``uint8[N, H, W, 3]`` array and
``<key>.json`` describes it (shape, image ids, source). The key is a fingerprint of the
image rows (image_id, path, file size), the target size and the resize method, so a cache is
reused by every run with the same images and size and rebuilt when any of them changes. The
JSON is written last and both files are written atomically, so a crashed build never leaves a
cache that looks complete.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm.auto import tqdm

from vireid.atomic import atomic_path, write_json
from vireid.datasets.images import load_rgb
from vireid.fingerprint import hash_json, hash_strings

CACHE_VERSION = 1
RESAMPLE = "bicubic"


def decode_resized(path: str | Path, height: int, width: int) -> np.ndarray:
    """Decode one image (robustly, via load_rgb) and resize it to ``height x width`` RGB uint8."""
    img = load_rgb(path)
    if img.size != (width, height):
        img = img.resize((width, height), Image.Resampling.BICUBIC)
    return np.asarray(img, dtype=np.uint8)


def cache_key(image_ids: Sequence[str], paths: Sequence[str | Path], height: int, width: int) -> str:
    """Fingerprint of the cached content: rows, file sizes, target size, resize method."""
    sizes = []
    for path in paths:
        try:
            sizes.append(str(os.stat(path).st_size))
        except OSError:
            sizes.append("missing")
    return hash_json({
        "version": CACHE_VERSION, "size": [height, width], "resample": RESAMPLE,
        "ids": hash_strings(image_ids), "paths": hash_strings(str(p) for p in paths),
        "bytes": hash_strings(sizes),
    })[:24]


@dataclass
class ImageCache:
    """A read-only view of a built cache: ``images[i]`` is row i as uint8 [H, W, 3]."""

    path: Path
    key: str
    images: np.ndarray  # np.memmap, uint8 [N, H, W, 3]
    image_ids: list[str]
    built: bool  # True when this call decoded the images, False when it reused them

    @property
    def size(self) -> tuple[int, int]:
        return int(self.images.shape[1]), int(self.images.shape[2])

    def __len__(self) -> int:
        return int(self.images.shape[0])

    def gather(self, rows: np.ndarray) -> np.ndarray:
        """Copy the given rows out of the memory map (sorted reads, original order kept)."""
        rows = np.asarray(rows, dtype=np.int64)
        order = np.argsort(rows, kind="stable")
        out = np.empty((len(rows),) + self.images.shape[1:], dtype=np.uint8)
        out[order] = self.images[rows[order]]
        return out


def _open(data_path: Path, meta_path: Path, key: str) -> ImageCache | None:
    try:
        meta = json.loads(meta_path.read_text())
    except (OSError, ValueError):
        return None
    shape = tuple(meta.get("shape", ()))
    expected = int(np.prod(shape)) if shape else -1
    if meta.get("key") != key or not data_path.is_file() or data_path.stat().st_size != expected:
        return None
    images = np.memmap(data_path, dtype=np.uint8, mode="r", shape=shape)
    return ImageCache(data_path, key, images, list(meta["image_ids"]), built=False)


def build_cache(image_ids: Sequence[str], paths: Sequence[str | Path], height: int, width: int,
                cache_dir: str | Path, *, workers: int = 4, progress: bool = True) -> ImageCache:
    """Return the cache for these images at ``height x width``, building it if needed.

    Decoding runs on ``workers`` threads (PIL releases the GIL while decoding and resizing).
    A decoding failure raises :class:`vireid.datasets.images.ImageReadError` naming the file.
    """
    if len(image_ids) != len(paths):
        raise ValueError("image_ids and paths must have the same length")
    if not paths:
        raise ValueError("an image cache needs at least one image")
    cache_dir = Path(cache_dir)
    key = cache_key(image_ids, paths, height, width)
    data_path = cache_dir / f"{key}.u8"
    meta_path = cache_dir / f"{key}.json"
    found = _open(data_path, meta_path, key)
    if found is not None:
        return found
    cache_dir.mkdir(parents=True, exist_ok=True)
    shape = (len(paths), height, width, 3)
    with atomic_path(data_path) as tmp:
        arr = np.memmap(tmp, dtype=np.uint8, mode="w+", shape=shape)

        def work(i: int) -> None:
            arr[i] = decode_resized(paths[i], height, width)

        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            done = pool.map(work, range(len(paths)))
            for _ in tqdm(done, total=len(paths), desc=f"caching images {height}x{width}",
                          unit="img", disable=not progress, leave=False):
                pass
        arr.flush()
        del arr
    write_json(meta_path, {"key": key, "version": CACHE_VERSION, "shape": list(shape),
                           "resample": RESAMPLE, "image_ids": list(image_ids)})
    cache = _open(data_path, meta_path, key)
    assert cache is not None, "a freshly built cache must open"
    cache.built = True
    return cache
