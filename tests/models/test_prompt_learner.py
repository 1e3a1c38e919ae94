"""ISE prompt learner: learned X tokens spliced into CLIP's text encoder, per identity."""

from __future__ import annotations

import pytest
import torch

from vireid.models import TINY_MODEL_NAME, ModelConfig, build_model
from vireid.models.prompt_learner import PromptLearner
from vireid.tokenizer import tokenize


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return build_model(ModelConfig(name=TINY_MODEL_NAME, pretrained="none"), num_classes=3).eval()


def test_prompt_with_placeholder_embeddings_equals_encoding_the_template_text(model):
    learner = PromptLearner(3, model)
    x_embedding = model.text.token_embedding(tokenize(["X"]))[0, 1]
    with torch.no_grad():
        learner.ctx.copy_(x_embedding.expand_as(learner.ctx))
        expected = model.encode_text(tokenize(["A photo of a X X X X person."]))
        got = learner.text_features(torch.tensor([2]))
    torch.testing.assert_close(got, expected)


def test_identities_get_distinct_features_and_only_their_context_learns(model):
    learner = PromptLearner(3, model)
    assert learner.ctx.shape == (3, 4, model.text.width) and learner.start == 5  # <sot> a photo of a
    feats = learner.text_features(torch.tensor([0, 1, 1]))
    assert feats.shape == (3, model.proj_dim)
    torch.testing.assert_close(feats[1], feats[2])
    assert not torch.allclose(feats[0], feats[1])
    feats.sum().backward()
    assert learner.ctx.grad[0].abs().sum() > 0 and learner.ctx.grad[1].abs().sum() > 0
    assert learner.ctx.grad[2].abs().sum() == 0


def test_prompt_learner_owns_only_its_context_vectors(model):
    learner = PromptLearner(3, model)
    assert [name for name, _ in learner.named_parameters()] == ["ctx"]
    assert list(learner.state_dict()) == ["ctx"]


def test_class_text_features_cover_all_identities_without_grad(model):
    learner = PromptLearner(3, model)
    all_feats = learner.class_text_features(batch_size=2)
    assert all_feats.shape == (3, model.proj_dim) and not all_feats.requires_grad
    torch.testing.assert_close(all_feats[1], learner.text_features(torch.tensor([1])).detach()[0])


def test_template_needs_a_slot(model):
    with pytest.raises(ValueError, match="slot"):
        PromptLearner(2, model, template="A photo of a person.")
