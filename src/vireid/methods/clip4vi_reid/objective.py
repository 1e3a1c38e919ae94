"""The CLIP4VI-ReID main stage: ID + WRT + TSG alignment + IFE + HSA, one training module.

Choices the abstract leaves open (docs/methods/clip4vi-reid.md discusses the alternatives):
  - ID loss on both BNNeck heads and WRT on both un-normalised features, as in the EEES
    baseline of this package, so the two methods differ only in how they use text.
  - Text terms use the 1024-d projected image feature ``proj`` and a fixed temperature
    (0.07) as EEES does; text targets are per identity (the TSG output), never per image.
  - The text encoder is frozen in the main stage; the text semantics that HSA fine-tunes are
    the TSG stage's own parameters (prompt context tokens, or the per-identity caption
    prototypes), trained in the ``heads`` learning-rate group (``optim.lr_heads``).
  - Gradients are split: the image-side terms (``tsg``, ``ife``) see the texts detached, so
    they move the shared image encoder only; HSA's text refinement sees the image features
    detached, so it moves the texts only.
  - With HSA the image-side targets are a bank of every identity's current refined text
    (a persistent buffer, saved with checkpoints): each step re-encodes the batch's
    identities, refines them, and writes the new features into the bank.
"""

from __future__ import annotations

import torch
from torch import nn

from vireid.errors import VireidError
from vireid.losses import id_loss, wrt_loss
from vireid.methods.base import LossResult, Objective, TrainBatch
from vireid.methods.clip4vi_reid.config import CLIP4VIReIDConfig
from vireid.methods.clip4vi_reid.losses import INFRARED, VISIBLE, hsa_text_loss, text_bridge_loss
from vireid.models.prompt_learner import PromptLearner


class CLIP4VIReIDObjective(Objective):
    """``L_id + w_wrt L_wrt + w_tsg L_tsg + w_ife L_ife + w_hsa L_hsa`` (switches in the config).

    ``tsg_output`` is the TSG stage's output (``class_text`` [C, D]; ``ctx`` for prompts).
    """

    def __init__(self, cfg: CLIP4VIReIDConfig, model: nn.Module, tsg_output: dict):
        super().__init__()
        cfg.validate()
        self.cfg = cfg
        self.model = model
        # The text encoder is not trained in the main stage (only the TSG semantics are):
        # freeze it so DDP sees no unused parameters and the optimiser keeps no state for it.
        model.text.requires_grad_(False)
        if "class_text" not in tsg_output:
            raise VireidError("clip4vi-reid: the TSG stage output lacks class_text")
        device = next(model.parameters()).device
        class_text = tsg_output["class_text"].detach().float().to(device)
        self.register_buffer("bank", class_text.clone())  # persistent: exact resume
        self.prompt: PromptLearner | None = None
        self.vectors: nn.Parameter | None = None
        if cfg.use_hsa:
            if cfg.tsg == "prompts":
                if "ctx" not in tsg_output:
                    raise VireidError("clip4vi-reid: the TSG prompts output lacks ctx")
                self.prompt = PromptLearner(class_text.shape[0], model, n_ctx=cfg.stage.n_ctx).to(device)
                with torch.no_grad():
                    self.prompt.ctx.copy_(tsg_output["ctx"].to(device))
            else:
                self.vectors = nn.Parameter(class_text.clone())

    def param_groups(self) -> dict[str, list[nn.Parameter]]:
        groups = dict(self.model.param_groups())
        own = [p for p in (self.prompt.ctx if self.prompt is not None else None, self.vectors) if p is not None]
        groups["heads"] = [*groups.get("heads", []), *own]
        return groups

    def refined_text(self, ids: torch.Tensor) -> torch.Tensor:
        """[K, D] current (trainable) text semantics of identities ``ids`` (HSA on)."""
        if self.prompt is not None:
            return self.prompt(ids).float()
        if self.vectors is not None:
            return self.vectors[ids]
        raise VireidError("clip4vi-reid: refined text needs use_hsa")

    def forward(self, batch: TrainBatch) -> LossResult:
        out = self.model(visible=batch.visible, infrared=batch.infrared)
        text = ids = None
        if self.cfg.use_hsa:
            ids = torch.unique(batch.labels)
            text = self.refined_text(ids)
            with torch.no_grad():
                self.bank.index_copy_(0, ids, text.detach().to(self.bank.dtype))
        return clip4vi_reid_loss(self.cfg, out, batch.labels, self.bank, text=text, text_ids=ids)


def clip4vi_reid_loss(cfg: CLIP4VIReIDConfig, outputs, labels: torch.Tensor, class_text: torch.Tensor, *,
                 text: torch.Tensor | None = None, text_ids: torch.Tensor | None = None) -> LossResult:
    """The main-stage objective on one batch's network outputs (see :class:`CLIP4VIReIDObjective`).

    ``class_text`` [C, D]: every identity's text (TSG output, or the HSA bank; detached
    here); ``text`` [K, D] / ``text_ids`` [K]: the trainable texts of the batch's identities
    (HSA on).
    """
    w = cfg.weights
    terms: dict[str, torch.Tensor] = {}
    weighted: dict[str, torch.Tensor] = {}

    def add(name: str, weight: float, value: torch.Tensor) -> torch.Tensor:
        terms[name] = value
        weighted[name] = weight * value
        return weighted[name]

    heads = [outputs["logits"]] + ([outputs["proj_logits"]] if "proj_logits" in outputs else [])
    terms["id"] = sum(id_loss(h, labels, cfg.label_smoothing) for h in heads)
    total = weighted["id"] = terms["id"]
    if cfg.use_wrt:
        total = total + add("wrt", w.wrt, wrt_loss(outputs["pooled"], labels) + wrt_loss(outputs["proj"], labels))
    proj, modality = outputs["proj"], outputs["modality"]
    targets = class_text.detach()
    vis, ir = modality == VISIBLE, modality == INFRARED
    if vis.any():
        total = total + add("tsg", w.tsg, text_bridge_loss(proj[vis], targets, labels[vis], cfg.temperature))
    if cfg.use_ife and ir.any():
        total = total + add("ife", w.ife, text_bridge_loss(proj[ir], targets, labels[ir], cfg.temperature))
    if cfg.use_hsa:
        if text is None or text_ids is None:
            raise VireidError("clip4vi-reid: HSA needs the batch identities' trainable texts")
        total = total + add("hsa", w.hsa, hsa_text_loss(proj.detach(), modality, labels, text, text_ids,
                                                        cfg.temperature, cfg.balance))
    terms = {k: v.detach() for k, v in terms.items()}
    terms["total"] = total.detach()
    return LossResult(total=total, terms=terms, weighted=weighted, probe=proj)
