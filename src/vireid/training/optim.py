"""Optimiser with per-part learning rates, and the warm-up + multi-step schedule.

Parameter groups come from the model (``param_groups()`` -> ``{"visual": [...], "text": [...],
"heads": [...], ...}``). Each named part gets its own learning rate (paper: visual encoder
3e-4, text encoder 1e-6). Weight decay (``weight_decay``, L2 for Adam / decoupled for AdamW)
applies to weight matrices and convolution kernels only; biases, normalisation parameters and
other 1-d tensors get none, the usual rule for ResNets with BNNeck heads.

Schedule (per epoch, the field's recipe): a linear warm-up from ``warmup_factor * lr`` to
``lr`` over ``warmup_epochs`` epochs, then ``lr * gamma ** (milestones passed)``; the paper's
setting is 120 epochs, x0.1 at epochs 40 and 70, 10 warm-up epochs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

import torch

from vireid.errors import ConfigError
from vireid.schedules import warmup_multistep_factor


@dataclass
class OptimConfig:
    optimizer: Literal["adam", "adamw"] = "adam"
    epochs: int = 120
    lr_visual: float = 3e-4
    lr_text: float = 1e-6
    lr_heads: float = 3e-4  # BNNeck + classifiers
    weight_decay: float = 5e-4
    betas: tuple[float, float] = (0.9, 0.999)
    warmup_epochs: int = 10
    warmup_factor: float = 0.1
    milestones: tuple[int, ...] = (40, 70)
    gamma: float = 0.1
    grad_clip: float = 0.0  # max global grad norm; 0 disables clipping

    def validate(self) -> None:
        if self.epochs < 1:
            raise ConfigError(f"optim.epochs: must be >= 1, got {self.epochs}")
        for name in ("lr_visual", "lr_text", "lr_heads", "weight_decay", "grad_clip"):
            if getattr(self, name) < 0:
                raise ConfigError(f"optim.{name}: must be >= 0, got {getattr(self, name)}")
        if self.warmup_epochs < 0:
            raise ConfigError(f"optim.warmup_epochs: must be >= 0, got {self.warmup_epochs}")
        if not 0 < self.warmup_factor <= 1:
            raise ConfigError(f"optim.warmup_factor: must be in (0, 1], got {self.warmup_factor}")
        if list(self.milestones) != sorted(self.milestones):
            raise ConfigError(f"optim.milestones: must be increasing, got {list(self.milestones)}")

    def lr_for(self, part: str) -> float:
        table = {"visual": self.lr_visual, "text": self.lr_text, "heads": self.lr_heads}
        if part not in table:
            raise ValueError(f"no learning rate for parameter group {part!r}; known: {sorted(table)}")
        return table[part]


def lr_factor(epoch: int, cfg: OptimConfig) -> float:
    """Multiplier of the base learning rates during ``epoch`` (0-based; vireid.schedules)."""
    return warmup_multistep_factor(epoch, warmup_epochs=cfg.warmup_epochs, warmup_factor=cfg.warmup_factor,
                                   milestones=cfg.milestones, gamma=cfg.gamma)


def _split_decay(params: Iterable[torch.nn.Parameter]) -> tuple[list, list]:
    decay, no_decay = [], []
    for p in params:
        if not p.requires_grad:
            continue
        (no_decay if p.ndim <= 1 else decay).append(p)
    return decay, no_decay


def build_optimizer(groups: Mapping[str, Iterable[torch.nn.Parameter]],
                    cfg: OptimConfig) -> torch.optim.Optimizer:
    """One optimiser over the named parameter parts, each with its configured lr."""
    param_groups = []
    seen: set[int] = set()
    for part, params in groups.items():
        params = [p for p in params if id(p) not in seen]
        seen.update(id(p) for p in params)
        lr = cfg.lr_for(part)
        decay, no_decay = _split_decay(params)
        for plist, wd, suffix in ((decay, cfg.weight_decay, ""), (no_decay, 0.0, ".no_decay")):
            if plist:
                param_groups.append({"params": plist, "lr": lr, "initial_lr": lr,
                                     "weight_decay": wd, "name": part + suffix})
    if not param_groups:
        raise ValueError("the model has no trainable parameters")
    cls = torch.optim.AdamW if cfg.optimizer == "adamw" else torch.optim.Adam
    return cls(param_groups, betas=tuple(cfg.betas))


def build_scheduler(optimizer: torch.optim.Optimizer, cfg: OptimConfig) -> torch.optim.lr_scheduler.LambdaLR:
    """Per-epoch schedule: call ``step()`` once at the end of every epoch."""
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda epoch: lr_factor(epoch, cfg))
