"""load_model: a checkpoint round trip gives the same network; every bad file is a clear error."""

from __future__ import annotations

import pytest
import torch

from vireid.errors import VireidError
from vireid.models.store import save_checkpoint
from vireid.models.store import load_model, model_checkpoint_state
from vireid.models import TINY_MODEL_NAME, ModelConfig, build_model


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    torch.manual_seed(0)
    model = build_model(ModelConfig(name=TINY_MODEL_NAME, pretrained="none", image_size=(64, 32)), num_classes=3)
    # Move the BatchNorm running statistics away from their init so the round trip tests them too.
    model.train()
    with torch.no_grad():
        model(visible=torch.randn(4, 3, 64, 32), infrared=torch.randn(4, 3, 64, 32))
    path = tmp_path_factory.mktemp("ckpt") / "last.pt"
    save_checkpoint(path, {**model_checkpoint_state(model), "epoch": 1, "optimizer": {}})
    return model.eval(), path


def test_round_trip_restores_identical_features(trained):
    model, path = trained
    loaded = load_model(path)
    assert not loaded.training
    assert loaded.config.pretrained == "none" and loaded.image_size == (64, 32) and loaded.num_classes == 3
    images = torch.randn(2, 3, 64, 32)
    with torch.no_grad():
        for modality in ("visible", "infrared"):
            a, b = model.encode_image(images, modality), loaded.encode_image(images, modality)
            for key in ("pooled", "bn", "proj"):
                torch.testing.assert_close(a[key], b[key], rtol=0, atol=0)


def test_rebuild_does_not_need_clip_weights(trained, tmp_path):
    model, _ = trained
    state = model_checkpoint_state(model)
    state["model_config"]["pretrained"] = "openai"  # trained from OpenAI weights absent here
    state["model_config"]["cache_dir"] = str(tmp_path)
    path = save_checkpoint(tmp_path / "openai.pt", state)
    loaded = load_model(path)
    assert loaded.config.pretrained == "openai"


def test_missing_and_unreadable_files(tmp_path):
    with pytest.raises(VireidError, match="nope.pt: checkpoint not found"):
        load_model(tmp_path / "nope.pt")
    junk = tmp_path / "junk.pt"
    junk.write_text("hello")
    with pytest.raises(VireidError, match="junk.pt: unreadable"):
        load_model(junk)


def test_not_a_vireid_checkpoint(tmp_path):
    path = tmp_path / "plain.pt"
    torch.save({"state_dict": {}}, path)
    with pytest.raises(VireidError, match="plain.pt: not a vireid checkpoint"):
        load_model(path)


def test_state_dict_mismatch_and_bad_config(trained, tmp_path):
    model, _ = trained
    state = model_checkpoint_state(model)
    state["model"].pop("neck.classifier.weight")
    with pytest.raises(VireidError, match="mismatch.pt: weights do not match"):
        load_model(save_checkpoint(tmp_path / "mismatch.pt", state))
    state = model_checkpoint_state(model)
    state["num_classes"] = 5  # classifier shapes disagree
    with pytest.raises(VireidError, match="classes.pt: weights do not match"):
        load_model(save_checkpoint(tmp_path / "classes.pt", state))
    state = model_checkpoint_state(model)
    state["model_config"]["colour"] = "red"
    with pytest.raises(VireidError, match="config.pt: invalid model_config"):
        load_model(save_checkpoint(tmp_path / "config.pt", state))


def test_a_layout_1_checkpoint_still_loads_for_evaluation(tmp_path):
    # Layout 1 (before the method registry) had no architecture key and no pixel_stats.
    import torch

    from vireid.models import TINY_MODEL_NAME, ModelConfig, build_model, load_model

    model = build_model(ModelConfig(name=TINY_MODEL_NAME, pretrained="none", image_size=(64, 32)), 3)
    config = model.config_dict()
    del config["architecture"], config["pixel_stats"]
    path = tmp_path / "v1.pt"
    torch.save({"format": "vireid-checkpoint", "version": 1, "model_config": config, "num_classes": 3,
                "model": model.state_dict()}, path)
    loaded = load_model(path)
    assert loaded.config.architecture == "two-stem-clip" and loaded.pixel_mean == model.pixel_mean
    assert all(torch.equal(a, b) for a, b in zip(loaded.state_dict().values(), model.state_dict().values()))


def test_an_unknown_layout_version_names_path_and_version(tmp_path):
    import torch

    from vireid.models import CheckpointError, load_model

    path = tmp_path / "future.pt"
    torch.save({"format": "vireid-checkpoint", "version": 9, "model_config": {}, "num_classes": 1, "model": {}}, path)
    with pytest.raises(CheckpointError, match=r"future.pt: checkpoint layout version 9; this vireid reads versions 1, 2"):
        load_model(path)
