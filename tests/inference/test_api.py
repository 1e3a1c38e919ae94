"""vireid.load(...).embed: the features vireid eval extracts, from paths, PIL images or arrays."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

import vireid
from vireid.errors import VireidError
from vireid.evaluation.checkpoint import checkpoint_features


def test_embed_equals_what_vireid_eval_extracts(tiny_checkpoint, synth_sysu_root):
    table = checkpoint_features(tiny_checkpoint, "sysu", synth_sysu_root, trials=1)
    model = vireid.load(tiny_checkpoint)
    assert model.feature_options.record() == {"feature": "concat", "flip": "mean", "interpolation": "bicubic",
                                             "pixel_stats": "checkpoint"}
    picks = [0, 1, len(table.paths) - 1]
    paths = [synth_sysu_root / table.paths[i] for i in picks]
    modalities = [table.modalities[i] for i in picks]
    feats = model.embed(paths, modality=modalities, batch_size=2)
    assert feats.dtype == np.float32 and feats.shape == (3, table.features.shape[1])
    # Same preprocessing and network; only batch composition differs (float summation order).
    np.testing.assert_allclose(feats, table.features[picks], atol=1e-5)


def test_paths_pil_images_and_uint8_arrays_embed_alike(tiny_checkpoint, synth_sysu_root):
    model = vireid.load(tiny_checkpoint)
    path = next(synth_sysu_root.glob("cam3/*/*.jpg"))
    image = Image.open(path).convert("RGB")
    feats = model.embed([path, image, np.asarray(image)], modality="infrared")
    np.testing.assert_allclose(feats[1:], np.repeat(feats[:1], 2, axis=0), atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(feats, axis=1), 1.0, atol=1e-5)
    assert model.embed(path, modality="infrared").shape == (1, model.dim)


def test_info_names_the_checkpoint_and_what_trained_it(tiny_checkpoint):
    info = vireid.load(tiny_checkpoint).info
    assert info["checkpoint"] == str(tiny_checkpoint) and len(info["checkpoint_sha256"]) == 64
    assert info["method"] == "baseline" and info["dataset"] == "sysu" and info["epoch"] == 1
    assert set(info["versions"]) == {"vireid", "torch"}


def test_options_can_be_overridden_and_change_the_dimension(tiny_checkpoint):
    base = vireid.load(tiny_checkpoint)
    doubled = vireid.load(tiny_checkpoint, flip="concat")
    assert doubled.dim == 2 * base.dim


@pytest.mark.parametrize("images, modality, message", [
    (["a.jpg", "b.jpg"], ["visible"], "1 modalities given for 2 images"),
    (["a.jpg"], "thermal", "'thermal' is not one of visible, infrared"),
    ([np.zeros((4, 4), dtype=np.float32)], "visible", "uint8"),
])
def test_bad_input_is_one_clear_error(tiny_checkpoint, images, modality, message):
    with pytest.raises(VireidError, match=message):
        vireid.load(tiny_checkpoint).embed(images, modality=modality)


def test_an_unreadable_image_names_its_path(tiny_checkpoint, tmp_path):
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"not a jpeg")
    with pytest.raises(VireidError, match="broken.jpg"):
        vireid.load(tiny_checkpoint).embed([bad])


def test_a_file_that_is_not_a_vireid_checkpoint_is_refused(tmp_path):
    fake = tmp_path / "model.pt"
    fake.write_bytes(b"definitely not torch")
    with pytest.raises(VireidError, match=f"{fake}: unreadable checkpoint"):
        vireid.load(fake)
    with pytest.raises(VireidError, match="checkpoint not found"):
        vireid.load(tmp_path / "missing.pt")
