"""The two-stem CLIP ReID network (AGW-style modality stems on a shared CLIP RN50 trunk).

Outputs of ``forward`` / ``encode_image`` (names shared with the losses and evaluation):
  pooled       GeM-pooled layer4 map, [B, 2048] for RN50 (the "map" feature; WRT loss)
  bn           BNNeck of ``pooled`` (ID loss input; test feature)
  logits       identity logits from ``bn``
  proj         CLIP attention-pool output, [B, 1024] for RN50: the image feature in the
               joint image-text space (text losses; test feature)
  proj_bn      BNNeck of ``proj``
  proj_logits  identity logits from ``proj_bn``
  modality     [B] long, 0 = visible, 1 = infrared (``forward`` only)
"""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import nn

from vireid.config import to_dict
from vireid.manifests.schema import MODALITIES, MODALITY_INDEX
from vireid.models.adaptation import resize_pos_embed, set_layer4_stride1
from vireid.models.clip_backbone import create_clip
from vireid.models.config import ModelConfig, pixel_stats
from vireid.models.heads import BNNeck, gem
from vireid.models.registry import register_architecture
from vireid.models.text_encoder import TextEncoder

_STEM_PARTS = ("conv1", "bn1", "act1", "conv2", "bn2", "act2", "conv3", "bn3", "act3", "avgpool")


