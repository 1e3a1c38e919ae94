"""The pretrained file is an OpenAI-format CLIP state dict, read by the same code as RN50.pt."""

from pathlib import Path

import open_clip
import torch
from open_clip.model import build_model_from_openai_state_dict

from vireid.models import ModelConfig, build_model
from vireid.models.clip_backbone import TINY_MODEL_NAME, create_clip


def _weights(small_pretrain) -> Path:
    return Path(small_pretrain[2]["weights"])


def test_the_file_holds_openai_names_and_openai_dtypes(small_pretrain):
    state = torch.load(_weights(small_pretrain), map_location="cpu", weights_only=True)
    fresh = open_clip.create_model(TINY_MODEL_NAME, pretrained=None)
    assert set(state) == set(fresh.state_dict())  # the CLIP's own names: visual.*, transformer.*, ...
    # OpenAI keeps conv / linear / attention weights and the text projection in float16 ...
    assert state["visual.conv1.weight"].dtype == torch.float16
    assert state["visual.attnpool.c_proj.weight"].dtype == torch.float16
    assert state["text_projection"].dtype == torch.float16
    # ... norms, embeddings and the logit scale in float32; the pooling grid is the stored 7x7
    assert state["visual.bn1.weight"].dtype == torch.float32 and state["logit_scale"].dtype == torch.float32
    assert state["visual.attnpool.positional_embedding"].shape[0] == 7 * 7 + 1
    # plain row-major tensors, whatever memory format pretraining ran its convolutions in
    assert all(value.is_contiguous() for value in state.values())


def test_openais_own_rebuilder_reads_it(small_pretrain):
    state = torch.load(_weights(small_pretrain), map_location="cpu", weights_only=True)
    model = build_model_from_openai_state_dict(dict(state), cast_dtype=torch.float32)
    rebuilt = model.state_dict()
    for key, value in state.items():
        assert torch.equal(rebuilt[key].float(), value.float()), key


def test_it_loads_through_open_clips_checkpoint_loader_like_a_local_rn50(small_pretrain, monkeypatch):
    calls = []
    original = open_clip.factory.load_checkpoint

    def spy(model, path, *args, **kwargs):
        calls.append(str(path))
        return original(model, path, *args, **kwargs)

    monkeypatch.setattr(open_clip.factory, "load_checkpoint", spy)
    weights = _weights(small_pretrain)
    clip = create_clip(ModelConfig(name=TINY_MODEL_NAME, pretrained="synthetic-web", clip_weights=str(weights)))
    assert calls == [str(weights)]  # open_clip's own strict loader, as for model.clip_weights=RN50.pt
    state = torch.load(weights, map_location="cpu", weights_only=True)
    assert torch.equal(clip.logit_scale.detach(), state["logit_scale"])
    assert torch.equal(clip.text_projection.detach(), state["text_projection"].float())


def test_the_reid_network_is_built_from_the_pretrained_layers(small_pretrain):
    weights = _weights(small_pretrain)
    state = torch.load(weights, map_location="cpu", weights_only=True)
    model = build_model(ModelConfig(name=TINY_MODEL_NAME, pretrained="synthetic-web", clip_weights=str(weights),
                                    image_size=(64, 32)), num_classes=3)
    for stem in model.stems.values():  # both modality stems start from the pretrained stem
        assert torch.equal(stem.conv1.weight.detach(), state["visual.conv1.weight"].float())
        assert torch.equal(stem.bn3.running_mean, state["visual.bn3.running_mean"])
    assert torch.equal(model.layer4[0].conv2.weight.detach(), state["visual.layer4.0.conv2.weight"].float())
    assert torch.equal(model.text.text_projection.detach(), state["text_projection"].float())
    assert torch.equal(model.text.token_embedding.weight.detach(), state["token_embedding.weight"].float())
