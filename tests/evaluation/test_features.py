"""Feature extraction against a fake encoder that implements the model contract."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from vireid.errors import VireidError
from vireid.evaluation import compose_feature, extract_features, sysu_gallery, sysu_query
from vireid.evaluation.features import FLIP_MODES, FeatureOptions, combine_flip, flip_mode

from .fake_model import FakeEncoder


def _opts(**options) -> FeatureOptions:
    return FeatureOptions.from_mapping(options)


@pytest.fixture()
def images(tiny_sysu_root):
    q, g = sysu_query(tiny_sysu_root), sysu_gallery(tiny_sysu_root, "all", 0)
    paths = q.paths[:5] + g.paths[:4]
    return paths, ["infrared"] * 5 + ["visible"] * 4


def test_features_are_l2_normalised_in_input_order_and_batched_per_modality(tiny_sysu_root, images):
    paths, modalities = images
    model = FakeEncoder().train()
    feats = extract_features(model, tiny_sysu_root, paths, modalities, _opts(feature="concat", flip=False),
                             batch_size=2)
    assert feats.shape == (9, 10) and feats.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(feats, axis=1), 1, atol=1e-5)
    assert all(not training and not grad for _, _, training, grad in model.calls)
    assert {m for m, *_ in model.calls} == {"visible", "infrared"}
    assert all(shape[0] <= 2 and shape[2:] == (8, 4) for _, shape, *_ in model.calls)
    single = extract_features(model, tiny_sysu_root, paths[6:7], modalities[6:7], _opts(flip=False))
    np.testing.assert_allclose(single[0], feats[6], atol=1e-5)     # order kept, batch-invariant


def test_flip_averages_the_feature_of_the_mirrored_image(tmp_path):
    pixels = np.zeros((8, 4, 3), dtype=np.uint8)
    pixels[:, 2:] = 255                                              # left dark, right bright
    Image.fromarray(pixels).save(tmp_path / "a.png")
    model = FakeEncoder()
    plain = extract_features(model, tmp_path, ["a.png"], ["visible"], _opts(feature="pooled", flip=False))
    got = extract_features(model, tmp_path, ["a.png"], ["visible"], _opts(feature="pooled", flip=True))
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



def _save(path, pixels):
    Image.fromarray(pixels).save(path)
    return path.name


@pytest.fixture()
def pair(tmp_path):
    """A random 8x4 image and its mirror image (so no resizing happens)."""
    pixels = np.random.default_rng(1).integers(0, 256, (8, 4, 3), dtype=np.uint8)
    return tmp_path, _save(tmp_path / "a.png", pixels), _save(tmp_path / "m.png", pixels[:, ::-1].copy())


def test_flip_modes_and_the_booleans_of_older_callers():
    assert FLIP_MODES == ("none", "mean", "concat")
    assert (flip_mode(True), flip_mode(False), flip_mode("concat")) == ("mean", "none", "concat")
    with pytest.raises(VireidError, match="flip must be one of none, mean, concat"):
        flip_mode("max")


@pytest.mark.parametrize("feature", ["pooled", "concat"])
def test_flip_none_and_mean_are_the_boolean_flips(pair, feature):
    root, a, m = pair
    for mode, old in (("none", False), ("mean", True)):
        got = extract_features(FakeEncoder(), root, [a, m], ["visible"] * 2, _opts(feature=feature, flip=mode))
        older = extract_features(FakeEncoder(), root, [a, m], ["visible"] * 2, _opts(feature=feature, flip=old))
        np.testing.assert_array_equal(got, older)


@pytest.mark.parametrize("feature", ["pooled", "bn", "proj", "concat"])
def test_flip_concat_is_the_normalised_features_of_image_and_mirror_side_by_side(pair, feature):
    root, a, m = pair
    single = extract_features(FakeEncoder(), root, [a, m], ["infrared"] * 2, _opts(feature=feature, flip="none"))
    got = extract_features(FakeEncoder(), root, [a], ["infrared"], _opts(feature=feature, flip="concat"))
    assert got.shape == (1, 2 * single.shape[1])
    np.testing.assert_allclose(got[0], np.concatenate([single[0], single[1]]) / np.sqrt(2), atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1, atol=1e-6)


def test_flip_concat_of_the_concat_kind_is_csdn_feature_over_two():
    # CSDN: cat(L2(bn), L2(proj)) of image and mirror concatenated, compared by dot product.
    g = torch.Generator().manual_seed(0)
    out, out_m = ({k: torch.randn(3, d, generator=g) for k, d in (("bn", 6), ("proj", 4))} for _ in range(2))
    csdn = torch.cat([torch.cat([F.normalize(o["bn"], dim=1), F.normalize(o["proj"], dim=1)], 1)
                      for o in (out, out_m)], 1)
    got = combine_flip(compose_feature(out), compose_feature(out_m), "concat")
    torch.testing.assert_close(got, csdn / 2)
    torch.testing.assert_close(got @ got.T, csdn @ csdn.T / 4)      # the same ranking as CSDN's
    with pytest.raises(VireidError, match="mirrored"):
        combine_flip(compose_feature(out), None, "mean")


def test_interpolation_choice_changes_the_resized_test_image(tmp_path):
    pixels = np.random.default_rng(2).integers(0, 256, (16, 8, 3), dtype=np.uint8)
    name = _save(tmp_path / "big.png", pixels)
    got = {interp: extract_features(FakeEncoder(), tmp_path, [name], ["visible"],
                                    _opts(feature="pooled", flip="none", interpolation=interp))
           for interp in ("bicubic", "bilinear")}
    assert not np.allclose(got["bicubic"], got["bilinear"])
    default = extract_features(FakeEncoder(), tmp_path, [name], ["visible"], _opts(feature="pooled", flip="none"))
    np.testing.assert_array_equal(got["bicubic"], default)
    with pytest.raises(VireidError, match="eval.interpolation: one of bicubic, bilinear"):
        extract_features(FakeEncoder(), tmp_path, [name], ["visible"], _opts(interpolation="nearest"))


def test_pixel_statistics_come_from_the_model(pair):
    root, a, _ = pair

    class Recording(FakeEncoder):
        pixel_mean, pixel_std = (0.1, 0.2, 0.3), (0.5, 0.6, 0.7)

        def encode_image(self, images, modality):
            self.seen = images.clone()
            return super().encode_image(images, modality)

    model = Recording()
    extract_features(model, root, [a], ["visible"], _opts(flip="none"))
    raw = torch.from_numpy(np.asarray(Image.open(root / a), dtype=np.float32) / 255).permute(2, 0, 1)
    expected = (raw - torch.tensor([0.1, 0.2, 0.3]).view(3, 1, 1)) / torch.tensor([0.5, 0.6, 0.7]).view(3, 1, 1)
    torch.testing.assert_close(model.seen[0], expected)


def test_a_bad_image_read_by_a_worker_is_one_line_naming_it(tiny_sysu_root, images, tmp_path):
    # issue 18 item 14: no page of DataLoader worker traceback
    import shutil

    paths, modalities = images
    root = tmp_path / "root"
    shutil.copytree(tiny_sysu_root, root)
    (root / paths[2]).write_bytes(b"not an image")
    with pytest.raises(VireidError) as err:
        extract_features(FakeEncoder(), root, paths, modalities, _opts(flip=False), batch_size=2, num_workers=1,
                         progress=False)
    message = str(err.value)
    assert "\n" not in message and paths[2] in message and "Traceback" not in message


def test_extraction_without_a_terminal_prints_plain_lines_not_bars(tiny_sysu_root, images, capsys, monkeypatch):
    # issue 18 item 17: periodic lines (every 0 s here), no carriage returns
    import vireid.progress as progress

    monkeypatch.setattr(progress, "LOG_EVERY_S", 0.0)
    monkeypatch.setattr("vireid.evaluation.features.Ticker",
                        lambda *a, **k: progress.Ticker(*a, **{**k, "every": 0.0}))
    paths, modalities = images
    extract_features(FakeEncoder(), tiny_sysu_root, paths, modalities, _opts(flip=False), batch_size=2)
    err = capsys.readouterr().err
    assert "\r" not in err and "extracting features: 9/9 img" in err


def test_feature_options_are_validated_once_naming_the_key_and_resolve_the_pixel_statistics():
    from vireid.errors import ConfigError

    with pytest.raises(ConfigError, match="unknown config key eval.flipp"):
        FeatureOptions.from_mapping({"flipp": "mean"})
    with pytest.raises(ConfigError, match="recipe-x.toml \\[eval\\].feature: one of pooled, bn, proj, concat"):
        FeatureOptions.from_mapping({"feature": "mean"}, where="recipe-x.toml [eval]")
    model = FakeEncoder()
    assert FeatureOptions().mean_std(model) == (model.pixel_mean, model.pixel_std)
    imagenet = FeatureOptions(pixel_stats="imagenet")
    assert imagenet.mean_std(model)[0] == pytest.approx((0.485, 0.456, 0.406))
    assert imagenet.resolved(model) is imagenet

