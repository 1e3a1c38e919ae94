"""The tiny CLIP as it is pretrained: ReID trunk geometry, exact short text context.

The image tower runs with layer4 at stride 1 and its attention-pool positional embedding
interpolated on the fly from the stored 7x7 grid to the feature grid, exactly as
``vireid.models.adaptation.resize_pos_embed`` does when the ReID network is built; so the
attention pool is trained at the grid it is used at, while the stored parameter keeps
OpenAI's shape (the file stays an ordinary CLIP state dict).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils import parametrize

from vireid.models import ModelConfig
from vireid.models.adaptation import interpolate_pos_grid, set_layer4_stride1
from vireid.models.clip_backbone import create_clip
from vireid.models.config import FEATURE_STRIDE


class _GridResize(nn.Module):
    """The stored square grid -> the feature grid, as the ReID network resizes it (bilinear)."""

    def __init__(self, grid: tuple[int, int]):
        super().__init__()
        self.grid = tuple(grid)

    def forward(self, pos: torch.Tensor) -> torch.Tensor:
        return interpolate_pos_grid(pos, self.grid, "bilinear")


class PretrainCLIP(nn.Module):
    """An open_clip CLIP (random init) with the ReID image geometry; ``clip`` is the original."""

    def __init__(self, model_name: str, image_size: tuple[int, int]):
        super().__init__()
        self.clip = create_clip(ModelConfig(name=model_name, pretrained="none", image_size=tuple(image_size)))
        visual = self.clip.visual
        set_layer4_stride1(visual)
        grid = (image_size[0] // FEATURE_STRIDE, image_size[1] // FEATURE_STRIDE)
        parametrize.register_parametrization(visual.attnpool, "positional_embedding", _GridResize(grid),
                                             unsafe=True)

    @property
    def logit_scale(self) -> nn.Parameter:
        return self.clip.logit_scale

    def encode_image(self, images: torch.Tensor) -> torch.Tensor:
        return self.clip.visual(images)

    def encode_text(self, tokens: torch.Tensor) -> torch.Tensor:
        """CLIP's text feature, computed on the tokens up to the batch's last end-of-text.

        Exact: the attention mask is causal and the feature is read at the end-of-text token
        (the largest id), so positions after it cannot change it.
        """
        clip = self.clip
        length = int(tokens.argmax(dim=-1).max()) + 1
        tokens = tokens[:, :length]
        x = clip.token_embedding(tokens) + clip.positional_embedding[:length]
        x = clip.transformer(x, attn_mask=clip.attn_mask[:length, :length])
        x = clip.ln_final(x)
        eot = x[torch.arange(x.shape[0], device=x.device), tokens.argmax(dim=-1)]
        return eot @ clip.text_projection

    def openai_state_dict(self) -> dict[str, torch.Tensor]:
        """The weights under OpenAI's names, the positional grid in its stored 7x7 shape."""
        state = {}
        for key, value in self.clip.state_dict().items():
            key = key.replace("attnpool.parametrizations.positional_embedding.original",
                              "attnpool.positional_embedding")
            state[key] = value.detach().clone()
        return state
