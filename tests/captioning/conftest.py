"""Fixtures for the captioning tests: one tiny LLaVA per session and small image folders."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from vireid.manifests import to_table


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    from vireid.captioning.tiny import build_tiny_llava

    return build_tiny_llava(tmp_path_factory.mktemp("tiny-llava"), seed=0)


def write_images(root: Path, count: int, seed: int = 0) -> list[dict]:
    """``count`` random pedestrian-shaped JPEGs (2:1), alternating visible / infrared."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(count):
        modality = "visible" if i % 2 == 0 else "infrared"
        camera = 1 if modality == "visible" else 3
        rel = f"cam{camera}/{i // 2:04d}/{i:04d}.jpg"
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        pixels = rng.integers(0, 256, (48, 24, 3), dtype=np.uint8)
        if modality == "infrared":
            pixels[..., 1] = pixels[..., 2] = pixels[..., 0]
        Image.fromarray(pixels).save(root / rel, quality=90)
        rows.append(index_row(rel, modality, pid=i // 2, camera=camera))
    return rows


def index_row(rel: str, modality: str, pid: int = 0, camera: int = 1, split: str = "train") -> dict:
    return {"image_id": f"sysu:{rel}", "dataset": "sysu", "path": rel, "modality": modality,
            "pid": pid, "label": pid if split == "train" else -1, "camera": camera,
            "split": split, "trial": None}


@pytest.fixture
def image_root(tmp_path) -> tuple[Path, object]:
    """A folder of 10 images and its image index table."""
    root = tmp_path / "images"
    rows = write_images(root, 10)
    return root, to_table(rows, "image-index")


@pytest.fixture(scope="session")
def tiny_captioner(tiny_model):
    """The tiny model loaded once (fp32, CPU) and reused by the run tests."""
    from vireid.captioning.model_loading import load_captioner, resolve_model

    return load_captioner(resolve_model(str(tiny_model)), quantization="none", device="cpu")


@pytest.fixture
def fast_config(tiny_model):
    """A config for quick CPU runs of the tiny model."""
    from vireid.captioning.config import CaptionConfig

    return CaptionConfig(model=str(tiny_model), quantization="none", batch_size=4, workers=0,
                         max_new_tokens=8, flush_every=1)
