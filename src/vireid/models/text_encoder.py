"""CLIP's text transformer as a module of its own, callable on tokens or on token embeddings.

Taking embeddings as input is what lets the ISE prompt learner splice learnable context
vectors into a sentence while reusing the pretrained transformer unchanged.
"""

from __future__ import annotations

import torch
from torch import nn


class TextEncoder(nn.Module):
    """Token embedding + positional embedding + transformer + final LayerNorm + projection.

    The parameters are the CLIP model's own modules (moved here, not copied), so pretrained
    weights carry over and the state-dict names stay readable (``text.transformer...``).
    """

    def __init__(self, clip: nn.Module):
        super().__init__()
        self.token_embedding = clip.token_embedding
        self.positional_embedding = clip.positional_embedding
        self.transformer = clip.transformer
        self.ln_final = clip.ln_final
        self.text_projection = clip.text_projection
        self.register_buffer("attn_mask", clip.attn_mask, persistent=False)
        self.context_length = int(clip.context_length)
        self.output_dim = int(self.text_projection.shape[1])

    @property
    def width(self) -> int:
        return int(self.token_embedding.embedding_dim)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """[N, 77] token ids -> [N, D] text features in the joint image-text space."""
        return self.encode_embeddings(self.token_embedding(tokens), tokens)

    def encode_embeddings(self, embeddings: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        """[N, 77, width] token embeddings -> [N, D]; ``tokens`` only locate each end-of-text.

        CLIP reads the sentence feature at the end-of-text token, which has the largest id
        in the vocabulary, hence ``tokens.argmax``.
        """
        if embeddings.shape[1] != self.context_length or tokens.shape != embeddings.shape[:2]:
            raise ValueError(
                f"text encoder: expected embeddings [N, {self.context_length}, width] and tokens [N, {self.context_length}], "
                f"got {tuple(embeddings.shape)} and {tuple(tokens.shape)}"
            )
        x = embeddings + self.positional_embedding.to(embeddings.dtype)
        x = self.transformer(x, attn_mask=self.attn_mask)
        x = self.ln_final(x)
        eot = x[torch.arange(x.shape[0], device=x.device), tokens.argmax(dim=-1)]
        return eot @ self.text_projection
