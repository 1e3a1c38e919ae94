"""ISE stage 1: learn one prompt context per identity before the main training (CLIP-ReID).

Both encoders are frozen. The projected image feature of every training image (cached,
un-augmented, both modalities) is computed once; then only the prompt contexts are trained
with the label-aware image-text contrastive loss for ``prompt.epochs`` epochs (linear warm-up,
then cosine decay). The resulting per-identity text features are the fixed targets of the
main stage's ISE loss. The contexts and targets are stored in every checkpoint, so a resumed
run skips this stage.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from tqdm.auto import tqdm

from vireid.training.augment import eval_batch
from vireid.training.losses import supervised_contrastive_loss
from vireid.training.model.prompt_learner import PromptLearner

if TYPE_CHECKING:
    from vireid.training.engine import Trainer


def _lr_factor(epoch: int, warmup: int, epochs: int) -> float:
    if epoch < warmup:
        return (epoch + 1) / (warmup + 1)
    span = max(1, epochs - warmup)
    return 0.5 * (1 + math.cos(math.pi * (epoch - warmup) / span))


@torch.no_grad()
def _image_features(trainer: Trainer, batch_size: int = 128) -> torch.Tensor:
    model, cache, dev = trainer.model, trainer.train_cache, trainer.device
    was_training = model.training
    model.eval()
    feats = None
    for modality in ("visible", "infrared"):
        rows = np.flatnonzero(trainer.modalities == modality)
        for start in range(0, len(rows), batch_size):
            chunk = rows[start:start + batch_size]
            images = eval_batch(torch.from_numpy(cache.gather(chunk)).to(dev),
                                model.pixel_mean, model.pixel_std)
            if trainer.channels_last:
                images = images.contiguous(memory_format=torch.channels_last)
            with trainer.acc.autocast():
                proj = model.encode_image(images, modality)["proj"].float()
            if feats is None:
                feats = torch.zeros(len(trainer.modalities), proj.shape[1], device=dev)
            feats[torch.from_numpy(chunk).to(dev)] = proj
    model.train(was_training)
    return feats


def ise_class_text(trainer: Trainer, saved: dict[str, Any] | None) -> tuple[torch.Tensor, dict[str, Any]]:
    """Per-identity prompt features [C, D] (from ``saved`` on resume, else by training)."""
    dev = trainer.device
    if saved is not None:
        return saved["class_text"].to(dev), saved
    cfg = trainer.cfg
    model = trainer.model
    learner = PromptLearner(trainer.data.num_classes, model, n_ctx=cfg.prompt.n_ctx).to(dev)
    text_flags = [p.requires_grad for p in model.text.parameters()]
    model.text.requires_grad_(False)
    feats = _image_features(trainer)
    labels = torch.from_numpy(trainer.labels).to(dev)
    opt = torch.optim.Adam([learner.ctx], lr=cfg.prompt.lr, weight_decay=cfg.prompt.weight_decay)
    gen = torch.Generator().manual_seed(cfg.run.seed)
    history = []
    bar = tqdm(range(cfg.prompt.epochs), desc="ISE prompt stage", unit="epoch", leave=False,
               disable=not (cfg.run.progress and trainer.is_main))
    for epoch in bar:
        for group in opt.param_groups:
            group["lr"] = cfg.prompt.lr * _lr_factor(epoch, cfg.prompt.warmup_epochs, cfg.prompt.epochs)
        order = torch.randperm(len(labels), generator=gen).to(dev)
        total, steps = 0.0, 0
        for idx in order.split(cfg.prompt.batch_size):
            if len(idx) < 2:
                continue
            with trainer.acc.autocast():
                text = learner(labels[idx])
            loss = supervised_contrastive_loss(feats[idx], text.float(), labels[idx], cfg.loss.temperature)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += float(loss.detach())
            steps += 1
        history.append({"epoch": epoch + 1, "loss/prompt": total / max(steps, 1)})
        bar.set_postfix(loss=f"{total / max(steps, 1):.4f}")
    for p, flag in zip(model.text.parameters(), text_flags):
        p.requires_grad_(flag)
    class_text = learner.class_text_features().float()
    return class_text, {"ctx": learner.ctx.detach().cpu(), "class_text": class_text.cpu(),
                        "history": history}
