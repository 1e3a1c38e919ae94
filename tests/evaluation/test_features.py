"""Feature extraction against a fake encoder that implements the model contract."""

import numpy as np
import pytest
import torch
from PIL import Image

from vireid.errors import VireidError
from vireid.evaluation import compose_feature, extract_features, sysu_gallery, sysu_query

from .fake_model import FakeEncoder


@pytest.fixture()
def images(tiny_sysu_root):
    q, g = sysu_query(tiny_sysu_root), sysu_gallery(tiny_sysu_root, "all", 0)
    paths = q.paths[:5] + g.paths[:4]
    return paths, ["infrared"] * 5 + ["visible"] * 4


def test_features_are_l2_normalised_in_input_order_and_batched_per_modality(tiny_sysu_root, images):
    paths, modalities = images
    model = FakeEncoder().train()
    feats = extract_features(model, tiny_sysu_root, paths, modalities, feature="concat",
                             flip=False, batch_size=2)
    assert feats.shape == (9, 10) and feats.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(feats, axis=1), 1, atol=1e-5)
    assert all(not training and not grad for _, _, training, grad in model.calls)
    assert {m for m, *_ in model.calls} == {"visible", "infrared"}
    assert all(shape[0] <= 2 and shape[2:] == (8, 4) for _, shape, *_ in model.calls)
    single = extract_features(model, tiny_sysu_root, paths[6:7], modalities[6:7], flip=False)
    np.testing.assert_allclose(single[0], feats[6], atol=1e-5)     # order kept, batch-invariant


def test_flip_averages_the_feature_of_the_mirrored_image(tmp_path):
    pixels = np.zeros((8, 4, 3), dtype=np.uint8)
    pixels[:, 2:] = 255                                              # left dark, right bright
    Image.fromarray(pixels).save(tmp_path / "a.png")
    model = FakeEncoder()
    plain = extract_features(model, tmp_path, ["a.png"], ["visible"], feature="pooled", flip=False)
    got = extract_features(model, tmp_path, ["a.png"], ["visible"], feature="pooled", flip=True)
    x = (torch.from_numpy(pixels / 255.0).float().permute(2, 0, 1)[None] - 0.5) / 0.25
    with torch.no_grad():
        both = model.encode_image(x, "visible")["pooled"] + model.encode_image(x.flip(3), "visible")["pooled"]
    np.testing.assert_allclose(got[0], (both / both.norm()).numpy()[0], atol=1e-5)
    assert not np.allclose(plain, got)


def test_concat_is_l2_bn_next_to_l2_proj():
    out = {"pooled": torch.ones(2, 3), "bn": torch.tensor([[3.0, 4.0]] * 2), "proj": torch.tensor([[0.0, 2.0]] * 2)}
    np.testing.assert_allclose(compose_feature(out, "concat")[0].numpy(), [0.6, 0.8, 0.0, 1.0])
    assert compose_feature(out, "proj").shape == (2, 2)
    with pytest.raises(VireidError, match="feature kind"):
        compose_feature(out, "gem")


def test_unreadable_image_is_reported_by_path(tmp_path):
    (tmp_path / "bad.jpg").write_bytes(b"")
    with pytest.raises(VireidError, match="bad.jpg"):
        extract_features(FakeEncoder(), tmp_path, ["bad.jpg"], ["visible"])
