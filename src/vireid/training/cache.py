"""A uint8 image cache: every training image decoded and resized once, then memory-mapped.

Layout: ``<cache_dir>/<key>.u8`` holds a C-ordered ``uint8[N, H, W, 3]`` array and
``<key>.json`` describes it (shape, image ids, a CRC-32 per row). The key is a fingerprint of
the image rows (image_id, path, and each file's size, mtime and inode), the target size and the
resize method, so a cache is reused by every run with the same images and size and rebuilt when
any of them changes. The JSON is written last and both files are written atomically, so a
crashed build never leaves a cache that looks complete; the row checksums are verified on every
open, and a damaged cache is rebuilt with a one-line warning. The data file is preallocated, so
a full disk is an ENOSPC error at the start of a build, not a SIGBUS in the middle of it.
"""

from __future__ import annotations

import errno
import json
import os
import sys
import zlib
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from vireid.progress import progress as progress_bar

from vireid.atomic import atomic_path, remove_stale_temps, write_json
from vireid.datasets.images import load_rgb
from vireid.fingerprint import hash_json, hash_strings

CACHE_VERSION = 2  # 2: keys on file stamps, rows carry checksums
RESAMPLE = "bicubic"


def decode_resized(path: str | Path, height: int, width: int) -> np.ndarray:
    """Decode one image (robustly, via load_rgb) and resize it to ``height x width`` RGB uint8."""
    img = load_rgb(path)
    if img.size != (width, height):
        img = img.resize((width, height), Image.Resampling.BICUBIC)
    return np.asarray(img, dtype=np.uint8)


def _file_stamp(path: str | Path) -> str:
    # size + mtime_ns + inode instead of a content hash: hashing would read every image (GBs)
    # on every run. Rewriting a file in place changes its mtime; replacing it by a rename
    # (cp --remove-destination, most editors, our atomic writes) changes its inode; so a
    # same-size replacement (RegDB's BMPs all have one size) still gets a new key.
    try:
        st = os.stat(path)
    except OSError:
        return "missing"
    return f"{st.st_size}:{st.st_mtime_ns}:{st.st_ino}"


def cache_key(image_ids: Sequence[str], paths: Sequence[str | Path], height: int, width: int) -> str:
    """Fingerprint of the cached content: rows, file stamps, target size, resize method."""
    return hash_json({
        "version": CACHE_VERSION, "size": [height, width], "resample": RESAMPLE,
        "ids": hash_strings(image_ids), "paths": hash_strings(str(p) for p in paths),
        "files": hash_strings(_file_stamp(p) for p in paths),
    })[:24]


def _warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)


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


def _row_crc(row: np.ndarray) -> int:
    return zlib.crc32(np.ascontiguousarray(row).data)


class _Corrupt(Exception):
    """The cache files exist for this key but do not hold what their description says."""


def _open(data_path: Path, meta_path: Path, key: str) -> ImageCache | None:
    """The cache if it exists and verifies; None if absent; a damaged one is reported."""
    if not meta_path.exists():
        return None  # never built (or the build died before its last step)
    try:
        return _open_verified(data_path, meta_path, key)
    except _Corrupt as exc:
        _warn(f"image cache {data_path} is damaged ({exc}); rebuilding it")
        return None


def _open_verified(data_path: Path, meta_path: Path, key: str, *,
                   verify_rows: bool = True) -> ImageCache:
    try:
        meta = json.loads(meta_path.read_text())
        shape = tuple(int(n) for n in meta["shape"])
        crcs = [int(c) for c in meta["crc32"]]
        image_ids = list(meta["image_ids"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise _Corrupt(f"unreadable description {meta_path.name}: {exc}") from None
    if meta.get("key") != key or len(crcs) != shape[0] or len(image_ids) != shape[0]:
        raise _Corrupt(f"{meta_path.name} does not describe this cache")
    expected = int(np.prod(shape))
    size = data_path.stat().st_size if data_path.is_file() else None
    if size != expected:
        raise _Corrupt(f"data file has {size} bytes, expected {expected}")
    images = np.memmap(data_path, dtype=np.uint8, mode="r", shape=shape)
    for i, crc in enumerate(crcs if verify_rows else ()):
        if _row_crc(images[i]) != crc:
            raise _Corrupt(f"row {i} ({image_ids[i]}) fails its checksum")
    return ImageCache(data_path, key, images, image_ids, built=False)


def _preallocate(path: Path, nbytes: int) -> None:
    """Reserve ``nbytes`` on disk: a memory map over a sparse file dies with SIGBUS when the
    disk fills; a reservation fails now, with ENOSPC."""
    fd = os.open(path, os.O_RDWR)
    try:
        try:
            os.posix_fallocate(fd, 0, nbytes)
        except OSError as exc:
            if exc.errno not in (errno.EOPNOTSUPP, errno.EINVAL, errno.ENOSYS):
                raise
            _write_zeros(fd, nbytes)  # a file system without fallocate: write the blocks
    finally:
        os.close(fd)


def _write_zeros(fd: int, nbytes: int, chunk: int = 1 << 20) -> None:
    zeros = bytes(min(chunk, nbytes))
    written = 0
    while written < nbytes:
        written += os.write(fd, zeros[:nbytes - written])


def build_cache(image_ids: Sequence[str], paths: Sequence[str | Path], height: int, width: int,
                cache_dir: str | Path, *, workers: int = 4, progress: bool = True) -> ImageCache:
    """Return the cache for these images at ``height x width``, building it if needed.

    Decoding runs on ``workers`` threads (PIL releases the GIL while decoding and resizing).
    A decoding failure raises :class:`vireid.datasets.images.ImageReadError` naming the file;
    a full disk or read-only folder a :class:`vireid.errors.StorageError` naming the cache
    file. Temporary files of earlier builds killed midway are removed first.
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
    for path in (data_path, meta_path):
        remove_stale_temps(path)
    shape = (len(paths), height, width, 3)
    crcs = _write_images(data_path, paths, shape, workers, progress)
    write_json(meta_path, {"key": key, "version": CACHE_VERSION, "shape": list(shape),
                           "resample": RESAMPLE, "image_ids": list(image_ids), "crc32": crcs})
    # The rows were checksummed as they were written: no need to read them back.
    cache = _open_verified(data_path, meta_path, key, verify_rows=False)
    cache.built = True
    return cache


def _write_images(data_path: Path, paths: Sequence[str | Path], shape: tuple[int, ...],
                  workers: int, progress: bool) -> list[int]:
    """Decode every image into a new data file; the CRC-32 of each row."""
    n, height, width = shape[:3]
    crcs = [0] * n
    with atomic_path(data_path) as tmp:
        _preallocate(tmp, int(np.prod(shape)))
        arr = np.memmap(tmp, dtype=np.uint8, mode="r+", shape=shape)

        def work(i: int) -> None:
            row = decode_resized(paths[i], height, width)
            arr[i] = row
            crcs[i] = _row_crc(row)

        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            done = pool.map(work, range(n))
            for _ in progress_bar(done, total=n, desc=f"caching images {height}x{width}",
                                  unit="img", enabled=progress):
                pass
        arr.flush()
        del arr
    return crcs
