"""ISE stage 1: learn one prompt context per identity before the main training (CLIP-ReID).

Both encoders are frozen. The projected image feature of every training image (un-augmented,
both modalities) is computed once; then only the prompt contexts are trained with the
label-aware image-text contrastive loss for ``prompt.epochs`` epochs (linear warm-up, then
cosine decay). The resulting per-identity text features are the fixed targets of the main
stage's ISE loss (``class_text``). Progress is saved every epoch, so a killed stage resumes.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from tqdm.auto import tqdm

from vireid.losses import supervised_contrastive_loss
from vireid.methods.base import Stage, StageContext
from vireid.methods.eees.config import PromptStageConfig
from vireid.models.prompt_learner import PromptLearner


def cosine_with_warmup(epoch: int, warmup: int, epochs: int) -> float:
    """Learning-rate factor of ``epoch`` (0-based): linear warm-up, then half a cosine."""
    if epoch < warmup:
        return (epoch + 1) / (warmup + 1)
    span = max(1, epochs - warmup)
    return 0.5 * (1 + math.cos(math.pi * (epoch - warmup) / span))


class PromptStage(Stage):
    name = "prompts"

    def __init__(self, cfg: PromptStageConfig, temperature: float):
        self.cfg = cfg
        self.temperature = temperature

    def fingerprint_config(self) -> dict[str, Any]:
        return {"prompt": vars(self.cfg), "temperature": self.temperature}

    def run(self, context: StageContext, previous: dict[str, dict[str, Any]]) -> dict[str, Any]:
        cfg, dev, model = self.cfg, context.device, context.model
        learner = PromptLearner(context.num_classes, model, n_ctx=cfg.n_ctx).to(dev)
        text_flags = [p.requires_grad for p in model.text.parameters()]
        model.text.requires_grad_(False)
        feats = context.image_features("proj")
        labels = torch.from_numpy(context.labels).to(dev)
        opt = torch.optim.Adam([learner.ctx], lr=cfg.lr, weight_decay=cfg.weight_decay)
        gen = torch.Generator().manual_seed(context.seed)
        history: list[dict[str, float]] = []
        start = 0
        saved = context.load_progress()
        if saved is not None:
            with torch.no_grad():
                learner.ctx.copy_(saved["ctx"].to(dev))
            opt.load_state_dict(saved["optimizer"])
            gen.set_state(saved["generator"])
            history, start = list(saved["history"]), int(saved["epoch"])
            context.log(f"prompt stage: resumed after epoch {start}/{cfg.epochs}")
        bar = tqdm(range(start, cfg.epochs), desc="ISE prompt stage", unit="epoch", leave=False,
                   disable=not context.progress)
        for epoch in bar:
            for group in opt.param_groups:
                group["lr"] = cfg.lr * cosine_with_warmup(epoch, cfg.warmup_epochs, cfg.epochs)
            order = torch.randperm(len(labels), generator=gen).to(dev)
            total, steps = 0.0, 0
            for idx in order.split(cfg.batch_size):
                if len(idx) < 2:
                    continue
                with context.autocast():
                    text = learner(labels[idx])
                loss = supervised_contrastive_loss(feats[idx], text.float(), labels[idx], self.temperature)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                total += float(loss.detach())
                steps += 1
            history.append({"epoch": epoch + 1, "loss/prompt": total / max(steps, 1)})
            bar.set_postfix(loss=f"{total / max(steps, 1):.4f}")
            context.save_progress({"ctx": learner.ctx.detach().cpu(), "optimizer": opt.state_dict(),
                                   "generator": gen.get_state(), "history": history, "epoch": epoch + 1})
        for p, flag in zip(model.text.parameters(), text_flags):
            p.requires_grad_(flag)
        class_text = learner.class_text_features().float()
        return {"ctx": learner.ctx.detach().cpu(), "class_text": class_text.cpu(), "history": history}
