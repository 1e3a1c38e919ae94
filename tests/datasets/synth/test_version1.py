"""Benchmark version 1 is frozen: it reproduces the files written before versions existed.

The golden training runs (tests/golden/) and any published number on a version-1 benchmark
rely on these exact images, split files and captions. What is pinned is what vireid decides:
every file's path, the split files and config, the caption table's rows and metadata, and
each image's geometry, by digest; and the decoded pixels' per-channel mean and spread,
within a tolerance, since JPEG bytes belong to Pillow's encoder and libjpeg, not to vireid.
The values were computed with the code that still reproduced, byte for byte, the files
written before benchmark version 2 was added. The vireid package version recorded in the
metadata is normalised out (it is not the generator's output).
"""

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from vireid.datasets.synth import SynthConfig, generate
from vireid.manifests import read_manifest, read_metadata
from vireid.owned import OWNED_NAME

CAPTIONS = "reference_captions.parquet"
CONFIG = "synth.json"


def _without_package_version(meta: dict) -> dict:
    return {k: v for k, v in meta.items() if k != "vireid_version"}


def tree_digest(root: Path) -> str:
    """SHA-256 over paths, non-image bytes, caption rows and metadata, and image geometry."""
    h = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if not path.is_file():
            continue
        rel = path.relative_to(root).as_posix()
        if rel == OWNED_NAME:  # vireid's list of the files it wrote, not benchmark content
            continue
        h.update(rel.encode() + b"\0")
        if rel == CAPTIONS:
            rows = read_manifest(path, "captions").to_pylist()
            h.update(repr(rows).encode())
            h.update(json.dumps(_without_package_version(read_metadata(path)), sort_keys=True).encode())
        elif rel == CONFIG:
            raw = json.loads(path.read_text())
            h.update(json.dumps(_without_package_version(raw)).encode())
            h.update(path.read_text().replace(json.dumps(raw["vireid_version"]), '"*"').encode())
        elif path.suffix == ".jpg":
            with Image.open(path) as image:
                h.update(f"{image.format} {image.mode} {image.size}".encode())
        else:
            h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


def pixel_statistics(root: Path) -> list[float]:
    """Per-channel mean and standard deviation of every decoded image's pixels (0-255)."""
    pixels = np.concatenate([np.asarray(Image.open(p).convert("RGB"), dtype=np.float64).reshape(-1, 3)
                             for p in sorted(root.rglob("*.jpg"))])
    return [*pixels.mean(axis=0), *pixels.std(axis=0)]


# Decoders and encoders of the same quality differ by a fraction of a grey level on average;
# a changed drawing (colour, pose, noise) moves these by several levels.
PIXEL_TOL = 0.5


TINY = dict(ids=6, images_per_camera=2, height=64, width=32, test_fraction=0.33)
GOLDEN_SYNTH = dict(ids=24, images_per_camera=3, height=64, width=32, seed=0, test_fraction=0.33)

EXPECTED = {  # (tree_digest, pixel_statistics)
    ("sysu", 0): ("5b043cc2a353ae107b85a1a373a4540897855084c7976b8857281405a449d31b",
                  [132.082, 122.965, 111.426, 56.751, 49.934, 48.932]),
    ("sysu", 5): ("0cbc5e028f223ca5e10c7a7ecc777862cb03c2a0b5a43168bf390bc6275272cf",
                  [120.846, 105.584, 109.035, 56.881, 47.946, 48.175]),
    ("regdb", 0): ("361d3501b20bebcb5a4b4e1d55d538e5572e1498363ff1f920498dada2380ab8",
                   [127.117, 119.961, 102.022, 46.276, 42.603, 41.407]),
    ("regdb", 5): ("734586c3bdc2633b8dd86934f72a07c44b97628016789c208aa27c9d1e480e7c",
                   [117.128, 110.294, 120.491, 42.348, 42.253, 41.021]),
    ("llcm", 0): ("4156647d19d3c979ecba2398ec63a4a49dcb6bc70be4d36e075d86f5268a4075",
                  [121.087, 116.936, 107.879, 59.073, 55.729, 52.096]),
    ("llcm", 5): ("4f00ad81a08509974515ab9d780c737fddab4611e80b18e46084e6179f388120",
                  [104.895, 109.44, 100.278, 49.935, 54.136, 46.482]),
    ("golden", 0): ("e38415ee2f836d28889b03c1d1b36669020739f6b2dddb01d150c0e0bab85817",
                    [125.908, 119.144, 108.247, 55.855, 48.628, 47.895]),
}


def _assert_reproduces(root: Path, key) -> None:
    digest, statistics = EXPECTED[key]
    assert tree_digest(root) == digest
    assert pixel_statistics(root) == pytest.approx(statistics, abs=PIXEL_TOL)


@pytest.mark.parametrize("layout, seed", sorted(k for k in EXPECTED if k[0] != "golden"))
def test_version_1_reproduces_the_pre_version_files(tmp_path, layout, seed):
    root = generate(tmp_path / layout, layout, SynthConfig(**TINY, seed=seed, version=1))
    _assert_reproduces(root, (layout, seed))


def test_version_1_reproduces_the_golden_runs_benchmark(tmp_path):
    root = generate(tmp_path / "golden", "sysu", SynthConfig(**GOLDEN_SYNTH, version=1))
    _assert_reproduces(root, ("golden", 0))
