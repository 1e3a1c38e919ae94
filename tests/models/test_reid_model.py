"""The two-stem CLIP ReID model: shapes, ReID adaptations, modality stems, weights policy."""

from __future__ import annotations

import open_clip
import pytest
import torch
from open_clip.constants import OPENAI_DATASET_MEAN, OPENAI_DATASET_STD

from vireid.config import from_dict
from vireid.errors import ConfigError, VireidError
from vireid.models import TINY_MODEL_NAME, ModelConfig, build_model, register_model_configs, resolve_weights
from vireid.models.adaptation import resize_pos_embed
from vireid.tokenizer import tokenize

TINY = ModelConfig(name=TINY_MODEL_NAME, pretrained="none")


@pytest.fixture(scope="module")
def tiny():
    torch.manual_seed(0)
    return build_model(TINY, num_classes=4)


def _open_clip_tiny():
    """The tiny CLIP straight from open_clip (a stand-in for a downloaded weights file)."""
    register_model_configs()
    return open_clip.create_model(TINY_MODEL_NAME, force_quick_gelu=True)


def _images(n, seed=0, size=(288, 144)):
    return torch.randn(n, 3, *size, generator=torch.Generator().manual_seed(seed))


def test_rn50_random_init_has_paper_shapes_at_288x144():
    torch.manual_seed(0)
    model = build_model(ModelConfig(pretrained="none"), num_classes=7).eval()
    assert model.attnpool.positional_embedding.shape == (1 + 18 * 9, 2048)
    with torch.no_grad():
        fmap = model.feature_map(_images(2), "visible")
        feats = model.encode_image(_images(2), "infrared")
    assert fmap.shape == (2, 2048, 18, 9)
    assert {k: tuple(v.shape) for k, v in feats.items()} == {"pooled": (2, 2048), "bn": (2, 2048), "proj": (2, 1024)}
    assert model.encode_text(torch.zeros(3, 77, dtype=torch.long)).shape == (3, 1024)


def test_training_forward_concatenates_visible_then_infrared(tiny):
    tiny.train()
    out = tiny(visible=_images(3), infrared=_images(2, seed=1))
    assert out["modality"].tolist() == [0, 0, 0, 1, 1]
    assert out["logits"].shape == out["proj_logits"].shape == (5, 4)
    assert out["pooled"].shape == out["bn"].shape == (5, tiny.pooled_dim)
    assert out["proj"].shape == out["proj_bn"].shape == (5, tiny.proj_dim)
    only_ir = tiny(infrared=_images(2))
    assert only_ir["modality"].tolist() == [1, 1]
    with pytest.raises(ValueError):
        tiny()


def test_eval_forward_matches_encode_image_per_modality(tiny):
    tiny.eval()
    v, r = _images(2), _images(2, seed=1)
    with torch.no_grad():
        joint = tiny(visible=v, infrared=r)
        sep_v, sep_r = tiny.encode_image(v, "visible"), tiny.encode_image(r, "infrared")
    for key in ("pooled", "bn", "proj"):
        torch.testing.assert_close(joint[key], torch.cat([sep_v[key], sep_r[key]]))


def test_forward_maps_runs_stem_level_streams_through_the_shared_trunk(tiny):
    tiny.train()
    v, r = _images(2), _images(2, seed=1)
    torch.manual_seed(0)
    ref = tiny(visible=v, infrared=r)
    maps = torch.cat([tiny.stem_map(v, "visible"), tiny.stem_map(r, "infrared")])
    torch.manual_seed(0)
    out = tiny.forward_maps(maps, ref["modality"])
    for key in ref:
        assert torch.equal(out[key], ref[key]), key
    extra = tiny.forward_maps(torch.cat([maps, maps[:1]]), torch.tensor([0, 0, 1, 1, 2]))
    assert extra["modality"].tolist() == [0, 0, 1, 1, 2] and extra["pooled"].shape == (5, tiny.pooled_dim)
    with pytest.raises(ValueError, match="forward_maps"):
        tiny.forward_maps(maps, torch.tensor([0, 1]))


def test_stems_are_modality_specific_and_start_identical(tiny):
    for (name_v, p_v), (_, p_r) in zip(tiny.stems["visible"].named_parameters(), tiny.stems["infrared"].named_parameters()):
        assert p_v is not p_r
    fresh = build_model(TINY, num_classes=4)
    for p_v, p_r in zip(fresh.stems["visible"].parameters(), fresh.stems["infrared"].parameters()):
        torch.testing.assert_close(p_v, p_r)
    fresh.train()
    fresh.zero_grad()
    fresh(visible=_images(2))["logits"].sum().backward()
    assert all(p.grad is None for p in fresh.stems["infrared"].parameters())
    assert all(p.grad is not None for p in fresh.stems["visible"].parameters())
    assert fresh.layer1[0].conv1.weight.grad is not None


def test_layer4_has_stride_one_and_feature_grid_follows_image_size(tiny):
    assert tiny.feature_map(_images(1), "visible").shape[-2:] == (18, 9)
    small = build_model(ModelConfig(name=TINY_MODEL_NAME, pretrained="none", image_size=(128, 64)), 2)
    assert small.feature_map(_images(1, size=(128, 64)), "visible").shape[-2:] == (8, 4)
    assert small.attnpool.positional_embedding.shape[0] == 1 + 8 * 4


