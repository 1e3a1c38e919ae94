"""The pretraining CLIP: exact short text context, the ReID attention-pool grid."""

import torch

from vireid.models.adaptation import resize_pos_embed
from vireid.models.clip_backbone import TINY_MODEL_NAME
from vireid.pretraining.model import PretrainCLIP
from vireid.tokenizer import tokenize


def test_text_features_on_the_cut_context_equal_clips_full_context():
    torch.manual_seed(0)
    model = PretrainCLIP(TINY_MODEL_NAME, (64, 32)).eval()
    tokens = tokenize(["A tall person with long hair.", "A person walking, carrying a red backpack."])
    with torch.no_grad():
        short = model.encode_text(tokens)
        full = model.clip.encode_text(tokens)
    torch.testing.assert_close(short, full, rtol=1e-5, atol=1e-6)


def test_the_attention_pool_sees_the_grid_the_reid_network_uses():
    torch.manual_seed(0)
    model = PretrainCLIP(TINY_MODEL_NAME, (64, 32))
    stored = model.openai_state_dict()["visual.attnpool.positional_embedding"]
    assert stored.shape[0] == 50  # OpenAI's 7x7 (+1) grid is what the file keeps
    used = model.clip.visual.attnpool.positional_embedding  # what pretraining computes with
    torch.testing.assert_close(used.detach(), resize_pos_embed(stored, (4, 2), "bilinear"))
    assert model.encode_image(torch.randn(2, 3, 64, 32)).shape == (2, 64)
