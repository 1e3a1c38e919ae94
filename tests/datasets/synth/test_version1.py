"""Benchmark version 1 is frozen: it reproduces the files written before versions existed.

The golden training runs (tests/golden/) and any published number on a version-1 benchmark
rely on these exact images, split files and captions. The digests below were computed with
the code as it stood before the view and caption-noise model (benchmark version 2) was
added. Two things are normalised out because they are not the generator's output: the
vireid package version recorded in the metadata and the Parquet writer's own byte layout
(the caption table is hashed by its rows and its metadata instead).
"""

import hashlib
import json
from pathlib import Path

import pytest

from vireid.datasets.synth import SynthConfig, generate
from vireid.manifests import read_manifest, read_metadata

CAPTIONS = "reference_captions.parquet"
CONFIG = "synth.json"


def _without_package_version(meta: dict) -> dict:
    return {k: v for k, v in meta.items() if k != "vireid_version"}


def tree_digest(root: Path) -> str:
    """SHA-256 over every file's path and bytes, the caption table's rows and metadata."""
    h = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if not path.is_file():
            continue
        rel = path.relative_to(root).as_posix()
        h.update(rel.encode() + b"\0")
        if rel == CAPTIONS:
            rows = read_manifest(path, "captions").to_pylist()
            h.update(repr(rows).encode())
            h.update(json.dumps(_without_package_version(read_metadata(path)), sort_keys=True).encode())
        elif rel == CONFIG:
            raw = json.loads(path.read_text())
            h.update(json.dumps(_without_package_version(raw)).encode())
            h.update(path.read_text().replace(json.dumps(raw["vireid_version"]), '"*"').encode())
        else:
            h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


TINY = dict(ids=6, images_per_camera=2, height=64, width=32)
GOLDEN_SYNTH = dict(ids=24, images_per_camera=3, height=64, width=32, seed=0)

EXPECTED = {
    ("sysu", 0): "99064d175233695876670044f3cb27b44c36ab462e66037c67b24c11756db5c6",
    ("sysu", 5): "30aefad1e5d2ddee21dc40a29d9a1b19bceb9887e4a24913e0a6bd052e623061",
    ("regdb", 0): "05a7f23026a69e4d1e5c1716dc47df566be90fced41bb0fa243d2aa851a0ef99",
    ("regdb", 5): "bf845bc1a217b8ee27e41fed3d948da4725f01a3a10e04697659fc20d0dbdabd",
    ("llcm", 0): "a8af9bc40edcf015f4999046ebcda3cea14e21c601ab2d8c87d764f85f648388",
    ("llcm", 5): "4c75229bd676402a5b838b4162a44c171963b3a666a1bc4c840d0a701f5d62e8",
    ("golden", 0): "b0e75cf5c92ce1a2a85fd98e40a650e9089a568c3ed64522de27977b6b8f3564",
}


@pytest.mark.parametrize("layout, seed", sorted(k for k in EXPECTED if k[0] != "golden"))
def test_version_1_reproduces_the_pre_version_files(tmp_path, layout, seed):
    root = generate(tmp_path / layout, layout, SynthConfig(**TINY, seed=seed, version=1))
    assert tree_digest(root) == EXPECTED[(layout, seed)]


def test_version_1_reproduces_the_golden_runs_benchmark(tmp_path):
    root = generate(tmp_path / "golden", "sysu", SynthConfig(**GOLDEN_SYNTH, version=1))
    assert tree_digest(root) == EXPECTED[("golden", 0)]
