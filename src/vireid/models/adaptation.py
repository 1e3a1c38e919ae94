"""Re-ID adaptations of CLIP's ModifiedResNet: stride-1 layer4 and a resized attention-pool grid."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def set_layer4_stride1(visual: nn.Module) -> None:
    """Make layer4 keep the spatial resolution (a 288x144 input gives an 18x9 map).

    open_clip's Bottleneck never strides a convolution: it downsamples with anti-aliasing
    ``AvgPool2d(stride)`` modules, one after conv2 (``avgpool``) and one in front of the
    shortcut's 1x1 conv (``downsample["-1"]``). Replacing both with identities is exactly
    stride 1; both are parameter-free, so pretrained weights and state-dict keys are unchanged.
    """
    block = visual.layer4[0]
    block.avgpool = nn.Identity()
    if block.downsample is not None and "-1" in block.downsample._modules:
        block.downsample._modules["-1"] = nn.Identity()
    block.stride = 1


def interpolate_pos_grid(pos: torch.Tensor, grid: tuple[int, int], mode: str = "bilinear") -> torch.Tensor:
    """[1 + S*S, C] -> [1 + H*W, C] as :func:`resize_pos_embed` computes it, differentiable
    (pretraining trains the stored square grid through this map)."""
    cls_row, grid_rows = pos[:1], pos[1:]
    side = math.isqrt(grid_rows.shape[0])
    if side * side != grid_rows.shape[0]:
        raise ValueError(f"resize_pos_embed: expected a square grid, got {grid_rows.shape[0]} positions")
    image = grid_rows.reshape(1, side, side, -1).permute(0, 3, 1, 2)
    resized = F.interpolate(image.float(), size=tuple(grid), mode=mode, align_corners=False).to(pos.dtype)
    resized = resized.permute(0, 2, 3, 1).reshape(grid[0] * grid[1], -1)
    return torch.cat([cls_row, resized], dim=0)


def resize_pos_embed(pos: torch.Tensor, grid: tuple[int, int], mode: str = "bilinear") -> torch.Tensor:
    """Resize an attention-pool positional embedding [1 + S*S, C] to [1 + H*W, C].

    Row 0 belongs to the mean-pooled query token and is kept; the other rows form the square
    pretraining grid (7x7 for 224 inputs), which is interpolated as a C-channel image to the
    (H, W) feature grid with ``align_corners=False``. An unchanged grid returns a copy of the
    input exactly.
    """
    side = math.isqrt(pos.shape[0] - 1)
    if (side, side) == tuple(grid) and side * side == pos.shape[0] - 1:
        return pos.detach().clone()
    return interpolate_pos_grid(pos, grid, mode).detach()
