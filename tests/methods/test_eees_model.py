"""EEES on a real (tiny) network: the training outputs feed Eq. 13 and every part learns."""

from __future__ import annotations

import pytest
import torch

from vireid.methods.eees import EEESConfig
from vireid.methods.eees.objective import eees_loss
from vireid.models import TINY_MODEL_NAME, ModelConfig, build_model
from vireid.tokenizer import tokenize


@pytest.fixture
def tiny():
    torch.manual_seed(0)
    return build_model(ModelConfig(name=TINY_MODEL_NAME, pretrained="none"), num_classes=4)


def _images(n, seed=0, size=(288, 144)):
    return torch.randn(n, 3, *size, generator=torch.Generator().manual_seed(seed))


def test_training_outputs_feed_the_eees_loss_end_to_end(tiny):
    tiny.train()
    tiny.zero_grad()
    labels_half = torch.tensor([0, 0, 1, 1])
    out = tiny(visible=_images(4), infrared=_images(4, seed=1))
    captions = ["a man in black", "a man in a dark coat", "a woman in red", "a woman with a bag"] * 2
    text = tiny.encode_text(tokenize(captions))
    result = eees_loss(EEESConfig(), out, torch.cat([labels_half, labels_half]), text=text, generator=torch.Generator().manual_seed(0))
    result.total.backward()
    assert torch.isfinite(result.total)
    assert tiny.text.token_embedding.weight.grad is not None  # text encoder is fine-tuned
    assert tiny.stems["infrared"].conv1.weight.grad is not None
    assert all(torch.isfinite(p.grad).all() for p in tiny.parameters() if p.grad is not None)
