"""CLIP's symmetric InfoNCE (the pretraining objective)."""

import math

import pytest
import torch

from vireid.losses import clip_loss


def test_clip_loss_of_aligned_pairs_is_the_softmax_cross_entropy_of_the_scaled_diagonal():
    image = torch.eye(4)
    # identical unit pairs: logit s on the diagonal, 0 elsewhere -> -log(e^s / (e^s + 3)) each way
    s = 5.0
    expected = -math.log(math.exp(s) / (math.exp(s) + 3))
    assert clip_loss(image, image.clone(), torch.tensor(s)).item() == pytest.approx(expected, rel=1e-6)


def test_clip_loss_is_symmetric_in_its_two_towers():
    torch.manual_seed(0)
    image, text = torch.randn(6, 8), torch.randn(6, 8)
    a = clip_loss(image, text, torch.tensor(10.0)).item()
    assert a == pytest.approx(clip_loss(text, image, torch.tensor(10.0)).item(), rel=1e-6)
    # swapping which caption belongs to which image makes it worse than the true pairing
    aligned = clip_loss(image, image + 0.01 * text, torch.tensor(10.0)).item()
    assert aligned < clip_loss(image, (image + 0.01 * text).roll(1, 0), torch.tensor(10.0)).item()