def test_wrong_image_size_or_modality_is_a_clear_error(tiny):
    with pytest.raises(ValueError, match="image_size"):
        tiny.encode_image(_images(1, size=(256, 128)), "visible")
    with pytest.raises(ValueError, match="modality"):
        tiny.encode_image(_images(1), "thermal")


def test_resize_pos_embed_keeps_same_grid_and_cls_row():
    pos = torch.randn(1 + 7 * 7, 8)
    torch.testing.assert_close(resize_pos_embed(pos, (7, 7)), pos, rtol=0, atol=0)
    out = resize_pos_embed(pos, (18, 9))
    assert out.shape == (1 + 162, 8)
    torch.testing.assert_close(out[0], pos[0])
    constant = torch.ones(1 + 49, 3)
    torch.testing.assert_close(resize_pos_embed(constant, (18, 9), "bicubic"), torch.ones(163, 3))
    # bilinear interpolation stays within the original range (no overshoot)
    resized = resize_pos_embed(pos, (18, 9), "bilinear")[1:]
    assert resized.max() <= pos[1:].max() + 1e-6 and resized.min() >= pos[1:].min() - 1e-6


def test_contract_attributes(tiny):
    assert tiny.image_size == (288, 144)
    assert tiny.pixel_mean == tuple(OPENAI_DATASET_MEAN) and tiny.pixel_std == tuple(OPENAI_DATASET_STD)


def test_param_groups_partition_trainable_parameters(tiny):
    groups = tiny.param_groups()
    ids = [id(p) for params in groups.values() for p in params]
    trainable = {id(p) for p in tiny.parameters() if p.requires_grad}
    assert len(ids) == len(set(ids)) and set(ids) == trainable
    assert {id(p) for p in tiny.text.parameters()} == {id(p) for p in groups["text"]}
    assert id(tiny.attnpool.positional_embedding) in {id(p) for p in groups["visual"]}
    assert not tiny.neck.bn.bias.requires_grad  # BNNeck bias frozen
    assert tiny.neck.classifier.bias is None


def test_missing_weights_name_what_was_searched(tmp_path):
    cfg = ModelConfig(cache_dir=str(tmp_path))
    with pytest.raises(VireidError, match="RN50") as info:
        build_model(cfg, 3)
    assert str(tmp_path / "RN50.pt") in str(info.value) and "pretrained" in str(info.value)
    with pytest.raises(VireidError, match='no "openai" weights'):
        build_model(ModelConfig(name=TINY_MODEL_NAME, pretrained="openai"), 2)
    with pytest.raises(VireidError, match="nothere.pt: file not found"):
        resolve_weights(ModelConfig(clip_weights=str(tmp_path / "nothere.pt")))


def test_local_weights_file_is_loaded(tmp_path):
    source = _open_clip_tiny()
    path = tmp_path / "tiny.pt"
    torch.save(source.state_dict(), path)
    model = build_model(ModelConfig(name=TINY_MODEL_NAME, clip_weights=str(path)), 2)
    torch.testing.assert_close(model.layer3[0].conv2.weight, source.visual.layer3[0].conv2.weight)
    torch.testing.assert_close(model.stems["infrared"].conv1.weight, source.visual.conv1.weight)
    torch.testing.assert_close(model.text.token_embedding.weight, source.token_embedding.weight)
    # the attention-pool grid is the loaded 7x7 embedding resized, not a fresh random one
    expected_pos = resize_pos_embed(source.visual.attnpool.positional_embedding.detach(), (18, 9))
    torch.testing.assert_close(model.attnpool.positional_embedding.detach(), expected_pos)
    # the text side is open_clip's own text tower, moved over unchanged
    tokens = tokenize(["a man in a black coat", "a woman with a red bag"])
    with torch.no_grad():
        torch.testing.assert_close(model.encode_text(tokens), source.encode_text(tokens))
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(VireidError, match="bad.pt"):
        build_model(ModelConfig(name=TINY_MODEL_NAME, clip_weights=str(bad)), 2)


def test_openai_torchscript_archive_is_loaded(tmp_path):
    # OpenAI publishes RN50.pt as a TorchScript archive; build one of the same kind, tiny.
    source = _open_clip_tiny().eval()
    example = (torch.randn(1, 3, 224, 224), torch.zeros(1, 77, dtype=torch.long))
    path = tmp_path / "jit.pt"
    torch.jit.trace(source, example, strict=False, check_trace=False).save(str(path))
    model = build_model(ModelConfig(name=TINY_MODEL_NAME, clip_weights=str(path)), 2)
    torch.testing.assert_close(model.stems["visible"].conv2.weight, source.visual.conv2.weight)
    torch.testing.assert_close(model.text.text_projection, source.text_projection)
    other = ModelConfig(name="RN50", clip_weights=str(path))  # wrong architecture for the file
    with pytest.raises(VireidError, match="not loadable as RN50"):
        build_model(other, 2)


def test_model_config_validation():
    with pytest.raises(ConfigError, match="image_size"):
        from_dict(ModelConfig, {"image_size": [280, 144]})
    with pytest.raises(ConfigError, match="pretrained"):
        from_dict(ModelConfig, {"pretrained": "laion"})
    with pytest.raises(ConfigError, match="clip_weights"):
        from_dict(ModelConfig, {"pretrained": "none", "clip_weights": "x.pt"})
    with pytest.raises(VireidError, match="unknown architecture"):
        build_model(ModelConfig(name="ViT-Nope", pretrained="none"), 2)
    with pytest.raises(VireidError, match="num_classes"):
        build_model(TINY, 0)
