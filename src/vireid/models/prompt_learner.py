"""ISE: identity-specific learnable prompts "A photo of a X X X X person." (CLIP-ReID / CSDN).

Each identity owns ``n_ctx`` learnable token embeddings that replace the X placeholders in
the token-embedding sequence of the template; the sentence then goes through CLIP's text
transformer unchanged. Stage 1 of the ``ise`` preset trains only these vectors (image and
text encoders frozen) with :func:`vireid.losses.supervised_contrastive_loss`;
stage 2 uses :meth:`PromptLearner.class_text_features` as fixed per-identity targets
(:func:`vireid.losses.prompt_ce_loss`).
"""

from __future__ import annotations

import torch
from torch import nn

from vireid.tokenizer import tokenize

TEMPLATE = "A photo of a {} person."
PLACEHOLDER = "X"


class PromptLearner(nn.Module):
    """Per-identity context vectors ``ctx`` [num_classes, n_ctx, width] and prompt encoding.

    The text encoder is the ReID model's own and is deliberately not registered as a
    submodule here: this module's parameters (and state dict) are only the context vectors,
    so optimisers and checkpoints never see the text encoder twice.
    """

    def __init__(self, num_classes: int, model: nn.Module, n_ctx: int = 4, template: str = TEMPLATE):
        super().__init__()
        if num_classes < 1 or n_ctx < 1:
            raise ValueError(f"PromptLearner: num_classes and n_ctx must be >= 1, got {num_classes}, {n_ctx}")
        text = model.text
        self.__dict__["_text"] = text  # plain attribute: not a submodule (see class docstring)
        sentence = template.format(" ".join([PLACEHOLDER] * n_ctx))
        tokens = tokenize([sentence], text.context_length)
        placeholder_id = int(tokenize([PLACEHOLDER], text.context_length)[0, 1])
        where = torch.nonzero(tokens[0] == placeholder_id).flatten()
        if len(where) != n_ctx or int(where[-1] - where[0]) != n_ctx - 1:
            raise ValueError(f"PromptLearner: template {template!r} must contain one '{{}}' slot for the {n_ctx} context tokens")
        self.start = int(where[0])
        self.n_ctx = n_ctx
        with torch.no_grad():
            embedding = text.token_embedding(tokens.to(text.token_embedding.weight.device)).detach()
        # Frozen template pieces around the learnable slot; buffers follow .to(device).
        self.register_buffer("tokens", tokens, persistent=False)
        self.register_buffer("prefix", embedding[:, : self.start].clone(), persistent=False)
        self.register_buffer("suffix", embedding[:, self.start + n_ctx :].clone(), persistent=False)
        self.ctx = nn.Parameter(torch.empty(num_classes, n_ctx, text.width, dtype=embedding.dtype).normal_(std=0.02))

    @property
    def num_classes(self) -> int:
        return self.ctx.shape[0]

    def prompt_embeddings(self, labels: torch.Tensor) -> torch.Tensor:
        """[N, 77, width] token embeddings of the prompts of ``labels``."""
        n = labels.shape[0]
        return torch.cat([self.prefix.expand(n, -1, -1), self.ctx[labels], self.suffix.expand(n, -1, -1)], dim=1)

    def text_features(self, labels: torch.Tensor) -> torch.Tensor:
        """[N, D] text features of the learned prompts of ``labels`` (through the text encoder)."""
        if labels.ndim != 1:
            raise ValueError(f"PromptLearner.text_features: expected labels [N], got {tuple(labels.shape)}")
        return self._text.encode_embeddings(self.prompt_embeddings(labels), self.tokens.expand(labels.shape[0], -1))

    forward = text_features

    @torch.no_grad()
    def class_text_features(self, batch_size: int = 64) -> torch.Tensor:
        """[num_classes, D] prompt features of every identity (no gradient): ISE stage-2 targets."""
        labels = torch.arange(self.num_classes, device=self.ctx.device)
        return torch.cat([self.text_features(chunk) for chunk in labels.split(batch_size)])
