"""ISE stage 1: learn one prompt context per identity before the main training (CLIP-ReID).

Both encoders are frozen. The projected image feature of every training image (un-augmented,
both modalities) is computed once; then only the prompt contexts are trained with the
label-aware image-text contrastive loss for ``prompt.epochs`` epochs (linear warm-up, then
cosine decay). The resulting per-identity text features are the fixed targets of the main
stage's ISE loss (``class_text``). Progress is saved every epoch, so a killed stage resumes.
"""

from __future__ import annotations

from typing import Any

import torch

from vireid.methods.base import Stage, StageContext
from vireid.methods.eees.config import ISEStageConfig
from vireid.methods.prompt_fitting import fit_prompts, frozen
from vireid.models.prompt_learner import PromptLearner


class ISEStage(Stage):
    name = "prompts"

    def __init__(self, cfg: ISEStageConfig, temperature: float):
        self.cfg = cfg
        self.temperature = temperature

    def fingerprint_config(self) -> dict[str, Any]:
        return {"prompt": vars(self.cfg), "temperature": self.temperature}

    def run(self, context: StageContext, previous: dict[str, dict[str, Any]]) -> dict[str, Any]:
        cfg, dev, model = self.cfg, context.device, context.model
        learner = PromptLearner(context.num_classes, model, n_ctx=cfg.n_ctx).to(dev)
        with frozen(model.text):
            feats = context.image_features("proj")
            labels = torch.from_numpy(context.labels).to(dev)
            history = fit_prompts(context, learner, feats, labels, cfg, self.temperature,
                                  title="ISE prompt stage", loss_key="prompt", config_key="eees.prompt")
        class_text = learner.class_text_features().float()
        return {"ctx": learner.ctx.detach().cpu(), "class_text": class_text.cpu(), "history": history}
