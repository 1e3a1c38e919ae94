"""The one loop of the preparatory stages that fit a small part against fixed image features
(CLIP-ReID stage 1 and its relatives): EEES's ISE and CLIP4VI-ReID's TSG fit identity prompts
(:func:`fit_prompts`), CSDN fits modality prompts and its SII fusion (:func:`fit_stage`).

Adam over shuffled batches of training-image rows (a seeded generator; batches of fewer than 2
rows are skipped), the learning rate set per epoch by the stage's schedule
(:mod:`vireid.schedules`). Progress (the trained part, optimiser, sampling generator, history,
optionally the global RNG) is saved every epoch through the stage context, so a killed stage
resumes exactly; a non-finite epoch loss stops with a line naming the config key to change.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn
from tqdm.auto import tqdm

from vireid.errors import VireidError
from vireid.losses import supervised_contrastive_loss
from vireid.methods.base import StageContext
from vireid.methods.prompt_config import PromptFitConfig
from vireid.models.prompt_learner import PromptLearner
from vireid.rng import rng_state, set_rng_state
from vireid.schedules import warmup_cosine_factor


@contextmanager
def frozen(module: nn.Module) -> Iterator[None]:
    """``module`` takes no gradient while a stage runs; its flags are restored afterwards."""
    flags = [p.requires_grad for p in module.parameters()]
    module.requires_grad_(False)
    try:
        yield
    finally:
        for p, flag in zip(module.parameters(), flags):
            p.requires_grad_(flag)


def fit_stage(context: StageContext, *, title: str, config_key: str, loss_key: str,
              params: list[nn.Parameter], rows: int, loss_of: Callable[[torch.Tensor], torch.Tensor],
              lr: float, lr_at: Callable[[int], float], epochs: int, batch_size: int, weight_decay: float,
              state: Callable[[], dict[str, Any]], load_state: Callable[[dict[str, Any]], None],
              module: nn.Module | None = None, keep_rng: bool = False) -> list[dict[str, float]]:
    """Train ``params`` for ``epochs`` epochs over shuffled batches of ``rows`` training rows.

    ``loss_of(batch_rows)`` is one batch's loss; ``lr_at(epoch)`` the learning rate of an epoch;
    ``state()`` / ``load_state(saved)`` store and restore the trained part in the progress
    record; ``module`` (if given) is in train mode while it trains and in eval mode after;
    ``keep_rng`` also saves the global RNG (a part with dropout). Returns the per-epoch
    history (``epoch``, ``loss/<loss_key>``, ``lr``).
    """
    opt = torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    gen = torch.Generator().manual_seed(context.seed)
    history: list[dict[str, float]] = []
    start = 0
    saved = context.load_progress()
    if saved is not None:
        load_state(saved)
        opt.load_state_dict(saved["optimizer"])
        gen.set_state(saved["generator"])
        if keep_rng:
            set_rng_state(saved["rng"])
        history, start = list(saved["history"]), int(saved["epoch"])
        context.log(f"{title}: resumed after epoch {start}/{epochs}")
    bar = tqdm(range(start, epochs), desc=title, unit="epoch", leave=False, disable=not context.progress)
    for epoch in bar:
        if module is not None:
            module.train()
        epoch_lr = lr_at(epoch)
        for group in opt.param_groups:
            group["lr"] = epoch_lr
        order = torch.randperm(rows, generator=gen).to(context.device)
        total, steps = 0.0, 0
        for idx in order.split(batch_size):
            if len(idx) < 2:
                continue
            loss = loss_of(idx)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += float(loss.detach())
            steps += 1
        mean = total / max(steps, 1)
        if not math.isfinite(mean):
            raise VireidError(f"{title}: loss is not finite at epoch {epoch + 1} ({mean}); lower "
                              f"{config_key}.lr or check the inputs")
        history.append({"epoch": epoch + 1, f"loss/{loss_key}": mean, "lr": epoch_lr})
        bar.set_postfix(loss=f"{mean:.4f}")
        progress = {**state(), "optimizer": opt.state_dict(), "generator": gen.get_state(),
                    "history": history, "epoch": epoch + 1}
        if keep_rng:
            progress["rng"] = rng_state()
        # copies: a save_progress that keeps the dict must not see later in-place updates
        context.save_progress(copy.deepcopy(progress))
    if module is not None:
        module.eval()
    return history


def fit_prompts(context: StageContext, learner: PromptLearner, feats: torch.Tensor, labels: torch.Tensor,
                cfg: PromptFitConfig, temperature: float, *, title: str, loss_key: str,
                config_key: str) -> list[dict[str, float]]:
    """Train ``learner.ctx`` so each row of ``feats`` [N, D] matches its label's prompt
    (label-aware image-text contrastive loss, learning rate ``cfg.lr`` x warm-up + cosine)."""

    def loss_of(idx: torch.Tensor) -> torch.Tensor:
        with context.autocast():
            text = learner(labels[idx])
        return supervised_contrastive_loss(feats[idx], text.float(), labels[idx], temperature)

    def load_state(saved: dict[str, Any]) -> None:
        with torch.no_grad():
            learner.ctx.copy_(saved["ctx"].to(learner.ctx.device))

    return fit_stage(context, title=title, config_key=config_key, loss_key=loss_key, params=[learner.ctx],
                     rows=len(labels), loss_of=loss_of, lr=cfg.lr,
                     lr_at=lambda epoch: cfg.lr * warmup_cosine_factor(epoch, cfg.warmup_epochs, cfg.epochs),
                     epochs=cfg.epochs, batch_size=cfg.batch_size, weight_decay=cfg.weight_decay,
                     state=lambda: {"ctx": learner.ctx.detach().cpu()}, load_state=load_state)