class Stem(nn.Module):
    """A private copy of ModifiedResNet's 3-conv stem (+ its average pool) for one modality."""

    def __init__(self, visual: nn.Module):
        super().__init__()
        for part in _STEM_PARTS:
            setattr(self, part, copy.deepcopy(getattr(visual, part)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.act1(self.bn1(self.conv1(x)))
        x = self.act2(self.bn2(self.conv2(x)))
        x = self.act3(self.bn3(self.conv3(x)))
        return self.avgpool(x)


@register_architecture("two-stem-clip")
class ReIDModel(nn.Module):
    """Modality-specific stems, shared layer1..4 + attention pool, shared text encoder, two BNNecks.

    Training calls ``model(visible=..., infrared=...)``: each half goes through its own stem,
    the stem outputs are concatenated [visible; infrared] and the shared trunk runs once on
    the whole batch (one pass is faster and lets the shared BatchNorms see both modalities,
    as in AGW). Evaluation calls ``encode_image(images, modality)``; text goes through
    ``encode_text(tokens)``.
    """

    def __init__(self, clip: nn.Module, cfg: ModelConfig, num_classes: int):
        super().__init__()
        visual = clip.visual
        set_layer4_stride1(visual)
        pos = visual.attnpool.positional_embedding
        visual.attnpool.positional_embedding = nn.Parameter(resize_pos_embed(pos.data, cfg.feature_grid, cfg.pos_embed_interpolation))
        # Both stems start from the same (pretrained) weights and then diverge in training.
        self.stems = nn.ModuleDict({name: Stem(visual) for name in MODALITIES})
        self.layer1, self.layer2, self.layer3, self.layer4 = visual.layer1, visual.layer2, visual.layer3, visual.layer4
        self.attnpool = visual.attnpool
        self.text = TextEncoder(clip)
        self.pooled_dim = int(visual.attnpool.k_proj.in_features)
        self.proj_dim = int(visual.attnpool.c_proj.out_features)
        self.neck = BNNeck(self.pooled_dim, num_classes, train_bias=cfg.neck_bias)
        self.proj_neck = BNNeck(self.proj_dim, num_classes, train_bias=cfg.neck_bias)
        self.config = cfg
        self.num_classes = num_classes
        # A learnable GeM exponent (CSDN) is a 0-d parameter in the "visual" group.
        self.gem_p = nn.Parameter(torch.tensor(float(cfg.gem_p))) if cfg.gem_learnable else cfg.gem_p

    # -- the evaluation contract -------------------------------------------------------------
    @property
    def image_size(self) -> tuple[int, int]:
        return tuple(self.config.image_size)

    @property
    def pixel_mean(self) -> tuple[float, float, float]:
        return pixel_stats(self.config.pixel_stats)[0]

    @property
    def pixel_std(self) -> tuple[float, float, float]:
        return pixel_stats(self.config.pixel_stats)[1]

    def encode_image(self, images: torch.Tensor, modality: str) -> dict[str, torch.Tensor]:
        """Features of normalised images [B, 3, H, W] of one modality: pooled, bn, proj."""
        out = self._trunk(self._stem(images, modality))
        return {key: out[key] for key in ("pooled", "bn", "proj")}

    def encode_text(self, tokens: torch.Tensor) -> torch.Tensor:
        """[N, 77] CLIP token ids -> [N, proj_dim] text features (same space as ``proj``)."""
        return self.text(tokens)

    # -- training ----------------------------------------------------------------------------
    def forward(self, visible: torch.Tensor | None = None, infrared: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """All outputs (module docstring) for the rows [visible; infrared]; either may be None."""
        maps, modality = [], []
        for name, images in zip(MODALITIES, (visible, infrared)):
            if images is None:
                continue
            maps.append(self._stem(images, name))
            modality.append(torch.full((images.shape[0],), MODALITY_INDEX[name], dtype=torch.long,
                                       device=images.device))
        if not maps:
            raise ValueError("ReIDModel.forward: give visible and/or infrared images")
        out = self._trunk(torch.cat(maps))
        out["modality"] = torch.cat(modality)
        return out

    def stem_map(self, images: torch.Tensor, modality: str) -> torch.Tensor:
        """The stem output [B, C, H/4, W/4] of one modality's images (input of the shared trunk)."""
        return self._stem(images, modality)

    def forward_maps(self, maps: torch.Tensor, modality: torch.Tensor) -> dict[str, torch.Tensor]:
        """All training outputs for stem-level maps [B, C, h, w] run once through the shared trunk.

        For methods that add streams at the stem level (e.g. MUN's auxiliary modality, built
        from both stems' maps): ``modality`` [B] long labels each row (0 visible, 1 infrared,
        2 and above a method's own streams) and is returned as ``out["modality"]``.
        ``forward_maps(cat([stem_map(v, "visible"), stem_map(r, "infrared")]), m)`` equals
        ``forward(visible=v, infrared=r)``.
        """
        if maps.ndim != 4 or modality.shape != (maps.shape[0],):
            raise ValueError(f"forward_maps: expected maps [B, C, h, w] and modality [B], got {tuple(maps.shape)} and {tuple(modality.shape)}")
        out = self._trunk(maps)
        out["modality"] = modality
        return out

    def param_groups(self) -> dict[str, list[nn.Parameter]]:
        """Trainable parameters split as the paper's optimiser needs them.

        ``visual``: stems, layer1..4, attention pool (lr 3e-4 in the paper); ``text``: the text
        encoder (lr 1e-6); ``heads``: BNNecks and classifiers. Frozen parameters (e.g. the
        BNNeck biases) are left out; every trainable parameter is in exactly one group.
        """
        visual = [self.stems, self.layer1, self.layer2, self.layer3, self.layer4, self.attnpool]
        extra = [self.gem_p] if isinstance(self.gem_p, nn.Parameter) else []
        groups = {
            "visual": [p for m in visual for p in m.parameters()] + extra,
            "text": list(self.text.parameters()),
            "heads": [*self.neck.parameters(), *self.proj_neck.parameters()],
        }
        return {name: [p for p in params if p.requires_grad] for name, params in groups.items()}

    def config_dict(self) -> dict[str, Any]:
        return to_dict(self.config)

    # -- internals ---------------------------------------------------------------------------
    def _stem(self, images: torch.Tensor, modality: str) -> torch.Tensor:
        if modality not in self.stems:
            raise ValueError(f"modality must be one of {MODALITIES}, got {modality!r}")
        if images.ndim != 4 or tuple(images.shape[-2:]) != self.image_size:
            raise ValueError(
                f"expected images [B, 3, {self.image_size[0]}, {self.image_size[1]}] (the model's image_size), got {tuple(images.shape)}"
            )
        return self.stems[modality](images)

    def _trunk(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        fmap = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        pooled = gem(fmap, self.gem_p)
        proj = self.attnpool(fmap)
        bn, logits = self.neck(pooled)
        proj_bn, proj_logits = self.proj_neck(proj)
        return {"pooled": pooled, "bn": bn, "logits": logits, "proj": proj, "proj_bn": proj_bn, "proj_logits": proj_logits}

    def feature_map(self, images: torch.Tensor, modality: str) -> torch.Tensor:
        """The layer4 map [B, C, H/16, W/16] (for inspection and class-activation maps)."""
        return self.layer4(self.layer3(self.layer2(self.layer1(self._stem(images, modality)))))


    @classmethod
    def from_config(cls, cfg: ModelConfig, num_classes: int) -> ReIDModel:
        """open_clip CLIP (weights per ``cfg``) adapted to two-stem ReID."""
        return cls(create_clip(cfg), cfg, num_classes)
